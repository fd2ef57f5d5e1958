"""Tests for autograd_mini.nn: Neuron, Layer, MLP, parameters, state dicts, save/load."""

from __future__ import annotations

import json
import math
import os
import random

import pytest
from hypothesis import given, strategies as st

from autograd_mini import Value
from autograd_mini.gradcheck import gradcheck
from autograd_mini.nn import MLP, Layer, Module, Neuron, StateDictError

# --- architecture and parameters ----------------------------------------------------------------


def test_mlp_2_16_16_1_has_337_parameters():
    assert len(MLP(2, [16, 16, 1]).parameters()) == 337


@given(
    nin=st.integers(1, 5),
    nouts=st.lists(st.integers(1, 5), min_size=1, max_size=4),
)
def test_parameter_count_is_sum_of_fan_in_plus_bias_times_width(nin, nouts):
    sizes = [nin, *nouts]
    expected = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))
    model = MLP(nin, nouts, seed=0)
    assert len(model.parameters()) == expected
    assert len(model.named_parameters()) == expected


def test_named_parameters_use_dotted_paths_in_a_fixed_order():
    model = MLP(2, [16, 16, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert "layers.0.neurons.3.w.1" in names
    assert names[-1] == "layers.2.neurons.0.b"
    assert len(set(names)) == len(names)
    named = dict(model.named_parameters())
    assert named["layers.0.neurons.3.w.1"] is model.layers[0].neurons[3].w[1]
    assert named["layers.1.neurons.15.b"] is model.layers[1].neurons[15].b


def test_parameters_are_named_parameters_in_the_same_order():
    model = MLP(3, [4, 2], seed=1)
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert all(a is b for a, b in zip(model.parameters(), model.parameters(), strict=True))


def test_neuron_and_layer_named_parameters():
    n = Neuron(3, seed=0)
    assert [k for k, _ in n.named_parameters()] == ["w.0", "w.1", "w.2", "b"]
    layer = Layer(2, 2, seed=0)
    assert [k for k, _ in layer.named_parameters()] == [
        "neurons.0.w.0",
        "neurons.0.w.1",
        "neurons.0.b",
        "neurons.1.w.0",
        "neurons.1.w.1",
        "neurons.1.b",
    ]


def test_repr_shows_the_architecture():
    assert repr(MLP(2, [16, 16, 1])) == "MLP(2, [16, 16, 1], activation='relu')"
    assert repr(Layer(3, 4, activation="tanh")) == "Layer(3, 4, activation='tanh')"
    assert repr(Neuron(5, activation="linear")) == "Neuron(5, activation='linear')"


def test_mlp_hidden_layers_use_the_activation_and_the_last_is_linear():
    model = MLP(2, [3, 4, 2], activation="tanh", seed=0)
    assert [layer.activation for layer in model.layers] == ["tanh", "tanh", "linear"]
    assert all(n.activation == "linear" for n in model.layers[-1].neurons)


# --- forward ------------------------------------------------------------------------------------


def _set_neuron(n, ws, b):
    for p, w in zip(n.w, ws, strict=True):
        p.data = w
    n.b.data = b


@pytest.mark.parametrize(
    ("activation", "phi"),
    [
        ("relu", lambda z: max(0.0, z)),
        ("tanh", math.tanh),
        ("sigmoid", lambda z: 1.0 / (1.0 + math.exp(-z))),
        ("linear", lambda z: z),
    ],
)
@pytest.mark.parametrize("x", [[0.5, -2.0, 1.5], [-3.0, 0.25, 0.0]])
def test_neuron_computes_activation_of_weighted_sum_plus_bias(activation, phi, x):
    n = Neuron(3, activation=activation, seed=0)
    _set_neuron(n, [0.3, -0.7, 1.1], 0.2)
    z = 0.3 * x[0] - 0.7 * x[1] + 1.1 * x[2] + 0.2
    assert n(x).data == pytest.approx(phi(z), rel=1e-12, abs=1e-15)


def test_neuron_accepts_values_and_gradients_reach_the_inputs():
    n = Neuron(2, activation="linear", seed=0)
    _set_neuron(n, [2.0, -3.0], 0.5)
    x0, x1 = Value(1.0), Value(4.0)
    out = n([x0, x1])
    out.backward()
    assert (x0.grad, x1.grad) == (2.0, -3.0)
    assert (n.w[0].grad, n.w[1].grad, n.b.grad) == (1.0, 4.0, 1.0)


def test_layer_always_returns_a_list():
    out = Layer(2, 1, seed=0)([1.0, 2.0])
    assert isinstance(out, list)
    assert len(out) == 1
    assert isinstance(out[0], Value)
    assert len(Layer(2, 3, seed=0)([1.0, 2.0])) == 3


def test_mlp_returns_a_value_for_one_output_and_a_list_otherwise():
    assert isinstance(MLP(2, [4, 1], seed=0)([1.0, 2.0]), Value)
    out = MLP(2, [4, 3], seed=0)([1.0, 2.0])
    assert isinstance(out, list)
    assert len(out) == 3
    assert all(isinstance(v, Value) for v in out)


def test_mlp_forward_is_the_composition_of_its_layers():
    model = MLP(2, [3, 2], activation="tanh", seed=3)
    x = [0.4, -1.2]
    hidden = [
        math.tanh(sum(w.data * xi for w, xi in zip(n.w, x, strict=True)) + n.b.data)
        for n in model.layers[0].neurons
    ]
    expected = [
        sum(w.data * h for w, h in zip(n.w, hidden, strict=True)) + n.b.data
        for n in model.layers[1].neurons
    ]
    assert [v.data for v in model(x)] == pytest.approx(expected, rel=1e-12)


def test_mlp_last_layer_is_unbounded():
    model = MLP(1, [1], seed=0)  # a single linear neuron
    _set_neuron(model.layers[0].neurons[0], [10.0], -5.0)
    assert model([-3.0]).data == -35.0


# --- initialisation -----------------------------------------------------------------------------


def test_same_seed_gives_same_weights_and_other_seeds_differ():
    a = MLP(2, [8, 1], seed=42).state_dict()
    assert a == MLP(2, [8, 1], seed=42).state_dict()
    assert a != MLP(2, [8, 1], seed=43).state_dict()


def test_seed_may_be_a_random_generator():
    a = MLP(2, [4, 1], seed=random.Random(7)).state_dict()
    assert a == MLP(2, [4, 1], seed=random.Random(7)).state_dict()
    rng = random.Random(7)
    first = MLP(2, [4, 1], seed=rng).state_dict()
    second = MLP(2, [4, 1], seed=rng).state_dict()  # the generator has moved on
    assert first == a
    assert second != first


def test_no_seed_follows_the_global_random_state():
    random.seed(1234)
    a = MLP(2, [4, 1]).state_dict()
    random.seed(1234)
    assert MLP(2, [4, 1]).state_dict() == a


@pytest.mark.parametrize("nin", [1, 2, 16, 100])
def test_initial_weights_are_uniform_within_one_over_sqrt_fan_in(nin):
    n_out = 50
    layer = Layer(nin, n_out, seed=0)
    bound = 1.0 / math.sqrt(nin)
    values = [p.data for p in layer.parameters()]
    assert all(-bound <= v <= bound for v in values)
    # spread over the interval, not bunched up: the extremes come near the bounds
    assert max(values) > 0.8 * bound
    assert min(values) < -0.8 * bound


# --- bad arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize("nin", [0, -1])
def test_non_positive_sizes_raise_value_error(nin):
    with pytest.raises(ValueError, match="nin"):
        MLP(nin, [2])
    with pytest.raises(ValueError, match="nout"):
        Layer(2, nin)


@pytest.mark.parametrize("nin", ["2", 2.0, None, True])
def test_non_int_sizes_raise_type_error(nin):
    with pytest.raises(TypeError, match="nin"):
        Neuron(nin)


@pytest.mark.parametrize("nouts", [[], "16", None, 5])
def test_bad_layer_size_lists_raise_value_error(nouts):
    with pytest.raises(ValueError, match="nouts"):
        MLP(2, nouts)


def test_unknown_activation_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="'softmax'"):
        MLP(2, [3, 1], activation="softmax")


def test_bad_seed_raises_type_error():
    with pytest.raises(TypeError, match="seed"):
        MLP(2, [1], seed="abc")


def test_wrong_number_of_inputs_raises_value_error():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="expected 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])


@pytest.mark.parametrize("x", [["a", 1.0], [None, 1.0], 3.0, "ab"])
def test_non_numeric_inputs_raise_type_error(x):
    with pytest.raises(TypeError):
        MLP(2, [3, 1], seed=0)(x)


# --- gradients ----------------------------------------------------------------------------------


def _with_parameters(model, values):
    """Replace the model's parameter Values by ``values`` (in named order)."""
    it = iter(values)
    for layer in model.layers:
        for n in layer.neurons:
            n.w = [next(it) for _ in n.w]
            n.b = next(it)
    return model


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_mlp_gradients_with_respect_to_every_parameter_match_finite_differences(activation):
    template = MLP(2, [3, 2], activation=activation, seed=5)
    start = [p.data for p in template.parameters()]
    x = [0.7, -0.4]

    def f(*params):
        out = _with_parameters(MLP(2, [3, 2], activation=activation, seed=5), params)(x)
        return out[0] * out[0] + out[1].tanh()

    assert gradcheck(f, start, raise_exception=True)


def test_zero_grad_resets_every_parameter():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_a_users_module_finds_its_parameters_in_assignment_order():
    class Affine(Module):
        def __init__(self):
            self.scale = Value(2.0)
            self.sizes = [1, 2]  # numbers are not parameters
            self.name = "affine"
            self.inner = Neuron(2, activation="linear", seed=0)
            self.extra = [Value(0.5), [Value(1.5)]]
            self._cache = Value(9.0)  # private: skipped

        def __call__(self, x):
            return self.inner(x) * self.scale + self.extra[0]

    m = Affine()
    assert [k for k, _ in m.named_parameters()] == [
        "scale",
        "inner.w.0",
        "inner.w.1",
        "inner.b",
        "extra.0",
        "extra.1.0",
    ]
    before = m.state_dict()
    m.load_state_dict({k: v + 1.0 for k, v in before.items()})
    assert m.scale.data == 3.0
    m([1.0, 2.0]).backward()
    assert m.scale.grad != 0.0


def test_module_base_class_has_no_parameters():
    m = Module()
    assert m.parameters() == []
    assert m.state_dict() == {}


# --- state dicts --------------------------------------------------------------------------------


def test_state_dict_maps_names_to_floats():
    model = MLP(2, [3, 1], seed=0)
    sd = model.state_dict()
    assert list(sd) == [name for name, _ in model.named_parameters()]
    assert all(type(v) is float for v in sd.values())
    assert sd["layers.1.neurons.0.b"] == model.layers[1].neurons[0].b.data
    sd["layers.1.neurons.0.b"] = 99.0  # a copy: changing it does not touch the model
    assert model.layers[1].neurons[0].b.data != 99.0


def test_load_state_dict_copies_numbers_into_the_parameters():
    a, b = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    assert b([0.3, 0.9]).data == a([0.3, 0.9]).data


def test_load_state_dict_accepts_ints():
    model = MLP(1, [1], seed=0)
    model.load_state_dict({"layers.0.neurons.0.w.0": 2, "layers.0.neurons.0.b": -1})
    assert model([3.0]).data == 5.0


def _corrupt(sd, how):
    sd = dict(sd)
    if how == "missing":
        del sd["layers.0.neurons.2.w.1"]
    elif how == "extra":
        sd["layers.0.neurons.9.w.0"] = 1.0
    elif how == "string":
        sd["layers.0.neurons.2.w.1"] = "0.5"
    elif how == "none":
        sd["layers.0.neurons.2.w.1"] = None
    elif how == "bool":
        sd["layers.0.neurons.2.w.1"] = True
    elif how == "list":
        sd["layers.0.neurons.2.w.1"] = [0.5]
    return sd


@pytest.mark.parametrize("how", ["missing", "extra", "string", "none", "bool", "list"])
def test_bad_state_dict_raises_naming_the_key_and_leaves_model_unchanged(how):
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    bad = _corrupt(MLP(2, [3, 1], seed=1).state_dict(), how)
    key = "layers.0.neurons.9.w.0" if how == "extra" else "layers.0.neurons.2.w.1"
    with pytest.raises(StateDictError, match=key.replace(".", r"\.")) as info:
        model.load_state_dict(bad)
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, ValueError)
    assert model.state_dict() == before


