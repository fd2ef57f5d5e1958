"""Array lowering, shared by the NumPy and JAX backends: a gradient program → one function over
a whole batch, ``traced_batch(X, ps, ss)``, written against an array module (``np``, ``jnp``)
and a backend's table of primitives.

After the shared passes (:func:`prepare`) the equations are grouped by depth
(:func:`~.passes.levels`); each group is one array operation on a 2-D array: a row per
equation, the batch along the columns (one column for what is the same in every row:
parameters and what is computed from them alone).  A group reads its operands by slicing the
array that computed them where it can (a view), else by gathering.  ``dot`` groups are matrix
products where every equation reads the same per-row values with its own parameters or
constants (a layer, forward ``W @ X`` and backward ``Wᵀ @ G``); ``rowdot`` groups of every
``a`` with every ``b`` (a layer's weight gradients) are ``A @ Bᵀ``.

Only generated names, integers and float literals reach the source; index arrays, constants
and functions are bound in its namespace.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from autograd_mini import pycode
from autograd_mini.compile import passes
from autograd_mini.program import Atom, Eqn, Guard, Program
from autograd_mini.registry import AUX, OPS, Primitive

__all__ = ["compile_batch", "has_entry", "may_raise", "prepare"]

# the vocabulary's arithmetic, the same function name in numpy and jax.numpy
_NAMES = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "div": "divide",
    "neg": "negative",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
    "eq": "equal",
    "ne": "not_equal",
    "select": "where",
    "floor_divide": "floor_divide",
}


def builtin_name(prim: Primitive) -> str | None:
    """The array function of one of the vocabulary's arithmetic primitives, else None."""
    name = _NAMES.get(prim.name)
    return name if (OPS.get(prim.name) or AUX.get(prim.name)) is prim else None


def has_entry(prim: Primitive, backend: str) -> bool:
    """Whether ``prim`` runs as itself on ``backend`` (not expanded into its ``defn``)."""
    return prim.defn is None or getattr(prim, backend) is not None or bool(builtin_name(prim))


def may_raise(prim: Primitive) -> bool:
    """Whether the float forward may raise (a user op, or one with a separate IEEE version):
    a batch checks those results for rows to redo in float code."""
    return bool(prim.user) or prim.forward is not prim.ieee


def prepare(
    gp: Program, backend: str | None, summed: int | None, exact: bool, one_each: bool = False
) -> Program:
    """The gradient program for the array code: composites without an entry of ``backend``
    expanded (None: none), gradients from index ``summed`` on summed over the rows (None: per
    row), sums of products as dots (unless ``exact``), common subexpressions shared."""
    p = gp if backend is None else passes.expand(gp, lambda prim: has_entry(prim, backend))
    if summed is not None:
        p = passes.row_sums(p, summed)
    if not exact and not one_each:
        p = passes.dots(p)
    return passes.dce(passes.cse(passes.fold(p)))


