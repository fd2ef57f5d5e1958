"""The core contract of issue 2, probed from the issue text alone, the way an outside acceptance
suite would: every public name and signature as written, every operator with Values and numbers
(NumPy scalars too) on both sides, the conventions at kinks, the errors, IEEE propagation,
backward/grad semantics and higher derivatives against PyTorch (float64) as the oracle."""

from __future__ import annotations

import fractions
import math
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, example, given, settings, strategies as st

import autograd_mini
from autograd_mini import OPS, Value, grad, no_grad
from autograd_mini.gradcheck import GradcheckError, gradcheck, numerical_grad
from autograd_mini.testing import Expression, expressions, reals

np = pytest.importorskip("numpy")

INF = math.inf
NAN = math.nan


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


def same(a: float, b: float, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    """Equal as IEEE floats up to rounding: NaN matches NaN, ±inf match exactly."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def ours(fn: Callable[..., Value], *xs: float) -> tuple[float, list[float]]:
    """fn's value and gradient at xs with Value.backward()."""
    vs = [Value(x) for x in xs]
    y = fn(*vs)
    y.backward()
    return y.data, [v.grad for v in vs]


def theirs(torch: Any, fn: Callable[..., Any], *xs: float) -> tuple[float, list[float]]:
    """fn's value and gradient at xs with PyTorch float64 autograd."""
    ts = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in xs]
    y = fn(*ts)
    y.backward()
    return y.item(), [0.0 if t.grad is None else t.grad.item() for t in ts]


def derivatives_ours(fn: Callable[[Value], Value], x: float, order: int) -> list[float]:
    """[f, f', f'', …] at x, up to ``order``, through grad(create_graph=True)."""
    v = Value(x)
    y = fn(v)
    out = [y.data]
    for _ in range(order):
        (y,) = grad(y, [v], create_graph=True)
        out.append(y.data)
    return out


def derivatives_torch(torch: Any, fn: Callable[[Any], Any], x: float, order: int) -> list[float]:
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    out = [y.item()]
    for _ in range(order):
        if not y.requires_grad:
            out.append(0.0)
            y = torch.zeros((), dtype=torch.float64)
            continue
        (d,) = torch.autograd.grad(y, t, create_graph=True, allow_unused=True)
        y = torch.zeros((), dtype=torch.float64) if d is None else d
        out.append(y.item())
    return out


# --------------------------------------------------------------------------------------------
# Value: construction
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given_data",
    [
        3,
        -2.5,
        True,
        False,
        np.float32(1.5),
        np.float64(-0.25),
        np.float16(2.0),
        np.int64(7),
        np.int32(-3),
        np.int8(4),
        np.uint8(200),
        fractions.Fraction(3, 4),
    ],
    ids=repr,
)
def test_value_stores_any_real_number_as_a_python_float(given_data: Any) -> None:
    v = Value(given_data)
    assert type(v.data) is float
    assert v.data == float(given_data)
    assert v.grad == 0.0 and type(v.grad) is float
    assert v.label == ""


def test_value_takes_data_and_label_by_keyword() -> None:
    v = Value(data=2, label="x")
    assert (v.data, v.label) == (2.0, "x")


def test_value_accepts_a_numpy_bool() -> None:
    assert Value(np.bool_(True)).data == 1.0
    assert (Value(2.0) * np.bool_(True)).data == 2.0


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [
        ("1.0", "str"),
        (None, "NoneType"),
        ([1.0], "list"),
        ((1.0,), "tuple"),
        (1 + 2j, "complex"),
        (complex(1, 0), "complex"),
        (np.complex128(1), "complex128"),
        (Decimal("1.5"), "Decimal"),
        ({"x": 1}, "dict"),
    ],
    ids=repr,
)
def test_value_rejects_non_reals_with_a_type_error_naming_the_type(
    bad: object, type_name: str
) -> None:
    with pytest.raises(TypeError, match=type_name):
        Value(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Operators with Values and numbers on either side
# --------------------------------------------------------------------------------------------

BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}
NUMBERS = [
    2,
    2.5,
    True,
    np.float32(2.5),
    np.float64(2.5),
    np.int64(3),
    np.int8(2),
    fractions.Fraction(5, 2),
]


@pytest.mark.torch
@pytest.mark.parametrize("symbol", list(BINARY))
@pytest.mark.parametrize("number", NUMBERS, ids=lambda n: f"{type(n).__name__}({n})")
@pytest.mark.parametrize("side", ["value_left", "value_right"])
def test_operator_with_a_number_on_either_side_matches_torch(
    torch: Any, symbol: str, number: Any, side: str
) -> None:
    op = BINARY[symbol]
    c = float(number)
    x = Value(1.75)
    y = op(x, number) if side == "value_left" else op(number, x)
    assert type(y) is Value
    assert type(y.data) is float
    y.backward()
    fn = (lambda t: op(t, c)) if side == "value_left" else (lambda t: op(c, t))
    value, (dx,) = theirs(torch, fn, 1.75)
    assert same(y.data, value)
    assert same(x.grad, dx)


@pytest.mark.torch
@pytest.mark.parametrize("symbol", list(BINARY))
@pytest.mark.parametrize(("a", "b"), [(1.75, 0.5), (-1.5, 2.0), (0.3, -3.0), (2.0, 2.0)])
def test_operator_between_two_values_matches_torch(
    torch: Any, symbol: str, a: float, b: float
) -> None:
    op = BINARY[symbol]
    value, grads = ours(op, a, b)
    t_value, t_grads = theirs(torch, op, a, b)
    assert same(value, t_value)
    assert all(same(g, tg) for g, tg in zip(grads, t_grads, strict=True)), (grads, t_grads)


def test_two_to_the_x_and_x_to_the_y() -> None:
    x = Value(3.0)
    y = 2**x
    y.backward()
    assert y.data == 8.0
    assert x.grad == pytest.approx(8.0 * math.log(2.0))
    a, b = Value(2.0), Value(3.0)
    z = a**b
    z.backward()
    assert z.data == 8.0
    assert a.grad == pytest.approx(12.0)
    assert b.grad == pytest.approx(8.0 * math.log(2.0))


@pytest.mark.parametrize("number", [np.float32(2.0), np.int64(2), np.float64(2.0)], ids=repr)
def test_numpy_scalar_on_the_left_builds_a_value_not_an_array(number: Any) -> None:
    x = Value(3.0)
    for result in (number * x, number + x, number - x, number / x, number**x):
        assert type(result) is Value
    y = number * x + number**x
    y.backward()
    assert x.grad == pytest.approx(2.0 + 8.0 * math.log(2.0))


