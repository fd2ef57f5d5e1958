"""defop: a user-defined primitive works everywhere a built-in one does (backward, grad of order
1 and 2, no_grad, explain, draw_graph, gradcheck, testing.reals, the expression parser, trace and
batch), and bad definitions are refused before anything is registered."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given

from autograd_mini import (
    OPS,
    Value,
    defop,
    engine,
    explain,
    functions,
    grad,
    no_grad,
    trace,
    where,
)
from autograd_mini.exprparse import parse_expression
from autograd_mini.gradcheck import gradcheck
from autograd_mini.testing import reals


def cube(x: float) -> float:
    return x**3


def cube_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * 3.0 * x * x,)


CUBE = defop("cube", cube, cube_vjp)


def wsq(x: float, y: float) -> float:
    """x·y², a two-input op."""
    return x * y * y


def wsq_vjp(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return g * y * y, g * 2.0 * x * y


WSQ = defop("t_wsq", wsq, wsq_vjp, formula=("{1}²", "2·{0}·{1}"))


def test_the_issue_example_gives_a_value_for_a_value_and_a_float_for_a_float() -> None:
    y = CUBE(Value(2.0, label="x"))
    assert isinstance(y, Value) and y.data == 8.0 and y.op == "cube"
    result = CUBE(2.0)
    assert type(result) is float and result == 8.0
    assert type(CUBE(2)) is float
    assert "cube" in OPS and CUBE.name == "cube" and CUBE.arity == 1 and CUBE.symbol == "cube"


def test_backward_and_grad_use_the_rule() -> None:
    x = Value(2.0)
    (CUBE(x) * 2.0).backward()
    assert x.grad == 24.0
    (d,) = grad(CUBE(x), [x])
    assert d.data == 12.0 and x.grad == 24.0  # grad leaves .grad alone


def test_second_derivative_through_an_arithmetic_rule() -> None:
    x = Value(1.5)
    (d1,) = grad(CUBE(x), [x], create_graph=True)
    (d2,) = grad(d1, [x])
    assert d1.data == 3.0 * 1.5**2 and d2.data == pytest.approx(6.0 * 1.5, rel=1e-15)


def test_second_derivative_with_a_rule_written_with_functions_that_accept_values() -> None:
    def my_sin_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        return (g * functions.cos(x),)  # math.cos would drop the second derivative

    op = defop("t_mysin", math.sin, my_sin_vjp)
    x = Value(0.7)
    (d1,) = grad(op(x), [x], create_graph=True)
    (d2,) = grad(d1, [x])
    assert d1.data == math.cos(0.7) and d2.data == -math.sin(0.7)
    assert gradcheck(lambda v: op(v), [0.7], order=2)


def test_two_input_op_gradients_and_mixed_arguments() -> None:
    x, y = Value(3.0), Value(2.0)
    z = WSQ(x, y)
    z.backward()
    assert (z.data, x.grad, y.grad) == (12.0, 4.0, 12.0)
    assert isinstance(WSQ(3.0, Value(2.0)), Value) and WSQ(3.0, 2.0) == 12.0
    hessian = [[h.data for h in grad(g, [x, y])] for g in grad(WSQ(x, y), [x, y], True)]
    assert hessian == [[0.0, 4.0], [4.0, 6.0]]


def test_no_grad_records_nothing() -> None:
    x = Value(2.0)
    with no_grad():
        y = CUBE(x)
    assert y.is_leaf and y.data == 8.0


@given(reals("cube"))
def test_gradcheck_of_a_user_op_at_order_two(x: float) -> None:
    assert gradcheck(lambda v: CUBE(v) * v.sin(), [x], order=2, raise_exception=True)


def test_explain_shows_the_symbol_and_the_formula() -> None:
    x, y = Value(3.0, label="x"), Value(2.0, label="y")
    z = WSQ(x, y)
    z.label = "z"
    text = explain(z)
    assert "z = t_wsq(x, y) = 12" in text
    assert "∂z/∂x = ∂z/∂z · y² = 1 · 4 = 4.0" in text
    assert "∂z/∂y = ∂z/∂z · 2·x·y = 1 · 12 = 12.0" in text
    c = CUBE(x)
    c.label = "c"
    assert "∂c/∂x = ∂c/∂c · ∂c/∂x = 1 · 27 = 27.0" in explain(c)  # no formula given


def test_draw_graph_shows_the_symbol_and_the_local_partials() -> None:
    pytest.importorskip("graphviz")
    from autograd_mini.viz import draw_graph

    op = defop("t_cube_sym", cube, cube_vjp, symbol="x³")
    x = Value(2.0, label="x")
    y = op(x)
    y.label = "y"
    source = draw_graph(y, show_local_grads=True).source
    assert 'label="x³"' in source and "∂y/∂x = 12.0000" in source


def test_testing_reals_respects_the_domain_and_kinks_of_a_user_op() -> None:
    op = defop("t_halfsqrt", math.sqrt, lambda g, out, x: (g / (2.0 * out),), domain=(0.0, 9.0))
    kinked = defop("t_kinked", abs, lambda g, out, x: (where(x > 1.0, g, -g),), kinks=(1.0,))

    @given(reals(op), reals("t_kinked", margin=0.1))
    def check(x: float, k: float) -> None:
        assert 0.01 <= x <= 3.0
        assert abs(k - 1.0) >= 0.1
        assert gradcheck(lambda v: op(v), [x], order=2, raise_exception=True)

    check()
    assert kinked.kinks == (1.0,) and op.domain == (0.0, 9.0)


def test_the_expression_parser_and_cli_whitelist_include_user_ops() -> None:
    y = parse_expression("cube(x) + t_wsq(x, 2)").evaluate({"x": 3.0})
    assert y.data == 27.0 + 12.0


def test_trace_and_batch_of_a_user_op_equal_eager() -> None:
    np = pytest.importorskip("numpy")

    def f(x: Value, y: Value) -> Value:
        return CUBE(x) * WSQ(y, x) + x

    t = trace(f, 2)
    rows = [[1.0, 2.0], [-0.5, 3.0], [2.0, -1.0]]
    batch = t.batch(np.array(rows))
    for k, row in enumerate(rows):
        xs = [Value(v) for v in row]
        out = f(*xs)
        out.backward()
        value, grads = t.value_and_grad(row)
        assert value == out.data and list(grads) == [v.grad for v in xs]
        assert float(batch.value[k]) == out.data
        assert batch.grad[k].tolist() == [v.grad for v in xs]


def test_a_forward_that_raises_is_reported_like_a_domain_error_before_any_node(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    op = defop("t_mylog", math.log, lambda g, out, x: (g / x,))  # a builtin: no signature
    built: list[object] = []
    monkeypatch.setattr(engine, "_node", lambda *a: built.append(a))
    with pytest.raises(ValueError, match=r"^t_mylog: math domain error \(x = -1\.0\)$"):
        op(Value(-1.0))
    with pytest.raises(ValueError, match=r"t_mylog: .*x = 0\.0"):
        op(0.0)
    assert built == []
    div = defop("t_div", lambda x, y: x / y, lambda g, out, x, y: (g / y, -g * out / y))
    with pytest.raises(ZeroDivisionError, match=r"t_div: .*\(x = 1\.0, y = 0\.0\)"):
        div(Value(1.0), 0.0)


def test_results_that_are_not_numbers_are_type_errors_naming_the_op() -> None:
    bad_forward = defop("t_badfwd", lambda x: "one", lambda g, out, x: (g,))
    with pytest.raises(TypeError, match="t_badfwd: forward must return a real number, got str"):
        bad_forward(Value(1.0))
    # a rule is traced once, at defop: a wrong result is refused there, before any graph
    with pytest.raises(TypeError, match=r"t_badvjp: the vjp must return a tuple of 1 gradient"):
        defop("t_badvjp", lambda x: x, lambda g, out, x: g)
    assert "t_badvjp" not in OPS


@pytest.mark.parametrize("name", ["my op", "1x", "", "lambda", "x-y", "café!"])
def test_a_name_that_is_not_an_identifier_is_a_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        defop(name, cube, cube_vjp)
    assert name not in OPS


@pytest.mark.parametrize("name", ["exp", "tanh", "add", "atan2", "round"])
def test_a_name_that_clashes_with_a_builtin_op_is_a_value_error(name: str) -> None:
    before = OPS[name]
    with pytest.raises(ValueError, match=f"'{name}' is already a built-in op"):
        defop(name, cube, cube_vjp)
    assert OPS[name] is before


def test_a_user_op_redefined_from_other_functions_clashes_and_the_same_ones_replace_it() -> None:
    first = defop("t_clash", cube, cube_vjp)
    with pytest.raises(ValueError, match="'t_clash' is already a user-defined op"):
        defop("t_clash", wsq, wsq_vjp)
    assert OPS["t_clash"] is first
    again = defop("t_clash", cube, cube_vjp)  # the same cell run again
    assert OPS["t_clash"] is again and again is not first and again(2.0) == 8.0


def test_the_same_name_from_another_module_replaces_the_op() -> None:
    # two modules (a test and the README, two examples) that happen to pick the same name
    def f(x: float) -> float:
        return 2.0 * x

    def f_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
        return (2.0 * g,)

    f.__module__ = f_vjp.__module__ = "another_module"
    first = defop("t_shared", cube, cube_vjp)
    second = defop("t_shared", f, f_vjp)
    assert OPS["t_shared"] is second and second(3.0) == 6.0 and first(3.0) == 27.0


def test_bad_arguments_are_refused_before_registering() -> None:
    with pytest.raises(TypeError, match="name must be a str"):
        defop(3, cube, cube_vjp)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="forward must be callable"):
        defop("t_bad1", 3.0, cube_vjp)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one or two inputs"):
        defop("t_bad2", lambda x, y, z: x, lambda g, out, x, y, z: (g, g, g))
    with pytest.raises(ValueError, match="forward takes 2 inputs but its vjp takes 1"):
        defop("t_bad3", wsq, cube_vjp)
    with pytest.raises(ValueError, match="domain"):
        defop("t_bad4", cube, cube_vjp, domain=(1.0, 0.0))
    with pytest.raises(ValueError, match="formula"):
        defop("t_bad5", cube, cube_vjp, formula=("{2}",))
    with pytest.raises(ValueError, match="symbol"):
        defop("t_bad6", cube, cube_vjp, symbol="")
    assert not {f"t_bad{k}" for k in range(1, 7)} & set(OPS)


def test_trace_to_jax_of_a_user_op_without_a_jax_lowering_runs_on_the_host() -> None:
    jax = pytest.importorskip("jax")
    t = trace(lambda x: CUBE(x) + x, 1)
    with jax.enable_x64(True):
        value, (g,) = jax.value_and_grad(t.to_jax())(jax.numpy.array([1.5]))
    assert (float(value), float(g)) == pytest.approx((1.5**3 + 1.5, 3 * 1.5**2 + 1.0), rel=1e-12)


def test_user_op_with_jax_and_numpy_lowerings_runs_in_both_backends() -> None:
    jax = pytest.importorskip("jax")
    np = pytest.importorskip("numpy")

    def np_cube(x: Any) -> Any:
        return np.asarray(x) ** 3

    def jax_cube(x: Any) -> Any:
        return jax.numpy.power(x, 3)

    op = defop("t_cube_lowered", cube, cube_vjp, numpy=np_cube, jax=jax_cube)

    def f(x: Value, y: Value) -> Value:
        return op(x) * y

    t = trace(f, 2)
    rows = np.array([[1.5, 2.0], [-0.5, 3.0]])
    for backend in ("numpy", "jax"):
        batch = t.batch(rows, backend=backend)
        for k, (x, y) in enumerate(rows.tolist()):
            assert float(batch.value[k]) == pytest.approx(x**3 * y, rel=1e-12)
            assert batch.grad[k].tolist() == pytest.approx([3 * x * x * y, x**3], rel=1e-12)


def test_a_numpy_lowering_that_ignores_its_operand_is_broadcast_over_the_batch() -> None:
    np = pytest.importorskip("numpy")
    op = defop(
        "t_two", lambda x: 2.0, lambda g, out, x: (0.0 * g,), numpy=lambda x: 2.0
    )  # a constant function: its NumPy lowering returns a scalar, not one value per row
    t = trace(lambda x: op(x) * x, 1)
    batch = t.batch(np.array([[1.0], [3.0]]))
    assert batch.value.tolist() == [2.0, 6.0]
    assert batch.grad.tolist() == [[2.0], [2.0]]


def test_traced_and_batched_user_op_errors_name_the_op_as_eager_does() -> None:
    np = pytest.importorskip("numpy")

    def checked_sqrt(x: float) -> float:
        if x < 0.0:
            raise ValueError("needs x >= 0")
        return math.sqrt(x)

    op = defop("t_checked_sqrt", checked_sqrt, lambda g, out, x: (g * 0.5 / out,))
    t = trace(lambda x: op(x) * x, 1, example=[4.0])
    message = r"^t_checked_sqrt: needs x >= 0 \(x = -1\.0\)"
    with pytest.raises(ValueError, match=message):
        op(Value(-1.0))
    with pytest.raises(ValueError, match=message):
        t.forward([-1.0])
    with pytest.raises(ValueError, match=message):
        t.value_and_grad([-1.0])
    with pytest.raises(ValueError, match=message):
        t.batch(np.array([[4.0], [-1.0]]))
    assert t.value_and_grad([4.0]) == (8.0, [3.0])


def test_jax_backend_differentiates_a_user_op_by_its_own_vjp() -> None:
    jax = pytest.importorskip("jax")
    np = pytest.importorskip("numpy")

    # a straight-through rounding: forward rounds, the rule passes g through unchanged (JAX's
    # own derivative of jnp.round is 0, which would silently give other gradients)
    ste = defop(
        "t_ste_round",
        lambda x: float(round(x)),
        lambda g, out, x: (g,),
        numpy=np.round,
        jax=jax.numpy.round,
    )
    t = trace(lambda x, y: ste(x) * y + ste(2.0) * x, 2)
    rows = [[1.3, 0.5], [-2.6, 3.0]]
    batch = t.batch(np.array(rows), backend="jax")
    fn = t.to_jax()
    for k, row in enumerate(rows):
        value, grads = t.value_and_grad(row)
        assert grads == [row[1] + 2.0, float(round(row[0]))]
        assert float(batch.value[k]) == value
        assert batch.grad[k].tolist() == grads
        with jax.enable_x64(True):
            assert jax.grad(fn)(np.array(row)).tolist() == grads
            hessian = jax.hessian(fn)(np.array(row))  # forward mode over reverse mode too
        assert hessian.tolist() == [[0.0, 1.0], [1.0, 0.0]]


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_a_lowering_that_is_not_callable_is_a_type_error_before_registering(backend: str) -> None:
    name = f"t_uncallable_{backend}"
    with pytest.raises(TypeError, match=rf"defop: {backend}= must be a callable .*str"):
        defop(name, cube, cube_vjp, **{backend: "np.cbrt"})
    assert name not in OPS
