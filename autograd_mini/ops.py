"""The calculus of autograd_mini: one table of primitives.

Every primitive is written here exactly once: its forward formula on floats (with the
math-domain checks) next to its vector-Jacobian product (VJP), the rule ``backward`` applies.

A VJP has the signature ``vjp(g, out, *inputs) -> tuple`` where ``g`` is ∂L/∂out, ``out`` is
the op's result and ``inputs`` are its operands in argument order; it returns ∂L/∂inputᵢ =
g · ∂out/∂inputᵢ for each input.  The same function runs in two modes:

* with floats, by :meth:`Value.backward` and ``grad(create_graph=False)`` (the fast path);
* with :class:`~autograd_mini.engine.Value` objects, by ``grad(create_graph=True)``, so the
  backward pass is itself recorded and can be differentiated again (higher-order gradients).

So a rule may only use arithmetic operators, comparisons (``==`` compares values, on floats and
Values alike), ``float()`` and the dispatching helpers below (``_sin``, ``_exp``, ``_sqrt``, …,
``_pow``), all of which work on both floats and Values; ``type(x) is float`` tells the two modes
apart where they must differ.  Forward functions take and return floats only, and are written
with plain arithmetic, ``math`` functions and simple ``if`` statements, so that the compiler
(:mod:`autograd_mini.trace`) can inline and vectorise them.

Conventions at kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope,
d(x**0)/dx = 0 (even at x = 0), d(a**b)/db = 0 where a = 0 and b ≥ 0 (NaN where a < 0),
elu'(0) = alpha, clamp passes the gradient at its bounds, maximum/minimum split it evenly at ties,
sign/floor/ceil/round have derivative 0, atan2'(0, 0) = 0, hypot'(0, 0) = NaN, and slopes at a
domain edge are ±inf (asin'(±1), acosh'(1), sqrt'(0)).

The table itself, :data:`OPS`, and :class:`Op` live in :mod:`autograd_mini.registry`; the
entries at the end of this module fill it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from autograd_mini.registry import OPS, Op

__all__ = ["OPS", "Op"]

INF = math.inf
NAN = math.nan
LN2 = 0.6931471805599453  # ln 2 and ln 10 as PyTorch writes them in its log2/log10 rules
LN10 = 2.3025850929940456
TWO_OVER_SQRT_PI = 1.1283791670955126  # 2/√π: erf'(x) = 2/√π · e^(−x²)
SQRT1_2 = 0.7071067811865476  # 1/√2
GELU_BETA = 0.3989422804014327  # 1/√(2π), the standard normal density at 0


# --- helpers that work on floats and on Values ---------------------------------------------
# In float mode every argument is a Python float (Value.data is always a float); in Value mode
# they are Values, which have a method of the same name.


def _sin(x: Any) -> Any:
    return sin(x) if type(x) is float else x.sin()  # sin, not math.sin: sin(±inf) is NaN


def _cos(x: Any) -> Any:
    return cos(x) if type(x) is float else x.cos()


def _log(x: Any) -> Any:
    return math.log(x) if type(x) is float else x.log()


def _sigmoid(x: Any) -> Any:
    return sigmoid(x) if type(x) is float else x.sigmoid()


def _exp(x: Any) -> Any:
    """eˣ where the rule knows it cannot overflow (x ≤ 0, or a result that did not)."""
    return math.exp(x) if type(x) is float else x.exp()


def _expm1(x: Any) -> Any:
    return math.expm1(x) if type(x) is float else x.expm1()


def _sqrt(x: Any) -> Any:
    return math.sqrt(x) if type(x) is float else x.sqrt()


def _abs(x: Any) -> Any:
    return math.fabs(x) if type(x) is float else x.__abs__()


def _sinh(x: Any) -> Any:
    return math.sinh(x) if type(x) is float else x.sinh()


def _cosh(x: Any) -> Any:
    return math.cosh(x) if type(x) is float else x.cosh()


def _erf(x: Any) -> Any:
    return math.erf(x) if type(x) is float else x.erf()


def _pow(x: Any, y: Any) -> Any:
    """xʸ for the derivative of pow: overflow gives ±inf (as in IEEE), not OverflowError.

    xⁿ⁻¹ can overflow where xⁿ did not (|x| < 1, n < 0); with Values (create_graph) the ±inf is
    then a constant leaf, so grad(create_graph=True) gives the same numbers as backward().
    """
    if type(x) is not float:
        try:
            return x**y
        except OverflowError:
            return type(x)(_pow(float(x), float(y)))
    try:
        result: float = x**y
    except OverflowError:
        return INF if x > 0.0 or y % 2.0 == 0.0 else -INF
    return result


def _finite_or_nan(fn: Callable[[float], float], x: float) -> float:
    """IEEE semantics for periodic functions: sin(±inf) is NaN, not a Python ValueError."""
    return fn(x) if math.isfinite(x) else NAN


# --- the table: forward formula, then its partial derivatives --------------------------------


# x + y
def add(x: float, y: float) -> float:
    return x + y


def add_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """∂(x+y)/∂x = 1,  ∂(x+y)/∂y = 1"""
    return g, g


# x - y
def sub(x: float, y: float) -> float:
    return x - y


def sub_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """∂(x−y)/∂x = 1,  ∂(x−y)/∂y = −1"""
    return g, -g


# x * y
def mul(x: float, y: float) -> float:
    return x * y


def mul_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """∂(xy)/∂x = y,  ∂(xy)/∂y = x"""
    return g * y, g * x


# x / y
def div(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivisionError(f"div: division by zero ({x!r} / {y!r})")
    return x / y


def div_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """∂(x/y)/∂x = 1/y,  ∂(x/y)/∂y = −x/y² = −out/y"""
    return g / y, -g * out / y


# -x
def neg(x: float) -> float:
    return -x


def neg_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂(−x)/∂x = −1"""
    return (-g,)


