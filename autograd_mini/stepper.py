"""Watch backprop happen: a self-contained HTML page that steps through a graph's forward and
backward pass (:func:`to_html`, also importable from :mod:`autograd_mini.viz`).

The page holds the graph as inline SVG (drawn by Graphviz's ``dot``), the steps as JSON, and a
little inline script that walks them: first the forward pass, one step per operation in
topological order (``v4 = v2 + b = 0.5 + 0.1 = 0.6``: the node fills in its value), then the
backward pass, one step per node in the order ``backward()`` visits them.  At a backward step
the node being finished is highlighted with the edges that carry its gradient (node → consumer's
operation → consumer) and the page shows the step's line of :func:`~autograd_mini.explain`,
the chain rule with numbers:

    ∂R/∂n = Σ over consumers c of ∂R/∂c · ∂c/∂n

A node's gradient appears only from the step that finishes it: by then every consumer has
passed its share back, so the number shown is final.  The numbers are :func:`explain_steps`'s,
which are the engine's (same VJP rules, same order, seed 1); nothing calls ``backward()``.

Nothing on the page reaches the network: no CDN, no web fonts, one inline script and one inline
style, both pinned by hash in a Content-Security-Policy meta tag with ``default-src 'none'``.
User text (labels) reaches the page only inside the SVG (XML-escaped by ``dot``) and inside the
JSON (with ``<``, ``>``, ``&``, U+2028 and U+2029 as ``\\u`` escapes), so no label can end the
script or the markup.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from pathlib import Path
from typing import Any

from autograd_mini.engine import Value, topological_order
from autograd_mini.explain import explain_lines, explain_steps
from autograd_mini.naming import check_graph_size, neuron_groups, node_names

__all__ = ["DOT_TIMEOUT", "StepPage", "to_html"]

DOT_TIMEOUT = 60.0
"""Seconds Graphviz's ``dot`` may take to lay out the page's graph before it is stopped
(:class:`~autograd_mini.viz.DotTimeoutError`): a value reused by many operations far apart makes
the layout slow."""


class StepPage(str):
    """The HTML of :func:`to_html`: a plain ``str`` that Jupyter displays as the working page
    (in a sandboxed ``<iframe>``, so its script, styles and ids stay apart from the notebook's)."""

    __slots__ = ()

    height = 640
    """Height of the notebook frame in CSS pixels (the page scrolls inside it)."""

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self, quote=True)}" sandbox="allow-scripts" '
            f'width="100%" height="{self.height}" frameborder="0" '
            'title="autograd_mini: step through the forward and backward pass"></iframe>'
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"<step-through page: {len(self):,} characters of HTML>")


def _json_for_script(data: object) -> str:
    """``data`` as JSON that is safe inside ``<script type="application/json">``: no ``<``, ``>``
    or ``&`` (so no ``</script>`` or ``<!--``) and no U+2028/U+2029 line separators."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _svg_body(svg: str) -> str:
    """The ``<svg>`` element of ``dot``'s output, without the XML prolog, the DOCTYPE and the
    namespace declarations (HTML puts inline SVG in its namespace itself), so the page holds no
    URL at all."""
    start = svg.find("<svg")
    if start < 0:  # pragma: no cover - dot always writes an <svg> element
        raise RuntimeError("to_html: Graphviz produced no SVG")
    head_end = svg.index(">", start)
    head = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", svg[start:head_end])
    return head + svg[head_end:].rstrip()


def _check_path(path: object) -> Path | None:
    """``path`` as a Path whose folder exists, checked before anything is built."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"to_html: path must be a str, a path or None, got {type(path).__name__}: {path!r}"
        )
    out = Path(path)
    if not str(path).strip():
        raise ValueError("to_html: path is empty; give a file name such as 'steps.html'")
    if out.is_dir():
        raise IsADirectoryError(f"to_html: cannot write {str(out)!r}: it is a folder")
    folder = out.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"to_html: cannot write {str(out)!r}: folder {str(folder)!r} does not exist"
        )
    return out