def test_unary_minus_abs_and_plus() -> None:
    x = Value(-1.5)
    n = -x
    a = abs(x)
    assert (n.data, a.data) == (1.5, 1.5)
    (n + a).backward()
    assert x.grad == -2.0  # -1 from -x, sign(-1.5) = -1 from abs
    assert (+x).data == -1.5


def test_operands_keep_argument_order_in_parents() -> None:
    x = Value(1.0)
    y = 5 - x
    assert [p.data for p in y.parents] == [5.0, 1.0]
    assert y.parents[1] is x


# --------------------------------------------------------------------------------------------
# Methods against PyTorch: values, first, second and third derivatives
# --------------------------------------------------------------------------------------------


def _methods(torch: Any) -> dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]:
    F = torch.nn.functional
    return {
        "exp": (lambda v: v.exp(), torch.exp),
        "log": (lambda v: v.log(), torch.log),
        "sqrt": (lambda v: v.sqrt(), torch.sqrt),
        "tanh": (lambda v: v.tanh(), torch.tanh),
        "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid),
        "relu": (lambda v: v.relu(), torch.relu),
        "leaky_relu": (lambda v: v.leaky_relu(), lambda t: F.leaky_relu(t, 0.01)),
        "leaky_relu_slope": (
            lambda v: v.leaky_relu(slope=0.3),
            lambda t: F.leaky_relu(t, 0.3),
        ),
        "sin": (lambda v: v.sin(), torch.sin),
        "cos": (lambda v: v.cos(), torch.cos),
        "softplus": (lambda v: v.softplus(), F.softplus),
        "abs": (abs, torch.abs),
        "neg": (lambda v: -v, lambda t: -t),
        "square": (lambda v: v**2, lambda t: t**2),
        "cube": (lambda v: v**3, lambda t: t**3),
        "inverse_square": (lambda v: v**-2, lambda t: t**-2),
        "half_power": (lambda v: v**0.5, lambda t: t**0.5),
        "e_to_the_x": (lambda v: math.e**v, lambda t: math.e**t),
        "reciprocal": (lambda v: 1 / v, lambda t: 1 / t),
        "sin_times_exp": (lambda v: v.sin() * v.exp(), lambda t: t.sin() * t.exp()),
    }


METHOD_NAMES = [
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "leaky_relu_slope",
    "sin",
    "cos",
    "softplus",
    "abs",
    "neg",
    "square",
    "cube",
    "inverse_square",
    "half_power",
    "e_to_the_x",
    "reciprocal",
    "sin_times_exp",
]
POINTS = [-3.7, -1.0, -0.25, 0.3, 1.0, 2.5, 12.0]
NEEDS_POSITIVE = {"log", "sqrt", "half_power"}


@pytest.mark.torch
@pytest.mark.parametrize("name", METHOD_NAMES)
def test_every_method_to_third_order_matches_torch(torch: Any, name: str) -> None:
    mine, reference = _methods(torch)[name]
    for x in POINTS:
        if name in NEEDS_POSITIVE and x <= 0:
            continue
        got = derivatives_ours(mine, x, 3)
        want = derivatives_torch(torch, reference, x, 3)
        assert all(same(g, w, rel=1e-8, abs_tol=1e-10) for g, w in zip(got, want, strict=True)), (
            x,
            got,
            want,
        )


@pytest.mark.torch
@given(x=st.floats(-6.0, 6.0))
@settings(max_examples=40)
def test_methods_match_torch_at_random_points_to_second_order(torch: Any, x: float) -> None:
    for name, (mine, reference) in _methods(torch).items():
        if name in NEEDS_POSITIVE:
            y = abs(x) + 1e-3
        elif name in ("reciprocal", "inverse_square"):
            y = x if abs(x) > 1e-3 else 1.0
        else:
            y = x
        got = derivatives_ours(mine, y, 2)
        want = derivatives_torch(torch, reference, y, 2)
        ok = all(same(g, w, rel=1e-8, abs_tol=1e-10) for g, w in zip(got, want, strict=True))
        assert ok, (name, y, got, want)


# --------------------------------------------------------------------------------------------
# Conventions at kinks (PyTorch's)
# --------------------------------------------------------------------------------------------


def test_kink_conventions_from_the_issue() -> None:
    assert ours(lambda x: x.relu(), 0.0) == (0.0, [0.0])
    assert ours(lambda x: abs(x), 0.0) == (0.0, [0.0])
    assert ours(lambda x: x.leaky_relu(slope=0.2), 0.0) == (0.0, [0.2])
    assert ours(lambda x: x.leaky_relu(), 0.0) == (0.0, [0.01])
    assert ours(lambda x: x**0, 0.0) == (1.0, [0.0])
    assert ours(lambda x: x ** Value(0.0), 0.0) == (1.0, [0.0])
    for b in (0.5, 1.0, 2.0, 3.7):
        value, (_, db) = ours(lambda a, e: a**e, 0.0, b)
        assert value == 0.0
        assert db == 0.0


@pytest.mark.torch
@pytest.mark.parametrize(
    ("a", "b"),
    [
        (0.0, 0.0),
        (0.0, 0.5),
        (0.0, 1.0),
        (0.0, 1.5),
        (0.0, 2.0),
        (0.0, 3.0),
        (-2.0, 2.0),
        (-2.0, 3.0),
        (-2.0, -1.0),
        (-0.5, 0.0),
        (2.0, 0.0),
        (1.0, 7.3),
        (3.0, -2.5),
    ],
)
def test_power_conventions_match_torch(torch: Any, a: float, b: float) -> None:
    got = ours(lambda x, y: x**y, a, b)
    want = theirs(torch, lambda x, y: x**y, a, b)
    assert same(got[0], want[0])
    assert same(got[1][0], want[1][0]), (got, want)
    assert same(got[1][1], want[1][1]), (got, want)
    # a constant exponent: only the base's derivative
    x = Value(a)
    (x**b).backward()
    assert same(x.grad, want[1][0])
    # a constant base: only the exponent's derivative
    if a != 0.0 or b > 0.0:
        e = Value(b)
        (a**e).backward()
        assert same(e.grad, want[1][1])


@pytest.mark.torch
@pytest.mark.parametrize("name", ["relu", "abs", "leaky_relu", "leaky_relu_slope"])
def test_kinks_at_zero_match_torch_to_second_order(torch: Any, name: str) -> None:
    mine, reference = _methods(torch)[name]
    got = derivatives_ours(mine, 0.0, 2)
    want = derivatives_torch(torch, reference, 0.0, 2)
    assert got == want


def test_leaky_relu_slope_is_a_keyword_and_may_be_a_value() -> None:
    x = Value(-2.0)
    s = Value(0.1)
    y = x.leaky_relu(slope=s)
    y.backward()
    assert y.data == pytest.approx(-0.2)
    assert x.grad == pytest.approx(0.1)
    assert s.grad == pytest.approx(-2.0)
    assert Value(-2.0).leaky_relu().data == pytest.approx(-0.02)
    assert Value(3.0).leaky_relu(slope=0.5).data == 3.0


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

