"""The Makefile a newcomer meets: ``make help`` lists every target, ``make demo`` sets up ``dot``
as ``make test`` does, the test run uses every core and still fails when no test ran, and the
README states what ``make test`` costs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def _targets() -> list[str]:
    """The targets a user can name: the .PHONY list."""
    found = re.search(r"^\.PHONY:(.*)$", MAKEFILE, flags=re.MULTILINE)
    assert found
    return found.group(1).split()


def _recipe(target: str) -> tuple[str, str]:
    """(prerequisites, recipe) of ``target``."""
    found = re.search(
        rf"^{re.escape(target)}:([^=\n]*)\n((?:\t.*\n)*)", MAKEFILE, flags=re.MULTILINE
    )
    assert found, target
    return found.group(1), found.group(2)


@needs_make
def test_make_help_lists_every_target() -> None:
    proc = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(ROOT), "help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    listed = re.findall(r"^make ([\w-]+) +- ", proc.stdout, flags=re.MULTILINE)
    assert sorted(listed) == sorted(_targets())
    assert {"test-fast", "demo", "test", "docs", "bench"} <= set(listed)


@needs_make
def test_plain_make_prints_the_help() -> None:
    proc = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(ROOT), "-n"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "make test-fast" in proc.stdout


def test_make_demo_sets_up_dot_like_make_test() -> None:
    demo, _ = _recipe("demo")
    test, _ = _recipe("test")
    assert "dot" in demo.split() and "dot" in test.split()
    _, dot = _recipe("dot")
    assert "apt-get install -y -qq graphviz" in dot and 'id -u)" = 0' in dot
    # without root, `make test` says how to install it; under `make demo` the demo says it once
    assert re.search(r"^demo: DOT_MISSING :=\s*$", MAKEFILE, flags=re.MULTILINE)


def test_make_test_runs_on_every_core_and_fails_when_no_test_ran() -> None:
    _, recipe = _recipe("test")
    assert "$(XDIST)" in recipe and re.search(r"^XDIST := -n auto\b", MAKEFILE, re.MULTILINE)
    # pytest's status (5: no test ran) is make's: nothing after it, no `-` prefix, no `|| true`
    assert recipe.strip().splitlines()[-1].startswith("$(PY) -m pytest")
    assert "||" not in recipe and not recipe.lstrip("\t").startswith("-")


def test_readme_states_what_make_test_installs_and_how_long_it_takes() -> None:
    costs = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make test-fast" in costs
    assert re.search(r"\.venv.{0,80}\d(\.\d)? GB", costs, flags=re.DOTALL)
    for part in ("torch", "jaxlib"):
        assert re.search(rf"{part}[^.]{{0,40}}\d+ MB", costs, flags=re.IGNORECASE), part
    assert re.search(r"\d+ min", costs) and "2 cores" in costs
