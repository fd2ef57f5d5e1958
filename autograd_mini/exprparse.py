"""A safe parser for arithmetic expressions like ``"tanh(w*x + b)"``: text in, Values out.

The text is parsed with Python's :mod:`ast` and every node is checked against a whitelist —
numbers, variable names, the constants ``pi`` and ``e`` (:data:`CONSTANTS`), ``+ - * / ** %``,
unary ``-``/``+`` and calls of the engine's functions (:data:`FUNCTIONS`) — before anything is
computed.  Nothing is ever passed to ``eval``/``exec``:
the checked tree is walked here and each node becomes one engine operation.

>>> from autograd_mini import Value
>>> expr = parse_expression("tanh(w*x + b)")
>>> expr.names
('w', 'x', 'b')
>>> y = expr.evaluate({"x": Value(1.0), "w": Value(0.5), "b": Value(0.1)})
>>> round(y.data, 12)
0.537049566998
>>> parse_expression("sin(pi*x)").names, parse_expression("sin(pi*x)").constants
(('x',), ('pi',))
>>> parse_expression("__import__('os')")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
autograd_mini.exprparse.ExpressionError: unknown function '__import__' at column 1; known ...
"""

from __future__ import annotations

import ast
import difflib
import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import cast

from autograd_mini.engine import Value
from autograd_mini.registry import ALIASES, OPS

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_LENGTH",
    "ExpressionError",
    "ParsedExpression",
    "known_functions",
    "parse_expression",
]

MAX_LENGTH = 10_000
"""Longest expression text accepted (characters)."""

_MAX_NODES = 5_000  # syntax-tree nodes
_MAX_DEPTH = 200  # nesting depth: keeps the recursive walk far from Python's recursion limit


class _Functions(Mapping[str, tuple[Callable[..., Value], int, int]]):
    """name -> (the op, smallest and largest number of arguments) for every op of the registry
    written as a call (``tanh(x)``, ``atan2(y, x)``, ``leaky_relu(x[, slope])``), read from
    :data:`~autograd_mini.ops.OPS` on each lookup, so ops added with ``defop`` are callable too."""

    def __getitem__(self, name: str) -> tuple[Callable[..., Value], int, int]:
        op = OPS.get(name) or ALIASES.get(name)
        if op is None or op.notation != "call":
            raise KeyError(name)
        return op, op.arity - len(op.defaults), op.arity

    def __iter__(self) -> Iterator[str]:
        ops = [*OPS.items(), *ALIASES.items()]
        return (name for name, op in sorted(ops) if op.notation == "call")

    def __len__(self) -> int:
        return sum(1 for _ in self)


FUNCTIONS: Mapping[str, tuple[Callable[..., Value], int, int]] = _Functions()
"""The functions an expression may call: the registry's ops written as calls."""


CONSTANTS: Mapping[str, float] = MappingProxyType({"pi": math.pi, "e": math.e})
"""Names an expression may use as numbers: ``pi`` and ``e``.  A value given for one of them
(``evaluate({"e": 2.0})``, the command line's ``--at e=2``) makes it a variable instead."""


def known_functions() -> str:
    """The names of :data:`FUNCTIONS`, sorted, separated by spaces (for help and errors)."""
    return " ".join(sorted(FUNCTIONS))


_BINARY: dict[type[ast.operator], Callable[[Value, Value], Value]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
    ast.Mod: lambda a, b: a % b,
}
_OPERATOR_TEXT = {
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
}
# What to call the constructs we refuse, for the error message.
_REFUSED = {
    ast.Attribute: "attribute access",
    ast.Lambda: "lambda",
    ast.Subscript: "indexing",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.NamedExpr: ":=",
    ast.JoinedStr: "f-strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Starred: "* unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slices",
}


class ExpressionError(ValueError):
    """The expression text is not something :func:`parse_expression` accepts, or cannot be
    evaluated (missing variable values, math-domain errors); the message says what and where."""


