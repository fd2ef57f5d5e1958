"""The NumPy backend of ``Traced.batch``: its table of primitives and its driver.

The table: the vocabulary's arithmetic (``np.add``, ``np.where``, …); a primitive's ``numpy``
entry, chosen to equal its float forward bit for bit (``np.sqrt``, ``np.fabs``), or a user's
``defop(..., numpy=...)``; a composite without one is its ``defn``; anything else is the float
function element by element (``math.tanh``: NumPy's own differs in the last bit, which
``1 − tanh²`` near saturation magnifies to 1e-9) — ``forward`` for a forward equation,
``ieee`` for a rule's.  It runs with NumPy's floating-point warnings off (IEEE results); the
rows whose float code may raise are redone by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autograd_mini.compile import arrays
from autograd_mini.program import Eqn, Program

__all__ = ["Batch", "vectorised"]


def vectorised(np: Any, fn: Callable[..., float], nin: int) -> Callable[..., Any]:
    """``fn`` applied element by element to arrays (broadcast), as a float64 array."""
    ufunc = np.frompyfunc(fn, nin, 1)
    return lambda *xs: np.asarray(ufunc(*xs), dtype=np.float64)


def _broadcast(np: Any, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A user's lowering, its result broadcast to its operands' shape (it may return a scalar)."""

    def call(*xs: Any) -> Any:
        shape = np.broadcast_shapes(*(np.shape(x) for x in xs))
        return np.broadcast_to(np.asarray(fn(*xs), dtype=np.float64), shape)

    return call


def _entry(np: Any, eqn: Eqn) -> Any:
    prim = eqn.prim
    name = arrays.builtin_name(prim) or prim.numpy
    if isinstance(name, str):
        if not name.isidentifier():  # it is written into the source as np.<name>
            raise TypeError(f"{prim.name}: numpy= must name a NumPy function, got {name!r}")
        return name
    if name is not None:
        return _broadcast(np, name)
    return vectorised(np, prim.ieee if eqn.ieee else prim.forward, len(eqn.ins))


class Batch:
    """The gradient program ``gp`` as a NumPy batch function; ``summed``: the index of the
    first gradient to sum over the rows (the parameters'; None: per row).  Calling it with
    (X (n, k), parameter values (P,), seeds) returns (values (n,) or (n, m), input gradients
    (n, k) or None, parameter gradients (P,) or (n, P) or None, bad rows (n,))."""

    def __init__(
        self, gp: Program, summed: int | None, one_each: bool, exact: bool, single: bool
    ) -> None:
        import numpy as np

        self.np = np
        self.fn, self.source, self.program = arrays.compile_batch(
            gp,
            "np",
            np,
            lambda eqn: _entry(np, eqn),
            "numpy",
            summed=summed,
            exact=exact,
            single=single,
            one_each=one_each,
        )

    def __call__(self, X: Any, ps: Any, ss: Sequence[float]) -> Any:  # noqa: N803
        np = self.np
        seeds = np.array(ss, dtype=np.float64).reshape(-1, 1)
        with np.errstate(all="ignore"):
            return self.fn(X, ps.reshape(-1, 1), seeds)
