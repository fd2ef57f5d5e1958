"""Tests for the training demos (moons, spirals); their progress bar: tests/test_progress.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_mini.demos import moons, spirals
from autograd_mini.nn import MLP

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


needs_matplotlib = pytest.mark.skipif(not _has_matplotlib(), reason="matplotlib not installed")


# --- the accuracy the issue asks for ------------------------------------------------------------


@pytest.mark.slow
def test_moons_demo_defaults_reach_97_percent_in_100_steps():
    result = moons.train_moons()  # MLP(2, [16, 16, 1]), 100 points, 100 steps, seed 0
    assert len(result.model.parameters()) == 337
    assert len(result.losses) == 100
    assert result.accuracy >= 0.97
    assert result.losses[-1] < result.losses[0] / 10


@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [{"seed": 1}, {"seed": 2, "optimizer": "adam", "loss": "bce"}])
def test_moons_training_is_robust_to_seed_optimizer_and_loss(kwargs):
    assert moons.train_moons(**kwargs).accuracy >= 0.97


@pytest.mark.slow
def test_spirals_demo_defaults_learn_three_classes():
    result = spirals.train_spirals()
    assert result.accuracy >= 0.95
    assert len(result.model([0.1, 0.2])) == 3


# --- fast checks of the training loop -----------------------------------------------------------


def test_training_is_deterministic_for_a_seed():
    a = moons.train_moons(steps=3, n=20, hidden=(4,), seed=5)
    b = moons.train_moons(steps=3, n=20, hidden=(4,), seed=5)
    assert a.losses == b.losses
    assert a.model.state_dict() == b.model.state_dict()
    c = moons.train_moons(steps=3, n=20, hidden=(4,), seed=6)
    assert c.losses != a.losses


def test_training_lowers_the_loss_and_leaves_parameters_as_leaves():
    result = moons.train_moons(steps=25, n=20, hidden=(6,), seed=0)
    assert result.losses[-1] < 0.5 * result.losses[0]
    assert all(p.is_leaf for p in result.model.parameters())
    assert 0.0 <= result.accuracy <= 1.0
    assert result.accuracy == moons.accuracy(result.model, result.points, result.y)


def test_spirals_minibatch_training_runs_and_counts_steps():
    result = spirals.train_spirals(steps=7, n=30, hidden=(5,), batch_size=8, seed=1)
    assert len(result.losses) == len(result.accuracies) == 7  # epochs of 4 batches, cut at 7
    assert all(0.0 <= a <= 1.0 for a in result.accuracies)


def test_train_functions_reject_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        moons.train_moons(steps=0)
    with pytest.raises(ValueError, match="loss"):
        moons.train_moons(steps=1, loss="mse")
    with pytest.raises(ValueError, match="optimizer"):
        moons.train_moons(steps=1, optimizer="rmsprop")


def test_paused_gc_restores_the_collector():
    import gc

    assert gc.isenabled()
    with moons.paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


# --- the command line ---------------------------------------------------------------------------


def test_moons_main_writes_model_and_metrics_and_prints_the_folder(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--steps", "3", "--n", "20", "--hidden", "4,3", "--out", str(out), "--no-plots"]
    assert moons.main(argv) == 0
    printed = capsys.readouterr()
    assert "final accuracy:" in printed.out
    assert f"output folder: {out}" in printed.out
    assert sorted(os.listdir(out)) == ["metrics.json", "model.json"]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["architecture"] == {
        "type": "MLP",
        "nin": 2,
        "nouts": [4, 3, 1],
        "activation": "relu",
    }
    assert len(metrics["losses"]) == 3
    model = MLP(2, [4, 3, 1], seed=123)
    model.load(out / "model.json")
    assert moons.accuracy(model, *moons.make_moons(20, 0.1, seed=0)) == metrics["accuracy"]


@pytest.mark.parametrize("demo", [moons, spirals])
def test_diverged_training_is_one_line_error_and_saves_nothing(demo, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--steps", "3", "--n", "12", "--lr", "1e300", "--out", str(out), "--quiet"]
    assert demo.main([*argv, "--no-plots"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "training diverged" in err[0] and "smaller --lr" in err[0]
    assert not out.exists() or os.listdir(out) == []


def test_diverged_training_through_the_cli_is_not_an_internal_error(tmp_path):
    command = [sys.executable, "-m", "autograd_mini", "demo", "moons", "--lr", "1e300"]
    command += ["--steps", "3", "--n", "12", "--quiet", "--no-plots", "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "training diverged" in done.stderr and "internal error" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_moons_main_shows_a_progress_bar_with_loss_and_accuracy(tmp_path, capsys):
    moons.main(
        ["--steps", "10", "--n", "10", "--hidden", "3", "--out", str(tmp_path), "--no-plots"]
    )
    err = capsys.readouterr().err
    assert "10/10" in err
    assert "loss=" in err
    assert "acc=" in err


def test_moons_main_quiet_has_no_progress_bar(tmp_path, capsys):
    argv = ["--steps", "2", "--n", "10", "--hidden", "3", "--out", str(tmp_path)]
    moons.main([*argv, "--no-plots", "--quiet"])
    assert capsys.readouterr().err == ""


@needs_matplotlib
@pytest.mark.parametrize("demo", [moons, spirals])
def test_demos_write_png_pictures(demo, tmp_path, capsys):
    argv = ["--steps", "4", "--n", "24", "--hidden", "4", "--out", str(tmp_path), "--quiet"]
    assert demo.main(argv) == 0
    for name in ("decision_boundary.png", "loss_curve.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert len(data) > 5000
    assert "decision_boundary.png" in capsys.readouterr().out


@pytest.mark.parametrize("demo", [moons, spirals])
def test_help_describes_the_flags(demo, capsys):
    with pytest.raises(SystemExit) as info:
        demo.main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--steps", "--seed", "--optimizer", "--lr", "--hidden", "--out"):
        assert flag in text


@pytest.mark.parametrize(
    "argv",
    [
        ["--steps", "0"],
        ["--hidden", "0"],
        ["--hidden", "a,b"],
        ["--lr", "-1"],
        ["--optimizer", "x"],
    ],
)
def test_bad_flags_exit_with_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as info:
        moons.main(argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("demo", "argv", "words"),
    [
        ("moons", ["--n", "2000000"], "1,000,000"),
        ("spirals", ["--n", "2000000"], "1,000,000"),
        ("gradflow", ["--n", "2000000"], "1,000,000"),
        ("moons", ["--hidden", "100000", "100000"], "parameters"),
        ("spirals", ["--classes", "10000000"], "parameters"),
        ("gradflow", ["--width", "100000"], "parameters"),
    ],
)
def test_oversized_demo_settings_are_a_usage_error_before_any_work(demo, argv, words, tmp_path):
    command = [sys.executable, "-m", "autograd_mini", "demo", demo, *argv]
    command += ["--steps", "1", "--no-plots", "--out", str(tmp_path / "o")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr and "internal error" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""


def test_spirals_main_rejects_one_class(capsys):
    with pytest.raises(SystemExit) as info:
        spirals.main(["--classes", "1"])
    assert info.value.code == 2


def test_demo_runs_as_module_and_as_script_without_importing_matplotlib(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = (
        "import sys, autograd_mini, autograd_mini.nn, autograd_mini.losses, autograd_mini.optim, "
        "autograd_mini.data, autograd_mini.demos.moons, autograd_mini.demos.spirals; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
    for cmd in (
        [sys.executable, "-m", "autograd_mini.demos.moons", "--help"],
        [sys.executable, str(ROOT / "demos" / "moons.py"), "--help"],
        [sys.executable, str(ROOT / "demos" / "spirals.py"), "--help"],
    ):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "--steps" in done.stdout
