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
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from autograd_mini.compile import passes, to_js
from autograd_mini.compile.autodiff import gradient_program
from autograd_mini.compile.record import record
from autograd_mini.compile.traced import Traced
from autograd_mini.engine import Value, comparison_hook, enable_grad, topological_order
from autograd_mini.explain import _num, explain_lines, explain_steps
from autograd_mini.naming import atom, check_graph_size, neuron_groups, node_names
from autograd_mini.program import Atom, Eqn
from autograd_mini.pycode import keep_outputs, literal

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


Comparison = tuple[Value, str, object, bool]
"""A comparison seen while a traced function ran: ``lhs``, its symbol, ``rhs``, the outcome."""


def _steps_data(
    root: Value, max_nodes: int, comparisons: Sequence[Comparison] = ()
) -> tuple[dict[str, Any], dict[Value, float | None], str]:
    """The page's JSON (nodes, steps and what the live page needs), the final gradient of every
    node (None for a constant) and the JavaScript that recomputes the numbers."""
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
    live, source, at = _live(order, names, grads, comparisons)
    index = {v: i for i, v in enumerate(order)}
    # explain's chain-rule terms of each node: (consumer, its local partial), in explain's order
    terms: dict[Value, list[list[int]]] = {v: [] for v in order}
    for c in reversed(order):
        needed = [p for p in c._parents if p.requires_grad] if c in at else []
        for k, p in enumerate(needed, start=at.get(c, 0)):
            terms[p].append([index[c], k])
    r = atom(backward[0].name)
    chain = {s.value: s for s in backward}
    nodes = []
    for v in order:
        g, s = grads[v], chain[v]
        # the page rewrites every line after an edit from these pieces and the new numbers:
        # explain's definition is pre + number + post, its gradient bw + terms + = + grad
        post = "" if v._op is not None or v.requires_grad else " (constant)"
        pre = s.definition[: len(s.definition) - len(post) - len(_num(v.data))]
        head = f"∂{r}/∂{atom(s.name)} = "
        sums = " + ".join(f"∂{r}/∂{atom(t.consumer)} · {t.formula}" for t in s.terms)
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
                "pre": pre,
                "post": post,
                "op": None if v._op is None else [v._op.notation, v._op.symbol],
                "sym": None if v._op is None else pre[len(names[v]) + 3 : -3],
                "args": [index[p] for p in v._parents],
                "bw": None if g is None else head + (f"{sums} = " if sums else "1  (seed)"),
                "terms": terms[v],
            }
        )
    live["start"] = [i for i, v in enumerate(order) if v.label and v._op is None]
    data = {"root": names[root], "nodes": nodes, "steps": steps, "live": live}
    return data, grads, source


