"""Every op of the registry against PyTorch (float64) and central differences: values, first and
second derivatives on hypothesis inputs from ``testing.reals(op)``; kinks and domain edges with
PyTorch's conventions; domain errors; ``autograd_mini.functions`` on floats and Values; ``==``,
``%`` and ``round``; compiled (trace, batch) equal to eager."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import assume, given, settings, strategies as st

from autograd_mini import OPS, Value, engine, functions, grad, trace
from autograd_mini.gradcheck import gradcheck
from autograd_mini.testing import reals

try:
    import torch

    F = torch.nn.functional
except ImportError:  # pragma: no cover - torch is a test oracle only
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (make venv)")


def T(name: str, *args: Any) -> Callable[..., Any]:
    """torch.<name> (looked up when called, so this module imports without torch)."""
    return lambda *xs: getattr(torch, name)(*xs, *args)


def TF(name: str, **kwargs: Any) -> Callable[..., Any]:
    """torch.nn.functional.<name>."""
    return lambda *xs: getattr(F, name)(*xs, **kwargs)


NONZERO = st.floats(0.3, 3.0) | st.floats(-3.0, -0.3)


@dataclass(frozen=True)
class Case:
    """How to check one op: its PyTorch twin (on tensors, all inputs) and where to sample."""

    torch_fn: Callable[..., Any]
    second: st.SearchStrategy[float] = field(default_factory=lambda: st.floats(-3.0, 3.0))
    constant_second: bool = False  # PyTorch takes the second input as a plain number
    apart: float = 0.0  # keep |x − y| above this (a kink along x = y)


def _elu(x: Any, alpha: float) -> Any:
    return F.elu(x, alpha=alpha)


CASES: dict[str, Case] = {
    "add": Case(lambda x, y: x + y),
    "sub": Case(lambda x, y: x - y),
    "mul": Case(lambda x, y: x * y),
    "div": Case(lambda x, y: x / y, NONZERO),
    "neg": Case(lambda x: -x),
    "pow": Case(lambda x, y: x**y),
    "abs": Case(T("abs")),
    "exp": Case(T("exp")),
    "log": Case(T("log")),
    "sqrt": Case(T("sqrt")),
    "tanh": Case(T("tanh")),
    "sigmoid": Case(T("sigmoid")),
    "relu": Case(T("relu")),
    "leaky_relu": Case(lambda x, s: F.leaky_relu(x, s), st.floats(0.01, 0.5), constant_second=True),
    "sin": Case(T("sin")),
    "cos": Case(T("cos")),
    "softplus": Case(TF("softplus")),
    "tan": Case(T("tan")),
    "sinh": Case(T("sinh")),
    "cosh": Case(T("cosh")),
    "asin": Case(T("asin")),
    "acos": Case(T("acos")),
    "atan": Case(T("atan")),
    "asinh": Case(T("asinh")),
    "acosh": Case(T("acosh")),
    "atanh": Case(T("atanh")),
    "atan2": Case(T("atan2"), NONZERO),
    "hypot": Case(T("hypot"), NONZERO),
    "log1p": Case(T("log1p")),
    "expm1": Case(T("expm1")),
    "log2": Case(T("log2")),
    "log10": Case(T("log10")),
    "exp2": Case(T("exp2")),
    "logaddexp": Case(T("logaddexp")),
    "erf": Case(T("erf")),
    "erfc": Case(T("erfc")),
    "gelu": Case(TF("gelu")),
    "silu": Case(TF("silu")),
    "elu": Case(_elu, st.floats(0.1, 2.0), constant_second=True),
    "log_sigmoid": Case(TF("logsigmoid")),
    "softsign": Case(TF("softsign")),
    "clamp_min": Case(T("clamp_min"), apart=1e-2),
    "clamp_max": Case(T("clamp_max"), apart=1e-2),
    "maximum": Case(T("maximum"), apart=1e-2),
    "minimum": Case(T("minimum"), apart=1e-2),
    "sign": Case(T("sign")),
    "floor": Case(T("floor")),
    "ceil": Case(T("ceil")),
    "round": Case(T("round")),
    "remainder": Case(T("remainder"), NONZERO),
    "deg2rad": Case(T("deg2rad")),
    "rad2deg": Case(T("rad2deg")),
    "sinc": Case(T("sinc")),
    "logaddexp2": Case(T("logaddexp2")),
}
BUILTIN = sorted(name for name, op in OPS.items() if not op.user)


def close(a: float, b: float, rel: float, abs_: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def draw_inputs(name: str, data: st.DataObject) -> list[float]:
    """A point where ``name`` is smooth: the first input from reals(op), the second from the
    case's strategy, away from kinks that depend on both."""
    op, case = OPS[name], CASES[name]
    xs = [data.draw(reals(op), label="x")]
    if op.arity == 2:
        xs.append(data.draw(case.second, label="y"))
        assume(abs(xs[0] - xs[1]) > case.apart)
    if name == "remainder":  # jumps where x/y is an integer
        r = abs(math.fmod(xs[0], xs[1]))
        assume(min(r, abs(xs[1]) - r) > 1e-2)
    return xs


