"""Tests for the `autograd-mini` command line (autograd_mini.cli, python -m autograd_mini)."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_mini.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
NEURON = ["graph", "tanh(w*x + b)", "--at", "x=1", "w=0.5", "b=0.1"]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def partials(out: str) -> dict[str, float]:
    """The `∂f/∂name = number` lines of the output."""
    found = {}
    for line in out.splitlines():
        if line.startswith("∂f/∂") and " = " in line:
            name, value = line[len("∂f/∂") :].split(" = ", 1)
            found[name] = float(value.split()[0])
    return found


def test_graph_prints_value_and_every_partial(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(NEURON, capsys)
    assert code == 0, err
    t = math.tanh(0.6)
    assert f"f = {t!r}" in out.splitlines()
    assert partials(out) == {
        "x": pytest.approx(0.5 * (1 - t * t), rel=1e-15),
        "w": pytest.approx(1.0 * (1 - t * t), rel=1e-15),
        "b": pytest.approx(1 - t * t, rel=1e-15),
    }
    assert err == ""


@needs_dot
def test_graph_writes_svg_and_dot_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "graph.svg"
    code, out, _ = run([*NEURON, "-o", str(out_file)], capsys)
    assert code == 0
    assert "<svg" in out_file.read_text()
    source = (tmp_path / "graph.svg.dot").read_text()
    assert "tanh" in source and "grad 0.7116" in source
    assert f"wrote {out_file}" in out


@needs_dot
def test_png_output_starts_with_png_signature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "graph.png"
    code, _, _ = run([*NEURON, "-o", str(out_file), "--local-grads"], capsys)
    assert code == 0
    assert out_file.read_bytes().startswith(PNG_SIGNATURE)
    assert "∂v2/∂x = 0.5" in (tmp_path / "graph.png.dot").read_text()


def test_dot_output_needs_no_graphviz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "graph.dot"
    code, _, _ = run([*NEURON, "-o", str(out_file), "--no-grad", "--rankdir", "TB"], capsys)
    assert code == 0
    source = out_file.read_text()
    assert "rankdir=TB" in source and "| grad" not in source


def test_explain_flag_prints_the_backward_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([*NEURON, "--explain"], capsys)
    assert code == 0
    assert "∂f/∂v4 = ∂f/∂f · (1 − f²)" in out
    x_line = next(line for line in out.splitlines() if line.startswith("x = 1 "))
    assert float(x_line.rsplit(" = ", 1)[1]) == partials(out)["x"]


def test_variable_not_in_expression_gets_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["graph", "x * 3", "--at", "x=2", "z=5"], capsys)
    assert code == 0
    assert partials(out) == {"x": 3.0, "z": 0.0}
    assert "(not in the expression)" in out


def test_constant_expression_needs_no_at(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["graph", "2 ** 3 + 1"], capsys)
    assert code == 0
    assert "f = 9.0" in out.splitlines()


def test_expression_starting_with_minus_works_with_a_leading_space(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["graph", " -x*y", "--at", "x=1", "y=2"], capsys)
    assert code == 0
    assert partials(out) == {"x": -2.0, "y": -1.0}


def test_at_may_be_repeated(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["graph", "w*x + b", "--at", "x=2", "--at", "w=3", "b=1"], capsys)
    assert code == 0
    assert partials(out) == {"x": 3.0, "w": 2.0, "b": 1.0}


def test_root_name_avoids_a_variable_called_f(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["graph", "f * f", "--at", "f=3"], capsys)
    assert code == 0
    assert "∂y/∂f = 6.0" in out.splitlines()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["graph", "__import__('os')"], "unknown function '__import__'"),
        (["graph", "__import__('os').system('echo hacked')"], "attribute access"),
        (["graph", "x.tanh()", "--at", "x=1"], "attribute access"),
        (["graph", "x.__class__", "--at", "x=1"], "attribute access"),
        (["graph", "(lambda: 1)()"], "not allowed"),
        (["graph", "lambda x: x"], "lambda not allowed"),
        (["graph", "2 ** 10000"], "overflows"),
        (["graph", "9 ** 9 ** 9"], "overflows"),
        (["graph", "x ** 99999", "--at", "x=10"], "overflows"),
        (["graph", "foo(x)", "--at", "x=1"], "unknown function 'foo'"),
        (["graph", "x // 2", "--at", "x=1"], "unsupported operator '//'"),
        (["graph", "tanh(w*x + b)", "--at", "x=1"], "no value for w, b"),
        (["graph", "tanh(w*x + b)"], "no value for w, x, b"),
        (["graph", "x + 1", "--at", "x"], "--at expects NAME=VALUE"),
        (["graph", "x + 1", "--at", "x=abc"], "not a number"),
        (["graph", "x + 1", "--at", "x=1", "x=2"], "given twice"),
        (["graph", "x + 1", "--at", "1x=1"], "not a valid variable name"),
        (["graph", "x + 1", "--at", "x=1", "tanh=2"], "is a function name"),
        (["graph", "log(x)", "--at", "x=-1"], "log"),
        (["graph", "x / y", "--at", "x=1", "y=0"], "division by zero"),
        (["graph", "x + 1", "--at", "x=1", "-o", "/no/such/folder/g.svg"], "does not exist"),
        (["graph", "x + 1", "--at", "x=1", "-o", "graph.jpeg"], "use a .svg, .png, .pdf or .dot"),
        (["graph", "x + 1", "--at", "x=1", "--max-nodes", "1", "--explain"], "--max-nodes 1"),
        (["graph", "x*y", "--at", "x=1", "y=2", "--max-nodes", "1", "-o", "t.svg"], "--max-nodes"),
        (["graph", "x + 1", "--at", "x=1", "--max-nodes", "0"], "--max-nodes must be at least 1"),
        (["graph"], "required: expression"),
        (["graph", "x", "--bogus"], "unrecognized arguments"),
        (["demo", "nonsense"], "invalid choice"),
        ([], "choose a command"),
    ],
)
def test_bad_input_prints_one_clear_line_and_exits_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code  # type: ignore[assignment]
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("autograd-mini")


def test_unwritable_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/autograd_mini_graph.svg")  # not writable even for root
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "g.svg"
    code, _, err = run(["graph", "x + 1", "--at", "x=1", "-o", str(target)], capsys)
    assert code == 2
    assert "cannot write" in err and len(err.strip().splitlines()) == 1


def test_output_path_that_is_a_folder_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "pic.svg"
    folder.mkdir()
    code, _, err = run(["graph", "x + 1", "--at", "x=1", "-o", str(folder)], capsys)
    assert code == 2 and "it is a folder" in err


@pytest.mark.parametrize("argv", [["--help"], ["graph", "--help"], ["demo", "--help"]])
def test_help_everywhere(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: autograd-mini")


def test_demo_dispatches_to_the_demo_module_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import types

    calls: list[list[str]] = []
    fake = types.ModuleType("autograd_mini.demos.spirals")
    fake.main = lambda argv=None: calls.append(argv) or 7  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "autograd_mini.demos.spirals", fake)
    assert main(["demo", "spirals", "--epochs", "3", "--help"]) == 7
    assert calls == [["--epochs", "3", "--help"]]


def _subprocess(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def test_python_dash_m_runs_the_command_line() -> None:
    result = _subprocess([sys.executable, "-m", "autograd_mini", "graph", "x * x", "--at", "x=3"])
    assert result.returncode == 0, result.stderr
    assert "∂f/∂x = 6.0" in result.stdout


def test_python_dash_m_bad_expression_exits_2() -> None:
    result = _subprocess([sys.executable, "-m", "autograd_mini", "graph", "__import__('os')"])
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "unknown function" in result.stderr


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "autograd-mini"
    if not script.exists():
        pytest.skip("package not installed with pip install -e . (no console script)")
    result = _subprocess([str(script), "--help"])
    assert result.returncode == 0 and "graph" in result.stdout


def test_missing_dot_says_how_to_install_and_still_writes_dot_source(tmp_path: Path) -> None:
    out_file = tmp_path / "graph.png"
    result = _subprocess(
        [sys.executable, "-m", "autograd_mini", *NEURON, "-o", str(out_file)], PATH=""
    )
    assert result.returncode == 1
    assert "`dot` program was not found" in result.stderr
    assert "apt-get install graphviz" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "f = 0.537" in result.stdout  # the numbers are still printed
    assert (tmp_path / "graph.png.dot").read_text().startswith("digraph")
    assert not out_file.exists()


def test_ascii_terminal_gets_escapes_instead_of_a_traceback() -> None:
    result = _subprocess(
        [sys.executable, "-m", "autograd_mini", "graph", "x * x", "--at", "x=3", "--explain"],
        PYTHONIOENCODING="ascii",
    )
    assert result.returncode == 0, result.stderr
    assert "\\u2202f/\\u2202x = 6.0" in result.stdout
    assert "Traceback" not in result.stderr


def test_closed_stdout_ends_quietly_without_a_traceback() -> None:
    # like `autograd-mini graph ... | head -1`: the reader is gone before anything is printed
    proc = subprocess.Popen(
        [sys.executable, "-m", "autograd_mini", "graph", "x * x", "--at", "x=3", "--explain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 1
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_at_accepts_comma_separated_assignments(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["graph", "tanh(w*x + b)", "--at", "x=1,w=0.5,", "b=0.1"], capsys)
    assert code == 0, err
    assert partials(out) == partials(run(NEURON, capsys)[1])
    code, _, err = run(["graph", "x", "--at", "x=1,y"], capsys)
    assert code == 2 and "NAME=VALUE" in err