def _live(
    order: list[Value],
    names: dict[Value, str],
    grads: dict[Value, float | None],
    comparisons: Sequence[Comparison],
) -> tuple[dict[str, Any], str, dict[Value, int]]:
    """What makes the page live: the graph recorded as a program (the leaves that need a
    gradient as its parameters, constants as numbers), its gradient program with every node's
    gradient, each operation's local partials (its rule at g = 1, for explain's lines) and the
    operands of the comparisons, lowered to ``function compute(x)`` in JavaScript.  Returns the
    JSON for the page, that source (and the inputs' values) and where each operation's local
    partials start in the results.  The leaves an op without JavaScript depends on stay fixed:
    their values are folded in, with the reason for the page.  (A gradient hook fixes them all:
    compiled code runs no hooks.)"""
    # the page's inputs by name, numbers as numbers: L1.n2.w1 before L1.n10.w1
    free = sorted(
        (v for v in order if v._op is None and v.requires_grad),
        key=lambda v: [
            int(t) if k % 2 else t for k, t in enumerate(re.split("([0-9]+)", names[v]))
        ],
    )
    operands = [x for a, _, b, _ in comparisons for x in (a, b)]
    n, index = len(order), {v: i for i, v in enumerate(order)}
    try:
        p, _ = record(lambda: [*order, *operands], (), free)
    except ValueError:  # a gradient hook, which compiled code never runs: today's numbers
        hook = "fixed: the graph has a gradient hook (register_hook), which the page cannot run"
        live = {"inputs": [], "fixed": [[index[v], hook] for v in free], "guards": [], "locals": 0}
        now = [v._data for v in order] + [g for v in order if (g := grads[v]) is not None]
        body = ", ".join(literal(x, to_js.JAVASCRIPT)[0] for x in now)
        return live, f"function compute(x) {{\n    return [{body}];\n}}\nvar X = [];", {}
    atoms = p.outputs[:n]
    wrt = [a for a in atoms if isinstance(a, str)]
    gp = gradient_program(replace(p, outputs=atoms[-1:]), wrt)
    defs = {e.out: e for e in p.eqns}
    eqns, local, at = list(gp.eqns), list[Atom](), dict[Value, int]()
    for v, a in zip(order, atoms, strict=True):
        e = defs.get(a) if isinstance(a, str) else None
        if e is None:
            continue
        rule = keep_outputs(e.prim.rule_program(), tuple(isinstance(x, str) for x in e.ins))
        env: dict[str, Atom] = dict(zip(rule.inputs, (1.0, a, *e.ins), strict=True))
        for r in rule.eqns:
            ins = tuple(env.get(x, x) if isinstance(x, str) else x for x in r.ins)
            env[r.out] = name = f"l{len(eqns)}"
            eqns.append(Eqn(r.prim, ins, name, ieee=True))
        at[v] = len(local)
        local += [env.get(x, x) if isinstance(x, str) else x for x in rule.outputs]
    gp = replace(gp, eqns=tuple(eqns), outputs=(*p.outputs, *local))
    # the variables an equation without JavaScript reads, and all they are computed from
    why: dict[str, str] = {}
    for e in reversed(gp.eqns):
        cause = why.get(e.out) or ("" if to_js.has_js(e.prim) else e.prim.name)
        if cause:
            why.update((x, cause) for x in e.ins if isinstance(x, str) and x not in why)
    fixed = {a: v._data for v, a in zip(free, p.params, strict=True) if a in why}

    def known(x: Atom) -> Atom:
        return fixed.get(x, x) if isinstance(x, str) else x

    gp = replace(
        gp,
        params=tuple(a for a in p.params if a not in fixed),
        eqns=tuple(replace(e, ins=tuple(map(known, e.ins))) for e in gp.eqns),
        outputs=tuple(map(known, gp.outputs)),
    )
    gp = passes.dce(passes.cse(passes.fold(gp)))
    inputs = [v for v, a in zip(free, p.params, strict=True) if a not in fixed]
    values = ", ".join(literal(v._data, to_js.JAVASCRIPT)[0] for v in inputs)
    source = f"{to_js.source(gp, 'compute')}\nvar X = [{values}];"

    def describe(x: object) -> str:
        return names.get(x, "a value f compared") if isinstance(x, Value) else repr(x)

    live = {
        "inputs": [index[v] for v in inputs],
        "fixed": [
            [index[v], f"fixed: {why[a]} has no JavaScript version: the page cannot recompute it"]
            for v, a in zip(free, p.params, strict=True)
            if a in fixed
        ],
        "guards": [
            {"sym": s, "outcome": out, "text": f"{describe(a)} {s} {describe(b)}"}
            for a, s, b, out in comparisons
        ],
        "locals": len(local),
    }
    return live, source, at


