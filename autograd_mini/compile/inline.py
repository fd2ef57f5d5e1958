"""Inlining a rule: a template specialised to its constant arguments, simplified (exact
constant folding, copy propagation, dead code) and renamed into the caller's variables (see
:mod:`autograd_mini.codegen`).
"""

from __future__ import annotations

import ast
import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from autograd_mini.compile.rule_ast import (
    _CONST_NAMES,
    _PURE_MATH,
    CannotInlineError,
    _is_var,
    _loads,
    _Renamer,
    _store_names,
    _template,
    const_ast,
    const_value,
)


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
