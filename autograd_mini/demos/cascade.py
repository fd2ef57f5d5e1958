"""The tutorial's worked example: two logistic neurons in cascade, backpropagation by hand and by
the engine, side by side.

    x → z1 = w1·x + b1 → a1 = σ(z1) → z2 = w2·a1 + b2 → a2 = σ(z2),   E = ½(t2 − a2)²

The chain rule, written out as in the tutorial (σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)):

    δ2 = ∂E/∂z2 = ∂E/∂a2 · ∂a2/∂z2 = (a2 − t2) · a2(1 − a2)
    ∂E/∂w2 = δ2 · a1        ∂E/∂b2 = δ2
    δ1 = ∂E/∂z1 = δ2 · w2 · a1(1 − a1)
    ∂E/∂w1 = δ1 · x         ∂E/∂b1 = δ1

The demo prints these hand formulas next to the engine's gradients (they agree to 1e-12), draws
the graph with data, gradients and the local partial on every edge (``cascade.svg``,
``cascade.png`` and the ``cascade.dot`` source in the output folder, default ``out/cascade``),
applies one gradient-descent step w ← w − η·∂E/∂w and shows the loss going down.

Run ``python -m autograd_mini.demos.cascade --help`` for the flags.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from autograd_mini.demos._common import (
    add_output_arguments,
    demo_parser,
    ensure_output_folder,
    parse_finite,
)
from autograd_mini.engine import Value

__all__ = ["PARAMETERS", "CascadeResult", "build", "by_hand", "main", "run"]

PARAMETERS = ("w1", "b1", "w2", "b2")
"""The trainable parameters, in the order the tables print them."""

AGREEMENT = 1e-12
"""Largest allowed |hand formula − engine| (absolute)."""

# The rows of the comparison: name, tutorial formula, the engine node holding that gradient.
_ROWS = (
    ("δ2 = ∂E/∂z2", "(a2 − t2)·a2·(1 − a2)", "z2"),
    ("∂E/∂w2", "δ2·a1", "w2"),
    ("∂E/∂b2", "δ2", "b2"),
    ("δ1 = ∂E/∂z1", "δ2·w2·a1·(1 − a1)", "z1"),
    ("∂E/∂w1", "δ1·x", "w1"),
    ("∂E/∂b1", "δ1", "b1"),
)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def build(x: float, t2: float, w1: float, b1: float, w2: float, b2: float) -> dict[str, Value]:
    """The cascade as a labelled Value graph; returns every named node (``"E"`` is the loss)."""
    v = {
        "x": Value(x, label="x"),
        "w1": Value(w1, label="w1"),
        "b1": Value(b1, label="b1"),
        "w2": Value(w2, label="w2"),
        "b2": Value(b2, label="b2"),
        "t2": Value(t2, label="t2"),
    }
    steps: tuple[tuple[str, Callable[[], Value]], ...] = (
        ("w1·x", lambda: v["w1"] * v["x"]),
        ("z1", lambda: v["w1·x"] + v["b1"]),
        ("a1", lambda: v["z1"].sigmoid()),
        ("w2·a1", lambda: v["w2"] * v["a1"]),
        ("z2", lambda: v["w2·a1"] + v["b2"]),
        ("a2", lambda: v["z2"].sigmoid()),
        ("t2 − a2", lambda: v["t2"] - v["a2"]),
        ("(t2 − a2)²", lambda: v["t2 − a2"] ** 2),
        ("E", lambda: 0.5 * v["(t2 − a2)²"]),
    )
    for name, make in steps:
        node = make()
        node.label = name
        v[name] = node
    return v


def by_hand(x: float, t2: float, w1: float, b1: float, w2: float, b2: float) -> dict[str, float]:
    """The tutorial's formulas with plain floats: the forward values and the six gradients."""
    z1 = w1 * x + b1
    a1 = _sigmoid(z1)
    z2 = w2 * a1 + b2
    a2 = _sigmoid(z2)
    delta2 = (a2 - t2) * a2 * (1 - a2)
    delta1 = delta2 * w2 * a1 * (1 - a1)
    return {
        "z1": z1,
        "a1": a1,
        "z2": z2,
        "a2": a2,
        "E": 0.5 * (t2 - a2) ** 2,
        "δ2 = ∂E/∂z2": delta2,
        "∂E/∂w2": delta2 * a1,
        "∂E/∂b2": delta2,
        "δ1 = ∂E/∂z1": delta1,
        "∂E/∂w1": delta1 * x,
        "∂E/∂b1": delta1,
    }


