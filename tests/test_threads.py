"""Threads: modes are per thread (ContextVars), hooks live on their nodes, passes take turns.
Eight threads share one model's parameters — some inside ``detect_anomaly()``, some registering
and removing hooks, some under ``no_grad``, some plain — and each gets the gradients a
single-threaded run gets, with no exception; a thread outside an anomaly block builds plain nodes
meanwhile; one ``detect_anomaly()`` or ``no_grad()`` object entered by several threads at once
works in each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from autograd_mini import Value, detect_anomaly, grad, is_grad_enabled, no_grad
from autograd_mini.engine import _SitedValue
from autograd_mini.grad_mode import mode
from autograd_mini.losses import mse
from autograd_mini.nn import MLP

MODEL = MLP(2, [4, 1], activation="tanh", seed=3)
PARAMS = MODEL.parameters()
POINTS = [[0.1 * k, -0.05 * k] for k in range(6)]


def loss_of(points: list[list[float]]) -> Value:
    return mse([MODEL(p) for p in points], [0.5] * len(points))


def reference(points: list[list[float]]) -> list[float]:
    return [g.data for g in grad(loss_of(points), PARAMS)]


def run_threads(workers: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(workers))

    def wrap(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                start.wait(10)
                work()
            except BaseException as exc:  # report every failure to the main thread
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(w)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def test_eight_threads_with_anomaly_hooks_no_grad_and_training_get_single_threaded_gradients() -> (
    None
):
    batches = [POINTS[k:] + POINTS[:k] for k in range(8)]
    want = [reference(b) for b in batches]
    got: dict[int, list[list[float]]] = {k: [] for k in range(8)}
    plain_nodes_stayed_plain: list[bool] = []
    shared_anomaly = detect_anomaly()  # one object, entered by two threads at once
    shared_no_grad = no_grad()

    def anomalous(k: int) -> Callable[[], None]:
        def work() -> None:
            for _ in range(10):
                with shared_anomaly:
                    got[k].append([g.data for g in grad(loss_of(batches[k]), PARAMS)])

        return work

    def hooking(k: int) -> Callable[[], None]:
        def work() -> None:
            for i in range(10):
                handles = [p.register_hook(lambda g: None) for p in PARAMS[i % 3 :: 3]]
                got[k].append([g.data for g in grad(loss_of(batches[k]), PARAMS)])
                for h in handles:
                    h.remove()

        return work

    def quiet(k: int) -> Callable[[], None]:
        def work() -> None:
            for _ in range(10):
                with shared_no_grad:
                    assert not is_grad_enabled() and not loss_of(batches[k]).requires_grad
                got[k].append([g.data for g in grad(loss_of(batches[k]), PARAMS)])

        return work

    def plain(k: int) -> Callable[[], None]:
        def work() -> None:
            for _ in range(10):
                loss = loss_of(batches[k])
                plain_nodes_stayed_plain.append(type(loss) is Value and mode().anomaly is None)
                got[k].append([g.data for g in grad(loss, PARAMS)])

        return work

    kinds = [anomalous, anomalous, hooking, hooking, quiet, quiet, plain, plain]
    errors = run_threads([kind(k) for k, kind in enumerate(kinds)])
    assert errors == []
    for k in range(8):
        assert len(got[k]) == 10 and all(g == want[k] for g in got[k]), k
    assert plain_nodes_stayed_plain and all(plain_nodes_stayed_plain)
    assert mode().anomaly is None and is_grad_enabled()  # nothing leaked into this thread


def test_backward_in_threads_over_shared_parameters_adds_every_threads_gradient() -> None:
    for p in PARAMS:
        p.grad = 0.0
    batches = [POINTS[k:] + POINTS[:k] for k in range(8)]
    total = [sum(col) for col in zip(*(reference(b) for b in batches), strict=True)]

    def work(k: int) -> Callable[[], None]:
        return lambda: loss_of(batches[k]).backward()

    assert run_threads([work(k) for k in range(8)]) == []
    for p, want in zip(PARAMS, total, strict=True):
        assert abs(p.grad - want) <= 1e-12 * max(1.0, abs(want))
    for p in PARAMS:
        p.grad = 0.0


def test_one_mode_object_entered_by_two_threads_at_once_works_in_both() -> None:
    shared: dict[str, Any] = {"anomaly": detect_anomaly(), "no_grad": no_grad()}
    inside = threading.Barrier(2)
    seen: list[tuple[bool, bool]] = []

    def work() -> None:
        with shared["anomaly"], shared["no_grad"]:
            inside.wait(10)  # both threads inside the same two objects now
            node = Value(1.0) * 2.0
            seen.append((type(node) is _SitedValue, node.requires_grad))
            inside.wait(10)
        seen.append((mode().anomaly is None, is_grad_enabled()))

    assert run_threads([work, work]) == []
    assert sorted(seen) == [(True, False), (True, False), (True, True), (True, True)]
