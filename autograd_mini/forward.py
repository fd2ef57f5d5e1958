"""Forward mode: Jacobian-vector products from the same rule table as reverse mode.

For a scalar op ``out = op(x₁, …, xₖ)`` the tangent of the output is

    ṫ(out) = Σᵢ ∂out/∂xᵢ · ṫ(xᵢ)

and the local partials ∂out/∂xᵢ are what the op's VJP returns for g = 1
(``op.vjp(1.0, out, x₁, …)``), so forward mode needs no second copy of the calculus.  ``jvp``
records the function once and pushes tangents through the graph in topological order (inputs
first).  Nodes that depend on no input carry no tangent at all (not 0.0), so a constant's rule
is never evaluated: ``x ** 2`` at x < 0 has ∂/∂(exponent) = NaN, which must not leak in as
NaN · 0.

Because the recorded graph is whatever ``f`` built, ``f`` may itself call
``grad(..., create_graph=True)``: the gradient's graph is pushed through like any other, which
is forward-over-reverse (``hvp`` in :mod:`autograd_mini.functional` is exactly that).

>>> from autograd_mini import jvp
>>> jvp(lambda x, y: x * y + x.sin(), [0.0, 3.0], [1.0, 0.0])  # ∂/∂x = y + cos x = 4
(0.0, 4.0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeAlias, overload

from autograd_mini.engine import Value, _as_float, enable_grad, topological_order

__all__ = ["jvp"]

Number: TypeAlias = "float | int"
Inputs: TypeAlias = "Value | Number | Sequence[Value | Number]"


def floats(inputs: object, who: str, what: str) -> list[float]:
    """``inputs`` (one number or Value, or a sequence of them) as a list of floats; a TypeError
    naming ``who`` and ``what`` otherwise."""
    if isinstance(inputs, Value):
        return [inputs.data]
    if isinstance(inputs, (str, bytes, dict, set, frozenset)) or not isinstance(inputs, Iterable):
        try:
            return [_as_float(inputs, f"{who}: {what}")]
        except TypeError:
            raise TypeError(
                f"{who}: {what} must be a number or a sequence of numbers, got "
                f"{type(inputs).__name__}: {inputs!r}"
            ) from None
    out = []
    for i, x in enumerate(inputs):
        out.append(x.data if isinstance(x, Value) else _as_float(x, f"{who}: {what}[{i}]"))
    return out


def call(f: object, xs: Sequence[float], who: str) -> tuple[list[Value], Any]:
    """Fresh leaves for ``xs`` and ``f(*leaves)``, recorded even inside ``no_grad``."""
    if not callable(f):
        raise TypeError(f"{who}: f must be callable, got {type(f).__name__}: {f!r}")
    leaves = [Value(x) for x in xs]
    with enable_grad():
        out = f(*leaves)
    return leaves, out


def outputs(out: object, who: str) -> tuple[list[Value | float], bool]:
    """``f``'s result as a list (a plain number counts as a constant) and whether it was one."""
    if isinstance(out, (list, tuple)):
        items = list(out)
        many = True
    else:
        items, many = [out], False
    result: list[Value | float] = []
    for i, y in enumerate(items):
        if isinstance(y, Value):
            result.append(y)
        else:
            where = f"f's result[{i}]" if many else "f's result"
            try:
                result.append(_as_float(y, f"{who}: {where}"))
            except TypeError:
                raise TypeError(
                    f"{who}: f must return a Value or a list of Values, got "
                    f"{type(y).__name__}: {y!r}" + (f" at index {i}" if many else "")
                ) from None
    return result, many


def push_tangents(roots: Sequence[Value | float], seeds: Mapping[Value, float]) -> list[float]:
    """The tangent of each root given the tangents of some leaves (``seeds``); 0.0 for roots
    that depend on none of them.  One pass over the graph, inputs first, no recursion."""
    tangent: dict[Value, float] = dict(seeds)
    done: set[Value] = set()
    for root in roots:
        if not isinstance(root, Value):
            continue
        for node in topological_order(root):
            if node in done:
                continue
            done.add(node)
            op = node._op
            if op is None:
                continue
            parents = node._parents
            incoming = [tangent.get(p) for p in parents]
            if all(t is None for t in incoming):
                continue  # depends on no seeded leaf: no tangent, rule not evaluated
            partials = op.vjp(1.0, node.data, *[p.data for p in parents])
            total = 0.0
            first = True
            for t, d in zip(incoming, partials, strict=True):
                if t is not None:
                    term = d * t
                    total = term if first else total + term
                    first = False
            tangent[node] = total
    return [tangent.get(r, 0.0) if isinstance(r, Value) else 0.0 for r in roots]


@overload
def jvp(
    f: Callable[..., Value | float], primals: Inputs, tangents: Inputs
) -> tuple[float, float]: ...
@overload
def jvp(
    f: Callable[..., Sequence[Value | float]], primals: Inputs, tangents: Inputs
) -> tuple[list[float], list[float]]: ...
def jvp(f: Callable[..., Any], primals: Inputs, tangents: Inputs) -> tuple[Any, Any]:
    """``(f(x), J_f(x)·t)``: the value of ``f`` at ``primals`` and its directional derivative
    along ``tangents`` (forward mode), like ``torch.func.jvp`` and ``jax.jvp``.

    ``f`` is called as ``f(*values)`` with one leaf Value per primal and returns a Value (then
    both results are floats) or a list of Values (then both are lists of floats).  ``primals``
    and ``tangents`` are numbers (or Values: their data) of the same length; a single number may
    be given bare.  Derivative conventions at kinks are those of ``backward`` (PyTorch's).
    The results are plain floats: ``jvp`` itself is not recorded, but ``f`` may use ``grad``
    with ``create_graph=True`` inside (forward-over-reverse).
    """
    xs = floats(primals, "jvp", "primals")
    ts = floats(tangents, "jvp", "tangents")
    if len(xs) != len(ts):
        raise ValueError(
            f"jvp: primals and tangents must have the same length, got {len(xs)} and {len(ts)}"
        )
    leaves, out = call(f, xs, "jvp")
    roots, many = outputs(out, "jvp")
    dots = push_tangents(roots, dict(zip(leaves, ts, strict=True)))
    values = [r.data if isinstance(r, Value) else r for r in roots]
    if many:
        return values, dots
    return values[0], dots[0]
