"""trace: compiled straight-line code and batched NumPy against the eager engine."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from autograd_mini import OPS, Value, engine as _engine, grad, trace
from autograd_mini.nn import MLP
from autograd_mini.testing import Expression, expressions, reals
from autograd_mini.trace import BatchResult, Traced, TraceGuardError

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy is the optional extra `numpy`
    np = None
needs_numpy = pytest.mark.skipif(np is None, reason="batch needs NumPy (extra `numpy`)")

REL = 1e-12


def close(a: float, b: float, rel: float = REL, abs_tol: float = 1e-300) -> bool:
    """Equal to rel, or both NaN, or the same infinity."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def all_close(a: Sequence[float], b: Sequence[float], rel: float = REL) -> bool:
    return len(a) == len(b) and all(
        close(float(x), float(y), rel) for x, y in zip(a, b, strict=True)
    )


def eager(f: Callable[..., Any], xs: Sequence[float]) -> tuple[float, list[float]]:
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    return out.data, [g.data for g in grad(out, leaves)]


# --- the contract: call styles, forward, value_and_grad ----------------------------------------


def f2(x: Value, y: Value) -> Value:
    return (x * y + 1.0).tanh()


def test_value_and_grad_matches_closed_form() -> None:
    t = trace(f2, 2)
    value, (dx, dy) = t.value_and_grad([0.5, 2.0])
    slope = 1.0 - math.tanh(2.0) ** 2
    assert value == math.tanh(2.0)
    assert math.isclose(dx, 2.0 * slope, rel_tol=1e-15)
    assert math.isclose(dy, 0.5 * slope, rel_tol=1e-15)
    assert t.forward([0.5, 2.0]) == math.tanh(2.0)
    assert t(0.5, 2.0) == math.tanh(2.0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: trace(f2, 2),
        lambda: trace(f2, n_inputs=2),
        lambda: trace(n_inputs=2)(f2),
        lambda: trace(2)(f2),
        lambda: trace(f2),
        lambda: trace()(f2),
    ],
    ids=["positional", "keyword", "decorator-keyword", "decorator-positional", "inferred", "bare"],
)
def test_every_call_style_gives_the_same_traced_function(make: Callable[[], Traced]) -> None:
    t = make()
    assert isinstance(t, Traced)
    assert t.n_inputs == 2
    assert t.value_and_grad([0.3, -1.1]) == trace(f2, 2).value_and_grad([0.3, -1.1])


def test_decorator_syntax_works_with_the_count() -> None:
    @trace(n_inputs=1)
    def square(x: Value) -> Value:
        return x * x

    assert square.value_and_grad([3.0]) == (9.0, [6.0])


def test_f_is_called_exactly_once_at_trace_time() -> None:
    calls = []

    def f(x: Value) -> Value:
        calls.append(x)
        return x.exp()

    t = trace(f, 1)
    assert len(calls) == 1 and isinstance(calls[0], Value)
    for x in (0.1, 0.2, 0.3):
        t.value_and_grad([x])
        t.forward([x])
    assert len(calls) == 1


