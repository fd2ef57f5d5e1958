"""The documentation site opened from disk, as a newcomer does after ``make docs``: headless
Chromium (Debian's, driven by Playwright) opens ``site/index.html`` over ``file://``, follows
every navigation link of every page, and sees a page each time (never a directory listing),
with no failed request, no request to another host, and no console error.  The search works
there too.

The site is built once per test process into a temporary folder (``built_site`` in
conftest.py).  Marked ``browser``; skipped, saying how to get them, without the docs extra,
Playwright or Chromium (``make test`` installs all three).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from conftest import BuiltSite

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NAV_LINKS = "nav.md-nav a.md-nav__link[href]"


@pytest.fixture(scope="module")
def site(built_site: BuiltSite) -> Path:
    assert built_site.returncode == 0, built_site.output
    return built_site.path


class Visit:
    """One browser tab that records every problem a reader would meet."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.problems: list[str] = []
        self.outside: list[str] = []
        self.page = self.context.new_page()
        self.context.route("**/*", self._route)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.aborted: list[str] = []
        self.page.on("requestfailed", self._failed)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("file://", "data:", "blob:")):
            route.continue_()
        else:  # another host: recorded and refused
            self.outside.append(url)
            route.abort()

    def _failed(self, request: Any) -> None:
        if request.failure == "net::ERR_ABORTED" and request.url.startswith("file://"):
            self.aborted.append(request.url)  # the test moved on first (checked in check())
        else:
            self.problems.append(f"failed: {request.url} ({request.failure})")

    def check(self) -> None:
        """No problem met; a request cut short by moving to the next page was for a file that
        is there (a missing one fails as ERR_FILE_NOT_FOUND, not as aborted)."""
        assert self.problems == []
        assert self.outside == []
        missing = [u for u in self.aborted if not Path(unquote(urlparse(u).path)).is_file()]
        assert missing == []

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def open(self, url: str) -> dict[str, Any]:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        shown: dict[str, Any] = self.page.evaluate(
            """() => ({
                title: document.title,
                content: !!document.querySelector("article.md-content__inner"),
                heading: (document.querySelector("article h1") || {}).textContent || "",
                links: Array.from(document.querySelectorAll(arguments_selector))
                    .map(a => a.href),
            })""".replace("arguments_selector", repr(NAV_LINKS))
        )
        return shown

    def close(self) -> None:
        self.context.close()


def test_every_navigation_link_opens_a_page_from_disk(site: Path, browser: Any) -> None:
    home = (site / "index.html").as_uri()
    visit = Visit(browser)
    try:
        seen: dict[str, str] = {}
        queue = [home]
        while queue:
            url = queue.pop(0)
            page_url, _ = urldefrag(url)
            if page_url in seen:
                continue
            shown = visit.open(url)
            assert not shown["title"].startswith("Index of"), f"{url}: a directory listing"
            assert shown["content"], f"{url}: not a page of the site ({shown['title']!r})"
            seen[page_url] = shown["title"]
            for link in shown["links"]:
                assert link.startswith("file://"), f"{url} links outside the site: {link}"
                target, _ = urldefrag(link)
                assert target.endswith(".html"), f"{url} links a folder: {link}"
                queue.append(link)
        visit.check()
    finally:
        visit.close()
    pages = {Path(p.removeprefix("file://")).relative_to(site).as_posix() for p in seen}
    assert {"index.html", "speed.html", "design.html", "api/nn.html", "api/cli.html"} <= pages
    assert len(pages) >= 11


def test_search_works_from_disk(site: Path, browser: Any) -> None:
    visit = Visit(browser)
    try:
        visit.open((site / "index.html").as_uri())
        visit.page.keyboard.press("s")  # the search box
        visit.page.keyboard.type("tanh")
        visit.page.wait_for_function(
            "() => /\\d+ matching document/.test("
            "(document.querySelector('.md-search-result__meta') || {}).textContent || '')",
            timeout=30_000,
        )
        assert visit.page.locator(".md-search-result__item").count() > 0
        visit.check()
    finally:
        visit.close()


def test_no_page_asks_another_host_for_fonts_or_scripts(site: Path) -> None:
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, page
        assert "unpkg.com" not in text and "cdn.jsdelivr" not in text, page
