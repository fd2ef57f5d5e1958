"""Recording: run ``f`` once on placeholder Values and keep what it built as a
:class:`~autograd_mini.program.Program` of registry primitives, in time and memory linear in
the graph's size.  Comparisons of Values (``<`` … ``!=``, ``max``/``min``, ``bool(v)``) are
seen through the engine's comparison hook and become the program's guards.  Only Python floats
leave as constants: anything else is refused with a TypeError naming the constant, so no
object's ``repr`` can reach generated source.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from autograd_mini.engine import (
    GraphTooLargeError,
    Value,
    comparison_hook,
    enable_grad,
    topological_order,
)
from autograd_mini.program import Atom, Eqn, Guard, Program
from autograd_mini.registry import _is_real_array_scalar

__all__ = ["constant_float", "record"]


def constant_float(x: object, what: str) -> float:
    """``x`` as a Python float, or a TypeError naming ``what`` (never calling ``repr(x)``)."""
    if type(x) is float:
        return x
    if not (isinstance(x, numbers.Real) or _is_real_array_scalar(x)):
        raise TypeError(
            f"trace: {what} must be a real number to be compiled, got {type(x).__name__}"
        )
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(f"trace: {what} is not convertible to a float ({error})") from None
    if type(value) is not float:  # a __float__ returning a float subclass
        raise TypeError(f"trace: {what} did not convert to a float")
    return float.__float__(value)


def _outputs(result: object) -> tuple[list[Value | float], int | None]:
    """``f``'s result as a list of outputs, and their count (None: one Value or number)."""
    one = isinstance(result, (Value, numbers.Real))
    if not one and not isinstance(result, (list, tuple)):
        raise TypeError(
            f"trace: f must return a Value, a number or a list of them, got {type(result).__name__}"
        )
    items: Sequence[Any] = [result] if one else result  # type: ignore[assignment]
    for k, r in enumerate(items):
        if not isinstance(r, (Value, numbers.Real)):
            raise TypeError(
                f"trace: output {k} of f must be a Value or a number, got {type(r).__name__}"
            )
    outputs = [
        r if isinstance(r, Value) else constant_float(r, f"output {k}") for k, r in enumerate(items)
    ]
    return outputs, None if one else len(items)


def record(
    f: Callable[..., Any],
    example: Sequence[float],
    params: Sequence[Value],
    max_nodes: int | None = None,
) -> tuple[Program, int | None]:
    """Call ``f`` on placeholder Values holding ``example`` and return the program it built
    (inputs ``v0 …``, then the parameters, then one variable per operation, named by its
    position in the topological order) and its number of outputs (None for one Value or
    number).  ValueError if a Value of the graph has a gradient hook: compiled code runs no
    hooks, and skipping one silently would give other gradients than eager;
    :class:`GraphTooLargeError` if it has more than ``max_nodes`` Values."""
    placeholders = [Value(x, label=f"x{i}") for i, x in enumerate(example)]
    comparisons: list[tuple[Value, str, object, bool]] = []

    def hook(lhs: Value, symbol: str, rhs: object, outcome: bool) -> None:
        other = rhs if isinstance(rhs, Value) else constant_float(rhs, f"comparison {symbol}")
        comparisons.append((lhs, symbol, other, outcome))

    with enable_grad(), comparison_hook(hook):
        result = f(*placeholders)
    outputs, count = _outputs(result)
    leaves = [*placeholders, *params]
    roots = [o for o in outputs if isinstance(o, Value)]
    roots += [v for a, _, b, _ in comparisons for v in (a, b) if isinstance(v, Value)]
    try:
        nodes = leaves + topological_order(roots, done=leaves, max_nodes=max_nodes)
    except GraphTooLargeError:
        raise GraphTooLargeError(
            f"trace: f built a graph of more than max_nodes={max_nodes} Values; deriving and "
            "compiling it would take minutes: pass trace(..., max_nodes=None) (or a larger "
            "number) to compile it anyway, or use eager backward()"
        ) from None
    refuse_hooks(nodes, "trace")
    atom: dict[Value, Atom] = {v: f"v{i}" for i, v in enumerate(leaves)}
    eqns = []
    for i in range(len(leaves), len(nodes)):
        node = nodes[i]
        ins = [atom[p] for p in node._parents]
        if node._op is not None and any(isinstance(a, str) for a in ins):
            atom[node] = f"v{i}"
            eqns.append(Eqn(node._op, tuple(ins), f"v{i}"))
        else:  # computed from constants only (or a leaf): its value now, as a float
            label = f" (label {node.label!r})" if node.label else ""
            atom[node] = constant_float(node._data, f"constant node {i}{label}")

    def as_atom(x: object) -> Atom:
        return atom[x] if isinstance(x, Value) else x  # type: ignore[return-value]

    guards = [Guard(as_atom(a), s, as_atom(b), out) for a, s, b, out in comparisons]
    program = Program(
        inputs=tuple(atom[v] for v in placeholders),  # type: ignore[misc]
        params=tuple(atom[p] for p in params),  # type: ignore[misc]
        eqns=tuple(eqns),
        outputs=tuple(map(as_atom, outputs)),
        guards=tuple(g for g in guards if isinstance(g.lhs, str) or isinstance(g.rhs, str)),
    )
    return program, count


def refuse_hooks(values: Sequence[Value], who: str) -> None:
    """ValueError naming the first of ``values`` with a gradient hook."""
    for v in values:
        if getattr(v, "_hooks", None):  # unset until the first hook
            name = repr(v.label) if v.label else f"a Value with data {v._data!r}"
            raise ValueError(
                f"{who}: {name} has a gradient hook (register_hook), and compiled code runs no "
                "hooks: remove it (handle.remove()) or use eager backward()"
            )
