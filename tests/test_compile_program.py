"""compile: the recorded program, the gradient program of primitives, and each pass alone on the
printed program (before and after)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from autograd_mini import Value, engine, trace
from autograd_mini.compile import passes
from autograd_mini.compile.autodiff import gradient_program
from autograd_mini.compile.to_python import compile_python
from autograd_mini.nn import MLP
from autograd_mini.program import Eqn, Guard, Program
from autograd_mini.registry import OPS


def run(p: Program, xs: list[float], ps: list[float] = (), ss: list[float] = ()) -> Any:  # type: ignore[assignment]
    """``(value, grads)`` of a (gradient) program on floats, with the Python backend."""
    fn, _ = compile_python(p, "grad", len(p.outputs) == 1, lambda *a: ValueError("guard"))
    return fn(xs, ps, ss)


def lines(p: Program) -> list[str]:
    return str(p).splitlines()


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


def test_bool_of_a_value_is_a_guard() -> None:
    t = trace(lambda x: x * 2.0 if x - 1.0 else x, 1, example=[3.0])
    assert t.program.guards == (Guard("v4", "!=", 0.0, True),)  # x − 1.0, after x·2.0
    assert t.forward([2.0]) == 4.0
    with pytest.raises(ValueError, match="another branch"):
        t.forward([1.0])


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


def test_program_prims_report_each_primitive_once() -> None:
    t = trace(lambda x: (x * x).tanh() * x, 1)
    assert [prim.name for prim in t.program.prims] == ["mul", "tanh"]


def test_program_equations_are_in_topological_order() -> None:
    model = MLP(2, [3, 1])
    t = trace(lambda a, b: model([a, b]), 2, params=model)
    defined = set(t.program.inputs + t.program.params)
    for eqn in t.program.eqns:
        assert all(a in defined for a in eqn.ins if isinstance(a, str))
        defined.add(eqn.out)


# --- the gradient program: primitives only ------------------------------------------------------


def test_gradient_program_is_the_rules_written_out_as_primitives() -> None:
    t = trace(lambda x, y: (x * y + 1.0).tanh(), 2)
    assert lines(t.gradient_program("inputs"))[4:] == [
        "t1 = mul v5 v5",
        "g4 = sub 1.0 t1",  # tanh's rule g·(1 − out²) at g = 1
        "g0 = mul g4 v1",  # add passes g on (v2's gradient is g4); mul's rule g·y, g·x
        "g1 = mul g4 v0",
        "d3 = add 0.0 g0",  # eager's 0.0 + Σ: no -0.0
        "d4 = add 0.0 g1",
        "outputs v5",
        "grads d/dv0=d3 d/dv1=d4",
    ]
    gp = t.gradient_program("inputs")
    assert {e.prim.name for e in gp.eqns} <= set(OPS)
    assert [e.ieee for e in gp.eqns] == [False] * 3 + [True] * 6  # forward, then rules


def test_gradient_program_adds_contributions_in_eagers_order() -> None:
    gp = trace(lambda x: x * x, 1).gradient_program()
    assert lines(gp)[2:] == [
        "g0_2 = add v0 v0",  # ∂/∂x and ∂/∂y of x * y, both for v0, added
        "d3 = add 0.0 g0_2",
        "outputs v1",
        "grads d/dv0=d3",
    ]


def test_gradient_program_gives_zero_for_an_unused_input() -> None:
    gp = trace(lambda x, y: x.exp(), 2).gradient_program()
    assert gp.grads[1] == 0.0
    assert run(gp, [0.5, 7.0]) == (math.exp(0.5), [math.exp(0.5), 0.0])


def test_gradient_program_is_a_transform_of_any_program() -> None:
    p = Program(
        inputs=("a",),
        eqns=(Eqn(OPS["sin"], ("a",), "b"), Eqn(OPS["mul"], ("b", 3.0), "c")),
        outputs=("c",),
    )
    gp = gradient_program(p, ["a"])
    assert run(gp, [0.25]) == (math.sin(0.25) * 3.0, [3.0 * math.cos(0.25)])


def test_gradient_program_with_seeds_weights_each_output() -> None:
    t = trace(lambda x: [x * x, x.sin()], 1)
    gp = t.gradient_program(seeded=True)
    assert gp.seeds == ("s0", "s1")
    fn, _ = compile_python(gp, "grad", False, lambda *a: ValueError())
    _, grads = fn([0.5], [], [2.0, -1.0])
    assert math.isclose(grads[0], 2.0 * 2 * 0.5 - math.cos(0.5), rel_tol=1e-15)


def test_gradient_program_keeps_eagers_sign_of_zero() -> None:
    t = trace(lambda x: x * -0.0, 1)
    (g,) = t.value_and_grad([0.5])[1]
    assert g == 0.0 and math.copysign(1.0, g) == 1.0  # eager: 0.0 + (1.0 · -0.0) = 0.0


def test_gradient_program_only_differentiates_what_depends_on_wrt() -> None:
    w = Value(0.5)
    t = trace(lambda x: (x.exp() * w).sin(), 1, params=[w])
    by_params = t.gradient_program("params")
    assert "exp" not in [e.prim.name for e in by_params.eqns if e.ieee]  # x's path: no rule
    assert len(by_params.eqns) < len(t.gradient_program("all").eqns)


# --- each pass alone --------------------------------------------------------------------------


def test_fold_evaluates_constants_and_keeps_what_is_not_exact() -> None:
    mul, add, neg, select, gt = OPS["mul"], OPS["add"], OPS["neg"], None, None
    from autograd_mini.registry import AUX

    select, gt = AUX["select"], AUX["gt"]
    p = Program(
        inputs=("x",),
        eqns=(
            Eqn(neg, (2.0,), "a", True),  # constants: evaluated
            Eqn(mul, ("x", 1.0), "b"),  # x·1 is x
            Eqn(add, ("b", 0.0), "c"),  # x + 0 is not x (-0.0 + 0.0 = 0.0): kept
            Eqn(mul, ("c", 0.0), "d"),  # x·0 is not 0 (inf, NaN): kept
            Eqn(gt, ("a", 0.0), "e", True),
            Eqn(select, ("e", "x", "d"), "f", True),  # -2 > 0 is False: d
            Eqn(mul, ("f", "a"), "g"),
        ),
        outputs=("g",),
    )
    assert lines(passes.fold(p)) == [
        "inputs x",
        "c = add x 0.0",
        "d = mul c 0.0",
        "e = gt -2.0 0.0",
        "g = mul d -2.0",
        "outputs g",
    ]
    assert lines(passes.dce(passes.fold(p)))[1:] == [
        "c = add x 0.0",
        "d = mul c 0.0",
        "g = mul d -2.0",
        "outputs g",
    ]


def test_fold_names_a_folded_single_use_value_after_its_user() -> None:
    mul, sub = OPS["mul"], OPS["sub"]
    p = Program(
        ("x",), (Eqn(sub, (1.0, "x"), "t1", True), Eqn(mul, (1.0, "t1"), "g4", True)), ("g4",)
    )
    assert lines(passes.fold(p))[1:] == ["g4 = sub 1.0 x", "outputs g4"]


def test_cse_reuses_an_equation_but_never_drops_a_forward_one_for_a_rules() -> None:
    exp = OPS["exp"]
    p = Program(
        ("x",),
        (
            Eqn(exp, ("x",), "a", True),  # a rule's exp (IEEE: inf on overflow)
            Eqn(exp, ("x",), "b"),  # the forward exp (OverflowError): kept
            Eqn(exp, ("x",), "c"),  # the same forward exp again: b
            Eqn(OPS["add"], ("a", "c"), "d"),
        ),
        ("d", "b"),
    )
    assert lines(passes.cse(p))[1:] == ["a = exp x", "b = exp x", "d = add a b", "outputs d b"]


def test_expand_writes_a_composite_as_its_definition() -> None:
    p = Program(("x",), (Eqn(OPS["relu"], ("x",), "y"),), ("y",))
    assert lines(passes.expand(p, lambda prim: prim.defn is None))[1:] == [
        "y_0 = lt x 0.0",
        "y = select y_0 0.0 x",
        "outputs y",
    ]


def test_expand_names_no_variable_twice() -> None:
    # the reverse transform names a sum y_0 too: the definition's variables skip that name
    p = Program(
        ("x",), (Eqn(OPS["relu"], ("x",), "y"), Eqn(OPS["add"], ("y", "x"), "y_0")), ("y_0",)
    )
    assert lines(passes.expand(p, lambda prim: prim.defn is None))[1:] == [
        "y_1 = lt x 0.0",
        "y = select y_1 0.0 x",
        "y_0 = add y x",
        "outputs y_0",
    ]


def test_dots_turns_a_layer_into_dot_products_of_its_terms_in_order() -> None:
    w = [Value(v) for v in (0.5, -1.5, 2.0)]

    def layer(a: Value, b: Value) -> Value:
        return w[2] + w[0] * a + w[1] * b  # a neuron: bias, then Σ wᵢ·xᵢ

    t = trace(layer, 2, params=w)
    before = t.program
    after = passes.dots(before)
    assert lines(before)[2:] == [
        "v5 = mul v2 v0",
        "v6 = add v4 v5",
        "v7 = mul v3 v1",
        "v8 = add v6 v7",
        "outputs v8",
    ]
    assert lines(after)[2:] == ["v8 = dot v4 1.0 v2 v0 v3 v1", "outputs v8"]
    xs, ps = [0.3, -0.7], [0.5, -1.5, 2.0]
    assert run(after, xs, ps) == run(before, xs, ps)  # dot adds left to right, as the chain


def test_row_sums_push_a_sum_over_rows_into_products() -> None:
    w = Value(0.5)
    t = trace(lambda x: (w * x).tanh(), 1, params=[w])
    gp = t.gradient_program("params")
    summed = passes.dce(passes.row_sums(gp, 0))
    tail = lines(summed)[-4:]
    assert tail[0].endswith("= rowdot g2 v0")  # Σ_rows g·x: a dot product over the rows
    assert tail[1].startswith("r") and "add 0.0" in tail[1]
    assert run(summed, [0.3], [0.5]) == run(gp, [0.3], [0.5])  # one row: the same numbers


def test_levels_group_one_primitive_at_one_depth() -> None:
    model = MLP(2, [4, 1], seed=0)
    t = trace(lambda a, b: model([a, b]), 2, params=model)
    groups = passes.levels(passes.dots(t.program))
    assert [(g[0].prim.name, len(g)) for g in groups] == [("dot", 4), ("relu", 4), ("dot", 1)]


def test_source_of_refuses_a_kind_that_is_not_one_of_its_programs() -> None:
    """The kind names the generated function: text from a caller must never reach the source."""
    t = trace(lambda x: x * 2.0, 1)
    injected = "a(xs, ps, ss):\n    pass\nraise SystemExit('injected')\ndef b"
    for kind in (injected, "nope", 3, None):
        with pytest.raises(ValueError, match="kind must be one of"):
            t.source_of(kind)  # type: ignore[arg-type]
    assert "def traced_forward" in t.source_of("forward")
