"""The README as a new user reads it: what it must say, and that its examples really run.

pytest runs README.md itself as a doctest (``--doctest-glob=README.md`` in pyproject.toml); these
tests check that nothing escapes that: every Python block is a doctest, every link resolves.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)


def test_every_python_block_is_a_doctest_so_make_test_runs_it() -> None:
    blocks = _blocks("python")
    assert len(blocks) >= 5
    for block in blocks:
        first = block.lstrip("\n").splitlines()[0]
        assert first.startswith(">>> "), f"not a doctest (runs in no test):\n{block}"


def test_every_fenced_block_names_its_language() -> None:
    fences = re.findall(r"^```(\S*)$", README, flags=re.MULTILINE)
    openings = fences[0::2]
    assert openings and all(lang in {"python", "bash"} for lang in openings), openings


@pytest.mark.parametrize(
    "heading",
    [
        "## Install",
        "## Quick start",
        "## The engine",
        "## Seeing the calculus",
        "## Neural networks",
        "## Trace once, run fast",
    ],
)
def test_readme_has_the_sections_a_user_needs(heading: str) -> None:
    assert re.search(rf"^{re.escape(heading)}$", README, flags=re.MULTILINE), heading


def test_install_section_says_how_to_install_and_reach_the_command() -> None:
    section = README.split("## Install", 1)[1].split("\n## ", 1)[0]
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'requires-python = ">=3.10"' in pyproject and "Python ≥ 3.10" in section
    for needed in (
        "pip install .",
        "pip install -e '.[demo]'",
        "source .venv/bin/activate",
        "apt-get install graphviz",
        "brew install graphviz",
        "~40 s",
    ):
        assert needed in section, needed


def test_quick_start_keeps_make_demo_and_make_test() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = "\n".join(_blocks("bash"))
    for target in ("make demo", "make test"):
        assert target in section and target in commands


def test_engine_section_opens_with_the_ten_line_example() -> None:
    section = README.split("## The engine", 1)[1]
    first_block = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert first_block is not None
    assert "y = (x * x + 3).tanh()" in first_block.group(1)
    assert "y.backward()" in first_block.group(1)


def test_relative_links_and_pictures_exist() -> None:
    targets = re.findall(r"\]\(([^)#\s]+)\)", README)
    local = [t for t in targets if "://" not in t]
    assert local
    for target in local:
        assert (ROOT / target).exists(), target


def test_speed_internals_live_in_docs_not_in_the_readme() -> None:
    assert "Where the time goes" not in README and "Measured 2026" not in README
    speed = (ROOT / "docs" / "speed.md").read_text(encoding="utf-8")
    assert "micrograd" in speed and "| workload" in speed