def test_wrong_number_of_inputs_is_an_error_naming_the_count() -> None:
    t = trace(f2, 2)
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        t.forward([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="takes 2 inputs, got 1"):
        t.value_and_grad([1.0])


def test_non_number_input_is_a_type_error() -> None:
    t = trace(f2, 2)
    with pytest.raises(TypeError, match=r"inputs\[1\]"):
        t.forward([1.0, "2.0"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        t.forward(3.0)  # type: ignore[arg-type]


def test_integer_inputs_are_converted_like_value_does() -> None:
    t = trace(lambda x: x**0.5, 1)
    assert t.forward([4]) == 2.0


def test_bad_trace_arguments_are_rejected() -> None:
    with pytest.raises(TypeError, match="n_inputs must be an int"):
        trace(f2, 2.0)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match=">= 0"):
        trace(f2, -1)
    with pytest.raises(TypeError, match="must return a Value"):
        trace(lambda x: "no", 1)
    with pytest.raises(TypeError, match="params"):
        trace(f2, 2, params=[1.0])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="wrt"):
        trace(f2, 2).value_and_grad([1.0, 2.0], wrt="x")  # type: ignore[arg-type]


# --- the generated source -------------------------------------------------------------------------


def test_source_has_one_line_per_operation_forward_then_backward() -> None:
    t = trace(lambda x, y: (x * y).sin() + y, 2)
    lines = t.source.splitlines()
    assert lines[0] == "def traced_grad(xs, ps, ss):"
    body = [line.strip() for line in lines[1:]]
    assert body[:4] == ["v0, v1 = xs", "v2 = v0 * v1", "v3 = math.sin(v2)", "v4 = v3 + v1"]
    # backward: sin's rule (g·cos x, with g = 1 folded away), then mul's; x1 also gets add's 1
    assert body[4:7] == ["g2 = math.cos(v2)", "g0 = g2 * v1", "g1_3 = 1.0 + g2 * v0"]
    assert body[-1] == "return (v4, [0.0 + g0, 0.0 + g1_3])"  # eager's sign of zero


def test_constants_are_float_literals_and_labels_never_reach_the_source() -> None:
    evil = "__import__('os').system('echo pwned')"

    def f(x: Value) -> Value:
        c = Value(1.2345678901234567, label=evil)
        return (x * c + (-2.5)) ** 2 + float("inf") * 0.0 + x.leaky_relu(0.125)

    x0 = Value(0.7, label=evil)
    t = trace(f, 1)
    assert evil not in t.source
    assert "1.2345678901234567" in t.source
    assert "0.125" in t.source
    assert "(-2.5)" in t.source or "- 2.5" in t.source or "-2.5" in t.source
    value, grads = t.value_and_grad([0.7])
    assert all_close([value, *grads], [*eager(f, [x0.data])[:1], *eager(f, [0.7])[1]])


def test_backward_source_is_the_rule_of_the_registry_written_out() -> None:
    # tanh' = 1 − out² is written once, tanh's rule g * (1.0 - out * out) in ops.py; the
    # generated line is that expression with g = 3.0 (mul's rule g·y, seed 1, constant 3)
    t = trace(lambda x: x.tanh() * 3.0, 1)
    assert "g0 = 3.0 * (1.0 - v1 * v1)" in t.source.splitlines()[-2]


# --- property tests: compiled and batched equal eager ---------------------------------------------


@given(expressions(3, max_steps=10), reals(), reals(), reals())
def test_compiled_expression_equals_eager(f: Any, a: float, b: float, c: float) -> None:
    t = trace(f, 3)
    value, grads = eager(f, [a, b, c])
    got_value, got_grads = t.value_and_grad([a, b, c])
    assert close(got_value, value)
    assert all_close(got_grads, grads)
    assert close(t.forward([a, b, c]), value)


@needs_numpy
@settings(max_examples=40)
@given(
    expressions(2, max_steps=10),
    st.lists(st.tuples(reals(), reals()), min_size=1, max_size=6),
)
def test_batched_expression_equals_eager_row_by_row(
    f: Any, rows: list[tuple[float, float]]
) -> None:
    t = trace(f, 2)
    results = [t.batch(np.array(rows), method=m) for m in ("levels", "nodes")]
    # eager's floats to 1e-12: batch runs math's exp/tanh/… element by element where NumPy's
    # own differ in the last bit (the NumPy table in ops.py); sums may be added in another
    # order (the dots pass)
    expected = [eager(f, row) for row in rows]
    for result in results:
        assert isinstance(result, BatchResult)
        assert result.value.shape == (len(rows),)
        assert result.grad.shape == (len(rows), 2)
        for k, (value, grads) in enumerate(expected):
            assert close(float(result.value[k]), value)
            assert all_close(result.grad[k], grads)


RATIONAL_UNARY = ("square", "neg", "sqrt1p_square")
RATIONAL_BINARY = ("add", "sub", "mul", "div", "scale")


@st.composite
def rational_expressions(draw: st.DrawFn) -> Expression:
    """Expressions of + − × ÷ and √ only (no transcendental functions)."""
    steps: list[tuple[str, tuple[int, ...]]] = []
    for k in range(draw(st.integers(1, 8))):
        operand = st.integers(0, 1 + k)
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(RATIONAL_BINARY)), (draw(operand), draw(operand))))
        else:
            steps.append((draw(st.sampled_from(RATIONAL_UNARY)), (draw(operand),)))
    return Expression(2, tuple(steps))