def test_state_dict_of_another_architecture_is_rejected():
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(StateDictError):
        model.load_state_dict(MLP(2, [4, 1], seed=0).state_dict())
    with pytest.raises(StateDictError):
        model.load_state_dict(MLP(3, [3, 1], seed=0).state_dict())
    assert model.state_dict() == before


def test_load_state_dict_rejects_non_mappings():
    with pytest.raises(StateDictError, match="mapping"):
        MLP(2, [1], seed=0).load_state_dict([1.0, 2.0, 3.0])


# --- save and load ------------------------------------------------------------------------------


def test_save_then_load_reproduces_outputs_exactly(tmp_path):
    a = MLP(2, [16, 16, 1], seed=0)
    path = tmp_path / "model.json"
    a.save(path)
    b = MLP(2, [16, 16, 1], seed=99)
    b.load(path)
    assert b.state_dict() == a.state_dict()  # bit for bit: repr precision
    for x in ([0.1, 0.2], [-1.5, 3.25], [1e-3, -7.0]):
        assert b(x).data == a(x).data


def test_saved_file_is_plain_json_with_architecture(tmp_path):
    path = tmp_path / "model.json"
    model = MLP(2, [3, 2], activation="tanh", seed=0)
    model.save(str(path))
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "autograd_mini.state_dict"
    assert doc["architecture"] == {
        "type": "MLP",
        "nin": 2,
        "nouts": [3, 2],
        "activation": "tanh",
    }
    assert doc["state_dict"] == model.state_dict()


