"""The network picture: a model drawn as the tutorial's "fully-connected, feed-forward network"
(:func:`draw_network`, also importable from :mod:`autograd_mini.viz`).

Where :func:`~autograd_mini.viz.draw_graph` draws every scalar operation (thousands of nodes for
a small MLP), this draws one node per input and per neuron, by layer from left to right, and
one edge per weight ``w`` from the input or neuron it multiplies to the neuron it feeds:

    a_j = φ(Σᵢ wⱼᵢ · aᵢ + bⱼ)

Each edge's colour is the sign of its weight (blue ≥ 0, red < 0) and its width grows with
``|w|`` (linearly, the largest weight of the model widest); edges of small ``|w|`` also fade,
so the connections that matter stand out of a wide layer's web.  A legend under the picture
says so, with samples.  Hovering an edge in the SVG shows the weight's label, its value and,
after a backward pass, ∂L/∂w (the weight's ``.grad``).  Small networks also write these on the
edges.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from autograd_mini.engine import Value, no_grad
from autograd_mini.naming import sanitize_label

if TYPE_CHECKING:
    import graphviz

    from autograd_mini.nn import Neuron

__all__ = ["NEGATIVE", "POSITIVE", "draw_network"]

POSITIVE = "#2563eb"
"""Colour of an edge whose weight is ≥ 0."""
NEGATIVE = "#dc2626"
"""Colour of an edge whose weight is < 0."""

MIN_WIDTH, MAX_WIDTH = 0.3, 4.0
"""Pen widths of the weakest (|w| = 0) and strongest (the largest |w|) connection."""

EDGE_LABELS_UP_TO = 40
"""Networks with at most this many weights write each weight (and ∂L/∂w) on its edge."""

FADE_BELOW = 0.5
"""Edges whose ``|w|`` is under this fraction of the largest fade: their colour's opacity falls
from 1 there to :data:`FAINTEST` at ``w = 0``, as the square of ``|w|`` (the weakest fade most)."""
FAINTEST = 0.15
"""Opacity of an edge whose weight is 0."""


def _fmt(x: float) -> str:
    return f"{x:.3g}" if math.isfinite(x) and (x == 0 or 1e-3 <= abs(x) < 1e4) else f"{x:.2e}"


def _layers(model: object) -> tuple[int, list[tuple[str, list[Neuron]]]]:
    """(number of inputs, [(activation, neurons) per layer]) of an MLP, a Layer or a Neuron."""
    from autograd_mini.nn import MLP, Layer, Neuron

    if isinstance(model, MLP):
        return model.nin, [(layer.activation, layer.neurons) for layer in model.layers]
    if isinstance(model, Layer):
        return model.nin, [(model.activation, model.neurons)]
    if isinstance(model, Neuron):
        return model.nin, [(model.activation, [model])]
    raise TypeError(
        f"draw_network: model must be an MLP, a Layer or a Neuron, got {type(model).__name__}"
    )


def _inputs(x: object, nin: int) -> list[float] | None:
    if x is None:
        return None
    if isinstance(x, (str, bytes, Value)) or not isinstance(x, Sequence):
        raise TypeError(
            f"draw_network: x must be a list of {nin} numbers or None, got {type(x).__name__}"
        )
    if len(x) != nin:
        raise ValueError(f"draw_network: the model has {nin} inputs, x has {len(x)}: {x!r}")
    out = []
    for i, xi in enumerate(x):
        if isinstance(xi, Value):
            xi = xi.data
        if isinstance(xi, bool) or not isinstance(xi, numbers.Real):
            raise TypeError(
                f"draw_network: x[{i}] must be a number, got {type(xi).__name__}: {xi!r}"
            )
        out.append(float(xi))
    return out


def _escape(text: str) -> str:
    """Text for a DOT label or tooltip: backslashes, quotes and line breaks escaped, and never
    read as an HTML-like label (graphviz.nohtml), whatever a parameter's label holds."""
    import graphviz

    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return graphviz.nohtml(text.replace("\r", "").replace("\n", "\\n"))  # type: ignore[no-any-return]


