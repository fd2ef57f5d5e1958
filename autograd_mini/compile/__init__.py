"""The compiler behind :func:`autograd_mini.trace`: stages that read and write programs only.

* :mod:`.record` — run ``f`` once on placeholder Values → a :class:`~autograd_mini.program.Program`;
* :mod:`.autodiff` — the reverse-mode transform: Program → gradient Program of primitives;
* :mod:`.passes` — Program → Program: folding, dead code, common subexpressions, composites,
  dot products, row sums, grouping by depth;
* :mod:`.to_python`, :mod:`.to_numpy`, :mod:`.to_jax` — the backends, one table each;
* :mod:`.traced` — :class:`~.traced.Traced`, the user's handle.

Nothing here imports NumPy or JAX at import time.
"""
