"""Edges a hostile review found: loading from something that is not a regular file, a schedule
whose factor would overflow, and drawing a graph ``dot`` would take minutes on.  Each fails at
once with an error saying what is wrong (and, for the drawing, how to allow more time)."""

from __future__ import annotations

import inspect
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograd_mini import Value
from autograd_mini.jsonload import NotAFileError, read_json
from autograd_mini.nn import MLP
from autograd_mini.optim import SGD, LinearLR, StepLR

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")


def _in_a_subprocess(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code``; a hang is a test failure after ``timeout`` seconds, not a stuck suite."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@needs_fifo
@pytest.mark.parametrize("how", ["MLP.load", "model.load"])
def test_loading_a_named_pipe_with_no_writer_is_refused_at_once(tmp_path: Path, how: str) -> None:
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    proc = _in_a_subprocess(
        f"""
        import sys
        from autograd_mini.nn import MLP
        try:
            {"MLP" if how == "MLP.load" else "MLP(2, [1])"}.load({str(fifo)!r})
        except (OSError, ValueError) as e:
            print(type(e).__name__, e)
            sys.exit(3)
        """,
        timeout=30,
    )
    assert proc.returncode == 3, proc.stderr
    assert "NotAFileError" in proc.stdout
    assert str(fifo) in proc.stdout and "named pipe" in proc.stdout


@needs_fifo
def test_a_named_pipe_is_both_an_os_error_and_a_value_error(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    writer_free = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # keeps the test from blocking
    try:
        for kind in (OSError, ValueError):
            with pytest.raises(kind, match="named pipe"):
                MLP.load(fifo)
        with pytest.raises(NotAFileError, match=str(fifo)):
            read_json(fifo, max_bytes=100, max_depth=10, max_containers=10)
    finally:
        os.close(writer_free)


def test_loading_a_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(NotAFileError, match=rf"{tmp_path.name}.*a folder"):
        MLP(2, [1]).load(tmp_path)


def test_loading_a_regular_file_still_works(tmp_path: Path) -> None:
    model = MLP(2, [3, 1], seed=4)
    model.save(tmp_path / "m.json")
    again = MLP.load(tmp_path / "m.json")
    assert again.state_dict() == model.state_dict()
    with pytest.raises(FileNotFoundError):
        MLP.load(tmp_path / "missing.json")


def test_step_lr_whose_factor_would_overflow_is_refused_at_construction() -> None:
    opt = SGD([Value(1.0)], lr=0.1)
    with pytest.raises(ValueError, match=r"gamma 1e\+300 > 1 would overflow.*epoch 2\b"):
        StepLR(opt, step_size=1, gamma=1e300)
    with pytest.raises(ValueError, match=r"overflow.*epoch 3,075 \(step_size 3\)"):
        StepLR(opt, step_size=3, gamma=2.0)
    assert opt.lr == 0.1  # untouched


def test_step_lr_in_range_never_overflows() -> None:
    for gamma in (0.0, 1e-300, 0.5, 1.0):
        opt = SGD([Value(1.0)], lr=1e300)
        sched = StepLR(opt, step_size=1, gamma=gamma)
        for _ in range(2000):
            sched.step()
            assert math.isfinite(opt.lr)


def test_linear_lr_stays_within_its_factors() -> None:
    opt = SGD([Value(1.0)], lr=sys.float_info.max)
    sched = LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=3)
    for _ in range(5):
        sched.step()
        assert math.isfinite(opt.lr)
    assert opt.lr == 0.0


def test_render_graph_has_the_command_lines_time_limit_by_default() -> None:
    from autograd_mini.cli import DOT_TIMEOUT
    from autograd_mini.viz import RENDER_TIMEOUT, render_graph

    default = inspect.signature(render_graph).parameters["timeout"].default
    assert default == RENDER_TIMEOUT == DOT_TIMEOUT


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
def test_render_graph_past_its_time_limit_says_how_to_allow_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autograd_mini import viz

    x = Value(1.0, label="x")
    y = x
    for _ in range(99):  # a 100-factor product: minutes of dot without a limit
        y = y * x
    monkeypatch.setitem(viz.render_graph.__kwdefaults__, "timeout", 0.2)  # type: ignore[index]
    with pytest.raises(viz.DotTimeoutError) as info:
        viz.render_graph(y, tmp_path / "g.svg")
    message = str(info.value)
    assert "within 0.2 s" in message and "timeout=" in message and "timeout=None" in message
    assert not (tmp_path / "g.svg").exists()
