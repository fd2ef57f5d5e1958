"""What the demos share.  For the training demos (``moons``, ``spirals``): the training
scaffolding (optimizer with a linearly decaying learning rate, progress bar, wall clock, paused
garbage collector), accuracy, the two pictures, the argparse helpers and the files a run
writes.  For all demos: the ``--out``/``--no-plots`` flags and the finite-number check of
float flags.  matplotlib is imported only when a picture is drawn.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from autograd_mini.engine import Value, no_grad
from autograd_mini.nn import MLP, _write_json_atomic
from autograd_mini.optim import SGD, Adam, LinearLR, Optimizer

L2_ALPHA = 1e-4


@contextmanager
def paused_gc() -> Iterator[None]:
    """Switch off Python's cyclic garbage collector for a training loop.

    A step allocates ~10⁵ Values that reference counting frees (the graph has no cycles), but
    the allocations keep triggering the collector, which then scans every live object.
    Measured on MLP(2, [16, 16, 1]) with 100 points: 0.2 s → 0.08 s per step.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def predict(model: MLP, points: Sequence[Sequence[float]]) -> list[list[float]]:
    """The model's outputs for every point, as plain floats (recorded nothing: ``no_grad``)."""
    with no_grad():
        outs = [model(x) for x in points]
    return [[o.data] if isinstance(o, Value) else [v.data for v in o] for o in outs]


def _label(scores: Sequence[float]) -> int:
    """Class of one output row: score > 0 for one output, else the argmax."""
    if len(scores) == 1:
        return int(scores[0] > 0.0)
    return max(range(len(scores)), key=scores.__getitem__)


def accuracy(model: MLP, points: Sequence[Sequence[float]], y: Sequence[int]) -> float:
    """Fraction of points whose predicted class equals ``y``."""
    rows = predict(model, points)
    return sum(_label(r) == t for r, t in zip(rows, y, strict=True)) / len(y)


def make_optimizer(name: str, params: list[Value], lr: float, momentum: float) -> Optimizer:
    """``"sgd"`` (with ``momentum``) or ``"adam"``."""
    if name == "sgd":
        return SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        return Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose 'sgd' or 'adam'")


@dataclass
class TrainResult:
    """What a training run produced."""

    model: MLP
    points: list[list[float]]
    y: list[int]
    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    accuracy: float = 0.0
    seconds: float = 0.0


def check_steps(steps: object) -> None:
    """Raise ValueError unless ``steps`` is an int >= 1 (bool is not a count)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")


def decaying_optimizer(
    name: str,
    params: list[Value],
    lr: float | None,
    momentum: float,
    steps: int,
    default_lr: Mapping[str, float],
) -> tuple[Optimizer, LinearLR]:
    """:func:`make_optimizer` (``lr`` None: ``default_lr[name]``) and the schedule that decays
    its learning rate linearly from ``lr`` to ``lr/10`` over ``steps`` steps."""
    if name not in default_lr:
        raise ValueError(f"unknown optimizer {name!r}; choose 'sgd' or 'adam'")
    opt = make_optimizer(name, params, default_lr[name] if lr is None else lr, momentum)
    return opt, LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=steps)


class ProgressBar:
    """A ``tqdm.auto`` bar (a widget in Jupyter, a line redrawn in place on a terminal) whose
    ``update(**stats)`` advances one step and shows ``stats`` beside the count."""

    __slots__ = ("bar",)

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def update(self, **stats: float | str) -> None:
        """One step done; ``stats`` (e.g. ``loss=0.25, acc="90%"``) replace the shown ones."""
        self.bar.set_postfix(stats, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        """Draw the final state and end the line."""
        self.bar.close()


def progress_bar(steps: int, stream: TextIO | None) -> ProgressBar | None:
    """A progress bar over ``steps`` steps written to ``stream``; None (no bar) when ``stream``
    is None or tqdm, an optional dependency (the ``demo`` extra), is not installed."""
    if stream is None:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    isatty = getattr(stream, "isatty", None)
    interactive = bool(isatty and isatty())
    # In a log (a pipe, a file, CI) a redraw is a new stretch of text: redraw every tenth only.
    every = 1 if interactive else max(1, steps // 10)
    bar = tqdm(
        total=steps,
        desc="train",
        file=stream,
        miniters=every,
        mininterval=0.1 if interactive else 0.0,
        dynamic_ncols=interactive,
        leave=True,
    )
    return ProgressBar(bar)


@contextmanager
def timed_progress(
    result: TrainResult, steps: int, progress: TextIO | None
) -> Iterator[ProgressBar | None]:
    """A progress bar over ``steps`` steps on ``progress`` (None, or tqdm not installed: no bar,
    yields None); when the block ends, ``result.seconds`` is its wall time and the bar is
    closed."""
    bar = progress_bar(steps, progress)
    start = time.perf_counter()
    try:
        yield bar
    finally:
        result.seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()


# --- pictures (matplotlib, imported only here) ----------------------------------------------


def _figure_class() -> Any:
    """matplotlib's Figure (the object API: no pyplot, no GUI backend, nothing global)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the pictures need matplotlib: pip install 'autograd_mini[demo]' (or matplotlib)"
        ) from e
    return Figure


