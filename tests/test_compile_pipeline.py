"""The whole pipeline on random programs of every op (built-ins, and a user op with and without
``numpy=``/``jax=``) and on MLPs: every pass leaves the results unchanged, and every backend
equals eager — bit for bit for the Python code and ``batch(exact=True)``, to 1e-12 for
``batch`` with matrix products and for JAX."""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import assume, given, settings, strategies as st

from autograd_mini import Value, defop, grad, trace
from autograd_mini.compile import passes
from autograd_mini.compile.autodiff import gradient_program
from autograd_mini.compile.to_python import compile_python
from autograd_mini.explain import explain_steps
from autograd_mini.nn import MLP
from autograd_mini.registry import OPS
from autograd_mini.testing import reals

np = pytest.importorskip("numpy")


def _cube(x: float) -> float:
    return x * x * x


def _cube_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * 3.0 * x * x,)


def _cube_np(x: Any) -> Any:
    return x * x * x  # as the float forward computes it: bit for bit (np.power is not)


def _cube_jax(x: Any) -> Any:
    return x * x * x


CUBE_PLAIN = defop("t_pipe_cube", _cube, _cube_vjp)  # every backend through its float forward
CUBE_LOWERED = defop("t_pipe_cube_lowered", _cube, _cube_vjp, numpy=_cube_np, jax=_cube_jax)
NAMES = [*sorted(n for n, op in OPS.items() if not op.user), CUBE_PLAIN.name, CUBE_LOWERED.name]
JUMPS = {"floor", "ceil", "round", "sign", "remainder"}  # a value near a jump: sums in another
# order may land on its other side, so these are compared bit for bit only


def _into(op_name: str, v: Value) -> Value:
    """``v`` (any real) mapped into the op's domain, away from its edges: bounded, so no
    composition overflows."""
    lo, hi = OPS[op_name].domain
    t = v.tanh()
    if (lo, hi) == (-math.inf, math.inf):
        return t * 3.0
    if hi == math.inf:
        return t * t * 2.0 + (lo + 0.25)
    return t * ((hi - lo) * 0.45) + (lo + hi) * 0.5


def _second(op_name: str, v: Value) -> Value:
    """The second operand: positive where the op divides by it or raises to it."""
    t = v.tanh()
    if op_name in ("div", "remainder"):
        return t * t + 0.5
    return t * 2.0


Step = tuple[str, tuple[int, ...]]


@st.composite
def programs(draw: st.DrawFn) -> tuple[int, tuple[Step, ...]]:
    """Two inputs and 1-8 steps of any op on earlier values (a DAG: operands may repeat)."""
    steps: list[Step] = []
    for k in range(draw(st.integers(1, 8))):
        name = draw(st.sampled_from(NAMES))
        arity = OPS[name].arity - len(OPS[name].defaults) * draw(st.booleans())
        steps.append((name, tuple(draw(st.integers(0, 1 + k)) for _ in range(arity))))
    return 2, tuple(steps)


def build(spec: tuple[int, tuple[Step, ...]]) -> Callable[..., Value]:
    _, steps = spec

    def f(*xs: Value) -> Value:
        pool = list(xs)
        for name, args in steps:
            operands = [_into(name, pool[args[0]]), *(_second(name, pool[i]) for i in args[1:])]
            pool.append(OPS[name](*operands))
        return pool[-1] + sum(xs[1:], xs[0]) * 0.5  # every input matters

    return f


def same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b


