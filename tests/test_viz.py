"""Tests for autograd_mini.viz: graph drawing, escaping, limits and rendering."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import graphviz
import pytest
from hypothesis import given, strategies as st

from autograd_mini import OPS, Value, grad, topological_order
from autograd_mini.testing import Expression, expressions
from autograd_mini.viz import DotNotFoundError, draw_graph, local_partials, render_graph

GOLDEN = Path(__file__).parent / "golden"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")


def tanh_neuron() -> Value:
    """y = tanh(w·x + b) at x = 1, w = 0.5, b = 0.1, after backward."""
    x = Value(1.0, label="x")
    w = Value(0.5, label="w")
    b = Value(0.1, label="b")
    y = (w * x + b).tanh()
    y.label = "y"
    y.backward()
    return y


def test_dot_source_matches_golden_file() -> None:
    assert draw_graph(tanh_neuron()).source == (GOLDEN / "tanh_neuron.dot").read_text()


def test_dot_source_with_local_grads_top_to_bottom_matches_golden_file() -> None:
    source = draw_graph(tanh_neuron(), rankdir="TB", show_local_grads=True).source
    assert source == (GOLDEN / "tanh_neuron_local_grads_tb.dot").read_text()


def test_neuron_with_named_parameters_and_constant_inputs_matches_golden_file() -> None:
    # parameters drawn as parameters: blue and named (w1, w2, b: a lone Neuron has no layer);
    # the inputs 0.5 and -1.0 are constants named x1 and x2: grey, and without a gradient field
    from autograd_mini.nn import Neuron

    y = Neuron(2, activation="tanh", seed=0)([0.5, -1.0])
    y.backward()
    assert draw_graph(y).source == (GOLDEN / "neuron_named_parameters.dot").read_text()


def test_same_graph_built_twice_gives_identical_source() -> None:
    # Different objects (different id()s), same structure: names must not depend on id().
    a = draw_graph(tanh_neuron(), show_local_grads=True).source
    b = draw_graph(tanh_neuron(), show_local_grads=True).source
    assert a == b


def test_one_record_per_value_and_one_node_per_operation() -> None:
    x = Value(2.0, label="x")
    y = x * x + 3  # Values: x, x*x, 3, y; operations: *, +
    source = draw_graph(y).source
    records = re.findall(r"^\tv\d+ \[label=", source, flags=re.M)
    ops = re.findall(r"^\tv\d+_op \[label=", source, flags=re.M)
    assert len(records) == len(topological_order(y)) == 4
    assert len(ops) == 2
    # x feeds the multiplication twice: two edges, like the two terms backward adds
    assert source.count("\tv0 -> v1_op") == 2


def test_leaves_constants_and_root_are_styled_apart() -> None:
    x = Value(2.0, label="x")
    y = (x * 3).exp()
    lines = {m[0]: m[1] for m in re.findall(r"^\t(v\d+) \[(.*)\]$", draw_graph(y).source, re.M)}
    names = {v: f"v{i}" for i, v in enumerate(topological_order(y))}
    const = next(v for v in names if v.is_leaf and not v.label)
    leaf_style, const_style = lines[names[x]], lines[names[const]]
    root_style, inner_style = lines[names[y]], lines[names[y.parents[0]]]
    styles = {leaf_style.split("}")[1], const_style.split("}")[1], root_style.split("}")[1]}
    assert len(styles) == 3
    assert "fillcolor" not in inner_style


def test_show_grad_false_leaves_out_gradients() -> None:
    source = draw_graph(tanh_neuron(), show_grad=False).source
    assert "| grad" not in source
    assert "data 0.537" in source


def test_local_partials_are_the_ops_own_vjp_at_unit_gradient() -> None:
    a, b = Value(1.5), Value(-0.4)
    q = a / b
    assert local_partials(q) == (1 / -0.4, -q.data / -0.4)
    assert local_partials(a) == ()


@given(
    st.sampled_from(["tanh", "sigmoid", "exp", "sin", "cos", "softplus", "relu", "abs"]),
    st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3),
)
def test_local_partial_of_unary_op_equals_engine_gradient(name: str, x0: float) -> None:
    x = Value(x0)
    y = getattr(x, name)() if name != "abs" else abs(x)
    assert y.op == OPS[name].name
    (g,) = grad(y, [x])
    assert local_partials(y) == (pytest.approx(g.data, rel=1e-15, abs=0),)


def test_edge_labels_carry_local_partials() -> None:
    x = Value(3.0, label="x")
    w = Value(-2.0, label="w")
    source = draw_graph(w * x, show_local_grads=True).source
    assert 'label="∂v2/∂w = 3.0000"' in source  # ∂(w·x)/∂w = x
    assert 'label="∂v2/∂x = -2.0000"' in source  # ∂(w·x)/∂x = w


@pytest.mark.parametrize(
    ("x", "shown"),
    [(0.0, "0.0000"), (0.5, "0.5000"), (-1.25, "-1.2500"), (2.0 / 3.0, "0.6667"),
     (1.2345e-5, "1.234e-05"), (-2.5e7, "-2.5e+07"), (float("nan"), "nan"),
     (float("-inf"), "-inf")],
)  # fmt: skip
def test_numbers_are_drawn_with_four_decimals_or_in_exponent_form(x: float, shown: str) -> None:
    source = draw_graph(Value(x, label="x")).source
    assert f"data {shown} " in source


def test_drawing_reads_the_graph_without_touching_gradients() -> None:
    y = tanh_neuron()
    before = [(v.data, v.grad, v._g) for v in topological_order(y)]
    draw_graph(y, show_local_grads=True)
    assert [(v.data, v.grad, v._g) for v in topological_order(y)] == before


def test_graph_over_max_nodes_raises_value_error_suggesting_a_fix() -> None:
    x = Value(1.0)
    y = x
    for _ in range(10):
        y = y + 1
    with pytest.raises(ValueError, match=r"max_nodes=20.*smaller expression.*larger max_nodes"):
        draw_graph(y, max_nodes=20)
    draw_graph(y, max_nodes=21)  # exactly at the limit is fine


def test_huge_graph_is_refused_quickly() -> None:
    y = Value(0.0)
    for _ in range(200_000):
        y = y + 1.0
    start = time.perf_counter()
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(y)
    assert time.perf_counter() - start < 0.5  # stops counting at the limit


def boxes(source: str) -> dict[str, set[str]]:
    """Each cluster's label -> the names (first record field) of the Values drawn inside it."""
    found: dict[str, set[str]] = {}
    for body in re.findall(r"subgraph cluster_\d+ \{(.*?)\n\t\}", source, flags=re.S):
        m = re.search(r'label="([^"]*)"', body)
        assert m is not None
        found[m.group(1)] = set(re.findall(r'\[label="\{ ([^ |]+) \|', body))
    return found