BAD_OPERANDS = ["a", None, [1.0], 1j, np.complex128(1 + 1j), {}]


@pytest.mark.parametrize("bad", BAD_OPERANDS, ids=repr)
@pytest.mark.parametrize("symbol", list(BINARY))
def test_arithmetic_with_a_non_real_raises_type_error_on_both_sides(
    bad: object, symbol: str
) -> None:
    op = BINARY[symbol]
    with pytest.raises(TypeError):
        op(Value(2.0), bad)
    with pytest.raises(TypeError):
        op(bad, Value(2.0))


@pytest.mark.parametrize("bad", BAD_OPERANDS, ids=repr)
def test_comparison_and_slope_with_a_non_real_raise_type_error(bad: object) -> None:
    x = Value(1.0)
    for compare in (
        lambda: x < bad,
        lambda: x <= bad,
        lambda: x > bad,
        lambda: x >= bad,
    ):
        with pytest.raises(TypeError):
            compare()
    with pytest.raises(TypeError):
        x.leaky_relu(slope=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: Value(0.0).log(), ValueError, ["log", "0"]),
        (lambda: Value(-2.5).log(), ValueError, ["log", "-2.5"]),
        (lambda: Value(-4.0).sqrt(), ValueError, ["sqrt", "-4"]),
        (lambda: Value(3.0) / 0, ZeroDivisionError, ["3"]),
        (lambda: Value(3.0) / Value(0.0), ZeroDivisionError, ["3"]),
        (lambda: 1 / Value(0.0), ZeroDivisionError, []),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, ["0", "-1"]),
        (lambda: Value(0.0) ** Value(-0.5), ZeroDivisionError, ["-0.5"]),
        (lambda: 0 ** Value(-2.0), ZeroDivisionError, ["-2"]),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, ["-8"]),
        (lambda: Value(-2.0) ** Value(0.5), ValueError, ["-2", "0.5"]),
        (lambda: (-2.0) ** Value(1.5), ValueError, ["-2", "1.5"]),
        (lambda: Value(1000.0).exp(), OverflowError, ["exp", "1000"]),
    ],
)
def test_domain_errors_have_the_right_type_and_name_the_value(
    make: Callable[[], Value], error: type[Exception], words: list[str]
) -> None:
    with pytest.raises(error) as info:
        make()
    message = str(info.value)
    for word in words:
        assert word in message, message


def test_negative_base_never_gives_a_complex_number() -> None:
    for base, exponent in [(-8.0, 1 / 3), (-1.0, 0.5), (-0.001, 2.2)]:
        with pytest.raises(ValueError, match="pow"):
            Value(base) ** exponent
    assert (Value(-2.0) ** 3).data == -8.0
    assert (Value(-2.0) ** -2).data == 0.25


def test_division_errors_name_the_operation() -> None:
    with pytest.raises(ZeroDivisionError, match=r"(?i)div|zero"):
        Value(1.0) / 0.0


def test_failed_op_leaves_operands_usable() -> None:
    x = Value(-1.0)
    with pytest.raises(ValueError):
        x.log()
    y = x * 2
    y.backward()
    assert x.grad == 2.0


def test_backward_seed_must_be_a_real_number() -> None:
    with pytest.raises(TypeError):
        (Value(1.0) * 2).backward(grad="1")  # type: ignore[arg-type]
    x = Value(1.0)
    (x * 3).backward(grad=np.float32(2.0))
    assert x.grad == 6.0


def test_grad_rejects_non_values() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError):
        grad(2.0, [x])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        grad(x * 2, [1.0])  # type: ignore[list-item]


# --------------------------------------------------------------------------------------------
# NaN and inf propagate as IEEE floats; saturating ops are stable
# --------------------------------------------------------------------------------------------

UNARY_NAMES = [
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "sin",
    "cos",
    "softplus",
    "abs",
    "neg",
    "square",
]


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_nan_propagates_through_every_op_and_backward_does_not_raise(name: str) -> None:
    fns: dict[str, Callable[[Value], Value]] = {
        "exp": lambda v: v.exp(),
        "log": lambda v: v.log(),
        "sqrt": lambda v: v.sqrt(),
        "tanh": lambda v: v.tanh(),
        "sigmoid": lambda v: v.sigmoid(),
        "relu": lambda v: v.relu(),
        "leaky_relu": lambda v: v.leaky_relu(),
        "sin": lambda v: v.sin(),
        "cos": lambda v: v.cos(),
        "softplus": lambda v: v.softplus(),
        "abs": abs,
        "neg": lambda v: -v,
        "square": lambda v: v**2,
    }
    x = Value(NAN)
    y = fns[name](x)
    assert math.isnan(y.data)
    y.backward()
    (g,) = grad(fns[name](Value(NAN)), [Value(NAN)])  # unrelated input: 0
    assert g.data == 0.0


def test_relu_of_nan_is_nan_not_zero() -> None:
    assert math.isnan(Value(NAN).relu().data)


@pytest.mark.torch
@pytest.mark.parametrize("x", [INF, -INF])
@pytest.mark.parametrize("name", [n for n in METHOD_NAMES if n != "sin_times_exp"])
def test_infinities_propagate_like_torch(torch: Any, name: str, x: float) -> None:
    mine, reference = _methods(torch)[name]
    if x < 0 and name in NEEDS_POSITIVE:
        with pytest.raises(ValueError):
            mine(Value(x))
        return
    got = ours(mine, x)  # exp(inf) is inf: not an overflow
    want = theirs(torch, reference, x)
    assert same(got[0], want[0]), (got, want)
    assert same(got[1][0], want[1][0]), (got, want)


@pytest.mark.torch
@pytest.mark.parametrize("name", [n for n in METHOD_NAMES if n != "sin_times_exp"])
def test_nan_values_and_gradients_match_torch(torch: Any, name: str) -> None:
    mine, reference = _methods(torch)[name]
    got = ours(mine, NAN)
    want = theirs(torch, reference, NAN)
    assert math.isnan(got[0])
    assert same(got[1][0], want[1][0]), (got, want)  # relu'(nan) = 1, abs'(nan) = 0 as in torch