class _Writer:
    """Writes the batch function of one prepared program."""

    def __init__(self, p: Program, xp: str, ns: dict[str, Any], entry: Any, checks: bool):
        self.p, self.xp, self.ns, self.entry, self.checks = p, xp, ns, entry, checks
        self.bound: dict[tuple[int, bool], str] = {}
        self.rows = passes.row_vars(p)
        self.lines: list[str] = []
        self.loc: dict[str, tuple[str, int]] = {}
        for src, names in (("xs", p.inputs), ("ps", p.params), ("ss", p.seeds)):
            self.loc.update((v, (src, i)) for i, v in enumerate(names))
        self.size = {"xs": len(p.inputs), "ps": len(p.params), "ss": len(p.seeds)}
        self.wide = {"xs": True, "ps": False, "ss": False}

    def call(self, eqn: Eqn) -> str:
        """The function applying ``eqn``'s primitive: the backend's table entry, a function of
        the array module (``np.add``) or one bound under a generated name."""
        fn = self.entry(eqn)
        if isinstance(fn, str):
            return f"{self.xp}.{fn}"
        key = (id(eqn.prim), eqn.ieee)
        if key not in self.bound:
            self.bound[key] = self.bind(fn, f"f_{'op' if eqn.prim.user else eqn.prim.name}")
        return self.bound[key]

    def bind(self, value: Any, stem: str) -> str:
        name = f"_{stem}{len(self.ns)}"
        self.ns[name] = value
        return name

    def index(self, idx: Sequence[int]) -> str:
        """``idx`` as a subscript: a slice where it steps evenly (a view), else a bound index
        array (a gather)."""
        import numpy as np

        a, n = idx[0], len(idx)
        step = idx[1] - a if n > 1 else 1
        if step > 0 and list(idx) == list(range(a, a + step * n, step)):
            return f"{a}:{a + step * (n - 1) + 1}" + (f":{step}" if step > 1 else "")
        return self.bind(np.array(idx, dtype=np.intp), "I")

    def is_wide(self, a: Atom) -> bool:
        return isinstance(a, str) and a in self.rows

    def read(self, atoms: Sequence[Atom], *, full: bool = False, wide: bool = False) -> str:
        """The values of ``atoms`` stacked: shape (len, n), or (len, 1) when none differs
        between rows, or (1, ·) when all are the same (broadcasting); ``full``: always
        (len, ·); ``wide``: always (len, n)."""
        m, first = len(atoms), atoms[0]
        wide = wide or any(map(self.is_wide, atoms))
        if all(_key(a) == _key(first) for a in atoms):
            if isinstance(first, str):
                src, i = self.loc[first]
                text = f"{src}[{i}:{i + 1}]"
            else:
                text = pycode.literal(first)[0]
            if full and (m > 1 or not isinstance(first, str) or wide > self.is_wide(first)):
                text = f"{self.xp}.broadcast_to({text}, ({m}, {'n' if wide else 1}))"
            return text
        places = [self.loc[a] if isinstance(a, str) else ("K", a) for a in atoms]
        by_source: dict[str, list[int]] = {}
        for k, (src, _) in enumerate(places):
            by_source.setdefault(src, []).append(k)
        parts = [self.part(src, [places[k][1] for k in ks], wide) for src, ks in by_source.items()]
        text = parts[0] if len(parts) == 1 else f"{self.xp}.concatenate([{', '.join(parts)}])"
        order = [k for ks in by_source.values() for k in ks]  # where each part's rows belong
        if order != sorted(order):
            text += f"[{self.index(sorted(range(m), key=order.__getitem__))}]"
        return text

    def part(self, src: str, idx: list[Any], wide: bool) -> str:
        """Rows ``idx`` of ``src`` (for ``K``: the constants ``idx`` themselves)."""
        if src == "K":
            import numpy as np

            text = self.bind(np.array(idx, dtype=np.float64).reshape(-1, 1), "K")
        else:
            text = f"{src}[{self.index(idx)}]"
        if wide and not self.wide.get(src, False):
            text = f"{self.xp}.broadcast_to({text}, ({len(idx)}, n))"
        return text

    # --- groups ---
    def group(self, q: int, eqns: list[Eqn]) -> None:
        # members in the order of their operands' places: reads are slices where they can be
        eqns = sorted(eqns, key=lambda e: [self.loc[a] for a in e.ins if isinstance(a, str)])
        name, prim, m = f"r{q}", eqns[0].prim, len(eqns)
        cols = [[e.ins[k] for e in eqns] for k in range(len(eqns[0].ins))]
        wide = prim not in (passes.ROWDOT, passes.ROWSUM) and any(
            self.is_wide(a) for c in cols for a in c
        )
        if prim is passes.DOT:
            text = self.dot(cols, m)
        elif prim is passes.ROWDOT:
            text = self.rowdot(cols[0], cols[1])
        elif prim is passes.ROWSUM:
            x = cols[0]
            if any(map(self.is_wide, x)):
                text = f"{self.read(x, full=True, wide=True)}.sum(axis=1, keepdims=True)"
            else:
                text = f"{self.read(x, full=True)} * n"
        elif prim.name == "add" and any(all(map(_plus_zero, c)) for c in cols):
            text = self.plus_zero(self.read(cols[1] if all(map(_plus_zero, cols[0])) else cols[0]))
        else:
            text = f"{self.call(eqns[0])}({', '.join(self.read(c) for c in cols)})"
            if m > 1 and all(len(set(map(_key, c))) == 1 for c in cols):
                text = f"{self.xp}.broadcast_to({text}, ({m}, {'n' if wide else 1}))"
        self.lines.append(f"    {name} = {text}")
        self.wide[name], self.size[name] = wide, m
        for j, e in enumerate(eqns):
            self.loc[e.out] = (name, j)
        if self.checks and not eqns[0].ieee and may_raise(prim):
            self.lines.append(f"    _bad = _bad | ~{self.xp}.isfinite({name}).all(axis=0)")

    def dot(self, cols: list[list[Atom]], m: int) -> str:
        """Σ aᵢ·bᵢ for each equation: a matrix product over the pairs where one side is the
        same per-row value in every equation and the other is each one's own parameter or
        constant; a pair with a constant 1.0 side is its other side; the rest multiplied and
        summed elementwise."""
        shared: list[Atom] = []
        own: list[list[Atom]] = []
        terms: list[str] = []
        rest: list[tuple[list[Atom], list[Atom]]] = []
        for a, b in zip(cols[0::2], cols[1::2], strict=True):
            for s, o in ((b, a), (a, b)):
                if len(set(map(_key, s))) == 1 and not any(map(self.is_wide, o)):
                    if self.is_wide(s[0]):
                        shared.append(s[0])
                        own.append(o)
                        break
                    if s[0] == 1.0:
                        terms.append("0.0" if all(map(_plus_zero, o)) else self.read(o))
                        break
            else:
                rest.append((a, b))
        if shared:  # in the order of their places: a slice where they are side by side
            order = sorted(range(len(shared)), key=lambda i: self.loc[shared[i]])  # type: ignore[index]
            shared, own = [shared[i] for i in order], [own[i] for i in order]
            matrix = self.read([x for row in zip(*own, strict=True) for x in row], full=True)
            terms.insert(
                0, f"{matrix}.reshape({m}, {len(shared)}) @ {self.read(shared, full=True)}"
            )
        if rest:  # (m, k, ·) gathers, multiplied and summed over k
            k = len(rest)
            wide = any(self.is_wide(x) for a, b in rest for x in (*a, *b))
            w = "n" if wide else "1"
            a, b = ([x for j in range(m) for pair in rest for x in [pair[s][j]]] for s in (0, 1))
            left, right = (self.read(x, full=True, wide=wide) for x in (a, b))
            terms.append(
                f"({left}.reshape({m}, {k}, {w}) * {right}.reshape({m}, {k}, {w})).sum(axis=1)"
            )
        total = " + ".join(t for t in terms if t != "0.0") or "0.0"
        return self.plus_zero(total) if "0.0" in terms else total

    def plus_zero(self, text: str) -> str:
        """``0.0 + x``: x with -0.0 as 0.0.  XLA simplifies ``x + 0.0`` to ``x``, so for a JAX
        batch it is a select; not in ``to_jax``'s code (``checks`` off), which JAX
        differentiates: a select would cut the derivative at 0 (there a zero's sign is JAX's)."""
        if self.xp == "jnp" and self.checks:
            return f"{self.xp}.where(({text}) == 0.0, 0.0, {text})"
        return f"0.0 + {text}"

    def rowdot(self, a: list[Atom], b: list[Atom]) -> str:
        """Σ over the rows of aₚ·bₚ: ``A @ B.T`` where the pairs are every a with every b."""
        ua, ub = list(dict.fromkeys(a)), list(dict.fromkeys(b))
        for x, y, ux, uy in ((a, b, ua, ub), (b, a, ub, ua)):
            if x == [v for v in ux for _ in uy] and y == uy * len(ux):
                left, right = self.read(ux, full=True), self.read(uy, full=True)
                return f"({left} @ {right}.T).reshape(-1, 1)"
        left, right = self.read(a, full=True, wide=True), self.read(b, full=True, wide=True)
        return f"({left} * {right}).sum(axis=1, keepdims=True)"

    def guard(self, g: Guard) -> None:
        def one(a: Atom) -> str:
            return pycode.literal(a)[0] if not isinstance(a, str) else "{}[{}]".format(*self.loc[a])

        test = f"({one(g.lhs)} {g.symbol} {one(g.rhs)})"
        self.lines.append(f"    _bad = _bad | {'~' if g.outcome else ''}{test}")


