"""The benchmark workloads, written once per kind of engine.

An *engine* here is one of ``ENGINES``: ``autograd_mini``, ``micrograd`` (0.1.0 from PyPI),
``torch`` (0-dim float64 tensors, eager) and ``lower bound`` (hand-written float code, see
:mod:`benchmarks.lower_bound`).  The operator-overloading engines share one generic version of
each workload; they differ only in how a leaf is made and how gradients are read and applied.

``make(workload, engine)`` returns a :class:`Job`: ``run()`` is what gets timed and ``check()``
computes [value, gradients…] from a fresh start, which must agree across engines.
"""

from __future__ import annotations

import itertools
import math
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from benchmarks import lower_bound

__all__ = ["ENGINES", "WORKLOADS", "Job", "Workload", "make", "moons"]

ENGINES = ("autograd_mini", "micrograd", "torch", "lower bound")

MLP_SIZES = (2, 16, 16, 1)
MLP_POINTS = 100
LR = 0.05
ALPHA = 1e-4


@dataclass(frozen=True)
class Workload:
    """A named job; ``kind`` selects the builder, ``size`` its size (depth or width).

    ``calls``: consecutive runs per timed sample (a training loop: each step collects the
    garbage of the one before; see :class:`benchmarks.harness.Case`).
    """

    name: str
    kind: str  # "mlp", "chain", "tanh_chain" or "wide"
    size: int
    repeats: int
    calls: int = 1


WORKLOADS = (
    Workload("mlp step", "mlp", MLP_POINTS, 7, calls=3),
    Workload("chain 100", "chain", 100, 15),
    Workload("chain 1e4", "chain", 10_000, 9),
    Workload("chain 1e6", "chain", 1_000_000, 3),
    Workload("tanh chain 100", "tanh_chain", 100, 15),
    Workload("tanh chain 1e4", "tanh_chain", 10_000, 9),
    Workload("tanh chain 1e6", "tanh_chain", 1_000_000, 3),
    Workload("wide sum 1e5", "wide", 100_000, 3),
)


@dataclass
class Job:
    run: Callable[[], object]
    check: Callable[[], list[float]]


# --- data -------------------------------------------------------------------------------------


def moons(n: int, seed: int = 0) -> tuple[list[tuple[float, float]], list[float]]:
    """Two interleaving half circles with a little noise; labels ±1.0.  Deterministic."""
    rng = random.Random(seed)
    xs: list[tuple[float, float]] = []
    ys: list[float] = []
    for i in range(n):
        t = math.pi * rng.random()
        if i % 2:
            x, y = math.cos(t), math.sin(t)
            label = 1.0
        else:
            x, y = 1.0 - math.cos(t), 0.5 - math.sin(t)
            label = -1.0
        xs.append((x + rng.gauss(0.0, 0.1), y + rng.gauss(0.0, 0.1)))
        ys.append(label)
    return xs, ys


def mlp_init(seed: int = 1) -> tuple[list[list[list[float]]], list[list[float]]]:
    """Weights U(−1, 1) and zero biases for ``MLP_SIZES``, as plain floats."""
    rng = random.Random(seed)
    weights = []
    biases = []
    for nin, nout in itertools.pairwise(MLP_SIZES):
        weights.append([[rng.uniform(-1.0, 1.0) for _ in range(nin)] for _ in range(nout)])
        biases.append([0.0] * nout)
    return weights, biases


def wide_inputs(n: int) -> tuple[list[float], list[float]]:
    rng = random.Random(2)
    return [rng.uniform(-1.0, 1.0) for _ in range(n)], [rng.uniform(-1.0, 1.0) for _ in range(n)]


# --- how each engine makes leaves and handles gradients ---------------------------------------


