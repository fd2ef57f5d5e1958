"""Value.register_hook: watch and replace gradients during backward() and grad()."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_mini import Value, grad, instrument
from autograd_mini import engine as engine_module
from autograd_mini.testing import _BINARY, _UNARY, Expression, expressions


@pytest.fixture(autouse=True)
def no_leftover_hooks() -> Any:
    """A hook keeps its Value registered until removed: start and end every test without any."""
    instrument.HOOKS.clear()
    yield
    instrument.HOOKS.clear()


# --- basics -------------------------------------------------------------------------------------


def test_hook_sees_the_complete_gradient_once_per_pass() -> None:
    x = Value(3.0)
    b = x * 2.0
    r = b * b + b  # dr/db = 2b + 1 = 13, summed over both consumers before the hook runs
    seen: list[float] = []
    b.register_hook(seen.append)
    r.backward()
    assert seen == [13.0]
    assert x.grad == 26.0


def test_a_returned_number_replaces_the_gradient_that_flows_on() -> None:
    x = Value(3.0)
    b = x * 2.0
    b.register_hook(lambda g: 10.0)
    (b * b).backward()
    assert x.grad == 20.0  # 10 · ∂b/∂x


def test_a_leaf_hook_result_is_what_accumulates_into_grad() -> None:
    w = Value(2.0)
    w.register_hook(lambda g: g * 0.5)
    (w * w).backward()
    (w * w).backward()
    assert w.grad == 4.0  # 2 · (2w · 0.5)


def test_hooks_chain_in_registration_order() -> None:
    x = Value(1.0)
    calls: list[tuple[str, float]] = []

    def first(g: float) -> float:
        calls.append(("first", g))
        return g + 1.0

    def second(g: float) -> None:
        calls.append(("second", g))

    x.register_hook(first)
    x.register_hook(second)
    (x * 5.0).backward()
    assert calls == [("first", 5.0), ("second", 6.0)]
    assert x.grad == 6.0


def test_remove_stops_the_hook_and_is_idempotent() -> None:
    x = Value(1.0)
    seen: list[float] = []
    handle = x.register_hook(seen.append)
    (x * 2.0).backward()
    handle.remove()
    handle.remove()
    (x * 2.0).backward()
    assert seen == [2.0]
    assert not instrument.HOOKS


def test_handle_as_context_manager_removes_on_exit() -> None:
    x = Value(1.0)
    seen: list[float] = []
    with x.register_hook(seen.append):
        (x * 2.0).backward()
    (x * 2.0).backward()
    assert seen == [2.0]


def test_grad_returns_the_hooked_gradient_and_leaves_grad_alone() -> None:
    x = Value(2.0)
    y = x * x
    y.register_hook(lambda g: g * 100.0)
    (gy,) = grad(y * 3.0, [y])
    (gx,) = grad(y * 3.0, [x])
    assert (gy.data, gx.data) == (300.0, 1200.0)
    assert x.grad == 0.0


def test_hook_on_the_root_sees_the_seed() -> None:
    x = Value(2.0)
    r = x * 5.0
    seen: list[float] = []
    r.register_hook(lambda g: seen.append(g) or g * 2.0)  # type: ignore[func-returns-value]
    r.backward(grad=0.5)
    assert seen == [0.5]
    assert x.grad == 5.0


def test_hooks_under_create_graph_get_values_and_stay_differentiable() -> None:
    x = Value(1.5)
    y = x * x
    kinds: list[type] = []
    handle = y.register_hook(lambda g: kinds.append(type(g)) or g * y)  # type: ignore[func-returns-value]
    (gx,) = grad(y, [x], create_graph=True)  # hooked: y · 2x = 2x³
    assert kinds == [Value]
    assert gx.data == 2 * 1.5**3
    handle.remove()  # else it would also run in the next pass, which goes through y again
    (ggx,) = grad(gx, [x])
    assert ggx.data == pytest.approx(6 * 1.5**2, rel=1e-15)


def test_hook_not_on_the_path_is_not_called() -> None:
    x, z = Value(1.0), Value(2.0)
    seen: list[float] = []
    z.register_hook(seen.append)
    (x * 3.0).backward()
    assert seen == []


def test_a_bad_hook_result_is_a_type_error_naming_the_hook() -> None:
    x = Value(1.0)
    x.register_hook(lambda g: "big")
    y = x * 2.0
    with pytest.raises(TypeError, match="register_hook: the result of hook"):
        y.backward()
    assert x._g is None and x.grad == 0.0  # the pass was undone


def test_register_hook_needs_a_callable() -> None:
    with pytest.raises(TypeError, match="register_hook: fn must be callable, got int"):
        Value(1.0).register_hook(3)  # type: ignore[arg-type]


def test_hooks_of_released_interior_nodes_are_dropped() -> None:
    w = Value(1.0)
    leaf_handle = w.register_hook(lambda g: None)
    for _ in range(3):
        h = w * 2.0
        h.register_hook(lambda g: None)
        (h * h).backward()
    assert list(instrument.HOOKS) == [w]  # no graph kept alive by its hooks
    leaf_handle.remove()


def test_without_hooks_backward_takes_the_plain_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    def instrumented(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the instrumented loop ran without hooks")

    monkeypatch.setattr(instrument, "backprop", instrumented)
    x = Value(2.0)
    (x * x).backward()
    grad(x * x, [x])
    grad(x * x, [x], create_graph=True)
    assert x.grad == 4.0
    assert engine_module._inst is instrument


# --- PyTorch as the oracle ----------------------------------------------------------------------


def pool(f: Expression, inputs: list[Any]) -> list[Any]:
    """Every intermediate result of the expression (inputs first), for either engine."""
    values = list(inputs)
    for name, args in f.steps:
        fn = _UNARY[name] if name in _UNARY else _BINARY[name]
        values.append(fn(*(values[i] for i in args)))
    return values


hook_specs = st.lists(
    st.tuples(st.integers(0, 50), st.sampled_from(["watch", "scale", "shift"])),
    min_size=1,
    max_size=4,
)


def make_hook(kind: str, seen: list[float]) -> Any:
    def hook(g: Any) -> Any:
        seen.append(g if isinstance(g, float) else float(g.detach()))
        if kind == "scale":
            return g * 0.5
        if kind == "shift":
            return g + 1.0
        return None

    return hook


@pytest.mark.torch
@given(expressions(2, max_steps=6), st.lists(st.floats(-2, 2), min_size=2, max_size=2), hook_specs)
def test_hooks_match_torch_register_hook(
    f: Expression, xs: list[float], specs: list[tuple[int, str]]
) -> None:
    torch = pytest.importorskip("torch")
    leaves = [Value(x) for x in xs]
    tleaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    ours, theirs = pool(f, leaves), pool(f, tleaves)
    seen_ours: list[list[float]] = []
    seen_torch: list[list[float]] = []
    for index, kind in specs:
        k = index % len(ours)
        seen_ours.append([])
        seen_torch.append([])
        ours[k].register_hook(make_hook(kind, seen_ours[-1]))
        theirs[k].register_hook(make_hook(kind, seen_torch[-1]))
    ours[-1].backward()
    theirs[-1].backward()
    for a, b in zip(seen_ours, seen_torch, strict=True):
        assert len(a) == len(b)
        assert all(
            math.isclose(p, q, rel_tol=1e-12, abs_tol=1e-12) for p, q in zip(a, b, strict=True)
        )
    for leaf, tleaf in zip(leaves, tleaves, strict=True):
        want = 0.0 if tleaf.grad is None else tleaf.grad.item()
        assert math.isclose(leaf.grad, want, rel_tol=1e-12, abs_tol=1e-12)
    instrument.HOOKS.clear()  # hypothesis runs many examples in one test


@pytest.mark.torch
@given(
    expressions(2, max_steps=6),
    st.lists(st.floats(-2, 2), min_size=2, max_size=2),
    hook_specs,
    st.booleans(),
)
def test_hooks_in_grad_match_torch_autograd_grad(
    f: Expression, xs: list[float], specs: list[tuple[int, str]], create_graph: bool
) -> None:
    torch = pytest.importorskip("torch")
    leaves = [Value(x) for x in xs]
    tleaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    ours, theirs = pool(f, leaves), pool(f, tleaves)
    for index, kind in specs:
        k = index % len(ours)
        ours[k].register_hook(make_hook(kind, []))
        theirs[k].register_hook(make_hook(kind, []))
    got = grad(ours[-1], leaves, create_graph=create_graph)
    want = torch.autograd.grad(
        theirs[-1], tleaves, create_graph=create_graph, allow_unused=True, materialize_grads=True
    )
    for g, w in zip(got, want, strict=True):
        assert math.isclose(g.data, w.item(), rel_tol=1e-12, abs_tol=1e-12)
    if create_graph and want[0].requires_grad:
        # the hooks run again in the second pass wherever it reaches their Values, in both
        (second,) = grad(got[0], [leaves[1]])
        (want2,) = torch.autograd.grad(want[0], [tleaves[1]], allow_unused=True)
        want2_value = 0.0 if want2 is None else want2.item()
        assert math.isclose(second.data, want2_value, rel_tol=1e-11, abs_tol=1e-11)
    instrument.HOOKS.clear()
