"""The JAX lowerings of the built-in ops (``Op(..., jax=...)`` in :mod:`autograd_mini.ops`).

Each is the op's ``forward`` on ``jax.numpy`` arrays; JAX differentiates it.  Where JAX's own
derivative differs from the op's VJP in :mod:`autograd_mini.ops` — a convention at a kink or
a different (less cancelling) formula — the lowering is a ``jax.custom_jvp`` carrying the VJP's
formula, so ``jax.grad`` of a lowered program equals our gradients to 1e-12:

* ``abs``: d|x|/dx = sign(x) with sign(0) = 0 (JAX: 1);
* ``pow``: d(x**0)/dx = 0 also at x = 0 (JAX: NaN); d(0**n)/dn = 0 for n ≥ 0;
* ``tanh``: 1 − tanh², as the VJP (JAX: (1 + t)(1 − t), a few ulps apart where the result
  is small).  XLA's tanh itself may differ from ``math.tanh`` in the last bit, so where tanh
  saturates (|x| ≳ 10, 1 − tanh² below ~1e-8) the two derivatives agree only absolutely.

Operands are jax arrays or Python floats (the program's constants).  This module imports jax;
only the lowering thunks in :mod:`autograd_mini.ops` import it, on first use.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

# ruff: noqa: A001 - the lowerings are named after the ops they lower (abs, pow)


def add(x: Any, y: Any) -> Any:
    return x + y


def sub(x: Any, y: Any) -> Any:
    return x - y


def mul(x: Any, y: Any) -> Any:
    return x * y


def div(x: Any, y: Any) -> Any:
    return x / y


def neg(x: Any) -> Any:
    return -x


def exp(x: Any) -> Any:
    return jnp.exp(x)


def log(x: Any) -> Any:
    return jnp.log(x)


def sqrt(x: Any) -> Any:
    return jnp.sqrt(x)


def sin(x: Any) -> Any:
    return jnp.sin(x)


def cos(x: Any) -> Any:
    return jnp.cos(x)


def sigmoid(x: Any) -> Any:
    return jax.nn.sigmoid(x)


def softplus(x: Any) -> Any:
    return jax.nn.softplus(x)


def relu(x: Any) -> Any:
    """0 for x ≤ 0 (derivative 0 at the kink), else x; NaN stays NaN."""
    return jnp.where(x <= 0.0, 0.0, x)


def leaky_relu(x: Any, slope: Any) -> Any:
    """x for x > 0, else slope·x (derivative slope at the kink)."""
    return jnp.where(x > 0.0, x, slope * x)


@jax.custom_jvp
def _abs(x: Any) -> Any:
    return jnp.abs(x)


@_abs.defjvp
def _abs_jvp(primals: tuple[Any], tangents: tuple[Any]) -> tuple[Any, Any]:
    (x,), (dx,) = primals, tangents
    return jnp.abs(x), jnp.sign(x) * dx  # sign(0) = 0, sign(NaN) = NaN·dx


def abs(x: Any) -> Any:
    return _abs(x)


@jax.custom_jvp
def _tanh(x: Any) -> Any:
    return jnp.tanh(x)


@_tanh.defjvp
def _tanh_jvp(primals: tuple[Any], tangents: tuple[Any]) -> tuple[Any, Any]:
    (x,), (dx,) = primals, tangents
    out = jnp.tanh(x)
    return out, dx * (1.0 - out * out)


def tanh(x: Any) -> Any:
    return _tanh(x)


def _pow_dx(x: Any, n: Any) -> Any:
    """∂(xⁿ)/∂x as ops.pow_vjp: 0 for n = 0; n·xⁿ⁻¹ where x ≠ 0 or n ≥ 1; +inf at x = 0."""
    slope = n * jnp.power(x, n - 1.0)
    return jnp.where(n == 0.0, 0.0, jnp.where((x != 0.0) | (n >= 1.0), slope, math.inf))


def _pow_dn(x: Any, n: Any, out: Any) -> Any:
    """∂(xⁿ)/∂n as ops.pow_vjp: xⁿ·ln x for x > 0; 0 at x = 0 with n ≥ 0; else NaN."""
    log_x = jnp.log(jnp.where(x > 0.0, x, 1.0))
    zero_base = jnp.where((x == 0.0) & (n >= 0.0), 0.0, math.nan)
    return jnp.where(x > 0.0, out * log_x, zero_base)


@jax.custom_jvp
def _pow(x: Any, n: Any) -> Any:
    return jnp.power(x, n)


def _pow_jvp(primals: tuple[Any, Any], tangents: tuple[Any, Any]) -> tuple[Any, Any]:
    (x, n), (dx, dn) = primals, tangents
    out = jnp.power(x, n)
    # a symbolic zero (a constant side) contributes nothing: no NaN·0 from ln of a base < 0
    tangent = jnp.zeros_like(out)
    if not isinstance(dx, SymbolicZero):
        tangent = tangent + _pow_dx(x, n) * dx
    if not isinstance(dn, SymbolicZero):
        tangent = tangent + _pow_dn(x, n, out) * dn
    return out, tangent


_pow.defjvp(_pow_jvp, symbolic_zeros=True)


def pow(x: Any, n: Any) -> Any:
    return _pow(jnp.asarray(x, dtype=jnp.float64), jnp.asarray(n, dtype=jnp.float64))
