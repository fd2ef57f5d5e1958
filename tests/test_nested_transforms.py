"""Transformations inside transformations (jvp of jvp, jvp of jacobian, ...): the inner one
returns recorded Values, so the outer derivative is right, never a silent 0."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest
from hypothesis import assume, given, strategies as st

from autograd_mini import Value, hessian, hvp, jacobian, jvp, topological_order
from autograd_mini.gradcheck import numerical_grad
from autograd_mini.testing import Expression, expressions


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def two(lo: float = -2.0, hi: float = 2.0) -> st.SearchStrategy[list[float]]:
    return st.lists(st.floats(lo, hi, allow_nan=False), min_size=2, max_size=2)


def nonzero_two() -> st.SearchStrategy[list[float]]:
    """Inputs for third derivatives against PyTorch, which drops ∂(aᵇ)/∂b's own derivative at
    b = 0 (its ``where(b == 0, 0, …)``): the testing expressions' pow has b = tanh(x), so
    x = 0 would make PyTorch's third derivative wrong (central differences agree with ours)."""
    return st.lists(st.floats(-2.0, 2.0).filter(lambda x: abs(x) > 1e-3), min_size=2, max_size=2)


# --- by hand ----------------------------------------------------------------------------------


def test_jvp_of_jvp_is_the_second_derivative() -> None:
    # d²/dx² x³ = 6x
    value, second = jvp(lambda x: jvp(lambda y: y * y * y, [x], [1.0])[1], [2.0], [1.0])
    assert (value, second) == (12.0, 12.0)


def test_inner_jvp_of_a_closure_over_the_outer_input_is_differentiated() -> None:
    # inner: d/dy (x·y) = x; outer: d/dx x = 1 (no perturbation confusion: the inner tangent
    # flows only from the inner input)
    assert jvp(lambda x: jvp(lambda y: x * y, [1.0], [1.0])[1], [2.0], [1.0]) == (2.0, 1.0)
    # d/dx [d/dy (x·y)]|y=x = d/dx x = 1, although the inner input is the outer one
    assert jvp(lambda x: jvp(lambda y: x * y, [x], [1.0])[1], [3.0], [1.0]) == (3.0, 1.0)


def test_one_value_passed_twice_is_two_inputs_of_the_inner_jvp() -> None:
    # g(a, b) = a·b², ∂g along (1, 0) is b²; at a = b = x: x², whose derivative is 2x
    inner = lambda x: jvp(lambda a, b: a * b * b, [x, x], [1.0, 0.0])[1]  # noqa: E731
    assert jvp(inner, [3.0], [1.0]) == (9.0, 6.0)


def test_inner_tangent_may_depend_on_the_outer_input() -> None:
    # d/dy y² along t = x at y = x: 2x·x = 2x², derivative 4x
    assert jvp(lambda x: jvp(lambda y: y * y, [x], [x])[1], [1.5], [1.0]) == (4.5, 6.0)


def test_jvp_of_jacobian_hessian_and_hvp() -> None:
    # f(y) = y⁴ x: J = 4y³x; at y = x: 4x⁴, derivative 16x³
    _, d = jvp(lambda x: jacobian(lambda y: y**4 * x, [x])[0][0], [2.0], [1.0])
    assert d == 128.0
    # hessian of y³: 6y, derivative 6
    _, d = jvp(lambda x: hessian(lambda y: y * y * y, [x])[0][0], [2.0], [1.0])
    assert d == 6.0
    # hvp of y³ along v = 1: 6y; derivative 6
    _, d = jvp(lambda x: hvp(lambda y: y * y * y, [x], [1.0])[0], [2.0], [1.0])
    assert d == 6.0
    _, d = jvp(lambda x: jacobian(lambda y: y**4, [x], strategy="forward-mode")[0][0], [1.0], [1.0])
    assert d == 12.0


def test_transformations_of_jvp() -> None:
    assert jacobian(lambda x: jvp(lambda y: y.sin(), [x], [1.0])[1], [2.0]) == [[-math.sin(2.0)]]
    # f(x) = d/dx x³ = 3x²: hessian 6
    assert hessian(lambda x: jvp(lambda y: y * y * y, [x], [1.0])[1], [1.0]) == [[6.0]]


def test_inner_vector_and_outer_transformations_of_every_kind() -> None:
    # hvp of y³ along v = x at y = x: 6x·x, derivative 12x
    assert jvp(lambda x: hvp(lambda y: y * y * y, [x], [x])[0], [2.0], [1.0]) == (24.0, 24.0)
    # d²/dx² of (d²/dy² y⁴ = 12y²) = 24
    assert hessian(lambda x: hvp(lambda y: y * y * y * y, [x], [1.0])[0], [1.0]) == [[24.0]]
    # the Jacobian of the first Hessian row [2b, 2a] of a²b
    got = jacobian(lambda x, y: hessian(lambda a, b: a * a * b, [x, y])[0], [1.0, 2.0])
    assert got == [[0.0, 2.0], [2.0, 0.0]]


