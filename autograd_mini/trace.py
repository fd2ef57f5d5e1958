"""Trace once, run fast: record a scalar graph once and compile it to straight-line code.

``trace(f, n_inputs)`` calls ``f`` once on placeholder :class:`~autograd_mini.engine.Value`\\ s
and records what it builds as a :class:`~autograd_mini.program.Program` of the registry's
primitives; its gradient program comes from one reverse-mode transform (each primitive's rule
inlined), and each backend lowers these programs through its table of primitives: Python
source (compiled once with ``compile()``: tens of nanoseconds per operation instead of a Python
object), NumPy and JAX for batches (see :mod:`autograd_mini.compile`).

>>> from autograd_mini import trace
>>> @trace(n_inputs=2)
... def f(x, y):
...     return (x * y + 1.0).tanh()
>>> round(f.forward([0.5, 2.0]), 12)          # tanh(0.5·2 + 1)
0.964027580076
>>> value, (dx, dy) = f.value_and_grad([0.5, 2.0])
>>> round(dx, 12), round(dy, 12)              # y·(1 − tanh²), x·(1 − tanh²)
(0.141301649706, 0.035325412427)

Like ``jax.jit``, tracing specialises on the path Python control flow took with the placeholder
values.  Comparisons of Values (``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=``, also inside
``max``/``min``, and ``bool(v)``) are recorded and re-checked on every call: a call that would
take another branch raises :class:`TraceGuardError` instead of silently computing the wrong
function.  Reads of ``v.data`` or ``float(v)`` cannot be seen, and ``no_grad()``/``detach()``
inside ``f`` bake the traced value in as a constant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, overload

from autograd_mini.compile.traced import (
    BatchResult,
    InputCountError,
    Traced,
    TraceGuardError,
    Wrt,
)
from autograd_mini.engine import Value
from autograd_mini.program import Program, UnsupportedOpError
from autograd_mini.registry import _count_params

__all__ = [
    "BatchResult",
    "InputCountError",
    "Program",
    "TraceGuardError",
    "Traced",
    "UnsupportedOpError",
    "Wrt",
    "trace",
]


MAX_NODES = 100_000
"""The default limit on a traced graph's size (see :func:`trace`)."""


class HasParameters(Protocol):
    """Anything with ``parameters()``, such as an :class:`autograd_mini.nn.Module`."""

    def parameters(self) -> list[Value]: ...


def _check_count(n_inputs: object) -> int:
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, int):
        raise TypeError(f"trace: n_inputs must be an int, got {type(n_inputs).__name__}")
    if n_inputs < 0:
        raise ValueError(f"trace: n_inputs must be >= 0, got {n_inputs}")
    return n_inputs


def _count_from_signature(f: Callable[..., Any]) -> int:
    try:
        return _count_params(f)
    except (TypeError, ValueError) as e:
        raise TypeError(f"trace: give n_inputs ({e})") from None


@overload
def trace(
    f: Callable[..., Any],
    n_inputs: int | None = None,
    *,
    params: Sequence[Value] | HasParameters = (),
    example: Sequence[float] | None = None,
    max_nodes: int | None = MAX_NODES,
) -> Traced: ...


@overload
def trace(
    f: int | None = None,
    n_inputs: int | None = None,
    *,
    params: Sequence[Value] | HasParameters = (),
    example: Sequence[float] | None = None,
    max_nodes: int | None = MAX_NODES,
) -> Callable[[Callable[..., Any]], Traced]: ...


def trace(
    f: Callable[..., Any] | int | None = None,
    n_inputs: int | None = None,
    *,
    params: Sequence[Value] | HasParameters = (),
    example: Sequence[float] | None = None,
    max_nodes: int | None = MAX_NODES,
) -> Traced | Callable[[Callable[..., Any]], Traced]:
    """Trace ``f`` once and compile it: ``trace(f, n_inputs)``, or as a decorator
    ``@trace(n_inputs=2)`` / ``@trace(2)`` (``@trace`` alone counts ``f``'s parameters).

    ``f`` is called once as ``f(x0, …, x[n_inputs-1])`` with placeholder Values (data from
    ``example``, else 0.5, 0.6, …) and returns a Value, a number, or a list of them.

    ``params``: Values (e.g. ``model.parameters()``, or the module itself) that ``f`` uses and
    that change between calls.  They are read from ``p.data`` at every call and gradients by
    them are available (``wrt="params"``, :meth:`Traced.backward`).  Every other Value ``f``
    uses but did not compute from its inputs is a *constant*: its current value is written
    into the code.

    ``max_nodes``: the most Values the graph may have (None: no limit).  Deriving and compiling
    take ~0.1 ms and ~8 KB per Value (100,000: ~15 s): a larger graph is refused with
    :class:`~autograd_mini.engine.GraphTooLargeError` (a ValueError) as soon as ``f`` has run,
    rather than after minutes.
    """
    get = getattr(params, "parameters", None)
    given: Any = get() if callable(get) else params  # a module: its parameters
    if given is None:
        given = ()
    if not isinstance(given, Sequence):
        given = list(given)
    checked = _check_params(given)
    if example is not None and not isinstance(example, Sequence):
        raise TypeError(
            f"trace: example must be a sequence of numbers, got {type(example).__name__}"
        )
    if f is None or (isinstance(f, int) and not isinstance(f, bool)):
        count = n_inputs if f is None else f
        if f is not None and n_inputs is not None:
            raise TypeError("trace: n_inputs given twice")

        def decorate(fn: Callable[..., Any]) -> Traced:
            return _traced(fn, count, checked, example, max_nodes)

        return decorate
    return _traced(f, n_inputs, checked, example, max_nodes)


def _traced(
    f: object,
    n_inputs: int | None,
    params: tuple[Value, ...],
    example: Sequence[float] | None,
    max_nodes: int | None,
) -> Traced:
    """Check that ``f`` is a function and trace it with ``n_inputs`` inputs (None: as many as
    ``f`` has parameters without defaults)."""
    if not callable(f):
        raise TypeError(f"trace: expected a function, got {type(f).__name__}")
    k = _count_from_signature(f) if n_inputs is None else _check_count(n_inputs)
    return Traced(f, k, params, example, max_nodes)


def _check_params(params: Sequence[Value]) -> tuple[Value, ...]:
    seen: dict[Value, int] = {}
    for j, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"trace: params[{j}] must be a Value, got {type(p).__name__}")
        if not p.is_leaf:
            raise ValueError(f"trace: params[{j}] is computed from other Values; params are leaves")
        if p in seen:
            raise ValueError(f"trace: params[{j}] is the same Value as params[{seen[p]}]")
        seen[p] = j
    return tuple(params)
