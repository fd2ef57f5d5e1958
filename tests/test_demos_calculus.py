"""Tests for the calculus demos: the tutorial's cascade and the vanishing-gradient chains."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from autograd_mini.cli import main as cli_main
from autograd_mini.demos import cascade, vanishing
from autograd_mini.gradcheck import numerical_grad

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parent.parent
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")

params = st.floats(-3.0, 3.0, allow_nan=False)


@given(params, st.floats(0.0, 1.0), params, params, params, params)
def test_cascade_hand_formulas_agree_with_engine_to_1e_12(
    x: float, t2: float, w1: float, b1: float, w2: float, b2: float
) -> None:
    r = cascade.run(x, t2, w1, b1, w2, b2)
    assert r.max_difference <= 1e-12
    assert set(r.engine) == {"δ2 = ∂E/∂z2", "∂E/∂w2", "∂E/∂b2", "δ1 = ∂E/∂z1", "∂E/∂w1", "∂E/∂b1"}


def test_cascade_hand_formulas_match_central_differences() -> None:
    # an independent check of the tutorial's formulas, not through the engine
    x, t2, w1, b1, w2, b2 = 1.5, 0.9, 0.8, -0.3, -1.2, 0.4
    hand = cascade.by_hand(x, t2, w1, b1, w2, b2)

    def loss(w1_: float, b1_: float, w2_: float, b2_: float) -> float:
        return cascade.by_hand(x, t2, float(w1_), float(b1_), float(w2_), float(b2_))["E"]

    numeric = numerical_grad(lambda *vs: loss(*(v.data for v in vs)), [w1, b1, w2, b2], eps=1e-6)
    expected = [hand["∂E/∂w1"], hand["∂E/∂b1"], hand["∂E/∂w2"], hand["∂E/∂b2"]]
    assert numeric == pytest.approx(expected, rel=1e-6, abs=1e-10)
    a1 = 1 / (1 + math.exp(-(w1 * x + b1)))
    assert hand["a1"] == pytest.approx(a1, rel=1e-15)


def test_cascade_engine_gradients_sit_on_the_named_nodes() -> None:
    r = cascade.run()
    n = r.nodes
    assert r.engine["δ2 = ∂E/∂z2"] == n["z2"].grad
    assert r.engine["δ1 = ∂E/∂z1"] == n["z1"].grad
    a2, t2 = n["a2"].data, n["t2"].data
    assert n["z2"].grad == pytest.approx((a2 - t2) * a2 * (1 - a2), rel=1e-13)
    assert n["E"].data == pytest.approx(0.5 * (t2 - a2) ** 2, rel=1e-15)


@given(params, st.floats(0.0, 1.0), params, params, params, params)
def test_one_small_gradient_step_lowers_the_loss(
    x: float, t2: float, w1: float, b1: float, w2: float, b2: float
) -> None:
    r = cascade.run(x, t2, w1, b1, w2, b2, lr=0.1)
    grads = [r.nodes[p].grad for p in cascade.PARAMETERS]
    if max(abs(g) for g in grads) < 1e-6:
        return  # at (or extremely near) a stationary point a step cannot promise progress
    assert r.loss_after < r.loss_before
    for p in cascade.PARAMETERS:
        assert r.updated[p] == r.nodes[p].data - 0.1 * r.nodes[p].grad


def test_cascade_main_prints_agreement_and_loss_going_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cascade.main(["--out", str(tmp_path), "--no-plots", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "hand formulas and engine agree" in out
    assert "down)" in out
    assert "∂E/∂z2 = ∂E/∂a2 · a2(1 − a2)" in out  # the explanation of the engine's pass
    # the factor-by-factor chain rule lines end with the engine's gradients of w2 and w1
    products = [
        float(line.rsplit(" = ", 1)[1]) for line in out.splitlines() if "         = " in line
    ]
    r = cascade.run()
    assert products == pytest.approx([r.nodes["w2"].grad, r.nodes["w1"].grad], abs=1e-12)
    assert list(tmp_path.iterdir()) == []


@needs_dot
def test_cascade_renders_svg_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cascade.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "cascade.png").read_bytes().startswith(PNG_SIGNATURE)
    svg = (tmp_path / "cascade.svg").read_text()
    assert "<svg" in svg and "∂a2/∂z2" in svg
    assert "wrote cascade.dot, cascade.svg, cascade.png" in capsys.readouterr().out


def test_cascade_without_dot_still_writes_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "")
    assert cascade.main(["--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "apt-get install graphviz" in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cascade.dot"]


def test_cascade_reports_failure_when_the_step_is_too_large(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cascade.main(["--no-plots", "--t2", "0.4", "--lr", "500"]) == 1  # overshoots
    assert "NOT down" in capsys.readouterr().out


def test_cascade_rejects_non_finite_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cascade.main(["--x", "nan"])
    assert info.value.code == 2


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


@pytest.mark.parametrize("depth", [1, 2, 7, 30])
@pytest.mark.parametrize("w", [1.0, 2.5, -0.7])
def test_sigmoid_chain_gradient_is_product_of_local_slopes(depth: int, w: float) -> None:
    h, product = 0.5, 1.0
    for _ in range(depth):
        a = sigmoid(w * h + 0.1)
        product *= w * a * (1 - a)
        h = a
    measured = vanishing.chain_gradient(depth, "sigmoid", x=0.5, w=w, b=0.1)
    assert measured == pytest.approx(product, rel=1e-12)
    assert abs(measured) <= (abs(w) / 4) ** depth


@pytest.mark.parametrize("depth", [1, 10, 100])
def test_relu_chain_gradient_is_w_to_the_depth_when_active(depth: int) -> None:
    assert vanishing.chain_gradient(depth, "relu", x=0.5, w=1.0) == 1.0
    assert vanishing.chain_gradient(depth, "relu", x=0.5, w=1.1) == pytest.approx(
        1.1**depth, rel=1e-12
    )
    assert vanishing.chain_gradient(depth, "relu", x=-0.5, w=1.0) == 0.0  # inactive: no signal


def test_sigmoid_gradient_shrinks_with_depth_and_relu_does_not() -> None:
    rows = vanishing.measure([1, 5, 10, 20])
    sig = [r.sigmoid for r in rows]
    assert sig == sorted(sig, reverse=True)
    assert all(r.sigmoid <= r.bound for r in rows)
    assert rows[-1].sigmoid < 1e-12
    assert [r.relu for r in rows] == [1.0, 1.0, 1.0, 1.0]


def test_bad_chain_arguments_raise_value_errors() -> None:
    with pytest.raises(ValueError, match="activation"):
        vanishing.chain_gradient(3, "tanh")
    with pytest.raises(ValueError, match="depth"):
        vanishing.chain_gradient(0, "relu")


def test_vanishing_main_prints_table_and_draws_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    assert vanishing.main(["--out", str(tmp_path), "--depths", "1,5,10"]) == 0
    out = capsys.readouterr().out
    table = [line.split() for line in out.splitlines() if line.strip()[:2] in ("1 ", "5 ", "10")]
    assert [row[0] for row in table] == ["1", "5", "10"]
    assert float(table[0][1]) == pytest.approx(vanishing.measure([1])[0].sigmoid, rel=1e-3)
    assert (tmp_path / "vanishing.png").read_bytes().startswith(PNG_SIGNATURE)


def test_vanishing_without_matplotlib_prints_note_and_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    assert vanishing.main(["--out", str(tmp_path), "--depths", "2,4"]) == 0
    captured = capsys.readouterr()
    assert "matplotlib is not installed" in captured.err
    assert "pip install 'autograd_mini[demo]'" in captured.err
    assert "sigmoid |∂out/∂x|" in captured.out
    assert not (tmp_path / "vanishing.png").exists()


def test_vanishing_rejects_bad_depths(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        vanishing.main(["--depths", "0,3"])
    assert info.value.code == 2


def test_cli_demo_runs_the_calculus_demos(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["demo", "cascade", "--no-plots", "--out", str(tmp_path)]) == 0
    assert cli_main(["demo", "vanishing", "--no-plots", "--depths", "3"]) == 0
    out = capsys.readouterr().out
    assert "agree" in out and "relu |∂out/∂x|" in out


@pytest.mark.parametrize("name", ["cascade", "vanishing"])
def test_top_level_demo_scripts_and_modules_run(name: str, tmp_path: Path) -> None:
    for args in (
        [sys.executable, str(ROOT / "demos" / f"{name}.py")],
        [sys.executable, "-m", f"autograd_mini.demos.{name}"],
    ):
        result = subprocess.run(
            [*args, "--no-plots", "--out", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={**os.environ},
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "∂" in result.stdout


@pytest.mark.torch
def test_cascade_gradients_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    values = {"x": 1.5, "t2": 0.9, "w1": 0.8, "b1": -0.3, "w2": -1.2, "b2": 0.4}
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    a1 = torch.sigmoid(t["w1"] * t["x"] + t["b1"])
    a2 = torch.sigmoid(t["w2"] * a1 + t["b2"])
    loss = 0.5 * (t["t2"] - a2) ** 2
    loss.backward()
    r = cascade.run(**values)
    for p in cascade.PARAMETERS:
        assert r.nodes[p].grad == pytest.approx(t[p].grad.item(), rel=1e-12, abs=1e-15)
    assert r.hand["∂E/∂w1"] == pytest.approx(t["w1"].grad.item(), rel=1e-12, abs=1e-15)
    assert r.loss_before == pytest.approx(loss.item(), rel=1e-15)
