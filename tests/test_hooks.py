"""Value.register_hook: watch and replace gradients during backward() and grad()."""

from __future__ import annotations

import gc
import math
from typing import Any

import pytest
from hypothesis import example, given, strategies as st

from autograd_mini import Value, backprop, engine as engine_module, grad
from autograd_mini.gradcheck import numerical_grad
from autograd_mini.testing import _BINARY, _UNARY, Expression, expressions


def live_hooks() -> int:
    """How many Values alive have hooks (the engine's weak registry of hook lists)."""
    return sum(1 for hooks in engine_module._LIVE_HOOKS if hooks)


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
    assert x._hooks == []


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


def test_grad_runs_only_the_hooks_on_paths_to_its_inputs() -> None:
    a, b = Value(1.0), Value(2.0)
    ca, cb = a.cos(), b.sin()
    seen: list[str] = []
    for name, v in [("a", a), ("b", b), ("ca", ca), ("cb", cb)]:
        v.register_hook(lambda g, name=name: seen.append(name))
    r = ca * cb
    grad(r, [a])
    assert seen == ["ca", "a"]  # cb and b lead to no wanted input
    seen.clear()
    grad(r, [ca], create_graph=True)
    assert seen == ["ca"]  # a is upstream of the wanted input: its gradient is not needed
    seen.clear()
    r.backward()
    assert sorted(seen) == ["a", "b", "ca", "cb"]  # backward() reaches every node


def test_a_hook_runs_again_where_a_recorded_gradient_reuses_its_value() -> None:
    x = Value(1.0)
    y = x.exp()
    handle = y.register_hook(lambda g: g * 0.5)
    (gx,) = grad(y, [x], create_graph=True)  # 0.5 · out, and out is y itself
    (hooked_again,) = grad(gx, [x])  # the pass reaches y through out: halved once more
    assert (gx.data, hooked_again.data) == (0.5 * math.e, 0.25 * math.e)
    handle.remove()
    (plain,) = grad(gx, [x])  # d/dx (0.5 eˣ)
    assert plain.data == 0.5 * math.e


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


def test_hooks_live_on_their_value_and_go_with_it() -> None:
    w = Value(1.0)
    leaf_handle = w.register_hook(lambda g: None)
    before = live_hooks()
    for _ in range(3):
        h = w * 2.0
        h.register_hook(lambda g: None)
        (h * h).backward()
        k = w * 3.0
        k.register_hook(lambda g: None)
        grad(w * w, [w])  # k is never backpropagated through: it goes with its Value anyway
    del h, k
    assert live_hooks() == before  # no graph kept alive by its hooks
    leaf_handle.remove()
    assert live_hooks() == before - 1


def test_a_handle_does_not_keep_its_value_alive() -> None:
    x = Value(1.0)
    handle = x.register_hook(lambda g: None)
    before = live_hooks()
    del x
    assert live_hooks() == before - 1
    handle.remove()  # harmless after the Value is gone