@pytest.mark.torch
def test_arithmetic_with_infinities_matches_torch(torch: Any) -> None:
    for a, b in [(INF, 0.0), (INF, -INF), (INF, 2.0), (-INF, 3.0), (NAN, 1.0), (2.0, INF)]:
        for symbol in ("+", "-", "*"):
            got = ours(BINARY[symbol], a, b)
            want = theirs(torch, BINARY[symbol], a, b)
            assert same(got[0], want[0])
            assert all(same(g, w) for g, w in zip(got[1], want[1], strict=True)), (
                symbol,
                a,
                b,
                got,
                want,
            )
    got = ours(lambda a, b: a / b, 1.0, INF)
    want = theirs(torch, lambda a, b: a / b, 1.0, INF)
    assert same(got[0], want[0]) and all(same(g, w) for g, w in zip(got[1], want[1], strict=True))


def test_ieee_special_values_forward() -> None:
    assert Value(-INF).exp().data == 0.0
    assert Value(INF).exp().data == INF
    assert math.isnan(Value(INF).sin().data)
    assert math.isnan(Value(-INF).cos().data)
    assert Value(INF).tanh().data == 1.0
    assert Value(-INF).sigmoid().data == 0.0
    assert Value(INF).softplus().data == INF
    assert Value(-INF).softplus().data == 0.0
    assert Value(INF).log().data == INF
    assert math.isnan((Value(INF) - Value(INF)).data)


@pytest.mark.torch
@pytest.mark.parametrize("x", [-1000.0, -100.0, -40.0, 40.0, 100.0, 1000.0])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus"])
def test_saturating_ops_are_finite_and_match_torch_at_extremes(
    torch: Any, name: str, x: float
) -> None:
    mine, reference = _methods(torch)[name]
    got = derivatives_ours(mine, x, 2)
    want = derivatives_torch(torch, reference, x, 2)
    assert all(math.isfinite(g) for g in got), got
    assert all(same(g, w, rel=1e-9, abs_tol=1e-300) for g, w in zip(got, want, strict=True)), (
        got,
        want,
    )


@pytest.mark.torch
@pytest.mark.parametrize(("a", "n"), [(1e-200, -1.5), (-0.5, -1023.0), (0.5, -1023.5)])
def test_power_derivative_overflowing_to_inf_is_the_same_with_create_graph(
    torch: Any, a: float, n: float
) -> None:
    """x**(n-1) can overflow where x**n did not: backward() and grad(create_graph=True) agree
    with torch on ±inf instead of one of them raising OverflowError."""
    _, (want,) = theirs(torch, lambda t: t**n, a)
    x = Value(a)
    y = x**n
    (plain,) = grad(y, [x])
    (recorded,) = grad(y, [x], create_graph=True)
    assert plain.data == recorded.data == want
    assert math.isinf(want)


def test_softplus_keeps_precision_far_out() -> None:
    assert Value(-1000.0).softplus().data == 0.0
    assert Value(-50.0).softplus().data == pytest.approx(math.exp(-50.0), rel=1e-12)
    assert Value(1000.0).softplus().data == 1000.0
    assert Value(-50.0).sigmoid().data == pytest.approx(math.exp(-50.0), rel=1e-12)


# --------------------------------------------------------------------------------------------
# float(), comparisons, identity equality and hash, repr
# --------------------------------------------------------------------------------------------


def test_float_gives_the_data() -> None:
    v = Value(2.5)
    assert float(v) == 2.5 and type(float(v)) is float
    assert math.sqrt(Value(4.0)) == 2.0


def test_comparisons_return_plain_bools_on_either_side() -> None:
    x, y = Value(1.0), Value(2.0)
    results = [
        x < y,
        x <= y,
        y > x,
        y >= x,
        x < 1.5,
        1.5 > x,  # noqa: SIM300 - the reflected comparison is the point
        2 >= y,  # noqa: SIM300
        np.float64(0.5) < x,
        np.float32(3.0) > y,
        x >= True,
    ]
    assert all(type(r) is bool for r in results)
    assert all(results)
    assert not (x > y) and not (y <= x) and not (x < 1)
    assert x.is_leaf and y.is_leaf and x.grad == 0.0


def test_equality_is_by_value_and_hash_is_identity() -> None:
    # issue 10 changed == from identity to value (Value(2.0) == 2.0 was a user trap)
    a, b = Value(3.0), Value(3.0)
    assert a == a
    assert (a == b) is True
    assert not (a != b)  # noqa: SIM202 - __ne__ itself, not __eq__
    assert (a == 3.0) is True and (a != 3.0) is False
    assert hash(a) == hash(a)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    assert len({a, b, a}) == 2


def test_repr_shows_data_grad_and_label() -> None:
    x = Value(2.0, label="x")
    y = x * 3
    y.backward()
    text = repr(x)
    assert text.startswith("Value(data=2.0, grad=3.0, label=")
    assert "x" in text.split("label=")[1]
    assert repr(Value(-1.5)).startswith("Value(data=-1.5, grad=0.0, label=")


# --------------------------------------------------------------------------------------------
# backward
# --------------------------------------------------------------------------------------------


def test_the_issue_example() -> None:
    x = Value(2.0, label="x")
    y = (x * x + 3).tanh()
    y.backward()
    assert y.data == math.tanh(7)
    assert x.grad == pytest.approx(4 * (1 - math.tanh(7) ** 2), rel=1e-12)


def test_reused_node_gets_the_sum_of_both_paths() -> None:
    x = Value(5.0)
    b = x * 1
    r = b + b * 2
    r.backward()
    assert x.grad == 3.0
    assert b.grad == 3.0


@pytest.mark.torch
def test_diamonds_and_repeated_operands_match_torch(torch: Any) -> None:
    def f(x: Any, y: Any) -> Any:
        a = x * y
        b = a.tanh()
        c = a.sin()
        d = b * c + a * a
        e = d / (x * x + 1.0) - y * d
        return e * e + x * x * x

    got = ours(f, 0.7, -1.3)
    want = theirs(torch, f, 0.7, -1.3)
    assert same(got[0], want[0])
    assert all(same(g, w) for g, w in zip(got[1], want[1], strict=True))


def test_same_value_as_both_operands() -> None:
    x = Value(3.0)
    (x + x).backward()
    assert x.grad == 2.0
    x.grad = 0.0
    (x * x).backward()
    assert x.grad == 6.0
    x.grad = 0.0
    (x / x).backward()
    assert x.grad == 0.0
    x.grad = 0.0
    (x**x).backward()
    assert x.grad == pytest.approx(27.0 * (math.log(3.0) + 1.0))


def test_backward_seed_scales_the_gradients() -> None:
    x = Value(2.0)
    (x * x).backward(grad=0.5)
    assert x.grad == 2.0


def test_backward_of_a_leaf_gives_it_the_seed() -> None:
    x = Value(2.0)
    x.backward()
    assert x.grad == 1.0


def test_second_backward_raises_runtime_error_and_changes_nothing() -> None:
    x = Value(2.0)
    y = x * x
    z = y * 3
    z.backward()
    assert x.grad == 12.0
    with pytest.raises(RuntimeError, match="retain_graph"):
        z.backward()
    assert x.grad == 12.0
    with pytest.raises(RuntimeError):
        y.backward()  # an interior node of a released graph
    assert x.grad == 12.0


