"""The properties the engine's speed rests on (see docs/speed.md), and the benchmark harness.

Each test pins one design decision so a later change cannot silently give it up: no cyclic
garbage, one GC-tracked object per node, no per-node closures, a backward pass that allocates
nothing per node for the collector, and a fast topological pass that is the same walk as the
public ``topological_order`` (so gradients are bit-for-bit those of the plain algorithm).
"""

from __future__ import annotations

import gc
import itertools
import math
import random
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given, strategies as st

from autograd_mini import Value, backprop, grad, ops, topological_order
from autograd_mini.testing import expressions, reals
from benchmarks.harness import gc_state


@contextmanager
def collector_off() -> Iterator[None]:
    """Start from an empty collector, then keep it off (the benchmark harness's gc_state).
    Collected until nothing is left: other libraries' garbage (a matplotlib figure closed by an
    earlier test) can take several collections to go."""
    while gc.collect():
        pass
    with gc_state(False):
        yield


def small_mlp_step(seed: int = 0) -> list[float]:
    """A 2-8-1 ReLU network, squared loss on 10 points, backward and an SGD update."""
    rng = random.Random(seed)
    w1 = [[Value(rng.uniform(-1, 1)) for _ in range(2)] for _ in range(8)]
    b1 = [Value(0.0) for _ in range(8)]
    w2 = [Value(rng.uniform(-1, 1)) for _ in range(8)]
    b2 = Value(0.0)
    params = [p for row in w1 for p in row] + b1 + w2 + [b2]
    loss: Value | float = 0.0
    for _ in range(10):
        x = [rng.uniform(-1, 1), rng.uniform(-1, 1)]
        h = [
            sum((w * xi for w, xi in zip(row, x, strict=True)), b).relu()
            for row, b in zip(w1, b1, strict=True)
        ]
        out = sum((w * hi for w, hi in zip(w2, h, strict=True)), b2)
        loss = loss + (out - 0.5) ** 2
    assert isinstance(loss, Value)
    loss.backward()
    for p in params:
        p.data -= 0.1 * p.grad
    return [p.grad for p in params]


def live_values() -> int:
    return sum(1 for obj in gc.get_objects() if type(obj) is Value)


# --- memory: reference counting frees everything --------------------------------------------


def test_a_finished_training_step_leaves_no_cyclic_garbage() -> None:
    with collector_off():
        small_mlp_step()
        assert gc.collect() == 0  # nothing unreachable was found: no reference cycles


def test_retained_and_higher_order_graphs_leave_no_cyclic_garbage() -> None:
    with collector_off():
        x = Value(0.7)
        y = (x * x).sin() * x.exp()
        (dy,) = grad(y, [x], create_graph=True)
        (d2y,) = grad(dy, [x])
        y.backward(retain_graph=True)
        y.backward()
        del x, y, dy, d2y
        assert gc.collect() == 0


def test_a_dropped_graph_is_freed_by_reference_counting_alone() -> None:
    with collector_off():
        before = live_values()
        x = Value(0.5)
        c = x
        for _ in range(1000):
            c = (c * 1.0001 + 0.1).tanh()
        c.backward()
        assert live_values() >= before + 3000
        del x, c
        assert live_values() == before  # freed at once, without the cyclic collector


def test_an_interrupted_backward_leaves_no_marks_and_no_cycles() -> None:
    with collector_off():
        x = Value(2.0)
        y = x * 3.0
        y.backward()  # releases y's graph
        z = y * y + 1.0
        with pytest.raises(RuntimeError, match="second time"):
            z.backward()
        nodes = topological_order(z)
        assert all(n._g in (None, backprop.FREED, backprop.CONSTANT) for n in nodes)
        assert z._g is None  # the part not released is as before: backward can still start
        del x, y, z, nodes
        assert gc.collect() == 0


# --- layout: slots, no closures, one tracked object per node --------------------------------------


def test_values_use_slots_and_carry_no_dict() -> None:
    v = Value(1.0)
    assert not hasattr(v, "__dict__")
    assert "__weakref__" not in Value.__slots__
    with pytest.raises(AttributeError):
        v.extra = 1  # type: ignore[attr-defined]


def test_nodes_share_their_rule_instead_of_holding_a_closure() -> None:
    a, b, c, d = (Value(float(i)) for i in range(4))
    p, q = a * b, c * d
    assert p._op is q._op is ops.MUL  # one Op object per primitive, no per-node function
    for node in (p, q, a.tanh(), 2.0**a):
        for name in Value.__slots__:
            slot = getattr(node, name, None)  # the shared op is callable; nothing else is
            assert isinstance(slot, ops.Primitive) or not callable(slot), name


def test_parents_are_the_inputs_in_argument_order() -> None:
    x, y = Value(1.0), Value(2.0)
    assert (x - y).parents == (x, y)
    assert (3.0 - y).parents[1] is y and (3.0 - y).parents[0].data == 3.0
    assert x.tanh().parents == (x,)
    assert x.parents == ()
    assert type((x * y)._parents) is tuple


def test_each_recorded_operation_allocates_one_tracked_object() -> None:
    xs = [Value(float(i)) for i in range(2000)]
    with collector_off():
        before = len(gc.get_objects())
        products = [a * b for a, b in itertools.pairwise(xs)]
        grown = len(gc.get_objects()) - before
    n = len(products)
    assert n <= grown <= n + 50  # the Values themselves (plus the list); no tuple per node


