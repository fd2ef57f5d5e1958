"""The engine: :class:`Value` records a graph of scalar operations, one node per operation, with
the rules in :mod:`autograd_mini.ops`.  Its neighbours do the rest: :mod:`autograd_mini.backprop`
orders the graph and runs reverse mode over it (:meth:`Value.backward`, :func:`grad`), and
:mod:`autograd_mini.grad_mode` says whether operations are recorded (:class:`no_grad`).  Their
public names are importable from here too.

Every node is built in this module, by :func:`_node` (and :func:`_leaf` for constants), and every
op's float forward is found through this module's ``_ops`` global.  Anomaly mode relies on that:
while a ``detect_anomaly`` block is open it swaps this module's ``_node`` and ``_ops`` globals for
checking versions, which reaches every place that builds a node (the Value methods,
:func:`apply_op`, and the backward passes with ``create_graph``, whose arithmetic on Values calls
these methods).  So code that builds nodes lives here and looks both names up as globals of this
module at call time: a copy bound elsewhere (``from autograd_mini.engine import _node``) would
escape the swap.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from autograd_mini import grad_mode as _grad_mode
from autograd_mini import instrument as _inst
from autograd_mini import ops as _ops
from autograd_mini.grad_mode import ComparisonHook as ComparisonHook
from autograd_mini.grad_mode import _grad_enabled
from autograd_mini.grad_mode import comparison_hook as comparison_hook
from autograd_mini.grad_mode import enable_grad as enable_grad
from autograd_mini.grad_mode import is_grad_enabled as is_grad_enabled
from autograd_mini.grad_mode import no_grad as no_grad
from autograd_mini.ops import (
    ABS,
    ADD,
    COS,
    DIV,
    EXP,
    LEAKY_RELU,
    LOG,
    MUL,
    NEG,
    POW,
    RELU,
    SIGMOID,
    SIN,
    SOFTPLUS,
    SQRT,
    SUB,
    TANH,
    Op,
)
from autograd_mini.value_methods import TableMethods

# grad_mode imports nothing from here, so its names are bound at import: the node constructor and
# the comparisons read _grad_enabled and _COMPARISON_HOOK as globals of this module, and the public
# names are re-exported (``X as X``: an explicit re-export for mypy --strict).  _COMPARISON_HOOK is
# assigned, not imported: CPython compiles ``name.get()`` on a name bound by an import statement as
# an attribute load plus call instead of a method call (a bound method allocated per comparison).
_COMPARISON_HOOK = _grad_mode._COMPARISON_HOOK

__all__ = [
    "Value",
    "apply_op",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "topological_order",
]

Number: TypeAlias = "int | float"  # what users pass; anything numbers.Real is accepted at run time
Operand: TypeAlias = "Value | float | int"


def _is_real_array_scalar(x: object) -> bool:
    """A NumPy-style scalar that ``numbers.Real`` does not cover (``np.bool_``, 0-d arrays) with a
    boolean, integer or floating dtype; found by duck typing, so NumPy is never imported."""
    dtype = getattr(x, "dtype", None)
    return getattr(x, "shape", None) == () and getattr(dtype, "kind", "") in ("b", "i", "u", "f")


def _as_float(x: object, what: str) -> float:
    """``x`` as a Python float if it is a real number, else a TypeError naming ``what``."""
    if type(x) is float:
        return x
    # `type(x) is int` first: isinstance against the numbers.Real ABC costs ~100 ns (measured).
    if (
        type(x) is int
        or (isinstance(x, numbers.Real) and not isinstance(x, Value))
        or _is_real_array_scalar(x)
    ):
        try:
            return float(x)  # type: ignore[arg-type]
        except OverflowError:
            raise OverflowError(f"{what}: {_brief(x)} is too large for a float") from None
    if isinstance(x, Value):
        raise TypeError(f"{what} must be a real number, got a Value (use v.data or v.detach())")
    raise TypeError(f"{what} must be a real number, got {type(x).__name__}: {_brief(x)}")


def _brief(x: object, limit: int = 80) -> str:
    """``repr(x)`` for an error message, cut to ``limit`` characters; never fails (an int of
    5,000 digits cannot be printed under Python's int-to-str limit, a user's __repr__ may raise)."""
    if type(x) is int and x.bit_length() > 256:
        return f"an int of about {int(x.bit_length() * 0.30103)} digits"
    try:
        text = repr(x)
    except Exception:  # any failure of a foreign __repr__: describe the value by its type
        return f"a {type(x).__name__}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Value(TableMethods):
    """A scalar that remembers how it was computed.

    ``data`` is the number (always a Python float), ``grad`` the accumulated ∂root/∂self after
    :meth:`backward` (starts at 0.0), ``label`` a name for drawings.  Arithmetic with Values or
    real numbers on either side builds the graph; a plain number operand becomes a constant leaf.

    Comparisons ``<, <=, >, >=, ==, !=`` compare ``data`` and return ``bool`` (nothing is
    recorded; ``Value(2.0) == 2.0`` is True).  ``hash`` stays identity, so Values work as dict
    keys and set members (looked up by identity); test identity with ``is``.

    NaN and ±inf inputs propagate as IEEE floats (``relu(nan)`` is nan); math-domain errors raise
    before any node is built.
    """

    # __slots__: ~20% less memory and ~13% faster attribute access than a __dict__ (STYLE.md).
    # _x, _y: the first and second input (None when absent), read as the tuple ``_parents``.
    #   Two slots instead of a tuple: one object per node instead of two for the cyclic garbage
    #   collector to track and traverse, and 48 bytes less. Measured: 112 instead of 160 bytes
    #   per node; MLP step (65,818 nodes) 172 -> 78 ms with gc on, 62 -> 52 ms with gc off.
    # _op: the primitive that made this node (None for leaves).
    # _g: scratch gradient of the backward pass in progress (None between passes).
    # _data: the number behind the ``data`` property, which checks assignments; the engine's
    #   hot paths read and write the slot directly (a property read costs ~25 ns more).
    __slots__ = ("_data", "_g", "_op", "_x", "_y", "grad", "label")

    __array_ufunc__ = None  # NumPy scalars defer to our reflected operators (np.float64(2) * v)

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}: {label!r}")
        self._data: float = _as_float(data, "Value data")
        self.grad: float = 0.0
        self.label: str = label
        self._x: Value | None = None
        self._y: Value | None = None
        self._op: Op | None = None
        self._g: Any = None

    @property
    def data(self) -> float:
        """The number, always a Python float.

        Assigning converts any real number (``int``, ``fractions.Fraction``, NumPy scalars) with
        ``float()``; anything else (a str, a Value, an object) is a TypeError, so nothing but a
        float is ever stored, printed into a picture or written into traced code.
        """
        return self._data

    @data.setter
    def data(self, value: Number) -> None:
        self._data = value if type(value) is float else _as_float(value, "Value.data")

    # --- conversions and display ---
    def item(self) -> float:
        """The number as a Python float (``data``), like ``torch.Tensor.item()``."""
        return self._data

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r}, label={self.label!r})"

    def __float__(self) -> float:
        return self.data

    def __format__(self, spec: str) -> str:
        return format(self.data, spec) if spec else repr(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter display: the graph as SVG (:mod:`autograd_mini.viz`) plus the repr as text."""
        from autograd_mini.viz import _mimebundle  # lazy: graphviz only when displayed

        return _mimebundle(self)

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
        return self._parents

    @property
    def _parents(self) -> tuple[Value, ...]:
        """The inputs as a tuple in argument order (never a set: sums stay deterministic)."""
        x, y = self._x, self._y
        if x is None:
            return ()
        return (x,) if y is None else (x, y)

    def detach(self) -> Value:
        """A new leaf with the same data (and label): gradients do not flow through it."""
        return Value(self.data, self.label)

    # --- comparisons: plain bools on data; a tracer may watch them (see comparison_hook) -------
    def __lt__(self, other: Operand) -> bool:
        result = self._data < _data(other, "<")
        hook = _COMPARISON_HOOK.get()
        if hook is not None:
            hook(self, "<", other, result)
        return result

    def __le__(self, other: Operand) -> bool:
        result = self._data <= _data(other, "<=")
        hook = _COMPARISON_HOOK.get()
        if hook is not None:
            hook(self, "<=", other, result)
        return result

    def __gt__(self, other: Operand) -> bool:
        result = self._data > _data(other, ">")
        hook = _COMPARISON_HOOK.get()
        if hook is not None:
            hook(self, ">", other, result)
        return result

    def __ge__(self, other: Operand) -> bool:
        result = self._data >= _data(other, ">=")
        hook = _COMPARISON_HOOK.get()
        if hook is not None:
            hook(self, ">=", other, result)
        return result

    # == and != by value like the others (NaN != NaN); anything but a number is just unequal
    def __eq__(self, other: object) -> bool:
        o = _number(other)
        if o is None:
            return NotImplemented
        result = self._data == o
        hook = _COMPARISON_HOOK.get()
        if hook is not None:
            hook(self, "==", other, result)
        return result

    def __ne__(self, other: object) -> bool:
        o = _number(other)
        if o is None:
            return NotImplemented
        result = self._data != o
        hook = _COMPARISON_HOOK.get()
        if hook is not None:
            hook(self, "!=", other, result)
        return result

    # defining __eq__ would make Values unhashable: keep identity, so dicts and sets keyed by
    # Values (the graph walks, optimizers) are unaffected by equal data
    __hash__ = object.__hash__

    # --- arithmetic; the math lives in autograd_mini.ops -----------------------------------------
    # `type(other) is Value` skips the _operand call when both sides are Values (the common
    # case): v * w 27.0 -> 24.7 ms per 1e5, MLP step -4%. The reflected methods need no such
    # test: Python calls them only when the left operand is not a Value.
    def __add__(self, other: Operand) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        return _node(self._data + o._data, self, o, ADD)

    def __radd__(self, other: Operand) -> Value:
        o = _operand(other)
        if o is None:
            return NotImplemented
        return _node(o._data + self._data, o, self, ADD)

    def __sub__(self, other: Operand) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        return _node(self._data - o._data, self, o, SUB)

    def __rsub__(self, other: Operand) -> Value:
        o = _operand(other)
        if o is None:
            return NotImplemented
        return _node(o._data - self._data, o, self, SUB)

    def __mul__(self, other: Operand) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        return _node(self._data * o._data, self, o, MUL)

    def __rmul__(self, other: Operand) -> Value:
        o = _operand(other)
        if o is None:
            return NotImplemented
        return _node(o._data * self._data, o, self, MUL)

    def __truediv__(self, other: Operand) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        return _node(_ops.div(self._data, o._data), self, o, DIV)

    def __rtruediv__(self, other: Operand) -> Value:
        o = _operand(other)
        if o is None:
            return NotImplemented
        return _node(_ops.div(o._data, self._data), o, self, DIV)

    def __pow__(self, other: Operand) -> Value:
        o = other if type(other) is Value else _operand(other)
        if o is None:
            return NotImplemented
        return _node(_ops.pow(self._data, o._data), self, o, POW)

    def __rpow__(self, other: Operand) -> Value:
        o = _operand(other)
        if o is None:
            return NotImplemented
        return _node(_ops.pow(o._data, self._data), o, self, POW)

    def __mod__(self, other: Operand) -> Value:
        """Python's floor-mod (the sign of the divisor), like ``torch.remainder``."""
        o = _operand(other)
        if o is None:
            return NotImplemented
        return _node(_ops.remainder(self._data, o._data), self, o, _ops.REMAINDER)

    def __rmod__(self, other: Operand) -> Value:
        o = _operand(other)
        if o is None:
            return NotImplemented
        return _node(_ops.remainder(o._data, self._data), o, self, _ops.REMAINDER)

    def __neg__(self) -> Value:
        return _node(-self._data, self, None, NEG)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _node(_ops.abs(self._data), self, None, ABS)

    # --- elementary functions ---
    def exp(self) -> Value:
        """eˣ; OverflowError for x > 709.78."""
        return _node(_ops.exp(self._data), self, None, EXP)

    def log(self) -> Value:
        """Natural logarithm; ValueError for x ≤ 0."""
        return _node(_ops.log(self._data), self, None, LOG)

    def sqrt(self) -> Value:
        """√x; ValueError for x < 0."""
        return _node(_ops.sqrt(self._data), self, None, SQRT)

    def tanh(self) -> Value:
        """Hyperbolic tangent, (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ)."""
        return _node(_ops.tanh(self._data), self, None, TANH)

    def sigmoid(self) -> Value:
        """Logistic function σ(x) = 1/(1 + e⁻ˣ), stable for any x."""
        return _node(_ops.sigmoid(self._data), self, None, SIGMOID)

    def relu(self) -> Value:
        """max(0, x), with relu'(0) = 0."""
        return _node(_ops.relu(self._data), self, None, RELU)

    def leaky_relu(self, slope: Operand = 0.01) -> Value:
        """x for x > 0, slope·x otherwise; the derivative at 0 is ``slope``."""
        s = _operand(slope)
        if s is None:
            raise TypeError(f"leaky_relu: slope must be a real number, got {type(slope).__name__}")
        return _node(_ops.leaky_relu(self._data, s._data), self, s, LEAKY_RELU)

    def sin(self) -> Value:
        """Sine (radians)."""
        return _node(_ops.sin(self._data), self, None, SIN)

    def cos(self) -> Value:
        """Cosine (radians)."""
        return _node(_ops.cos(self._data), self, None, COS)

    def softplus(self) -> Value:
        """ln(1 + eˣ), stable for any x; its derivative is σ(x)."""
        return _node(_ops.softplus(self._data), self, None, SOFTPLUS)

    # --- differentiation ---
    def backward(self, grad: Number = 1.0, retain_graph: bool = False) -> None:
        """Add ∂self/∂node · ``grad`` to ``node.grad`` for every node this Value depends on.

        Gradients accumulate like PyTorch: call ``zero_grad`` (or set ``.grad = 0.0``) between
        steps.  Afterwards the graph's intermediate results are released, so a second backward
        through it raises RuntimeError, unless this call passed ``retain_graph=True`` (then the
        next call adds exactly the same gradients again).  Iterative: any depth works.
        """
        seed = _as_float(grad, "backward: grad")
        with _PASS_LOCK:
            order = _begin_pass(self)
            self._g = seed
            try:
                # hooks or anomaly mode: checked once per pass, never per node
                if _inst.HOOKS or _inst.anomaly_blocks:
                    _inst.backprop(order, values=False)
                else:
                    _backprop_floats(order)
            except BaseException:
                _release(order, None)
                raise
            done = None if retain_graph else _FREED
            for node in order:
                node.grad += node._g
                node._g = None if node._op is None else done
            if not retain_graph:
                _inst.drop_released(order)

    def register_hook(self, fn: Callable[[Any], Any]) -> _inst.RemovableHandle:
        """Call ``fn(g)`` with this Value's gradient g = ∂root/∂self in every later
        :meth:`backward` / :func:`grad` pass, once g is complete (all paths summed).

        If ``fn`` returns a number, it replaces g: for what flows on to this Value's inputs, for
        what ``backward`` adds to ``.grad`` of a leaf and for what ``grad`` returns (PyTorch's
        ``register_hook``).  None keeps g.  g is a float, or a Value under
        ``grad(create_graph=True)``.  Several hooks run in registration order, each on the
        previous one's result.  Returns a handle whose ``.remove()`` unregisters ``fn``; until
        then the hook keeps this Value alive (an interior node's hooks go when a ``backward()``
        releases its graph).  While any hook exists, passes take a slower, instrumented loop.

        Like ``torch.autograd.grad``, ``grad(output, inputs)`` runs only the hooks of Values on
        a path from ``output`` to one of ``inputs``.  A gradient recorded with
        ``create_graph=True`` may use this Value (e.g. ``exp``'s rule reuses its output), so a
        later pass through it runs the hook again, as in PyTorch; which Values a rule reuses is
        the rule's choice, so remove the hook first to get the plain derivative of the hooked
        gradient.
        """
        return _inst.register_hook(self, fn)


