"""The ``autograd-mini`` command (also ``python -m autograd_mini``).

    autograd-mini graph "tanh(w*x + b)" --at x=1 w=0.5 b=0.1 -o graph.svg [--explain]
    autograd-mini explain "tanh(w*x + b)" --at x=1 w=0.5 b=0.1
    autograd-mini demo moons|cascade|vanishing|spirals|gradflow|newton [demo options]

``graph`` parses the expression with the safe parser in :mod:`autograd_mini.exprparse` (never
``eval``), evaluates it at the given point, runs ``backward()``, prints the value and every
partial derivative, optionally explains the backward pass line by line, and writes the picture.
``explain`` prints the same numbers and the backward pass line by line (``graph --explain``
without a picture).  Expressions may use the constants ``pi`` and ``e``; a value given for one
of them in ``--at`` makes it a variable (with a note on stderr).  An expression may start with
``-`` (``"-x*y"``): for these two commands, an argument that starts with a single ``-`` and is
not ``-h`` or ``-o…`` is the expression, not an option.

Exit status: 0 on success; 2 for bad input (unknown names, unsupported syntax, missing ``--at``
values, math errors, an unwritable output path), with one line on stderr saying what is wrong;
1 when the picture cannot be rendered because Graphviz's ``dot`` is missing (the ``.dot`` source
is still written).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from autograd_mini import __version__
from autograd_mini.engine import GraphTooLargeError, Value, topological_order

__all__ = ["DEMOS", "main"]

DEMOS = ("moons", "cascade", "vanishing", "spirals", "gradflow", "newton")
"""Demo names; ``demo NAME`` runs ``autograd_mini.demos.NAME.main(argv)``."""

PROG = "autograd-mini"

DOT_TIMEOUT = 30.0
"""Seconds Graphviz's ``dot`` may take to draw a picture before it is stopped (``--timeout``)."""

_PAGE_SUFFIXES = (".html", ".htm")
_PICTURE_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv", *_PAGE_SUFFIXES)
_ROOT_NAMES = ("f", "y", "out", "result")


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (newline, tab, ANSI escape, other
    control and format characters, the lone surrogates of undecodable bytes) written as its
    Python escape: user text echoed in an error stays one plain line."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but usage errors are one clear line on stderr (user text escaped, see
    :func:`printable`) and exit status 2; the demos' parsers use it too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {printable(message)} (see {self.prog} --help)\n")


_Parser = OneLineParser


