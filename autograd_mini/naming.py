"""Display names for the nodes of a graph, shared by :mod:`autograd_mini.viz` (the picture) and
:mod:`autograd_mini.explain` (the text), so both call every node the same thing.

A node's name is its label if it has one, else ``vN`` with N its position in
:func:`~autograd_mini.engine.topological_order` — never anything derived from ``id()``, so names
are the same on every run.  Pure Python: importing this module imports no optional dependency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autograd_mini.backprop import GraphTooLargeError, topological_order

if TYPE_CHECKING:
    from autograd_mini.engine import Value

__all__ = [
    "MAX_LABEL",
    "atom",
    "bounded_order",
    "check_graph_size",
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
