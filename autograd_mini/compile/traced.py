"""``Traced``: a function traced once, with its programs derived and lowered on demand.

Argument checks, the caches per (backend, kind, wrt, seeds) and the errors live here; the work
is done by the compiler's stages, which exchange programs only: :mod:`.record` (the program),
:mod:`.autodiff` (the gradient program), :mod:`.passes`, and the backends :mod:`.to_python`,
:mod:`.to_numpy` and :mod:`.to_jax`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set as AbstractSet
from typing import Any, Literal, TypeAlias

from autograd_mini.compile import passes, to_jax, to_numpy
from autograd_mini.compile.autodiff import gradient_program
from autograd_mini.compile.record import record, refuse_hooks
from autograd_mini.compile.to_python import compile_python
from autograd_mini.engine import Value
from autograd_mini.program import Atom, Program
from autograd_mini.registry import as_float

__all__ = ["BatchResult", "InputCountError", "TraceGuardError", "Traced", "Wrt"]

Wrt: TypeAlias = Literal["inputs", "params", "all"]
Output: TypeAlias = "float | list[float]"

_WRT = ("inputs", "params", "all")
_SOURCE_KINDS = ("forward", "grad", "sum", "batch", "batch_per_sample", "batch_nodes")
_NUMPY_MISSING = "Traced.batch needs NumPy, an optional extra: pip install autograd_mini[numpy]"


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
    """A function traced once and compiled; see :func:`~autograd_mini.trace`.

    ``forward(xs)`` and ``value_and_grad(xs)`` run compiled float code, ``batch(X)`` compiled
    NumPy (or JAX) code over the rows of ``X``.  Parameters given to :func:`trace` are read
    from their ``.data`` at each call (or passed as ``param_values``), so the same traced
    function keeps working while an optimiser updates them.
    """

    def __init__(
        self,
        f: Callable[..., Any],
        n_inputs: int,
        params: Sequence[Value],
        example: Sequence[float] | None,
        max_nodes: int | None = None,
    ) -> None:
        self.__wrapped__ = f
        self.__doc__ = getattr(f, "__doc__", None)
        self.n_inputs = n_inputs
        self.params: tuple[Value, ...] = tuple(params)
        if example is None:
            data = [_default_example(i) for i in range(n_inputs)]
        else:
            data = _floats(example, n_inputs, "trace: example")
        self.example: tuple[float, ...] = tuple(data)
        """The inputs ``f`` was traced at (``example``, or the placeholders 0.5, 0.6, …)."""
        self.program: Program
        """The recorded program: inputs, parameters, one equation per operation in topological
        order (constants as numbers), the guards and the outputs; ``print(t.program)``."""
        self.program, self.n_outputs = record(f, data, self.params, max_nodes)
        self._cache: dict[Any, Any] = {}
        self._defs = {e.out: e for e in self.program.eqns}

    def _get(self, *key: Any) -> Any:
        """The program or compiled function ``key`` names, built once: ``("program", wrt,
        seeded)``, ``("python", kind, wrt, seeded)`` or ``(backend, wrt, seeded, per_sample,
        method, exact)``."""
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._build(*key)
        return found

    def _build(self, what: str, a: str, b: Any, *more: Any) -> Any:
        if what == "program":
            p = self.program
            wanted = {"inputs": p.inputs, "params": p.params, "all": p.inputs + p.params}[a]
            return passes.dce(passes.cse(passes.fold(gradient_program(p, wanted, b))))
        single = self.n_outputs is None
        if what == "python":
            prog = self.program if a == "forward" else self._get("program", b, more[0])
            return compile_python(prog, a, single, self._guard_error)
        seeded, per_sample, method, exact = b, *more
        summed = None if per_sample or a == "inputs" else (0 if a == "params" else self.n_inputs)
        runner = to_numpy.Batch if what == "numpy" else to_jax.BatchRunner
        return runner(self._get("program", a, seeded), summed, method == "nodes", exact, single)

    # --- introspection ---
    def gradient_program(self, wrt: Wrt = "inputs", *, seeded: bool = False) -> Program:
        """The program computing the values and the gradients by ``wrt``: the recorded
        equations, then each one's derivative rule inlined as primitives, last to first
        (:mod:`autograd_mini.compile.autodiff`), after constant folding, common subexpressions
        and dead-code elimination (:mod:`autograd_mini.compile.passes`).  ``seeded``: the
        outputs' weights are inputs ``s0, s1, …`` (``grad_outputs``)."""
        return self._get("program", _check_wrt(wrt), bool(seeded))  # type: ignore[no-any-return]

    @property
    def source(self) -> str:
        """The generated Python source of ``value_and_grad`` (gradients by inputs and
        parameters): the forward pass, one line per operation, then the backward pass."""
        return self._get("python", "grad", "all", False)[1]  # type: ignore[no-any-return]

    def source_of(
        self,
        kind: Literal["forward", "grad", "sum", "batch", "batch_per_sample", "batch_nodes"],
        wrt: Wrt = "all",
    ) -> str:
        """The source of one of the generated programs: Python (``forward``, ``grad``,
        ``sum``) or NumPy (``batch``: parameter gradients summed over the rows;
        ``batch_per_sample``; ``batch_nodes``: one NumPy operation per equation)."""
        if not isinstance(kind, str) or kind not in _SOURCE_KINDS:
            raise ValueError(
                f"source_of: kind must be one of {', '.join(map(repr, _SOURCE_KINDS))}, "
                f"got {kind!r}"
            )
        mode = _check_wrt(wrt)
        if kind.startswith("batch"):
            method = "nodes" if kind == "batch_nodes" else "levels"
            per_sample = kind == "batch_per_sample"
            return self._get("numpy", mode, False, per_sample, method, False).source  # type: ignore[no-any-return]
        return self._get("python", kind, mode, False)[1]  # type: ignore[no-any-return]

    def _describe(self, a: Atom) -> str:
        if not isinstance(a, str):
            return repr(a)
        i, ni = int(a[1:]), self.n_inputs
        if i < ni:
            return f"input {i}"
        if i < ni + len(self.params):
            return f"parameter {i - ni}"
        return f"node {i} ({self._defs[a].prim.name})"

    @property
    def guards(self) -> list[str]:
        """The recorded comparisons every call re-checks, e.g. ``'node 5 (mul) > 0.0 is True'``."""
        return [
            f"{self._describe(g.lhs)} {g.symbol} {self._describe(g.rhs)} is {g.outcome}"
            for g in self.program.guards
        ]

    def __repr__(self) -> str:
        name = getattr(self.__wrapped__, "__qualname__", repr(self.__wrapped__))
        return (
            f"<traced {name}: {self.n_inputs} inputs, {len(self.params)} params, "
            f"{len(self.program.eqns)} ops, {len(self.program.guards)} guards>"
        )

    def to_jax(self) -> Callable[..., Any]:
        """The traced function as a pure JAX function ``fn(inputs, params=None)`` (shapes
        (n_inputs,) and (n_params,); None: the parameters' values now) returning a scalar, or
        (m,) for a list-valued ``f``.  ``jax.jit``, ``grad``, ``vmap`` and forward mode apply,
        with our derivatives (each primitive a ``jax.custom_jvp`` of its rule).  It computes in
        JAX's dtype for Python floats: float32, unless float64 is enabled (globally, or inside
        ``with jax.enable_x64(True):``), then ``jax.grad`` equals :meth:`value_and_grad` to
        1e-12.  A user op without ``jax=`` runs on the host (``jax.pure_callback``, slower).
        Guards: with concrete inputs a broken one raises :class:`TraceGuardError`; under
        ``jit``/``vmap`` it cannot, so value and gradients are NaN there."""
        run = to_jax.lower(self.program)
        jax = to_jax.load_jax()
        jnp = jax.numpy
        defaults = tuple(p._data for p in self.params)
        ni, npar, single = self.n_inputs, len(self.params), self.n_outputs is None

        def fn(inputs: Any, params: Any = None) -> Any:
            xs = jnp.asarray(inputs, dtype=float)
            if xs.shape != (ni,):
                raise ValueError(f"inputs: expected shape ({ni},), got {tuple(xs.shape)}")
            ps = jnp.asarray(defaults if params is None else params, dtype=xs.dtype)
            if ps.shape != (npar,):
                raise ValueError(f"params: expected shape ({npar},), got {tuple(ps.shape)}")
            outs, bad = run(xs, ps)
            value = outs[0] if single else outs
            if not self.program.guards:
                return value
            try:
                broken = bool(bad)
            except (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError):
                return value * jnp.where(bad, jnp.nan, 1.0)  # traced: poison, cannot raise
            if broken:  # the float code raises the guard's own TraceGuardError
                values = [float(p) for p in jax.device_get(ps)]
                self.forward([float(x) for x in jax.device_get(xs)], param_values=values)
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
        fn = self._get("python", "forward", "all", False)[0]
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
        fn = self._get("python", "grad", mode, bool(seeds))[0]
        return fn(self._inputs(xs), self._param_values(param_values), seeds)  # type: ignore[no-any-return]

    def backward(self, xs: Sequence[float], grad: float = 1.0) -> float:
        """Like ``f(*xs).backward(grad)`` in eager mode for the parameters: adds
        grad·∂value/∂p to ``p.grad`` of every parameter that needs a gradient and returns the
        value."""
        if self.n_outputs is not None:
            raise ValueError("backward needs a function with one output (a Value)")
        seed = as_float(grad, "backward: grad")
        refuse_hooks(self.params, "backward")  # a hook added after tracing: refuse, not skip
        seeded = seed != 1.0
        fn = self._get("python", "grad", "params", seeded)[0]
        value, grads = fn(self._inputs(xs), self._param_values(None), (seed,) if seeded else ())
        for p, gp in zip(self.params, grads, strict=True):
            if p.requires_grad:  # as eager: a parameter that needs no gradient is left alone
                p.grad += gp
        return value  # type: ignore[no-any-return]

    def values_and_summed_grad(
        self,
        rows: Sequence[Sequence[float]],
        *,
        grad_outputs: Sequence[float] | None = None,
        param_values: Sequence[float] | None = None,
    ) -> tuple[list[Output], list[float]]:
        """``(values, summed)``: ``f`` on each row of inputs, and Σ_rows ∂value/∂p for each
        parameter — a training step in one compiled loop, the sums in local variables.
        ``grad_outputs`` weights the outputs as in :meth:`value_and_grad` (required for a
        list-valued ``f``; e.g. ``[1/n, 0.0]`` for ``f`` returning ``[loss, score]``)."""
        seeds = self._seeds(grad_outputs)
        checked = [self._inputs(row) for row in rows]
        fn = self._get("python", "sum", "params", bool(seeds))[0]
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
        exact: bool = False,
    ) -> BatchResult:
        """The gradient program over the rows of ``X`` (shape (n, n_inputs)) at once, with
        NumPy (see :class:`BatchResult`): each group of equations of one primitive at one depth
        is one operation, sums of products are matrix products (another order of addition), so
        results equal :meth:`value_and_grad` row by row to 1e-12; ``exact=True`` keeps eager's
        sums: values and per-row gradients bit for bit (slower; summed parameter gradients are
        sums in another order either way).  ``method="nodes"``: an operation per equation.  A
        row on which the float code raises (a domain error, another branch) raises that error,
        its row number in a note.  Needs NumPy (``pip install autograd_mini[numpy]``).

        ``backend="jax"``: the same program in ``jax.numpy``, jit-compiled once per
        ``wrt``/``per_sample`` (and per batch shape), run in float64 (scoped: the user's JAX
        settings are untouched): eager to 1e-12, except that XLA on CPU flushes subnormal
        numbers (below 2.2e-308) to zero.  Rows are split across several ``jax.devices()``
        when their number divides the rows.  Returns float64 jax arrays (outside a float64
        context, convert them with ``np.asarray`` before computing: JAX would use float32).
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
        if arr.dtype != np.float64:
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"batch: X must hold real numbers, got dtype {arr.dtype}")
            arr = arr.astype(np.float64)
        if arr.ndim == 1 and self.n_inputs == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape[1] != self.n_inputs:
            raise ValueError(
                f"batch: X must have shape (n, {self.n_inputs}), got {tuple(arr.shape)}"
            )
        seeds = self._seeds(grad_outputs)
        ps = self._param_array(np, param_values)
        runner = self._get(backend, mode, bool(seeds), bool(per_sample), method, exact)
        try:
            values, gin, gpar, bad = runner(arr, ps, seeds)
        except Exception:  # a user op's forward raised in the batch: its row raises it below
            bad = None
        if bad is None or bad.any():  # a row's float code may raise, or give inf or NaN
            return self._batch_by_rows(np, arr, mode, per_sample, grad_outputs, ps.tolist())
        return BatchResult(values, gin, gpar, mode)

    # --- helpers ---
    def _batch_by_rows(
        self, np: Any, arr: Any, wrt: str, per_sample: bool, seeds: Any, ps: list[float]
    ) -> BatchResult:
        """:meth:`batch` row by row with :meth:`value_and_grad`: the first row on which the
        float code raises raises (with its row in a note), else eager's very numbers (where a
        row gives inf or NaN, the array code's may differ)."""
        rows = []
        for k, row in enumerate(arr.tolist()):
            try:
                rows.append(self.value_and_grad(row, wrt=wrt, grad_outputs=seeds, param_values=ps))  # type: ignore[arg-type]
            except Exception as error:
                if hasattr(error, "add_note"):  # Python 3.11+
                    error.add_note(f"(in row {k} of the batch)")
                raise
        n, ni = arr.shape[0], self.n_inputs
        value = np.array([v for v, _ in rows], dtype=np.float64).reshape(n, -1)
        grads = np.array([g for _, g in rows], dtype=np.float64).reshape(n, -1)
        per = grads[:, ni if wrt == "all" else 0 :]
        return BatchResult(
            value[:, 0] if self.n_outputs is None else value,
            None if wrt == "params" else grads[:, :ni],
            None if wrt == "inputs" else per if per_sample else per.sum(axis=0),
            wrt,
        )

    def _param_array(self, np: Any, values: Sequence[float] | None) -> Any:
        """The parameter values as a float64 array (one conversion for the whole list)."""
        arr = np.asarray([p._data for p in self.params] if values is None else values)
        if arr.shape != (len(self.params),) or arr.dtype.kind not in "biuf":
            arr = np.array(self._param_values(values))  # the errors of value_and_grad
        return arr.astype(np.float64, copy=False)

    def _inputs(self, xs: Sequence[float]) -> list[float]:
        return _floats(xs, self.n_inputs, "inputs", "this traced function takes {n} inputs")

    def _param_values(self, values: Sequence[float] | None) -> list[float]:
        if values is None:
            return [p._data for p in self.params]  # the slot: no property call per parameter
        if hasattr(values, "dtype") and hasattr(values, "tolist"):  # an array: floats at once
            values = values.tolist()
        return _floats(values, len(self.params), "param_values")

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
        return tuple(as_float(x, f"grad_outputs[{k}]") for k, x in enumerate(grad_outputs))

    def _guard_error(self, k: int, a: float, b: float) -> TraceGuardError:
        g = self.program.guards[k]
        return TraceGuardError(
            f"the traced function would take another branch: the comparison "
            f"{self._describe(g.lhs)} {g.symbol} {self._describe(g.rhs)} was {g.outcome} when "
            f"traced, but is {not g.outcome} now ({a!r} {g.symbol} {b!r}). Tracing specialises "
            "on the path taken (like jax.jit): trace again with an example input that takes "
            "this path"
        )