# x ** n   (also 2 ** x and x ** y: the constant side is a leaf Value)
def pow(x: float, n: float) -> float:  # noqa: A001 - the op's stem, shadowing is deliberate
    if x == 0.0 and n < 0.0:
        raise ZeroDivisionError(f"pow: 0.0 cannot be raised to the negative power {n!r}")
    if x < 0.0 and math.isfinite(n) and not n.is_integer():
        raise ValueError(
            f"pow: negative base {x!r} with non-integer exponent {n!r} has no real value"
        )
    try:
        result: float = x**n
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {n!r} overflows a float") from None
    return result


def pow_vjp(g: Any, out: Any, x: Any, n: Any) -> tuple[Any, Any]:
    """∂(xⁿ)/∂x = n·xⁿ⁻¹,  ∂(xⁿ)/∂n = xⁿ·ln x = out·ln x"""
    xf, nf = float(x), float(n)
    if nf == 0.0 and (type(x) is float or not math.isfinite(1.0 / xf if xf else INF)):
        dx: Any = 0.0  # PyTorch: d(x**0)/dx = 0, also at x = 0
    elif xf != 0.0 or nf >= 1.0:
        # With Values also at n = 0 where x⁻¹ is finite: the same 0, but recorded as n·xⁿ⁻¹ so
        # that its derivative in n, x⁻¹, is kept (PyTorch's where(n == 0, 0, …) drops it and
        # gets an asymmetric Hessian for xʸ at y = 0).
        dx = g * n * _pow(x, n - 1.0)
    else:
        dx = g * INF  # x = 0 and 0 < n < 1: the slope is infinite (n < 0 fails forward)
    if xf > 0.0:
        dn: Any = g * out * _log(x)
    elif xf == 0.0 and nf >= 0.0:
        dn = 0.0  # PyTorch: d(0**b)/db = 0 for b ≥ 0
    else:
        # ln of a negative base is not real: NaN, recorded as g·out·NaN so that its own
        # derivatives are NaN too (a constant NaN would differentiate to 0; torch gives NaN)
        dn = g * out * NAN
    return dx, dn


# |x|
def abs(x: float) -> float:  # noqa: A001
    return math.fabs(x)


def abs_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂|x|/∂x = sign(x), with sign(0) = 0 (and sign(NaN) = 0, like torch.sgn)"""
    if x > 0.0:
        return (g,)
    if x < 0.0:
        return (-g,)
    return (0.0,)


# eˣ
def exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: result overflows a float for x = {x!r} (max ≈ 709.78)") from None


def exp_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂eˣ/∂x = eˣ = out"""
    return (g * out,)


# ln x
def log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log: math domain error, log needs x > 0 but got {x!r}")
    return math.log(x)


def log_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂ln x/∂x = 1/x"""
    return (g / x,)


# √x
def sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError(f"sqrt: math domain error, sqrt needs x >= 0 but got {x!r}")
    return math.sqrt(x)


def sqrt_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂√x/∂x = 1/(2√x) = 1/(2·out)  (+inf at x = 0)"""
    if float(out) == 0.0:  # +inf; written so that its own slope is −inf (PyTorch's √''(0))
        return (g * ((1.0 - x) * INF),)
    return (g / (2.0 * out),)


