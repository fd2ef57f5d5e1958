"""Nothing but the results on the screen and on disk: no warning from drawing with ``dot`` once
JAX has started its threads, no empty output folders, no setuptools warning box on install."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")


@needs_dot
def test_drawing_after_jax_started_its_threads_gives_no_fork_warning(tmp_path: Path) -> None:
    """The moons demo (which draws network.svg with dot), render_graph, to_html and the command
    line, all in a process where JAX's threads run, as in ``moons --compiled jax``."""
    pytest.importorskip("jax", reason="the jax extra: make venv")
    script = textwrap.dedent(
        """
        import jax, jax.numpy as jnp
        jax.jit(lambda v: v * 2)(jnp.ones(3)).block_until_ready()  # JAX's threads are running
        from autograd_mini import Value
        from autograd_mini.cli import main
        from autograd_mini.demos import moons
        from autograd_mini.viz import render_graph, to_html
        x = Value(1.0, label="x")
        render_graph((x * x).tanh(), "g.svg")
        to_html(x * 2, "page.html")
        assert moons.main(["--steps", "2", "--out", "moons", "--quiet"]) == 0
        raise SystemExit(main(["graph", "-x*y", "--at", "x=1", "y=2", "-o", "cli.svg"]))
        """
    )
    proc = subprocess.run(
        # an os.fork() warning becomes an error, and is also looked for in the output
        [sys.executable, "-W", "error::RuntimeWarning", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "fork" not in proc.stderr and "Warning" not in proc.stderr
    assert {"cli.svg", "cli.svg.dot", "g.svg", "g.svg.dot", "page.html", "moons"} == {
        p.name for p in tmp_path.iterdir()
    }
    assert (tmp_path / "moons" / "network.svg").exists()


def test_pytest_does_not_hide_the_fork_warning() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "os.fork" not in pyproject


@pytest.mark.parametrize("demo", ["vanishing", "newton"])
def test_a_demo_without_matplotlib_creates_no_empty_folder(
    demo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    main = importlib.import_module(f"autograd_mini.demos.{demo}").main
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    out = tmp_path / "out" / demo
    assert main(["--out", str(out)]) == 0
    assert "matplotlib is not installed" in capsys.readouterr().err
    assert not out.exists() and not out.parent.exists()


def _editable_options() -> list[str]:
    """The options `make` installs the package in editable mode with (the Makefile's EDITABLE)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^EDITABLE := \$\(PIP\) install(.*)$", makefile, flags=re.MULTILINE)
    assert found, "the Makefile defines EDITABLE"
    return found.group(1).split()


@pytest.mark.slow
def test_an_editable_install_as_make_does_prints_no_warning_box_and_mypy_can_follow_it(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE", "MANIFEST.in"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "autograd_mini", project / "autograd_mini", ignore=shutil.ignore_patterns("*.pyc")
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    options = _editable_options()
    assert options[-1] == "-e"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "--disable-pip-version-check",
            "install",
            "-q",
            "--no-deps",
            *options,
            str(project),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    output = proc.stdout + proc.stderr
    assert "BuildBackendWarning" not in output and "!!" not in output, output
    assert "*" * 40 not in output, output
    # a plain path, which mypy and IDEs read (an import hook they cannot run)
    site = next((venv / "lib").glob("python3*/site-packages"))
    pth = [p.read_text().strip() for p in site.glob("__editable__*.pth")]
    assert pth == [str(project)]
    assert not (project / "build").exists()  # no link tree to keep