def ours(name: str, xs: Sequence[float]) -> tuple[float, list[float], list[list[float]]]:
    """Value, gradient and Hessian of the op at ``xs`` with the engine."""
    vs = [Value(x) for x in xs]
    y = OPS[name](*vs)
    firsts = grad(y, vs, create_graph=True)
    hessian = [[h.data for h in grad(g, vs)] for g in firsts]
    return y.data, [g.data for g in firsts], hessian


def theirs(name: str, xs: Sequence[float]) -> tuple[float, list[float], list[list[float]]]:
    """The same with PyTorch, float64; a constant second input is passed as a number."""
    case = CASES[name]
    n = 1 if case.constant_second else len(xs)
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs[:n]]
    y = case.torch_fn(*ts, *xs[n:])
    firsts = torch.autograd.grad(y, ts, create_graph=True, allow_unused=True)
    hessian = []
    for g in firsts:
        if g is None or not g.requires_grad:
            hessian.append([0.0] * n)
            continue
        row = torch.autograd.grad(g, ts, retain_graph=True, allow_unused=True)
        hessian.append([0.0 if h is None else h.item() for h in row])
    return y.item(), [0.0 if g is None else g.item() for g in firsts], hessian


def test_every_builtin_op_has_a_case_here() -> None:
    assert set(CASES) == set(BUILTIN)


@needs_torch
@pytest.mark.torch
@pytest.mark.parametrize("name", BUILTIN)
@given(data=st.data())
def test_op_value_gradient_and_hessian_match_pytorch(name: str, data: st.DataObject) -> None:
    xs = draw_inputs(name, data)
    # x**y at y = 0: PyTorch's where(y == 0, 0, …) drops ∂²/∂x∂y = 1/x (see ops.pow_vjp)
    assume(not (name == "pow" and xs[1] == 0.0))
    value, grads, hessian = ours(name, xs)
    t_value, t_grads, t_hessian = theirs(name, xs)
    n = len(t_grads)
    assert close(value, t_value, 1e-12, 1e-14), (xs, value, t_value)
    for i in range(n):
        assert close(grads[i], t_grads[i], 1e-10, 1e-12), (xs, i, grads, t_grads)
        for j in range(n):
            assert close(hessian[i][j], t_hessian[i][j], 1e-8, 1e-10), (xs, hessian, t_hessian)


@pytest.mark.parametrize("name", BUILTIN)
@given(data=st.data())
def test_op_first_and_second_derivatives_match_central_differences(
    name: str, data: st.DataObject
) -> None:
    xs = draw_inputs(name, data)
    op = OPS[name]
    assert gradcheck(lambda *vs: op(*vs), xs, order=2, raise_exception=True)


