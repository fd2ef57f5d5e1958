"""What a package index and a fresh environment get: a license file, project URLs, a long
description whose links work away from the repository, the notebook in the source distribution,
and an sdist and a wheel that install and run in fresh virtual environments."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "demos/calculus_in_action.ipynb"
# a Markdown link or image, or an HTML href/src, whose target is not absolute
RELATIVE_LINK = re.compile(r'\]\((?!https?:|#|mailto:)[^)]+\)|\b(?:href|src)="(?!https?:|#)[^"]+"')


def _setup_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("autograd_mini_setup", ROOT / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # setup() itself runs only as __main__
    return module


def test_the_license_file_is_mit_as_the_metadata_says() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = "MIT"' in pyproject and 'license-files = ["LICENSE"]' in pyproject


def test_project_urls_are_given() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    urls = pyproject.split("[project.urls]", 1)[1].split("\n[", 1)[0]
    names = re.findall(r'^(\w+) = "https://[^"]+"$', urls, flags=re.MULTILINE)
    assert {"Source", "Documentation", "Issues"} <= set(names)


def test_the_long_description_has_only_absolute_links() -> None:
    setup = _setup_module()
    repository = setup.source_url((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert RELATIVE_LINK.search(readme)  # the README itself links relatively (site, host)
    text = setup.absolute_links(readme, repository)
    assert RELATIVE_LINK.findall(text) == []
    assert f"]({repository}/raw/main/docs/graph.svg)" in text  # a picture: the raw file
    assert f"]({repository}/blob/main/docs/speed.md)" in text  # a page: as the host shows it
    assert f'href="{repository}/blob/main/{NOTEBOOK}"' in text
    assert "](https://github.com/karpathy/micrograd)" in text  # absolute links stay as they were
    assert text.count("\n") == readme.count("\n")


def test_absolute_links_leave_anchors_and_urls_alone() -> None:
    setup = _setup_module()
    text = '[a](#x) [b](https://e.org/p.png) ![c](./docs/p.PNG) <img src="d/q.svg">'
    assert setup.absolute_links(text, "https://h/r") == (
        '[a](#x) [b](https://e.org/p.png) ![c](https://h/r/raw/main/docs/p.PNG) <img src="'
        'https://h/r/raw/main/d/q.svg">'
    )


def _copy_of_the_sources(target: Path) -> Path:
    """The repository's files (tracked or new, not ignored) copied to ``target``: building
    writes build files beside the sources, and tests write only in their own folders."""
    proc = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
    )
    if proc.returncode == 0 and proc.stdout:
        for name in proc.stdout.decode().split("\0"):
            if name and (ROOT / name).is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, target / name)
    else:  # not a git checkout
        skip = shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "site", "out", "*.egg-info", "__pycache__", ".*cache"
        )
        shutil.copytree(ROOT, target, ignore=skip, dirs_exist_ok=True)
    return target


def _fresh_venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"


def _pip_install(python: Path, artifact: Path) -> None:
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
            str(artifact),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


SMOKE = """\
import autograd_mini, sys
from autograd_mini import Value
from autograd_mini.nn import MLP
x = Value(2.0)
y = (x * x + 3).tanh()
y.backward()
assert abs(x.grad - 4 * (1 - y.data**2)) < 1e-12, x.grad
model = MLP(2, [4, 1], seed=0)
model([1.0, 2.0]).backward()
assert autograd_mini.__file__.startswith(sys.prefix), autograd_mini.__file__
print("smoke ok", autograd_mini.__version__)
"""


@pytest.mark.slow
def test_build_gives_an_sdist_and_a_wheel_that_install_and_run_in_fresh_venvs(
    tmp_path: Path,
) -> None:
    pytest.importorskip("build", reason="python -m build: the dev extra (make venv)")
    sources = _copy_of_the_sources(tmp_path / "sources")
    dist = tmp_path / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(sources)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")

    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {NOTEBOOK, "LICENSE", "README.md", "setup.py", "autograd_mini/py.typed"} <= names
    with zipfile.ZipFile(wheel) as whl:
        metadata = whl.read("autograd_mini-0.1.0.dist-info/METADATA").decode("utf-8")
        assert "autograd_mini-0.1.0.dist-info/licenses/LICENSE" in whl.namelist()
        assert "autograd_mini/py.typed" in whl.namelist()
    assert "License-Expression: MIT" in metadata
    assert "Project-URL: Source, https://" in metadata
    description = metadata.split("\n\n", 1)[1]
    assert description.startswith("# autograd_mini")
    assert RELATIVE_LINK.findall(description) == []

    for artifact in (wheel, sdist):
        venv = tmp_path / f"venv-{artifact.suffix.strip('.')}"
        python = _fresh_venv(venv)
        _pip_install(python, artifact)
        run = subprocess.run(
            [str(python), "-c", SMOKE], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout == "smoke ok 0.1.0\n"
        command = subprocess.run(
            [str(venv / "bin" / "autograd-mini"), "explain", "-x*y", "--at", "x=1", "y=2"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert command.returncode == 0, command.stderr
        assert "∂f/∂x = -2.0" in command.stdout.splitlines()
