"""The JAX lowerings of the scalar functions (``tan`` … ``remainder``; ``Op(..., jax=...)`` in
:mod:`autograd_mini.ops`), as :mod:`._jax_ops` is for the first seventeen ops.

Each is the op's ``forward`` on ``jax.numpy`` arrays, and ``jax.grad`` of it equals the op's
VJP, including PyTorch's conventions at the kinks.  Where JAX's own derivative differs, the
lowering says so explicitly:

* ``atan2``: 0 at the origin (JAX: NaN);
* ``logaddexp``: σ(x − y) and σ(y − x), NaN at (inf, inf) as in PyTorch (JAX: 1);
* ``maximum``/``minimum``: half the gradient to each input at a tie, and the whole gradient to
  both where an input is NaN (JAX: 0 for NaN);
* ``clamp_min``/``clamp_max``, ``sign``: 0 where the input is NaN (and ``sign(NaN)`` = 0);
* ``elu``: the unused branch is computed at 0, so a large x cannot leak ``inf · 0 = NaN``.

Operands are jax arrays or Python floats (the program's constants).  This module imports jax;
the lowering thunks in :mod:`autograd_mini.ops` import it on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import jax
import jax.numpy as jnp
from jax.scipy import special

__all__ = [
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "ceil",
    "clamp_max",
    "clamp_min",
    "cosh",
    "elu",
    "erf",
    "erfc",
    "exp2",
    "expm1",
    "floor",
    "gelu",
    "hypot",
    "log1p",
    "log2",
    "log10",
    "log_sigmoid",
    "logaddexp",
    "maximum",
    "minimum",
    "remainder",
    "round",
    "sign",
    "silu",
    "sinh",
    "softsign",
    "tan",
]

# ruff: noqa: A001 - the lowerings are named after the ops they lower (round)


def _with_partials(
    forward: Callable[[Any, Any], Any], partials: Callable[[Any, Any, Any], tuple[Any, Any]]
) -> Callable[[Any, Any], Any]:
    """``forward`` whose derivative is the given partials ``(∂out/∂x, ∂out/∂y)``."""
    f = jax.custom_jvp(forward)

    @f.defjvp
    def jvp(primals: tuple[Any, Any], tangents: tuple[Any, Any]) -> tuple[Any, Any]:
        (x, y), (dx, dy) = primals, tangents
        out = forward(x, y)
        px, py = partials(x, y, out)
        return out, px * dx + py * dy

    return cast(Callable[[Any, Any], Any], f)


def _f64(*xs: Any) -> tuple[Any, ...]:
    return tuple(jnp.asarray(x, dtype=jnp.float64) for x in xs)


def tan(x: Any) -> Any:
    return jnp.tan(x)


def sinh(x: Any) -> Any:
    return jnp.sinh(x)


def cosh(x: Any) -> Any:
    return jnp.cosh(x)


def asin(x: Any) -> Any:
    return jnp.arcsin(x)


def acos(x: Any) -> Any:
    return jnp.arccos(x)


def atan(x: Any) -> Any:
    return jnp.arctan(x)


def asinh(x: Any) -> Any:
    return jnp.arcsinh(x)


def acosh(x: Any) -> Any:
    return jnp.arccosh(x)


def atanh(x: Any) -> Any:
    return jnp.arctanh(x)


def _atan2_partials(y: Any, x: Any, out: Any) -> tuple[Any, Any]:
    r = x * x + y * y
    safe = jnp.where(r == 0.0, 1.0, r)
    return jnp.where(r == 0.0, 0.0, x / safe), jnp.where(r == 0.0, 0.0, -y / safe)


_atan2 = _with_partials(jnp.arctan2, _atan2_partials)


def atan2(y: Any, x: Any) -> Any:
    return _atan2(*_f64(y, x))


_hypot = _with_partials(jnp.hypot, lambda x, y, out: (x / out, y / out))


def hypot(x: Any, y: Any) -> Any:
    return _hypot(*_f64(x, y))


def log1p(x: Any) -> Any:
    return jnp.log1p(x)


def expm1(x: Any) -> Any:
    return jnp.expm1(x)


def log2(x: Any) -> Any:
    return jnp.log2(x)


def log10(x: Any) -> Any:
    return jnp.log10(x)


def exp2(x: Any) -> Any:
    return jnp.exp2(x)


_logaddexp = _with_partials(
    jnp.logaddexp, lambda x, y, out: (jax.nn.sigmoid(x - y), jax.nn.sigmoid(y - x))
)


def logaddexp(x: Any, y: Any) -> Any:
    return _logaddexp(*_f64(x, y))


def erf(x: Any) -> Any:
    return special.erf(x)


def erfc(x: Any) -> Any:
    return special.erfc(x)


def gelu(x: Any) -> Any:
    return jax.nn.gelu(x, approximate=False)


def silu(x: Any) -> Any:
    return jax.nn.silu(x)


def elu(x: Any, alpha: Any) -> Any:
    """x for x > 0, alpha·(eˣ − 1) otherwise (derivative alpha at the kink)."""
    negative = jnp.where(x > 0.0, 0.0, x)
    return jnp.where(x > 0.0, x, alpha * jnp.expm1(negative))


@jax.custom_jvp
def _log_sigmoid(x: Any) -> Any:
    out = jax.nn.log_sigmoid(x)
    return jnp.where(out == 0.0, 0.0, out)  # eager's +0.0 for large x (JAX's −softplus: −0.0)


@_log_sigmoid.defjvp
def _log_sigmoid_jvp(primals: tuple[Any], tangents: tuple[Any]) -> tuple[Any, Any]:
    (x,), (dx,) = primals, tangents
    return _log_sigmoid(x), jax.nn.sigmoid(-x) * dx  # σ(−x), as ops.log_sigmoid_vjp


def log_sigmoid(x: Any) -> Any:
    return _log_sigmoid(x)


def softsign(x: Any) -> Any:
    return x / (1.0 + jnp.abs(x))


def clamp_min(x: Any, lo: Any) -> Any:
    """max(x, lo): the gradient to x where x ≥ lo, to lo where x < lo, to neither for NaN."""
    return jnp.where(x >= lo, x, jnp.where(x < lo, lo, jnp.nan))


def clamp_max(x: Any, hi: Any) -> Any:
    return jnp.where(x <= hi, x, jnp.where(x > hi, hi, jnp.nan))


def _max_partials(x: Any, y: Any, out: Any) -> tuple[Any, Any]:
    tie = jnp.where(x == y, 0.5, 1.0)  # NaN: neither masked, as PyTorch
    return jnp.where(x < y, 0.0, tie), jnp.where(x > y, 0.0, tie)


def _min_partials(x: Any, y: Any, out: Any) -> tuple[Any, Any]:
    tie = jnp.where(x == y, 0.5, 1.0)
    return jnp.where(x > y, 0.0, tie), jnp.where(x < y, 0.0, tie)


_maximum = _with_partials(jnp.maximum, _max_partials)
_minimum = _with_partials(jnp.minimum, _min_partials)


def maximum(x: Any, y: Any) -> Any:
    return _maximum(*_f64(x, y))


def minimum(x: Any, y: Any) -> Any:
    return _minimum(*_f64(x, y))


def sign(x: Any) -> Any:
    """−1, 0 or 1; 0 for ±0 and NaN (torch.sign); gradient 0."""
    return jnp.where(x > 0.0, 1.0, jnp.where(x < 0.0, -1.0, 0.0))


def floor(x: Any) -> Any:
    return jnp.floor(x)


def ceil(x: Any) -> Any:
    return jnp.ceil(x)


def round(x: Any) -> Any:
    return jnp.round(x)  # halves to even, like Python and PyTorch


def _remainder_partials(x: Any, y: Any, out: Any) -> tuple[Any, Any]:
    return jnp.ones_like(out), -jnp.floor_divide(x, y)


def _python_remainder(x: Any, y: Any) -> Any:
    """x % y as Python's float ``%``: a zero result has the divisor's sign (jnp: x's)."""
    out = jnp.remainder(x, y)
    return jnp.where(out == 0.0, jnp.copysign(0.0, y), out)


_remainder = _with_partials(_python_remainder, _remainder_partials)


def remainder(x: Any, y: Any) -> Any:
    return _remainder(*_f64(x, y))
