"""Tests for autograd_mini.exprparse: the whitelist parser behind `autograd-mini graph`."""

from __future__ import annotations

import builtins
import math

import pytest
from hypothesis import given, strategies as st

from autograd_mini import OPS, Value, grad
from autograd_mini.exprparse import FUNCTIONS, ExpressionError, parse_expression


def values(**kw: float) -> dict[str, Value]:
    return {k: Value(v, label=k) for k, v in kw.items()}


def test_parses_and_evaluates_a_neuron() -> None:
    expr = parse_expression("tanh(w*x + b)")
    assert expr.names == ("w", "x", "b")
    env = values(x=1.0, w=0.5, b=0.1)
    y = expr.evaluate(env)
    assert y.data == math.tanh(0.5 * 1.0 + 0.1)
    y.backward()
    assert env["x"].grad == pytest.approx(0.5 * (1 - math.tanh(0.6) ** 2), rel=1e-15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("2 ** 3 ** 2", 512.0),  # right-associative like Python
        ("-x ** 2", -4.0),  # unary minus binds looser than ** like Python
        ("+x - -x", 4.0),
        ("x / 4", 0.5),
        ("exp(log(x))", 2.0),
        ("sqrt(x * 8)", 4.0),
        ("abs(-x)", 2.0),
        ("relu(-x) + relu(x)", 2.0),
        ("leaky_relu(-x, 0.5)", -1.0),
        ("leaky_relu(-x)", -0.02),
        ("sigmoid(0)", 0.5),
        ("softplus(0)", math.log(2)),
        ("sin(0) + cos(0)", 1.0),
        ("1e-3 * x", 0.002),
        ("x * x * x", 8.0),
    ],
)
def test_arithmetic_follows_python_precedence(text: str, expected: float) -> None:
    env = values(x=2.0)
    assert parse_expression(text).evaluate(env).data == pytest.approx(expected, rel=1e-15)


def test_variables_are_listed_once_in_order_of_first_appearance() -> None:
    assert parse_expression("b * a + a * c - b").names == ("b", "a", "c")
    assert parse_expression("2 * 3").names == ()


def test_plain_numbers_in_the_mapping_become_labelled_leaves() -> None:
    y = parse_expression("x * x").evaluate({"x": 3.0})
    assert y.data == 9.0
    assert [p.label for p in y.parents] == ["x", "x"]
    assert y.parents[0] is y.parents[1]  # one leaf, used twice


def test_shared_variable_gradient_sums_both_paths() -> None:
    env = values(x=3.0)
    y = parse_expression("x * x + 2 * x").evaluate(env)
    (g,) = grad(y, [env["x"]])
    assert g.data == 8.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('echo hi')", "attribute access not allowed"),
        ("x.tanh()", "attribute access not allowed"),
        ("x.data", "attribute access not allowed"),
        ("x.__class__", "attribute access not allowed"),
        ("lambda: 1", "lambda not allowed"),
        ("(lambda x: x)(2)", "this kind of call not allowed"),
        ("eval('1')", "unknown function 'eval'"),
        ("exec('import os')", "unknown function 'exec'"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("foo(x)", "unknown function 'foo'"),
        ("tanh", "'tanh' is a function"),
        ("tanh(x, x)", "tanh() takes 1 argument, got 2"),
        ("tanh()", "tanh() takes 1 argument, got 0"),
        ("tanh(x=1)", "keyword arguments not allowed"),
        ("leaky_relu(x, 1, 2)", "takes 1 or 2 arguments"),
        ("'abc'", "string is not a number"),
        ("True + x", "True is not a number"),
        ("None", "None is not a number"),
        ("2j", "2j is not a number"),
        ("x // 2", "unsupported operator '//'"),
        ("x @ 2", "unsupported operator '@'"),
        ("x @ x", "unsupported operator '@'"),
        ("x ^ 2", "unsupported operator '^'"),
        ("~x", "unsupported operator '~'"),
        ("not x", "unsupported operator 'not'"),
        ("x < 1", "comparisons not allowed"),
        ("x and 1", "and/or not allowed"),
        ("x if x else 1", "if/else not allowed"),
        ("[x]", "lists not allowed"),
        ("(x, 1)", "tuples not allowed"),
        ("x[0]", "indexing not allowed"),
        ("[a for a in x]", "comprehensions not allowed"),
        ("(y := 2)", ":= not allowed"),
        ("f'{x}'", "f-strings not allowed"),
        ("import os", "not a valid expression"),
        ("x = 1", "not a valid expression"),
        ("x; y", "not a valid expression"),
        ("x +", "not a valid expression"),
        ("", "empty"),
        ("   ", "empty"),
        ("1" + "0" * 400, "too large for a float"),
        ("1" + "0" * 5000, "too many digits"),
        ("x" + "+x" * 6000, "longer than"),
        ("-" * 300 + "x", "nested more than"),
        ("(" * 250 + "x" + ")" * 250, "not a valid expression"),
        ("tanh(" * 250 + "x" + ")" * 250, "nested"),
    ],
)
def test_anything_outside_the_whitelist_is_refused_with_a_clear_message(
    text: str, message: str
) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_redundant_parentheses_are_fine() -> None:
    assert parse_expression("(" * 150 + "x" + ")" * 150).names == ("x",)


