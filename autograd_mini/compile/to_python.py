"""The Python backend: a program → a Python function ``traced_<kind>(xs, ps, ss)``, written by
:mod:`autograd_mini.pycode` from the primitives' ``py`` templates, compiled once.

Kinds: ``forward`` (the value), ``grad`` (the value and the gradients of a gradient program),
``sum`` (a loop over rows, each row's value and the gradients summed in locals).  One line per
forward value (``v2 = v0 * v1``) and per gradient (``g4 = 1.0 - v5 * v5``); a rule's other
equations are written inside the expression that uses them.  A guard is checked right after
its last operand is computed.

Templates raise where IEEE arithmetic gives ±inf or NaN (``1.0 / 0.0``), and their messages
are not eager's (``math domain error``): on any arithmetic exception the call is redone by the
*exact* version of the same program, where each forward equation calls the primitive's checked
``forward`` (eager's exception and message) and each rule equation its ``ieee`` function
(eager's IEEE result), so results and errors are eager's either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from autograd_mini import pycode
from autograd_mini.compile import passes
from autograd_mini.program import Atom, Program

__all__ = ["compile_python"]

_ARITHMETIC = (ZeroDivisionError, OverflowError, ValueError)


def _lined(var: str) -> bool:
    """Forward values (``v<i>``) and gradients (``g…``) get a line of their own."""
    return var[0] == "g" or (var[0] == "v" and var[1:].isdigit())


def _called(prim: Any) -> bool:
    """Whether the code calls ``prim``: unless it is a composite of at most three primitives,
    which is written out (``v5 = 0.0 if v4 <= 0.0 else v4``: cheaper than a call)."""
    d = prim.defn_program()
    return d is None or len(d.eqns) > 3


def _tuple(names: Sequence[str]) -> str:
    return ", ".join(names) + ("," if len(names) == 1 else "")


def source(p: Program, kind: str, single: bool, mode: str, ns: dict[str, Any]) -> str:
    """The source of ``traced_<kind>`` (see the module docstring); names it binds go to ``ns``."""
    grads: list[Atom] = list(p.grads)
    if kind == "sum":  # Σ over rows starts at 0.0: the final `add 0.0 g` is not needed
        defs = {e.out: e for e in p.eqns}
        for j, g in enumerate(grads):
            e = defs.get(g) if isinstance(g, str) else None
            if e is not None and e.prim.name == "add" and e.ins[0] == 0.0:
                grads[j] = e.ins[1]
    depth = 2 if kind == "sum" else 1
    pad = "    " * depth
    after: dict[str, list[str]] = {}
    first: list[str] = []
    defined = {e.out for e in p.eqns}
    for k, g in enumerate(p.guards):
        lhs, rhs = (pycode.literal(a)[0] if not isinstance(a, str) else a for a in (g.lhs, g.rhs))
        test = f"{lhs} {g.symbol} {rhs}"
        check = [
            f"if {'not ' if g.outcome else ''}({test}):",
            f"    raise _guard({k}, {lhs}, {rhs})",
        ]
        last = max((a for a in (g.lhs, g.rhs) if a in defined), key=_position(p), default=None)
        (after.setdefault(last, []) if isinstance(last, str) else first).extend(check)
    guarded = [a for g in p.guards for a in (g.lhs, g.rhs) if a in defined]
    targets = [*p.outputs, *grads, *guarded]
    avail = {*p.inputs, *p.params, *p.seeds}
    body, texts = pycode.write(p, mode, ns, targets, avail, depth, line=_lined, after=after)
    n = len(p.outputs)
    value = texts[0] if single else f"[{', '.join(texts[:n])}]"
    gs = texts[n : n + len(grads)]
    lines = [f"def traced_{kind}(xs, ps, ss):"]
    lines += [
        f"    {_tuple(names)} = {src}"
        for names, src in ((p.params, "ps"), (p.seeds, "ss"))
        if names
    ]
    if kind == "sum":
        totals = [f"G{j}" for j in range(len(gs))]
        lines += ["    _values = []", *(f"    {t} = 0.0" for t in totals)]
        lines.append(f"    for {_tuple(p.inputs) if p.inputs else '_row'} in xs:")
        lines += [pad + c for c in first] + body + [f"{pad}_values.append({value})"]
        lines += [f"{pad}{t} += {e}" for t, e in zip(totals, gs, strict=True)]
        lines.append(f"    return (_values, [{', '.join(totals)}])")
    else:
        if p.inputs:
            lines.append(f"    {_tuple(p.inputs)} = xs")
        lines += [pad + c for c in first] + body
        lines.append(
            f"    return {value}"
            if kind == "forward"
            else f"    return ({value}, [{', '.join(gs)}])"
        )
    return "\n".join(lines) + "\n"


def _position(p: Program) -> Callable[[Atom], int]:
    where = {e.out: i for i, e in enumerate(p.eqns)}
    return lambda a: where[a]  # type: ignore[index]


def _compiled(text: str, kind: str, ns: dict[str, Any]) -> Callable[..., Any]:
    exec(compile(text, f"<traced {kind}>", "exec"), ns)  # safe: generated names and floats only
    fn: Callable[..., Any] = ns[f"traced_{kind}"]
    return fn


def compile_python(
    p: Program, kind: str, single: bool, guard_error: Callable[..., Exception]
) -> tuple[Callable[..., Any], str]:
    """``(fn, source)``: ``fn(xs, ps, ss)`` runs the fast code and, on an arithmetic exception,
    the exact code (compiled then, once)."""

    def namespace() -> dict[str, Any]:
        return {"math": math, "INF": math.inf, "NAN": math.nan, "_guard": guard_error}

    p = passes.dce(passes.cse(passes.expand(p, _called)))
    ns = namespace()
    text = source(p, kind, single, "float", ns)
    fast = _compiled(text, kind, ns)
    exact: list[Callable[..., Any]] = []

    def run(xs: Any, ps: Any, ss: Any) -> Any:
        try:
            return fast(xs, ps, ss)
        except _ARITHMETIC:
            if not exact:
                ens = namespace()
                exact.append(_compiled(source(p, kind, single, "exact", ens), kind, ens))
            return exact[0](xs, ps, ss)

    return run, text