def _number(other: object) -> float | None:
    """``other``'s number for == and != (a Value's data), None if it is not a real number."""
    if isinstance(other, Value):
        return other._data
    if type(other) is float:
        return other
    if isinstance(other, numbers.Real) or _is_real_array_scalar(other):
        try:
            return float(other)  # type: ignore[arg-type]
        except OverflowError:  # an int too large for a float: compare exactly instead
            return None
    return None


def _data(other: object, symbol: str) -> float:
    if isinstance(other, Value):
        return other._data
    return _as_float(other, f"comparison {symbol}")


# object.__new__ bound once (Value.__new__ is an attribute lookup per node): v * w 24.7 -> 22.6 ms
# per 1e5 operations, measured.
_new = object.__new__


def _leaf(data: float) -> Value:
    """A constant leaf: Value(data) without __init__'s checks, which ``data`` has passed."""
    v = _new(Value)
    v._data = data
    v.grad = 0.0
    v.label = ""
    v._x = None
    v._y = None
    v._op = None
    v._g = None
    return v


def _operand(x: object) -> Value | None:
    """A Value for an operand: itself, or a constant leaf for a real number; None otherwise."""
    if isinstance(x, Value):
        return x
    if type(x) is float:
        return _leaf(x)
    # `type(x) is int` first: `1 + v` 91 -> 55 ms per 1e5 (isinstance on the ABC is slow)
    if type(x) is int or isinstance(x, numbers.Real) or _is_real_array_scalar(x):
        return _leaf(_as_float(x, "operand"))
    return None