# tanh x
def tanh(x: float) -> float:
    return math.tanh(x)


def tanh_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂tanh x/∂x = 1 − tanh²x = 1 − out²"""
    return (g * (1.0 - out * out),)


# σ(x) = 1 / (1 + e⁻ˣ)
def sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # x < 0 (or NaN): e⁻ˣ could overflow, eˣ cannot
    return e / (1.0 + e)


def sigmoid_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂σ(x)/∂x = σ(x)(1 − σ(x)) = out(1 − out)  (≤ 1/4: the vanishing gradient)"""
    return (g * out * (1.0 - out),)


# relu x = max(0, x)
def relu(x: float) -> float:
    return 0.0 if x <= 0.0 else x  # NaN stays NaN


def relu_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂relu(x)/∂x = 0 for x ≤ 0 (0 at the kink), else 1"""
    return (0.0 if x <= 0.0 else g,)  # the branch relu took: NaN passes g on, as in PyTorch


# leaky_relu(x, slope) = x for x > 0, slope·x otherwise
def leaky_relu(x: float, slope: float) -> float:
    return x if x > 0.0 else slope * x


def leaky_relu_vjp(g: Any, out: Any, x: Any, slope: Any) -> tuple[Any, Any]:
    """∂/∂x = 1 for x > 0, else slope (slope at the kink);  ∂/∂slope = 0 for x > 0, else x"""
    if x > 0.0:
        return g, 0.0
    return g * slope, g * x


# sin x
def sin(x: float) -> float:
    return _finite_or_nan(math.sin, x)


def sin_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂sin x/∂x = cos x"""
    return (g * _cos(x),)


# cos x
def cos(x: float) -> float:
    return _finite_or_nan(math.cos, x)


def cos_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂cos x/∂x = −sin x"""
    return (-g * _sin(x),)


# softplus x = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|) so it never overflows
def softplus(x: float) -> float:
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


def softplus_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂softplus(x)/∂x = σ(x)"""
    return (g * _sigmoid(x),)


# --- trigonometric and hyperbolic --------------------------------------------------------------


def _overflow(name: str, x: float) -> OverflowError:
    return OverflowError(f"{name}: result overflows a float for x = {x!r}")


def _domain(name: str, need: str, x: float) -> ValueError:
    return ValueError(f"{name}: math domain error, {name} needs {need} but got {x!r}")


# tan x
def tan(x: float) -> float:
    return _finite_or_nan(math.tan, x)


def tan_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂tan x/∂x = 1 + tan²x = 1 + out²"""
    return (g * (1.0 + out * out),)


# sinh x
def sinh(x: float) -> float:
    try:
        return math.sinh(x)
    except OverflowError:
        raise _overflow("sinh", x) from None


def sinh_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂sinh x/∂x = cosh x"""
    return (g * _cosh(x),)


# cosh x
def cosh(x: float) -> float:
    try:
        return math.cosh(x)
    except OverflowError:
        raise _overflow("cosh", x) from None


def cosh_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂cosh x/∂x = sinh x"""
    return (g * _sinh(x),)


# arcsin x, for −1 ≤ x ≤ 1
def asin(x: float) -> float:
    if x < -1.0 or x > 1.0:
        raise _domain("asin", "-1 <= x <= 1", x)
    return math.asin(x)


def asin_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂asin x/∂x = 1/√(1 − x²)  (+inf at x = ±1)"""
    d = 1.0 - x * x
    if d == 0.0:  # +inf; written so that its own slope is ±inf at ±1 (PyTorch's asin''(±1))
        return (g * (x * x * INF),)
    return (g / _sqrt(d),)


# arccos x, for −1 ≤ x ≤ 1
def acos(x: float) -> float:
    if x < -1.0 or x > 1.0:
        raise _domain("acos", "-1 <= x <= 1", x)
    return math.acos(x)


def acos_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂acos x/∂x = −1/√(1 − x²)  (−inf at x = ±1)"""
    d = 1.0 - x * x
    if d == 0.0:  # −inf; its own slope ∓inf at ±1 (PyTorch's acos''(±1))
        return (-g * (x * x * INF),)
    return (-g / _sqrt(d),)


# arctan x
def atan(x: float) -> float:
    return math.atan(x)


def atan_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂atan x/∂x = 1/(1 + x²)"""
    return (g / (x * x + 1.0),)