def test_a_models_graph_is_boxed_by_neuron_with_the_loss_and_inputs_outside() -> None:
    from autograd_mini.nn import MLP

    model = MLP(2, [3, 1], seed=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2 + 0.01 * sum(p * p for p in model.parameters())
    loss.backward()
    source = draw_graph(loss).source
    found = boxes(source)
    assert sorted(found) == ["L1.n1", "L1.n2", "L1.n3", "L2.n1"]
    order = topological_order(loss)
    names = {v: (v.label or f"v{i}") for i, v in enumerate(order)}
    for neuron in (*model.layers[0].neurons, model.layers[1].neurons[0]):
        name = neuron.b.label.removesuffix(".b")
        inside = found[name]
        assert {p.label for p in neuron.parameters()} <= inside  # its weights and bias
        out = neuron([0.5, -1.0]) if name.startswith("L1") else None
        # its products, sums and activation: every node computed from its parameters...
        ops = {names[v] for v in order if not v.is_leaf and names[v] in inside}
        assert len(ops) == 2 * neuron.nin + (1 if name.startswith("L1") else 0)
        assert out is None or out.data in {v.data for v in order if names[v] in inside}
    everything = set().union(*found.values())
    assert not {"x1", "x2"} & everything  # inputs are shared: outside
    assert names[loss] not in everything
    # the weight penalty's p * p nodes stay outside the boxes
    assert sum(1 for v in order if v.op == "mul" and names[v] in everything) == 2 * 3 + 3


def test_a_graph_without_a_model_has_no_boxes() -> None:
    assert "subgraph" not in draw_graph(tanh_neuron()).source


def test_the_legend_names_only_what_the_picture_shows() -> None:
    def legend(root: Value, **kwargs: bool) -> str:
        m = re.search(r'graph \[.*\blabel="([^"]*)"', draw_graph(root, **kwargs).source)
        return "" if m is None else m.group(1)

    plain = legend(tanh_neuron())
    assert "blue: input or parameter" in plain and "gold: the output" in plain
    assert "grey" not in plain and "box" not in plain and "edge label" not in plain
    x = Value(2.0, label="x")
    assert "grey: constant" in legend(x * 3.0)
    assert "edge label ∂a/∂b: the local partial" in legend(x * 3.0, show_local_grads=True)
    assert "grad:" not in legend(x * 3.0, show_grad=False)
    from autograd_mini.nn import MLP

    assert "box: one neuron" in legend(MLP(2, [2, 1], seed=0)([1.0, 2.0]))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"rankdir": "sideways"}, ValueError),
        ({"max_nodes": 0}, ValueError),
        ({"max_nodes": True}, ValueError),
    ],
)
def test_bad_options_raise_named_errors(kwargs: dict[str, object], error: type) -> None:
    with pytest.raises(error, match="draw_graph"):
        draw_graph(Value(1.0), **kwargs)  # type: ignore[arg-type]


