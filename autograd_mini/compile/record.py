"""Recording: run ``f`` once on placeholder Values and keep what it built as a :class:`Graph`
(the nodes in topological order), and that graph as a :class:`~.program.Program`.

Comparisons of Values made while ``f`` runs are recorded through the engine's comparison hook
(:func:`autograd_mini.engine.comparison_hook`); nothing about :class:`Value` is patched.

Only Python floats leave this module as constants: a constant's data is converted with
``float()`` here, at the trace boundary, and anything that is not a real number is refused with
a TypeError naming the constant, so no object's ``repr`` can ever reach generated source.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from autograd_mini.compile.program import Atom, Eqn, Guard, Program
from autograd_mini.engine import (
    Value,
    _is_real_array_scalar,
    comparison_hook,
    enable_grad,
    topological_order,
)
from autograd_mini.instrument import refuse_hooks

__all__ = ["Comparison", "Graph", "record", "to_program"]

Comparison = tuple[Value, str, "Value | float", bool]


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


def record(f: Callable[..., Any], placeholders: Sequence[Value]) -> tuple[Any, list[Comparison]]:
    """Call ``f(*placeholders)`` with recording on; returns its result and the comparisons of
    Values it made (left operand, symbol, right operand, outcome), in order."""
    comparisons: list[Comparison] = []

    def hook(lhs: Value, symbol: str, rhs: object, outcome: bool) -> None:
        other = rhs if isinstance(rhs, Value) else constant_float(rhs, f"comparison {symbol}")
        comparisons.append((lhs, symbol, other, outcome))

    with enable_grad(), comparison_hook(hook):
        result = f(*placeholders)
    return result, comparisons


class Graph:
    """The traced graph in topological order: inputs, then parameters, then the rest.

    ``dynamic[i]``: node i depends on an input or a parameter (else it is a constant, whose
    value ``data[i]`` is written into the code).  ``outputs`` and the operands of ``guards``
    are node indices, or floats for constants.
    """

    def __init__(
        self,
        placeholders: Sequence[Value],
        params: Sequence[Value],
        outputs: Sequence[Value | float],
        comparisons: Sequence[Comparison],
    ) -> None:
        self.n_inputs = len(placeholders)
        self.n_params = len(params)
        nodes: list[Value] = [*placeholders, *params]
        index: dict[Value, int] = {v: i for i, v in enumerate(nodes)}
        roots = [o for o in outputs if isinstance(o, Value)]
        roots += [v for a, _, b, _ in comparisons for v in (a, b) if isinstance(v, Value)]
        nodes += topological_order(roots, done=nodes)
        refuse_hooks(nodes, "trace")
        index.update((v, i) for i, v in enumerate(nodes) if i >= len(index))
        self.nodes = nodes
        self.index = index
        leaves = len(placeholders) + len(params)
        # dynamic: depends on an input or a parameter; everything else is a constant
        self.dynamic = [i < leaves for i in range(len(nodes))]
        for i in range(leaves, len(nodes)):
            node = nodes[i]
            self.dynamic[i] = node._op is not None and any(
                self.dynamic[index[p]] for p in node.parents
            )
        # constants keep their value at trace time, as Python floats (see constant_float)
        self.data = [
            nodes[i].data
            if self.dynamic[i]
            else constant_float(nodes[i].data, f"constant {_describe_node(nodes[i], i)}")
            for i in range(len(nodes))
        ]
        self.outputs: list[int | float] = [
            index[o] if isinstance(o, Value) else constant_float(o, "output") for o in outputs
        ]
        self.guards: list[tuple[int | float, str, int | float, bool]] = []
        for a, symbol, b, outcome in comparisons:
            ia = index[a] if isinstance(a, Value) else a
            ib = index[b] if isinstance(b, Value) else b
            if any(isinstance(i, int) and self.dynamic[i] for i in (ia, ib)):
                self.guards.append((ia, symbol, ib, outcome))

    def atom(self, i: int | float) -> Atom:
        """Node ``i`` as a program atom: its variable ``v<i>``, or its value if constant."""
        if isinstance(i, float):
            return i
        return f"v{i}" if self.dynamic[i] else self.data[i]

    def describe(self, i: int | float) -> str:
        if isinstance(i, float):
            return repr(i)
        if i < self.n_inputs:
            return f"input {i}"
        if i < self.n_inputs + self.n_params:
            return f"parameter {i - self.n_inputs}"
        node = self.nodes[i]
        return f"node {i} ({node.op})" if self.dynamic[i] else repr(self.data[i])


def _describe_node(node: Value, i: int) -> str:
    """A constant's name for error messages: its index, and its label when it has one."""
    return f"node {i}" + (f" (label {node.label!r})" if node.label else "")


def to_program(graph: Graph) -> Program:
    """The graph as a :class:`Program`: one equation per dynamic node, in topological order
    (variables ``v<i>`` named by node index, as in the generated source)."""
    eqns = []
    leaves = graph.n_inputs + graph.n_params
    for i in range(leaves, len(graph.nodes)):
        node = graph.nodes[i]
        if not graph.dynamic[i]:
            continue
        op = node._op
        assert op is not None  # a dynamic non-leaf node was computed by an op
        ins = tuple(graph.atom(graph.index[p]) for p in node.parents)
        eqns.append(Eqn(op, ins, (f"v{i}",)))
    return Program(
        inputs=tuple(f"v{i}" for i in range(graph.n_inputs)),
        params=tuple(f"v{graph.n_inputs + j}" for j in range(graph.n_params)),
        eqns=tuple(eqns),
        outputs=tuple(graph.atom(o) for o in graph.outputs),
        guards=tuple(Guard(graph.atom(a), s, graph.atom(b), out) for a, s, b, out in graph.guards),
    )
