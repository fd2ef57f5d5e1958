"""The JavaScript backend (autograd_mini.compile.to_js), read as source: what it writes and
refuses.  What the code computes is checked in Chromium (tests/test_browser.py: every op with
JavaScript against the engine, through the live page)."""

from __future__ import annotations

import re

import pytest

from autograd_mini import OPS, Value, defop
from autograd_mini.compile import passes, to_js
from autograd_mini.compile.autodiff import gradient_program
from autograd_mini.compile.record import record
from autograd_mini.program import Eqn, Program, UnsupportedOpError

WORDS = {"function", "let", "if", "else", "return", "Math", "Infinity", "NaN", "x", "compute"}
HELPERS = {"_pow", "_rem", "_round", "_floordiv"}


def lowered(f: object, *values: float) -> str:
    leaves = [Value(v, label=f"a{i}") for i, v in enumerate(values)]
    p, _ = record(lambda: f(*leaves), (), leaves)  # type: ignore[operator]
    gp = passes.dce(passes.cse(passes.fold(gradient_program(p, p.params))))
    return to_js.source(gp, "compute")


def test_every_builtin_op_but_erf_has_javascript() -> None:
    assert [op.name for op in OPS.values() if not op.user and not to_js.has_js(op)] == [
        "erf",
        "erfc",
        "gelu",  # its defn uses erf
    ]


def test_only_our_names_and_numbers_reach_the_source() -> None:
    def f(a: Value, b: Value) -> Value:
        return (a.sqrt() * b - (a - b).relu() % 1.5 + a.round() ** b).sigmoid() + a.softplus()

    source = lowered(f, 2.0, -0.75)
    for word in re.findall(r"\b[A-Za-z_]\w*", source):
        ok = word in WORDS | HELPERS or re.fullmatch(r"[vgtd]\d+(_\d+)*", word)
        ok = ok or (word in {m for m in dir(__import__("math"))} and f"Math.{word}" in source)
        assert ok, word
    assert "**" not in source and "INF" not in source and "math." not in source


def test_a_select_is_lazy_javascript() -> None:
    # sigmoid's defn: where(x >= 0, 1 / (1 + exp(-x)), e / (1 + e)) with e = exp(x)
    source = lowered(lambda a: a.sigmoid(), 0.3)
    assert "if (v0 >= 0.0) {" in source and "} else {" in source
    assert re.search(r"let (\w+);\n\s+if \(", source)
    relu = lowered(lambda a: a.relu(), 0.3)
    assert "v0 < 0.0 ? 0.0 : v0" in relu  # a short select is one expression


def test_operators_get_the_parentheses_javascript_needs() -> None:
    p = Program(
        inputs=(),
        params=("v0", "v1"),
        eqns=(
            Eqn(OPS["neg"], ("v0",), "v2"),
            Eqn(OPS["neg"], ("v2",), "v3"),
            Eqn(OPS["sub"], ("v1", "v3"), "v4"),
            Eqn(OPS["mul"], ("v4", -0.5), "v5"),
            Eqn(OPS["add"], ("v5", float("inf")), "v6"),
            Eqn(OPS["neg"], (float("-inf"),), "v7"),
            Eqn(OPS["div"], ("v6", "v7"), "v8"),
        ),
        outputs=("v8", float("nan")),
    )
    source = to_js.source(p, "compute")
    assert "let v0 = x[0], v1 = x[1];" in source
    assert "return [((v1 - -(-v0)) * -0.5 + Infinity) / -(-Infinity), NaN];" in source


def test_an_op_without_javascript_is_refused_by_name() -> None:
    twice = defop("twice_for_js", lambda x: 2.0 * x, lambda g, out, x: (2.0 * g,))
    with pytest.raises(UnsupportedOpError, match="no JavaScript for erf, twice_for_js") as info:
        lowered(lambda a: twice(a) + a.erf(), 0.5)
    assert isinstance(info.value, ValueError)
