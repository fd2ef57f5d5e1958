"""Value: construction, conversions, comparisons, identity semantics and operator plumbing."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest

from autograd_mini import Value


@pytest.mark.parametrize(
    ("given", "stored"),
    [(2, 2.0), (2.5, 2.5), (True, 1.0), (False, 0.0), (Fraction(1, 4), 0.25), (-0.0, -0.0)],
)
def test_value_stores_any_real_number_as_a_python_float(given: object, stored: float) -> None:
    v = Value(given)  # type: ignore[arg-type]
    assert type(v.data) is float
    assert v.data == stored


def test_value_accepts_numpy_scalars() -> None:
    np = pytest.importorskip("numpy")
    for x in (np.float64(1.5), np.float32(1.5), np.int64(3), np.int8(-2)):
        v = Value(x)
        assert type(v.data) is float and v.data == float(x)


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [("1.0", "str"), (None, "NoneType"), ([1.0], "list"), (1 + 2j, "complex"),
     (Decimal("1.5"), "Decimal")],
)  # fmt: skip
def test_value_rejects_non_real_data_naming_the_type(bad: object, type_name: str) -> None:
    with pytest.raises(TypeError, match=type_name):
        Value(bad)  # type: ignore[arg-type]


def test_value_of_a_value_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match="detach"):
        Value(Value(1.0))  # type: ignore[arg-type]


def test_value_label_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)  # type: ignore[arg-type]


def test_grad_starts_at_zero_and_label_is_kept() -> None:
    v = Value(3.0, label="w")
    assert v.grad == 0.0 and type(v.grad) is float
    assert v.label == "w"
    assert Value(1.0).label == ""


def test_repr_shows_data_grad_and_label() -> None:
    assert repr(Value(2.0, label="x")) == "Value(data=2.0, grad=0.0, label='x')"


def test_float_gives_the_data_and_format_uses_it() -> None:
    v = Value(0.125)
    assert float(v) == 0.125
    assert f"{v:.2f}" == "0.12"
    assert f"{v}" == repr(v)


def test_comparisons_compare_data_and_return_bool() -> None:
    a, b = Value(1.0), Value(2.0)
    results = [a < b, a <= b, a > b, a >= b, a < 1.5, a >= 1, 2.0 > a, 0 < a]  # noqa: SIM300
    assert results == [True, True, False, False, True, True, True, True]
    assert all(type(r) is bool for r in results)


def test_comparisons_record_no_graph() -> None:
    a = Value(1.0)
    assert (a < 2.0) is True
    a.backward()
    assert a.grad == 1.0  # a is still a leaf with nothing hanging off it


def test_equal_values_stay_distinct_dict_keys_and_set_members() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a == b and a is not b  # == compares data; hash stays identity
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"
    assert len({a, b}) == 2


def test_comparison_with_a_non_number_raises_type_error() -> None:
    with pytest.raises(TypeError):
        _ = Value(1.0) < "2"  # type: ignore[operator]


@pytest.mark.parametrize("bad", ["2", None, [1.0], 1j])
def test_arithmetic_with_a_non_number_raises_type_error_naming_it(bad: object) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(1.0) + bad  # type: ignore[operator]
    with pytest.raises(TypeError, match=type(bad).__name__):
        bad - Value(1.0)  # type: ignore[operator]


def test_numbers_mix_in_on_either_side_in_argument_order() -> None:
    x = Value(3.0)
    assert [(2 + x).data, (x + 2).data, (2 - x).data, (x - 2).data] == [5.0, 5.0, -1.0, 1.0]
    assert [(2 * x).data, (x / 2).data, (6 / x).data, (x**2).data] == [6.0, 1.5, 2.0, 9.0]
    assert [(2**x).data, (-x).data, abs(-x).data, (+x).data] == [8.0, -3.0, 3.0, 3.0]
    left = 10 - x
    assert left.parents[0].data == 10.0 and left.parents[1] is x  # constant first, as written


def test_numpy_scalar_on_the_left_gives_a_value() -> None:
    np = pytest.importorskip("numpy")
    x = Value(3.0)
    y = np.float64(2.0) * x
    assert isinstance(y, Value) and y.data == 6.0
    y.backward()
    assert x.grad == 2.0


def test_constants_become_leaves() -> None:
    y = Value(2.0) * 5
    assert y.op == "mul" and not y.is_leaf
    const = y.parents[1]
    assert const.is_leaf and const.data == 5.0 and const.op == ""


def test_op_names_match_the_rule_table() -> None:
    x = Value(0.5)
    made = {
        "add": x + 1, "sub": x - 1, "mul": x * 2, "div": x / 2, "neg": -x, "pow": x**2,
        "abs": abs(x), "exp": x.exp(), "log": x.log(), "sqrt": x.sqrt(), "tanh": x.tanh(),
        "sigmoid": x.sigmoid(), "relu": x.relu(), "leaky_relu": x.leaky_relu(),
        "sin": x.sin(), "cos": x.cos(), "softplus": x.softplus(),
    }  # fmt: skip
    assert all(v.op == name for name, v in made.items())


def test_leaky_relu_slope_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="slope"):
        Value(1.0).leaky_relu("steep")  # type: ignore[arg-type]


def test_detach_gives_a_new_leaf_with_the_same_data() -> None:
    x = Value(2.0, label="x")
    y = x * x
    z = y.detach()
    assert z.is_leaf and z.data == 4.0 and z is not y
    assert not z.requires_grad  # as PyTorch's detach(): a constant
    (z * x).backward()
    assert x.grad == 4.0 and z.grad == 0.0


def test_huge_integers_overflow_with_a_clear_error() -> None:
    with pytest.raises(OverflowError, match="too large"):
        Value(10**400)


def test_values_are_slotted() -> None:
    assert not hasattr(Value(1.0), "__dict__")
    with pytest.raises(AttributeError):
        Value(1.0).anything = 1  # type: ignore[attr-defined]


def test_nan_data_is_allowed() -> None:
    assert math.isnan(Value(math.nan).data)


# --- assigning data (issue 13, item 1) and item() --------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"), [(2, 2.0), (True, 1.0), (Fraction(1, 4), 0.25), (-0.0, -0.0), (1.5, 1.5)]
)
def test_assigning_data_keeps_it_a_python_float(given: object, stored: float) -> None:
    v = Value(1.0)
    v.data = given  # type: ignore[assignment]
    assert type(v.data) is float
    assert math.copysign(1.0, v.data) == math.copysign(1.0, stored) and v.data == stored


def test_assigning_a_numpy_scalar_to_data_converts_it() -> None:
    np = pytest.importorskip("numpy")
    v = Value(1.0)
    for x in (np.float32(2.0), np.float64(-3.5), np.int64(7), np.array(0.25)):
        v.data = x
        assert type(v.data) is float and v.data == float(x)


class _Sneaky:
    """An object whose repr is code: it must never be stored as a Value's data."""

    def __repr__(self) -> str:
        return "(__import__('os').system('touch pwned') or 2.0)"


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [(_Sneaky(), "_Sneaky"), ("2.0", "str"), (None, "NoneType"), (1j, "complex"), ([1.0], "list")],
)
def test_assigning_a_non_number_to_data_is_a_type_error_naming_its_type(
    bad: object, type_name: str
) -> None:
    v = Value(1.5)
    with pytest.raises(TypeError, match=rf"Value\.data must be a real number, got {type_name}"):
        v.data = bad  # type: ignore[assignment]
    assert v.data == 1.5  # unchanged