def test_non_value_root_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="must be a Value"):
        draw_graph(3.0)  # type: ignore[arg-type]


HOSTILE = [
    'say "hi"',
    "<b>bold</b>",
    "{a|b}",
    "pipe | and < > braces { }",
    "back\\slash",
    "ends with backslash\\",
    "\\",
    '\\"',
    "tab\tnew\nline",
    "<>",
    "émoji ∂ 🚀",
]


@needs_dot
@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_still_render(label: str, tmp_path: Path) -> None:
    x = Value(2.0, label=label)
    y = (x * x).tanh()
    y.label = label
    y.backward()
    out = render_graph(draw_graph(y, show_local_grads=True), tmp_path / "g.svg")
    svg = out.read_text(encoding="utf-8")
    assert "<svg" in svg
    # the label appears as itself (XML-escaped by dot), not mangled by record syntax
    shown = label.replace("\t", "\\t").replace("\n", "\\n")
    escaped = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in svg or escaped.replace('"', "&quot;") in svg


@needs_dot
@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_neuron_names_still_render_as_box_labels(label: str, tmp_path: Path) -> None:
    from autograd_mini.nn import MLP

    model = MLP(2, [2, 1], seed=0)
    for p in model.parameters():
        p.label = label + "." + p.label.rsplit(".", 1)[1]  # every neuron named `label`
    svg = render_graph(model([1.0, 2.0]), tmp_path / "g.svg").read_text(encoding="utf-8")
    shown = label.replace("\t", "\\t").replace("\n", "\\n")
    escaped = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in svg or escaped.replace('"', "&quot;") in svg
    assert svg.count('class="cluster"') == 1  # one name: one box


@needs_dot
def test_png_output_starts_with_png_signature(tmp_path: Path) -> None:
    out = render_graph(tanh_neuron(), tmp_path / "neuron.png", show_local_grads=True)
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    assert (tmp_path / "neuron.png.dot").read_text() == draw_graph(
        tanh_neuron(), show_local_grads=True
    ).source


@needs_dot
def test_svg_and_pdf_render(tmp_path: Path) -> None:
    assert b"<svg" in render_graph(tanh_neuron(), tmp_path / "n.svg").read_bytes()
    assert render_graph(tanh_neuron(), tmp_path / "n.pdf").read_bytes().startswith(b"%PDF")


def test_dot_suffix_writes_only_the_source(tmp_path: Path) -> None:
    out = render_graph(tanh_neuron(), tmp_path / "n.dot")
    assert out.read_text() == (GOLDEN / "tanh_neuron.dot").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.dot"]


