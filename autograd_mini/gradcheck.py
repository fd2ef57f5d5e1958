"""Check analytic gradients against central finite differences.

Central difference: ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε, with error O(ε²).
``gradcheck(..., order=2)`` also differentiates the analytic first derivatives (recorded with
``grad(create_graph=True)``) and compares them with central differences of those first
derivatives, which checks every rule's second derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias

from autograd_mini.engine import Value, grad
from autograd_mini.registry import as_float as _as_float

__all__ = ["GradcheckError", "gradcheck", "numerical_grad"]

Inputs: TypeAlias = "Value | float | int | Sequence[Value | float | int]"


class GradcheckError(RuntimeError):
    """Analytic and numerical derivatives disagree; the message names the input and both values."""


def _floats(inputs: Inputs) -> list[float]:
    # a single input may be given bare: a Value or any real number (a NumPy scalar too)
    items = list(inputs) if isinstance(inputs, Iterable) else [inputs]
    out = []
    for i, x in enumerate(items):
        out.append(x.data if isinstance(x, Value) else _as_float(x, f"gradcheck: inputs[{i}]"))
    return out


def _evaluate(f: Callable[..., Any], xs: Sequence[float]) -> float:
    y = f(*[Value(x) for x in xs])
    if isinstance(y, Value):
        return y.data
    return _as_float(y, "gradcheck: f's result")


def numerical_grad(f: Callable[..., Any], inputs: Inputs, eps: float = 1e-6) -> list[float]:
    """Central-difference estimate of ∂f/∂xᵢ for each input.

    ``f`` is called as ``f(*values)`` with one leaf Value per input and returns a Value (or a
    number); ``inputs`` are numbers or Values (only their data is used).
    """
    if not eps > 0.0:
        raise ValueError(f"numerical_grad: eps must be > 0, got {eps!r}")
    xs = _floats(inputs)
    result = []
    for i in range(len(xs)):
        plus = list(xs)
        minus = list(xs)
        plus[i] += eps
        minus[i] -= eps
        result.append((_evaluate(f, plus) - _evaluate(f, minus)) / (2.0 * eps))
    return result


def _analytic(f: Callable[..., Any], xs: Sequence[float], create_graph: bool) -> list[Value]:
    leaves = [Value(x) for x in xs]
    y = f(*leaves)
    if not isinstance(y, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(y).__name__}")
    return grad(y, leaves, create_graph=create_graph)


def _compare(
    analytic: Sequence[float], numerical: Sequence[float], atol: float, rtol: float, what: str
) -> str | None:
    for i, (a, n) in enumerate(zip(analytic, numerical, strict=True)):
        if not abs(a - n) <= atol + rtol * abs(n):
            return (
                f"{what} mismatch for input {i}: analytic {a!r}, numerical {n!r} "
                f"(difference {abs(a - n):.3g} > atol {atol} + rtol {rtol} x |numerical|)"
            )
    return None


def gradcheck(
    f: Callable[..., Any],
    inputs: Inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    order: int = 1,
    raise_exception: bool = False,
) -> bool:
    """True when the engine's gradients of ``f`` at ``inputs`` match central differences.

    ``order=1`` checks ∂f/∂xᵢ; ``order=2`` also checks every ∂²f/∂xᵢ∂xⱼ.  On a mismatch it
    returns False, or raises :class:`GradcheckError` naming the input, the analytic and the
    numerical value when ``raise_exception=True``.
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    xs = _floats(inputs)
    analytic = [g.data for g in _analytic(f, xs, create_graph=False)]
    problem = _compare(analytic, numerical_grad(f, xs, eps), atol, rtol, "first derivative")
    if problem is None and order == 2:
        for i in range(len(xs)):

            def first_derivative(*values: Value, i: int = i) -> Value:
                return grad(f(*values), list(values), create_graph=True)[i]

            second = [g.data for g in _analytic(first_derivative, xs, create_graph=False)]
            numeric = numerical_grad(first_derivative, xs, eps)
            problem = _compare(second, numeric, atol, rtol, f"second derivative d/dx{i}")
            if problem is not None:
                break
    if problem is None:
        return True
    if raise_exception:
        raise GradcheckError(problem)
    return False
