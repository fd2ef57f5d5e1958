"""detect_anomaly: the first operation or rule that makes NaN or ±inf from finite numbers."""

from __future__ import annotations

import inspect
import math
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from autograd_mini import (
    AnomalyError,
    Value,
    detect_anomaly,
    grad,
    no_grad,
)

HERE = __file__


def line_after() -> int:
    """The line number of the caller's next line."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno + 1


# --- forward -----------------------------------------------------------------------------------

# op -> a function of two finite inputs whose last operation is that op and overflows
FORWARD_EDGES: dict[str, tuple[Callable[[Value, Value], Value], float, float]] = {
    "add": (lambda a, b: a + b, 1e308, 1e308),
    "sub": (lambda a, b: a - b, 1e308, -1e308),
    "mul": (lambda a, b: a * b, 1e200, 1e200),
    "div": (lambda a, b: a / b, 1e300, 1e-300),
    "leaky_relu": (lambda a, b: a.leaky_relu(b), -1e200, 1e200),
}


@pytest.mark.parametrize("name", sorted(FORWARD_EDGES))
def test_forward_overflow_names_the_op_its_inputs_and_the_line(name: str) -> None:
    fn, a, b = FORWARD_EDGES[name]
    x, y = Value(a), Value(b)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        fn(x, y)
    message = str(info.value)
    assert message.startswith(f"forward: {name}({a!r}, {b!r}) = ")
    assert f"{HERE}:{fn.__code__.co_firstlineno}" in message  # the line of the lambda


def test_forward_error_quotes_the_users_line() -> None:
    x = Value(1e200)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        line = line_after()
        y = x * x  # noqa: F841
    assert str(info.value).endswith(f"in `y = x * x  # noqa: F841` at {HERE}:{line}")
    assert isinstance(info.value, FloatingPointError)


def test_outside_the_block_the_same_overflow_just_gives_inf() -> None:
    assert (Value(1e200) * Value(1e200)).data == math.inf


def test_non_finite_inputs_are_not_an_anomaly() -> None:
    with detect_anomaly():
        assert math.isnan((Value(math.inf) - Value(math.inf)).data)
        assert (Value(math.inf) * 2.0).data == math.inf


# op -> (a call at the op's domain edge, the error the engine raises there outside the block)
DOMAIN_EDGES: dict[str, tuple[Callable[[], Value], type[Exception]]] = {
    "exp": (lambda: Value(710.0).exp(), OverflowError),
    "log": (lambda: Value(0.0).log(), ValueError),
    "sqrt": (lambda: Value(-1.0).sqrt(), ValueError),
    "pow": (lambda: Value(10.0) ** 400, OverflowError),
    "div": (lambda: Value(1.0) / 0.0, ZeroDivisionError),
}


@pytest.mark.parametrize("name", sorted(DOMAIN_EDGES))
def test_domain_errors_become_anomaly_errors_that_keep_their_own_type(name: str) -> None:
    fn, error = DOMAIN_EDGES[name]
    with pytest.raises(error) as outside:
        fn()
    assert not isinstance(outside.value, AnomalyError)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        fn()
    assert isinstance(info.value, error)
    message = str(info.value)
    assert message.startswith(f"forward: {name}(")
    assert str(outside.value) in message  # the engine's own explanation
    assert f"{HERE}:{fn.__code__.co_firstlineno}" in message


def test_domain_errors_from_non_finite_inputs_stay_plain() -> None:
    with detect_anomaly(), pytest.raises(ValueError) as info:
        Value(-math.inf).log()
    assert not isinstance(info.value, AnomalyError)


def test_forward_checks_also_run_under_no_grad() -> None:
    with detect_anomaly(), no_grad(), pytest.raises(AnomalyError, match=r"forward: mul"):
        Value(1e200) * 1e200


# --- backward ----------------------------------------------------------------------------------


def build(name: str) -> tuple[Value, Value, int]:
    """(root, input, line of the culprit node) for a graph whose backward first blows up in
    the rule of op ``name`` although every forward value is finite."""
    x = Value(
        {"sqrt": 0.0, "log": 5e-324, "pow": 0.0, "div": 1e-290, "mul": 1e-20, "exp": 700.0}[name],
        label="x",
    )
    if name == "sqrt":
        line = line_after()
        root = x.sqrt() * 2.0
    elif name == "log":
        line = line_after()
        root = x.log()
    elif name == "pow":
        line = line_after()
        root = x**0.5
    elif name == "div":
        line = line_after()
        root = (Value(1.0) / x) * 1e10
    elif name == "mul":
        line = line_after()
        root = (x * 1e300) * 1e10
    else:
        line = line_after()
        root = x.exp().sin() * 1e5
    return root, x, line


BACKWARD_EDGES = ["sqrt", "log", "pow", "div", "mul", "exp"]


@pytest.mark.parametrize("name", BACKWARD_EDGES)
def test_backward_names_the_rule_the_node_and_where_it_was_made(name: str) -> None:
    with detect_anomaly():
        root, x, line = build(name)
        assert math.isfinite(root.data)
        with pytest.raises(AnomalyError) as info:
            root.backward()
    message = str(info.value)
    assert message.startswith("backward: ")
    assert f"{name}_vjp(" in message
    assert f"{HERE}:{line}" in message
    assert "'x'" in message  # the input, by its label
    # the pass was undone: nothing accumulated, nothing marked, and it can run again
    assert x.grad == 0.0 and x._g is None


@pytest.mark.parametrize("name", BACKWARD_EDGES)
def test_grad_checks_the_same_rules_with_and_without_create_graph(name: str) -> None:
    with detect_anomaly():
        root, x, _ = build(name)
        for create_graph in (False, True):
            with pytest.raises(AnomalyError, match=f"{name}_vjp"):
                grad(root, [x], create_graph=create_graph)


def test_sqrt_at_zero_reads_like_the_derivative() -> None:
    with detect_anomaly():
        x = Value(0.0, label="x")
        line = line_after()
        y = x.sqrt()
        with pytest.raises(AnomalyError) as info:
            y.backward()
    message = str(info.value)
    assert message.startswith("backward: sqrt'(0.0) = inf")
    assert f"`y = x.sqrt()` at {HERE}:{line}" in message
    assert "node v1 (sqrt of 'x')" in message


def test_zero_times_an_infinite_slope_is_caught_as_nan() -> None:
    with detect_anomaly():
        x = Value(0.0)
        r = x.sqrt() * 0.0
        with pytest.raises(AnomalyError, match=r"became nan for input v0"):
            r.backward()


def test_nodes_made_before_the_block_are_reported_without_a_site() -> None:
    x = Value(0.0, label="x")
    y = x.sqrt()
    with detect_anomaly(), pytest.raises(AnomalyError, match="unknown line"):
        y.backward()


def test_a_healthy_graph_gives_the_plain_gradients() -> None:
    def run() -> float:
        x = Value(0.3)
        ((x * x).tanh() + x.sigmoid()).backward()
        return x.grad

    plain = run()
    with detect_anomaly():
        assert run() == plain


# --- the mode ---------------------------------------------------------------------------------


def test_decorator_form_checks_inside_the_function_only() -> None:
    @detect_anomaly()
    def overflow() -> Value:
        return Value(1e200) * 1e200

    with pytest.raises(AnomalyError):
        overflow()
    assert (Value(1e200) * 1e200).data == math.inf


def test_outside_every_block_nodes_are_plain_values() -> None:
    with detect_anomaly(), detect_anomaly():
        assert type(Value(1.0) * 2.0) is not Value  # it records where it was made
    assert type(Value(1.0) * 2.0) is Value


def test_check_nan_false_records_sites_but_raises_nothing() -> None:
    with detect_anomaly(check_nan=False):
        y = Value(1e200) * 1e200
        x = Value(0.0)
        (x.sqrt()).backward()
    assert y.data == math.inf and x.grad == math.inf


def test_check_nan_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="detect_anomaly: check_nan must be a bool"):
        detect_anomaly(check_nan="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"write @detect_anomaly\(\) with parentheses"):

        @detect_anomaly  # type: ignore[arg-type]
        def f() -> None:
            pass


def test_another_thread_is_not_in_anomaly_mode() -> None:
    results: list[Any] = []
    entered, done = threading.Event(), threading.Event()

    def other() -> None:
        entered.wait()
        results.append((Value(1e200) * 1e200).data)
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with detect_anomaly():
        entered.set()
        done.wait(10)
    thread.join()
    assert results == [math.inf]


# --- PyTorch as the oracle ----------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("x", [0.0, 1.0])
def test_raises_where_torch_detect_anomaly_raises_for_a_nan_gradient(x: float) -> None:
    torch = pytest.importorskip("torch")
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch_raised = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "Anomaly Detection has been enabled"
        with torch.autograd.detect_anomaly():
            try:
                (t.sqrt() * 0.0).backward()
            except RuntimeError:
                torch_raised = True
    ours_raised = False
    with detect_anomaly():
        try:
            (Value(x).sqrt() * 0.0).backward()
        except AnomalyError:
            ours_raised = True
    assert ours_raised == torch_raised == (x == 0.0)
