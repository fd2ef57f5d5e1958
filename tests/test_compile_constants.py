"""compile: only Python floats reach generated code, and compiled results keep eager's sign of
zero (issue 13, items 1 and 10)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from autograd_mini import Value, trace

try:
    import numpy as np
except ImportError:  # pragma: no cover - numpy is the optional extra `numpy`
    np = None
needs_numpy = pytest.mark.skipif(np is None, reason="batch needs NumPy (extra `numpy`)")


class Evil:
    """Not a number; its repr is code that must never reach generated source."""

    ran = False

    # arithmetic works (eager tracing gets through it); only its data is not a number
    def __mul__(self, other: object) -> float:
        return 2.0 * float(other)  # type: ignore[arg-type]

    __rmul__ = __radd__ = __add__ = __mul__

    def __repr__(self) -> str:
        Evil.ran = True
        return "__import__('os').system('echo pwned')"


def same(a: float, b: float) -> bool:
    """Equal including the sign of zero (NaN equals NaN)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def smuggle(v: Value, data: object) -> None:
    """Put ``data`` in the Value past the ``.data`` setter (which itself keeps floats): the
    compiler must be safe on its own."""
    slot = "_data" if hasattr(v, "_data") else "data"
    object.__setattr__(v, slot, data)


def test_a_constant_that_is_not_a_number_is_a_type_error_naming_it() -> None:
    c = Value(2.0, label="c")
    smuggle(c, Evil())
    with pytest.raises(TypeError, match=r"constant node \d+ \(label 'c'\).*Evil"):
        trace(lambda x: x * c, 1)
    assert not Evil.ran  # its repr was never called


@pytest.mark.parametrize("bad", [Evil(), 1j])
def test_constants_that_are_not_real_numbers_are_refused(bad: object) -> None:
    c = Value(2.0)
    smuggle(c, bad)
    with pytest.raises(TypeError, match="constant"):
        trace(lambda x: x * c, 1)


@needs_numpy
def test_a_numpy_scalar_constant_becomes_a_python_float() -> None:
    c = Value(1.0)
    c.data = np.float32(2.0)  # type: ignore[assignment]
    assert type(c.data) is float or not hasattr(c, "_data")
    smuggle(c, np.float32(2.0))  # and even past the setter
    t = trace(lambda x: x * c, 1)
    assert "2.0" in t.source and "float32" not in t.source
    assert t.forward([3.0]) == 6.0
    assert t.program.consts == (2.0,) and type(t.program.consts[0]) is float


def test_an_int_subclass_constant_is_written_as_a_plain_float() -> None:
    class Loud(int):
        def __repr__(self) -> str:
            return "print('hi')"

    c = Value(1.0)
    smuggle(c, Loud(3))
    t = trace(lambda x: x + c, 1)
    assert "print" not in t.source and t.forward([1.0]) == 4.0


def test_times_negative_zero_has_eagers_positive_zero_gradient() -> None:
    t = trace(lambda x: x * -0.0, 1)
    _, (g,) = t.value_and_grad([0.5])
    x = Value(0.5)
    (x * -0.0).backward()
    assert same(g, x.grad) and math.copysign(1.0, g) == 1.0


def eager_value_and_grad(f: object, xs: list[float]) -> tuple[float, list[float]]:
    vs = [Value(x) for x in xs]
    out = f(*vs)  # type: ignore[operator]
    out.backward()
    return out.data, [v.grad for v in vs]


ZEROISH = st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, -3.0])
SHAPES = [
    lambda c: lambda x, y: x * c,
    lambda c: lambda x, y: x * c + y * c,
    lambda c: lambda x, y: (x * c) * (y * c),
    lambda c: lambda x, y: (x * c).tanh() + x * y,
    lambda c: lambda x, y: x * c - y,
    lambda c: lambda x, y: (x - x) * c * y,
    lambda c: lambda x, y: -(x * c) + (y * c).relu(),
]


@settings(max_examples=80, deadline=None)
@given(ZEROISH, ZEROISH, ZEROISH, st.sampled_from(range(len(SHAPES))))
def test_compiled_gradients_equal_eager_including_the_sign_of_zero(
    c: float, a: float, b: float, shape: int
) -> None:
    f = SHAPES[shape](c)
    t = trace(f, 2)
    value, grads = t.value_and_grad([a, b])
    ev, eg = eager_value_and_grad(f, [a, b])
    assert same(value, ev)
    assert all(same(x, y) for x, y in zip(grads, eg, strict=True)), (grads, eg)
    if np is not None:
        for method in ("levels", "nodes"):
            r = t.batch(np.array([[a, b]]), method=method)  # type: ignore[arg-type]
            assert all(same(float(x), y) for x, y in zip(r.grad[0], eg, strict=True)), method


# --- an op's own NumPy lowering (defop(..., numpy=...)) ---------------------------------------


def _cube_forward(x: float) -> float:
    return float(math.prod([x, x, x]))


def _cube_vjp(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * 3.0 * x * x,)


@needs_numpy
def test_batch_uses_an_ops_numpy_lowering_and_otherwise_its_float_forward() -> None:
    from autograd_mini import defop

    calls: list[int] = []

    def cube_np(x: object) -> object:
        calls.append(1)
        return np.asarray(x) ** 3

    lowered = defop("t_cube_np", _cube_forward, _cube_vjp, numpy=cube_np)
    plain = defop("t_cube_plain", _cube_forward, _cube_vjp)
    X = np.array([[0.5], [-1.5], [2.0]])
    for op in (lowered, plain):
        t = trace(lambda x, op=op: op(x).tanh(), 1)
        r = t.batch(X)
        for k, (x,) in enumerate(X.tolist()):
            value, (g,) = t.value_and_grad([x])
            assert math.isclose(r.value[k], value, rel_tol=1e-12)
            assert math.isclose(r.grad[k, 0], g, rel_tol=1e-12)
    assert calls, "the numpy= lowering was not used"


@needs_numpy
def test_a_numpy_lowering_that_gives_nan_falls_back_to_the_float_code() -> None:
    from autograd_mini import defop

    cube = defop("t_cube_nan", _cube_forward, _cube_vjp, numpy=lambda x: np.full_like(x, np.nan))
    t = trace(lambda x: cube(x), 1)
    r = t.batch(np.array([[2.0], [3.0]]), wrt="all", per_sample=True)
    assert r.value.tolist() == [8.0, 27.0]  # the float forward's, not the lowering's NaN
    assert r.grad.tolist() == [[12.0], [27.0]]
