"""The command line reads expressions as they are written in math: an ``explain`` command, the
constants ``pi`` and ``e``, and expressions that start with ``-``."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_mini import Value, explain
from autograd_mini.cli import main
from autograd_mini.exprparse import CONSTANTS, parse_expression

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
CLI = [sys.executable, "-m", "autograd_mini"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_command_prints_the_gradients_and_the_backward_pass() -> None:
    proc = subprocess.run(
        [*CLI, "explain", "tanh(w*x + b)", "--at", "x=1", "w=0.5", "b=0.1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    t = math.tanh(0.6)
    assert f"f = {t!r}" in lines
    assert f"∂f/∂b = {1 - t * t!r}" in lines
    assert f"∂f/∂x = {0.5 * (1 - t * t)!r}" in lines
    x, w, b = Value(1.0, label="x"), Value(0.5, label="w"), Value(0.1, label="b")
    f = (w * x + b).tanh()
    f.label = "f"
    f.backward()
    assert proc.stdout.rstrip("\n").endswith(explain(f))


def test_explain_command_refuses_a_picture_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["explain", "x*y", "--at", "x=1", "y=2", "-o", "g.svg"])
    assert info.value.code == 2
    assert "unrecognized arguments: -o g.svg" in capsys.readouterr().err


def test_explain_command_needs_every_value(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["explain", "x*y", "--at", "x=1"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no value for y" in err


def test_explain_command_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "explain" in capsys.readouterr().out


def test_pi_and_e_are_constants(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["graph", "sin(pi*x) + e", "--at", "x=0.25"], capsys)
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert f"f = {math.sin(math.pi * 0.25) + math.e!r}" in lines
    assert f"∂f/∂x = {math.pi * math.cos(math.pi * 0.25)!r}" in lines
    assert not any(line.startswith(("∂f/∂pi", "∂f/∂e ")) for line in lines)


def test_a_value_for_a_constant_makes_it_a_variable_with_a_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["explain", "e**x", "--at", "x=1", "e=2"], capsys)
    assert code == 0
    assert out.splitlines()[1] == "f = 2.0"
    assert "∂f/∂e = 1.0" in out.splitlines()  # x·e^(x−1) at e = 2, x = 1
    assert "(not in the expression)" not in out
    assert err.count("\n") == 1
    assert "note" in err and "e a variable" in err and repr(math.e) in err


def test_parsed_constants_are_not_variables() -> None:
    expr = parse_expression("pi*r**2 + e")
    assert expr.names == ("r",)
    assert expr.constants == ("pi", "e")
    assert expr.evaluate({"r": 2.0}).data == pytest.approx(math.pi * 4 + math.e, rel=1e-15)
    shadowed = expr.evaluate({"r": 1.0, "pi": 3.0, "e": 0.0})
    assert shadowed.data == 3.0
    with pytest.raises(TypeError):
        CONSTANTS["tau"] = 6.28  # type: ignore[index]


@pytest.mark.parametrize("expression", ["-x*y", "-2*x*y", "-(x*y)", "-x * y"])
def test_an_expression_starting_with_minus_is_not_an_option(
    expression: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["graph", expression, "--at", "x=1", "y=2"], capsys)
    assert code == 0, err
    assert err == ""
    value = float(out.splitlines()[1].split(" = ")[1])
    assert value == (-4.0 if expression.startswith("-2") else -2.0)


@needs_dot
def test_graph_of_a_negated_product_draws_its_picture(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*CLI, "graph", "-x*y", "--at", "x=1", "y=2", "-o", "g.svg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "<svg" in (tmp_path / "g.svg").read_text()
    assert "∂f/∂x = -2.0" in proc.stdout.splitlines()


def test_options_still_read_as_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["explain", "x", "--at", "x=3", "--max-nodes", "5"], capsys)
    assert code == 0 and "x = 3.0" in out
    with pytest.raises(SystemExit) as info:
        main(["graph", "-h"])
    assert info.value.code == 0
    assert "pi and e" in capsys.readouterr().out


def test_an_option_value_may_start_with_minus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["graph", "x", "--at", "x=1", "-o", str(tmp_path / "-g.dot")], capsys)
    assert code == 0, err
    assert (tmp_path / "-g.dot").exists()