def _plus_zero(a: Atom) -> bool:
    return type(a) is float and a == 0.0 and math.copysign(1.0, a) > 0


def _key(a: Atom) -> Any:
    return a if isinstance(a, str) else ("const", repr(a))


def compile_batch(
    gp: Program,
    xp: str,
    module: Any,
    entry: Callable[[Eqn], Any],
    backend: str | None,
    *,
    summed: int | None = None,
    exact: bool = False,
    single: bool = True,
    one_each: bool = False,
    checks: bool = True,
) -> tuple[Callable[..., Any], str, Program]:
    """``traced_batch(X, ps, ss) -> (values, input_grads, param_grads, bad)`` for the gradient
    program ``gp`` (:func:`prepare`, then one array operation per group), compiled; with its
    source and the prepared program.  ``entry(eqn)``: the backend's table — the name of a
    function of ``module`` (bound as ``xp``), or a function to bind.  ``summed``: the index
    of the first gradient to sum over the rows.  Results: values (n,) if ``single`` else
    (n, m), input gradients (n, k), parameter gradients (n, P) or (P,) summed; ``bad`` (n,):
    the rows whose float code may raise (a broken guard, a non-finite result; with
    ``checks=False`` a broken guard only)."""
    p = prepare(gp, backend, summed, exact, one_each)
    w = _Writer(p, xp, {xp: module, "INF": math.inf, "NAN": math.nan}, entry, checks)
    w.lines = [
        "def traced_batch(X, ps, ss):",
        "    n = X.shape[0]",
        "    xs = X.T",
        f"    _bad = {xp}.zeros(n, dtype=bool)",
    ]
    waiting = list(p.guards)
    for q, eqns in enumerate([[], *passes.levels(p, one_each=one_each)]):
        if eqns:
            w.group(q - 1, eqns)
        for g in list(waiting):  # a guard as soon as its operands are computed
            if all(a in w.loc for a in (g.lhs, g.rhs) if isinstance(a, str)):
                w.guard(g)
                waiting.remove(g)
    ni = sum(1 for v in gp.wrt if v in gp.inputs)
    results = []
    for name, atoms, rowsum in (
        ("_v", p.outputs, False),
        ("_g0", p.grads[:ni], False),
        ("_g1", p.grads[ni:], summed is not None),
    ):
        if not atoms and name != "_v":
            results.append("None")
            continue
        text = w.read(atoms, full=True, wide=not rowsum) if atoms else f"{xp}.zeros((0, n))"
        w.lines.append(f"    {name} = {text}{'[:, 0]' if rowsum else ''}")
        if checks:
            w.lines.append(f"    _bad = _bad | ~{xp}.isfinite({name}).all({'' if rowsum else 0})")
        results.append(name if rowsum else "_v[0]" if name == "_v" and single else f"{name}.T")
    w.lines.append(f"    return ({', '.join(results)}, _bad)")
    text = "\n".join(w.lines) + "\n"
    exec(compile(text, "<traced batch>", "exec"), w.ns)  # safe: generated names and numbers
    return w.ns["traced_batch"], text, p
