"""``make bench``: autograd_mini side by side with micrograd, PyTorch (when installed) and the
hand-written lower bound, on the workloads of :mod:`benchmarks.workloads`.

    python -m benchmarks.run [--quick] [--json out/bench.json] [--chart out/bench.png]

For every workload it first checks that all engines compute the same value and gradients
(rel 1e-9; a benchmark of wrong answers is void), then times them interleaved in this one
process, with the cyclic garbage collector on (how users run Python) and off (pure compute),
and prints medians, ns per node and ratios.  A ratio is the median over repeats of
(engine's time / autograd_mini's time in the same round): micrograd's 20× means autograd_mini
is 20 times faster; the lower bound's 0.1× means the floor is 10 times faster still.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import sys
from typing import Any

from benchmarks.harness import Case, agree, machine, median, run_interleaved, write_json
from benchmarks.workloads import (
    ENGINES,
    WORKLOADS,
    Workload,
    count_nodes,
    make,
    wide_forward_bytes_per_node,
)

OURS = "autograd_mini"
# Beyond these sizes an engine would take minutes (torch: ~10 µs per node) or gigabytes
# (micrograd: ~600 B per node), so it sits the workload out.
MAX_NODES = {"torch": 500_000, "micrograd": 500_000}


def available_engines(wanted: list[str]) -> list[str]:
    found = []
    for engine in wanted:
        module = {"micrograd": "micrograd", "torch": "torch"}.get(engine)
        if module is None or importlib.util.find_spec(module) is not None:
            found.append(engine)
        else:
            print(f"note: {engine} is not installed; it sits the benchmark out")
    return found


def check_agreement(workload: Workload, jobs: dict[str, Any]) -> dict[str, str]:
    """Run every engine's check; drop the ones that fail to run (with the reason) and abort on
    any engine that runs but disagrees with autograd_mini."""
    reference = jobs[OURS].check()
    skipped: dict[str, str] = {}
    for engine, job in list(jobs.items()):
        if engine == OURS:
            continue
        try:
            result = job.check()
        except Exception as exc:  # an engine that cannot run a workload sits it out
            skipped[engine] = f"{type(exc).__name__}: {exc}"[:80]
            del jobs[engine]
            continue
        if len(result) != len(reference):
            raise SystemExit(f"{workload.name}: {engine} returned {len(result)} numbers")
        bad = [i for i, (a, b) in enumerate(zip(result, reference, strict=True)) if not agree(a, b)]
        if bad:
            i = bad[0]
            raise SystemExit(
                f"{workload.name}: {engine} disagrees with {OURS} at output {i}: "
                f"{result[i]!r} vs {reference[i]!r} ({len(bad)} outputs differ) - not timing"
            )
    return skipped


def ratio_of_medians(samples: dict[str, list[float]], engine: str) -> float:
    """Median over rounds of engine's time / autograd_mini's time in the same round."""
    return median([t / ours for t, ours in zip(samples[engine], samples[OURS], strict=True)])


def bench_workload(workload: Workload, engines: list[str], repeats_scale: float) -> dict[str, Any]:
    nodes = count_nodes(workload)
    jobs = {}
    skipped: dict[str, str] = {}
    for engine in engines:
        if nodes > MAX_NODES.get(engine, nodes):
            skipped[engine] = f"skipped: {nodes:,} nodes is too many for it"
            continue
        try:
            jobs[engine] = make(workload, engine)
        except NotImplementedError as exc:
            skipped[engine] = str(exc)
    skipped.update(check_agreement(workload, jobs))
    repeats = max(3, round(workload.repeats * repeats_scale))
    warmup = 1 if nodes < 100_000 else 0
    cases = [Case(engine, job.run, workload.calls) for engine, job in jobs.items()]
    result: dict[str, Any] = {"workload": workload.name, "nodes": nodes, "skipped": skipped}
    for gc_on in (True, False):
        samples = run_interleaved(cases, repeats, gc_enabled=gc_on, warmup=warmup)
        mode = "gc_on" if gc_on else "gc_off"
        result[mode] = {
            engine: {
                "median_s": median(ts),
                "ns_per_node": median(ts) / nodes * 1e9,
                "ratio_to_ours": ratio_of_medians(samples, engine),
                "samples_s": ts,
            }
            for engine, ts in samples.items()
        }
    return result


def print_workload(res: dict[str, Any]) -> None:
    print(f"\n{res['workload']}  ({res['nodes']:,} nodes)")
    print(
        f"  {'engine':<14} {'gc on':>10} {'ns/node':>9} {'ratio':>8}   {'gc off':>10} "
        f"{'ns/node':>9} {'ratio':>8}"
    )
    for engine in res["gc_on"]:
        on, off = res["gc_on"][engine], res["gc_off"][engine]
        print(
            f"  {engine:<14} {on['median_s'] * 1e3:>8.2f}ms {on['ns_per_node']:>9.1f} "
            f"{on['ratio_to_ours']:>7.2f}x   {off['median_s'] * 1e3:>8.2f}ms "
            f"{off['ns_per_node']:>9.1f} {off['ratio_to_ours']:>7.2f}x"
        )
    for engine, why in res["skipped"].items():
        print(f"  {engine:<14} {why}")


def targets(results: list[dict[str, Any]], memory: dict[str, float]) -> list[str]:
    """The issue's targets, each with the ratio reached."""
    lines = []

    def ratio(res: dict[str, Any], mode: str, engine: str) -> float | None:
        entry = res[mode].get(engine)
        return None if entry is None else float(entry["ratio_to_ours"])

    for res in results:
        name = res["workload"]
        checks = [("gc_on", 15.0), ("gc_off", 3.0)] if name == "mlp step" else [("gc_off", 3.0)]
        for mode, want in checks:
            r = ratio(res, mode, "micrograd")
            if r is not None:
                ok = "met" if r >= want else "MISSED"
                lines.append(
                    f"{name}, {mode}: {r:.1f}x faster than micrograd (target >= {want:g}x) {ok}"
                )
    if OURS in memory and "micrograd" in memory:
        share = memory[OURS] / memory["micrograd"]
        ok = "met" if share <= 0.25 else "MISSED"
        lines.append(
            f"memory per node: {memory[OURS]:.0f} B vs micrograd's "
            f"{memory['micrograd']:.0f} B = {share:.2f} (target <= 0.25) {ok}"
        )
    return lines