def to_html(
    root: Value | Traced, path: str | os.PathLike[str] | None = None, *, max_nodes: int = 500
) -> str:
    """One self-contained HTML page that steps through the forward and backward pass of ``root``,
    and reruns both at once when an input is edited.

    The page shows the graph (Graphviz SVG, inline; a model's nodes boxed by neuron) under a
    header with controls: first / previous / next / last / play buttons, the ← → keys (Home
    and End too), a slider and the step number, zoom buttons ("fit" never shrinks the text
    below a readable size: the graph pane scrolls instead), and a legend of the colours.
    Step 1 shows the leaves; then one step per operation fills in its value (``v4 = v2 + b =
    0.5 + 0.1 = 0.6``); then one step per node, in ``backward()``'s order, highlights the node
    being finished and the edges that feed its gradient, shows its line of :func:`explain` (the
    chain rule with numbers) and fills in its gradient, which is final from then on.

    Live: beside the graph every leaf that needs a gradient has a number field and a slider
    (named by the leaf's display name).  Editing one reruns the forward and backward pass in the
    page — the graph's program and its gradient program, lowered to JavaScript
    (:mod:`autograd_mini.compile.to_js`) — and updates every value, gradient and line shown.
    For scripts and embedding the page has ``window.autogradMini.set(name, value)`` (a leaf by
    display name, e.g. ``"w"`` or ``"L1.n3.w2"``) and ``window.autogradMini.state()`` →
    ``{name: {data, grad}}`` for every node (``grad`` null where none is needed; a name several
    nodes share is the first of them).  An op without JavaScript (a user op, ``erf``, ``gelu``)
    keeps the page working: the leaves it depends on stay fixed, and the page says why.

    ``root`` may also be ``trace(f, n_inputs, example=[…])``: the page then shows ``f``'s graph
    at ``example`` (``f`` is called once more, its inputs labelled ``x0, x1, …``) and knows the
    comparisons ``f`` made on Values (its trace guards): when an edit makes one come out the
    other way, the page says that ``f`` would take another branch there, so the graph shown is
    no longer ``f`` at those inputs.  A plain Value cannot know them.

    Returns the HTML (a ``str``; in Jupyter it displays as the working page) and, when ``path``
    is given, also writes it there (atomically).  It needs nothing from the network (a CSP meta
    tag forbids all requests).  Reads the graph only: ``.grad`` is neither used nor changed.

    Raises TypeError when ``root`` is not a Value (or a traced function returning one),
    ValueError for more than ``max_nodes`` Values, FileNotFoundError when ``path``'s folder does
    not exist (all before anything is built), :class:`~autograd_mini.viz.DotNotFoundError` when
    Graphviz's ``dot`` is missing and :class:`~autograd_mini.viz.DotTimeoutError` when it takes
    over :data:`DOT_TIMEOUT` seconds.
    """
    return page_with_timeout(root, path, max_nodes=max_nodes, timeout=DOT_TIMEOUT)


def page_with_timeout(
    root: Value | Traced,
    path: str | os.PathLike[str] | None = None,
    *,
    max_nodes: int = 500,
    timeout: float | None = DOT_TIMEOUT,
) -> str:
    """:func:`to_html` with ``dot`` stopped after ``timeout`` seconds (None: no limit); the
    command line's ``--timeout``.  (to_html keeps the issue's exact signature.)"""
    if not isinstance(root, (Value, Traced)):
        raise TypeError(
            f"to_html: root must be a Value or a traced function, got {type(root).__name__}"
        )
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
    root, comparisons = _rerun(root) if isinstance(root, Traced) else (root, [])
    check_graph_size(root, max_nodes, "to_html")

    import graphviz

    from autograd_mini.dotgraph import _atomic_write, _build_graph, _missing_dot, _run_dot

    data, grads, code = _steps_data(root, max_nodes, comparisons)
    order = topological_order(root)
    # records stacked (name over data over grad): a narrower picture; the page has its own legend
    source = _build_graph(root, order, grads, legend=False, stacked=True).source
    try:
        svg = _svg_body(_run_dot(source, "svg", timeout=timeout).decode("utf-8"))
    except graphviz.ExecutableNotFound:
        raise _missing_dot("to_html: cannot draw the graph") from None
    # ids in the SVG come from `dot` ("graph0", "node1", …); the page finds nodes by <title>
    svg = svg.replace("<svg ", '<svg id="graph-svg" ', 1)
    page = StepPage(_page(data, svg, _legend(order), code))
    if out is not None:
        _atomic_write(out, page.encode("utf-8"))
    return page


