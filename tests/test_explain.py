"""Tests for autograd_mini.explain: the backward pass as text, with the engine's numbers."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, strategies as st

from autograd_mini import Value, topological_order
from autograd_mini.explain import MAX_NODES, explain, explain_steps
from autograd_mini.testing import Expression, expressions


def cascade() -> tuple[Value, dict[str, Value]]:
    """The tutorial's two logistic neurons in cascade with loss E = ½(t2 − a2)²."""
    v = {
        name: Value(data, label=name)
        for name, data in [("x", 1.5), ("w1", 0.8), ("b1", -0.3), ("w2", -1.2), ("b2", 0.4)]
    }
    t2 = Value(1.0, label="t2")
    z1 = v["w1"] * v["x"] + v["b1"]
    z1.label = "z1"
    a1 = z1.sigmoid()
    a1.label = "a1"
    z2 = v["w2"] * a1 + v["b2"]
    z2.label = "z2"
    a2 = z2.sigmoid()
    a2.label = "a2"
    e = 0.5 * (t2 - a2) ** 2
    e.label = "E"
    v.update(t2=t2, z1=z1, a1=a1, z2=z2, a2=a2)
    return e, v


def test_one_line_per_node_in_backward_visiting_order() -> None:
    e, _ = cascade()
    order = topological_order(e)
    steps = explain_steps(e)
    assert [s.value for s in steps] == list(reversed(order))
    lines = explain(e).splitlines()
    assert len(lines) == len(order)
    for line, step in zip(lines, steps, strict=True):
        assert line.startswith(f"{step.name} = ")
        # a constant (a number typed into the formula) needs no gradient: none is shown
        assert (f"∂E/∂{step.name} = " in line) == step.value.requires_grad


def test_constants_get_no_gradient_and_never_nan() -> None:
    x = Value(0.0, label="x")
    y = (x - 1.0) ** 2  # ∂/∂(exponent) would be (x − 1)²·ln(x − 1) = NaN at x = 0
    text = explain(y)
    assert "nan" not in text
    steps = {s.name: s for s in explain_steps(y)}
    assert steps["x"].grad == -2.0
    constants = [s for s in steps.values() if not s.value.requires_grad]
    assert len(constants) == 2 and all(s.grad is None and not s.terms for s in constants)


def test_explained_gradients_equal_the_engines_exactly() -> None:
    e, _ = cascade()
    steps = explain_steps(e)
    e.backward()
    for s in steps:
        assert s.grad == (s.value.grad if s.value.requires_grad else None), s.name
    # and the text ends each line with the engine's number in full precision
    for line, s in zip(explain(e).splitlines()[1:], steps[1:], strict=True):
        if s.grad is not None:
            assert float(line.rsplit(" = ", 1)[1]) == s.value.grad


def test_each_gradient_is_the_sum_of_local_partial_times_consumer_gradient() -> None:
    e, _ = cascade()
    steps = explain_steps(e)
    grad_of = {s.name: s.grad for s in steps}
    for s in steps[1:]:
        if s.grad is None:
            continue  # a constant
        assert s.terms
        for t in s.terms:
            assert t.upstream == grad_of[t.consumer]
            assert t.contribution == pytest.approx(t.upstream * t.local, rel=1e-12)
        assert s.grad == pytest.approx(math.fsum(t.upstream * t.local for t in s.terms), rel=1e-12)


def test_cascade_lines_show_the_tutorials_chain_rule() -> None:
    e, v = cascade()
    text = explain(e)
    z2_line = next(line for line in text.splitlines() if line.startswith("z2 = "))
    assert "∂E/∂z2 = ∂E/∂a2 · a2(1 − a2) = " in z2_line
    w2_line = next(line for line in text.splitlines() if line.startswith("w2 = "))
    assert "∂E/∂w2 = ∂E/∂v" in w2_line and " · a1 = " in w2_line
    # δ2 = (a2 − t2)·a2·(1 − a2) by hand
    a2, t2 = v["a2"].data, v["t2"].data
    delta2 = (a2 - t2) * a2 * (1 - a2)
    z2_step = next(s for s in explain_steps(e) if s.name == "z2")
    assert z2_step.grad == pytest.approx(delta2, rel=1e-12)


def test_shared_node_gets_one_term_per_use() -> None:
    x = Value(3.0, label="x")
    b = x * 1
    r = b + b * 2  # dr/dx = 3
    steps = {s.name: s for s in explain_steps(r)}
    assert steps["x"].grad == 3.0
    square = Value(5.0, label="s")
    y = square * square
    (s_step,) = [s for s in explain_steps(y) if s.name == "s"]
    assert [t.formula for t in s_step.terms] == ["s", "s"]
    assert s_step.grad == 10.0