def test_errors_name_the_column() -> None:
    with pytest.raises(ExpressionError, match="at column 5"):
        parse_expression("x + foo(x)")


def test_expression_error_is_a_value_error() -> None:
    assert issubclass(ExpressionError, ValueError)
    with pytest.raises(TypeError, match="must be a str"):
        parse_expression(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 ** 10000", "overflows"),
        ("9 ** 9 ** 9", "overflows"),
        ("x ** 1e6", "overflows"),
        ("exp(1000)", "overflow"),
        ("log(-x)", "log"),
        ("sqrt(-x)", "sqrt"),
        ("1 / (x - x)", "division by zero"),
    ],
)
def test_math_errors_during_evaluation_are_expression_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_expression(text).evaluate(values(x=2.0))


def test_missing_values_are_named() -> None:
    with pytest.raises(ExpressionError, match="no value for w, b"):
        parse_expression("tanh(w*x + b)").evaluate(values(x=1.0))


def test_parser_never_calls_eval_or_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec must not be used")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    # (compile stays: ast.parse uses it to build the syntax tree, which is never executed)
    assert parse_expression("sin(x) * 2").evaluate(values(x=0.5)).data == 2 * math.sin(0.5)


def test_every_engine_function_is_callable_by_name() -> None:
    for name, (op, lo, hi) in FUNCTIONS.items():
        if op.user:
            continue  # ops other tests defined with defop
        x = 1.5 if op.domain[0] >= 0.5 else 0.5  # inside every domain
        args = ", ".join(["x", "0.25"][:lo])
        y = parse_expression(f"{name}({args})").evaluate(values(x=x))
        assert y.op == op.name and y.data == op(x, *[0.25][: lo - 1])  # an alias: its op
        if hi > lo:  # the optional input has its default, and can be given
            assert parse_expression(f"{name}(x, 0.3)").evaluate(values(x=x)).op == name


def test_modulo_is_floor_mod() -> None:
    y = parse_expression("x % 3").evaluate(values(x=-5.0))
    assert y.op == "remainder" and y.data == 1.0


def test_the_function_list_is_the_registry_of_ops_written_as_calls() -> None:
    calls = {n for n, op in OPS.items() if op.notation == "call"}
    assert set(FUNCTIONS) == calls | {"radians", "degrees"}  # the aliases of deg2rad, rad2deg
    assert "atan2" in FUNCTIONS and "add" not in FUNCTIONS and "remainder" not in FUNCTIONS
    assert FUNCTIONS["leaky_relu"][1:] == (1, 2) and FUNCTIONS["atan2"][1:] == (2, 2)


# one-argument functions defined on the whole line (and not growing like e^e^x), so any
# composition can be evaluated
_UNARY = sorted(
    n
    for n, (op, lo, _hi) in FUNCTIONS.items()
    if lo == 1
    and not op.user
    and op.domain == (-math.inf, math.inf)
    and n not in ("sinh", "cosh", "exp2", "expm1", "rad2deg", "degrees")
)


