"""The Python backend: a :class:`~autograd_mini.program.Program` as Python source, compiled once.

Each primitive is written from its table entry: its ``py`` template (``{0} + {1}``,
``math.tanh({0})``) with the fewest parentheses Python's precedence needs, else a call of its
float function bound under a generated name.  A ``select`` (the vocabulary's
:func:`~autograd_mini.registry.where`) becomes Python's own lazy branch: ``a if c else b``, or
an ``if``/``else`` block when a side needs statements, with each side's equations computed only
inside it — so a rule like ``where(out == 0.0, …, g / (2.0 * out))`` never divides by zero.
Equations used once are written inside the expression that uses them; the others get a line.

Three modes.  ``"float"``: floats in and out, the fast path of eager backward; any arithmetic
exception (``1.0 / 0.0`` raises in Python where IEEE gives inf) falls back to a given function.
``"generic"``: operators and primitive calls that dispatch on the operand type, so the same
code runs on floats, on :class:`~autograd_mini.engine.Value` (recording, for
``create_graph``) or on a mix, with IEEE results inside rules (``prim.in_rule``).
``"exact"``: floats, each equation as eager computes it: a forward equation by the primitive's
checked ``forward`` (eager's exceptions), a rule's (``Eqn.ieee``) by its ``ieee`` version —
the fallback of a traced program's float code.

Generated source contains only names made here (``g``, ``x``, ``t3``, ``_tanh``, ``_op2``) and
float literals (``INF``/``NAN`` for the non-finite ones): never a label or any user text.

The writer knows its language only through a :class:`Syntax`: :data:`PYTHON` here, JavaScript
in :mod:`autograd_mini.compile.to_js` (``c ? a : b``, ``if (c) {…} else {…}``, ``let``,
``Infinity``/``NaN`` and its own table of primitives).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autograd_mini.program import Atom, Eqn, Program

__all__ = [
    "PYTHON",
    "Syntax",
    "compile_function",
    "function_source",
    "keep_outputs",
    "literal",
    "source",
    "write",
]

# primitives written as Python operators in generic code (Values implement them, never raising)
_OPERATORS = frozenset(("add", "sub", "mul", "neg", "lt", "le", "gt", "ge", "eq", "ne"))
_TAKEN = frozenset(("_f", "_fallback"))  # names the generated functions bind themselves
_ATOM = 100  # precedence of a name, a literal or a call
_COND = 0  # of ``a if c else b``
_ERRORS = "(ZeroDivisionError, OverflowError, ValueError)"
_NEST = 12  # deepest expression of single-use equations written inline


@dataclass(frozen=True)
class Syntax:
    """How one language writes what the writer emits.  ``entry(prim, mode)``: the primitive's
    template and its precedence (``("{0} + {1}", 10)``; None: call the primitive's function,
    Python only); ``select`` formats condition, then and else; ``let`` defines a variable,
    ``assign`` sets one declared by ``declare`` before an ``opening``/``middle``/``closing``
    branch; ``inf``/``nan`` name the non-finite floats."""

    entry: Callable[[Any, str], tuple[str, int] | None]
    select: str = "{1} if {0} else {2}"
    let: str = "{0} = {1}"
    assign: str = "{0} = {1}"
    declare: str = ""
    opening: str = "if {0}:"
    middle: str = "else:"
    closing: str = ""
    inf: str = "INF"
    nan: str = "NAN"


PYTHON = Syntax(lambda prim, mode: prim.py if mode == "float" or prim.name in _OPERATORS else None)


def literal(x: float, syntax: Syntax = PYTHON) -> tuple[str, int]:
    """A float as source and its precedence: ``2.0``, ``-0.5`` (a unary minus), ``INF``."""
    if math.isnan(x):
        return syntax.nan, _ATOM
    if math.isinf(x):
        return (syntax.inf, _ATOM) if x > 0 else ("-" + syntax.inf, 30)
    text = repr(float(x))
    return text, (30 if text.startswith("-") else _ATOM)


def keep_outputs(program: Program, needs: Sequence[bool]) -> Program:
    """``program`` computing only the outputs ``needs`` marks, without the equations that only
    the others used."""
    outputs = tuple(a for a, want in zip(program.outputs, needs, strict=True) if want)
    return Program(program.inputs, _live(program.eqns, outputs), outputs)


def _live(eqns: Sequence[Eqn], outputs: Sequence[Atom]) -> tuple[Eqn, ...]:
    used = {a for a in outputs if isinstance(a, str)}
    kept: list[Eqn] = []
    for eqn in reversed(eqns):
        if eqn.out in used:
            kept.append(eqn)
            used.update(a for a in eqn.ins if isinstance(a, str))
    return tuple(reversed(kept))


class _Writer:
    """Writes one program as the body of a function, lazily around selects.

    ``line(var)``: the variable gets a line of its own even when used once (a traced program's
    forward values and gradients, for readability); ``after[var]``: lines written right after
    ``var`` is computed (a trace's guards).  Expressions nest at most :data:`_NEST` equations
    deep, so a long chain of single-use equations becomes several lines, not one expression
    too deep for the parser."""

    def __init__(
        self,
        program: Program,
        mode: str,
        namespace: dict[str, Any],
        line: Callable[[str], bool] | None = None,
        after: dict[str, list[str]] | None = None,
        targets: Sequence[Atom] | None = None,
        syntax: Syntax = PYTHON,
    ) -> None:
        self.syntax = syntax
        self.eqns = program.eqns
        self.defs = {e.out: e for e in program.eqns}
        self.pos = {e.out: i for i, e in enumerate(program.eqns)}
        self.uses: Counter[str] = Counter(
            a for e in program.eqns for a in e.ins if isinstance(a, str)
        )
        outs = program.outputs if targets is None else targets
        self.uses.update(a for a in outs if isinstance(a, str))
        self.mode = mode
        self.namespace = namespace
        self.names: dict[tuple[int, bool], str] = {}
        self.after = after or {}
        # variables written on a line of their own whatever their uses: asked for, or where an
        # expression of single-use equations would nest deeper than _NEST
        self.lined: set[str] = set(self.after)
        nest: dict[str, int] = {}
        for e in program.eqns:
            if line is not None and line(e.out):
                self.lined.add(e.out)
                continue
            d = 1 + max((nest.get(a, 0) for a in e.ins if isinstance(a, str)), default=0)
            nest[e.out] = 0 if d > _NEST else d
            if d > _NEST:
                self.lined.add(e.out)

    def bind(self, prim: Any, ieee: bool = False) -> str:
        """The name the code calls ``prim`` by: its float ``forward``; in exact code ``ieee``
        for a rule's equation; in generic code its rule-time dispatcher."""
        ieee = ieee and self.mode == "exact"
        name = self.names.get((id(prim), ieee))
        if name is None:
            name = f"_{prim.name}" + ("_ieee" if ieee else "")
            # a built-in's own name, for readable code; any other (a user's op, a name that is
            # not a plain identifier, or one already taken) a number: no user text in source
            if prim.user or not name.isidentifier() or name in self.namespace or name in _TAKEN:
                name = f"_op{len(self.names)}"
            self.names[(id(prim), ieee)] = name
            fn = prim.in_rule if self.mode == "generic" else (prim.ieee if ieee else prim.forward)
            self.namespace[name] = fn
        return name

    # --- which equations get a line of their own ---
    def _inlined(self, var: str, avail: set[str]) -> bool:
        eqn = self.defs[var]
        if self.uses[var] != 1 or var in self.lined:
            return False
        if eqn.prim.name != "select":
            return True
        # a select used once is an expression when neither side needs a line of its own
        return all(not self._block_lines(side, avail) for side in eqn.ins[1:])

    def _closure(self, targets: Sequence[Atom], avail: set[str]) -> list[str]:
        """The variables a block computes for ``targets``, in program order: their equations
        and their inputs', except the sides of a select, which its own blocks compute."""
        need: set[str] = set()
        stack = [a for a in targets if isinstance(a, str)]
        while stack:
            v = stack.pop()
            if v in need or v in avail or v not in self.defs:
                continue
            need.add(v)
            eqn = self.defs[v]
            ins = eqn.ins[:1] if eqn.prim.name == "select" else eqn.ins
            stack.extend(a for a in ins if isinstance(a, str))
        return sorted(need, key=self.pos.__getitem__)

    def _block_lines(self, target: Atom, avail: set[str]) -> list[str]:
        lines: list[str] = []
        self.scoped([target], avail, lines, 0)
        return lines

    def scoped(
        self, targets: Sequence[Atom], avail: set[str], lines: list[str], depth: int
    ) -> list[str]:
        """:meth:`block`, leaving ``avail`` as it was (the variables of a select's side exist
        only inside it)."""
        before = len(avail)
        added: list[str] = []
        texts = self.block(targets, avail, lines, depth, added)
        avail.difference_update(added)
        assert len(avail) == before
        return texts

    def block(
        self,
        targets: Sequence[Atom],
        avail: set[str],
        lines: list[str],
        depth: int,
        added: list[str] | None = None,
    ) -> list[str]:
        """Append the lines computing ``targets`` (indented ``depth`` levels) and return the
        targets' expressions.  ``avail``: variables already computed (updated; the new ones are
        also appended to ``added``)."""
        pad = "    " * depth
        for v in self._closure(targets, avail):
            if v in avail or self._inlined(v, avail):
                continue
            eqn = self.defs[v]
            sx = self.syntax
            if eqn.prim.name == "select" and any(self._block_lines(x, avail) for x in eqn.ins[1:]):
                c, a, b = eqn.ins
                test = self.expr(c, avail)[0]
                lines += [pad + sx.declare.format(v)] if sx.declare else []
                lines.append(pad + sx.opening.format(test))
                for side, head in ((a, None), (b, pad + sx.middle)):
                    if head:
                        lines.append(head)
                    (text,) = self.scoped([side], avail, lines, depth + 1)
                    lines.append(f"{pad}    {sx.assign.format(v, text)}")
                lines += [pad + sx.closing] if sx.closing else []
            else:
                lines.append(pad + sx.let.format(v, self.render(eqn, avail)[0]))
            avail.add(v)
            if added is not None:
                added.append(v)
            lines.extend(pad + text for text in self.after.get(v, ()))
        return [self.expr(t, avail)[0] for t in targets]

    # --- expressions ---
    def expr(self, atom: Atom, avail: set[str]) -> tuple[str, int]:
        if not isinstance(atom, str):
            return literal(atom, self.syntax)
        if atom in avail or atom not in self.defs:
            return atom, _ATOM
        return self.render(self.defs[atom], avail)

    def render(self, eqn: Eqn, avail: set[str]) -> tuple[str, int]:
        prim = eqn.prim
        if prim.name == "select":
            c, a, b = (self.expr(x, avail) for x in eqn.ins)
            sides = _wrap(c, _COND + 1), _wrap(a, _COND + 1), _wrap(b, _COND)
            return self.syntax.select.format(*sides), _COND
        args = [self.expr(a, avail) for a in eqn.ins]
        template = self.syntax.entry(prim, self.mode)
        if template is None:
            return f"{self.bind(prim, eqn.ieee)}({', '.join(t for t, _ in args)})", _ATOM
        text, prec = template
        if prec == _ATOM:  # a call: its arguments need no parentheses
            return text.format(*(t for t, _ in args)), _ATOM
        parts = [
            _wrap(arg, prec if text.startswith(f"{{{i}}}") else prec + 1)
            for i, arg in enumerate(args)
        ]
        return text.format(*parts), prec


def _wrap(expr: tuple[str, int], at_least: int) -> str:
    text, prec = expr
    return text if prec >= at_least else f"({text})"


def source(
    program: Program,
    name: str,
    mode: str,
    namespace: dict[str, Any],
    *,
    single: bool = False,
    expand: Sequence[bool] | None = None,
    fallback: bool = False,
) -> str:
    """``def name(<inputs>): …`` computing ``program``'s outputs, as source; the names it uses
    are added to ``namespace``.  ``single``: return the one output itself, not a tuple.
    ``expand``: return a tuple with None where ``expand`` is False (the outputs fill the True
    places).  ``fallback``: wrap the body so that an arithmetic exception returns
    ``_fallback(<inputs>)``."""
    writer = _Writer(program, mode, namespace)
    lines: list[str] = []
    depth = 2 if fallback else 1
    texts = writer.block(program.outputs, set(program.inputs), lines, depth)
    if single:
        result = texts[0]
    else:
        it = iter(texts)
        items = [next(it) if want else "None" for want in expand] if expand else texts
        result = f"({', '.join(items)}{',' if len(items) == 1 else ''})"
    pad = "    " * depth
    body = [*lines, f"{pad}return {result}"]
    params = ", ".join(program.inputs)
    if fallback:
        body = ["    try:", *body, f"    except {_ERRORS}:", f"        return _fallback({params})"]
    return "\n".join([f"def {name}({params}):", *body]) + "\n"


def write(
    program: Program,
    mode: str,
    namespace: dict[str, Any],
    targets: Sequence[Atom],
    avail: set[str],
    depth: int,
    *,
    line: Callable[[str], bool] | None = None,
    after: dict[str, list[str]] | None = None,
    syntax: Syntax = PYTHON,
) -> tuple[list[str], list[str]]:
    """The lines (indented ``depth`` levels) computing ``targets`` from the variables in
    ``avail``, and the targets' expressions (see :class:`_Writer` for ``line`` and ``after``);
    for a caller assembling its own function around them, in ``syntax``'s language."""
    writer = _Writer(program, mode, namespace, line, after, targets, syntax)
    lines: list[str] = []
    texts = writer.block(targets, set(avail), lines, depth)
    return lines, texts


def function_source(
    p: Program,
    name: str,
    mode: str,
    namespace: dict[str, Any],
    *,
    grads: Sequence[Atom] | None,
    rows: bool = False,
    single: bool = False,
    line: Callable[[str], bool] | None = None,
) -> str:
    """``def name(xs, ps, ss)``: a traced program as a function of its inputs, parameters and
    seeds (three sequences, unpacked into ``p``'s names), returning its value (one, or a list
    when not ``single``) or, with ``grads``, ``(value, [grads])``.  Each guard is checked right
    after its last operand is computed: ``raise _guard(k, lhs, rhs)`` when it does not hold.
    ``rows``: ``xs`` is a sequence of rows; returns ``(values, [Σ grads])``, the sums in
    local variables."""
    depth = 2 if rows else 1
    pad = "    " * depth
    after: dict[str, list[str]] = {}
    first: list[str] = []
    where = {e.out: i for i, e in enumerate(p.eqns)}
    for k, g in enumerate(p.guards):
        lhs, rhs = (literal(a)[0] if not isinstance(a, str) else a for a in (g.lhs, g.rhs))
        check = [
            f"if {'not ' if g.outcome else ''}({lhs} {g.symbol} {rhs}):",
            f"    raise _guard({k}, {lhs}, {rhs})",
        ]
        last = max((a for a in (g.lhs, g.rhs) if a in where), key=where.get, default=None)  # type: ignore[arg-type]
        (after.setdefault(last, []) if isinstance(last, str) else first).extend(check)
    guarded = [a for g in p.guards for a in (g.lhs, g.rhs) if a in where]
    targets = [*p.outputs, *(grads or ()), *guarded]
    avail = {*p.inputs, *p.params, *p.seeds}
    body, texts = write(p, mode, namespace, targets, avail, depth, line=line, after=after)
    n, m = len(p.outputs), len(grads or ())
    value, gs = texts[0] if single else f"[{', '.join(texts[:n])}]", texts[n : n + m]
    lines = [f"def {name}(xs, ps, ss):"]
    lines += [f"    {_names(v)} = {src}" for v, src in ((p.params, "ps"), (p.seeds, "ss")) if v]
    if rows:
        totals = [f"G{j}" for j in range(m)]
        lines += ["    _values = []", *(f"    {t} = 0.0" for t in totals)]
        lines.append(f"    for {_names(p.inputs) if p.inputs else '_row'} in xs:")
        lines += [pad + c for c in first] + body + [f"{pad}_values.append({value})"]
        lines += [f"{pad}{t} += {e}" for t, e in zip(totals, gs, strict=True)]
        lines.append(f"    return (_values, [{', '.join(totals)}])")
    else:
        lines += [f"    {_names(p.inputs)} = xs"] if p.inputs else []
        lines += [pad + c for c in first] + body
        lines.append(
            f"    return {value}" if grads is None else f"    return ({value}, [{', '.join(gs)}])"
        )
    return "\n".join(lines)


def _names(names: Sequence[str]) -> str:
    return ", ".join(names) + ("," if len(names) == 1 else "")


def compile_function(
    program: Program,
    name: str,
    mode: str,
    *,
    fallback: Callable[..., Any] | None = None,
    single: bool = False,
    expand: Sequence[bool] | None = None,
    unpack: bool = True,
) -> Callable[..., Any]:
    """The program as a Python function (see :func:`source`), named ``name`` for tracebacks.
    ``fallback`` (float mode): called with the same arguments when the fast code raises an
    arithmetic exception; with ``single`` and ``unpack`` its one non-None entry is returned."""
    namespace: dict[str, Any] = {"math": math, "INF": math.inf, "NAN": math.nan}
    text = source(
        program, "_f", mode, namespace, single=single, expand=expand, fallback=fallback is not None
    )
    if fallback is not None:
        # the generic fallback returns a tuple with None for the partials not asked for
        picked = single and unpack
        namespace["_fallback"] = (
            (lambda *a: next(r for r in fallback(*a) if r is not None)) if picked else fallback
        )
    code = compile(text, f"<autograd_mini {name}>", "exec")
    exec(code, namespace)  # safe: generated names and float literals only (see the module)
    fn: Callable[..., Any] = namespace["_f"]
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = text
    return fn
