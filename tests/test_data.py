"""Tests for autograd_mini.data: toy datasets, train_test_split, minibatches."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given, strategies as st

from autograd_mini import data
from autograd_mini.data import (
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    minibatches,
    train_test_split,
)

GENERATORS = [
    lambda n, seed: make_moons(n, 0.1, seed),
    lambda n, seed: make_circles(n, noise=0.05, seed=seed),
    lambda n, seed: make_spirals(n, 3, seed=seed),
    lambda n, seed: make_xor(n, noise=0.05, seed=seed),
]


@pytest.mark.parametrize("make", GENERATORS)
@given(n=st.integers(2, 60), seed=st.integers(0, 2**31))
def test_datasets_are_plain_lists_of_points_and_int_labels(make, n, seed):
    X, y = make(n, seed)
    assert type(X) is list
    assert type(y) is list
    assert len(X) == len(y) == n
    assert all(type(p) is list and len(p) == 2 for p in X)
    assert all(type(c) is float and math.isfinite(c) for p in X for c in p)
    assert all(type(label) is int for label in y)


@pytest.mark.parametrize("make", GENERATORS)
def test_same_seed_gives_same_data_and_other_seeds_differ(make):
    assert make(50, 7) == make(50, 7)
    assert make(50, 7) != make(50, 8)


def test_seed_may_be_a_random_generator_or_none():
    assert make_moons(30, 0.1, random.Random(3)) == make_moons(30, 0.1, random.Random(3))
    random.seed(11)
    a = make_moons(30, 0.1)
    random.seed(11)
    assert make_moons(30, 0.1) == a


@pytest.mark.parametrize("make", [make_moons, make_circles, make_xor])
def test_generators_take_n_noise_seed_positionally(make):
    assert make(30, 0.1, 4) == make(n=30, noise=0.1, seed=4)


def test_moons_without_noise_lie_on_two_half_circles():
    X, y = make_moons(101, 0.0, seed=0)
    assert Counter(y) == {0: 50, 1: 51}
    for (a, b), label in zip(X, y, strict=True):
        if label == 0:  # upper arc: unit circle, y ≥ 0
            assert math.hypot(a, b) == pytest.approx(1.0)
            assert b >= -1e-12
        else:  # lower arc: circle of radius 1 around (1, 0.5), y ≤ 0.5
            assert math.hypot(a - 1.0, b - 0.5) == pytest.approx(1.0)
            assert b <= 0.5 + 1e-12


def test_moons_are_shuffled():
    _, y = make_moons(100, 0.0, seed=0)
    assert y != sorted(y)


def test_noise_is_gaussian_with_the_given_standard_deviation():
    clean, _ = make_moons(2000, 0.0, seed=5)
    noisy, _ = make_moons(2000, 0.2, seed=5)  # same shuffle, then noise added
    deltas = [n[i] - c[i] for n, c in zip(noisy, clean, strict=True) for i in range(2)]
    mean = sum(deltas) / len(deltas)
    std = math.sqrt(sum((d - mean) ** 2 for d in deltas) / len(deltas))
    assert abs(mean) < 0.01
    assert std == pytest.approx(0.2, rel=0.05)


def test_circles_without_noise_have_radius_one_and_factor():
    X, y = make_circles(40, factor=0.5, seed=0)
    assert Counter(y) == {0: 20, 1: 20}
    for (a, b), label in zip(X, y, strict=True):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.5)


def test_spirals_have_balanced_classes_inside_the_unit_disc():
    X, y = make_spirals(301, 3, seed=0)
    assert Counter(y) == {0: 101, 1: 100, 2: 100}
    assert all(math.hypot(a, b) <= 1.0 + 1e-12 for a, b in X)


def test_spirals_without_noise_follow_the_arm_formula():
    X, y = make_spirals(40, 4, noise=0.0, seed=0)
    for (a, b), k in zip(X, y, strict=True):
        r = math.hypot(a, b)
        if r < 1e-12:
            continue
        theta = math.atan2(a, b)  # the point is (r·sin θ, r·cos θ)
        expected = 4.0 * k + 4.0 * r
        assert math.remainder(theta - expected, 2 * math.pi) == pytest.approx(0.0, abs=1e-9)


def test_xor_labels_are_one_where_the_signs_differ():
    X, y = make_xor(200, seed=0)
    assert all(-1.0 <= c <= 1.0 for p in X for c in p)
    assert all(label == int((a > 0) != (b > 0)) for (a, b), label in zip(X, y, strict=True))
    assert 60 < sum(y) < 140


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: make_moons(0), ValueError, "n"),
        (lambda: make_moons(-5), ValueError, "n"),
        (lambda: make_moons(10.0), TypeError, "n"),
        (lambda: make_moons(10, noise=-0.1), ValueError, "noise"),
        (lambda: make_moons(10, noise="a"), TypeError, "noise"),
        (lambda: make_circles(10, factor=1.0), ValueError, "factor"),
        (lambda: make_spirals(10, classes=1), ValueError, "classes"),
        (lambda: make_xor(10, noise=math.inf), ValueError, "noise"),
        (lambda: make_moons(10, seed="x"), TypeError, "seed"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- train_test_split ---------------------------------------------------------------------------


def test_train_test_split_partitions_the_samples_keeping_pairs_together():
    X = [[float(i), float(-i)] for i in range(20)]
    y = list(range(20))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    assert (len(X_train), len(X_test)) == (15, 5)
    assert sorted(y_train + y_test) == y
    assert all(p[0] == label for p, label in zip(X_train + X_test, y_train + y_test, strict=True))
    assert y_train != sorted(y_train) or y_test != sorted(y_test)  # shuffled


def test_train_test_split_is_seeded():
    X, y = make_moons(40, 0.1, seed=0)
    assert train_test_split(X, y, seed=4) == train_test_split(X, y, seed=4)
    assert train_test_split(X, y, seed=4) != train_test_split(X, y, seed=5)


def test_train_test_split_accepts_a_count_and_rounds_fractions_up():
    X, y = list(range(10)), list(range(10))
    assert len(train_test_split(X, y, test_size=3, seed=0)[1]) == 3
    assert len(train_test_split(X, y, test_size=0.21, seed=0)[1]) == 3


@pytest.mark.parametrize("test_size", [0, 10, 0.0, 1.0, 1.5, -0.2])
def test_train_test_split_rejects_sizes_leaving_an_empty_part(test_size):
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(list(range(10)), list(range(10)), test_size=test_size)


def test_train_test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="3 samples in X but 2 labels"):
        train_test_split([1, 2, 3], [1, 2])


# --- minibatches --------------------------------------------------------------------------------


@given(n=st.integers(1, 40), size=st.integers(1, 12), seed=st.integers(0, 100))
def test_minibatches_cover_every_sample_exactly_once(n, size, seed):
    X = [[float(i), 0.0] for i in range(n)]
    y = list(range(n))
    batches = list(minibatches(X, y, size, seed=seed))
    assert all(len(bx) == len(by) for bx, by in batches)
    assert [len(by) for _, by in batches[:-1]] == [size] * (len(batches) - 1)
    assert 1 <= len(batches[-1][1]) <= size
    seen = [label for _, by in batches for label in by]
    assert sorted(seen) == y
    assert all(p[0] == label for bx, by in batches for p, label in zip(bx, by, strict=True))


def test_minibatches_shuffle_is_seeded_and_can_be_switched_off():
    X, y = list(range(10)), list(range(10))
    assert list(minibatches(X, y, 4, seed=1)) == list(minibatches(X, y, 4, seed=1))
    assert list(minibatches(X, y, 4, seed=1)) != list(minibatches(X, y, 4, seed=2))
    in_order = [by for _, by in minibatches(X, y, 4, shuffle=False)]
    assert in_order == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_minibatches_drop_last_drops_a_short_final_batch():
    X, y = list(range(10)), list(range(10))
    sizes = [len(by) for _, by in minibatches(X, y, 4, seed=0, drop_last=True)]
    assert sizes == [4, 4]


def test_minibatches_check_arguments_immediately():
    with pytest.raises(ValueError, match="batch_size"):
        minibatches([1], [1], 0)
    with pytest.raises(ValueError, match="labels"):
        minibatches([1, 2], [1], 1)


# --- bounded sizes (issue 13, item 9) --------------------------------------------------------


@pytest.mark.parametrize(
    "make", [data.make_moons, data.make_circles, data.make_xor, data.make_spirals]
)
def test_generators_refuse_more_points_than_the_limit_before_allocating(make):
    with pytest.raises(ValueError, match=r"n must be <= 1,000,000.*got 1000000000000"):
        make(10**12)
    with pytest.raises(ValueError, match=r"n must be <= 1,000,000"):
        make(data.MAX_SAMPLES + 1)


def test_generators_accept_up_to_the_limit(monkeypatch):
    monkeypatch.setattr(data, "MAX_SAMPLES", 10)
    X, y = data.make_moons(10, seed=0)
    assert len(X) == len(y) == 10
    with pytest.raises(ValueError, match=r"n must be <= 10\b"):
        data.make_moons(11, seed=0)


def test_spirals_refuse_an_absurd_number_of_classes():
    with pytest.raises(ValueError, match=r"classes must be <= 1,000,000"):
        data.make_spirals(10, classes=10**12)


def test_a_huge_n_is_reported_without_printing_all_its_digits():
    with pytest.raises(ValueError, match=r"got an int of about 5000 digits"):
        data.make_moons(10**5000)
