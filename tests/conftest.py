"""Shared test setup: hypothesis profiles chosen by the CI variable, and the documentation site
built once per test process."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The docs site as ``make docs`` builds it, into a temporary folder (``site/`` is left as
    it is); skipped, saying how to get it, without the docs extra."""
    pytest.importorskip("mkdocs", reason="the docs extra is missing: run make venv")
    pytest.importorskip("mkdocstrings", reason="the docs extra is missing: run make venv")
    site = tmp_path_factory.mktemp("docs") / "site"
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
