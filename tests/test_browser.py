"""The step-through page in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright.  Every step of a graph with shared subexpressions is checked against the engine:
the highlighted node, the lit edges, the values and gradients shown and the chain-rule line.

Marked ``browser`` (deselect with ``-m "not browser"``); skipped, saying how to get them, when
Playwright or Chromium is missing.  ``make test`` installs both (Chromium with apt-get as root).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from autograd_mini import Value, explain, topological_order
from autograd_mini.explain import explain_steps
from autograd_mini.viz import _fmt, to_html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed"),
]

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

# What the page shows, read in the browser.
STATE_JS = """() => {
  const titles = sel => Array.from(document.querySelectorAll(sel))
    .map(g => g.querySelector("title").textContent).sort();
  const fields = {};
  document.querySelectorAll("#graph-svg g.node").forEach(g => {
    fields[g.querySelector("title").textContent] =
      Array.from(g.querySelectorAll("text")).map(t => t.textContent);
  });
  return {
    step: Number(document.body.getAttribute("data-step")),
    number: document.getElementById("step-number").textContent,
    current: titles("g.node.current"),
    lit: titles("g.edge.lit"),
    line: document.getElementById("line").textContent,
    info: document.getElementById("node-info").textContent,
    slider: Number(document.getElementById("slider").value),
    fields: fields,
  };
}"""


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


@dataclass
class Opened:
    page: Any
    url: str
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.page.evaluate(STATE_JS)
        return state


@pytest.fixture
def open_page(browser: Any, tmp_path: Path) -> Iterator[Callable[[Value], Opened]]:
    contexts = []

    def open_(root: Value) -> Opened:
        path = tmp_path / f"page{len(contexts)}.html"
        to_html(root, path)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        opened = Opened(page, path.as_uri())

        def route(r: Any) -> None:
            opened.requests.append(r.request.url)
            if r.request.url == opened.url:
                r.continue_()
            else:  # nothing else may be fetched: record it and refuse it
                r.abort()

        page.route("**/*", route)
        page.on(
            "console",
            lambda m: (
                opened.problems.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: opened.problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (opened.problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.goto(opened.url)
        # a function, not an expression: Playwright would eval() an expression, which the page's
        # Content-Security-Policy (rightly) refuses
        page.wait_for_function("() => document.body.getAttribute('data-step') === '0'")
        return opened

    yield open_
    for context in contexts:
        context.close()


def shared_graph() -> Value:
    """x, w and h each feed several operations (x twice in x * x); a constant too."""
    x, w, b = Value(0.7, label="x"), Value(-1.3, label="w"), Value(0.4, label="b")
    z = w * x + b
    h = z.tanh()
    h.label = "h"
    s = (h * h + x.exp() * z - h / (1 + z * z)).sigmoid() + x * x
    s.label = "s"
    return s


@dataclass(frozen=True)
class Expected:
    """What the page must show at one step, computed from the engine, not from the page."""

    node: str | None
    line: str
    edges: list[str]
    fields: dict[str, list[str]]
    info: str


def expected_steps(build: Callable[[], Value]) -> list[Expected]:
    root = build()
    root.backward()  # the engine's numbers: data and .grad after one backward pass
    order = topological_order(root)
    ids = {v: f"v{i}" for i, v in enumerate(order)}
    # by identity: == compares data, so `v in c.parents` would match an equal-valued input
    consumers = {v: [c for c in order if any(p is v for p in c.parents)] for v in order}
    backward = explain_steps(build())
    lines = explain(build()).splitlines()
    forward_text = [s.forward for s in backward][::-1]  # topological order
    names = {v: s.name for v, s in zip(order, reversed(backward), strict=True)}

    sequence: list[tuple[str, Value | None, str]] = [("start", None, "")]
    sequence += [("forward", v, forward_text[i]) for i, v in enumerate(order) if not v.is_leaf]
    sequence += [("backward", order[len(order) - 1 - k], lines[k]) for k in range(len(order))]
    shown = {v: (0 if v.is_leaf else next(k for k, s in enumerate(sequence) if s[1] is v))
             for v in order}  # fmt: skip
    final = {v: next(k for k, s in enumerate(sequence) if s[0] == "backward" and s[1] is v)
             for v in order}  # fmt: skip

    result = []
    for k, (phase, node, line) in enumerate(sequence):
        fields = {}
        for v in order:
            texts = [names[v], f"data {_fmt(v.data)}" if k >= shown[v] else "data ?"]
            if not (v.is_leaf and not v.label):  # constants have no gradient field
                texts.append(f"grad {_fmt(v.grad)}" if k >= final[v] else "grad ?")
            fields[ids[v]] = texts
            if not v.is_leaf:
                fields[f"{ids[v]}_op"] = [v._op.symbol]  # type: ignore[union-attr]
        edges: list[str] = []
        info = ""
        if node is not None:
            i = ids[node]
            if phase == "forward":
                edges = [f"{ids[p]}->{i}_op" for p in node.parents] + [f"{i}_op->{i}"]
            else:
                for c in consumers[node]:
                    edges += [f"{i}->{ids[c]}_op"] * node_uses(node, c) + [f"{ids[c]}_op->{ids[c]}"]
            info = f"{names[node]}: data = {node.data!r}"
            if not (node.is_leaf and not node.label):
                info += ", grad = " + (repr(node.grad) if k >= final[node] else "? (not final yet)")
        result.append(Expected(ids[node] if node else None, line, sorted(edges), fields, info))
    return result


def node_uses(node: Value, consumer: Value) -> int:
    return sum(p is node for p in consumer.parents)  # x * x: two edges, both lit


def check(opened: Opened, k: int, want: Expected, total: int) -> None:
    state = opened.state()
    assert state["step"] == k
    assert state["slider"] == k
    assert state["number"] == f"step {k + 1} of {total}"
    assert state["current"] == ([want.node] if want.node else [])
    assert state["lit"] == want.edges, k
    if k > 0:
        assert state["line"] == want.line
    assert state["fields"] == want.fields, k
    assert state["info"] == want.info


def test_every_step_forward_and_back_shows_the_engines_numbers(
    open_page: Callable[[Value], Opened],
) -> None:
    want = expected_steps(shared_graph)
    opened = open_page(shared_graph())
    page, total = opened.page, len(want)
    check(opened, 0, want[0], total)
    for k in range(1, total):  # alternate the button and the → key
        if k % 2:
            page.click("#next")
        else:
            page.keyboard.press("ArrowRight")
        check(opened, k, want[k], total)
    page.keyboard.press("ArrowRight")  # past the end: stays on the last step
    check(opened, total - 1, want[-1], total)
    for k in range(total - 2, -1, -1):  # and back: the button and the ← key
        if k % 2:
            page.click("#prev")
        else:
            page.keyboard.press("ArrowLeft")
        check(opened, k, want[k], total)
    assert opened.problems == []
    assert opened.requests == [opened.url]  # no request left the page


def test_first_last_home_end_slider_and_play(open_page: Callable[[Value], Opened]) -> None:
    want = expected_steps(shared_graph)
    opened = open_page(shared_graph())
    page, total = opened.page, len(want)
    page.click("#last")
    check(opened, total - 1, want[-1], total)
    assert opened.state()["line"] == explain(shared_graph()).splitlines()[-1]
    page.click("#first")
    check(opened, 0, want[0], total)
    page.keyboard.press("End")
    check(opened, total - 1, want[-1], total)
    page.keyboard.press("Home")
    check(opened, 0, want[0], total)
    middle = total // 2
    page.eval_on_selector(
        "#slider", "(el, k) => { el.value = k; el.dispatchEvent(new Event('input')); }", middle
    )
    check(opened, middle, want[middle], total)
    page.click("#play")
    assert page.text_content("#play") == "pause"
    page.wait_for_function(
        "k => Number(document.body.getAttribute('data-step')) >= k", arg=middle + 2
    )
    page.click("#play")
    assert page.text_content("#play") == "play"
    k = opened.state()["step"]
    check(opened, k, want[k], total)
    assert opened.problems == []
    assert opened.requests == [opened.url]


def mlp_loss() -> Value:
    """MLP(2, [3, 1]) and a squared loss: 40 Values, wider and taller than a 1280x900 window."""
    from autograd_mini.nn import MLP

    loss = (MLP(2, [3, 1], seed=0)([0.5, -1.0]) - 1.0) ** 2
    loss.label = "loss"
    return loss


def test_fit_keeps_the_text_readable_and_long_lines_wrap(
    open_page: Callable[[Value], Opened],
) -> None:
    opened = open_page(mlp_loss())
    page = opened.page
    page.click("#zoom-out")
    page.click("#zoom-out")
    page.click("#zoom-fit")
    sizes = page.evaluate(
        """() => {
      const text = document.querySelector("#graph-svg g.node text");
      const pane = document.getElementById("graph"), line = document.getElementById("line");
      return {font: text.getBoundingClientRect().height, paneScrolls:
        pane.scrollWidth > pane.clientWidth || pane.scrollHeight > pane.clientHeight,
        lineOverflows: line.scrollWidth > line.clientWidth,
        lineLines: line.getBoundingClientRect().height / 16};
    }"""
    )
    assert sizes["font"] >= 10  # 12pt node text at least 11 px: scroll for the rest
    assert sizes["paneScrolls"]
    assert not sizes["lineOverflows"] and sizes["lineLines"] > 2  # the long first line wraps
    assert "x1 = 0.5 (constant)" in opened.state()["line"]  # the inputs by name
    assert opened.problems == []


HOSTILE = [
    "\"quoted\" 'single'",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "]]> ] }",
    "line\nbreak",
    "\u2028\u2029",
    "back\\slash\\",
]


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_leave_the_page_working(
    open_page: Callable[[Value], Opened], label: str
) -> None:
    def build() -> Value:
        x = Value(0.5, label=label)
        w = Value(2.0, label=label + "]")
        y = (x * w + x).tanh()
        y.label = label
        return y

    want = expected_steps(build)
    opened = open_page(build())
    total = len(want)
    for k in range(total):
        check(opened, k, want[k], total)
        opened.page.keyboard.press("ArrowRight")
    assert opened.page.evaluate("document.querySelectorAll('script').length") == 2
    assert opened.page.evaluate("document.querySelectorAll('img').length") == 0
    assert opened.problems == []
    assert opened.requests == [opened.url]


def test_the_jupyter_frame_runs_the_page(browser: Any) -> None:
    page_html = to_html(shared_graph())
    context = browser.new_context()
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.route("**/*", lambda r: (problems.append(r.request.url), r.abort()))
        cell = "<html><body>" + page_html._repr_html_() + "</body></html>"  # type: ignore[attr-defined]
        page.set_content(cell)
        frame = page.frame_locator("iframe")
        frame.locator("#next").click()
        frame.locator("#next").click()
        total = len(expected_steps(shared_graph))
        assert frame.locator("#step-number").text_content() == f"step 3 of {total}"
        assert problems == []
    finally:
        context.close()
