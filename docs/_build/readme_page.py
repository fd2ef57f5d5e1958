"""MkDocs hook: the site's home page is the README, so the two never drift apart.

The README links to ``docs/speed.md`` and shows ``docs/graph.svg``; on the site those files sit
beside the home page, so the ``docs/`` prefix is dropped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


def on_page_markdown(markdown: str, *, page: Any, config: Any, files: Any) -> str:
    """Replace ``docs/index.md``'s placeholder with the README, links made site-relative."""
    if page.file.src_uri != "index.md":
        return markdown
    readme = Path(config.config_file_path).parent / "README.md"
    text = readme.read_text(encoding="utf-8")
    return re.sub(r"\]\(docs/", "](", text)


def on_post_build(*, config: Any) -> None:
    """The README links the notebook ``demos/calculus_in_action.ipynb`` (outside ``docs/``):
    copy it into the site at the same relative path, so the home page's link works there too."""
    root = Path(config.config_file_path).parent
    notebook = Path("demos") / "calculus_in_action.ipynb"
    target = Path(config.site_dir) / notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((root / notebook).read_bytes())
