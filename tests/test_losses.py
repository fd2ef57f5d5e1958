"""Tests for autograd_mini.losses: formulas, reductions, gradients, stability, errors, PyTorch."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from autograd_mini import Value
from autograd_mini.gradcheck import gradcheck
from autograd_mini.losses import (
    binary_cross_entropy,
    cross_entropy,
    hinge,
    l2,
    logsumexp,
    mse,
    sse,
)

floats = st.floats(-5.0, 5.0, allow_nan=False)


def values(xs):
    return [Value(x) for x in xs]


@st.composite
def batch(draw, target):
    n = draw(st.integers(1, 6))
    preds = draw(st.lists(floats, min_size=n, max_size=n))
    targets = draw(st.lists(target, min_size=n, max_size=n))
    return preds, targets


def _sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


# --- formulas -----------------------------------------------------------------------------------


@given(batch(floats))
def test_sse_is_the_sum_of_squared_errors_without_a_half(data):
    p, t = data
    expected = sum((a - b) ** 2 for a, b in zip(p, t, strict=True))
    assert sse(values(p), t).data == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert sse(values(p), t, reduction="sum").data == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert sse(values(p), t, reduction="mean").data == pytest.approx(
        expected / len(p), rel=1e-12, abs=1e-12
    )


@given(batch(floats))
def test_mse_is_the_mean_of_squared_errors(data):
    p, t = data
    sq = [(a - b) ** 2 for a, b in zip(p, t, strict=True)]
    assert mse(values(p), t).data == pytest.approx(sum(sq) / len(sq), rel=1e-12, abs=1e-12)
    assert mse(values(p), t, reduction="sum").data == pytest.approx(sum(sq), rel=1e-12, abs=1e-12)
    assert [v.data for v in mse(values(p), t, reduction="none")] == pytest.approx(sq, rel=1e-12)


@given(batch(st.sampled_from([-1, 1])))
def test_hinge_is_the_mean_of_max_zero_one_minus_margin(data):
    s, t = data
    terms = [max(0.0, 1.0 - b * a) for a, b in zip(s, t, strict=True)]
    assert hinge(values(s), t).data == pytest.approx(sum(terms) / len(terms), rel=1e-12, abs=1e-12)
    assert hinge(values(s), t, reduction="sum").data == pytest.approx(sum(terms), abs=1e-12)


@given(batch(st.sampled_from([0, 1])))
def test_binary_cross_entropy_is_minus_log_likelihood_of_sigmoid(data):
    z, t = data
    terms = [
        -(b * math.log(_sigmoid(a)) + (1 - b) * math.log(1.0 - _sigmoid(a)))
        for a, b in zip(z, t, strict=True)
    ]
    got = binary_cross_entropy(values(z), t).data
    assert got == pytest.approx(sum(terms) / len(terms), rel=1e-9, abs=1e-12)


@given(st.lists(floats, min_size=1, max_size=6), st.data())
def test_cross_entropy_of_one_sample_is_minus_log_softmax(logits, data):
    k = data.draw(st.integers(0, len(logits) - 1))
    softmax_k = math.exp(logits[k]) / sum(math.exp(z) for z in logits)
    assert cross_entropy(values(logits), k).data == pytest.approx(
        -math.log(softmax_k), rel=1e-9, abs=1e-12
    )


@given(st.integers(1, 4), st.integers(2, 4), st.data())
def test_cross_entropy_of_a_batch_is_the_mean_over_samples(n, classes, data):
    rows = [data.draw(st.lists(floats, min_size=classes, max_size=classes)) for _ in range(n)]
    ks = [data.draw(st.integers(0, classes - 1)) for _ in range(n)]
    singles = [cross_entropy(values(r), k).data for r, k in zip(rows, ks, strict=True)]
    batch_rows = [values(r) for r in rows]
    assert cross_entropy(batch_rows, ks).data == pytest.approx(sum(singles) / n, rel=1e-12)
    assert cross_entropy(batch_rows, ks, reduction="sum").data == pytest.approx(sum(singles))
    none = cross_entropy(batch_rows, ks, reduction="none")
    assert [v.data for v in none] == pytest.approx(singles, rel=1e-12)


def test_one_value_and_one_number_are_accepted():
    assert mse(Value(3.0), 1.0).data == 4.0
    assert sse(Value(3.0), [1.0]).data == 4.0
    assert hinge(Value(0.25), -1).data == 1.25


def test_regression_targets_may_be_values_and_receive_gradients():
    p, t = Value(3.0), Value(1.0)
    loss = mse([p], [t])
    loss.backward()
    assert loss.data == 4.0
    assert (p.grad, t.grad) == (4.0, -4.0)  # ±2(p − t)
    assert sse(Value(2.0), Value(0.5)).data == 2.25


def test_label_losses_reject_value_labels():
    with pytest.raises(TypeError, match="plain number"):
        hinge([Value(0.5)], [Value(1.0)])


def test_plain_number_predictions_are_accepted():
    assert mse([1.0, 2.0], [0.0, 0.0]).data == 2.5


def test_binary_cross_entropy_accepts_soft_labels():
    z, t = 0.7, 0.3
    expected = -(t * math.log(_sigmoid(z)) + (1 - t) * math.log(1 - _sigmoid(z)))
    assert binary_cross_entropy([Value(z)], [t]).data == pytest.approx(expected, rel=1e-12)


def test_l2_is_the_sum_of_squares_and_its_gradient_is_twice_the_parameter():
    ps = values([1.0, -2.0, 0.5])
    r = l2(ps)
    assert r.data == 5.25
    r.backward()
    assert [p.grad for p in ps] == [2.0, -4.0, 1.0]
    assert l2([]).data == 0.0


def test_logsumexp_matches_the_direct_formula_and_survives_large_inputs():
    zs = [0.5, -1.0, 2.0]
    assert logsumexp(values(zs)).data == pytest.approx(math.log(sum(map(math.exp, zs))))
    assert logsumexp(values([1000.0, 1000.0])).data == pytest.approx(1000.0 + math.log(2.0))


# --- gradients ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "targets"),
    [
        (sse, [0.5, -1.0, 2.0]),
        (mse, [0.5, -1.0, 2.0]),
        (hinge, [1, -1, 1]),
        (binary_cross_entropy, [1, 0, 1]),
        (binary_cross_entropy, [0.2, 0.9, 0.5]),
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_elementwise_losses_pass_gradcheck(loss, targets, reduction):
    preds = [0.3, 0.6, -0.4]  # away from the hinge's kinks at margin 1
    order = 1 if loss is hinge else 2
    assert gradcheck(
        lambda *p: loss(list(p), targets, reduction=reduction),
        preds,
        order=order,
        raise_exception=True,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_passes_gradcheck_for_one_sample_and_a_batch(reduction):
    assert gradcheck(lambda *z: cross_entropy(list(z), 2), [0.1, -0.5, 1.2, 0.3], order=2)
    assert gradcheck(
        lambda *z: cross_entropy([list(z[:3]), list(z[3:])], [0, 2], reduction=reduction),
        [0.1, -0.5, 1.2, 0.3, 0.8, -2.0],
        order=2,
        raise_exception=True,
    )


def test_cross_entropy_gradient_is_softmax_minus_one_hot():
    zs = values([0.2, -1.0, 0.7])
    cross_entropy(zs, 1).backward()
    denom = sum(math.exp(z.data) for z in zs)
    expected = [math.exp(z.data) / denom - (i == 1) for i, z in enumerate(zs)]
    assert [z.grad for z in zs] == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_gradient_is_sigmoid_minus_label():
    zs = values([0.3, -2.0])
    binary_cross_entropy(zs, [1, 0], reduction="sum").backward()
    assert [z.grad for z in zs] == pytest.approx([_sigmoid(0.3) - 1, _sigmoid(-2.0)], rel=1e-12)


def test_hinge_gradient_is_minus_label_inside_the_margin_and_zero_outside():
    s = values([0.5, 2.0, -0.5])
    hinge(s, [1, 1, -1], reduction="sum").backward()
    assert [v.grad for v in s] == [-1.0, 0.0, 1.0]


# --- numerical stability ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("z", "t", "loss", "slope"),
    [
        (1000.0, 0, 1000.0, 1.0),
        (1000.0, 1, 0.0, 0.0),
        (-1000.0, 1, 1000.0, -1.0),
        (-1000.0, 0, 0.0, 0.0),
    ],
)
def test_binary_cross_entropy_is_finite_at_logits_of_plus_minus_1000(z, t, loss, slope):
    v = Value(z)
    out = binary_cross_entropy([v], [t])
    out.backward()
    assert out.data == loss
    assert v.grad == slope


def test_cross_entropy_is_finite_at_logits_of_plus_minus_1000():
    zs = values([1000.0, -1000.0, 0.0])
    out = cross_entropy(zs, 1)
    out.backward()
    assert out.data == pytest.approx(2000.0)
    assert [z.grad for z in zs] == pytest.approx([1.0, -1.0, 0.0], abs=1e-300)
    right = values([1000.0, -1000.0])
    out = cross_entropy(right, 0)
    out.backward()
    assert out.data == 0.0
    assert all(math.isfinite(z.grad) for z in right)


def test_losses_do_not_change_their_inputs_or_targets():
    p, t = values([1.0, 2.0]), [0.0, 1.0]
    mse(p, t)
    assert [v.data for v in p] == [1.0, 2.0]
    assert t == [0.0, 1.0]


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", [sse, mse, hinge, binary_cross_entropy])
def test_mismatched_lengths_raise_value_error(loss):
    with pytest.raises(ValueError, match="2 predictions but 3 targets"):
        loss(values([0.1, 0.2]), [1, 1, 1])


@pytest.mark.parametrize("loss", [sse, mse, hinge, binary_cross_entropy])
def test_empty_batch_raises_value_error(loss):
    with pytest.raises(ValueError, match="empty"):
        loss([], [])


@pytest.mark.parametrize("loss", [sse, mse, hinge, binary_cross_entropy, cross_entropy])
def test_unknown_reduction_raises_value_error(loss):
    with pytest.raises(ValueError, match="reduction"):
        loss(values([0.5]), [1], reduction="avg")


@pytest.mark.parametrize("loss", [sse, mse, hinge, binary_cross_entropy])
def test_non_number_targets_raise_type_error(loss):
    with pytest.raises(TypeError, match=r"targets\[1\]"):
        loss(values([0.5, 0.5]), [1, "1"])


def test_non_value_predictions_raise_type_error():
    with pytest.raises(TypeError, match=r"predictions\[0\]"):
        mse(["a"], [1.0])
    with pytest.raises(TypeError, match="predictions"):
        mse("ab", [1.0, 2.0])


@pytest.mark.parametrize("label", [0, 2, 0.5])
def test_hinge_rejects_labels_other_than_plus_minus_one(label):
    with pytest.raises(ValueError, match="-1 or"):
        hinge(values([0.5]), [label])


@pytest.mark.parametrize("label", [-1, 2, 1.5])
def test_binary_cross_entropy_rejects_labels_outside_zero_one(label):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        binary_cross_entropy(values([0.5]), [label])


@pytest.mark.parametrize("k", [3, -1, 100])
def test_cross_entropy_class_index_out_of_range_raises_value_error(k):
    with pytest.raises(ValueError, match="out of range"):
        cross_entropy(values([0.1, 0.2, 0.3]), k)
    with pytest.raises(ValueError, match="out of range"):
        cross_entropy([values([0.1, 0.2, 0.3]), values([0.0, 0.0, 0.0])], [0, k])


@pytest.mark.parametrize("k", [1.0, "1", None, True])
def test_cross_entropy_class_index_must_be_an_int(k):
    with pytest.raises(TypeError, match="int"):
        cross_entropy(values([0.1, 0.2]), k)


def test_cross_entropy_batch_length_mismatch_and_empty_raise_value_error():
    with pytest.raises(ValueError, match="2 samples but 1 targets"):
        cross_entropy([values([0.1, 0.2]), values([0.3, 0.4])], [0])
    with pytest.raises(ValueError, match="empty"):
        cross_entropy([], [])
    with pytest.raises(ValueError, match="empty"):
        cross_entropy([[], values([0.1])], [0, 0])


def test_cross_entropy_rejects_mixed_shapes():
    with pytest.raises(TypeError, match="one int"):
        cross_entropy(values([0.1, 0.2]), [0, 1])
    with pytest.raises(TypeError, match="list of class indices"):
        cross_entropy([values([0.1, 0.2])], 0)


def test_l2_rejects_non_values():
    with pytest.raises(TypeError, match=r"params\[1\]"):
        l2([Value(1.0), 2.0])


# --- against PyTorch ----------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_bce_and_cross_entropy_match_torch_functional(reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z = [0.3, -1.7, 2.5, 0.0, -0.2]
    t_reg = [0.1, -1.0, 3.0, 0.5, 0.0]
    t_bin = [1, 0, 1, 1, 0]

    def check(ours, theirs, leaves, tleaf):
        ours_total = ours if reduction != "none" else sum(ours[1:], ours[0])
        theirs_total = theirs if reduction != "none" else theirs.sum()
        if reduction == "none":
            assert [v.data for v in ours] == pytest.approx(theirs.tolist(), rel=1e-12)
        else:
            assert ours.data == pytest.approx(theirs.item(), rel=1e-12)
        ours_total.backward()
        theirs_total.backward()
        assert [v.grad for v in leaves] == pytest.approx(tleaf.grad.flatten().tolist(), rel=1e-12)

    p = values(z)
    tz = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    check(
        mse(p, t_reg, reduction=reduction),
        F.mse_loss(tz, torch.tensor(t_reg, dtype=torch.float64), reduction=reduction),
        p,
        tz,
    )
    p = values(z)
    tz = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    check(
        binary_cross_entropy(p, t_bin, reduction=reduction),
        F.binary_cross_entropy_with_logits(
            tz, torch.tensor(t_bin, dtype=torch.float64), reduction=reduction
        ),
        p,
        tz,
    )
    rows = [[0.2, -1.0, 3.0], [1000.0, -1000.0, 0.0], [0.0, 0.0, 0.0], [-3.0, 2.0, 2.5]]
    ks = [2, 1, 0, 1]
    leaves = [values(r) for r in rows]
    tr = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    check(
        cross_entropy(leaves, ks, reduction=reduction),
        F.cross_entropy(tr, torch.tensor(ks), reduction=reduction),
        [v for r in leaves for v in r],
        tr,
    )


@pytest.mark.torch
def test_sse_is_torch_mse_loss_with_sum_reduction():
    torch = pytest.importorskip("torch")
    z, t = [0.3, -1.7, 2.5], [0.1, -1.0, 3.0]
    p = values(z)
    ours = sse(p, t)
    ours.backward()
    tz = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    theirs = torch.nn.functional.mse_loss(tz, torch.tensor(t, dtype=torch.float64), reduction="sum")
    theirs.backward()
    assert ours.data == pytest.approx(theirs.item(), rel=1e-12)
    assert [v.grad for v in p] == pytest.approx(tz.grad.tolist(), rel=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("z", [-1000.0, -30.0, 0.0, 30.0, 1000.0])
@pytest.mark.parametrize("t", [0, 1])
def test_binary_cross_entropy_matches_torch_at_extreme_logits(z, t):
    torch = pytest.importorskip("torch")
    v = Value(z)
    ours = binary_cross_entropy([v], [t])
    ours.backward()
    tz = torch.tensor([z], dtype=torch.float64, requires_grad=True)
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        tz, torch.tensor([float(t)], dtype=torch.float64)
    )
    theirs.backward()
    # torch evaluates ln(1 + e^−30) as log(1.0000000000000935), losing ~1% of a 1e-13 result;
    # we use log1p, so compare with torch absolutely and with the exact formula relatively
    assert ours.data == pytest.approx(theirs.item(), rel=1e-12, abs=1e-14)
    assert v.grad == pytest.approx(tz.grad.item(), rel=1e-12, abs=1e-14)

    def softplus(x):  # ln(1 + eˣ) without overflow or cancellation
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))

    exact_loss = softplus(-z) if t == 1 else softplus(z)
    exact_grad = -_sigmoid(-z) if t == 1 else _sigmoid(z)  # σ(z) − t without cancellation
    assert ours.data == pytest.approx(exact_loss, rel=1e-12, abs=1e-300)
    assert v.grad == pytest.approx(exact_grad, rel=1e-12, abs=1e-300)