def _neuron_name(neuron: Neuron, layer: int, j: int) -> str:
    """``L1.n3`` from the bias label ``L1.n3.b`` (the model's own naming), else positional."""
    label = neuron.b.label
    if label.endswith(".b") and len(label) > 2:
        return sanitize_label(label[:-2])
    return f"L{layer}.n{j}"


def draw_network(model: Any, x: Sequence[float] | None = None) -> graphviz.Digraph:
    """The model as a feed-forward network picture: a :class:`graphviz.Digraph` with one node
    per input and per neuron (layers left to right) and one edge per weight.

    ``model`` is an :class:`~autograd_mini.nn.MLP` (or a Layer or a Neuron).  Each neuron names
    its activation and shows its bias; each edge ``aᵢ → neuron j`` stands for the weight wⱼᵢ:
    blue when wⱼᵢ ≥ 0, red when negative, its pen width ``0.3 + 3.7·|w|/max|w|``, and faded
    (opacity from 1 down to 0.15) when ``|w|`` is under half the largest; a legend under the
    picture shows each kind of edge.  After a
    backward pass (when some parameter's ``.grad`` is not 0) the tooltips, and for networks of
    at most 40 weights the edge labels, also give ∂L/∂w.  With ``x`` (one input sample) the
    inputs and every neuron's output for that sample are shown too (computed without recording
    a graph).  ``MLP(2, [16, 16, 1])``, 337 parameters, fits on one screen.

    Edges are emitted in the order of :meth:`~autograd_mini.nn.Module.parameters` (the biases
    left out).  TypeError for another kind of model or a bad ``x``, ValueError for an ``x`` of
    the wrong length.
    """
    import graphviz

    nin, layers = _layers(model)
    xs = _inputs(x, nin)
    params = [p for _, neurons in layers for n in neurons for p in (*n.w, n.b)]
    weights = [w.data for _, neurons in layers for n in neurons for w in n.w]
    biggest = max((abs(w) for w in weights if math.isfinite(w)), default=0.0) or 1.0
    has_grad = any(p.grad != 0.0 for p in params)
    labelled = len(weights) <= EDGE_LABELS_UP_TO
    n_layers = len(layers)

    title = f"{model!r}: {nin} inputs → " + " → ".join(
        f"{len(neurons)} {activation}" for activation, neurons in layers
    )
    hover = "hover an edge for w and ∂L/∂w" if has_grad else "hover an edge for w"
    dot = graphviz.Digraph(
        name="network",
        graph_attr={
            "rankdir": "LR",
            "splines": "true" if labelled else "line",
            "nodesep": "0.06",
            "ranksep": "1.4" if not labelled else "2.2",
            "bgcolor": "white",
            "label": _legend(title, biggest, hover),
            "labelloc": "b",
            "fontname": "Helvetica",
            "fontsize": "11",
            "ordering": "out",
            "outputorder": "edgesfirst",  # nodes drawn over the lines that cross them
        },
        node_attr={
            "fontname": "Helvetica",
            "fontsize": "8",
            "shape": "circle",
            "fixedsize": "shape",  # a long a=… may overflow the circle, not warn
            "width": "0.56",
            "style": "filled",
            "fillcolor": "white",
            "color": "#374151",
        },
        # no arrowheads: every edge runs left to right, into the next layer
        edge_attr={"arrowhead": "none", "fontname": "Helvetica", "fontsize": "7"},
    )

    activations = xs
    sources = [f"x{i + 1}" for i in range(nin)]
    for i, name in enumerate(sources):
        text = name if xs is None else f"{name}\n{_fmt(xs[i])}"
        dot.node(name, _escape(text), fillcolor="#dbeafe", tooltip=_escape(f"input {name}"))

    for index, (activation, neurons) in enumerate(layers, start=1):
        outputs: list[float] = []
        targets = []
        for j, neuron in enumerate(neurons, start=1):
            node = f"L{index}_n{j}"
            targets.append(node)
            name = _neuron_name(neuron, index, j)
            lines = [name, activation]
            if activations is not None:
                with no_grad():
                    out = neuron._forward(activations)
                outputs.append(out.data)
                lines.append(f"a={_fmt(out.data)}")
            b = neuron.b
            tip = f"{name}: {activation}(Σ w·a + b), b = {b.data!r}"
            if has_grad:
                tip += f", ∂L/∂b = {b.grad!r}"
            fill = "#fde68a" if index == n_layers else "white"
            dot.node(node, _escape("\n".join(lines)), tooltip=_escape(tip), fillcolor=fill)
            for source, w in zip(sources, neuron.w, strict=True):
                attrs = _edge_style(w, biggest, has_grad, labelled)
                dot.edge(source, node, **attrs)
        sources = targets
        activations = outputs if activations is not None else None
    return dot