def save_figure(fig: Any, path: str | os.PathLike[str]) -> None:
    """Save a matplotlib figure as PNG to ``path`` atomically, like every file the package
    writes (:func:`autograd_mini.atomicfile.write_atomic`: recognisable temporaries, the mode
    of an existing file kept, links followed, never half a picture)."""
    import io

    from autograd_mini.atomicfile import write_atomic

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_atomic(path, buffer.getvalue())


def plot_decision_boundary(
    model: MLP,
    points: Sequence[Sequence[float]],
    y: Sequence[int],
    path: str | os.PathLike[str],
    title: str = "",
    resolution: int = 80,
) -> None:
    """Save a PNG of the class regions the model predicts over the data's bounding box (one
    output: score > 0; several: the argmax), with the points coloured by their true class and
    misclassified points ringed in red."""
    figure = _figure_class()
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    pad = 0.5
    x0, x1 = min(xs) - pad, max(xs) + pad
    y0, y1 = min(ys) - pad, max(ys) + pad
    gx = [x0 + (x1 - x0) * i / (resolution - 1) for i in range(resolution)]
    gy = [y0 + (y1 - y0) * j / (resolution - 1) for j in range(resolution)]
    rows = predict(model, [[a, b] for b in gy for a in gx])
    classes = max(max(y) + 1, len(rows[0]), 2)
    cmap = "coolwarm" if classes == 2 else "viridis"
    fig = figure(figsize=(6, 5), dpi=100)
    ax = fig.subplots()
    if len(rows[0]) == 1:
        # one output: shade by the sign of the score and draw its zero level, which contour
        # interpolates between grid points (a smooth line, not pixel steps)
        score = [
            [rows[j * resolution + i][0] for i in range(resolution)] for j in range(resolution)
        ]
        lo = min(min(r) for r in score)
        hi = max(max(r) for r in score)
        ax.contourf(
            gx, gy, score, levels=[min(lo, -1e-9), 0.0, max(hi, 1e-9)], cmap=cmap, alpha=0.3
        )
        ax.contour(gx, gy, score, levels=[0.0], colors="k", linewidths=1.0)
    else:
        labels = [
            [_label(rows[j * resolution + i]) for i in range(resolution)] for j in range(resolution)
        ]
        levels = [k - 0.5 for k in range(classes + 1)]
        ax.contourf(gx, gy, labels, levels=levels, cmap=cmap, alpha=0.3)
    ax.scatter(xs, ys, c=list(y), cmap=cmap, vmin=0, vmax=classes - 1, s=22, edgecolors="k")
    wrong = [i for i, r in enumerate(predict(model, points)) if _label(r) != y[i]]
    if wrong:
        ax.scatter(
            [xs[i] for i in wrong],
            [ys[i] for i in wrong],
            s=90,
            facecolors="none",
            edgecolors="red",
            linewidths=1.5,
            label=f"misclassified ({len(wrong)})",
        )
        ax.legend(loc="upper right")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_history(
    losses: Sequence[float],
    accuracies: Sequence[float],
    path: str | os.PathLike[str],
    title: str = "",
    accuracy_label: str = "training accuracy (%)",
) -> None:
    """Save a PNG of the loss (left axis, log scale) and accuracy (right axis) per step."""
    figure = _figure_class()
    fig = figure(figsize=(6, 4), dpi=100)
    ax = fig.subplots()
    steps = list(range(1, len(losses) + 1))
    ax.plot(steps, losses, color="tab:blue", label="loss")
    if all(v > 0.0 for v in losses):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(steps, [100 * a for a in accuracies], color="tab:orange", label="accuracy")
    ax2.set_ylabel(accuracy_label, color="tab:orange")
    ax2.set_ylim(0, 105)
    ax.set_title(title)
    fig.tight_layout()
    save_figure(fig, path)