# arsinh x
def asinh(x: float) -> float:
    return math.asinh(x)


def asinh_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂asinh x/∂x = 1/√(x² + 1)"""
    return (g / _sqrt(x * x + 1.0),)


# arcosh x, for x ≥ 1
def acosh(x: float) -> float:
    if x < 1.0:
        raise _domain("acosh", "x >= 1", x)
    return math.acosh(x)


def acosh_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂acosh x/∂x = 1/√(x² − 1)  (+inf at x = 1)"""
    d = x * x - 1.0
    if d == 0.0:  # +inf; written so that its own slope is −inf (PyTorch's acosh''(1))
        return (g * ((2.0 - x * x) * INF),)
    return (g / _sqrt(d),)


# artanh x, for −1 < x < 1
def atanh(x: float) -> float:
    if x <= -1.0 or x >= 1.0:
        raise _domain("atanh", "-1 < x < 1", x)
    return math.atanh(x)


def atanh_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂atanh x/∂x = 1/(1 − x²)"""
    return (g / (1.0 - x * x),)


# atan2(y, x): the angle of the point (x, y), in (−π, π]
def atan2(y: float, x: float) -> float:
    return math.atan2(y, x)


def atan2_vjp(g: Any, out: Any, y: Any, x: Any) -> tuple[Any, Any]:
    """∂atan2(y, x)/∂y = x/(x² + y²),  ∂atan2(y, x)/∂x = −y/(x² + y²)  (0 at the origin)"""
    r = x * x + y * y
    if r == 0.0:
        return 0.0, 0.0  # PyTorch's convention at (0, 0)
    recip = 1.0 / r
    return g * x * recip, g * -y * recip


# hypot(x, y) = √(x² + y²)
def hypot(x: float, y: float) -> float:
    return math.hypot(x, y)


def hypot_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """∂hypot/∂x = x/out,  ∂hypot/∂y = y/out  (NaN at the origin, as 0/0 in PyTorch)"""
    if out == 0.0:
        return g * NAN, g * NAN
    return g * x / out, g * y / out


# --- exponential family ------------------------------------------------------------------------


# ln(1 + x), for x > −1
def log1p(x: float) -> float:
    if x <= -1.0:
        raise _domain("log1p", "x > -1", x)
    return math.log1p(x)


def log1p_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂ln(1 + x)/∂x = 1/(1 + x)"""
    return (g / (x + 1.0),)


# eˣ − 1
def expm1(x: float) -> float:
    try:
        return math.expm1(x)
    except OverflowError:
        raise _overflow("expm1", x) from None


def expm1_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂(eˣ − 1)/∂x = eˣ = out + 1"""
    return (g * (out + 1.0),)


# log₂ x, for x > 0
def log2(x: float) -> float:
    if x <= 0.0:
        raise _domain("log2", "x > 0", x)
    return math.log2(x)


def log2_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂log₂x/∂x = 1/(x ln 2)"""
    return (g / (x * LN2),)


# log₁₀ x, for x > 0
def log10(x: float) -> float:
    if x <= 0.0:
        raise _domain("log10", "x > 0", x)
    return math.log10(x)


def log10_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂log₁₀x/∂x = 1/(x ln 10)"""
    return (g / (x * LN10),)


# 2ˣ
def exp2(x: float) -> float:
    try:
        result: float = 2.0**x
    except OverflowError:
        raise _overflow("exp2", x) from None
    return result


def exp2_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂2ˣ/∂x = 2ˣ ln 2 = out · ln 2"""
    return (g * out * LN2,)


# ln(eˣ + eʸ) = max(x, y) + ln(1 + e^−|x−y|), never overflowing (PyTorch's formula)
def logaddexp(x: float, y: float) -> float:
    if math.isinf(x) and x == y:
        return x
    m = x if x >= y else y
    return m + math.log1p(math.exp(-math.fabs(x - y)))


def logaddexp_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """∂/∂x = eˣ/(eˣ + eʸ) = σ(x − y),  ∂/∂y = σ(y − x)"""
    return g * _sigmoid(x - y), g * _sigmoid(y - x)


# --- special functions and activations ---------------------------------------------------------


# erf x = 2/√π ∫₀ˣ e^(−t²) dt
def erf(x: float) -> float:
    return math.erf(x)


