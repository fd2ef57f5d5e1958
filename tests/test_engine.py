"""backward(), grad() and no_grad(): the chain rule over the recorded graph."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import threading

import pytest

from autograd_mini import Value, enable_grad, grad, is_grad_enabled, no_grad, topological_order

# --- backward ------------------------------------------------------------------------------------


def test_backward_of_the_readme_example_matches_the_hand_derivative() -> None:
    x = Value(2.0, label="x")
    y = (x * x + 3).tanh()
    y.backward()
    assert y.data == math.tanh(7.0)
    assert x.grad == pytest.approx(4 * (1 - math.tanh(7.0) ** 2), rel=1e-12)


def test_reused_node_gets_sum_of_both_paths() -> None:
    x = Value(3.0)
    b = x * 1
    r = b + b * 2  # dr/db = 3, db/dx = 1
    r.backward()
    assert x.grad == 3.0
    assert b.grad == 3.0


def test_backward_accumulates_over_shared_subexpressions_in_a_diamond() -> None:
    x = Value(1.5)
    a = x.sin()
    left, right = a * a, a.exp()
    top = left + right  # top = sin²x + e^{sin x}
    top.backward()
    want = (2 * math.sin(1.5) + math.exp(math.sin(1.5))) * math.cos(1.5)
    assert x.grad == pytest.approx(want, rel=1e-12)


def test_same_input_twice_in_one_op_counts_twice() -> None:
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0
    y = Value(3.0)
    (y + y).backward()
    assert y.grad == 2.0


def test_backward_seed_scales_every_gradient() -> None:
    x = Value(2.0)
    (x * x).backward(grad=0.5)
    assert x.grad == 2.0


def test_backward_seed_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="grad"):
        Value(1.0).backward(grad="1")  # type: ignore[arg-type]


def test_backward_of_a_leaf_sets_its_grad_to_the_seed() -> None:
    x = Value(5.0)
    x.backward()
    x.backward()  # leaves hold no intermediate results: nothing to release
    assert x.grad == 2.0


def test_backward_fills_grad_of_interior_nodes_too() -> None:
    x = Value(2.0)
    y = x * x
    z = y * 3
    z.backward()
    assert (z.grad, y.grad, x.grad) == (1.0, 3.0, 12.0)


def test_second_backward_without_retain_graph_raises_and_changes_nothing() -> None:
    x = Value(2.0)
    y = x * x
    z = y * 3
    z.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        z.backward()
    assert (x.grad, y.grad, z.grad) == (12.0, 3.0, 1.0)


def test_second_backward_with_retain_graph_adds_exactly_the_same_again() -> None:
    # micrograd re-sends the stale interior gradient here and gets 36
    x = Value(2.0)
    y = x * x
    z = y * 3
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad == 24.0
    assert y.grad == 6.0


def test_retained_graph_can_be_backpropagated_many_times() -> None:
    x = Value(0.3)
    y = x.tanh() * x
    for _ in range(5):
        y.backward(retain_graph=True)
    single = Value(0.3)
    (single.tanh() * single).backward()
    assert x.grad == pytest.approx(5 * single.grad, rel=1e-15)


def test_backward_through_a_released_part_of_another_graph_raises() -> None:
    x = Value(2.0)
    y = x * x
    (y * 2).backward()
    with pytest.raises(RuntimeError, match="second time"):
        (y * 3).backward()
    assert x.grad == 8.0


def test_leaves_accumulate_across_separate_graphs() -> None:
    w = Value(0.5)
    loss1 = w * 3
    loss2 = w * w
    loss1.backward()
    loss2.backward()
    assert w.grad == 3.0 + 2 * 0.5


def test_backward_survives_graph_deeper_than_recursion_limit() -> None:
    x = Value(0.5)
    y = x
    for _ in range(5 * sys.getrecursionlimit()):
        y = y * 1.0001 + 0.1
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** (5 * sys.getrecursionlimit()), rel=1e-9)


@pytest.mark.slow
def test_backward_through_a_million_node_chain() -> None:
    x = Value(0.9)
    y = x
    outs = []
    for _ in range(999_999):
        y = y.tanh()
        outs.append(y.data)
    assert len(topological_order(y)) == 1_000_000
    y.backward()
    want = 1.0  # the same products in the same order as the tanh rule: exact equality
    for out in reversed(outs):
        want = want * (1.0 - out * out)
    assert x.grad == want
    assert x.grad > 0.0


def test_topological_order_puts_inputs_first_and_is_pure() -> None:
    x = Value(1.0)
    b = x * 1
    r = b + b * 2
    order = topological_order(r)
    position = {id(v): i for i, v in enumerate(order)}  # == compares data: look up by identity
    assert order[-1] is r and position[id(x)] < position[id(b)] < position[id(r)]
    assert len(order) == len({id(n) for n in order}) == 6  # x, 1, b, 2, b*2, r
    r.backward()
    assert x.grad == 3.0  # computing the order left nothing behind


_DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import random
    from autograd_mini import Value
    rng = random.Random(7)
    xs = [Value(rng.uniform(-1, 1)) for _ in range(6)]
    pool = list(xs)
    for _ in range(300):
        a, b = rng.choice(pool), rng.choice(pool)
        pool.append(rng.choice([a * b, a + b, (a - b).tanh(), a.sigmoid() * b]))
    out = sum(pool[-50:], Value(0.0))
    out.backward()
    print([x.grad.hex() for x in xs])
    """
)


