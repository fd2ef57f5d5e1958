"""Types reach a user's code: ``mypy --strict`` on scripts outside the repository.

The scripts live in a temporary folder, so mypy finds autograd_mini only the way a user's mypy or
IDE does: through the installed package (``py.typed``, and an editable install in a mode static
checkers follow, see the Makefile).  The README's examples are checked too, one module per block.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

USER_SCRIPT = """\
from autograd_mini import Value
from autograd_mini.nn import MLP, Module

model = MLP(2, [8, 1], seed=0)
out: float = model([1.0, 2.0]).data
print(out)


def call(m: Module) -> object:
    return m([1.0, 2.0])


x = Value(2.0)
y = (x * x + 3).tanh()
y.backward()
grad: float = x.grad
"""

# One deliberate error, so a run that checked nothing (or could not see the package) fails.
BAD_SCRIPT = """\
from autograd_mini import Value

wrong: str = Value(1.0).data
"""


def _readme_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL)
    sources = []
    for block in blocks:
        code = [line[4:] for line in block.splitlines() if line.startswith((">>> ", "... ", "..."))]
        sources.append("\n".join(code) + "\n")
    return sources


def test_user_scripts_and_readme_examples_pass_mypy_strict_from_outside_the_repo(
    tmp_path: Path,
) -> None:
    pytest.importorskip("mypy", reason="mypy is in the dev extra: make venv")
    files = {"user_script.py": USER_SCRIPT, "bad_script.py": BAD_SCRIPT}
    blocks = _readme_blocks()
    assert len(blocks) >= 5
    for i, source in enumerate(blocks):
        files[f"readme_block_{i}.py"] = source
    for name, source in files.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--config-file",
            "",  # a user's settings, not this repository's pyproject.toml
            *files,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1, proc.stdout + proc.stderr
    assert errors[0].startswith("bad_script.py:3: error: Incompatible types in assignment"), errors