@dataclass(frozen=True)
class CascadeResult:
    """Everything the demo shows: ``hand`` and ``engine`` gradients keyed by row name, the
    graph (``nodes``, after backward), the loss before and after one step, the new parameters."""

    nodes: dict[str, Value]
    hand: dict[str, float]
    engine: dict[str, float]
    loss_before: float
    loss_after: float
    updated: dict[str, float]
    lr: float

    @property
    def max_difference(self) -> float:
        return max(abs(self.hand[name] - self.engine[name]) for name, _, _ in _ROWS)


def run(
    x: float = 1.5,
    t2: float = 0.9,
    w1: float = 0.8,
    b1: float = -0.3,
    w2: float = -1.2,
    b2: float = 0.4,
    lr: float = 0.5,
) -> CascadeResult:
    """Forward, backward, the hand formulas, and one gradient-descent step with rate ``lr``."""
    nodes = build(x, t2, w1, b1, w2, b2)
    nodes["E"].backward(retain_graph=True)  # retained: the picture is drawn from this graph
    engine = {name: nodes[key].grad for name, _, key in _ROWS}
    hand = by_hand(x, t2, w1, b1, w2, b2)
    params = {"w1": w1, "b1": b1, "w2": w2, "b2": b2}
    updated = {p: params[p] - lr * nodes[p].grad for p in PARAMETERS}  # w ← w − η·∂E/∂w
    after = build(x, t2, **updated)["E"].data
    return CascadeResult(nodes, hand, engine, nodes["E"].data, after, updated, lr)


def _product(factors: Sequence[float]) -> str:
    return " · ".join(f"({f:.6g})" if f < 0 else f"{f:.6g}" for f in factors)


