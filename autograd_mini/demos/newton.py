"""Gradient descent against Newton's method on the Rosenbrock function

    f(x, y) = (a − x)² + b·(y − x²)²,   minimum f = 0 at (a, a²)   (a = 1, b = 100),

a long curved valley: the gradient points across the valley, so gradient descent
x ← x − η·∇f needs a small η and crawls along the valley floor for thousands of steps.
Newton's method uses the curvature too: it solves H·d = −∇f with the Hessian H
(:func:`autograd_mini.hessian`) and steps to the minimum of the local quadratic model, which
takes a handful of steps (here with backtracking: the step is halved until f decreases).

The demo prints the steps each method needs to bring |∇f| below ``--tol`` and, with
matplotlib, draws both paths on the contour plot of f to ``newton.png`` in the output folder
(default ``out/newton``).  Run ``python -m autograd_mini.demos.newton --help``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from autograd_mini.demos._common import (
    add_output_arguments,
    demo_parser,
    ensure_output_folder,
    matplotlib_installed,
    parse_finite,
    positive_int,
    save_figure,
)
from autograd_mini.engine import Value, grad
from autograd_mini.functional import hessian

__all__ = ["Path", "gradient_descent", "main", "newton", "rosenbrock"]

A, B = 1.0, 100.0


def rosenbrock(x: Value, y: Value) -> Value:
    """(a − x)² + b·(y − x²)² on Values."""
    return (A - x) ** 2 + B * (y - x * x) ** 2


def _value_and_grad(p: tuple[float, float]) -> tuple[float, list[float]]:
    x, y = Value(p[0]), Value(p[1])
    f = rosenbrock(x, y)
    return f.data, [g.data for g in grad(f, [x, y])]


def _finite_value_and_grad(p: tuple[float, float]) -> tuple[float, list[float]] | None:
    """f and ∇f at p, or None where they overflow a float (a diverging method gets there)."""
    try:
        value, g = _value_and_grad(p)
    except OverflowError:
        return None
    return (value, g) if all(math.isfinite(v) for v in (value, *g)) else None


@dataclass
class Path:
    """The points a method visited (the start first), whether |∇f| < tol at the last, and
    whether it stopped because the next point overflows a float (then the last is finite)."""

    method: str
    points: list[tuple[float, float]] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    converged: bool = False
    diverged: bool = False

    @property
    def steps(self) -> int:
        return len(self.points) - 1


Point = tuple[float, float]


def gradient_descent(
    start: tuple[float, float], lr: float = 1e-3, tol: float = 1e-6, max_steps: int = 50_000
) -> Path:
    """x ← x − lr·∇f until |∇f| < tol or ``max_steps`` steps (or f overflows: diverged)."""

    def step(p: Point, value: float, g: Sequence[float]) -> Point:
        return (p[0] - lr * g[0], p[1] - lr * g[1])

    return _descend(Path("gradient descent"), start, step, tol, max_steps)


def newton(start: tuple[float, float], tol: float = 1e-6, max_steps: int = 100) -> Path:
    """x ← x + t·d with H·d = −∇f (H from :func:`hessian`), t halved until f decreases."""

    def step(p: Point, value: float, g: Sequence[float]) -> Point:
        (h11, h12), (h21, h22) = hessian(rosenbrock, list(p))
        det = h11 * h22 - h12 * h21
        if det == 0.0:
            d = (-g[0], -g[1])  # no curvature information: a gradient step
        else:  # Cramer's rule for the 2×2 system H·d = −g
            d = ((-g[0] * h22 + g[1] * h12) / det, (-g[1] * h11 + g[0] * h21) / det)
        t = 1.0
        while True:
            q = (p[0] + t * d[0], p[1] + t * d[1])
            there = _finite_value_and_grad(q)  # None: overflow, so not a decrease
            if (there is not None and there[0] < value) or t < 1e-10:
                return q
            t /= 2.0

    return _descend(Path("Newton"), start, step, tol, max_steps)


def _descend(
    path: Path,
    start: Point,
    step: Callable[[Point, float, Sequence[float]], Point],
    tol: float,
    max_steps: int,
) -> Path:
    """The loop both methods share: record each point, stop when |∇f| < tol (converged), after
    ``max_steps`` steps, or when f overflows (diverged); else move to ``step(p, f(p), ∇f(p))``."""
    p = start
    for _ in range(max_steps + 1):
        here = _finite_value_and_grad(p)
        if here is None:
            path.diverged = True
            break
        value, g = here
        path.points.append(p)
        path.values.append(value)
        if math.hypot(*g) < tol:
            path.converged = True
            break
        if len(path.points) > max_steps:
            break
        p = step(p, value, g)
    return path


def _plot(paths: Sequence[Path], path: str) -> None:
    """Contours of log(1 + f) with both paths (matplotlib's object API, no pyplot state)."""
    from matplotlib.figure import Figure

    xs = [-2.0 + 4.0 * i / 199 for i in range(200)]
    ys = [-1.0 + 4.0 * j / 199 for j in range(200)]
    z = [[math.log1p((A - x) ** 2 + B * (y - x * x) ** 2) for x in xs] for y in ys]
    fig = Figure(figsize=(7, 6), dpi=100)
    ax = fig.subplots()
    ax.contour(xs, ys, z, levels=25, cmap="viridis", linewidths=0.7)
    styles = {"gradient descent": ("#dc2626", "."), "Newton": ("#2563eb", "o")}
    for p in paths:
        color, marker = styles[p.method]
        every = max(1, len(p.points) // 400)  # thousands of descent steps: draw a sample
        pts = [*p.points[::every], p.points[-1]]
        ax.plot(
            [q[0] for q in pts],
            [q[1] for q in pts],
            marker=marker,
            ms=3,
            color=color,
            lw=1,
            label=f"{p.method}: {p.steps} steps" + ("" if p.converged else " (not converged)"),
        )
    ax.plot([A], [A * A], "k*", ms=12, label=f"minimum ({A:g}, {A * A:g})")
    ax.set_xlim(-2, 2)
    ax.set_ylim(-1, 3)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Rosenbrock (1 − x)² + 100(y − x²)²: contours of log(1 + f)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = demo_parser(
        "newton",
        "Gradient descent against Newton's method (with hessian) on the Rosenbrock function; "
        "both paths on its contour plot.",
        prog,
    )
    p.add_argument("--x0", type=float, default=-1.2, help="start x (-1.2)")
    p.add_argument("--y0", type=float, default=1.0, help="start y (1.0)")
    p.add_argument("--lr", type=float, default=1e-3, help="gradient-descent step size (0.001)")
    p.add_argument("--tol", type=float, default=1e-6, help="stop when |∇f| < tol (1e-6)")
    p.add_argument(
        "--max-steps", type=positive_int, default=50_000, help="steps per method at most (50000)"
    )
    add_output_arguments(p, "newton", "the picture", aliases=())
    return p


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Command-line entry point (``python -m autograd_mini.demos.newton``; ``prog`` names it in
    ``--help``)."""
    parser = _parser(prog)
    args = parse_finite(parser, argv, ("x0", "y0", "lr", "tol"))
    if not args.lr > 0.0 or not args.tol > 0.0:
        parser.error("--lr and --tol must be > 0")
    start = (args.x0, args.y0)
    if _finite_value_and_grad(start) is None:
        parser.error(
            f"f overflows a float at the start ({args.x0:g}, {args.y0:g}): choose --x0 and "
            "--y0 nearer the minimum (1, 1)"
        )
    plots = not args.no_plots and matplotlib_installed()
    if plots:  # the folder only when something will be written into it
        ensure_output_folder(parser, args.out)
    paths = [
        gradient_descent(start, args.lr, args.tol, args.max_steps),
        newton(start, args.tol, args.max_steps),
    ]
    print(f"Rosenbrock f = ({A:g} − x)² + {B:g}(y − x²)² from ({args.x0:g}, {args.y0:g}); "
          f"minimum 0 at ({A:g}, {A * A:g}); stop when |∇f| < {args.tol:g}\n")  # fmt: skip
    for p in paths:
        end = p.points[-1]
        status = f"converged in {p.steps} steps" if p.converged else (
            f"diverged (overflow) after {p.steps} steps" if p.diverged else
            f"did not converge in {p.steps} steps")  # fmt: skip
        print(
            f"{p.method:>16}: {status}; ends at ({end[0]:.6f}, {end[1]:.6f}), "
            f"f = {p.values[-1]:.3e}"
        )
    if plots:
        out = os.path.join(args.out, "newton.png")
        _plot(paths, out)
        print(f"wrote {os.path.abspath(out)}")
    elif not args.no_plots:
        print(
            "note: matplotlib is not installed, so there is no plot; install it with: "
            "pip install 'autograd_mini[demo]'",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
