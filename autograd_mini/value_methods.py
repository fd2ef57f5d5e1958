"""The op-table methods of :class:`~autograd_mini.engine.Value` beyond the first seventeen:
``x.tan()``, ``x.atan2(y)``, ``x.clamp(min, max)``, ``round(x)`` … — each one line that applies its
entry of :mod:`autograd_mini.ops` (the same entries :mod:`autograd_mini.functions` calls).

``Value`` inherits them from :class:`TableMethods`, so ``engine.py`` keeps the Value core (data,
operators, the first seventeen functions, backward) and mypy and IDEs still see every method with
its signature.  engine.py imports this module before it defines Value, so the engine is read
here at call time (``engine._unary`` / ``engine._binary`` build the node): anomaly mode's swap of
the engine's node constructor reaches these methods too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from autograd_mini import engine as _engine  # partly imported: used at call time only
from autograd_mini import ops as _ops

if TYPE_CHECKING:
    from autograd_mini.engine import Operand, Value

__all__ = ["TableMethods"]


def _me(x: object) -> Value:
    """The Value a method was called on (the mixin is only ever a base of Value)."""
    return cast("Value", x)


def _unary(op: _ops.Op, x: Value) -> Value:
    return _engine._unary(op, x)


def _binary(op: _ops.Op, x: Value, other: object, what: str) -> Value:
    return _engine._binary(op, x, other, what)


class TableMethods:
    """Mixin of :class:`~autograd_mini.engine.Value`: the op table's functions as methods."""

    __slots__ = ()

    def tan(self) -> Value:
        """tan x (radians); tan' = 1 + tan²."""
        return _unary(_ops.TAN, _me(self))

    def sinh(self) -> Value:
        """sinh x = (eˣ − e⁻ˣ)/2; OverflowError for |x| > 710.47."""
        return _unary(_ops.SINH, _me(self))

    def cosh(self) -> Value:
        """cosh x = (eˣ + e⁻ˣ)/2; OverflowError for |x| > 710.47."""
        return _unary(_ops.COSH, _me(self))

    def asin(self) -> Value:
        """arcsin x; ValueError outside [−1, 1]; the slope is +inf at ±1."""
        return _unary(_ops.ASIN, _me(self))

    def acos(self) -> Value:
        """arccos x; ValueError outside [−1, 1]; the slope is −inf at ±1."""
        return _unary(_ops.ACOS, _me(self))

    def atan(self) -> Value:
        """arctan x; atan' = 1/(1 + x²)."""
        return _unary(_ops.ATAN, _me(self))

    def asinh(self) -> Value:
        """arsinh x = ln(x + √(x² + 1))."""
        return _unary(_ops.ASINH, _me(self))

    def acosh(self) -> Value:
        """arcosh x; ValueError for x < 1; the slope is +inf at 1."""
        return _unary(_ops.ACOSH, _me(self))

    def atanh(self) -> Value:
        """artanh x; ValueError outside (−1, 1)."""
        return _unary(_ops.ATANH, _me(self))

    def atan2(self, other: Operand) -> Value:
        """atan2(self, other): the angle of the point (other, self), like ``torch.atan2``."""
        return _binary(_ops.ATAN2, _me(self), other, "other")

    def hypot(self, other: Operand) -> Value:
        """√(self² + other²) without overflow; the gradient is NaN at (0, 0), as in PyTorch."""
        return _binary(_ops.HYPOT, _me(self), other, "other")

    def log1p(self) -> Value:
        """ln(1 + x), accurate for small x; ValueError for x ≤ −1."""
        return _unary(_ops.LOG1P, _me(self))

    def expm1(self) -> Value:
        """eˣ − 1, accurate for small x; OverflowError for x > 709.78."""
        return _unary(_ops.EXPM1, _me(self))

    def log2(self) -> Value:
        """log₂ x; ValueError for x ≤ 0."""
        return _unary(_ops.LOG2, _me(self))

    def log10(self) -> Value:
        """log₁₀ x; ValueError for x ≤ 0."""
        return _unary(_ops.LOG10, _me(self))

    def exp2(self) -> Value:
        """2ˣ; OverflowError for x ≥ 1024."""
        return _unary(_ops.EXP2, _me(self))

    def logaddexp(self, other: Operand) -> Value:
        """ln(eˢᵉˡᶠ + eᵒᵗʰᵉʳ), stable for any inputs."""
        return _binary(_ops.LOGADDEXP, _me(self), other, "other")

    def erf(self) -> Value:
        """The error function, 2/√π ∫₀ˣ e^(−t²) dt."""
        return _unary(_ops.ERF, _me(self))

    def erfc(self) -> Value:
        """1 − erf x, accurate for large x."""
        return _unary(_ops.ERFC, _me(self))

    def gelu(self) -> Value:
        """x·Φ(x) = x/2 · (1 + erf(x/√2)), the exact GELU (PyTorch's default)."""
        return _unary(_ops.GELU, _me(self))

    def silu(self) -> Value:
        """x·σ(x) (also called swish)."""
        return _unary(_ops.SILU, _me(self))

    def elu(self, alpha: Operand = 1.0) -> Value:
        """x for x > 0, alpha·(eˣ − 1) otherwise; the derivative at 0 is ``alpha``."""
        return _binary(_ops.ELU, _me(self), alpha, "alpha")

    def log_sigmoid(self) -> Value:
        """ln σ(x) = −softplus(−x), stable for any x."""
        return _unary(_ops.LOG_SIGMOID, _me(self))

    def softsign(self) -> Value:
        """x/(1 + |x|)."""
        return _unary(_ops.SOFTSIGN, _me(self))

    def clamp(self, min: Operand | None = None, max: Operand | None = None) -> Value:  # noqa: A002
        """x limited to [min, max] (either may be None), like ``torch.clamp``: the gradient is 1
        where min ≤ x ≤ max (also at the bounds), else 0; with min > max the result is max.
        Recorded as ``clamp_min`` and/or ``clamp_max``."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        out = _me(self) if min is None else _binary(_ops.CLAMP_MIN, _me(self), min, "min")
        return out if max is None else _binary(_ops.CLAMP_MAX, out, max, "max")

    def maximum(self, other: Operand) -> Value:
        """The larger of the two (NaN if either is); at a tie each input gets half the gradient."""
        return _binary(_ops.MAXIMUM, _me(self), other, "other")

    def minimum(self, other: Operand) -> Value:
        """The smaller of the two (NaN if either is); at a tie each gets half the gradient."""
        return _binary(_ops.MINIMUM, _me(self), other, "other")

    def sign(self) -> Value:
        """−1, 0 or 1 (0 for NaN, as ``torch.sign``); gradient 0."""
        return _unary(_ops.SIGN, _me(self))

    def floor(self) -> Value:
        """⌊x⌋ as a float; gradient 0."""
        return _unary(_ops.FLOOR, _me(self))

    def ceil(self) -> Value:
        """⌈x⌉ as a float; gradient 0."""
        return _unary(_ops.CEIL, _me(self))

    def round(self, decimals: int = 0) -> Value:
        """x rounded to ``decimals`` decimal places, halves to even; gradient 0.  Like
        ``torch.round``: with decimals ≠ 0 it is round(x·10ᵈ)/10ᵈ, recorded as such."""
        if isinstance(decimals, bool) or not isinstance(decimals, int):
            raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}")
        if not -300 <= decimals <= 300:
            raise ValueError(f"round: decimals must be in [-300, 300], got {decimals}")
        if decimals == 0:
            return _unary(_ops.ROUND, _me(self))
        if decimals > 0:
            scale = 10.0**decimals
            return _unary(_ops.ROUND, _me(self) * scale) / scale
        scale = 10.0**-decimals
        return _unary(_ops.ROUND, _me(self) / scale) * scale

    def __round__(self, ndigits: int | None = None) -> Value:
        """``round(v)`` and ``round(v, n)``: a Value, as :meth:`round` (PyTorch-style rounding
        that stays in the graph, gradient 0); use ``round(v.data)`` for Python's int."""
        return self.round(0 if ndigits is None else ndigits)