def test_backward_triggers_no_garbage_collection() -> None:
    x = Value(0.5)
    c = x
    for _ in range(5000):
        c = c * 1.0001 + 0.1
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    was = gc.isenabled()
    gc.collect()
    gc.enable()
    gc.callbacks.append(count)
    try:
        c.backward()  # 20,001 nodes: objects kept alive per node would trigger ~28 collections
    finally:
        gc.callbacks.remove(count)
        if not was:
            gc.disable()
    assert collections == []
    assert x.grad == pytest.approx(1.0001**5000)


def test_memory_per_node_of_a_wide_sum_is_small() -> None:
    rng = random.Random(0)
    a = [Value(rng.random()) for _ in range(5000)]
    b = [Value(rng.random()) for _ in range(5000)]
    with collector_off():
        tracemalloc.start()
        try:
            s = sum(ai * bi for ai, bi in zip(a, b, strict=True))
            used, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    per_node = used / (2 * len(a) + 1)
    assert isinstance(s, Value)
    assert per_node <= 140  # measured 112 B: the Value (88) and its float (24)


# --- the fast pass is the plain algorithm ---------------------------------------------------


def reference_gradients(root: Value, inputs: list[Value]) -> list[float]:
    """Textbook reverse mode: public topological order, a dict of gradients, the ops rules."""
    order = topological_order(root)
    grads = {node: 0.0 for node in order}
    grads[root] = 1.0
    for node in reversed(order):
        if node.is_leaf:
            continue
        op = node._op
        assert op is not None
        parts = op.vjp(grads[node], node.data, *(p.data for p in node.parents))
        for parent, part in zip(node.parents, parts, strict=True):
            grads[parent] = grads[parent] + part
    return [grads.get(x, 0.0) for x in inputs]


@given(expressions(3, max_steps=12), reals(), reals(), reals())
def test_fast_backward_is_bit_identical_to_the_textbook_algorithm(
    f: object, a: float, b: float, c: float
) -> None:
    xs = [Value(a), Value(b), Value(c)]
    y = f(*xs)  # type: ignore[operator]
    expected = reference_gradients(y, xs)
    walked = [n for n in topological_order(y) if n.requires_grad]
    assert backprop.begin_pass(y) == walked  # the same walk, through what needs a gradient
    backprop.release(topological_order(y))
    y.backward()
    got = [x.grad for x in xs]
    assert got == expected or all(
        (math.isnan(g) and math.isnan(e)) or g == e for g, e in zip(got, expected, strict=True)
    )


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=2**32 - 1))
def test_fast_pass_matches_topological_order_on_random_dags(n: int, seed: int) -> None:
    rng = random.Random(seed)
    pool = [Value(rng.uniform(-1, 1)) for _ in range(3)]
    for _ in range(n):
        i, j = rng.randrange(len(pool)), rng.randrange(len(pool))
        pool.append(pool[i] * pool[j] if rng.random() < 0.5 else pool[i] + pool[j].tanh())
    root = pool[-1]
    order = backprop.begin_pass(root)
    try:
        assert order == topological_order(root)
        assert all(node._g == 0.0 for node in order)
    finally:
        backprop.release(order)
    assert all(node._g is None for node in pool)


# --- the benchmark harness -------------------------------------------------------------------


def test_benchmark_node_counts_match_the_recorded_graphs() -> None:
    from benchmarks.workloads import Workload, count_nodes, wide_inputs

    for n in (1, 7):
        c = Value(0.5)
        t = Value(0.5)
        for _ in range(n):
            c = c * 1.0001 + 0.1
            t = t.tanh()
        assert count_nodes(Workload("c", "chain", n, 1)) == len(topological_order(c))
        assert count_nodes(Workload("t", "tanh_chain", n, 1)) == len(topological_order(t))
        fa, fb = wide_inputs(n)
        s = sum(Value(x) * Value(y) for x, y in zip(fa, fb, strict=True))
        assert isinstance(s, Value)
        assert count_nodes(Workload("w", "wide", n, 1)) == len(topological_order(s))


@pytest.mark.parametrize(
    ("kind", "size"), [("mlp", 6), ("chain", 50), ("tanh_chain", 50), ("wide", 50)]
)
def test_hand_written_lower_bound_agrees_with_the_engine(kind: str, size: int) -> None:
    from benchmarks.harness import agree
    from benchmarks.workloads import Workload, make

    workload = Workload(kind, kind, size, 1)
    ours = make(workload, "autograd_mini").check()
    floor = make(workload, "lower bound").check()
    assert len(ours) == len(floor) > 1
    assert all(agree(a, b) for a, b in zip(ours, floor, strict=True))


def test_micrograd_agrees_with_the_engine_on_the_mlp_step() -> None:
    pytest.importorskip("micrograd")
    from benchmarks.harness import agree
    from benchmarks.workloads import Workload, make

    workload = Workload("mlp", "mlp", 5, 1)
    ours = make(workload, "autograd_mini").check()
    theirs = make(workload, "micrograd").check()
    assert all(agree(a, b) for a, b in zip(ours, theirs, strict=True))
