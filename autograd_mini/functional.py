"""Jacobians, Hessians and Hessian-vector products of functions of a few scalars, as lists of
floats (the values ``torch.autograd.functional`` gives in float64).

``f`` is always called as ``f(*values)`` with one fresh leaf Value per input; ``inputs`` are
numbers (or Values: only their data is used), a single number may be given bare.  Inside another
transformation's ``f`` the entries are recorded Values instead of floats (see
:mod:`autograd_mini.forward`), so that one can differentiate through them.

>>> from autograd_mini import hessian, hvp, jacobian
>>> jacobian(lambda x, y: [x * y, x + y], [2.0, 3.0])
[[3.0, 2.0], [1.0, 1.0]]
>>> hessian(lambda x, y: x * x * y, [2.0, 3.0])  # [[2y, 2x], [2x, 0]]
[[6.0, 4.0], [4.0, 0.0]]
>>> hvp(lambda x, y: x * x * y, [2.0, 3.0], [1.0, 1.0])
[10.0, 4.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd_mini.engine import Value, grad
from autograd_mini.forward import Inputs, call, nested, operands, push_tangents

__all__ = ["hessian", "hvp", "jacobian"]


def _row(root: Value, leaves: list[Value]) -> list[Any]:
    """∂root/∂leaf for every leaf (reverse mode): floats, or recorded Values when nested."""
    inner = nested()
    grads = grad(root, leaves, create_graph=inner)
    return grads if inner else [g.data for g in grads]


def jacobian(
    f: Callable[..., Any], inputs: Inputs, *, strategy: str = "reverse-mode"
) -> list[list[float]]:
    """The Jacobian ``J[i][j] = ∂fᵢ/∂xⱼ`` at ``inputs``: one row per output of ``f`` (a scalar
    ``f`` gives one row), one column per input.

    ``strategy`` as in ``torch.autograd.functional.jacobian``: ``"reverse-mode"`` (one backward
    pass per output) or ``"forward-mode"`` (one :func:`~autograd_mini.jvp` sweep per input,
    cheaper when there are more outputs than inputs).  The same numbers up to rounding.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(
            f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}"
        )
    leaves, roots, _ = call(f, operands(inputs, "jacobian", "inputs"), "jacobian")
    if strategy == "reverse-mode":
        return [_row(r, leaves) for r in roots]
    columns = [
        push_tangents(roots, {leaf: 1.0 if k == j else 0.0 for k, leaf in enumerate(leaves)})
        for j in range(len(leaves))
    ]
    return [[column[i] for column in columns] for i in range(len(roots))]


def hessian(f: Callable[..., Any], inputs: Inputs) -> list[list[float]]:
    """The Hessian ``H[i][j] = ∂²f/∂xᵢ∂xⱼ`` of the scalar ``f`` at ``inputs``, as
    ``torch.autograd.functional.hessian``: reverse-over-reverse, row i the gradient of ∂f/∂xᵢ
    recorded with ``grad(create_graph=True)``.  The two halves can differ in the last bit (other
    paths), so H is symmetrised, (H + Hᵀ)/2: ``H[i][j] == H[j][i]`` exactly.
    """
    xs = operands(inputs, "hessian", "inputs")
    leaves, (root,), _ = call(f, xs, "hessian", scalar=True)
    rows = [_row(g, leaves) for g in grad(root, leaves, create_graph=True)]
    n = len(leaves)
    return [[_mean(rows[i][j], rows[j][i]) for j in range(n)] for i in range(n)]


def _mean(a: Any, b: Any) -> Any:
    """(a + b)/2 without overflow, and exactly a where the two halves agree."""
    if not isinstance(a, Value) and a == b:
        return a
    return a * 0.5 + b * 0.5


def hvp(f: Callable[..., Any], inputs: Inputs, v: Inputs) -> list[float]:
    """The Hessian-vector product H·v of the scalar ``f`` at ``inputs`` (like the second result
    of ``torch.autograd.functional.hvp``): the directional derivative of ∇f along ``v``,
    forward mode over the recorded reverse-mode gradient, so no n×n matrix is built."""
    vs = operands(v, "hvp", "v")
    xs = operands(inputs, "hvp", "inputs")  # read once: `inputs` may be an iterator
    if len(vs) != len(xs):
        raise ValueError(f"hvp: v must have one entry per input ({len(xs)}), got {len(vs)}")
    leaves, (root,), _ = call(f, xs, "hvp", scalar=True)
    grads = grad(root, leaves, create_graph=True)
    return push_tangents(grads, dict(zip(leaves, vs, strict=True)))