def test_save_overwrites_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    MLP(2, [3, 1], seed=1).save(path)
    assert os.listdir(tmp_path) == ["model.json"]
    check = MLP(2, [3, 1], seed=2)
    check.load(path)
    assert check.state_dict() == MLP(2, [3, 1], seed=1).state_dict()


def test_failed_save_keeps_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    old = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        MLP(2, [3, 1], seed=1).save(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.json"]


def test_saving_a_nan_weight_raises_value_error_naming_it(tmp_path):
    model = MLP(1, [1], seed=0)
    model.layers[0].neurons[0].b.data = math.nan
    with pytest.raises(ValueError, match=r"layers\.0\.neurons\.0\.b"):
        model.save(tmp_path / "m.json")
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"format": "autograd_mini.state_dict", "version": 1, "state_dict": {"layers.0',
        "[1, 2, 3]",
        "null",
        '{"layers.0.neurons.0.w.0": NaN, "layers.0.neurons.0.b": 1.0}',
    ],
)
def test_corrupted_file_raises_value_error_and_leaves_model_unchanged(tmp_path, text):
    path = tmp_path / "model.json"
    path.write_text(text, encoding="utf-8")
    model = MLP(1, [1], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError):
        model.load(path)
    assert model.state_dict() == before


def test_file_of_another_architecture_is_rejected_and_model_unchanged(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [4, 1], seed=0).save(path)
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(StateDictError, match="architecture"):
        model.load(path)
    assert model.state_dict() == before


