"""The hypothesis strategies in autograd_mini.testing, and the engine checked with them."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from autograd_mini import Value, grad, topological_order
from autograd_mini.gradcheck import gradcheck
from autograd_mini.testing import Expression, expressions, reals


@given(reals("log"))
def test_reals_for_log_stay_inside_its_domain(x: float) -> None:
    assert x > 0.0 and math.isfinite(x)


@given(reals("relu"), reals("abs"))
def test_reals_keep_away_from_kinks(a: float, b: float) -> None:
    assert abs(a) >= 1e-2 and abs(b) >= 1e-2


@given(reals(min_value=-1.0, max_value=2.0))
def test_reals_respect_the_requested_range(x: float) -> None:
    assert -1.0 <= x <= 2.0


def test_reals_rejects_unknown_ops_and_empty_ranges() -> None:
    with pytest.raises(ValueError, match="unknown op"):
        reals("arcsin")
    with pytest.raises(ValueError, match="empty"):
        reals("log", max_value=-1.0)


def test_expressions_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError):
        expressions(0)
    with pytest.raises(ValueError):
        expressions(2, max_steps=0)


@given(expressions(3))
def test_expressions_use_every_input_and_build_a_dag(f: Expression) -> None:
    xs = [Value(0.1), Value(0.2), Value(0.3)]
    out = f(*xs)
    nodes = topological_order(out)
    assert all(any(n is x for n in nodes) for x in xs)
    assert "Expression(" in repr(f)


def test_expressions_share_subexpressions() -> None:
    f = Expression(1, (("tanh", (0,)), ("mul", (1, 1)), ("add", (2, 1))))
    x = Value(0.5)
    out = f(x)
    t = math.tanh(0.5)
    assert out.data == pytest.approx(t * t + t)
    (g,) = grad(out, [x])
    assert g.data == pytest.approx((2 * t + 1) * (1 - t * t))


def test_expression_checks_its_input_count() -> None:
    with pytest.raises(TypeError, match="2 inputs"):
        Expression(2, (("add", (0, 1)),))(Value(1.0))


@given(expressions(3), st.lists(reals(), min_size=3, max_size=3))
def test_random_dags_match_central_differences(f: Expression, xs: list[float]) -> None:
    assert gradcheck(f, xs, raise_exception=True)


@given(expressions(2, max_steps=5), st.lists(reals(), min_size=2, max_size=2))
def test_random_dags_second_derivatives_match_central_differences(
    f: Expression, xs: list[float]
) -> None:
    assert gradcheck(f, xs, order=2, atol=1e-4, rtol=1e-3, raise_exception=True)


@given(expressions(2), st.lists(reals(), min_size=2, max_size=2))
def test_backward_and_grad_agree_on_random_dags(f: Expression, xs: list[float]) -> None:
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    via_grad = [g.data for g in grad(out, leaves)]
    out.backward()
    assert [v.grad for v in leaves] == via_grad
