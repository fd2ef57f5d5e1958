"""How the core is layered: autograd_mini.grad_mode (modes, per context), backprop (the order and
the one reverse walk, duck-typed over nodes), anomaly (its checks and errors), engine (Value and
node construction) — each importable first, the engine's public names the same objects as their
homes', and no module swapping another's globals: modes are ContextVars."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from autograd_mini import (
    Value,
    backprop,
    detect_anomaly,
    engine as engine_module,
    grad,
    grad_mode,
    no_grad,
)

_HOMES = {
    backprop: ["GraphTooLargeError", "topological_order"],
    grad_mode: ["comparison_hook", "enable_grad", "is_grad_enabled", "no_grad"],
}


@pytest.mark.parametrize(
    ("home", "name"), [(home, name) for home, names in _HOMES.items() for name in names]
)
def test_a_name_is_the_same_object_when_imported_from_the_engine(home: object, name: str) -> None:
    assert getattr(engine_module, name) is getattr(home, name)


def _globals_of_the_package() -> dict[str, dict[str, int]]:
    return {
        name: {k: id(v) for k, v in vars(module).items()}
        for name, module in sorted(sys.modules.items())
        if name.startswith("autograd_mini") and isinstance(module, types.ModuleType)
    }


def test_modes_swap_no_module_global() -> None:
    before = _globals_of_the_package()
    with detect_anomaly(), no_grad():
        assert (Value(1.0) * 2.0).is_leaf
        inside = _globals_of_the_package()
    assert inside == before


def test_gradients_recorded_by_backprop_inside_detect_anomaly_get_creation_sites() -> None:
    x = Value(2.0)
    y = x * x * x
    with detect_anomaly(check_nan=False):
        (dy,) = grad(y, [x], create_graph=True)
    assert dy.data == 12.0
    assert getattr(dy, "_site", None) is not None
    (plain,) = grad(y, [x], create_graph=True)
    assert plain.data == 12.0
    assert not hasattr(plain, "_site")


@pytest.mark.parametrize(
    "module",
    [
        "autograd_mini.program",
        "autograd_mini.pycode",
        "autograd_mini.registry",
        "autograd_mini.ops",
        "autograd_mini.backprop",
        "autograd_mini.grad_mode",
        "autograd_mini.anomaly",
    ],
)
def test_each_core_module_can_be_imported_first(module: str) -> None:
    code = f"import {module}, autograd_mini.engine as e; print(e.Value(3.0).data)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "3.0"
