"""The vanishing gradient in a real network: an 8-layer MLP trained on the two moons with
sigmoid, tanh and ReLU, watching the mean |∂L/∂w| of every layer's weights during training.

Backpropagation multiplies, layer by layer from the output, by Wᵀ and by the activation's
derivative.  σ'(z) = σ(z)(1 − σ(z)) ≤ ¼, so each sigmoid layer can shrink the gradient by a
factor of four or more: seven sigmoid layers below the output leave the first layer with
(¼)⁷ ≈ 6·10⁻⁵ of the last layer's gradient (for weights of norm ~1).  tanh' ≤ 1 (= 1 at 0) and
ReLU' = 1 where the unit is active, so their gradients reach the first layer.

The gradients are collected with :meth:`Value.register_hook` on every weight, as a user would
watch them.  The demo prints each layer's mean |∂L/∂w| averaged over training and the
first-layer / last-layer ratio per activation, writes the curves to ``gradflow.json`` and, with
matplotlib, draws them (and the (¼)^depth bound) to ``gradflow.png`` in the output folder
(default ``out/gradflow``).  Run ``python -m autograd_mini.demos.gradflow --help``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd_mini.data import make_moons
from autograd_mini.demos._common import (
    add_output_arguments,
    check_model_size,
    demo_parser,
    ensure_output_folder,
    non_negative_float,
    parse_finite,
    paused_gc,
    positive_int,
    sample_count,
    save_figure,
)
from autograd_mini.engine import Value
from autograd_mini.losses import binary_cross_entropy
from autograd_mini.nn import MLP, _write_json_atomic
from autograd_mini.optim import SGD

__all__ = ["ACTIVATIONS", "DEPTH", "GradFlow", "main", "train"]

ACTIVATIONS = ("sigmoid", "tanh", "relu")
DEPTH = 8
"""Layers of the network: seven hidden layers and the linear output layer."""

SIGMOID_SLOPE_BOUND = 0.25
"""max σ'(z) = σ'(0) = ¼."""


@dataclass
class GradFlow:
    """One training run: ``per_step[s][k]`` is the mean |∂L/∂w| over layer k+1's weights at
    step s (layer 1 reads the input, layer ``DEPTH`` is the output layer)."""

    activation: str
    per_step: list[list[float]] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)

    @property
    def per_layer(self) -> list[float]:
        """Each layer's mean |∂L/∂w| averaged over the training steps."""
        steps = len(self.per_step)
        return [sum(row[k] for row in self.per_step) / steps for k in range(DEPTH)]

    @property
    def ratio(self) -> float:
        """First-layer / last-layer mean |∂L/∂w| (averaged over training)."""
        layers = self.per_layer
        return layers[0] / layers[-1] if layers[-1] else float("inf")


