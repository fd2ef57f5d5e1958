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

import contextlib
import functools
import html
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import graphviz

from autograd_mini.atomicfile import write_atomic
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

INSTALL_HINT = (
    "install Graphviz: sudo apt-get install graphviz (Debian/Ubuntu), brew install graphviz "
    "(macOS), conda install graphviz, or see https://graphviz.org/download/"
)

# Styles: inputs/parameters (labelled leaves), constants (unlabelled leaves), the root.
_LEAF_STYLE = {"style": "filled", "fillcolor": "#dbeafe"}
_CONST_STYLE = {"style": "filled", "fillcolor": "#f3f4f6", "fontcolor": "#4b5563"}
_ROOT_STYLE = {"style": "filled,bold", "fillcolor": "#fde68a", "penwidth": "2"}
_OP_STYLE = {"shape": "ellipse", "fontsize": "11", "margin": "0.02,0.02", "height": "0.3"}


class DotNotFoundError(graphviz.ExecutableNotFound):  # type: ignore[misc]
    """Graphviz's ``dot`` program is not installed (or not on PATH); the message says how to
    install it.  A RuntimeError, and a ``graphviz.ExecutableNotFound`` for code that catches that.
    """

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)


class DotTimeoutError(RuntimeError):
    """Graphviz's ``dot`` did not finish within the time allowed and was killed."""


def _missing_dot(what: str) -> DotNotFoundError:
    return DotNotFoundError(
        f"{what}: Graphviz's `dot` program was not found on PATH; {INSTALL_HINT}"
    )


class ValueGraph(graphviz.Digraph):  # type: ignore[misc]
    """The :class:`graphviz.Digraph` that :func:`draw_graph` returns: graphviz's own ``render``
    and ``pipe``, except that a missing ``dot`` raises :class:`DotNotFoundError` saying how to
    install it (``render`` has saved the DOT source by then, and the message says where).

    The source is saved as the picture's name plus ``.dot`` (``render(outfile="g.svg")`` writes
    ``g.svg.dot``), like :func:`render_graph` and the command line, instead of graphviz's
    ``g.gv``.
    """

    _default_extension = "dot"

    @staticmethod
    def _get_filepath(outfile: str | os.PathLike[str]) -> Path:
        return source_path(outfile)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().render(*args, **kwargs)
        except DotNotFoundError:
            raise
        except graphviz.ExecutableNotFound:
            source = Path(self.filepath)
            written = str(source)
            if source.suffix.lower() not in (".dot", ".gv"):
                # render(filename="g", format="svg") saves the source as plain "g": also leave
                # it where one looks for it, "g.dot"
                copy = source.with_name(source.name + ".dot")
                with contextlib.suppress(OSError):
                    _atomic_write(copy, self.source.encode("utf-8"))
                    written = f"{source} and {copy}"
            raise _missing_dot(f"cannot render (the DOT source was written to {written})") from None

    def _repr_svg_(self) -> str:
        """The picture as SVG text (IPython's older display hook; ``_repr_mimebundle_`` is
        graphviz's own)."""
        return str(self.pipe(format="svg", encoding="utf-8"))

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().pipe(*args, **kwargs)
        except DotNotFoundError:
            raise
        except graphviz.ExecutableNotFound:
            raise _missing_dot("cannot render (the DOT source is in .source)") from None


def _fmt(x: float) -> str:
    """A number for a drawing: 4 decimals like micrograd (``0.5000``, ``-1.2000``), so the
    shortest ``repr`` of a short decimal is a prefix of what is shown; 4 significant digits in
    exponent form when that would hide the number (``1.234e-05``, ``2.5e+07``, ``nan``, ``inf``).
    """
    if x == 0.0 or 1e-3 <= abs(x) < 1e6:
        return f"{x:.4f}"
    return f"{x:.4g}"


def _record_escape(text: str) -> str:
    r"""Escape ``text`` for one field of a Graphviz record label.

    Backslashes first (``\`` → ``\\``), then the record metacharacters ``{ } | < >`` and the
    double quote get a backslash, so any label renders as itself.  Spaces that Graphviz's record
    parser would drop become no-break spaces: a run of spaces collapses to one, and (dot 2.43)
    every space before the field's first ASCII character vanishes (``"∂ root"`` → ``∂root``).
    """
    kept: list[str] = []
    seen_ascii = False
    for ch in text:
        dropped = ch == " " and (not seen_ascii or kept[-1] in " \u00a0")
        kept.append("\u00a0" if dropped else ch)
        seen_ascii = seen_ascii or (ch.isascii() and ch != " ")
    out = "".join(kept).replace("\\", "\\\\")
    for ch in '{}|<>"':
        out = out.replace(ch, "\\" + ch)
    return out