@needs_numpy
@settings(max_examples=40)
@given(rational_expressions(), st.lists(st.tuples(reals(), reals()), min_size=1, max_size=4))
def test_batched_rational_expression_equals_plain_eager(
    f: Any, rows: list[tuple[float, float]]
) -> None:
    # + − × ÷ and √ are correctly rounded in NumPy and in Python alike
    result = trace(f, 2).batch(np.array(rows))
    for k, row in enumerate(rows):
        value, grads = eager(f, row)
        assert close(float(result.value[k]), value)
        assert all_close(result.grad[k], grads)


# every op, also at its kinks, domain edges and with special values: the vectorised rules
# (np.where for Python `if`) must agree with the float rules element by element.
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, 800.0, -800.0]


def _op_function(name: str) -> Callable[..., Value]:
    unary = {
        "neg": lambda x: -x,
        "abs": lambda x: abs(x),
        "exp": lambda x: x.exp(),
        "log": lambda x: x.log(),
        "sqrt": lambda x: x.sqrt(),
        "tanh": lambda x: x.tanh(),
        "sigmoid": lambda x: x.sigmoid(),
        "relu": lambda x: x.relu(),
        "sin": lambda x: x.sin(),
        "cos": lambda x: x.cos(),
        "softplus": lambda x: x.softplus(),
    }
    binary = {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
        "pow": lambda x, y: x**y,
        "leaky_relu": lambda x, y: x.leaky_relu(y),
    }
    if name in unary or name in binary:
        return unary[name] if name in unary else binary[name]
    return OPS[name]  # an op is callable: Values in, a recorded Value out


def _eager_or_error(f: Callable[..., Value], xs: Sequence[float]) -> Any:
    try:
        return eager(f, xs)
    except (ArithmeticError, ValueError) as e:
        return type(e)


@needs_numpy
@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_compiled_and_batched_equals_eager_at_special_points(name: str) -> None:
    f = _op_function(name)
    n = OPS[name].arity
    points = [[x] for x in SPECIAL] if n == 1 else [[x, y] for x in SPECIAL for y in SPECIAL]
    lo, hi = OPS[name].domain
    t = trace(f, n, example=[2.0 if lo < 2.0 < hi else 0.5] * n)
    good = []
    for xs in points:
        expected = _eager_or_error(f, xs)
        if isinstance(expected, type):
            with pytest.raises(expected):
                t.value_and_grad(xs)
            with pytest.raises(expected):
                t.batch(np.array([xs]))
            continue
        value, grads = t.value_and_grad(xs)
        assert close(value, expected[0]), (xs, value, expected)
        assert all_close(grads, expected[1]), (xs, grads, expected)
        good.append((xs, expected))
    for method in ("levels", "nodes"):
        result = t.batch(np.array([xs for xs, _ in good]), method=method)
        for k, (xs, (value, grads)) in enumerate(good):
            assert close(float(result.value[k]), value), (xs, result.value[k], value)
            assert all_close(result.grad[k], grads), (xs, result.grad[k], grads)


@needs_numpy
def test_batch_of_a_row_that_fails_raises_the_eager_error_with_the_row() -> None:
    t = trace(lambda x: x.log(), 1)
    with pytest.raises(ValueError, match="log needs x > 0") as info:
        t.batch(np.array([[1.0], [2.0], [-1.0]]))
    notes = getattr(info.value, "__notes__", ["(in row 2 of the batch)"])
    assert "(in row 2 of the batch)" in notes
    exp = trace(lambda x: x.exp(), 1)
    with pytest.raises(OverflowError):
        exp.batch(np.array([[1.0], [1000.0]]))


