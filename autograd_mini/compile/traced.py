"""``Traced``: a function traced once, with its programs compiled on demand per backend.

Argument checks, the caches per (kind, wrt, seeds) and the guard errors live here; the work is
done by the compiler's modules: :mod:`.record` (the graph and its Program), :mod:`.autodiff`
(the gradient Program), :mod:`.to_python`, :mod:`.to_numpy` and :mod:`.to_jax` (lowerings).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence, Set as AbstractSet
from typing import Any, Literal, TypeAlias

from autograd_mini import codegen
from autograd_mini.compile.autodiff import gradient_program
from autograd_mini.compile.program import Program
from autograd_mini.compile.record import Graph, record, to_program
from autograd_mini.compile.to_jax import BatchRunner, load_jax, lower
from autograd_mini.compile.to_numpy import column, columns, compile_levels
from autograd_mini.compile.to_python import compile_python
from autograd_mini.engine import Value, _as_float
from autograd_mini.instrument import refuse_hooks

__all__ = ["BatchResult", "InputCountError", "TraceGuardError", "Traced", "Wrt"]

Wrt: TypeAlias = Literal["inputs", "params", "all"]
Output: TypeAlias = "float | list[float]"

_WRT = ("inputs", "params", "all")
_NUMPY_MISSING = "Traced.batch needs NumPy, an optional extra: pip install autograd_mini[numpy]"


_SOURCE_KINDS = ("forward", "grad", "sum", "batch", "batch_per_sample", "batch_nodes")


class TraceGuardError(ValueError):
    """The inputs make a recorded comparison come out differently from when ``f`` was traced:
    ``f`` would take another branch, which the compiled code does not contain."""


class InputCountError(ValueError, TypeError):
    """Wrong number of inputs (a ValueError, and a TypeError like a call with the wrong number
    of arguments)."""


class BatchResult(tuple[Any, Any]):
    """What :meth:`Traced.batch` returns for ``n`` rows: the pair ``(values, grads)``, like
    :meth:`Traced.value_and_grad`, with every part also by name.

    ``value``: shape (n,) (or (n, m) for m outputs).  ``grad``: shape (n, n_inputs), row k the
    gradient of value k by the inputs of row k (so it is also the gradient of the sum), or None
    when not requested.  ``param_grad``: shape (n_params,), the gradient of the sum of the
    values (per_sample=False), or (n, n_params), one row per sample (per_sample=True); None when
    not requested.  The pair's ``grads`` is ``grad`` for ``wrt="inputs"``, ``param_grad`` for
    ``"params"`` and ``(grad, param_grad)`` for ``"all"``.
    """

    value: Any
    grad: Any
    param_grad: Any

    def __new__(cls, value: Any, grad: Any, param_grad: Any, wrt: str = "all") -> BatchResult:
        chosen = {"inputs": grad, "params": param_grad}.get(wrt, (grad, param_grad))
        result = super().__new__(cls, (value, chosen))
        result.value, result.grad, result.param_grad = value, grad, param_grad
        return result

    def __repr__(self) -> str:
        return (
            f"BatchResult(value={self.value!r}, grad={self.grad!r}, param_grad={self.param_grad!r})"
        )


class Traced:
    """A function traced once and compiled; see :func:`trace`.

    ``forward(xs)`` and ``value_and_grad(xs)`` run compiled float code, ``batch(X)`` compiled
    NumPy code over rows of ``X``.  Parameters given to :func:`trace` are read from their
    ``.data`` at each call (or passed as ``param_values``), so the same traced function keeps
    working while an optimiser updates them.
    """

    def __init__(
        self,
        f: Callable[..., Any],
        n_inputs: int,
        params: Sequence[Value],
        example: Sequence[float] | None,
    ) -> None:
        self.__wrapped__ = f
        self.__doc__ = getattr(f, "__doc__", None)
        self.n_inputs = n_inputs
        self.params: tuple[Value, ...] = tuple(params)
        if example is None:
            data = [_default_example(i) for i in range(n_inputs)]
        else:
            data = _floats(example, n_inputs, "trace: example")
        placeholders = [Value(x, label=f"x{i}") for i, x in enumerate(data)]
        result, comparisons = record(f, placeholders)
        outputs: list[Value | float]
        if isinstance(result, (Value, numbers.Real)):
            self.n_outputs: int | None = None
            outputs = [result if isinstance(result, Value) else _as_float(result, "output")]
        elif isinstance(result, (list, tuple)):
            self.n_outputs = len(result)
            outputs = []
            for k, r in enumerate(result):
                if not isinstance(r, (Value, numbers.Real)):
                    raise TypeError(
                        f"trace: output {k} of f must be a Value or a number, "
                        f"got {type(r).__name__}"
                    )
                outputs.append(r if isinstance(r, Value) else _as_float(r, f"output {k}"))
        else:
            raise TypeError(
                "trace: f must return a Value, a number or a list of them, "
                f"got {type(result).__name__}"
            )
        self._graph = Graph(placeholders, self.params, outputs, comparisons)
        self._compiled: dict[tuple[str, str, bool], tuple[Callable[..., Any], str]] = {}
        self._programs: dict[str, Program] = {}
        self._jax_runners: dict[tuple[str, bool, bool], BatchRunner] = {}

    # --- introspection ---
    @property
    def program(self) -> Program:
        """The recorded program: inputs, parameters, one equation per operation in topological
        order (constants as numbers), the guards and the outputs; ``print(t.program)``."""
        found = self._programs.get("forward")
        if found is None:
            found = self._programs["forward"] = to_program(self._graph)
        return found

    def gradient_program(self, wrt: Wrt = "inputs", *, seeded: bool = False) -> Program:
        """The program computing the values and the gradients by ``wrt`` (see
        :func:`autograd_mini.compile.autodiff.gradient_program`)."""
        mode = _check_wrt(wrt)
        key = f"grad/{mode}/{seeded}"
        found = self._programs.get(key)
        if found is None:
            p = self.program
            wanted = {"inputs": p.inputs, "params": p.params, "all": p.inputs + p.params}[mode]
            found = self._programs[key] = gradient_program(p, wanted, seeded)
        return found

    @property
    def source(self) -> str:
        """The generated Python source of ``value_and_grad`` (gradients by inputs and
        parameters): the forward pass, one line per node, then the backward pass."""
        return self._program("grad", "all", False)[1]

    def source_of(
        self,
        kind: Literal["forward", "grad", "sum", "batch", "batch_per_sample", "batch_nodes"],
        wrt: Wrt = "all",
    ) -> str:
        """The source of one of the generated programs."""
        if not isinstance(kind, str) or kind not in _SOURCE_KINDS:
            raise ValueError(
                f"source_of: kind must be one of {', '.join(map(repr, _SOURCE_KINDS))}, "
                f"got {kind!r}"
            )
        return self._program(kind, _check_wrt(wrt), False)[1]

    @property
    def guards(self) -> list[str]:
        """The recorded comparisons every call re-checks, e.g. ``'node 5 (mul) > 0.0 is True'``."""
        g = self._graph
        return [
            f"{g.describe(a)} {symbol} {g.describe(b)} is {outcome}"
            for a, symbol, b, outcome in g.guards
        ]

    def __repr__(self) -> str:
        name = getattr(self.__wrapped__, "__qualname__", repr(self.__wrapped__))
        g = self._graph
        ops = sum(1 for i, n in enumerate(g.nodes) if n._op is not None and g.dynamic[i])
        return (
            f"<traced {name}: {self.n_inputs} inputs, {len(self.params)} params, {ops} ops, "
            f"{len(g.guards)} guards>"
        )

    def to_jax(self) -> Callable[..., Any]:
        """The traced function as a pure JAX function ``fn(inputs, params=None)``: ``inputs``
        an array of shape (n_inputs,), ``params`` (n_params,) (None: the parameters' values
        now); returns a scalar, or shape (m,) for a list-valued ``f``.  Built from
        ``jax.numpy`` (each op's ``jax=`` lowering), so ``jax.jit``, ``jax.grad`` and
        ``jax.vmap`` apply, and ``jax.grad`` equals :meth:`value_and_grad` to 1e-12.

        Float64: this enables ``jax_enable_x64`` (in float32 JAX would be ~1e-7 from eager).
        Guards: called with concrete inputs, a broken guard raises :class:`TraceGuardError`;
        under ``jit``/``vmap`` it cannot raise, so the value (and with it every gradient) is
        NaN for inputs that take another branch.  An op without a JAX lowering raises
        ``UnsupportedOpError`` (a NotImplementedError) naming it, here, before anything runs.
        """
        program = self.program
        run = lower(program)
        jax = load_jax()
        jnp = jax.numpy
        defaults = tuple(p.data for p in self.params)
        ni, npar, single = self.n_inputs, len(self.params), self.n_outputs is None
        not_concrete = (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError)

        def fn(inputs: Any, params: Any = None) -> Any:
            xs = jnp.asarray(inputs, dtype=jnp.float64)
            if xs.shape != (ni,):
                raise ValueError(f"inputs: expected shape ({ni},), got {tuple(xs.shape)}")
            ps = jnp.asarray(defaults if params is None else params, dtype=jnp.float64)
            if ps.shape != (npar,):
                raise ValueError(f"params: expected shape ({npar},), got {tuple(ps.shape)}")
            outs, ok = run(xs, ps)
            value = outs[0] if single else jnp.stack(outs)
            if not program.guards:
                return value
            try:
                holds = bool(ok)
            except not_concrete:  # traced: poison instead of raising
                return value * jnp.where(ok, 1.0, jnp.nan)
            if not holds:  # the float code raises the guard's own TraceGuardError
                concrete = [float(x) for x in jax.device_get(xs)]
                values = [float(p) for p in jax.device_get(ps)]
                self.forward(concrete, param_values=values)
                raise TraceGuardError(  # JAX's comparison and Python's disagree (NaN, say)
                    f"the traced function would take another branch at {concrete}"
                )
            return value

        fn.__doc__ = f"{self!r} lowered to JAX: fn(inputs, params=None)."
        return fn

    # --- running ---
    def __call__(self, *xs: float) -> Output:
        """``traced(x0, x1, …)`` is ``traced.forward([x0, x1, …])``."""
        return self.forward(xs)

    def forward(
        self, xs: Sequence[float], *, param_values: Sequence[float] | None = None
    ) -> Output:
        """The value of ``f`` at ``xs``: a float, or a list of floats if ``f`` returned a list."""
        fn = self._program("forward", "all", False)[0]
        return fn(self._inputs(xs), self._param_values(param_values), ())  # type: ignore[no-any-return]

    def value_and_grad(
        self,
        xs: Sequence[float],
        *,
        wrt: Wrt = "inputs",
        grad_outputs: Sequence[float] | None = None,
        param_values: Sequence[float] | None = None,
    ) -> tuple[Output, list[float]]:
        """``(value, grads)``: the value as :meth:`forward`, and ∂value/∂x for each input
        (``wrt="inputs"``), for each parameter (``"params"``), or inputs then parameters
        (``"all"``).  For a list-valued ``f``, ``grad_outputs`` (one weight per output) gives
        the gradient of Σ weightₖ·outputₖ, as in ``torch.autograd.grad``."""
        mode = _check_wrt(wrt)
        seeds = self._seeds(grad_outputs)
        fn = self._program("grad", mode, bool(seeds))[0]
        value, grads = fn(self._inputs(xs), self._param_values(param_values), seeds)
        # 0.0 + g: eager accumulates every gradient onto 0.0, which turns -0.0 into 0.0 (the
        # gradient program's final `g = add 0.0 g`, applied here so the source keeps one line per
        # node; a comprehension, not map((0.0).__add__, …), which costs a call per gradient)
        return value, [0.0 + g for g in grads]

    def backward(self, xs: Sequence[float], grad: float = 1.0) -> float:
        """Like ``f(*xs).backward(grad)`` in eager mode for the parameters: adds
        grad·∂value/∂p to ``p.grad`` of every parameter and returns the value."""
        if self.n_outputs is not None:
            raise ValueError("backward needs a function with one output (a Value)")
        seed = _as_float(grad, "backward: grad")
        refuse_hooks(self.params, "backward")  # a hook added after tracing: refuse, not skip
        fn = self._program("grad", "params", seed != 1.0)[0]
        value, grads = fn(
            self._inputs(xs), self._param_values(None), (seed,) if seed != 1.0 else ()
        )
        for p, gp in zip(self.params, grads, strict=True):
            p.grad += gp
        return value  # type: ignore[no-any-return]

    def values_and_summed_grad(
        self,
        rows: Sequence[Sequence[float]],
        *,
        grad_outputs: Sequence[float] | None = None,
        param_values: Sequence[float] | None = None,
    ) -> tuple[list[Output], list[float]]:
        """``(values, summed)``: the value of ``f`` on each row of inputs, and
        Σ_rows ∂value/∂p for each parameter — a training step's losses and gradient in one
        compiled loop, with the gradient sums kept in local variables.

        ``grad_outputs`` weights the outputs as in :meth:`value_and_grad` (required for a
        list-valued ``f``; e.g. ``[1/n, 0.0]`` for ``f`` returning ``[loss, score]``)."""
        seeds = self._seeds(grad_outputs)
        checked = [self._inputs(row) for row in rows]
        fn = self._program("sum", "params", bool(seeds))[0]
        return fn(checked, self._param_values(param_values), seeds)  # type: ignore[no-any-return]

    def batch(
        self,
        X: Any,  # noqa: N803 - the data matrix, as in NumPy/scikit-learn
        *,
        wrt: Wrt = "inputs",
        per_sample: bool = False,
        grad_outputs: Sequence[float] | None = None,
        param_values: Sequence[float] | None = None,
        method: Literal["levels", "nodes"] = "levels",
        backend: Literal["numpy", "jax"] = "numpy",
    ) -> BatchResult:
        """Run the compiled program over the rows of ``X`` (shape (n, n_inputs)) at once, with
        NumPy arrays (one per node, the batch on axis 0).  See :class:`BatchResult`.

        ``backend="jax"``: the program lowered to JAX (:meth:`to_jax`) runs as
        ``jit(vmap(value_and_grad))``, compiled once per ``wrt``/``per_sample`` (and again by
        JAX per batch shape), and with several ``jax.devices()`` the rows are split across
        them (parameter gradients summed across devices).  Same shapes, as jax arrays
        (float64; sharded by rows on several devices).  A batch where some row breaks a guard
        or gives a non-finite number is redone on the host: the row's exception (e.g.
        :class:`TraceGuardError`) is raised as with NumPy, else the NumPy result is returned.
        Needs jax (``pip install autograd_mini[jax]``).

        The results equal :meth:`value_and_grad` row by row: the NumPy code is derived from the
        same rules, and ``exp``/``log``/``tanh``/``**``/… are ``math``'s own, element by element
        (NumPy's differ in the last bit, which 1 − tanh² near ±1 magnifies).  A row on
        which the scalar code would raise (a domain error, a changed branch) makes ``batch``
        raise that same exception, with the row number in a note.
        ``method="levels"`` (default) runs one NumPy operation per group of same-op nodes at
        the same depth; ``"nodes"`` one per node (more, smaller operations; gradients summed in
        exactly the eager order).  Needs NumPy (``pip install autograd_mini[numpy]``).
        """
        if method not in ("levels", "nodes"):
            raise ValueError(f"batch: method must be 'levels' or 'nodes', got {method!r}")
        if backend not in ("numpy", "jax"):
            raise ValueError(f"batch: backend must be 'numpy' or 'jax', got {backend!r}")
        try:
            import numpy as np
        except ImportError:
            raise ImportError(_NUMPY_MISSING) from None
        mode = _check_wrt(wrt)
        arr = np.asarray(X)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"batch: X must hold real numbers, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        if arr.ndim == 1 and self.n_inputs == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape[1] != self.n_inputs:
            raise ValueError(
                f"batch: X must have shape (n, {self.n_inputs}), got {tuple(arr.shape)}"
            )
        n = arr.shape[0]
        seeds = self._seeds(grad_outputs)
        ps = self._param_values(param_values)
        if backend == "jax":
            key = (mode, bool(per_sample), bool(seeds))
            runner = self._jax_runners.get(key)
            if runner is None:
                runner = BatchRunner(self.program, self.n_outputs, mode, per_sample, bool(seeds))
                self._jax_runners[key] = runner
            values, gin, gpar, bad = runner(arr, ps, seeds)
            if not bad:
                return BatchResult(values, gin, gpar, mode)
            self._raise_for_first_bad_row(arr, ps)
            backend = "numpy"  # no row fails in float code: a legitimate inf or NaN
        cols = list(np.ascontiguousarray(arr.T))
        kind = "batch_nodes"
        if method == "levels":
            kind = "batch_per_sample" if per_sample else "batch"
        fn = self._program(kind, mode, bool(seeds))[0]
        try:
            with np.errstate(all="ignore"):
                values, gin, gpar = fn(cols if kind == "batch_nodes" else arr.T.copy(), ps, seeds)
        except (codegen.BatchFailureError, ArithmeticError, ValueError):
            self._raise_for_first_bad_row(arr, ps)
            # no row fails in float code: NumPy flagged what Python does not (numpy.power
            # overflows for 1e300 ** inf, Python's ** gives inf), so run the rows in float code
            return self._batch_by_rows(np, arr, wrt, per_sample, grad_outputs, ps)
        single = self.n_outputs is None
        value = np.array(column(np, values[0], n)) if single else columns(np, values, n)
        if kind != "batch_nodes":  # arrays (k, n); parameters (P,) summed or (P, n)
            grad = None if mode == "params" else np.ascontiguousarray(gin.T)
            param_grad = None
            if mode != "inputs":
                param_grad = np.ascontiguousarray(gpar.T) if per_sample else gpar
            return BatchResult(value, grad, param_grad, mode)
        # + 0.0: eager's sign of zero (see _Builder.backward)
        grad = None if mode == "params" else columns(np, gin, n) + 0.0
        param_grad = None
        if mode != "inputs":
            per = columns(np, gpar, n) + 0.0
            param_grad = per if per_sample else per.sum(axis=0)
        return BatchResult(value, grad, param_grad, mode)

    # --- helpers ---
    def _batch_by_rows(
        self,
        np: Any,
        arr: Any,
        wrt: Wrt,
        per_sample: bool,
        grad_outputs: Sequence[float] | None,
        ps: Sequence[float],
    ) -> BatchResult:
        """:meth:`batch` computed row by row with :meth:`value_and_grad` (the fallback where
        the NumPy program stops on an error the float code does not raise)."""
        n, ni, npar = arr.shape[0], self.n_inputs, len(self.params)
        values, grads = [], []
        for row in arr.tolist():
            value, g = self.value_and_grad(row, wrt=wrt, grad_outputs=grad_outputs, param_values=ps)
            values.append(value)
            grads.append(g)
        shape = (n,) if self.n_outputs is None else (n, self.n_outputs)
        value_array = np.array(values, dtype=np.float64).reshape(shape)
        grad = None
        if wrt != "params":
            grad = np.array([g[:ni] for g in grads], dtype=np.float64).reshape(n, ni)
        param_grad = None
        if wrt != "inputs":
            skip = ni if wrt == "all" else 0
            per = np.array([g[skip:] for g in grads], dtype=np.float64).reshape(n, npar)
            param_grad = per if per_sample else per.sum(axis=0)
        return BatchResult(value_array, grad, param_grad, wrt)

    def _raise_for_first_bad_row(self, arr: Any, ps: Sequence[float]) -> None:
        forward = self._program("forward", "all", False)[0]
        for k, row in enumerate(arr.tolist()):
            try:
                forward(row, ps, ())
            except Exception as error:
                if hasattr(error, "add_note"):
                    error.add_note(f"(in row {k} of the batch)")
                raise

    def _inputs(self, xs: Sequence[float]) -> list[float]:
        if type(xs) is not list and isinstance(xs, (Mapping, AbstractSet)):
            # iterating a dict gives its keys, a set an arbitrary order: never what was meant
            raise TypeError(
                f"inputs must be a sequence of {self.n_inputs} numbers, got {type(xs).__name__}"
            )
        try:
            n = len(xs)
        except TypeError:
            raise TypeError(
                f"inputs must be a sequence of {self.n_inputs} numbers, got {type(xs).__name__}"
            ) from None
        if n != self.n_inputs:
            raise InputCountError(f"this traced function takes {self.n_inputs} inputs, got {n}")
        return [x if type(x) is float else _as_float(x, f"inputs[{i}]") for i, x in enumerate(xs)]

    def _param_values(self, values: Sequence[float] | None) -> list[float]:
        if values is None:
            return [p._data for p in self.params]  # the slot: no property call per parameter
        if len(values) != len(self.params):
            raise InputCountError(
                f"param_values: expected {len(self.params)} numbers, got {len(values)}"
            )
        return [
            x if type(x) is float else _as_float(x, f"param_values[{i}]")
            for i, x in enumerate(values)
        ]

    def _seeds(self, grad_outputs: Sequence[float] | None) -> tuple[float, ...]:
        if grad_outputs is None:
            if self.n_outputs is not None and self.n_outputs != 1:
                raise ValueError(
                    f"f returned {self.n_outputs} outputs: pass grad_outputs (one weight per "
                    "output) to get the gradient of their weighted sum"
                )
            return ()
        m = 1 if self.n_outputs is None else self.n_outputs
        if len(grad_outputs) != m:
            raise ValueError(f"grad_outputs: expected {m} numbers, got {len(grad_outputs)}")
        return tuple(_as_float(x, f"grad_outputs[{k}]") for k, x in enumerate(grad_outputs))

    def _program(self, kind: str, wrt: str, seeded: bool) -> tuple[Callable[..., Any], str]:
        key = (kind, wrt, seeded)
        found = self._compiled.get(key)
        if found is None:
            gp = self.gradient_program(_check_wrt(wrt), seeded=seeded)  # type: ignore[arg-type]
            if kind in ("batch", "batch_per_sample"):
                found = compile_levels(self._graph, gp, kind == "batch")
            else:
                single = self.n_outputs is None
                n = len(self.program.eqns)
                backward = None if kind == "forward" else gp
                found = compile_python(
                    self._graph, kind, wrt, backward, n, single, self._guard_error
                )
            self._compiled[key] = found
        return found

    def _guard_error(self, k: int, a: float, b: float) -> TraceGuardError:
        g = self._graph
        ia, symbol, ib, outcome = g.guards[k]
        return TraceGuardError(
            f"the traced function would take another branch: the comparison "
            f"{g.describe(ia)} {symbol} {g.describe(ib)} was {outcome} when traced, but is "
            f"{not outcome} now ({a!r} {symbol} {b!r}). Tracing specialises on the path taken "
            "(like jax.jit): trace again with an example input that takes this path"
        )


def _check_wrt(wrt: object) -> str:
    if wrt not in _WRT:
        raise ValueError(f"wrt must be one of {', '.join(map(repr, _WRT))}, got {wrt!r}")
    return str(wrt)


def _default_example(i: int) -> float:
    """Placeholder data: positive, non-integer and different per input, so that ``log``,
    ``sqrt``, ``x / (x - y)`` and non-integer powers are defined while tracing."""
    return 0.5 + 0.1 * i if i < 10 else 0.5 + 1.0 / (i + 2)


def _floats(xs: object, n: int, what: str) -> list[float]:
    if not isinstance(xs, Sequence) or isinstance(xs, str):
        raise TypeError(f"{what} must be a sequence of {n} numbers, got {type(xs).__name__}")
    if len(xs) != n:
        raise InputCountError(f"{what}: expected {n} numbers, got {len(xs)}")
    return [_as_float(x, f"{what}[{i}]") for i, x in enumerate(xs)]
