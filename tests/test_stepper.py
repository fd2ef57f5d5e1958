"""Tests for autograd_mini.stepper (the step-through page), read as HTML and JSON; the page's
behaviour in a real browser is in test_browser.py."""

from __future__ import annotations

import base64
import hashlib
import html
import inspect
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from autograd_mini import Value, explain, topological_order, trace
from autograd_mini.explain import explain_steps
from autograd_mini.naming import sanitize_label
from autograd_mini.viz import StepPage, to_html

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")


def shared_graph() -> Value:
    """x and w used several times, h used by three consumers, a constant, x * x."""
    x, w, b = Value(0.7, label="x"), Value(-1.3, label="w"), Value(0.4, label="b")
    z = w * x + b
    h = z.tanh()
    h.label = "h"
    s = (h * h + x.exp() * z - h / (1 + z * z)).sigmoid() + x * x
    s.label = "s"
    return s


def page_data(page: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="steps-data">(.*?)</script>', page, re.S)
    assert m is not None
    data: dict[str, Any] = json.loads(m.group(1))
    return data


class Structure(HTMLParser):
    """The tags of a page, in order, and the text of its <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def structure(page: str) -> Structure:
    parser = Structure()
    parser.feed(page)
    parser.close()
    return parser


# --- the contract ------------------------------------------------------------------------------
def test_to_html_has_the_documented_signature() -> None:
    params = inspect.signature(to_html).parameters
    assert list(params) == ["root", "path", "max_nodes"]
    assert params["path"].default is None
    assert params["max_nodes"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["max_nodes"].default == 500


@needs_dot
def test_page_is_returned_and_written_atomically(tmp_path: Path) -> None:
    out = tmp_path / "steps.html"
    page = to_html(shared_graph(), out)
    assert isinstance(page, str)
    assert out.read_text(encoding="utf-8") == page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.html"]  # no temporary file left
    assert to_html(shared_graph()) == page  # deterministic, and path=None writes nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["steps.html"]


@needs_dot
def test_page_is_self_contained_and_its_policy_forbids_network_access() -> None:
    page = to_html(shared_graph())
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(?i)https?:|//[a-z]|\bsrc=|<link|@import|url\(", page)
    m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert m is not None
    policy = dict(d.strip().split(" ", 1) for d in m.group(1).split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["connect-src"] == policy["img-src"] == policy["font-src"] == "'none'"
    # the one inline script and the one inline style are the ones the policy pins by hash
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == len(styles) == 1

    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert policy["script-src"] == f"'sha256-{digest(scripts[0])}'"
    assert policy["style-src"] == f"'sha256-{digest(styles[0])}'"
    assert page.count("<svg") == 1


@needs_dot
def test_steps_are_the_forward_pass_then_backwards_visiting_order() -> None:
    root = shared_graph()
    order = topological_order(root)
    data = page_data(to_html(root))
    ids = {v: f"v{i}" for i, v in enumerate(order)}
    steps = data["steps"]
    operations = [v for v in order if not v.is_leaf]
    assert [s["phase"] for s in steps] == (
        ["start"] + ["forward"] * len(operations) + ["backward"] * len(order)
    )
    assert [s["node"] for s in steps if s["phase"] == "forward"] == [ids[v] for v in operations]
    backward = explain_steps(root)
    assert [s["node"] for s in steps if s["phase"] == "backward"] == [
        ids[s.value] for s in backward
    ]
    # the backward steps show explain()'s lines, the forward steps the computation with numbers
    assert [s["text"] for s in steps if s["phase"] == "backward"] == explain(root).splitlines()
    forward = {s.value: s.forward for s in backward}
    assert [s["text"] for s in steps if s["phase"] == "forward"] == [forward[v] for v in operations]


@needs_dot
def test_forward_lines_put_the_inputs_numbers_in() -> None:
    x, w, b = Value(1.0, label="x"), Value(0.5, label="w"), Value(0.1, label="b")
    f = (w * x + b).tanh()
    f.label = "f"
    texts = [s["text"] for s in page_data(to_html(f))["steps"] if s["phase"] == "forward"]
    assert texts == [
        "v2 = w * x = 0.5 * 1 = 0.5",
        "v4 = v2 + b = 0.5 + 0.1 = 0.6",
        "f = tanh(v4) = tanh(0.6) = 0.53705",
    ]


def test_forward_lines_parenthesise_negative_numbers() -> None:
    x, w = Value(-0.5, label="x"), Value(-2.0, label="w")
    y = -x * w - 3
    forward = [s.forward for s in reversed(explain_steps(y))]
    assert "v1 = -x = -(-0.5) = 0.5" in forward
    assert "v3 = v1 * w = 0.5 * (-2) = -1" in forward
    assert "v5 = v3 - 3 = (-1) - 3 = -4" in forward


@needs_dot
def test_numbers_are_the_engines_and_a_gradient_shows_only_once_final() -> None:
    root = shared_graph()
    data = page_data(to_html(root))  # before backward: the page computes nothing itself
    root.backward()
    order = topological_order(root)
    nodes = {n["id"]: n for n in data["nodes"]}
    position = {s["node"]: k for k, s in enumerate(data["steps"]) if s["phase"] == "backward"}
    for i, v in enumerate(order):
        n = nodes[f"v{i}"]
        assert float(n["dataFull"]) == v.data
        if v.requires_grad:
            assert float(n["gradFull"]) == v.grad  # exactly backward()'s number
        else:  # a constant (the 1 in 1 + z * z): no gradient, shown or computed
            assert n["gradFull"] is None and n["grad"] is None
        assert n["finalAt"] == position[f"v{i}"]
        for k, consumer in enumerate(order):  # every consumer is final before the node it feeds
            if any(p is v for p in consumer.parents):  # identity: == compares data
                assert nodes[f"v{k}"]["finalAt"] < n["finalAt"]
        if v.is_leaf:
            assert n["shownAt"] == 0
        else:
            assert data["steps"][n["shownAt"]]["node"] == f"v{i}"
            index = {id(u): k for k, u in enumerate(order)}
            assert all(nodes[f"v{index[id(p)]}"]["shownAt"] < n["shownAt"] for p in v.parents)


@needs_dot
def test_backward_steps_light_the_edges_that_feed_the_gradient() -> None:
    x = Value(2.0, label="x")
    y = x * x + x.exp()  # x feeds two operations, one of them twice
    y.label = "y"
    data = page_data(to_html(y))
    step = next(s for s in data["steps"] if s["phase"] == "backward" and s["node"] == "v0")
    assert sorted(step["edges"]) == sorted(["v0->v1_op", "v1_op->v1", "v0->v2_op", "v2_op->v2"])
    assert sorted(step["marks"]) == ["v1", "v1_op", "v2", "v2_op"]


@needs_dot
def test_constants_get_no_gradient_field() -> None:
    x = Value(1.5, label="x")
    y = x * 3.0
    data = page_data(to_html(y))
    const = next(n for n in data["nodes"] if n["name"] == "v1")
    assert const["grad"] is None
    assert next(n for n in data["nodes"] if n["name"] == "x")["grad"] == "3.0000"


@needs_dot
def test_page_reads_the_graph_without_touching_gradients_even_after_backward() -> None:
    root = shared_graph()
    root.backward()  # releases the graph's scratch state
    before = [(v.data, v.grad) for v in topological_order(root)]
    page = to_html(root)
    assert [(v.data, v.grad) for v in topological_order(root)] == before
    assert page == to_html(shared_graph())


@needs_dot
def test_a_single_leaf_makes_a_page_too() -> None:
    data = page_data(to_html(Value(2.0, label="x")))
    assert [s["phase"] for s in data["steps"]] == ["start", "backward"]


@needs_dot
def test_the_legend_explains_the_colours_the_graph_uses() -> None:
    def legend(root: Value) -> list[str]:
        m = re.search(r'<div id="legend"[^>]*>(.*?)</div>', to_html(root), re.S)
        assert m is not None
        return re.findall(r'<span class="swatch (\w+)"></span>', m.group(1))

    highlights = ["current", "marked", "lit", "unknown"]
    assert legend(shared_graph()) == ["leaf", "constant", "root", *highlights]
    x = Value(2.0, label="x")
    assert legend(x * x) == ["leaf", "root", *highlights]
    from autograd_mini.nn import MLP

    assert legend(MLP(2, [2, 1], seed=0)([1.0, 2.0])) == [
        "leaf",
        "constant",
        "root",
        "box",
        *highlights,
    ]


def calls_to_build_page_data(uses: int) -> int:
    """Python-level calls (functions and generator resumptions) made while preparing the page's
    data for ``x·0 + x·1 + … + x·(uses − 1)``: one Value feeding ``uses`` operations."""
    from autograd_mini.stepper import _steps_data

    x = Value(0.5, label="x")
    s = x * 0.0
    for i in range(1, uses):
        s = s + x * float(i)
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        _steps_data(s, 10 * uses)
    finally:
        sys.setprofile(None)
    return calls


def test_preparing_the_page_takes_time_linear_in_a_values_uses() -> None:
    # counted, not timed: deterministic on a busy machine.  Comparing each consumer with the
    # ones already listed made this quadratic (4x the uses cost ~10x the calls; 16k uses, 6 s)
    small, large = calls_to_build_page_data(500), calls_to_build_page_data(2000)
    assert large < 4.5 * small, (small, large)


# --- hostile labels -------------------------------------------------------------------------------
HOSTILE = [
    "\"quoted\" 'single'",
    "</script><script>alert(1)</script>",
    "<!-- comment",
    "]]> ]",
    "line\nbreak\r\n",
    "{a|b} <c>",
    "back\\slash\\",
    "\u2028\u2029 separators",
    "&amp; &lt;",
    "`${x}`",
]


def hostile_graph(label: str) -> Value:
    x = Value(0.5, label=label)
    w = Value(2.0, label=label + "]")
    y = (x * w + x).tanh()
    y.label = label
    return y


@needs_dot
@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_cannot_break_the_svg_the_html_or_the_script(label: str) -> None:
    page = to_html(hostile_graph(label))
    reference = structure(to_html(hostile_graph("plain")))
    parsed = structure(page)
    assert parsed.tags == reference.tags  # the same elements, in the same order
    assert len(parsed.scripts) == 2
    data = json.loads(parsed.scripts[0])
    assert [n["name"] for n in data["nodes"]][:2] == [
        sanitize_label(label),
        sanitize_label(label + "]"),
    ]
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in parsed.scripts[0]
    assert parsed.scripts[1] == structure(to_html(hostile_graph("plain"))).scripts[1]


@needs_dot
@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=30))  # "" would make x a constant: another picture
def test_any_label_keeps_the_page_structure(label: str) -> None:
    page = to_html(hostile_graph(label))
    parsed = structure(page)
    assert parsed.tags == structure(to_html(hostile_graph("plain"))).tags
    data = json.loads(parsed.scripts[0])
    assert data["nodes"][0]["name"] == sanitize_label(label)


# --- live: a traced function's page knows its branches ------------------------------------------
def branchy(x: Value, y: Value) -> Value:
    z = x * y
    return (z + 1.0).tanh() if z > 0.1 else (z - 1.0).relu()


@needs_dot
def test_a_traced_functions_page_shows_its_graph_at_the_example_and_keeps_its_guards() -> None:
    data = page_data(to_html(trace(branchy, 2, example=[0.5, 0.6])))
    x, y = Value(0.5, label="x0"), Value(0.6, label="x1")
    assert page_data(to_html(branchy(x, y)))["nodes"] == data["nodes"]
    assert [data["nodes"][i]["name"] for i in data["live"]["inputs"]] == ["x0", "x1"]
    assert data["live"]["guards"] == [{"sym": ">", "outcome": True, "text": "v2 > 0.1"}]


def test_a_traced_function_must_return_one_value_for_a_page(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="to_html: the traced function must return one Value"):
        to_html(trace(lambda x, y: [x, y], 2), tmp_path / "p.html")
    assert list(tmp_path.iterdir()) == []


# --- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((3.0,), {}, TypeError, "to_html: root must be a Value"),
        ((Value(1.0),), {"max_nodes": 0}, ValueError, "max_nodes"),
        ((Value(1.0),), {"max_nodes": True}, ValueError, "max_nodes"),
        ((Value(1.0), 42), {}, TypeError, "to_html: path"),
        ((Value(1.0), ""), {}, ValueError, "to_html: path is empty"),
    ],
)
def test_bad_arguments_raise_named_errors(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        to_html(*args, **kwargs)


def test_missing_folder_or_a_folder_as_path_fail_before_anything_is_written(
    tmp_path: Path,
) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        to_html(Value(1.0), tmp_path / "missing" / "p.html")
    with pytest.raises(IsADirectoryError, match="folder"):
        to_html(Value(1.0), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_graph_over_max_nodes_is_refused_before_drawing(tmp_path: Path) -> None:
    y = Value(0.0, label="y")
    for _ in range(600):
        y = y + 1.0
    with pytest.raises(ValueError, match=r"to_html: .*max_nodes=500"):
        to_html(y, tmp_path / "p.html")
    assert list(tmp_path.iterdir()) == []


# --- Jupyter --------------------------------------------------------------------------------------
@needs_dot
def test_page_displays_in_jupyter_as_a_sandboxed_frame_holding_the_same_page() -> None:
    page = to_html(shared_graph())
    assert isinstance(page, StepPage)
    frame = page._repr_html_()  # type: ignore[attr-defined]
    m = re.fullmatch(r'<iframe srcdoc="([^"]*)" sandbox="allow-scripts" .*></iframe>', frame)
    assert m is not None
    assert html.unescape(m.group(1)) == page


def long_chain(n: int) -> Value:
    y = Value(0.0, label="start")
    for _ in range(n):
        y = y * 1.0001 + 0.1
    return y


def test_value_over_the_display_limit_shows_a_one_line_notice_saying_how_to_draw_it() -> None:
    y = long_chain(300)  # 1201 Values
    bundle = y._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    notice = bundle["text/plain"].splitlines()[1]
    assert len(bundle["text/plain"].splitlines()) == 2
    assert "draw_graph(v, max_nodes=1201)" in notice
    assert "draw_network(model)" in notice
    assert html.escape(notice) in bundle["text/html"]


@needs_dot
def test_value_under_the_limit_still_displays_as_its_graph() -> None:
    y = long_chain(10)
    bundle = y._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]
    assert bundle["text/plain"] == repr(y)


# --- the command line -----------------------------------------------------------------------------
@needs_dot
def test_cli_writes_the_page_for_an_html_output(tmp_path: Path) -> None:
    out = tmp_path / "steps.html"
    proc = subprocess.run(
        [sys.executable, "-m", "autograd_mini", "graph", "tanh(w*x + b)", "--at", "x=1", "w=0.5",
         "b=0.1", "-o", str(out)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stdout
    x, w, b = Value(1.0, label="x"), Value(0.5, label="w"), Value(0.1, label="b")
    f = (w * x + b).tanh()
    f.label = "f"
    assert out.read_text(encoding="utf-8") == to_html(f)


@pytest.mark.parametrize("path", ["PATH_EMPTY", "too_big"])
def test_cli_html_errors_are_one_line_without_traceback(path: str, tmp_path: Path) -> None:
    import os

    env = dict(os.environ)
    args = ["x*x", "--at", "x=1"]
    if path == "PATH_EMPTY":
        env["PATH"] = ""
        expected = 1
    else:
        args += ["--max-nodes", "1"]
        expected = 2
    proc = subprocess.run(
        [sys.executable, "-m", "autograd_mini", "graph", *args, "-o", str(tmp_path / "p.html")],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert proc.returncode == expected
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "p.html").exists()
