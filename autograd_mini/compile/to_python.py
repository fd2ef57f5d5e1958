"""The Python lowering: a traced program → straight-line Python source, compiled once.

One assignment per equation for the forward pass, each op's ``forward`` rule from
:mod:`autograd_mini.ops` *inlined* (its AST, variables substituted, constants folded; see
:mod:`autograd_mini.codegen`), then the backward half of the gradient program
(:mod:`.autodiff`): each vjp equation's rule inlined, accumulations as additions.  The same
statements vectorise to NumPy for ``batch(method="nodes")``.  Only generated names, ops.py's
rules and float literals reach the source.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

from autograd_mini import codegen
from autograd_mini.compile.program import Atom, Program
from autograd_mini.compile.record import Graph
from autograd_mini.ops import Op

__all__ = ["compile_python"]


def _operand(g: Graph, i: int | float) -> ast.expr:
    """The expression for node ``i`` (its variable, or a literal for a constant)."""
    a = g.atom(i)
    return ast.Name(a, ast.Load()) if isinstance(a, str) else codegen.const_ast(a)


# --- code generation -----------------------------------------------------------------------------


def _is_const(e: ast.expr) -> bool:
    return codegen.const_value(e, _is_program_var) is not None


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(name, ast.Store())], value)


def _unpack(names: Sequence[str], source: str) -> list[ast.stmt]:
    if not names:
        return []
    target = ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())
    return [ast.Assign([target], ast.Name(source, ast.Load()))]


_PROGRAM_VAR = re.compile(r"[vgsG]\d+|_[bfwq]\d+_\w*")


def _is_program_var(name: str) -> bool:
    """Names the generated code gives its variables (never ops.py's globals)."""
    return _PROGRAM_VAR.fullmatch(name) is not None


def _seeds(n_outputs: int, seeded: bool) -> tuple[list[str], list[ast.expr]]:
    """The names ``s0, s1, …`` the program unpacks the output seeds ``ss`` into, and the
    seed expressions; unseeded: no names, and every seed is 1.0."""
    names = [f"s{k}" for k in range(n_outputs)] if seeded else []
    seeds: list[ast.expr] = (
        [ast.Name(s, ast.Load()) for s in names] if seeded else [ast.Constant(1.0)] * n_outputs
    )
    return names, seeds


_COMPARE: dict[str, type[ast.cmpop]] = {
    "<": ast.Lt,
    "<=": ast.LtE,
    ">": ast.Gt,
    ">=": ast.GtE,
    "==": ast.Eq,
    "!=": ast.NotEq,
}


def _guard_broken(lhs: ast.expr, symbol: str, rhs: ast.expr, outcome: bool) -> ast.expr:
    """The test that is true when ``lhs symbol rhs`` no longer has its recorded ``outcome``."""
    test: ast.expr = ast.Compare(lhs, [_COMPARE[symbol]()], [rhs])
    return ast.UnaryOp(ast.Not(), test) if outcome else test


class _Emitter:
    """Statement emission both builders share: ``body`` collects the program's statements,
    ``extras`` the objects they name (rules not inlined, index lists); with a ``vec``
    (NumPy form) float statements are vectorised as they are emitted."""

    def __init__(self, vec: codegen.Vectoriser | None) -> None:
        self.vec = vec
        self.body: list[ast.stmt] = []
        self.extras: dict[str, Any] = {}

    # lowering: float statements as they are, or vectorised
    def emit(self, stmts: list[ast.stmt]) -> None:
        if self.vec is None:
            self.body.extend(stmts)
        else:
            self.body.extend(self.vec.block(stmts, {}, None, False))

    def call(self, fn: Callable[..., Any], key: str, n_ret: int, args: list[ast.expr]) -> ast.expr:
        """A call of ``fn`` (element-wise in NumPy form): the fallback for rules not inlined."""
        self.extras[key] = fn
        if self.vec is None:
            return ast.Call(ast.Name(key, ast.Load()), args, [])
        extra = [ast.Name(key, ast.Load()), ast.Constant(n_ret)]
        return ast.Call(ast.Name("_elementwise", ast.Load()), [*extra, *args], [])

    def emit_forward(self, op: Op, args: list[ast.expr], out: str, prefix: str, key: str) -> None:
        """Emit ``out = op.forward(*args)``: the rule inlined (locals named ``prefix…``), else a
        call of it (named ``key``)."""
        forward = op.forward
        inlined = None
        if op.user:  # called as eager calls it: its errors name the op, its result is checked
            forward = _checked_forward(op)
        else:
            inlined = codegen.inline_rule(op.forward, args, 1, False, [True], prefix, [out])
        try:
            if inlined is None:
                raise codegen.CannotVectoriseError("not inlined")
            self.emit(inlined[0])
        except codegen.CannotVectoriseError:
            if self.vec is not None and op.numpy is not None:  # the op's own NumPy lowering
                self.extras[key] = op.numpy
                call = ast.Call(
                    ast.Name("_lowered", ast.Load()), [ast.Name(key, ast.Load()), *args], []
                )
                self.body.append(_assign(out, call))
                return
            self.body.append(_assign(out, self.call(forward, key, 1, args)))

    def emit_vjp(
        self, op: Op, args: list[ast.expr], needed: list[bool], prefix: str, slot: str, key: str
    ) -> list[ast.expr | None]:
        """Emit ``op.vjp(*args)`` (args: g, out, inputs): the rule inlined, else a call of it
        (named ``key``) unpacked into ``slot0, slot1, …``; returns the expression of each
        input's gradient (None where not ``needed``)."""
        n = len(needed)
        inlined = codegen.inline_rule(op.vjp, args, n, True, needed, prefix)
        rets: list[ast.expr | None]
        try:
            if inlined is None:
                raise codegen.CannotVectoriseError("not inlined")
            stmts, rets = inlined
            if self.vec is not None:
                lowered = self.vec.block(stmts, {}, None, False)
                rets = [None if r is None else self.vec.expr(r, {}) for r in rets]
                self.body.extend(lowered)
            else:
                self.body.extend(stmts)
        except codegen.CannotVectoriseError:
            slots = [f"{slot}{k}" for k in range(n)]
            target = ast.Tuple([ast.Name(s, ast.Store()) for s in slots], ast.Store())
            self.body.append(ast.Assign([target], self.call(op.vjp, key, n, args)))
            rets = [ast.Name(s, ast.Load()) for s in slots]
        return rets


class _Builder(_Emitter):
    """Builds one program (forward, optionally backward) over a graph, in float or NumPy form."""

    def __init__(self, graph: Graph, vector: bool) -> None:
        super().__init__(codegen.Vectoriser(_is_program_var) if vector else None)
        self.graph = graph
        self.vector = vector

    def forward(self) -> None:
        g = self.graph
        guards_at: dict[int, list[int]] = {}
        for k, (a, _, b, _) in enumerate(g.guards):
            last = max(i for i in (a, b) if isinstance(i, int) and g.dynamic[i])
            guards_at.setdefault(last, []).append(k)
        leaves = g.n_inputs + g.n_params
        for i in range(len(g.nodes)):
            node = g.nodes[i]
            if i >= leaves and g.dynamic[i]:
                op = node._op
                assert op is not None
                args = [_operand(g, g.index[p]) for p in node.parents]
                self.emit_forward(op, args, f"v{i}", f"_f{i}_", f"_fwd{i}")
            for k in guards_at.get(i, ()):
                self.emit([self.guard(k)])

    def guard(self, k: int) -> ast.stmt:
        a, symbol, b, outcome = self.graph.guards[k]
        lhs, rhs = _operand(self.graph, a), _operand(self.graph, b)
        error = ast.Call(ast.Name("_guard_error", ast.Load()), [ast.Constant(k), lhs, rhs], [])
        return ast.If(_guard_broken(lhs, symbol, rhs, outcome), [ast.Raise(error, None)], [])

    def backward(self, gp: Program, n_forward: int) -> list[ast.expr]:
        """Emit the backward half of the gradient program ``gp`` (its equations after the
        ``n_forward`` forward ones: vjp equations inlined, accumulations as additions); returns
        the expression of each gradient.

        The program's final ``g = add 0.0 g`` (eager's sign of zero) is left to the caller,
        which adds 0.0 to the returned gradients (:func:`_plus_zero`), so that the source keeps
        one line per node; a running sum that starts at 0.0 needs nothing."""
        env: dict[str, ast.expr] = {}

        def read(a: Atom) -> ast.expr:
            if not isinstance(a, str):
                return codegen.const_ast(a)
            return env.get(a) or ast.Name(a, ast.Load())

        for eqn in gp.eqns[n_forward:]:
            if eqn.vjp:
                i = eqn.ins[1]
                assert isinstance(i, str)
                k = i[1:]
                needed = [o is not None for o in eqn.outs]
                args = [read(a) for a in eqn.ins]
                rets = self.emit_vjp(eqn.op, args, needed, f"_b{k}_", f"_b{k}_r", f"_vjp{k}")
                for name, r in zip(eqn.outs, rets, strict=True):
                    if name is None:
                        continue
                    e = r if r is not None else ast.Constant(0.0)
                    if name[0] == "d" or isinstance(e, ast.Name) or _is_const(e):
                        env[name] = e  # used once, or an alias: no copy
                    else:
                        self.body.append(_assign(name, e))
                        env[name] = ast.Name(name, ast.Load())
                continue
            (name,) = eqn.outs
            assert name is not None
            left, right = eqn.ins
            if isinstance(left, float):  # the final 0.0 + g
                e = read(right)
                c = codegen.const_value(e, _is_program_var)
                if c is not None:
                    env[name] = codegen.const_ast(0.0 + float(c))
                continue  # else the caller's (see the docstring)
            e = read(right)
            c = codegen.const_value(e, _is_program_var)
            if c is not None and c == 0.0 and math.copysign(1.0, c) > 0:
                env[name] = read(left)  # adding +0.0
                continue
            self.body.append(_assign(name, ast.BinOp(read(left), ast.Add(), e)))
            env[name] = ast.Name(name, ast.Load())
        return [read(g) for g in gp.grads]


def _function(name: str, params: Sequence[str], body: list[ast.stmt]) -> ast.Module:
    # the name is unparsed into source as is: only our own identifiers may reach it
    if not name.isidentifier() or not all(p.isidentifier() for p in params):
        raise ValueError(f"generated function name {name!r} is not an identifier")
    args = ast.arguments([], [ast.arg(p) for p in params], None, [], [], None, [])
    fdef = ast.FunctionDef(name, args, body or [ast.Pass()], [], None, None)
    _number_statements([fdef])
    return ast.Module([fdef], [])  # unparsed to source, then compiled


def _number_statements(stmts: list[ast.stmt]) -> None:
    """Give every statement a line number (ast.unparse reads it; expressions need none, which
    saves the whole-tree ast.fix_missing_locations)."""
    for st in stmts:
        st.lineno = 1
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(st, field, None)
            if inner:
                for h in inner:
                    h.lineno = 1
                _number_statements([h for h in inner if isinstance(h, ast.stmt)])
                for h in inner:
                    if isinstance(h, ast.ExceptHandler):
                        _number_statements(h.body)


def _list(exprs: Sequence[ast.expr]) -> ast.List:
    return ast.List(list(exprs), ast.Load())


def compile_python(
    g: Graph,
    kind: str,
    wrt: str,
    gp: Program | None,
    n_forward: int,
    single: bool,
    guard_error: Callable[..., Exception],
) -> tuple[Callable[..., Any], str]:
    """Lower a traced program to a Python function ``traced_<kind>(xs, ps, ss)`` and its
    source: ``forward`` (the value), ``grad`` (value and gradients by ``wrt``, from the
    gradient program ``gp`` whose first ``n_forward`` equations are the forward ones), ``sum``
    (a loop over rows summing the gradients) or ``batch_nodes`` (one NumPy statement per
    node).  ``guard_error(k, a, b)`` makes the exception a broken guard k raises."""
    seeded = gp is not None and bool(gp.seeds)
    vector = kind == "batch_nodes"
    b = _Builder(g, vector)
    ni, npar = g.n_inputs, g.n_params
    input_names = [f"v{i}" for i in range(ni)]
    param_names = [f"v{ni + j}" for j in range(npar)]
    seed_names, _ = _seeds(len(g.outputs), seeded)
    b.forward()
    values = [_operand(g, o) for o in g.outputs]
    value: ast.expr = values[0] if single else _list(values)
    grads: list[ast.expr] = []
    if kind != "forward":
        assert gp is not None
        grads = b.backward(gp, n_forward)
    prologue = [*_unpack(param_names, "ps"), *_unpack(seed_names, "ss")]
    if kind == "forward":
        body = [*_unpack(input_names, "xs"), *b.body, ast.Return(value)]
    elif kind == "grad":
        body = [
            *_unpack(input_names, "xs"),
            *b.body,
            ast.Return(ast.Tuple([value, _list(grads)], ast.Load())),
        ]
    elif kind == "sum":
        totals = [f"G{j}" for j in range(len(grads))]
        init = [_assign(t, ast.Constant(0.0)) for t in totals]
        init.append(_assign("_values", _list([])))
        append = ast.Attribute(ast.Name("_values", ast.Load()), "append", ast.Load())
        loop_body = [
            *b.body,
            ast.Expr(ast.Call(append, [value], [])),
            *[
                ast.AugAssign(ast.Name(t, ast.Store()), ast.Add(), e)
                for t, e in zip(totals, grads, strict=True)
            ],
        ]
        target: ast.expr = ast.Tuple([ast.Name(n, ast.Store()) for n in input_names], ast.Store())
        if not input_names:
            target = ast.Name("_row", ast.Store())
        loop = ast.For(target, ast.Name("xs", ast.Load()), loop_body, [], None)
        result = ast.Tuple(
            [ast.Name("_values", ast.Load()), _list([ast.Name(t, ast.Load()) for t in totals])],
            ast.Load(),
        )
        body = [*init, loop, ast.Return(result)]
    else:  # batch_nodes
        gin = grads[:ni] if wrt != "params" else []
        gpar = grads[-npar:] if (wrt != "inputs" and npar) else []
        body = [
            *_unpack(input_names, "xs"),
            *b.body,
            ast.Return(
                ast.Tuple(
                    [
                        ast.Tuple(values, ast.Load()),
                        ast.Tuple(gin, ast.Load()),
                        ast.Tuple(gpar, ast.Load()),
                    ],
                    ast.Load(),
                )
            ),
        ]
    module = _function(f"traced_{kind}", ["xs", "ps", "ss"], [*prologue, *body])
    source = ast.unparse(module)
    ns = codegen.vector_namespace() if vector else codegen.scalar_namespace()
    ns = dict(ns)
    ns.update(b.extras)
    ns["_guard_error"] = guard_error
    code = compile(source, f"<traced {kind}>", "exec")
    exec(code, ns)  # safe: source generated from ops.py and float literals only
    return ns[f"traced_{kind}"], source


def _checked_forward(op: Op) -> Callable[..., float]:
    """A user op's forward as eager runs it (``engine._forward``): an exception becomes the
    op's error naming it and its inputs, a result that is not a real number a TypeError."""
    from autograd_mini.engine import _forward

    def forward(*xs: float) -> float:
        return _forward(op, xs)

    forward.__name__ = forward.__qualname__ = op.name
    return forward
