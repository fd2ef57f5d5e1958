"""The engine: :class:`Value` records a graph of scalar operations, one node per operation, with
the ops of the registry (:mod:`autograd_mini.ops`); :meth:`Value.backward` and :func:`grad` run
the one reverse walk of :mod:`autograd_mini.backprop` over it.

A Value *needs a gradient* (``requires_grad``, PyTorch's name) when it was created as one that
does (the default for ``Value(...)``) or computed from at least one that does; plain numbers,
``Value(x, requires_grad=False)`` and results under ``no_grad`` do not, and never get one.
Modes are read from :mod:`autograd_mini.grad_mode` where a node is built; hooks live on their
node.  Nothing here is ever swapped at run time.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import threading
import weakref
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from types import TracebackType
from typing import Any, TypeAlias

from autograd_mini import anomaly, backprop, registry
from autograd_mini.backprop import (
    CONSTANT,
    FREED,
    GraphTooLargeError,
    topological_order as topological_order,
)
from autograd_mini.grad_mode import (
    COMPARISON_HOOK as _COMPARISON_HOOK,
    RECORDING as _RECORDING,
    ComparisonHook as ComparisonHook,
    comparison_hook as comparison_hook,
    enable_grad as enable_grad,
    is_grad_enabled as is_grad_enabled,
    mode as _mode,
    no_grad as no_grad,
)
from autograd_mini.ops import ADD, DIV, MUL, NEG, POW, REMAINDER, SUB, Primitive
from autograd_mini.registry import as_float as _as_float, brief as _brief
from autograd_mini.value_methods import TableMethods

__all__ = [
    "GraphTooLargeError",
    "RemovableHandle",
    "Value",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "topological_order",
]

Number: TypeAlias = "int | float"  # what users pass; anything numbers.Real is accepted at run time
Operand: TypeAlias = "Value | float | int"


def _comparison(
    symbol: str, compare: Callable[[float, float], bool]
) -> Callable[[Value, Any], bool]:
    """Value's comparison ``symbol`` (see :class:`Value`), shown to the comparison hook."""

    what = f"comparison {symbol}"

    def method(self: Value, other: object) -> bool:
        try:
            o = other._data if isinstance(other, Value) else _as_float(other, what)
        except (TypeError, OverflowError):  # not a real number, or an int too large for a float
            if symbol in ("==", "!="):
                return NotImplemented  # type: ignore[no-any-return]
            raise
        result = compare(self._data, o)
        hook = _COMPARISON_HOOK.get()
        if hook is not None:
            hook(self, symbol, other, result)
        return result

    return method


def _arithmetic(op: Primitive) -> tuple[Callable[[Value, Operand], Value], ...]:
    """``x op y`` and its reflection ``y op x`` for a Value x (NotImplemented for non-numbers)."""

    def forward(self: Value, other: Operand) -> Value:
        return _binary(op, self, other)

    def reflected(self: Value, other: Operand) -> Value:
        return _binary(op, other, self)

    return forward, reflected


