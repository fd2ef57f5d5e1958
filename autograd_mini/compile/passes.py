"""Passes: functions from :class:`~autograd_mini.program.Program` to Program that every backend
shares, each testable alone on the printed program: :func:`fold` (constants, exactly),
:func:`dce`, :func:`cse`, :func:`expand` (composites as their ``defn``), :func:`dots` (sums of
products as :data:`DOT`: a layer's Σ wᵢⱼ·xᵢ + bⱼ, the backward's accumulations — array
backends make them matrix products), :func:`row_sums` (a batch's parameter gradients summed
over its rows: :data:`ROWDOT`) and :func:`levels` (grouping by depth).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from autograd_mini.program import Atom, Eqn, Program
from autograd_mini.registry import OPS, Primitive

__all__ = ["DOT", "ROWDOT", "ROWSUM", "cse", "dce", "dots", "expand", "fold", "levels"]


def _dot(*ab: float) -> float:
    """a₀·b₀ + a₁·b₁ + …, added left to right (the order of the chain it replaces)."""
    total = ab[0] * ab[1]
    for i in range(2, len(ab), 2):
        total = total + ab[i] * ab[i + 1]
    return total


DOT = Primitive("dot", _dot, None, arity=2, doc="Σ aᵢ·bᵢ over the pairs of its inputs.")
ROWSUM = Primitive(
    "rowsum",
    lambda x: x,
    None,
    doc="Σ x over a batch's rows (one row: x; a value that is the same in every row: n·x).",
)
ROWDOT = Primitive("rowdot", lambda a, b: a * b, None, doc="Σ a·b over a batch's rows.")


def _uses(p: Program) -> Counter[str]:
    """How often each variable is read: by equations, outputs, gradients and guards."""
    atoms = [a for e in p.eqns for a in e.ins]
    atoms += [*p.outputs, *p.grads, *(x for g in p.guards for x in (g.lhs, g.rhs))]
    return Counter(a for a in atoms if isinstance(a, str))


def _renamed(p: Program, eqns: Iterable[Eqn], alias: dict[str, Atom]) -> Program:
    """``p`` with ``eqns``, every later read of a variable in ``alias`` replaced."""

    def sub(a: Atom) -> Atom:
        return alias.get(a, a) if isinstance(a, str) else a

    return replace(
        p,
        eqns=tuple(eqns),
        outputs=tuple(map(sub, p.outputs)),
        grads=tuple(map(sub, p.grads)),
        guards=tuple(replace(g, lhs=sub(g.lhs), rhs=sub(g.rhs)) for g in p.guards),
    )


def _key(a: Atom) -> Any:
    return a if isinstance(a, str) else ("const", repr(a))  # 0.0 and -0.0 differ


_COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")


def fold(p: Program) -> Program:
    """Constant folding, exact only: equations of constants evaluated, a select on a known
    condition, ``x * 1.0`` and ``x / 1.0`` → ``x`` (never ``x + 0.0`` → ``x``: -0.0 + 0.0 is
    0.0; never ``x * 0.0`` → 0: NaN, inf).  A folded value read only by the equation folding
    into it takes that equation's name (``g4 = mul 1.0 t1`` → ``g4 = …``)."""
    uses = _uses(p)
    alias: dict[str, Atom] = {}
    truth: dict[str, bool] = {}
    out: list[Eqn] = []
    at: dict[str, int] = {}
    for e in p.eqns:
        ins = tuple(alias.get(a, a) if isinstance(a, str) else a for a in e.ins)
        name = e.prim.name
        value: Atom | None = None
        if name == "select" and ins[0] in truth:
            value = ins[1] if truth[ins[0]] else ins[2]
        elif all(not isinstance(a, str) for a in ins):
            fn = e.prim.ieee if e.ieee else e.prim.forward
            try:
                result = fn(*ins)
            except Exception:  # a forward's error: left to happen at run time, as in eager
                result = None
            if name in _COMPARISONS and result is not None:
                truth[e.out] = bool(result)
            elif result is not None:
                value = float(result)
        elif name == "mul" and any(type(a) is float and a == 1.0 for a in ins):
            value = ins[1] if ins[0] == 1.0 else ins[0]
        elif name == "div" and ins[1] == 1.0:
            value = ins[0]
        if value is None:
            at[e.out] = len(out)
            out.append(e if ins == e.ins else Eqn(e.prim, ins, e.out, e.ieee))
        elif isinstance(value, str) and uses[value] == 1 and value in at and out[at[value]].ieee:
            old = out[at[value]]
            out[at[value]] = Eqn(old.prim, old.ins, e.out, old.ieee)  # single use: rename
            at[e.out] = at.pop(value)
        else:
            alias[e.out] = value
    return _renamed(p, out, alias)