def _column(text: str, lineno: int, byte_offset: int) -> str:
    """`` at column N`` (`` at line L, column N`` beyond the first line), N counting characters
    from 1: the parser's offsets count UTF-8 bytes."""
    lines = text.split("\n")
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    col = len(line.encode("utf-8", "surrogatepass")[:byte_offset].decode("utf-8", "replace")) + 1
    return f" at column {col}" if lineno <= 1 else f" at line {lineno}, column {col}"


def _where(node: ast.AST, text: str) -> str:
    col = getattr(node, "col_offset", None)
    return "" if col is None else _column(text, getattr(node, "lineno", 1), col)


def _operator_where(node: ast.BinOp, symbol: str, text: str) -> str:
    """Where the operator of ``node`` is: between its operands, not where ``node`` starts."""
    left, right = node.left, node.right
    line_no = getattr(left, "end_lineno", None)
    start = getattr(left, "end_col_offset", None)
    if line_no is None or start is None or line_no != right.lineno:
        return _where(node, text)
    raw = text.split("\n")[line_no - 1].encode("utf-8", "surrogatepass")
    found = raw.find(symbol.encode(), start, right.col_offset)
    return _where(node, text) if found < 0 else _column(text, line_no, found)


@dataclass(frozen=True)
class ParsedExpression:
    """A checked expression: ``text``, its variable ``names`` (in order of first appearance), the
    :data:`CONSTANTS` it uses (``constants``), and :meth:`evaluate` to build it out of Values."""

    text: str
    names: tuple[str, ...]
    _tree: ast.expr
    constants: tuple[str, ...] = ()

    def evaluate(self, values: Mapping[str, Value | float | int]) -> Value:
        """The expression as a Value graph, with each variable taken from ``values``.

        Plain numbers in ``values`` become leaf Values labelled with their name.  A constant
        (``pi``, ``e``) is an unlabelled leaf holding its number, unless ``values`` gives it one:
        then it is a variable like the others.  Raises :class:`ExpressionError` naming any
        variable without a value, and for math errors (``log(-1)``, ``1/0``, overflow), naming
        the operation.
        """
        missing = [n for n in self.names if n not in values]
        if missing:
            raise ExpressionError(
                f"no value for {', '.join(missing)} (give one with --at, e.g. {missing[0]}=1.0)"
            )
        env = {
            n: (v if isinstance(v, Value) else Value(v, label=n))
            for n, v in values.items()
            if n in self.names or n in self.constants
        }
        for name in self.constants:
            if name not in env:
                env[name] = Value(CONSTANTS[name])
        try:
            return _evaluate(self._tree, env)
        except (ArithmeticError, ValueError) as exc:
            text = self.text if len(self.text) <= 60 else f"{self.text[:30]}…{self.text[-30:]}"
            raise ExpressionError(f"cannot evaluate {text!r}: {exc}") from None


def _evaluate(node: ast.expr, env: Mapping[str, Value]) -> Value:
    """Walk a checked tree; every node becomes one engine operation (no eval)."""
    if isinstance(node, ast.Constant):
        return Value(cast(float, node.value))  # an int or float: _check made sure
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, env)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, env), _evaluate(node.right, env))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        fn = FUNCTIONS[node.func.id][0]
        return fn(*(_evaluate(a, env) for a in node.args))
    raise AssertionError(f"unchecked node {type(node).__name__}")  # pragma: no cover