class Value(TableMethods):
    """A scalar that remembers how it was computed.

    ``data`` is the number (always a Python float), ``grad`` the accumulated ∂root/∂self after
    :meth:`backward` (starts at 0.0), ``label`` a name for drawings, ``requires_grad`` whether
    it needs a gradient (default True; results need one iff an input does).  Arithmetic with
    Values or real numbers on either side builds the graph; a plain number operand becomes a
    constant leaf, which needs no gradient.

    Comparisons ``<, <=, >, >=, ==, !=`` compare ``data`` and return ``bool`` (nothing is
    recorded; ``Value(2.0) == 2.0`` is True), and ``bool(v)`` is ``v.data != 0`` (PyTorch's);
    inside :func:`~autograd_mini.trace` each is a guard.  ``hash`` stays identity, so Values work
    as dict keys and set members (looked up by identity); test identity with ``is``.

    NaN and ±inf inputs propagate as IEEE floats (``relu(nan)`` is nan); math-domain errors raise
    before any node is built.
    """

    # __slots__: less memory and faster attribute access than a __dict__ (STYLE.md).
    # _x, _y: the first and second input (None when absent), read as the tuple ``_parents``:
    #   two slots instead of a tuple are one object per node less for the garbage collector.
    # _op: the primitive that made this node (None for leaves).
    # _g: scratch gradient of the backward pass in progress; between passes None, or
    #   backprop.CONSTANT for a Value that needs no gradient, or FREED (see backprop).
    # _hooks: this node's gradient hooks, a list of (id, fn); unset until the first hook (one
    #   store less per node: read it with getattr(node, "_hooks", None)).
    # _data: the number behind the ``data`` property; the hot paths use the slot directly.
    __slots__ = ("_data", "_g", "_hooks", "_op", "_x", "_y", "grad", "label")
    _hooks: _Hooks

    __array_ufunc__ = None  # NumPy scalars defer to our reflected operators (np.float64(2) * v)

    def __init__(self, data: Number, label: str = "", requires_grad: bool = True) -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}: {label!r}")
        if not isinstance(requires_grad, bool):
            raise TypeError(f"Value requires_grad must be a bool, got {_brief(requires_grad)}")
        self._data: float = _as_float(data, "Value data")
        self.grad: float = 0.0
        self.label: str = label
        self._x: Value | None = None
        self._y: Value | None = None
        self._op: Primitive | None = None
        self._g: Any = None if requires_grad else CONSTANT

    @property
    def data(self) -> float:
        """The number, always a Python float: assigning converts any real number with
        ``float()``; anything else (a str, a Value) is a TypeError."""
        return self._data

    @data.setter
    def data(self, value: Number) -> None:
        self._data = value if type(value) is float else _as_float(value, "Value.data")

    @property
    def requires_grad(self) -> bool:
        """Whether this Value needs a gradient (PyTorch's name).  Settable on leaves only."""
        return self._g is not CONSTANT

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if not isinstance(flag, bool):
            raise TypeError(f"requires_grad must be a bool, got {_brief(flag)}")
        if self._op is not None:
            raise RuntimeError(
                "requires_grad can only be set on a leaf (a Value no operation computed); "
                "use detach() to cut a result from its graph"
            )
        if self._g is not None and self._g is not CONSTANT:
            raise RuntimeError("requires_grad cannot change during a backward pass")
        self._g = None if flag else CONSTANT

    # --- conversions and display ---
    def item(self) -> float:
        """The number as a Python float (``data``), like ``torch.Tensor.item()``."""
        return self._data

    __float__ = item

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r}, label={self.label!r})"

    def __bool__(self) -> bool:
        return self.__ne__(0.0)

    def __format__(self, spec: str) -> str:
        return format(self.data, spec) if spec else repr(self)

    @property
    def is_leaf(self) -> bool:
        """True for inputs, parameters and constants: Values no recorded operation produced."""
        return self._op is None

    @property
    def op(self) -> str:
        """Name of the primitive that produced this Value (``""`` for a leaf)."""
        return "" if self._op is None else self._op.name

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in argument order (``()`` for a leaf)."""
        x, y = self._x, self._y
        if x is None:
            return ()
        return (x,) if y is None else (x, y)

    _parents = parents

    def detach(self) -> Value:
        """A new leaf with the same data (and label) that needs no gradient, like PyTorch's."""
        return Value(self._data, self.label, requires_grad=False)

    __lt__: Callable[[Value, Operand], bool] = _comparison("<", operator.lt)
    __le__: Callable[[Value, Operand], bool] = _comparison("<=", operator.le)
    __gt__: Callable[[Value, Operand], bool] = _comparison(">", operator.gt)
    __ge__: Callable[[Value, Operand], bool] = _comparison(">=", operator.ge)
    __eq__ = _comparison("==", operator.eq)
    __ne__ = _comparison("!=", operator.ne)
    # defining __eq__ would make Values unhashable: keep identity, so dicts and sets keyed by
    # Values (the graph walks, optimizers) are unaffected by equal data
    __hash__ = object.__hash__

    # --- arithmetic ----------------------------------------------------------------------------
    # add, sub and mul are the hot paths, written out: `type(other) is Value` skips the _operand
    # call in the common case, and the data is combined without calling the op's forward.
    def __add__(self, other: Operand) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        return _node(self._data + o._data, self, o, ADD)

    def __radd__(self, other: Operand) -> Value:
        o = _operand(other)
        return NotImplemented if o is None else _node(o._data + self._data, o, self, ADD)

    def __sub__(self, other: Operand) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        return _node(self._data - o._data, self, o, SUB)

    def __rsub__(self, other: Operand) -> Value:
        o = _operand(other)
        return NotImplemented if o is None else _node(o._data - self._data, o, self, SUB)

    def __mul__(self, other: Operand) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        return _node(self._data * o._data, self, o, MUL)

    def __rmul__(self, other: Operand) -> Value:
        o = _operand(other)
        return NotImplemented if o is None else _node(o._data * self._data, o, self, MUL)

    __truediv__, __rtruediv__ = _arithmetic(DIV)
    __pow__, __rpow__ = _arithmetic(POW)
    __mod__, __rmod__ = _arithmetic(REMAINDER)  # floor-mod with the divisor's sign, as torch's

    def __neg__(self) -> Value:
        return _node(-self._data, self, None, NEG)

    def __pos__(self) -> Value:
        return self

    def _unary(self, op: Primitive) -> Value:
        return _node(_compute(op, op.forward, (self._data,)), self, None, op)

    def _binary_arg(self, op: Primitive, other: object, what: str) -> Value:
        out = _binary(op, self, other)
        if out is NotImplemented:
            raise TypeError(
                f"{op.name}: {what} must be a real number or a Value, got "
                f"{type(other).__name__}: {_brief(other)}"
            )
        return out

    # --- differentiation ---
    def backward(self, grad: Number = 1.0, retain_graph: bool = False) -> None:
        """Add ∂self/∂node · ``grad`` to ``node.grad`` for every node this Value depends on that
        needs a gradient (nothing if this Value needs none).

        Gradients accumulate like PyTorch: call ``zero_grad`` (or set ``.grad = 0.0``) between
        steps.  Afterwards the graph's intermediate results are released, so a second backward
        through it raises RuntimeError, unless this call passed ``retain_graph=True`` (then the
        next call adds exactly the same gradients again).  Iterative: any depth works.
        """
        seed = _as_float(grad, "backward: grad")
        if self._g is CONSTANT:
            return
        with backprop.PASS_LOCK:
            order = _backprop(self, seed, None)
            done = None if retain_graph else FREED
            try:
                for node in order:
                    node.grad += node._g
                    node._g = None if node._op is None else done
            except TypeError:  # a .grad set to None (PyTorch's "no gradient yet") or junk
                _accumulate_carefully(order, done)

    def register_hook(self, fn: Callable[[Any], Any]) -> RemovableHandle:
        """Call ``fn(g)`` with this Value's gradient g = ∂root/∂self (a float, or a Value under
        ``grad(create_graph=True)``) in every later :meth:`backward` / :func:`grad` pass, once g
        is complete (all paths summed), as PyTorch's ``register_hook``.

        A number returned replaces g (None keeps it): for what flows on to the inputs, what
        ``backward`` adds to a leaf's ``.grad`` and what ``grad`` returns.  Hooks run in
        registration order, each on the previous one's result; ``grad(output, inputs)`` runs
        only those on a path from ``output`` to ``inputs``.  Returns a handle whose ``.remove()``
        unregisters ``fn``; the hook lives on this Value and goes with it.  RuntimeError on a
        Value that needs no gradient (it would never run).
        """
        if not callable(fn):
            raise TypeError(
                f"register_hook: fn must be callable, got {type(fn).__name__}: {_brief(fn)}"
            )
        if self._g is CONSTANT:
            raise RuntimeError("register_hook: this Value does not need a gradient")
        with _HOOK_LOCK:
            hooks = getattr(self, "_hooks", None)
            if hooks is None:
                hooks = self._hooks = _Hooks()
            hook_id = next(_hook_ids)
            hooks.append((hook_id, fn))
            _LIVE_HOOKS.add(hooks)
        return RemovableHandle(hooks, hook_id)