def test_retain_graph_adds_exactly_the_same_again_not_stale_interior_gradients() -> None:
    x = Value(2.0)
    y = x * x
    z = y * 3
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad == 24.0  # micrograd gets 36
    assert z.grad == 2.0
    with pytest.raises(RuntimeError):
        z.backward()


def test_retain_graph_many_times_and_on_a_subgraph() -> None:
    x = Value(2.0)
    y = x * x
    z = y * 3
    for _ in range(4):
        z.backward(retain_graph=True)
    assert x.grad == 48.0
    y.backward(retain_graph=True)  # backward from an interior node of a retained graph
    assert x.grad == 52.0
    z.backward()
    assert x.grad == 64.0


@pytest.mark.torch
def test_leaves_accumulate_across_separate_graphs_like_torch(torch: Any) -> None:
    w = Value(1.5)
    b = Value(-0.5)
    loss1 = (w * 2.0 + b).tanh()
    loss2 = w * w * b
    loss1.backward()
    loss2.backward()
    tw = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(-0.5, dtype=torch.float64, requires_grad=True)
    (tw * 2.0 + tb).tanh().backward()
    (tw * tw * tb).backward()
    assert same(w.grad, tw.grad.item())
    assert same(b.grad, tb.grad.item())


def test_rebuilding_the_same_expression_accumulates() -> None:
    x = Value(3.0)
    for _ in range(3):
        (x * x).backward()
    assert x.grad == 18.0


def test_backward_is_iterative_for_graphs_deeper_than_the_recursion_limit() -> None:
    depth = 5 * sys.getrecursionlimit()
    x = Value(0.5)
    y = x
    for _ in range(depth):
        y = y * 1.0 + 0.0
    (g,) = grad(y, [x])
    assert g.data == 1.0
    y.backward()
    assert x.grad == 1.0


@pytest.mark.slow
def test_backward_through_a_million_node_chain() -> None:
    x = Value(1.0)
    y = x
    for _ in range(500_000):
        y = y + 1.0  # two Values per step: the sum and the constant leaf
    y.backward()
    assert x.grad == 1.0
    assert y.data == 500_001.0


_DETERMINISM = """
import sys
from autograd_mini import Value
xs = [Value(0.1 * (i + 1)) for i in range(12)]
pool = set(xs)  # iteration order depends on id/hash: must not leak into the result
acc = Value(0.0)
for i, x in enumerate(xs):
    t = (x * xs[(i * 5) % 12]).tanh() + x.sigmoid() * xs[(i + 3) % 12].softplus()
    acc = acc + t * t.sin() + 1.0 / (t * t + 1.0)
for x in sorted(pool, key=lambda v: id(v)):
    acc = acc + x * 1e-3
loss = acc * acc
loss.backward()
print(" ".join(float.hex(x.grad) for x in xs))
"""


