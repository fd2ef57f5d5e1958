"""Forward mode: Jacobian-vector products from the same rule table as reverse mode.

For a scalar op ``out = op(x₁, …, xₖ)`` the tangent of the output is

    ṫ(out) = Σᵢ ∂out/∂xᵢ · ṫ(xᵢ)

and the local partials ∂out/∂xᵢ are what the op's VJP returns for g = 1, so forward mode needs
no second copy of the calculus.  ``jvp`` records ``f`` once and pushes tangents through the graph
inputs first.  Nodes that depend on no input carry no tangent at all (not 0.0), so a constant's
rule is never evaluated: ``x ** 2`` at x < 0 has ∂/∂(exponent) = NaN, which must not leak in as
NaN · 0.  ``f`` may itself call ``grad(..., create_graph=True)``: that gradient's graph is pushed
through like any other, which is forward-over-reverse (``hvp``).

Transformations nest.  While a transformation (``jvp``, ``jacobian``, ``hessian``, ``hvp``)
calls its ``f``, a transformation called inside ``f`` returns Values instead of floats: its
leaves are connected to the Values it was given (``x * 1.0``, a new node per input, so one Value
passed twice is still two inputs) and its tangents are computed with the rules on Values, so the
outer transformation differentiates through it (``jvp`` of ``jvp`` is the second directional
derivative, as with ``torch.func.jvp``).  At the top level the results are plain floats.

>>> from autograd_mini import jvp
>>> jvp(lambda x, y: x * y + x.sin(), [0.0, 3.0], [1.0, 0.0])  # ∂/∂x = y + cos x = 4
(0.0, 4.0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, TypeAlias, overload

from autograd_mini.engine import Value, enable_grad, topological_order
from autograd_mini.registry import as_float as _as_float, is_real

__all__ = ["jvp"]

Number: TypeAlias = "float | int"
Inputs: TypeAlias = "Value | Number | Sequence[Value | Number]"

# How many transformations are calling their ``f`` right now (per thread / asyncio task).  When
# it is above 0, a transformation called from inside ``f`` must return Values connected to its
# inputs: floats would cut the graph, and the outer derivative would silently be 0.
_DEPTH: ContextVar[int] = ContextVar("autograd_mini_transform_depth", default=0)


def nested() -> bool:
    """Whether this call runs inside another transformation's ``f`` (then results are Values)."""
    return _DEPTH.get() > 0


def operands(inputs: object, who: str, what: str) -> list[Value | float]:
    """``inputs`` (one number or Value, or a sequence of them) as a list of floats (a Value: its
    data, except when :func:`nested`: then it stays connected to the outer graph).  TypeError
    naming ``who`` and ``what`` for anything else."""
    if isinstance(inputs, Value):
        items: list[Value | float] = [inputs]
    elif isinstance(inputs, (str, bytes, dict, set, frozenset)) or not isinstance(inputs, Iterable):
        try:
            return [_as_float(inputs, f"{who}: {what}")]
        except TypeError:
            raise TypeError(
                f"{who}: {what} must be a number or a sequence of numbers, got "
                f"{type(inputs).__name__}: {inputs!r}"
            ) from None
    else:
        items = [
            x if isinstance(x, Value) else _as_float(x, f"{who}: {what}[{i}]")
            for i, x in enumerate(inputs)
        ]
    return items if nested() else [x.data if isinstance(x, Value) else x for x in items]


def call(
    f: object, xs: Sequence[Value | float], who: str, *, scalar: bool = False
) -> tuple[list[Value], list[Value], bool]:
    """Leaves for ``xs``, the results of ``f(*leaves)`` (recorded even inside ``no_grad``) as a
    list of Values (a number becomes a constant), and whether ``f`` returned a list (refused if
    ``scalar``).  A Value x (when :func:`nested`) gives the leaf ``x * 1.0``: a node of its own
    to seed, still connected to x (one that needs no gradient: a constant for the outer
    transformation, so a fresh leaf)."""
    if not callable(f):
        raise TypeError(f"{who}: f must be callable, got {type(f).__name__}: {f!r}")
    with enable_grad():
        leaves = [
            x * 1.0 if isinstance(x, Value) and x.requires_grad else Value(float(x)) for x in xs
        ]
        token = _DEPTH.set(_DEPTH.get() + 1)
        try:
            out = f(*leaves)
        finally:
            _DEPTH.reset(token)
    many = isinstance(out, (list, tuple))
    if many and scalar:
        raise ValueError(
            f"{who}: f must return one Value (a scalar function), got a {type(out).__name__} "
            f"of {len(out)}"
        )
    roots = list(out) if many else [out]
    for i, y in enumerate(roots):
        if not isinstance(y, Value):
            where = f"f's result[{i}]" if many else "f's result"
            if not is_real(y):
                raise TypeError(
                    f"{who}: f must return a Value or a list of Values, got "
                    f"{type(y).__name__}: {y!r}" + (f" at index {i}" if many else "")
                )
            roots[i] = Value(_as_float(y, f"{who}: {where}"), requires_grad=False)
    return leaves, roots, many


def push_tangents(roots: Sequence[Value], seeds: Mapping[Value, Any]) -> list[Any]:
    """The tangent of each root given the tangents of some nodes (``seeds``, kept even for nodes
    computed from others); 0.0 for roots that depend on none.  When :func:`nested`, the rules
    run on the Values, so the tangents are recorded Values that can be differentiated again."""
    values = nested()
    tangent: dict[Value, Any] = dict(seeds)
    with enable_grad():
        for node in topological_order(list(roots)):
            op = node._op
            if op is None or node in seeds:
                continue
            parents = node._parents
            incoming = [tangent.get(p) for p in parents]
            needs = [t is not None for t in incoming]  # a partial only where a tangent flows
            if not any(needs):
                continue  # depends on no seeded leaf: no tangent, rule not evaluated
            args = (node, *parents) if values else (node.data, *(p.data for p in parents))
            partials = op.vjp(1.0, *args, needs=needs)
            terms = [d * t for d, t in zip(partials, incoming, strict=True) if t is not None]
            tangent[node] = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    dots = [tangent.get(r, 0.0) for r in roots]
    return [d if isinstance(d, Value) else Value(d) for d in dots] if values else dots


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
    be given bare.  Inside another transformation's ``f`` the results are recorded Values (see
    :mod:`autograd_mini.forward`); outside, ``backward``/``grad``/``trace`` see them as
    constants: to differentiate a jvp, wrap it in a transformation
    (``jacobian(lambda x: jvp(f, [x], [1.0])[1], [3.0])``).
    """
    xs = operands(primals, "jvp", "primals")
    ts = operands(tangents, "jvp", "tangents")
    if len(xs) != len(ts):
        raise ValueError(
            f"jvp: primals and tangents must have the same length, got {len(xs)} and {len(ts)}"
        )
    leaves, roots, many = call(f, xs, "jvp")
    dots = push_tangents(roots, dict(zip(leaves, ts, strict=True)))
    values = roots if nested() else [r.data for r in roots]
    return (values, dots) if many else (values[0], dots[0])