@st.composite
def _texts(draw: st.DrawFn, depth: int = 3) -> tuple[str, object]:
    """A random expression text and a builder of the same computation on Values."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            name = draw(st.sampled_from(["x", "y"]))
            return name, lambda env, n=name: env[n]
        c = draw(st.floats(0.1, 3.0))
        return repr(c), lambda env, c=c: c
    kind = draw(st.sampled_from(["+", "-", "*", "fn", "neg"]))
    a_text, a = draw(_texts(depth - 1))
    if kind == "fn":
        fn = draw(st.sampled_from(_UNARY))
        method = FUNCTIONS[fn][0]
        return f"{fn}({a_text})", lambda env: method(_lift(a(env)))  # type: ignore[operator]
    if kind == "neg":
        return f"-({a_text})", lambda env: -a(env)  # type: ignore[operator]
    b_text, b = draw(_texts(depth - 1))
    ops = {"+": lambda p, q: p + q, "-": lambda p, q: p - q, "*": lambda p, q: p * q}
    op = ops[kind]
    return f"({a_text}) {kind} ({b_text})", lambda env: op(a(env), b(env))  # type: ignore[operator]


def _lift(v: object) -> Value:
    return v if isinstance(v, Value) else Value(v)  # type: ignore[arg-type]


@given(_texts(), st.floats(-2, 2), st.floats(-2, 2))
def test_parsed_expression_equals_the_same_computation_written_in_python(
    case: tuple[str, object], x0: float, y0: float
) -> None:
    text, build = case
    env = values(x=x0, y=y0)
    parsed = parse_expression(text).evaluate(env)
    direct = _lift(build(env))  # type: ignore[operator]
    assert parsed.data == direct.data
    xs = [env["x"], env["y"]]
    assert [g.data for g in grad(parsed, xs)] == [g.data for g in grad(direct, xs)]


@pytest.mark.torch
@pytest.mark.parametrize(
    "text",
    [
        "tanh(w*x + b)",
        "sigmoid(x) * log(w) - x / w + w ** x",
        "sqrt(x*x + w) * exp(-b) + softplus(x - w)",
        "abs(x - 2*w) + relu(b - x) + sin(x) * cos(w)",
    ],
)
def test_parsed_expression_gradients_match_pytorch(text: str) -> None:
    torch = pytest.importorskip("torch")
    point = {"x": 0.7, "w": 1.3, "b": -0.2}
    env = values(**point)
    y = parse_expression(text).evaluate(env)
    y.backward()
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in point.items()}
    fns = {
        "tanh": torch.tanh, "sigmoid": torch.sigmoid, "log": torch.log, "sqrt": torch.sqrt,
        "exp": torch.exp, "softplus": torch.nn.functional.softplus, "abs": torch.abs,
        "relu": torch.relu, "sin": torch.sin, "cos": torch.cos,
    }  # fmt: skip
    # the same checked syntax tree walked with torch tensors (still no eval)
    ty = _torch_eval(parse_expression(text)._tree, t, fns)
    ty.backward()
    assert y.data == pytest.approx(ty.item(), rel=1e-12)
    used = parse_expression(text).names
    for k in used:
        assert env[k].grad == pytest.approx(t[k].grad.item(), rel=1e-12, abs=1e-15), k


def _torch_eval(node: object, env: dict[str, object], fns: dict[str, object]) -> object:
    import ast

    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        v = _torch_eval(node.operand, env, fns)
        return -v if isinstance(node.op, ast.USub) else v  # type: ignore[operator]
    if isinstance(node, ast.BinOp):
        a, b = _torch_eval(node.left, env, fns), _torch_eval(node.right, env, fns)
        ops = {ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__",
               ast.Div: "__truediv__", ast.Pow: "__pow__"}  # fmt: skip
        name = ops[type(node.op)]
        result = getattr(a, name)(b)
        if result is NotImplemented:  # number on the left, tensor on the right
            result = getattr(b, "__r" + name[2:])(a)
        return result
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    return fns[node.func.id](*(_torch_eval(a, env, fns) for a in node.args))  # type: ignore[operator]
