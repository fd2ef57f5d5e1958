"""The ``autograd-mini`` command (also ``python -m autograd_mini``).

    autograd-mini graph "tanh(w*x + b)" --at x=1 w=0.5 b=0.1 -o graph.svg [--explain]
    autograd-mini demo moons|cascade|vanishing|spirals [demo options]

``graph`` parses the expression with the safe parser in :mod:`autograd_mini.exprparse` (never
``eval``), evaluates it at the given point, runs ``backward()``, prints the value and every
partial derivative, optionally explains the backward pass line by line, and writes the picture.

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
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from autograd_mini import __version__
from autograd_mini.engine import Value

__all__ = ["DEMOS", "main"]

DEMOS = ("moons", "cascade", "vanishing", "spirals")
"""Demo names; ``demo NAME`` runs ``autograd_mini.demos.NAME.main(argv)``."""

PROG = "autograd-mini"

_PICTURE_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")
_ROOT_NAMES = ("f", "y", "out", "result")


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one clear line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    from autograd_mini.exprparse import known_functions  # the registry's ops written as calls

    parser = _Parser(
        prog=PROG,
        description="See the calculus: draw and explain the gradients of an expression, or run "
        "the demos of autograd_mini.",
        epilog=f'example: {PROG} graph "tanh(w*x + b)" --at x=1 w=0.5 b=0.1 -o graph.svg --explain',
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    graph = commands.add_parser(
        "graph",
        help="evaluate an expression, print its partial derivatives, draw its graph",
        description="Evaluate EXPRESSION at the point given by --at, run backward(), print the "
        "value and every partial derivative, and write the computation graph "
        "(with data and gradients) to --output. Expressions may use numbers, variable names, "
        f"+ - * / ** %, unary minus, and the functions {known_functions()}. The text is "
        "parsed with a whitelist, never eval'd.",
        epilog=f'example: {PROG} graph "tanh(w*x + b)" --at x=1 w=0.5 b=0.1 -o graph.svg',
    )
    graph.add_argument(
        "expression",
        help='the expression, e.g. "tanh(w*x + b)" (quote it; one starting with "-" needs a '
        'leading space, " -x*y")',
    )
    graph.add_argument(
        "--at",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=VALUE",
        help="value of each variable, e.g. --at x=1 w=0.5 b=0.1 (or --at x=1,w=0.5,b=0.1, or "
        "--at x=1 --at w=0.5 ...)",
    )
    graph.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the graph picture here: .svg, .png, .pdf, or .dot for the DOT source only "
        "(the DOT source is always written next to the picture)",
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
        "--max-nodes",
        type=int,
        default=500,
        metavar="N",
        help="refuse to draw graphs with more than N values (default 500)",
    )

    demo = commands.add_parser(
        "demo",
        help="run a demo: " + ", ".join(DEMOS),
        description="Run one of the demos; options after NAME go to the demo "
        f"(e.g. {PROG} demo cascade --help).",
    )
    demo.add_argument("name", choices=DEMOS, metavar="NAME", help="one of: " + ", ".join(DEMOS))
    demo.add_argument("args", nargs=argparse.REMAINDER, help="options for the demo")
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
            raise UsageError(f"--at expects NAME=VALUE, got {item!r}")
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
        raise UsageError(f"no value for {', '.join(missing)}: add it to --at, e.g. --at {example}")
    return values


def _shorten(text: str, limit: int = 60) -> str:
    """``repr(text)``, cut in the middle when long, so an error message stays one short line."""
    if len(text) > limit:
        text = f"{text[: limit // 2]}…{text[-limit // 2 :]}"
    return repr(text)


def _check_output(path: str) -> Path:
    """The output path, if it has a known suffix and its folder exists and is writable."""
    if not path.strip():
        raise UsageError("-o/--output needs a file name, e.g. -o graph.svg")
    out = Path(path)
    if out.suffix.lower() not in _PICTURE_SUFFIXES:
        raise UsageError(
            f"cannot tell the picture format from {path!r}: use a .svg, .png, .pdf or .dot name"
        )
    folder = out.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {path}: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {path}: folder {str(folder)!r} is not writable")
    if out.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")
    return out


def _graph(args: argparse.Namespace) -> int:
    from autograd_mini.exprparse import ExpressionError, parse_expression

    try:
        expr = parse_expression(args.expression)
    except ExpressionError as exc:
        raise UsageError(f"in {_shorten(args.expression)}: {exc}") from None
    values = _parse_assignments(args.at, expr.names)
    out = None if args.output is None else _check_output(args.output)
    if args.max_nodes < 1:
        raise UsageError(f"--max-nodes must be at least 1, got {args.max_nodes}")

    leaves = {name: Value(x, label=name) for name, x in values.items()}
    try:
        root = expr.evaluate(leaves)
    except ExpressionError as exc:
        raise UsageError(str(exc)) from None
    root_name = next(n for n in (*_ROOT_NAMES, "f_") if n not in leaves)
    if not root.label:
        root.label = root_name
    root.backward()

    # the point as "(x, w) = (1.0, 0.5)": no "x=1.0" that reads like a result line
    at = f"  at ({', '.join(values)}) = ({', '.join(repr(x) for x in values.values())})"
    print(f"{root.label} = {expr.text}" + (at if values else ""))
    print(f"{root.label} = {root.data!r}")
    for name, leaf in leaves.items():
        note = "" if name in expr.names else "  (not in the expression)"
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
    from autograd_mini.viz import DotNotFoundError, draw_graph, render_graph

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
    try:
        render_graph(graph, out)
    except DotNotFoundError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    source = out if out.suffix.lower() in (".dot", ".gv") else out.with_suffix(".dot")
    extra = "" if source == out else f" (DOT source: {source})"
    print(f"wrote {out}{extra}")
    return 0


def _demo(args: argparse.Namespace) -> int:
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    _tolerate_narrow_encodings()
    parser = _build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        print(
            f"{PROG}: error: choose a command: graph or demo (see {PROG} --help)", file=sys.stderr
        )
        return 2
    try:
        status = _graph(args) if args.command == "graph" else _demo(args)
        sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's final flush
        return status
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`autograd-mini demo cascade | head`): stop quietly, and point
        # stdout at /dev/null so the interpreter's final flush does not fail again
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