def close(a: float, b: float, scale: float = 1.0) -> bool:
    """Equal to 1e-12, relative to the larger of the two or to ``scale``: a sum added in
    another order (a matrix product) errs by ~1e-16 of its largest term, not of its result."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12 * max(1.0, scale))


def largest_term(f: Callable[..., Value], row: Sequence[float]) -> float:
    """The largest contribution any node's gradient sums (explain's terms): the scale of the
    rounding a reordered sum may differ by."""
    out = f(*(Value(x) for x in row))
    terms = [abs(t.contribution) for s in explain_steps(out, max_nodes=100_000) for t in s.terms]
    return max((t for t in terms if math.isfinite(t)), default=0.0)


def eager(f: Callable[..., Value], row: Sequence[float]) -> list[float]:
    xs = [Value(x) for x in row]
    out = f(*xs)
    return [out.data, *(g.data for g in grad(out, xs))]


ROWS = st.lists(st.tuples(reals(), reals()), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(programs(), ROWS)
def test_every_pass_leaves_the_gradient_program_s_results_unchanged(
    spec: tuple[int, tuple[Step, ...]], rows: list[tuple[float, float]]
) -> None:
    f = build(spec)
    p = trace(f, 2).program
    raw = gradient_program(p, p.inputs)
    stages = [raw]
    for step in (
        passes.fold,
        passes.cse,
        passes.dce,
        lambda q: passes.expand(q, lambda prim: prim.defn is None),
        passes.dots,
        lambda q: passes.row_sums(q, 0),
        passes.dce,
    ):
        stages.append(step(stages[-1]))
    for row in rows:
        want = eager(f, row)
        for q in stages:  # one row: a row sum is the row itself
            value, grads = compile_python(q, "grad", True, lambda *a: ValueError())[0](row, [], [])
            assert all(map(same, [value, *grads], want)), (str(q), row)


@settings(max_examples=40, deadline=None)
@given(programs(), ROWS)
def test_python_and_numpy_backends_equal_eager_on_programs_of_every_op(
    spec: tuple[int, tuple[Step, ...]], rows: list[tuple[float, float]]
) -> None:
    f = build(spec)
    t = trace(f, 2)
    X = np.array(rows)
    exact = t.batch(X, exact=True)
    fast = t.batch(X)
    jumps = any(name in JUMPS for name, _ in spec[1])
    for k, row in enumerate(rows):
        want = eager(f, row)
        value, grads = t.value_and_grad(list(row))
        assert all(map(same, [value, *grads], want))
        assert all(map(same, [exact.value[k], *exact.grad[k]], want))
        if not jumps:
            scale = largest_term(f, row)
            got = [fast.value[k], *fast.grad[k]]
            assert all(close(a, b, scale) for a, b in zip(got, want, strict=True))


@settings(max_examples=10, deadline=None)  # each example compiles with XLA
@given(programs(), ROWS)
def test_jax_backends_equal_eager_on_programs_of_every_op(
    spec: tuple[int, tuple[Step, ...]], rows: list[tuple[float, float]]
) -> None:
    jax = pytest.importorskip("jax")
    if any(name in JUMPS for name, _ in spec[1]):
        return
    # XLA on CPU flushes subnormal numbers to zero (README): not a difference of ours
    assume(all(x == 0.0 or abs(x) >= sys.float_info.min for row in rows for x in row))
    f = build(spec)
    t = trace(f, 2)
    batch = t.batch(np.array(rows), backend="jax")
    fn = jax.value_and_grad(t.to_jax())
    for k, row in enumerate(rows):
        want = eager(f, row)
        scale = largest_term(f, row)
        got = [batch.value[k], *batch.grad[k]]
        assert all(close(a, b, scale) for a, b in zip(got, want, strict=True))
        with jax.enable_x64(True):
            value, grads = fn(jax.numpy.array(row))
        assert all(map(close, [value, *grads], want))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**16), st.sampled_from(["relu", "tanh"]), st.booleans())
def test_mlp_losses_equal_eager_on_every_backend(seed: int, act: str, jax_too: bool) -> None:
    random.seed(seed)
    model = MLP(2, [5, 4, 1], activation=act, seed=seed)
    params = model.parameters()

    def loss(x0: Value, x1: Value, y: Value) -> Value:
        return (1.0 - y * model([x0, x1])).relu() + (x0 * y).tanh()

    t = trace(loss, 3, params=params)
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=(6, 2)), rng.choice([-1.0, 1.0], size=6)])
    per_row = []
    for row in X.tolist():
        xs = [Value(v) for v in row]
        out = loss(*xs)
        per_row.append([out.data, *(g.data for g in grad(out, [*xs, *params]))])
    summed = [math.fsum(col) for col in zip(*(r[4:] for r in per_row), strict=True)]
    backends = ["numpy", "jax"] if jax_too and _has_jax() else ["numpy"]
    for backend in backends:
        per = t.batch(X, wrt="all", per_sample=True, backend=backend)  # type: ignore[arg-type]
        total = np.asarray(t.batch(X, wrt="params", backend=backend).param_grad)  # type: ignore[arg-type]
        value, g, gp = (np.asarray(a) for a in (per.value, per.grad, per.param_grad))
        for k, want in enumerate(per_row):
            assert all(map(close, [value[k], *g[k], *gp[k]], want)), backend
        scale = max(1.0, *map(abs, summed))
        assert all(abs(a - b) <= 1e-12 * scale for a, b in zip(total, summed, strict=True))


def _has_jax() -> bool:
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


BINARY = sorted(n for n, op in OPS.items() if op.arity == 2 and not op.user)


@pytest.mark.parametrize("name", BINARY)
def test_an_op_whose_two_operands_are_one_value_gets_both_partials(name: str) -> None:
    # x ** x: the gradient program must add ∂/∂(base) and ∂/∂(exponent), not one of them twice
    op = OPS[name]
    x0 = 1.5
    v = Value(x0)
    (want,) = grad(op(v, v), [v])
    t = trace(lambda x: op(x, x), 1)
    assert t.value_and_grad([x0])[1] == [want.data]
    np = pytest.importorskip("numpy")
    assert t.batch(np.array([[x0]])).grad.tolist() == [[want.data]]


def test_traced_backward_leaves_a_parameter_that_needs_no_gradient_alone() -> None:
    p, q = Value(2.0, requires_grad=False), Value(5.0)
    trace(lambda x: x * p * q, 1, params=[p, q]).backward([3.0])
    assert p.grad == 0.0 and q.grad == 6.0  # as (x * p * q).backward() in eager mode


def test_an_op_name_that_is_not_an_identifier_never_reaches_generated_source() -> None:
    from autograd_mini import Op

    name = 'guard and 0 or print("INJECTED") or math.exp'
    op = Op(name, lambda x: 2.0 * x, lambda g, out, x: (2.0 * g,))
    t = trace(lambda x: op(x), 1)
    assert t.value_and_grad([1.0]) == (2.0, [2.0])
    assert all(name not in t.source_of(kind) for kind in ("forward", "grad"))
