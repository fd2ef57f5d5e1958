"""Toy 2-D classification datasets in pure Python (no NumPy, no scikit-learn), seeded.

Each generator returns ``(X, y)``: ``X`` a list of ``[float, float]`` points and ``y`` a list of
``int`` class labels, shuffled.  The same ``seed`` (an int or a :class:`random.Random`) gives the
same data every run; ``seed=None`` draws from the global :mod:`random` state.  Gaussian ``noise``
is the standard deviation added to each coordinate.

>>> from autograd_mini.data import make_moons, train_test_split
>>> X, y = make_moons(100, noise=0.1, seed=1)
>>> len(X), len(y), sorted(set(y))
(100, 100, [0, 1])
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
>>> len(X_train), len(X_test)
(80, 20)
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterator, Sequence
from typing import TypeAlias, TypeVar

from autograd_mini.nn import make_rng
from autograd_mini.registry import brief as _brief

__all__ = [
    "MAX_SAMPLES",
    "batches",
    "iterate_minibatches",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "minibatches",
    "train_test_split",
]

Seed: TypeAlias = "int | random.Random | None"
Dataset: TypeAlias = "tuple[list[list[float]], list[int]]"
X_T = TypeVar("X_T")
Y_T = TypeVar("Y_T")


MAX_SAMPLES = 1_000_000
"""Most points (and classes) a generator makes: the data are Python lists, ~200 bytes a point,
so 10⁶ points already take ~200 MB and a few seconds."""


def _count(fn: str, name: str, n: object, minimum: int = 1, maximum: int | None = None) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an int, got {type(n).__name__}: {_brief(n)}")
    if n < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {_brief(n)}")
    if maximum is not None and int(n) > maximum:
        raise ValueError(
            f"{fn}: {name} must be <= {maximum:,} (autograd_mini.data.MAX_SAMPLES: the points "
            f"are Python lists), got {_brief(n)}"
        )
    return int(n)


def _noise(fn: str, noise: object) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"{fn}: noise must be a real number, got {type(noise).__name__}")
    v = float(noise)
    if not 0.0 <= v < math.inf:
        raise ValueError(f"{fn}: noise must be a finite number >= 0, got {noise!r}")
    return v


def _linspace(start: float, stop: float, n: int, endpoint: bool = True) -> list[float]:
    """``n`` evenly spaced numbers from ``start`` to ``stop`` (like ``numpy.linspace``)."""
    if n == 1:
        return [start]
    step = (stop - start) / (n - 1 if endpoint else n)
    return [start + i * step for i in range(n)]


def _finish(points: list[tuple[float, float, int]], noise: float, rng: random.Random) -> Dataset:
    """Shuffle, add Gaussian noise of standard deviation ``noise``, split into (X, y)."""
    rng.shuffle(points)
    coords = [
        [x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)] if noise else [x, y]
        for x, y, _ in points
    ]
    return coords, [label for _, _, label in points]


def make_moons(n: int = 100, noise: float = 0.0, seed: Seed = None) -> Dataset:
    """Two interleaving half circles (scikit-learn's ``make_moons``): ``n // 2`` points on the
    upper arc (cos t, sin t), label 0, and the rest on the lower arc (1 − cos t, ½ − sin t),
    label 1, for t evenly spaced in [0, π]."""
    n = _count("make_moons", "n", n, maximum=MAX_SAMPLES)
    noise = _noise("make_moons", noise)
    rng = make_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    points = [(math.cos(t), math.sin(t), 0) for t in _linspace(0.0, math.pi, n_out)]
    points += [(1.0 - math.cos(t), 0.5 - math.sin(t), 1) for t in _linspace(0.0, math.pi, n_in)]
    return _finish(points, noise, rng)


def make_circles(
    n: int = 100, noise: float = 0.0, seed: Seed = None, factor: float = 0.8
) -> Dataset:
    """Two concentric circles (scikit-learn's ``make_circles``): ``n // 2`` points on the unit
    circle, label 0, and the rest on the circle of radius ``factor`` (0 < factor < 1), label 1."""
    n = _count("make_circles", "n", n, maximum=MAX_SAMPLES)
    noise = _noise("make_circles", noise)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
        raise TypeError(f"make_circles: factor must be a real number, got {factor!r}")
    if not 0.0 < factor < 1.0:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor!r}")
    rng = make_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    tau = 2.0 * math.pi
    points = [(math.cos(t), math.sin(t), 0) for t in _linspace(0.0, tau, n_out, endpoint=False)]
    points += [
        (factor * math.cos(t), factor * math.sin(t), 1)
        for t in _linspace(0.0, tau, n_in, endpoint=False)
    ]
    return _finish(points, noise, rng)


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: Seed = None) -> Dataset:
    """``classes`` interleaved spiral arms (the CS231n spiral data), ``n`` points in all (the
    total, like every generator here; CS231n's N counts points per class instead).

    Arm k has radius r from 0 to 1 and angle θ = 4k + 4r (radians) plus Gaussian noise of
    standard deviation ``noise`` on θ; a point is (r·sin θ, r·cos θ), label k.  The first
    ``n % classes`` arms get one extra point.
    """
    n = _count("make_spirals", "n", n, maximum=MAX_SAMPLES)
    classes = _count("make_spirals", "classes", classes, minimum=2, maximum=MAX_SAMPLES)
    noise = _noise("make_spirals", noise)
    rng = make_rng(seed)
    points: list[tuple[float, float, int]] = []
    for k in range(classes):
        size = n // classes + (1 if k < n % classes else 0)
        for r in _linspace(0.0, 1.0, size):
            theta = 4.0 * k + 4.0 * r + (rng.gauss(0.0, noise) if noise else 0.0)
            points.append((r * math.sin(theta), r * math.cos(theta), k))
    return _finish(points, 0.0, rng)


def make_xor(n: int = 100, noise: float = 0.0, seed: Seed = None) -> Dataset:
    """Points uniform in the square [−1, 1]², label 1 where the coordinates' signs differ (the
    XOR of x > 0 and y > 0), else 0; ``noise`` is then added to the coordinates."""
    n = _count("make_xor", "n", n, maximum=MAX_SAMPLES)
    noise = _noise("make_xor", noise)
    rng = make_rng(seed)
    points = []
    for _ in range(n):
        x, y = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        points.append((x, y, int((x > 0.0) != (y > 0.0))))
    return _finish(points, noise, rng)


def train_test_split(
    X: Sequence[X_T],  # noqa: N803 - scikit-learn's name
    y: Sequence[Y_T],
    test_size: float | int = 0.25,
    seed: Seed = None,
    *,
    random_state: Seed = None,
) -> tuple[list[X_T], list[X_T], list[Y_T], list[Y_T]]:
    """Shuffle (seeded) and split into ``X_train, X_test, y_train, y_test`` (scikit-learn's
    order).  ``test_size`` is a fraction in (0, 1) (the test count is rounded up) or a count.
    ``random_state`` is scikit-learn's name for ``seed`` (give one or the other)."""
    if random_state is not None:
        if seed is not None:
            raise TypeError("train_test_split: give seed or random_state, not both")
        seed = random_state
    if len(X) != len(y):
        raise ValueError(f"train_test_split: {len(X)} samples in X but {len(y)} labels in y")
    n = len(X)
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"train_test_split: test_size must be a number, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0.0 < float(test_size) < 1.0:
        n_test = math.ceil(float(test_size) * n)
    else:
        raise ValueError(
            f"train_test_split: a fractional test_size must be in (0, 1), got {test_size!r}"
        )
    if not 0 < n_test < n:
        raise ValueError(
            f"train_test_split: test_size={test_size!r} leaves {n_test} of {n} samples for "
            "testing; both parts must be non-empty"
        )
    order = list(range(n))
    make_rng(seed).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


def minibatches(
    X: Sequence[X_T],  # noqa: N803
    y: Sequence[Y_T],
    batch_size: int,
    shuffle: bool = True,
    seed: Seed = None,
    drop_last: bool = False,
) -> Iterator[tuple[list[X_T], list[Y_T]]]:
    """Yield ``(X_batch, y_batch)`` pairs of ``batch_size`` samples covering the data once (one
    epoch), in a seeded shuffled order (or in order with ``shuffle=False``).  The last batch is
    smaller when ``batch_size`` does not divide the data, unless ``drop_last``.

    Arguments are checked when called, not when iteration starts."""
    if len(X) != len(y):
        raise ValueError(f"minibatches: {len(X)} samples in X but {len(y)} labels in y")
    size = _count("minibatches", "batch_size", batch_size)
    order = list(range(len(X)))
    if shuffle:
        make_rng(seed).shuffle(order)
    return _batches(X, y, order, size, drop_last)


iterate_minibatches = minibatches
"""Another name for :func:`minibatches`."""
batches = minibatches
"""Another name for :func:`minibatches`."""


def _batches(
    X: Sequence[X_T],  # noqa: N803
    y: Sequence[Y_T],
    order: list[int],
    size: int,
    drop_last: bool,
) -> Iterator[tuple[list[X_T], list[Y_T]]]:
    for start in range(0, len(order), size):
        idx = order[start : start + size]
        if drop_last and len(idx) < size:
            return
        yield [X[i] for i in idx], [y[i] for i in idx]