# --- control flow: guards ---------------------------------------------------------------------


def piecewise(x: Value) -> Value:
    return x * 2.0 if x > 0 else -x


def test_tracing_specialises_on_the_branch_and_detects_another_branch() -> None:
    t = trace(piecewise, 1, example=[1.0])
    assert t.value_and_grad([3.0]) == (6.0, [2.0])
    assert t.guards == ["input 0 > 0.0 is True"]
    with pytest.raises(TraceGuardError, match="another branch"):
        t.forward([-1.0])
    other = trace(piecewise, 1, example=[-1.0])
    assert other.value_and_grad([-3.0]) == (3.0, [-1.0])
    with pytest.raises(TraceGuardError):
        other.value_and_grad([0.5])


@needs_numpy
def test_guards_cover_comparisons_of_intermediate_values_and_max() -> None:
    def f(x: Value, y: Value) -> Value:
        return max(x * y, y - x) + x

    t = trace(f, 2, example=[2.0, 3.0])  # x·y = 6 > y − x = 1
    assert close(t.forward([1.0, 5.0]), 6.0)
    with pytest.raises(TraceGuardError):
        t.forward([-1.0, 5.0])  # x·y = −5 < 6: max picks the other operand
    with pytest.raises(TraceGuardError):
        t.batch(np.array([[1.0, 5.0], [-1.0, 5.0]]))


def test_comparisons_are_not_recorded_outside_tracing() -> None:
    trace(piecewise, 1, example=[1.0])
    assert Value.__lt__ is _engine.Value.__dict__["__lt__"]
    assert (Value(1.0) < 2.0) is True


# --- parameters, multiple outputs, batches -------------------------------------------------------


def test_parameters_are_read_at_call_time_and_get_gradients() -> None:
    w, b = Value(0.5), Value(-0.25)

    def f(x: Value) -> Value:
        return (w * x + b).tanh()

    t = trace(f, 1, params=[w, b])
    value, grads = t.value_and_grad([2.0], wrt="params")
    x = Value(2.0)
    out = f(x)
    assert value == out.data
    assert all_close(grads, [g.data for g in grad(out, [w, b])])
    w.data = 1.5
    assert t.forward([2.0]) == math.tanh(1.5 * 2.0 - 0.25)
    _, every = t.value_and_grad([2.0], wrt="all")
    assert len(every) == 3
    assert t.forward([2.0], param_values=[0.0, 0.0]) == 0.0


def test_backward_accumulates_into_parameter_grads_like_eager() -> None:
    w = Value(0.3)
    t = trace(lambda x: (w * x).sin(), 1, params=[w])
    t.backward([2.0])
    t.backward([1.0], grad=0.5)
    expected = 2.0 * math.cos(0.6) + 0.5 * math.cos(0.3)
    assert math.isclose(w.grad, expected, rel_tol=1e-14)


def test_other_captured_values_are_constants() -> None:
    c = Value(2.0)
    t = trace(lambda x: x * c, 1)
    c.data = 100.0
    assert t.forward([3.0]) == 6.0


@needs_numpy
def test_list_output_needs_grad_outputs_like_torch() -> None:
    def f(x: Value, y: Value) -> list[Value]:
        return [x * y, x + y, x.exp()]

    t = trace(f, 2)
    assert t.forward([2.0, 3.0]) == [6.0, 5.0, math.exp(2.0)]
    with pytest.raises(ValueError, match="grad_outputs"):
        t.value_and_grad([2.0, 3.0])
    value, grads = t.value_and_grad([2.0, 3.0], grad_outputs=[1.0, -2.0, 0.5])
    assert value == [6.0, 5.0, math.exp(2.0)]
    assert all_close(grads, [3.0 - 2.0 + 0.5 * math.exp(2.0), 2.0 - 2.0])
    result = t.batch(np.array([[2.0, 3.0], [0.0, 1.0]]), grad_outputs=[1.0, -2.0, 0.5])
    assert result.value.shape == (2, 3)
    assert all_close(result.grad[0], grads)


