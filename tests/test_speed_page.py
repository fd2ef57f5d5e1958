"""docs/speed.md's numbers come from ``make bench``: the writer fills the part between the
markers from the benchmarks' result files (fake ones here: the bench itself takes minutes)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from benchmarks import speed_page
from benchmarks.speed_page import BEGIN, END, speed_tables, write_speed_page

ROOT = Path(__file__).resolve().parents[1]
MACHINE = {"date": "2031-02-03 04:05 UTC", "python": "3.11.7", "cpu": "Test CPU 9000", "cpus": 2}


def _timing(ns_per_node: float, ratio: float) -> dict[str, float]:
    return {"median_s": 1.0, "ns_per_node": ns_per_node, "ratio_to_ours": ratio}


def fake_eager(*, with_torch: bool = True) -> dict[str, Any]:
    def modes(on: float, off: float) -> dict[str, Any]:
        row = {
            "gc_on": {"autograd_mini": _timing(on, 1.0), "micrograd": _timing(0, 12.5)},
            "gc_off": {
                "autograd_mini": _timing(off, 1.0),
                "micrograd": _timing(0, 2.25),
                "lower bound": _timing(0, 0.06),
            },
        }
        if with_torch:
            row["gc_on"]["torch"] = _timing(0, 9.0)
            row["gc_off"]["torch"] = _timing(0, 10.0)
        return row

    return {
        "machine": MACHINE,
        "quick": True,
        "results": [
            {"workload": "mlp step", "nodes": 65818, "skipped": {}, **modes(1684.4, 1440.2)},
            {
                "workload": "chain 1e6",
                "nodes": 4000001,
                "skipped": {"micrograd": "skipped: too many"},
                "gc_on": {"autograd_mini": _timing(2326.0, 1.0)},
                "gc_off": {"autograd_mini": _timing(861.0, 1.0), "lower bound": _timing(0, 0.02)},
            },
        ],
        "memory_bytes_per_node": {"autograd_mini": 112.0, "micrograd": 688.0},
        "targets": ["mlp step, gc_on: 12.5x faster than micrograd (target >= 15x) MISSED"],
    }


def fake_trace(*, with_jax: bool = True) -> dict[str, Any]:
    step = {
        "eager": 0.120,
        "micrograd": 1.2,
        "lower bound": 0.004,
        "numpy": 0.0002,
        "compiled": 0.003,
        "batched": 0.0006,
    }
    info = {"trace_s": 0.05, "compile_s": 0.02}
    if with_jax:
        step |= {"jax": 0.0001, "jax batched": 0.0004}
        info |= {"jax_hand_compile_s": 0.5, "jax_batched_compile_s": 2.5}
    return {
        "machine": MACHINE,
        "quick": True,
        "trace": info,
        "step_s": step,
        "sample_s": {"eager": 0.0012, "traced": 0.0001, "batched": 0.000012},
        "moons_compiled_s": 0.51,
        "targets": ["batched step: hand-written NumPy's time x: 3.0x (target <= 3x) met"],
    }


def _page(tmp_path: Path, body: str = "old numbers\n") -> Path:
    page = tmp_path / "speed.md"
    page.write_text(f"# Speed\n\nprose stays\n\n{BEGIN}\n{body}{END}\n\nafter stays\n")
    return page


def _block(text: str) -> str:
    return text.split(BEGIN, 1)[1].split(END, 1)[0]


def test_the_tables_between_the_markers_come_from_the_results(tmp_path: Path) -> None:
    page = _page(tmp_path)
    write_speed_page(page, fake_eager(), fake_trace())
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Speed\n\nprose stays\n\n" + BEGIN + "\n")
    assert text.endswith(END + "\n\nafter stays\n")
    block = _block(text)
    assert "old numbers" not in block
    assert "2031-02-03 04:05 UTC" in block and "Python 3.11.7" in block
    assert "Test CPU 9000 (2 cpus)" in block and "`--quick` run" in block
    assert block.count("Measured ") == 1  # one make bench: the machine is named once
    lines = block.splitlines()
    assert "| mlp step (65,818) | 1,684 / 1,440 | 12.5× / 2.2× | 9.0× / 10.0× | 0.06× |" in lines
    assert "| chain 1e6 (4,000,001) | 2,326 / 861 | sits out | — | 0.02× |" in lines
    assert any(line.startswith("| memory per node") and "0.16" in line for line in lines)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines if line.startswith("| ")}
    assert rows["eager: the graph built and walked per sample"].endswith("| 120.000 | 1.0× |")
    assert rows["compiled: traced once, straight-line Python per sample"].endswith("| 40.0× |")
    assert rows["NumPy batch: `batch` over the 100 rows at once"].endswith("| 200.0× |")
    assert rows['JAX batch: `batch(backend="jax")`, jit(vmap(value_and_grad))'].endswith(
        "| 0.400 | 300.0× |"
    )
    assert rows["hand-written jax.numpy under jax.jit"].endswith("| 1,200.0× |")
    assert "- batched step: hand-written NumPy's time x: 3.0x (target <= 3x) met" in lines
    assert "jax.jit of the traced batch 2.50 s" in block
    assert "100 training steps in 0.51 s" in block


def test_a_second_run_replaces_the_first(tmp_path: Path) -> None:
    page = _page(tmp_path)
    write_speed_page(page, fake_eager(), fake_trace())
    eager = fake_eager()
    eager["machine"] = {**MACHINE, "date": "2032-01-01 00:00 UTC"}
    write_speed_page(page, eager, fake_trace())
    text = page.read_text(encoding="utf-8")
    assert text.count(BEGIN) == text.count(END) == 1
    assert "2032-01-01" in text


def test_without_jax_or_torch_their_rows_say_so(tmp_path: Path) -> None:
    block = speed_tables(fake_eager(with_torch=False), fake_trace(with_jax=False))
    assert "PyTorch" not in block
    assert re.search(r"^\| JAX batch: .* \| jax not installed \| — \|$", block, re.MULTILINE)
    assert "jax.jit" not in block.split("Paid once", 1)[1].split("\n", 1)[0]


@pytest.mark.parametrize(
    "text",
    ["no markers\n", f"{BEGIN}\nno end\n", f"{END}\n{BEGIN}\n", f"{BEGIN}\n{BEGIN}\n{END}\n"],
)
def test_a_page_without_one_pair_of_markers_is_left_as_it_was(tmp_path: Path, text: str) -> None:
    page = tmp_path / "speed.md"
    page.write_text(text)
    with pytest.raises(ValueError, match="expected one"):
        write_speed_page(page, fake_eager(), fake_trace())
    assert page.read_text() == text


def test_the_command_reads_the_result_files(tmp_path: Path) -> None:
    (tmp_path / "bench.json").write_text(json.dumps(fake_eager()))
    (tmp_path / "trace.json").write_text(json.dumps(fake_trace()))
    page = _page(tmp_path)
    argv = ["--eager", str(tmp_path / "bench.json"), "--trace", str(tmp_path / "trace.json")]
    assert speed_page.main([*argv, "--page", str(page), "--quick"]) == 0
    assert "Test CPU 9000" in page.read_text()


def test_the_speed_page_has_one_generated_block_in_the_writers_shape(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "speed.md").read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    block = _block(text)
    assert block.lstrip("\n").startswith("Measured ")  # written by make bench, not by hand
    for heading in ("### The eager engine", "### Trace and batch"):
        assert heading in block
    copy = shutil.copy(ROOT / "docs" / "speed.md", tmp_path / "speed.md")
    write_speed_page(copy, fake_eager(), fake_trace())  # the real page takes new numbers
    assert _block(Path(copy).read_text()) != block


def test_make_bench_writes_the_page() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    assert "benchmarks.speed_page" in recipe and "docs/speed.md" in recipe