def _plain_escape(text: str) -> str:
    """Escape ``text`` for an ordinary (non-record) DOT label: backslashes and double quotes."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def local_partials(node: Value) -> tuple[float, ...]:
    """∂node/∂input for each input of ``node`` (in argument order), as floats.

    Computed by the op's VJP rule with upstream gradient 1: ``vjp(1.0, out, *inputs)``.  A leaf
    has no inputs and gives ``()``.
    """
    op = node._op
    if op is None:
        return ()
    return tuple(float(p) for p in op.vjp(1.0, node.data, *(p.data for p in node._parents)))


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
    parameters are labelled ``L1.n3.w2``…) are blue, unlabelled leaves (constants) grey and
    without a gradient field, the root gold.  With ``show_local_grads`` each input edge
    is labelled with ∂out/∂in (the op's VJP rule at g = 1).  ``grad`` shows the current
    ``.grad`` attribute: call ``root.backward()`` first to see gradients.

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


def _build_graph(
    root: Value,
    order: list[Value],
    grads: dict[Value, float] | None,
    *,
    rankdir: str = "LR",
    show_local_grads: bool = False,
) -> ValueGraph:
    """:func:`draw_graph`'s picture of the nodes ``order`` (topological), with the gradients
    ``grads`` shown in the records (None: no gradient field).  Constants (unlabelled leaves)
    never get a gradient field: nothing is learned about a number typed into the expression."""
    names = node_names(order)
    index = {v: i for i, v in enumerate(order)}
    horizontal = rankdir in ("LR", "RL")

    dot = ValueGraph(
        name="autograd_mini",
        graph_attr={"rankdir": rankdir, "bgcolor": "white"},
        node_attr={"fontname": "Helvetica", "fontsize": "12"},
        edge_attr={"fontname": "Helvetica", "fontsize": "10", "color": "#374151"},
    )
    for i, v in enumerate(order):
        constant = v._op is None and not v.label
        fields = [_record_escape(names[v]), f"data {_fmt(v.data)}"]
        if grads is not None and not constant:
            fields.append(f"grad {_fmt(grads[v])}")
        body = " | ".join(fields)
        label = "{ " + body + " }" if horizontal else body
        if v is root:
            style = _ROOT_STYLE
        elif v._op is None:
            style = _CONST_STYLE if constant else _LEAF_STYLE
        else:
            style = {}
        # shape on each record (not as the default), like micrograd's draw_dot: one
        # "shape=record" per Value in the source
        dot.node(f"v{i}", graphviz.nohtml(label), shape="record", **style)
        if v._op is not None:
            op_name = f"v{i}_op"
            dot.node(op_name, graphviz.nohtml(_plain_escape(v._op.symbol)), **_OP_STYLE)
            dot.edge(op_name, f"v{i}")
            partials = local_partials(v) if show_local_grads else ()
            for k, parent in enumerate(v._parents):
                attrs: dict[str, str] = {}
                if show_local_grads:
                    # "∂v3/∂x = 0.5": the factor backward multiplies along this edge
                    attrs["label"] = graphviz.nohtml(
                        _plain_escape(
                            f"∂{atom(names[v])}/∂{atom(names[parent])} = {_fmt(partials[k])}"
                        )
                    )
                dot.edge(f"v{index[parent]}", op_name, **attrs)
    return dot


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


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: :func:`autograd_mini.atomicfile.write_atomic`
    (mode of an existing file kept, stale temporaries of dead writers removed, errors name
    ``path``)."""
    write_atomic(path, data)


def source_path(picture: str | os.PathLike[str]) -> Path:
    """Where :func:`render_graph` writes the DOT source of ``picture``: the picture's own name
    plus ``.dot`` (``graph.svg`` → ``graph.svg.dot``), so pictures of one graph in several
    formats, or of several graphs, never overwrite each other's source; a ``.dot``/``.gv``
    path is the source itself."""
    out = Path(picture)
    return out if out.suffix.lower() in (".dot", ".gv") else out.with_name(out.name + ".dot")


@functools.cache
def _setpriv() -> str | None:
    """util-linux's ``setpriv`` when it can set a parent-death signal (Linux), else None."""
    path = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    if path is None:
        return None
    try:
        usage = subprocess.run([path, "--help"], capture_output=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return path if b"--pdeathsig" in usage else None


def _dot_command(engine: str, fmt: str) -> list[str]:
    """The command that runs ``dot -K<engine> -T<fmt>``.

    On Linux it goes through ``setpriv --pdeathsig KILL``, which asks the kernel to kill ``dot``
    when this process dies (even by SIGKILL) and then execs it.  That is not done in Python
    between fork and exec (a ``preexec_fn``): Python then forks the whole process and runs its
    at-fork hooks, and JAX, once imported, warns that forking its threads may deadlock.  Without
    a ``preexec_fn``, :mod:`subprocess` starts the child with ``vfork``, running no Python in it.
    """
    dot = shutil.which("dot")
    if dot is None:
        raise graphviz.ExecutableNotFound(("dot",))
    command = [dot, f"-K{engine}", f"-T{fmt}"]
    setpriv = _setpriv()
    return command if setpriv is None else [setpriv, "--pdeathsig", "KILL", "--", *command]


def _run_dot(source: str, fmt: str, timeout: float | None, engine: str = "dot") -> bytes:
    """``dot -K<engine> -T<fmt>`` on ``source``: the picture's bytes.

    ``dot`` runs in its own process group, killed (the whole group) when ``timeout`` seconds
    pass or this process is interrupted; on Linux it is also killed if this process dies
    (:func:`_dot_command`).
    Raises :class:`DotNotFoundError`, :class:`DotTimeoutError`, or RuntimeError with dot's
    own message when it fails.
    """
    try:
        proc = subprocess.Popen(
            _dot_command(engine, fmt),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # no preexec_fn: see _dot_command
        )
    except FileNotFoundError:
        raise graphviz.ExecutableNotFound(("dot",)) from None
    try:
        out, err = proc.communicate(source.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise DotTimeoutError(
            f"Graphviz's dot did not finish within {timeout:g} s and was stopped"
        ) from None
    except BaseException:  # KeyboardInterrupt, SystemExit: never leave dot running
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"dot failed: {lines[0] if lines else f'exit status {proc.returncode}'}")
    return out


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()
    proc.communicate()


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
