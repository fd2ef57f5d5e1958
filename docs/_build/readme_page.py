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
