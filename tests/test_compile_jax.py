"""compile.to_jax: the JAX backend (Traced.to_jax, batch(backend="jax")) against eager.

to_jax follows the user's dtype: the tests that compare with eager to 1e-12 run inside
``jax.enable_x64(True)`` (scoped), never flipping the global setting."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from autograd_mini import Value, defop, engine, trace
from autograd_mini.nn import MLP
from autograd_mini.ops import OPS
from autograd_mini.testing import Expression, expressions, reals
from autograd_mini.trace import TraceGuardError

jax = pytest.importorskip("jax", reason="the JAX backend needs jax: pip install autograd_mini[jax]")
np = pytest.importorskip("numpy")
jnp = jax.numpy
x64 = jax.enable_x64

REL = 1e-12


@pytest.fixture(autouse=True)
def _float64_scoped() -> Any:
    """Every test here in float64, the way a user asks for it for one block; the global
    setting must be as it was afterwards."""
    before = jax.config.jax_enable_x64
    with x64(True):
        yield
    assert jax.config.jax_enable_x64 == before


def close(a: float, b: float, rel: float = REL) -> bool:
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


def all_close(a: Any, b: Any) -> bool:
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    return a.shape == b.shape and all(close(x, y) for x, y in zip(a, b, strict=True))


def eager(f: Any, xs: Sequence[float]) -> tuple[float, list[float]]:
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward()
    return out.data, [v.grad for v in vs]


# --- to_jax ------------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(expressions(2), reals(), reals())
def test_to_jax_value_and_jax_grad_equal_eager_on_random_expressions(
    f: Expression, a: float, b: float
) -> None:
    fn = trace(f, 2).to_jax()
    x = jnp.array([a, b])
    value, g = jax.value_and_grad(fn)(x)
    ev, eg = eager(f, [a, b])
    assert close(value, ev)
    assert all_close(g, eg)


def applied(name: str) -> Any:
    """``name`` applied to one Value (a binary op with a constant second operand)."""
    second = {"pow": 2.0, "leaky_relu": 0.1}.get(name, 1.5)
    binary = {
        "add": lambda v: v + second,
        "sub": lambda v: v - second,
        "mul": lambda v: v * second,
        "div": lambda v: v / second,
        "pow": lambda v: v**second,
        "leaky_relu": lambda v: v.leaky_relu(second),
        "neg": lambda v: -v,
        "abs": lambda v: abs(v),
    }
    op = OPS[name]  # ops are callable on Values
    return binary.get(name, lambda v: op(v) if op.arity == 1 else op(v, second))


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if not op.user))
def test_every_ops_jax_gradient_follows_its_vjp_including_kinks(name: str) -> None:
    op = OPS[name]
    f = applied(name)
    points = [0.0, 0.7, -0.7, 2.5] if op.domain[0] < 0 else [0.0, 0.7, 2.5]
    for x in points:
        try:
            ev, (eg,) = eager(f, [x])
        except (ValueError, ZeroDivisionError):
            continue
        t = trace(f, 1, example=[x])
        value, g = jax.value_and_grad(t.to_jax())(jnp.array([x]))
        assert close(value, ev), (name, x)
        assert close(g[0], eg), (name, x, float(g[0]), eg)


@pytest.mark.parametrize(
    ("f", "x"),
    [
        (lambda v: v**0.0, 0.0),  # PyTorch: d(x**0)/dx = 0 at 0 (JAX alone: NaN)
        (lambda v: abs(v), 0.0),  # sign(0) = 0 (JAX alone: 1)
        (lambda v: v.relu(), 0.0),
        (lambda v: v.leaky_relu(0.2), 0.0),
        (lambda v: v.sqrt(), 0.0),  # +inf
        (lambda v: 2.0**v, 1.5),
        (lambda v: v.tanh(), 4.0),  # 1 − tanh², as the VJP (JAX alone: (1 + t)(1 − t))
    ],
)
def test_to_jax_gradients_follow_pytorchs_conventions_at_kinks(f: Any, x: float) -> None:
    fn = trace(f, 1, example=[x]).to_jax()
    (g,) = jax.grad(fn)(jnp.array([x]))
    assert close(g, eager(f, [x])[1][0])


def test_to_jax_takes_params_and_works_under_jit_grad_and_vmap() -> None:
    random.seed(1)
    model = MLP(2, [5, 1])
    t = trace(lambda a, b: model([a, b]), 2, params=model)
    fn = t.to_jax()
    ps = jnp.array([p.data for p in model.parameters()])
    x = jnp.array([0.3, -1.2])
    value, gp = jax.jit(jax.value_and_grad(fn, argnums=1))(x, ps)
    ours, ours_gp = t.value_and_grad([0.3, -1.2], wrt="params")
    assert close(value, ours) and all_close(gp, ours_gp)
    rows = jnp.array([[0.3, -1.2], [1.0, 2.0], [-0.5, 0.25]])
    values = jax.vmap(fn, in_axes=(0, None))(rows, ps * 2.0)
    doubled = [2.0 * p.data for p in model.parameters()]
    assert all_close(values, [t.forward(list(map(float, r)), param_values=doubled) for r in rows])


def test_to_jax_of_a_list_valued_function_returns_a_vector() -> None:
    fn = trace(lambda x, y: [x * y, x.exp(), 3.0], 2).to_jax()
    out = fn(jnp.array([2.0, 0.5]))
    assert out.shape == (3,) and all_close(out, [1.0, math.exp(2.0), 3.0])


def test_to_jax_checks_the_shape_of_its_arguments() -> None:
    fn = trace(lambda x, y: x * y, 2).to_jax()
    with pytest.raises(ValueError, match=r"inputs: expected shape \(2,\)"):
        fn(jnp.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"params: expected shape \(0,\)"):
        fn(jnp.array([1.0, 2.0]), jnp.array([1.0]))


def test_to_jax_raises_trace_guard_error_for_concrete_inputs_on_another_branch() -> None:
    fn = trace(lambda x: x * 2.0 if x > 0.0 else -x, 1).to_jax()
    assert float(fn(jnp.array([1.5]))) == 3.0
    with pytest.raises(TraceGuardError, match="another branch"):
        fn(jnp.array([-1.5]))


def test_to_jax_under_jit_gives_nan_value_and_gradient_on_another_branch() -> None:
    fn = jax.jit(jax.value_and_grad(trace(lambda x: x * 2.0 if x > 0.0 else -x, 1).to_jax()))
    value, g = fn(jnp.array([1.5]))
    assert float(value) == 3.0 and float(g[0]) == 2.0
    value, g = fn(jnp.array([-1.5]))
    assert math.isnan(float(value)) and math.isnan(float(g[0]))


def test_a_user_op_without_a_jax_lowering_runs_through_a_host_callback() -> None:
    cube = defop("t_jax_cube", lambda x: x**3, lambda g, out, x: (g * 3.0 * x * x,))
    t = trace(lambda x: cube(x).tanh() * x, 1)
    fn = t.to_jax()
    for x in (0.5, -1.25):
        value, grads = t.value_and_grad([x])
        got, g = jax.jit(jax.value_and_grad(fn))(jnp.array([x]))
        assert close(got, value) and close(g[0], grads[0])
        assert all_close(jax.vmap(fn)(jnp.array([[x], [2.0 * x]])), [value, t.forward([2 * x])])
    batch = t.batch(np.array([[0.5], [-1.25]]), backend="jax")
    assert all_close(batch.grad[:, 0], [t.value_and_grad([x])[1][0] for x in (0.5, -1.25)])


def test_an_op_with_its_own_jax_lowering_runs_on_the_jax_backend() -> None:
    cube = defop(
        "t_jax_cube_native",
        lambda x: x**3,
        lambda g, out, x: (g * 3.0 * x * x,),
        jax=lambda x: x * x * x,
    )
    t = trace(lambda x: cube(x).tanh(), 1)
    g = jax.grad(t.to_jax())(jnp.array([0.5]))
    assert close(g[0], t.value_and_grad([0.5])[1][0])


def test_to_jax_follows_the_users_dtype_and_batch_computes_in_float64_scoped() -> None:
    t = trace(lambda x, y: (x * y + 1.0).tanh(), 2)
    fn = t.to_jax()
    with x64(False):
        assert fn(jnp.array([0.5, 2.0])).dtype == jnp.float32
        assert jax.grad(fn)(jnp.array([0.5, 2.0])).dtype == jnp.float32
        batch = t.batch(np.array([[0.5, 2.0]]), backend="jax")
        assert batch.value.dtype == jnp.float64  # float64 inside the batch only
        assert jnp.asarray(1.0).dtype == jnp.float32  # and the user's setting is as it was
        assert not jax.config.jax_enable_x64
    assert fn(jnp.array([0.5, 2.0])).dtype == jnp.float64  # in a float64 block: float64


def test_jax_computes_the_ops_own_formula_from_its_definition() -> None:
    # gelu(x) = x/2·(1 + erf(x/√2)), eager's formula; JAX's own gelu differs in the left tail
    t = trace(lambda x: x.gelu(), 1)
    value = float(t.to_jax()(jnp.array([-8.0])))
    assert close(value, Value(-8.0).gelu().data) and close(value, -4.8849157e-15, 1e-7)
    assert close(t.batch(np.array([[-8.0]]), backend="jax").value[0], Value(-8.0).gelu().data)


def test_xla_on_cpu_flushes_subnormal_numbers_to_zero_as_documented() -> None:
    t = trace(lambda x: x.sign() * 2.0, 1, example=[1.0])
    tiny = 5e-324  # the smallest subnormal float
    assert t.forward([tiny]) == 2.0  # eager and the float code: sign(5e-324) = 1
    assert t.batch(np.array([[tiny]])).value.tolist() == [2.0]  # NumPy too
    assert float(t.batch(np.array([[tiny]]), backend="jax").value[0]) == 0.0  # XLA: 0


# --- batch(backend="jax") ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlp_trace() -> Any:
    random.seed(3)
    model = MLP(2, [6, 4, 1])
    return model, trace(lambda a, b: model([a, b]), 2, params=model)


@pytest.mark.parametrize("wrt", ["inputs", "params", "all"])
@pytest.mark.parametrize("per_sample", [False, True])
def test_jax_batch_equals_numpy_batch(mlp_trace: Any, wrt: str, per_sample: bool) -> None:
    _, t = mlp_trace
    X = np.random.default_rng(0).normal(size=(37, 2))
    got = t.batch(X, wrt=wrt, per_sample=per_sample, backend="jax")
    want = t.batch(X, wrt=wrt, per_sample=per_sample)
    assert all_close(got.value, want.value) and got.value.shape == want.value.shape
    for a, b in ((got.grad, want.grad), (got.param_grad, want.param_grad)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.shape == b.shape and all_close(a, b)
    assert len(got) == 2


def test_jax_batch_weights_list_outputs_with_grad_outputs() -> None:
    w = Value(0.5)
    t = trace(lambda x, y: [x * w + y, (x * y).sin() * w], 2, params=[w])
    X = np.random.default_rng(1).normal(size=(9, 2))
    got = t.batch(X, wrt="all", grad_outputs=[2.0, -1.0], backend="jax")
    want = t.batch(X, wrt="all", grad_outputs=[2.0, -1.0])
    assert got.value.shape == (9, 2) and all_close(got.value, want.value)
    assert all_close(got.grad, want.grad) and all_close(got.param_grad, want.param_grad)


def test_jax_batch_raises_trace_guard_error_for_a_row_on_another_branch() -> None:
    t = trace(lambda x: x * 2.0 if x > 0.0 else -x, 1)
    assert all_close(t.batch(np.array([[1.0], [2.0]]), backend="jax").value, [2.0, 4.0])
    with pytest.raises(TraceGuardError) as info:
        t.batch(np.array([[1.0], [-2.0]]), backend="jax")
    assert "row 1" in " ".join(getattr(info.value, "__notes__", []))


def test_jax_batch_raises_eagers_domain_error() -> None:
    t = trace(lambda x: x.log(), 1)
    with pytest.raises(ValueError, match="log: math domain error"):
        t.batch(np.array([[1.0], [-1.0]]), backend="jax")


def test_jax_batch_rejects_an_unknown_backend() -> None:
    t = trace(lambda x: x * 2.0, 1)
    with pytest.raises(ValueError, match="backend must be 'numpy' or 'jax'"):
        t.batch(np.array([[1.0]]), backend="torch")  # type: ignore[arg-type]


# --- matrix products ---------------------------------------------------------------------------


def test_jax_lowering_of_the_bench_mlp_is_a_few_matrix_products() -> None:
    random.seed(0)
    model = MLP(2, [16, 16, 1])
    t = trace(lambda a, b, y: (1 + -y * model([a, b])).relu(), 3, params=model)
    source = t.source_of("batch", "all")
    assert len(t.program.eqns) > 600 and source.count("\n") < 60
    assert source.count(" @ ") >= 6  # each layer forward, and backward: inputs and weights
    X = np.column_stack(
        [np.random.default_rng(5).normal(size=(20, 2)), np.sign(np.arange(20) - 9.5)]
    )
    got, want = t.batch(X, wrt="all", backend="jax"), t.batch(X, wrt="all")
    for k, row in enumerate(X.tolist()):
        value, grads = t.value_and_grad(row, wrt="all")
        assert isinstance(value, float)
        assert close(got.value[k], value) and close(want.value[k], value)
        assert all_close(got.grad[k], grads[:3])
    assert all_close(got.param_grad, want.param_grad)


@st.composite
def positive_networks(draw: st.DrawFn) -> tuple[int, list[list[tuple[int, float]]], list[float]]:
    """A random DAG of sums of weighted products ``sᵢ = cᵢ + Σ w·v`` over earlier values
    (inputs or earlier sums squashed by sigmoid), ragged fan-in, repeated operands; every
    weight, constant and input positive, so no sum cancels and reordering it stays within
    1e-12 of eager (values and gradients)."""
    n_inputs = draw(st.integers(1, 4))
    n_nodes = draw(st.integers(1, 12))
    weight = st.floats(0.1, 1.5)
    nodes = []
    for i in range(n_nodes):
        fan = draw(st.integers(1, 6))
        nodes.append([(draw(st.integers(0, n_inputs + i - 1)), draw(weight)) for _ in range(fan)])
    consts = [draw(weight) for _ in range(n_nodes)]
    return n_inputs, nodes, consts


@settings(max_examples=25, deadline=None)
@given(positive_networks(), st.integers(0, 2**16))
def test_reduced_jax_lowering_equals_eager_on_random_sum_of_product_dags(
    net: tuple[int, list[list[tuple[int, float]]], list[float]], seed: int
) -> None:
    n_inputs, nodes, consts = net
    ws = [[Value(w) for _, w in node] for node in nodes]
    params = [w for row in ws for w in row]

    def f(*xs: Value) -> Value:
        values = list(xs)
        for node, row, c in zip(nodes, ws, consts, strict=True):
            s: Any = c
            for (j, _), w in zip(node, row, strict=True):
                s = s + w * values[j]  # a chain of adds: one Sum, a dot where it lines up
            values.append(s.sigmoid())
        return values[-1]

    t = trace(f, n_inputs, params=params)
    X = np.random.default_rng(seed).uniform(0.5, 2.0, size=(4, n_inputs))
    got = t.batch(X, wrt="all", per_sample=True, backend="jax")
    for k, row in enumerate(X.tolist()):
        ev, eg = eager(lambda *xs: f(*xs), row)
        value, grads = t.value_and_grad(row, wrt="all")
        assert close(got.value[k], ev) and close(value, ev)
        assert all_close(got.grad[k], eg)
        assert all_close(got.param_grad[k], grads[n_inputs:])


@pytest.mark.slow
@settings(max_examples=5, deadline=None)
@given(st.integers(0, 2**16))
def test_python_numpy_and_jax_lowerings_all_equal_eager_on_mlps(seed: int) -> None:
    random.seed(seed)
    model = MLP(2, [3, 2, 1])
    params = model.parameters()
    t = trace(lambda a, b: model([a, b]), 2, params=model)
    X = np.random.default_rng(seed).uniform(-2.0, 2.0, size=(5, 2))
    jax_result = t.batch(X, wrt="all", per_sample=True, backend="jax")
    numpy_result = t.batch(X, wrt="all", per_sample=True)
    for k, row in enumerate(X.tolist()):
        vs = [Value(x) for x in row]
        out = model(vs)
        assert isinstance(out, Value)
        eg = engine.grad(out, [*vs, *params])
        want = [g.data for g in eg]
        value, grads = t.value_and_grad(row, wrt="all")
        for got_value, got_grads in (
            (value, grads),
            (numpy_result.value[k], [*numpy_result.grad[k], *numpy_result.param_grad[k]]),
            (jax_result.value[k], [*jax_result.grad[k], *jax_result.param_grad[k]]),
        ):
            assert close(got_value, out.data)
            assert all_close(got_grads, want)


def test_importing_autograd_mini_does_not_import_jax() -> None:
    code = "import sys, autograd_mini; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


_MULTI_DEVICE = """
import json, random
import numpy as np
import jax
from autograd_mini import trace
from autograd_mini.nn import MLP
random.seed(3)
model = MLP(2, [6, 4, 1])
t = trace(lambda a, b: model([a, b]), 2, params=model)
X = np.random.default_rng(0).normal(size=({n}, 2))
r = t.batch(X, wrt="all", backend="jax")
s = t.batch(X, wrt="params", per_sample=True, backend="jax")
print(json.dumps({{
    "devices": len(jax.devices()),
    "sharded_over": len(r.value.sharding.device_set),
    "value": np.asarray(r.value).tolist(),
    "grad": np.asarray(r.grad).tolist(),
    "param_grad": np.asarray(r.param_grad).tolist(),
    "per_sample": np.asarray(s.param_grad).tolist(),
}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("n", [40, 37])  # divisible by 4, and padded
def test_jax_batch_splits_rows_across_devices_with_the_single_device_results(
    mlp_trace: Any, n: int
) -> None:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    out = subprocess.run(
        [sys.executable, "-c", _MULTI_DEVICE.format(n=n)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    multi = json.loads(out.stdout.strip().splitlines()[-1])
    assert multi["devices"] == 4
    if n % 4 == 0:
        assert multi["sharded_over"] == 4  # the output stays split by rows
    _, t = mlp_trace
    X = np.random.default_rng(0).normal(size=(n, 2))
    single = t.batch(X, wrt="all", backend="jax")
    per = t.batch(X, wrt="params", per_sample=True, backend="jax")
    assert all_close(multi["value"], single.value)
    assert all_close(multi["grad"], single.grad)
    assert all_close(multi["param_grad"], single.param_grad)
    assert all_close(multi["per_sample"], per.param_grad)


def test_jax_batch_of_no_rows_and_of_no_inputs_has_numpys_shapes() -> None:
    w = Value(0.5)
    t = trace(lambda x, y: x * y * w, 2, params=[w])
    for X in (np.zeros((0, 2)), np.ones((3, 2))):
        got, want = t.batch(X, wrt="all", backend="jax"), t.batch(X, wrt="all")
        pairs = zip(
            (got.value, got.grad, got.param_grad),
            (want.value, want.grad, want.param_grad),
            strict=True,
        )
        for a, b in pairs:
            assert a.shape == b.shape and all_close(a, b)
    constant = trace(lambda: w * w, 0, params=[w])
    got = constant.batch(np.zeros((3, 0)), wrt="params", backend="jax")
    assert all_close(got.value, [0.25] * 3) and all_close(got.param_grad, [3.0])


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["hinge", "bce"])
def test_moons_demo_compiled_jax_trains_like_eager(loss: str) -> None:
    from autograd_mini.demos import moons

    kwargs: dict[str, Any] = {"steps": 4, "n": 24, "hidden": (5,), "seed": 2, "loss": loss}
    slow = moons.train_moons(**kwargs)
    fast = moons.train_moons(compiled="jax", **kwargs)
    assert all(close(a, b, 1e-9) for a, b in zip(fast.losses, slow.losses, strict=True))
    assert fast.accuracies == slow.accuracies
    params = zip(fast.model.parameters(), slow.model.parameters(), strict=True)
    assert all(close(a.data, b.data, 1e-9) for a, b in params)


@pytest.mark.slow
def test_moons_command_line_trains_with_compiled_jax(tmp_path: Any) -> None:
    from autograd_mini.demos import moons

    args = ["--compiled", "jax", "--steps", "2", "--n", "16", "--hidden", "4", "--quiet"]
    assert moons.main([*args, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "metrics.json").exists()


def test_moons_compiled_jax_without_jax_is_one_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    from autograd_mini.demos import moons

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a)
    )
    assert moons.main(["--compiled", "jax", "--steps", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["moons: --compiled jax needs jax: pip install autograd_mini[jax]"]


def test_train_moons_rejects_an_unknown_compiled_backend() -> None:
    from autograd_mini.demos import moons

    with pytest.raises(ValueError, match="compiled must be"):
        moons.train_moons(steps=1, compiled="torch")


SIGNED_ZEROS: list[tuple[str, tuple[float, ...]]] = [
    ("cosh", (-0.0,)),  # ∂ = sinh(−0) = −0.0
    ("abs", (-0.0,)),
    ("neg", (0.0,)),
    ("remainder", (-4.0, 2.0)),  # Python: +0.0 (the divisor's sign); jnp.remainder: −0.0
    ("remainder", (-0.0, 2.0)),
    ("remainder", (4.0, -2.0)),
    ("log_sigmoid", (800.0,)),  # eager 0.0 − 0.0; JAX's −softplus(−x): −0.0
]


@pytest.mark.parametrize(("name", "args"), SIGNED_ZEROS, ids=str)
def test_jax_batch_keeps_eagers_sign_of_zero_in_values_and_gradients(
    name: str, args: tuple[float, ...]
) -> None:
    xs = [Value(a) for a in args]
    out = OPS[name](*xs)
    out.backward()
    t = trace(lambda *v: OPS[name](*v), len(args), example=list(args))
    for backend in ("numpy", "jax"):
        batch = t.batch(np.array([args]), backend=backend)
        got = [float(batch.value[0]), *(float(g) for g in batch.grad[0])]
        want = [out.data, *(x.grad for x in xs)]
        assert [math.copysign(1.0, v) for v in got] == [math.copysign(1.0, v) for v in want]
        assert got == want, backend
    value = float(t.to_jax()(np.array(args)))
    assert (value, math.copysign(1.0, value)) == (out.data, math.copysign(1.0, out.data))
