"""The JavaScript backend: a program → the source of one JavaScript function, written by
:mod:`autograd_mini.pycode` in :data:`JAVASCRIPT` syntax (``c ? a : b`` and
``if (c) {…} else {…}`` for a select, ``let``, ``Infinity``/``NaN``).

The table: the vocabulary's operators below (``===`` for ``eq``; comparisons never nest, so
Python's precedences serve), and each op's ``js`` entry in its registry entry — a call such as
``Math.tanh({0})``, or of a helper of the page's runtime where JavaScript differs from Python
(``_pow``, ``_rem``, ``_round``, ``_floordiv``: see :mod:`autograd_mini.stepper`), so adding an
op is still one entry.  A composite without one is its ``defn`` (:func:`~.passes.expand`);
anything else (a user op, ``erf``: no exact ``Math`` function) has no JavaScript, and
:func:`has_js` says so before anything is written.
"""

from __future__ import annotations

from typing import Any

from autograd_mini import pycode
from autograd_mini.compile import passes
from autograd_mini.program import Program, UnsupportedOpError

__all__ = ["JAVASCRIPT", "has_js", "source"]

_OPERATORS = {
    "add": ("{0} + {1}", 10),
    "sub": ("{0} - {1}", 10),
    "mul": ("{0} * {1}", 20),
    "div": ("{0} / {1}", 20),
    "neg": ("-{0}", 30),
    "lt": ("{0} < {1}", 5),
    "le": ("{0} <= {1}", 5),
    "gt": ("{0} > {1}", 5),
    "ge": ("{0} >= {1}", 5),
    "eq": ("{0} === {1}", 5),
    "ne": ("{0} !== {1}", 5),
    "floor_divide": ("_floordiv({0}, {1})", 100),
}


def _entry(prim: Any, mode: str = "") -> tuple[str, int] | None:
    if prim.user:
        return None
    return _OPERATORS.get(prim.name) or ((prim.js, 100) if prim.js else None)


JAVASCRIPT = pycode.Syntax(
    _entry,
    select="{0} ? {1} : {2}",
    let="let {0} = {1};",
    assign="{0} = {1};",
    declare="let {0};",
    opening="if ({0}) {{",
    middle="} else {",
    closing="}",
    inf="Infinity",
    nan="NaN",
)


def has_js(prim: Any) -> bool:
    """Whether ``prim`` has JavaScript: an entry, or a ``defn`` of primitives that have."""
    if prim.name == "select" or _entry(prim) is not None:
        return True
    d = prim.defn_program()
    return d is not None and all(map(has_js, d.prims))


def source(p: Program, name: str) -> str:
    """``function name(x) {…}`` returning the list of ``p``'s outputs then its gradients, from
    its parameters, given in that order as the array ``x``; every primitive of ``p`` must pass
    :func:`has_js`."""
    missing = sorted({e.prim.name for e in p.eqns if not has_js(e.prim)})
    if missing:
        raise UnsupportedOpError(f"to_js: no JavaScript for {', '.join(missing)}")
    p = passes.expand(p, lambda prim: _entry(prim) is not None)
    targets = [*p.outputs, *p.grads]
    lines, texts = pycode.write(p, "float", {}, targets, set(p.params), 1, syntax=JAVASCRIPT)
    unpack = [f"    let {', '.join(f'{v} = x[{i}]' for i, v in enumerate(p.params))};"]
    body = (unpack if p.params else []) + lines + [f"    return [{', '.join(texts)}];"]
    return "\n".join([f"function {name}(x) {{", *body, "}"])