def _check(node: ast.AST, names: list[str], text: str) -> None:
    """Raise ExpressionError unless ``node`` is on the whitelist; collect variable names."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "string" if isinstance(value, (str, bytes)) else repr(value)
            raise ExpressionError(
                f"{kind} is not a number{_where(node, text)}; only numbers allowed"
            )
        try:
            float(value)
        except OverflowError:
            raise ExpressionError(f"number too large for a float{_where(node, text)}") from None
        return
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(
                f"{node.id!r} is a function{_where(node, text)}; call it, e.g. {node.id}(x)"
            )
        if node.id not in names:
            names.append(node.id)  # constants too: parse_expression splits them off
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            symbol = "not" if isinstance(node.op, ast.Not) else "~"
            raise ExpressionError(f"unsupported operator {symbol!r}{_where(node, text)}")
        _check(node.operand, names, text)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            symbol = _OPERATOR_TEXT.get(type(node.op), type(node.op).__name__)
            raise ExpressionError(
                f"unsupported operator {symbol!r}{_operator_where(node, symbol, text)}; "
                "use + - * / ** %"
            )
        _check(node.left, names, text)
        _check(node.right, names, text)
        return
    if isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name):
            what = "attribute access" if isinstance(func, ast.Attribute) else "this kind of call"
            raise ExpressionError(
                f"{what} not allowed{_where(node, text)}; call a function by name, e.g. tanh(x)"
            )
        if func.id not in FUNCTIONS:
            close = difflib.get_close_matches(func.id, FUNCTIONS, n=3)
            # a transposition first: 'tahn' is tanh, though 'tan' is nearer for difflib
            swapped = [c for c in close if sorted(c) == sorted(func.id)]
            hint = f"did you mean {(swapped or close)[0]}? " if close else ""
            raise ExpressionError(
                f"unknown function {func.id!r}{_where(node, text)}; {hint}known functions: "
                f"{', '.join(sorted(FUNCTIONS))}"
            )
        if node.keywords:
            raise ExpressionError(f"keyword arguments not allowed{_where(node, text)}")
        _, lo, hi = FUNCTIONS[func.id]
        if not lo <= len(node.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} or {hi}"
            raise ExpressionError(
                f"{func.id}() takes {want} argument{'s' if hi > 1 else ''}, "
                f"got {len(node.args)}{_where(node, text)}"
            )
        for arg in node.args:
            _check(arg, names, text)
        return
    what = _REFUSED.get(type(node), type(node).__name__)
    raise ExpressionError(
        f"{what} not allowed{_where(node, text)}; "
        "only numbers, names, + - * / ** % and function calls"
    )


def _check_size(root: ast.expr) -> None:
    """ExpressionError for trees with too many nodes or nested too deeply (iterative walk)."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > _MAX_NODES:
            raise ExpressionError(f"the expression has more than {_MAX_NODES} parts; simplify it")
        if depth > _MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested more than {_MAX_DEPTH} levels deep; simplify it"
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def parse_expression(text: str) -> ParsedExpression:
    """Parse and check ``text``; raises :class:`ExpressionError` (a ValueError) for anything
    outside the whitelist: unknown functions, attribute access, lambdas, strings, other
    operators, statements, over-long or over-deep input.  TypeError if ``text`` is not a str."""
    if not isinstance(text, str):
        raise TypeError(f"expression must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    source = text.strip()
    for i, ch in enumerate(source):
        # a lone surrogate is a byte that was not UTF-8 (how Python decodes such arguments)
        if "\ud800" <= ch <= "\udfff" or ch == "\0":
            what = "a NUL character" if ch == "\0" else "a byte that is not UTF-8 text"
            raise ExpressionError(f"the expression contains {what} at column {i + 1}")
    try:
        with warnings.catch_warnings():
            # a SyntaxWarning ("1not": invalid decimal literal) becomes the error reported,
            # rather than a warning printed before it
            warnings.simplefilter("error", SyntaxWarning)
            tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        if "Exceeds the limit" in str(exc.msg):
            raise ExpressionError("a number in the expression has too many digits") from None
        where = ""
        if exc.offset:
            line = exc.lineno or 1
            where = (
                f" at column {exc.offset}" if line <= 1 else f" at line {line}, column {exc.offset}"
            )
        raise ExpressionError(f"not a valid expression{where}: {exc.msg}") from None
    except (RecursionError, MemoryError):  # the parser's own limits
        raise ExpressionError("the expression is too deeply nested or too large") from None
    except ValueError as exc:
        raise ExpressionError(f"not a valid expression: {exc}") from None
    _check_size(tree.body)
    names: list[str] = []
    _check(tree.body, names, source)
    variables = tuple(n for n in names if n not in CONSTANTS)
    constants = tuple(n for n in names if n in CONSTANTS)
    return ParsedExpression(source, variables, tree.body, constants)
