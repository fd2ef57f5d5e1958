"""compile: the recorded Program, the reverse-mode transform and the reference evaluator."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_mini import Value, engine, grad, trace
from autograd_mini.compile.autodiff import gradient_program
from autograd_mini.compile.interpret import GuardFailedError, evaluate
from autograd_mini.compile.program import Eqn, Guard, Program
from autograd_mini.nn import MLP
from autograd_mini.ops import OPS
from autograd_mini.testing import Expression, expressions, reals

REL = 1e-12


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=REL, abs_tol=1e-300)


def eager(f: Expression | object, xs: list[float]) -> tuple[float, list[float]]:
    vs = [Value(x) for x in xs]
    out = f(*vs)  # type: ignore[operator]
    out.backward()
    return out.data, [v.grad for v in vs]


# --- the program ---------------------------------------------------------------------------


def test_program_prints_one_equation_per_line_with_constants_as_numbers() -> None:
    t = trace(lambda x, y: (x * y + 1.0).tanh(), 2)
    assert str(t.program) == (
        "inputs v0 v1\nv2 = mul v0 v1\nv4 = add v2 1.0\nv5 = tanh v4\noutputs v5"
    )


def test_program_lists_params_consts_guards_and_outputs() -> None:
    w = Value(2.0)
    c = Value(-0.5)  # not a parameter: a constant, printed as its number

    def f(x: Value) -> list[Value]:
        y = x * w + c
        return [y.relu() if y > 0.25 else y, y.exp()]

    t = trace(f, 1, params=[w], example=[1.0])
    p = t.program
    assert p.inputs == ("v0",) and p.params == ("v1",)
    assert p.consts == (-0.5,)
    assert [str(e) for e in p.eqns] == [
        "v2 = mul v0 v1",
        "v4 = add v2 -0.5",
        "v5 = relu v4",
        "v6 = exp v4",
    ]
    assert p.guards == (Guard("v4", ">", 0.25, True),)
    assert p.outputs == ("v5", "v6")
    assert "guard v4 > 0.25 is True" in str(p)
    assert "outputs v5 v6" in str(p)


def test_program_equations_are_in_topological_order() -> None:
    model = MLP(2, [3, 1])
    t = trace(lambda a, b: model([a, b]), 2, params=model)
    defined = set(t.program.inputs + t.program.params)
    for eqn in t.program.eqns:
        assert all(a in defined for a in eqn.ins if isinstance(a, str))
        defined.update(o for o in eqn.outs if o)


def test_comparisons_are_recorded_through_the_engine_hook_without_patching_value() -> None:
    methods = {name: Value.__dict__[name] for name in ("__lt__", "__le__", "__gt__", "__ge__")}
    seen: list[dict[str, object]] = []

    def f(x: Value) -> Value:
        seen.append({name: Value.__dict__[name] for name in methods})
        return x if x < 1.0 else -x

    t = trace(f, 1)
    assert seen == [methods]  # the class is untouched while tracing
    assert t.program.guards == (Guard("v0", "<", 1.0, True),)
    assert engine._COMPARISON_HOOK.get() is None  # and the hook is off again


def test_comparison_hook_sees_only_its_own_context() -> None:
    calls: list[tuple[str, bool]] = []
    with engine.comparison_hook(lambda a, s, b, r: calls.append((s, r))):
        assert Value(1.0) <= 2
        assert not Value(1.0) > Value(2.0)
    assert Value(1.0) >= 0.0  # hook off: not recorded
    assert calls == [("<=", True), (">", False)]


def test_program_ops_report_each_op_once() -> None:
    t = trace(lambda x: (x * x).tanh() * x, 1)
    assert [op.name for op in t.program.ops] == ["mul", "tanh"]


# --- the gradient program ----------------------------------------------------------------------


def test_gradient_program_has_one_vjp_equation_per_operation_on_the_gradient_path() -> None:
    t = trace(lambda x, y: (x * y + 1.0).tanh(), 2)
    gp = t.gradient_program("inputs")
    vjps = [str(e) for e in gp.eqns if e.vjp]
    assert vjps == [
        "g4 = tanh_vjp 1.0 v5 v4",
        "g2, _ = add_vjp g4 v4 v2 1.0",
        "g0, g1 = mul_vjp g2 v2 v0 v1",
    ]
    assert gp.wrt == ("v0", "v1") and gp.grads == ("g0", "g1")


def test_gradient_program_adds_contributions_of_a_shared_variable() -> None:
    gp = trace(lambda x: x * x, 1).gradient_program()
    assert [str(e) for e in gp.eqns[1:]] == [
        "g0, d1_1 = mul_vjp 1.0 v1 v0 v0",
        "g0 = add g0 d1_1",
        "g0 = add 0.0 g0",
    ]


def test_gradient_program_gives_zero_for_an_unused_input() -> None:
    gp = trace(lambda x, y: x.exp(), 2).gradient_program()
    assert evaluate(gp, [0.5, 7.0])[1] == [math.exp(0.5), 0.0]


def test_gradient_program_is_a_transform_of_any_program() -> None:
    p = Program(
        inputs=("a",),
        params=(),
        eqns=(Eqn(OPS["sin"], ("a",), ("b",)), Eqn(OPS["mul"], ("b", 3.0), ("c",))),
        outputs=("c",),
    )
    gp = gradient_program(p, ["a"])
    values, grads = evaluate(gp, [0.25])
    assert values == [math.sin(0.25) * 3.0]
    assert grads == [3.0 * math.cos(0.25)]


@settings(max_examples=60, deadline=None)
@given(expressions(2), reals(), reals())
def test_gradient_program_equals_eager_on_random_expressions(
    f: Expression, a: float, b: float
) -> None:
    t = trace(f, 2)
    value, grads = evaluate(t.gradient_program(), [a, b])
    ev, eg = eager(f, [a, b])
    assert close(value[0], ev)
    assert all(close(x, y) for x, y in zip(grads, eg, strict=True))


@settings(max_examples=20, deadline=None)
@given(st.lists(reals(), min_size=2, max_size=2), st.integers(0, 2**16))
def test_gradient_program_equals_eager_on_mlps(xs: list[float], seed: int) -> None:
    import random

    random.seed(seed)
    model = MLP(2, [4, 3, 1])
    t = trace(lambda a, b: model([a, b]), 2, params=model)
    values, grads = evaluate(t.gradient_program("all"), xs, [p.data for p in model.parameters()])
    vs = [Value(x) for x in xs]
    out = model(vs)
    assert isinstance(out, Value)
    eg = grad(out, [*vs, *model.parameters()])
    assert close(values[0], out.data)
    assert all(close(x, y.data) for x, y in zip(grads, eg, strict=True))


def test_gradient_program_with_seeds_weights_each_output() -> None:
    t = trace(lambda x: [x * x, x.sin()], 1)
    gp = t.gradient_program(seeded=True)
    assert gp.seeds == ("s0", "s1")
    _, grads = evaluate(gp, [0.5], seeds=[2.0, -1.0])
    assert close(grads[0], 2.0 * 2 * 0.5 - math.cos(0.5))


def test_gradient_program_keeps_eagers_sign_of_zero() -> None:
    gp = trace(lambda x: x * -0.0, 1).gradient_program()
    (g,) = evaluate(gp, [0.5])[1]
    assert g == 0.0 and math.copysign(1.0, g) == 1.0  # eager: 0.0 + (1.0 · -0.0) = 0.0


# --- the evaluator -----------------------------------------------------------------------------


def test_evaluate_refuses_inputs_that_take_another_branch() -> None:
    t = trace(lambda x: x.relu() if x > 0.0 else x * 2.0, 1)
    assert evaluate(t.program, [2.0])[0] == [2.0]
    with pytest.raises(GuardFailedError, match=r"v0 > 0.0 is True does not hold"):
        evaluate(t.program, [-2.0])


def test_evaluate_raises_the_ops_domain_errors() -> None:
    t = trace(lambda x: x.log(), 1)
    with pytest.raises(ValueError, match="log: math domain error"):
        evaluate(t.program, [-1.0])


def test_source_of_refuses_a_kind_that_is_not_one_of_its_programs() -> None:
    """The kind names the generated function: text from a caller must never reach the source."""
    from autograd_mini import trace

    t = trace(lambda x: x * 2.0, 1)
    injected = "a(xs, ps, ss):\n    pass\nraise SystemExit('injected')\ndef b"
    for kind in (injected, "nope", 3, None):
        with pytest.raises(ValueError, match="kind must be one of"):
            t.source_of(kind)  # type: ignore[arg-type]
    assert "def traced_forward" in t.source_of("forward")
