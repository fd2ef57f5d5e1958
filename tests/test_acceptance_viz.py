"""Acceptance tests for issue 4 ("see the calculus"), written from the issue text alone.

They use only the names the issue spells out — ``draw_graph``, ``explain``, ``demos/cascade.py``,
``demos/vanishing.py``, the ``autograd-mini`` command and ``python -m autograd_mini`` — and read
results the way a user would: the DOT source, the rendered files, the printed text and the exit
status.  Numbers are checked against PyTorch (float64) where the issue asks for gradients.
"""

from __future__ import annotations

import html
import inspect
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import graphviz
import pytest

from autograd_mini import Value, topological_order

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` not installed")
NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan)"


# --- helpers -------------------------------------------------------------------------------------
def console_script() -> list[str]:
    """``autograd-mini`` as installed next to this Python (or on PATH)."""
    here = Path(sys.executable).parent / "autograd-mini"
    found = str(here) if here.exists() else shutil.which("autograd-mini")
    if found is None:
        pytest.skip("the autograd-mini console script is not installed")
    return [found]


ENTRY_POINTS = {
    "console-script": console_script,
    "python-m": lambda: [sys.executable, "-m", "autograd_mini"],
}


def run_cli(
    prefix: list[str], *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=60,
    )


def dot_nodes(source: str) -> dict[str, str]:
    """DOT node statements: name -> attribute text."""
    found = dict(re.findall(r"^\s*(\w+) \[(.*)\]\s*$", source, flags=re.M))
    return {name: attrs for name, attrs in found.items() if name not in ("graph", "node", "edge")}


def dot_edges(source: str) -> list[tuple[str, str, str]]:
    """DOT edge statements: (tail, head, attribute text or "")."""
    return [
        (a, b, attrs or "")
        for a, b, attrs in re.findall(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?\s*$", source, flags=re.M)
    ]


def label_of(attrs: str) -> str:
    m = re.search(r'label=("(?:[^"\\]|\\.)*"|\S+)', attrs)
    assert m is not None, attrs
    text = m.group(1)
    return text[1:-1] if text.startswith('"') else text


def style_of(attrs: str) -> str:
    """The attributes other than the label: what makes a node look different."""
    return re.sub(r'label=("(?:[^"\\]|\\.)*"|\S+)', "", attrs).strip()


def last_number(text: str) -> float:
    return float(re.findall(NUMBER, text)[-1])


def neuron_expression() -> dict[str, Value]:
    """Every node labelled: p = w·x, z = p + b, h = tanh z, q = h·h, e = exp x, d = e + w,
    y = q / d, s = sigmoid(y) − relu(z) · sin(x).  x and w and h feed two consumers."""
    v = {"x": Value(0.7, label="x"), "w": Value(-1.3, label="w"), "b": Value(0.4, label="b")}
    steps: list[tuple[str, Callable[[], Value]]] = [
        ("p", lambda: v["w"] * v["x"]),
        ("z", lambda: v["p"] + v["b"]),
        ("h", lambda: v["z"].tanh()),
        ("q", lambda: v["h"] * v["h"]),
        ("e", lambda: v["x"].exp()),
        ("d", lambda: v["e"] + v["w"]),
        ("y", lambda: v["q"] / v["d"]),
        ("g", lambda: v["y"].sigmoid()),
        ("r", lambda: v["z"].relu()),
        ("c", lambda: v["x"].sin()),
        ("m", lambda: v["r"] * v["c"]),
        ("s", lambda: v["g"] - v["m"]),
    ]
    for name, make in steps:
        v[name] = make()
        v[name].label = name
    return v


def torch_neuron_expression(torch):  # type: ignore[no-untyped-def]
    """The same computation in PyTorch float64, every intermediate kept with retain_grad."""
    t = {
        n: torch.tensor(x, dtype=torch.float64, requires_grad=True)
        for n, x in (("x", 0.7), ("w", -1.3), ("b", 0.4))
    }
    t["p"] = t["w"] * t["x"]
    t["z"] = t["p"] + t["b"]
    t["h"] = torch.tanh(t["z"])
    t["q"] = t["h"] * t["h"]
    t["e"] = torch.exp(t["x"])
    t["d"] = t["e"] + t["w"]
    t["y"] = t["q"] / t["d"]
    t["g"] = torch.sigmoid(t["y"])
    t["r"] = torch.relu(t["z"])
    t["c"] = torch.sin(t["x"])
    t["m"] = t["r"] * t["c"]
    t["s"] = t["g"] - t["m"]
    for value in t.values():
        if not value.is_leaf:
            value.retain_grad()
    return t


# --- draw_graph: signature, structure, styling ---------------------------------------------------
def test_draw_graph_has_the_documented_signature_and_returns_a_digraph() -> None:
    from autograd_mini.viz import draw_graph

    params = inspect.signature(draw_graph).parameters
    assert list(params) == ["root", "rankdir", "show_grad", "show_local_grads", "max_nodes"]
    assert {n: (p.kind, p.default) for n, p in params.items() if n != "root"} == {
        "rankdir": (inspect.Parameter.KEYWORD_ONLY, "LR"),
        "show_grad": (inspect.Parameter.KEYWORD_ONLY, True),
        "show_local_grads": (inspect.Parameter.KEYWORD_ONLY, False),
        "max_nodes": (inspect.Parameter.KEYWORD_ONLY, 500),
    }
    v = neuron_expression()
    dot = draw_graph(v["s"], rankdir="LR", show_grad=True, show_local_grads=False, max_nodes=500)
    assert isinstance(dot, graphviz.Digraph)
    assert "rankdir=LR" in dot.source
    assert "rankdir=TB" in draw_graph(v["s"], rankdir="TB").source


def test_one_record_per_value_one_node_per_operation_and_edges_through_the_op() -> None:
    from autograd_mini.viz import draw_graph

    v = neuron_expression()
    root = v["s"]
    root.backward()
    source = draw_graph(root).source
    nodes = dot_nodes(source)
    records = {n: a for n, a in nodes.items() if "data" in label_of(a)}
    ops = {n: a for n, a in nodes.items() if n not in records}
    order = topological_order(root)
    assert len(records) == len(order) == 15
    assert source.count("shape=record") == 15  # counted the way one would with micrograd
    assert len(ops) == sum(not value.is_leaf for value in order) == 12

    # each record shows the label, the data and the gradient of its Value
    by_label: dict[str, str] = {}
    for name, attrs in records.items():
        fields = [f.strip() for f in label_of(attrs).strip("{} ").split("|")]
        assert len(fields) == 3, fields
        by_label[fields[0]] = name
        value = v[fields[0]]
        assert float(fields[1].removeprefix("data ")) == pytest.approx(value.data, abs=1e-4)
        assert float(fields[2].removeprefix("grad ")) == pytest.approx(value.grad, abs=1e-4)
    assert set(by_label) == set(v)

    # one op node per operation, labelled with the operation; edges input -> op -> output
    edges = dot_edges(source)
    symbols = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
    for label, value in v.items():
        if value.is_leaf:
            continue
        into_value = [a for a, b, _ in edges if b == by_label[label]]
        assert len(into_value) == 1, label
        op_node = into_value[0]
        assert op_node in ops
        assert label_of(ops[op_node]) in (value.op, symbols.get(value.op))
        inputs = sorted(a for a, b, _ in edges if b == op_node)
        assert inputs == sorted(by_label[p.label] for p in value.parents), label


def test_without_show_grad_the_records_have_no_gradient() -> None:
    from autograd_mini.viz import draw_graph

    v = neuron_expression()
    records = [label_of(a) for a in dot_nodes(draw_graph(v["s"], show_grad=False).source).values()]
    assert not any("grad" in r for r in records)
    assert sum("data" in r for r in records) == 15


def test_leaves_and_root_are_styled_apart_from_the_other_nodes() -> None:
    from autograd_mini.viz import draw_graph

    x, w = Value(2.0, label="x"), Value(-0.5, label="w")
    hidden = (w * x).tanh()
    hidden.label = "hidden"
    root = hidden * hidden
    root.label = "root"
    nodes = dot_nodes(draw_graph(root).source)
    style = {label_of(a).strip("{} ").split("|")[0].strip(): style_of(a) for a in nodes.values()}
    assert style["x"] == style["w"]  # both leaves
    assert len({style["x"], style["hidden"], style["root"]}) == 3


# --- deterministic DOT source --------------------------------------------------------------------
DETERMINISM_SCRIPT = """
import random, sys
junk = [object() for _ in range(random.Random(int(sys.argv[1])).randrange(1, 5000))]
from autograd_mini import Value
from autograd_mini.viz import draw_graph
x, w, b = Value(0.7, label="x"), Value(-1.3, label="w"), Value(0.4, label="b")
z = w * x + b
h = z.tanh()
s = (h * h + x.exp() * z - h / (1 + z * z)).sigmoid()
s.backward()
sys.stdout.write(draw_graph(s, show_local_grads=True).source)
"""


def test_dot_source_is_byte_identical_across_processes_and_hash_seeds() -> None:
    outputs = []
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT, seed],
            capture_output=True,
            env=env,
            timeout=60,
            check=True,
        )
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    source = outputs[0].decode("utf-8")
    assert source.startswith("digraph")
    # node names are small indices, not id()s
    assert not re.search(r"\d{5,}", " ".join(dot_nodes(source)))


# --- local partials on the edges -----------------------------------------------------------------
@pytest.mark.torch
def test_edge_labels_are_the_local_partials_backward_multiplies_torch() -> None:
    torch = pytest.importorskip("torch")
    from autograd_mini.viz import draw_graph

    v = neuron_expression()
    t = torch_neuron_expression(torch)
    source = draw_graph(v["s"], show_local_grads=True).source
    nodes = dot_nodes(source)
    name_of = {label_of(a).strip("{} ").split("|")[0].strip(): n for n, a in nodes.items()}
    edges = dot_edges(source)
    checked = 0
    for label, value in v.items():
        if value.is_leaf:
            continue
        op_node = next(a for a, b, _ in edges if b == name_of[label])
        for parent in set(value.parents):
            # ∂out/∂in from torch, summed over the edges (h·h has two edges from h)
            (expected,) = torch.autograd.grad(t[label], t[parent.label], retain_graph=True)
            shown = [
                last_number(label_of(attrs))
                for a, b, attrs in edges
                if a == name_of[parent.label] and b == op_node
            ]
            assert len(shown) == sum(p is parent for p in value.parents)
            assert sum(shown) == pytest.approx(expected.item(), rel=1e-3, abs=1e-4), (label, parent)
            checked += 1
    assert checked == 18  # (operation, distinct input) pairs
    # without the option, edges carry no labels
    assert all(attrs == "" for *_, attrs in dot_edges(draw_graph(v["s"]).source))


# --- hostile labels ------------------------------------------------------------------------------
HOSTILE = [
    'quote " inside',
    "<html> & <tags>",
    "{braces}",
    "a | b",
    "back\\slash",
    "trailing\\",
    '\\"',
    "\\n not a newline",
    "new\nline",
    "all: \" < > { } | \\ '",
    "port <p0> {x|{y|z}}",
    "∂ root  with ∂ spaces",
    "  padded  ",
]


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png"])
@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_render_to_svg_and_png(label: str, fmt: str) -> None:
    from autograd_mini.viz import draw_graph

    x = Value(1.5, label=label)
    y = (x * x).tanh()
    y.label = label + "!"
    y.backward()
    out = draw_graph(y, show_local_grads=True).pipe(format=fmt)
    if fmt == "png":
        assert out.startswith(PNG_SIGNATURE)
    else:
        svg = html.unescape(out.decode("utf-8"))
        assert "<svg" in svg
        if "\n" not in label:
            texts = [
                html.unescape(t).replace("\u00a0", " ")  # no-break spaces are spaces here
                for t in re.findall(r"<text[^>]*>([^<]*)</text>", out.decode())
            ]
            assert label in texts


# --- max_nodes -----------------------------------------------------------------------------------
def test_graph_over_max_nodes_raises_value_error_quickly_with_a_suggestion() -> None:
    from autograd_mini.viz import draw_graph

    y = Value(0.0, label="start")
    for _ in range(100_000):
        y = y * 1.0 + 0.5
    start = time.perf_counter()
    with pytest.raises(ValueError, match="max_nodes") as info:
        draw_graph(y)
    assert time.perf_counter() - start < 1.0
    message = str(info.value).lower()
    assert "smaller" in message and "larger" in message

    small = Value(1.0, label="x")
    for _ in range(3):
        small = small + 1.0  # 7 Values
    draw_graph(small, max_nodes=7)
    with pytest.raises(ValueError):
        draw_graph(small, max_nodes=6)


# --- missing dot ---------------------------------------------------------------------------------
def test_missing_dot_says_how_to_install_and_still_writes_the_dot_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autograd_mini.viz import draw_graph

    v = neuron_expression()
    dot = draw_graph(v["s"])
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RuntimeError) as info:
        dot.render(tmp_path / "graph", format="svg")
    message = str(info.value)
    assert "dot" in message and "install" in message.lower()
    written = [p for p in tmp_path.iterdir() if p.read_text(encoding="utf-8").startswith("digraph")]
    assert any(p.suffix == ".dot" for p in written)
    assert not (tmp_path / "graph.svg").exists()
    with pytest.raises(graphviz.ExecutableNotFound, match="install"):
        dot.pipe(format="png")


@pytest.mark.parametrize("entry", ["python-m"])
def test_cli_without_dot_explains_and_writes_dot_source(entry: str, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": ""}
    proc = run_cli(
        ENTRY_POINTS[entry](),
        "graph",
        "tanh(w*x + b)",
        "--at",
        "x=1",
        "w=0.5",
        "b=0.1",
        "-o",
        "out.svg",
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "dot" in proc.stderr and "install" in proc.stderr.lower()
    assert (tmp_path / "out.svg.dot").read_text(encoding="utf-8").startswith("digraph")
    assert not (tmp_path / "out.svg").exists()


# --- Jupyter -------------------------------------------------------------------------------------
@needs_dot
def test_values_and_digraphs_display_inline_in_jupyter() -> None:
    from autograd_mini.viz import draw_graph

    v = neuron_expression()
    v["s"].backward()
    bundle = v["s"]._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]
    assert "text/plain" in bundle
    dot = draw_graph(v["s"])
    assert "<svg" in dot._repr_mimebundle_()["image/svg+xml"]
    assert "<svg" in dot._repr_svg_()


# --- explain -------------------------------------------------------------------------------------
def test_explain_is_importable_from_the_package_viz_and_its_own_module() -> None:
    from autograd_mini import explain as a
    from autograd_mini.explain import explain as c
    from autograd_mini.viz import explain as b

    assert a is b is c
    assert callable(a)


@pytest.mark.torch
def test_explain_one_line_per_node_in_backward_order_with_the_gradients_torch() -> None:
    torch = pytest.importorskip("torch")
    from autograd_mini import explain

    v = neuron_expression()
    root = v["s"]
    text = explain(root)
    assert isinstance(text, str)
    lines = text.splitlines()
    order = topological_order(root)
    assert len(lines) == len(order)

    root.backward()
    t = torch_neuron_expression(torch)
    t["s"].backward()
    line_of: dict[str, int] = {}
    for i, (line, node) in enumerate(zip(lines, reversed(order), strict=True)):
        assert line.startswith(f"{node.label} = "), (line, node.label)
        line_of[node.label] = i
        shown = last_number(line)
        assert shown == pytest.approx(node.grad, rel=1e-12, abs=1e-15)
        assert shown == pytest.approx(t[node.label].grad.item(), rel=1e-9, abs=1e-12)
    # backward visits a node only after every node that consumed it
    for label, value in v.items():
        for parent in value.parents:
            assert line_of[label] < line_of[parent.label]


def test_explain_writes_each_gradient_as_a_sum_over_consumers() -> None:
    from autograd_mini import explain

    v = neuron_expression()
    lines = {line.split(" = ", 1)[0]: line for line in explain(v["s"]).splitlines()}
    # x feeds p = w·x, e = exp(x) and c = sin(x): three terms, each consumer's gradient named
    x_line = lines["x"]
    assert x_line.count(" + ") >= 2
    for consumer in ("p", "e", "c"):
        assert f"∂s/∂{consumer}" in x_line
    # a leaf used once: a single product, no sum
    assert " + " not in lines["b"].split("∂s/∂b", 1)[1]


def test_explain_reproduces_the_tutorials_cascade_numbers() -> None:
    from autograd_mini import explain

    x, t2 = Value(1.5, label="x"), Value(0.9, label="t2")
    w1, b1 = Value(0.8, label="w1"), Value(-0.3, label="b1")
    w2, b2 = Value(-1.2, label="w2"), Value(0.4, label="b2")
    a1 = (w1 * x + b1).sigmoid()
    a2 = (w2 * a1 + b2).sigmoid()
    e = 0.5 * (t2 - a2) ** 2
    e.label = "E"
    lines = explain(e).splitlines()
    (w2_line,) = [line for line in lines if line.startswith("w2 = ")]
    assert "∂E/∂w2" in w2_line
    expected = (a2.data - t2.data) * a2.data * (1 - a2.data) * a1.data
    assert last_number(w2_line) == pytest.approx(expected, rel=1e-12)


# --- the cascade demo ----------------------------------------------------------------------------
def test_cascade_hand_formulas_agree_with_the_engine_to_1e_12() -> None:
    from autograd_mini.demos import cascade

    cases = [
        (1.5, 0.9, 0.8, -0.3, -1.2, 0.4),
        (-2.0, 0.1, 1.7, 0.5, 2.3, -1.1),
        (0.3, 1.0, 0, 0, 0, 0),
    ]
    for x, t2, w1, b1, w2, b2 in cases:
        r = cascade.run(x, t2, w1, b1, w2, b2)
        a1 = 1 / (1 + math.exp(-(w1 * x + b1)))
        a2 = 1 / (1 + math.exp(-(w2 * a1 + b2)))
        delta2 = (a2 - t2) * a2 * (1 - a2)
        delta1 = delta2 * w2 * a1 * (1 - a1)
        engine = {p: r.nodes[p].grad for p in ("w1", "b1", "w2", "b2")}
        assert abs(engine["w2"] - delta2 * a1) <= 1e-12
        assert abs(engine["b2"] - delta2) <= 1e-12
        assert abs(engine["w1"] - delta1 * x) <= 1e-12
        assert abs(engine["b1"] - delta1) <= 1e-12
        assert r.max_difference <= 1e-12


@pytest.mark.torch
def test_cascade_gradients_and_update_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    from autograd_mini.demos import cascade

    r = cascade.run()
    p = {
        k: torch.tensor(r.nodes[k].data, dtype=torch.float64, requires_grad=True)
        for k in ("x", "t2", "w1", "b1", "w2", "b2")
    }
    a1 = torch.sigmoid(p["w1"] * p["x"] + p["b1"])
    a2 = torch.sigmoid(p["w2"] * a1 + p["b2"])
    loss = 0.5 * (p["t2"] - a2) ** 2
    loss.backward()
    assert r.loss_before == pytest.approx(loss.item(), rel=1e-12)
    for k in ("w1", "b1", "w2", "b2"):
        assert r.nodes[k].grad == pytest.approx(p[k].grad.item(), rel=1e-10, abs=1e-14)
        assert r.updated[k] == pytest.approx(p[k].item() - r.lr * p[k].grad.item(), rel=1e-12)
    assert r.loss_after < r.loss_before


@needs_dot
def test_cascade_demo_prints_formulas_writes_svg_and_png_and_lowers_the_loss(
    tmp_path: Path,
) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "demos" / "cascade.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    for text in ("δ2", "δ1", "∂E/∂w2", "∂E/∂w1"):
        assert text in proc.stdout
    assert "<svg" in (tmp_path / "cascade.svg").read_text(encoding="utf-8")
    assert (tmp_path / "cascade.png").read_bytes().startswith(PNG_SIGNATURE)
    before, after = (float(s) for s in re.findall(r"loss E: (\S+) → (\S+)", proc.stdout)[0])
    assert after < before


# --- the vanishing demo --------------------------------------------------------------------------
@pytest.mark.torch
def test_vanishing_gradients_match_pytorch_and_the_quarter_bound() -> None:
    torch = pytest.importorskip("torch")
    from autograd_mini.demos import vanishing

    rows = vanishing.measure([1, 3, 10, 30])
    for row in rows:
        x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        hs, hr = x, x
        for _ in range(row.depth):
            hs = torch.sigmoid(1.0 * hs + 0.0)
            hr = torch.relu(1.0 * hr + 0.0)
        (gs,) = torch.autograd.grad(hs, x)
        (gr,) = torch.autograd.grad(hr, x)
        assert row.sigmoid == pytest.approx(abs(gs.item()), rel=1e-12)
        assert row.relu == pytest.approx(abs(gr.item()), rel=1e-12)
        assert row.sigmoid <= 0.25**row.depth
        assert row.relu == 1.0


def test_vanishing_demo_prints_the_table(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "demos" / "vanishing.py"),
            "--depths",
            "1,2,5,10,20",
            "--no-plots",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0].isdigit():
            rows[int(parts[0])] = [float(p) for p in parts[1:]]
    assert sorted(rows) == [1, 2, 5, 10, 20]
    sigmoid = [rows[d][0] for d in sorted(rows)]
    assert sigmoid == sorted(sigmoid, reverse=True) and sigmoid[-1] < 1e-12
    assert all(rows[d][-1] == pytest.approx(1.0) for d in rows)  # ReLU does not vanish
    assert not (tmp_path / "vanishing.png").exists()


def test_vanishing_demo_draws_the_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from autograd_mini.demos import vanishing

    assert vanishing.main(["--depths", "1,5,10", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "vanishing.png").read_bytes().startswith(PNG_SIGNATURE)


# --- the command line ----------------------------------------------------------------------------
def printed_partials(stdout: str) -> dict[str, float]:
    """``∂f/∂name = number`` lines."""
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(rf"^∂\w+/∂(\w+) = ({NUMBER})\s*$", stdout, flags=re.M)
    }


@needs_dot
@pytest.mark.torch
@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_graph_command_prints_value_and_every_partial_and_writes_the_picture_torch(
    entry: str, tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    proc = run_cli(
        ENTRY_POINTS[entry](),
        "graph",
        "tanh(w*x + b)",
        "--at",
        "x=1",
        "w=0.5",
        "b=0.1",
        "-o",
        "out.svg",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    t = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in
         (("x", 1.0), ("w", 0.5), ("b", 0.1))}  # fmt: skip
    y = torch.tanh(t["w"] * t["x"] + t["b"])
    y.backward()
    numbers = [float(s) for s in re.findall(NUMBER, proc.stdout)]
    assert any(n == pytest.approx(y.item(), rel=1e-12) for n in numbers)
    partials = printed_partials(proc.stdout)
    assert set(partials) == {"x", "w", "b"}
    for name, value in partials.items():
        assert value == pytest.approx(t[name].grad.item(), rel=1e-12)
    svg = (tmp_path / "out.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "tanh" in svg


def test_graph_command_explain_flag_prints_the_backward_pass(tmp_path: Path) -> None:
    proc = run_cli(
        ENTRY_POINTS["python-m"](),
        "graph",
        "x*y + sin(x)",
        "--at",
        "x=0.3",
        "y=-2",
        "--explain",
        "-o",
        "g.dot",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    dx = -2 + math.cos(0.3)
    assert printed_partials(proc.stdout)["x"] == pytest.approx(dx, rel=1e-15)
    # x has two consumers (x*y and sin x): its explained line sums two terms to the same number
    (x_line,) = [line for line in proc.stdout.splitlines() if line.startswith("x = ")]
    assert " + " in x_line
    assert last_number(x_line) == pytest.approx(dx, rel=1e-15)
    assert (tmp_path / "g.dot").read_text(encoding="utf-8").startswith("digraph")


CLI_EXPRESSIONS = [
    ("x*y + sin(x)", {"x": 0.3, "y": -2.0}, lambda t, v: v["x"] * v["y"] + t.sin(v["x"])),
    (
        "sigmoid(a)*relu(b) + log(c)/sqrt(d) - exp(-a)**2",
        {"a": 0.4, "b": 1.5, "c": 2.5, "d": 0.7},
        lambda t, v: t.sigmoid(v["a"]) * t.relu(v["b"]) + t.log(v["c"]) / t.sqrt(v["d"])
        - t.exp(-v["a"]) ** 2,
    ),
    ("x**y / (1 + abs(y))", {"x": 1.7, "y": -0.6},
     lambda t, v: v["x"] ** v["y"] / (1 + t.abs(v["y"]))),
    ("cos(w)*tanh(-w*w) + softplus(w)", {"w": 0.9},
     lambda t, v: t.cos(v["w"]) * t.tanh(-v["w"] * v["w"]) + t.nn.functional.softplus(v["w"])),
    ("leaky_relu(x, 0.1) + leaky_relu(-x)", {"x": 2.0},
     lambda t, v: t.nn.functional.leaky_relu(v["x"], 0.1) + t.nn.functional.leaky_relu(-v["x"])),
    ("-(x - 3)**2 * 2.5e-1", {"x": -1.25}, lambda t, v: -((v["x"] - 3) ** 2) * 0.25),
]  # fmt: skip


@pytest.mark.torch
@pytest.mark.parametrize(("expression", "point", "reference"), CLI_EXPRESSIONS)
def test_graph_command_value_and_partials_match_pytorch(
    expression: str,
    point: dict[str, float],
    reference: Callable[..., object],
    capsys: pytest.CaptureFixture[str],
) -> None:
    torch = pytest.importorskip("torch")
    from autograd_mini.cli import main

    code = main(["graph", f" {expression}", "--at", *(f"{k}={x!r}" for k, x in point.items())])
    out, err = capsys.readouterr()
    assert code == 0, err
    v = {k: torch.tensor(x, dtype=torch.float64, requires_grad=True) for k, x in point.items()}
    y = reference(torch, v)
    y.backward()  # type: ignore[attr-defined]
    value_line = out.splitlines()[1]
    assert last_number(value_line) == pytest.approx(y.item(), rel=1e-12)  # type: ignore[attr-defined]
    partials = printed_partials(out)
    assert set(partials) == set(point)
    for k, x in partials.items():
        assert x == pytest.approx(v[k].grad.item(), rel=1e-10, abs=1e-14), k


@needs_dot
def test_graph_command_png_output_starts_with_the_png_signature(tmp_path: Path) -> None:
    proc = run_cli(
        console_script(), "graph", "sigmoid(a) * b", "--at", "a=0.2", "b=3", "-o", "g.png",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "g.png").read_bytes().startswith(PNG_SIGNATURE)


BAD_EXPRESSIONS = {
    "import": ("__import__('os')", []),
    "import-system": ("__import__('os').system('echo PWNED')", []),
    "attribute": ("x.__class__", ["x=1"]),
    "dunder-chain": ("().__class__.__bases__[0].__subclasses__()", []),
    "lambda": ("(lambda: 1)()", []),
    "bare-lambda": ("lambda x: x", []),
    "huge-exponent": ("2**10**10", []),
    "huge-power-tower": ("9**9**9**9", []),
    "unknown-name": ("tanh(w*x + b)", ["x=1", "w=0.5"]),
    "unknown-function": ("foo(x)", ["x=1"]),
    "no-at-at-all": ("x*y", []),
    "string": ("'a' * 3", []),
    "statement": ("x = 1", ["x=1"]),
    "syntax": ("x +* y", ["x=1", "y=2"]),
    "comparison": ("x < 1", ["x=1"]),
    "subscript": ("x[0]", ["x=1"]),
    "floor-division": ("x // 2", ["x=1"]),
    "domain": ("log(x)", ["x=-1"]),
    "division-by-zero": ("1/x", ["x=0"]),
    "bad-at-value": ("x", ["x=one"]),
    "bad-at-form": ("x", ["x"]),
}
VIA_SUBPROCESS = {"import", "import-system", "attribute", "lambda", "huge-exponent", "unknown-name"}


@pytest.mark.parametrize("case", sorted(BAD_EXPRESSIONS))
def test_bad_input_prints_one_clear_line_and_exits_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expression, at = BAD_EXPRESSIONS[case]
    argv = ["graph", expression, *(["--at", *at] if at else []), "-o", "g.svg"]
    start = time.perf_counter()
    if case in VIA_SUBPROCESS:
        proc = run_cli(ENTRY_POINTS["python-m"](), *argv, cwd=tmp_path)
        code, err = proc.returncode, proc.stderr
        assert "PWNED" not in proc.stdout  # nothing was executed
    else:
        from autograd_mini.cli import main

        cwd = Path.cwd()
        os.chdir(tmp_path)
        try:
            code = main(argv)
        finally:
            os.chdir(cwd)
        err = capsys.readouterr().err
    assert time.perf_counter() - start < 10  # never a hang (2**10**10 must not be computed)
    assert code == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert "error" in err.lower()
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_error_messages_name_what_was_wrong(capsys: pytest.CaptureFixture[str]) -> None:
    from autograd_mini.cli import main

    expected = {
        "__import__('os')": "__import__",
        "x.__class__": "attribute",
        "(lambda: 1)()": "call",
        "lambda x: x": "lambda",
        "foo(x)": "foo",
    }
    for expression, word in expected.items():
        assert main(["graph", expression, "--at", "x=1"]) == 2
        assert word in capsys.readouterr().err
    assert main(["graph", "w*x + b", "--at", "x=1"]) == 2
    err = capsys.readouterr().err
    assert "w" in err and "b" in err and "--at" in err


@pytest.mark.parametrize(
    "output",
    ["/nonexistent/dir/g.svg", "/dev/null/g.svg", "is_a_folder.svg", "is_a_folder"],
)
def test_unwritable_output_path_exits_2_with_one_line(output: str, tmp_path: Path) -> None:
    (tmp_path / "is_a_folder.svg").mkdir()
    (tmp_path / "is_a_folder").mkdir()
    proc = run_cli(
        ENTRY_POINTS["python-m"](), "graph", "x*x", "--at", "x=3", "-o", output, cwd=tmp_path
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write anywhere"
)
def test_read_only_folder_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        proc = run_cli(
            ENTRY_POINTS["python-m"](), "graph", "x*x", "--at", "x=3", "-o", str(folder / "g.svg")
        )
    finally:
        folder.chmod(0o700)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["graph", "--help"],
        ["demo", "--help"],
        ["demo", "cascade", "--help"],
        ["demo", "vanishing", "--help"],
        ["demo", "moons", "--help"],
        ["demo", "spirals", "--help"],
    ],
    ids=" ".join,
)
def test_help_everywhere(argv: list[str]) -> None:
    proc = run_cli(console_script(), *argv)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:")
    assert len(proc.stdout.splitlines()) > 3  # more than a bare usage line


def test_demo_help_names_the_command_that_was_typed() -> None:
    for name in ("cascade", "vanishing"):
        proc = run_cli(console_script(), "demo", name, "--help")
        assert proc.stdout.startswith(f"usage: autograd-mini demo {name}")
        direct = subprocess.run(
            [sys.executable, "-m", f"autograd_mini.demos.{name}", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert direct.stdout.startswith(f"usage: python -m autograd_mini.demos.{name}")


def test_unknown_demo_and_missing_command_exit_2() -> None:
    prefix = ENTRY_POINTS["python-m"]()
    for argv in (["demo", "nonsense"], [], ["frobnicate"]):
        proc = run_cli(prefix, *argv)
        assert proc.returncode == 2, argv
        assert "Traceback" not in proc.stderr


@needs_dot
def test_demo_cascade_runs_from_the_command_line(tmp_path: Path) -> None:
    proc = run_cli(console_script(), "demo", "cascade", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "agree" in proc.stdout
    assert (tmp_path / "cascade.svg").exists() and (tmp_path / "cascade.png").exists()


# --- the README ----------------------------------------------------------------------------------
def test_readme_section_shows_the_commands_and_embeds_an_existing_picture() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Seeing the calculus", 1)[1].split("\n## ", 1)[0]
    assert 'autograd-mini graph "tanh(w*x + b)" --at x=1 w=0.5 b=0.1 -o graph.svg' in section
    assert "autograd-mini demo cascade" in section
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", section)
    assert pictures
    for picture in pictures:
        path = ROOT / picture
        assert path.exists(), picture
        if path.suffix == ".svg":
            text = path.read_text(encoding="utf-8")
            assert "<svg" in text and "grad" in text
    for link in re.findall(r"\]\((docs/[^)]+)\)", section):
        assert (ROOT / link).exists(), link


def test_viz_is_reachable_after_a_bare_package_import_without_loading_graphviz_early() -> None:
    code = (
        "import sys, autograd_mini\n"
        "assert 'graphviz' not in sys.modules\n"
        "x = autograd_mini.Value(2.0, label='x')\n"
        "print(type(autograd_mini.viz.draw_graph(x * x)).__mro__[1].__name__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Digraph"
