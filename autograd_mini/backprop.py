"""Backpropagation: the order of a graph (:func:`topological_order`, the one ordering of the
package) and the one reverse walk over it that :meth:`Value.backward
<autograd_mini.engine.Value.backward>` and :func:`~autograd_mini.engine.grad` share.

Reverse mode in one line: visit the nodes in reverse topological order and, for each node with
gradient ḡ = ∂L/∂node, send ḡ·∂node/∂input to each of its inputs (the op's rule); a node used in
several places receives the sum over all paths (the multivariable chain rule).  Only inputs that
need a gradient are visited or sent one: a constant's partial is never computed.

Hooks and anomaly checks are steps of the walk, taken only when asked for.  Nodes are read by
their slots (``_x``, ``_y``, ``_op``, ``_data``, ``_g``, ``_hooks``), so this module
needs nothing from the engine and the engine builds on it.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograd_mini.engine import Value

__all__ = ["GraphTooLargeError", "topological_order"]


class _Mark(enum.Enum):
    """What a node's scratch-gradient slot ``_g`` holds instead of a number."""

    FREED = "an interior node whose graph a backward pass released"
    VISITING = "a node whose inputs are being ordered by the pass starting"
    CONSTANT = "a node that needs no gradient"


# Between passes the slot says whether a node needs a gradient: None (it does), CONSTANT (it
# does not: a number, requires_grad=False, a result under no_grad or of constants only) or FREED
# (it did; its graph is released).  In the slot a pass reads anyway it costs no slot of its own,
# and the search below skips a constant without looking at it twice.
FREED = _Mark.FREED
CONSTANT = _Mark.CONSTANT
_VISITING = _Mark.VISITING

# backward() and grad() keep their working state in the nodes (the scratch slot _g), so two
# passes over graphs that share a node (parameters, in training) must not interleave: threads
# take turns.  Under the GIL they could not run at the same time anyway.
PASS_LOCK = threading.RLock()

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time: its intermediate results were released "
    "by the first backward() (running it again would double-count every gradient). Pass "
    "retain_graph=True to the first backward() call if you need to backward twice."
)


class GraphTooLargeError(ValueError):
    """:func:`topological_order` reached more than ``max_nodes`` nodes."""


def topological_order(
    root: Value | Sequence[Value],
    *,
    done: Iterable[Value] = (),
    max_nodes: int | None = None,
) -> list[Value]:
    """Every node ``root`` (a Value or several) depends on, itself included, each once and
    inputs first: an iterative depth-first search in argument order, so no recursion limit and
    the same order every run.  Nodes in ``done`` count as ordered already; past ``max_nodes``
    nodes it raises :class:`GraphTooLargeError`.  ``backward``/``grad`` use its twin
    :func:`begin_pass`, which keeps its marks in the nodes and skips constants.
    """
    order: list[Value] = []
    seen: set[Value] = set(done)
    limit = len(seen) + max_nodes if max_nodes is not None else -1
    stack: list[tuple[Value, bool]] = []
    push = stack.append
    for start in reversed([root] if not isinstance(root, (list, tuple)) else list(root)):
        push((start, False))
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        if len(seen) == limit + 1:
            raise GraphTooLargeError(f"the graph has more than max_nodes={max_nodes} Values")
        push((node, True))
        for parent in reversed(node._parents):
            if parent not in seen:
                push((parent, False))
    return order


def begin_pass(root: Value) -> list[Value]:
    """The nodes a backward pass from ``root`` visits, inputs first, each with its scratch
    gradient ``_g`` set to 0.0: the depth-first search of :func:`topological_order`, with the
    marks in the nodes' ``_g`` slots (None: not seen; _VISITING; 0.0: ordered) and only through
    inputs that need a gradient.  RuntimeError, leaving every node as it was, if part of the
    graph was released."""
    order: list[Value] = []
    emit = order.append
    stack = [root]
    push = stack.append
    pop = stack.pop
    try:
        while stack:
            node = pop()
            g = node._g
            if g is None:  # first visit
                x, y = node._x, node._y
                if x is None:  # a leaf: nothing to wait for
                    node._g = 0.0
                    emit(node)
                    continue
                node._g = _VISITING  # come back to it after its inputs
                push(node)
                if y is not None:  # pushed before x: x is expanded first
                    if y._g is None:
                        push(y)
                    elif y._g is FREED:
                        raise RuntimeError(SECOND_BACKWARD)
                if x._g is None:  # a constant (CONSTANT) is not visited
                    push(x)
                elif x._g is FREED:
                    raise RuntimeError(SECOND_BACKWARD)
            elif g is _VISITING:  # all its inputs are in the order now
                node._g = 0.0
                emit(node)
            elif g is FREED:  # only the root gets here; released inputs are caught above
                raise RuntimeError(SECOND_BACKWARD)
    except BaseException:
        release(topological_order(root))
        raise
    return order


