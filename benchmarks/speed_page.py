"""``make bench`` (last step): the numbers of ``docs/speed.md``, written from this run's results.

    python -m benchmarks.speed_page [--eager out/bench.json] [--trace out/bench_trace.json]
                                    [--page docs/speed.md]

The page keeps its prose; everything between the :data:`BEGIN` and :data:`END` markers is
replaced by tables made from the JSON files that :mod:`benchmarks.run` and
:mod:`benchmarks.bench_trace` wrote in the same ``make bench``: the eager engine against
micrograd, PyTorch and hand-written floats; one training step eager, compiled, batched with
NumPy and with JAX, and hand-written; with the date, Python version and CPU of the run.  So the
page shows no number that the current code did not produce.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["BEGIN", "END", "main", "speed_tables", "write_speed_page"]

BEGIN = "<!-- bench:begin: make bench writes from here to bench:end; edits here are lost -->"
END = "<!-- bench:end -->"

_ENGINES = (("micrograd", "micrograd"), ("torch", "PyTorch"))
# (case name in bench_trace's results, what the row says), in the order shown
_STEP_ROWS = (
    ("eager", "eager: the graph built and walked per sample"),
    ("compiled", "compiled: traced once, straight-line Python per sample"),
    ("batched", "NumPy batch: `batch` over the 100 rows at once"),
    ("jax batched", 'JAX batch: `batch(backend="jax")`, jit(vmap(value_and_grad))'),
    ("numpy", "hand-written NumPy matrices"),
    ("jax", "hand-written jax.numpy under jax.jit"),
    ("micrograd", "micrograd 0.1.0"),
    ("lower bound", "hand-written float code with a hand-derived backward"),
)
_SAMPLE_ROWS = (
    ("eager", "eager"),
    ("traced", "traced `value_and_grad` per sample"),
    ("batched", "`batch` of all 100"),
)


def _machine_line(machine: Mapping[str, Any], quick: bool) -> str:
    run = "a `--quick` run (fewer repeats, the smaller workloads)" if quick else "a full run"
    return (
        f"Measured {machine.get('date', '?')} by {run} on {machine.get('cpu', '?')} "
        f"({machine.get('cpus', '?')} cpus), Python {machine.get('python', '?')}."
    )


def _times(ratio: float) -> str:
    """``12.3×``; two decimals below 1 (``0.06×``), where one would round to nothing."""
    return f"{ratio:,.2f}×" if ratio < 1 else f"{ratio:,.1f}×"


def _ratio(res: Mapping[str, Any], mode: str, engine: str) -> str:
    entry = res.get(mode, {}).get(engine)
    return "—" if entry is None else _times(entry["ratio_to_ours"])


def _eager_table(eager: Mapping[str, Any]) -> list[str]:
    engines = {e for res in eager["results"] for e in res["gc_on"]}
    lines = [
        "| workload (nodes) | autograd_mini ns/node, gc on / off | "
        + " | ".join(f"{label} on / off" for key, label in _ENGINES if key in engines)
        + " | floor, gc off |",
        "|---|---|" + "---|" * sum(key in engines for key, _ in _ENGINES) + "---|",
    ]
    for res in eager["results"]:
        ours_on = res["gc_on"]["autograd_mini"]["ns_per_node"]
        ours_off = res["gc_off"]["autograd_mini"]["ns_per_node"]
        cells = [f"{res['workload']} ({res['nodes']:,})", f"{ours_on:,.0f} / {ours_off:,.0f}"]
        for key, _ in _ENGINES:
            if key in engines:
                if key in res["gc_on"]:
                    cells.append(f"{_ratio(res, 'gc_on', key)} / {_ratio(res, 'gc_off', key)}")
                else:
                    cells.append("sits out" if key in res.get("skipped", {}) else "—")
        cells.append(_ratio(res, "gc_off", "lower bound"))
        lines.append("| " + " | ".join(cells) + " |")
    memory = eager.get("memory_bytes_per_node", {})
    if "autograd_mini" in memory:
        ours = memory["autograd_mini"]
        cells = ["memory per node, wide sum forward", f"{ours:,.0f} B"]
        for key, _ in _ENGINES:
            if key in engines:
                other = memory.get(key)
                share = f"{other:,.0f} B (ours ÷ theirs {ours / other:.2f})" if other else "—"
                cells.append(share)
        cells.append("—")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _step_table(trace: Mapping[str, Any]) -> list[str]:
    step: Mapping[str, float] = trace["step_s"]
    eager = step["eager"]
    lines = ["| one SGD step | ms | eager's time ÷ this |", "|---|---|---|"]
    for key, label in _STEP_ROWS:
        if key in step:
            lines.append(f"| {label} | {step[key] * 1e3:,.3f} | {_times(eager / step[key])} |")
        elif key in ("jax batched", "jax"):
            lines.append(f"| {label} | jax not installed | — |")
    return lines


def _sample_table(trace: Mapping[str, Any]) -> list[str]:
    sample: Mapping[str, float] = trace.get("sample_s", {})
    if "eager" not in sample:
        return []
    lines = ["| loss and gradient of one sample | µs | eager's time ÷ this |", "|---|---|---|"]
    for key, label in _SAMPLE_ROWS:
        if key in sample:
            lines.append(
                f"| {label} | {sample[key] * 1e6:,.2f} | {_times(sample['eager'] / sample[key])} |"
            )
    return lines


def _same_run(eager: Mapping[str, Any], trace: Mapping[str, Any]) -> bool:
    """Whether both result files come from one ``make bench``: same day, machine, Python and
    mode (then the page names the machine once)."""

    def key(results: Mapping[str, Any]) -> tuple[object, ...]:
        m = results["machine"]
        return (str(m.get("date", ""))[:10], m.get("cpu"), m.get("python"), results.get("quick"))

    return key(eager) == key(trace)


def _bullets(lines: Sequence[str]) -> list[str]:
    return [f"- {line}" for line in lines]


def speed_tables(eager: Mapping[str, Any], trace: Mapping[str, Any]) -> str:
    """The Markdown that goes between the markers, from the results of :mod:`benchmarks.run`
    (``eager``) and :mod:`benchmarks.bench_trace` (``trace``) as they write them to JSON."""
    out = [_machine_line(eager["machine"], bool(eager.get("quick"))), ""]
    out += ["### The eager engine", ""]
    out += [
        "ns per node of autograd_mini; for the others, the median over interleaved rounds of "
        "*their time ÷ autograd_mini's* (micrograd's 10× means autograd_mini is 10× faster; "
        "the floor's 0.1× means hand-written floats are 10× faster still).",
        "",
    ]
    out += _eager_table(eager)
    if eager.get("targets"):
        out += ["", "Targets:", "", *_bullets(eager["targets"])]
    out += ["", "### Trace and batch", ""]
    if not _same_run(eager, trace):
        out += [_machine_line(trace["machine"], bool(trace.get("quick"))), ""]
    out += [
        "MLP(2, [16, 16, 1]) on 100 two-moons points, medians in one run; each contender's "
        "loss and gradients were first checked against eager (rel 1e-9).",
        "",
    ]
    out += _step_table(trace)
    sample = _sample_table(trace)
    if sample:
        out += ["", *sample]
    info = trace.get("trace", {})
    once = []
    if "trace_s" in info:
        once.append(f"tracing {info['trace_s'] * 1e3:,.0f} ms")
    if "compile_s" in info:
        once.append(f"compiling to Python {info['compile_s'] * 1e3:,.0f} ms")
    if "jax_batched_compile_s" in info:
        once.append(f"jax.jit of the traced batch {info['jax_batched_compile_s']:.2f} s")
    if "jax_hand_compile_s" in info:
        once.append(f"jax.jit of the hand-written step {info['jax_hand_compile_s']:.2f} s")
    if once:
        out += ["", "Paid once, before the timings: " + ", ".join(once) + "."]
    if "moons_compiled_s" in trace:
        out += [
            "",
            f"`moons --compiled`: 100 training steps in {trace['moons_compiled_s']:.2f} s "
            "(tracing included).",
        ]
    if trace.get("targets"):
        out += ["", "Targets:", "", *_bullets(trace["targets"])]
    return "\n".join(out)


def write_speed_page(
    page: str | os.PathLike[str], eager: Mapping[str, Any], trace: Mapping[str, Any]
) -> None:
    """Replace what is between :data:`BEGIN` and :data:`END` in ``page`` with
    :func:`speed_tables`; the rest of the page is kept byte for byte.  ValueError, before
    writing, unless each marker is there exactly once and in order."""
    with open(page, encoding="utf-8") as f:
        text = f.read()
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(
            f"{os.fspath(page)!r}: expected one {BEGIN!r} line and, after it, one {END!r} line"
        )
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{speed_tables(eager, trace)}\n{END}{tail}"
    tmp = f"{os.fspath(page)}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
    os.replace(tmp, page)


def _read(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eager", default="out/bench.json", help="benchmarks.run's results")
    parser.add_argument("--trace", default="out/bench_trace.json", help="bench_trace's results")
    parser.add_argument("--page", default="docs/speed.md", help="the page to update")
    args, _ = parser.parse_known_args(argv)  # BENCH_ARGS is shared with the benchmarks
    write_speed_page(args.page, _read(args.eager), _read(args.trace))
    print(f"tables written into {args.page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