class _CommandParser(OneLineParser):
    """A command's parser.  With ``reads_expression`` set (``graph``, ``explain``), an argument
    starting with one ``-`` that is not one of their short options (``-h``, ``-o FILE`` or
    ``-oFILE``) is an expression (``"-x*y"``, ``"-2*x"``), not an unknown option; ``--`` still
    starts a long option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reads_expression = False

    def _parse_optional(self, arg_string: str) -> Any:
        if self.reads_expression and _is_negated_expression(arg_string):
            return None  # argparse's "not an option": a positional or an option's value
        return super()._parse_optional(arg_string)


def _is_negated_expression(arg: str) -> bool:
    return (
        len(arg) > 1
        and arg[0] == "-"
        and arg[1] != "-"
        and arg != "-h"
        and not arg.startswith("-o")
    )


def _add_expression_arguments(command: _CommandParser) -> None:
    """The expression, ``--at`` and ``--max-nodes``: what ``graph`` and ``explain`` share."""
    command.reads_expression = True
    command.add_argument(
        "expression",
        help='the expression, e.g. "tanh(w*x + b)" or "-x*y" (quote it); pi and e are constants',
    )
    command.add_argument(
        "--at",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="value of each variable, e.g. --at x=1 w=0.5 b=0.1 (or --at x=1,w=0.5,b=0.1, or "
        "--at x=1 --at w=0.5 ...); a value for pi or e makes it a variable",
    )
    command.add_argument(
        "--max-nodes",
        type=int,
        default=500,
        metavar="N",
        help="refuse to draw or explain graphs with more than N values (default 500)",
    )


def _build_parser() -> argparse.ArgumentParser:
    from autograd_mini.exprparse import known_functions  # the registry's ops written as calls

    parser = _Parser(
        prog=PROG,
        description="See the calculus: draw and explain the gradients of an expression, or run "
        "the demos of autograd_mini.",
        epilog=f'example: {PROG} graph "tanh(w*x + b)" --at x=1 w=0.5 b=0.1 -o graph.svg --explain',
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)

    graph = commands.add_parser(
        "graph",
        help="evaluate an expression, print its partial derivatives, draw its graph",
        description="Evaluate EXPRESSION at the point given by --at, run backward(), print the "
        "value and every partial derivative, and write the computation graph "
        "(with data and gradients) to --output. Expressions may use numbers, variable names, "
        f"the constants pi and e, + - * / ** %, unary minus, and the functions "
        f"{known_functions()}. The text is parsed with a whitelist, never eval'd.",
        epilog=f'example: {PROG} graph "tanh(w*x + b)" --at x=1 w=0.5 b=0.1 -o graph.svg',
    )
    _add_expression_arguments(graph)
    graph.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the graph picture here: .svg, .png, .pdf, or .dot for the DOT source only "
        "(the DOT source is written beside it: graph.svg → graph.svg.dot); .html writes a page "
        "that steps through the forward and backward pass",
    )
    graph.add_argument(
        "--explain",
        action="store_true",
        help="print the backward pass, one line per node: how each gradient is the sum of "
        "local partial × consumer's gradient",
    )
    graph.add_argument(
        "--local-grads",
        action="store_true",
        help="label each edge of the picture with its local partial ∂out/∂in",
    )
    graph.add_argument("--no-grad", action="store_true", help="leave gradients out of the picture")
    graph.add_argument(
        "--rankdir", choices=("LR", "TB", "RL", "BT"), default="LR", help="layout direction"
    )
    graph.add_argument(
        "--timeout",
        type=float,
        default=DOT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop Graphviz's dot if drawing takes longer (default {DOT_TIMEOUT:g})",
    )

    explain = commands.add_parser(
        "explain",
        help="evaluate an expression, print its partial derivatives and explain the backward "
        "pass line by line",
        description="Evaluate EXPRESSION at the point given by --at, run backward(), print the "
        "value, every partial derivative, and the backward pass one node per line: each "
        "gradient as the sum over the node's consumers of consumer's gradient × local partial "
        "(graph --explain, without a picture). Expressions are read as for graph.",
        epilog=f'example: {PROG} explain "tanh(w*x + b)" --at x=1 w=0.5 b=0.1',
    )
    _add_expression_arguments(explain)
    explain.set_defaults(explain=True, output=None, timeout=DOT_TIMEOUT)

    demo = commands.add_parser(
        "demo",
        help="run a demo: " + ", ".join(DEMOS),
        description="Run one of the demos; options after NAME go to the demo "
        f"(e.g. {PROG} demo cascade --help).",
    )
    # NAME optional for argparse, so `demo` alone gets our message rather than "NAME, args are
    # required" (args are optional)
    demo.add_argument(
        "name", nargs="?", choices=DEMOS, metavar="NAME", help="one of: " + ", ".join(DEMOS)
    )
    demo.add_argument("args", nargs=argparse.REMAINDER, help="options for the demo (optional)")
    return parser


def _parse_assignments(items: Sequence[str], names: tuple[str, ...]) -> dict[str, float]:
    """``["x=1", "w=0.5"]`` → ``{"x": 1.0, "w": 0.5}``, with a UsageError for anything else.

    Commas separate assignments too (``--at x=1,w=0.5``): no number is written with a comma.
    """
    from autograd_mini.exprparse import FUNCTIONS

    values: dict[str, float] = {}
    for item in (part for given in items for part in given.split(",") if part.strip()):
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name or not text:
            hint = " (the expression goes before --at)" if not sep and item.strip() else ""
            raise UsageError(f"--at expects NAME=VALUE, got {item!r}{hint}")
        if not name.isidentifier():
            raise UsageError(f"--at: {name!r} is not a valid variable name")
        if name in FUNCTIONS:
            raise UsageError(f"--at: {name!r} is a function name, not a variable")
        if name in values:
            raise UsageError(f"--at: {name} is given twice")
        try:
            values[name] = float(text)
        except ValueError:
            raise UsageError(f"--at: the value of {name} is not a number: {text!r}") from None
    missing = [n for n in names if n not in values]
    if missing:
        example = " ".join(f"{n}=1.0" for n in missing)
        them = "them" if len(missing) > 1 else "it"
        raise UsageError(
            f"no value for {', '.join(missing)}: add {them} to --at, e.g. --at {example}"
        )
    return values


def _shorten(text: str, limit: int = 60) -> str:
    """``repr(text)``, cut in the middle when long, so an error message stays one short line."""
    if len(text) > limit:
        text = f"{text[: limit // 2]}…{text[-limit // 2 :]}"
    return repr(text)


def _check_output(path: str) -> Path:
    """The output path, if it has a known suffix, a name the file system takes (with the
    ``.dot`` added for the source), and its folder exists and is writable."""
    if not path.strip():
        raise UsageError("-o/--output needs a file name, e.g. -o graph.svg")
    out = Path(path)
    shown = _shorten(path)
    if out.suffix.lower() not in _PICTURE_SUFFIXES:
        raise UsageError(
            f"cannot tell the picture format from {shown}: use a .svg, .png, .pdf or .dot name "
            "(or .html for the step-through page)"
        )
    folder = out.parent
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX") if folder.is_dir() else 255
    except (OSError, ValueError):
        name_max = 255
    longest = out.name if out.suffix.lower() in (".dot", ".gv") else out.name + ".dot"
    if len(os.fsencode(longest)) > name_max:
        raise UsageError(
            f"cannot write {shown}: the file name is too long ({len(os.fsencode(out.name))} "
            f"bytes; at most {name_max - 4} here, as the DOT source adds .dot)"
        )
    try:
        if not folder.is_dir():
            raise UsageError(f"cannot write {shown}: folder {_shorten(str(folder))} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise UsageError(
                f"cannot write {shown}: folder {_shorten(str(folder))} is not writable"
            )
        if out.is_dir():
            raise UsageError(f"cannot write {shown}: it is a folder")
    except OSError as exc:  # e.g. a path longer than PATH_MAX
        raise UsageError(f"cannot write {shown}: {exc.strerror or exc}") from None
    return out


def _graph(args: argparse.Namespace) -> int:
    from autograd_mini.exprparse import CONSTANTS, ExpressionError, parse_expression

    try:
        expr = parse_expression(args.expression)
    except ExpressionError as exc:
        raise UsageError(f"in {_shorten(args.expression)}: {exc}") from None
    values = _parse_assignments(args.at, expr.names)
    for name in expr.constants:
        if name in values:
            _note(
                f"--at {name}={values[name]!r} makes {name} a variable here, not the constant "
                f"{name} = {CONSTANTS[name]!r}"
            )
    out = None if args.output is None else _check_output(args.output)
    if args.max_nodes < 1:
        raise UsageError(f"--max-nodes must be at least 1, got {args.max_nodes}")
    if not 0 < args.timeout < math.inf:
        raise UsageError(f"--timeout must be a positive number of seconds, got {args.timeout}")

    leaves = {name: Value(x, label=name) for name, x in values.items()}
    try:
        root = expr.evaluate(leaves)
    except ExpressionError as exc:
        raise UsageError(str(exc)) from None
    if args.explain or out is not None:  # both walk the graph: its size first, in CLI words
        try:
            topological_order(root, max_nodes=args.max_nodes)
        except GraphTooLargeError:
            raise UsageError(
                f"the graph has more than --max-nodes {args.max_nodes} Values: pass a larger "
                "--max-nodes, or draw or explain a smaller expression"
            ) from None
    root_name = next(n for n in (*_ROOT_NAMES, "f_") if n not in leaves)
    if not root.label:
        root.label = root_name
    root.backward()

    # the point as "(x, w) = (1.0, 0.5)": no "x=1.0" that reads like a result line
    at = f"  at ({', '.join(values)}) = ({', '.join(repr(x) for x in values.values())})"
    print(f"{root.label} = {expr.text}" + (at if values else ""))
    print(f"{root.label} = {root.data!r}")
    for name, leaf in leaves.items():
        used = name in expr.names or name in expr.constants
        note = "" if used else "  (not in the expression)"
        print(f"∂{root.label}/∂{name} = {leaf.grad!r}{note}")
    if args.explain:
        from autograd_mini.explain import explain

        print()
        print("backward pass (each gradient = Σ over consumers of consumer's gradient × local ∂):")
        try:
            print(explain(root, max_nodes=args.max_nodes))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if out is not None:
        return _write_picture(root, out, args)
    return 0


def _write_picture(root: Value, out: Path, args: argparse.Namespace) -> int:
    from autograd_mini.viz import (
        DOT_MAX_LAYOUT,
        DotNotFoundError,
        DotTimeoutError,
        draw_graph,
        layout_size,
        render_graph,
        source_path,
    )

    if out.suffix.lower() in _PAGE_SUFFIXES:
        from autograd_mini.naming import check_graph_size

        try:  # the node limit first, as for pictures (draw_graph checks it below)
            check_graph_size(root, args.max_nodes, "to_html")
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        _check_layout(root, out, local_grads=False)  # the page draws no local partials
        return _write_page(root, out, args)
    try:
        graph = draw_graph(
            root,
            rankdir=args.rankdir,
            show_grad=not args.no_grad,
            show_local_grads=args.local_grads,
            max_nodes=args.max_nodes,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    source = source_path(out)
    size = layout_size(root, show_local_grads=args.local_grads)
    try:
        if source != out and size > DOT_MAX_LAYOUT:
            # dot would take minutes (x*x*…*x): write the source only, and say so
            render_graph(graph, source)
            _error(
                f"not drawing {out.name}: Graphviz's dot would take minutes on this graph "
                f"(layout size {size}, limit {DOT_MAX_LAYOUT}: values used by operations far "
                f"apart); the DOT source is in {source} (dot -T{out.suffix[1:].lower()} draws "
                f"it, slowly); draw a smaller expression"
                + (" or leave out --local-grads" if args.local_grads else "")
            )
            return 1
        render_graph(graph, out, timeout=args.timeout)
    except DotNotFoundError as exc:
        _error(str(exc))
        return 1
    except DotTimeoutError:
        _error(
            f"Graphviz's dot could not draw this graph within {args.timeout:g} s and was "
            f"stopped (a value used by many operations makes the layout slow); the DOT source "
            f"is in {source}: draw a smaller expression, or allow more time with --timeout"
        )
        return 1
    except RuntimeError as exc:  # dot itself failed
        _error(str(exc))
        return 1
    except OSError as exc:
        raise UsageError(f"cannot write {_shorten(str(out))}: {exc.strerror or exc}") from None
    extra = "" if source == out else f" (DOT source: {source})"
    print(f"wrote {out}{extra}")
    return 0


def _check_layout(root: Value, out: Path, *, local_grads: bool) -> None:
    """A UsageError, before ``dot`` runs, for a graph it would take too long to lay out."""
    from autograd_mini.viz import DOT_MAX_LAYOUT, layout_size

    size = layout_size(root, show_local_grads=local_grads)
    if size > DOT_MAX_LAYOUT:
        raise UsageError(
            f"this graph is too tangled for Graphviz's dot to draw in reasonable time "
            f"(layout size {size}, limit {DOT_MAX_LAYOUT}: values used by operations far "
            f"apart); draw a smaller expression"
            + (", leave out --local-grads" if local_grads else "")
            + f", or write only the DOT source with -o {_shorten(str(out.with_suffix('.dot')))}"
        )


def _write_page(root: Value, out: Path, args: argparse.Namespace) -> int:
    """``-o steps.html``: the step-through page (:func:`autograd_mini.viz.to_html`)."""
    from autograd_mini.stepper import page_with_timeout
    from autograd_mini.viz import DotNotFoundError, DotTimeoutError

    try:
        page_with_timeout(root, out, max_nodes=args.max_nodes, timeout=args.timeout)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except (DotNotFoundError, DotTimeoutError) as exc:
        _error(str(exc))
        return 1
    except RuntimeError as exc:  # dot itself failed
        _error(str(exc))
        return 1
    except OSError as exc:
        raise UsageError(f"cannot write {_shorten(str(out))}: {exc.strerror or exc}") from None
    print(f"wrote {out} (open it in a browser; ← → step through the passes)")
    return 0


def _demo(args: argparse.Namespace) -> int:
    if args.name is None:
        raise UsageError(
            f"demo needs a NAME, one of {', '.join(DEMOS)}; options after it are optional and "
            f"go to the demo (e.g. {PROG} demo moons --help)"
        )
    module_name = f"autograd_mini.demos.{args.name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name in (module_name, "autograd_mini.demos"):
            raise UsageError(f"demo {args.name!r} is not available in this installation") from None
        raise
    # the demo's --help then says "autograd-mini demo NAME" rather than "python -m ..."
    prog = f"{PROG} demo {args.name}"
    accepts_prog = "prog" in inspect.signature(module.main).parameters
    result = (
        module.main(list(args.args), prog=prog) if accepts_prog else module.main(list(args.args))
    )
    return int(result or 0)


def _tolerate_narrow_encodings() -> None:
    """On a terminal that cannot show ∂, σ or · (an ASCII or cp1252 console), write them as
    ``\u2202`` escapes instead of failing with a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "∂σ·−²".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")


