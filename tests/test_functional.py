"""jacobian, hessian and hvp: against finite differences, each other and PyTorch."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import example, given, strategies as st

from autograd_mini import Value, grad, hessian, hvp, jacobian
from autograd_mini.gradcheck import numerical_grad
from autograd_mini.testing import Expression, expressions


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def points(n: int, lo: float = -2.0, hi: float = 2.0) -> st.SearchStrategy[list[float]]:
    return st.lists(st.floats(lo, hi, allow_nan=False), min_size=n, max_size=n)


def pair(f: Expression, g: Expression) -> Any:
    """A function of three inputs with two outputs, made of two random DAGs sharing inputs."""
    return lambda *v: [f(*v), g(*v) * v[0]]


# --- jacobian -----------------------------------------------------------------------------------


@given(expressions(3), expressions(3), points(3))
def test_jacobian_rows_are_the_gradients_of_the_outputs(
    f: Expression, g: Expression, xs: list[float]
) -> None:
    fg = pair(f, g)
    J = jacobian(fg, xs)
    assert len(J) == 2 and all(len(row) == 3 for row in J)
    for i in range(2):
        leaves = [Value(x) for x in xs]
        assert J[i] == [d.data for d in grad(fg(*leaves)[i], leaves)]
        numeric = numerical_grad(lambda *v, i=i: fg(*v)[i], xs)
        assert J[i] == pytest.approx(numeric, rel=1e-5, abs=1e-6)


@given(expressions(3), expressions(3), points(3))
def test_forward_and_reverse_strategies_agree(
    f: Expression, g: Expression, xs: list[float]
) -> None:
    fg = pair(f, g)
    rev = jacobian(fg, xs)
    fwd = jacobian(fg, xs, strategy="forward-mode")
    for r_row, f_row in zip(rev, fwd, strict=True):
        for a, b in zip(r_row, f_row, strict=True):
            assert close(a, b)


def test_scalar_function_gives_one_row() -> None:
    assert jacobian(lambda x, y: x * y, [2.0, 5.0]) == [[5.0, 2.0]]
    assert jacobian(lambda x: x * x, 3.0) == [[6.0]]


def test_constant_outputs_give_rows_of_zeros() -> None:
    assert jacobian(lambda x, y: [x, 2.0, Value(1.0) * 3], [1.0, 2.0]) == [
        [1.0, 0.0],
        [0.0, 0.0],
        [0.0, 0.0],
    ]


def test_unknown_strategy_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="jacobian: strategy must be"):
        jacobian(lambda x: x, [1.0], strategy="sideways")


# --- hessian and hvp ----------------------------------------------------------------------------


@given(expressions(3), points(3))
def test_hessian_is_symmetric_and_matches_differences_of_the_gradient(
    f: Expression, xs: list[float]
) -> None:
    H = hessian(f, xs)
    assert all(H[i][j] == H[j][i] for i in range(3) for j in range(3))
    for i in range(3):

        def df(*v: Value, i: int = i) -> Value:
            return grad(f(*v), list(v), create_graph=True)[i]

        assert H[i] == pytest.approx(numerical_grad(df, xs), rel=1e-5, abs=1e-6)


@given(expressions(3), points(3), points(3))
def test_hvp_is_the_hessian_times_v(f: Expression, xs: list[float], v: list[float]) -> None:
    H = hessian(f, xs)
    got = hvp(f, xs, v)
    for i in range(3):
        terms = [H[i][j] * v[j] for j in range(3)]
        assert abs(got[i] - math.fsum(terms)) <= 1e-11 * max(1.0, sum(map(abs, terms)))


def test_hessian_of_a_quadratic_is_its_matrix() -> None:
    # f = x² + 3xy + 2y² has H = [[2, 3], [3, 4]] everywhere
    def q(x: Value, y: Value) -> Value:
        return x * x + 3 * x * y + 2 * y * y

    assert hessian(q, [0.3, -1.7]) == [[2.0, 3.0], [3.0, 4.0]]
    assert hvp(q, [0.3, -1.7], [1.0, -1.0]) == [-1.0, -1.0]


def test_hessian_of_a_linear_or_constant_function_is_zero() -> None:
    assert hessian(lambda x, y: 2 * x + y, [1.0, 2.0]) == [[0.0, 0.0], [0.0, 0.0]]
    assert hessian(lambda x: 7.0, [1.0]) == [[0.0]]
    assert hvp(lambda x: x, [1.0], [1.0]) == [0.0]


def test_hessian_needs_a_scalar_function() -> None:
    with pytest.raises(ValueError, match="hessian: f must return one Value"):
        hessian(lambda x, y: [x, y], [1.0, 2.0])
    with pytest.raises(ValueError, match="hvp: f must return one Value"):
        hvp(lambda x, y: [x, y], [1.0, 2.0], [1.0, 0.0])


def test_hvp_needs_one_entry_of_v_per_input() -> None:
    with pytest.raises(ValueError, match=r"hvp: v must have one entry per input \(2\), got 1"):
        hvp(lambda x, y: x * y, [1.0, 2.0], [1.0])


def test_inputs_and_v_may_be_any_iterable_read_once() -> None:
    # hvp read `inputs` twice (to count them, then to call f): an iterator came back empty
    assert hvp(lambda x, y: x * x * y, iter([2.0, 3.0]), iter([1.0, 1.0])) == [10.0, 4.0]
    assert hessian(lambda x, y: x * x * y, iter([2.0, 3.0])) == [[6.0, 4.0], [4.0, 0.0]]
    assert jacobian(lambda x, y: x * y, (v for v in [2.0, 3.0])) == [[3.0, 2.0]]


def test_bad_inputs_are_type_errors_naming_the_function() -> None:
    with pytest.raises(TypeError, match=r"hessian: inputs\[1\] must be a real number"):
        hessian(lambda x, y: x * y, [1.0, "2"])
    with pytest.raises(TypeError, match="jacobian: f must be callable"):
        jacobian(None, [1.0])  # type: ignore[arg-type]


# --- PyTorch as the oracle ----------------------------------------------------------------------


def as_tensors(xs: list[float]) -> tuple[Any, ...]:
    torch = pytest.importorskip("torch")
    return tuple(torch.tensor(x, dtype=torch.float64) for x in xs)


@pytest.mark.torch
@given(expressions(3), expressions(3), points(3))
def test_jacobian_matches_torch_autograd_functional(
    f: Expression, g: Expression, xs: list[float]
) -> None:
    torch = pytest.importorskip("torch")
    fg = pair(f, g)
    want = torch.autograd.functional.jacobian(lambda *t: tuple(fg(*t)), as_tensors(xs))
    for got_row, want_row in zip(jacobian(fg, xs), want, strict=True):
        for a, b in zip(got_row, want_row, strict=True):
            assert close(a, b.item())


@pytest.mark.torch
@given(expressions(3), points(3), points(3))
@example(
    Expression(3, (("pow", (1, 0)), ("add", (3, 2)), ("mul", (4, 3)))), [0.0, 1.0, 0.0], [0.0] * 3
)
def test_hessian_and_hvp_match_torch_autograd_functional(
    f: Expression, xs: list[float], v: list[float]
) -> None:
    torch = pytest.importorskip("torch")
    functional = torch.autograd.functional
    want_h = functional.hessian(f, as_tensors(xs))
    torch_symmetric = True
    for i, row in enumerate(hessian(f, xs)):
        for j, h in enumerate(row):
            t_ij, t_ji = want_h[i][j].item(), want_h[j][i].item()
            if close(t_ij, t_ji):
                assert close(h, t_ij)
            else:
                # torch's own Hessian is asymmetric only for xʸ at y = 0 exactly: its
                # where(y == 0, 0, y·xʸ⁻¹) drops one mixed partial; ours equals the other, right one
                torch_symmetric = False
                assert close(h, t_ij) or close(h, t_ji), (i, j, h, t_ij, t_ji)
    if not torch_symmetric:
        return  # torch's hvp multiplies by its asymmetric Hessian; ours is checked against H·v
    _, want_hv = functional.hvp(f, as_tensors(xs), as_tensors(v))
    for a, b in zip(hvp(f, xs, v), want_hv, strict=True):
        assert close(a, b.item())


@pytest.mark.torch
def test_hessian_of_a_power_with_negative_base_is_nan_where_torch_is() -> None:
    """∂(xʸ)/∂y = xʸ·ln x is NaN for x < 0, and so are its own derivatives (not 0)."""
    torch = pytest.importorskip("torch")
    xs = [-1.0, 2.0]
    got = hessian(lambda x, y: x**y, xs)
    want = torch.autograd.functional.hessian(lambda x, y: x**y, as_tensors(xs))
    for i in range(2):
        for j in range(2):
            w = want[i][j].item()
            assert (math.isnan(got[i][j]) and math.isnan(w)) or close(got[i][j], w), (i, j, got)
    assert math.isnan(got[1][1])
