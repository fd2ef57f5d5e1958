"""What a backward pass runs when gradient hooks exist or anomaly mode is on.

:meth:`Value.backward` and :func:`grad` check two module globals once per pass (``HOOKS`` and
``anomaly_blocks``); only when one of them is set do they run :func:`backprop` below instead of
their tight loops, so plain training pays nothing per node for either feature.

``backprop`` applies the same rules from :mod:`autograd_mini.ops` in the same reverse
topological order.  When it reaches a node, every consumer of that node has already sent its
share, so the node's gradient ḡ is complete: that is when its hooks run (PyTorch's semantics: a
hook's non-None result replaces ḡ, for what flows on to the inputs and, for a leaf, for what
``backward`` adds to ``.grad``).  In anomaly mode it then checks that the rule did not turn a
finite ḡ into NaN or ±inf (:mod:`autograd_mini.anomaly` words the error).

This module imports nothing from the engine at import time (the engine imports it).
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograd_mini.engine import Value

__all__ = ["RemovableHandle"]

Hook = Callable[[Any], Any]

# node -> {handle id: hook}, in registration order (dicts keep insertion order). Keyed by the
# Value itself (identity hash): a hook keeps its Value alive until removed, or until a backward
# pass releases the node's graph (its hooks could never run again, so the pass drops them).
HOOKS: dict[Value, dict[int, Hook]] = {}
_ids = itertools.count()

# Anomaly mode. ``ANOMALY`` is this context's setting (None: off, else check_nan); the count of
# open detect_anomaly blocks in any thread is what the engine checks per pass.
ANOMALY: ContextVar[bool | None] = ContextVar("autograd_mini_anomaly", default=None)
anomaly_blocks = 0
LOCK = threading.Lock()


class RemovableHandle:
    """What :meth:`Value.register_hook` returns: ``handle.remove()`` unregisters the hook (a
    second call does nothing).  Also a context manager that removes the hook on exit."""

    __slots__ = ("_id", "_node")

    def __init__(self, node: Value, hook_id: int) -> None:
        self._node = node
        self._id = hook_id

    def remove(self) -> None:
        hooks = HOOKS.get(self._node)
        if hooks is not None:
            hooks.pop(self._id, None)
            if not hooks:
                del HOOKS[self._node]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<RemovableHandle {self._id}>"


def register_hook(node: Value, fn: Hook) -> RemovableHandle:
    """Register ``fn`` to run on ``node``'s gradient in every later backward pass."""
    if not callable(fn):
        raise TypeError(f"register_hook: fn must be callable, got {type(fn).__name__}: {fn!r}")
    hook_id = next(_ids)
    HOOKS.setdefault(node, {})[hook_id] = fn
    return RemovableHandle(node, hook_id)


def _run_hooks(node: Value, g: Any, hooks: dict[int, Hook], values: bool) -> Any:
    """``g`` after each hook of ``node`` in registration order (a None result keeps it)."""
    from autograd_mini.engine import Value, _as_float

    for fn in list(hooks.values()):  # a hook may remove itself
        result = fn(g)
        if result is None:
            continue
        if isinstance(result, Value):
            g = result if values else result.data
        else:
            g = _as_float(result, f"register_hook: the result of hook {fn!r}")
            if values:
                g = Value(g)
    return g


def _needed_for(order: list[Value], wanted: Sequence[Value]) -> set[Value]:
    """The nodes of ``order`` whose gradient ``grad(output, wanted)`` needs: the wanted inputs
    and every node that depends on one.  Only those get a gradient in torch.autograd.grad, so
    only their hooks run there (a node upstream of a wanted input, or on a branch that reaches
    no wanted input, does not)."""
    targets = set(wanted)
    needed: set[Value] = set()
    for node in order:  # inputs first: a node's parents are decided before the node
        if node in targets or any(p in needed for p in node._parents):
            needed.add(node)
    return needed


def backprop(order: list[Value], values: bool, wanted: Sequence[Value] | None = None) -> None:
    """The backward pass over ``order`` (inputs first) with hooks and anomaly checks: floats
    like ``_backprop_floats`` or, with ``values``, recorded like ``_backprop_values``.  With
    ``wanted`` (from :func:`grad`), hooks run only on the nodes on a path to those inputs."""
    check = ANOMALY.get()
    rule_check: Callable[..., None] | None = None
    if check:
        from autograd_mini.anomaly import _check_rule

        rule_check = _check_rule
    hooks = HOOKS
    if hooks and wanted is not None:
        needed = _needed_for(order, wanted)
        # the hook dicts themselves are shared, so a hook removing a hook still takes effect
        hooks = {node: fns for node, fns in HOOKS.items() if node in needed}
    for node in reversed(order):
        if hooks:
            mine = hooks.get(node)
            if mine:
                node._g = _run_hooks(node, node._g, mine, values)
        op = node._op
        if op is None:
            continue
        g = node._g
        parents = node._parents
        if values:
            if rule_check is not None:
                # check the rule on floats first: the recorded version would stop at the
                # forward check of whichever of its operations overflows, less helpfully
                datas = [p.data for p in parents]
                rule_check(order, node, g, op.vjp(float(g), node.data, *datas))
            grads = op.vjp(g, node, *parents)
        else:
            grads = op.vjp(g, node.data, *[p.data for p in parents])
            if rule_check is not None:
                rule_check(order, node, g, grads)
        for parent, gp in zip(parents, grads, strict=True):
            if not values:
                parent._g += gp
                continue
            acc = parent._g
            if type(gp) is float and gp == 0.0:
                continue  # as _backprop_values: keep the recorded graph small
            parent._g = gp if (type(acc) is float and acc == 0.0) else acc + gp


def drop_released(order: list[Value]) -> None:
    """Forget the hooks of interior nodes a backward pass released: no pass can reach them."""
    if HOOKS:
        for node in order:
            if node._op is not None:
                HOOKS.pop(node, None)


def is_finite(x: Any) -> bool:
    """Whether a float, or a Value's data, is finite."""
    return math.isfinite(x if type(x) is float else float(x))


def refuse_hooks(values: Iterable[Value], who: str) -> None:
    """ValueError if any of ``values`` has a hook: compiled code (``trace``) runs none, and
    silently skipping one would give other gradients than eager ``backward()``."""
    if not HOOKS:
        return
    for v in values:
        if v in HOOKS:
            name = repr(v.label) if v.label else f"a Value with data {v.data!r}"
            raise ValueError(
                f"{who}: {name} has a gradient hook (register_hook), and compiled code runs no "
                "hooks: remove it (handle.remove()) or use eager backward()"
            )