def _width(magnitude: float) -> float:
    """Pen width for ``|w| / max|w|``."""
    return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * magnitude


def _colour(negative: bool, magnitude: float) -> str:
    """The sign's colour, faded (an alpha suffix) when ``|w| / max|w|`` is under FADE_BELOW."""
    base = NEGATIVE if negative else POSITIVE
    if magnitude >= FADE_BELOW:
        return base
    opacity = FAINTEST + (1.0 - FAINTEST) * (magnitude / FADE_BELOW) ** 2
    return f"{base}{round(255 * opacity):02x}"


def _legend(title: str, biggest: float, hover: str) -> str:
    """The picture's caption as a Graphviz HTML-like label: the model, then a sample of each
    kind of edge (a bar as thick as the pen, in its colour) with what it means."""

    def bar(colour: str, width: float) -> str:
        height = max(1, round(width))
        return f'<TD FIXEDSIZE="TRUE" WIDTH="28" HEIGHT="{height}" BGCOLOR="{colour}"></TD>'

    def text(words: str) -> str:
        return f'<TD ALIGN="LEFT">{html.escape(words)}</TD>'

    small = 0.1
    cells = [
        bar(POSITIVE, 2.0),
        text("w ≥ 0"),
        bar(NEGATIVE, 2.0),
        text("w < 0"),
        bar(_colour(False, small), _width(small)),
        text("small |w|: thin, faded"),
        bar(POSITIVE, MAX_WIDTH),
        text(f"|w| = {_fmt(biggest)}, the largest: widest"),
    ]
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4" CELLPADDING="0">'
        f'<TR><TD COLSPAN="{len(cells)}" ALIGN="LEFT">{html.escape(title)}</TD></TR>'
        f"<TR>{''.join(cells)}</TR>"
        f'<TR><TD COLSPAN="{len(cells)}" ALIGN="LEFT">{html.escape(hover)}</TD></TR>'
        "</TABLE>>"
    )


def _edge_style(w: Value, biggest: float, has_grad: bool, labelled: bool) -> dict[str, str]:
    """Colour by sign (faded for small |w|), width by magnitude, the numbers in the tooltip
    (and label)."""
    magnitude = min(abs(w.data) / biggest, 1.0) if math.isfinite(w.data) else 1.0
    width = _width(magnitude)
    # printable, encodable and bounded, as draw_graph shows labels: a lone surrogate could not
    # even be sent to dot, and a 100,000-character label would swamp the picture
    name = sanitize_label(w.label) if w.label else "w"
    tip = f"{name} = {w.data!r}"
    label = f"{name} = {_fmt(w.data)}"
    if has_grad:
        tip += f", ∂L/∂w = {w.grad!r}"
        label += f"\n∂L/∂w = {_fmt(w.grad)}"
    attrs = {
        "color": _colour(w.data < 0, magnitude),
        "penwidth": f"{width:.3f}",
        "tooltip": _escape(tip),
    }
    if labelled:
        attrs["label"] = _escape(label)
    return attrs