def test_assigning_a_value_to_data_is_refused_with_a_hint() -> None:
    v = Value(1.0)
    with pytest.raises(TypeError, match=r"use v\.data"):
        v.data = Value(2.0)  # type: ignore[assignment]


def test_assigned_data_is_what_gradients_use() -> None:
    x = Value(1.0)
    x.data = 3  # type: ignore[assignment]
    y = x * x
    y.backward()
    assert y.data == 9.0 and x.grad == 6.0


def test_traced_constant_whose_data_was_assigned_runs_as_a_float() -> None:
    np = pytest.importorskip("numpy")
    from autograd_mini import trace

    c = Value(1.0)
    c.data = np.float32(2.0)
    assert trace(lambda x: x * c, 1).forward([1.5]) == 3.0


def test_item_returns_the_data_as_a_float() -> None:
    v = Value(3)
    assert v.item() == 3.0 and type(v.item()) is float
    assert (v * 2).item() == 6.0


def test_value_of_an_integer_beyond_the_string_limit_overflows_cleanly() -> None:
    # its repr would raise ValueError (int max str digits): the message must not need it
    with pytest.raises(OverflowError, match=r"Value data: an int of about 5000 digits is too"):
        Value(10**5000)
    v = Value(1.0)
    with pytest.raises(OverflowError, match="too large for a float"):
        v.data = -(10**5000)
    assert v.data == 1.0


def test_error_for_an_object_whose_repr_fails_still_names_its_type() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    with pytest.raises(TypeError, match="got Broken: a Broken"):
        Value(Broken())  # type: ignore[arg-type]
