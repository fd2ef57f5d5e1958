"""The package's long description: README.md with its relative links made absolute.

Everything else is in pyproject.toml.  The README links pictures and pages of this repository by
relative paths (``docs/graph.svg``), which work on the repository's host and on the docs site but
not on a package index; here they point at the repository (``[project.urls] Source``): pictures
at their raw files, other files at their pages.
"""

from __future__ import annotations

import re
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
PICTURES = (".svg", ".png", ".jpg", ".jpeg", ".gif")
_RELATIVE = r"(?!https?:|mailto:|#)([^)\s\"]+)"


def source_url(pyproject: str) -> str:
    """``[project.urls] Source`` of ``pyproject`` (the text of pyproject.toml)."""
    found = re.search(r'^Source = "([^"]+)"$', pyproject, flags=re.MULTILINE)
    if found is None:
        raise ValueError('pyproject.toml: [project.urls] has no Source = "..."')
    return found.group(1).rstrip("/")


def absolute_links(readme: str, repository: str, branch: str = "main") -> str:
    """``readme`` with every relative Markdown link or image and HTML ``href``/``src`` made
    absolute: pictures to ``<repository>/raw/<branch>/path``, the rest to ``/blob/``."""

    def url(path: str) -> str:
        kind = "raw" if path.lower().endswith(PICTURES) else "blob"
        return f"{repository}/{kind}/{branch}/{path.removeprefix('./')}"

    text = re.sub(r"\]\(" + _RELATIVE + r"\)", lambda m: f"]({url(m.group(1))})", readme)
    return re.sub(
        r'\b(href|src)="' + _RELATIVE + '"', lambda m: f'{m.group(1)}="{url(m.group(2))}"', text
    )


if __name__ == "__main__":
    setup(
        long_description=absolute_links(
            (ROOT / "README.md").read_text(encoding="utf-8"),
            source_url((ROOT / "pyproject.toml").read_text(encoding="utf-8")),
        ),
        long_description_content_type="text/markdown",
    )