def test_gradients_are_bit_identical_across_processes_and_hash_seeds() -> None:
    outputs = set()
    for seed in ("0", "7", "random"):
        env = {"PYTHONHASHSEED": seed} if seed != "random" else {}
        result = subprocess.run(
            [sys.executable, "-c", _DETERMINISM],
            capture_output=True,
            text=True,
            check=True,
            env={**env, "PATH": ""},
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1, outputs


# --------------------------------------------------------------------------------------------
# grad()
# --------------------------------------------------------------------------------------------


def test_grad_returns_a_list_of_values_and_touches_no_grad() -> None:
    x, y = Value(2.0), Value(3.0)
    h = x * y
    z = h.tanh() + x
    result = grad(z, [x, y])
    assert isinstance(result, list) and len(result) == 2
    assert all(type(r) is Value for r in result)
    assert result[0].data == pytest.approx(3.0 * (1 - math.tanh(6) ** 2) + 1.0)
    assert result[1].data == pytest.approx(2.0 * (1 - math.tanh(6) ** 2))
    assert (x.grad, y.grad, h.grad, z.grad) == (0.0, 0.0, 0.0, 0.0)
    result2 = grad(output=z, inputs=[x, y], create_graph=True)
    assert [r.data for r in result2] == [r.data for r in result]
    assert (x.grad, y.grad, h.grad, z.grad) == (0.0, 0.0, 0.0, 0.0)
    z.backward()  # grad() left the graph usable
    assert x.grad == result[0].data


def test_grad_with_existing_grads_does_not_change_them() -> None:
    x = Value(2.0)
    x.grad = 5.0
    (g,) = grad(x * x, [x])
    assert g.data == 4.0
    assert x.grad == 5.0


def test_second_derivative_of_sin_times_exp() -> None:
    for a in (-1.2, 0.0, 0.5, 2.0):
        x = Value(a)
        (d1,) = grad(x.sin() * x.exp(), [x], create_graph=True)
        (d2,) = grad(d1, [x], create_graph=True)
        (d3,) = grad(d2, [x])
        assert d1.data == pytest.approx((math.cos(a) + math.sin(a)) * math.exp(a), abs=1e-12)
        assert d2.data == pytest.approx(2 * math.cos(a) * math.exp(a), abs=1e-12)
        assert d3.data == pytest.approx(2 * (math.cos(a) - math.sin(a)) * math.exp(a), abs=1e-12)


def test_mixed_partials_of_x_y_y() -> None:
    x, y = Value(1.5), Value(-2.0)
    dx, dy = grad(x * y * y, [x, y], create_graph=True)
    assert (dx.data, dy.data) == (4.0, -6.0)  # y², 2xy
    dxx, dxy = grad(dx, [x, y])
    dyx, dyy = grad(dy, [x, y])
    assert (dxx.data, dxy.data) == (0.0, -4.0)  # 0, 2y
    assert (dyx.data, dyy.data) == (-4.0, 3.0)  # 2y, 2x
    assert (x.grad, y.grad) == (0.0, 0.0)


@pytest.mark.torch
def test_third_mixed_derivatives_match_torch(torch: Any) -> None:
    def f(x: Any, y: Any) -> Any:
        return (x * y).sin() * (y * y + 1.0).log() + (x / (y * y + 1.0)).tanh() * x.exp()

    vx, vy = Value(0.4), Value(-0.9)
    tx = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(-0.9, dtype=torch.float64, requires_grad=True)
    (ox,) = grad(f(vx, vy), [vx], create_graph=True)
    (oxy,) = grad(ox, [vy], create_graph=True)
    oxyx, oxyy = grad(oxy, [vx, vy])
    (txg,) = torch.autograd.grad(f(tx, ty), [tx], create_graph=True)
    (txy,) = torch.autograd.grad(txg, [ty], create_graph=True)
    txyx, txyy = torch.autograd.grad(txy, [tx, ty])
    assert same(ox.data, txg.item())
    assert same(oxy.data, txy.item())
    assert same(oxyx.data, txyx.item())
    assert same(oxyy.data, txyy.item())


@pytest.mark.torch
def test_gradient_penalty_backward_through_a_loss_containing_its_own_gradient(torch: Any) -> None:
    def f(t: Any) -> Any:
        return t.sin() * t.exp() + t.tanh() * t

    x = Value(0.7)
    y = f(x)
    (d,) = grad(y, [x], create_graph=True)
    loss = y + d * d
    loss.backward()
    t = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    ty = f(t)
    (td,) = torch.autograd.grad(ty, t, create_graph=True)
    tloss = ty + td * td
    tloss.backward()
    assert same(loss.data, tloss.item())
    assert same(x.grad, t.grad.item())


def test_backward_on_a_create_graph_gradient() -> None:
    x = Value(3.0)
    (dy,) = grad(x**3, [x], create_graph=True)  # 3x²
    dy.backward()
    assert x.grad == pytest.approx(18.0)  # 6x


def test_grad_of_an_intermediate_and_of_an_unused_input() -> None:
    x, u = Value(2.0), Value(9.0)
    h = x * x
    y = h * 3
    gh, gu = grad(y, [h, u])
    assert gh.data == 3.0
    assert gu.data == 0.0


def test_grad_works_after_backward_with_retain_graph_and_fails_after_release() -> None:
    x = Value(2.0)
    y = x * x * 3
    y.backward(retain_graph=True)
    (g,) = grad(y, [x])
    assert g.data == 12.0
    y.backward()
    with pytest.raises(RuntimeError):
        grad(y, [x])


def assert_hessian_matches_torch(hessian: list[list[float]], want: Any) -> None:
    """Ours is symmetric and equals torch's, except where torch's own is not symmetric: for
    xʸ at y = 0 exactly, torch's where(y == 0, 0, y·xʸ⁻¹) drops ∂/∂y of ∂/∂x (x⁻¹), so there
    ours must equal torch's other, correct, mixed partial ∂/∂x of ∂/∂y."""
    n = len(hessian)
    close = {"rel": 1e-7, "abs_tol": 1e-9}
    for i in range(n):
        for j in range(n):
            assert same(hessian[i][j], hessian[j][i], **close), ("not symmetric", i, j, hessian)
            t_ij, t_ji = want[i, j].item(), want[j, i].item()
            ok = same(hessian[i][j], t_ij, **close)
            if not ok and not same(t_ij, t_ji, **close):
                ok = same(hessian[i][j], t_ji, **close)
            assert ok, (i, j, hessian, want)


def test_mixed_partials_of_a_power_at_exponent_zero_are_symmetric_and_right() -> None:
    """d²(xʸ)/dxdy = xʸ⁻¹(1 + y·ln x) = 1/x at y = 0, in both orders (PyTorch gets 0 for one)."""
    x, y = Value(2.0), Value(0.0)
    dx, dy = grad(x**y, [x, y], create_graph=True)
    assert (dx.data, dy.data) == (0.0, pytest.approx(math.log(2.0)))  # d(x**0)/dx = 0
    (dxy,) = grad(dx, [y])
    (dyx,) = grad(dy, [x])
    assert dxy.data == pytest.approx(0.5)
    assert dyx.data == pytest.approx(0.5)
    assert gradcheck(lambda a, b: a**b, [2.0, 0.0], order=2)
    assert gradcheck(lambda a, b: (a * a + 1.0) ** b.tanh() * a, [1.0, 0.0], order=2)


# Random expression DAGs written once on "tensor-like" arguments, run on Values and on tensors.


def _softplus(torch: Any, a: Any) -> Any:
    return a.softplus() if isinstance(a, Value) else torch.nn.functional.softplus(a)


def _unary_blocks(torch: Any) -> list[Callable[[Any], Any]]:
    return [
        lambda a: a.tanh(),
        lambda a: a.sigmoid(),
        lambda a: a.sin(),
        lambda a: a.cos(),
        lambda a: _softplus(torch, a),
        lambda a: a * a,
        lambda a: -a,
        lambda a: (a * a + 1.0).log(),
        lambda a: (a * a + 0.5).sqrt(),
        lambda a: a.tanh().exp(),
        lambda a: 2.0 ** a.tanh(),
    ]


BINARY_BLOCKS: list[Callable[[Any, Any], Any]] = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (b * b + 1.0),
    lambda a, b: (a * a + 1.0) ** b.tanh(),
    lambda a, b: 3.0 * a - b * 0.5,
]


@st.composite
def programs(draw: st.DrawFn, n_inputs: int) -> list[tuple[bool, int, tuple[int, ...]]]:
    steps = []
    for k in range(draw(st.integers(1, 7))):
        size = n_inputs + k
        operand = st.integers(0, size - 1)
        if draw(st.booleans()):
            which = draw(st.integers(0, len(BINARY_BLOCKS) - 1))
            steps.append((True, which, (draw(operand), draw(operand))))
        else:
            steps.append((False, draw(st.integers(0, 10)), (draw(operand),)))
    return steps


def _run(torch: Any, steps: Sequence[tuple[bool, int, tuple[int, ...]]], *xs: Any) -> Any:
    pool = list(xs)
    unary = _unary_blocks(torch)
    for is_binary, which, args in steps:
        fn = BINARY_BLOCKS[which] if is_binary else unary[which]
        pool.append(fn(*(pool[i] for i in args)))
    out = pool[-1]
    for x in xs:  # depend on every input
        out = out + 0.25 * x
    return out


