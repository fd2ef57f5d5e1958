"""Turn the rules of :mod:`autograd_mini.ops` into straight-line code for :mod:`~.trace`.

There is one copy of the calculus, the table in ``ops.py``.  This module reads the source of an
op's ``forward`` and ``vjp`` functions (their AST), and *inlines* it at each node of a traced
graph: parameters become the node's variables (or float literals for constants), locals get a
per-node prefix, and every ``return`` becomes an assignment, so the rule's own ``if``\\s remain as
``if`` statements.  Then a few exact simplifications:

* constant folding: ``float(c)``, comparisons and arithmetic of constants, ``type(v) is float``
  (every value in compiled code is a float), ``1.0 * e`` → ``e``, ``if`` on a constant;
* copy propagation of locals assigned once (``xf = x``), and dead-code elimination of what no
  needed gradient uses (the slope of ``x ** 2`` by its exponent is never computed).

For :meth:`Traced.batch` the same inlined statements are *vectorised* (:class:`Vectoriser`): each
``if`` is if-converted (both branches computed on the whole array, then merged with
``numpy.where``), ``a if c else b`` becomes ``numpy.where(c, a, b)``, ``and``/``or``/``not``
become ``numpy.logical_*``, ``float(e)`` becomes ``e``, ``math.f`` becomes ``numpy.f`` (then
``math.f`` element by element where the two can differ in the last bit), and a
``raise`` becomes "fail if any row reaches this point" (the caller then re-runs the failing row
with the scalar code to raise the very exception eager mode raises).  So the batched program is
derived from the rules too; the only hand-written NumPy is :data:`NUMPY_HELPERS` and the
``math`` → ``numpy`` name table, both checked against the scalar rules by property tests.

Nothing here ever puts user text into source: names are generated (``v12``, ``g12``), constants
are emitted with ``repr`` of floats (``_inf``/``_nan`` for the non-finite ones), and all other code
comes from ``ops.py``.  A rule this module cannot inline (a construct outside the small subset
below, or a function defined outside ``ops.py``) is called as a function instead, and element by
element in a batch: slower, same result.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import inspect
import math
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from autograd_mini import ops as _ops

__all__ = [
    "NUMPY_HELPERS",
    "BatchFailureError",
    "CannotInlineError",
    "CannotVectoriseError",
    "Vectoriser",
    "const_ast",
    "const_value",
    "inline_rule",
    "scalar_namespace",
    "vector_namespace",
]

_OPS_GLOBALS: dict[str, Any] = vars(_ops)

#: Names for the non-finite float constants in generated code (repr(inf) is not a literal).
_CONST_NAMES: dict[str, float] = {"_inf": math.inf, "_nan": math.nan}

#: ``math`` functions and their NumPy ufuncs with the same meaning, element by element.
_MATH_TO_NUMPY = (
    "exp",
    "expm1",
    "log",
    "log1p",
    "log2",
    "log10",
    "sqrt",
    "tanh",
    "sinh",
    "cosh",
    "sin",
    "cos",
    "tan",
    "atan",
    "fabs",
    "floor",
    "ceil",
    "isfinite",
    "isnan",
    "isinf",
    "copysign",
)

#: ``math`` functions whose NumPy ufunc gives the same float for every input (IEEE-exact
#: operations).  The others (``exp``, ``log``, ``tanh``, ``sin``, …) and ``**`` run as
#: NumPy and then element by element with ``math``'s own function (:func:`_exact`): NumPy's
#: SIMD versions differ from the C library's in the last bit (tanh for ~20% of inputs,
#: measured), which a rule that cancels (1 − tanh² near ±1) magnifies to 1e-9 relative.
_EXACT_IN_NUMPY = frozenset(
    {"sqrt", "fabs", "floor", "ceil", "isfinite", "isnan", "isinf", "copysign"}
)

#: ``math`` functions folded when all their arguments are constants.
_PURE_MATH = frozenset({"isfinite", "isnan", "isinf", "fabs", "copysign"})

#: Helpers of ``ops.py`` whose float version cannot be if-converted (a ``try`` whose handler
#: returns a value) and their NumPy equivalent.  ``_pow``: x**y with overflow → ±inf, which is
#: exactly IEEE ``numpy.power`` (tests/test_trace.py checks it against ``ops._pow``).
NUMPY_HELPERS: dict[str, str] = {"_pow": "power"}


class CannotInlineError(Exception):
    """The function uses a construct outside the inlinable subset: call it instead."""


class CannotVectoriseError(Exception):
    """The statements use a construct the vectoriser does not know: run them element-wise."""


class BatchFailureError(Exception):
    """Raised by batched code where the scalar code would raise (a domain error, a branch guard)
    for at least one row; the caller finds the row and raises the scalar exception."""


# --- constants ---------------------------------------------------------------------------------


def const_ast(value: float | int | bool) -> ast.expr:
    """An expression for ``value``: a literal (repr of the float), negated where negative
    (``-2.0 ** x`` would parse as ``-(2.0 ** x)``), ``_inf``/``_nan`` where not finite."""
    if isinstance(value, bool):
        return ast.Constant(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ast.Name("_nan", ast.Load())
        if math.isinf(value):
            pos: ast.expr = ast.Name("_inf", ast.Load())
            return pos if value > 0 else ast.UnaryOp(ast.USub(), pos)
        if math.copysign(1.0, value) < 0:
            return ast.UnaryOp(ast.USub(), ast.Constant(-value))
        return ast.Constant(value)
    if value < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def const_value(node: ast.AST, variables: Callable[[str], bool]) -> Any:
    """The number or bool ``node`` always evaluates to, or None.  ``variables(name)`` says which
    names are program variables (never constants)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = const_value(node.operand, variables)
        if isinstance(inner, (int, float)) and not isinstance(inner, bool):
            return -inner if isinstance(node.op, ast.USub) else inner
        return None
    if isinstance(node, ast.Name) and not variables(node.id):
        if node.id in _CONST_NAMES:
            return _CONST_NAMES[node.id]
        value = _OPS_GLOBALS.get(node.id)
        if type(value) is float:
            return value
    return None


