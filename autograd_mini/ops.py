"""The calculus of autograd_mini: every primitive once, as one entry of the registry.

An entry gives the op's float ``forward`` (with its math-domain checks), or for a composite op
its ``defn`` in the op vocabulary, and its **rule** ``rule(g, out, *inputs) -> (g·∂out/∂inputᵢ, …)``
written in that vocabulary: arithmetic, the primitives below (``COS(x)``, ``SIGMOID(x)``),
comparisons and :func:`~autograd_mini.registry.where` instead of Python's ``if``.  The same rule
gives the float fast path of ``backward``, the recorded Values of ``grad(create_graph=True)``
(so any order), forward mode and every compiler backend (see :mod:`autograd_mini.registry`).
Arithmetic inside a rule is IEEE's: ``g / (2.0 * out)`` is ``±inf`` at ``out = ±0``, so slopes
at a domain edge and their own derivatives follow from the formula.

Conventions follow PyTorch: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope,
d(x**0)/dx = 0 (even at x = 0), d(a**b)/db = 0 where a = 0 and b ≥ 0 (NaN where a < 0),
elu'(0) = alpha, clamp passes the gradient at its bounds, maximum/minimum split it evenly at ties,
sign/floor/ceil/round have derivative 0, atan2'(0, 0) = 0, hypot'(0, 0) = NaN, sinc'(0) = 0, and
slopes at a domain edge are ±inf (asin'(±1), acosh'(1), sqrt'(±0)).  A masked partial is
``g * 0.0`` where PyTorch multiplies the gradient by a zero (an infinite g gives NaN), and a
literal ``0.0`` where PyTorch writes zeros (relu, clamp, sign, floor).
"""

from __future__ import annotations

import math
from typing import Any

from autograd_mini.registry import OPS, Primitive, register, where

__all__ = ["OPS", "Primitive"]

INF = math.inf
NAN = math.nan
LN2 = 0.6931471805599453  # ln 2 and ln 10 as PyTorch writes them in its log2/log10 rules
LN10 = 2.3025850929940456
INV_LN2 = 1.4426950408889634  # 1/ln 2, PyTorch's logaddexp2
TWO_OVER_SQRT_PI = 1.1283791670955126  # 2/√π: erf'(x) = 2/√π · e^(−x²)
SQRT1_2 = 0.7071067811865476  # 1/√2
GELU_BETA = 0.3989422804014327  # 1/√(2π), the standard normal density at 0
PI = math.pi
DEG_TO_RAD = math.pi / 180.0
RAD_TO_DEG = 180.0 / math.pi
FROM_DEFN: Any = None  # a composite op's float forward: generated from its defn
_INTEGERS = tuple(float(k) for k in range(-1000, 1001))
_HALVES = tuple(k + 0.5 for k in range(-1000, 1000))


# --- float forwards with their domain checks, and IEEE versions for use inside rules ---------


def _overflow(name: str, x: float) -> OverflowError:
    return OverflowError(f"{name}: result overflows a float for x = {x!r}")


def _domain(name: str, need: str, x: float) -> ValueError:
    return ValueError(f"{name}: math domain error, {name} needs {need} but got {x!r}")


