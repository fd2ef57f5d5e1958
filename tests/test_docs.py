"""The documentation site (``make docs``): every public module, function and class is published.

The fast tests read the sources; the site test builds it with ``mkdocs build --strict`` (the
``docs`` extra, installed by ``make venv``) into a temporary folder and reads the inventory of
everything it published.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
import zlib
from pathlib import Path
from types import ModuleType

import pytest
from conftest import BuiltSite

import autograd_mini

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_build"))
from griffe_docstrings import to_markdown  # noqa: E402


def _public_modules() -> list[str]:
    names = [
        m.name
        for m in pkgutil.walk_packages(autograd_mini.__path__, "autograd_mini.")
        if not any(part.startswith("_") for part in m.name.split("."))
    ]
    return [n for n in names if n != "autograd_mini.demos"]  # a namespace: nothing of its own


def _public_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return sorted(names)


def _own_functions_and_classes(name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(name)
    return [
        (attr, obj)
        for attr in _public_names(module)
        if (inspect.isfunction(obj := getattr(module, attr)) or inspect.isclass(obj))
        and obj.__module__ == name
    ]


def _api_pages() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs/api").glob("*.md"))
    )


@pytest.mark.parametrize("name", _public_modules())
def test_every_public_module_has_a_page_in_the_api_reference(name: str) -> None:
    assert re.search(rf"^::: {re.escape(name)}$", _api_pages(), flags=re.MULTILINE), name


@pytest.mark.parametrize("name", _public_modules())
def test_every_public_function_and_class_has_a_docstring(name: str) -> None:
    module = importlib.import_module(name)
    assert inspect.getdoc(module), name
    for attr, obj in _own_functions_and_classes(name):
        assert obj.__doc__ and obj.__doc__.strip(), f"{name}.{attr} has no docstring"


def test_every_page_in_the_docs_folder_is_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(
        str(p.relative_to(ROOT / "docs"))
        for p in (ROOT / "docs").rglob("*.md")
        if "_build" not in p.parts
    )
    assert pages
    for page in pages:
        assert f": {page}" in config, page


def test_docstrings_become_markdown_roles_as_code_and_doctests_as_code_blocks() -> None:
    text = (
        "Uses :class:`~autograd_mini.engine.Value`\\ s and :func:`grad`.\n\n>>> 1 + 1\n2\n\nAfter."
    )
    assert to_markdown(text) == (
        "Uses `Value`s and `grad`.\n\n```pycon\n>>> 1 + 1\n2\n```\n\nAfter."
    )
    assert (
        to_markdown("Text.\n    >>> x\n    1") == "Text.\n\n    ```pycon\n    >>> x\n    1\n    ```"
    )


def _inventory(site: Path) -> set[str]:
    data = (site / "objects.inv").read_bytes()
    body = zlib.decompress(data.split(b"zlib.\n", 1)[1]).decode("utf-8")
    return {line.split(" ", 1)[0] for line in body.splitlines()}


@pytest.mark.slow
def test_mkdocs_build_strict_publishes_every_public_function_and_class(
    built_site: BuiltSite,
) -> None:
    assert built_site.returncode == 0, built_site.output
    site = built_site.path
    published = _inventory(site)
    missing = [
        f"{name}.{attr}"
        for name in _public_modules()
        for attr, _ in _own_functions_and_classes(name)
        if f"{name}.{attr}" not in published
    ]
    assert not missing, missing
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Trace once, run fast" in home and 'src="graph.svg"' in home
    # every relative link of the home page resolves inside the site (the notebook included)
    links = re.findall(r'href="([^"#:]+)"', home)
    assert "demos/calculus_in_action.ipynb" in links
    assert [link for link in links if not (site / link).exists()] == []