def train(
    activation: str, steps: int = 40, n: int = 64, width: int = 8, lr: float = 0.1, seed: int = 0
) -> GradFlow:
    """Train ``MLP(2, [width]*7 + [1], activation)`` on ``make_moons(n)`` with SGD on the mean
    binary cross-entropy for ``steps`` steps, recording the per-layer weight gradients."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"gradflow: activation must be one of {ACTIVATIONS}, got {activation!r}")
    for name, value in (("steps", steps), ("n", n), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"gradflow: {name} must be an int >= 1, got {value!r}")
    points, labels = make_moons(n, noise=0.1, seed=seed)
    model = MLP(2, [width] * (DEPTH - 1) + [1], activation=activation, seed=seed)
    flow = GradFlow(activation)
    sums = [0.0] * DEPTH
    handles = []
    for k, layer in enumerate(model.layers):
        for neuron in layer.neurons:
            for w in neuron.w:

                def watch(g: float, k: int = k) -> None:
                    sums[k] += abs(g)

                handles.append(w.register_hook(watch))
    counts = [sum(len(neuron.w) for neuron in layer.neurons) for layer in model.layers]
    opt = SGD(model.parameters(), lr=lr)
    try:
        with paused_gc():
            for _ in range(steps):
                sums[:] = [0.0] * DEPTH
                opt.zero_grad()
                scores: list[Value] = [model(p) for p in points]
                loss = binary_cross_entropy(scores, [float(t) for t in labels])
                loss.backward()
                opt.step()
                flow.losses.append(loss.data)
                flow.per_step.append([s / c for s, c in zip(sums, counts, strict=True)])
    finally:
        for handle in handles:
            handle.remove()
    return flow


def _finite_or_null(doc: Any) -> Any:
    """``doc`` with every NaN or ±inf replaced by None (JSON has neither; a diverged run)."""
    if isinstance(doc, float):
        return doc if math.isfinite(doc) else None
    if isinstance(doc, dict):
        return {k: _finite_or_null(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [_finite_or_null(v) for v in doc]
    return doc


def _table(flows: Sequence[GradFlow]) -> list[str]:
    lines = ["layer  " + "".join(f"{f.activation:>13}" for f in flows)]
    for k in range(DEPTH):
        note = "  (input)" if k == 0 else "  (output)" if k == DEPTH - 1 else ""
        lines.append(f"{k + 1:>5}  " + "".join(f"{f.per_layer[k]:>13.3e}" for f in flows) + note)
    return lines


def _plot(flows: Sequence[GradFlow], path: str) -> None:
    """Per activation, mean |∂L/∂w| of each layer over training; then the profile over layers
    beside the (¼)^depth bound (matplotlib's object API, no pyplot state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 8), dpi=100)
    axes = fig.subplots(2, 2)
    colors = [f"C{k}" for k in range(DEPTH)]
    for ax, flow in zip(axes.flat, flows, strict=False):
        steps = list(range(1, len(flow.per_step) + 1))
        for k in range(DEPTH):
            ax.semilogy(
                steps, [row[k] for row in flow.per_step], color=colors[k], label=f"layer {k + 1}"
            )
        ax.set_title(f"{flow.activation}: mean |∂L/∂w| per layer")
        ax.set_xlabel("training step")
        ax.grid(True, which="both", alpha=0.3)
    axes.flat[0].legend(fontsize=7, ncol=2)
    ax = axes.flat[3]
    layers = list(range(1, DEPTH + 1))
    for flow in flows:
        ax.semilogy(layers, flow.per_layer, "o-", label=flow.activation)
    reference = next((f for f in flows if f.activation == "sigmoid"), flows[0])
    last = reference.per_layer[-1]
    ax.semilogy(
        layers,
        [last * SIGMOID_SLOPE_BOUND ** (DEPTH - k) for k in layers],
        "--",
        color="#6b7280",
        label="last layer · (¼)^(layers below the output)",
    )
    ax.set_xlabel("layer (1 = input side)")
    ax.set_ylabel("mean |∂L/∂w| over training")
    ax.set_title("gradient profile; σ' ≤ ¼ per sigmoid layer")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def _activation_list(text: str) -> list[str]:
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    bad = [name for name in names if name not in ACTIVATIONS]
    if not names or bad:
        raise argparse.ArgumentTypeError(
            f"activations must be a comma-separated subset of {', '.join(ACTIVATIONS)}, "
            f"got {text!r}"
        )
    return list(dict.fromkeys(names))


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = demo_parser(
        "gradflow",
        "Train an 8-layer MLP on the moons with sigmoid, tanh and ReLU and watch the mean "
        "|∂L/∂w| of each layer: with sigmoid it vanishes towards the input.",
        prog,
    )
    p.add_argument("--steps", type=positive_int, default=40, help="training steps (40)")
    p.add_argument("--n", type=sample_count, default=64, help="moons points (64)")
    p.add_argument("--width", type=positive_int, default=8, help="units per hidden layer (8)")
    p.add_argument("--lr", type=non_negative_float, default=0.1, help="SGD learning rate (0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed for the data and the weights (0)")
    p.add_argument(
        "--activations",
        type=_activation_list,
        default=list(ACTIVATIONS),
        help="comma-separated (sigmoid,tanh,relu)",
    )
    add_output_arguments(p, "gradflow", "the picture", aliases=())
    return p


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Command-line entry point (``python -m autograd_mini.demos.gradflow``; ``prog`` names it
    in ``--help``)."""
    parser = _parser(prog)
    args = parse_finite(parser, argv, ("lr",))
    check_model_size(parser, 2, [args.width] * (DEPTH - 1) + [1])
    ensure_output_folder(parser, args.out)  # gradflow.json is always written: check first
    print(
        f"MLP(2, [{args.width}]*{DEPTH - 1} + [1]) on {args.n} moons points, SGD(lr={args.lr}), "
        f"{args.steps} steps per activation; mean |∂L/∂w| per layer, averaged over training:\n"
    )
    flows = [train(a, args.steps, args.n, args.width, args.lr, args.seed) for a in args.activations]
    print("\n".join(_table(flows)))
    print()
    for flow in flows:
        print(
            f"{flow.activation:>7}: first-layer / last-layer ratio {flow.ratio:.3e}  "
            f"(final loss {flow.losses[-1]:.4f})"
        )
    print(f"bound for sigmoid: σ' ≤ ¼ per layer, (¼)^{DEPTH - 1} = {0.25 ** (DEPTH - 1):.3e}")
    for flow in flows:
        if not math.isfinite(flow.losses[-1]):
            print(
                f"note: {flow.activation} diverged (final loss {flow.losses[-1]}): try a smaller "
                f"--lr than {args.lr:g}; gradflow.json has null for its non-finite numbers",
                file=sys.stderr,
            )
    doc = {
        "demo": "gradflow",
        "settings": vars(args),
        "runs": [
            {
                "activation": f.activation,
                "per_step": f.per_step,
                "per_layer": f.per_layer,
                "ratio": f.ratio,
                "losses": f.losses,
            }
            for f in flows
        ],
    }
    _write_json_atomic(os.path.join(args.out, "gradflow.json"), _finite_or_null(doc))
    written = ["gradflow.json"]
    if not args.no_plots:
        try:
            import matplotlib  # noqa: F401  (only to find out whether it is installed)
        except ImportError:
            print(
                "note: matplotlib is not installed, so there is no plot; install it with: "
                "pip install 'autograd_mini[demo]'",
                file=sys.stderr,
            )
        else:
            with warnings.catch_warnings():
                # a diverged run's inf on the log axis: numpy's overflow warning is noise here
                # (the note above says what happened)
                warnings.simplefilter("ignore", RuntimeWarning)
                _plot(flows, os.path.join(args.out, "gradflow.png"))
            written.append("gradflow.png")
    print(f"wrote {', '.join(written)} to {os.path.abspath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