def _report(r: CascadeResult) -> list[str]:
    n = r.nodes
    lines = [
        "Two logistic neurons in cascade: x → z1 = w1·x + b1 → a1 = σ(z1) → z2 = w2·a1 + b2 "
        "→ a2 = σ(z2);  E = ½(t2 − a2)²",
        "  " + ", ".join(f"{k} = {n[k].data:g}" for k in ("x", "t2", "w1", "b1", "w2", "b2")),
        "forward:  " + ", ".join(f"{k} = {n[k].data:.6f}" for k in ("z1", "a1", "z2", "a2", "E")),
        "",
        f"{'gradient':<13} {'tutorial formula':<22} {'by hand':>20} {'engine':>20} {'|diff|':>9}",
    ]
    for name, formula, _ in _ROWS:
        h, e = r.hand[name], r.engine[name]
        lines.append(f"{name:<13} {formula:<22} {h:>20.15f} {e:>20.15f} {abs(h - e):>9.1e}")
    agree = "agree" if r.max_difference <= AGREEMENT else "DISAGREE"
    lines += [
        f"hand formulas and engine {agree} (largest difference {r.max_difference:.1e}, "
        f"tolerance {AGREEMENT:g})",
    ]
    x, t2, w2 = n["x"].data, n["t2"].data, n["w2"].data
    a1, a2 = n["a1"].data, n["a2"].data
    f2 = [a2 - t2, a2 * (1 - a2), a1]
    f1 = [a2 - t2, a2 * (1 - a2), w2, a1 * (1 - a1), x]
    lines += [
        "",
        "the chain rule, factor by factor:",
        "  ∂E/∂w2 = ∂E/∂a2 · ∂a2/∂z2 · ∂z2/∂w2 = (a2 − t2) · a2(1 − a2) · a1",
        f"         = {_product(f2)} = {math.prod(f2):.15f}",
        "  ∂E/∂w1 = ∂E/∂a2 · ∂a2/∂z2 · ∂z2/∂a1 · ∂a1/∂z1 · ∂z1/∂w1"
        " = (a2 − t2) · a2(1 − a2) · w2 · a1(1 − a1) · x",
        f"         = {_product(f1)} = {math.prod(f1):.15f}",
        "",
    ]
    lines += [
        f"one gradient-descent step, w ← w − η·∂E/∂w with η = {r.lr:g}:",
    ]
    for p in PARAMETERS:
        lines.append(f"  {p}: {n[p].data:+.6f} − {r.lr:g}·({n[p].grad:+.6f}) = {r.updated[p]:+.6f}")
    change = r.loss_after - r.loss_before
    trend = "down" if change < 0 else "NOT down (try a smaller --lr)"
    lines.append(f"loss E: {r.loss_before:.10f} → {r.loss_after:.10f}  ({change:+.3e}, {trend})")
    return lines


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = demo_parser(
        "cascade",
        "Backpropagation through two logistic neurons in cascade: the tutorial's "
        "hand formulas next to the engine's gradients, the graph, and one gradient step.",
        prog,
    )
    defaults = run.__defaults__ or ()
    names = ("x", "t2", "w1", "b1", "w2", "b2", "lr")
    helps = ("input", "target", "first weight", "first bias", "second weight", "second bias",
             "learning rate η")  # fmt: skip
    for name, default, text in zip(names, defaults, helps, strict=True):
        p.add_argument(f"--{name}", type=float, default=default, help=f"{text} ({default})")
    add_output_arguments(p, "cascade", "the graph pictures", aliases=())
    p.add_argument(
        "--explain", action="store_true", help="also print the engine's backward pass line by line"
    )
    return p


def _draw(r: CascadeResult, out: str) -> list[str]:
    """Write cascade.dot, .svg and .png; returns the names written (``.dot`` only without dot)."""
    from autograd_mini.viz import DotNotFoundError, draw_graph, render_graph

    os.makedirs(out, exist_ok=True)
    graph = draw_graph(r.nodes["E"], show_local_grads=True, rankdir="TB")
    written = []
    render_graph(graph, os.path.join(out, "cascade.dot"))  # one source for both pictures
    try:
        for fmt in ("svg", "png"):
            render_graph(graph, os.path.join(out, f"cascade.{fmt}"), write_source=False)
            written.append(f"cascade.{fmt}")
    except DotNotFoundError as exc:
        print(f"note: {exc}", file=sys.stderr)
    return ["cascade.dot", *written]


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Command-line entry point (``python -m autograd_mini.demos.cascade``; ``prog`` names it in
    ``--help``); 0 when the hand formulas and the engine agree and the loss went down, else 1."""
    parser = _parser(prog)
    args = parse_finite(parser, argv, ("x", "t2", "w1", "b1", "w2", "b2", "lr"))
    if not args.no_plots:
        ensure_output_folder(parser, args.out)
    r = run(args.x, args.t2, args.w1, args.b1, args.w2, args.b2, args.lr)
    print("\n".join(_report(r)))
    if args.explain:
        from autograd_mini.explain import explain

        print("\nthe engine's backward pass, node by node:")
        print(explain(r.nodes["E"]))
    if not args.no_plots:
        written = _draw(r, args.out)
        print(f"\nwrote {', '.join(written)} to {os.path.abspath(args.out)}")
    return 0 if r.max_difference <= AGREEMENT and r.loss_after < r.loss_before else 1


if __name__ == "__main__":
    sys.exit(main())