def _node(data: float, x: Value, y: Value | None, op: Op) -> Value:
    """The result of ``op`` on inputs ``x`` and ``y`` (None for a one-input op); a leaf when
    recording is off (``no_grad``)."""
    v = _new(Value)
    v._data = data
    v.grad = 0.0
    v.label = ""
    if _grad_enabled():
        v._x = x
        v._y = y
        v._op = op
    else:
        v._x = None
        v._y = None
        v._op = None
    v._g = None
    return v


# The forward functions are looked up in _ops by the op's name, like the methods above do, so
# that anomaly mode's checked table (swapped in for _ops) sees them too.
def _unary(op: Op, x: Value) -> Value:
    return _node(getattr(_ops, op.name)(x._data), x, None, op)


def _binary(op: Op, x: Value, other: object, what: str) -> Value:
    o = _operand(other)
    if o is None:
        raise TypeError(
            f"{op.name}: {what} must be a real number or a Value, got "
            f"{type(other).__name__}: {other!r}"
        )
    return _node(getattr(_ops, op.name)(x._data, o._data), x, o, op)


_NAMES = ("x", "y")


def _forward(op: Op, xs: Sequence[float]) -> float:
    """``op.forward(*xs)``; a user op's errors are reported like a built-in's, naming the op and
    its inputs, and its result must be a real number."""
    if not op.user:
        result: float = getattr(_ops, op.name)(*xs)  # _ops: see _unary
        return result
    try:
        result = op.forward(*xs)
    except Exception as exc:  # the user's code: report it as the op's error
        where = ", ".join(f"{n} = {x!r}" for n, x in zip(_NAMES, xs, strict=False))
        kind = next(
            (
                k
                for k in (ZeroDivisionError, OverflowError, ValueError, TypeError, ArithmeticError)
                if isinstance(exc, k)
            ),
            ValueError,
        )
        raise kind(f"{op.name}: {exc or type(exc).__name__} ({where})") from exc
    if type(result) is float:
        return result
    if isinstance(result, numbers.Real) or _is_real_array_scalar(result):
        return _as_float(result, f"{op.name}: forward result")
    raise TypeError(
        f"{op.name}: forward must return a real number, got {type(result).__name__}: {result!r}"
    )


