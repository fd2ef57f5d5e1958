"""Scalar functions with PyTorch's names that accept Values or plain numbers.

A number in, a float out; any Value in, a Value out (the operation is recorded, so gradients
flow).  Each function is the op of the registry itself (``functions.tan is OPS["tan"]``) or a thin
wrapper where keyword arguments are involved (``elu``, ``leaky_relu``, ``clamp``, ``round``).
Because they work on floats and on Values alike, they are also the way to write a
:func:`~autograd_mini.defop` rule that stays differentiable under ``grad(create_graph=True)``.

>>> from autograd_mini import Value
>>> from autograd_mini.functions import atan2, erf, hypot
>>> hypot(3.0, 4.0)
5.0
>>> x = Value(0.5)
>>> y = erf(x) + atan2(x, 1.0)
>>> y.backward()
>>> round(x.grad, 12)  # 2/√π·e^(−¼) + 1/(1 + ¼)
1.678782578935
"""

from __future__ import annotations

from typing import Any, Protocol, overload

from autograd_mini import ops as _ops
from autograd_mini.engine import Operand, Value
from autograd_mini.registry import Var, as_float as _as_float


class Unary(Protocol):
    """``f(x)``: a Value for a Value, a float for a number."""

    @overload
    def __call__(self, x: Value, /) -> Value: ...
    @overload
    def __call__(self, x: float, /) -> float: ...


class Binary(Protocol):
    """``f(x, y)``: a Value if either is a Value, else a float."""

    @overload
    def __call__(self, x: Value, y: Operand, /) -> Value: ...
    @overload
    def __call__(self, x: float, y: Value, /) -> Value: ...
    @overload
    def __call__(self, x: float, y: float, /) -> float: ...


# one input
abs: Unary = _ops.ABS  # noqa: A001 - PyTorch's name
exp: Unary = _ops.EXP
log: Unary = _ops.LOG
sqrt: Unary = _ops.SQRT
tanh: Unary = _ops.TANH
sigmoid: Unary = _ops.SIGMOID
relu: Unary = _ops.RELU
sin: Unary = _ops.SIN
cos: Unary = _ops.COS
softplus: Unary = _ops.SOFTPLUS
tan: Unary = _ops.TAN
sinh: Unary = _ops.SINH
cosh: Unary = _ops.COSH
asin: Unary = _ops.ASIN
acos: Unary = _ops.ACOS
atan: Unary = _ops.ATAN
asinh: Unary = _ops.ASINH
acosh: Unary = _ops.ACOSH
atanh: Unary = _ops.ATANH
log1p: Unary = _ops.LOG1P
expm1: Unary = _ops.EXPM1
log2: Unary = _ops.LOG2
log10: Unary = _ops.LOG10
exp2: Unary = _ops.EXP2
erf: Unary = _ops.ERF
erfc: Unary = _ops.ERFC
gelu: Unary = _ops.GELU
silu: Unary = _ops.SILU
log_sigmoid: Unary = _ops.LOG_SIGMOID
softsign: Unary = _ops.SOFTSIGN
sign: Unary = _ops.SIGN
floor: Unary = _ops.FLOOR
ceil: Unary = _ops.CEIL
deg2rad: Unary = _ops.DEG2RAD
rad2deg: Unary = _ops.RAD2DEG
radians: Unary = _ops.DEG2RAD
degrees: Unary = _ops.RAD2DEG
sinc: Unary = _ops.SINC

# two inputs
pow: Binary = _ops.POW  # noqa: A001
atan2: Binary = _ops.ATAN2
hypot: Binary = _ops.HYPOT
logaddexp: Binary = _ops.LOGADDEXP
logaddexp2: Binary = _ops.LOGADDEXP2
maximum: Binary = _ops.MAXIMUM
minimum: Binary = _ops.MINIMUM
remainder: Binary = _ops.REMAINDER
clamp_min: Binary = _ops.CLAMP_MIN
clamp_max: Binary = _ops.CLAMP_MAX


@overload
def elu(x: Value, alpha: Operand = ...) -> Value: ...
@overload
def elu(x: float, alpha: float = ...) -> float: ...
def elu(x: Any, alpha: Any = 1.0) -> Any:
    """x for x > 0, alpha·(eˣ − 1) otherwise (``torch.nn.functional.elu``)."""
    return _ops.ELU(x, alpha)


@overload
def leaky_relu(x: Value, slope: Operand = ...) -> Value: ...
@overload
def leaky_relu(x: float, slope: float = ...) -> float: ...
def leaky_relu(x: Any, slope: Any = 0.01) -> Any:
    """x for x > 0, slope·x otherwise (``torch.nn.functional.leaky_relu``)."""
    return _ops.LEAKY_RELU(x, slope)


@overload
def clamp(x: Value, min: Operand | None = ..., max: Operand | None = ...) -> Value: ...
@overload
def clamp(x: float, min: float | None = ..., max: float | None = ...) -> float: ...
def clamp(x: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    """x limited to [min, max], like ``torch.clamp`` (see :meth:`Value.clamp`)."""
    if isinstance(x, Var):  # in a rule being traced
        return x.clamp(min, max)
    out = (x if isinstance(x, Value) else Value(_as_float(x, "clamp: x"))).clamp(min, max)
    return out if any(isinstance(v, Value) for v in (x, min, max)) else out.data


@overload
def round(x: Value, decimals: int = ...) -> Value: ...  # noqa: A001
@overload
def round(x: float, decimals: int = ...) -> float: ...  # noqa: A001
def round(x: Any, decimals: int = 0) -> Any:  # noqa: A001
    """x rounded to ``decimals`` places, halves to even, like ``torch.round``; gradient 0."""
    if isinstance(x, (Value, Var)):
        return x.round(decimals)
    return Value(_as_float(x, "round: x")).round(decimals).data


__all__ = sorted(
    name for name, fn in list(globals().items()) if isinstance(fn, _ops.Primitive) or name in
    ("clamp", "elu", "leaky_relu", "round")
)  # fmt: skip