class _Adapter:
    """The few things the operator-overloading engines do differently."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        if engine == "autograd_mini":
            from autograd_mini import Value

            self.leaf: Callable[[float], Any] = Value
            self.param = Value
        elif engine == "micrograd":
            from micrograd.engine import Value as MValue

            self.leaf = MValue
            self.param = MValue
        elif engine == "torch":
            import torch

            torch.set_num_threads(1)
            self.torch = torch
            self.leaf = lambda x: torch.tensor(x, dtype=torch.float64)
            self.param = lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=True)
        else:
            raise ValueError(f"not an operator-overloading engine: {engine!r}")

    def value(self, v: Any) -> float:
        return float(v.item()) if self.engine == "torch" else float(v.data)

    def grad(self, p: Any) -> float:
        if self.engine == "torch":
            return 0.0 if p.grad is None else float(p.grad.item())
        return float(p.grad)

    def zero_grad(self, params: list[Any]) -> None:
        for p in params:
            p.grad = None if self.engine == "torch" else 0.0

    def sgd(self, params: list[Any], lr: float) -> None:
        if self.engine == "torch":
            with self.torch.no_grad():
                for p in params:
                    p -= lr * p.grad
        else:
            for p in params:
                p.data -= lr * p.grad

    def tanh(self, v: Any) -> Any:
        if self.engine == "micrograd":
            raise NotImplementedError("micrograd 0.1.0 has no tanh")
        return v.tanh()


@contextmanager
def deep_recursion(limit: int = 2_000_000) -> Iterator[None]:
    """micrograd sorts its graph recursively; the stock limit fails beyond depth ~330.
    (Python 3.11+ does not use the C stack for Python-to-Python calls, so a high limit is safe.)
    """
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


# --- the workloads, generically -----------------------------------------------------------------


def _chain(ad: _Adapter, depth: int) -> list[float]:
    x = ad.param(0.5)
    c = x
    for _ in range(depth):
        c = c * 1.0001 + 0.1
    c.backward()
    return [ad.value(c), ad.grad(x)]


def _tanh_chain(ad: _Adapter, depth: int) -> list[float]:
    x = ad.param(0.5)
    c = x
    tanh = ad.tanh
    for _ in range(depth):
        c = tanh(c)
    c.backward()
    return [ad.value(c), ad.grad(x)]


def _wide(ad: _Adapter, a: list[Any], b: list[Any]) -> list[float]:
    s = sum(ai * bi for ai, bi in zip(a, b, strict=True))
    s.backward()
    return [ad.value(s)]


class _MLP:
    """MLP(2, [16, 16, 1]) as in micrograd's demo: ReLU hidden layers, linear output.

    For autograd_mini it is the library's own ``autograd_mini.nn.MLP`` (what users run), given
    the same starting weights as the other engines.
    """

    def __init__(self, ad: _Adapter, seed: int = 1) -> None:
        self.ad = ad
        weights, biases = mlp_init(seed)
        self.layers = [
            [
                ([ad.param(w) for w in row], ad.param(b))
                for row, b in zip(layer, blayer, strict=True)
            ]
            for layer, blayer in zip(weights, biases, strict=True)
        ]
        self.params = [p for layer in self.layers for w, b in layer for p in (*w, b)]
        self.net: Any = None
        if ad.engine == "autograd_mini":
            from autograd_mini.nn import MLP

            self.net = MLP(MLP_SIZES[0], list(MLP_SIZES[1:]), seed=seed)
            self.params = self.net.parameters()
            start = [p.data for layer in self.layers for w, b in layer for p in (*w, b)]
            for p, data in zip(self.params, start, strict=True):
                p.data = data
            self.layers = []

    def __call__(self, x: list[Any]) -> Any:
        if self.net is not None:
            return self.net(x)
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            out = []
            for w, b in layer:
                act = sum((wi * xi for wi, xi in zip(w, x, strict=True)), b)
                out.append(act if k == last else act.relu())
            x = out
        return x[0]

    def loss(self, xs: list[tuple[float, float]], ys: list[float]) -> Any:
        leaf = self.ad.leaf
        inputs = [[leaf(x0), leaf(x1)] for x0, x1 in xs]
        scores = [self(x) for x in inputs]
        losses = [(1 + -y * s).relu() for y, s in zip(ys, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in self.params)
        return data_loss + reg_loss

    def step(self, xs: list[tuple[float, float]], ys: list[float], report: bool) -> list[float]:
        """zero_grad, forward, backward, SGD: one training step."""
        ad = self.ad
        ad.zero_grad(self.params)
        total = self.loss(xs, ys)
        total.backward()
        result = [ad.value(total), *map(ad.grad, self.params)] if report else []
        ad.sgd(self.params, LR)
        return result


def make(workload: Workload, engine: str) -> Job:
    """The timed job and the correctness check of ``workload`` on ``engine``."""
    kind, n = workload.kind, workload.size
    if engine == "lower bound":
        if kind == "mlp":
            xs, ys = moons(n)
            w, b = mlp_init()
            w0, b0 = mlp_init()
            return Job(
                run=lambda: lower_bound.mlp_step(w, b, xs, ys, LR, ALPHA),
                check=lambda: lower_bound.mlp_step(w0, b0, xs, ys, LR, ALPHA),
            )
        if kind == "chain":
            return Job(lambda: lower_bound.chain(0.5, n), lambda: lower_bound.chain(0.5, n))
        if kind == "tanh_chain":
            job = lambda: lower_bound.tanh_chain(0.5, n)  # noqa: E731
            return Job(job, job)
        if kind == "wide":
            fa, fb = wide_inputs(n)
            return Job(lambda: lower_bound.wide_sum(fa, fb), lambda: lower_bound.wide_sum(fa, fb))
        raise ValueError(kind)

    ad = _Adapter(engine)
    if kind == "mlp":
        xs, ys = moons(n)
        model = _MLP(ad)
        return Job(
            run=lambda: model.step(xs, ys, report=False),
            check=lambda: _MLP(ad).step(xs, ys, report=True),
        )
    if kind in ("chain", "tanh_chain"):
        fn = _chain if kind == "chain" else _tanh_chain
        if engine == "micrograd":

            def deep() -> list[float]:
                with deep_recursion():
                    return fn(ad, n)

            return Job(deep, deep)
        return Job(lambda: fn(ad, n), lambda: fn(ad, n))
    if kind == "wide":
        fa, fb = wide_inputs(n)
        a = [ad.param(x) for x in fa]
        b = [ad.param(x) for x in fb]

        def run() -> list[float]:
            with deep_recursion():  # only micrograd needs it
                return _wide(ad, a, b)

        def check() -> list[float]:
            a1 = [ad.param(x) for x in fa]
            b1 = [ad.param(x) for x in fb]
            with deep_recursion():
                value = _wide(ad, a1, b1)
            return value + [ad.grad(p) for p in a1] + [ad.grad(p) for p in b1]

        return Job(run, check)
    raise ValueError(kind)


def count_nodes(workload: Workload) -> int:
    """Nodes of the workload's graph as autograd_mini records it (leaves and constants
    included): the denominator of every engine's ns per node.

    chain: per step a product, a sum and their two constants; tanh chain: one node per step;
    wide: 2n leaves, n products, n sums and the constant 0 that ``sum`` starts from.
    (tests/test_speed_invariants.py checks these counts against ``topological_order``.)
    """
    n = workload.size
    if workload.kind == "chain":
        return 4 * n + 1
    if workload.kind == "tanh_chain":
        return n + 1
    if workload.kind == "wide":
        return 4 * n + 1
    from autograd_mini import topological_order

    xs, ys = moons(n)
    return len(topological_order(_MLP(_Adapter("autograd_mini")).loss(xs, ys)))


def wide_forward_bytes_per_node(engine: str, n: int = 100_000) -> float:
    """Bytes allocated per node by the forward pass of the wide sum (tracemalloc), with the
    2n input leaves made beforehand: the graph's own cost, n products + n sums + 1 constant."""
    import gc
    import tracemalloc

    ad = _Adapter(engine)
    fa, fb = wide_inputs(n)
    a = [ad.param(x) for x in fa]
    b = [ad.param(x) for x in fb]
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        s = sum(ai * bi for ai, bi in zip(a, b, strict=True))
        used, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        gc.enable()
    del s
    return used / (2 * n + 1)