def erf_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂erf x/∂x = 2/√π · e^(−x²)"""
    return (TWO_OVER_SQRT_PI * _exp(-(x * x)) * g,)


# erfc x = 1 − erf x
def erfc(x: float) -> float:
    return math.erfc(x)


def erfc_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂erfc x/∂x = −2/√π · e^(−x²)"""
    return (-TWO_OVER_SQRT_PI * _exp(-(x * x)) * g,)


# gelu x = x·Φ(x) = x/2 · (1 + erf(x/√2))  (exact, not the tanh approximation)
def gelu(x: float) -> float:
    return x * 0.5 * (1.0 + math.erf(x * SQRT1_2))


def gelu_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂gelu x/∂x = Φ(x) + x·φ(x), with Φ the standard normal CDF and φ its density"""
    cdf = 0.5 * (1.0 + _erf(x * SQRT1_2))
    pdf = GELU_BETA * _exp(x * x * -0.5)
    return (g * (cdf + x * pdf),)


# silu x = x·σ(x)
def silu(x: float) -> float:
    return x * sigmoid(x)


def silu_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂(x·σ(x))/∂x = σ(x)·(1 + x(1 − σ(x)))"""
    s = _sigmoid(x)
    return (g * s * (1.0 + x * (1.0 - s)),)


# elu(x, alpha) = x for x > 0, alpha·(eˣ − 1) otherwise
def elu(x: float, alpha: float) -> float:
    return x if x > 0.0 else alpha * math.expm1(x)


def elu_vjp(g: Any, out: Any, x: Any, alpha: Any) -> tuple[Any, Any]:
    """∂/∂x = 1 for x > 0, else alpha·eˣ (alpha at the kink);  ∂/∂alpha = 0 or eˣ − 1"""
    if x > 0.0:
        return g, 0.0
    if x == 0.0:  # alpha, without eˣ: PyTorch's elu''(0) is 0 (its double backward is x < 0)
        return g * alpha, g * _expm1(x)
    return g * alpha * _exp(x), g * _expm1(x)


# log σ(x) = min(x, 0) − ln(1 + e^−|x|), never overflowing
def log_sigmoid(x: float) -> float:
    m = x if x < 0.0 else 0.0
    return m - math.log1p(math.exp(-math.fabs(x)))


def log_sigmoid_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂log σ(x)/∂x = 1 − σ(x) = σ(−x)"""
    return (g * _sigmoid(-x),)


# softsign x = x/(1 + |x|)
def softsign(x: float) -> float:
    return x / (1.0 + math.fabs(x))


def softsign_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂softsign x/∂x = 1/(1 + |x|)²"""
    d = 1.0 + _abs(x)
    return (g / (d * d),)


# --- piecewise ---------------------------------------------------------------------------------


# clamp_min(x, lo) = max(x, lo); NaN (in either) gives NaN
def clamp_min(x: float, lo: float) -> float:
    return lo if x < lo or lo != lo else x


def clamp_min_vjp(g: Any, out: Any, x: Any, lo: Any) -> tuple[Any, Any]:
    """∂/∂x = 1 where x ≥ lo (also at the bound), ∂/∂lo = 1 where x < lo"""
    if x >= lo:
        return g, 0.0
    if x < lo:
        return 0.0, g
    return 0.0, 0.0  # NaN


# clamp_max(x, hi) = min(x, hi); NaN (in either) gives NaN
def clamp_max(x: float, hi: float) -> float:
    return hi if x > hi or hi != hi else x


def clamp_max_vjp(g: Any, out: Any, x: Any, hi: Any) -> tuple[Any, Any]:
    """∂/∂x = 1 where x ≤ hi (also at the bound), ∂/∂hi = 1 where x > hi"""
    if x <= hi:
        return g, 0.0
    if x > hi:
        return 0.0, g
    return 0.0, 0.0  # NaN


# maximum(x, y); NaN if either is NaN
def maximum(x: float, y: float) -> float:
    return x if x >= y else (y if x < y else NAN)


def maximum_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """∂/∂x = 1 where x > y, ∂/∂y = 1 where y > x; at a tie each gets ½ (PyTorch)"""
    if x > y:
        return g, 0.0
    if x < y:
        return 0.0, g
    if x == y:
        return g * 0.5, g * 0.5
    return g, g  # NaN: PyTorch masks neither


# minimum(x, y); NaN if either is NaN
def minimum(x: float, y: float) -> float:
    return x if x <= y else (y if x > y else NAN)


