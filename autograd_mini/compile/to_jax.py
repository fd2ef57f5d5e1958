"""The JAX backend: its table of primitives, the batch driver and ``Traced.to_jax``.

The table: the vocabulary's arithmetic (``jnp.add``, …); a primitive's ``jax`` entry (``"tanh"``
is ``jnp.tanh``, ``"scipy.special.erf"`` is ``jax.scipy.special.erf``, or a user's
``defop(..., jax=...)``); a composite without one is its ``defn``, so JAX computes the op's own
formula (gelu as x/2·(1 + erf(x/√2)), as eager); anything else is the float function on the
host, element by element, through ``jax.pure_callback`` (slower).  ``batch(backend="jax")``
lowers the *gradient program* (no ``jax.grad``) and jit-compiles it inside
``jax.enable_x64(True)``, leaving the user's configuration alone.  ``to_jax()`` lowers the
recorded program, each primitive a ``jax.custom_jvp`` whose derivative is its rule program.
jax is imported only inside functions.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from autograd_mini.compile import arrays
from autograd_mini.program import Program
from autograd_mini.registry import Primitive

__all__ = ["BatchRunner", "load_jax", "lower"]

JAX_MISSING = "the JAX backend needs jax, an optional extra: pip install autograd_mini[jax]"


def load_jax() -> Any:
    """Import jax (ImportError saying how to install it); its configuration is left alone."""
    try:
        import jax
    except ImportError:
        raise ImportError(JAX_MISSING) from None
    return jax


def float64(jax: Any) -> Any:
    """A context in which JAX computes in float64 (this thread only, until it exits)."""
    scope: Any = getattr(jax, "enable_x64", None)
    return (jax.experimental.enable_x64 if scope is None else scope)(True)  # older: experimental


def _host(jax: Any, fn: Callable[..., float], nin: int) -> Callable[..., Any]:
    """``fn`` element by element on the host via ``jax.pure_callback``; NaN where it raises
    (the batch then redoes that row in float code, which raises)."""
    import numpy as np

    def safe(*xs: float) -> float:
        try:
            return fn(*xs)
        except Exception:  # the row's own error is raised by the float code afterwards
            return math.nan

    ufunc = np.frompyfunc(safe, nin, 1)

    def call(*xs: Any) -> Any:
        arrs = [jax.numpy.asarray(x) for x in xs]
        dtype = jax.numpy.result_type(*arrs, float)
        shape = jax.ShapeDtypeStruct(jax.numpy.broadcast_shapes(*(a.shape for a in arrs)), dtype)

        def host(*v: Any) -> Any:  # under vmap with a batch axis in front: shapes from v
            out = np.asarray(ufunc(*v), dtype=dtype)
            return np.broadcast_to(out, np.broadcast_shapes(*map(np.shape, v)))

        return jax.pure_callback(host, shape, *arrs, vmap_method="broadcast_all")

    return call


def _plain(jax: Any, prim: Primitive, ieee: bool = True) -> Callable[..., Any]:
    """The table entry of ``prim``: a function of jax arrays (see the module docstring)."""
    jnp = jax.numpy
    name = arrays.builtin_name(prim)
    if name is not None:
        return getattr(jnp, name)  # type: ignore[no-any-return]
    if isinstance(prim.jax, str):
        module = jax if "." in prim.jax else jax.numpy
        return functools.reduce(getattr, prim.jax.split("."), module)  # type: ignore[no-any-return]
    if prim.jax is not None:
        fn = prim.jax
        return lambda *xs: jnp.broadcast_to(fn(*xs), jnp.broadcast_shapes(*map(jnp.shape, xs)))
    defn = prim.defn_program()
    if defn is not None:
        return lambda *xs: run(defn, lambda p: _plain(jax, p), xs)[0]
    return _host(jax, prim.ieee if ieee else prim.forward, prim.arity)


def run(p: Program, table: Callable[[Primitive], Callable[..., Any]], args: Sequence[Any]) -> Any:
    """``p``'s outputs on jax values, each equation through ``table(prim)``."""
    env = dict(zip(p.inputs, args, strict=True))
    for e in p.eqns:
        env[e.out] = table(e.prim)(*(env[a] if isinstance(a, str) else a for a in e.ins))
    return [env[a] if isinstance(a, str) else a for a in p.outputs]