def _div(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivisionError(f"div: division by zero ({x!r} / {y!r})")
    return x / y


def _div_ieee(x: float, y: float) -> float:
    return x / y if y else x * math.copysign(INF, y)  # ±inf, or NaN for 0/0


def _pow(x: float, n: float) -> float:
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


def _pow_ieee(x: float, n: float) -> float:
    """xⁿ as IEEE's pow: 0 to a negative power is ±inf, overflow ±inf, a negative base to a
    non-integer power NaN."""
    odd = math.isfinite(n) and n.is_integer() and n % 2.0 == 1.0
    if x == 0.0 and n < 0.0:
        return math.copysign(INF, x) if odd else INF
    if x < 0.0 and math.isfinite(n) and not n.is_integer():
        return NAN
    try:
        result: float = x**n
    except OverflowError:
        return -INF if x < 0.0 and odd else INF
    return result


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: result overflows a float for x = {x!r} (max ≈ 709.78)") from None


def _log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log: math domain error, log needs x > 0 but got {x!r}")
    return math.log(x)


def _log_ieee(x: float) -> float:
    return math.log(x) if x > 0.0 else (-INF if x == 0.0 else NAN)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise ValueError(f"sqrt: math domain error, sqrt needs x >= 0 but got {x!r}")
    return math.sqrt(x)


def _finite_or_nan(fn: Any) -> Any:
    """IEEE semantics for periodic functions: sin(±inf) is NaN, not a Python ValueError."""
    return lambda x: fn(x) if math.isfinite(x) else NAN


def _no_overflow(name: str, fn: Any) -> Any:
    def forward(x: float) -> float:
        try:
            result: float = fn(x)
        except OverflowError:
            raise _overflow(name, x) from None
        return result

    return forward


def _checked(name: str, fn: Any, need: str, bad: Any) -> Any:
    """``fn`` that raises a ValueError naming the op where ``bad(x)`` (NaN passes through)."""

    def forward(x: float) -> float:
        if bad(x):
            raise _domain(name, need, x)
        result: float = fn(x)
        return result

    return forward


def _exp2(x: float) -> float:
    try:
        result: float = 2.0**x
    except OverflowError:
        raise _overflow("exp2", x) from None
    return result


def _sign_kept(fn: Any) -> Any:
    """⌊x⌋, ⌈x⌉ as floats: ±inf and NaN unchanged, the sign of a zero kept (as C and PyTorch)."""
    return lambda x: math.copysign(float(fn(x)), x) if math.isfinite(x) else x


def _round(x: float) -> float:
    """x to the nearest integer, halves to even (as torch.round and Python's round)."""
    if not math.isfinite(x):
        return x
    f = float(math.floor(x))
    d = x - f  # exact
    up = d > 0.5 or (d == 0.5 and f % 2.0 == 1.0)
    return math.copysign(f + 1.0 if up else f, x)


def _remainder(x: float, y: float) -> float:
    """x − y·⌊x/y⌋ with the sign of y, as ``torch.remainder`` (a zero keeps the sign of x)."""
    if y == 0.0:
        raise ZeroDivisionError(f"remainder: division by zero ({x!r} % {y!r})")
    if not math.isfinite(x) or y != y:
        return NAN
    r = math.fmod(x, y)
    if r != 0.0 and (r < 0.0) != (y < 0.0):
        r += y
    return r


def _ieee(fn: Any, special: Any) -> Any:
    """The IEEE version of a checked forward, for rules and array backends: ``special(*xs)``
    (±inf or NaN) where ``fn`` raises."""

    def ieee(*xs: float) -> float:
        try:
            result: float = fn(*xs)
        except (ValueError, OverflowError, ZeroDivisionError):
            return float(special(*xs))
        return result

    return ieee


def _inf_at(edge: float) -> Any:
    """x = edge gives -inf (a logarithm's pole), anything else outside the domain NaN."""
    return lambda x: -INF if x == edge else NAN


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


# --- the table ------------------------------------------------------------------------------------
# One entry per op, written as a table (the formatter leaves it so).
# fmt: off
_INFIX = "infix"

ADD = Primitive("add", lambda x, y: x + y, lambda g, out, x, y: (g, g), symbol="+",
                formula=("1", "1"), notation=_INFIX, py=("{0} + {1}", 10), numpy="add")
SUB = Primitive("sub", lambda x, y: x - y, lambda g, out, x, y: (g, -g), symbol="-",
                formula=("1", "−1"), notation=_INFIX, py=("{0} - {1}", 10), numpy="subtract")
MUL = Primitive("mul", lambda x, y: x * y, lambda g, out, x, y: (g * y, g * x), symbol="*",
                formula=("{1}", "{0}"), notation=_INFIX, py=("{0} * {1}", 20), numpy="multiply")
DIV = Primitive("div", _div, lambda g, out, x, y: (g / y, -g * out / y), symbol="/",
                formula=("1/{1}", "−{0}/{1}²"), notation=_INFIX, ieee=_div_ieee,
                py=("{0} / {1}", 20), numpy="divide")
NEG = Primitive("neg", lambda x: -x, lambda g, out, x: (-g,), symbol="-", formula=("−1",),
                notation="prefix", py=("-{0}", 30), numpy="negative")


def _pow_rule(g: Any, out: Any, x: Any, n: Any) -> tuple[Any, Any]:
    """∂(xⁿ)/∂x = n·xⁿ⁻¹ (0 for n = 0, also at x ≤ 0),  ∂(xⁿ)/∂n = xⁿ·ln x (0 at x = 0, n ≥ 0)

    At n = 0 and x > 0 it is written n/x (= n·xⁿ⁻¹ there; + 0.0: PyTorch's +0 at n = −0): that
    0 already, finite even for a subnormal x, and it keeps its slope in n (x⁻¹), so the Hessian's
    mixed partials agree (PyTorch's where(n == 0, 0, …) drops it there)."""
    slope = g * n * POW(x, n - 1.0)
    dn = g * out * LOG(x)
    return (
        where(n == 0.0, where(x > 0.0, g * (n / x + 0.0), g * 0.0), slope),
        where(x == 0.0, where(n >= 0.0, g * 0.0, dn), dn),
    )


POW = Primitive("pow", _pow, _pow_rule, symbol="**", formula=_pow_formula, notation=_INFIX,
                domain=(0.0, INF), ieee=_pow_ieee, jax="power",
                js="_pow({0}, {1})")

# --- elementary functions ------------------------------------------------------------------------
ABS = Primitive("abs", math.fabs, lambda g, out, x: (g * SIGN(x),), kinks=(0.0,),
                formula=("sign({0})",), py=("math.fabs({0})", 100), js="Math.abs({0})",
                numpy="fabs", jax="abs", doc="|x|; the derivative is sign(x), 0 at 0 (PyTorch).")
EXP = Primitive("exp", _exp, lambda g, out, x: (g * out,), formula=("{out}",),
                ieee=_ieee(math.exp, lambda x: INF), py=("math.exp({0})", 100), js="Math.exp({0})",
                jax="exp", doc="eˣ; OverflowError for x > 709.78.")
LOG = Primitive("log", _log, lambda g, out, x: (g / x,), domain=(0.0, INF), formula=("1/{0}",),
                ieee=_log_ieee, py=("math.log({0})", 100), js="Math.log({0})",
                jax="log", doc="Natural logarithm; ValueError for x ≤ 0.")
SQRT = Primitive("sqrt", _sqrt, lambda g, out, x: (g / (2.0 * out),), domain=(0.0, INF),
                 formula=("1/(2·{out})",), ieee=_ieee(math.sqrt, lambda x: NAN),
                 py=("math.sqrt({0})", 100), js="Math.sqrt({0})", numpy="sqrt", jax="sqrt",
                 doc="√x; ValueError for x < 0; the slope is ±inf at ±0.")
TANH = Primitive("tanh", math.tanh, lambda g, out, x: (g * (1.0 - out * out),),
                 formula=("(1 − {out}²)",), py=("math.tanh({0})", 100), js="Math.tanh({0})",
                 jax="tanh", doc="Hyperbolic tangent, (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ).")


def _sigmoid(x: Any) -> Any:
    e = EXP(x)  # x < 0 (or NaN): e⁻ˣ could overflow, eˣ cannot
    return where(x >= 0.0, 1.0 / (1.0 + EXP(-x)), e / (1.0 + e))


SIGMOID = Primitive("sigmoid", FROM_DEFN, lambda g, out, x: (g * out * (1.0 - out),), defn=_sigmoid,
                    formula=("{out}(1 − {out})",),
                    doc="Logistic function σ(x) = 1/(1 + e⁻ˣ), stable for any x; σ' ≤ ¼.")
RELU = Primitive("relu", FROM_DEFN, lambda g, out, x: (where(x <= 0.0, 0.0, g),),
                 defn=lambda x: where(x < 0.0, 0.0, x), kinks=(0.0,), formula=("[{0} > 0]",),
                 doc="max(0, x), with relu'(0) = 0; NaN and -0.0 stay (PyTorch).")
LEAKY_RELU = Primitive("leaky_relu", FROM_DEFN,
    lambda g, out, x, slope: (where(x > 0.0, g, g * slope), where(x > 0.0, 0.0, g * x)),
    defn=lambda x, slope: where(x > 0.0, x, slope * x), kinks=(0.0,), defaults=(0.01,),
    formula=("(1 if {0} > 0 else {1})", "(0 if {0} > 0 else {0})"),
    doc="x for x > 0, slope·x otherwise; the derivative at 0 is ``slope``.")
SIN = Primitive("sin", _finite_or_nan(math.sin), lambda g, out, x: (g * COS(x),),
                formula=("cos {0}",), py=("math.sin({0})", 100), js="Math.sin({0})", jax="sin",
                doc="Sine (radians).")
COS: Primitive = Primitive("cos", _finite_or_nan(math.cos), lambda g, out, x: (-g * SIN(x),),
                formula=("−sin {0}",), py=("math.cos({0})", 100), js="Math.cos({0})", jax="cos",
                doc="Cosine (radians).")
SOFTPLUS = Primitive("softplus", FROM_DEFN, lambda g, out, x: (g * SIGMOID(x),),
    defn=lambda x: where(x > 0.0, x + LOG1P(EXP(-x)), LOG1P(EXP(x))), formula=("σ({0})",),
    doc="ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|): stable for any x.")

# --- trigonometric and hyperbolic ---------------------------------------------------------------
TAN = Primitive("tan", _finite_or_nan(math.tan), lambda g, out, x: (g * (1.0 + out * out),),
                domain=(-math.pi / 2, math.pi / 2), formula=("(1 + {out}²)",),
                py=("math.tan({0})", 100), js="Math.tan({0})", jax="tan",
                doc="tan x (radians); tan' = 1 + tan².")
SINH = Primitive("sinh", _no_overflow("sinh", math.sinh), lambda g, out, x: (g * COSH(x),),
                 formula=("cosh {0}",), py=("math.sinh({0})", 100), js="Math.sinh({0})",
                 ieee=_ieee(math.sinh, lambda x: math.copysign(INF, x)), jax="sinh",
                 doc="sinh x = (eˣ − e⁻ˣ)/2; OverflowError for |x| > 710.47.")
COSH: Primitive = Primitive("cosh", _no_overflow("cosh", math.cosh),
                            lambda g, out, x: (g * SINH(x),),
                 formula=("sinh {0}",), py=("math.cosh({0})", 100), js="Math.cosh({0})",
                 ieee=_ieee(math.cosh, lambda x: INF), jax="cosh",
                 doc="cosh x = (eˣ + e⁻ˣ)/2; OverflowError for |x| > 710.47.")
ASIN = Primitive("asin", _checked("asin", math.asin, "-1 <= x <= 1", lambda x: x < -1.0 or x > 1.0),
                 lambda g, out, x: (g / SQRT(1.0 - x * x),), domain=(-1.0, 1.0),
                 formula=("1/√(1 − {0}²)",), py=("math.asin({0})", 100), js="Math.asin({0})",
                 ieee=_ieee(math.asin, lambda x: NAN), jax="arcsin",
                 doc="arcsin x; ValueError outside [−1, 1]; the slope is +inf at ±1.")
ACOS = Primitive("acos", _checked("acos", math.acos, "-1 <= x <= 1", lambda x: x < -1.0 or x > 1.0),
                 lambda g, out, x: (-g / SQRT(1.0 - x * x),), domain=(-1.0, 1.0),
                 formula=("−1/√(1 − {0}²)",), py=("math.acos({0})", 100), js="Math.acos({0})",
                 ieee=_ieee(math.acos, lambda x: NAN), jax="arccos",
                 doc="arccos x; ValueError outside [−1, 1]; the slope is −inf at ±1.")
ATAN = Primitive("atan", math.atan, lambda g, out, x: (g / (x * x + 1.0),),
                 formula=("1/(1 + {0}²)",), py=("math.atan({0})", 100), js="Math.atan({0})",
                 jax="arctan", doc="arctan x; atan' = 1/(1 + x²).")
ASINH = Primitive("asinh", math.asinh, lambda g, out, x: (g / SQRT(x * x + 1.0),),
                  formula=("1/√({0}² + 1)",), py=("math.asinh({0})", 100), js="Math.asinh({0})",
                  jax="arcsinh", doc="arsinh x = ln(x + √(x² + 1)).")
ACOSH = Primitive("acosh", _checked("acosh", math.acosh, "x >= 1", lambda x: x < 1.0),
                  lambda g, out, x: (g / SQRT(x * x - 1.0),), domain=(1.0, INF),
                  formula=("1/√({0}² − 1)",), py=("math.acosh({0})", 100), js="Math.acosh({0})",
                  ieee=_ieee(math.acosh, lambda x: NAN), jax="arccosh",
                  doc="arcosh x; ValueError for x < 1; the slope is +inf at 1.")
ATANH = Primitive("atanh",
                  _checked("atanh", math.atanh, "-1 < x < 1", lambda x: x <= -1.0 or x >= 1.0),
                  lambda g, out, x: (g / (1.0 - x * x),), domain=(-1.0, 1.0),
                  formula=("1/(1 − {0}²)",), py=("math.atanh({0})", 100), js="Math.atanh({0})",
                  ieee=_ieee(math.atanh, lambda x: math.copysign(INF, x) if abs(x) == 1.0 else NAN),
                  jax="arctanh",
                  doc="artanh x; ValueError outside (−1, 1).")


def _atan2_rule(g: Any, out: Any, y: Any, x: Any) -> tuple[Any, Any]:
    """∂atan2(y, x)/∂y = x/(x² + y²),  ∂/∂x = −y/(x² + y²)  (0 at the origin, as PyTorch)"""
    r = x * x + y * y
    recip = where(r == 0.0, 0.0, 1.0 / r)
    return g * x * recip, g * -y * recip


ATAN2 = Primitive("atan2", math.atan2, _atan2_rule, kinks=(0.0,),  # the branch cut at y = 0
                  formula=("{1}/({0}² + {1}²)", "−{0}/({0}² + {1}²)"),
                  py=("math.atan2({0}, {1})", 100), js="Math.atan2({0}, {1})",
                  jax="arctan2",
                  doc="atan2(self, other): the angle of the point (other, self), in (−π, π].")
HYPOT = Primitive("hypot", math.hypot, lambda g, out, x, y: (g * x / out, g * y / out),
                  formula=("{0}/{out}", "{1}/{out}"), py=("math.hypot({0}, {1})", 100),
                  js="Math.hypot({0}, {1})", jax="hypot",
                  doc="√(self² + other²) without overflow; the gradient is NaN at (0, 0).")

# --- exponential family -------------------------------------------------------------------------
LOG1P: Primitive = Primitive("log1p", _checked("log1p", math.log1p, "x > -1", lambda x: x <= -1.0),
                  lambda g, out, x: (g / (x + 1.0),), domain=(-1.0, INF),
                  formula=("1/(1 + {0})",), py=("math.log1p({0})", 100), js="Math.log1p({0})",
                  ieee=_ieee(math.log1p, _inf_at(-1.0)), jax="log1p",
                  doc="ln(1 + x), accurate for small x; ValueError for x ≤ −1.")
EXPM1 = Primitive("expm1", _no_overflow("expm1", math.expm1), lambda g, out, x: (g * (out + 1.0),),
                  formula=("({out} + 1)",), py=("math.expm1({0})", 100), js="Math.expm1({0})",
                  ieee=_ieee(math.expm1, lambda x: INF), jax="expm1",
                  doc="eˣ − 1, accurate for small x; OverflowError for x > 709.78.")
LOG2 = Primitive("log2", _checked("log2", math.log2, "x > 0", lambda x: x <= 0.0),
                 lambda g, out, x: (g / (x * LN2),), domain=(0.0, INF),
                 formula=("1/({0}·ln 2)",), py=("math.log2({0})", 100), js="Math.log2({0})",
                 ieee=_ieee(math.log2, _inf_at(0.0)), jax="log2",
                 doc="log₂ x; ValueError for x ≤ 0.")
LOG10 = Primitive("log10", _checked("log10", math.log10, "x > 0", lambda x: x <= 0.0),
                  lambda g, out, x: (g / (x * LN10),), domain=(0.0, INF),
                  formula=("1/({0}·ln 10)",), py=("math.log10({0})", 100), js="Math.log10({0})",
                  ieee=_ieee(math.log10, _inf_at(0.0)), jax="log10",
                  doc="log₁₀ x; ValueError for x ≤ 0.")
EXP2 = Primitive("exp2", _exp2, lambda g, out, x: (g * out * LN2,), formula=("{out}·ln 2",),
                 ieee=_ieee(lambda x: 2.0**x, lambda x: INF), jax="exp2", js="_pow(2.0, {0})",
                 doc="2ˣ; OverflowError for x ≥ 1024.")


def _logaddexp(x: Any, y: Any) -> Any:
    """max(x, y) + ln(1 + e^−|x−y|), never overflowing (PyTorch's formula; ±inf at ±inf)."""
    general = where(x >= y, x, y) + LOG1P(EXP(-abs(x - y)))
    return where(x == y, where(abs(x) == INF, x, general), general)


def _logaddexp2(x: Any, y: Any) -> Any:
    """max(x, y) + log₂(1 + 2^−|x−y|), as PyTorch computes it."""
    general = where(x >= y, x, y) + LOG1P(EXP2(-abs(x - y))) * INV_LN2
    return where(x == y, where(abs(x) == INF, x, general), general)


LOGADDEXP = Primitive(
    "logaddexp", FROM_DEFN, lambda g, out, x, y: (g * SIGMOID(x - y), g * SIGMOID(y - x)),
    defn=_logaddexp, formula=("σ({0} − {1})", "σ({1} − {0})"),
    doc="ln(eˢᵉˡᶠ + eᵒᵗʰᵉʳ), stable for any inputs.")
LOGADDEXP2 = Primitive("logaddexp2", FROM_DEFN,
    lambda g, out, x, y: (g / (1.0 + EXP2(y - x)), g / (1.0 + EXP2(x - y))),
    defn=_logaddexp2, formula=("1/(1 + 2^({1} − {0}))", "1/(1 + 2^({0} − {1}))"),
    doc="log₂(2ˢᵉˡᶠ + 2ᵒᵗʰᵉʳ), stable for any inputs (``torch.logaddexp2``).")

# --- special functions and activations ---------------------------------------------------------
ERF = Primitive("erf", math.erf, lambda g, out, x: (TWO_OVER_SQRT_PI * EXP(-(x * x)) * g,),
                formula=("(2/√π)·e^(−{0}²)",), py=("math.erf({0})", 100), numpy=None,
                jax="scipy.special.erf", doc="The error function, 2/√π ∫₀ˣ e^(−t²) dt.")
ERFC = Primitive("erfc", math.erfc, lambda g, out, x: (-TWO_OVER_SQRT_PI * EXP(-(x * x)) * g,),
                 formula=("−(2/√π)·e^(−{0}²)",), py=("math.erfc({0})", 100), numpy=None,
                 jax="scipy.special.erfc", doc="1 − erf x, accurate for large x.")


def _gelu_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂gelu x/∂x = Φ(x) + x·φ(x), with Φ the standard normal CDF and φ its density"""
    cdf = 0.5 * (1.0 + ERF(x * SQRT1_2))
    pdf = GELU_BETA * EXP(x * x * -0.5)
    return (g * (cdf + x * pdf),)


def _silu_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂(x·σ(x))/∂x = σ(x)·(1 + x(1 − σ(x)))"""
    s = SIGMOID(x)
    return (g * s * (1.0 + x * (1.0 - s)),)


def _elu_rule(g: Any, out: Any, x: Any, alpha: Any) -> tuple[Any, Any]:
    """∂/∂x = alpha·eˣ for x ≤ 0 (alpha at the kink, without eˣ: PyTorch's elu''(0) is 0),
    else 1 (also for NaN, as PyTorch);  ∂/∂alpha = eˣ − 1 for x ≤ 0, else 0"""
    dx = where(x <= 0.0, where(x == 0.0, g * alpha, g * alpha * EXP(x)), g)
    return dx, where(x <= 0.0, g * EXPM1(x), 0.0)


def _softsign_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂softsign x/∂x = 1/(1 + |x|)²"""
    d = 1.0 + abs(x)
    return (g / (d * d),)


GELU = Primitive("gelu", FROM_DEFN, _gelu_rule, defn=lambda x: x * 0.5 * (1.0 + ERF(x * SQRT1_2)),
                 formula=("(Φ({0}) + {0}·φ({0}))",),
                 doc="x·Φ(x) = x/2·(1 + erf(x/√2)), the exact GELU (not the tanh approximation).")
SILU = Primitive("silu", FROM_DEFN, _silu_rule, defn=lambda x: x * SIGMOID(x),
                 formula=("σ({0})(1 + {0}(1 − σ({0})))",), doc="x·σ(x) (also called swish).")
ELU = Primitive("elu", FROM_DEFN, _elu_rule,
                defn=lambda x, alpha: where(x > 0.0, x, alpha * EXPM1(x)),
                kinks=(0.0,), defaults=(1.0,),
                formula=("(1 if {0} > 0 else {1}·e^{0})", "(0 if {0} > 0 else e^{0} − 1)"),
                doc="x for x > 0, alpha·(eˣ − 1) otherwise; the derivative at 0 is alpha.")
LOG_SIGMOID = Primitive("log_sigmoid", FROM_DEFN, lambda g, out, x: (g * SIGMOID(-x),),
    defn=lambda x: where(x < 0.0, x, 0.0) - LOG1P(EXP(-abs(x))), formula=("σ(−{0})",),
    doc="ln σ(x) = min(x, 0) − ln(1 + e^−|x|), stable for any x.")
SOFTSIGN = Primitive("softsign", FROM_DEFN, _softsign_rule, defn=lambda x: x / (1.0 + abs(x)),
                     kinks=(0.0,), formula=("1/(1 + |{0}|)²",), doc="x/(1 + |x|).")

# --- piecewise ---------------------------------------------------------------------------------
CLAMP_MIN = Primitive(
    "clamp_min", FROM_DEFN, lambda g, out, x, lo: (where(x >= lo, g, 0.0), where(x < lo, g, 0.0)),
    defn=lambda x, lo: where(x < lo, lo, where(lo != lo, lo, x)),
    formula=("[{0} ≥ {1}]", "[{0} < {1}]"), doc="max(x, lo); NaN in either gives NaN.")
CLAMP_MAX = Primitive(
    "clamp_max", FROM_DEFN, lambda g, out, x, hi: (where(x <= hi, g, 0.0), where(x > hi, g, 0.0)),
    defn=lambda x, hi: where(x > hi, hi, where(hi != hi, hi, x)),
    formula=("[{0} ≤ {1}]", "[{0} > {1}]"), doc="min(x, hi); NaN in either gives NaN.")


def _split(win: Any, tie: Any, g: Any) -> Any:
    """g where this input wins, ½g at a tie, nothing where it loses; g for NaN (PyTorch)."""
    return where(win, 0.0, where(tie, g * 0.5, g))


MAXIMUM = Primitive(
    "maximum", FROM_DEFN, lambda g, out, x, y: (_split(x < y, x == y, g), _split(x > y, x == y, g)),
    defn=lambda x, y: where(x >= y, x, where(x < y, y, NAN)),
    formula=("[{0} > {1}] (½ at a tie)", "[{1} > {0}] (½ at a tie)"),
    doc="The larger of the two (NaN if either is); a tie gives each half the gradient.")
MINIMUM = Primitive(
    "minimum", FROM_DEFN, lambda g, out, x, y: (_split(x > y, x == y, g), _split(x < y, x == y, g)),
    defn=lambda x, y: where(x <= y, x, where(x > y, y, NAN)),
    formula=("[{0} < {1}] (½ at a tie)", "[{1} < {0}] (½ at a tie)"),
    doc="The smaller of the two (NaN if either is); a tie gives each half the gradient.")
SIGN: Primitive = Primitive("sign", FROM_DEFN, lambda g, out, x: (0.0,), kinks=(0.0,),
                            formula=("0",),
                 defn=lambda x: where(x > 0.0, 1.0, where(x < 0.0, -1.0, 0.0)),
                 doc="−1, 0 or 1 (0 for ±0 and NaN, as torch.sign); gradient 0.")
FLOOR = Primitive("floor", _sign_kept(math.floor), lambda g, out, x: (0.0,), kinks=_INTEGERS,
                  formula=("0",), numpy="floor", jax="floor", js="Math.floor({0})",
                  doc="⌊x⌋; gradient 0.")
CEIL = Primitive("ceil", _sign_kept(math.ceil), lambda g, out, x: (0.0,), kinks=_INTEGERS,
                 formula=("0",), numpy="ceil", jax="ceil", js="Math.ceil({0})",
                 doc="⌈x⌉; gradient 0.")
ROUND = Primitive("round", _round, lambda g, out, x: (0.0,), kinks=_HALVES, formula=("0",),
                  numpy="round", jax="round", js="_round({0})",
                  doc="x rounded to the nearest integer, halves to even; gradient 0.")
REMAINDER = Primitive(
    "remainder", _remainder, lambda g, out, x, y: (g, -g * (x // y)), symbol="%",
    formula=("1", "−⌊{0}/{1}⌋"), notation=_INFIX,
    ieee=_ieee(_remainder, lambda x, y: NAN), js="_rem({0}, {1})",
    doc="x − y·⌊x/y⌋, the sign of y (``torch.remainder``); ZeroDivisionError for y = 0.")

# --- angles and the normalised sinc --------------------------------------------------------------
DEG2RAD = Primitive("deg2rad", FROM_DEFN, lambda g, out, x: (g * DEG_TO_RAD,),
                    defn=lambda x: x * DEG_TO_RAD,
                    formula=("π/180",), aliases=("radians",),
                    doc="Degrees to radians, x·π/180 (also ``radians``).")
RAD2DEG = Primitive("rad2deg", FROM_DEFN, lambda g, out, x: (g * RAD_TO_DEG,),
                    defn=lambda x: x * RAD_TO_DEG,
                    formula=("180/π",), aliases=("degrees",),
                    doc="Radians to degrees, x·180/π (also ``degrees``).")


def _sinc_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    """∂sinc x/∂x = (πx·cos πx − sin πx)/(πx²), 0 at x = 0 (PyTorch)"""
    p = PI * x
    px = p * x  # 0 also where x² underflows (a subnormal x): PyTorch's mask
    return (where(px == 0.0, 0.0, g * ((p * COS(p) - SIN(p)) / px)),)


SINC = Primitive("sinc", FROM_DEFN, _sinc_rule,
                 defn=lambda x: where(x == 0.0, 1.0, SIN(PI * x) / (PI * x)),
                 kinks=(0.0,), formula=("(cos(π{0}) − sinc({0}))/{0}",),
                 doc="The normalised sinc, sin(πx)/(πx), 1 at 0 (``torch.sinc``).")
# fmt: on

register(
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
    DEG2RAD,
    RAD2DEG,
    SINC,
    LOGADDEXP2,
)