def release(order: Iterable[Value]) -> None:
    """End a pass that releases nothing: every node's ``_g`` back to None (a released node
    stays so)."""
    for node in order:
        if node._g is not FREED and node._g is not CONSTANT:
            node._g = None


def walk(
    order: list[Value],
    *,
    values: bool = False,
    hooks: set[Value] | None = None,
    check: Callable[[list[Any], Any, Any, Sequence[Any]], None] | None = None,
    convert: Callable[[Any, Any, bool], Any] | None = None,
) -> None:
    """Backpropagate over ``order`` (from :func:`begin_pass`, the root's ``_g`` seeded): each
    node's ``_g`` ends as ∂root/∂node.  ``values``: run the rules on the nodes themselves,
    recording the gradients (``create_graph``).  ``hooks``: the nodes whose hooks run
    (``convert(result, hook, values)`` makes a hook's result a gradient).  ``check``: called with
    each rule's results on floats (anomaly mode).  On floats without checks the first loop runs
    (the fast path of plain training; a hook is one step in it), else the second.
    """
    if not (values or check):
        for node in reversed(order):
            if hooks is not None and node in hooks:
                node._g = run_hooks(node, node._g, convert, False)  # type: ignore[arg-type]
            op = node._op
            if op is None:
                continue
            x: Value = node._x  # type: ignore[assignment]  # a recorded node has an input
            y = node._y
            if y is None:
                x._g += op.vjp_x(node._g, node._data, x._data)
            elif x._g is CONSTANT:
                y._g += op.vjp_y(node._g, node._data, x._data, y._data)
            elif y._g is not CONSTANT:
                gx, gy = op.vjp_xy(node._g, node._data, x._data, y._data)
                x._g += gx
                y._g += gy
            else:
                x._g += op.vjp_x(node._g, node._data, x._data, y._data)
        return
    for node in reversed(order):  # the rules on Values (create_graph), or checked
        if hooks is not None and node in hooks:
            node._g = run_hooks(node, node._g, convert, values)  # type: ignore[arg-type]
        op = node._op
        if op is None:
            continue
        parents = node._parents
        rule = op.compiled_rule(tuple(p._g is not CONSTANT for p in parents), "generic")
        g = node._g
        datas = [p._data for p in parents]
        if check is not None:  # on floats first: a recorded rule would stop at its own forward
            check(order, node, g, rule(float(g), node._data, *datas))
        grads = rule(g, node, *parents) if values else rule(g, node._data, *datas)
        for parent, gp in zip(parents, grads, strict=True):
            if gp is None:
                continue
            acc = parent._g
            if not values:
                parent._g = acc + gp
            elif not (type(gp) is float and gp == 0.0):  # keep the recorded graph small
                parent._g = gp if (type(acc) is float and acc == 0.0) else acc + gp


def run_hooks(node: Value, g: Any, convert: Callable[[Any, Any, bool], Any], values: bool) -> Any:
    """``g`` after each hook of ``node`` in registration order (a None result keeps it)."""
    for _, fn in tuple(getattr(node, "_hooks", ())):  # a snapshot: hooks may add or remove hooks
        result = fn(g)
        if result is not None:
            g = convert(result, fn, values)
    return g


def hooked_nodes(order: list[Value], wanted: Sequence[Value] | None) -> set[Value] | None:
    """The nodes of ``order`` whose hooks a pass runs (None: none).  With ``wanted`` (from
    ``grad``), only those on a path to one of them: torch.autograd.grad gives no gradient to
    the others, so their hooks do not run."""
    hooked = {node for node in order if getattr(node, "_hooks", None)}
    if hooked and wanted is not None:
        needed: set[Value] = set(wanted)
        for node in order:  # inputs first: a node's inputs are decided before the node
            if node not in needed and any(p in needed for p in node._parents):
                needed.add(node)
        hooked &= needed
    return hooked or None
