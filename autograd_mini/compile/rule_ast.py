"""Rule ASTs for the code generator: the constants, the errors, literals, and the parsed and
checked *templates* of :mod:`autograd_mini.ops` functions (see :mod:`autograd_mini.codegen`).
"""

from __future__ import annotations

import ast
import copy
import inspect
import math
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from autograd_mini import ops as _ops

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