# --- reading a rule ------------------------------------------------------------------------------

_ALLOWED_STMTS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.If, ast.Return, ast.Raise, ast.Try)
_FORBIDDEN_EXPRS = (
    ast.Lambda,
    ast.NamedExpr,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Yield,
    ast.YieldFrom,
    ast.Await,
    ast.Starred,
    ast.Subscript,
)


@dataclass(frozen=True)
class _Template:
    """A rule's body with parameters renamed ``__a0…``, locals ``__l_<name>``, and every return
    turned into assignments to ``__ret0…``."""

    n_params: int
    body: tuple[ast.stmt, ...]


def _store_names(node: ast.AST) -> list[str]:
    names = []
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.append(n.id)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.append(n.name)
    return names


def _terminates(stmts: Sequence[ast.stmt]) -> bool:
    """Whether every path through ``stmts`` ends in ``return`` or ``raise``."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return _terminates(last.body) and _terminates(last.orelse)
    if isinstance(last, ast.Try):
        return _terminates(last.body) and all(_terminates(h.body) for h in last.handlers)
    return False


def _has_return(stmts: Iterable[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Return) for s in stmts for n in ast.walk(s))


def _returns_to_assignments(
    stmts: Sequence[ast.stmt], n_ret: int, tuple_ret: bool
) -> list[ast.stmt]:
    """The same statements with each ``return e`` replaced by ``__ret0, … = e`` and the code that
    followed a conditional return moved into the branch that falls through."""
    out: list[ast.stmt] = []
    for i, s in enumerate(stmts):
        if isinstance(s, ast.Return):
            if s.value is None:
                raise CannotInlineError("bare return")
            out.extend(_assign_returns(s.value, n_ret, tuple_ret))
            return out
        if isinstance(s, ast.If) and _has_return([s]):
            rest = list(stmts[i + 1 :])
            body = s.body if _terminates(s.body) else [*s.body, *rest]
            orelse = s.orelse if _terminates(s.orelse) else [*s.orelse, *rest]
            out.append(
                ast.If(
                    s.test,
                    _returns_to_assignments(body, n_ret, tuple_ret),
                    _returns_to_assignments(orelse, n_ret, tuple_ret),
                )
            )
            return out
        if isinstance(s, ast.Try) and _has_return([s]):
            if s.orelse or s.finalbody or (stmts[i + 1 :] and not _terminates([s])):
                raise CannotInlineError("return inside try with code after it")
            handlers = [
                ast.ExceptHandler(h.type, h.name, _returns_to_assignments(h.body, n_ret, tuple_ret))
                for h in s.handlers
            ]
            body = _returns_to_assignments(s.body, n_ret, tuple_ret)
            out.append(ast.Try(body, handlers, [], []))
            return out
        out.append(s)
    return out


def _assign_returns(value: ast.expr, n_ret: int, tuple_ret: bool) -> list[ast.stmt]:
    slots = [f"__ret{k}" for k in range(n_ret)]
    if not tuple_ret:
        return [ast.Assign([ast.Name(slots[0], ast.Store())], value)]
    if isinstance(value, ast.Tuple) and len(value.elts) == n_ret:
        return [
            ast.Assign([ast.Name(slot, ast.Store())], elt)
            for slot, elt in zip(slots, value.elts, strict=True)
        ]
    target = ast.Tuple([ast.Name(slot, ast.Store()) for slot in slots], ast.Store())
    return [ast.Assign([target], value)]


def _check_subset(body: Sequence[ast.stmt]) -> None:
    for s in body:
        for node in ast.walk(s):
            if isinstance(node, ast.stmt) and not isinstance(node, (*_ALLOWED_STMTS, ast.Pass)):
                raise CannotInlineError(f"statement {type(node).__name__}")
            if isinstance(node, _FORBIDDEN_EXPRS):
                raise CannotInlineError(f"expression {type(node).__name__}")
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    elts = t.elts if isinstance(t, ast.Tuple) else [t]
                    if not all(isinstance(e, ast.Name) for e in elts):
                        raise CannotInlineError("assignment to something other than a name")
                if isinstance(node, ast.AnnAssign) and node.value is None:
                    raise CannotInlineError("bare annotation")


class _Renamer(ast.NodeTransformer):
    """Replace names: ``mapping[name]`` is a new name (str) or an expression to copy in."""

    def __init__(self, mapping: dict[str, str | ast.expr]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.expr:
        new = self.mapping.get(node.id)
        if new is None:
            return node
        if isinstance(new, str):
            return ast.copy_location(ast.Name(new, node.ctx), node)
        if not isinstance(node.ctx, ast.Load):
            raise CannotInlineError(f"assignment to parameter {node.id}")
        return copy.deepcopy(new)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        self.generic_visit(node)
        if node.name is not None:
            new = self.mapping.get(node.name)
            if isinstance(new, str):
                node.name = new
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt:
        assert node.value is not None  # _check_subset
        assign = ast.Assign([node.target], node.value)
        return self.visit(ast.copy_location(assign, node))  # type: ignore[no-any-return]


@cache
def _template(fn: Callable[..., Any], n_ret: int, tuple_ret: bool) -> _Template | None:
    """The inlinable template of a function of ``ops.py``, or None if it cannot be inlined."""
    if getattr(fn, "__globals__", None) is not _OPS_GLOBALS or getattr(fn, "__closure__", None):
        return None  # names in its body would not resolve to ops.py's
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    fdef = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(fdef, ast.FunctionDef) or fdef.name != fn.__name__ or fdef.decorator_list:
        return None
    a = fdef.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.posonlyargs:
        return None
    params = [arg.arg for arg in a.args]
    body = list(fdef.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    try:
        _check_subset(body)
        if not _terminates(body):
            raise CannotInlineError("a path ends without return")
        body = _returns_to_assignments(body, n_ret, tuple_ret)
        local_names = {n for s in body for n in _store_names(s)} - {
            f"__ret{k}" for k in range(n_ret)
        }
        if local_names & set(params):
            raise CannotInlineError("assigns to a parameter")
        mapping: dict[str, str | ast.expr] = {p: f"__a{i}" for i, p in enumerate(params)}
        mapping.update({name: f"__l_{name}" for name in local_names})
        renamer = _Renamer(mapping)
        body = [renamer.visit(s) for s in body]
    except CannotInlineError:
        return None
    return _Template(len(params), tuple(ast.fix_missing_locations(s) for s in body))


# --- simplification ------------------------------------------------------------------------------


def _is_var(name: str) -> bool:
    """Names that hold numbers at run time (parameters, locals, slots) in a template."""
    return name.startswith(("__a", "__l_", "__ret"))


def _loads(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


class _Folder(ast.NodeTransformer):
    """Exact constant folding (every program value is a Python float)."""

    def __init__(self, is_var: Callable[[str], bool]) -> None:
        self.is_var = is_var

    def const(self, node: ast.AST) -> Any:
        return const_value(node, self.is_var)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        f = node.func
        consts = [self.const(a) for a in node.args]
        if (
            isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Name)
            and f.value.id == "math"
            and f.attr in _PURE_MATH
            and not node.keywords
            and all(c is not None for c in consts)
        ):
            try:
                return const_ast(getattr(math, f.attr)(*consts))
            except (ArithmeticError, ValueError):
                return node
        if isinstance(f, ast.Attribute) and f.attr == "is_integer" and not node.args:
            c = self.const(f.value)
            if type(c) is float:
                return ast.Constant(c.is_integer())
        if (
            isinstance(f, ast.Name)
            and f.id == "float"
            and len(node.args) == 1
            and not node.keywords
        ):
            arg = node.args[0]
            c = self.const(arg)
            if c is not None and not isinstance(c, bool):
                return const_ast(float(c))
            if isinstance(arg, ast.Name) and self.is_var(arg.id):
                return arg
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        if len(node.ops) != 1:
            return node
        left, right, op = node.left, node.comparators[0], node.ops[0]
        if (
            isinstance(op, (ast.Is, ast.IsNot))
            and isinstance(left, ast.Call)
            and isinstance(left.func, ast.Name)
            and left.func.id == "type"
            and len(left.args) == 1
            and isinstance(left.args[0], ast.Name)
            and self.is_var(left.args[0].id)
            and isinstance(right, ast.Name)
            and right.id == "float"
        ):
            return ast.Constant(isinstance(op, ast.Is))
        a, b = self.const(left), self.const(right)
        if a is None or b is None:
            return node
        table: dict[type, Callable[[Any, Any], bool]] = {
            ast.Eq: lambda x, y: x == y,
            ast.NotEq: lambda x, y: x != y,
            ast.Lt: lambda x, y: x < y,
            ast.LtE: lambda x, y: x <= y,
            ast.Gt: lambda x, y: x > y,
            ast.GtE: lambda x, y: x >= y,
        }
        fn = table.get(type(op))
        return node if fn is None else ast.Constant(bool(fn(a, b)))

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        self.generic_visit(node)
        is_and = isinstance(node.op, ast.And)
        kept = []
        for v in node.values:
            c = self.const(v)
            if isinstance(c, bool):
                if c == is_and:
                    continue  # True in `and`, False in `or`: no effect
                return ast.Constant(not is_and)
            kept.append(v)
        if not kept:
            return ast.Constant(is_and)
        if len(kept) == 1:
            return kept[0]
        node.values = kept
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        c = self.const(node.operand)
        if isinstance(node.op, ast.Not) and isinstance(c, bool):
            return ast.Constant(not c)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        self.generic_visit(node)
        c = self.const(node.test)
        if isinstance(c, bool):
            return node.body if c else node.orelse
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        a, b = self.const(node.left), self.const(node.right)
        if isinstance(node.op, ast.Mult):
            # 1.0·e is e exactly in IEEE arithmetic (also for -0.0, ±inf and NaN)
            if type(a) is float and a == 1.0 and math.copysign(1.0, a) > 0:
                return node.right
            if type(b) is float and b == 1.0 and math.copysign(1.0, b) > 0:
                return node.left
        if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
            return node
        ops: dict[type, Callable[[Any, Any], Any]] = {
            ast.Add: lambda x, y: x + y,
            ast.Sub: lambda x, y: x - y,
            ast.Mult: lambda x, y: x * y,
            ast.Div: lambda x, y: x / y,
        }
        fn = ops.get(type(node.op))
        if fn is None:
            return node
        try:
            return const_ast(fn(a, b))
        except ArithmeticError:
            return node


def _fold_ifs(stmts: Sequence[ast.stmt], is_var: Callable[[str], bool]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for s in stmts:
        if isinstance(s, ast.If):
            c = const_value(s.test, is_var)
            if isinstance(c, bool):
                out.extend(_fold_ifs(s.body if c else s.orelse, is_var))
                continue
            s.body = _fold_ifs(s.body, is_var)
            s.orelse = _fold_ifs(s.orelse, is_var)
        elif isinstance(s, ast.Try):
            s.body = _fold_ifs(s.body, is_var)
            for h in s.handlers:
                h.body = _fold_ifs(h.body, is_var)
        out.append(s)
    return out


def _split_tuple_assigns(stmts: Sequence[ast.stmt]) -> list[ast.stmt]:
    """``a, b = e1, e2`` → ``a = e1; b = e2`` when no ``e`` reads a target."""
    out: list[ast.stmt] = []
    for s in stmts:
        if (
            isinstance(s, ast.Assign)
            and len(s.targets) == 1
            and isinstance(s.targets[0], ast.Tuple)
            and isinstance(s.value, ast.Tuple)
            and len(s.targets[0].elts) == len(s.value.elts)
        ):
            names = {t.id for t in s.targets[0].elts if isinstance(t, ast.Name)}
            if not any(_loads(v) & names for v in s.value.elts):
                out.extend(
                    ast.Assign([t], v) for t, v in zip(s.targets[0].elts, s.value.elts, strict=True)
                )
                continue
        if isinstance(s, ast.If):
            s.body = _split_tuple_assigns(s.body)
            s.orelse = _split_tuple_assigns(s.orelse)
        out.append(s)
    return out


def _store_counts(stmts: Sequence[ast.stmt]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in stmts:
        for name in _store_names(s):
            counts[name] = counts.get(name, 0) + 1
    return counts


def _propagate(stmts: list[ast.stmt], is_var: Callable[[str], bool]) -> tuple[list[ast.stmt], bool]:
    """Copy propagation: a local assigned once at top level from a constant or from a name that
    is never reassigned is replaced by that value everywhere."""
    counts = _store_counts(stmts)
    for i, s in enumerate(stmts):
        if not (
            isinstance(s, ast.Assign)
            and len(s.targets) == 1
            and isinstance(s.targets[0], ast.Name)
            and s.targets[0].id.startswith("__l_")
            and counts.get(s.targets[0].id) == 1
        ):
            continue
        value = s.value
        simple = const_value(value, is_var) is not None or (
            isinstance(value, ast.Name) and counts.get(value.id, 0) <= 1
        )
        if not simple:
            continue
        renamer = _Renamer({s.targets[0].id: value})
        rest = [renamer.visit(t) for t in stmts[i + 1 :]]
        return [*stmts[:i], *rest], True
    return stmts, False


def _dce(stmts: Sequence[ast.stmt], live: set[str]) -> tuple[list[ast.stmt], set[str]]:
    """Drop assignments whose names nobody reads later (the rules are pure functions)."""
    out: list[ast.stmt] = []
    live = set(live)
    for s in reversed(stmts):
        if isinstance(s, ast.Assign):
            targets = set(_store_names(s))
            if not targets & live:
                continue
            live = (live - targets) | _loads(s.value)
        elif isinstance(s, ast.AugAssign):
            assert isinstance(s.target, ast.Name)
            if s.target.id not in live:
                continue
            live = live | _loads(s.value)
        elif isinstance(s, ast.If):
            body, live_b = _dce(s.body, live)
            orelse, live_o = _dce(s.orelse, live)
            if not body and not orelse:
                continue
            if not body:
                s = ast.If(ast.UnaryOp(ast.Not(), s.test), orelse, [])
            else:
                s.body, s.orelse = body, orelse
            live = live_b | live_o | _loads(s.test)
        elif isinstance(s, ast.Raise):
            live = _loads(s)
        else:  # Try, Expr, anything else: keep it, and everything it reads
            live = live | _loads(s)
        out.append(s)
    out.reverse()
    return out, live


def _simplify(stmts: list[ast.stmt], live_out: set[str]) -> list[ast.stmt]:
    folder = _Folder(_is_var)
    for _ in range(8):
        stmts = [folder.visit(s) for s in stmts]
        stmts = _fold_ifs(stmts, _is_var)
        stmts = _split_tuple_assigns(stmts)
        stmts, changed = _propagate(stmts, _is_var)
        if not changed:
            break
    stmts, _ = _dce(stmts, live_out)
    return stmts


@dataclass(frozen=True)
class _Specialised:
    stmts: tuple[ast.stmt, ...]
    rets: tuple[ast.expr | None, ...]  # an expression for a needed result, or None


@lru_cache(maxsize=4096)
def _specialise(
    fn: Callable[..., Any],
    n_ret: int,
    tuple_ret: bool,
    consts: tuple[tuple[float, str] | None, ...],
    needed: tuple[bool, ...],
    extract: bool,
) -> _Specialised | None:
    """The rule with constant arguments substituted, simplified for the results in ``needed``.

    A needed result whose value is one unconditional assignment comes back as an expression
    (the caller adds it straight into a gradient); otherwise as the slot name ``__ret<k>``.
    """
    template = _template(fn, n_ret, tuple_ret)
    if template is None or template.n_params != len(consts):
        return None
    mapping: dict[str, str | ast.expr] = {
        f"__a{i}": const_ast(c[0]) for i, c in enumerate(consts) if c is not None
    }
    renamer = _Renamer(mapping)
    stmts = [renamer.visit(copy.deepcopy(s)) for s in template.body]
    slots = [f"__ret{k}" for k in range(n_ret)]
    stmts = _simplify(stmts, {slot for slot, need in zip(slots, needed, strict=True) if need})
    rets: list[ast.expr | None] = []
    for slot, need in zip(slots, needed, strict=True):
        if not need:
            rets.append(None)
            continue
        extracted = _extract(stmts, slot) if extract else None
        rets.append(extracted if extracted is not None else ast.Name(slot, ast.Load()))
    return _Specialised(tuple(stmts), tuple(rets))


def _extract(stmts: list[ast.stmt], slot: str) -> ast.expr | None:
    """If ``slot`` is assigned once, unconditionally, and nothing it reads changes afterwards,
    remove that assignment and return its value."""
    if _store_counts(stmts).get(slot) != 1:
        return None
    for i, s in enumerate(stmts):
        if (
            isinstance(s, ast.Assign)
            and len(s.targets) == 1
            and isinstance(s.targets[0], ast.Name)
            and s.targets[0].id == slot
        ):
            later = {n for t in stmts[i + 1 :] for n in _store_names(t)}
            if _loads(s.value) & later or slot in _loads(ast.Module(list(stmts), [])):
                return None
            del stmts[i]
            return s.value
    return None


def inline_rule(
    fn: Callable[..., Any],
    args: Sequence[ast.expr],
    n_ret: int,
    tuple_ret: bool,
    needed: Sequence[bool],
    prefix: str,
    slot_names: Sequence[str] | None = None,
) -> tuple[list[ast.stmt], list[ast.expr | None]] | None:
    """Statements computing ``fn(*args)`` inline, and an expression per needed result.

    ``args`` are variable names or constant expressions; ``prefix`` makes the rule's locals
    unique; ``slot_names`` names the results, which are then always assigned to (by default the
    slots are ``<prefix>r<k>`` and a result that is one unconditional expression is returned as
    that expression instead).  None if ``fn`` cannot be inlined.
    """
    consts: list[tuple[float, str] | None] = []
    for a in args:
        c = const_value(a, lambda name: name not in _CONST_NAMES)
        consts.append(None if c is None else (float(c), repr(float(c))))
    needs = tuple(bool(n) for n in needed)
    spec = _specialise(fn, n_ret, tuple_ret, tuple(consts), needs, slot_names is None)
    if spec is None:
        return None
    slots = slot_names if slot_names is not None else [f"{prefix}r{k}" for k in range(n_ret)]
    mapping: dict[str, str | ast.expr] = {}
    for i, a in enumerate(args):
        if consts[i] is None:
            mapping[f"__a{i}"] = a
    for k, slot in enumerate(slots):
        mapping[f"__ret{k}"] = slot

    def rename(name: str) -> str | ast.expr | None:
        if name.startswith("__l_"):
            return prefix + name[4:]
        return mapping.get(name)

    stmts = [_clone(t, rename) for t in spec.stmts]
    rets = [None if r is None else _clone(r, rename) for r in spec.rets]
    return stmts, rets


def _clone(node: Any, rename: Callable[[str], str | ast.expr | None]) -> Any:
    """A copy of an AST with names replaced: ``rename(name)`` gives a new name, an expression
    to put in its place (copied), or None to keep it.  (Measured: ~5x faster than
    ``copy.deepcopy`` followed by a NodeTransformer, which dominated the compile time.)"""
    if isinstance(node, list):
        return [_clone(item, rename) for item in node]
    if not isinstance(node, ast.AST):
        return node
    if isinstance(node, ast.Name):
        new = rename(node.id)
        if new is None:
            return ast.Name(node.id, node.ctx)
        if isinstance(new, str):
            return ast.Name(new, node.ctx)
        if not isinstance(node.ctx, ast.Load):
            raise CannotInlineError(f"assignment to parameter {node.id}")
        return _clone(new, lambda name: None)
    cls = type(node)
    copy_ = cls.__new__(cls)
    for field in node._fields:
        setattr(copy_, field, _clone(getattr(node, field, None), rename))
    if isinstance(node, ast.ExceptHandler) and isinstance(copy_, ast.ExceptHandler):
        new = None if node.name is None else rename(node.name)
        copy_.name = new if isinstance(new, str) else node.name
    for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
        if hasattr(node, attr):
            setattr(copy_, attr, getattr(node, attr))
    return copy_


# --- namespaces ----------------------------------------------------------------------------------


def scalar_namespace() -> dict[str, Any]:
    """Globals for generated float code: ``ops.py``'s globals (so inlined rules resolve their
    helpers exactly as in ``ops.py``) plus the constant names."""
    ns = dict(_OPS_GLOBALS)
    ns.update(_CONST_NAMES)
    ns["__builtins__"] = __builtins__
    return ns


_VECTOR_NS: dict[str, Any] | None = None


def vector_namespace() -> dict[str, Any]:
    """Globals for generated NumPy code (imports NumPy)."""
    global _VECTOR_NS
    if _VECTOR_NS is None:
        import numpy as np

        def _is_integer(x: Any) -> Any:
            """float.is_integer, element-wise: finite and equal to its floor."""
            return np.logical_and(np.isfinite(x), np.floor(x) == x)

        def _elementwise(fn: Callable[..., Any], n_ret: int, *args: Any) -> Any:
            """Run a float function row by row (the fallback for rules that do not vectorise)."""
            arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in args])
            shape = arrays[0].shape
            flat = [a.reshape(-1).tolist() for a in arrays]
            results = [fn(*row) for row in zip(*flat, strict=True)]
            if n_ret == 1 and not isinstance(results[0] if results else None, tuple):
                return np.array(results, dtype=np.float64).reshape(shape)
            cols = list(zip(*results, strict=True)) if results else [()] * n_ret
            return tuple(
                np.array([float(v) for v in col], dtype=np.float64).reshape(shape) for col in cols
            )

        def _lowered(fn: Callable[..., Any], *args: Any) -> Any:
            """An op's own ``numpy=`` lowering; a non-finite result from finite operands stops
            the batch (BatchFailureError), so the rows are redone in float code, which raises
            the op's domain error or confirms the inf/NaN: never a silently wrong result."""
            result = np.asarray(fn(*args), dtype=np.float64)
            if not np.all(np.isfinite(result)):
                finite = np.ones(result.shape, dtype=bool)
                for a in args:
                    finite = finite & np.isfinite(np.asarray(a, dtype=np.float64))
                if np.any(finite & ~np.isfinite(result)):
                    raise BatchFailureError
            return result

        def _exact(fn: Callable[..., float], ufunc: Any) -> Callable[..., Any]:
            """``ufunc`` (for its floating-point flags under ``numpy.errstate`` and its value
            where ``fn`` raises), then ``fn`` element by element: the very floats of the
            scalar code.  Measured: ~55 ns per element (tanh), ~30x numpy.tanh."""

            def exact(*args: Any) -> Any:
                fast = ufunc(*args)
                arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in args])
                cols = [a.reshape(-1).tolist() for a in arrays]
                try:
                    values = list(map(fn, *cols))
                except (ArithmeticError, ValueError):
                    values = np.array(fast, dtype=np.float64).reshape(-1).tolist()
                    for i, row in enumerate(zip(*cols, strict=True)):
                        # keep NumPy's inf or nan where Python raises
                        with contextlib.suppress(ArithmeticError, ValueError):
                            values[i] = fn(*row)
                return np.array(values, dtype=np.float64).reshape(arrays[0].shape)

            return exact

        ns = scalar_namespace()
        ns.update(_np=np, _is_integer=_is_integer, _elementwise=_elementwise, _lowered=_lowered)
        ns["_BatchFailureError"] = BatchFailureError
        for name in _MATH_TO_NUMPY:
            if name not in _EXACT_IN_NUMPY:
                ns[f"_exact_{name}"] = _exact(getattr(math, name), getattr(np, name))
        ns["_exact_pow"] = _exact(lambda x, y: x**y, np.power)
        for name, ufunc in NUMPY_HELPERS.items():
            ns[f"_vec_{name}"] = _exact(_OPS_GLOBALS[name], getattr(np, ufunc))
        _VECTOR_NS = ns
    return _VECTOR_NS