def minimum_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """∂/∂x = 1 where x < y, ∂/∂y = 1 where y < x; at a tie each gets ½ (PyTorch)"""
    if x < y:
        return g, 0.0
    if x > y:
        return 0.0, g
    if x == y:
        return g * 0.5, g * 0.5
    return g, g


# sign x ∈ {−1, 0, 1} (0 for ±0 and NaN, as torch.sign)
def sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def sign_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂sign x/∂x = 0 (PyTorch: zero everywhere, also at 0)"""
    return (0.0,)


# ⌊x⌋ (±inf and NaN unchanged; the sign of a zero kept, as in C and PyTorch)
def floor(x: float) -> float:
    if not math.isfinite(x):
        return x
    return math.copysign(float(math.floor(x)), x)


def floor_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂⌊x⌋/∂x = 0"""
    return (0.0,)


# ⌈x⌉
def ceil(x: float) -> float:
    if not math.isfinite(x):
        return x
    return math.copysign(float(math.ceil(x)), x)


def ceil_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂⌈x⌉/∂x = 0"""
    return (0.0,)


# round x to the nearest integer, halves to even (as torch.round and Python's round)
def round(x: float) -> float:  # noqa: A001
    if not math.isfinite(x):
        return x
    f = float(math.floor(x))
    d = x - f  # exact
    up = d > 0.5 or (d == 0.5 and f % 2.0 == 1.0)
    return math.copysign(f + 1.0 if up else f, x)


def round_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂round(x)/∂x = 0"""
    return (0.0,)


