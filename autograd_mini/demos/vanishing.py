"""Vanishing gradients: a deep chain of sigmoid neurons against a chain of ReLU neurons.

Each layer is one neuron, h_{k+1} = act(w·h_k + b), starting from h_0 = x.  By the chain rule

    ∂out/∂x = Π_k  w · act'(z_k)

and σ'(z) = σ(z)(1 − σ(z)) ≤ 1/4, so through L sigmoid layers |∂out/∂x| ≤ (|w|/4)^L: it shrinks
geometrically with depth.  ReLU's derivative is exactly 1 wherever the neuron is active, so the
gradient is w^L there (1 with the default w = 1): it does not vanish.

The demo measures |∂out/∂x| with the engine for each depth, prints the table (with the (|w|/4)^L
bound) and, when matplotlib is installed, draws it on a log scale to ``vanishing.png`` in the
output folder (default ``out/vanishing``).  Run ``python -m autograd_mini.demos.vanishing --help``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from autograd_mini.demos._common import (
    add_output_arguments,
    demo_parser,
    ensure_output_folder,
    matplotlib_installed,
    parse_finite,
    save_figure,
)
from autograd_mini.engine import Value, grad

__all__ = ["ACTIVATIONS", "DepthRow", "chain_gradient", "main", "measure"]

ACTIVATIONS = ("sigmoid", "relu")


def chain_gradient(
    depth: int, activation: str, x: float = 0.5, w: float = 1.0, b: float = 0.0
) -> float:
    """∂out/∂x through ``depth`` neurons h ← act(w·h + b), measured with the engine."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, got {depth!r}")
    x_leaf = Value(x, label="x")
    h = x_leaf
    for _ in range(depth):
        z = w * h + b
        h = z.sigmoid() if activation == "sigmoid" else z.relu()
    (g,) = grad(h, [x_leaf])
    return g.data


@dataclass(frozen=True)
class DepthRow:
    """One row of the table: |∂out/∂x| for both chains at ``depth``, and the sigmoid bound."""

    depth: int
    sigmoid: float
    relu: float
    bound: float


def measure(
    depths: Sequence[int], x: float = 0.5, w: float = 1.0, b: float = 0.0
) -> list[DepthRow]:
    """|∂out/∂x| for sigmoid and ReLU chains at each depth, with the bound (|w|/4)^depth."""
    return [
        DepthRow(
            d,
            abs(chain_gradient(d, "sigmoid", x, w, b)),
            abs(chain_gradient(d, "relu", x, w, b)),
            (abs(w) / 4.0) ** d,
        )
        for d in depths
    ]


def _table(rows: Sequence[DepthRow], w: float) -> list[str]:
    bound_name = "(|w|/4)^L" if w != 1.0 else "(1/4)^L"
    lines = [f"{'depth L':>7}  {'sigmoid |∂out/∂x|':>18}  {bound_name:>12}  {'relu |∂out/∂x|':>15}"]
    for r in rows:
        lines.append(f"{r.depth:>7}  {r.sigmoid:>18.3e}  {r.bound:>12.3e}  {r.relu:>15.3e}")
    return lines


def _plot(rows: Sequence[DepthRow], path: str, w: float, b: float, x: float) -> None:
    """Draw |∂out/∂x| against depth on a log scale (matplotlib's object API, no pyplot state)."""
    from matplotlib.figure import Figure

    depths = [r.depth for r in rows]
    fig = Figure(figsize=(7, 4.5), dpi=110)
    ax = fig.subplots()
    ax.semilogy(
        depths, [r.sigmoid for r in rows], "o-", ms=3, color="#dc2626", label="sigmoid chain"
    )
    ax.semilogy(depths, [r.relu for r in rows], "s-", ms=3, color="#2563eb", label="ReLU chain")
    ax.semilogy(depths, [r.bound for r in rows], "--", color="#6b7280", label="bound (|w|/4)^L")
    ax.set_xlabel("depth L (neurons in the chain)")
    ax.set_ylabel("|∂out/∂x|")
    ax.set_title(f"Vanishing gradient: h ← act({w:g}·h + {b:g}), x = {x:g}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path)


def _depth_list(text: str) -> list[int]:
    try:
        depths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"depths must be integers, got {text!r}") from None
    if not depths or min(depths) < 1 or max(depths) > 2000:
        raise argparse.ArgumentTypeError(f"depths must be between 1 and 2000, got {text!r}")
    return sorted(set(depths))


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = demo_parser(
        "vanishing",
        "Measure |∂out/∂x| through deep chains of sigmoid and ReLU neurons: the "
        "sigmoid gradient shrinks like (1/4)^depth, the ReLU gradient does not.",
        prog,
    )
    p.add_argument(
        "--depths",
        type=_depth_list,
        default=[1, 2, 3, 5, 10, 15, 20, 30, 40, 50],
        help="comma-separated depths for the table (1,2,3,5,10,15,20,30,40,50)",
    )
    p.add_argument("--x", type=float, default=0.5, help="input (0.5)")
    p.add_argument("--w", type=float, default=1.0, help="weight of every neuron (1.0)")
    p.add_argument("--b", type=float, default=0.0, help="bias of every neuron (0.0)")
    add_output_arguments(p, "vanishing", "the picture", aliases=())
    return p


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Command-line entry point (``python -m autograd_mini.demos.vanishing``; ``prog`` names it
    in ``--help``)."""
    parser = _parser(prog)
    args = parse_finite(parser, argv, ("x", "w", "b"))
    plots = not args.no_plots and matplotlib_installed()
    if plots:  # the folder only when something will be written into it
        ensure_output_folder(parser, args.out)
    rows = measure(args.depths, args.x, args.w, args.b)
    print(
        f"A chain of L neurons h ← act(w·h + b) with w = {args.w:g}, b = {args.b:g}, from x = "
        f"{args.x:g}.\n∂out/∂x = Π w·act'(z): σ' ≤ 1/4 per layer, relu' = 1 where active.\n"
    )
    print("\n".join(_table(rows, args.w)))
    deepest = rows[-1]
    print(
        f"\nat depth {deepest.depth} the sigmoid chain passes back {deepest.sigmoid:.1e} of the "
        f"gradient, the ReLU chain {deepest.relu:.1e}"
    )
    if plots:
        os.makedirs(args.out, exist_ok=True)
        all_depths = list(range(1, max(args.depths) + 1))
        path = os.path.join(args.out, "vanishing.png")
        _plot(measure(all_depths, args.x, args.w, args.b), path, args.w, args.b, args.x)
        print(f"wrote {os.path.abspath(path)}")
    elif not args.no_plots:
        print(
            "note: matplotlib is not installed, so there is no plot (the table above is the "
            "result); install it with: pip install 'autograd_mini[demo]'",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
