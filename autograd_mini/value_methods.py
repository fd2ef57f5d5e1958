"""The op table's functions as methods of :class:`~autograd_mini.engine.Value`: ``x.tanh()``,
``x.atan2(y)``, ``x.clamp(min, max)``, ``round(x)`` … — one line each that applies its entry of
:mod:`autograd_mini.ops` (so mypy and IDEs see every method and its signature); the docstrings
come from the table.  ``Value`` inherits them from :class:`TableMethods`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from autograd_mini import ops as o
from autograd_mini.registry import OPS

if TYPE_CHECKING:
    from autograd_mini.engine import Operand, Value

__all__ = ["METHODS", "TableMethods"]

# ruff: noqa: E501 - one line per method is the point of this module


class TableMethods:
    """Mixin of :class:`~autograd_mini.engine.Value`: the op table's functions as methods."""

    __slots__ = ()
    _unary: Callable[[o.Primitive], Value]  # both provided by Value
    _binary_arg: Callable[[o.Primitive, object, str], Value]

    # fmt: off
    def __abs__(self) -> Value: return self._unary(o.ABS)
    def exp(self) -> Value: return self._unary(o.EXP)
    def log(self) -> Value: return self._unary(o.LOG)
    def sqrt(self) -> Value: return self._unary(o.SQRT)
    def tanh(self) -> Value: return self._unary(o.TANH)
    def sigmoid(self) -> Value: return self._unary(o.SIGMOID)
    def relu(self) -> Value: return self._unary(o.RELU)
    def leaky_relu(self, slope: Operand = 0.01) -> Value: return self._binary_arg(o.LEAKY_RELU, slope, "slope")
    def sin(self) -> Value: return self._unary(o.SIN)
    def cos(self) -> Value: return self._unary(o.COS)
    def softplus(self) -> Value: return self._unary(o.SOFTPLUS)
    def tan(self) -> Value: return self._unary(o.TAN)
    def sinh(self) -> Value: return self._unary(o.SINH)
    def cosh(self) -> Value: return self._unary(o.COSH)
    def asin(self) -> Value: return self._unary(o.ASIN)
    def acos(self) -> Value: return self._unary(o.ACOS)
    def atan(self) -> Value: return self._unary(o.ATAN)
    def asinh(self) -> Value: return self._unary(o.ASINH)
    def acosh(self) -> Value: return self._unary(o.ACOSH)
    def atanh(self) -> Value: return self._unary(o.ATANH)
    def atan2(self, other: Operand) -> Value: return self._binary_arg(o.ATAN2, other, "other")
    def hypot(self, other: Operand) -> Value: return self._binary_arg(o.HYPOT, other, "other")
    def log1p(self) -> Value: return self._unary(o.LOG1P)
    def expm1(self) -> Value: return self._unary(o.EXPM1)
    def log2(self) -> Value: return self._unary(o.LOG2)
    def log10(self) -> Value: return self._unary(o.LOG10)
    def exp2(self) -> Value: return self._unary(o.EXP2)
    def logaddexp(self, other: Operand) -> Value: return self._binary_arg(o.LOGADDEXP, other, "other")
    def logaddexp2(self, other: Operand) -> Value: return self._binary_arg(o.LOGADDEXP2, other, "other")
    def erf(self) -> Value: return self._unary(o.ERF)
    def erfc(self) -> Value: return self._unary(o.ERFC)
    def gelu(self) -> Value: return self._unary(o.GELU)
    def silu(self) -> Value: return self._unary(o.SILU)
    def elu(self, alpha: Operand = 1.0) -> Value: return self._binary_arg(o.ELU, alpha, "alpha")
    def log_sigmoid(self) -> Value: return self._unary(o.LOG_SIGMOID)
    def softsign(self) -> Value: return self._unary(o.SOFTSIGN)
    def maximum(self, other: Operand) -> Value: return self._binary_arg(o.MAXIMUM, other, "other")
    def minimum(self, other: Operand) -> Value: return self._binary_arg(o.MINIMUM, other, "other")
    def sign(self) -> Value: return self._unary(o.SIGN)
    def floor(self) -> Value: return self._unary(o.FLOOR)
    def ceil(self) -> Value: return self._unary(o.CEIL)
    def deg2rad(self) -> Value: return self._unary(o.DEG2RAD)
    def rad2deg(self) -> Value: return self._unary(o.RAD2DEG)
    def radians(self) -> Value: return self._unary(o.DEG2RAD)
    def degrees(self) -> Value: return self._unary(o.RAD2DEG)
    def sinc(self) -> Value: return self._unary(o.SINC)
    # fmt: on

    def clamp(self, min: Operand | None = None, max: Operand | None = None) -> Value:  # noqa: A002
        """x limited to [min, max] (either may be None), like ``torch.clamp``: the gradient is 1
        where min ≤ x ≤ max (also at the bounds), else 0; with min > max the result is max.
        Recorded as ``clamp_min`` and/or ``clamp_max``."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        out: Any = self if min is None else self._binary_arg(o.CLAMP_MIN, min, "min")
        return out if max is None else out._binary_arg(o.CLAMP_MAX, max, "max")  # type: ignore[no-any-return]

    def round(self, decimals: int = 0) -> Value:
        """x rounded to ``decimals`` decimal places, halves to even; gradient 0.  Like
        ``torch.round``: with decimals ≠ 0 it is round(x·10ᵈ)/10ᵈ, recorded as such."""
        if isinstance(decimals, bool) or not isinstance(decimals, int):
            raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
        if not -300 <= decimals <= 300:
            raise ValueError(f"round: decimals must be in [-300, 300], got {decimals}")
        if decimals == 0:
            return self._unary(o.ROUND)
        me: Any = self
        scale = 10.0 ** abs(decimals)
        return (me * scale).round() / scale if decimals > 0 else (me / scale).round() * scale  # type: ignore[no-any-return]

    def __round__(self, ndigits: int | None = None) -> Value:
        """``round(v)`` and ``round(v, n)``: a Value, as :meth:`round` (PyTorch-style rounding
        that stays in the graph, gradient 0); use ``round(v.data)`` for Python's int."""
        return self.round(0 if ndigits is None else ndigits)


METHODS: dict[str, o.Primitive] = {
    name: op for op in OPS.values() for name in (op.name, *op.aliases) if name in vars(TableMethods)
}
"""The op behind each one-line method: the table and the methods agree (a test checks it)."""
for _name, _op in METHODS.items():
    vars(TableMethods)[_name].__doc__ = _op.doc or f"The op ``{_op.name}``."
TableMethods.__abs__.__doc__ = o.ABS.doc