class _Hooks(list):  # type: ignore[type-arg]
    """A node's hooks; weakly referenced by :data:`_LIVE_HOOKS`, so it says whether any node
    alive has hooks (when none does, a pass does not even look)."""

    __slots__ = ("__weakref__",)
    __eq__ = object.__eq__  # one node's hooks, not a value: identity
    __hash__ = object.__hash__  # type: ignore[assignment]


_HOOK_LOCK = threading.Lock()
_LIVE_HOOKS: weakref.WeakSet[_Hooks] = weakref.WeakSet()
_hook_ids = itertools.count()


class RemovableHandle:
    """What :meth:`Value.register_hook` returns: ``handle.remove()`` unregisters the hook (a
    second call does nothing).  Also a context manager that removes the hook on exit."""

    __slots__ = ("_hooks", "_id")

    def __init__(self, hooks: _Hooks, hook_id: int) -> None:
        self._hooks = weakref.ref(hooks)  # the node owns its hooks; the handle only points
        self._id = hook_id

    def remove(self) -> None:
        hooks = self._hooks()
        if hooks is None:  # its Value is gone, and its hooks with it
            return
        with _HOOK_LOCK:
            hooks[:] = [h for h in hooks if h[0] != self._id]
            if not hooks:
                _LIVE_HOOKS.discard(hooks)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<RemovableHandle {self._id}>"