# x % y: Python's floor-mod, the sign of y (torch.remainder)
def remainder(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivisionError(f"remainder: division by zero ({x!r} % {y!r})")
    return x % y


def remainder_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """x % y = x − y·⌊x/y⌋:  ∂/∂x = 1,  ∂/∂y = −⌊x/y⌋"""
    return g, -g * (float(x) // float(y))


# --- explain's formulas that are not plain text ------------------------------------------------


def _pow_formula(c: str, n: tuple[str, ...], node: Any) -> tuple[str, ...]:
    """xⁿ: with a constant exponent written out (2·x, 3·x^2), else n·x^(n − 1)."""
    base, exponent = n
    e = node._parents[1]
    if e.is_leaf and not e.label:
        k = e.data
        dx = "1" if k == 1 else (f"{k:.6g}·{base}" if k == 2 else f"{k:.6g}·{base}^{k - 1:.6g}")
    else:
        dx = f"{exponent}·{base}^({exponent} − 1)"
    return dx, f"{c}·ln {base}"


def _jax(name: str) -> Callable[..., Any]:
    """The op's JAX lowering, ``<name>`` in :mod:`autograd_mini.compile._jax_ops` (the first
    seventeen ops) or :mod:`autograd_mini.compile._jax_functions` (the rest), imported on first
    use (those modules import jax)."""

    def lower(*args: Any) -> Any:
        from autograd_mini.compile import _jax_functions, _jax_ops

        module = _jax_ops if hasattr(_jax_ops, name) else _jax_functions
        return getattr(module, name)(*args)

    lower.__name__ = f"{name}_jax"
    return lower


# --- the table: every primitive once, with its symbol, domain, kinks and explain formula --------
# Formulas: {0}, {1} are the inputs' names, {out} the result's.  Kinks are where a first or
# second derivative jumps; piecewise-constant ops list their jumps between −1000 and 1000.

_INTEGERS = tuple(float(k) for k in range(-1000, 1001))
_HALVES = tuple(k + 0.5 for k in range(-1000, 1000))
_INFIX = "infix"

ADD = Op("add", "+", add, add_vjp, formula=("1", "1"), notation=_INFIX, jax=_jax("add"))
SUB = Op("sub", "-", sub, sub_vjp, formula=("1", "−1"), notation=_INFIX, jax=_jax("sub"))
MUL = Op("mul", "*", mul, mul_vjp, formula=("{1}", "{0}"), notation=_INFIX, jax=_jax("mul"))
DIV = Op("div", "/", div, div_vjp, formula=("1/{1}", "−{0}/{1}²"), notation=_INFIX, jax=_jax("div"))
NEG = Op("neg", "-", neg, neg_vjp, formula=("−1",), notation="prefix", jax=_jax("neg"))
POW = Op(
    "pow", "**", pow, pow_vjp, (0.0, INF), formula=_pow_formula, notation=_INFIX, jax=_jax("pow")
)
ABS = Op("abs", "abs", abs, abs_vjp, kinks=(0.0,), formula=("sign({0})",), jax=_jax("abs"))
EXP = Op("exp", "exp", exp, exp_vjp, formula=("{out}",), jax=_jax("exp"))
LOG = Op("log", "log", log, log_vjp, (0.0, INF), formula=("1/{0}",), jax=_jax("log"))
SQRT = Op("sqrt", "sqrt", sqrt, sqrt_vjp, (0.0, INF), formula=("1/(2·{out})",), jax=_jax("sqrt"))
TANH = Op("tanh", "tanh", tanh, tanh_vjp, formula=("(1 − {out}²)",), jax=_jax("tanh"))
SIGMOID = Op(
    "sigmoid", "sigmoid", sigmoid, sigmoid_vjp, formula=("{out}(1 − {out})",), jax=_jax("sigmoid")
)
RELU = Op("relu", "relu", relu, relu_vjp, kinks=(0.0,), formula=("[{0} > 0]",), jax=_jax("relu"))
LEAKY_RELU = Op(
    "leaky_relu",
    "leaky_relu",
    leaky_relu,
    leaky_relu_vjp,
    kinks=(0.0,),
    formula=("(1 if {0} > 0 else {1})", "(0 if {0} > 0 else {0})"),
    defaults=(0.01,),
    jax=_jax("leaky_relu"),
)
SIN = Op("sin", "sin", sin, sin_vjp, formula=("cos {0}",), jax=_jax("sin"))
COS = Op("cos", "cos", cos, cos_vjp, formula=("−sin {0}",), jax=_jax("cos"))
SOFTPLUS = Op(
    "softplus", "softplus", softplus, softplus_vjp, formula=("σ({0})",), jax=_jax("softplus")
)
TAN = Op(
    "tan",
    "tan",
    tan,
    tan_vjp,
    (-math.pi / 2, math.pi / 2),
    formula=("(1 + {out}²)",),
    jax=_jax("tan"),
)
SINH = Op("sinh", "sinh", sinh, sinh_vjp, formula=("cosh {0}",), jax=_jax("sinh"))
COSH = Op("cosh", "cosh", cosh, cosh_vjp, formula=("sinh {0}",), jax=_jax("cosh"))
ASIN = Op("asin", "asin", asin, asin_vjp, (-1.0, 1.0), formula=("1/√(1 − {0}²)",), jax=_jax("asin"))
ACOS = Op(
    "acos", "acos", acos, acos_vjp, (-1.0, 1.0), formula=("−1/√(1 − {0}²)",), jax=_jax("acos")
)
ATAN = Op("atan", "atan", atan, atan_vjp, formula=("1/(1 + {0}²)",), jax=_jax("atan"))
ASINH = Op("asinh", "asinh", asinh, asinh_vjp, formula=("1/√({0}² + 1)",), jax=_jax("asinh"))
ACOSH = Op(
    "acosh", "acosh", acosh, acosh_vjp, (1.0, INF), formula=("1/√({0}² − 1)",), jax=_jax("acosh")
)
ATANH = Op(
    "atanh", "atanh", atanh, atanh_vjp, (-1.0, 1.0), formula=("1/(1 − {0}²)",), jax=_jax("atanh")
)
ATAN2 = Op(  # kink: the branch cut, y = 0 (for x < 0) jumps between π and −π
    "atan2",
    "atan2",
    atan2,
    atan2_vjp,
    kinks=(0.0,),
    formula=("{1}/({0}² + {1}²)", "−{0}/({0}² + {1}²)"),
    jax=_jax("atan2"),
)
HYPOT = Op(
    "hypot", "hypot", hypot, hypot_vjp, formula=("{0}/{out}", "{1}/{out}"), jax=_jax("hypot")
)
LOG1P = Op(
    "log1p", "log1p", log1p, log1p_vjp, (-1.0, INF), formula=("1/(1 + {0})",), jax=_jax("log1p")
)
EXPM1 = Op("expm1", "expm1", expm1, expm1_vjp, formula=("({out} + 1)",), jax=_jax("expm1"))
LOG2 = Op("log2", "log2", log2, log2_vjp, (0.0, INF), formula=("1/({0}·ln 2)",), jax=_jax("log2"))
LOG10 = Op(
    "log10", "log10", log10, log10_vjp, (0.0, INF), formula=("1/({0}·ln 10)",), jax=_jax("log10")
)
EXP2 = Op("exp2", "exp2", exp2, exp2_vjp, formula=("{out}·ln 2",), jax=_jax("exp2"))
LOGADDEXP = Op(
    "logaddexp",
    "logaddexp",
    logaddexp,
    logaddexp_vjp,
    formula=("σ({0} − {1})", "σ({1} − {0})"),
    jax=_jax("logaddexp"),
)
ERF = Op("erf", "erf", erf, erf_vjp, formula=("(2/√π)·e^(−{0}²)",), jax=_jax("erf"))
ERFC = Op("erfc", "erfc", erfc, erfc_vjp, formula=("−(2/√π)·e^(−{0}²)",), jax=_jax("erfc"))
GELU = Op("gelu", "gelu", gelu, gelu_vjp, formula=("(Φ({0}) + {0}·φ({0}))",), jax=_jax("gelu"))
SILU = Op(
    "silu", "silu", silu, silu_vjp, formula=("σ({0})(1 + {0}(1 − σ({0})))",), jax=_jax("silu")
)
ELU = Op(
    "elu",
    "elu",
    elu,
    elu_vjp,
    kinks=(0.0,),
    formula=("(1 if {0} > 0 else {1}·e^{0})", "(0 if {0} > 0 else e^{0} − 1)"),
    defaults=(1.0,),
    jax=_jax("elu"),
)
LOG_SIGMOID = Op(
    "log_sigmoid",
    "log_sigmoid",
    log_sigmoid,
    log_sigmoid_vjp,
    formula=("σ(−{0})",),
    jax=_jax("log_sigmoid"),
)
SOFTSIGN = Op(
    "softsign",
    "softsign",
    softsign,
    softsign_vjp,
    kinks=(0.0,),
    formula=("1/(1 + |{0}|)²",),
    jax=_jax("softsign"),
)
CLAMP_MIN = Op(
    "clamp_min",
    "clamp_min",
    clamp_min,
    clamp_min_vjp,
    formula=("[{0} ≥ {1}]", "[{0} < {1}]"),
    jax=_jax("clamp_min"),
)
CLAMP_MAX = Op(
    "clamp_max",
    "clamp_max",
    clamp_max,
    clamp_max_vjp,
    formula=("[{0} ≤ {1}]", "[{0} > {1}]"),
    jax=_jax("clamp_max"),
)
MAXIMUM = Op(
    "maximum",
    "maximum",
    maximum,
    maximum_vjp,
    formula=("[{0} > {1}] (½ at a tie)", "[{1} > {0}] (½ at a tie)"),
    jax=_jax("maximum"),
)
MINIMUM = Op(
    "minimum",
    "minimum",
    minimum,
    minimum_vjp,
    formula=("[{0} < {1}] (½ at a tie)", "[{1} < {0}] (½ at a tie)"),
    jax=_jax("minimum"),
)
SIGN = Op("sign", "sign", sign, sign_vjp, kinks=(0.0,), formula=("0",), jax=_jax("sign"))
FLOOR = Op("floor", "floor", floor, floor_vjp, kinks=_INTEGERS, formula=("0",), jax=_jax("floor"))
CEIL = Op("ceil", "ceil", ceil, ceil_vjp, kinks=_INTEGERS, formula=("0",), jax=_jax("ceil"))
ROUND = Op("round", "round", round, round_vjp, kinks=_HALVES, formula=("0",), jax=_jax("round"))
REMAINDER = Op(
    "remainder",
    "%",
    remainder,
    remainder_vjp,
    formula=("1", "−⌊{0}/{1}⌋"),
    notation=_INFIX,
    jax=_jax("remainder"),
)

OPS.update(
    (op.name, op)
    for op in (
        ADD,
        SUB,
        MUL,
        DIV,
        NEG,
        POW,
        ABS,
        EXP,
        LOG,
        SQRT,
        TANH,
        SIGMOID,
        RELU,
        LEAKY_RELU,
        SIN,
        COS,
        SOFTPLUS,
        TAN,
        SINH,
        COSH,
        ASIN,
        ACOS,
        ATAN,
        ASINH,
        ACOSH,
        ATANH,
        ATAN2,
        HYPOT,
        LOG1P,
        EXPM1,
        LOG2,
        LOG10,
        EXP2,
        LOGADDEXP,
        ERF,
        ERFC,
        GELU,
        SILU,
        ELU,
        LOG_SIGMOID,
        SOFTSIGN,
        CLAMP_MIN,
        CLAMP_MAX,
        MAXIMUM,
        MINIMUM,
        SIGN,
        FLOOR,
        CEIL,
        ROUND,
        REMAINDER,
    )
)