def dce(p: Program) -> Program:
    """The program without the equations nothing reads."""
    live = {a for a in (*p.outputs, *p.grads) if isinstance(a, str)}
    live.update(a for g in p.guards for a in (g.lhs, g.rhs) if isinstance(a, str))
    kept = []
    for e in reversed(p.eqns):
        if e.out in live:
            kept.append(e)
            live.update(a for a in e.ins if isinstance(a, str))
    return replace(p, eqns=tuple(reversed(kept)))


def cse(p: Program) -> Program:
    """Common subexpressions: an equation that repeats an earlier one (same primitive, same
    inputs) is dropped and its variable read from the earlier one — unless the earlier one is a
    rule's (IEEE) and this one a forward equation, whose exceptions must not be lost."""
    seen: dict[Any, Eqn] = {}
    alias: dict[str, Atom] = {}
    out = []
    for e in p.eqns:
        ins = tuple(alias.get(a, a) if isinstance(a, str) else a for a in e.ins)
        key = (id(e.prim), tuple(map(_key, ins)))
        first = seen.get(key)
        if first is not None and (e.ieee or not first.ieee):
            alias[e.out] = first.out
            continue
        seen[key] = e = e if ins == e.ins else Eqn(e.prim, ins, e.out, e.ieee)
        out.append(e)
    return _renamed(p, out, alias)


def expand(p: Program, has_entry: Callable[[Primitive], bool]) -> Program:
    """Each equation of a composite primitive without a backend entry (``has_entry`` False,
    ``defn`` given) replaced by its definition's equations (IEEE: composites never raise),
    recursively; their variables are named ``<out>_<k>``, but for the names ``p`` already has
    (the reverse transform names its sums ``g0_23`` too)."""
    out: list[Eqn] = []
    alias: dict[str, Atom] = {}
    ids = itertools.count()
    taken = {*p.inputs, *p.params, *p.seeds, *(e.out for e in p.eqns)}

    def emit(prim: Primitive, ins: tuple[Atom, ...], name: str, ieee: bool) -> Atom:
        d = prim.defn_program() if not has_entry(prim) else None
        if d is None:
            out.append(Eqn(prim, ins, name, ieee))
            return name
        env: dict[str, Atom] = dict(zip(d.inputs, ins, strict=True))
        (result,) = d.outputs
        for de in d.eqns:
            args = tuple(env.get(a, a) if isinstance(a, str) else a for a in de.ins)
            var = name
            if de.out != result:
                var = next(v for k in ids if (v := f"{name}_{k}") not in taken)
            env[de.out] = emit(de.prim, args, var, True)
        return env.get(result, result) if isinstance(result, str) else result

    for e in p.eqns:
        ins = tuple(alias.get(a, a) if isinstance(a, str) else a for a in e.ins)
        value = emit(e.prim, ins, e.out, e.ieee)
        if value != e.out:
            alias[e.out] = value
    return _renamed(p, out, alias)