def _note(message: str) -> None:
    """One line on stderr: ``autograd-mini: note: message`` (control characters escaped)."""
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            print(f"{PROG}: note: {printable(message)}", file=sys.stderr)


def _error(message: str) -> None:
    """One line on stderr: ``autograd-mini: error: message`` (control characters escaped)."""
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            print(f"{PROG}: error: {printable(message)}", file=sys.stderr)
            sys.stderr.flush()


def _stdout_failed() -> bool:
    """Whether standard output cannot be written (closed, full, a pipe with no reader); if so,
    point it at /dev/null, so the interpreter's final flush does not fail a second time."""
    try:
        if sys.stdout is None:
            return True
        sys.stdout.flush()
        return False
    except (OSError, ValueError, AttributeError):
        _silence_stdout()
        return True


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null (what is still buffered goes nowhere)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    Never a traceback: every failure is one line on stderr and status 1 (2 for bad input).
    """
    if sys.stdout is None:  # started with stdout closed (`>&-`): nowhere to print the results
        _error("standard output is closed; redirect it to a file or to /dev/null instead")
        return 1
    try:
        _tolerate_narrow_encodings()
        parser = _build_parser()
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.command is None:
            _error(f"choose a command: graph, explain or demo (see {PROG} --help)")
            return 2
        status = _demo(args) if args.command == "demo" else _graph(args)
        sys.stdout.flush()  # a closed pipe or a full disk shows up here, not at exit
        return status
    except UsageError as exc:
        _error(str(exc))
        return 2
    except BrokenPipeError:
        # the reader went away (`autograd-mini demo cascade | head`): stop quietly
        _stdout_failed()
        return 1
    except OSError as exc:
        # no file name: it came from writing stdout (>/dev/full); file errors name their file
        if _stdout_failed() or exc.filename is None:
            _silence_stdout()
            _error(f"cannot write to standard output: {exc.strerror or exc}")
        else:
            where = f": {_shorten(os.fsdecode(exc.filename))}" if exc.filename else ""
            _error(f"{exc.strerror or exc}{where}")
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:  # a bug: still one line (and the exit status says it failed)
        _error(f"internal error: {type(exc).__name__}: {exc} (please report it)")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
