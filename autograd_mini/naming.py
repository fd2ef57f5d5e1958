"""Display names for the nodes of a graph, shared by :mod:`autograd_mini.viz` (the picture) and
:mod:`autograd_mini.explain` (the text), so both call every node the same thing.

A node's name is its label if it has one, else ``vN`` with N its position in
:func:`~autograd_mini.engine.topological_order` — never anything derived from ``id()``, so names
are the same on every run.  Pure Python: importing this module imports no optional dependency.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from autograd_mini.backprop import GraphTooLargeError, topological_order

if TYPE_CHECKING:
    from autograd_mini.engine import Value

__all__ = [
    "MAX_LABEL",
    "atom",
    "bounded_order",
    "check_graph_size",
    "neuron_groups",
    "node_names",
    "sanitize_label",
]

MAX_LABEL = 40
"""Characters of a user label shown; longer ones are cut and end in ``…``."""


def sanitize_label(text: str) -> str:
    """``text`` made printable: control characters as ``\\xNN``, unencodable ones escaped, and
    cut to :data:`MAX_LABEL` characters."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    if len(text) > MAX_LABEL:
        text = text[: MAX_LABEL - 1] + "…"
    return text


def atom(name: str) -> str:
    """``name`` ready to sit inside a formula: wrapped in parentheses if it has an operator or a
    space outside parentheses (``t2 − a2`` → ``(t2 − a2)``; ``(t2 − a2)²`` and ``w1`` stay)."""
    depth = 0
    for ch in name:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch in " +-−*/·^":
            return f"({name})"
    return name if depth == 0 else f"({name})"


def node_names(order: list[Value]) -> dict[Value, str]:
    """Display name of every node: its label if it has one, else ``vN`` (N = topological index)."""
    return {v: (sanitize_label(v.label) if v.label else f"v{i}") for i, v in enumerate(order)}


def bounded_order(root: Value, max_nodes: int, what: str = "draw_graph") -> list[Value]:
    """``topological_order(root)``, or a ValueError if ``root`` depends on more than
    ``max_nodes`` Values (itself included), found without walking the rest of the graph.
    ``what`` names the caller in the message (``draw_graph``, ``explain``)."""
    try:
        return topological_order(root, max_nodes=max_nodes)
    except GraphTooLargeError:
        raise ValueError(
            f"{what}: the graph has more than max_nodes={max_nodes} Values; "
            f"{'draw' if what == 'draw_graph' else 'explain'} a smaller expression "
            "(e.g. one neuron or one layer) or pass a larger max_nodes"
        ) from None


def check_graph_size(root: Value, max_nodes: int, what: str = "draw_graph") -> None:
    """ValueError if ``root`` depends on more than ``max_nodes`` Values (see
    :func:`bounded_order`)."""
    bounded_order(root, max_nodes, what)


_PARAMETER = re.compile(r"(.+)\.(?:(w)\d+|(b))", re.S)  # L1.n3.w2, L1.n3.b: a neuron's weight, bias
_ACTIVATIONS = ("relu", "tanh", "sigmoid")  # autograd_mini.nn's, applied to the neuron's sum


def neuron_groups(order: list[Value]) -> dict[Value, str]:
    """The neuron each node of a model's graph belongs to (``L1.n3``), for drawing a box per
    neuron; nodes of no neuron are left out.

    Read from the parameters' labels (``L1.n3.w2``, ``L1.n3.b``, as :mod:`autograd_mini.nn`
    names them) and the shape of ``φ(b + w1·x1 + … + wn·xn)``: the weights and bias; each
    product ``wᵢ · (something not of this neuron)``; each sum of the bias or of two of the
    neuron's nodes; a relu, tanh or sigmoid of that sum.  So ``w * w`` of a weight penalty, a
    loss on the output or an input shared by many neurons stay outside.
    """
    group: dict[Value, str] = {}
    role: dict[Value, str] = {}  # a parameter's kind: "w" or "b"
    for v in order:
        op = v._op
        if op is None:
            m = _PARAMETER.fullmatch(v.label) if v.label else None
            if m is not None:
                group[v] = sanitize_label(m.group(1))
                role[v] = m.group(2) or m.group(3)
            continue
        parents = v._parents
        if op.name == "mul" and len(parents) == 2:
            for p, q in (parents, parents[::-1]):
                if role.get(p) == "w" and group.get(q) != group[p]:
                    group[v] = group[p]
                    break
        elif op.name == "add" and len(parents) == 2:
            a, b = (group.get(p) for p in parents)
            if a is not None and a == b and (role.get(parents[0]) != "w" != role.get(parents[1])):
                group[v] = a
        elif op.name in _ACTIVATIONS and parents[0].op == "add" and parents[0] in group:
            group[v] = group[parents[0]]
    return group
