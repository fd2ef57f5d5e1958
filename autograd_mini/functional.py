"""Jacobians, Hessians and Hessian-vector products of functions of a few scalars, as lists of
floats (the values ``torch.autograd.functional`` gives in float64).

``f`` is always called as ``f(*values)`` with one fresh leaf Value per input; ``inputs`` are
numbers (or Values: only their data is used), a single number may be given bare.

* ``jacobian(f, inputs)[i][j] = ∂fᵢ/∂xⱼ``: reverse mode, one pass per output (or forward mode,
  one pass per input, with ``strategy="forward-mode"``).
* ``hessian(f, inputs)[i][j] = ∂²f/∂xᵢ∂xⱼ``: reverse-over-reverse, the Jacobian of the gradient
  recorded with ``grad(create_graph=True)``.
* ``hvp(f, inputs, v) = H·v``: forward-over-reverse, the directional derivative of that recorded
  gradient along v: one backward and one forward pass, no n×n matrix.

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
from typing import Any, cast

from autograd_mini.engine import Value, grad
from autograd_mini.forward import (
    Inputs,
    as_value,
    call,
    nested,
    operands,
    outputs,
    push_tangents,
)

__all__ = ["hessian", "hvp", "jacobian"]

_STRATEGIES = ("reverse-mode", "forward-mode")


def _row(root: Value | float, leaves: list[Value], *, inner: bool = False) -> list[Any]:
    """∂root/∂leaf for every leaf (reverse mode); zeros for a constant.  ``inner``: inside
    another transformation, recorded Values (``create_graph``) instead of floats."""
    if not isinstance(root, Value):
        return [as_value(0.0) if inner else 0.0] * len(leaves)
    if inner:
        return grad(root, leaves, create_graph=True)
    return [g.data for g in grad(root, leaves)]


def jacobian(
    f: Callable[..., Any], inputs: Inputs, *, strategy: str = "reverse-mode"
) -> list[list[float]]:
    """The Jacobian ``J[i][j] = ∂fᵢ/∂xⱼ`` at ``inputs``: one row per output of ``f`` (a scalar
    ``f`` gives one row), one column per input.

    ``strategy`` as in ``torch.autograd.functional.jacobian``: ``"reverse-mode"`` (one backward
    pass per output) or ``"forward-mode"`` (one :func:`~autograd_mini.jvp` sweep per input,
    cheaper when there are more outputs than inputs).  The same numbers up to rounding.
    Inside another transformation's ``f`` the entries are recorded Values (see
    :mod:`autograd_mini.forward`), so that one can differentiate through them.
    """
    if strategy not in _STRATEGIES:
        raise ValueError(
            f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}"
        )
    inner = nested()
    xs = operands(inputs, "jacobian", "inputs")
    leaves, out = call(f, xs, "jacobian")
    roots, _ = outputs(out, "jacobian")
    if strategy == "reverse-mode":
        return [_row(r, leaves, inner=inner) for r in roots]
    columns = [
        push_tangents(
            roots, {leaf: 1.0 if k == j else 0.0 for k, leaf in enumerate(leaves)}, values=inner
        )
        for j in range(len(leaves))
    ]
    entry: Callable[[Any], Any] = as_value if inner else float
    return [[entry(columns[j][i]) for j in range(len(leaves))] for i in range(len(roots))]


def _scalar(f: Callable[..., Any], inputs: Inputs, who: str) -> tuple[list[Value], list[Any]]:
    """Leaves and the gradient of the scalar ``f`` at ``inputs``, recorded (create_graph)."""
    xs = operands(inputs, who, "inputs")
    leaves, out = call(f, xs, who)
    roots, many = outputs(out, who)
    if many:
        raise ValueError(
            f"{who}: f must return one Value (a scalar function), got a {type(out).__name__} "
            f"of {len(roots)}"
        )
    root = roots[0]
    if not isinstance(root, Value):
        return leaves, [0.0] * len(leaves)
    return leaves, list(grad(root, leaves, create_graph=True))


def hessian(f: Callable[..., Any], inputs: Inputs) -> list[list[float]]:
    """The Hessian ``H[i][j] = ∂²f/∂xᵢ∂xⱼ`` of the scalar ``f`` at ``inputs``.

    Row i is the gradient of ∂f/∂xᵢ (recorded with ``grad(create_graph=True)``), as in
    ``torch.autograd.functional.hessian``.  The two halves are computed along different paths,
    so they can differ in the last bit; the result is symmetrised, H = (H + Hᵀ)/2, so that
    ``H[i][j] == H[j][i]`` exactly.  Inside another transformation's ``f`` the entries are
    recorded Values.
    """
    inner = nested()
    leaves, grads = _scalar(f, inputs, "hessian")
    rows = [_row(g, leaves, inner=inner) for g in grads]
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
    forward mode over the recorded reverse-mode gradient.  Inside another transformation's
    ``f`` the entries are recorded Values."""
    inner = nested()
    vs = operands(v, "hvp", "v")
    xs = operands(inputs, "hvp", "inputs")  # read once: `inputs` may be an iterator
    n = len(xs)
    if len(vs) != n:
        raise ValueError(f"hvp: v must have one entry per input ({n}), got {len(vs)}")
    leaves, grads = _scalar(f, xs, "hvp")
    dots = push_tangents(grads, dict(zip(leaves, vs, strict=True)), values=inner)
    # Values only inside another transformation (see jacobian); typed for the top level
    return cast("list[float]", [as_value(d) for d in dots]) if inner else dots