def _check_wrt(wrt: object) -> str:
    if wrt not in _WRT:
        raise ValueError(f"wrt must be one of {', '.join(map(repr, _WRT))}, got {wrt!r}")
    return str(wrt)


def _default_example(i: int) -> float:
    """Placeholder data: positive, non-integer, different per input (log, sqrt, x / (x - y))."""
    return 0.5 + 0.1 * i if i < 10 else 0.5 + 1.0 / (i + 2)


def _floats(xs: Any, n: int, what: str, count: str = "{what}: expected {n} numbers") -> list[float]:
    """``xs`` as a list of ``n`` floats: TypeError for anything but a sequence of real numbers
    (a dict or a set too: their order is not the caller's), :class:`InputCountError`
    (``count`` says what was expected) for another length."""
    if type(xs) is list and len(xs) == n and set(map(type, xs)) <= {float}:
        return xs  # the common case, checked first
    if isinstance(xs, (str, Mapping, AbstractSet)) or not hasattr(xs, "__len__"):
        raise TypeError(f"{what} must be a sequence of {n} numbers, got {type(xs).__name__}")
    if len(xs) != n:
        raise InputCountError(f"{count.format(what=what, n=n)}, got {len(xs)}")
    return [as_float(x, f"{what}[{i}]") for i, x in enumerate(xs)]