# --- vectorisation -------------------------------------------------------------------------------


def _call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(ast.Name(func, ast.Load()), list(args), [])


def _np_call(attr: str, *args: ast.expr) -> ast.Call:
    return ast.Call(ast.Attribute(ast.Name("_np", ast.Load()), attr, ast.Load()), list(args), [])


def _name(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


_TRY_ERRORS = {
    "OverflowError": ("over",),
    "ZeroDivisionError": ("divide",),
    "FloatingPointError": ("over", "divide", "invalid"),
    "ArithmeticError": ("over", "divide"),
    "ValueError": ("invalid",),
}


class Vectoriser:
    """Rewrites float statements into NumPy statements over arrays (one per variable).

    ``is_var(name)`` tells program variables from globals.  Each instance numbers the fresh
    names it makes, so one instance should vectorise a whole program.
    """

    def __init__(self, is_var: Callable[[str], bool]) -> None:
        self.is_var = is_var
        self.count = 0

    def fresh(self, base: str) -> str:
        self.count += 1
        return f"_w{self.count}_{base.lstrip('_')}"

    # statements
    def block(
        self,
        stmts: Sequence[ast.stmt],
        env: dict[str, str],
        mask: ast.expr | None,
        in_branch: bool,
    ) -> list[ast.stmt]:
        """Vectorise ``stmts``; ``env`` maps a variable to the name holding its current value
        (updated in place); ``mask`` selects the rows that reach these statements."""
        out: list[ast.stmt] = []
        for s in stmts:
            if isinstance(s, ast.Pass):
                continue
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
                continue
            if isinstance(s, ast.Assign):
                if len(s.targets) != 1:
                    raise CannotVectoriseError("chained assignment")
                value = self.expr(s.value, env)
                target = s.targets[0]
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                new_names: list[ast.expr] = []
                for t in names:
                    if not isinstance(t, ast.Name):
                        raise CannotVectoriseError("assignment target")
                    new = self.fresh(t.id) if in_branch else t.id
                    env[t.id] = new
                    new_names.append(ast.Name(new, ast.Store()))
                new_target: ast.expr = (
                    ast.Tuple(new_names, ast.Store())
                    if isinstance(target, ast.Tuple)
                    else new_names[0]
                )
                out.append(ast.Assign([new_target], value))
            elif isinstance(s, ast.AugAssign):
                if not isinstance(s.target, ast.Name):
                    raise CannotVectoriseError("augmented assignment target")
                old = env.get(s.target.id, s.target.id)
                # never in place: the array may be shared with another variable
                value = ast.BinOp(_name(old), s.op, self.expr(s.value, env))
                new = self.fresh(s.target.id) if in_branch else s.target.id
                env[s.target.id] = new
                out.append(ast.Assign([ast.Name(new, ast.Store())], value))
            elif isinstance(s, ast.If):
                out.extend(self._if(s, env, mask, in_branch))
            elif isinstance(s, ast.Raise):
                fail = ast.Raise(_call("_BatchFailureError"), None)
                if mask is None:
                    out.append(fail)
                else:
                    out.append(ast.If(_np_call("any", mask), [fail], []))
                return out  # the rest is unreachable
            elif isinstance(s, ast.Try):
                out.extend(self._try(s, env, mask, in_branch))
            else:
                raise CannotVectoriseError(f"statement {type(s).__name__}")
        return out

    def _if(
        self, s: ast.If, env: dict[str, str], mask: ast.expr | None, in_branch: bool
    ) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        cond = self.fresh("c")
        out.append(ast.Assign([ast.Name(cond, ast.Store())], self.expr(s.test, env)))
        raises_b = any(isinstance(n, ast.Raise) for b in s.body for n in ast.walk(b))
        raises_o = any(isinstance(n, ast.Raise) for b in s.orelse for n in ast.walk(b))
        mask_b: ast.expr = _name(cond)
        mask_o: ast.expr = _np_call("logical_not", _name(cond))
        if mask is not None:
            mask_b = _np_call("logical_and", mask, mask_b)
            mask_o = _np_call("logical_and", mask, mask_o)
        env_b, env_o = dict(env), dict(env)
        out.extend(self.block(s.body, env_b, mask_b if raises_b else None, True))
        out.extend(self.block(s.orelse, env_o, mask_o if raises_o else None, True))
        dead_b = _ends_in_raise(s.body)
        dead_o = _ends_in_raise(s.orelse)
        changed = [
            n
            for n in {**env_b, **env_o}
            if env_b.get(n) != env.get(n) or env_o.get(n) != env.get(n)
        ]
        for n in changed:
            b, o = env_b.get(n), env_o.get(n)
            if dead_b or b is None:
                value: ast.expr = _name(o if o is not None else env.get(n, n))
            elif dead_o or o is None:
                value = _name(b)
            else:
                value = _np_call("where", _name(cond), _name(b), _name(o))
            new = self.fresh(n) if in_branch else n
            env[n] = new
            out.append(ast.Assign([ast.Name(new, ast.Store())], value))
        return out

    def _try(
        self, s: ast.Try, env: dict[str, str], mask: ast.expr | None, in_branch: bool
    ) -> list[ast.stmt]:
        if mask is not None or in_branch or s.orelse or s.finalbody:
            raise CannotVectoriseError("try inside a branch")
        kinds: set[str] = set()
        for h in s.handlers:
            if not (isinstance(h.type, ast.Name) and h.type.id in _TRY_ERRORS):
                raise CannotVectoriseError("exception handler type")
            if not _ends_in_raise(h.body):
                raise CannotVectoriseError("handler that does not raise")
            kinds.update(_TRY_ERRORS[h.type.id])
        body = self.block(s.body, env, None, False)
        keywords = [ast.keyword(k, ast.Constant("raise")) for k in sorted(kinds)]
        errstate = ast.Call(ast.Attribute(_name("_np"), "errstate", ast.Load()), [], keywords)
        return [ast.With([ast.withitem(errstate, None)], body)]

    # expressions
    def expr(self, e: ast.expr, env: dict[str, str]) -> ast.expr:
        return _VectorExpr(self, env).visit(copy.deepcopy(e))  # type: ignore[no-any-return]


def _ends_in_raise(stmts: Sequence[ast.stmt]) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, ast.Raise):
        return True
    if isinstance(last, ast.If):
        return _ends_in_raise(last.body) and _ends_in_raise(last.orelse)
    return False


