"""The compiler behind :func:`autograd_mini.trace`, stages that read and write programs only:
:mod:`.record` (f → a :class:`~autograd_mini.program.Program`), :mod:`.autodiff` (→ its
gradient program of primitives), :mod:`.passes` (program → program), the backends
:mod:`.to_python`, :mod:`.to_numpy` and :mod:`.to_jax` (one table each, NumPy and JAX sharing
:mod:`.arrays`), and :mod:`.traced` (the user's handle).  Nothing here imports NumPy or JAX at
import time.
"""