class _SitedValue(Value):
    """A node made in anomaly mode: a Value that also knows where the user created it."""

    __slots__ = ("_site",)
    _site: tuple[str, int]


def _accumulate_carefully(order: list[Value], done: Any) -> None:
    """The rest of ``backward``'s additions after one failed: a ``.grad`` of None takes the
    gradient (as in PyTorch); any other non-number is a TypeError, with the pass released."""
    bad: Value | None = None
    for node in order:
        g = node._g
        if g is None or g is FREED:
            continue  # added already
        if node.grad is None:
            node.grad = g
        elif isinstance(node.grad, float):
            node.grad += g
        else:
            bad = node if bad is None else bad
        node._g = None if node._op is None else done
    if bad is not None:
        raise TypeError(
            f"backward: .grad of {bad!r} must be a float (or None) to add a gradient to, got "
            f"{type(bad.grad).__name__}"
        )


_NOT_REACHED = (None, FREED, CONSTANT)  # what an input's _g holds if the pass did not reach it
_IN_PASS: ContextVar[bool] = ContextVar("autograd_mini_in_pass", default=False)


def _backprop(root: Value, seed: Any, wanted: Sequence[Value] | None) -> list[Value]:
    """The walk from ``root`` seeded with ``seed`` (a Value: recorded), with hooks if a node has
    one and anomaly checks in anomaly mode; the order, each ``_g`` set (untouched on an error).
    A pass keeps its state in the nodes, so one started inside another (from a hook) is refused."""
    if _IN_PASS.get():
        raise RuntimeError(
            "backward()/grad() was called inside another backward pass (from a hook): the passes "
            "would mix their gradients; compute it before or after that pass"
        )
    order = backprop.begin_pass(root)
    root._g = seed
    token = _IN_PASS.set(True)
    try:
        backprop.walk(
            order,
            values=isinstance(seed, Value),
            hooks=backprop.hooked_nodes(order, wanted) if _LIVE_HOOKS else None,
            check=anomaly.check_rule if _mode().anomaly else None,
            convert=_hook_result,
        )
    except BaseException:
        backprop.release(order)
        raise
    finally:
        _IN_PASS.reset(token)
    return order


def _hook_result(result: object, fn: object, values: bool) -> Any:
    """A hook's result as the gradient: a Value (its data on floats), or a number as a float."""
    if isinstance(result, Value):
        return result if values else result._data
    return _as_float(result, f"register_hook: the result of hook {fn!r}")


