"""The training demos' progress bar: tqdm (``tqdm.auto``) when installed, no bar without it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from autograd_mini.demos import moons
from autograd_mini.demos._common import TrainResult, progress_bar, timed_progress
from autograd_mini.nn import MLP

ROOT = Path(__file__).resolve().parent.parent
SMALL_RUN = ["--steps", "10", "--n", "10", "--hidden", "3", "--no-plots"]


@pytest.fixture
def without_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import tqdm`` fail, as on a machine without the demo extra."""
    for name in [m for m in sys.modules if m == "tqdm" or m.startswith("tqdm.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)


def test_no_stream_means_no_bar() -> None:
    assert progress_bar(10, None) is None


def test_bar_counts_steps_and_shows_the_latest_stats() -> None:
    pytest.importorskip("tqdm")
    out = io.StringIO()
    bar = progress_bar(4, out)
    assert bar is not None
    for k in range(4):
        bar.update(loss=1.0 / (k + 1), acc=f"{25 * (k + 1)}%")
    bar.close()
    last = out.getvalue().split("\r")[-1]
    assert "train" in last and "4/4" in last
    assert "loss=0.25" in last and "acc=100%" in last


def test_bar_comes_from_tqdm_auto_so_jupyter_gets_a_widget(monkeypatch: pytest.MonkeyPatch) -> None:
    tqdm_auto = pytest.importorskip("tqdm.auto")
    made: list[dict[str, Any]] = []

    class Recorder:
        def __init__(self, **kwargs: Any) -> None:
            made.append(kwargs)
            self.n = 0
            self.postfix: dict[str, object] = {}

        def set_postfix(self, stats: dict[str, object], refresh: bool = True) -> None:
            self.postfix = dict(stats)

        def update(self, n: int = 1) -> None:
            self.n += n

        def close(self) -> None:
            pass

    monkeypatch.setattr(tqdm_auto, "tqdm", Recorder)
    bar = progress_bar(7, io.StringIO())
    assert bar is not None
    bar.update(loss=0.5)
    assert made[0]["total"] == 7
    assert bar.bar.n == 1 and bar.bar.postfix == {"loss": 0.5}


def test_in_a_log_the_bar_is_redrawn_about_every_tenth_not_every_step() -> None:
    pytest.importorskip("tqdm")
    out = io.StringIO()  # not a terminal
    bar = progress_bar(200, out)
    assert bar is not None
    for _ in range(200):
        bar.update(loss=0.5)
    bar.close()
    redraws = out.getvalue().count("\r")
    assert 10 <= redraws <= 15, redraws


def test_timed_progress_records_the_time_and_closes_the_bar_even_on_error() -> None:
    pytest.importorskip("tqdm")
    out = io.StringIO()
    result = TrainResult(MLP(1, [1], seed=0), [], [])
    with pytest.raises(RuntimeError), timed_progress(result, 3, out) as bar:
        assert bar is not None
        bar.update(loss=1.0)
        raise RuntimeError("stop")
    assert result.seconds > 0.0
    assert out.getvalue().endswith("\n")  # closed: the line is finished


def test_moons_shows_tqdm_bar_with_loss_and_accuracy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    assert moons.main([*SMALL_RUN, "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "10/10" in err and "loss=" in err and "acc=" in err


@pytest.mark.usefixtures("without_tqdm")
def test_without_tqdm_there_is_no_bar() -> None:
    assert progress_bar(10, io.StringIO()) is None


@pytest.mark.usefixtures("without_tqdm")
def test_without_tqdm_the_demo_trains_and_saves_without_a_bar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert moons.main([*SMALL_RUN, "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "final accuracy" in captured.out
    assert (tmp_path / "model.json").exists()


def test_importing_the_package_and_demos_does_not_import_tqdm(tmp_path: Path) -> None:
    code = (
        "import sys, autograd_mini, autograd_mini.nn, autograd_mini.demos.moons, "
        "autograd_mini.demos.spirals\n"
        "assert 'tqdm' not in sys.modules, 'tqdm imported eagerly'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
