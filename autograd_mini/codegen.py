"""Turn the rules of :mod:`autograd_mini.ops` into straight-line code for :mod:`~.trace`.

(This module is the public face of three: :mod:`autograd_mini.compile.rule_ast` (templates),
:mod:`~autograd_mini.compile.inline` (specialise and simplify) and
:mod:`~autograd_mini.compile.vectorise` (NumPy).)

There is one copy of the calculus, the table in ``ops.py``.  This module reads the source of an
op's ``forward`` and ``vjp`` functions (their AST), and *inlines* it at each node of a traced
graph: parameters become the node's variables (or float literals for constants), locals get a
per-node prefix, and every ``return`` becomes an assignment, so the rule's own ``if``\\s remain as
``if`` statements.  Then a few exact simplifications:

* constant folding: ``float(c)``, comparisons and arithmetic of constants, ``type(v) is float``
  (every value in compiled code is a float), ``1.0 * e`` → ``e``, ``if`` on a constant;
* copy propagation of locals assigned once (``xf = x``), and dead-code elimination of what no
  needed gradient uses (the slope of ``x ** 2`` by its exponent is never computed).

For :meth:`Traced.batch` the same inlined statements are *vectorised* (:class:`Vectoriser`): each
``if`` is if-converted (both branches computed on the whole array, then merged with
``numpy.where``), ``a if c else b`` becomes ``numpy.where(c, a, b)``, ``and``/``or``/``not``
become ``numpy.logical_*``, ``float(e)`` becomes ``e``, ``math.f`` becomes ``numpy.f`` (then
``math.f`` element by element where the two can differ in the last bit), and a
``raise`` becomes "fail if any row reaches this point" (the caller then re-runs the failing row
with the scalar code to raise the very exception eager mode raises).  So the batched program is
derived from the rules too; the only hand-written NumPy is :data:`NUMPY_HELPERS` and the
``math`` → ``numpy`` name table, both checked against the scalar rules by property tests.

Nothing here ever puts user text into source: names are generated (``v12``, ``g12``), constants
are emitted with ``repr`` of floats (``_inf``/``_nan`` for the non-finite ones), and all other code
comes from ``ops.py``.  A rule this module cannot inline (a construct outside the small subset
below, or a function defined outside ``ops.py``) is called as a function instead, and element by
element in a batch: slower, same result.
"""

from __future__ import annotations

from autograd_mini.compile.inline import inline_rule
from autograd_mini.compile.rule_ast import (
    _CONST_NAMES as _CONST_NAMES,
    _EXACT_IN_NUMPY as _EXACT_IN_NUMPY,
    _MATH_TO_NUMPY as _MATH_TO_NUMPY,
    NUMPY_HELPERS,
    BatchFailureError,
    CannotInlineError,
    CannotVectoriseError,
    const_ast,
    const_value,
)
from autograd_mini.compile.vectorise import Vectoriser, scalar_namespace, vector_namespace

__all__ = [
    "NUMPY_HELPERS",
    "BatchFailureError",
    "CannotInlineError",
    "CannotVectoriseError",
    "Vectoriser",
    "const_ast",
    "const_value",
    "inline_rule",
    "scalar_namespace",
    "vector_namespace",
]