def dots(p: Program) -> Program:
    """Each left-nested chain of ``add`` equations (``((a + b) + c) + d``: an inner add read
    only by the add above it, as its first operand) with at least three terms, or two products,
    → one ``dot`` equation of its terms in order, a product read only there as its pair of
    factors, any other term ``t`` as ``(t, 1.0)``.  ``dot`` adds left to right, so its value on
    floats is the chain's (a right-nested ``a + (b + c)`` is another sum, and is left alone)."""
    add, mul = OPS["add"], OPS["mul"]
    uses = _uses(p)
    defs = {e.out: e for e in p.eqns}

    def only(a: Atom, prim: Primitive) -> bool:
        return isinstance(a, str) and uses[a] == 1 and a in defs and defs[a].prim is prim

    inner = {e.ins[0] for e in p.eqns if e.prim is add and only(e.ins[0], add)}
    trees: dict[str, list[Atom]] = {}
    for e in p.eqns:
        if e.prim is not add or e.out in inner:
            continue
        terms: list[Atom] = []
        stack = list(reversed(e.ins))
        while stack:  # left to right through the tree, without recursion
            a = stack.pop()
            if isinstance(a, str) and a in inner:
                stack.extend(reversed(defs[a].ins))
            else:
                terms.append(a)
        if len(terms) >= 3 or sum(only(t, mul) for t in terms) >= 2:
            trees[e.out] = terms
    # every inner add is in a tree of three terms or more: all are taken, as are its products
    taken = inner | {t for terms in trees.values() for t in terms if only(t, mul)}
    out = []
    for e in p.eqns:
        if e.out in taken:
            continue
        if e.out in trees:
            pairs: list[Atom] = []
            for t in trees[e.out]:
                pairs += defs[t].ins if t in taken and defs[t].prim is mul else (t, 1.0)  # type: ignore[index]
            e = Eqn(DOT, tuple(pairs), e.out, e.ieee)
        out.append(e)
    return replace(p, eqns=tuple(out))


def row_vars(p: Program) -> set[str]:
    """The variables that differ between a batch's rows: the inputs and what is computed from
    them (not row sums)."""
    rows = set(p.inputs)
    for e in p.eqns:
        if e.prim not in (ROWSUM, ROWDOT) and any(isinstance(a, str) and a in rows for a in e.ins):
            rows.add(e.out)
    return rows


def row_sums(p: Program, first: int) -> Program:
    """``p`` with its gradients from index ``first`` on (the parameters') summed over a batch's
    rows, the sum pushed through additions into products: Σ(a + b) = Σa + Σb, Σ(a·b) =
    ``rowdot a b`` (the rows' dot product), else ``rowsum``."""
    rows, defs = row_vars(p), {e.out: e for e in p.eqns}
    add, mul = OPS["add"], OPS["mul"]
    eqns = list(p.eqns)
    memo: dict[Atom, Atom] = {}

    def new(prim: Primitive, ins: tuple[Atom, ...]) -> str:
        name = f"r{len(eqns)}"
        eqns.append(Eqn(prim, ins, name, True))
        return name

    def summed(a: Atom, depth: int) -> Atom:
        if a in memo:
            return memo[a]
        e = defs.get(a) if isinstance(a, str) else None
        if e is None or a not in rows or depth > 50:
            result: Atom = new(ROWSUM, (a,))
        elif e.prim is add:
            result = new(add, tuple(x if x == 0.0 else summed(x, depth + 1) for x in e.ins))
        elif e.prim is mul and all(x in rows for x in e.ins):
            result = new(ROWDOT, e.ins)
        else:
            result = new(ROWSUM, (a,))
        memo[a] = result
        return result

    grads = (*p.grads[:first], *(summed(g, 0) for g in p.grads[first:]))
    return replace(p, eqns=tuple(eqns), grads=grads)


def levels(p: Program, *, one_each: bool = False) -> list[list[Eqn]]:
    """The equations in groups that an array backend runs as one operation each: the same
    primitive at the same depth (1 + the deepest input's), the same kind of operand in each
    position (per row, the same in every row, constant) and both forward or both IEEE.  Groups
    in an order that respects dependencies; ``one_each``: a group per equation."""
    rows = row_vars(p)
    depth: dict[str, int] = {}
    groups: dict[Any, list[Eqn]] = {}
    for i, e in enumerate(p.eqns):
        d = 1 + max((depth.get(a, 0) for a in e.ins if isinstance(a, str)), default=0)
        depth[e.out] = d
        kinds = tuple("c" if not isinstance(a, str) else "r" if a in rows else "s" for a in e.ins)
        key = (d, id(e.prim), e.ieee, kinds, i if one_each else 0)
        groups.setdefault(key, []).append(e)
    return [groups[k] for k in sorted(groups, key=lambda k: k[0])]