def test_unknown_suffix_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf or \.dot"):
        render_graph(tanh_neuron(), tmp_path / "n.jpeg")


def test_missing_dot_says_how_to_install_and_still_writes_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(DotNotFoundError, match=r"`dot` program was not found.*apt-get install"):
        render_graph(tanh_neuron(), tmp_path / "n.svg")
    assert (tmp_path / "n.svg.dot").read_text() == (GOLDEN / "tanh_neuron.dot").read_text()
    assert not (tmp_path / "n.svg").exists()


def test_value_displays_in_jupyter_without_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    y = tanh_neuron()
    bundle = y._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    text, notice = bundle["text/plain"].split("\n")
    assert text == repr(y)
    assert "dot" in notice and "apt-get install graphviz" in notice


@needs_dot
def test_value_and_digraph_display_inline_in_jupyter() -> None:
    y = tanh_neuron()
    bundle = y._repr_mimebundle_()
    assert bundle["text/plain"] == repr(y)
    assert "<svg" in bundle["image/svg+xml"]
    digraph_bundle = draw_graph(y)._repr_mimebundle_()
    assert isinstance(digraph_bundle, dict)
    assert "<svg" in digraph_bundle["image/svg+xml"]


def test_render_graph_rejects_options_with_a_digraph(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="only apply when passing a Value"):
        render_graph(graphviz.Digraph(), tmp_path / "x.svg", rankdir="TB")


@needs_dot
def test_rendered_files_get_normal_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = render_graph(tanh_neuron(), tmp_path / "n.svg")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "n.svg.dot").stat().st_mode & 0o777 == 0o644
    # no temporary files left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.svg", "n.svg.dot"]


def test_digraph_render_without_dot_explains_and_keeps_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = draw_graph(tanh_neuron())
    monkeypatch.setenv("PATH", "")
    with pytest.raises(DotNotFoundError, match=r"not found on PATH; install Graphviz") as info:
        graph.render(outfile=tmp_path / "neuron.svg")
    assert isinstance(info.value, graphviz.ExecutableNotFound)  # what graphviz users catch
    assert str(tmp_path / "neuron.svg.dot") in str(info.value)
    assert (tmp_path / "neuron.svg.dot").read_text() == (GOLDEN / "tanh_neuron.dot").read_text()
    with pytest.raises(DotNotFoundError, match="apt-get install graphviz"):
        graph.pipe(format="png")


@needs_dot
def test_digraph_render_and_pipe_work_as_in_graphviz(tmp_path: Path) -> None:
    graph = draw_graph(tanh_neuron())
    assert isinstance(graph, graphviz.Digraph)
    out = graph.render(outfile=tmp_path / "neuron.png")
    assert Path(out).read_bytes().startswith(PNG_SIGNATURE)
    assert (tmp_path / "neuron.png.dot").read_text() == graph.source
    fresh = draw_graph(tanh_neuron())  # default source name: autograd_mini.dot
    assert Path(fresh.render(directory=tmp_path, format="svg")).name == "autograd_mini.dot.svg"
    assert graph.pipe(format="svg").startswith(b"<?xml")


def test_importing_the_package_does_not_import_graphviz_or_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, autograd_mini, autograd_mini.cli; "
        "print(sorted(m for m in ('graphviz', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


@given(expressions(2, max_steps=6), st.floats(0.2, 2.0), st.floats(0.2, 2.0))
def test_any_expression_draws_one_record_per_value_deterministically(
    f: Expression, a: float, b: float
) -> None:
    def build() -> Value:
        return f(Value(a, label="a"), Value(b, label="b"))

    try:
        y = build()
    except (ArithmeticError, ValueError):
        return
    source = draw_graph(y, show_local_grads=True).source
    assert source == draw_graph(build(), show_local_grads=True).source
    n_values = len(topological_order(y))
    n_ops = sum(1 for v in topological_order(y) if not v.is_leaf)
    assert len(re.findall(r"^\tv\d+ \[label=", source, flags=re.M)) == n_values
    assert len(re.findall(r"^\tv\d+_op \[label=", source, flags=re.M)) == n_ops
    assert source.count(" -> ") == n_ops + sum(len(v.parents) for v in topological_order(y))
