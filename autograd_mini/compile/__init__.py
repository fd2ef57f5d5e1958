"""The compiler behind :func:`autograd_mini.trace`, one job per module (after JAX's autodidax):

* :mod:`.program` — the IR: a :class:`~.program.Program` of equations ``out = op in…``;
* :mod:`.record` — run ``f`` once on placeholder Values → the graph and its Program;
* :mod:`.autodiff` — the one reverse-mode transform: Program → gradient Program;
* :mod:`.interpret` — a reference evaluator of Programs on Python floats;
* :mod:`.to_jax` — Program → a pure ``jax.numpy`` function (jax imported only there, lazily).

Nothing here imports NumPy or JAX at import time.
"""
