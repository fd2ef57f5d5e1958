"""Named parameters: short labels (``L1.n3.w2``) set when a model is built, unique within it,
kept by save/load, and shown by draw_graph and explain."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograd_mini import Value, explain, topological_order
from autograd_mini.nn import MLP, Layer, Module, Neuron
from autograd_mini.viz import draw_graph


def short_label(dotted: str) -> str:
    """The documented mapping from named_parameters()' 0-based key to the 1-based label."""
    m = re.fullmatch(r"layers\.(\d+)\.neurons\.(\d+)\.(?:w\.(\d+)|b)", dotted)
    assert m is not None, dotted
    layer, neuron, weight = m.groups()
    tail = "b" if weight is None else f"w{int(weight) + 1}"
    return f"L{int(layer) + 1}.n{int(neuron) + 1}.{tail}"


def test_issue_example_labels() -> None:
    assert [p.label for p in MLP(2, [1], seed=0).parameters()] == [
        "L1.n1.w1",
        "L1.n1.w2",
        "L1.n1.b",
    ]
    model = MLP(2, [4, 3, 1], seed=0)
    named = dict(model.named_parameters())
    assert named["layers.0.neurons.2.w.1"].label == "L1.n3.w2"
    assert named["layers.0.neurons.2.b"].label == "L1.n3.b"
    assert named["layers.2.neurons.0.w.2"].label == "L3.n1.w3"


@pytest.mark.parametrize("sizes", [[1], [3, 1], [8, 8, 1], [2, 5, 3]])
def test_labels_follow_named_parameters_and_are_unique(sizes: list[int]) -> None:
    model = MLP(3, sizes, seed=1)
    labels = [p.label for p in model.parameters()]
    assert labels == [short_label(name) for name, _ in model.named_parameters()]
    assert len(set(labels)) == len(labels)


def test_layer_and_neuron_alone_have_shorter_labels() -> None:
    assert [p.label for p in Neuron(2, seed=0).parameters()] == ["w1", "w2", "b"]
    assert [p.label for p in Layer(2, 2, seed=0).parameters()] == [
        "n1.w1", "n1.w2", "n1.b", "n2.w1", "n2.w2", "n2.b",
    ]  # fmt: skip


def test_a_module_of_your_own_labels_its_parameters_uniquely() -> None:
    class TwoHeads(Module):
        def __init__(self) -> None:
            self.body = Layer(2, 2, seed=0)
            self.heads = [Neuron(2, seed=1), Neuron(2, seed=2)]
            self.scale = Value(1.0)
            self.label_parameters()

    model = TwoHeads()
    labels = [p.label for p in model.parameters()]
    assert labels[:3] == ["body.n1.w1", "body.n1.w2", "body.n1.b"]
    assert "heads.1.b" in labels and labels[-1] == "scale"
    assert len(set(labels)) == len(labels)


def test_labels_survive_save_load_and_load_state_dict(tmp_path: Path) -> None:
    model = MLP(2, [3, 1], seed=0)
    labels = [p.label for p in model.parameters()]
    path = tmp_path / "m.json"
    model.save(path)
    assert [p.label for p in MLP.load(path).parameters()] == labels
    other = MLP(2, [3, 1], seed=5)
    other.load(path)
    assert [p.label for p in other.parameters()] == labels
    other.load_state_dict(MLP(2, [3, 1], seed=9).state_dict())
    assert [p.label for p in other.parameters()] == labels
    assert "L1" not in path.read_text()  # the file format is unchanged: weights by dotted name


def test_parameters_appear_by_name_in_draw_graph_and_explain() -> None:
    model = MLP(2, [1], seed=0)
    y = model([0.5, -1.0])
    assert isinstance(y, Value)
    y.backward()
    source = draw_graph(y).source
    w1, w2, b = model.parameters()
    for p in (w1, w2, b):  # drawn as parameters: blue, with their gradient
        line = next(line for line in source.splitlines() if f"{{ {p.label} |" in line)
        assert f"grad {p.grad:.4f}" in line
        assert "#dbeafe" in line
    y.label = "y"
    lines = {line.split(" = ")[0]: line for line in explain(y).splitlines()}
    assert "∂y/∂L1.n1.w1 = ∂y/∂v3 · x1 = 1 · 0.5 = 0.5" in lines["L1.n1.w1"]  # w1·x1, x1 = 0.5
    assert lines["x1"].startswith("x1 = 0.5 (constant)")  # the input, named, no gradient
    assert lines["L1.n1.b"].endswith(f"= {b.grad!r}")


def test_plain_number_inputs_are_named_constants_shared_by_the_first_layer() -> None:
    model = MLP(2, [3, 1], seed=0)
    y = model([0.5, -1.0])
    inputs = [v for v in topological_order(y) if v.is_leaf and not v.requires_grad]
    assert [(v.label, v.data) for v in inputs] == [("x1", 0.5), ("x2", -1.0)]  # one each
    x = Value(0.5, label="mine")
    y = model([x, 2])  # a Value is used as given (and gets its gradient), a number is named
    y.backward()
    leaves = {v.label: v for v in topological_order(y) if v.is_leaf}
    assert leaves["mine"] is x and x.grad != 0.0
    assert not leaves["x2"].requires_grad and "x1" not in leaves
    layer = Layer(2, 2, seed=0)([1.0, 2.0])
    assert {v.label for v in topological_order(layer[0]) if not v.requires_grad} == {"x1", "x2"}


def test_constants_are_drawn_without_a_gradient_field() -> None:
    model = MLP(2, [1], seed=0)
    y = model([0.5, -1.0])  # the inputs 0.5 and -1.0 become constants named x1 and x2
    y.backward()
    records = re.findall(r'label="\{ ([^"]*) \}"', draw_graph(y).source)
    constants = [r for r in records if r.split(" | ")[1] in ("data 0.5000", "data -1.0000")]
    assert [r.split(" | ")[0] for r in constants] == ["x1", "x2"]
    assert all("grad" not in r for r in constants)
    assert sum("grad" in r for r in records) == len(records) - 2