def _steps_data(root: Value, max_nodes: int) -> tuple[dict[str, Any], dict[Value, float | None]]:
    """The page's JSON (nodes and steps) and the final gradient of every node (None for a
    constant)."""
    from autograd_mini.dotgraph import _fmt

    order = topological_order(root)
    names = node_names(order)
    ids = {v: f"v{i}" for i, v in enumerate(order)}
    backward = explain_steps(root, max_nodes=max_nodes)
    lines = explain_lines(backward)
    # each node's consumers once, in topological order; keyed by id() (== compares data), and
    # a dict per node so that a Value feeding n operations costs n steps, not n²
    consumers: dict[int, dict[int, Value]] = {id(v): {} for v in order}
    for v in order:
        for p in v._parents:
            consumers[id(p)][id(v)] = v

    leaves = [s.forward for s in reversed(backward) if s.value.label and s.value._op is None]
    start = ", ".join(leaves)
    steps: list[dict[str, Any]] = [
        {
            "phase": "start",
            "node": None,
            "text": "the leaves hold their values"
            + (f" ({start})" if start else "")
            + "; → runs the forward pass, one operation at a time",
            "edges": [],
            "marks": [],
        }
    ]
    shown_at: dict[Value, int] = {}
    final_at: dict[Value, int] = {}
    forward = {s.value: s.forward for s in backward}
    for v in order:
        if v._op is None:
            shown_at[v] = 0
            continue
        shown_at[v] = len(steps)
        edges = [f"{ids[p]}->{ids[v]}_op" for p in v._parents] + [f"{ids[v]}_op->{ids[v]}"]
        marks = [ids[p] for p in dict.fromkeys(v._parents)] + [f"{ids[v]}_op"]
        steps.append(
            {"phase": "forward", "node": ids[v], "text": forward[v], "edges": edges, "marks": marks}
        )
    grads: dict[Value, float | None] = {}
    for s, line in zip(backward, lines, strict=True):
        v = s.value
        final_at[v] = len(steps)
        grads[v] = s.grad
        edges = []
        marks = []
        for c in consumers[id(v)].values():
            edges += [f"{ids[v]}->{ids[c]}_op", f"{ids[c]}_op->{ids[c]}"]
            marks += [ids[c], f"{ids[c]}_op"]
        steps.append(
            {"phase": "backward", "node": ids[v], "text": line, "edges": edges, "marks": marks}
        )
    nodes = []
    for v in order:
        g = grads[v]
        nodes.append(
            {
                "id": ids[v],
                "name": names[v],
                "data": _fmt(v.data),
                "grad": None if g is None else _fmt(g),
                "dataFull": repr(v.data),
                "gradFull": None if g is None else repr(g),
                "shownAt": shown_at[v],
                "finalAt": final_at[v],
            }
        )
    return {"root": names[root], "nodes": nodes, "steps": steps}, grads


def to_html(
    root: Value, path: str | os.PathLike[str] | None = None, *, max_nodes: int = 500
) -> str:
    """One self-contained HTML page that steps through the forward and backward pass of ``root``.

    The page shows the graph (Graphviz SVG, inline; a model's nodes boxed by neuron) under a
    header with controls: first / previous / next / last / play buttons, the ← → keys (Home
    and End too), a slider and the step number, zoom buttons ("fit" never shrinks the text
    below a readable size: the graph pane scrolls instead), and a legend of the colours.
    Step 1 shows the leaves; then one step per operation fills in its value (``v4 = v2 + b =
    0.5 + 0.1 = 0.6``); then one step per node, in ``backward()``'s order, highlights the node
    being finished and the edges that feed its gradient, shows its line of :func:`explain` (the
    chain rule with numbers) and fills in its gradient, which is final from then on.

    Returns the HTML (a ``str``; in Jupyter it displays as the working page) and, when ``path``
    is given, also writes it there (atomically).  It needs nothing from the network (a CSP meta
    tag forbids all requests).  Reads the graph only: ``.grad`` is neither used nor changed.

    Raises TypeError when ``root`` is not a Value, ValueError for more than ``max_nodes`` Values,
    FileNotFoundError when ``path``'s folder does not exist (all before anything is built),
    :class:`~autograd_mini.viz.DotNotFoundError` when Graphviz's ``dot`` is missing and
    :class:`~autograd_mini.viz.DotTimeoutError` when it takes over :data:`DOT_TIMEOUT` seconds.
    """
    return page_with_timeout(root, path, max_nodes=max_nodes, timeout=DOT_TIMEOUT)


