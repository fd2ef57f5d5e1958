"""Loading model files is bounded: hostile or corrupt files raise StateDictError naming the path,
before anything large is built (issue 13, item 4)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from autograd_mini import nn
from autograd_mini.jsonload import JSONFileError, read_json
from autograd_mini.nn import MLP, StateDictError


def _saved(arch: dict[str, object], state: object, **extra: object) -> str:
    doc = {"format": "autograd_mini.state_dict", "version": 1, "architecture": arch}
    doc |= extra
    doc["state_dict"] = state
    return json.dumps(doc)


def _both_loads(path: Path) -> list[pytest.ExceptionInfo[StateDictError]]:
    """MLP.load(path) and model.load(path): each must raise StateDictError naming the path."""
    infos = []
    for load in (MLP.load, MLP(2, [3, 1], seed=0).load):
        with pytest.raises(StateDictError) as info:
            load(path)
        assert str(path) in str(info.value)
        assert isinstance(info.value, ValueError)
        infos.append(info)
    return infos


def test_deeply_nested_file_is_a_state_dict_error_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("[" * 100_000)
    for info in _both_loads(path):
        assert "nested" in str(info.value)


def test_nesting_inside_strings_does_not_count(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    model = MLP(2, [3, 1], seed=0)
    path.write_text(json.dumps(model.state_dict() | {"[" * 500: 1.0}))
    with pytest.raises(StateDictError, match=r"unexpected key '\[\[\["):
        model.load(path)


def test_file_of_very_many_arrays_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("[" + ",".join(["[[]]"] * 20_000) + "]")
    for info in _both_loads(path):
        assert "arrays and objects" in str(info.value)


@pytest.mark.parametrize(
    "arch",
    [
        {"type": "MLP", "nin": 2, "nouts": [1_000_000, 1_000_000, 1], "activation": "relu"},
        {"type": "MLP", "nin": 10**9, "nouts": [1], "activation": "relu"},
    ],
)
def test_huge_architecture_is_refused_before_it_is_built(
    tmp_path: Path, arch: dict[str, object]
) -> None:
    path = tmp_path / "m.json"
    path.write_text(_saved(arch, {"layers.0.neurons.0.b": 0.0}))
    start = time.perf_counter()
    with pytest.raises(StateDictError, match=r"parameters, more than the 1,000,000") as info:
        MLP.load(path)
    assert time.perf_counter() - start < 1.0  # nothing was built
    assert str(path) in str(info.value)


def test_parameter_count_is_checked_against_the_file_before_building(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    arch = MLP(2, [3, 1], seed=0).config()
    path.write_text(_saved(arch, {"layers.0.neurons.0.b": 0.0}))
    with pytest.raises(StateDictError, match=r"has 13 parameters but the state dict holds 1"):
        MLP.load(path)


@pytest.mark.parametrize(
    "arch",
    [
        {"type": "MLP", "nin": "2", "nouts": [1], "activation": "relu"},
        {"type": "MLP", "nin": 2, "nouts": 5, "activation": "relu"},
        {"type": "MLP", "nin": 2, "nouts": [0], "activation": "relu"},
        {"type": "MLP", "nin": 2, "nouts": [1], "activation": "gelu"},
    ],
)
def test_malformed_architecture_is_a_state_dict_error(
    tmp_path: Path, arch: dict[str, object]
) -> None:
    path = tmp_path / "m.json"
    path.write_text(_saved(arch, {}))
    with pytest.raises(StateDictError) as info:
        MLP.load(path)
    assert str(path) in str(info.value)


def test_file_larger_than_the_limit_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.json"
    MLP(2, [3, 1], seed=0).save(path)
    monkeypatch.setattr(nn, "MAX_FILE_BYTES", path.stat().st_size - 1)
    for info in _both_loads(path):
        assert "over the limit" in str(info.value)
    monkeypatch.setattr(nn, "MAX_FILE_BYTES", path.stat().st_size)
    assert MLP.load(path).state_dict() == MLP(2, [3, 1], seed=0).state_dict()


def test_non_utf8_file_is_a_state_dict_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b'{"format": "\xff\xfe"}')
    for info in _both_loads(path):
        assert "not UTF-8" in str(info.value) and "byte 12" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1.0, "a": 2.0}',
        _saved(MLP(2, [1], seed=0).config(), {}).replace(
            '"version": 1', '"version": 1, "version": 1'
        ),
    ],
)
def test_duplicate_keys_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(text)
    for info in _both_loads(path):
        assert "appears twice" in str(info.value)


def test_duplicate_parameter_in_a_saved_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    model = MLP(2, [1], seed=0)
    model.save(path)
    text = path.read_text().replace(
        '"layers.0.neurons.0.b":', '"layers.0.neurons.0.w.0": 5.0, "layers.0.neurons.0.b":'
    )
    path.write_text(text)
    with pytest.raises(StateDictError, match=r"'layers\.0\.neurons\.0\.w\.0' appears twice"):
        MLP.load(path)


@pytest.mark.parametrize("version", ["1.0", "true", '"1"', "2", "null"])
def test_version_must_be_the_integer_1(tmp_path: Path, version: str) -> None:
    path = tmp_path / "m.json"
    MLP(2, [3, 1], seed=0).save(path)
    path.write_text(path.read_text().replace('"version": 1', f'"version": {version}'))
    for info in _both_loads(path):
        assert "unsupported format" in str(info.value)


@pytest.mark.parametrize(
    "text", ["", "not json", "[1, 2]", '{"a": NaN}', '{"a": Infinity}', "1" * 5000]
)
def test_other_bad_files_are_state_dict_errors_naming_the_path(tmp_path: Path, text: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(text)
    _both_loads(path)


def test_bare_weights_given_to_the_class_is_a_state_dict_error(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps(MLP(2, [1], seed=0).state_dict()))
    with pytest.raises(StateDictError, match="bare weights"):
        MLP.load(path)


def test_read_json_reports_its_own_limits(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"a": [[1]], "b": "[[[[[[[["}')
    assert read_json(path, max_bytes=100, max_depth=3, max_containers=5) == {
        "a": [[1]],
        "b": "[[[[[[[[",
    }
    with pytest.raises(JSONFileError, match="nested 3 levels deep, more than the 2"):
        read_json(path, max_bytes=100, max_depth=2, max_containers=5)
    with pytest.raises(JSONFileError, match="more than 2 JSON arrays and objects"):
        read_json(path, max_bytes=100, max_depth=2, max_containers=2)
    with pytest.raises(JSONFileError, match="over the limit of 10"):
        read_json(path, max_bytes=10, max_depth=3, max_containers=5)
