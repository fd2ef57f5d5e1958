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

from autograd_mini import OPS, Value, defop, explain, topological_order, trace
from autograd_mini.compile.to_js import has_js
from autograd_mini.explain import explain_steps
from autograd_mini.naming import node_names
from autograd_mini.viz import _fmt, to_html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed"),
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


# --- the live page: edits rerun forward and backward in the page ---------------------------------
def engine_state(root: Value) -> dict[str, dict[str, float | None]]:
    """What ``window.autogradMini.state()`` must give: the engine's data and .grad after one
    backward pass, by display name (the first node of a name)."""
    root.backward()
    order = topological_order(root)
    names = node_names(order)
    state: dict[str, dict[str, float | None]] = {}
    for v in order:
        state.setdefault(names[v], {"data": v.data, "grad": v.grad if v.requires_grad else None})
    return state


def assert_close(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got.keys() == want.keys()
    for name, w in want.items():
        for part in ("data", "grad"):
            a, b = got[name][part], w[part]
            assert (a is None) == (b is None), (name, part)
            if b is not None:
                assert a == b or abs(a - b) <= 1e-12 * max(1.0, abs(b)), (name, part, a, b)


def set_inputs(opened: Opened, values: dict[str, float]) -> None:
    opened.page.evaluate(
        "values => Object.entries(values).forEach(([k, v]) => window.autogradMini.set(k, v))",
        values,
    )


def state(opened: Opened) -> dict[str, Any]:
    got: dict[str, Any] = opened.page.evaluate("() => window.autogradMini.state()")
    return got


def all_text(opened: Opened) -> tuple[str, str]:
    """The forward and backward lines of every step, as the page shows them."""
    texts = opened.page.evaluate(
        """() => ["forward", "backward"].map(
          phase => document.getElementById("all-" + phase).textContent)"""
    )
    return texts[0], texts[1]


def python_text(root: Value) -> tuple[str, str]:
    forward = [s.forward for s in reversed(explain_steps(root)) if s.value._op is not None]
    return "\n".join(forward), explain(root)


def shared_at(x: float, w: float, b: float) -> Value:
    root = shared_graph()
    leaves = {v.label: v for v in topological_order(root) if v.is_leaf}
    for name, value in (("x", x), ("w", w), ("b", b)):
        leaves[name].data = value
    return rebuilt(root)


def rebuilt(root: Value) -> Value:
    """``root``'s graph computed again from its leaves' current data (same structure, labels)."""
    new: dict[int, Value] = {}
    for v in topological_order(root):
        if v.is_leaf:
            new[id(v)] = v
        else:
            new[id(v)] = v._op(*(new[id(p)] for p in v.parents))  # type: ignore[misc]
            new[id(v)].label = v.label
    return new[id(root)]


SHARED_POINTS = [
    {"x": 0.3, "w": 2.5, "b": 0.4},
    {"x": -1.25, "w": 0.03125, "b": -0.0},  # 0.03125 and 1/64 are exact halves at 4 decimals
    {"x": 1e-7, "w": 123456.5, "b": 2.5},
    {"x": -3.0, "w": 0.0, "b": 1e300},
    {"x": 0.7, "w": -1.3, "b": 0.4},  # back to where it started
]


@pytest.mark.parametrize("point", SHARED_POINTS)
def test_set_reruns_the_small_expression_as_the_engine_and_explain_would(
    open_page: Callable[[Value], Opened], point: dict[str, float]
) -> None:
    opened = open_page(shared_graph())
    set_inputs(opened, point)
    root = shared_at(point["x"], point["w"], point["b"])
    assert_close(state(opened), engine_state(rebuilt(root)))
    assert all_text(opened) == python_text(root)  # every line, to the character
    opened.page.click("#last")  # the graph's records: every value and gradient, as drawn
    fields = opened.state()["fields"]
    for i, v in enumerate(topological_order(root)):
        assert fields[f"v{i}"][1] == f"data {_fmt(v.data)}"
    assert opened.problems == []
    assert opened.requests == [opened.url]


def mlp_at(values: dict[str, float]) -> Value:
    from autograd_mini.nn import MLP

    model = MLP(2, [3, 1], seed=0)
    for p in model.parameters():
        p.data = values.get(p.label, p.data)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.label = "loss"
    return loss


def test_set_on_the_mlp_gives_the_engines_numbers_at_every_node(
    open_page: Callable[[Value], Opened],
) -> None:
    opened = open_page(mlp_at({}))
    assert_close(state(opened), engine_state(mlp_at({})))
    values: dict[str, float] = {}
    for k, name in enumerate(["L1.n1.w1", "L1.n3.b", "L2.n1.w2", "L1.n2.w2", "L2.n1.b"]):
        for value in (-2.0 + 0.9 * k, 0.37, 1.5 - k):
            values[name] = value
            set_inputs(opened, {name: value})
            assert_close(state(opened), engine_state(mlp_at(values)))
    assert all_text(opened) == python_text(mlp_at(values))
    assert opened.problems == []
    assert opened.requests == [opened.url]


def every_op(values: dict[str, float]) -> Value:
    """One term per op with JavaScript, op(x) or op(x, y) of leaves named ``<op>.x``, ``<op>.y``,
    summed: each leaf's gradient is its op's partial."""
    total = Value(0.0, label="total", requires_grad=False)
    for op in OPS.values():
        if op.user or not has_js(op):
            continue
        ins = [Value(values.get(f"{op.name}.{n}", 0.5), label=f"{op.name}.{n}") for n in "xy"]
        total = total + op(*ins[: op.arity])
    total.label = "sum"
    return total


def op_points(k: int) -> dict[str, float]:
    """Inputs for every op: inside its domain, at its kinks too (round's halves, relu's 0)."""
    values = {}
    for op in OPS.values():
        if op.user or not has_js(op):
            continue
        lo, hi = max(-3.0, op.domain[0] + 0.05), min(3.0, op.domain[1] - 0.05)
        kinks = sorted((c for c in op.kinks if lo <= c <= hi), key=abs)[:2]
        xs = [lo + (hi - lo) * f for f in (0.13, 0.5, 0.77)] + kinks
        values[f"{op.name}.x"] = xs[k % len(xs)]
        if op.arity == 2:
            values[f"{op.name}.y"] = [-1.7, 0.6, 2.2, -0.4, 1.3][k]
    values["maximum.y"] = values["maximum.x"]  # a tie: each input gets half the gradient
    values["remainder.x"] = [-3.5, 2.75, -0.0, 7.0, -1.0][k]  # the sign of the divisor
    return values


def test_every_op_with_javascript_computes_as_the_engine(
    open_page: Callable[[Value], Opened],
) -> None:
    opened = open_page(every_op(op_points(0)))
    for k in range(5):
        set_inputs(opened, op_points(k))
        assert_close(state(opened), engine_state(every_op(op_points(k))))
    assert opened.problems == []


def test_dragging_a_slider_and_typing_a_value_change_the_numbers_shown(
    open_page: Callable[[Value], Opened],
) -> None:
    opened = open_page(shared_graph())
    page = opened.page
    page.click("#last")
    before = opened.state()["fields"]
    slider = page.locator('#inputs input[type=range][data-name="w"]')
    box = slider.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    w = float(page.input_value('#inputs input[type=number][data-name="w"]'))
    assert w != -1.3 and float(slider.input_value()) == w
    after = opened.state()["fields"]
    assert after != before
    assert_close(state(opened), engine_state(shared_at(0.7, w, 0.4)))
    page.fill('#inputs input[type=number][data-name="x"]', "-0.25")
    assert_close(state(opened), engine_state(shared_at(-0.25, w, 0.4)))
    assert opened.state()["fields"] != after
    assert all_text(opened) == python_text(shared_at(-0.25, w, 0.4))
    page.click("#reset")
    assert opened.state()["fields"] == before
    assert all_text(opened) == python_text(shared_graph())
    assert opened.problems == []
    assert opened.requests == [opened.url]


def test_the_step_slider_stays_first_and_each_leafs_controls_carry_its_name(
    open_page: Callable[[Value], Opened],
) -> None:
    opened = open_page(mlp_at({}))
    controls = opened.page.evaluate(
        """() => Array.from(document.querySelectorAll("input")).map(
          e => [e.type, e.id, e.getAttribute("data-name"), e.getAttribute("aria-label")])"""
    )
    assert controls[0][:2] == ["range", "slider"]
    from autograd_mini.nn import MLP

    names = [p.label for p in MLP(2, [3, 1], seed=0).parameters()]
    named = [c for c in controls if c[2] is not None]
    assert sorted({c[2] for c in named}) == sorted(names)  # x1, x2 and 1.0 are constants
    for name in names:
        assert [c[0] for c in named if c[2] == name] == ["number", "range"]
        assert [c[3] for c in named if c[2] == name] == [name, f"{name} (slider)"]


def test_the_current_step_follows_an_edit(open_page: Callable[[Value], Opened]) -> None:
    opened = open_page(shared_graph())
    want = expected_steps(lambda: shared_at(0.3, -1.3, 0.4))
    middle = len(want) - 4  # a backward step
    opened.page.eval_on_selector(
        "#slider", "(el, k) => { el.value = k; el.dispatchEvent(new Event('input')); }", middle
    )
    set_inputs(opened, {"x": 0.3})
    check(opened, middle, want[middle], len(want))


def branchy(x: Value, y: Value) -> Value:
    z = x * y
    return (z + 1.0).tanh() if z > 0.1 else (z - 1.0).relu()


def test_an_edit_across_a_traced_branch_says_the_graph_would_change(
    open_page: Callable[[Any], Opened],
) -> None:
    opened = open_page(trace(branchy, 2, example=[0.5, 0.6]))
    status = opened.page.locator("#status")
    assert not status.is_visible()
    set_inputs(opened, {"x0": 0.9})  # 0.54 > 0.1 still: the same branch
    assert not status.is_visible()
    assert_close(
        state(opened), engine_state(branchy(Value(0.9, label="x0"), Value(0.6, label="x1")))
    )
    set_inputs(opened, {"x0": -0.5})
    assert status.is_visible()
    text = status.text_content() or ""
    assert "would change here" in text and "v2 > 0.1 was True" in text and "-0.3 > 0.1" in text
    set_inputs(opened, {"x0": 0.5})
    assert not status.is_visible()
    assert opened.problems == []
    assert opened.requests == [opened.url]


def test_an_op_without_javascript_keeps_the_page_working_and_says_why(
    open_page: Callable[[Value], Opened],
) -> None:
    cube = defop("cube_for_the_page", lambda x: x**3, lambda g, out, x: (g * 3.0 * x * x,))

    def build(c: float) -> Value:
        a, b, cv = Value(0.5, label="a"), Value(2.0, label="b"), Value(c, label="c")
        return cube(a * b) + (b * 0.5).erf() + cv.exp() * b  # a, b feed ops without JavaScript

    opened = open_page(build(-1.0))
    reasons = opened.page.locator("#inputs .why").all_text_contents()
    assert reasons == [
        "fixed: cube_for_the_page has no JavaScript version: the page cannot recompute it",
        "fixed: erf has no JavaScript version: the page cannot recompute it",
    ]
    assert opened.page.locator("#inputs input[type=number]").count() == 1  # c only
    set_inputs(opened, {"c": 0.25})
    assert_close(state(opened), engine_state(build(0.25)))
    with pytest.raises(Exception, match=r'"a" is fixed: cube_for_the_page has no JavaScript'):
        set_inputs(opened, {"a": 1.0})
    assert opened.problems == []


def test_a_graph_with_a_hook_is_shown_but_not_recomputed(
    open_page: Callable[[Value], Opened],
) -> None:
    root = shared_graph()
    next(v for v in topological_order(root) if v.label == "w").register_hook(lambda g: g)
    opened = open_page(root)
    assert len(opened.page.locator("#inputs .why").all_text_contents()) == 3
    assert_close(state(opened), engine_state(shared_graph()))
    assert opened.problems == []


def test_set_refuses_what_it_cannot_set(open_page: Callable[[Value], Opened]) -> None:
    opened = open_page(mlp_at({}))
    for name, value, message in [
        ("x1", 1.0, r'"x1" is not a leaf that needs a gradient'),
        ("nothing", 1.0, "the inputs are: L1.n1.b, L1.n1.w1"),
        ("L1.n1.w1", "2", "value must be a finite number"),
        ("L1.n1.w1", float("nan"), "value must be a finite number"),
    ]:
        with pytest.raises(Exception, match=message):
            set_inputs(opened, {name: value})  # type: ignore[dict-item]
    assert opened.problems == []


def test_an_edit_of_a_500_node_graph_is_redrawn_within_50_ms(
    open_page: Callable[[Value], Opened],
) -> None:
    from autograd_mini.nn import MLP

    loss = (MLP(4, [10, 10, 1], seed=1)([0.5, -1.0, 0.25, 0.7]) - 1.0) ** 2
    assert len(topological_order(loss)) == 499
    opened = open_page(loss)
    opened.page.click("#last")  # every number shown
    times = opened.page.evaluate(
        """() => Array.from({length: 15}, (_, k) => {
          const start = performance.now();
          window.autogradMini.set("L1.n1.w1", 0.05 * k);
          document.body.getBoundingClientRect();  // and laid out
          return performance.now() - start;
        })"""
    )
    assert sorted(times)[len(times) // 2] <= 50.0, times