@needs_numpy
def test_constant_output_and_unused_inputs() -> None:
    t = trace(lambda x, y: x * 0.0 + 3.0 if False else Value(3.0), 2)
    assert t.value_and_grad([1.0, 2.0]) == (3.0, [0.0, 0.0])
    result = t.batch(np.zeros((4, 2)))
    assert result.value.tolist() == [3.0] * 4 and result.grad.tolist() == [[0.0, 0.0]] * 4


@needs_numpy
def test_batch_shapes_and_validation() -> None:
    t = trace(lambda x: x * x, 1)
    assert t.batch([1.0, 2.0, 3.0]).grad[:, 0].tolist() == [2.0, 4.0, 6.0]
    assert t.batch(np.empty((0, 1))).value.shape == (0,)
    with pytest.raises(ValueError, match=r"shape \(n, 1\)"):
        t.batch(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="real numbers"):
        t.batch(np.array([["a"]]))


def test_batch_without_numpy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    t = trace(lambda x: x * x, 1)
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError, match=r"pip install autograd_mini\[numpy\]"):
        t.batch([[1.0]])


def test_importing_the_package_and_tracing_do_not_import_numpy() -> None:
    code = (
        "import sys; import autograd_mini; from autograd_mini import trace; "
        "t = trace(lambda x: x.tanh(), 1); t.value_and_grad([0.5]); "
        "assert 'numpy' not in sys.modules, 'numpy was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- nn integration: an MLP's per-sample loss --------------------------------------------------


def mlp_loss(model: MLP) -> Callable[..., Value]:
    def loss(x0: Value, x1: Value, y: Value) -> Value:
        score = model([x0, x1])
        assert isinstance(score, Value)
        return (1.0 - y * score).relu()

    return loss


@needs_numpy
@settings(max_examples=15)
@given(
    st.integers(0, 2**16),
    st.lists(st.tuples(reals(), reals(), st.sampled_from([-1.0, 1.0])), min_size=1, max_size=5),
    st.sampled_from(["relu", "tanh"]),
)
def test_compiled_mlp_loss_equals_eager(
    seed: int, rows: list[tuple[float, float, float]], act: str
) -> None:
    model = MLP(2, [4, 4, 1], activation=act, seed=seed)
    params = model.parameters()
    loss = mlp_loss(model)
    t = trace(loss, 3, params=params)
    summed = [0.0] * len(params)
    total = 0.0
    for row in rows:
        leaves = [Value(v) for v in row]
        out = loss(*leaves)
        expected = [g.data for g in grad(out, params)]
        value, grads = t.value_and_grad(list(row), wrt="params")
        assert close(value, out.data)
        assert all_close(grads, expected)
        summed = [s + e for s, e in zip(summed, expected, strict=True)]
        total += out.data
    got_values, got_summed = t.values_and_summed_grad([list(r) for r in rows])
    assert math.isclose(math.fsum(got_values), total, rel_tol=1e-12, abs_tol=1e-12)
    scale = max(1.0, max(abs(s) for s in summed))
    assert all(abs(a - b) <= 1e-12 * scale for a, b in zip(got_summed, summed, strict=True))
    # batch: against plain eager
    per_row = [[g.data for g in grad(loss(*[Value(v) for v in row]), params)] for row in rows]
    summed = [math.fsum(column) for column in zip(*per_row, strict=True)]
    for method in ("levels", "nodes"):
        result = t.batch(np.array(rows), wrt="params", per_sample=True, method=method)
        for k, expected in enumerate(per_row):
            assert all_close(result.param_grad[k], expected)
        summed_batch = t.batch(np.array(rows), wrt="params", method=method).param_grad
        assert all(abs(a - b) <= 1e-12 * scale for a, b in zip(summed_batch, summed, strict=True))


def test_training_on_the_compiled_loss_follows_eager_training() -> None:
    rows = [(0.5, -0.2, 1.0), (-0.7, 0.3, -1.0), (0.1, 0.9, 1.0)]
    eager_model = MLP(2, [8, 1], activation="tanh", seed=3)
    fast_model = MLP(2, [8, 1], activation="tanh", seed=3)
    t = trace(mlp_loss(fast_model), 3, params=fast_model.parameters())
    eager_loss = mlp_loss(eager_model)
    for _ in range(5):
        eager_model.zero_grad()
        fast_model.zero_grad()
        for row in rows:
            eager_loss(*[Value(v) for v in row]).backward()
            t.backward(list(row))
        for p, q in zip(eager_model.parameters(), fast_model.parameters(), strict=True):
            assert close(p.grad, q.grad)
            p.data -= 0.1 * p.grad
            q.data -= 0.1 * q.grad


def test_values_and_summed_grad_weights_list_outputs() -> None:
    w = Value(0.7)

    def f(x: Value) -> list[Value]:
        s = (w * x).tanh()
        return [(1.0 - s).relu(), s]

    t = trace(f, 1, params=[w])
    rows = [[0.5], [-1.5], [2.0]]
    values, (summed,) = t.values_and_summed_grad(rows, grad_outputs=[0.5, 0.0])
    expected = 0.0
    for row in rows:
        loss, score = f(Value(row[0]))
        assert values[rows.index(row)] == [loss.data, score.data]
        expected += 0.5 * grad(loss, [w])[0].data
    assert math.isclose(summed, expected, rel_tol=1e-14)
    with pytest.raises(ValueError, match="grad_outputs"):
        t.values_and_summed_grad(rows)


@pytest.mark.parametrize("loss", ["hinge", "bce"])
def test_moons_demo_compiled_trains_like_eager(loss: str) -> None:
    from autograd_mini.demos import moons

    kwargs: dict[str, Any] = {"steps": 6, "n": 24, "hidden": (5,), "seed": 2, "loss": loss}
    slow = moons.train_moons(**kwargs)
    fast = moons.train_moons(compiled=True, **kwargs)
    assert all_close(fast.losses, slow.losses, rel=1e-9)
    assert fast.accuracies == slow.accuracies
    assert all_close(
        [p.data for p in fast.model.parameters()], [p.data for p in slow.model.parameters()], 1e-9
    )


@needs_numpy
def test_batched_sums_are_matrix_products_within_1e12_or_eagers_sums_with_exact() -> None:
    def f(a: Value, b: Value, c: Value) -> Value:
        s = sum([a * b, b * c, c * a, a])  # starts from the constant 0
        t = a + a + a + b  # the same term three times
        u = a + b
        w = (u + c) * u  # u is used twice: the chain stops there
        return s * t + w + sum([s, t, w], a)

    t = trace(f, 3)
    assert ".sum(axis=1)" in t.source_of("batch")  # the sums of products, as products summed
    rows = [[0.5, -1.25, 2.0], [3.0, 0.125, -0.75], [0.0, 1.0, -1.0]]
    for method in ("levels", "nodes"):
        fast = t.batch(np.array(rows), method=method)
        exact = t.batch(np.array(rows), method=method, exact=True)
        for k, row in enumerate(rows):
            value, grads = eager(f, row)
            assert float(exact.value[k]) == value  # the same additions in the same order
            assert exact.grad[k].tolist() == grads
            assert close(float(fast.value[k]), value)
            assert all_close(fast.grad[k], grads)


@needs_numpy
def test_batch_unpacks_like_value_and_grad() -> None:
    w = Value(2.0)
    t = trace(lambda x, y: w * x * y, 2, params=[w])
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    values, grads = t.batch(X)
    assert values.tolist() == [4.0, -6.0]
    assert grads.tolist() == [[4.0, 2.0], [-2.0, 6.0]]
    values, param_grads = t.batch(X, wrt="params")
    assert param_grads.tolist() == [2.0 - 3.0]
    _, (grads, param_grads) = t.batch(X, wrt="all", per_sample=True)
    assert grads.shape == (2, 2) and param_grads.tolist() == [[2.0], [-3.0]]


def test_an_error_while_tracing_propagates_and_leaves_comparisons_alone() -> None:
    original = Value.__dict__["__gt__"]
    with pytest.raises(ZeroDivisionError):
        trace(lambda x: x / (x - x) if x > 0 else x, 1)
    assert Value.__dict__["__gt__"] is original


def test_tracing_records_even_inside_no_grad_and_nests() -> None:
    from autograd_mini import no_grad

    with no_grad():
        t = trace(lambda x: x.exp() * x, 1)
    assert close(t.value_and_grad([1.0])[1][0], 2.0 * math.e)

    def outer(x: Value) -> Value:
        inner = trace(lambda y: y * 3.0 if y > 0 else -y, 1, example=[1.0])
        assert inner.guards == ["input 0 > 0.0 is True"]
        return x * 2.0 if x > 1.0 else x

    t = trace(outer, 1, example=[2.0])
    assert t.guards == ["input 0 > 1.0 is True"]


def test_detach_inside_f_is_baked_in_as_documented() -> None:
    t = trace(lambda x: x * x.detach(), 1, example=[0.5])
    assert t.value_and_grad([3.0]) == (1.5, [0.5])  # x.detach() stayed the traced 0.5


def test_comparisons_on_parameters_are_guarded_too() -> None:
    w = Value(1.0)
    t = trace(lambda x: x * w if w > 0 else x, 1, params=[w])
    assert t.forward([2.0]) == 2.0
    w.data = -1.0
    with pytest.raises(TraceGuardError, match=r"parameter 0 > 0\.0"):
        t.forward([2.0])


def test_example_must_match_the_input_count() -> None:
    with pytest.raises(ValueError, match="expected 2 numbers, got 1"):
        trace(f2, 2, example=[1.0])
    with pytest.raises(TypeError, match="example"):
        trace(f2, 2, example=1.0)  # type: ignore[arg-type]


@needs_numpy
@pytest.mark.parametrize("method", ["levels", "nodes"])
@pytest.mark.parametrize("per_sample", [False, True])
def test_batch_of_parameter_outputs_and_parameter_only_nodes(method: str, per_sample: bool) -> None:
    w = Value(0.5)
    t = trace(lambda x: [w, x * w, w * w], 1, params=[w])
    X = np.array([[1.0], [2.0], [3.0]])
    result = t.batch(
        X, wrt="all", grad_outputs=[1.0, 1.0, 1.0], per_sample=per_sample, method=method
    )
    assert result.value.tolist() == [[0.5, x, 0.25] for x in (0.5, 1.0, 1.5)]
    assert result.grad.tolist() == [[0.5]] * 3
    per_row = [[1.0 + x + 2 * 0.5] for x in (1.0, 2.0, 3.0)]  # d(w + x·w + w²)/dw
    assert result.param_grad.tolist() == (per_row if per_sample else [12.0])


def test_params_may_be_given_as_the_module() -> None:
    model = MLP(2, [3, 1], seed=1)
    t = trace(lambda a, b: model([a, b]), 2, params=model)
    assert t.params == tuple(model.parameters())
    out = model([0.5, -0.5])
    assert isinstance(out, Value)
    value, grads = t.value_and_grad([0.5, -0.5], wrt="params")
    assert value == out.data
    assert all_close(grads, [g.data for g in grad(out, model.parameters())])


def test_a_graph_over_max_nodes_is_refused_as_soon_as_f_has_run() -> None:
    from autograd_mini.engine import GraphTooLargeError

    def chain(x: Value) -> Value:
        for _ in range(600):
            x = x.tanh()
        return x

    with pytest.raises(GraphTooLargeError, match=r"max_nodes=500.*max_nodes=None"):
        trace(chain, 1, max_nodes=500)
    t = trace(chain, 1, max_nodes=None)  # no limit
    assert t.value_and_grad([0.3]) == eager(chain, [0.3])  # deeper than 12: lines, not nesting
