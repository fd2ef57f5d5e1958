"""The DOT source of a Value graph and the running of Graphviz's ``dot``: the drawing helpers that
:mod:`autograd_mini.viz` (pictures) and :mod:`autograd_mini.stepper` (the step-through page)
share, below both so that neither imports the other.

Every :class:`~autograd_mini.engine.Value` becomes a record node ``name | data | grad``, every
operation a small node; names come from topological order (``v0, v1, …``), never from ``id()``,
so one graph gives byte-identical DOT source on every run.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import graphviz

from autograd_mini.atomicfile import write_atomic
from autograd_mini.engine import Value
from autograd_mini.naming import atom, neuron_groups, node_names

INSTALL_HINT = (
    "install Graphviz: sudo apt-get install graphviz (Debian/Ubuntu), brew install graphviz "
    "(macOS), conda install graphviz, or see https://graphviz.org/download/"
)

# Styles: inputs/parameters (labelled leaves), constants (unlabelled leaves), the root.
_LEAF_STYLE = {"style": "filled", "fillcolor": "#dbeafe"}
_CONST_STYLE = {"style": "filled", "fillcolor": "#f3f4f6", "fontcolor": "#4b5563"}
_ROOT_STYLE = {"style": "filled,bold", "fillcolor": "#fde68a", "penwidth": "2"}
_BOX_STYLE = {
    "style": "rounded,filled",
    "fillcolor": "#f9fafb",
    "color": "#9ca3af",
    "fontname": "Helvetica",
    "fontsize": "11",
    "fontcolor": "#374151",
    "labeljust": "l",
    "labelloc": "t",
}
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


def local_partials(node: Value) -> tuple[float | None, ...]:
    """∂node/∂input for each input of ``node`` (in argument order), as floats.

    Computed by the op's rule with upstream gradient 1: ``vjp(1.0, out, *inputs)``; None for an
    input that needs no gradient (a constant: its partial is never computed).  A leaf has no
    inputs and gives ``()``.
    """
    op = node._op
    if op is None:
        return ()
    parents = node._parents
    partials = op.vjp(
        1.0, node.data, *(p.data for p in parents), needs=[p.requires_grad for p in parents]
    )
    return tuple(None if p is None else float(p) for p in partials)


def _build_graph(
    root: Value,
    order: list[Value],
    grads: Mapping[Value, float | None] | None,
    *,
    rankdir: str = "LR",
    show_local_grads: bool = False,
    legend: bool = True,
    stacked: bool = False,
) -> ValueGraph:
    """:func:`draw_graph`'s picture of the nodes ``order`` (topological), with the gradients
    ``grads`` shown in the records (None: no gradient field).  Constants (Values that need no
    gradient: numbers typed into the expression, results under no_grad) never get a gradient
    field, nor their edges a local partial.  A model's nodes are boxed by neuron
    (:func:`~autograd_mini.naming.neuron_groups`); ``legend`` writes what the colours, boxes
    and edge labels mean under the picture; ``stacked`` puts a record's fields one under the
    other (name, data, grad), whatever the direction, for a narrower picture."""
    names = node_names(order)
    index = {v: i for i, v in enumerate(order)}
    horizontal = rankdir in ("LR", "RL")
    groups = neuron_groups(order)

    graph_attr = {"rankdir": rankdir, "bgcolor": "white"}
    if legend:
        graph_attr.update(
            # one line per part, each left-justified (\\l) under the picture
            label=graphviz.nohtml(
                "".join(
                    _plain_escape(part) + "\\l"
                    for part in _legend(root, order, grads, groups, show_local_grads)
                )
            ),
            labelloc="b",
            labeljust="l",
            fontname="Helvetica",
            fontsize="10",
            fontcolor="#374151",
        )
    dot = ValueGraph(
        name="autograd_mini",
        graph_attr=graph_attr,
        node_attr={"fontname": "Helvetica", "fontsize": "12"},
        edge_attr={"fontname": "Helvetica", "fontsize": "10", "color": "#374151"},
    )
    # one box per neuron, numbered in order of appearance (its label is the neuron's name)
    boxes: dict[str, graphviz.Digraph] = {}
    for name in dict.fromkeys(groups[v] for v in order if v in groups):
        box = graphviz.Digraph(name=f"cluster_{len(boxes)}")
        box.attr(label=graphviz.nohtml(_plain_escape(name)), **_BOX_STYLE)
        boxes[name] = box
    for i, v in enumerate(order):
        where = boxes[groups[v]] if v in groups else dot
        constant = not v.requires_grad
        fields = [_record_escape(names[v]), f"data {_fmt(v.data)}"]
        if grads is not None and not constant:
            fields.append(f"grad {_fmt(grads[v])}")  # type: ignore[arg-type]
        body = " | ".join(fields)
        label = "{ " + body + " }" if horizontal != stacked else body
        if v is root:
            style = _ROOT_STYLE
        elif v._op is None:
            style = _CONST_STYLE if constant else _LEAF_STYLE
        else:
            style = {}
        # shape on each record (not as the default), like micrograd's draw_dot: one
        # "shape=record" per Value in the source
        where.node(f"v{i}", graphviz.nohtml(label), shape="record", **style)
        if v._op is not None:
            op_name = f"v{i}_op"
            where.node(op_name, graphviz.nohtml(_plain_escape(v._op.symbol)), **_OP_STYLE)
            dot.edge(op_name, f"v{i}")
            partials = local_partials(v) if show_local_grads else ()
            for k, parent in enumerate(v._parents):
                attrs: dict[str, str] = {}
                if show_local_grads and partials[k] is not None:
                    # "∂v3/∂x = 0.5": the factor backward multiplies along this edge
                    attrs["label"] = graphviz.nohtml(
                        _plain_escape(
                            f"∂{atom(names[v])}/∂{atom(names[parent])} = {_fmt(partials[k])}"  # type: ignore[arg-type]
                        )
                    )
                dot.edge(f"v{index[parent]}", op_name, **attrs)
    for box in boxes.values():
        dot.subgraph(box)
    return dot


def _legend(
    root: Value,
    order: list[Value],
    grads: Mapping[Value, float | None] | None,
    groups: dict[Value, str],
    show_local_grads: bool,
) -> list[str]:
    """What the picture's colours, boxes, fields and edge labels mean (only what it shows), in
    lines of a few parts each."""
    leaves = [v for v in order if v._op is None and v is not root]
    parts = []
    if any(v.requires_grad for v in leaves):
        parts.append("blue: input or parameter")
    if any(not v.requires_grad for v in order):
        parts.append("grey: constant (needs no gradient)")
    parts.append("gold: the output")
    if len(order) > 1:
        parts.append("ellipse: the operation")
    if groups:
        parts.append("box: one neuron (weights, bias, sum, activation)")
    if grads is not None and root.requires_grad:
        parts.append("grad: ∂output/∂node (after backward())")
    if show_local_grads and len(order) > 1:
        parts.append("edge label ∂a/∂b: the local partial backward multiplies by")
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + len(part) > 60:
            lines.append(part)
        else:
            lines[-1] += " · " + part
    return lines


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