def page_with_timeout(
    root: Value,
    path: str | os.PathLike[str] | None = None,
    *,
    max_nodes: int = 500,
    timeout: float | None = DOT_TIMEOUT,
) -> str:
    """:func:`to_html` with ``dot`` stopped after ``timeout`` seconds (None: no limit); the
    command line's ``--timeout``.  (to_html keeps the issue's exact signature.)"""
    if not isinstance(root, Value):
        raise TypeError(f"to_html: root must be a Value, got {type(root).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"to_html: max_nodes must be a positive int, got {max_nodes!r}")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not timeout > 0
        or timeout != timeout
    ):
        raise ValueError(
            f"to_html: timeout must be a positive number of seconds or None, got {timeout!r}"
        )
    out = _check_path(path)
    check_graph_size(root, max_nodes, "to_html")

    import graphviz

    from autograd_mini.dotgraph import _atomic_write, _build_graph, _missing_dot, _run_dot

    data, grads = _steps_data(root, max_nodes)
    order = topological_order(root)
    # records stacked (name over data over grad): a narrower picture; the page has its own legend
    source = _build_graph(root, order, grads, legend=False, stacked=True).source
    try:
        svg = _svg_body(_run_dot(source, "svg", timeout=timeout).decode("utf-8"))
    except graphviz.ExecutableNotFound:
        raise _missing_dot("to_html: cannot draw the graph") from None
    # ids in the SVG come from `dot` ("graph0", "node1", …); the page finds nodes by <title>
    svg = svg.replace("<svg ", '<svg id="graph-svg" ', 1)
    page = StepPage(_page(data, svg, _legend(order)))
    if out is not None:
        _atomic_write(out, page.encode("utf-8"))
    return page


def _legend(order: list[Value]) -> str:
    """The page's legend as HTML (our words only): the node colours the graph uses, the boxes
    when it has neurons, and what the highlights of a step mean."""
    keys = []
    if any(v._op is None and v.requires_grad for v in order[:-1]):
        keys.append(("leaf", "input or parameter"))
    if any(not v.requires_grad for v in order):
        keys.append(("constant", "constant (no gradient)"))
    keys.append(("root", "output"))
    if neuron_groups(order):
        keys.append(("box", "a neuron"))
    keys += [
        ("current", "this step's node"),
        ("marked", "its inputs (forward) or consumers (backward)"),
        ("lit", "where its value or gradient flows"),
        ("unknown", "not computed yet"),
    ]
    return "".join(
        f'<span class="key"><span class="swatch {kind}"></span>{html.escape(text)}</span>'
        for kind, text in keys
    )


