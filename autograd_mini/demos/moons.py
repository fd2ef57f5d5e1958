"""The main demo: a neural network learns to separate two moons.

Trains ``MLP(2, [16, 16, 1])`` (337 parameters, relu) on 100 noisy two-moons points, full
batch, with the max-margin (hinge) loss plus 1e-4·L2 and SGD with momentum 0.9, the learning
rate decaying linearly to a tenth over the run.  A progress bar shows the loss and accuracy;
at the end it prints the final accuracy (and the accuracy on 100 fresh points), and writes to
the output folder (default ``out/moons``):

* ``decision_boundary.png``: the learned regions with the training points;
* ``loss_curve.png``: loss and accuracy per step;
* ``network.svg``: the trained network, one edge per weight coloured by its sign, as wide as
  its size, with ∂L/∂w of the last step in the tooltips (:func:`autograd_mini.viz.draw_network`;
  needs Graphviz's ``dot``; its source is written beside it as ``network.svg.dot``);
* ``model.json``: the trained weights (``MLP.load`` reads them back);
* ``metrics.json``: settings, final numbers and wall time.

Run ``python -m autograd_mini.demos.moons --help`` for the flags.  Pictures need matplotlib
(``pip install 'autograd_mini[demo]'``); without it the demo still trains and saves the model.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from autograd_mini.data import make_moons

# these lived here before _common; still importable from here
from autograd_mini.demos._common import (
    L2_ALPHA,
    OUT_ALIASES as OUT_ALIASES,
    FlattenSizes as FlattenSizes,
    TrainResult,
    accuracy,
    add_output_arguments,
    add_training_arguments,
    check_model_size,
    check_steps,
    decaying_optimizer,
    demo_parser,
    ensure_output_folder,
    hidden_sizes as hidden_sizes,
    make_optimizer,
    non_negative_float,
    optimizer_text,
    paused_gc,
    plot_decision_boundary,
    plot_history,
    positive_int,
    predict,
    report_and_save,
    sample_count,
    timed_progress,
    write_outputs as write_outputs,
)
from autograd_mini.engine import Value
from autograd_mini.losses import binary_cross_entropy, hinge, l2
from autograd_mini.nn import MLP

__all__ = [
    "TrainResult",
    "accuracy",
    "compiled_step",
    "main",
    "make_optimizer",
    "paused_gc",
    "plot_decision_boundary",
    "plot_history",
    "predict",
    "train_moons",
    "write_network",
]

DEFAULT_LR = {"sgd": 0.2, "adam": 0.05}


def _scalar(out: Value | list[Value]) -> Value:
    if isinstance(out, Value):
        return out
    raise ValueError(f"expected a model with one output, got {len(out)} outputs")


def compiled_step(
    model: MLP,
    points: Sequence[Sequence[float]],
    targets: Sequence[float],
    loss: str,
    backend: str = "python",
) -> Callable[[], tuple[float, list[float]]]:
    """The full-batch loss of :func:`train_moons` compiled with :func:`autograd_mini.trace`:
    returns ``step()``, which adds the loss's gradient to every ``p.grad`` (like
    ``total.backward()``) and returns the loss and the scores.

    The per-sample loss ``[hinge(s, t), s]`` (or bce) is traced once per class ``t`` (the label
    is a constant of the trace), the 1e-4·L2 term once; the gradient weights each sample by 1/n
    as the mean does.  Results equal the eager step up to rounding (sums in another order).
    ``backend="jax"``: each class's rows run as one ``Traced.batch(..., backend="jax")`` call
    (the gradient program, jit-compiled) instead of the compiled float loop.
    """
    from autograd_mini.trace import trace

    params = model.parameters()
    n = len(points)
    classes = sorted(set(targets))

    def per_sample(t: float) -> Callable[[Value, Value], list[Value]]:
        def f(x0: Value, x1: Value) -> list[Value]:
            s = _scalar(model([x0, x1]))
            term = hinge(s, t) if loss == "hinge" else binary_cross_entropy(s, t)
            return [term, s]

        return f

    traced = [trace(per_sample(t), 2, params=params) for t in classes]
    reg = trace(lambda: L2_ALPHA * l2(params), 0, params=params)
    groups = [[i for i in range(n) if targets[i] == t] for t in classes]
    rows = [[list(points[i]) for i in group] for group in groups]
    weights = [1.0 / n, 0.0]  # d total / d term_i = 1/n; the score is only reported

    def step() -> tuple[float, list[float]]:
        values = [p.data for p in params]
        scores = [0.0] * n
        data = 0.0
        reg_value, reg_grads = reg.value_and_grad([], wrt="params", param_values=values)
        grads = [0.0] * len(params)
        for fn, group, xs in zip(traced, groups, rows, strict=True):
            outs: Any
            if backend == "jax":
                if not xs:
                    continue
                batch = fn.batch(
                    xs, wrt="params", grad_outputs=weights, param_values=values, backend="jax"
                )
                outs, summed = batch.value.tolist(), batch.param_grad.tolist()
            else:
                outs, summed = fn.values_and_summed_grad(
                    xs, grad_outputs=weights, param_values=values
                )
            for i, (term, score) in zip(group, outs, strict=True):
                scores[i] = score
                data += term
            grads = [a + b for a, b in zip(grads, summed, strict=True)]
        for p, g, r in zip(params, grads, reg_grads, strict=True):
            p.grad += g + r
        return data / n + float(reg_value), scores  # type: ignore[arg-type]

    return step


def train_moons(
    steps: int = 100,
    seed: int = 0,
    optimizer: str = "sgd",
    lr: float | None = None,
    momentum: float = 0.9,
    hidden: Sequence[int] = (16, 16),
    n: int = 100,
    noise: float = 0.1,
    loss: str = "hinge",
    progress: TextIO | None = None,
    compiled: bool | str = False,
) -> TrainResult:
    """Train an MLP on ``make_moons(n, noise, seed)``, full batch, for ``steps`` steps.

    Loss: ``hinge`` on labels ±1 (or ``bce``, binary cross-entropy on labels 0/1), plus
    1e-4·Σp².  The learning rate decays linearly from ``lr`` to ``lr/10``.  Deterministic: the
    same arguments give the same model, bit for bit.  ``progress``: a stream for the progress
    bar (None: no bar).  ``compiled``: compute the loss and gradient with code traced once
    (:func:`compiled_step`, tracing included in ``seconds``) instead of building the graph
    every step; the same training up to rounding, about 20x faster; ``compiled="jax"``:
    the same with the JAX backend (needs jax).
    """
    if compiled not in (False, True, "python", "jax"):
        raise ValueError(f"compiled must be True, False, 'python' or 'jax', got {compiled!r}")
    if loss not in ("hinge", "bce"):
        raise ValueError(f"unknown loss {loss!r}; choose 'hinge' or 'bce'")
    check_steps(steps)
    points, y = make_moons(n, noise, seed=seed)
    model = MLP(2, [*hidden, 1], seed=seed)
    params = model.parameters()
    opt, schedule = decaying_optimizer(optimizer, params, lr, momentum, steps, DEFAULT_LR)
    signs = [2.0 * t - 1.0 for t in y]
    result = TrainResult(model, points, y)
    with timed_progress(result, steps, progress) as bar:
        targets = signs if loss == "hinge" else y
        backend = "jax" if compiled == "jax" else "python"
        fast = compiled_step(model, points, targets, loss, backend) if compiled else None
        with paused_gc():
            for _ in range(steps):
                opt.zero_grad()
                if fast is not None:
                    value, numbers = fast()
                else:
                    scores = [_scalar(model(x)) for x in points]
                    lossfn = hinge if loss == "hinge" else binary_cross_entropy
                    total = lossfn(scores, targets) + L2_ALPHA * l2(params)
                    total.backward()
                    value, numbers = total.data, [s.data for s in scores]
                opt.step()
                schedule.step()
                # accuracy of the scores this step computed (before its update)
                acc = sum((s > 0.0) == (t == 1) for s, t in zip(numbers, y, strict=True)) / n
                result.losses.append(value)
                result.accuracies.append(acc)
                if bar is not None:
                    bar.update(loss=value, acc=f"{100 * acc:.0f}%")
            result.accuracy = accuracy(model, points, y)
    return result


# --- command line ---------------------------------------------------------------------------


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = demo_parser(
        "moons",
        "Train MLP(2, [16, 16, 1]) on two moons; write pictures and the model.",
        prog,
    )
    p.add_argument(
        "--steps", "--epochs", type=positive_int, default=100, help="training steps (100)"
    )
    add_training_arguments(p, DEFAULT_LR)
    p.add_argument(
        "--loss", type=str.lower, choices=("hinge", "bce"), default="hinge", help="(hinge)"
    )
    p.add_argument("--n", type=sample_count, default=100, help="number of points (100)")
    p.add_argument("--noise", type=non_negative_float, default=0.1, help="data noise (0.1)")
    add_output_arguments(p, "moons")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--compiled",
        nargs="?",
        const="python",
        choices=("python", "jax"),
        default=None,
        help="train on code traced once (autograd_mini.trace): same result, ~20x faster; "
        "--compiled jax runs it with JAX (jit-compiled; needs the jax extra)",
    )
    return p


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Command-line entry point (``python -m autograd_mini.demos.moons``; ``prog`` names it in
    ``--help``)."""
    parser = _parser(prog)
    args = parser.parse_args(None if argv is None else list(argv))
    if args.compiled == "jax" and importlib.util.find_spec("jax") is None:
        print("moons: --compiled jax needs jax: pip install autograd_mini[jax]", file=sys.stderr)
        return 2
    # metrics.json's settings keep false/true for no flag/a bare --compiled; "jax" for jax
    args.compiled = "jax" if args.compiled == "jax" else args.compiled is not None
    check_model_size(parser, 2, [*args.hidden, 1])
    ensure_output_folder(parser, args.out)
    lr = DEFAULT_LR[args.optimizer] if args.lr is None else args.lr
    arch = MLP(2, [*args.hidden, 1], seed=0)
    print(
        f"moons: {arch!r}, {len(arch.parameters())} parameters; {args.n} points (noise "
        f"{args.noise}, seed {args.seed}); {args.loss} loss + {L2_ALPHA}·L2; "
        f"{optimizer_text(args.optimizer, lr, args.momentum)}, lr decaying linearly to a tenth; "
        f"{args.steps} steps, full batch"
    )
    sys.stdout.flush()
    result = train_moons(
        steps=args.steps,
        seed=args.seed,
        optimizer=args.optimizer,
        lr=lr,
        momentum=args.momentum,
        hidden=args.hidden,
        n=args.n,
        noise=args.noise,
        loss=args.loss,
        progress=None if args.quiet else sys.stderr,
        compiled=args.compiled,
    )
    fresh, fresh_y = make_moons(args.n, args.noise, seed=args.seed + 1)
    held_out = accuracy(result.model, fresh, fresh_y)
    title = f"two moons: {100 * result.accuracy:.0f}% training accuracy after {args.steps} steps"
    status = report_and_save("moons", args, lr, result, held_out, title)
    if status:
        return status
    if not args.no_plots:
        write_network(result.model, args.out)
    return 0


def write_network(model: MLP, out: str) -> None:
    """Draw the trained network (:func:`autograd_mini.viz.draw_network`) to ``out/network.svg``;
    its gradients are the last training step's.  Without Graphviz's ``dot`` (or if it fails or
    takes over a minute), says so and goes on: the model and metrics are saved already.
    """
    from autograd_mini.viz import draw_network, render_graph

    path = os.path.join(out, "network.svg")
    try:
        render_graph(draw_network(model), path, timeout=60.0)
    except RuntimeError as e:  # DotNotFoundError, DotTimeoutError, or dot failed
        print(f"note: {e}; skipping network.svg")
    else:
        print("wrote network.svg (the trained network; open it in a browser to hover the edges)")


if __name__ == "__main__":
    raise SystemExit(main())