def test_explain_does_not_touch_gradients_or_the_graph() -> None:
    e, _ = cascade()
    order = topological_order(e)
    before = [(n.grad, n._g) for n in order]
    first = explain(e)
    assert [(n.grad, n._g) for n in order] == before
    e.backward()  # still allowed once: explain released nothing
    grads = [n.grad for n in order]
    assert explain(e) == first  # same text after backward (which released the graph)
    assert [n.grad for n in order] == grads


def test_explain_after_accumulated_gradients_shows_this_pass_only() -> None:
    x = Value(2.0, label="x")
    (x * x).backward()
    y = x * 3
    assert explain_steps(y)[-1].grad == 3.0  # not 3 + the 4 already on x.grad
    assert x.grad == 4.0


@given(
    expressions(2, max_steps=6),
    st.floats(0.2, 2.0),
    st.floats(0.2, 2.0),
)
def test_explain_matches_backward_on_random_expressions(f: Expression, a: float, b: float) -> None:
    x, y = Value(a, label="x"), Value(b, label="y")
    try:
        out = f(x, y)
    except (ArithmeticError, ValueError):
        assume(False)
        return
    steps = explain_steps(out)
    out.backward()
    for s in steps:
        if s.grad is None:
            assert not s.value.requires_grad
        elif math.isnan(s.grad):
            assert math.isnan(s.value.grad)
        else:
            assert s.grad == pytest.approx(s.value.grad, rel=1e-12, abs=1e-300)
    assert len(explain(out).splitlines()) == len(steps)


def test_constants_are_named_and_shown_by_value_in_formulas() -> None:
    x = Value(2.0, label="x")
    y = x * 3
    lines = explain(y).splitlines()
    assert lines[1].startswith("v1 = 3 (constant)")
    x_line = next(line for line in lines if line.startswith("x = "))
    assert "∂v2/∂x = ∂v2/∂v2 · 3 = 1 · 3 = 3.0" in x_line


def test_leaf_root_is_just_the_seed() -> None:
    assert explain(Value(4.0, label="a")) == "a = 4    ∂a/∂a = 1  (seed)"


@pytest.mark.parametrize(
    ("build", "formula"),
    [
        (lambda x: x.exp(), "v1"),
        (lambda x: x.log(), "1/x"),
        (lambda x: x.sqrt(), "1/(2·v1)"),
        (lambda x: x.tanh(), "(1 − v1²)"),
        (lambda x: x.relu(), "[x > 0]"),
        (lambda x: x.sin(), "cos x"),
        (lambda x: x.cos(), "−sin x"),
        (lambda x: x.softplus(), "σ(x)"),
        (lambda x: -x, "−1"),
        (lambda x: abs(x), "sign(x)"),
        (lambda x: x**3, "3·x^2"),
        (lambda x: 2**x, "v2·ln 2"),  # 2 is v0, x is v1
        (lambda x: 1 / x, "−1/x²"),
        (lambda x: x.leaky_relu(0.1), "(1 if x > 0 else 0.1)"),
    ],
)
def test_local_partial_formulas_with_numbers(build, formula: str) -> None:  # type: ignore[no-untyped-def]
    x = Value(0.7, label="x")
    y = build(x)
    x_step = next(s for s in explain_steps(y) if s.name == "x")
    (term,) = x_step.terms
    assert term.formula == formula
    y.backward()
    assert x_step.grad == x.grad


def test_over_max_nodes_is_a_value_error() -> None:
    y = Value(0.0)
    for _ in range(600):
        y = y + 1
    with pytest.raises(ValueError, match=r"explain: .*max_nodes=500.*larger max_nodes"):
        explain(y, max_nodes=500)
    assert len(explain(y, max_nodes=2000).splitlines()) == 1201
    assert len(explain(y).splitlines()) == 1201  # the default limit is larger than a drawing's


def test_default_limit_refuses_huge_graphs_quickly() -> None:
    y = Value(0.0)
    for _ in range(MAX_NODES):
        y = y + 1.0
    with pytest.raises(ValueError, match=f"max_nodes={MAX_NODES}"):
        explain(y)


def test_non_value_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="explain: root must be a Value"):
        explain(1.0)  # type: ignore[arg-type]


def test_explain_is_also_reachable_from_viz() -> None:
    from autograd_mini import viz

    assert viz.explain is explain
    assert viz.explain_steps is explain_steps
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        viz.nonsense  # noqa: B018