def _page(data: dict[str, Any], svg: str, legend: str) -> str:
    title = f"backprop step by step: {data['root']}"
    csp = (
        "default-src 'none'; "
        f"script-src {_csp_hash(_SCRIPT)}; style-src {_csp_hash(_STYLE)}; "
        "img-src 'none'; font-src 'none'; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    steps = data["steps"]
    forward = "\n".join(s["text"] for s in steps if s["phase"] == "forward")
    backward = "\n".join(s["text"] for s in steps if s["phase"] == "backward")
    return _HTML.format(
        csp=csp,  # single quotes and base64 only: safe in a double-quoted attribute
        title=html.escape(title),
        style=_STYLE,
        script=_SCRIPT,
        data=_json_for_script(data),
        svg=svg,
        legend=legend,
        last=len(steps) - 1,
        total=len(steps),
        forward=html.escape(forward or "(no operations: the graph is a single leaf)"),
        backward=html.escape(backward),
    )


_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="autograd_mini">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<div id="controls" role="toolbar" aria-label="steps">
<button id="first" type="button" title="first step (Home)">« first</button>
<button id="prev" type="button" title="previous step (←)">◀ previous</button>
<button id="next" type="button" title="next step (→)">next ▶</button>
<button id="last" type="button" title="last step (End)">last »</button>
<button id="play" type="button" title="play / pause">play</button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="step">
<span id="step-number">step 1 of {total}</span>
<span id="phase"></span>
<span class="zoom"><button id="zoom-out" type="button" title="smaller">−</button><button
 id="zoom-fit" type="button"
 title="fit the graph in the window, never below a readable size (scroll for the rest)"
 >fit</button><button
 id="zoom-in" type="button" title="larger">+</button></span>
</div>
<pre id="line"></pre>
<div id="node-info"></div>
<div id="legend" aria-label="legend">{legend}</div>
</header>
<main id="graph">
{svg}
<details>
<summary>all steps as text</summary>
<h2>forward pass</h2>
<pre>{forward}</pre>
<h2>backward pass (explain)</h2>
<pre>{backward}</pre>
</details>
</main>
<noscript><p>Turn on JavaScript to step through the graph (all steps are above).</p></noscript>
<script type="application/json" id="steps-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""

_STYLE = """
html, body { height: 100%; }
body { font-family: system-ui, sans-serif; margin: 0; color: #111827; display: flex;
  flex-direction: column; }
header { flex: none; background: #f9fafb; border-bottom: 1px solid #d1d5db;
  padding: 0.5rem 1rem; max-height: 45vh; overflow-y: auto; }
h1 { font-size: 1.1rem; margin: 0 0 0.4rem 0; }
h2 { font-size: 1rem; }
#controls { display: flex; flex-wrap: wrap; gap: 0.4rem; align-items: center; }
#controls button { font: inherit; padding: 0.2rem 0.6rem; cursor: pointer; }
#slider { flex: 1 1 12rem; }
#phase { font-weight: 600; }
#line { margin: 0.4rem 0 0 0; padding: 0.4rem; background: #fff; border: 1px solid #e5e7eb;
  white-space: pre-wrap; overflow-wrap: anywhere; min-height: 1.2em; font-size: 0.9rem;
  max-height: 6.5em; overflow-y: auto; }
#node-info { font-size: 0.85rem; color: #374151; margin-top: 0.2rem; min-height: 1.2em;
  overflow-wrap: anywhere; }
h1 { overflow-wrap: anywhere; }
#legend { display: flex; flex-wrap: wrap; gap: 0.2rem 0.9rem; font-size: 0.78rem;
  color: #374151; margin-top: 0.3rem; }
#legend .key { display: inline-flex; align-items: center; gap: 0.3rem; }
.swatch { display: inline-block; width: 1.4em; height: 0.9em; border: 1px solid #6b7280; }
.swatch.leaf { background: #dbeafe; }
.swatch.constant { background: #f3f4f6; border-color: #9ca3af; }
.swatch.root { background: #fde68a; border-width: 2px; }
.swatch.box { background: #f9fafb; border-color: #9ca3af; border-radius: 0.3em; }
.swatch.current { background: #fee2e2; border: 3px solid #dc2626; }
.swatch.marked { background: #fff; border: 2px solid #d97706; }
.swatch.lit { height: 0; border: 0; border-top: 3px solid #dc2626; }
.swatch.unknown { border: 0; width: auto; height: auto; color: #9ca3af; }
.swatch.unknown::before { content: "?"; }
#graph { flex: 1 1 auto; min-height: 0; padding: 1rem; overflow: auto; }
.zoom button { min-width: 2rem; }
details { padding: 1rem 0; }
details pre { overflow-x: auto; font-size: 0.85rem; }
g.node text.unknown { fill: #9ca3af; }
g.node.current polygon, g.node.current ellipse { stroke: #dc2626; stroke-width: 3px; }
g.node.current polygon { fill: #fee2e2; }
g.node.marked polygon, g.node.marked ellipse { stroke: #d97706; stroke-width: 2px; }
g.edge.lit path { stroke: #dc2626; stroke-width: 2.5px; }
g.edge.lit polygon { stroke: #dc2626; fill: #dc2626; }
"""

_SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("steps-data").textContent);
  var steps = data.steps, nodes = data.nodes, last = steps.length - 1;
  var svg = document.getElementById("graph-svg");
  var byTitle = {};
  svg.querySelectorAll("g.node, g.edge").forEach(function (g) {
    var t = g.querySelector("title");
    if (!t) { return; }
    var key = t.textContent;
    (byTitle[key] = byTitle[key] || []).push(g);
  });
  var fields = {};
  nodes.forEach(function (n) {
    var g = (byTitle[n.id] || [])[0];
    var texts = g ? g.querySelectorAll("text") : [];
    fields[n.id] = {data: texts[1] || null, grad: n.grad === null ? null : (texts[2] || null)};
  });
  var $ = function (id) { return document.getElementById(id); };
  var slider = $("slider"), line = $("line"), info = $("node-info"), phase = $("phase");
  var current = 0, timer = null;
  function setText(el, text, known) {
    if (!el) { return; }
    el.textContent = text;
    el.classList.toggle("unknown", !known);
  }
  function show(s) {
    current = Math.max(0, Math.min(last, s));
    var step = steps[current];
    nodes.forEach(function (n) {
      var f = fields[n.id], hasData = current >= n.shownAt, hasGrad = current >= n.finalAt;
      setText(f.data, hasData ? "data " + n.data : "data ?", hasData);
      if (n.grad !== null) { setText(f.grad, hasGrad ? "grad " + n.grad : "grad ?", hasGrad); }
    });
    svg.querySelectorAll(".current, .marked, .lit").forEach(function (g) {
      g.classList.remove("current", "marked", "lit");
    });
    step.marks.forEach(function (id) {
      (byTitle[id] || []).forEach(function (g) { g.classList.add("marked"); });
    });
    step.edges.forEach(function (id) {
      (byTitle[id] || []).forEach(function (g) { g.classList.add("lit"); });
    });
    var focus = null;
    if (step.node !== null) {
      (byTitle[step.node] || []).forEach(function (g) { g.classList.add("current"); focus = g; });
    }
    line.textContent = step.text;
    phase.textContent = step.phase === "start" ? "start" :
      step.phase === "forward" ? "forward pass" : "backward pass";
    $("step-number").textContent = "step " + (current + 1) + " of " + steps.length;
    slider.value = String(current);
    var n = nodes.filter(function (m) { return m.id === step.node; })[0];
    if (n) {
      var grad = n.grad === null ? "" : ", grad = " +
        (current >= n.finalAt ? n.gradFull : "? (not final yet)");
      info.textContent = n.name + ": data = " + n.dataFull + grad;
    } else {
      info.textContent = "";
    }
    document.body.setAttribute("data-step", String(current));
    if (focus && focus.scrollIntoView) {  // the graph pane scrolls, the header stays
      focus.scrollIntoView({block: "nearest", inline: "nearest"});
    }
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    $("play").textContent = "play";
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (current >= last) { show(0); }
    $("play").textContent = "pause";
    timer = setInterval(function () {
      if (current >= last) { stop(); } else { show(current + 1); }
    }, 900);
  }
  $("first").addEventListener("click", function () { stop(); show(0); });
  $("prev").addEventListener("click", function () { stop(); show(current - 1); });
  $("next").addEventListener("click", function () { stop(); show(current + 1); });
  $("last").addEventListener("click", function () { stop(); show(last); });
  $("play").addEventListener("click", play);
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  // zoom: the SVG's size is its viewBox (in points) times a scale; "fit" shows it whole, but
  // never so small that the text is hard to read (scroll instead: at READABLE the 12pt node
  // text is 11 px, the 10pt edge labels 9 px) nor larger than twice its natural size
  var box = svg.viewBox.baseVal, scale = 1, READABLE = 0.7;
  function zoom(k) {
    scale = Math.max(0.1, Math.min(8, k));
    svg.setAttribute("width", String(box.width * scale) + "pt");
    svg.setAttribute("height", String(box.height * scale) + "pt");
  }
  function fit(floor) {
    var area = $("graph");
    var w = (area.clientWidth - 32) / (box.width * 4 / 3);
    var h = (area.clientHeight - 32) / (box.height * 4 / 3);
    zoom(Math.max(floor, Math.min(w, h, 2)));
  }
  $("zoom-in").addEventListener("click", function () { zoom(scale * 1.25); });
  $("zoom-out").addEventListener("click", function () { zoom(scale / 1.25); });
  $("zoom-fit").addEventListener("click", function () { fit(READABLE); });
  if (box && box.width > 0 && box.height > 0) { fit(READABLE); }
  document.addEventListener("keydown", function (e) {
    if (e.target === slider || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var moves = {ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last};
    if (Object.prototype.hasOwnProperty.call(moves, e.key)) {
      e.preventDefault();
      stop();
      show(moves[e.key]);
    }
  });
  show(0);
}());
"""