def apply_op(op: Op, args: Sequence[object]) -> Any:
    """``op(*args)``: a recorded Value if any argument is a Value, else the float result.
    Missing trailing inputs take ``op.defaults``; errors name the op and the argument."""
    n, need = len(args), op.arity
    if n != need:
        optional = len(op.defaults)
        if not need - optional <= n < need:
            want = str(need) if not optional else f"{need - optional} to {need}"
            raise TypeError(f"{op.name}() takes {want} argument{'s' if need > 1 else ''}, got {n}")
        args = (*args, *op.defaults[optional - (need - n) :])
    # plain loops, no generators: this is the per-call path of functions.tan(x) and user ops
    has_value = False
    for a in args:
        if isinstance(a, Value):
            has_value = True
    if not has_value:
        floats = []
        for i, a in enumerate(args):
            floats.append(a if type(a) is float else _as_float(a, f"{op.name}: argument {i + 1}"))
        return _forward(op, floats)
    operands: list[Value] = []
    for i, a in enumerate(args):
        o = _operand(a)
        if o is None:
            raise TypeError(
                f"{op.name}: argument {i + 1} must be a real number or a Value, got "
                f"{type(a).__name__}: {a!r}"
            )
        operands.append(o)
    x = operands[0]
    if need == 1:
        return _node(_forward(op, (x._data,)), x, None, op)
    y = operands[1]
    return _node(_forward(op, (x._data, y._data)), x, y, op)


# backprop imports Value from this module, so it is imported last, once Value exists (a top import
# would be a cycle). Value.backward reads these as globals of this module, bound here once.
from autograd_mini.backprop import _FREED as _FREED  # noqa: E402
from autograd_mini.backprop import _PASS_LOCK as _PASS_LOCK  # noqa: E402
from autograd_mini.backprop import GraphTooLargeError as GraphTooLargeError  # noqa: E402
from autograd_mini.backprop import _backprop_floats as _backprop_floats  # noqa: E402
from autograd_mini.backprop import _begin_pass as _begin_pass  # noqa: E402
from autograd_mini.backprop import _release as _release  # noqa: E402
from autograd_mini.backprop import grad as grad  # noqa: E402
from autograd_mini.backprop import topological_order as topological_order  # noqa: E402
