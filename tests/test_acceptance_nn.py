"""Acceptance tests for the neural-network layer, written from the issue text alone.

Every call below spells names, signatures and keywords exactly as the issue does
(``MLP(nin, [h1, …, nout], activation="relu", seed=None)``, ``loss(predictions, targets,
reduction="mean")``, ``SGD(params, lr, momentum=0.0, nesterov=False, weight_decay=0.0)``, …)
and uses PyTorch in float64 as the oracle where one exists.  The module-level tests in
test_nn/test_losses/test_optim/test_data cover the implementation in depth; these check the
contract as a user (or a grader) would call it.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import autograd_mini.data as data_module
import autograd_mini.losses as losses_module
import autograd_mini.nn as nn
import autograd_mini.optim as optim
from autograd_mini import Value
from autograd_mini.data import make_circles, make_moons, make_spirals, make_xor, train_test_split
from autograd_mini.losses import binary_cross_entropy, cross_entropy, hinge, l2, mse, sse
from autograd_mini.nn import MLP, Layer, Module, Neuron
from autograd_mini.optim import SGD, Adam

# --- helpers --------------------------------------------------------------------------------


def _values(xs: Sequence[float]) -> list[Value]:
    return [Value(float(x)) for x in xs]


def _outputs(model: Module, points: Sequence[Sequence[float]]) -> list[list[float]]:
    rows = []
    for x in points:
        out = model(x)  # type: ignore[operator]
        rows.append([out.data] if isinstance(out, Value) else [o.data for o in out])
    return rows


def _torch() -> Any:
    return pytest.importorskip("torch")


def _close(a: float, b: float, tol: float = 1e-12) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


# --- public API: importable where a user expects it -------------------------------------------


def test_public_names_import_from_their_modules() -> None:
    for name in ("MLP", "Neuron", "Layer", "Module"):
        assert hasattr(nn, name)
    for name in ("sse", "mse", "hinge", "binary_cross_entropy", "cross_entropy", "l2"):
        assert callable(getattr(losses_module, name))
    for name in ("SGD", "Adam"):
        assert callable(getattr(optim, name))
    for name in ("make_moons", "make_circles", "make_spirals", "make_xor", "train_test_split"):
        assert callable(getattr(data_module, name))
    assert callable(data_module.minibatches)


def test_importing_the_package_does_not_import_optional_dependencies() -> None:
    import subprocess
    import sys

    code = (
        "import sys, autograd_mini, autograd_mini.nn, autograd_mini.losses, autograd_mini.optim,"
        " autograd_mini.data, autograd_mini.demos.moons, autograd_mini.demos.spirals;"
        " bad = [m for m in ('matplotlib', 'numpy', 'torch') if m in sys.modules];"
        " print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_submodules_are_reachable_as_package_attributes() -> None:
    import subprocess
    import sys

    code = (
        "import autograd_mini as am;"
        " assert len(am.nn.MLP(2, [16, 16, 1]).parameters()) == 337;"
        " assert callable(am.losses.mse) and callable(am.optim.SGD);"
        " assert callable(am.data.make_moons)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- Neuron, Layer, MLP -----------------------------------------------------------------------


def test_mlp_2_16_16_1_has_337_parameters_and_shows_its_architecture() -> None:
    model = MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 337
    assert all(isinstance(p, Value) for p in model.parameters())
    text = repr(model)
    assert "MLP" in text and "16" in text and "2" in text


def test_mlp_returns_a_value_for_one_output_and_a_list_otherwise() -> None:
    one = MLP(2, [4, 1], seed=0)
    out = one([0.5, -0.25])
    assert isinstance(out, Value)
    three = MLP(2, [4, 3], seed=0)
    outs = three([0.5, -0.25])
    assert isinstance(outs, list) and len(outs) == 3
    assert all(isinstance(o, Value) for o in outs)
    # inputs may be Values, and ints
    assert isinstance(one([Value(0.5), Value(-0.25)]), Value)
    assert isinstance(one([1, 2]), Value)
    assert isinstance(one((0.5, -0.25)), Value)


def test_layer_always_returns_a_list_and_neuron_a_value() -> None:
    layer = Layer(3, 1)
    out = layer([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)
    assert len(Layer(3, 4)([1.0, 2.0, 3.0])) == 4
    neuron = Neuron(3)
    assert isinstance(neuron([1.0, 2.0, 3.0]), Value)
    assert len(neuron.parameters()) == 4
    assert len(Layer(3, 4).parameters()) == 16


@pytest.mark.parametrize(
    ("activation", "phi"),
    [
        ("relu", lambda z: max(0.0, z)),
        ("tanh", math.tanh),
        ("sigmoid", lambda z: 1.0 / (1.0 + math.exp(-z))),
        ("linear", lambda z: z),
    ],
)
def test_neuron_computes_activation_of_weighted_sum_plus_bias(
    activation: str, phi: Callable[[float], float]
) -> None:
    n = Neuron(3, activation=activation)
    n2 = Neuron(3, activation)  # positional too
    assert isinstance(n2([0.0, 0.0, 0.0]), Value)
    for w, v in zip(n.parameters()[:3], (0.5, -1.5, 2.0), strict=True):
        w.data = v
    n.parameters()[3].data = 0.25  # the bias comes last
    x = [0.3, 0.2, -0.1]
    z = 0.5 * 0.3 - 1.5 * 0.2 + 2.0 * -0.1 + 0.25
    assert _close(n(x).data, phi(z))
    names = [name for name, _ in n.named_parameters()]
    assert names == ["w.0", "w.1", "w.2", "b"]


def test_unknown_activation_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="softsign"):
        Neuron(2, activation="softsign")
    with pytest.raises(ValueError):
        MLP(2, [3, 1], activation="softsign")


def test_named_parameters_use_stable_dotted_names() -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    named = model.named_parameters()
    names = [name for name, _ in named]
    assert len(names) == 337 == len(set(names))
    assert "layers.0.neurons.3.w.1" in names
    assert "layers.0.neurons.3.b" in names
    assert "layers.2.neurons.0.w.15" in names
    assert [p for _, p in named] == model.parameters()
    assert all(a is b for (_, a), b in zip(named, model.parameters(), strict=True))
    assert names == [name for name, _ in MLP(2, [16, 16, 1], seed=1).named_parameters()]
    assert dict(named)["layers.0.neurons.3.w.1"] is model.layers[0].neurons[3].w[1]


def test_mlp_last_layer_is_linear_and_hidden_layers_use_the_activation() -> None:
    model = MLP(1, [1, 1], activation="relu", seed=0)
    # make the hidden unit negative for x > 0: relu gives 0, the output is just the last bias
    hidden, last = model.layers[0].neurons[0], model.layers[1].neurons[0]
    hidden.w[0].data, hidden.b.data = -1.0, 0.0
    last.w[0].data, last.b.data = 2.0, -3.0
    assert model([5.0]).data == -3.0  # relu(-5) = 0; linear last layer keeps -3 (not relu'd)
    assert model([-5.0]).data == 2.0 * 5.0 - 3.0


def test_mlp_forward_matches_torch_linear_layers() -> None:
    torch = _torch()
    for activation, fn in (("relu", torch.relu), ("tanh", torch.tanh), ("sigmoid", torch.sigmoid)):
        model = MLP(3, [5, 4, 2], activation=activation, seed=7)
        weights = []
        for layer in model.layers:
            w = torch.tensor([[p.data for p in n.w] for n in layer.neurons], dtype=torch.float64)
            b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64)
            weights.append((w, b))
        x = [0.3, -1.2, 0.7]
        h = torch.tensor(x, dtype=torch.float64)
        for i, (w, b) in enumerate(weights):
            h = w @ h + b
            if i < len(weights) - 1:
                h = fn(h)
        out = model(x)
        assert isinstance(out, list)
        for o, t in zip(out, h.tolist(), strict=True):
            assert _close(o.data, t, 1e-12)


def test_mlp_gradients_match_torch() -> None:
    torch = _torch()
    model = MLP(2, [4, 1], activation="tanh", seed=3)
    x = [0.4, -0.9]
    model(x).backward()  # type: ignore[union-attr]
    l0, l1 = model.layers
    w0 = torch.tensor([[p.data for p in n.w] for n in l0.neurons], dtype=torch.float64)
    w0.requires_grad_()
    b0 = torch.tensor([n.b.data for n in l0.neurons], dtype=torch.float64, requires_grad=True)
    w1 = torch.tensor([p.data for p in l1.neurons[0].w], dtype=torch.float64, requires_grad=True)
    b1 = torch.tensor(l1.neurons[0].b.data, dtype=torch.float64, requires_grad=True)
    y = w1 @ torch.tanh(w0 @ torch.tensor(x, dtype=torch.float64) + b0) + b1
    y.backward()
    for j, n in enumerate(l0.neurons):
        for k, p in enumerate(n.w):
            assert _close(p.grad, w0.grad[j, k].item())
        assert _close(n.b.grad, b0.grad[j].item())
    for k, p in enumerate(l1.neurons[0].w):
        assert _close(p.grad, w1.grad[k].item())
    assert _close(l1.neurons[0].b.grad, b1.grad.item())


def test_zero_grad_sets_every_parameter_gradient_to_zero() -> None:
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()  # type: ignore[union-attr]
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_same_seed_same_weights_int_or_random_instance() -> None:
    a = MLP(2, [16, 16, 1], seed=42).state_dict()
    b = MLP(2, [16, 16, 1], seed=42).state_dict()
    c = MLP(2, [16, 16, 1], seed=43).state_dict()
    assert a == b
    assert a != c
    r1 = MLP(2, [16, 16, 1], seed=random.Random(5)).state_dict()
    r2 = MLP(2, [16, 16, 1], seed=random.Random(5)).state_dict()
    assert r1 == r2
    assert Neuron(4, seed=1).state_dict() == Neuron(4, seed=1).state_dict()
    assert Layer(4, 3, seed=1).state_dict() == Layer(4, 3, seed=1).state_dict()


def test_initialisation_is_scaled_by_fan_in() -> None:
    model = MLP(64, [32, 1], seed=0)
    for layer, nin in zip(model.layers, (64, 32), strict=True):
        bound = 1.0 / math.sqrt(nin)
        ws = [p.data for n in layer.neurons for p in n.w]
        assert all(abs(w) <= bound for w in ws)
        assert max(abs(w) for w in ws) > 0.5 * bound  # actually spread, not all ~0


def test_custom_module_subclass_finds_its_parameters() -> None:
    class Net(Module):
        def __init__(self) -> None:
            self.first = Layer(2, 3, seed=0)
            self.second = Neuron(3, activation="linear", seed=1)

        def __call__(self, x: list[float]) -> Value:
            return self.second(self.first(x))

    net = Net()
    assert len(net.parameters()) == 9 + 4
    names = [name for name, _ in net.named_parameters()]
    assert names[0] == "first.neurons.0.w.0" and names[-1] == "second.b"
    assert set(net.state_dict()) == set(names)


# --- state dicts, save and load ---------------------------------------------------------------


def test_state_dict_maps_names_to_floats_and_round_trips() -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    state = model.state_dict()
    assert list(state) == [name for name, _ in model.named_parameters()]
    assert all(type(v) is float for v in state.values())
    other = MLP(2, [16, 16, 1], seed=1)
    other.load_state_dict(state)
    assert other.state_dict() == state
    # a fresh dict: changing it does not touch the model
    state["layers.0.neurons.0.w.0"] = 123.0
    assert model.state_dict()["layers.0.neurons.0.w.0"] != 123.0


def test_save_then_load_reproduces_outputs_exactly(tmp_path: Path) -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    for p in model.parameters():  # awkward floats: full precision must survive
        p.data = p.data / 3.0 + 1e-17
    path = tmp_path / "model.json"
    model.save(path)
    model.save(str(path))  # str paths too; overwriting is fine
    text = path.read_text(encoding="utf-8")
    json.loads(text)  # plain JSON
    assert not text.startswith("\x80")  # not a pickle
    other = MLP(2, [16, 16, 1], seed=99)
    other.load(path)
    assert other.state_dict() == model.state_dict()
    points = [[0.1, 0.2], [-1.0, 0.5], [2.0, -0.3]]
    assert _outputs(other, points) == _outputs(model, points)
    other2 = MLP(2, [16, 16, 1], seed=98)
    other2.load(str(path))
    assert other2.state_dict() == model.state_dict()


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    MLP(2, [3, 1], seed=0).save(tmp_path / "m.json")
    MLP(2, [3, 1], seed=1).save(tmp_path / "m.json")
    assert sorted(os.listdir(tmp_path)) == ["m.json"]


def _boom(*args: object, **kwargs: object) -> None:
    raise OSError("simulated disk failure")


@pytest.mark.parametrize("target", ["replace", "json_dump", "fsync"])
def test_failed_save_keeps_the_original_file_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    before = path.read_bytes()
    if target == "replace":
        monkeypatch.setattr(os, "replace", _boom)
    elif target == "json_dump":
        monkeypatch.setattr(json, "dump", _boom)
    else:
        monkeypatch.setattr(os, "fsync", _boom)
    with pytest.raises(OSError, match="simulated"):
        MLP(2, [3, 1], seed=1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]


def test_save_writes_the_temp_file_in_the_same_folder_then_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        calls.append((os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    path = tmp_path / "sub"
    path.mkdir()
    MLP(2, [3, 1], seed=0).save(path / "m.json")
    assert len(calls) == 1
    src, dst = calls[0]
    assert os.path.dirname(os.path.abspath(src)) == str(path)
    assert os.path.abspath(dst) == str(path / "m.json")
    # a relative path: the temporary file is still next to the target
    monkeypatch.chdir(path)
    MLP(2, [3, 1], seed=0).save("rel.json")
    src, dst = calls[1]
    assert os.path.dirname(src) == os.path.dirname(dst) == str(path)
    assert sorted(os.listdir(path)) == ["m.json", "rel.json"]


def _saved(tmp_path: Path, model: Module, name: str = "m.json") -> Path:
    path = tmp_path / name
    model.save(path)
    return path


def _bad_state_files(tmp_path: Path, model: MLP) -> dict[str, tuple[Path, str | None]]:
    """name → (file, the key the error must name or None)."""
    state = model.state_dict()
    key = "layers.0.neurons.1.w.0"
    files: dict[str, tuple[Path, str | None]] = {}

    def write(name: str, doc: object, key: str | None, raw: str | None = None) -> None:
        p = tmp_path / f"{name}.json"
        p.write_text(raw if raw is not None else json.dumps(doc), encoding="utf-8")
        files[name] = (p, key)

    missing = dict(state)
    del missing[key]
    write("missing", missing, key)
    write("extra", {**state, "layers.9.neurons.0.w.0": 1.0}, "layers.9.neurons.0.w.0")
    write("string", {**state, key: "0.5"}, key)
    write("null", {**state, key: None}, key)
    write("list", {**state, key: [0.5]}, key)
    write("bool", {**state, key: True}, key)
    write("nan", None, None, raw=json.dumps(state).replace(json.dumps(state[key]), "NaN", 1))
    write("inf", None, None, raw=json.dumps(state).replace(json.dumps(state[key]), "1e999", 1))
    huge = "1" + "0" * 400  # an int literal beyond float range
    write("huge_int", None, key, raw=json.dumps(state).replace(json.dumps(state[key]), huge, 1))
    write("truncated", None, None, raw=json.dumps(state)[:-20])
    write("not_json", None, None, raw="this is not json")
    write("empty", None, None, raw="")
    write("array", [1.0, 2.0], None)
    small = MLP(2, [4, 1], seed=0)
    p = tmp_path / "wrong_arch.json"
    small.save(p)
    files["wrong_arch"] = (p, None)
    tanh = MLP(2, [16, 16, 1], activation="tanh", seed=0)
    p = tmp_path / "wrong_activation.json"
    tanh.save(p)
    files["wrong_activation"] = (p, None)
    # the model's own save format with one number corrupted
    p = tmp_path / "saved_corrupted.json"
    model.save(p)
    doc = json.loads(p.read_text(encoding="utf-8"))

    def corrupt(obj: Any) -> bool:
        if isinstance(obj, dict):
            if key in obj:
                obj[key] = "oops"
                return True
            return any(corrupt(v) for v in obj.values())
        return False

    assert corrupt(doc)
    p.write_text(json.dumps(doc), encoding="utf-8")
    files["saved_corrupted"] = (p, key)
    # the model's own save format with a parameter key added or removed at the top level
    saved = tmp_path / "saved.json"
    model.save(saved)
    doc = json.loads(saved.read_text(encoding="utf-8"))
    p = tmp_path / "saved_plus_top_level_key.json"
    p.write_text(json.dumps({**doc, key: "oops"}), encoding="utf-8")
    files["saved_plus_top_level_key"] = (p, key)
    for drop in ("format", "version", "state_dict"):  # ("architecture" is optional)
        p = tmp_path / f"saved_without_{drop}.json"
        p.write_text(json.dumps({k: v for k, v in doc.items() if k != drop}), encoding="utf-8")
        files[f"saved_without_{drop}"] = (p, None)
    return files


def test_bad_model_files_raise_and_leave_the_model_unchanged(tmp_path: Path) -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    before = model.state_dict()
    source = MLP(2, [16, 16, 1], seed=1)  # the files hold other weights
    for name, (path, key) in _bad_state_files(tmp_path, source).items():
        with pytest.raises((ValueError, KeyError)) as info:
            model.load(path)
            pytest.fail(f"{name}: loaded without an error")
        assert model.state_dict() == before, name
        if key is not None:
            assert key in str(info.value), (name, str(info.value))


def test_bad_state_dicts_raise_and_leave_the_model_unchanged() -> None:
    model = MLP(2, [4, 1], seed=0)
    before = model.state_dict()
    good = MLP(2, [4, 1], seed=1).state_dict()
    last = list(good)[-1]
    cases: list[tuple[dict[str, object], str]] = []
    missing = dict(good)
    del missing[last]
    cases.append((missing, last))
    cases.append(({**good, "bogus.key": 0.0}, "bogus.key"))
    cases.append(({**good, last: "x"}, last))
    cases.append(({**good, last: None}, last))
    cases.append(({**good, last: float("nan")}, last))
    cases.append(({**good, last: float("inf")}, last))
    cases.append(({**good, last: Value(1.0)}, last))
    for state, key in cases:
        with pytest.raises((ValueError, KeyError)) as info:
            model.load_state_dict(state)
        assert key in str(info.value)
        assert model.state_dict() == before


def test_missing_key_is_a_key_error_or_value_error_for_either_except() -> None:
    model = MLP(2, [2, 1], seed=0)
    state = model.state_dict()
    del state["layers.1.neurons.0.b"]
    with pytest.raises(KeyError):
        model.load_state_dict(state)
    with pytest.raises(ValueError):
        model.load_state_dict(state)


def test_load_accepts_a_bare_state_dict_json_file(tmp_path: Path) -> None:
    source = MLP(2, [4, 1], seed=1)
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(source.state_dict()), encoding="utf-8")
    model = MLP(2, [4, 1], seed=0)
    model.load(path)
    assert model.state_dict() == source.state_dict()


def test_load_on_the_class_builds_the_saved_model(tmp_path: Path) -> None:
    model = MLP(3, [5, 2], activation="tanh", seed=4)
    path = _saved(tmp_path, model)
    loaded = MLP.load(path)
    assert isinstance(loaded, MLP) and repr(loaded) == repr(model)
    assert loaded.state_dict() == model.state_dict()
    assert _outputs(loaded, [[0.1, 0.2, 0.3]]) == _outputs(model, [[0.1, 0.2, 0.3]])
    neuron = Neuron(2, activation="sigmoid", seed=1)
    assert Neuron.load(_saved(tmp_path, neuron, "n.json")).state_dict() == neuron.state_dict()
    layer = Layer(2, 3, seed=1)
    assert Layer.load(_saved(tmp_path, layer, "l.json")).state_dict() == layer.state_dict()
    with pytest.raises(ValueError):
        Layer.load(path)  # an MLP's file
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(model.state_dict()), encoding="utf-8")
    with pytest.raises(ValueError):
        MLP.load(bare)  # weights without an architecture
    # on an instance, load fills that instance (and returns it)
    other = MLP(3, [5, 2], activation="tanh", seed=0)
    assert other.load(path) is other
    assert other.state_dict() == model.state_dict()


def test_wrong_architecture_error_names_a_key(tmp_path: Path) -> None:
    path = _saved(tmp_path, MLP(2, [4, 1], seed=0))
    model = MLP(2, [5, 1], seed=0)
    with pytest.raises((KeyError, ValueError), match=r"layers\.0\.neurons\.4"):
        model.load(path)
    relu = MLP(2, [4, 1], activation="relu", seed=0)
    tanh_path = _saved(tmp_path, MLP(2, [4, 1], activation="tanh", seed=0), "tanh.json")
    with pytest.raises((KeyError, ValueError), match="architecture"):
        relu.load(tanh_path)


def test_model_input_may_be_any_iterable_of_numbers() -> None:
    np = pytest.importorskip("numpy")
    model = MLP(2, [3, 1], seed=0)
    want = model([0.5, -1.0]).data  # type: ignore[union-attr]
    assert model(np.array([0.5, -1.0])).data == want  # type: ignore[union-attr]
    assert model(iter([0.5, -1.0])).data == want  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        model(np.array([0.5, -1.0, 2.0]))
    with pytest.raises(TypeError):
        model("ab")


def test_loading_integers_gives_floats() -> None:
    model = MLP(1, [1], seed=0)
    model.load_state_dict({"layers.0.neurons.0.w.0": 2, "layers.0.neurons.0.b": -1})
    assert model.state_dict() == {"layers.0.neurons.0.w.0": 2.0, "layers.0.neurons.0.b": -1.0}
    assert model([3.0]).data == 5.0  # type: ignore[union-attr]


# --- losses -----------------------------------------------------------------------------------

PREDS = [0.3, -1.2, 2.5, 0.0, -0.4]
REGRESSION_TARGETS = [0.5, -1.0, 1.0, 0.25, -2.0]


def _torch_loss_and_grad(fn: Callable[[Any], Any], preds: Sequence[float]) -> tuple[Any, Any]:
    torch = _torch()
    x = torch.tensor(list(preds), dtype=torch.float64, requires_grad=True)
    out = fn(x)
    out.backward()
    return out.item(), x.grad.tolist()


def _ours(
    fn: Callable[..., Value], preds: Sequence[float], *args: object, **kwargs: object
) -> tuple[float, list[float]]:
    ps = _values(preds)
    out = fn(ps, *args, **kwargs)
    assert isinstance(out, Value)
    out.backward()
    return out.data, [p.grad for p in ps]


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_matches_torch(reduction: str) -> None:
    torch = _torch()
    t = torch.tensor(REGRESSION_TARGETS, dtype=torch.float64)
    want, want_g = _torch_loss_and_grad(
        lambda x: torch.nn.functional.mse_loss(x, t, reduction=reduction), PREDS
    )
    got, got_g = _ours(mse, PREDS, REGRESSION_TARGETS, reduction=reduction)
    assert _close(got, want)
    assert all(_close(a, b) for a, b in zip(got_g, want_g, strict=True))
    got2, _ = _ours(mse, PREDS, REGRESSION_TARGETS, reduction)  # positional
    assert got2 == got


def test_mse_defaults_to_the_mean() -> None:
    got, _ = _ours(mse, PREDS, REGRESSION_TARGETS)
    want = sum((p - t) ** 2 for p, t in zip(PREDS, REGRESSION_TARGETS, strict=True)) / 5
    assert _close(got, want)


def test_sse_is_a_sum_of_squared_errors_with_or_without_a_half() -> None:
    total = sum((p - t) ** 2 for p, t in zip(PREDS, REGRESSION_TARGETS, strict=True))
    got, grads = _ours(sse, PREDS, REGRESSION_TARGETS, reduction="sum")
    assert _close(got, total) or _close(got, total / 2)
    factor = got / total
    want_g = [2 * factor * (p - t) for p, t in zip(PREDS, REGRESSION_TARGETS, strict=True)]
    assert all(_close(a, b) for a, b in zip(grads, want_g, strict=True))
    # the mean reduction is the same thing divided by n
    got_mean, _ = _ours(sse, PREDS, REGRESSION_TARGETS, reduction="mean")
    assert _close(got_mean, got / 5)
    # whatever the default, it is one of the two reductions
    got_default, _ = _ours(sse, PREDS, REGRESSION_TARGETS)
    assert got_default in (got, got_mean)


@pytest.mark.torch
def test_sse_sum_matches_torch_mse_sum() -> None:
    torch = _torch()
    t = torch.tensor(REGRESSION_TARGETS, dtype=torch.float64)
    want, want_g = _torch_loss_and_grad(
        lambda x: torch.nn.functional.mse_loss(x, t, reduction="sum"), PREDS
    )
    got, got_g = _ours(sse, PREDS, REGRESSION_TARGETS, reduction="sum")
    assert _close(got, want)
    assert all(_close(a, b) for a, b in zip(got_g, want_g, strict=True))


HINGE_SCORES = [0.3, -1.2, 2.5, 0.1, -0.4, 1.7]
HINGE_LABELS = [1, 1, -1, -1, -1, 1]


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_hinge_matches_torch_clamp_formula(reduction: str) -> None:
    torch = _torch()
    t = torch.tensor(HINGE_LABELS, dtype=torch.float64)

    def ref(x: Any) -> Any:
        per = torch.clamp(1 - t * x, min=0)
        return per.mean() if reduction == "mean" else per.sum()

    want, want_g = _torch_loss_and_grad(ref, HINGE_SCORES)
    got, got_g = _ours(hinge, HINGE_SCORES, HINGE_LABELS, reduction=reduction)
    assert _close(got, want)
    assert all(_close(a, b) for a, b in zip(got_g, want_g, strict=True))


def test_hinge_accepts_float_labels_and_rejects_labels_other_than_plus_minus_one() -> None:
    got_int, _ = _ours(hinge, HINGE_SCORES, HINGE_LABELS)
    got_float, _ = _ours(hinge, HINGE_SCORES, [float(t) for t in HINGE_LABELS])
    assert got_int == got_float
    with pytest.raises(ValueError):
        hinge(_values([0.5, 0.5]), [1, 2])


BCE_LOGITS = [0.3, -1.2, 2.5, 0.0, -4.0, 7.5]
BCE_LABELS = [1, 0, 1, 0, 0, 1]


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("kind", ["int", "float", "bool"])
def test_binary_cross_entropy_matches_torch_with_logits(reduction: str, kind: str) -> None:
    torch = _torch()
    t = torch.tensor(BCE_LABELS, dtype=torch.float64)
    want, want_g = _torch_loss_and_grad(
        lambda x: torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        BCE_LOGITS,
    )
    labels: list[Any] = {
        "int": BCE_LABELS,
        "float": [float(v) for v in BCE_LABELS],
        "bool": [bool(v) for v in BCE_LABELS],
    }[kind]
    got, got_g = _ours(binary_cross_entropy, BCE_LOGITS, labels, reduction=reduction)
    assert _close(got, want)
    assert all(_close(a, b) for a, b in zip(got_g, want_g, strict=True))


@pytest.mark.torch
def test_binary_cross_entropy_is_stable_at_huge_logits() -> None:
    torch = _torch()
    logits = [1000.0, -1000.0, 1000.0, -1000.0]
    labels = [1, 0, 0, 1]
    t = torch.tensor(labels, dtype=torch.float64)
    want, want_g = _torch_loss_and_grad(
        lambda x: torch.nn.functional.binary_cross_entropy_with_logits(x, t), logits
    )
    got, got_g = _ours(binary_cross_entropy, logits, labels)
    assert math.isfinite(got)
    assert all(math.isfinite(g) for g in got_g)
    assert _close(got, want)
    assert all(_close(a, b) for a, b in zip(got_g, want_g, strict=True))
    assert got == pytest.approx(500.0)  # two perfect, two off by 1000: (0+0+1000+1000)/4


def test_losses_take_one_value_or_a_list() -> None:
    z = Value(0.7)
    single = binary_cross_entropy(z, 1)
    assert isinstance(single, Value)
    listed = binary_cross_entropy([Value(0.7)], [1])
    assert _close(single.data, listed.data)
    assert _close(mse(Value(3.0), 1.0).data, 4.0)
    assert _close(mse(Value(3.0), [1.0]).data, 4.0)
    assert _close(hinge(Value(0.5), 1).data, 0.5)
    assert _close(hinge(Value(0.5), [-1]).data, 1.5)
    assert sse(Value(3.0), [1.0], reduction="sum").data in (4.0, 2.0)
    # the loss of a single Value flows back into it
    z2 = Value(0.0)
    binary_cross_entropy(z2, 1).backward()
    assert _close(z2.grad, -0.5)


@pytest.mark.parametrize("fn", [sse, mse, hinge, binary_cross_entropy], ids=lambda f: f.__name__)
def test_reduction_none_gives_one_loss_per_sample(fn: Callable[..., Any]) -> None:
    preds = _values([0.5, -0.5, 2.0])
    targets = [1, 0, 1] if fn is binary_cross_entropy else [1, -1, 1]
    per = fn(preds, targets, reduction="none")
    assert isinstance(per, list) and len(per) == 3
    assert all(isinstance(v, Value) for v in per)
    total = fn(preds, targets, reduction="sum")
    mean = fn(preds, targets, reduction="mean")
    assert _close(sum(v.data for v in per), total.data)
    assert _close(mean.data, total.data / 3)


@pytest.mark.parametrize("fn", [sse, mse, hinge, binary_cross_entropy], ids=lambda f: f.__name__)
def test_losses_reject_mismatched_empty_and_bad_reduction(fn: Callable[..., Any]) -> None:
    with pytest.raises(ValueError):
        fn(_values([0.5, 0.5]), [1])
    with pytest.raises(ValueError):
        fn(_values([0.5]), [1, 1])
    with pytest.raises(ValueError):
        fn([], [])
    with pytest.raises(ValueError):
        fn(_values([0.5]), [1], reduction="average")


CE_BATCH = [[0.2, -1.0, 3.0], [1.5, 0.5, -0.5], [0.0, 0.0, 0.0], [-2.0, 4.0, 1.0]]
CE_TARGETS = [2, 0, 1, 0]


@pytest.mark.torch
def test_cross_entropy_one_sample_matches_torch() -> None:
    torch = _torch()
    logits = [0.2, -1.0, 3.0, 0.7]
    for k in range(4):
        x = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
        want = torch.nn.functional.cross_entropy(x.unsqueeze(0), torch.tensor([k]))
        want.backward()
        zs = _values(logits)
        got = cross_entropy(zs, k)
        assert isinstance(got, Value)
        got.backward()
        assert _close(got.data, want.item())
        assert all(_close(z.grad, g) for z, g in zip(zs, x.grad.tolist(), strict=True))


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_batch_matches_torch(reduction: str) -> None:
    torch = _torch()
    x = torch.tensor(CE_BATCH, dtype=torch.float64, requires_grad=True)
    want = torch.nn.functional.cross_entropy(x, torch.tensor(CE_TARGETS), reduction=reduction)
    want.backward()
    zs = [_values(row) for row in CE_BATCH]
    got = cross_entropy(zs, CE_TARGETS, reduction=reduction)
    assert isinstance(got, Value)
    got.backward()
    assert _close(got.data, want.item())
    for row, grow in zip(zs, x.grad.tolist(), strict=True):
        assert all(_close(z.grad, g) for z, g in zip(row, grow, strict=True))
    # positional reduction and the default
    assert _close(cross_entropy(zs, CE_TARGETS, reduction).data, want.item())
    if reduction == "mean":
        assert _close(cross_entropy(zs, CE_TARGETS).data, want.item())


def test_cross_entropy_batch_reduction_none_is_per_sample() -> None:
    zs = [_values(row) for row in CE_BATCH]
    per = cross_entropy(zs, CE_TARGETS, reduction="none")
    assert isinstance(per, list) and len(per) == 4
    for row, k, v in zip(CE_BATCH, CE_TARGETS, per, strict=True):
        want = math.log(sum(math.exp(z) for z in row)) - row[k]
        assert _close(v.data, want)


@pytest.mark.torch
def test_cross_entropy_is_stable_at_huge_logits() -> None:
    torch = _torch()
    batch = [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]]
    targets = [1, 2]
    x = torch.tensor(batch, dtype=torch.float64, requires_grad=True)
    want = torch.nn.functional.cross_entropy(x, torch.tensor(targets))
    want.backward()
    zs = [_values(row) for row in batch]
    got = cross_entropy(zs, targets)
    got.backward()
    assert math.isfinite(got.data)
    assert _close(got.data, want.item())
    for row, grow in zip(zs, x.grad.tolist(), strict=True):
        for z, g in zip(row, grow, strict=True):
            assert math.isfinite(z.grad)
            assert abs(z.grad - g) <= 1e-12


def test_cross_entropy_rejects_bad_indices_and_shapes() -> None:
    with pytest.raises(ValueError):
        cross_entropy(_values([0.1, 0.2, 0.3]), 3)
    with pytest.raises(ValueError):
        cross_entropy(_values([0.1, 0.2, 0.3]), -1)
    with pytest.raises(ValueError):
        cross_entropy([_values([0.1, 0.2])], [2])
    with pytest.raises(ValueError):
        cross_entropy([_values([0.1, 0.2]), _values([0.3, 0.4])], [0])
    with pytest.raises(ValueError):
        cross_entropy([], [])


def test_cross_entropy_accepts_model_outputs_directly() -> None:
    model = MLP(2, [4, 3], seed=0)
    X = [[0.1, 0.2], [-0.5, 0.3]]
    logits = [model(x) for x in X]
    loss = cross_entropy(logits, [0, 2])  # type: ignore[arg-type]
    loss.backward()
    assert any(p.grad != 0.0 for p in model.parameters())


def test_l2_is_the_sum_of_squared_parameters() -> None:
    ps = _values([0.5, -2.0, 3.0])
    reg = l2(ps)
    assert isinstance(reg, Value)
    total = 0.25 + 4.0 + 9.0
    assert _close(reg.data, total) or _close(reg.data, total / 2)
    reg.backward()
    factor = reg.data / total
    assert all(_close(p.grad, 2 * factor * p.data) for p in ps)
    model = MLP(2, [3, 1], seed=0)
    assert l2(model).data == l2(model.parameters()).data  # a Module stands for its parameters
    assert l2(Value(3.0)).data == l2([Value(3.0)]).data
    want = sum(p.data**2 for p in model.parameters())
    assert _close(l2(model.parameters()).data, want) or _close(
        l2(model.parameters()).data, want / 2
    )


_logit = st.floats(-50.0, 50.0, allow_nan=False)


@pytest.mark.torch
@settings(max_examples=30)
@given(
    rows=st.integers(1, 5).flatmap(
        lambda k: st.lists(
            st.tuples(st.lists(_logit, min_size=k, max_size=k), st.integers(0, k - 1)),
            min_size=1,
            max_size=6,
        )
    ),
    reduction=st.sampled_from(["mean", "sum"]),
)
def test_cross_entropy_matches_torch_on_random_batches(
    rows: list[tuple[list[float], int]], reduction: str
) -> None:
    torch = _torch()
    logits = [r for r, _ in rows]
    targets = [t for _, t in rows]
    x = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    want = torch.nn.functional.cross_entropy(x, torch.tensor(targets), reduction=reduction)
    want.backward()
    zs = [_values(r) for r in logits]
    got = cross_entropy(zs, targets, reduction=reduction)
    got.backward()
    assert got.data == pytest.approx(want.item(), rel=1e-12, abs=1e-12)
    for row, grow in zip(zs, x.grad.tolist(), strict=True):
        for z, g in zip(row, grow, strict=True):
            assert z.grad == pytest.approx(g, rel=1e-9, abs=1e-12)


@pytest.mark.torch
@settings(max_examples=30)
@given(
    pairs=st.lists(st.tuples(st.floats(-1000.0, 1000.0), st.booleans()), min_size=1, max_size=8),
    reduction=st.sampled_from(["mean", "sum"]),
)
def test_binary_cross_entropy_matches_torch_on_random_logits(
    pairs: list[tuple[float, bool]], reduction: str
) -> None:
    torch = _torch()
    logits = [z for z, _ in pairs]
    labels = [int(t) for _, t in pairs]
    t = torch.tensor(labels, dtype=torch.float64)
    want, want_g = _torch_loss_and_grad(
        lambda x: torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        logits,
    )
    got, got_g = _ours(binary_cross_entropy, logits, labels, reduction=reduction)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
    for a, b in zip(got_g, want_g, strict=True):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-15)


def test_losses_take_numpy_arrays_and_generators_like_lists() -> None:
    np = pytest.importorskip("numpy")
    preds = [0.5, -1.0, 2.0]
    for fn, targets in ((mse, [1.0, 0.0, 2.5]), (binary_cross_entropy, [1, 0, 1])):
        want = fn(_values(preds), targets).data
        assert fn(_values(preds), np.array(targets)).data == want
        assert fn((v for v in _values(preds)), iter(targets)).data == want
    assert (
        hinge(_values(preds), np.array([1, -1, 1])).data == hinge(_values(preds), [1, -1, 1]).data
    )
    want = cross_entropy([_values(r) for r in CE_BATCH], CE_TARGETS).data
    assert cross_entropy(np.array(CE_BATCH), np.array(CE_TARGETS)).data == pytest.approx(want)


def test_keyword_names_are_the_issues() -> None:
    z = _values([0.5, -0.5])
    for fn, targets in ((sse, [1.0, 0.0]), (mse, [1.0, 0.0]), (hinge, [1, -1])):
        assert isinstance(fn(predictions=z, targets=targets, reduction="sum"), Value)
    assert isinstance(binary_cross_entropy(predictions=z, targets=[1, 0], reduction="sum"), Value)
    assert isinstance(cross_entropy(predictions=z, targets=1, reduction="mean"), Value)
    assert isinstance(l2(params=z), Value)
    opt = SGD(params=z, lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.1)
    assert (opt.lr, opt.momentum, opt.nesterov, opt.weight_decay) == (0.1, 0.5, True, 0.1)
    adam = Adam(params=z, lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)
    assert (adam.lr, tuple(adam.betas), adam.eps, adam.weight_decay) == (
        0.01,
        (0.8, 0.9),
        1e-6,
        0.1,
    )
    assert isinstance(Neuron(nin=2, activation="tanh", seed=0)([1.0, 2.0]), Value)
    assert len(Layer(nin=2, nout=3, activation="sigmoid", seed=0)([1.0, 2.0])) == 3
    assert isinstance(MLP(nin=2, nouts=[3, 1], activation="tanh", seed=0)([1.0, 2.0]), Value)
    assert len(make_moons(n=10, noise=0.1, seed=0)[0]) == 10
    assert len(make_spirals(n=30, classes=3, seed=0)[0]) == 30


def test_losses_are_gradchecked() -> None:
    from autograd_mini.gradcheck import gradcheck

    cases: list[tuple[Callable[..., Value], list[float]]] = [
        (lambda *z: mse(list(z), [0.5, -1.0, 2.0]), [0.3, -0.2, 1.1]),
        (lambda *z: sse(list(z), [0.5, -1.0, 2.0], reduction="sum"), [0.3, -0.2, 1.1]),
        (lambda *z: binary_cross_entropy(list(z), [1, 0, 1]), [0.3, -0.2, 1.1]),
        (lambda *z: hinge(list(z), [1, -1, 1]), [0.3, -0.2, 1.7]),
        (lambda *z: cross_entropy(list(z), 1), [0.3, -0.2, 1.1]),
        (lambda *z: l2(list(z)), [0.3, -0.2, 1.1]),
    ]
    for fn, xs in cases:
        assert gradcheck(fn, xs)


# --- optimizers -------------------------------------------------------------------------------

GRADS = [
    [0.5, -1.0, 2.0],
    [0.1, 0.3, -0.7],
    [-1.5, 0.2, 0.0],
    [0.8, -0.4, 1.1],
    [0.05, 0.9, -0.3],
]
INIT = [1.0, -0.5, 0.25]


def _run_ours(make: Callable[[list[Value]], Any], grads: Sequence[Sequence[float]]) -> list[float]:
    ps = _values(INIT)
    opt = make(ps)
    for g in grads:
        opt.zero_grad()
        for p, gi in zip(ps, g, strict=True):
            p.grad = gi
        opt.step()
    return [p.data for p in ps]


def _run_torch(make: Callable[[list[Any]], Any], grads: Sequence[Sequence[float]]) -> list[float]:
    torch = _torch()
    ps = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in INIT]
    opt = make(ps)
    for g in grads:
        opt.zero_grad()
        for p, gi in zip(ps, g, strict=True):
            p.grad = torch.tensor(gi, dtype=torch.float64)
        opt.step()
    return [p.item() for p in ps]


SGD_SETTINGS: list[dict[str, Any]] = [
    {},
    {"momentum": 0.9},
    {"momentum": 0.9, "nesterov": True},
    {"weight_decay": 0.1},
    {"momentum": 0.5, "weight_decay": 0.01},
    {"momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
]


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", SGD_SETTINGS, ids=lambda d: ",".join(d) or "plain")
def test_sgd_matches_torch_over_several_steps(kwargs: dict[str, Any]) -> None:
    torch = _torch()
    ours = _run_ours(lambda ps: SGD(ps, lr=0.1, **kwargs), GRADS)
    want = _run_torch(lambda ps: torch.optim.SGD(ps, lr=0.1, **kwargs), GRADS)
    assert all(_close(a, b, 1e-13) for a, b in zip(ours, want, strict=True))


def test_sgd_positional_signature_and_hand_computed_momentum() -> None:
    w = Value(1.0)
    opt = SGD([w], 0.1, 0.9, True, 0.0)  # params, lr, momentum, nesterov, weight_decay
    w.grad = 1.0
    opt.step()  # b = 1; g = 1 + 0.9·1 = 1.9; w = 1 − 0.19
    assert _close(w.data, 0.81)
    w.grad = 1.0
    opt.step()  # b = 0.9 + 1 = 1.9; g = 1 + 0.9·1.9 = 2.71; w = 0.81 − 0.271
    assert _close(w.data, 0.539)


@pytest.mark.torch
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"lr": 0.01},
        {"lr": 0.05, "weight_decay": 0.1},
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6},
        {"lr": 0.1, "betas": (0.0, 0.5), "weight_decay": 0.01},
    ],
    ids=lambda d: ",".join(d) or "defaults",
)
def test_adam_matches_torch_over_several_steps(kwargs: dict[str, Any]) -> None:
    torch = _torch()
    ours = _run_ours(lambda ps: Adam(ps, **kwargs), GRADS)
    want = _run_torch(lambda ps: torch.optim.Adam(ps, **kwargs), GRADS)
    assert all(_close(a, b, 1e-12) for a, b in zip(ours, want, strict=True))


def test_adam_first_step_moves_each_parameter_by_lr() -> None:
    ps = _values([1.0, -2.0])
    opt = Adam(ps, lr=0.1)
    ps[0].grad, ps[1].grad = 3.0, -0.001
    opt.step()  # m̂ = g, v̂ = g²: step = lr·g/(|g| + eps)
    assert ps[0].data == pytest.approx(0.9, abs=1e-9)
    assert ps[1].data == pytest.approx(-1.9, abs=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: SGD(ps, lr=0.1),
        lambda ps: Adam(ps, lr=0.05, weight_decay=0.01),
    ],
    ids=["sgd-nesterov", "sgd-momentum", "sgd", "adam"],
)
def test_optimizer_state_dict_resumes_a_run_exactly(make: Callable[[list[Value]], Any]) -> None:
    straight = _run_ours(make, GRADS)
    ps = _values(INIT)
    opt = make(ps)
    for g in GRADS[:2]:
        opt.zero_grad()
        for p, gi in zip(ps, g, strict=True):
            p.grad = gi
        opt.step()
    saved = json.loads(json.dumps(opt.state_dict()))  # survives JSON
    weights = [p.data for p in ps]
    ps2 = _values(weights)
    opt2 = make(ps2)
    opt2.load_state_dict(saved)
    for g in GRADS[2:]:
        opt2.zero_grad()
        for p, gi in zip(ps2, g, strict=True):
            p.grad = gi
        opt2.step()
    assert [p.data for p in ps2] == straight


def test_optimizers_zero_grad() -> None:
    ps = _values([1.0, 2.0])
    for opt in (SGD(ps, lr=0.1), Adam(ps)):
        for p in ps:
            p.grad = 5.0
        opt.zero_grad()
        assert all(p.grad == 0.0 for p in ps)


def test_optimizers_accept_model_parameters_and_train() -> None:
    model = MLP(2, [4, 1], seed=0)
    X, y = [[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0]
    for opt in (SGD(model.parameters(), lr=0.05), Adam(model.parameters(), lr=0.01)):
        first = None
        for _ in range(20):
            loss = mse([model(x) for x in X], y)  # type: ignore[misc]
            first = loss.data if first is None else first
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert loss.data < first


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=-0.1),
        lambda ps: SGD(ps, -0.1),
        lambda ps: SGD(ps, lr=0.1, momentum=-0.5),
        lambda ps: SGD(ps, lr=0.1, weight_decay=-1.0),
        lambda ps: SGD(ps, lr=float("nan")),
        lambda ps: Adam(ps, lr=-1e-3),
        lambda ps: Adam(ps, betas=(1.0, 0.999)),
        lambda ps: Adam(ps, betas=(0.9, 1.0)),
        lambda ps: Adam(ps, betas=(-0.1, 0.999)),
        lambda ps: Adam(ps, betas=(0.9, 1.5)),
        lambda ps: Adam(ps, eps=-1e-8),
        lambda ps: Adam(ps, weight_decay=-0.1),
    ],
)
def test_invalid_hyperparameters_raise_value_error(make: Callable[[list[Value]], Any]) -> None:
    with pytest.raises(ValueError):
        make(_values([1.0]))


def test_valid_edge_hyperparameters_are_accepted() -> None:
    ps = _values([1.0])
    SGD(ps, lr=0.0)
    Adam(ps, lr=0.0, betas=(0.0, 0.0))
    Adam(ps, betas=[0.9, 0.999])  # type: ignore[arg-type]


@pytest.mark.torch
def test_learning_rate_schedules_match_torch() -> None:
    torch = _torch()
    from autograd_mini.optim import LinearLR, StepLR

    cases = [
        (
            lambda o: StepLR(o, step_size=3, gamma=0.5),
            lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
        ),
        (
            lambda o: LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=7),
            lambda o: torch.optim.lr_scheduler.LinearLR(
                o, start_factor=1.0, end_factor=0.1, total_iters=7
            ),
        ),
        (lambda o: LinearLR(o), lambda o: torch.optim.lr_scheduler.LinearLR(o)),
    ]
    for ours_make, torch_make in cases:
        ours_opt = SGD(_values([1.0]), lr=0.2)
        torch_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
        ours, theirs = ours_make(ours_opt), torch_make(torch_opt)
        for _ in range(10):
            assert _close(ours_opt.lr, torch_opt.param_groups[0]["lr"], 1e-12)
            ours_opt.step()
            torch_opt.step()
            ours.step()
            theirs.step()


# --- datasets ---------------------------------------------------------------------------------


def _check_dataset(xs: object, y: object, n: int | None, classes: int) -> None:
    assert type(xs) is list and type(y) is list
    if n is not None:
        assert len(xs) == n
    assert len(xs) == len(y)
    for point in xs:
        assert type(point) is list and len(point) == 2
        assert all(type(c) is float and math.isfinite(c) for c in point)
    assert all(type(label) is int for label in y)
    assert set(y) == set(range(classes))


@pytest.mark.parametrize(
    ("make", "classes"),
    [
        (lambda seed: make_moons(100, 0.1, seed), 2),
        (lambda seed: make_moons(n=101, noise=0.0, seed=seed), 2),
        (lambda seed: make_circles(100, 0.05, seed), 2),
        (lambda seed: make_circles(n=100, noise=0.05, seed=seed), 2),
        (lambda seed: make_xor(100, 0.0, seed), 2),
        (lambda seed: make_xor(n=100, noise=0.1, seed=seed), 2),
        (lambda seed: make_spirals(90, 3, seed=seed), 3),
        (lambda seed: make_spirals(100, 2, seed=seed), 2),
        (lambda seed: make_spirals(n=120, classes=4, seed=seed), 4),
    ],
)
def test_datasets_are_plain_lists_and_deterministic_per_seed(
    make: Callable[[Any], tuple[list[list[float]], list[int]]], classes: int
) -> None:
    X, y = make(0)
    _check_dataset(X, y, None, classes)
    assert make(0) == (X, y)
    assert make(random.Random(3)) == make(random.Random(3))
    assert make(1) != (X, y)


def test_dataset_sizes() -> None:
    assert len(make_moons(100, 0.1, 0)[0]) == 100
    assert len(make_moons(7, 0.1, 0)[0]) == 7
    assert len(make_circles(50, 0.1, 0)[0]) == 50
    assert len(make_xor(30, 0.1, 0)[0]) == 30
    X, y = make_spirals(300, 3)
    assert len(X) in (300, 900)  # the issue does not say whether n counts points or per class
    assert y.count(0) == y.count(1) == y.count(2)


def test_moons_are_balanced_and_shaped_like_moons() -> None:
    X, y = make_moons(200, 0.0, 0)
    assert y.count(0) == y.count(1) == 100
    upper = [p for p, t in zip(X, y, strict=True) if t == 0]
    lower = [p for p, t in zip(X, y, strict=True) if t == 1]
    assert all(abs(math.hypot(px, py) - 1.0) < 1e-9 for px, py in upper)
    assert all(abs(math.hypot(px - 1.0, py - 0.5) - 1.0) < 1e-9 for px, py in lower)


def test_xor_labels_follow_the_quadrants_without_noise() -> None:
    X, y = make_xor(200, 0.0, 0)
    for (a, b), t in zip(X, y, strict=True):
        assert t == int((a > 0) != (b > 0))


def test_train_test_split_is_seeded_and_partitions_the_data() -> None:
    X, y = make_moons(100, 0.1, seed=0)
    parts = train_test_split(X, y, test_size=0.2, seed=0)
    X_train, X_test, y_train, y_test = parts
    assert len(X_train) == 80 and len(X_test) == 20
    assert len(y_train) == 80 and len(y_test) == 20
    assert train_test_split(X, y, test_size=0.2, seed=0) == parts
    assert train_test_split(X, y, test_size=0.2, seed=1) != parts
    pairs = sorted(zip(map(tuple, X_train + X_test), y_train + y_test, strict=True))
    assert pairs == sorted(zip(map(tuple, X), y, strict=True))
    with pytest.raises(ValueError):
        train_test_split(X, y[:-1], test_size=0.2, seed=0)
    assert train_test_split(X, y, 0.2, 0) == parts  # positional
    assert train_test_split(X, y, test_size=0.2, random_state=0) == parts  # scikit-learn's name


def test_minibatches_cover_the_data_once_in_a_seeded_order() -> None:
    X, y = make_moons(50, 0.1, seed=0)
    batches = list(data_module.minibatches(X, y, 16, seed=0))
    assert [len(bx) for bx, _ in batches] == [16, 16, 16, 2]
    assert all(len(bx) == len(by) for bx, by in batches)
    seen = sorted(tuple(p) for bx, _ in batches for p in bx)
    assert seen == sorted(tuple(p) for p in X)
    assert list(data_module.minibatches(X, y, 16, seed=0)) == batches
    for alias in ("iterate_minibatches", "batches"):
        assert list(getattr(data_module, alias)(X, y, 16, seed=0)) == batches
    in_order = list(data_module.minibatches(X, y, 25, shuffle=False))
    assert in_order == [(X[:25], y[:25]), (X[25:], y[25:])]


# --- the demo ---------------------------------------------------------------------------------


def test_moons_demo_main_writes_its_files_into_the_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    from autograd_mini.demos import moons

    out = tmp_path / "out"
    status = moons.main(["--steps", "3", "--seed", "1", "--n", "30", "--out", str(out)])
    assert status in (0, None)
    files = sorted(os.listdir(out))
    assert "model.json" in files
    assert sum(f.endswith(".png") for f in files) >= 2
    captured = capsys.readouterr()
    printed = captured.out
    assert "accuracy" in printed.lower()
    assert str(out) in printed
    assert "loss" in captured.err and "acc" in captured.err  # the progress bar
    model = MLP(2, [16, 16, 1], seed=5)
    model.load(out / "model.json")
    assert len(model.parameters()) == 337


def test_moons_demo_flags_for_optimizer_lr_hidden_sizes(tmp_path: Path) -> None:
    from autograd_mini.demos import moons

    out = tmp_path / "adam"
    args = ["--steps", "2", "--seed", "0", "--optimizer", "adam", "--lr", "0.01"]
    args += ["--hidden", "8,4", "--out", str(out), "--no-plots", "--quiet"]
    assert moons.main(args) in (0, None)
    model = MLP(2, [8, 4, 1], seed=1)
    model.load(out / "model.json")  # the file has the requested architecture


@pytest.mark.parametrize(
    "spelling",
    [
        ["--hidden", "6", "5", "--output", "{out}"],
        ["--hidden", "6,5", "--output-dir", "{out}", "--optimizer", "Adam"],
        ["--hidden=6,5", "--out-dir", "{out}", "--learning-rate", "0.1"],
        ["--hidden", "6", "5", "--outdir", "{out}", "--epochs", "2"],
    ],
)
def test_moons_demo_accepts_common_flag_spellings(tmp_path: Path, spelling: list[str]) -> None:
    from autograd_mini.demos import moons

    out = tmp_path / "o"
    argv = [a.format(out=out) for a in spelling] + ["--steps", "2", "--no-plots", "--quiet"]
    assert moons.main(argv) in (0, None)
    MLP(2, [6, 5, 1]).load(out / "model.json")


def test_spirals_demo_main_runs_with_few_steps(tmp_path: Path) -> None:
    from autograd_mini.demos import spirals

    out = tmp_path / "spirals"
    assert spirals.main(["--steps", "2", "--out", str(out), "--no-plots", "--quiet"]) in (0, None)
    assert "model.json" in os.listdir(out)


def test_moons_demo_runs_as_a_module(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "m"
    argv = ["--steps", "2", "--n", "20", "--out", str(out), "--no-plots", "--quiet"]
    done = subprocess.run(
        [sys.executable, "-m", "autograd_mini.demos.moons", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "accuracy" in done.stdout
    assert (out / "model.json").exists()


@pytest.mark.slow
def test_moons_demo_default_run_reaches_97_percent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from autograd_mini.demos import moons

    out = tmp_path / "full"
    assert moons.main(["--out", str(out), "--no-plots", "--quiet"]) in (0, None)
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["accuracy"] >= 0.97
    assert "accuracy" in capsys.readouterr().out