def test_float_in_gives_float_out_and_value_in_gives_value_out() -> None:
    for name in BUILTIN:
        op = OPS[name]
        lo = op.domain[0]
        args = [0.5 if lo < 0.5 else lo + 0.5, 0.25][: op.arity]
        result = op(*args)
        assert type(result) is float, name
        assert result == op.forward(*args)
        y = op(Value(args[0]), *args[1:])
        assert isinstance(y, Value) and y.op == name and y.data == result
        if op.arity == 2:  # a Value in either place
            assert isinstance(op(args[0], Value(args[1])), Value)


def test_functions_module_exposes_the_registry_ops_with_pytorch_names() -> None:
    assert functions.tan is OPS["tan"] and functions.atan2 is OPS["atan2"]
    assert functions.hypot(3, 4) == 5.0 and type(functions.hypot(3, 4)) is float
    assert functions.elu(-1.0, alpha=2.0) == 2.0 * math.expm1(-1.0)
    assert functions.leaky_relu(-2.0, slope=0.5) == -1.0
    assert functions.clamp(5.0, max=3.0) == 3.0 and functions.clamp(-5, min=-1) == -1.0
    assert functions.round(2.5) == 2.0 and functions.round(1.23456, 2) == 1.23
    assert isinstance(functions.clamp(Value(5.0), 0.0, 3.0), Value)
    assert isinstance(functions.clamp(5.0, Value(0.0)), Value)
    for name in functions.__all__:
        assert callable(getattr(functions, name))