def chart(results: list[dict[str, Any]], path: str) -> None:
    """A bar chart of ns per node (log scale), gc on, per workload and engine."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engines = [e for e in ENGINES if any(e in r["gc_on"] for r in results)]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / len(engines)
    for k, engine in enumerate(engines):
        xs = [i + k * width for i, r in enumerate(results) if engine in r["gc_on"]]
        ys = [r["gc_on"][engine]["ns_per_node"] for r in results if engine in r["gc_on"]]
        ax.bar(xs, ys, width, label=engine)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(results))])
    ax.set_xticklabels([r["workload"] for r in results], rotation=20, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("ns per node (gc on, lower is better)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"chart written to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--only", default="", help="run workloads whose name contains this")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated")
    parser.add_argument("--repeats", type=float, default=1.0, help="scale the repeat counts")
    parser.add_argument("--json", default="out/bench.json", help="result file ('' for none)")
    parser.add_argument("--chart", default="", help="also draw a bar chart to this PNG")
    args = parser.parse_args(argv)

    engines = available_engines([e.strip() for e in args.engines.split(",") if e.strip()])
    if OURS not in engines:
        engines.insert(0, OURS)
    workloads = [w for w in WORKLOADS if args.only in w.name]
    if args.quick:
        workloads = [w for w in workloads if w.size <= 10_000 or w.kind == "mlp"]
        args.repeats = min(args.repeats, 0.3)
    info = machine()
    print(
        f"autograd_mini benchmarks - {info['date']} - Python {info['python']} - "
        f"{info['cpu']} ({info['cpus']} cpus)"
    )
    print("ratio = engine's time / autograd_mini's time, median over interleaved rounds")
    print("a sample of a training step times 3 consecutive steps, so each step pays for")
    print("collecting the garbage of the one before, as in a training loop")
    if "micrograd" in engines:
        print("micrograd runs with sys.setrecursionlimit raised (stock, it fails past depth ~330)")

    # Everything imported so far (torch alone brings ~150k objects) goes to the collector's
    # permanent generation: otherwise each full collection during a gc-on timing would traverse
    # torch's modules too, which a user of micrograd or autograd_mini does not have in memory.
    # Measured: a gc-on MLP step of autograd_mini took 326 ms with torch's heap, 117 ms frozen.
    for engine in engines:
        if engine in ("micrograd", "torch"):
            __import__(engine)
    gc.collect()
    gc.freeze()

    results = []
    for workload in workloads:
        res = bench_workload(workload, engines, args.repeats)
        print_workload(res)
        results.append(res)
        sys.stdout.flush()

    memory = {}
    for engine in engines:
        if engine != "lower bound":
            memory[engine] = wide_forward_bytes_per_node(engine, 10_000 if args.quick else 100_000)
    print("\nmemory per node after the forward pass of the wide sum (tracemalloc):")
    for engine, size in list(memory.items()):
        if engine == "torch":  # its tensors live in C++ allocations that tracemalloc cannot see
            print(f"  {engine:<14}      n/a (allocates outside Python's allocator)")
            del memory[engine]
        else:
            print(f"  {engine:<14} {size:8.1f} B")

    lines = targets(results, memory)
    print("\ntargets:")
    for line in lines:
        print("  " + line)
    if args.json:
        write_json(
            args.json,
            {
                "machine": info,
                "quick": args.quick,
                "results": results,
                "memory_bytes_per_node": memory,
                "targets": lines,
            },
        )
        print(f"results written to {args.json}")
    if args.chart:
        chart(results, args.chart)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
