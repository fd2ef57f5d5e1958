"""The registry: one definition per primitive, its rule written in the op vocabulary and traced
into a program of primitives (never parsed), the table and the methods / functions / parser in
agreement, safe user definitions, and the edges where the arithmetic of the rules decides."""

from __future__ import annotations

import ast
import math
import pathlib
from typing import Any

import pytest

import autograd_mini
from autograd_mini import OPS, Value, defop, functions, grad, hessian, jacobian, jvp, where
from autograd_mini.exprparse import parse_expression
from autograd_mini.registry import AUX, VocabularyError
from autograd_mini.value_methods import METHODS

PACKAGE = pathlib.Path(autograd_mini.__file__).parent


# --- one definition, used everywhere ---------------------------------------------------------


# ops whose Value method has another name (Python's abs(v)) or takes keywords (clamp, round)
OTHER_METHOD = {"abs": "__abs__", "clamp_min": "clamp", "clamp_max": "clamp", "round": "round"}


def test_every_op_is_a_value_method_a_function_and_a_parser_name() -> None:
    for op in OPS.values():
        if op.user or op.notation != "call":
            continue
        for name in (op.name, *op.aliases):
            if name in OTHER_METHOD:
                assert callable(getattr(Value, OTHER_METHOD[name])), name
            else:
                assert METHODS[name] is op, name
            assert name in functions.__all__ and callable(getattr(functions, name)), name
            assert parse_expression(f"{name}({', '.join(['x'] * op.arity)})") is not None
    assert set(METHODS.values()) <= set(OPS.values())


def test_every_rule_traces_to_a_program_of_registry_primitives() -> None:
    known = {*OPS.values(), *AUX.values()}
    for op in OPS.values():
        program = op.rule_program()
        assert program.inputs[:2] == ("g", "out") and len(program.outputs) == op.arity
        assert all(eqn.prim in known for eqn in program.eqns), op.name
        assert str(program).startswith("inputs g out")


def test_tanhs_rule_prints_as_its_primitives() -> None:
    assert str(OPS["tanh"].rule_program()) == "\n".join(
        ["inputs g out x", "t0 = mul out out", "t1 = sub 1.0 t0", "t2 = mul g t1", "outputs t2"]
    )


def test_nothing_in_the_package_reads_source_code() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("getsource", "getsourcelines"), path


def test_where_is_pythons_conditional_on_numbers() -> None:
    assert where(2.0 > 1.0, "a", "b") == "a" and where(False, 1.0, 2.0) == 2.0


# --- the four new ops, each one entry ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "x", "want"),
    [
        ("deg2rad", 180.0, math.pi),
        ("rad2deg", math.pi, 180.0),
        ("radians", 90.0, math.pi / 2),
        ("degrees", math.pi / 2, 90.0),
        ("sinc", 0.0, 1.0),
        ("sinc", 0.5, math.sin(math.pi / 2) / (math.pi / 2)),
    ],
)
def test_new_ops_on_floats_values_and_as_methods(name: str, x: float, want: float) -> None:
    assert getattr(functions, name)(x) == pytest.approx(want, rel=1e-15)
    assert getattr(Value(x), name)().data == pytest.approx(want, rel=1e-15)


def test_logaddexp2_is_stable_and_exact_at_ties() -> None:
    assert functions.logaddexp2(1.0, 1.0) == 2.0
    assert functions.logaddexp2(2000.0, -2000.0) == 2000.0
    assert functions.logaddexp2(math.inf, math.inf) == math.inf
    assert Value(3.0).logaddexp2(3.0).data == 4.0


@pytest.mark.torch
@pytest.mark.parametrize("name", ["deg2rad", "rad2deg", "sinc", "logaddexp2"])
def test_new_ops_match_pytorch_at_orders_one_and_two(name: str) -> None:
    torch = pytest.importorskip("torch")
    fn = getattr(torch, name)
    arity = OPS[name].arity
    for k in range(40):
        xs = [math.sin(1.3 * k + j) * 4.0 + 0.01 for j in range(arity)]
        vs = [Value(x) for x in xs]
        y = OPS[name](*vs)
        firsts = grad(y, vs, create_graph=True)
        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
        ty = fn(*ts)
        tfirsts = torch.autograd.grad(ty, ts, create_graph=True)
        assert y.data == pytest.approx(ty.item(), rel=1e-14, abs=1e-300)
        for f, tf in zip(firsts, tfirsts, strict=True):
            assert f.data == pytest.approx(tf.item(), rel=1e-12, abs=1e-15)
            seconds = [h.data for h in grad(f, vs)]
            if not tf.requires_grad:  # a linear op: no second derivative at all
                assert seconds == [0.0] * arity
                continue
            tseconds = torch.autograd.grad(tf, ts, allow_unused=True, retain_graph=True)
            for s, ts_ in zip(seconds, tseconds, strict=True):
                want = 0.0 if ts_ is None else ts_.item()
                assert s == pytest.approx(want, rel=1e-11, abs=1e-12)


# --- user ops: safe definitions, rules in the vocabulary ----------------------------------------


def cube_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * 3.0 * x * x,)