# --- command line ---------------------------------------------------------------------------


def hidden_sizes(text: str) -> list[int]:
    """Parse ``"16,16"`` (or ``"16"``) into layer sizes for argparse."""
    try:
        sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(f"hidden sizes must be integers, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be integers >= 1, got {text!r}")
    return sizes


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {v}")
    return v


def sample_count(text: str) -> int:
    """``--n``: an integer from 1 to :data:`autograd_mini.data.MAX_SAMPLES` (the points are
    Python lists: more would exhaust memory before training starts)."""
    from autograd_mini.data import MAX_SAMPLES

    v = positive_int(text)
    if v > MAX_SAMPLES:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_SAMPLES:,} points (autograd_mini.data.MAX_SAMPLES), got {v:,}"
        )
    return v


def check_model_size(parser: argparse.ArgumentParser, nin: int, nouts: Sequence[int]) -> None:
    """A usage error, before the model is built, when ``MLP(nin, nouts)`` would have more
    than :data:`autograd_mini.nn.MAX_PARAMETERS` parameters (it would exhaust memory and time:
    each one is a Python object)."""
    from autograd_mini.nn import MAX_PARAMETERS

    count, fan_in = 0, nin
    for n in nouts:
        count += (fan_in + 1) * n
        fan_in = n
    if count > MAX_PARAMETERS:
        parser.error(
            f"MLP({nin}, {list(nouts)}) would have {count:,} parameters, more than the "
            f"{MAX_PARAMETERS:,} a demo trains (autograd_mini.nn.MAX_PARAMETERS): use smaller "
            "layers"
        )


def non_negative_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v >= 0.0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return v


OUT_ALIASES = ("--output", "--output-dir", "--out-dir", "--outdir")
"""Other spellings of ``--out`` (all the same option)."""


class FlattenSizes(argparse.Action):
    """``--hidden 16,16`` and ``--hidden 16 16`` (``nargs="+"`` of comma lists) → ``[16, 16]``."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, [size for part in values for size in part])


def add_training_arguments(p: argparse.ArgumentParser, default_lr: Mapping[str, float]) -> None:
    """``--seed``, ``--optimizer`` (the choices are ``default_lr``'s keys, the first the
    default), ``--lr``, ``--momentum`` and ``--hidden``."""
    names = tuple(default_lr)
    lrs = ", ".join(f"{name} {lr}" for name, lr in default_lr.items())
    p.add_argument("--seed", type=int, default=0, help="seed for the data and the weights (0)")
    p.add_argument(
        "--optimizer", type=str.lower, choices=names, default=names[0], help=f"({names[0]})"
    )
    p.add_argument(
        "--lr",
        "--learning-rate",
        type=non_negative_float,
        default=None,
        help=f"initial learning rate, decays linearly to a tenth ({lrs})",
    )
    p.add_argument("--momentum", type=non_negative_float, default=0.9, help="SGD momentum (0.9)")
    p.add_argument(
        "--hidden",
        type=hidden_sizes,
        nargs="+",
        action=FlattenSizes,
        default=[16, 16],
        help="hidden layer sizes: 16,16 or 16 16 (16,16)",
    )


def add_output_arguments(
    p: argparse.ArgumentParser,
    demo: str,
    pictures: str = "the PNG pictures",
    aliases: Sequence[str] = OUT_ALIASES,
) -> None:
    """``--out`` (spelt also ``aliases``; default ``out/<demo>``) and ``--no-plots``."""
    p.add_argument(
        "--out",
        *aliases,
        dest="out",
        default=os.path.join("out", demo),
        help=f"output folder (out/{demo})",
    )
    p.add_argument("--no-plots", action="store_true", help=f"skip {pictures}")


def demo_parser(name: str, description: str, prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of demo ``name``: errors are one line with exit status 2 (like the
    ``autograd-mini`` command); usage names ``prog`` (``autograd-mini demo NAME`` when started
    from the command, the default ``python -m autograd_mini.demos.NAME`` otherwise)."""
    from autograd_mini.cli import OneLineParser

    return OneLineParser(
        prog=prog or f"python -m autograd_mini.demos.{name}", description=description
    )