def _rerun(traced: Traced) -> tuple[Value, list[Comparison]]:
    """The traced function called again on Values at its example (inputs ``x0, x1, …``): its
    result and the comparisons it made on Values, as :func:`~autograd_mini.trace` saw them."""
    seen: list[Comparison] = []
    with enable_grad(), comparison_hook(lambda *c: seen.append(c)):
        inputs = [Value(x, label=f"x{i}") for i, x in enumerate(traced.example)]
        result = traced.__wrapped__(*inputs)
    if not isinstance(result, Value):
        raise TypeError(
            f"to_html: the traced function must return one Value, got {type(result).__name__}"
        )
    return result, seen


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


def _page(data: dict[str, Any], svg: str, legend: str, code: str) -> str:
    title = f"backprop step by step: {data['root']}"
    script = _SCRIPT.replace("/* COMPUTE */", code)
    csp = (
        "default-src 'none'; "
        f"script-src {_csp_hash(script)}; style-src {_csp_hash(_STYLE)}; "
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
        script=script,
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
<div id="status" role="alert"></div>
<div id="legend" aria-label="legend">{legend}</div>
</header>
<div id="work">
<main id="graph">
{svg}
<details>
<summary>all steps as text</summary>
<h2>forward pass</h2>
<pre id="all-forward">{forward}</pre>
<h2>backward pass (explain)</h2>
<pre id="all-backward">{backward}</pre>
</details>
</main>
<aside id="inputs" aria-label="inputs" hidden>
<h2>inputs <button id="reset" type="button"
 title="back to the values of the graph">reset</button></h2>
<p class="hint">Type a value or drag a slider: the forward and backward pass run again.</p>
</aside>
</div>
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
#work { flex: 1 1 auto; min-height: 0; display: flex; }
#graph { flex: 1 1 auto; min-width: 0; padding: 1rem; overflow: auto; }
#status { margin-top: 0.3rem; padding: 0.3rem 0.5rem; background: #fef3c7;
  border: 1px solid #d97706; font-size: 0.9rem; overflow-wrap: anywhere; }
#status:empty { display: none; }
#inputs { flex: 0 0 19rem; overflow-y: auto; padding: 0.5rem 0.8rem; background: #f9fafb;
  border-left: 1px solid #d1d5db; font-size: 0.85rem; }
#inputs h2 { margin: 0.2rem 0; display: flex; justify-content: space-between; }
#reset { font: inherit; font-size: 0.8rem; font-weight: normal; }
#inputs .hint { color: #4b5563; margin: 0 0 0.5rem 0; }
.input { display: grid; grid-template-columns: 1fr 10.5rem; gap: 0.1rem 0.4rem;
  align-items: center; margin-bottom: 0.5rem; }
.input label { font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.input input[type=number] { font: 0.75rem ui-monospace, monospace; width: 100%;
  box-sizing: border-box; }
.input input[type=range] { grid-column: 1 / 3; width: 100%; margin: 0; }
.input .why { grid-column: 1 / 3; color: #92400e; }
@media (max-width: 50rem) {  /* a notebook cell: the inputs under the graph */
  #work { flex-direction: column; }
  #inputs { flex: 0 0 auto; max-height: 40%; border-left: 0; border-top: 1px solid #d1d5db; }
}
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

_SCRIPT = r"""
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
  function setText(el, text, known) {  // in place, and only what changes: an edit redraws all
    if (!el) { return; }
    if (el.textContent !== text) { el.firstChild.data = text; }
    if (el.classList.contains("unknown") === known) { el.classList.toggle("unknown", !known); }
  }
  function show(s) {
    var before = current;
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
    if (focus && current !== before) {  // the graph pane scrolls, the header stays
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
    if (e.target instanceof HTMLInputElement || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var moves = {ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last};
    if (Object.prototype.hasOwnProperty.call(moves, e.key)) {
      e.preventDefault();
      stop();
      show(moves[e.key]);
    }
  });
  // --- live: the graph's program and its gradient program, lowered to JavaScript ---------------
  // Python's float semantics where JavaScript's differ (the generated code calls these)
  function _pow(x, n) {  // C's pow, as Python's x ** n: 1 ** n and (-1) ** ±inf are 1
    return x === 1 || (x === -1 && Math.abs(n) === Infinity) ? 1 : Math.pow(x, n);
  }
  function _rem(x, y) {  // x - y·floor(x/y), the sign of y (Python's %, torch.remainder)
    if (!isFinite(x) || y !== y) { return NaN; }
    var r = x % y;
    return r !== 0 && (r < 0) !== (y < 0) ? r + y : r;
  }
  function _round(x) {  // halves to even (Python's round, torch.round), the sign of x kept
    if (!isFinite(x)) { return x; }
    var f = Math.floor(x), d = x - f, r = Math.abs(d > 0.5 || (d === 0.5 && f % 2) ? f + 1 : f);
    return x < 0 || Object.is(x, -0) ? -r : r;
  }
  function _floordiv(x, y) {  // Python's float x // y
    var m = x % y, d = (x - m) / y;
    if (m && (y < 0) !== (m < 0)) { d -= 1; }
    if (d === 0) { return 0 * Math.sign(x / y); }
    var f = Math.floor(d);
    return d - f > 0.5 ? f + 1 : f;
  }
/* COMPUTE */
  // numbers as Python writes them: repr(x), "{:.4f}" and "{:.6g}" (toFixed and toExponential
  // round an exact half away from zero, Python to even)
  function tie(a, k) {  // is a >= 0 exactly halfway between two multiples of 10^k?
    return k < 0 ? a * Math.pow(2, 1 - k) % 2 === 1 :
      k < 23 && a % Math.pow(10, k) === Math.pow(10, k) / 2;
  }
  function even(s, a, k) {  // s: a rounded at 10^k by JavaScript, a tie to an odd last digit
    var d = s.charCodeAt(s.length - 1) - 48;  // (never a carry): Python's even digit below
    return d % 2 && tie(a, k) ? s.slice(0, -1) + (d - 1) : s;
  }
  function sign(x) { return x < 0 || Object.is(x, -0) ? "-" : ""; }
  function layout(d, e, hi, point) {  // the digits d as d.ddd × 10^e, as Python writes them
    var a = Math.abs(e);
    if (e < -4 || e >= hi) {
      return d[0] + (d.length > 1 ? "." + d.slice(1) : "") + (e < 0 ? "e-" : "e+") +
        (a < 10 ? "0" : "") + a;
    }
    if (e < 0) { return "0." + "0".repeat(a - 1) + d; }
    return d.length > e + 1 ? d.slice(0, e + 1) + "." + d.slice(e + 1) :
      d + "0".repeat(e + 1 - d.length) + point;
  }
  function general(x, p) {  // format(x, ".<p>g"), or repr(x) without p
    if (x !== x) { return String(x).toLowerCase(); }  // Python's word, only in a page with NaN
    var a = Math.abs(x);
    if (a === Infinity) { return sign(x) + "inf"; }
    var s = p ? a.toExponential(p - 1) : a.toExponential(), i = s.indexOf("e");
    var e = Number(s.slice(i + 1)), m = p ? even(s.slice(0, i), a, e - p + 1) : s.slice(0, i);
    var digits = m.replace(".", "").replace(/0+$/, "") || "0";
    return sign(x) + layout(digits, e, p || 16, p ? "" : ".0");
  }
  function num(x) { return general(x, 6); }  // explain's numbers
  function factor(x) { var s = num(x); return s[0] === "-" ? "(" + s + ")" : s; }
  function fmt(x) {  // the graph's: 4 decimals, or 4 digits where decimals would hide it
    var a = Math.abs(x);
    return x === 0 || (a >= 1e-3 && a < 1e6) ? sign(x) + even(a.toFixed(4), a, -4) : general(x, 4);
  }
  function expression(op, args) {  // explain's: a + b, -a, tanh(a)
    return op[0] === "infix" ? args[0] + " " + op[1] + " " + args[1] :
      op[0] === "prefix" ? op[1] + args[0] : op[1] + "(" + args.join(", ") + ")";
  }
  function length(s) { return Array.from(s).length; }  // code points, as Python counts
  var live = data.live, N = nodes.length, Q = N + 2 * live.guards.length, D, G, L;
  function compare(sym, a, b) {
    return sym === "<" ? a < b : sym === "<=" ? a <= b : sym === ">" ? a > b :
      sym === ">=" ? a >= b : sym === "==" ? a === b : a !== b;
  }
  function run() {  // every value, gradient and local partial at X; what to tell about them
    var r = compute(X), k = Q + live.locals, notes = [];
    D = r.slice(0, N);
    L = r.slice(Q, k);
    G = nodes.map(function (n) { return n.grad === null ? null : r[k++]; });
    live.guards.forEach(function (g, j) {
      var a = r[N + 2 * j], b = r[N + 2 * j + 1], now = compare(g.sym, a, b);
      if (now !== g.outcome) {
        notes.push("The graph would change here: when f was traced, " + g.text + " was " +
          (now ? "False" : "True") + "; now " + repr(a) + " " + g.sym + " " + repr(b) + " is " +
          (now ? "True" : "False") + ", so f takes another branch, and the graph shown (with " +
          "these numbers) is not f at these inputs.");
      }
    });
    if (!D.every(isFinite)) {
      notes.push("Some values are not finite: eager Python raises at these inputs (a value " +
        "outside an op's domain, or an overflow).");
    }
    return notes;
  }
  function repr(x) { return general(x, 0); }
  function render() {  // every number and line, as the engine and explain() write them
    var defs = nodes.map(function (n, i) { return n.pre + num(D[i]) + n.post; });
    var width = Math.max.apply(null, defs.map(length)) + 4;
    nodes.forEach(function (n, i) {
      n.data = fmt(D[i]);
      n.dataFull = repr(D[i]);
      if (n.grad !== null) { n.grad = fmt(G[i]); n.gradFull = repr(G[i]); }
      var numeric = n.op && expression(n.op, n.args.map(function (p) {
        return n.op[0] === "call" ? num(D[p]) : factor(D[p]);
      }));
      n.forward = n.op ? n.pre + (numeric === n.sym ? "" : numeric + " = ") + num(D[i]) : defs[i];
      var body = n.bw === null ? "" : n.terms.length === 0 ? n.bw : n.bw + n.terms.map(
        function (t) { return factor(G[t[0]]) + " · " + factor(L[t[1]]); }
      ).join(" + ") + " = " + repr(G[i]);
      n.backward = body ? defs[i] + " ".repeat(width - length(defs[i])) + body : defs[i];
    });
    var start = live.start.map(function (i) { return defs[i]; }).join(", ");
    steps.forEach(function (s) {
      var n = s.node === null ? null : nodes[Number(s.node.slice(1))];
      s.text = n === null ? "the leaves hold their values" + (start ? " (" + start + ")" : "") +
        "; → runs the forward pass, one operation at a time" : n[s.phase];
    });
    ["forward", "backward"].forEach(function (phase) {
      var texts = steps.filter(function (s) { return s.phase === phase; });
      $("all-" + phase).textContent = texts.map(function (s) { return s.text; }).join("\n") ||
        "(no operations: the graph is a single leaf)";
    });
  }
  // the inputs: a number field and a slider for each leaf that needs a gradient
  var panel = $("inputs"), controls = [], fixedWhy = Object.create(null);
  function frame(range, v) {  // v ± 2·max(1, |v|), in steps of a hundredth of that or less
    var c = isFinite(v) ? v : 0, span = Math.max(1, Math.abs(c));
    var p = Math.floor(Math.log10(span)) - 2, step = Math.pow(10, p), digits = Math.max(0, -p);
    range.step = step.toFixed(digits);
    range.min = (Math.floor((c - 2 * span) / step) * step).toFixed(digits);
    range.max = (Math.ceil((c + 2 * span) / step) * step).toFixed(digits);
  }
  function put(c, v, from) {  // v into c's field and slider (but the one it came from)
    if (from !== c.field) { c.field.value = String(v); }
    if (from !== c.range) {
      if (!(v >= Number(c.range.min) && v <= Number(c.range.max))) { frame(c.range, v); }
      c.range.value = String(v);
    }
  }
  function recompute() {
    var notes = run();
    render();
    $("status").textContent = notes.join(" ");
    show(current);
  }
  function edit(c, v, from) { X[c.at] = v; put(c, v, from); recompute(); }
  function row(i) {
    var div = document.createElement("div"), label = document.createElement("label");
    div.className = "input";
    label.textContent = nodes[i].name;
    div.appendChild(label);
    panel.appendChild(div);
    return div;
  }
  live.inputs.forEach(function (i, at) {
    var div = row(i), name = nodes[i].name, c = {name: name, at: at};
    c.field = document.createElement("input");
    c.range = document.createElement("input");
    c.field.type = "number";
    c.field.step = "any";
    c.range.type = "range";
    [c.field, c.range].forEach(function (el, k) {
      el.setAttribute("data-name", name);
      el.setAttribute("aria-label", k ? name + " (slider)" : name);
      div.appendChild(el);
    });
    put(c, X[at], null);
    c.field.addEventListener("input", function () {
      if (isFinite(c.field.valueAsNumber)) { edit(c, c.field.valueAsNumber, c.field); }
    });
    c.range.addEventListener("input", function () { edit(c, c.range.valueAsNumber, c.range); });
    controls.push(c);
  });
  live.fixed.forEach(function (f) {
    var div = row(f[0]), value = document.createElement("span");
    var why = document.createElement("span");
    value.textContent = nodes[f[0]].dataFull;
    why.className = "why";
    why.textContent = f[1];
    div.appendChild(value);
    div.appendChild(why);
    fixedWhy[nodes[f[0]].name] = f[1];
  });
  panel.hidden = controls.length + live.fixed.length === 0;
  var initial = X.slice();
  $("reset").hidden = controls.length === 0;
  $("reset").addEventListener("click", function () {
    controls.forEach(function (c) { X[c.at] = initial[c.at]; put(c, X[c.at], null); });
    recompute();
  });
  run();
  window.autogradMini = {
    set: function (name, value) {
      if (typeof value !== "number" || !isFinite(value)) {
        throw new TypeError("autogradMini.set: value must be a finite number, got " + value);
      }
      var hit = controls.filter(function (c) { return c.name === name; });
      if (hit.length === 0) {
        throw new Error("autogradMini.set: " + JSON.stringify(String(name)) + " is " +
          (fixedWhy[name] || "not a leaf that needs a gradient; the inputs are: " +
          controls.map(function (c) { return c.name; }).join(", ")));
      }
      hit.forEach(function (c) { X[c.at] = value; put(c, value, null); });
      recompute();
    },
    state: function () {
      var out = {};
      nodes.forEach(function (n, i) {
        if (!Object.prototype.hasOwnProperty.call(out, n.name)) {
          Object.defineProperty(out, n.name, {value: {data: D[i], grad: G[i]}, enumerable: true,
            writable: true, configurable: true});
        }
      });
      return out;
    }
  };
  show(0);
}());
"""