@pytest.mark.parametrize(
    ("symbol", "match"),
    [
        ("\x00", "U\\+0000"),
        ("a\ud800b", "U\\+D800"),
        ("x" * 20_000, "at most 32 characters"),
        ("line\nbreak", "U\\+000A"),
    ],
)
def test_defop_refuses_a_symbol_that_would_break_a_picture(symbol: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        defop("t_bad_symbol", lambda x: x**3, cube_vjp, symbol=symbol)
    assert "t_bad_symbol" not in OPS


def test_defop_refuses_a_name_python_would_read_as_another() -> None:
    with pytest.raises(ValueError, match=r"NFKC.*'exp'"):
        defop("ｅｘｐ", lambda x: x**3, cube_vjp)
    assert "ｅｘｐ" not in OPS and parse_expression("exp(x)").evaluate({"x": 0.0}) == 1.0
    with pytest.raises(ValueError, match="already a built-in op"):
        defop("radians", lambda x: x**3, cube_vjp)  # an alias is a name too


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        (lambda g, out, x: (g * math.cos(x),), "functions"),
        (lambda g, out, x: (g if x > 0.0 else -g,), "where"),
        (lambda g, out, x: (g * float(x),), "functions"),
        (lambda g, out, x: g * x, "tuple of 1 gradient"),
    ],
)
def test_a_rule_outside_the_vocabulary_is_refused_at_defop_saying_what_to_write(
    rule: Any, match: str
) -> None:
    with pytest.raises(TypeError, match=match):
        defop("t_outside", lambda x: x, rule)
    assert "t_outside" not in OPS
    assert issubclass(VocabularyError, TypeError)


def test_a_user_rule_with_where_is_lazy_in_eager_code() -> None:
    # the second branch divides by zero at 0: never evaluated there, as Python's own `if`
    op = defop("t_lazy", abs, lambda g, out, x: (where(x == 0.0, 0.0 * g, g * x / abs(x)),))
    x = Value(0.0)
    op(x).backward()
    assert x.grad == 0.0
    (d,) = grad(op(Value(-2.0)), [Value(0.0)])
    assert d.data == 0.0


@pytest.mark.torch
def test_nested_forward_mode_of_a_user_op_equals_torch_func() -> None:
    torch = pytest.importorskip("torch")
    from torch.func import jacfwd, jvp as tjvp

    cube = defop("t_nested_cube", lambda x: x**3, cube_vjp)

    def inner(x: Any) -> Any:
        return jvp(lambda v: cube(v) * 2.0, [x], [1.0])[1]  # 6x²

    x0 = 0.7
    outer = jvp(inner, [x0], [1.0])  # (6x², 12x)
    t = torch.tensor(x0, dtype=torch.float64)

    def tinner(x: Any) -> Any:
        return tjvp(lambda v: v**3 * 2.0, (x,), (torch.ones_like(x),))[1]

    want = tjvp(tinner, (t,), (torch.ones_like(t),))
    assert outer[0] == pytest.approx(want[0].item(), rel=1e-12)
    assert outer[1] == pytest.approx(want[1].item(), rel=1e-12)
    assert jacobian(inner, [x0])[0][0] == pytest.approx(jacfwd(tinner)(t).item(), rel=1e-12)


# --- exact at the edges (each against PyTorch) ----------------------------------------------------


@pytest.mark.torch
def test_the_hessian_does_not_overflow_when_symmetrised() -> None:
    torch = pytest.importorskip("torch")
    h = hessian(lambda x, y: x * y * 1.5e308, [1.0, 1.0])
    want = torch.autograd.functional.hessian(
        lambda t: t[0] * t[1] * 1.5e308, torch.tensor([1.0, 1.0], dtype=torch.float64)
    )
    assert h[0][1] == h[1][0] == want[0, 1].item() == 1.5e308


@pytest.mark.torch
def test_a_square_root_as_a_power_has_the_curvature_of_sqrt_at_zero() -> None:
    torch = pytest.importorskip("torch")
    assert hessian(lambda x: x**0.5, [0.0]) == [[-math.inf]] == hessian(lambda x: x.sqrt(), [0.0])
    want = torch.autograd.functional.hessian(
        lambda t: t**0.5, torch.tensor(0.0, dtype=torch.float64)
    )
    assert want.item() == -math.inf


@pytest.mark.torch
def test_remainder_keeps_pytorchs_sign_of_zero() -> None:
    torch = pytest.importorskip("torch")
    for x, y in [(-2.0, 2.0), (2.0, -2.0), (-0.0, 3.0), (0.0, -3.0), (-5.0, 2.5)]:
        ours = (Value(x) % y).data
        want = torch.remainder(torch.tensor(x, dtype=torch.float64), y).item()
        assert ours == want and math.copysign(1.0, ours) == math.copysign(1.0, want), (x, y)


@pytest.mark.torch
def test_the_slope_of_sqrt_at_minus_zero_is_minus_infinity() -> None:
    torch = pytest.importorskip("torch")
    x = Value(-0.0)
    x.sqrt().backward()
    t = torch.tensor(-0.0, dtype=torch.float64, requires_grad=True)
    t.sqrt().backward()
    assert x.grad == t.grad.item() == -math.inf