@pytest.mark.torch
@given(programs(3), st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3))
@settings(max_examples=40)
@example(steps=[(True, 1, (0, 1)), (False, 0, (0,)), (True, 4, (0, 3))], xs=[1.0, 1.0, 0.0])
def test_hessians_of_random_expressions_match_torch(
    torch: Any, steps: list[tuple[bool, int, tuple[int, ...]]], xs: list[float]
) -> None:
    vs = [Value(x) for x in xs]
    y = _run(torch, steps, *vs)
    first = grad(y, vs, create_graph=True)
    hessian = [[h.data for h in grad(g, vs)] for g in first]
    point = torch.tensor(xs, dtype=torch.float64)
    want_h = torch.autograd.functional.hessian(lambda t: _run(torch, steps, *t.unbind()), point)
    t = point.clone().requires_grad_(True)
    ty = _run(torch, steps, *t.unbind())
    (tg,) = torch.autograd.grad(ty, t)
    assert same(y.data, ty.item())
    for i in range(3):
        assert same(first[i].data, tg[i].item(), rel=1e-8, abs_tol=1e-10)
    if any(not same(want_h[i, j].item(), want_h[j, i].item()) for i in range(3) for j in range(i)):
        # torch's where(y == 0, 0, …) for xʸ at y = 0 drops a term: where y also depends on the
        # input, more than one mixed partial is off (e.g. ∂²/∂x² of (x²+1)^tanh(x − z) at x = z),
        # so central differences of our exact gradient are the oracle there
        def gradient(at: list[float]) -> list[float]:
            ws = [Value(x) for x in at]
            return [g.data for g in grad(_run(torch, steps, *ws), ws)]

        h = 1e-6
        for j in range(3):
            up, down = list(xs), list(xs)
            up[j] += h
            down[j] -= h
            column = [(a - b) / (2 * h) for a, b in zip(gradient(up), gradient(down), strict=True)]
            for i in range(3):
                assert same(hessian[i][j], column[i], rel=1e-4, abs_tol=1e-5), (i, j, hessian)
        return
    assert_hessian_matches_torch(hessian, want_h)
    y.backward()
    assert all(same(v.grad, tg[i].item(), rel=1e-8, abs_tol=1e-10) for i, v in enumerate(vs))


# --------------------------------------------------------------------------------------------
# no_grad and detach
# --------------------------------------------------------------------------------------------


def test_no_grad_records_no_graph() -> None:
    x = Value(2.0)
    with no_grad():
        y = (x * x + 1).tanh()
    assert y.is_leaf and y.parents == ()
    y.backward()
    assert x.grad == 0.0
    z = x * x  # recording is back on after the block
    assert not z.is_leaf


def test_no_grad_is_per_thread() -> None:
    entered = threading.Event()
    built = threading.Event()
    results: dict[str, bool] = {}

    def quiet() -> None:
        with no_grad():
            entered.set()
            built.wait(5)
            results["quiet"] = (Value(1.0) * 2).is_leaf

    def loud() -> None:
        entered.wait(5)
        results["loud"] = (Value(1.0) * 2).is_leaf
        built.set()

    threads = [threading.Thread(target=quiet), threading.Thread(target=loud)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {"quiet": True, "loud": False}


def test_no_grad_in_the_main_thread_does_not_leak_into_a_new_thread() -> None:
    results: list[bool] = []
    with no_grad():
        t = threading.Thread(target=lambda: results.append((Value(1.0) * 2).is_leaf))
        t.start()
        t.join(10)
        assert (Value(1.0) * 2).is_leaf
    assert results == [False]


def _pause_first_mul_rule(
    monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]
) -> list[threading.Thread]:
    """Start ``meanwhile`` in another thread from inside the first ``mul`` rule this thread's
    backward pass applies, and give it time to run: two passes that would interleave if the
    engine let them.  Returns the started thread (join it after the pass)."""
    from autograd_mini import ops

    original = ops.MUL.compiled_rule((True, False))  # x * constant: the float rule for x alone
    owner = threading.get_ident()
    started: list[threading.Thread] = []

    def paused(*args: Any) -> Any:
        if threading.get_ident() == owner and not started:
            other = threading.Thread(target=meanwhile)
            started.append(other)
            other.start()
            other.join(0.2)  # time for the other pass to run, if nothing stops it
        return original(*args)

    monkeypatch.setattr(ops.MUL, "vjp_x", paused)
    return started


