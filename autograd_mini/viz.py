"""Draw a computation graph with Graphviz: the chain rule on a picture.

Every :class:`~autograd_mini.engine.Value` becomes a record node ``name | data | grad`` and every
operation a small node (``+``, ``*``, ``tanh``, …) with edges input → op → output.  With
``show_local_grads=True`` each input edge carries the local partial ∂out/∂in that backward
multiplies by the output's gradient: ∂L/∂in = Σ over edges of (∂out/∂in) · ∂L/∂out.

The local partials are not derived here: they are the op's own VJP rule from
:mod:`autograd_mini.ops` evaluated with an upstream gradient of 1, i.e. ``vjp(1.0, out, *inputs)``.

Node names come from each Value's position in :func:`~autograd_mini.engine.topological_order`
(``v0, v1, …`` and ``v3_op`` for the operation producing ``v3``), never from ``id()``, so the same
graph gives byte-identical DOT source on every run.  Values without a label are shown as ``vN``,
the same names :func:`autograd_mini.explain.explain` uses.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import graphviz

from autograd_mini.dotgraph import (
    DotNotFoundError,
    DotTimeoutError,
    ValueGraph,
    _atomic_write,
    _build_graph,
    _fmt as _fmt,  # the page's tests read numbers as drawn
    _missing_dot,
    _run_dot,
    local_partials,
    source_path,
)
from autograd_mini.engine import Value, topological_order
from autograd_mini.explain import explain, explain_steps
from autograd_mini.naming import atom, bounded_order, check_graph_size, node_names
from autograd_mini.network import draw_network
from autograd_mini.stepper import StepPage, to_html

__all__ = [
    "DOT_MAX_LAYOUT",
    "RENDER_FORMATS",
    "RENDER_TIMEOUT",
    "DotNotFoundError",
    "DotTimeoutError",
    "StepPage",
    "ValueGraph",
    "atom",
    "draw_graph",
    "draw_network",
    "explain",
    "explain_steps",
    "layout_size",
    "local_partials",
    "node_names",
    "render_graph",
    "source_path",
    "to_html",
]

RENDER_FORMATS = ("svg", "png", "pdf")
"""Picture formats :func:`render_graph` produces with ``dot`` (``.dot`` writes the source only)."""

_RANKDIRS = ("LR", "RL", "TB", "BT")

DOT_MAX_LAYOUT = 2000
"""Largest :func:`layout_size` the command line and Jupyter's display hand to ``dot`` (~2 s of
layout; ``x*x*…*x`` with 50 factors, past it, takes ``dot`` 4 s, with local partials a
minute)."""
_DISPLAY_TIMEOUT = 10.0  # seconds dot may take to draw a Value shown in Jupyter

RENDER_TIMEOUT = 30.0
"""Seconds :func:`render_graph` lets ``dot`` run by default before stopping it: the command
line's ``--timeout`` default (``autograd_mini.cli.DOT_TIMEOUT``)."""


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    show_local_grads: bool = False,
    max_nodes: int = 500,
) -> graphviz.Digraph:
    """The computation graph of ``root`` as a :class:`graphviz.Digraph`.

    One record node per Value (name, ``data``, and ``grad`` when ``show_grad``), one small node per
    operation, edges input → op → output.  Labelled leaves (inputs, parameters: a model's
    parameters are labelled ``L1.n3.w2``…) are blue, constants (Values that need no gradient)
    grey and without a gradient field, the root gold.  With ``show_local_grads`` each input
    edge that needs a gradient is labelled with ∂out/∂in (the op's rule at g = 1).  ``grad``
    shows the current ``.grad`` attribute: call ``root.backward()`` first to see gradients.

    A model's graph is boxed by neuron: ``L1.n3``'s weights, bias, products, sums and
    activation in one box named ``L1.n3`` (found from the parameters' labels; the inputs, which
    :class:`~autograd_mini.nn.MLP` names ``x1 … xn``, and the loss stay outside).  A legend
    under the picture says what its colours, boxes and edge labels mean.

    The DOT source is deterministic (names from topological order).  Raises ValueError when the
    graph has more than ``max_nodes`` Values, TypeError when ``root`` is not a Value.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph: root must be a Value, got {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive int, got {max_nodes!r}")
    order = bounded_order(root, max_nodes)
    grads = {v: v.grad for v in order} if show_grad else None
    return _build_graph(root, order, grads, rankdir=rankdir, show_local_grads=show_local_grads)


def layout_size(root: Value, show_local_grads: bool = False) -> int:
    """How many nodes Graphviz's ``dot`` lays out for :func:`draw_graph` of ``root``: the drawn
    nodes plus the virtual nodes of edges that span several ranks, a predictor of its time.

    A Value used by several operations far apart (``x*x*…*x``) has one edge to each, which
    ``dot`` routes through a chain of virtual nodes, one per rank crossed: ~n² for n uses, and
    its crossing minimisation grows faster still (measured: 50 uses of one x, 4 s; with
    edge labels, which double the ranks, 60 s).  Ranks here are placed as late as possible
    (each node just before its first consumer), as ``dot``'s network simplex would for trees.
    """
    if not isinstance(root, Value):
        raise TypeError(f"layout_size: root must be a Value, got {type(root).__name__}")
    order = topological_order(root)
    depth: dict[Value, int] = {root: 0}  # ranks counted back from the root's
    nodes = 0
    crossed = 0
    for v in reversed(order):  # every consumer before the Values it uses
        d = depth[v]
        nodes += 1
        if v._op is None:
            continue
        nodes += 1  # its operation node, one rank earlier
        for parent in v._parents:
            depth[parent] = max(depth.get(parent, 0), d + 2)
    for v in order:
        if v._op is not None:
            for parent in v._parents:
                crossed += depth[parent] - depth[v] - 2  # ranks between parent and the op
    return nodes + (2 * crossed + len(order) if show_local_grads else crossed)


def render_graph(
    graph: graphviz.Digraph | Value,
    path: str | os.PathLike[str],
    *,
    write_source: bool = True,
    timeout: float | None = RENDER_TIMEOUT,
    **kwargs: Any,
) -> Path:
    """Write ``graph`` (a Digraph, or a Value drawn with ``draw_graph(value, **kwargs)``) to
    ``path``; the format is the suffix: ``.svg``, ``.png``, ``.pdf`` or ``.dot`` (source only).

    Unless ``write_source=False``, the DOT source is written next to the picture under the
    picture's name plus ``.dot`` (``graph.svg`` → ``graph.svg.dot``, see :func:`source_path`)
    before Graphviz's ``dot`` renders it.  If ``dot`` is missing, raises
    :class:`DotNotFoundError` saying how to install it (the source file is still there).
    ``timeout``: seconds ``dot`` may take (default :data:`RENDER_TIMEOUT`, the command line's;
    None: no limit); then it is killed and :class:`DotTimeoutError` raised, saying how to allow
    more (dense graphs, e.g. one value reused by 50 operations, can take ``dot`` minutes).
    Files are written atomically; an ``OSError`` names ``path`` (or the source's path).
    Returns the picture's path.
    """
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
    ):
        raise ValueError(
            f"render_graph: timeout must be a positive number of seconds, got {timeout!r}"
        )
    if isinstance(graph, Value):
        graph = draw_graph(graph, **kwargs)
    elif kwargs:
        raise TypeError("render_graph: drawing options only apply when passing a Value")
    if not isinstance(graph, graphviz.Digraph):
        raise TypeError(f"render_graph: expected a Digraph or a Value, got {type(graph).__name__}")
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in (*RENDER_FORMATS, "dot", "gv"):
        raise ValueError(
            f"render_graph: cannot tell the format from {str(out)!r}; "
            "use a .svg, .png, .pdf or .dot file name"
        )
    source = source_path(out)
    if fmt in ("dot", "gv"):
        _atomic_write(source, graph.source.encode("utf-8"))
        return out
    if write_source:
        try:
            _atomic_write(source, graph.source.encode("utf-8"))
        except OSError as e:  # name the picture asked for first, then the source file
            if e.errno is None:
                raise
            raise OSError(e.errno, e.strerror, os.fspath(path), None, str(source)) from None
    try:
        data = _run_dot(graph.source, fmt, timeout, engine=getattr(graph, "engine", "dot"))
    except DotTimeoutError as e:
        raise DotTimeoutError(
            f"{e} (render_graph's timeout={timeout:g}): pass a larger timeout= in seconds, or "
            "timeout=None for no limit, or draw a smaller graph"
        ) from None
    except graphviz.ExecutableNotFound:
        if not write_source:
            raise _missing_dot(f"cannot render {out.name}") from None
        raise _missing_dot(
            f"cannot render {out.name} (the DOT source was written to {source}; render it "
            f"later with: dot -T{fmt} {source} -o {out})"
        ) from None
    _atomic_write(out, data)
    return out


def _mimebundle(value: Value, max_nodes: int = 500) -> dict[str, str]:
    """Jupyter display of a Value: its graph as SVG when ``dot`` can draw it, always the repr.

    A graph over ``max_nodes`` Values (draw_graph's default) is not drawn; a one-line notice
    says how to draw it instead, so the cell never shows only a bare repr.
    """
    bundle = {"text/plain": repr(value)}
    try:
        check_graph_size(value, max_nodes)
    except ValueError:
        return _with_notice(bundle, value, _too_large_notice(value, max_nodes))
    # too tangled for dot, no `dot`, or dot too slow: the repr and a notice saying so
    size = layout_size(value)
    if size > DOT_MAX_LAYOUT:
        return _with_notice(
            bundle,
            value,
            f"(graph not drawn: too tangled for dot to lay out quickly (layout size {size:,}, "
            f"over {DOT_MAX_LAYOUT:,}); draw it anyway with autograd_mini.viz.render_graph(v, "
            "'graph.svg'), or a part of it)",
        )
    try:
        graph = draw_graph(value, max_nodes=max_nodes)
        svg = _run_dot(graph.source, "svg", timeout=_DISPLAY_TIMEOUT)
    except graphviz.ExecutableNotFound:
        return _with_notice(
            bundle,
            value,
            "(graph not drawn: Graphviz's `dot` program is not installed: sudo apt-get install "
            "graphviz, or brew install graphviz)",
        )
    except (ValueError, RuntimeError, OSError) as e:
        return _with_notice(bundle, value, f"(graph not drawn: {e})")
    bundle["image/svg+xml"] = svg.decode("utf-8")
    return bundle


def _with_notice(bundle: dict[str, str], value: Value, notice: str) -> dict[str, str]:
    """``bundle`` with the one-line ``notice`` under the repr, as text and as HTML."""
    notice = " ".join(notice.split())  # one line, whatever an error message held
    bundle["text/plain"] += "\n" + notice
    bundle["text/html"] = f"<pre>{html.escape(repr(value))}</pre><p>{html.escape(notice)}</p>"
    return bundle


_COUNT_LIMIT = 1_000_000


def _too_large_notice(value: Value, max_nodes: int) -> str:
    """One line: the graph is over the display limit, and how to draw it anyway."""
    seen: set[Value] = {value}
    stack = [value]
    while stack and len(seen) <= _COUNT_LIMIT:  # count, up to a limit, for the suggestion
        for parent in stack.pop()._parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    n = len(seen)
    if stack:  # too large to count, let alone draw: suggest a part of it
        size = f"more than {_COUNT_LIMIT:,} Values"
        how = "a part of it with draw_graph(part, max_nodes=…)"
    else:
        size = f"{n:,} Values"
        how = f"it with draw_graph(v, max_nodes={n})"
    return (
        f"(graph not drawn: {size}, over the display limit of {max_nodes}; draw {how}, or a "
        "model's layers with draw_network(model), both from autograd_mini.viz)"
    )
