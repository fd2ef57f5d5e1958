"""The JAX lowering: a :class:`~.program.Program` → a pure function of ``jax.numpy`` arrays.

Every equation becomes its op's ``jax=`` lowering (:mod:`autograd_mini.ops`); an op without
one is refused with :class:`~.program.UnsupportedOpError` before anything is built.  The
result is an ordinary JAX function: ``jax.jit``, ``jax.grad`` and ``jax.vmap`` work on it, and
XLA compiles the whole scalar program into one kernel per call.

Gradients come from JAX's own reverse mode on the lowered forward equations; the lowerings
carry the VJPs' conventions (:mod:`._jax_ops`), so they equal the gradient program's to 1e-12.
Everything runs in float64: :func:`load_jax` switches on ``jax_enable_x64`` (JAX computes in
float32 otherwise, ~1e-7 relative, far from eager's numbers).

Guards are computed in the graph as one boolean per row (:func:`lower`); the callers decide
what a broken guard does (:class:`Traced` raises :class:`TraceGuardError` on the host).
This module imports jax only inside its functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from autograd_mini.compile._sum_chains import Sum, sum_chains
from autograd_mini.compile.program import Atom, Eqn, Program, UnsupportedOpError
from autograd_mini.ops import OPS, Op

__all__ = ["BatchRunner", "check_lowerable", "load_jax", "lower"]

JAX_MISSING = "the JAX backend needs jax, an optional extra: pip install autograd_mini[jax]"


def load_jax() -> Any:
    """Import jax (ImportError saying how to install it) with float64 enabled."""
    try:
        import jax
    except ImportError:
        raise ImportError(JAX_MISSING) from None
    jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]
    return jax


def check_lowerable(program: Program) -> None:
    """UnsupportedOpError naming the first op without a ``jax=`` lowering."""
    for op in program.ops:
        if getattr(op, "jax", None) is None:
            raise UnsupportedOpError(op.name, "jax")


def lower(program: Program) -> Callable[[Any, Any], tuple[Any, Any]]:
    """``run(xs, ps) -> (outputs, ok)``: the program on jax arrays ``xs`` (n_inputs,) and
    ``ps`` (n_params,); ``outputs`` has shape (m,); ``ok`` is True where every guard holds
    (a boolean scalar, or True when there are no guards).

    One vectorised operation per group of same-op nodes at the same depth (:func:`_steps`),
    not one per equation: XLA compiles thousands of scalar operations slowly (measured on the
    MLP: ~30-80 s; grouped, a few seconds) and runs them no faster.  Chains of adds are
    first collapsed into sums (``_sum_chains.sum_chains``), each group of sums one
    ``jnp.sum`` over (count, k) blocks: float sums in another order than eager's, equal to
    1e-12 (the Python and NumPy lowerings keep eager's order)."""
    check_lowerable(program)
    jax = load_jax()
    jnp = jax.numpy
    steps, where = _steps(program)
    compare = {
        "<": jnp.less,
        "<=": jnp.less_equal,
        ">": jnp.greater,
        ">=": jnp.greater_equal,
        "==": jnp.equal,
        "!=": jnp.not_equal,
    }

    def place(a: Atom) -> tuple[int, int] | float:
        return where[a] if isinstance(a, str) else float(a)

    outputs = [place(a) for a in program.outputs]
    guards = [(place(g.lhs), compare[g.symbol], place(g.rhs), g.outcome) for g in program.guards]

    def run(xs: Any, ps: Any) -> tuple[Any, Any]:
        arrays = [jnp.asarray(xs, jnp.float64), jnp.asarray(ps, jnp.float64)]
        for step in steps:
            if step.op is None:  # a group of sums: each block (count, k) summed along k
                total: Any = None
                for plan, k in step.reads:
                    if isinstance(plan, _Dot):
                        part = plan.value(jnp, arrays, step.count)
                    else:
                        assert not isinstance(plan, float)
                        part = _gather(jnp, arrays, plan).reshape(step.count, k).sum(axis=1)
                    total = part if total is None else total + part
                if step.consts is not None:
                    part = jnp.asarray(step.consts).sum(axis=1)
                    total = part if total is None else total + part
                arrays.append(total)
                continue
            args = []
            for a, _ in step.reads:
                assert not isinstance(a, _Dot)
                args.append(a if isinstance(a, float) else _gather(jnp, arrays, a))
            fn = step.op.jax
            assert fn is not None
            arrays.append(jnp.broadcast_to(fn(*args), (step.count,)))

        def read(a: tuple[int, int] | float) -> Any:
            return arrays[a[0]][a[1]] if isinstance(a, tuple) else jnp.float64(a)

        ok: Any = True
        for lhs, test, rhs, outcome in guards:
            holds = test(read(lhs), read(rhs))
            ok = jnp.logical_and(ok, holds if outcome else jnp.logical_not(holds))
        result = jnp.stack([read(o) for o in outputs]) if outputs else jnp.zeros((0,))
        return result, ok

    return run


Plan: TypeAlias = "tuple[tuple[int, ...], Any]"


@dataclass(frozen=True)
class _Step:
    """One vectorised operation making array ``2 + q`` of ``count`` values.  ``op``: the op
    on its operands' ``reads`` (a read plan or a constant each, k unused); ``None``: sums, each
    read a (count, k) block of terms from one array, plus ``consts`` (count, c) when the sums
    have constant terms."""

    op: Op | None
    reads: tuple[tuple[Plan | _Dot | float, int], ...]
    count: int
    consts: Any = None


@dataclass(frozen=True)
class _Dot:
    """A block of a group of sums whose terms are exactly a group of products, in order:
    Σₖ a[j, k]·b[j, k] for each sum j, read straight from the products' operands, so XLA
    sees a matrix-vector product (one dot) instead of "multiply, then sum" (the products
    stay computed only if something else reads them).  ``shared``: b is one row of k values
    that every sum reads (a layer's activations; or there is one sum): then it is ``a @ b``."""

    a: Plan
    b: Plan
    k: int
    shared: bool

    def value(self, jnp: Any, arrays: list[Any], count: int) -> Any:
        a = _gather(jnp, arrays, self.a).reshape(count, self.k)
        if not self.shared:
            return (a * _gather(jnp, arrays, self.b).reshape(count, self.k)).sum(axis=1)
        sources, index = self.b
        if isinstance(index, _Grid) and index.row_step == 0 and index.rows == count:
            stop = index.start + index.cols * index.col_step
            return a @ arrays[sources[0]][index.start : stop : index.col_step]
        return a @ _gather(jnp, arrays, self.b)  # one sum: b is its k values


def _steps(program: Program) -> tuple[list[_Step], dict[str, tuple[int, int]]]:
    """The program as vectorised steps, and where every variable's value lives: (array,
    position), array 0 the inputs, 1 the parameters, 2 + q step q's results (each step's
    results are an array of their own: a growing vector of all values would be saved whole
    for the backward pass at every step, measured ~100x slower on the MLP).

    Nodes (equations and ``_sum_chains.Sum`` nodes) are grouped by depth, then by op and
    constant operands (equations) or by how many terms each array gives (sums)."""
    import numpy as np

    where: dict[str, tuple[int, int]] = {}
    for k, name in enumerate(program.inputs):
        where[name] = (0, k)
    for k, name in enumerate(program.params):
        where[name] = (1, k)
    depth: dict[str, int] = dict.fromkeys(where, 0)
    levels: dict[int, list[Eqn | Sum]] = {}
    for node in sum_chains(program):
        ins = node.terms if isinstance(node, Sum) else node.ins
        d = 1 + max((depth[a] for a in ins if isinstance(a, str)), default=0)
        depth[_out(node)] = d
        levels.setdefault(d, []).append(node)
    steps: list[_Step] = []
    sizes = [len(program.inputs), len(program.params)]  # each array's length
    for d in sorted(levels):
        buckets: dict[tuple[object, ...], list[Eqn | Sum]] = {}  # first-seen order
        for node in levels[d]:
            if isinstance(node, Sum):
                shape = tuple((a, len(ks)) for a, ks in _blocks(where, node).items())
                consts = sum(1 for t in node.terms if not isinstance(t, str))
                key: tuple[object, ...] = ("sum", shape, consts)
            else:
                pattern = tuple(None if isinstance(a, str) else repr(a) for a in node.ins)
                key = ("op", node.op.name, id(node.op), pattern)
            buckets.setdefault(key, []).append(node)
        for key, members in buckets.items():
            q = 2 + len(steps)
            if key[0] == "sum":
                sums = [m for m in members if isinstance(m, Sum)]
                blocks = [_blocks(where, m) for m in sums]
                reads: list[tuple[Plan | _Dot | float, int]] = []
                for arr, ks in blocks[0].items():  # the same arrays and sizes in every sum
                    places = [(arr, i) for b in blocks for i in b[arr]]
                    plan = _read_plan(places, sizes)
                    dot = _dot(plan, steps[arr - 2] if arr >= 2 else None, len(sums), len(ks))
                    reads.append((plan if dot is None else dot, len(ks)))
                c = [[float(t) for t in s.terms if not isinstance(t, str)] for s in sums]
                steps.append(_Step(None, tuple(reads), len(sums), np.array(c) if key[2] else None))
            else:
                eqns = [m for m in members if isinstance(m, Eqn)]
                first = eqns[0]
                operands: list[tuple[Plan | float, int]] = []
                for i, atom in enumerate(first.ins):
                    if isinstance(atom, str):
                        places = [where[str(e.ins[i])] for e in eqns]
                        operands.append((_read_plan(places, sizes), 0))
                    else:
                        operands.append((float(atom), 0))
                steps.append(_Step(first.op, tuple(operands), len(eqns)))
            sizes.append(len(members))
            for j, node in enumerate(members):
                where[_out(node)] = (q, j)
    return steps, where


def _dot(plan: Plan, products: _Step | None, count: int, k: int) -> _Dot | None:
    """The block ``plan`` of ``count`` sums of ``k`` terms as a :class:`_Dot`, when it reads
    all the results of a step of products, in order; else None."""
    if products is None or products.op is not OPS["mul"] or products.count != count * k:
        return None
    if plan[1] != slice(0, count * k, 1):
        return None
    (a, _), (b, _) = products.reads
    if isinstance(a, (float, _Dot)) or isinstance(b, (float, _Dot)):
        return None
    for x, y in ((a, b), (b, a)):
        index = y[1]
        row = isinstance(index, _Grid) and index.row_step == 0 and index.rows == count
        if count == 1 or (row and len(y[0]) == 1 and index.cols == k):
            return _Dot(x, y, k, shared=True)
    return _Dot(a, b, k, shared=False)


def _out(node: Eqn | Sum) -> str:
    if isinstance(node, Sum):
        return node.out
    (out,) = node.outs
    assert out is not None
    return out


def _blocks(where: dict[str, tuple[int, int]], node: Sum) -> dict[int, list[int]]:
    """The positions of a sum's variable terms, by array (in order of first use), sorted:
    consecutive in the array for a layer's products, so a block is a slice (its transpose a
    pad, not a scatter)."""
    blocks: dict[int, list[int]] = {}
    for t in node.terms:
        if isinstance(t, str):
            a, i = where[t]
            blocks.setdefault(a, []).append(i)
    return {a: sorted(ks) for a, ks in blocks.items()}


def _read_plan(places: list[tuple[int, int]], sizes: Sequence[int]) -> Plan:
    """How to read values from their places (``sizes``: each array's length): the arrays
    involved (concatenated when several) and an index into them — a slice where it steps
    evenly (a view; its transpose is a pad, not a scatter), a :class:`_Grid` where it is a
    strided 2-D window or a broadcast (a layer's weights, each row's activations: what a
    matrix product reads), else a NumPy index array (a gather; its transpose a scatter)."""
    import numpy as np

    arrays = tuple(dict.fromkeys(a for a, _ in places))
    if len(arrays) > 1:  # positions in the concatenation, by each array's size so far
        used: dict[int, int] = {}
        for a, k in places:
            used[a] = max(used.get(a, 0), k + 1)
        base, offset = {}, 0
        for a in arrays:
            base[a] = offset
            offset += used[a]
        slots = [base[a] + k for a, k in places]
        return arrays, (np.asarray(slots, dtype=np.intp), tuple(used[a] for a in arrays))
    slots = [k for _, k in places]
    step = slots[1] - slots[0] if len(slots) > 1 else 1
    if step > 0 and slots == list(range(slots[0], slots[0] + step * len(slots), step)):
        return arrays, slice(slots[0], slots[-1] + 1, step)
    grid = _grid(slots, sizes[arrays[0]])
    return arrays, np.asarray(slots, dtype=np.intp) if grid is None else grid


@dataclass(frozen=True)
class _Grid:
    """Positions ``start + r·row_step + c·col_step`` for r < rows, c < cols, row by row."""

    start: int
    rows: int
    cols: int
    row_step: int
    col_step: int

    def read(self, jnp: Any, x: Any) -> Any:
        """The values at the positions, flat, by slicing, reshaping and broadcasting only."""
        first, shape = self.start, (self.rows, self.cols)
        if self.row_step == 0:  # every row the same
            row = x[first : first + self.cols * self.col_step : self.col_step]
            return jnp.broadcast_to(row[None, :], shape).reshape(-1)
        if self.col_step == 0:  # each row one value, repeated
            column = x[first : first + self.rows * self.row_step : self.row_step]
            return jnp.broadcast_to(column[:, None], shape).reshape(-1)
        block = x[first : first + self.rows * self.row_step].reshape(self.rows, self.row_step)
        return block[:, : self.cols * self.col_step : self.col_step].reshape(-1)


def _grid(slots: list[int], size: int) -> _Grid | None:
    """``slots`` as a :class:`_Grid` inside an array of ``size`` values, or None."""
    n = len(slots)
    if n < 2:
        return None
    col_step = slots[1] - slots[0]
    cols = 1
    while cols < n and slots[cols] - slots[cols - 1] == col_step:
        cols += 1
    if cols == n or n % cols:
        return None
    rows, row_step = n // cols, slots[cols] - slots[0]
    if col_step < 0 or row_step < 0 or (col_step == 0 and row_step == 0):
        return None
    if col_step and row_step and (cols * col_step > row_step or slots[0] + rows * row_step > size):
        return None  # overlapping rows, or the window would run past the array's end
    expected = [slots[0] + r * row_step + c * col_step for r in range(rows) for c in range(cols)]
    return _Grid(slots[0], rows, cols, row_step, col_step) if slots == expected else None


def _gather(jnp: Any, arrays: list[Any], plan: Plan) -> Any:
    sources, index = plan
    if len(sources) == 1:
        x = arrays[sources[0]]
        return index.read(jnp, x) if isinstance(index, _Grid) else x[index]
    slots, sizes = index
    return jnp.concatenate([arrays[a][:n] for a, n in zip(sources, sizes, strict=True)])[slots]


class BatchRunner:
    """``jit(vmap(value_and_grad))`` of a lowered program over the rows of a batch, split
    across ``jax.devices()`` when there are several (data parallel: rows sharded, parameters
    replicated, parameter gradients summed across devices by XLA).

    Calling it returns ``(values, grad, param_grad, bad)``: values (n,) or (n, m); grad
    (n, n_inputs) or None; param_grad (n_params,) summed, (n, n_params) per sample, or None;
    ``bad``: True when some row broke a guard or gave a non-finite number (the caller then
    redoes the rows on the host, where eager's exceptions are raised).
    """

    def __init__(
        self,
        program: Program,
        n_outputs: int | None,
        wrt: str,
        per_sample: bool,
        seeded: bool,
    ) -> None:
        jax = load_jax()
        jnp = jax.numpy
        run = lower(program)
        self.jax = jax
        self.wrt = wrt
        self.per_sample = per_sample
        self.devices = jax.devices()
        by_inputs, by_params = wrt in ("inputs", "all"), wrt in ("params", "all")
        single = n_outputs is None

        def total(xs: Any, ps: Any, ss: Any) -> tuple[Any, tuple[Any, Any]]:
            outs, ok = run(xs, ps)
            weighted = outs[0] * ss[0] if seeded else outs[0]
            for k in range(1, len(ss)):
                weighted = weighted + outs[k] * ss[k]
            return weighted, (outs[0] if single else outs, ok)

        argnums = (0, 1) if by_inputs and by_params else ((0,) if by_inputs else (1,))
        row = jax.value_and_grad(total, argnums=argnums, has_aux=True)

        def rows_total(x: Any, p: Any, ss: Any, mask: Any) -> tuple[Any, tuple[Any, Any]]:
            weighted, aux = jax.vmap(total, in_axes=(0, None, None))(x, p, ss)
            return jnp.sum(weighted * mask), aux

        # summed parameter gradients: the gradient of the sum over the rows (rows are
        # independent, so its input part is each row's own gradient), not per-row gradients
        # summed afterwards (an (n, n_params) array: measured 2x slower on the MLP)
        summed = jax.value_and_grad(rows_total, argnums=argnums, has_aux=True)

        def batched(x: Any, p: Any, ss: Any, mask: Any) -> tuple[Any, Any, Any, Any]:
            if by_params and not per_sample:
                (_, (values, ok)), grads = summed(x, p, ss, mask)
            else:
                (_, (values, ok)), grads = jax.vmap(row, in_axes=(0, None, None))(x, p, ss)
            # eager's sign of zero: gradients accumulate from +0.0, so a −0.0 partial gives
            # +0.0 (x + 0.0 would be folded away by XLA; a select is not)
            gx = _plus_zero(jnp, grads[0]) if by_inputs else None
            gp = _plus_zero(jnp, grads[-1]) if by_params else None
            finite = jnp.isfinite(values) if single else jnp.all(jnp.isfinite(values), axis=1)
            if gx is not None:
                finite = finite & jnp.all(jnp.isfinite(gx), axis=1)
            if gp is not None and per_sample:
                finite = finite & jnp.all(jnp.isfinite(gp), axis=1)
            bad = jnp.any(~(ok & finite) & (mask > 0.0))
            if gp is not None and not per_sample:
                bad = bad | ~jnp.all(jnp.isfinite(gp))
            return values, gx, gp, bad

        self.fn = jax.jit(batched)
        self._masks: dict[int, Any] = {}
        self._placed: tuple[Any, Any] | None = None

    def _placement(self) -> tuple[Any, Any]:
        """Where rows go (split across the devices) and where parameters go (on each)."""
        if self._placed is None:
            jax = self.jax
            if len(self.devices) > 1:
                import numpy as np

                mesh = jax.sharding.Mesh(np.array(self.devices), ("rows",))
                split = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("rows"))
                whole = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
                self._placed = (split, whole)
            else:
                one = jax.sharding.SingleDeviceSharding(self.devices[0])
                self._placed = (one, one)
        return self._placed

    def __call__(self, X: Any, ps: Sequence[float], ss: Sequence[float]) -> tuple[Any, ...]:  # noqa: N803
        import numpy as np

        jax = self.jax
        n = X.shape[0]
        d = len(self.devices)
        pad = (-n) % d if d > 1 and n > 0 else 0
        rows = X
        if pad:  # copies of the last row, masked out of the sums
            rows = np.concatenate([X, np.repeat(X[-1:], pad, axis=0)])
        params = np.asarray(ps, dtype=np.float64).reshape(len(ps))
        seeds = np.asarray(ss, dtype=np.float64).reshape(len(ss))
        split, replicated = self._placement()
        m = self._masks.get(n)
        if m is None:  # the same for every batch of n rows: made and placed once
            mask = np.zeros(n + pad)
            mask[:n] = 1.0
            m = self._masks[n] = jax.device_put(mask, split)
        if d > 1:
            xs = jax.device_put(rows, split)
            params, seeds = jax.device_put(params, replicated), jax.device_put(seeds, replicated)
        else:  # NumPy arrays straight to the compiled function: its own transfer is fastest
            xs = rows
        values, gx, gp, bad = self.fn(xs, params, seeds, m)
        if pad:
            values = values[:n]
            gx = None if gx is None else gx[:n]
            gp = gp[:n] if gp is not None and self.per_sample else gp
        return values, gx, gp, bool(bad)


def _plus_zero(jnp: Any, a: Any) -> Any:
    """``a`` with −0.0 replaced by +0.0."""
    return jnp.where(a == 0.0, 0.0, a)
