"""The Python backend: a program → a Python function ``traced_<kind>(xs, ps, ss)``, written by
:mod:`autograd_mini.pycode` from the primitives' ``py`` templates and compiled once: ``forward``
(the value), ``grad`` (value and gradients), ``sum`` (a loop over rows, the gradients summed
in locals).  One line per forward value and per gradient; a rule's other equations inline.

Templates raise where IEEE arithmetic gives ±inf or NaN (``1.0 / 0.0``), with other messages
than eager's: on an arithmetic exception the call is redone by the *exact* version of the same
program, whose forward equations call the primitives' checked ``forward`` (eager's exceptions)
and rule equations their ``ieee`` functions (eager's IEEE results).
"""

from __future__ import annotations

import math
from collections.abc import Callable
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
    """Whether the code calls ``prim``: not a composite of ≤ 3 primitives (``relu`` is cheaper
    written out: ``v5 = 0.0 if v4_0 else v4``)."""
    d = prim.defn_program()
    return d is None or len(d.eqns) > 3


def source(p: Program, kind: str, single: bool, mode: str, ns: dict[str, Any]) -> str:
    """The source of ``traced_<kind>`` (see the module docstring); names it binds go to ``ns``."""
    grads: list[Atom] | None = None if kind == "forward" else list(p.grads)
    if kind == "sum":  # Σ over rows starts at 0.0: the final `add 0.0 g` is not needed
        defs = {e.out: e for e in p.eqns}
        for j, g in enumerate(p.grads):
            e = defs.get(g) if isinstance(g, str) else None
            if e is not None and e.prim.name == "add" and e.ins[0] == 0.0:
                grads[j] = e.ins[1]  # type: ignore[index]
    return pycode.function_source(
        p, f"traced_{kind}", mode, ns, grads=grads, rows=kind == "sum", single=single, line=_lined
    )


def _compiled(text: str, kind: str, ns: dict[str, Any]) -> Callable[..., Any]:
    exec(compile(text, f"<traced {kind}>", "exec"), ns)  # safe: generated names and floats only
    fn: Callable[..., Any] = ns[f"traced_{kind}"]
    return fn


def compile_python(
    p: Program, kind: str, single: bool, guard_error: Callable[..., Exception]
) -> tuple[Callable[..., Any], str]:
    """``(fn, source)``: ``fn(xs, ps, ss)`` runs the fast code, or on an arithmetic exception
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
