"""The Python backend: a :class:`~autograd_mini.program.Program` as Python source, compiled once.

Each primitive is written from its table entry: its ``py`` template (``{0} + {1}``,
``math.tanh({0})``) with the fewest parentheses Python's precedence needs, else a call of its
float function bound under a generated name.  A ``select`` (the vocabulary's
:func:`~autograd_mini.registry.where`) becomes Python's own lazy branch: ``a if c else b``, or
an ``if``/``else`` block when a side needs statements, with each side's equations computed only
inside it — so a rule like ``where(out == 0.0, …, g / (2.0 * out))`` never divides by zero.
Equations used once are written inside the expression that uses them; the others get a line.

Two modes.  ``"float"``: floats in and out, the fast path of eager backward; any arithmetic
exception (``1.0 / 0.0`` raises in Python where IEEE gives inf) falls back to a given function.
``"generic"``: operators and primitive calls that dispatch on the operand type, so the same
code runs on floats, on :class:`~autograd_mini.engine.Value` (recording, for
``create_graph``) or on a mix, with IEEE results inside rules (``prim.in_rule``).

Generated source contains only names made here (``g``, ``x``, ``t3``, ``_tanh``, ``_op2``) and
float literals (``INF``/``NAN`` for the non-finite ones): never a label or any user text.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from autograd_mini.program import Atom, Eqn, Program

__all__ = ["compile_function", "keep_outputs", "literal", "source"]

# primitives written as Python operators in generic code (Values implement them, never raising)
_OPERATORS = frozenset(("add", "sub", "mul", "neg", "lt", "le", "gt", "ge", "eq", "ne"))
_ATOM = 100  # precedence of a name, a literal or a call
_COND = 0  # of ``a if c else b``
_ERRORS = "(ZeroDivisionError, OverflowError, ValueError)"


def literal(x: float) -> tuple[str, int]:
    """A float as Python source and its precedence: ``2.0``, ``-0.5`` (a unary minus), ``INF``."""
    if math.isnan(x):
        return "NAN", _ATOM
    if math.isinf(x):
        return ("INF", _ATOM) if x > 0 else ("-INF", 30)
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
    """Writes one program as the body of a function, lazily around selects."""

    def __init__(self, program: Program, mode: str, namespace: dict[str, Any]) -> None:
        self.eqns = program.eqns
        self.defs = {e.out: e for e in program.eqns}
        self.uses: Counter[str] = Counter(
            a for e in program.eqns for a in e.ins if isinstance(a, str)
        )
        self.uses.update(a for a in program.outputs if isinstance(a, str))
        self.mode = mode
        self.namespace = namespace
        self.names: dict[int, str] = {}

    def bind(self, prim: Any) -> str:
        """The name the code calls ``prim`` by (its float function, or its rule-time dispatcher
        in generic code)."""
        name = self.names.get(id(prim))
        if name is None:
            name = f"_{prim.name}" if not prim.user else f"_op{len(self.names)}"
            self.names[id(prim)] = name
            self.namespace[name] = prim.forward if self.mode == "float" else prim.in_rule
        return name

    # --- which equations get a line of their own ---
    def _inlined(self, var: str, avail: set[str]) -> bool:
        eqn = self.defs[var]
        if self.uses[var] != 1:
            return False
        if eqn.prim.name != "select":
            return True
        # a select used once is an expression when neither side needs a line of its own
        return all(not self._block_lines(side, set(avail)) for side in eqn.ins[1:])

    def _closure(self, targets: Sequence[Atom], avail: set[str]) -> set[str]:
        """The variables a block computes for ``targets``: their equations and inputs', except
        the sides of a select, which its own blocks compute."""
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
        return need

    def _block_lines(self, target: Atom, avail: set[str]) -> list[str]:
        lines: list[str] = []
        self.block([target], avail, lines, 0)
        return lines

    def block(
        self, targets: Sequence[Atom], avail: set[str], lines: list[str], depth: int
    ) -> list[str]:
        """Append the lines computing ``targets`` (indented ``depth`` levels) and return the
        targets' expressions.  ``avail``: variables already computed (updated)."""
        need = self._closure(targets, avail)
        pad = "    " * depth
        for eqn in self.eqns:
            v = eqn.out
            if v not in need or v in avail or self._inlined(v, avail):
                continue
            if eqn.prim.name == "select":
                c, a, b = eqn.ins
                test = self.expr(c, avail)[0]
                lines.append(f"{pad}if {test}:")
                for side, head in ((a, None), (b, f"{pad}else:")):
                    if head:
                        lines.append(head)
                    inner = set(avail)
                    (text,) = self.block([side], inner, lines, depth + 1)
                    lines.append(f"{pad}    {v} = {text}")
            else:
                lines.append(f"{pad}{v} = {self.render(eqn, avail)[0]}")
            avail.add(v)
        return [self.expr(t, avail)[0] for t in targets]

    # --- expressions ---
    def expr(self, atom: Atom, avail: set[str]) -> tuple[str, int]:
        if not isinstance(atom, str):
            return literal(atom)
        if atom in avail or atom not in self.defs:
            return atom, _ATOM
        return self.render(self.defs[atom], avail)

    def render(self, eqn: Eqn, avail: set[str]) -> tuple[str, int]:
        prim = eqn.prim
        if prim.name == "select":
            c, a, b = (self.expr(x, avail) for x in eqn.ins)
            return f"{_wrap(a, _COND + 1)} if {_wrap(c, _COND + 1)} else {_wrap(b, _COND)}", _COND
        args = [self.expr(a, avail) for a in eqn.ins]
        template = prim.py if (self.mode == "float" or prim.name in _OPERATORS) else None
        if template is None:
            return f"{self.bind(prim)}({', '.join(t for t, _ in args)})", _ATOM
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
    exec(
        compile(text, f"<autograd_mini {name}>", "exec"), namespace
    )  # safe: generated names and floats only
    fn: Callable[..., Any] = namespace["_f"]
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = text
    return fn
