"""How the engine is split into modules: autograd_mini.engine (Value and node construction),
autograd_mini.backprop (the order and the reverse-mode passes) and autograd_mini.grad_mode
(recording on and off): every name stays importable from the engine, and anomaly mode's swap of
the engine's node constructor still reaches every node the other modules cause to be built."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograd_mini import Value, backprop, detect_anomaly, grad, grad_mode
from autograd_mini import engine as engine_module

_MOVED = {
    backprop: ["GraphTooLargeError", "grad", "topological_order", "_begin_pass", "_release"],
    grad_mode: ["comparison_hook", "enable_grad", "is_grad_enabled", "no_grad"],
}


@pytest.mark.parametrize(
    ("home", "name"), [(home, name) for home, names in _MOVED.items() for name in names]
)
def test_a_moved_name_is_the_same_object_when_imported_from_the_engine(
    home: object, name: str
) -> None:
    assert getattr(engine_module, name) is getattr(home, name)


def test_the_engine_reads_the_same_recording_switch_and_comparison_hook_as_grad_mode() -> None:
    assert engine_module._grad_enabled is grad_mode._grad_enabled
    assert engine_module._COMPARISON_HOOK is grad_mode._COMPARISON_HOOK
    with grad_mode.no_grad():
        assert (Value(1.0) * 2.0).is_leaf
    assert not (Value(1.0) * 2.0).is_leaf
    seen: list[str] = []
    with grad_mode.comparison_hook(lambda lhs, symbol, rhs, outcome: seen.append(symbol)):
        assert Value(1.0) < 2.0
    assert seen == ["<"]


def test_only_the_engine_binds_the_node_constructor_that_anomaly_mode_swaps() -> None:
    # a module with its own `_node` would build nodes that detect_anomaly cannot check
    holders = [
        name
        for name, module in sorted(sys.modules.items())
        if name.startswith("autograd_mini") and module is not None and "_node" in vars(module)
    ]
    assert holders == ["autograd_mini.engine"]


def test_gradients_recorded_by_backprop_inside_detect_anomaly_get_creation_sites() -> None:
    # grad(create_graph=True) in backprop builds its nodes through the engine's Value operators,
    # so they go through the constructor detect_anomaly swapped in
    x = Value(2.0)
    y = x * x * x
    with detect_anomaly(check_nan=False):
        (dy,) = grad(y, [x], create_graph=True)
    assert dy.data == 12.0
    assert getattr(dy, "_site", None) is not None
    (plain,) = grad(y, [x], create_graph=True)
    assert plain.data == 12.0
    assert not hasattr(plain, "_site")


@pytest.mark.parametrize("module", ["autograd_mini.backprop", "autograd_mini.grad_mode"])
def test_each_split_module_can_be_imported_first(module: str) -> None:
    code = f"import {module}, autograd_mini.engine as e; print(e.Value(3.0).data)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "3.0"
