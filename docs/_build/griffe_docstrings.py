"""Griffe extension: the package's docstrings, written for ``help()`` and doctest, as Markdown.

The docstrings use reStructuredText habits (``:class:`Value```, ``Value``\\ s) and doctest
examples; Markdown would show the roles raw and read ``>>>`` as nested quotes.  This rewrites
them for the site only (the source is unchanged): roles become code spans and each run of doctest
lines becomes a ``pycon`` code block.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`(~?)([^`]+)`")


def _role(match: re.Match[str]) -> str:
    target = match.group(2).lstrip(".")
    if match.group(1):  # ~a.b.C shows as C, as in Sphinx
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _fence_doctests(text: str) -> str:
    out: list[str] = []
    in_block = False
    indent = ""
    for line in text.split("\n"):
        stripped = line.lstrip()
        if not in_block and stripped.startswith(">>>"):
            in_block = True
            indent = line[: len(line) - len(stripped)]
            if out and out[-1].strip():
                out.append("")
            out.append(f"{indent}```pycon")
        elif in_block and not stripped:
            out.append(f"{indent}```")
            in_block = False
        out.append(line)
    if in_block:
        out.append(f"{indent}```")
    return "\n".join(out)


def to_markdown(text: str) -> str:
    """A docstring's text as Markdown (see the module docstring)."""
    text = _ROLE.sub(_role, text).replace("\\ ", "")
    return _fence_doctests(text)


class MarkdownDocstrings(griffe.Extension):
    """Rewrites every docstring once the object tree is loaded."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