def matplotlib_installed() -> bool:
    """Whether matplotlib can be imported (found, not imported: a demo that cannot draw creates
    no output folder)."""
    return importlib.util.find_spec("matplotlib") is not None


def ensure_output_folder(parser: argparse.ArgumentParser, out: str) -> None:
    """Create the output folder ``out`` before any work, so a bad ``--out`` (``/dev/null/x``, no
    permission, a file's name) is a one-line usage error (exit 2) at once, not a traceback after
    the training."""
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        parser.error(f"--out {out!r}: cannot create the folder: {e.strerror or e}")
    if not os.access(out, os.W_OK | os.X_OK):
        parser.error(f"--out {out!r}: the folder is not writable")


def parse_finite(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, finite: Sequence[str]
) -> argparse.Namespace:
    """``parser.parse_args(argv)``, with a usage error (exit 2) when a flag named in ``finite``
    is inf or nan."""
    args = parser.parse_args(None if argv is None else list(argv))
    for name in finite:
        if not math.isfinite(getattr(args, name)):
            parser.error(f"--{name} must be a finite number")
    return args


def optimizer_text(name: str, lr: float, momentum: float) -> str:
    """How the demos print the optimizer: ``SGD(lr=…, momentum=…)`` or ``Adam(lr=…)``."""
    return f"SGD(lr={lr}, momentum={momentum})" if name == "sgd" else f"Adam(lr={lr})"


def write_outputs(
    out: str,
    result: TrainResult,
    metrics: dict[str, Any],
    plots: bool,
    title: str,
    say: Callable[[str], None],
    accuracy_label: str = "training accuracy (%)",
) -> None:
    """Save model.json, metrics.json and (with matplotlib) the two pictures into ``out``."""
    os.makedirs(out, exist_ok=True)
    result.model.save(os.path.join(out, "model.json"))
    _write_json_atomic(os.path.join(out, "metrics.json"), metrics)
    written = ["model.json", "metrics.json"]
    if plots:
        try:
            _figure_class()
        except ImportError as e:
            say(f"note: {e}; skipping the pictures")
        else:
            plot_decision_boundary(
                result.model,
                result.points,
                result.y,
                os.path.join(out, "decision_boundary.png"),
                title=title,
            )
            plot_history(
                result.losses,
                result.accuracies,
                os.path.join(out, "loss_curve.png"),
                title="training loss and accuracy",
                accuracy_label=accuracy_label,
            )
            written += ["decision_boundary.png", "loss_curve.png"]
    say(f"wrote {', '.join(written)}")
    say(f"output folder: {os.path.abspath(out)}")


def report_and_save(
    demo: str,
    args: argparse.Namespace,
    lr: float,
    result: TrainResult,
    held_out: float,
    title: str,
    loss_name: str = "loss",
    accuracy_label: str = "training accuracy (%)",
) -> int:
    """Print the final numbers of a training demo's run and :func:`write_outputs` its files,
    with the settings (``args`` but ``quiet``, and ``lr``) in metrics.json; the exit status.

    A run whose loss or weights ended as NaN or ±inf (a learning rate far too large) saves
    nothing (JSON has no NaN, and such a model is useless): one line on stderr, status 1."""
    final = result.losses[-1]
    if not math.isfinite(final) or not all(
        math.isfinite(p.data) for p in result.model.parameters()
    ):
        print(
            f"{demo}: error: training diverged (final {loss_name} {final}, weights not finite); "
            f"nothing saved: try a smaller --lr than {lr:g}",
            file=sys.stderr,
        )
        return 1
    print(
        f"final accuracy: {100 * result.accuracy:.1f}% on the {args.n} training points "
        f"({100 * held_out:.1f}% on {args.n} fresh points); final {loss_name} "
        f"{result.losses[-1]:.4f}; training took {result.seconds:.1f} s"
    )
    metrics = {
        "demo": demo,
        "architecture": result.model.config(),
        "settings": {k: v for k, v in vars(args).items() if k != "quiet"} | {"lr": lr},
        "accuracy": result.accuracy,
        "held_out_accuracy": held_out,
        "final_loss": result.losses[-1],
        "losses": result.losses,
        "accuracies": result.accuracies,
        "train_seconds": result.seconds,
    }
    write_outputs(args.out, result, metrics, not args.no_plots, title, print, accuracy_label)
    return 0