def test_gradients_are_bit_identical_across_runs_and_hash_seeds() -> None:
    outputs = set()
    for seed in ("0", "1", "12345"):
        result = subprocess.run(
            [sys.executable, "-c", _DETERMINISM_SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1


def test_error_inside_a_pass_leaves_the_graph_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    from autograd_mini import ops

    x = Value(0.5)
    y = x.tanh() * 2

    def fail(x: float) -> float:
        raise ZeroDivisionError("boom")

    broken = ops.Primitive("t_broken", fail, None)  # called by the rule below: raises
    boom = ops.Primitive("tanh", ops.TANH.forward, lambda g, out, x: (g * broken(x),))
    monkeypatch.setattr(y.parents[0], "_op", boom)
    with pytest.raises(ZeroDivisionError, match="boom"):
        y.backward()
    monkeypatch.undo()
    y.backward()  # no stale scratch gradients, nothing marked as released
    assert x.grad == pytest.approx(2 * (1 - math.tanh(0.5) ** 2))


# --- grad ----------------------------------------------------------------------------------------


def test_grad_returns_values_and_does_not_touch_dot_grad() -> None:
    x, y = Value(2.0), Value(3.0)
    out = x * y + x
    gx, gy = grad(out, [x, y])
    assert isinstance(gx, Value) and (gx.data, gy.data) == (4.0, 2.0)
    assert x.grad == 0.0 and y.grad == 0.0 and out.grad == 0.0
    out.backward()  # grad() did not release the graph
    assert (x.grad, y.grad) == (4.0, 2.0)


def test_grad_accepts_a_single_input_and_can_be_called_repeatedly() -> None:
    x = Value(2.0)
    y = x**3
    assert grad(y, x)[0].data == 12.0
    assert grad(y, [x])[0].data == 12.0


def test_grad_of_an_unused_input_is_zero() -> None:
    x, unused = Value(2.0), Value(5.0)
    g = grad(x * x, [x, unused])
    assert [v.data for v in g] == [4.0, 0.0]


def test_grad_with_respect_to_an_intermediate_node() -> None:
    x = Value(2.0)
    h = x * x
    out = h.tanh()
    (gh,) = grad(out, [h])
    assert gh.data == pytest.approx(1 - math.tanh(4.0) ** 2)


def test_grad_without_create_graph_returns_leaves() -> None:
    x = Value(2.0)
    (g,) = grad(x * x, [x])
    assert g.is_leaf


def test_grad_rejects_non_values() -> None:
    with pytest.raises(TypeError, match="output"):
        grad(1.0, [Value(1.0)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"inputs\[1\]"):
        grad(Value(1.0), [Value(1.0), 2.0])  # type: ignore[list-item]


def test_grad_on_a_released_graph_raises() -> None:
    x = Value(2.0)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        grad(y, [x])


def test_second_derivative_of_sin_times_exp() -> None:
    x = Value(0.7)
    y = x.sin() * x.exp()
    (dy,) = grad(y, [x], create_graph=True)
    (d2y,) = grad(dy, [x])
    assert dy.data == pytest.approx((math.cos(0.7) + math.sin(0.7)) * math.exp(0.7), rel=1e-12)
    assert d2y.data == pytest.approx(2 * math.cos(0.7) * math.exp(0.7), rel=1e-12)


def test_mixed_partials_of_x_y_y() -> None:
    x, y = Value(1.5), Value(-2.0)
    f = x * y * y
    fx, fy = grad(f, [x, y], create_graph=True)
    fxx, fxy = grad(fx, [x, y])
    fyx, fyy = grad(fy, [x, y])
    assert (fx.data, fy.data) == (4.0, 2 * 1.5 * -2.0)
    assert (fxx.data, fxy.data, fyx.data, fyy.data) == (0.0, -4.0, -4.0, 3.0)


def test_third_and_fourth_derivatives_of_a_power() -> None:
    x = Value(1.3)
    g = x**5
    values = []
    for _ in range(4):
        (g,) = grad(g, [x], create_graph=True)
        values.append(g.data)
    want = [5 * 1.3**4, 20 * 1.3**3, 60 * 1.3**2, 120 * 1.3]
    assert values == pytest.approx(want, rel=1e-12)


def test_higher_order_through_shared_subexpressions() -> None:
    x = Value(0.4)
    t = x.tanh()
    y = t * t + t  # y' = (2t + 1)(1 − t²)
    (d1,) = grad(y, [x], create_graph=True)
    (d2,) = grad(d1, [x])
    tt = math.tanh(0.4)
    want = 2 * (1 - tt**2) ** 2 + (2 * tt + 1) * (-2 * tt * (1 - tt**2))
    assert d2.data == pytest.approx(want, rel=1e-12)


def test_create_graph_gradient_of_a_linear_function_is_constant() -> None:
    x = Value(3.0)
    (d1,) = grad(x * 4 + 1, [x], create_graph=True)
    (d2,) = grad(d1, [x])
    assert (d1.data, d2.data) == (4.0, 0.0)


def test_backward_on_a_create_graph_gradient_fills_grad() -> None:
    x = Value(0.5)
    (d1,) = grad(x**3, [x], create_graph=True)  # 3x²
    d1.backward()
    assert x.grad == pytest.approx(6 * 0.5)


# --- no_grad -------------------------------------------------------------------------------------


def test_no_grad_records_nothing() -> None:
    x = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        y = (x * x).tanh() + 1
    assert is_grad_enabled()
    assert y.is_leaf and y.parents == ()
    assert y.data == math.tanh(4.0) + 1


def test_no_grad_nests_and_enable_grad_turns_recording_back_on() -> None:
    x = Value(1.0)
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
        with enable_grad():
            y = x * 2
        z = x * 2
    assert not y.is_leaf and z.is_leaf


def test_no_grad_works_as_a_decorator() -> None:
    @no_grad()
    def update(v: Value) -> Value:
        return v * 2

    assert update(Value(1.0)).is_leaf
    assert is_grad_enabled()


def test_no_grad_is_restored_after_an_exception() -> None:
    with pytest.raises(ValueError), no_grad():
        Value(-1.0).log()
    assert is_grad_enabled()


def test_no_grad_in_one_thread_does_not_affect_another() -> None:
    inside = threading.Event()
    done = threading.Event()
    seen: list[bool] = []

    def worker() -> None:
        with no_grad():
            inside.set()
            done.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    seen.append(is_grad_enabled())
    seen.append((Value(1.0) * 2).is_leaf)
    done.set()
    t.join()
    assert seen == [True, False]


def test_backward_into_a_grad_of_none_sets_it_as_pytorch_does() -> None:
    x, w = Value(2.0), Value(3.0)
    w.grad = None  # type: ignore[assignment]  # PyTorch's zero_grad(set_to_none=True) habit
    (x * w).backward()
    assert (x.grad, w.grad) == (3.0, 2.0)
    assert [g.data for g in grad(x * w, [x, w])] == [3.0, 2.0]  # no scratch state left behind


def test_backward_into_a_grad_that_is_not_a_number_is_a_type_error_leaving_nothing_behind() -> None:
    x = Value(1.0)
    x.grad = "junk"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="must be a float"):
        (x * x).backward()
    assert [g.data for g in grad(x * x, [x])] == [2.0]