def test_backward_in_another_thread_over_a_shared_leaf_does_not_interleave(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = Value(0.5)
    seen: list[float] = []

    def other_thread() -> None:
        w.sin().backward()
        seen.append(w.grad)

    started = _pause_first_mul_rule(monkeypatch, other_thread)
    (w * 3.0).tanh().backward()
    mine = w.grad
    assert started, "the engine no longer applies rules through Op.vjp_x"
    started[0].join(10)
    assert mine == pytest.approx(3.0 * (1.0 - math.tanh(1.5) ** 2))  # complete, nothing else
    assert seen == [pytest.approx(math.cos(0.5) + mine)]  # the other pass ran after, in full
    assert w.grad == seen[0]


def test_grad_in_another_thread_does_not_leak_into_a_concurrent_backward(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = Value(0.5)
    results: list[float] = []

    def other_thread() -> None:
        results.append(grad(w.sin(), [w])[0].data)

    started = _pause_first_mul_rule(monkeypatch, other_thread)
    (w * 3.0).tanh().backward()
    assert started, "the engine no longer applies rules through Op.vjp_x"
    started[0].join(10)
    assert results == [pytest.approx(math.cos(0.5))]
    assert w.grad == pytest.approx(3.0 * (1.0 - math.tanh(1.5) ** 2))  # grad() touches no .grad


def test_detach_returns_a_new_leaf_with_the_same_data() -> None:
    x = Value(3.0)
    h = x * x
    d = h.detach()
    assert d is not h and d.is_leaf and d.data == 9.0
    y = d * x
    y.backward()
    assert x.grad == 9.0  # nothing flows through d


# --------------------------------------------------------------------------------------------
# gradcheck
# --------------------------------------------------------------------------------------------


def test_numerical_grad_is_central_differences() -> None:
    result = numerical_grad(lambda a, b: a * a * b, [1.5, -2.0])
    assert isinstance(result, list) and len(result) == 2
    assert all(type(r) is float for r in result)
    assert result[0] == pytest.approx(2 * 1.5 * -2.0, rel=1e-6)
    assert result[1] == pytest.approx(1.5**2, rel=1e-6)
    coarse = numerical_grad(lambda a: a**3, [1.0], eps=0.1)
    assert coarse[0] == pytest.approx(((1.1) ** 3 - (0.9) ** 3) / 0.2, rel=1e-12)
    from_values = numerical_grad(lambda a: a.exp(), [Value(0.0)])
    assert from_values[0] == pytest.approx(1.0, rel=1e-6)


def test_gradcheck_passes_correct_functions_at_both_orders() -> None:
    def f(a: Value, b: Value) -> Value:
        return (a * b).tanh() + a.exp() / b + (b * b).sqrt().log() + a.sigmoid() * b.softplus()

    assert gradcheck(f, [0.3, 1.7]) is True
    assert gradcheck(f, [Value(0.3), Value(1.7)], order=2) is True
    assert gradcheck(f, (0.3, 1.7), eps=1e-5, atol=1e-6, rtol=1e-4, order=2) is True
    assert gradcheck(lambda a: a.sin(), 0.5) is True


def straight_through_square(x: Value) -> Value:
    """x², whose first derivative 2x is right but is built from constants, so it has no
    derivative of its own: gradcheck(order=1) passes, order=2 must not."""
    c = Value(x.data)
    return 2.0 * x * c - c * c


def broken_double(x: Value) -> Value:
    """2x², with the gradient of x² (a wrong first derivative)."""
    return x * Value(x.data) * 2.0


def test_gradcheck_detects_a_wrong_first_derivative() -> None:
    assert gradcheck(broken_double, [1.5]) is False
    with pytest.raises(GradcheckError) as info:
        gradcheck(broken_double, [1.5], raise_exception=True)
    message = str(info.value)
    assert "0" in message
    assert "3.0" in message  # analytic: 2·1.5
    numerical = numerical_grad(lambda x: 2.0 * x * x, [1.5])[0]
    assert repr(numerical) in message or f"{numerical:.6g}" in message or "6.0" in message


def test_gradcheck_error_names_the_input_that_is_wrong() -> None:
    def f(a: Value, b: Value) -> Value:
        return a * b + b * Value(b.data)  # ∂/∂b analytic a + b, true a + 2b

    with pytest.raises(GradcheckError, match="1") as info:
        gradcheck(f, [2.0, 0.5], raise_exception=True)
    assert "analytic" in str(info.value).lower() or "2.5" in str(info.value)
    assert isinstance(info.value, Exception)


def test_gradcheck_order_two_catches_a_broken_second_derivative() -> None:
    assert gradcheck(straight_through_square, [1.5]) is True
    assert gradcheck(straight_through_square, [1.5], order=2) is False
    with pytest.raises(GradcheckError) as info:
        gradcheck(straight_through_square, [1.5], order=2, raise_exception=True)
    message = str(info.value)
    assert "0" in message
    assert "2.0" in message or "1.99" in message  # numerical second derivative


def test_gradcheck_tolerances_are_used() -> None:
    assert gradcheck(broken_double, [1.5], atol=10.0) is True
    assert gradcheck(broken_double, [1.5], atol=0.0, rtol=0.6) is True
    assert gradcheck(broken_double, [1.5], atol=0.0, rtol=0.4) is False


def test_gradcheck_accepts_a_numpy_scalar_input() -> None:
    assert gradcheck(lambda a: a * a, np.float32(1.5)) is True
    assert numerical_grad(lambda a: a * a, np.int64(2))[0] == pytest.approx(4.0)


# --------------------------------------------------------------------------------------------
# testing: hypothesis strategies
# --------------------------------------------------------------------------------------------


@given(reals())
def test_reals_are_finite_floats(x: float) -> None:
    assert type(x) is float and math.isfinite(x)


@given(reals("log"), reals("sqrt"), reals("relu"), reals("abs"))
def test_reals_respect_each_op_domain_and_kinks(a: float, b: float, c: float, d: float) -> None:
    assert a > 0 and b > 0 and c != 0 and d != 0
    assert gradcheck(lambda v: v.log() + v.sqrt(), [a if a > 0.05 else a + 0.05])


@given(expressions(1), reals())
def test_expressions_of_one_input_pass_gradcheck(f: Any, x: float) -> None:
    assert gradcheck(f, [x])


@given(expressions(3), reals(), reals(), reals())
@settings(max_examples=30)
def test_expressions_of_three_inputs_pass_gradcheck_to_second_order(
    f: Any, a: float, b: float, c: float
) -> None:
    assert gradcheck(f, [a, b, c], order=2)
    vs = [Value(a), Value(b), Value(c)]
    y = f(*vs)
    assert isinstance(y, Value)
    y.backward()
    assert [v.grad for v in vs] == [g.data for g in grad(f(*vs), vs)]


@given(st.integers(1, 4).flatmap(expressions))
def test_every_generated_expression_is_a_dag_with_a_shared_subexpression(f: Any) -> None:
    xs = [Value(0.1 * (i + 1)) for i in range(f.n_inputs)]
    out = f(*xs)
    nodes = autograd_mini.topological_order(out)
    consumers: dict[int, set[int]] = {}
    for node in nodes:
        for parent in node.parents:
            consumers.setdefault(id(parent), set()).add(id(node))
    assert any(len(users) >= 2 for users in consumers.values()), f
    assert all(any(n is x for n in nodes) for x in xs)  # the result depends on every input


@pytest.mark.torch
@given(expressions(2), reals(), reals())
@settings(max_examples=30)
def test_expressions_run_on_torch_tensors_too(torch: Any, f: Any, a: float, b: float) -> None:
    """An acceptance suite with PyTorch as the oracle can evaluate the same random DAG on
    tensors."""
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    ty = f(ta, tb)
    ty.backward()
    va, vb = Value(a), Value(b)
    y = f(va, vb)
    y.backward()
    assert same(y.data, ty.item())
    assert same(va.grad, ta.grad.item(), rel=1e-8, abs_tol=1e-10)
    assert same(vb.grad, tb.grad.item(), rel=1e-8, abs_tol=1e-10)


@pytest.mark.torch
@given(expressions(3, max_steps=5), st.lists(reals(), min_size=3, max_size=3))
@example(Expression(3, (("pow", (0, 1)), ("mul", (3, 0)), ("add", (4, 2)))), [1.0, 0.0, 0.5])
@settings(max_examples=25)
def test_hessians_of_generated_expressions_match_torch(torch: Any, f: Any, xs: list[float]) -> None:
    vs = [Value(x) for x in xs]
    out = f(*vs)
    # 0/0 singularities, where torch's second derivatives are artefacts of its formulas:
    # x**y at (0, 0), hypot and atan2 at the origin (documented in the README)
    singular = {"pow", "hypot", "atan2"}
    assume(
        not any(
            n.op in singular and all(p.data == 0.0 for p in n.parents)
            for n in autograd_mini.topological_order(out)
        )
    )
    first = grad(out, vs, create_graph=True)
    hessian = [[h.data for h in grad(g, vs)] for g in first]
    point = torch.tensor(xs, dtype=torch.float64)
    want = torch.autograd.functional.hessian(lambda t: f(*t.unbind()), point)
    assert_hessian_matches_torch(hessian, want)


@given(reals(OPS["log"]), reals(OPS["leaky_relu"], margin=0.5))
def test_reals_accept_an_op_as_well_as_its_name(a: float, b: float) -> None:
    assert a > 0.0
    assert abs(b) >= 0.5


def test_importing_the_package_and_gradcheck_pulls_in_no_optional_dependency() -> None:
    script = (
        "import sys, autograd_mini, autograd_mini.gradcheck\n"
        "bad = [m for m in ('hypothesis', 'numpy', 'torch', 'matplotlib', 'micrograd')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
        "import autograd_mini.testing\n"
        "assert 'hypothesis' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_public_names() -> None:
    assert autograd_mini.Value is Value
    assert autograd_mini.grad is grad
    assert autograd_mini.no_grad is no_grad
    assert issubclass(GradcheckError, Exception)