TORCH_NAMES = {"log_sigmoid": "nn.functional.logsigmoid", "softplus": "nn.functional.softplus",
               "gelu": "nn.functional.gelu", "silu": "nn.functional.silu",
               "softsign": "nn.functional.softsign", "leaky_relu": "nn.functional.leaky_relu",
               "elu": "nn.functional.elu", "neg": "neg", "pow": "pow", "div": "div",
               "mul": "mul", "add": "add", "sub": "sub"}  # fmt: skip
POINTS = {1: [0.3, -0.7, 0.0, 2.0], 2: [(0.3, 0.3), (1.5, -0.5), (-0.5, 2.0), (0.0, 2.0)]}


@pytest.mark.torch
@pytest.mark.parametrize(
    # softsign: PyTorch differentiates x / (1 + |x|) by parts, inf − inf; ours is 1/(1 + |x|)²
    "name",
    sorted(n for n, op in OPS.items() if not op.user and n != "softsign"),
)
def test_an_infinite_upstream_gradient_gives_pytorchs_nan_or_number(name: str) -> None:
    # a partial that PyTorch masks by multiplying the gradient by 0 is NaN for g = inf; one it
    # writes as zeros stays 0: the rule says which, by g * 0.0 or a literal 0.0
    torch = pytest.importorskip("torch")
    fn: Any = torch
    for part in TORCH_NAMES.get(name, name).split("."):
        fn = getattr(fn, part)
    op = OPS[name]
    for point in POINTS[op.arity]:
        xs = list(point) if isinstance(point, tuple) else [point]
        if name in ("log", "log2", "log10", "acosh", "atanh", "asin", "acos", "log1p"):
            xs = [0.5 + 0.2 * i for i in range(op.arity)]
        try:
            vs = [Value(x) for x in xs]
            y = op(*vs)
        except (ArithmeticError, ValueError):
            continue
        y.backward(math.inf)
        constant = name in ("leaky_relu", "elu")  # PyTorch takes the second input as a number
        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
        ty = fn(ts[0], xs[1]) if constant else fn(*ts)
        ty.backward(torch.tensor(math.inf, dtype=torch.float64))
        for v, t in zip(vs[:1] if constant else vs, ts, strict=False):
            want = 0.0 if t.grad is None else t.grad.item()
            assert math.isnan(v.grad) == math.isnan(want), (name, xs, v.grad, want)
            if not math.isnan(want):
                assert v.grad == want, (name, xs, v.grad, want)


@pytest.mark.torch
@pytest.mark.parametrize(
    ("name", "x"),
    [("relu", -0.0), ("elu", math.nan), ("sinc", 1e-310), ("sinc", -1e-200), ("pow0", 1e-310)],
)
def test_values_and_slopes_at_signed_zeros_nan_and_subnormals_are_pytorchs(
    name: str, x: float
) -> None:
    torch = pytest.importorskip("torch")
    fns = {
        "relu": (lambda v: v.relu(), torch.relu),
        "elu": (lambda v: v.elu(), torch.nn.functional.elu),
        "sinc": (lambda v: v.sinc(), torch.sinc),
        "pow0": (lambda v: v**0, lambda t: t**0),
    }
    ours, theirs = fns[name]
    v = Value(x)
    y = ours(v)
    y.backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = theirs(t)
    ty.backward()
    for a, b in ((y.data, ty.item()), (v.grad, t.grad.item())):
        assert (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )


@pytest.mark.parametrize(
    "rule",
    [
        lambda g, out, x: (g * functions.clamp(x, 0.0, 1.0),),
        lambda g, out, x: (g * x.clamp(min=0.0),),
        lambda g, out, x: (g * round(x),),
        lambda g, out, x: (g * functions.round(x, 1),),
    ],
)
def test_clamp_and_round_are_in_the_vocabulary_as_on_values(rule: Any) -> None:
    op = defop("t_clamp_round", lambda x: x, rule)
    v = Value(0.37)
    op(v).backward()
    (want,) = rule(1.0, 0.37, Value(0.37))
    assert v.grad == want.data


def test_reading_a_number_in_a_rule_says_what_to_write() -> None:
    with pytest.raises(VocabularyError, match=r"cannot read x\.data.*functions"):
        defop("t_reads_data", lambda x: x, lambda g, out, x: (g * x.data,))


@pytest.mark.parametrize("symbol", ["\u202e", "a\u200bb", "\ufeff", "\ue000", "\U000e0041"])
def test_defop_refuses_invisible_and_private_characters_in_a_symbol(symbol: str) -> None:
    with pytest.raises(ValueError, match="printable"):
        defop("t_invisible", lambda x: x, cube_vjp, symbol=symbol)


@pytest.mark.parametrize("name", ["clamp", "pi", "e"])
def test_defop_refuses_a_name_the_library_already_gives_a_meaning(name: str) -> None:
    with pytest.raises(ValueError, match="already a name of the library"):
        defop(name, lambda x: x, cube_vjp)
