"""Needs-grad: a Value built only from constants needs no gradient; backward, grad, jvp, explain,
the pictures and anomaly mode compute, show and check gradients only where one is needed, so a
constant never shows one (and never NaN).  Also ``bool(v)`` as PyTorch defines it."""

from __future__ import annotations

import math

import pytest

from autograd_mini import Value, detect_anomaly, grad, jvp, no_grad
from autograd_mini.explain import explain
from autograd_mini.losses import mse
from autograd_mini.viz import draw_graph, local_partials, to_html


def test_user_values_need_a_gradient_and_numbers_do_not() -> None:
    x = Value(2.0)
    assert x.requires_grad
    c = x * 3.0
    assert c.requires_grad and not c.parents[1].requires_grad  # 3.0 became a constant leaf
    k = Value(3.0, requires_grad=False)
    assert not k.requires_grad and not (k * 2.0 + 1.0).exp().requires_grad
    assert (k * x).requires_grad  # one input that needs a gradient is enough


def test_results_under_no_grad_and_detached_values_need_none() -> None:
    x = Value(2.0)
    with no_grad():
        y = x * x
    assert not y.requires_grad and y.is_leaf
    assert not x.detach().requires_grad


def test_requires_grad_can_be_set_on_leaves_only() -> None:
    x = Value(1.0)
    x.requires_grad = False
    assert not (x * x).requires_grad
    with pytest.raises(RuntimeError, match="only be set on a leaf"):
        (x * 2.0).requires_grad = True
    with pytest.raises(TypeError, match="requires_grad must be a bool"):
        Value(1.0, requires_grad=1)  # type: ignore[arg-type]


def test_a_constant_exponent_gets_no_gradient_and_no_nan() -> None:
    # ∂/∂(exponent) of (x − 1)² at x = 0 would be (x − 1)²·ln(x − 1) = NaN: never computed
    x = Value(0.0, label="x")
    y = (x - 1.0) ** 2
    y.backward()
    assert x.grad == -2.0
    constants = [p for p in (y.parents[1], y.parents[0].parents[1])]
    assert all(c.grad == 0.0 and not c.requires_grad for c in constants)  # left alone
    assert "nan" not in explain(y) and "nan" not in draw_graph(y, show_local_grads=True).source
    assert local_partials(y) == (-2.0, None)
    assert "nan" not in to_html(y)
    (gx,) = grad((x - 1.0) ** 2, [x])
    assert gx.data == -2.0


def test_grad_and_jvp_of_constants() -> None:
    x = Value(2.0)
    k = Value(5.0, requires_grad=False)
    assert [g.data for g in grad(x * k, [x, k])] == [5.0, 0.0]
    assert [g.data for g in grad(k * 2.0, [x, k])] == [0.0, 0.0]  # nothing needs a gradient
    assert jvp(lambda a: a * k + 3.0, [2.0], [1.0]) == (13.0, 5.0)


def test_backward_of_a_value_that_needs_no_gradient_does_nothing() -> None:
    k = Value(2.0, requires_grad=False)
    y = k * 3.0
    y.backward()
    assert y.grad == 0.0 and k.grad == 0.0


def test_anomaly_mode_gives_no_false_alarm_on_the_libraries_own_mse() -> None:
    # the squared error's constant exponent 2 used to get ∂/∂2 = (x − t)²·ln(x − t): NaN for x < t
    x = Value(0.2)
    with detect_anomaly():
        loss = mse([x], [1.0])
        loss.backward()
    assert x.grad == pytest.approx(2.0 * (0.2 - 1.0))


def test_anomaly_mode_still_checks_what_needs_a_gradient() -> None:
    x = Value(0.0)
    with detect_anomaly(), pytest.raises(FloatingPointError, match="sqrt"):
        x.sqrt().backward()


@pytest.mark.parametrize(
    ("data", "truth"), [(0.0, False), (-0.0, False), (2.0, True), (-1e-300, True), (math.nan, True)]
)
def test_bool_is_data_not_equal_to_zero_as_in_pytorch(data: float, truth: bool) -> None:
    assert bool(Value(data)) is truth
    torch = pytest.importorskip("torch")
    assert bool(torch.tensor(data, dtype=torch.float64)) is truth


def test_a_loss_of_zero_is_falsy() -> None:
    x = Value(1.0)
    loss = (x - 1.0) ** 2
    assert not loss
    steps = 0
    while loss:  # would never stop with bool(Value) always True
        steps += 1
    assert steps == 0