def test_top_level_results_stay_floats() -> None:
    value, dot = jvp(lambda x: x * x, [Value(3.0)], [1.0])
    assert type(value) is float and type(dot) is float
    assert all(type(e) is float for row in jacobian(lambda x: x * x, [2.0]) for e in row)
    assert all(type(e) is float for e in hvp(lambda x: x * x * x, [2.0], [1.0]))


def test_nesting_in_one_thread_does_not_leak_into_another() -> None:
    seen: list[object] = []

    def other() -> None:
        seen.append(type(jvp(lambda y: y * y, [2.0], [1.0])[1]))

    def f(x: Value) -> Value:
        t = threading.Thread(target=other)
        t.start()
        t.join()
        return x

    jvp(f, [1.0], [1.0])
    assert seen == [float]


def test_an_exception_in_f_leaves_the_top_level_as_it_was() -> None:
    def bad(x: Value) -> Value:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        jvp(bad, [1.0], [1.0])
    assert type(jvp(lambda y: y * y, [2.0], [1.0])[1]) is float


# --- against finite differences and PyTorch ---------------------------------------------------


@given(expressions(2), two(), two(), two())
def test_jvp_of_jvp_matches_differences_of_the_inner_jvp(
    f: Expression, xs: list[float], t1: list[float], t2: list[float]
) -> None:
    def inner(*v: Any) -> Any:
        return jvp(f, list(v), t1)[1]

    _, second = jvp(inner, xs, t2)
    (numeric,) = numerical_grad(
        lambda s: inner(*[x + s * t for x, t in zip(xs, t2, strict=True)]), [0]
    )
    assert second == pytest.approx(numeric, rel=1e-5, abs=1e-5)


def _torch_drops_a_term(f: Expression, xs: list[float]) -> bool:
    """Whether f raises something to the power 0 exactly: there torch writes d/dx of xⁿ as
    where(n == 0, 0, n·xⁿ⁻¹), whose derivative in n it drops (ours keeps it: see ops.py)."""
    vs = [Value(x) for x in xs]
    return any(n.op == "pow" and n.parents[1].data == 0.0 for n in topological_order(f(*vs)))


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@given(expressions(2), two(), two(), two())
def test_jvp_of_jvp_matches_torch_func(
    f: Expression, xs: list[float], t1: list[float], t2: list[float]
) -> None:
    torch = pytest.importorskip("torch")
    func = torch.func
    assume(not _torch_drops_a_term(f, xs))

    def tensors(v: list[float]) -> tuple[Any, ...]:
        return tuple(torch.tensor(x, dtype=torch.float64) for x in v)

    def inner_t(*v: Any) -> Any:
        return func.jvp(f, v, tensors(t1))[1]

    want_value, want_second = func.jvp(inner_t, tensors(xs), tensors(t2))
    value, second = jvp(lambda *v: jvp(f, list(v), t1)[1], xs, t2)
    assert close(value, want_value.item())
    assert close(second, want_second.item(), 1e-10)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@given(expressions(2), nonzero_two())
def test_jacobian_of_jvp_and_jvp_of_hessian_match_torch_func(
    f: Expression, xs: list[float]
) -> None:
    torch = pytest.importorskip("torch")
    func = torch.func
    assume(not _torch_drops_a_term(f, xs))
    x64 = torch.tensor(xs, dtype=torch.float64)
    ones = torch.ones(2, dtype=torch.float64)

    def f_vec(v: Any) -> Any:
        return f(v[0], v[1])

    # the Jacobian of the directional derivative along (1, 1)
    want = func.jacrev(lambda v: func.jvp(f_vec, (v,), (ones,))[1])(x64)
    got = jacobian(lambda *v: jvp(f, list(v), [1.0, 1.0])[1], xs)
    for a, b in zip(got[0], want, strict=True):
        assert close(a, b.item(), 1e-10)
    # the directional derivative of the Hessian along (1, 1): third derivatives
    want_h = func.jvp(func.hessian(f_vec), (x64,), (ones,))[1]
    # ours agrees with central differences of the Hessian too
    step = 1e-5
    plus = hessian(f, [x + step for x in xs])
    minus = hessian(f, [x - step for x in xs])
    _, got_h = jvp(lambda *v: [h for row in hessian(f, list(v)) for h in row], xs, [1.0, 1.0])
    for k, h in enumerate(got_h):
        i, j = divmod(k, 2)
        assert close(h, want_h[i][j].item(), 1e-9)
        assert h == pytest.approx((plus[i][j] - minus[i][j]) / (2 * step), rel=1e-4, abs=1e-4)


def test_an_inner_transformation_of_a_constant_differentiates_by_a_fresh_leaf() -> None:
    c = Value(3.0, requires_grad=False)  # a constant for the outer transformation
    assert jacobian(lambda x: jacobian(lambda y: y * y * x, [c])[0][0], [2.0]) == [[6.0]]
    assert jacobian(lambda x: hessian(lambda y: y * y * y * x, [x.detach()])[0][0], [2.0]) == [
        [12.0]
    ]
