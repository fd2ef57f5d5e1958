"""Timing helpers for side-by-side benchmarks: interleaved repeats, medians, garbage-collector
control, agreement checks and the JSON result file.

Reusable by any benchmark in this folder::

    from benchmarks.harness import Case, run_interleaved
    samples = run_interleaved([Case("a", fn_a), Case("b", fn_b)], repeats=5, gc_enabled=True)
    median(samples["a"])

Why interleave: on a shared machine the load changes over seconds, so timing engine A five times
and then engine B five times measures the machine as much as the engines.  Running A, B, A, B, …
in one process and taking medians (and ratios of medians) cancels most of that drift.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Case",
    "agree",
    "calibrated",
    "gc_state",
    "machine",
    "median",
    "run_interleaved",
    "time_once",
    "write_json",
]


@dataclass(frozen=True)
class Case:
    """One engine's run of one workload: ``run()`` does the whole timed job and returns nothing
    the caller must keep (so a graph is released inside the timed region, as in a training loop).

    ``calls`` consecutive calls make one sample (its time is divided by ``calls``): a training
    step leaves its graph behind as garbage, and with calls > 1 the next step pays for
    collecting it, as it would in a user's training loop.
    """

    name: str
    run: Callable[[], object]
    calls: int = 1


def median(samples: Sequence[float]) -> float:
    """The median of the samples (NaN for none)."""
    return statistics.median(samples) if samples else math.nan


@contextmanager
def gc_state(enabled: bool) -> Iterator[None]:
    """Run the block with the cyclic garbage collector on or off; restore the previous state."""
    was = gc.isenabled()
    if enabled:
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def time_once(fn: Callable[[], object], gc_enabled: bool, calls: int = 1) -> float:
    """Seconds per call of ``fn`` over ``calls`` consecutive calls, with the collector on or off.

    Garbage left by earlier samples (of any engine) is collected first, outside the timed
    region, so nobody pays for somebody else's cycles.  With the collector on, whatever
    collections the calls trigger are timed: that is what a user running the code sees.
    """
    gc.collect()
    with gc_state(gc_enabled):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        t1 = time.perf_counter()
    return (t1 - t0) / calls


def run_interleaved(
    cases: Sequence[Case], repeats: int, gc_enabled: bool, warmup: int = 1
) -> dict[str, list[float]]:
    """Time every case ``repeats`` times, interleaved (a, b, c, a, b, c, …), after ``warmup``
    untimed rounds; returns the samples in seconds per case name."""
    for _ in range(warmup):
        for case in cases:
            case.run()
    samples: dict[str, list[float]] = {case.name: [] for case in cases}
    for _ in range(repeats):
        for case in cases:
            samples[case.name].append(time_once(case.run, gc_enabled, case.calls))
    gc.collect()
    return samples


def calibrated(cases: Sequence[Case], min_seconds: float, max_calls: int = 1000) -> list[Case]:
    """The cases with ``calls`` raised so that one sample lasts about ``min_seconds``
    (after one warm-up call, measured on up to two more untimed calls, the fastest; never
    fewer calls than the case asks for).  The warm-up is done: time them with ``warmup=0``.

    Why: a sample starts with ``gc.collect()`` and follows the other contenders, so a single
    sub-millisecond call measures a cold start — caches evicted, XLA's worker threads asleep
    — as much as the step (measured: a jitted JAX step 0.19 ms back to back, 0.6-7 ms as one
    call after a collection, on a loaded 2-core machine).  Consecutive calls are what a
    training loop runs; every contender gets the same rule, slow ones stay at one call."""
    out = []
    for case in cases:
        case.run()  # warm-up: first calls compile (JAX's eager ops), fill caches
        once = math.inf
        for _ in range(2):
            t0 = time.perf_counter()
            case.run()
            once = min(once, max(time.perf_counter() - t0, 1e-9))
            if once >= min_seconds:
                break
        calls = min(max_calls, max(case.calls, math.ceil(min_seconds / once)))
        out.append(Case(case.name, case.run, calls))
    return out


def agree(a: float, b: float, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    """Whether two results are the same number up to rounding (relative ``rel``)."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def write_json(path: str, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON atomically (temp file in the same folder, then os.replace)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".bench-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2, allow_nan=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
