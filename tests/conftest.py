"""Shared test setup: hypothesis profiles chosen by the CI variable, and the documentation site
built once per test process."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# --- the documentation site, built once per test process -----------------------------------------

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class BuiltSite:
    """``mkdocs build --strict`` of the repository into a temporary folder: where, and what it
    printed (``returncode`` 0 when the build passed)."""

    path: Path
    returncode: int
    output: str


def _build_site(site: Path) -> BuiltSite:
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return BuiltSite(site, proc.returncode, proc.stdout + proc.stderr)


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The docs site as ``make docs`` builds it, into a temporary folder (``site/`` is left as
    it is), built once per test run: under pytest-xdist the first worker that needs it builds
    it into the run's shared temporary folder, under a lock, and the others read it there.
    Skipped, saying how to get it, without the docs extra."""
    pytest.importorskip("mkdocs", reason="the docs extra is missing: run make venv")
    pytest.importorskip("mkdocstrings", reason="the docs extra is missing: run make venv")
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return _build_site(tmp_path_factory.mktemp("docs") / "site")
    import fcntl

    shared = tmp_path_factory.getbasetemp().parent  # this run's, above each worker's own
    with open(shared / "docs-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        result = shared / "docs-site.json"
        if result.exists():
            built = json.loads(result.read_text(encoding="utf-8"))
            return BuiltSite(Path(built["path"]), built["returncode"], built["output"])
        site = _build_site(shared / "docs-site")
        record = {"path": str(site.path), "returncode": site.returncode, "output": site.output}
        result.write_text(json.dumps(record), encoding="utf-8")
        return site


# Debian's chromium, driven by Playwright (never `playwright install`); flags that keep it from
# calling home on a closed network.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is missing: pip install playwright (the 'browser' extra; make test "
        "installs it). Never `playwright install`: the tests use Debian's chromium",
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(
            "chromium is missing: sudo apt-get install chromium (make test installs it when root)"
        )
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()