def test_without_hooks_a_pass_does_not_look_for_any(monkeypatch: pytest.MonkeyPatch) -> None:
    def looking(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a pass looked for hooks although no Value has one")

    gc.collect()  # Values of earlier tests, and their hooks
    assert live_hooks() == 0
    monkeypatch.setattr(backprop, "hooked_nodes", looking)
    monkeypatch.setattr(backprop, "run_hooks", looking)
    x = Value(2.0)
    (x * x).backward()
    grad(x * x, [x])
    grad(x * x, [x], create_graph=True)
    assert x.grad == 4.0


def test_a_hook_elsewhere_leaves_other_passes_on_the_plain_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    elsewhere = Value(5.0)
    handle = elsewhere.register_hook(lambda g: None)

    def hooking(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a pass over a graph without hooks ran the hook step")

    monkeypatch.setattr(backprop, "run_hooks", hooking)
    x = Value(2.0)
    (x * x).backward()
    assert x.grad == 4.0
    handle.remove()


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


# Which leaves grad() differentiates for: each alone or both (torch runs only the hooks on paths
# to the wanted inputs).
wanted_leaves = st.sampled_from([(0, 1), (0,), (1,)])


@pytest.mark.torch
@given(
    expressions(2, max_steps=6),
    st.lists(st.floats(-2, 2), min_size=2, max_size=2),
    hook_specs,
    st.booleans(),
    wanted_leaves,
)
@example(  # the second pass ran the hook on t0 again through div's rule, which reuses t0
    f=Expression(
        n_inputs=2,
        steps=(
            ("div", (1, 0)),
            ("cos", (0,)),
            ("cos", (0,)),
            ("cos", (0,)),
            ("cos", (2,)),
            ("mul", (6, 2)),
        ),
    ),
    xs=[1.0, 0.0],
    specs=[(2, "scale")],
    create_graph=True,
    which=(0, 1),
)
@example(  # torch's x**n rule drops a derivative at n = 0: compared with differences only
    f=Expression(n_inputs=2, steps=(("pow", (0, 1)), ("mul", (2, 0)))),
    xs=[1.0, 0.0],
    specs=[(0, "watch")],
    create_graph=True,
    which=(0, 1),
)
def test_hooks_in_grad_match_torch_autograd_grad(
    f: Expression,
    xs: list[float],
    specs: list[tuple[int, str]],
    create_graph: bool,
    which: tuple[int, ...],
) -> None:
    torch = pytest.importorskip("torch")
    leaves = [Value(x) for x in xs]
    tleaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    ours, theirs = pool(f, leaves), pool(f, tleaves)
    seen_ours: list[list[float]] = []
    seen_torch: list[list[float]] = []
    handles: list[Any] = []
    for index, kind in specs:
        k = index % len(ours)
        seen_ours.append([])
        seen_torch.append([])
        handles.append(ours[k].register_hook(make_hook(kind, seen_ours[-1])))
        handles.append(theirs[k].register_hook(make_hook(kind, seen_torch[-1])))
    got = grad(ours[-1], [leaves[i] for i in which], create_graph=create_graph)
    want = torch.autograd.grad(
        theirs[-1],
        [tleaves[i] for i in which],
        create_graph=create_graph,
        allow_unused=True,
        materialize_grads=True,
    )
    for a, b in zip(seen_ours, seen_torch, strict=True):  # the same hooks ran, on the same g
        assert len(a) == len(b)
        assert all(
            math.isclose(p, q, rel_tol=1e-12, abs_tol=1e-12) for p, q in zip(a, b, strict=True)
        )
    for g, w in zip(got, want, strict=True):
        assert math.isclose(g.data, w.item(), rel_tol=1e-12, abs_tol=1e-12)
    if create_graph and want[0].requires_grad:
        # The hooked gradient is a function of the inputs (a hook's result is recorded like any
        # operation); its derivative is well defined, so compare that, with the hooks removed.
        # Left in place, a hook would run again wherever a recorded rule reuses its Value, and
        # which Values a rule reuses is each library's choice: torch's exp rule reuses its
        # output, its div rule recomputes x/y instead of reusing it (ours reuses it), so even
        # in torch alone x.exp() and x.exp() * 1.0 give different "second derivatives" under
        # the same hook (test_a_hook_runs_again_where_a_recorded_gradient_reuses_its_value).
        for handle in handles:
            handle.remove()
        (second,) = grad(got[0], [leaves[1]])
        numeric = numerical_grad(lambda *v: hooked_gradient(f, v, specs, which), xs)[1]
        assert abs(second.data - numeric) <= 1e-5 + 1e-3 * abs(numeric)
        if not any(name == "pow" and ours[args[1]].data == 0.0 for name, args in f.steps):
            # torch's rule for x**n writes d/dx as where(n == 0, 0, n·x**(n-1)), which drops
            # the term's derivative in n at n = 0 exactly (ops.pow_vjp keeps it)
            (want2,) = torch.autograd.grad(want[0], [tleaves[1]], allow_unused=True)
            want2_value = 0.0 if want2 is None else want2.item()
            assert math.isclose(second.data, want2_value, rel_tol=1e-11, abs_tol=1e-11)


def hooked_gradient(
    f: Expression, values: tuple[Value, ...], specs: list[tuple[int, str]], which: tuple[int, ...]
) -> Value:
    """∂f/∂(input which[0]) with the hooks of ``specs``, on a graph of its own; for differences."""
    ours = pool(f, list(values))
    handles = [ours[index % len(ours)].register_hook(make_hook(kind, [])) for index, kind in specs]
    try:
        return grad(ours[-1], [values[i] for i in which])[0]
    finally:
        for handle in handles:
            handle.remove()


@pytest.mark.torch
def test_hooks_rerun_through_a_reused_output_as_in_torch() -> None:
    torch = pytest.importorskip("torch")
    x = Value(0.7)
    tx = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    y, ty = x.exp(), tx.exp()  # both exp rules reuse the output: g · out
    y.register_hook(lambda g: g * 0.5)
    ty.register_hook(lambda g: g * 0.5)
    (gx,) = grad(y, [x], create_graph=True)
    (tgx,) = torch.autograd.grad(ty, [tx], create_graph=True)
    (ggx,) = grad(gx, [x])
    (tggx,) = torch.autograd.grad(tgx, [tx])
    assert math.isclose(ggx.data, tggx.item(), rel_tol=1e-14)
    assert math.isclose(ggx.data, 0.25 * math.exp(0.7), rel_tol=1e-14)


def test_trace_refuses_a_graph_with_a_hook_instead_of_skipping_it() -> None:
    from autograd_mini import trace
    from autograd_mini.nn import MLP

    m = MLP(2, [2, 1], seed=0)
    handle = m.parameters()[0].register_hook(lambda g: 2.0 * g)
    try:
        with pytest.raises(ValueError, match="hook"):
            trace(lambda a, b: m([a, b]), 2, params=m)
    finally:
        handle.remove()
    t = trace(lambda a, b: m([a, b]), 2, params=m)
    handle = m.parameters()[0].register_hook(lambda g: 2.0 * g)
    before = [p.grad for p in m.parameters()]
    try:
        with pytest.raises(ValueError, match="hook"):
            t.backward([1.0, 2.0])
        assert [p.grad for p in m.parameters()] == before  # nothing half-written
    finally:
        handle.remove()
    t.backward([1.0, 2.0])


def test_a_pass_started_inside_a_hook_is_refused_and_both_graphs_stay_usable() -> None:
    # both passes would keep their gradients in the same nodes: refused, not silently mixed
    w, x = Value(3.0), Value(2.0)
    a = w * x
    a.register_hook(lambda g: grad(w * w, [w]))
    with pytest.raises(RuntimeError, match="inside another backward pass"):
        (a * w).backward()
    assert [g.data for g in grad(w * x, [w, x])] == [2.0, 3.0]
    (w * x).backward()
    assert w.grad == 2.0
