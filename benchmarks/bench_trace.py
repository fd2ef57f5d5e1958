"""``make bench`` (part 2): traced and compiled code against eager engines and hand-written code.

    python -m benchmarks.bench_trace [--quick] [--json out/bench_trace.json]

The model and data are the ``mlp step`` workload of :mod:`benchmarks.workloads`: micrograd's
demo MLP(2, [16, 16, 1]) (ReLU hidden layers, linear output) on 100 two-moons points, loss
mean(relu(1 − yᵢ·sᵢ)) + α·Σp², one SGD step.  Contenders:

* ``eager``: autograd_mini building the graph per sample; ``micrograd`` 0.1.0;
* ``lower bound``: :func:`benchmarks.lower_bound.mlp_step`, hand-written float code;
* ``numpy``: the same step hand-written with NumPy matrices (:func:`numpy_step`);
* ``compiled``: the per-sample loss traced once, run by ``values_and_summed_grad`` (one compiled
  loop over the samples, gradient sums in local variables);
* ``batched``: the same traced loss run by ``batch`` over the 100 rows at once, the
  regulariser by ``batch`` of one row, the parameters kept in one array (``param_values``), as
  hand-written NumPy keeps its matrices;
* ``jax batched``: the same with ``batch(backend="jax")`` (the gradient program lowered to
  ``jax.numpy`` and jit-compiled), and ``jax``: the step hand-written with ``jax.numpy``
  matrices under ``jax.jit(value_and_grad)`` (:func:`jax_step`); both only when jax is
  installed, their compilation timed separately.

Every contender's [loss, gradients…] is first checked against eager (rel 1e-9), then all are
timed interleaved (:func:`benchmarks.harness.run_interleaved`) and compared as ratios of
medians in the same run.  Per-sample targets use the per-sample loss alone (no step), and the
same network with frozen weights (captured as constants, gradients by the inputs).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness import (
    Case,
    agree,
    calibrated,
    machine,
    median,
    run_interleaved,
    write_json,
)
from benchmarks.workloads import _MLP, ALPHA, LR, MLP_POINTS, Workload, _Adapter, make, moons

__all__ = ["main", "numpy_step"]

SAMPLE_S = 0.02
"""Shortest timed sample (seconds): fast contenders run several consecutive calls per sample."""


# --- hand-written NumPy ------------------------------------------------------------------------


def numpy_step(
    weights: list[Any], biases: list[Any], x: Any, y: Any, lr: float, alpha: float
) -> list[float]:
    """One SGD step of the benchmark MLP with NumPy matrices (the batch on axis 0), updating
    ``weights``/``biases`` (lists of arrays) in place; returns [loss, gradients…] in the
    parameter order of the scalar engines (per layer, per neuron: weights then bias)."""
    import numpy as np

    n = x.shape[0]
    acts = [x]
    h = x
    last = len(weights) - 1
    for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
        z = h @ w.T + b
        h = z if k == last else np.maximum(z, 0.0)
        acts.append(h)
    q = 1.0 - y * h[:, 0]
    active = q > 0.0
    reg = sum(float((w * w).sum() + (b * b).sum()) for w, b in zip(weights, biases, strict=True))
    loss = float(np.where(active, q, 0.0).sum()) / n + alpha * reg
    delta = np.where(active, -y, 0.0)[:, None] / n  # d loss / d score
    grads_w: list[Any] = [None] * len(weights)
    grads_b: list[Any] = [None] * len(weights)
    for k in range(last, -1, -1):
        grads_w[k] = delta.T @ acts[k] + 2.0 * alpha * weights[k]
        grads_b[k] = delta.sum(axis=0) + 2.0 * alpha * biases[k]
        if k:
            delta = (delta @ weights[k]) * (acts[k] > 0.0)
    flat: list[float] = [loss]
    for gw, gb in zip(grads_w, grads_b, strict=True):
        for j in range(gw.shape[0]):
            flat.extend(gw[j].tolist())
            flat.append(float(gb[j]))
    for k in range(len(weights)):
        weights[k] -= lr * grads_w[k]
        biases[k] -= lr * grads_b[k]
    return flat


# --- hand-written JAX -----------------------------------------------------------------------


def jax_step(n_layers: int) -> Callable[..., Any]:
    """``step(weights, biases, x, y) -> (loss, (grad_w, grad_b))``: the benchmark loss of the
    MLP written with jax.numpy matrices, ``jax.jit(jax.value_and_grad)``, float64."""
    import jax

    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def loss(weights: list[Any], biases: list[Any], x: Any, y: Any) -> Any:
        h = x
        for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
            z = h @ w.T + b
            h = z if k == n_layers - 1 else jnp.maximum(z, 0.0)
        data = jnp.maximum(1.0 - y * h[:, 0], 0.0).mean()
        reg = sum((w * w).sum() + (b * b).sum() for w, b in zip(weights, biases, strict=True))
        return data + ALPHA * reg

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))  # type: ignore[no-any-return]


def _jax_job() -> tuple[Callable[[], object], Callable[[], list[float]], float]:
    """The hand-written JAX step (timed: one update), its check, and its compile seconds."""
    import jax
    import numpy as np

    from benchmarks.workloads import mlp_init

    step = jax_step(3)  # first: it switches JAX to float64
    xs, ys = moons(MLP_POINTS)
    jnp = jax.numpy
    data, y = jnp.asarray(np.array(xs)), jnp.asarray(np.array(ys))

    def fresh() -> tuple[list[Any], list[Any]]:
        w, b = mlp_init()
        return [jnp.asarray(np.array(m)) for m in w], [jnp.asarray(np.array(v)) for v in b]

    def check() -> list[float]:
        w0, b0 = fresh()
        value, (gw, gb) = step(w0, b0, data, y)
        flat = [float(value)]
        for a, c in zip(gw, gb, strict=True):
            for j in range(a.shape[0]):
                flat.extend(np.asarray(a[j]).tolist())
                flat.append(float(c[j]))
        return flat

    w, b = fresh()
    t0 = time.perf_counter()
    jax.block_until_ready(step(w, b, data, y))
    compile_s = time.perf_counter() - t0

    def run() -> None:
        _, (gw, gb) = step(w, b, data, y)
        for k in range(len(w)):
            w[k] = w[k] - LR * gw[k]
            b[k] = b[k] - LR * gb[k]
        jax.block_until_ready(w)

    return run, check, compile_s


# --- the traced contenders ---------------------------------------------------------------------


class _Traced:
    """The benchmark MLP trained through :func:`autograd_mini.trace`."""

    def __init__(self) -> None:
        from autograd_mini import trace

        self.model = _MLP(_Adapter("autograd_mini"))
        params = self.model.params
        self.params = params
        model = self.model

        def sample_loss(x0: Any, x1: Any, y: Any) -> Any:
            return (1 + -y * model([x0, x1])).relu()

        def reg() -> Any:
            return ALPHA * sum(p * p for p in params)

        t0 = time.perf_counter()
        self.loss = trace(sample_loss, 3, params=params)
        self.reg = trace(reg, 0, params=params)
        self.trace_seconds = time.perf_counter() - t0
        xs, ys = moons(MLP_POINTS)
        self.rows = [[a, b, y] for (a, b), y in zip(xs, ys, strict=True)]
        t0 = time.perf_counter()
        self.loss.source_of("sum", "params")  # compile now, not in the first timed call
        self.reg.source_of("grad", "params")
        self.compile_seconds = time.perf_counter() - t0
        self.X: Any = None

    def _finish(self, total: float, summed: Any, ps: list[float], report: bool) -> list[float]:
        inv_n = 1.0 / len(self.rows)
        reg_value, reg_grads = self.reg.value_and_grad([], wrt="params", param_values=ps)
        grads = [g * inv_n + r for g, r in zip(summed, reg_grads, strict=True)]
        for p, g in zip(self.params, grads, strict=True):
            p.data -= LR * g
        return [total * inv_n + reg_value, *grads] if report else []

    def compiled_step(self, report: bool = False) -> list[float]:
        ps = [p.data for p in self.params]
        values, summed = self.loss.values_and_summed_grad(self.rows, param_values=ps)
        return self._finish(sum(values), summed, ps, report)

    def batched_step(self, report: bool = False, backend: str = "numpy") -> list[float]:
        """One step with ``batch``: the parameters kept in one array (``param_values``), as
        hand-written NumPy keeps them in arrays; the loss over the rows and the regulariser
        (one row of no inputs) each one batch call."""
        import numpy as np

        if self.X is None:
            self.X = np.array(self.rows)
            self.ps = np.array([p.data for p in self.params])
            self.no_inputs = np.empty((1, 0))
        ps = self.ps
        result = self.loss.batch(self.X, wrt="params", param_values=ps, backend=backend)  # type: ignore[arg-type]
        reg = self.reg.batch(self.no_inputs, wrt="params", param_values=ps, backend=backend)  # type: ignore[arg-type]
        inv_n = 1.0 / len(self.rows)
        grads = np.asarray(result.param_grad) * inv_n + np.asarray(reg.param_grad)
        self.ps = ps - LR * grads
        if not report:
            return []
        value = float(np.asarray(result.value).sum()) * inv_n + float(np.asarray(reg.value)[0])
        return [value, *grads.tolist()]

    def jax_step(self, report: bool = False) -> list[float]:
        return self.batched_step(report, backend="jax")


# --- running ---------------------------------------------------------------------------------


def _numpy_job() -> tuple[Callable[[], object], Callable[[], list[float]]]:
    import numpy as np

    from benchmarks.workloads import mlp_init

    xs, ys = moons(MLP_POINTS)
    data, y = np.array(xs), np.array(ys)

    def fresh() -> tuple[list[Any], list[Any]]:
        w, b = mlp_init()
        return [np.array(m) for m in w], [np.array(v) for v in b]

    w, b = fresh()

    def check() -> list[float]:
        w0, b0 = fresh()
        return numpy_step(w0, b0, data, y, LR, ALPHA)

    return (lambda: numpy_step(w, b, data, y, LR, ALPHA)), check


def _check(name: str, result: list[float], reference: list[float]) -> None:
    bad = [i for i, (a, b) in enumerate(zip(result, reference, strict=True)) if not agree(a, b)]
    if len(result) != len(reference) or bad:
        i = bad[0] if bad else -1
        raise SystemExit(f"{name} disagrees with eager at output {i} - not timing")


def step_cases(with_micrograd: bool, with_jax: bool) -> tuple[list[Case], dict[str, float]]:
    """The contenders of the full training step, checked against eager first."""
    workload = Workload("mlp step", "mlp", MLP_POINTS, 7)
    eager = make(workload, "autograd_mini")
    reference = eager.check()
    cases = [Case("eager", eager.run)]
    if with_micrograd:
        micro = make(workload, "micrograd")
        _check("micrograd", micro.check(), reference)
        cases.append(Case("micrograd", micro.run))
    lower = make(workload, "lower bound")
    _check("lower bound", lower.check(), reference)
    cases.append(Case("lower bound", lower.run))
    run_np, check_np = _numpy_job()
    _check("numpy", check_np(), reference)
    cases.append(Case("numpy", run_np))
    _check("compiled", _Traced().compiled_step(report=True), reference)
    _check("batched", _Traced().batched_step(report=True), reference)
    traced = _Traced()
    batched = _Traced()
    cases.append(Case("compiled", traced.compiled_step))
    cases.append(Case("batched", batched.batched_step))
    info = {"trace_s": traced.trace_seconds, "compile_s": traced.compile_seconds}
    if with_jax:
        run_jax, check_jax, info["jax_hand_compile_s"] = _jax_job()
        _check("jax", check_jax(), reference)
        on_jax = _Traced()
        t0 = time.perf_counter()
        _check("jax batched", on_jax.jax_step(report=True), reference)
        info["jax_batched_compile_s"] = time.perf_counter() - t0
        cases.append(Case("jax", run_jax))
        cases.append(Case("jax batched", on_jax.jax_step))
    return cases, info


def sample_cases() -> list[Case]:
    """Per-sample loss and gradient by the parameters, over the 100 points: eager (graph +
    backward per sample), traced ``value_and_grad`` per sample, and ``batch`` of all 100."""
    import numpy as np

    from autograd_mini import Value, grad, trace

    t = _Traced()
    model, rows, loss = t.model, t.rows, t.loss
    matrix = np.array(rows)

    def eager() -> None:
        for x0, x1, y in rows:
            out = (1 + -y * model([Value(x0), Value(x1)])).relu()
            out.backward()

    def per_sample() -> None:
        for row in rows:
            loss.value_and_grad(row, wrt="params")

    def batched() -> None:
        loss.batch(matrix, wrt="params")

    # the same network with its weights frozen: captured as constants (not params), the
    # gradient by the inputs
    frozen = trace(lambda x0, x1: (1 - model([x0, x1])).relu(), 2)
    points = matrix[:, :2].copy()

    def eager_frozen() -> None:
        for x0, x1, _ in rows:
            xs = [Value(x0), Value(x1)]
            grad((1 - model(xs)).relu(), xs)

    def batched_frozen() -> None:
        frozen.batch(points, wrt="inputs")

    loss.source_of("grad", "params")
    loss.source_of("batch", "params")
    frozen.source_of("batch", "inputs")
    return [
        Case("eager", eager),
        Case("traced", per_sample),
        Case("batched", batched),
        Case("eager frozen", eager_frozen),
        Case("batched frozen", batched_frozen),
    ]


def pass_cases() -> list[Case]:
    """Ordering the eager MLP step's graph for a backward pass: the package's one
    ``topological_order`` plus the loop that zeroes the scratch gradients, against the
    engine's fused ``_begin_pass`` (why ``backward`` keeps its specialised twin)."""
    from autograd_mini import Value
    from autograd_mini.backprop import begin_pass as _begin_pass
    from autograd_mini.engine import topological_order

    t = _Traced()
    model, rows = t.model, t.rows
    terms = [(1 + -y * model([Value(x0), Value(x1)])).relu() for x0, x1, y in rows]
    root = sum(terms[1:], terms[0])

    def general() -> None:
        order = topological_order(root)
        for node in order:
            node._g = 0.0
        for node in order:
            node._g = None

    def fused() -> None:
        for node in _begin_pass(root):
            node._g = None

    return [Case("topological_order", general), Case("_begin_pass", fused)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats")
    parser.add_argument("--json", default="out/bench_trace.json", help="result file ('' for none)")
    args, _ = parser.parse_known_args(argv)  # BENCH_ARGS is shared with benchmarks.run
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("bench_trace needs NumPy: pip install autograd_mini[bench]")
        return 1
    try:
        import micrograd  # noqa: F401

        with_micrograd = True
    except ImportError:
        print("note: micrograd is not installed; its ratios are skipped")
        with_micrograd = False
    try:
        import jax  # noqa: F401

        with_jax = True
    except ImportError:
        print("note: jax is not installed; its rows are skipped")
        with_jax = False
    repeats = 3 if args.quick else 9
    print(
        "trace once, run fast: MLP(2, [16, 16, 1]), 100 moons points "
        f"(gc on, medians of samples >= {SAMPLE_S * 1e3:.0f} ms)"
    )

    cases, info = step_cases(with_micrograd, with_jax)
    # the same rules for every contender: gc on, garbage of earlier samples collected before
    # each sample, samples of consecutive calls lasting >= SAMPLE_S (a cold single call of a
    # sub-millisecond step measures the machine, see harness.calibrated), JAX results
    # blocked on inside each call, compilation before timing (reported above)
    step = run_interleaved(calibrated(cases, SAMPLE_S), repeats, gc_enabled=True, warmup=0)
    sample = run_interleaved(calibrated(sample_cases(), SAMPLE_S), repeats, True, warmup=0)
    passes = run_interleaved(calibrated(pass_cases(), SAMPLE_S), repeats, True, warmup=0)

    def ratio(samples: dict[str, list[float]], slow: str, fast: str) -> float:
        return median([a / b for a, b in zip(samples[slow], samples[fast], strict=True)])

    print(
        f"\n  trace {info['trace_s'] * 1e3:.0f} ms + compile {info['compile_s'] * 1e3:.0f} ms, once"
    )
    if with_jax:
        print(
            f"  jax.jit compile: hand-written {info['jax_hand_compile_s']:.2f} s, "
            f"traced batch {info['jax_batched_compile_s']:.2f} s, once"
        )
    print("\n  one SGD step on 100 points")
    for name, times in step.items():
        print(f"    {name:<12} {median(times) * 1e3:>9.3f} ms")
    print("\n  ordering the eager step's graph for backward (the fused pass backward keeps)")
    for name, times in passes.items():
        print(f"    {name:<18} {median(times) * 1e3:>9.3f} ms")
    print("\n  per-sample loss and gradient, 100 samples")
    for name, times in sample.items():
        print(f"    {name:<12} {median(times) * 1e6 / MLP_POINTS:>9.2f} µs per sample")

    targets: list[tuple[str, float, float, bool]] = [
        # (description, reached, wanted, higher is better)
        ("traced value_and_grad vs eager, per sample", ratio(sample, "eager", "traced"), 10, True),
        ("batch of 100 vs eager, per sample", ratio(sample, "eager", "batched"), 100, True),
        (
            "frozen weights (wrt=inputs) batch vs eager, per sample",
            ratio(sample, "eager frozen", "batched frozen"),
            100,
            True,
        ),
        ("compiled step: lower bound's time x", ratio(step, "compiled", "lower bound"), 1, False),
        ("batched step: hand-written NumPy's time x", ratio(step, "batched", "numpy"), 2, False),
    ]
    if with_micrograd:
        targets.insert(
            2, ("compiled step vs micrograd", ratio(step, "micrograd", "compiled"), 100, True)
        )
        targets.insert(
            4, ("batched step vs micrograd", ratio(step, "micrograd", "batched"), 2000, True)
        )
    if with_jax:
        targets.append(
            (
                "jax batched step: hand-written jax.jit's time x",
                ratio(step, "jax batched", "jax"),
                1.2,
                False,
            )
        )
        if with_micrograd:
            targets.append(
                (
                    "jax batched step vs micrograd",
                    ratio(step, "micrograd", "jax batched"),
                    5000,
                    True,
                )
            )
    from autograd_mini.demos.moons import train_moons

    demo = [train_moons(compiled=True).seconds for _ in range(3 if args.quick else 5)]
    print(f"\n  moons demo --compiled: 100 steps in {median(demo):.2f} s (tracing included)")
    print("\n  targets (ratios of medians in this run)")
    lines = []
    for what, reached, wanted, higher in targets:
        ok = reached >= wanted if higher else reached <= wanted
        sign = ">=" if higher else "<="
        line = f"{what}: {reached:.1f}x (target {sign} {wanted:g}x) {'met' if ok else 'MISSED'}"
        lines.append(line)
        print(f"    {line}")
    ok = "met" if median(demo) < 1.0 else "MISSED"
    lines.append(f"moons demo --compiled, 100 steps: {median(demo):.2f} s (target < 1 s) {ok}")
    print(f"    {lines[-1]}")
    if args.json:
        payload = {
            "machine": machine(),
            "quick": args.quick,
            "trace": info,
            "step_s": {k: median(v) for k, v in step.items()},
            "sample_s": {k: median(v) / MLP_POINTS for k, v in sample.items()},
            "backward_order_s": {k: median(v) for k, v in passes.items()},
            "moons_compiled_s": median(demo),
            "targets": lines,
        }
        write_json(args.json, payload)
        print(f"\n  results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