def test_functions_reject_non_numbers_naming_op_and_argument() -> None:
    with pytest.raises(TypeError, match=r"atan2: argument 2 .*str"):
        functions.atan2(Value(1.0), "x")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"tan: argument 1 .*str"):
        functions.tan("x")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match=r"atan2\(\) takes 2 arguments, got 1"):
        OPS["atan2"](1.0)
    with pytest.raises(TypeError, match=r"elu: alpha .*str"):
        Value(1.0).elu("a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        Value(1.0).clamp()
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        functions.clamp(1.0)


# --- domain errors: raised before any node is built, naming the op and the value -------------

DOMAIN_ERRORS = [
    ("asin", (2.0,), ValueError, r"asin: math domain error.*-1 <= x <= 1.*2\.0"),
    ("asin", (-1.5,), ValueError, r"asin.*-1\.5"),
    ("acos", (1.0000001,), ValueError, r"acos.*1\.0000001"),
    ("acosh", (0.5,), ValueError, r"acosh: math domain error.*x >= 1.*0\.5"),
    ("atanh", (1.0,), ValueError, r"atanh: math domain error.*-1 < x < 1.*1\.0"),
    ("atanh", (-1.0,), ValueError, r"atanh.*-1\.0"),
    ("log1p", (-1.0,), ValueError, r"log1p: math domain error.*x > -1.*-1\.0"),
    ("log2", (0.0,), ValueError, r"log2: math domain error.*x > 0.*0\.0"),
    ("log10", (-3.0,), ValueError, r"log10.*-3\.0"),
    ("remainder", (1.0, 0.0), ZeroDivisionError, r"remainder: division by zero"),
    ("sinh", (1000.0,), OverflowError, r"sinh: result overflows.*1000\.0"),
    ("cosh", (-1000.0,), OverflowError, r"cosh: result overflows.*-1000\.0"),
    ("expm1", (710.0,), OverflowError, r"expm1.*710\.0"),
    ("exp2", (1024.0,), OverflowError, r"exp2.*1024\.0"),
]


@pytest.mark.parametrize(("name", "args", "error", "message"), DOMAIN_ERRORS)
def test_domain_error_names_op_and_value_before_building_a_node(
    name: str, args: tuple[float, ...], error: type[Exception], message: str, monkeypatch: Any
) -> None:
    with pytest.raises(error, match=message):
        OPS[name](*args)  # floats
    built: list[object] = []
    monkeypatch.setattr(engine, "_node", lambda *a: built.append(a))
    with pytest.raises(error, match=message):
        OPS[name](*(Value(a) for a in args))
    method = getattr(Value(args[0]), name, None)
    if method is not None:
        with pytest.raises(error, match=message):
            method(*args[1:])
    assert built == []


def test_nan_passes_through_instead_of_raising_a_domain_error() -> None:
    for name in ("asin", "acos", "acosh", "atanh", "log1p", "log2", "log10"):
        assert math.isnan(OPS[name](math.nan)), name


# --- kinks and domain edges: PyTorch's conventions -------------------------------------------

KINKS = [
    ("asin", (1.0,)),
    ("asin", (-1.0,)),
    ("acos", (1.0,)),
    ("acos", (-1.0,)),
    ("acosh", (1.0,)),
    ("sqrt", (0.0,)),
    ("atan2", (0.0, 0.0)),
    ("atan2", (0.0, -1.0)),
    ("atan2", (-0.0, -1.0)),
    ("hypot", (0.0, 0.0)),
    ("maximum", (2.0, 2.0)),
    ("minimum", (2.0, 2.0)),
    ("maximum", (math.nan, 1.0)),
    ("clamp_min", (2.0, 2.0)),
    ("clamp_max", (3.0, 3.0)),
    ("clamp_min", (math.nan, 0.0)),
    ("clamp_min", (1.0, math.nan)),
    ("clamp_max", (1.0, math.nan)),
    ("softsign", (0.0,)),
    ("sign", (0.0,)),
    ("sign", (-0.0,)),
    ("sign", (math.nan,)),
    ("floor", (2.0,)),
    ("floor", (-0.0,)),
    ("ceil", (-0.4,)),
    ("round", (0.5,)),
    ("round", (1.5,)),
    ("round", (2.5,)),
    ("round", (-0.5,)),
    ("round", (-2.5,)),
    ("round", (4503599627370497.0,)),
    ("remainder", (5.0, 3.0)),
    ("remainder", (-5.0, 3.0)),
    ("remainder", (5.0, -3.0)),
    ("remainder", (6.0, 3.0)),
    ("remainder", (-6.0, 3.0)),
    ("remainder", (5.5, math.inf)),
    ("logaddexp", (-math.inf, -math.inf)),
    ("logaddexp", (math.inf, math.inf)),
    ("logaddexp", (-math.inf, 1.0)),
    ("logaddexp", (800.0, 800.0)),
    ("log_sigmoid", (-800.0,)),
    ("log_sigmoid", (800.0,)),
    ("silu", (-800.0,)),
    ("gelu", (-40.0,)),
    ("erfc", (30.0,)),
    ("tan", (math.inf,)),
    ("atan", (math.inf,)),
    ("log1p", (-0.999999,)),
    ("expm1", (1e-300,)),
    ("exp2", (-1100.0,)),
]


def _same(a: float, b: float) -> bool:
    """Equal as PyTorch prints them: both NaN, or equal to 1e-12 (infinities exactly)."""
    return close(a, b, 1e-12, 0.0)


@needs_torch
@pytest.mark.torch
@pytest.mark.parametrize(("name", "args"), KINKS, ids=str)
def test_value_and_gradient_at_kinks_and_edges_follow_pytorch(
    name: str, args: tuple[float, ...]
) -> None:
    vs = [Value(a) for a in args]
    y = OPS[name](*vs)
    y.backward()
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    t = CASES[name].torch_fn(*ts)
    t.backward()
    assert _same(y.data, t.item()), (y.data, t.item())
    if name != "remainder":  # Python's x % y gives +0.0 where fmod-based torch gives -0.0
        assert math.copysign(1.0, y.data) == math.copysign(1.0, t.item()) or math.isnan(y.data)
    for v, tv in zip(vs, ts, strict=True):
        assert tv.grad is not None
        assert _same(v.grad, tv.grad.item()), (v.grad, tv.grad.item())


SECOND_AT_KINKS: list[tuple[str, float, float]] = [  # (op, x, alpha or slope)
    ("elu", 0.0, 1.0),
    ("elu", -0.0, 0.5),
    ("elu", 0.0, 2.0),
    ("elu", -1.0, 1.5),
    ("leaky_relu", 0.0, 0.1),
]


@needs_torch
@pytest.mark.torch
@pytest.mark.parametrize(("name", "x", "a"), SECOND_AT_KINKS, ids=str)
def test_second_derivative_at_a_kink_follows_pytorch(name: str, x: float, a: float) -> None:
    v = Value(x)
    (d,) = grad(getattr(v, name)(a), [v], create_graph=True)
    (d2,) = grad(d, [v])
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (dt,) = torch.autograd.grad(getattr(torch.nn.functional, name)(t, a), t, create_graph=True)
    (d2t,) = torch.autograd.grad(dt, t, allow_unused=True)
    expected = 0.0 if d2t is None else d2t.item()
    assert (d.data, d2.data) == (dt.item(), expected)


EDGES: list[tuple[str, float]] = [
    ("sqrt", 0.0),
    ("asin", 1.0),
    ("asin", -1.0),
    ("acos", 1.0),
    ("acos", -1.0),
    ("acosh", 1.0),
]


@needs_torch
@pytest.mark.torch
@pytest.mark.parametrize(("name", "x"), EDGES, ids=str)
def test_second_derivative_at_a_domain_edge_is_the_infinity_pytorch_gives(
    name: str, x: float
) -> None:
    v = Value(x)
    (d,) = grad(getattr(v, name)(), [v], create_graph=True)
    (d2,) = grad(d, [v])
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (dt,) = torch.autograd.grad(getattr(torch, name)(t), t, create_graph=True)
    (d2t,) = torch.autograd.grad(dt, t)
    assert (d.data, d2.data) == (dt.item(), d2t.item())
    assert math.isinf(d2.data)


def test_elu_slope_at_the_kink_is_alpha_and_its_alpha_gradient_is_exp_minus_one() -> None:
    x, a = Value(0.0), Value(0.5)
    y = x.elu(a)
    y.backward()
    assert (y.data, x.grad, a.grad) == (0.0, 0.5, 0.0)
    x, a = Value(-1.0), Value(0.5)
    x.elu(a).backward()
    assert x.grad == 0.5 * math.exp(-1.0) and a.grad == math.expm1(-1.0)


def test_clamp_passes_gradient_at_the_bounds_and_none_outside() -> None:
    for data, expected in ((1.0, 1.0), (3.0, 1.0), (2.0, 1.0), (0.5, 0.0), (3.5, 0.0)):
        x = Value(data)
        x.clamp(1.0, 3.0).backward()
        assert x.grad == expected, data
    x = Value(2.0)
    y = x.clamp(min=3.0, max=1.0)  # min > max: the result is max, as in torch.clamp
    y.backward()
    assert (y.data, x.grad) == (1.0, 0.0)
    assert [p.op for p in (y, y.parents[0])] == ["clamp_max", "clamp_min"]


def test_clamp_with_value_bounds_sends_gradient_to_the_active_bound() -> None:
    x, lo, hi = Value(-2.0), Value(-1.0), Value(1.0)
    x.clamp(lo, hi).backward()
    assert (x.grad, lo.grad, hi.grad) == (0.0, 1.0, 0.0)


def test_infinite_slope_at_a_domain_edge_is_inf_also_in_create_graph() -> None:
    x = Value(1.0)
    (d,) = grad(x.asin(), [x], create_graph=True)
    assert d.data == math.inf
    x = Value(1.0)
    (d,) = grad(x.acosh(), [x])
    assert d.data == math.inf


# --- == and != by value, hash by identity ------------------------------------------------------


def test_equality_compares_data_like_the_other_comparisons() -> None:
    a, b = Value(2.0), Value(2.0)
    assert (a == b) is True and (a != b) is False
    assert (a == 2.0) is True and (2 == a) is True  # noqa: SIM300 - the reflected __eq__ and (a != 3) is True
    assert (Value(math.nan) == Value(math.nan)) is False
    assert Value(math.nan) != math.nan
    assert (a == "2.0") is False and (a != "2.0") is True  # not a number: just unequal
    assert (a == None) is False  # noqa: E711 - the operator itself


def test_equal_values_are_still_distinct_dict_keys_and_set_members() -> None:
    a, b = Value(1.0), Value(1.0)
    assert hash(a) != hash(b) or a is b
    assert len({a, b}) == 2 and {a: 1, b: 2}[a] == 1
    assert any(v is b for v in [a, b])  # identity, when that is what is meant


def test_gradients_flow_through_graphs_with_many_equal_values() -> None:
    # graph walks key by identity, not ==: equal data must not merge nodes
    xs = [Value(1.0) for _ in range(5)]
    total = xs[0] * 0.0
    for k, x in enumerate(xs):
        total = total + x * float(k)
    total.backward()
    assert [x.grad for x in xs] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_parameters_with_equal_data_are_distinct_for_an_optimizer() -> None:
    from autograd_mini.optim import SGD

    a, b = Value(1.0), Value(1.0)
    opt = SGD([a, b], lr=0.5)
    (a * 2.0 + b * 4.0).backward()
    opt.step()
    assert (a.data, b.data) == (0.0, -1.0)


def test_equality_is_recorded_as_a_trace_guard() -> None:
    def f(x: Value) -> Value:
        return x * 2.0 if x == 1.0 else x * 3.0

    def g(x: Value) -> Value:
        return x * 2.0 if x != 1.0 else x * 3.0

    t, u = trace(f, 1, example=[1.0]), trace(g, 1, example=[1.0])
    assert t(1.0) == 2.0 and u(1.0) == 3.0
    assert "==" in repr(t.guards) and "!=" in repr(u.guards)
    for compiled in (t, u):
        with pytest.raises(ValueError, match="another branch"):
            compiled(2.0)


# --- % and round ---------------------------------------------------------------------------------


@given(st.floats(-50, 50), NONZERO)
def test_mod_is_python_floor_mod_with_remainder_gradients(x: float, y: float) -> None:
    a, b = Value(x), Value(y)
    r = a % b
    r.backward()
    assert r.data == x % y and r.op == "remainder"
    assert (a.grad, b.grad) == (1.0, -(x // y))
    assert (x % Value(y)).data == x % y and (Value(x) % y).data == x % y


def test_round_of_a_value_is_a_value_with_gradient_zero() -> None:
    x = Value(2.5)
    y = round(x)
    assert isinstance(y, Value) and y.data == 2.0 and y.op == "round"
    (y * 3.0 + x).backward()
    assert x.grad == 1.0  # only the +x path
    assert round(Value(3.5)).data == 4.0 and round(Value(-2.5)).data == -2.0
    assert round(Value(1.23456), 2).data == 1.23 and round(Value(1234.5), -2).data == 1200.0
    with pytest.raises(TypeError, match="decimals must be an int"):
        Value(1.0).round(1.5)  # type: ignore[arg-type]


@needs_torch
@pytest.mark.torch
@given(st.floats(-1e4, 1e4), st.integers(-3, 6))
def test_round_with_decimals_matches_torch(x: float, decimals: int) -> None:
    expected = torch.round(torch.tensor(x, dtype=torch.float64), decimals=decimals).item()
    assert Value(x).round(decimals).data == expected
    assert functions.round(x, decimals) == expected


# --- compiled equals eager ------------------------------------------------------------------------


def _eager(name: str, xs: Sequence[float]) -> tuple[float, list[float]]:
    vs = [Value(x) for x in xs]
    y = OPS[name](*vs)
    y.backward()
    return y.data, [v.grad for v in vs]


@pytest.mark.parametrize("name", BUILTIN)
@settings(max_examples=20)  # each example compiles twice
@given(data=st.data())
def test_traced_and_batched_op_equals_eager(name: str, data: st.DataObject) -> None:
    np = pytest.importorskip("numpy")
    rows = [draw_inputs(name, data) for _ in range(3)]
    t = trace(OPS[name], OPS[name].arity, example=rows[0])
    batch = t.batch(np.array(rows))
    for k, xs in enumerate(rows):
        value, grads = _eager(name, xs)
        got_value, got_grads = t.value_and_grad(xs)
        assert got_value == value and list(got_grads) == grads
        assert float(batch.value[k]) == value and batch.grad[k].tolist() == grads


def _jax_or_skip() -> Any:
    return pytest.importorskip("jax", reason="the JAX backend needs jax: pip install ...[jax]")


@pytest.mark.parametrize("name", BUILTIN)
@settings(max_examples=10)  # each example compiles with XLA
@given(data=st.data())
def test_jax_lowering_equals_eager(name: str, data: st.DataObject) -> None:
    jax = _jax_or_skip()
    np = pytest.importorskip("numpy")
    xs = draw_inputs(name, data)
    op = OPS[name]
    fn = trace(op, op.arity, example=xs).to_jax()
    with jax.enable_x64(True):  # float64 for this block; to_jax follows the user's setting
        value, grads = jax.value_and_grad(lambda v: fn(v))(jax.numpy.array(xs))
    expected_value, expected_grads = _eager(name, xs)
    assert close(float(value), expected_value, 1e-12, 1e-15), (xs, value, expected_value)
    for got, want in zip(np.asarray(grads).tolist(), expected_grads, strict=True):
        assert close(got, want, 1e-10, 1e-12), (xs, grads, expected_grads)


JAX_KINKS = [(n, a) for n, a in KINKS if n != "tan"]  # tan(inf): XLA gives NaN as eager does


@pytest.mark.parametrize(("name", "args"), JAX_KINKS, ids=str)
def test_jax_lowering_follows_the_conventions_at_kinks_and_edges(
    name: str, args: tuple[float, ...]
) -> None:
    jax = _jax_or_skip()
    op = OPS[name]
    fn = trace(op, op.arity, example=list(args)).to_jax()  # each op as JAX runs it
    with jax.enable_x64(True):
        value, grads = jax.value_and_grad(fn)(jax.numpy.array(args))
    expected_value, expected_grads = _eager(name, args)
    assert close(float(value), expected_value, 1e-12, 0.0), (value, expected_value)
    for got, want in zip(grads, expected_grads, strict=True):
        assert close(float(got), want, 1e-12, 0.0), (args, grads, expected_grads)


def test_batch_with_the_jax_backend_equals_eager_for_the_new_ops() -> None:
    _jax_or_skip()
    np = pytest.importorskip("numpy")

    def f(x: Value, y: Value) -> Value:
        return x.atan2(y) + x.erf() * y.gelu() + x.clamp(-1.0, 1.0) + x.maximum(y) + x % 1.5

    t = trace(f, 2)
    rows = [[0.3, 1.2], [-1.5, 0.4], [2.0, 2.0], [0.0, -0.7]]
    batch = t.batch(np.array(rows), backend="jax")  # float64 inside, whatever the setting
    for k, row in enumerate(rows):
        vs = [Value(v) for v in row]
        out = f(*vs)
        out.backward()
        assert close(float(batch.value[k]), out.data, 1e-12, 1e-15)
        for got, want in zip(batch.grad[k].tolist(), [v.grad for v in vs], strict=True):
            assert close(got, want, 1e-10, 1e-12)