_DIFFERENTIABLE: weakref.WeakKeyDictionary[Primitive, Callable[..., Any]] = (
    weakref.WeakKeyDictionary()
)


def differentiable(jax: Any, prim: Primitive) -> Callable[..., Any]:
    """``prim`` as a ``jax.custom_jvp``: its value the table entry, its JVP Σᵢ ∂out/∂inputᵢ ·
    tangentᵢ with the partials from its rule program at g = 1 (rules are linear in g)."""
    found = _DIFFERENTIABLE.get(prim)
    if found is not None:
        return found
    fn = _plain(jax, prim)
    if prim.rule is None:  # comparisons and select: JAX differentiates where itself
        _DIFFERENTIABLE[prim] = fn
        return fn
    jnp = jax.numpy
    rule = prim.rule_program()
    f = jax.custom_jvp(lambda *xs: fn(*xs))  # the primals are exactly the arguments given

    def jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, Any]:
        out = f(*primals)
        partials = run(rule, lambda p: differentiable(jax, p), (1.0, out, *primals))
        total = sum(d * t for d, t in zip(partials, tangents, strict=True))
        return out, jnp.broadcast_to(total, jnp.shape(out))

    f.defjvp(jvp)
    _DIFFERENTIABLE[prim] = f
    return f  # type: ignore[no-any-return]


def lower(program: Program) -> Callable[[Any, Any], tuple[Any, Any]]:
    """``run(xs, ps) -> (outputs (m,), broken)``: the recorded program on jax arrays ``xs``
    (n_inputs,) and ``ps`` (n_params,), every primitive :func:`differentiable`; ``broken``:
    whether a guard does not hold."""
    jax = load_jax()
    jnp = jax.numpy
    fn, _, _ = arrays.compile_batch(
        program,
        "jnp",
        jnp,
        lambda eqn: differentiable(jax, eqn.prim),
        None,
        single=False,
        checks=False,
    )

    def run_one(xs: Any, ps: Any) -> tuple[Any, Any]:
        values, _, _, bad = fn(xs[None, :], ps[:, None], jnp.zeros((0, 1), xs.dtype))
        return values[0], bad[0]

    return run_one


class BatchRunner:
    """The gradient program ``gp`` as a ``jax.jit``-compiled batch function in float64 (see
    :class:`~.to_numpy.Batch` for the arguments and results), the rows split across
    ``jax.devices()`` when there are several and they divide the number of rows."""

    def __init__(
        self, gp: Program, summed: int | None, one_each: bool, exact: bool, single: bool
    ) -> None:
        jax = self.jax = load_jax()
        fn, self.source, self.program = arrays.compile_batch(
            gp,
            "jnp",
            jax.numpy,
            lambda eqn: _plain(jax, eqn.prim, eqn.ieee),
            "jax",
            summed=summed,
            exact=exact,
            single=single,
            one_each=one_each,
        )
        self.fn = jax.jit(fn)
        self.devices = jax.devices()

    def __call__(self, x: Any, ps: Sequence[float], ss: Sequence[float]) -> tuple[Any, ...]:
        import numpy as np

        jax = self.jax
        with float64(jax):
            params = np.asarray(ps, dtype=np.float64).reshape(-1, 1)
            seeds = np.asarray(ss, dtype=np.float64).reshape(-1, 1)
            d = len(self.devices)
            if d > 1 and x.shape[0] % d == 0 and x.shape[0]:
                mesh = jax.sharding.Mesh(np.array(self.devices), ("rows",))
                rows = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("rows"))
                x = jax.device_put(x, rows)
            values, gin, gpar, bad = self.fn(x, params, seeds)
            return values, gin, gpar, np.asarray(bad)
