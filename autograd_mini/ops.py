"""The calculus of autograd_mini: one table of primitives.

Every primitive is written here exactly once: its forward formula on floats (with the
math-domain checks) next to its vector-Jacobian product (VJP), the rule ``backward`` applies.

A VJP has the signature ``vjp(g, out, *inputs) -> tuple`` where ``g`` is ∂L/∂out, ``out`` is
the op's result and ``inputs`` are its operands in argument order; it returns ∂L/∂inputᵢ =
g · ∂out/∂inputᵢ for each input.  The same function runs in two modes:

* with floats, by :meth:`Value.backward` and ``grad(create_graph=False)`` (the fast path);
* with :class:`~autograd_mini.engine.Value` objects, by ``grad(create_graph=True)``, so the
  backward pass is itself recorded and can be differentiated again (higher-order gradients).

So a rule may only use arithmetic operators, comparisons, ``float()`` and the dispatching
helpers below (``_sin``, ``_cos``, ``_log``, ``_sigmoid``, ``_pow``), all of which work on both
floats and Values.  ``==`` is identity on Values, so rules compare with ``float(x) == c``;
``type(x) is float`` tells the two modes apart where they must differ.

Conventions at kinks follow PyTorch: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope,
d(x**0)/dx = 0 (even at x = 0), d(a**b)/db = 0 where a = 0 and b ≥ 0 (NaN where a < 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["OPS", "Op"]

INF = math.inf
NAN = math.nan


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
        dn = NAN  # ln of a negative base is not real
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
    if float(out) == 0.0:
        return (g * INF,)
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


# --- the registry ------------------------------------------------------------------------------


class Op:
    """A primitive: its name (the stem shared by ``Value.<name>``, ``<name>_vjp`` and the graph
    label), the symbol drawn in graphs, the float forward function and the VJP rule.

    ``domain`` is the open interval of the first input where the op is smooth and defined, and
    ``kinks`` are the points inside it where the derivative jumps; :mod:`autograd_mini.testing`
    uses both to draw inputs where central differences are meaningful.

    Lowerings, one keyword per backend of :func:`autograd_mini.trace` (None: not declared):

    * ``numpy``: a callable on float64 arrays computing ``forward`` element-wise.  Optional:
      the NumPy lowering vectorises ``forward``/``vjp`` from their source where it can and
      otherwise calls them element by element; ``numpy=`` replaces that fallback for the
      forward pass.
    * ``jax``: a callable on ``jax.numpy`` arrays computing ``forward``.  JAX differentiates it
      (``jax.grad``/``value_and_grad``), so its derivative must be the VJP's, including at the
      kinks — wrap it in ``jax.custom_jvp`` where JAX's own convention differs.  Required for
      the JAX backend, which refuses an op without one (an error naming the op and the
      backend, never a wrong result).  Import jax inside the callable: ``import autograd_mini``
      must not import it.
    """

    __slots__ = ("domain", "forward", "jax", "kinks", "name", "numpy", "symbol", "vjp")

    def __init__(
        self,
        name: str,
        symbol: str,
        forward: Callable[..., float],
        vjp: Callable[..., tuple[Any, ...]],
        domain: tuple[float, float] = (-INF, INF),
        kinks: tuple[float, ...] = (),
        *,
        numpy: Callable[..., Any] | None = None,
        jax: Callable[..., Any] | None = None,
    ) -> None:
        self.name = name
        self.symbol = symbol
        self.forward = forward
        self.vjp = vjp
        self.domain = domain
        self.kinks = kinks
        self.numpy = numpy
        self.jax = jax

    @property
    def arity(self) -> int:
        """Number of inputs (the VJP's parameters after ``g`` and ``out``)."""
        return int(self.vjp.__code__.co_argcount) - 2

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


def _jax(name: str) -> Callable[..., Any]:
    """The built-in op's JAX lowering, :mod:`autograd_mini.compile._jax_ops`.<name>, imported
    on first use (that module imports jax)."""

    def lower(*args: Any) -> Any:
        from autograd_mini.compile import _jax_ops as jax_ops

        return getattr(jax_ops, name)(*args)

    lower.__name__ = f"{name}_jax"
    return lower


ADD = Op("add", "+", add, add_vjp, jax=_jax("add"))
SUB = Op("sub", "-", sub, sub_vjp, jax=_jax("sub"))
MUL = Op("mul", "*", mul, mul_vjp, jax=_jax("mul"))
DIV = Op("div", "/", div, div_vjp, jax=_jax("div"))
NEG = Op("neg", "-", neg, neg_vjp, jax=_jax("neg"))
POW = Op("pow", "**", pow, pow_vjp, domain=(0.0, INF), jax=_jax("pow"))
ABS = Op("abs", "abs", abs, abs_vjp, kinks=(0.0,), jax=_jax("abs"))
EXP = Op("exp", "exp", exp, exp_vjp, jax=_jax("exp"))
LOG = Op("log", "log", log, log_vjp, domain=(0.0, INF), jax=_jax("log"))
SQRT = Op("sqrt", "sqrt", sqrt, sqrt_vjp, domain=(0.0, INF), jax=_jax("sqrt"))
TANH = Op("tanh", "tanh", tanh, tanh_vjp, jax=_jax("tanh"))
SIGMOID = Op("sigmoid", "sigmoid", sigmoid, sigmoid_vjp, jax=_jax("sigmoid"))
RELU = Op("relu", "relu", relu, relu_vjp, kinks=(0.0,), jax=_jax("relu"))
LEAKY_RELU = Op(
    "leaky_relu", "leaky_relu", leaky_relu, leaky_relu_vjp, kinks=(0.0,), jax=_jax("leaky_relu")
)
SIN = Op("sin", "sin", sin, sin_vjp, jax=_jax("sin"))
COS = Op("cos", "cos", cos, cos_vjp, jax=_jax("cos"))
SOFTPLUS = Op("softplus", "softplus", softplus, softplus_vjp, jax=_jax("softplus"))

OPS: dict[str, Op] = {
    op.name: op
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
    )
}
"""Every primitive by name, in the order above."""