class _VectorExpr(ast.NodeTransformer):
    def __init__(self, owner: Vectoriser, env: dict[str, str]) -> None:
        self.owner = owner
        self.env = env

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.env:
            return _name(self.env[node.id])
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        if isinstance(node.value, ast.Name) and node.value.id == "math":
            if node.attr in _EXACT_IN_NUMPY:
                return ast.Attribute(_name("_np"), node.attr, ast.Load())
            if node.attr in _MATH_TO_NUMPY:
                return _name(f"_exact_{node.attr}")
            raise CannotVectoriseError(f"math.{node.attr}")
        raise CannotVectoriseError("attribute access")

    def visit_Call(self, node: ast.Call) -> ast.expr:
        if node.keywords:
            raise CannotVectoriseError("keyword arguments")
        f = node.func
        args: list[ast.expr] = [self.visit(a) for a in node.args]
        if isinstance(f, ast.Name):
            if f.id == "float" and len(args) == 1:
                return args[0]
            if f.id in self.env or self.owner.is_var(f.id):
                return ast.Call(self.visit(f), args, [])  # a function passed as an argument
            target = _OPS_GLOBALS.get(f.id)
            if inspect.isfunction(target) and target.__globals__ is _OPS_GLOBALS:
                return _call(vector_function(f.id), *args)
            raise CannotVectoriseError(f"call of {f.id}")
        if isinstance(f, ast.Attribute):
            if f.attr == "is_integer" and not args:
                return _call("_is_integer", self.visit(f.value))
            if isinstance(f.value, ast.Name) and f.value.id == "math":
                return ast.Call(self.visit(f), args, [])
        raise CannotVectoriseError("call")

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Pow):
            return _call("_exact_pow", left, right)
        return ast.BinOp(left, node.op, right)

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        return _np_call(
            "where", self.visit(node.test), self.visit(node.body), self.visit(node.orelse)
        )

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        fn = "logical_and" if isinstance(node.op, ast.And) else "logical_or"
        values: list[ast.expr] = [self.visit(v) for v in node.values]
        result = values[0]
        for v in values[1:]:
            result = _np_call(fn, result, v)
        return result

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return _np_call("logical_not", operand)
        return ast.UnaryOp(node.op, operand)

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        left = self.visit(node.left)
        parts: list[ast.expr] = []
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn)):
                raise CannotVectoriseError("identity or membership test")
            r = self.visit(right)
            parts.append(ast.Compare(left, [op], [r]))
            left = r
        result = parts[0]
        for p in parts[1:]:
            result = _np_call("logical_and", result, p)
        return result

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.expr:
        raise CannotVectoriseError("f-string")

    def visit_Lambda(self, node: ast.Lambda) -> ast.expr:
        raise CannotVectoriseError("lambda")


def vector_function(name: str) -> str:
    """The name, in :func:`vector_namespace`, of the NumPy version of ``ops.<name>``, made on
    first use by vectorising its body (or taken from :data:`NUMPY_HELPERS`)."""
    ns = vector_namespace()
    vec_name = f"_vec_{name}"
    if vec_name in ns:
        return vec_name
    fn = _OPS_GLOBALS[name]
    template = _template(fn, 1, False)
    if template is None:
        raise CannotVectoriseError(f"ops.{name} cannot be inlined")
    stmts = _simplify([copy.deepcopy(s) for s in template.body], {"__ret0"})
    body = Vectoriser(_is_var).block(stmts, {}, None, False)
    params = [ast.arg(f"__a{i}") for i in range(template.n_params)]
    fdef = ast.FunctionDef(
        name=vec_name,
        args=ast.arguments([], params, None, [], [], None, []),
        body=[*body, ast.Return(_name("__ret0"))],
        decorator_list=[],
        returns=None,
        type_comment=None,
    )
    module = ast.fix_missing_locations(ast.Module([fdef], []))
    code = compile(module, f"<autograd_mini vectorised ops.{name}>", "exec")
    exec(code, ns)  # safe: source generated from ops.py only
    return vec_name
