"""Backpropagation: the order of a graph (:func:`topological_order`, the one ordering of the
package) and the reverse-mode passes over it, :func:`grad` and the loops behind
:meth:`Value.backward <autograd_mini.engine.Value.backward>`.

Reverse mode in one line: visit the nodes in reverse topological order and, for each node with
gradient ḡ = ∂L/∂node, send ḡ·∂node/∂input to each of its inputs (the op's VJP); a node used in
several places receives the sum over all paths (the multivariable chain rule).

The passes build no nodes themselves: under ``create_graph`` the rules' arithmetic on Values goes
through :mod:`autograd_mini.engine`'s constructor, so anomaly mode's swap of it reaches them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from autograd_mini import instrument as _inst

# engine.py imports this module at its end, once Value exists; importing the package (which every
# import of a submodule does first) always loads engine.py first, so Value is defined here.
from autograd_mini.engine import Value
from autograd_mini.grad_mode import enable_grad

__all__ = ["GraphTooLargeError", "grad", "topological_order"]


class _Mark:
    """A named marker stored in a node's scratch-gradient slot ``_g`` instead of a number."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


# An interior node whose graph a backward pass released (``backward`` without retain_graph).
_FREED = _Mark("freed")
# A node whose inputs are being ordered by the pass that is starting (see _begin_pass).
_VISITING = _Mark("visiting")

# backward() and grad() keep their working state in the nodes (the scratch slot _g), so two
# passes over graphs that share a node (parameters, in training) must not interleave: threads
# take turns. Under the GIL they could not run at the same time anyway.
_PASS_LOCK = threading.RLock()

_SECOND_BACKWARD = (
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
    """Every node ``root`` depends on (itself included), inputs before the nodes computed from
    them; the order backward visits them is the reverse.  The one ordering of the package:
    ``explain``, ``draw_graph`` and ``trace`` use it (``backward``/``grad`` use its specialised
    twin :func:`_begin_pass`, measured faster in ``benchmarks/bench_trace.py``).

    ``root`` may be several Values (ordered one after the other, each node once).  Nodes in
    ``done`` count as already ordered: they and their inputs are left out unless reached
    another way.  ``max_nodes``: raise :class:`GraphTooLargeError` as soon as more nodes than
    that are reached (a huge graph is refused without walking it all).

    Iterative depth-first search in argument order, so there is no recursion limit and the order
    is the same every run.  A node is marked when it is *expanded* and emitted only after all its
    inputs (marking on push would emit ``b`` in ``b = x*1; r = b + b*2`` before one of its uses).
    Reads the graph only.
    """
    order: list[Value] = []
    seen: set[Value] = set(done)
    limit = len(seen) + max_nodes if max_nodes is not None else -1
    stack: list[tuple[Value, bool]] = []
    push = stack.append
    pop = stack.pop
    for start in reversed([root] if isinstance(root, Value) else list(root)):
        push((start, False))
    while stack:
        node, expanded = pop()
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


def _begin_pass(root: Value) -> list[Value]:
    """The nodes of a backward pass from ``root`` in topological order (inputs first), each with
    its scratch gradient ``_g`` set to 0.0.

    The same depth-first search as :func:`topological_order`, but the visited marks live in the
    nodes' ``_g`` slots (None: not seen; _VISITING: its inputs are being ordered; 0.0: in the
    order) instead of a set, and the stack holds plain nodes instead of (node, expanded) pairs.
    One pass instead of :func:`topological_order` plus a loop setting 0.0: faster, as
    ``benchmarks/bench_trace.py`` measures ("ordering the eager step's graph").

    Raises RuntimeError, leaving every node as it was, if part of the graph was released.
    """
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
                if y is not None:  # pushed before x, so x is expanded first: argument order
                    if y._g is None:
                        push(y)
                    elif y._g is _FREED:
                        raise RuntimeError(_SECOND_BACKWARD)
                if x._g is None:
                    push(x)
                elif x._g is _FREED:
                    raise RuntimeError(_SECOND_BACKWARD)
            elif g is _VISITING:  # all its inputs are in the order now
                node._g = 0.0
                emit(node)
            elif g is _FREED:  # only the root gets here; released parents are caught above
                raise RuntimeError(_SECOND_BACKWARD)
            # else 0.0: already in the order (a node pushed by two consumers)
    except BaseException:
        _unmark(root)
        raise
    return order


def _unmark(root: Value) -> None:
    """Undo a ``_begin_pass`` that stopped half-way: every reached node's ``_g`` back to None
    (released nodes stay released)."""
    seen: set[Value] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node._g is not _FREED:
            node._g = None
        stack.extend(node._parents)


def _backprop_floats(order: list[Value]) -> None:
    """Float backward pass: each node's ``_g`` ends as ∂root/∂node (root's ``_g`` is the seed)."""
    for node in reversed(order):
        op = node._op
        if op is None:
            continue
        x: Value = node._x  # type: ignore[assignment]  # every recorded node has an input
        y = node._y
        if y is None:
            (gx,) = op.vjp(node._g, node._data, x._data)
            x._g += gx
        else:
            gx, gy = op.vjp(node._g, node._data, x._data, y._data)
            x._g += gx
            y._g += gy


def _backprop_values(order: list[Value]) -> None:
    """Value backward pass: the same rules, recorded, so the gradients can be differentiated."""
    for node in reversed(order):
        op = node._op
        if op is None:
            continue
        parents = node._parents
        for parent, gp in zip(parents, op.vjp(node._g, node, *parents), strict=True):
            acc = parent._g
            if type(gp) is float and gp == 0.0:
                continue  # nothing to add: keep the recorded graph small
            parent._g = gp if (type(acc) is float and acc == 0.0) else acc + gp


def _release(order: list[Value], marker: Any) -> None:
    for node in order:
        node._g = None if node._op is None else marker


def grad(output: Value, inputs: Value | Sequence[Value], create_graph: bool = False) -> list[Value]:
    """∂output/∂input for each input, as a list of Values; no ``.grad`` is touched.

    With ``create_graph=True`` the backward pass is recorded with the same rules, so the results
    are Values with their own graph and can be differentiated again (second and higher
    derivatives).  An input that ``output`` does not depend on gets 0.  Unlike ``backward()``,
    ``grad()`` does not release the graph, so it can be called repeatedly.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    wanted = [inputs] if isinstance(inputs, Value) else list(inputs)
    for i, x in enumerate(wanted):
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {type(x).__name__}")
    with _PASS_LOCK:
        order = _begin_pass(output)
        try:
            instrumented = bool(_inst.HOOKS or _inst.anomaly_blocks)  # once per pass
            if create_graph:
                with enable_grad():
                    output._g = Value(1.0)
                    if instrumented:
                        _inst.backprop(order, values=True, wanted=wanted)
                    else:
                        _backprop_values(order)
            else:
                output._g = 1.0
                if instrumented:
                    _inst.backprop(order, values=False, wanted=wanted)
                else:
                    _backprop_floats(order)
            results = []
            for x in wanted:
                g = x._g
                if g is None or g is _FREED:
                    g = 0.0  # not reached from output
                results.append(g if isinstance(g, Value) else Value(g))
        finally:
            _release(order, None)
    return results