def grad(output: Value, inputs: Value | Sequence[Value], create_graph: bool = False) -> list[Value]:
    """∂output/∂input for each input, as a list of Values; no ``.grad`` is touched and the
    graph is not released.

    With ``create_graph=True`` the backward pass is recorded with the same rules, so the results
    have their own graph and can be differentiated again (any order).  An input that ``output``
    does not depend on, or that needs no gradient, gets 0.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    wanted = [inputs] if isinstance(inputs, Value) else list(inputs)
    for i, x in enumerate(wanted):
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {type(x).__name__}")
    grads: list[Any] = [0.0] * len(wanted)
    if output.requires_grad:
        with backprop.PASS_LOCK, enable_grad() if create_graph else contextlib.nullcontext():
            seed = Value(1.0, requires_grad=False) if create_graph else 1.0
            order = _backprop(output, seed, wanted)
            # an input the pass did not reach has no gradient in it (None, or FREED if released)
            grads = [0.0 if x._g in _NOT_REACHED else x._g for x in wanted]
            backprop.release(order)
    return [g if isinstance(g, Value) else Value(g, requires_grad=False) for g in grads]


# --- building nodes --------------------------------------------------------------------------


# object.__new__ bound once: Value.__new__ would be an attribute lookup per node
_new = object.__new__


def _leaf(data: float) -> Value:
    """A constant leaf: a Value that needs no gradient, without __init__'s checks."""
    v = _new(Value)
    v._data = data
    v.grad = 0.0
    v.label = ""
    v._x = v._y = v._op = None
    v._g = CONSTANT
    return v


def _operand(x: object) -> Value | None:
    """A Value for an operand: itself, or a constant leaf for a real number; None otherwise."""
    if isinstance(x, Value):
        return x
    if type(x) is float:
        return _leaf(x)
    # `type(x) is int` first: isinstance against the numbers.Real ABC is slow
    if type(x) is int or registry.is_real(x):
        return _leaf(_as_float(x, "operand"))
    return None


def _node(data: float, x: Value, y: Value | None, op: Primitive) -> Value:
    """The result of ``op`` on inputs ``x`` and ``y`` (None for a one-input op); a leaf that
    needs no gradient when recording is off (``no_grad``)."""
    mode = _mode()
    if mode is _RECORDING:
        v = _new(Value)
        v._x = x
        v._y = y
        v._op = op
        v._g = (
            None if x._g is not CONSTANT or (y is not None and y._g is not CONSTANT) else CONSTANT
        )
    elif mode.anomaly is not None:
        if mode.anomaly:
            anomaly.check_forward(op.name, [p._data for p in (x, y) if p is not None], data)
        v = _new(_SitedValue)
        v._site = anomaly.user_site()
        v._x, v._y, v._op = (x, y, op) if mode.grad else (None, None, None)
        needs = x._g is not CONSTANT or (y is not None and y._g is not CONSTANT)
        v._g = None if mode.grad and needs else CONSTANT
    else:
        return _leaf(data)
    v._data = data
    v.grad = 0.0
    v.label = ""
    return v


def _compute(op: Primitive, fn: Callable[..., float], datas: Sequence[float]) -> float:
    """``fn(*datas)``; in anomaly mode a domain error names the op and the user's line."""
    try:
        return fn(*datas)
    except (ArithmeticError, ValueError) as error:
        if _mode().anomaly:
            anomaly.check_forward(op.name, datas, error=error)
        raise


def _binary(op: Primitive, a: object, b: object) -> Value:
    x, y = _operand(a), _operand(b)
    if x is None or y is None:
        return NotImplemented  # type: ignore[no-any-return]
    return _node(_compute(op, op.forward, (x._data, y._data)), x, y, op)


def _apply(op: Primitive, args: Sequence[object], in_rule: bool) -> Any:
    """``op(*args)`` with a Value among them (the registry's handler for Values): a recorded
    Value; a plain number for a primitive without a derivative (a comparison).  ``in_rule``:
    called from a derivative rule, with IEEE results instead of domain errors."""
    operands: list[Value] = []
    for i, a in enumerate(args):
        o = _operand(a)
        if o is None:
            raise TypeError(
                f"{op.name}: argument {i + 1} must be a real number or a Value, got "
                f"{type(a).__name__}: {_brief(a)}"
            )
        operands.append(o)
    datas = [o._data for o in operands]
    fn = op.ieee if in_rule else op.forward
    if op.rule is None:
        return fn(*datas)
    data = _compute(op, fn, datas)
    return _node(data, operands[0], operands[1] if len(operands) > 1 else None, op)


registry.register_operand(Value, _apply)
registry.register_operand(_SitedValue, _apply)
