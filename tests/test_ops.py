"""Every rule in autograd_mini.ops: first and second derivatives against the closed form and
against central differences, the conventions at kinks, the domain errors and IEEE behaviour."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, strategies as st

from autograd_mini import OPS, Value, grad
from autograd_mini.gradcheck import gradcheck
from autograd_mini.testing import reals


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True)
class Unary:
    """f(x) built from the op, and its closed-form first and second derivatives."""

    op: str
    f: Callable[[Value], Value]
    d1: Callable[[float], float]
    d2: Callable[[float], float]
    domain: str = "real"  # "real", "positive" or "nonzero"

    def inputs(self) -> st.SearchStrategy[float]:
        """Where the closed forms hold and central differences make sense (away from kinks)."""
        if self.domain == "positive":
            return st.floats(0.2, 3.0)
        if self.domain == "nonzero":
            return st.floats(0.2, 3.0) | st.floats(-3.0, -0.2)
        return reals(self.op) if self.op in ("abs", "relu", "leaky_relu") else reals()


UNARY = [
    Unary("neg", lambda x: -x, lambda x: -1.0, lambda x: 0.0),
    Unary("abs", abs, lambda x: math.copysign(1.0, x), lambda x: 0.0),
    Unary("exp", lambda x: x.exp(), math.exp, math.exp),
    Unary("log", lambda x: x.log(), lambda x: 1 / x, lambda x: -1 / x**2, "positive"),
    Unary(
        "sqrt",
        lambda x: x.sqrt(),
        lambda x: 0.5 / math.sqrt(x),
        lambda x: -0.25 * x**-1.5,
        "positive",
    ),
    Unary(
        "tanh",
        lambda x: x.tanh(),
        lambda x: 1 - math.tanh(x) ** 2,
        lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2),
    ),
    Unary(
        "sigmoid",
        lambda x: x.sigmoid(),
        lambda x: sig(x) * (1 - sig(x)),
        lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
    ),
    Unary("relu", lambda x: x.relu(), lambda x: 1.0 if x > 0 else 0.0, lambda x: 0.0),
    Unary(
        "leaky_relu",
        lambda x: x.leaky_relu(0.1),
        lambda x: 1.0 if x > 0 else 0.1,
        lambda x: 0.0,
    ),
    Unary("sin", lambda x: x.sin(), math.cos, lambda x: -math.sin(x)),
    Unary("cos", lambda x: x.cos(), lambda x: -math.sin(x), lambda x: -math.cos(x)),
    Unary("softplus", lambda x: x.softplus(), sig, lambda x: sig(x) * (1 - sig(x))),
    Unary("pow", lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x),
    Unary("pow", lambda x: x**2.5, lambda x: 2.5 * x**1.5, lambda x: 3.75 * x**0.5, "positive"),
    Unary("pow", lambda x: 2.0**x, lambda x: math.log(2) * 2**x, lambda x: math.log(2) ** 2 * 2**x),
    Unary("div", lambda x: 1.0 / x, lambda x: -1 / x**2, lambda x: 2 / x**3, "nonzero"),
]


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def first_and_second(f: Callable[[Value], Value], x: float) -> tuple[float, float, float]:
    v = Value(x)
    y = f(v)
    (d1,) = grad(y, [v], create_graph=True)
    (d2,) = grad(d1, [v])
    return y.data, d1.data, d2.data


def test_the_first_seventeen_ops_are_covered_here() -> None:
    # closed forms for the original primitives; tests/test_functions.py checks every op of the
    # registry against PyTorch and central differences
    covered = {u.op for u in UNARY} | {b.op for b in BINARY}
    assert len(covered) == 17 and covered <= set(OPS)


@pytest.mark.parametrize("case", UNARY, ids=lambda u: f"{u.op}")
@given(data=st.data())
def test_unary_derivatives_match_closed_form(case: Unary, data: st.DataObject) -> None:
    x = data.draw(case.inputs())
    _, d1, d2 = first_and_second(case.f, x)
    assert close(d1, case.d1(x)), (d1, case.d1(x))
    assert close(d2, case.d2(x)), (d2, case.d2(x))


@pytest.mark.parametrize("case", UNARY, ids=lambda u: f"{u.op}")
@given(data=st.data())
def test_unary_derivatives_match_central_differences(case: Unary, data: st.DataObject) -> None:
    x = data.draw(case.inputs())
    assert gradcheck(case.f, [x], order=2, raise_exception=True)


@dataclass(frozen=True)
class Binary:
    op: str
    f: Callable[[Value, Value], Value]
    grad: Callable[[float, float], tuple[float, float]]
    hessian: Callable[[float, float], tuple[float, float, float]]  # fxx, fxy, fyy


BINARY = [
    Binary("add", lambda x, y: x + y, lambda x, y: (1.0, 1.0), lambda x, y: (0.0, 0.0, 0.0)),
    Binary("sub", lambda x, y: x - y, lambda x, y: (1.0, -1.0), lambda x, y: (0.0, 0.0, 0.0)),
    Binary("mul", lambda x, y: x * y, lambda x, y: (y, x), lambda x, y: (0.0, 1.0, 0.0)),
    Binary(
        "div",
        lambda x, y: x / y,
        lambda x, y: (1 / y, -x / y**2),
        lambda x, y: (0.0, -1 / y**2, 2 * x / y**3),
    ),
    Binary(
        "pow",
        lambda x, y: x**y,
        lambda x, y: (y * x ** (y - 1), x**y * math.log(x)),
        lambda x, y: (
            y * (y - 1) * x ** (y - 2),
            x ** (y - 1) * (1 + y * math.log(x)),
            x**y * math.log(x) ** 2,
        ),
    ),
]


@pytest.mark.parametrize("case", BINARY, ids=lambda b: b.op)
@given(x=st.floats(0.2, 3.0), y=st.floats(0.2, 3.0), flip_x=st.booleans())
def test_binary_derivatives_match_closed_form(
    case: Binary, x: float, y: float, flip_x: bool
) -> None:
    if flip_x and case.op != "pow":
        x = -x
    a, b = Value(x), Value(y)
    out = case.f(a, b)
    ga, gb = grad(out, [a, b], create_graph=True)
    (gaa, gab) = grad(ga, [a, b])
    (gba, gbb) = grad(gb, [a, b])
    want_a, want_b = case.grad(x, y)
    fxx, fxy, fyy = case.hessian(x, y)
    assert close(ga.data, want_a) and close(gb.data, want_b)
    assert close(gaa.data, fxx) and close(gbb.data, fyy)
    assert close(gab.data, fxy) and close(gba.data, fxy)  # mixed partials agree


@pytest.mark.parametrize("case", BINARY, ids=lambda b: b.op)
@given(x=st.floats(0.2, 3.0), y=st.floats(0.2, 3.0))
def test_binary_derivatives_match_central_differences(case: Binary, x: float, y: float) -> None:
    assert gradcheck(case.f, [x, y], order=2, raise_exception=True)


# --- conventions at kinks (PyTorch's) ------------------------------------------------------------


def d(f: Callable[[Value], Value], x: float) -> float:
    v = Value(x)
    f(v).backward()
    return v.grad


def test_relu_derivative_at_zero_is_zero() -> None:
    assert d(lambda x: x.relu(), 0.0) == 0.0


def test_abs_derivative_at_zero_is_zero() -> None:
    assert d(abs, 0.0) == 0.0
    assert d(abs, -0.0) == 0.0


def test_leaky_relu_derivative_at_zero_is_the_slope() -> None:
    assert d(lambda x: x.leaky_relu(), 0.0) == 0.01
    assert d(lambda x: x.leaky_relu(0.2), 0.0) == 0.2


def test_leaky_relu_default_slope_is_one_hundredth() -> None:
    assert Value(-3.0).leaky_relu().data == pytest.approx(-0.03)


def test_power_zero_has_zero_derivative_even_at_zero() -> None:
    assert d(lambda x: x**0, 0.0) == 0.0
    assert d(lambda x: x**0, 3.0) == 0.0


def test_exponent_derivative_is_zero_where_base_is_zero() -> None:
    b = Value(2.5)
    (Value(0.0) ** b).backward()
    assert b.grad == 0.0


def test_exponent_derivative_is_nan_for_a_negative_base() -> None:
    b = Value(2.0)
    (Value(-3.0) ** b).backward()
    assert math.isnan(b.grad)


def test_integer_power_of_a_negative_base_differentiates_in_the_base() -> None:
    assert d(lambda x: x**3, -2.0) == 12.0
    assert d(lambda x: x**2, 0.0) == 0.0
    assert d(lambda x: x**1, 0.0) == 1.0


def test_fractional_power_has_infinite_slope_at_zero() -> None:
    assert d(lambda x: x**0.5, 0.0) == math.inf
    assert d(lambda x: x.sqrt(), 0.0) == math.inf


# --- domain errors, raised before a node is built ------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "words"),
    [
        (lambda: Value(0.0).log(), ValueError, ["log", "0.0"]),
        (lambda: Value(-2.0).log(), ValueError, ["log", "-2.0"]),
        (lambda: Value(-1.0).sqrt(), ValueError, ["sqrt", "-1.0"]),
        (lambda: Value(1.0) / 0, ZeroDivisionError, ["div", "1.0"]),
        (lambda: 1.0 / Value(0.0), ZeroDivisionError, ["div", "0.0"]),
        (lambda: Value(3.0) / Value(0.0), ZeroDivisionError, ["div"]),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, ["pow", "-1"]),
        (lambda: Value(0.0) ** Value(-0.5), ZeroDivisionError, ["pow", "-0.5"]),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, ["pow", "-8.0", "non-integer"]),
        (lambda: (-8.0) ** Value(0.5), ValueError, ["pow", "-8.0"]),
        (lambda: Value(1000.0).exp(), OverflowError, ["exp", "1000.0"]),
        (lambda: Value(10.0) ** 400, OverflowError, ["pow"]),
    ],
)
def test_domain_errors_name_the_operation_and_the_value(
    build: Callable[[], Value], error: type[Exception], words: list[str]
) -> None:
    with pytest.raises(error) as info:
        build()
    for word in words:
        assert word in str(info.value)


def test_domain_error_builds_no_node(monkeypatch: pytest.MonkeyPatch) -> None:
    from autograd_mini import engine

    built: list[object] = []
    real = engine._node
    monkeypatch.setattr(engine, "_node", lambda *a: built.append(a) or real(*a))
    x = Value(-1.0)
    with pytest.raises(ValueError):
        x.log()
    with pytest.raises(ValueError):
        x.sqrt()
    with pytest.raises(ZeroDivisionError):
        x / 0
    assert built == []
    x.exp()
    assert len(built) == 1  # the spy does see successful operations


# --- IEEE behaviour and stability ----------------------------------------------------------------


def test_nan_propagates_through_every_unary_op() -> None:
    for case in UNARY:
        assert math.isnan(case.f(Value(math.nan)).data), case.op


def test_relu_of_nan_is_nan_not_zero() -> None:
    assert math.isnan(Value(math.nan).relu().data)


def test_infinities_follow_ieee() -> None:
    inf = math.inf
    assert Value(-inf).exp().data == 0.0
    assert Value(inf).exp().data == inf
    assert math.isnan(Value(inf).sin().data)
    assert math.isnan(Value(-inf).cos().data)
    assert Value(inf).tanh().data == 1.0
    assert Value(-inf).sigmoid().data == 0.0
    assert Value(inf).log().data == inf
    assert Value(inf).relu().data == inf
    assert Value(inf).softplus().data == inf


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus"])
@pytest.mark.parametrize("x", [-1000.0, 1000.0, -40.0, 40.0])
def test_saturating_ops_are_finite_far_out(name: str, x: float) -> None:
    v = Value(x)
    y = getattr(v, name)()
    y.backward()
    assert math.isfinite(y.data) and math.isfinite(v.grad)
    w = Value(x)
    (g1,) = grad(getattr(w, name)(), [w], create_graph=True)
    (g2,) = grad(g1, [w])
    assert math.isfinite(g1.data) and math.isfinite(g2.data)


def test_softplus_is_accurate_far_out() -> None:
    assert Value(1000.0).softplus().data == 1000.0
    assert Value(-1000.0).softplus().data == 0.0
    assert Value(-40.0).softplus().data == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert d(lambda x: x.softplus(), 1000.0) == 1.0


def test_sigmoid_is_accurate_far_out() -> None:
    assert Value(-40.0).sigmoid().data == pytest.approx(math.exp(-40.0) / (1 + math.exp(-40.0)))
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


def test_sigmoid_derivative_never_exceeds_a_quarter() -> None:
    assert d(lambda x: x.sigmoid(), 0.0) == 0.25
    assert all(d(lambda x: x.sigmoid(), t / 10) <= 0.25 for t in range(-50, 51))


def test_second_derivative_of_integer_powers_at_zero() -> None:
    assert first_and_second(lambda x: x**2, 0.0) == (0.0, 0.0, 2.0)
    assert first_and_second(lambda x: x**3, 0.0) == (0.0, 0.0, 0.0)
    assert first_and_second(lambda x: x**1, 0.0) == (0.0, 1.0, 0.0)
