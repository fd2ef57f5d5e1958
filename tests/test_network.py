"""Tests for draw_network: the model as a feed-forward network picture."""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path

import graphviz
import pytest

from autograd_mini import Value
from autograd_mini.network import FADE_BELOW, MAX_WIDTH, MIN_WIDTH, NEGATIVE, POSITIVE
from autograd_mini.nn import MLP, Layer, Neuron
from autograd_mini.viz import draw_network, render_graph

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")


def nodes(source: str) -> dict[str, str]:
    found = dict(re.findall(r"^\s*(\w+) \[(.*)\]\s*$", source, flags=re.M))
    return {n: a for n, a in found.items() if n not in ("graph", "node", "edge")}


def edges(source: str) -> list[tuple[str, str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+) \[(.*)\]\s*$", source, flags=re.M)


def attr(attrs: str, name: str) -> str:
    m = re.search(rf'\b{name}=("(?:[^"\\]|\\.)*"|\S+)', attrs)
    assert m is not None, (name, attrs)
    return m.group(1).strip('"')


def weights(model: MLP | Layer | Neuron) -> list[Value]:
    return [p for p in model.parameters() if not p.label.endswith("b")]


def test_signature_and_return_type() -> None:
    assert list(inspect.signature(draw_network).parameters) == ["model", "x"]
    assert inspect.signature(draw_network).parameters["x"].default is None
    assert isinstance(draw_network(MLP(2, [3, 1], seed=0)), graphviz.Digraph)


@pytest.mark.parametrize("sizes", [[1], [3, 1], [16, 16, 1], [4, 5, 3]])
def test_one_node_per_input_and_neuron_one_edge_per_weight(sizes: list[int]) -> None:
    model = MLP(2, sizes, seed=0)
    source = draw_network(model).source
    assert len(nodes(source)) == 2 + sum(sizes)
    assert (
        len(edges(source))
        == len(weights(model))
        == sum(a * b for a, b in zip([2, *sizes], sizes, strict=False))
    )
    assert source.count(" -> ") == len(weights(model))


def test_edges_connect_consecutive_layers_in_parameter_order() -> None:
    model = MLP(2, [3, 2], seed=0)
    pairs = [(a, b) for a, b, _ in edges(draw_network(model).source)]
    expected = [(f"x{i}", f"L1_n{j}") for j in (1, 2, 3) for i in (1, 2)]
    expected += [(f"L1_n{i}", f"L2_n{j}") for j in (1, 2) for i in (1, 2, 3)]
    assert pairs == expected


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_colour_follows_the_sign_and_width_the_magnitude(seed: int) -> None:
    model = MLP(3, [6, 4, 1], seed=seed)
    found = edges(draw_network(model).source)
    ws = weights(model)
    biggest = max(abs(w.data) for w in ws)
    widths = []
    for (_, _, attrs), w in zip(found, ws, strict=True):
        assert attr(attrs, "color")[:7] == (NEGATIVE if w.data < 0 else POSITIVE)  # + opacity
        width = float(attr(attrs, "penwidth"))
        assert width == pytest.approx(
            MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * abs(w.data) / biggest, abs=1e-3
        )
        widths.append((abs(w.data), width))
    widths.sort()
    assert [b for _, b in widths] == sorted(b for _, b in widths)  # wider for larger |w|
    assert widths[-1][1] == pytest.approx(MAX_WIDTH)


def test_edges_of_small_weights_fade_and_the_legend_shows_each_kind() -> None:
    model = MLP(3, [8, 8, 1], seed=0)
    source = draw_network(model).source
    ws = weights(model)
    biggest = max(abs(w.data) for w in ws)
    opacity = []
    for (_, _, attrs), w in zip(edges(source), ws, strict=True):
        colour = attr(attrs, "color")
        alpha = int(colour[7:], 16) / 255 if len(colour) == 9 else 1.0
        share = abs(w.data) / biggest
        assert (alpha == 1.0) == (share >= FADE_BELOW), (w, colour)
        opacity.append((share, alpha))
    opacity.sort()
    assert [a for _, a in opacity] == sorted(a for _, a in opacity)  # fainter for smaller |w|
    assert opacity[0][1] < 0.3
    caption = re.search(r"label=<(.*)>", source.splitlines()[1])
    assert caption is not None
    for words in ("w ≥ 0", "w &lt; 0", "small |w|: thin, faded", f"|w| = {biggest:.3g}"):
        assert words in caption.group(1), words
    for colour in (POSITIVE, NEGATIVE):
        assert f'BGCOLOR="{colour}"' in caption.group(1)


@needs_dot
def test_the_legend_renders_without_adding_nodes_or_edges(tmp_path: Path) -> None:
    svg = render_graph(draw_network(MLP(2, [3, 1], seed=0)), tmp_path / "n.svg").read_text()
    assert svg.count('class="node"') == 2 + 3 + 1 and svg.count('class="edge"') == 6 + 3
    assert "small |w|: thin, faded" in svg


def test_gradients_are_shown_only_after_a_backward_pass() -> None:
    model = MLP(2, [2, 1], seed=0)
    assert "∂L/∂w" not in draw_network(model).source
    loss = model([0.3, -0.7])
    assert isinstance(loss, Value)
    loss.backward()
    source = draw_network(model).source
    for (_, _, attrs), w in zip(edges(source), weights(model), strict=True):
        assert attr(attrs, "tooltip") == f"{w.label} = {w.data!r}, ∂L/∂w = {w.grad!r}"
        assert "∂L/∂w" in attr(attrs, "label")  # a small network writes it on the edge too


def test_a_large_network_keeps_the_numbers_in_tooltips_only() -> None:
    source = draw_network(MLP(2, [16, 16, 1], seed=0)).source
    assert all("label=" not in a for _, _, a in edges(source))
    assert all("tooltip=" in a for _, _, a in edges(source))


def test_neurons_name_their_activation_and_the_sample_fills_in_outputs() -> None:
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    x = [0.25, -0.5]
    source = draw_network(model, x).source
    found = nodes(source)
    assert "x1\\n0.25" in attr(found["x1"], "label")
    for j in (1, 2, 3):
        assert attr(found[f"L1_n{j}"], "label").startswith(f"L1.n{j}\\ntanh\\na=")
    out = model(x)
    assert isinstance(out, Value)
    assert attr(found["L2_n1"], "label") == f"L2.n1\\nlinear\\na={out.data:.3g}"
    hidden = [n(x).data for n in model.layers[0].neurons]
    for j, h in enumerate(hidden, start=1):
        assert attr(found[f"L1_n{j}"], "label").endswith(f"a={h:.3g}")


def test_layer_and_neuron_draw_too() -> None:
    assert len(nodes(draw_network(Layer(3, 2, seed=0)).source)) == 5
    assert len(edges(draw_network(Neuron(4, seed=0)).source)) == 4


@pytest.mark.parametrize(
    ("model", "x", "error", "match"),
    [
        ("not a model", None, TypeError, "draw_network: model must be an MLP"),
        (MLP(2, [1], seed=0), [1.0], ValueError, "the model has 2 inputs, x has 1"),
        (MLP(2, [1], seed=0), "ab", TypeError, "x must be a list"),
        (MLP(2, [1], seed=0), [1.0, "b"], TypeError, r"x\[1\] must be a number"),
    ],
)
def test_bad_input_raises_named_errors(model: object, x: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        draw_network(model, x)  # type: ignore[arg-type]


@needs_dot
def test_mlp_16_16_1_fits_on_one_screen(tmp_path: Path) -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    svg = render_graph(draw_network(model, [0.5, -1.0]), tmp_path / "net.svg").read_text()
    m = re.search(r'<svg width="(\d+)pt" height="(\d+)pt"', svg)
    assert m is not None
    width, height = (int(v) * 4 / 3 for v in m.groups())  # points to CSS pixels
    assert width <= 1280 and height <= 1100, (width, height)
    assert svg.count('class="node"') == 2 + 16 + 16 + 1
    assert svg.count('class="edge"') == 2 * 16 + 16 * 16 + 16


@needs_dot
@pytest.mark.parametrize(
    "label",
    ['"q"', "<b>x</b>", "a]b", "new\nline", "back\\", "\ud800lone", "nul\x00", "x" * 100_000],
    ids=["quote", "html", "bracket", "newline", "backslash", "surrogate", "nul", "huge"],
)
def test_hostile_parameter_labels_still_render(label: str, tmp_path: Path) -> None:
    model = MLP(2, [2, 1], seed=0)
    for p in model.parameters():
        p.label = label + p.label
    svg = render_graph(draw_network(model, [1.0, 2.0]), tmp_path / "net.svg").read_text()
    assert svg.count('class="edge"') == 6
    assert len(svg) < 200_000  # a label is cut to MAX_LABEL characters, as in draw_graph


@needs_dot
def test_moons_demo_writes_the_trained_network(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    from autograd_mini.demos import moons

    argv = ["--steps", "2", "--n", "12", "--hidden", "3", "--out", str(tmp_path), "--quiet"]
    assert moons.main(argv) == 0
    svg = (tmp_path / "network.svg").read_text(encoding="utf-8")
    assert svg.count('class="node"') == 2 + 3 + 1
    assert svg.count('class="edge"') == 2 * 3 + 3
    assert "∂L/∂w" in svg  # the last step's gradients, in the tooltips
    assert "wrote network.svg" in capsys.readouterr().out


def test_moons_demo_without_pictures_writes_no_network(tmp_path: Path) -> None:
    from autograd_mini.demos import moons

    argv = ["--steps", "1", "--n", "8", "--hidden", "2", "--out", str(tmp_path), "--no-plots"]
    assert moons.main(argv) == 0
    assert not (tmp_path / "network.svg").exists()
