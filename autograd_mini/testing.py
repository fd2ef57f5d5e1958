"""Hypothesis strategies for property-testing gradients (the only module that imports hypothesis).

>>> from hypothesis import given
>>> from autograd_mini.gradcheck import gradcheck
>>> from autograd_mini.testing import expressions, reals
>>> @given(expressions(2), reals(), reals())
... def test_any_expression(f, a, b):
...     assert gradcheck(f, [a, b], order=2)
"""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from autograd_mini.engine import Value
from autograd_mini.registry import OPS, Op

__all__ = ["Expression", "expressions", "reals"]


def reals(
    op: str | Op | None = None,
    *,
    min_value: float = -3.0,
    max_value: float = 3.0,
    margin: float = 1e-2,
) -> st.SearchStrategy[float]:
    """Finite floats in ``[min_value, max_value]`` where ``op`` (a name in :data:`OPS`, e.g.
    ``"log"``, or the :class:`Op` itself, built-in or made by :func:`~autograd_mini.defop`) is
    smooth in its first input: inside its domain and at least ``margin`` away from its kinks
    and domain edges, so central differences with a small step are meaningful there.
    """
    lo, hi = min_value, max_value
    points: tuple[float, ...] = ()
    if op is not None:
        if not isinstance(op, Op):
            if op not in OPS:
                raise ValueError(f"reals: unknown op {op!r}; known: {', '.join(OPS)}")
            op = OPS[op]
        dlo, dhi = op.domain
        lo, hi = max(lo, dlo + margin), min(hi, dhi - margin)
        # only the kinks near the range matter (floor lists two thousand)
        points = tuple(k for k in op.kinks if lo - margin < k < hi + margin)
    if not lo < hi:
        raise ValueError(f"reals: empty range [{lo}, {hi}] for op {op!r}")

    def smooth(x: float) -> bool:
        return all(abs(x - k) >= margin for k in points)

    floats = st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)
    return floats.filter(smooth) if points else floats


def _operand(x: Any) -> Any:
    """An input of an Expression: a Value as is, a real number as a Value, a tensor-like (an
    object with the elementary-function methods, e.g. a torch.Tensor) as is."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) or not hasattr(x, "tanh"):
        return Value(x)  # TypeError naming the type for anything else
    return x


def _softplus(a: Any) -> Any:
    """``a.softplus()``; for a torch.Tensor, which has no such method, torch's own softplus."""
    method = getattr(a, "softplus", None)
    if method is not None:
        return method()
    if type(a).__module__.split(".")[0] == "torch":
        functional = importlib.import_module("torch.nn.functional")  # lazy: optional dependency
        return functional.softplus(a)
    raise TypeError(f"expression: {type(a).__name__} has no softplus")


# Building blocks of random expressions: smooth and defined on all of ℝ, and bounded in growth,
# so any composition is safe for gradcheck on inputs from reals().
_UNARY: dict[str, Callable[[Any], Any]] = {
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "sin": lambda a: a.sin(),
    "cos": lambda a: a.cos(),
    "atan": lambda a: a.atan(),
    "asinh": lambda a: a.asinh(),
    "erf": lambda a: a.erf(),
    "softplus": lambda a: _softplus(a),
    "square": lambda a: a**2,
    "neg": lambda a: -a,
    "exp_tanh": lambda a: a.tanh().exp(),
    "log1p_square": lambda a: (a * a + 1.0).log(),
    "sqrt1p_square": lambda a: (a * a + 1.0).sqrt(),
}
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "pow": lambda a, b: (a * a + 1.0) ** b.tanh(),
    "scale": lambda a, b: 0.5 * a + b * 2.0,
}


@dataclass(frozen=True)
class Expression:
    """A random straight-line program over ``n_inputs`` Values; call it like ``f(*values)``.

    Each step applies one building block to earlier results (inputs or steps), chosen with
    replacement, so subexpressions are shared and the graph is a DAG rather than a tree.  The
    result is the last step.  ``repr`` shows the program, which hypothesis prints on failure.
    """

    n_inputs: int
    steps: tuple[tuple[str, tuple[int, ...]], ...]

    def __call__(self, *inputs: Any) -> Any:
        """The program on ``inputs``: Values (real numbers become Values), or any tensor-like
        objects with the same methods, e.g. float64 torch tensors, to check the very same
        expression against PyTorch."""
        if len(inputs) != self.n_inputs:
            raise TypeError(f"expression takes {self.n_inputs} inputs, got {len(inputs)}")
        pool: list[Any] = [_operand(x) for x in inputs]
        for name, args in self.steps:
            fn: Callable[..., Any] = _UNARY[name] if name in _UNARY else _BINARY[name]
            pool.append(fn(*(pool[i] for i in args)))
        return pool[-1]

    def __repr__(self) -> str:
        lines = [f"x{i}" for i in range(self.n_inputs)]
        names = list(lines)
        for k, (name, args) in enumerate(self.steps):
            names.append(f"t{k}")
            lines.append(f"t{k} = {name}({', '.join(names[i] for i in args)})")
        return "Expression(" + "; ".join(lines[self.n_inputs :]) + ")"


def expressions(n_inputs: int, max_steps: int = 8) -> st.SearchStrategy[Expression]:
    """Random expression DAGs of ``n_inputs`` inputs and 1 to ``max_steps`` operations (plus one
    addition per input the result would otherwise ignore, and one multiplication if nothing was
    shared yet): every expression has a shared subexpression (a value feeding two different
    operations) and its result depends on every input."""
    if n_inputs < 1:
        raise ValueError(f"expressions: n_inputs must be >= 1, got {n_inputs}")
    if max_steps < 1:
        raise ValueError(f"expressions: max_steps must be >= 1, got {max_steps}")

    @st.composite
    def build(draw: st.DrawFn) -> Expression:
        n_steps = draw(st.integers(min_value=1, max_value=max_steps))
        steps: list[tuple[str, tuple[int, ...]]] = []
        for k in range(n_steps):
            size = n_inputs + k
            # operands lean towards recent results (deep graphs) but may reach back (sharing)
            operand = st.integers(min_value=0, max_value=size - 1)
            if draw(st.booleans()):
                name = draw(st.sampled_from(sorted(_BINARY)))
                steps.append((name, (draw(operand), draw(operand))))
            else:
                name = draw(st.sampled_from(sorted(_UNARY)))
                steps.append((name, (draw(operand),)))
        # fold in every input the result does not depend on yet, so each partial is exercised
        depends: list[set[int]] = [{i} for i in range(n_inputs)]
        for _, args in steps:
            depends.append(set().union(*(depends[i] for i in args)))
        for i in range(n_inputs):
            if i not in depends[-1]:
                steps.append(("add", (n_inputs + len(steps) - 1, i)))
                depends.append(depends[-1] | {i})
        # make sure some input or result feeds two different steps the result depends on: a
        # DAG, not a tree (steps whose results are never used do not count)
        live = {n_inputs + len(steps) - 1}
        consumers: dict[int, int] = {}
        for k in range(n_inputs + len(steps) - 1, n_inputs - 1, -1):
            if k in live:
                for i in set(steps[k - n_inputs][1]):
                    live.add(i)
                    consumers[i] = consumers.get(i, 0) + 1
        if all(count < 2 for count in consumers.values()):
            last = n_inputs + len(steps) - 1
            steps.append(("mul", (last, steps[-1][1][0])))
        return Expression(n_inputs, tuple(steps))

    return build()
