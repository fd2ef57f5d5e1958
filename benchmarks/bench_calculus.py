"""``make bench``, calculus toolkit: what hooks and anomaly mode cost, on and off.

    python -m benchmarks.bench_calculus [--quick] [--json out/bench_calculus.json]

Rows, timed interleaved (:mod:`benchmarks.harness`), collector off, ratio = row's time / the
eager step's time in the same round:

* ``eager step``: the MLP training step of :mod:`benchmarks.workloads` (forward, backward, SGD)
  as users run it, no hook registered and no ``detect_anomaly`` block open;
* ``eager step, pre-toolkit backward``: the same step with ``backward()`` replaced by the body
  it had before hooks and anomaly mode existed (no per-pass check at all).  Its ratio ≈ 1.00 is
  the claim "no slowdown of the eager path": hooks and anomaly mode are steps of the one walk,
  looked for once per pass; the node constructor reads one mode per node;
* ``eager step after a detect_anomaly block``: the plain constructor is back once blocks close;
* ``inside detect_anomaly`` and ``one hook on one weight``: what the features cost while on;
* ``jvp`` and ``grad`` of a 1e4-deep tanh chain: forward mode against reverse mode.
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Callable
from typing import Any

from autograd_mini import Value, backprop, detect_anomaly, grad, jvp
from benchmarks.harness import Case, machine, median, run_interleaved, write_json
from benchmarks.workloads import _MLP, LR, MLP_POINTS, _Adapter, moons


def backward_before_the_toolkit(root: Value) -> None:
    """``Value.backward()`` without its per-pass look at hooks and anomaly mode: the reference
    (the walk's first loop alone, as backward ran before hooks and anomaly mode existed)."""
    with backprop.PASS_LOCK:
        order = backprop.begin_pass(root)
        root._g = 1.0
        try:
            backprop.walk(order)
        except BaseException:
            backprop.release(order)
            raise
        for node in order:
            node.grad += node._g
            node._g = None if node._op is None else backprop.FREED


def mlp_step(model: _MLP, xs: Any, ys: Any, backward: Callable[[Value], None]) -> float:
    model.ad.zero_grad(model.params)
    total = model.loss(xs, ys)
    backward(total)
    model.ad.sgd(model.params, LR)
    return float(total.data)


def tanh_chain(x: Value, depth: int) -> Value:
    for _ in range(depth):
        x = x.tanh()
    return x


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    parser.add_argument("--json", default="out/bench_calculus.json", help="('' for none)")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 15
    points = 30 if args.quick else MLP_POINTS
    depth = 2_000 if args.quick else 10_000
    xs, ys = moons(points)
    ad = _Adapter("autograd_mini")
    models = {name: _MLP(ad) for name in ("eager", "pre", "after", "anomaly", "hook")}
    hooked = models["hook"].params[0]

    def plain_backward(v: Value) -> None:
        v.backward()

    def after_block() -> float:
        return mlp_step(models["after"], xs, ys, plain_backward)

    def in_anomaly_mode() -> float:
        with detect_anomaly():
            return mlp_step(models["anomaly"], xs, ys, plain_backward)

    def with_a_hook() -> float:
        # registered for this step only: while a hook exists, a pass looks for hooks among its
        # nodes (the other rows' passes too, finding none)
        with hooked.register_hook(lambda g: None):
            return mlp_step(models["hook"], xs, ys, plain_backward)

    with detect_anomaly():  # opened and closed once: what is left behind must cost nothing
        pass
    cases = [
        Case("eager step", lambda: mlp_step(models["eager"], xs, ys, plain_backward)),
        Case(
            "eager step, pre-toolkit backward",
            lambda: mlp_step(models["pre"], xs, ys, backward_before_the_toolkit),
        ),
        Case("eager step after a detect_anomaly block", after_block),
        Case("inside detect_anomaly", in_anomaly_mode),
        Case("one hook on one weight", with_a_hook),
    ]
    info = machine()
    print(f"calculus toolkit costs - {info['date']} - Python {info['python']} - {info['cpu']}")
    print(f"MLP(2, [16, 16, 1]) step on {points} points; ratio = time / eager step, same round")
    gc.collect()
    samples = run_interleaved(cases, repeats, gc_enabled=False)
    rows: list[dict[str, Any]] = []
    base = samples["eager step"]
    for case in cases:
        s = samples[case.name]
        ratio = median([t / b for t, b in zip(s, base, strict=True)])
        rows.append({"name": case.name, "median_s": median(s), "ratio": ratio})

    def jvp_row() -> None:
        jvp(lambda x: tanh_chain(x, depth), [0.5], [1.0])

    def grad_row() -> None:
        x = Value(0.5)
        grad(tanh_chain(x, depth), [x])

    calc = run_interleaved(
        [Case(f"grad, tanh chain {depth}", grad_row), Case(f"jvp, tanh chain {depth}", jvp_row)],
        repeats,
        gc_enabled=False,
    )
    gbase = calc[f"grad, tanh chain {depth}"]
    for name, s in calc.items():
        ratio = median([t / b for t, b in zip(s, gbase, strict=True)])
        rows.append({"name": name, "median_s": median(s), "ratio": ratio})
    for row in rows:
        print(f"  {row['name']:<42} {1e3 * row['median_s']:9.2f} ms   {row['ratio']:6.2f}×")
    if args.json:
        write_json(args.json, {"machine": info, "rows": rows})
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