def test_file_with_another_activation_is_rejected(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [3, 1], activation="tanh", seed=0).save(path)
    model = MLP(2, [3, 1], activation="relu", seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match="tanh"):
        model.load(path)
    assert model.state_dict() == before


def test_file_with_one_bad_number_is_rejected_and_model_unchanged(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=1).save(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["state_dict"]["layers.1.neurons.0.w.2"] = "oops"
    path.write_text(json.dumps(doc), encoding="utf-8")
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"layers\.1\.neurons\.0\.w\.2"):
        model.load(path)
    assert model.state_dict() == before


def test_bare_state_dict_file_loads(tmp_path):
    path = tmp_path / "weights.json"
    source = MLP(2, [3, 1], seed=1)
    path.write_text(json.dumps(source.state_dict()), encoding="utf-8")
    model = MLP(2, [3, 1], seed=0)
    model.load(path)
    assert model.state_dict() == source.state_dict()


# --- against PyTorch ----------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_forward_and_gradients_match_torch(activation):
    torch = pytest.importorskip("torch")
    model = MLP(3, [5, 4, 2], activation=activation, seed=11)
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[activation]
    tlayers = []
    for i, layer in enumerate(model.layers):
        lin = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(
                torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64)
            )
            lin.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        tlayers.append(lin)
        if i < len(model.layers) - 1:
            tlayers.append(act())
    tmodel = torch.nn.Sequential(*tlayers)
    x = [0.3, -1.1, 2.0]
    out = model(x)
    tout = tmodel(torch.tensor([x], dtype=torch.float64))[0]
    assert [v.data for v in out] == pytest.approx(tout.tolist(), rel=1e-12)
    (out[0] * 2.0 + out[1]).backward()
    (tout[0] * 2.0 + tout[1]).backward()
    ours = [[w.grad for w in n.w] for n in model.layers[0].neurons]
    assert ours == [
        pytest.approx(row, rel=1e-9, abs=1e-15) for row in tlayers[0].weight.grad.tolist()
    ]


# --- unordered inputs (issue 13, item 9) -------------------------------------------------------


@pytest.mark.parametrize(
    "bad", [{0.5, 1.5}, frozenset({0.5, 1.5}), {0.5: 1, 1.5: 2}, {"a": 0.5, "b": 1.5}.keys()]
)
@pytest.mark.parametrize("make", [lambda: MLP(2, [3, 1], seed=0), lambda: Layer(2, 3, seed=0)])
def test_model_called_with_an_unordered_collection_is_a_type_error(bad, make):
    with pytest.raises(TypeError, match="ordered sequence"):
        make()(bad)


def test_model_still_accepts_tuples_and_generators():
    model = MLP(2, [3, 1], seed=0)
    assert model((0.5, 1.5)).data == model([0.5, 1.5]).data == model(x for x in (0.5, 1.5)).data
