"""The command line never shows a traceback and never hangs: every failure is one line on stderr
(user text escaped) with exit status 1 or 2, each checked in a real subprocess (issue 13, items
5-7 and 15)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
CLI = [sys.executable, "-m", "autograd_mini"]


def cli(
    *args: str | bytes, cwd: Path | None = None, shell_redirect: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    """Run the command (optionally with a shell redirection of its stdout, e.g. ``>&-``)."""
    argv = [*CLI, *args]
    if shell_redirect:
        argv = ["sh", "-c", f'"$@" {shell_redirect}', "sh", *argv]
    return subprocess.run(argv, capture_output=True, timeout=timeout, cwd=cwd, check=False)


def one_error_line(proc: subprocess.CompletedProcess[bytes], status: int | tuple[int, ...]) -> str:
    """The single line on stderr, after checking there is nothing else and the exit status."""
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in ((status,) if isinstance(status, int) else status), err
    assert "Traceback" not in err and "Warning" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert err.endswith("\n")
    assert "\x1b" not in err
    return lines[0]


# --- item 6: no tracebacks ---------------------------------------------------------------------


def test_closed_stdout_is_one_line_and_status_1() -> None:
    line = one_error_line(cli("graph", "x*x", "--at", "x=1", shell_redirect=">&-"), 1)
    assert "standard output is closed" in line


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_full_disk_on_stdout_is_one_line_and_status_1() -> None:
    proc = cli("graph", "x*x", "--at", "x=1", "--explain", shell_redirect=">/dev/full")
    line = one_error_line(proc, 1)
    assert "cannot write to standard output: No space left on device" in line


def test_file_name_too_long_is_one_line_and_status_2(tmp_path: Path) -> None:
    name = "x" * 300 + ".svg"
    line = one_error_line(cli("graph", "x*x", "--at", "x=1", "-o", name, cwd=tmp_path), 2)
    assert "too long" in line and len(line) < 300
    assert os.listdir(tmp_path) == []


def test_name_that_fits_but_not_with_dot_added_is_refused_before_writing(tmp_path: Path) -> None:
    name = "x" * 250 + ".svg"  # 254 bytes: the picture fits, its .svg.dot source would not
    line = one_error_line(cli("graph", "x*x", "--at", "x=1", "-o", name, cwd=tmp_path), 2)
    assert "too long" in line
    assert os.listdir(tmp_path) == []


def test_demo_output_folder_is_checked_before_training() -> None:
    start = time.perf_counter()
    proc = cli("demo", "moons", "--out", "/dev/null/x")
    line = one_error_line(proc, 2)
    assert "/dev/null/x" in line and "Not a directory" in line
    assert proc.stdout == b""  # nothing trained, nothing printed
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("name", ["spirals", "cascade", "vanishing"])
def test_every_demo_checks_its_output_folder_first(name: str) -> None:
    line = one_error_line(cli("demo", name, "--out", "/dev/null/x"), 2)
    assert "/dev/null/x" in line


# --- item 7: one line per error ------------------------------------------------------------------


def test_syntax_warning_is_not_printed_before_the_error() -> None:
    line = one_error_line(cli("graph", "1not"), 2)
    assert "not a valid expression" in line


def test_newlines_and_ansi_escapes_in_arguments_are_escaped() -> None:
    line = one_error_line(cli("graph", "x", "--bogus", "a\nb\x1b[31mred"), 2)
    assert "a\\nb\\x1b[31mred" in line


def test_escape_in_an_expression_is_reported_escaped() -> None:
    line = one_error_line(cli("graph", "x\n\x1b[2J"), 2)
    assert "\\x1b" in line and "line 2" in line


@pytest.mark.parametrize("name", ["cascade", "moons", "spirals", "vanishing"])
def test_a_bad_demo_option_is_one_line(name: str) -> None:
    line = one_error_line(cli("demo", name, "--bogus"), 2)
    assert line.startswith(f"autograd-mini demo {name}: error: unrecognized arguments: --bogus")


def test_invalid_utf8_in_an_expression_says_so() -> None:
    line = one_error_line(cli("graph", b"x*\xff"), 2)
    assert "not UTF-8" in line and "nested" not in line


def test_demo_alone_says_name_is_required_and_args_optional() -> None:
    line = one_error_line(cli("demo"), 2)
    assert "NAME" in line and "moons" in line and "optional" in line
    assert "args" not in line


@pytest.mark.parametrize("name", ["moons", "spirals", "cascade", "vanishing"])
def test_every_demo_help_uses_the_command_s_usage_style(name: str) -> None:
    proc = cli("demo", name, "--help")
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith(f"usage: autograd-mini demo {name} ")


@pytest.mark.parametrize(
    ("expression", "column"), [("x^2", 2), ("y + x^2", 6), ("(x)|(y)", 4), ("é+x^2", 4)]
)
def test_operator_errors_point_at_the_operator(expression: str, column: int) -> None:
    from autograd_mini.exprparse import ExpressionError, parse_expression

    with pytest.raises(ExpressionError, match=rf"at column {column};"):
        parse_expression(expression)


def test_misspelt_function_gets_a_suggestion() -> None:
    line = one_error_line(cli("graph", "tahn(x)", "--at", "x=1"), 2)
    assert "did you mean tanh?" in line
    line = one_error_line(cli("graph", "qqq(x)", "--at", "x=1"), 2)
    assert "did you mean" not in line and "known functions" in line


def test_missing_values_message_agrees_in_number() -> None:
    assert "add them to --at" in one_error_line(cli("graph", "w*x + b"), 2)
    assert "add it to --at" in one_error_line(cli("graph", "w*x", "--at", "x=1"), 2)


# --- item 5: bounded drawing --------------------------------------------------------------------


@pytest.mark.parametrize("flags", [[], ["--local-grads"]])
def test_dense_graph_is_not_handed_to_dot_its_source_is_written(
    tmp_path: Path, flags: list[str]
) -> None:
    start = time.perf_counter()
    expr = "*".join(["x"] * 100)
    proc = cli("graph", expr, "--at", "x=1.0001", "-o", "m.svg", *flags, cwd=tmp_path)
    line = one_error_line(proc, 1)
    assert "would take minutes" in line and "m.svg.dot" in line and "smaller expression" in line
    assert ("--local-grads" in line) == bool(flags)
    assert time.perf_counter() - start < 30
    assert os.listdir(tmp_path) == ["m.svg.dot"]
    assert (tmp_path / "m.svg.dot").read_text().startswith("digraph")
    assert "∂f/∂x = 100.99" in proc.stdout.decode()  # the numbers were printed


def test_dense_graph_is_refused_for_the_step_through_page_too(tmp_path: Path) -> None:
    # -o m.html ran dot for its 60 s timeout where -o m.svg refused at once
    start = time.perf_counter()
    proc = cli("graph", "*".join(["x"] * 100), "--at", "x=1.0001", "-o", "m.html", cwd=tmp_path)
    line = one_error_line(proc, 2)
    assert "too tangled" in line and "m.dot" in line
    assert time.perf_counter() - start < 30
    assert os.listdir(tmp_path) == []


@needs_dot
def test_the_step_through_page_obeys_timeout(tmp_path: Path) -> None:
    argv = ["graph", "*".join(["x"] * 30), "--at", "x=1", "-o", "m.html", "--timeout", "0.001"]
    proc = cli(*argv, cwd=tmp_path)
    line = one_error_line(proc, 1)
    assert "0.001 s" in line
    assert not (tmp_path / "m.html").exists()


def test_dense_graph_can_still_be_written_as_dot_source(tmp_path: Path) -> None:
    proc = cli("graph", "*".join(["x"] * 100), "--at", "x=1.0001", "-o", "m.dot", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "m.dot").read_text().startswith("digraph")


def test_layout_size_grows_with_far_apart_uses_not_with_width() -> None:
    from autograd_mini import Value
    from autograd_mini.viz import layout_size

    x = Value(1.0, label="x")
    y = x
    for _ in range(49):
        y = y * x
    xs = [Value(float(i)) for i in range(200)]
    wide = xs[0] * xs[1]
    for i in range(2, 200, 2):
        wide = wide + xs[i] * xs[i + 1]
    assert layout_size(y) > 2000 > layout_size(wide)
    assert layout_size(y, show_local_grads=True) > 2 * layout_size(y) - 200
    assert layout_size(Value(1.0)) == 1


@needs_dot
def test_dot_that_takes_too_long_is_killed_with_one_line(tmp_path: Path) -> None:
    expr = "*".join(["x"] * 40)  # about a second of dot
    proc = cli("graph", expr, "--at", "x=1", "-o", "m.svg", "--timeout", "0.05", cwd=tmp_path)
    line = one_error_line(proc, 1)
    assert "within 0.05 s" in line and "--timeout" in line and "m.svg.dot" in line
    assert not (tmp_path / "m.svg").exists()
    assert (tmp_path / "m.svg.dot").exists()


@needs_dot
def test_render_graph_timeout_kills_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from autograd_mini import Value
    from autograd_mini.viz import DotTimeoutError, render_graph

    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        proc = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(proc)
        return proc  # type: ignore[no-any-return]

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    x = Value(1.0, label="x")
    y = x
    for _ in range(39):
        y = y * x
    with pytest.raises(DotTimeoutError, match=r"within 0\.01 s"):
        render_graph(y, tmp_path / "g.svg", timeout=0.01)
    assert len(started) == 1 and started[0].returncode is not None  # killed and reaped
    with pytest.raises(ValueError, match="timeout"):
        render_graph(y, tmp_path / "g.svg", timeout=0)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@needs_dot
@linux_only
@pytest.mark.slow
def test_killing_the_command_kills_its_dot(tmp_path: Path) -> None:
    expr = "*".join(["x"] * 44)  # ~2 s of dot, under the layout limit
    proc = subprocess.Popen(
        [*CLI, "graph", expr, "--at", "x=1", "-o", "m.svg", "--timeout", "300"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        dot: list[int] = []
        while not dot and time.monotonic() < deadline and proc.poll() is None:
            dot = _children(proc.pid)
            time.sleep(0.01)
        assert dot, "dot never started"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while _alive(dot[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(dot[0])


# --- item 15: the DOT source belongs to its picture --------------------------------------------


@needs_dot
def test_svg_and_png_of_one_expression_keep_separate_sources(tmp_path: Path) -> None:
    svg = cli("graph", "tanh(x)", "--at", "x=1", "-o", "graph.svg", cwd=tmp_path)
    png = cli("graph", "x*x", "--at", "x=2", "-o", "graph.png", cwd=tmp_path)
    assert svg.returncode == png.returncode == 0
    assert sorted(os.listdir(tmp_path)) == [
        "graph.png",
        "graph.png.dot",
        "graph.svg",
        "graph.svg.dot",
    ]
    assert "tanh" in (tmp_path / "graph.svg.dot").read_text()
    assert "tanh" not in (tmp_path / "graph.png.dot").read_text()
    assert "(DOT source: graph.svg.dot)" in svg.stdout.decode()


def test_a_tangled_value_displays_in_jupyter_with_a_notice_without_running_dot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from autograd_mini import Value

    def no_dot(*args: object, **kwargs: object) -> None:
        raise AssertionError("dot was started")

    monkeypatch.setattr(subprocess, "Popen", no_dot)
    x = Value(1.0, label="x")
    y = x
    for _ in range(99):
        y = y * x
    bundle = y._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    # never only the bare repr: a one-line notice says why and how to draw it (issue 11, item 4)
    text, notice = bundle["text/plain"].split("\n")
    assert text == repr(y)
    assert "too tangled" in notice and "render_graph" in notice
    assert "too tangled" in bundle["text/html"]
