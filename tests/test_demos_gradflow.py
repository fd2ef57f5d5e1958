"""The gradflow and newton demos: the vanishing gradient in a trained network, Newton vs descent."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from autograd_mini import Value, engine, grad
from autograd_mini.cli import main as cli_main
from autograd_mini.demos import gradflow, newton
from autograd_mini.nn import MLP

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# --- gradflow -----------------------------------------------------------------------------------


def test_gradflow_records_the_weight_gradients_backward_computes() -> None:
    # the hooks see exactly the per-weight gradients that backward accumulates
    flow = gradflow.train("tanh", steps=1, n=6, width=3, seed=1)
    model = MLP(2, [3] * 7 + [1], activation="tanh", seed=1)
    from autograd_mini.data import make_moons
    from autograd_mini.losses import binary_cross_entropy

    points, labels = make_moons(6, noise=0.1, seed=1)
    loss = binary_cross_entropy([model(p) for p in points], [float(t) for t in labels])
    loss.backward()
    for k, layer in enumerate(model.layers):
        ws = [w for neuron in layer.neurons for w in neuron.w]
        want = sum(abs(w.grad) for w in ws) / len(ws)
        assert flow.per_step[0][k] == pytest.approx(want, rel=1e-12)
    assert flow.losses[0] == loss.data
    assert not any(engine._LIVE_HOOKS)  # the demo removed its hooks


def test_sigmoid_gradient_vanishes_towards_the_input_faster_than_tanh_and_relu() -> None:
    flows = {a: gradflow.train(a, steps=2, n=16, width=4, seed=0) for a in gradflow.ACTIVATIONS}
    assert len(flows["sigmoid"].per_layer) == gradflow.DEPTH
    assert flows["sigmoid"].ratio < 1e-3
    assert flows["sigmoid"].ratio < flows["tanh"].ratio
    assert flows["sigmoid"].ratio < flows["relu"].ratio


def test_gradflow_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="gradflow: activation must be one of"):
        gradflow.train("gelu")
    with pytest.raises(ValueError, match="gradflow: steps must be an int >= 1"):
        gradflow.train("relu", steps=0)


def test_gradflow_main_prints_ratios_and_writes_json_and_picture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    args = ["--steps", "2", "--n", "8", "--width", "3", "--out", str(tmp_path)]
    assert gradflow.main(args) == 0
    out = capsys.readouterr().out
    for activation in gradflow.ACTIVATIONS:
        assert f"{activation}: first-layer / last-layer ratio" in out
    assert "(¼)^7" in out
    doc = json.loads((tmp_path / "gradflow.json").read_text())
    assert [run["activation"] for run in doc["runs"]] == list(gradflow.ACTIVATIONS)
    assert all(len(run["per_step"]) == 2 for run in doc["runs"])
    assert (tmp_path / "gradflow.png").read_bytes().startswith(PNG_SIGNATURE)


def test_gradflow_with_a_diverging_learning_rate_writes_valid_json_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--steps", "2", "--n", "8", "--width", "2", "--lr", "1e300", "--out", str(tmp_path)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warning must not reach the user
        assert gradflow.main(args) == 0
    err = capsys.readouterr().err
    assert "diverged" in err and "smaller --lr" in err
    text = (tmp_path / "gradflow.json").read_text()
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))
    losses = [loss for run in doc["runs"] for loss in run["losses"]]
    assert None in losses  # NaN and ±inf are written as null, as JSON has neither


def test_gradflow_without_matplotlib_notes_it_and_still_writes_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    args = ["--steps", "1", "--n", "4", "--width", "2", "--activations", "relu", "--out"]
    assert gradflow.main([*args, str(tmp_path)]) == 0
    assert "matplotlib is not installed" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["gradflow.json"]


def test_gradflow_rejects_unknown_activations(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        gradflow.main(["--activations", "relu,gelu"])
    assert info.value.code == 2
    assert "activations must be a comma-separated subset" in capsys.readouterr().err


# --- newton -------------------------------------------------------------------------------------


def test_rosenbrock_gradient_is_the_hand_formula() -> None:
    x, y = Value(-1.2), Value(1.0)
    gx, gy = grad(newton.rosenbrock(x, y), [x, y])
    assert gx.data == pytest.approx(-2 * (1 + 1.2) - 400 * -1.2 * (1.0 - 1.44), rel=1e-12)
    assert gy.data == pytest.approx(200 * (1.0 - 1.44), rel=1e-12)


def test_newton_converges_in_far_fewer_steps_than_gradient_descent() -> None:
    start = (-1.2, 1.0)
    n = newton.newton(start, tol=1e-8)
    gd = newton.gradient_descent(start, lr=1e-3, tol=1e-8, max_steps=2000)
    assert n.converged and n.steps < 50
    assert math.dist(n.points[-1], (1.0, 1.0)) < 1e-8
    assert not gd.converged and gd.steps == 2000
    assert all(b < a for a, b in zip(n.values, n.values[1:], strict=False))  # f decreases


def test_newton_main_prints_steps_and_draws_the_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    assert newton.main(["--max-steps", "300", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "gradient descent: did not converge in 300 steps" in out
    assert "Newton: converged in" in out
    assert (tmp_path / "newton.png").read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("lr", ["1e10", "0.01"])
def test_newton_reports_a_diverging_descent_instead_of_crashing(
    lr: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert newton.main(["--lr", lr, "--max-steps", "200", "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "gradient descent: diverged (overflow) after" in out
    assert "Newton: converged in" in out


@pytest.mark.parametrize("args", [["--x0", "1e200"], ["--y0=-1e300"]])
def test_newton_start_where_f_overflows_is_a_usage_error(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        newton.main([*args, "--no-plots"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "overflows" in err and len(err.strip().splitlines()) == 1


def test_a_diverging_path_ends_at_its_last_finite_point() -> None:
    gd = newton.gradient_descent((-1.2, 1.0), lr=10.0, max_steps=100)
    assert gd.diverged and not gd.converged
    assert all(math.isfinite(v) for v in gd.values)
    assert len(gd.points) == len(gd.values)


@pytest.mark.parametrize("flag", ["--lr", "--tol", "--x0"])
def test_newton_rejects_bad_numbers_with_a_usage_error(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    value = "inf" if flag == "--x0" else "0"
    with pytest.raises(SystemExit) as info:
        newton.main([flag, value, "--no-plots"])
    assert info.value.code == 2


# --- both through the command line ---------------------------------------------------------------


def test_cli_runs_gradflow_and_newton(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--steps", "1", "--n", "4", "--width", "2", "--no-plots", "--out", str(tmp_path)]
    assert cli_main(["demo", "gradflow", *args]) == 0
    assert cli_main(["demo", "newton", "--max-steps", "50", "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "first-layer / last-layer ratio" in out and "Newton: converged" in out


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autograd_mini", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("name", ["gradflow", "newton"])
def test_demo_errors_are_one_line_and_come_before_any_work(name: str) -> None:
    for args, needle in (
        (["--out", "/dev/null/x"], "/dev/null/x"),
        (["--bogus"], f"autograd-mini demo {name}: error: unrecognized arguments: --bogus"),
    ):
        proc = cli("demo", name, *args)
        assert proc.returncode == 2
        assert proc.stdout == ""  # nothing trained, nothing printed
        assert len(proc.stderr.splitlines()) == 1 and needle in proc.stderr
    help_text = cli("demo", name, "--help")
    assert help_text.returncode == 0
    assert help_text.stdout.startswith(f"usage: autograd-mini demo {name} ")


@pytest.mark.slow
def test_autograd_mini_demo_newton_runs_in_a_subprocess(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "autograd_mini", "demo", "newton", "--max-steps", "100"]
    result = subprocess.run(
        [*command, "--no-plots", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Newton: converged" in result.stdout


@pytest.mark.parametrize("demo", ["newton", "gradflow"])
def test_demo_pictures_are_written_like_every_other_file(
    demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # through write_atomic: a picture that is a link to a file keeps the link (and the file's
    # mode); os.replace of a `<name>.tmp.png` replaced the link by a file
    pytest.importorskip("matplotlib")
    real = tmp_path / "kept.png"
    real.write_bytes(b"old")
    os.chmod(real, 0o600)
    (tmp_path / f"{demo}.png").symlink_to(real)
    small = {
        "newton": ["--max-steps", "20"],
        "gradflow": ["--steps", "1", "--n", "4", "--width", "2"],
    }
    module = newton if demo == "newton" else gradflow
    assert module.main([*small[demo], "--out", str(tmp_path)]) == 0
    assert (tmp_path / f"{demo}.png").is_symlink()
    assert real.read_bytes().startswith(PNG_SIGNATURE)
    assert oct(os.stat(real).st_mode & 0o777) == oct(0o600)
