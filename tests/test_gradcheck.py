"""gradcheck and numerical_grad: they pass correct rules and catch wrong ones."""

from __future__ import annotations

import math

import pytest

from autograd_mini import OPS, Value, defop, ops
from autograd_mini.functions import sin
from autograd_mini.gradcheck import GradcheckError, gradcheck, numerical_grad


def test_numerical_grad_matches_the_closed_form() -> None:
    est = numerical_grad(lambda a, b: a * b.sin(), [1.5, 0.3])
    assert est == pytest.approx([math.sin(0.3), 1.5 * math.cos(0.3)], rel=1e-8)


def test_numerical_grad_accepts_values_and_single_numbers() -> None:
    assert numerical_grad(lambda a: a * a, Value(3.0)) == pytest.approx([6.0], rel=1e-8)
    assert numerical_grad(lambda a: a * a, 3.0) == pytest.approx([6.0], rel=1e-8)


def test_numerical_grad_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="eps"):
        numerical_grad(lambda a: a, [1.0], eps=0.0)
    with pytest.raises(TypeError, match=r"inputs\[1\]"):
        numerical_grad(lambda a, b: a, [1.0, "x"])  # type: ignore[list-item]


def test_gradcheck_passes_a_correct_function_at_order_one_and_two() -> None:
    def f(a: Value, b: Value) -> Value:
        return (a * b).tanh() + a.exp() / b - (a**3).softplus()

    assert gradcheck(f, [0.3, 1.7]) is True
    assert gradcheck(f, [0.3, 1.7], order=2) is True


def _broken(monkeypatch: pytest.MonkeyPatch, name: str, rule: object) -> None:
    """The op ``name`` with another rule, where the Value methods find it."""
    right = OPS[name]
    wrong = ops.Primitive(name, right.forward, rule)  # type: ignore[arg-type]
    monkeypatch.setattr(ops, name.upper(), wrong)


def test_gradcheck_catches_a_wrong_first_derivative(monkeypatch: pytest.MonkeyPatch) -> None:
    _broken(monkeypatch, "sin", lambda g, out, x: (g * sin(x),))  # should be cos
    assert gradcheck(lambda a: a.sin(), [0.4]) is False
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a.sin() * b, [0.4, 2.0], raise_exception=True)
    message = str(info.value)
    assert "input 0" in message
    assert repr(2.0 * math.sin(0.4)) in message  # the (wrong) analytic value
    assert "numerical" in message


def test_gradcheck_order_two_catches_a_wrong_rule_used_inside_a_rule() -> None:
    # mysin's rule is right, but it calls mycos, whose own rule has the wrong sign: the first
    # derivative is right and the second is not
    mycos = defop("t_gc_mycos", math.cos, lambda g, out, x: (g * sin(x),))  # should be −sin
    mysin = defop("t_gc_mysin", math.sin, lambda g, out, x: (g * mycos(x),))
    assert gradcheck(lambda a: mysin(a), [0.7], order=1) is True
    assert gradcheck(lambda a: mysin(a), [0.7], order=2) is False
    with pytest.raises(GradcheckError, match="second derivative"):
        gradcheck(lambda a: mysin(a), [0.7], order=2, raise_exception=True)


def test_gradcheck_rejects_bad_order_and_non_value_results() -> None:
    with pytest.raises(ValueError, match="order"):
        gradcheck(lambda a: a, [1.0], order=3)
    with pytest.raises(TypeError, match="Value"):
        gradcheck(lambda a: 1.0, [1.0])
