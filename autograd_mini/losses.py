"""Loss functions built from engine operations, so their gradients come from the rule table.

Every loss has the signature ``loss(predictions, targets, reduction="mean")`` (``sse`` sums by
default, see there): ``predictions`` is a list of Values (or one Value), ``targets`` a list of
numbers, and the result is a Value; ``reduction`` is ``"mean"`` (the average over samples),
``"sum"``, or ``"none"`` (a list with one loss Value per sample, as in PyTorch).

Numerical stability uses only stable engine ops: binary cross-entropy is built from
``Value.softplus``, which never overflows, and cross-entropy subtracts the largest logit, a
constant, before exponentiating (log-sum-exp).  Both give finite losses and gradients at logits
of ±1000.

>>> from autograd_mini import Value
>>> from autograd_mini.losses import mse, cross_entropy
>>> mse([Value(1.0), Value(3.0)], [0.0, 1.0]).data      # (1² + 2²) / 2
2.5
>>> print(f"{cross_entropy([Value(0.0), Value(0.0)], 1).data:.10f}")   # ln 2
0.6931471806
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, TypeAlias, TypeVar, cast, overload

from autograd_mini.engine import Value
from autograd_mini.nn import Module

__all__ = [
    "binary_cross_entropy",
    "cross_entropy",
    "hinge",
    "l2",
    "logsumexp",
    "mse",
    "sse",
]

Reduction: TypeAlias = Literal["mean", "sum", "none"]
Prediction: TypeAlias = "Value | float | int"
Predictions: TypeAlias = "Prediction | Sequence[Prediction]"
Targets: TypeAlias = "float | int | Value | Sequence[float | int | Value]"

_REDUCTIONS = ("mean", "sum", "none")
_T = TypeVar("_T")


# --- validation helpers -------------------------------------------------------------------------


def _as_value(x: object, what: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(float(x))
    raise TypeError(f"{what} must be a Value or a real number, got {type(x).__name__}: {x!r}")


def _as_number(x: object, what: str) -> float:
    if isinstance(x, Value):
        raise TypeError(f"{what} must be a plain number, got a Value (use .data)")
    if isinstance(x, numbers.Real):
        return float(x)
    raise TypeError(f"{what} must be a real number, got {type(x).__name__}: {x!r}")


def _listed(x: _T) -> _T:
    """A one-pass iterable that is not a Sequence (a NumPy array, a generator) as a list;
    anything else unchanged (the callers check the type next)."""
    if isinstance(x, Iterable) and not isinstance(x, (Sequence, Mapping, Value, str, bytes)):
        return cast(_T, list(x))
    return x


def _check_reduction(fn: str, reduction: object) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{fn}: reduction must be one of {', '.join(map(repr, _REDUCTIONS))}, got {reduction!r}"
        )


def _regression_pairs(
    fn: str, predictions: object, targets: object
) -> list[tuple[Value, float | Value]]:
    """Like :func:`_pairs`, but a target may be a Value (the loss then depends on it too)."""
    predictions, targets = _listed(predictions), _listed(targets)
    if isinstance(targets, Value):
        targets = [targets]
    if isinstance(targets, Sequence) and not isinstance(targets, (str, bytes)):
        plain = [0.0 if isinstance(t, Value) else t for t in targets]
        pairs = _pairs(fn, predictions, plain)
        return [
            (p, t if isinstance(t, Value) else tf)
            for (p, tf), t in zip(pairs, targets, strict=True)
        ]
    return list(_pairs(fn, predictions, targets))


def _pairs(fn: str, predictions: object, targets: object) -> list[tuple[Value, float]]:
    """(prediction, target) pairs after checking types and lengths."""
    predictions, targets = _listed(predictions), _listed(targets)
    if isinstance(predictions, (Value, numbers.Real)):
        preds: list[object] = [predictions]
        if isinstance(targets, (Value, numbers.Real)):
            targets = [targets]
    elif isinstance(predictions, Sequence) and not isinstance(predictions, (str, bytes)):
        preds = list(predictions)
    else:
        raise TypeError(
            f"{fn}: predictions must be a Value or a list of Values, "
            f"got {type(predictions).__name__}"
        )
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Sequence):
        raise TypeError(f"{fn}: targets must be a list of numbers, got {type(targets).__name__}")
    if len(preds) != len(targets):
        raise ValueError(
            f"{fn}: {len(preds)} predictions but {len(targets)} targets (lengths must match)"
        )
    if not preds:
        raise ValueError(f"{fn}: empty batch (no predictions)")
    return [
        (_as_value(p, f"{fn}: predictions[{i}]"), _as_number(t, f"{fn}: targets[{i}]"))
        for i, (p, t) in enumerate(zip(preds, targets, strict=True))
    ]


def _total(terms: Sequence[Value]) -> Value:
    """Σ terms, left to right (the same order every run)."""
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


@overload
def _reduce(terms: list[Value], reduction: Literal["mean", "sum"]) -> Value: ...
@overload
def _reduce(terms: list[Value], reduction: str) -> Value | list[Value]: ...
def _reduce(terms: list[Value], reduction: str) -> Value | list[Value]:
    if reduction == "none":
        return terms
    total = _total(terms)
    return total / len(terms) if reduction == "mean" else total


# --- regression ---------------------------------------------------------------------------------


@overload
def sse(
    predictions: Predictions, targets: Targets, reduction: Literal["mean", "sum"] = ...
) -> Value: ...
@overload
def sse(predictions: Predictions, targets: Targets, reduction: Literal["none"]) -> list[Value]: ...
def sse(
    predictions: Predictions, targets: Targets, reduction: Reduction = "sum"
) -> Value | list[Value]:
    """Sum of squared errors, Σᵢ (pᵢ − tᵢ)², without a ½ (the tutorial's loss).

    The one loss that sums by default, as its name says; ``reduction="mean"`` gives :func:`mse`.
    Targets may also be Values; gradients then flow into them too.
    """
    _check_reduction("sse", reduction)
    terms = [(p - t) ** 2 for p, t in _regression_pairs("sse", predictions, targets)]
    return _reduce(terms, reduction)


@overload
def mse(
    predictions: Predictions, targets: Targets, reduction: Literal["mean", "sum"] = ...
) -> Value: ...
@overload
def mse(predictions: Predictions, targets: Targets, reduction: Literal["none"]) -> list[Value]: ...
def mse(
    predictions: Predictions, targets: Targets, reduction: Reduction = "mean"
) -> Value | list[Value]:
    """Mean squared error, (1/n) Σᵢ (pᵢ − tᵢ)² (``torch.nn.functional.mse_loss``).

    Targets may also be Values; gradients then flow into them too (as in PyTorch)."""
    _check_reduction("mse", reduction)
    terms = [(p - t) ** 2 for p, t in _regression_pairs("mse", predictions, targets)]
    return _reduce(terms, reduction)


# --- binary classification ----------------------------------------------------------------------


@overload
def hinge(
    predictions: Predictions, targets: Targets, reduction: Literal["mean", "sum"] = ...
) -> Value: ...
@overload
def hinge(
    predictions: Predictions, targets: Targets, reduction: Literal["none"]
) -> list[Value]: ...
def hinge(
    predictions: Predictions, targets: Targets, reduction: Reduction = "mean"
) -> Value | list[Value]:
    """Max-margin (SVM) loss, max(0, 1 − tᵢ·sᵢ) for scores sᵢ and labels tᵢ ∈ {−1, +1}.

    Zero once a sample is on the right side with margin 1; its gradient is −tᵢ otherwise.
    """
    _check_reduction("hinge", reduction)
    pairs = _pairs("hinge", predictions, targets)
    for i, (_, t) in enumerate(pairs):
        if t not in (-1.0, 1.0):
            raise ValueError(f"hinge: targets[{i}] must be -1 or +1, got {t!r}")
    terms = [(1.0 - t * s).relu() for s, t in pairs]
    return _reduce(terms, reduction)


@overload
def binary_cross_entropy(
    predictions: Predictions, targets: Targets, reduction: Literal["mean", "sum"] = ...
) -> Value: ...
@overload
def binary_cross_entropy(
    predictions: Predictions, targets: Targets, reduction: Literal["none"]
) -> list[Value]: ...
def binary_cross_entropy(
    predictions: Predictions, targets: Targets, reduction: Reduction = "mean"
) -> Value | list[Value]:
    """Binary cross-entropy from logits zᵢ and labels tᵢ ∈ [0, 1] (usually 0 or 1):

    −[t·ln σ(z) + (1 − t)·ln(1 − σ(z))] = t·softplus(−z) + (1 − t)·softplus(z)
                                         = softplus(z) − t·z,

    as ``torch.nn.functional.binary_cross_entropy_with_logits``.  Computed in the first form
    (for t = 1 just softplus(−z), for t = 0 softplus(z)): finite loss and gradient σ(z) − t for
    any z, and no cancellation in softplus(z) − z when z is large and t = 1.
    """
    _check_reduction("binary_cross_entropy", reduction)
    pairs = _pairs("binary_cross_entropy", predictions, targets)
    for i, (_, t) in enumerate(pairs):
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"binary_cross_entropy: targets[{i}] must be in [0, 1], got {t!r}")
    terms = [_bce(z, t) for z, t in pairs]
    return _reduce(terms, reduction)


def _bce(z: Value, t: float) -> Value:
    if t == 1.0:
        return (-z).softplus()
    if t == 0.0:
        return z.softplus()
    return t * (-z).softplus() + (1.0 - t) * z.softplus()


# --- multiclass classification ------------------------------------------------------------------


def logsumexp(logits: Sequence[Value | float | int]) -> Value:
    """ln Σⱼ e^zⱼ, computed as m + ln Σⱼ e^(zⱼ − m) with m = maxⱼ zⱼ (a constant).

    Every exponent is ≤ 0 and the sum is ≥ 1, so nothing overflows or logs zero; the gradient,
    softmax(z), does not depend on m.
    """
    if isinstance(logits, (str, bytes)) or not isinstance(logits, Sequence):
        raise TypeError(f"logsumexp: logits must be a list of Values, got {type(logits).__name__}")
    if not logits:
        raise ValueError("logsumexp: empty list of logits")
    zs = [_as_value(z, f"logsumexp: logits[{i}]") for i, z in enumerate(logits)]
    m = max(z.data for z in zs)
    return _total([(z - m).exp() for z in zs]).log() + m


def _class_index(t: object, n_classes: int, what: str) -> int:
    if isinstance(t, bool) or not isinstance(t, numbers.Integral):
        raise TypeError(f"cross_entropy: {what} must be an int class index, got {t!r}")
    k = int(t)
    if not 0 <= k < n_classes:
        raise ValueError(
            f"cross_entropy: {what} = {k} is out of range for {n_classes} classes "
            f"(valid: 0 to {n_classes - 1})"
        )
    return k


def _one_sample(
    logits: Sequence[Value | float | int], target: object, what: str, target_name: str
) -> Value:
    """−ln softmax(z)ₖ = logsumexp(z) − zₖ."""
    logits = _listed(logits)
    if isinstance(logits, (str, bytes)) or not isinstance(logits, Sequence):
        raise TypeError(f"cross_entropy: {what} must be a list of logits")
    if not logits:
        raise ValueError(f"cross_entropy: {what} is an empty list of logits")
    k = _class_index(target, len(logits), target_name)
    zs = [_as_value(z, f"cross_entropy: {what}[{i}]") for i, z in enumerate(logits)]
    return logsumexp(zs) - zs[k]


@overload
def cross_entropy(
    predictions: Sequence[Prediction] | Sequence[Sequence[Prediction]],
    targets: int | Sequence[int],
    reduction: Literal["mean", "sum"] = ...,
) -> Value: ...
@overload
def cross_entropy(
    predictions: Sequence[Prediction] | Sequence[Sequence[Prediction]],
    targets: int | Sequence[int],
    reduction: Literal["none"],
) -> Value | list[Value]: ...
def cross_entropy(
    predictions: Sequence[Prediction] | Sequence[Sequence[Prediction]],
    targets: int | Sequence[int],
    reduction: Reduction = "mean",
) -> Value | list[Value]:
    """Softmax cross-entropy, −ln(e^zₖ / Σⱼ e^zⱼ) = logsumexp(z) − zₖ (stable, see
    :func:`logsumexp`); ``torch.nn.functional.cross_entropy``.

    One sample: ``predictions`` a list of logits and ``targets`` the class index (an int), giving
    that sample's loss.  A batch: a list of such lists and a list of indices, reduced over the
    batch.  A class index out of range raises ``ValueError``.
    """
    _check_reduction("cross_entropy", reduction)
    predictions, targets = _listed(predictions), _listed(targets)
    if isinstance(predictions, (str, bytes)) or not isinstance(predictions, Sequence):
        raise TypeError(
            f"cross_entropy: predictions must be a list of logits or a list of such lists, "
            f"got {type(predictions).__name__}"
        )
    if not predictions:
        raise ValueError("cross_entropy: empty predictions")
    first = predictions[0]
    if isinstance(first, (Value, numbers.Real)):  # one sample
        if isinstance(targets, Sequence):
            raise TypeError(
                "cross_entropy: for one sample (a list of logits) the target must be one int "
                "class index, not a list"
            )
        return _one_sample(predictions, targets, "logits", "target")  # type: ignore[arg-type]
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Sequence):
        raise TypeError(
            "cross_entropy: for a batch (a list of lists of logits) targets must be a list of "
            f"class indices, got {type(targets).__name__}"
        )
    if len(predictions) != len(targets):
        raise ValueError(
            f"cross_entropy: {len(predictions)} samples but {len(targets)} targets "
            "(lengths must match)"
        )
    terms = [
        _one_sample(z, t, f"logits[{i}]", f"targets[{i}]")  # type: ignore[arg-type]
        for i, (z, t) in enumerate(zip(predictions, targets, strict=True))
    ]
    return _reduce(terms, reduction)


# --- regularisation -----------------------------------------------------------------------------


def l2(params: Iterable[Value] | Module | Value) -> Value:
    """Σ p² over ``params`` (no ½): add ``alpha * l2(model.parameters())`` to a loss to shrink
    the weights; its gradient is 2·alpha·p.  Zero for no parameters.  A Module stands for its
    ``parameters()``, a single Value for ``[Value]``."""
    if isinstance(params, Module):
        params = params.parameters()
    if isinstance(params, Value):
        params = [params]
    terms = []
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"l2: params[{i}] must be a Value, got {type(p).__name__}")
        terms.append(p * p)
    return _total(terms) if terms else Value(0.0)
