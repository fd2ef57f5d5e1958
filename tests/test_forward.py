"""jvp: forward mode from the reverse-mode rule table."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from autograd_mini import Value, grad, jvp, no_grad
from autograd_mini.gradcheck import numerical_grad
from autograd_mini.ops import OPS
from autograd_mini.testing import Expression, expressions, reals


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def reverse_gradient(f: Expression, xs: list[float]) -> list[float]:
    leaves = [Value(x) for x in xs]
    return [g.data for g in grad(f(*leaves), leaves)]


def three(lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy[list[float]]:
    return st.lists(st.floats(lo, hi, allow_nan=False), min_size=3, max_size=3)


# --- the contract ---------------------------------------------------------------------------


@given(expressions(3), three(), three(-2.0, 2.0))
def test_jvp_equals_the_reverse_gradient_dotted_with_the_tangent(
    f: Expression, xs: list[float], ts: list[float]
) -> None:
    value, dot = jvp(f, xs, ts)
    assert value == f(*xs).data
    g = reverse_gradient(f, xs)
    want = math.fsum(gi * ti for gi, ti in zip(g, ts, strict=True))
    scale = math.fsum(abs(gi * ti) for gi, ti in zip(g, ts, strict=True))
    assert abs(dot - want) <= 1e-12 * max(1.0, scale)


@given(expressions(2), st.lists(reals(min_value=-2.0, max_value=2.0), min_size=2, max_size=2))
def test_jvp_matches_central_differences_along_the_tangent(f: Expression, xs: list[float]) -> None:
    ts = [0.6, -0.8]
    _, dot = jvp(f, xs, ts)
    # the directional derivative is the derivative of s ↦ f(x + s·t) at s = 0
    (numeric,) = numerical_grad(lambda s: f(*[x + s * t for x, t in zip(xs, ts, strict=True)]), [0])
    assert dot == pytest.approx(numeric, rel=1e-5, abs=1e-6)


# every primitive as a function of its inputs
CALLS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "neg": lambda a: -a,
    "abs": lambda a: abs(a),
    "leaky_relu": lambda a, s: a.leaky_relu(s),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_forward_derivative_equal_to_its_reverse_one(name: str) -> None:
    op = OPS[name]
    fn = CALLS.get(name) or op  # an op is callable on Values
    x0 = 0.7 if op.domain[0] < 0.7 else op.domain[0] + 0.7
    xs = [x0, 1.3][: op.arity]  # inside every domain, away from every kink
    for direction in range(op.arity):
        ts = [1.0 if k == direction else 0.0 for k in range(op.arity)]
        leaves = [Value(v) for v in xs]
        want = grad(fn(*leaves), leaves)[direction].data
        assert jvp(fn, xs, ts)[1] == want


def test_list_valued_function_gives_lists_of_values_and_tangents() -> None:
    values, dots = jvp(lambda x, y: [x * y, x.sin(), y], [2.0, 3.0], [1.0, -1.0])
    assert values == [6.0, math.sin(2.0), 3.0]
    assert dots == [3.0 - 2.0, math.cos(2.0), -1.0]


def test_tuple_result_is_a_list_result() -> None:
    values, dots = jvp(lambda x: (x * x,), [3.0], [1.0])
    assert (values, dots) == ([9.0], [6.0])


def test_forward_over_reverse_differentiates_a_recorded_gradient() -> None:
    # f(x, y) = ∂(x²y)/∂x = 2xy; along (1, 0) its derivative is 2y, along (0, 1) it is 2x
    def f(x: Value, y: Value) -> Value:
        return grad(x * x * y, [x], create_graph=True)[0]

    assert jvp(f, [1.5, 2.0], [1.0, 0.0]) == (6.0, 4.0)
    assert jvp(f, [1.5, 2.0], [0.0, 1.0]) == (6.0, 3.0)


@given(expressions(2), three(-2.0, 2.0))
def test_forward_over_reverse_is_the_hessian_times_the_tangent(
    f: Expression, xs3: list[float]
) -> None:
    xs, ts = xs3[:2], [1.0, xs3[2]]

    def gradient(*v: Value) -> list[Value]:
        return grad(f(*v), list(v), create_graph=True)

    _, hv = jvp(gradient, xs, ts)
    for i in range(2):

        def gi(*v: Value, i: int = i) -> Value:
            return gradient(*v)[i]

        numeric = numerical_grad(gi, xs)
        want = sum(n * t for n, t in zip(numeric, ts, strict=True))
        assert hv[i] == pytest.approx(want, rel=1e-4, abs=1e-5)


def test_a_constant_branch_never_leaks_its_nan_partial() -> None:
    # ∂(x**2)/∂(exponent) is NaN at x < 0; the exponent is a constant, so it has no tangent
    assert jvp(lambda x: x**2, [-3.0], [1.0]) == (9.0, -6.0)


def test_output_not_depending_on_the_inputs_has_zero_tangent() -> None:
    assert jvp(lambda x, y: Value(4.0) * 2, [1.0, 2.0], [1.0, 1.0]) == (8.0, 0.0)
    assert jvp(lambda x: 5.0, [1.0], [1.0]) == (5.0, 0.0)
    assert jvp(lambda x: x, [1.0], [3.0]) == (1.0, 3.0)


def test_single_numbers_and_values_are_accepted_as_primals() -> None:
    assert jvp(lambda x: x * x, 3.0, 1.0) == (9.0, 6.0)
    assert jvp(lambda x: x * x, [Value(3.0)], [Value(2.0)]) == (9.0, 12.0)


def test_jvp_records_even_inside_no_grad_and_touches_no_grad_field() -> None:
    w = Value(2.0)
    with no_grad():
        assert jvp(lambda x: x * w, [3.0], [1.0]) == (6.0, 2.0)
    assert w.grad == 0.0


def test_jvp_of_a_deep_chain_does_not_recurse() -> None:
    def chain(x: Value) -> Value:
        for _ in range(100_000):
            x = x * 1.0 + 0.0
        return x

    assert jvp(chain, [2.0], [3.0]) == (2.0, 3.0)


def test_sqrt_at_zero_has_an_infinite_tangent_like_torch() -> None:
    value, dot = jvp(lambda x: x.sqrt(), [0.0], [1.0])
    assert (value, dot) == (0.0, math.inf)


# --- bad input --------------------------------------------------------------------------------


def test_mismatched_lengths_are_a_value_error_naming_both() -> None:
    with pytest.raises(ValueError, match=r"jvp: primals and tangents .* 2 and 1"):
        jvp(lambda x, y: x * y, [1.0, 2.0], [1.0])


@pytest.mark.parametrize(
    ("primals", "tangents", "match"),
    [
        ("ab", [1.0], "jvp: primals must be a number"),
        ([1.0], ["a"], r"jvp: tangents\[0\] must be a real number"),
        ([None], [1.0], r"jvp: primals\[0\] must be a real number"),
        ({1.0}, [1.0], "jvp: primals must be a number or a sequence"),
    ],
)
def test_non_numbers_are_a_type_error_naming_the_argument(
    primals: object, tangents: object, match: str
) -> None:
    with pytest.raises(TypeError, match=match):
        jvp(lambda x: x, primals, tangents)  # type: ignore[arg-type]


def test_f_must_be_callable_and_return_values() -> None:
    with pytest.raises(TypeError, match="jvp: f must be callable"):
        jvp(3.0, [1.0], [1.0])  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="jvp: f must return a Value or a list of Values"):
        jvp(lambda x: "x", [1.0], [1.0])
    with pytest.raises(TypeError, match="at index 1"):
        jvp(lambda x: [x, "y"], [1.0], [1.0])


# --- PyTorch as the oracle ----------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@given(expressions(3), three(), three(-2.0, 2.0))
def test_jvp_matches_torch_func_jvp(f: Expression, xs: list[float], ts: list[float]) -> None:
    torch = pytest.importorskip("torch")
    t64 = [torch.tensor(v, dtype=torch.float64) for v in xs]
    d64 = [torch.tensor(v, dtype=torch.float64) for v in ts]
    want_value, want_dot = torch.func.jvp(lambda *a: f(*a), tuple(t64), tuple(d64))
    value, dot = jvp(f, xs, ts)
    assert close(value, want_value.item())
    assert close(dot, want_dot.item())
