"""Optimizers: :class:`SGD` and :class:`Adam` with PyTorch's exact update formulas, plus two
learning-rate schedules (:class:`StepLR`, :class:`LinearLR`).

Updates change ``p.data`` in place: nothing is recorded, so no graph grows across steps.
Optimizer state (momentum buffers, moment estimates, the step count) is plain numbers, so
``state_dict()`` is JSON-ready and ``load_state_dict`` resumes a run exactly.

>>> from autograd_mini import Value
>>> from autograd_mini.optim import SGD
>>> w = Value(1.0)
>>> opt = SGD([w], lr=0.1)
>>> (w * w).backward()          # dL/dw = 2w = 2
>>> opt.step(); w.data          # 1 − 0.1·2
0.8
>>> opt.zero_grad(); w.grad
0.0
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Iterable, Mapping, Set as AbstractSet
from typing import Any

from autograd_mini.engine import Value
from autograd_mini.nn import Module
from autograd_mini.registry import brief as _brief

__all__ = ["SGD", "Adam", "LinearLR", "Optimizer", "StepLR"]


def _number(fn: str, name: str, x: object) -> float:
    """``x`` as a finite float: TypeError for a non-number, ValueError for NaN or ±inf (an
    infinite rate, decay or buffer turns every weight into NaN at the first step)."""
    if isinstance(x, (bool, Value)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number, got {type(x).__name__}: {_brief(x)}")
    try:
        v = float(x)
    except OverflowError:
        v = math.inf
    if not math.isfinite(v):
        raise ValueError(f"{fn}: {name} must be finite (not NaN or ±inf), got {_brief(x)}")
    return v


def _loaded_number(fn: str, name: str, x: object) -> float:
    """A number from a saved state: anything else is a ValueError (bad data, not a bad call)."""
    try:
        return _number(f"{fn}.load_state_dict", name, x)
    except TypeError as e:
        raise ValueError(str(e)) from None


def _non_negative(fn: str, name: str, x: object) -> float:
    v = _number(fn, name, x)
    if v < 0.0:
        raise ValueError(f"{fn}: invalid {name} {v!r} (must be >= 0)")
    return v


def _positive(fn: str, name: str, x: object) -> float:
    v = _number(fn, name, x)
    if v <= 0.0:
        raise ValueError(f"{fn}: invalid {name} {v!r} (must be > 0)")
    return v


def _beta(fn: str, name: str, x: object) -> float:
    v = _number(fn, name, x)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"{fn}: invalid {name} {v!r} (must be in [0, 1))")
    return v


class Optimizer:
    """Base class: holds the parameter list; subclasses implement :meth:`step`."""

    __slots__ = ("lr", "params")

    def __init__(self, params: Iterable[Value] | Module, lr: float) -> None:
        fn = type(self).__name__
        if isinstance(params, Value):
            raise TypeError(f"{fn}: params must be an iterable of Values, got a single Value")
        if isinstance(params, Module):  # SGD(model, ...), like trace(params=model)
            params = params.parameters()
        elif isinstance(params, (AbstractSet, Mapping)):
            # torch refuses sets too: their order, hence the updates' order, changes between runs
            raise TypeError(
                f"{fn}: params must be an ordered collection of Values (a list, or a Module), "
                f"got {type(params).__name__}"
            )
        elif not isinstance(params, Iterable):
            raise TypeError(
                f"{fn}: params must be a list of Values or a Module, got {type(params).__name__}"
            )
        ps = list(params)
        if not ps:
            raise ValueError(f"{fn}: got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(ps):
            if not isinstance(p, Value):
                raise TypeError(f"{fn}: params[{i}] must be a Value, got {type(p).__name__}")
            if id(p) in seen:
                raise ValueError(f"{fn}: params[{i}] appears more than once in the parameter list")
            seen.add(id(p))
        self.params: list[Value] = ps
        self.lr: float = _non_negative(fn, "learning rate lr", lr)

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter's ``data`` from its ``grad``."""
        raise NotImplementedError

    # --- saving and resuming ---
    def _hyper(self) -> dict[str, Any]:
        return {"lr": self.lr}

    def _state(self) -> dict[str, Any]:
        return {}

    def _set(self, hyper: dict[str, Any], state: dict[str, Any]) -> None:
        self.lr = hyper["lr"]

    def state_dict(self) -> dict[str, Any]:
        """Hyperparameters and per-parameter state as plain JSON data (lists of floats in the
        order of ``params``)."""
        return {
            "type": type(self).__name__,
            "hyperparameters": self._hyper(),
            "state": self._state(),
        }

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict` (validated first: on a
        ValueError nothing changes)."""
        fn = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"{fn}.load_state_dict: expected a mapping, got {type(state_dict)}")
        if state_dict.get("type") != fn:
            raise ValueError(
                f"{fn}.load_state_dict: state is for optimizer {state_dict.get('type')!r}"
            )
        hyper, state = state_dict.get("hyperparameters"), state_dict.get("state")
        if not isinstance(hyper, Mapping) or not isinstance(state, Mapping):
            raise ValueError(f"{fn}.load_state_dict: missing 'hyperparameters' or 'state'")
        mine_h, mine_s = self._hyper(), self._state()
        if set(hyper) != set(mine_h) or set(state) != set(mine_s):
            raise ValueError(
                f"{fn}.load_state_dict: keys {sorted(hyper)} / {sorted(state)} do not match "
                f"{sorted(mine_h)} / {sorted(mine_s)}"
            )
        new_h: dict[str, Any] = {}
        for k, v in hyper.items():
            if isinstance(mine_h[k], bool):
                if not isinstance(v, bool):
                    raise ValueError(f"{fn}.load_state_dict: hyperparameter {k!r} must be a bool")
                new_h[k] = v
            elif isinstance(mine_h[k], list):
                if not isinstance(v, list) or len(v) != len(mine_h[k]):
                    raise ValueError(f"{fn}.load_state_dict: hyperparameter {k!r} has wrong shape")
                new_h[k] = [_loaded_number(fn, k, x) for x in v]
            else:
                new_h[k] = _loaded_number(fn, k, v)
        new_s: dict[str, Any] = {}
        for k, v in state.items():
            if k == "step":
                # at most 2**53: the bias corrections compute beta ** step in floats, and a
                # larger int is not exact there (and past ~1e308 not convertible at all)
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 2**53:
                    raise ValueError(
                        f"{fn}.load_state_dict: state 'step' must be an int from 0 to 2**53, "
                        f"got {_brief_number(v)}"
                    )
                new_s[k] = v
            elif v is None:
                new_s[k] = None
            elif isinstance(v, list) and len(v) == len(self.params):
                new_s[k] = [_loaded_number(fn, k, x) for x in v]
            else:
                raise ValueError(
                    f"{fn}.load_state_dict: state {k!r} must list one number per parameter "
                    f"({len(self.params)})"
                )
        self._set(new_h, new_s)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
    exactly as ``torch.optim.SGD`` (dampening 0).  For each parameter p with gradient g:

        g ← g + weight_decay·p
        b ← g on the first step, else momentum·b + g        (when momentum ≠ 0)
        g ← g + momentum·b if nesterov else b                (when momentum ≠ 0)
        p ← p − lr·g
    """

    __slots__ = ("buffers", "momentum", "nesterov", "weight_decay")

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _non_negative("SGD", "momentum", momentum)
        self.weight_decay = _non_negative("SGD", "weight_decay", weight_decay)
        if not isinstance(nesterov, bool):
            raise TypeError(f"SGD: nesterov must be a bool, got {type(nesterov).__name__}")
        if nesterov and self.momentum <= 0.0:
            raise ValueError("SGD: Nesterov momentum requires momentum > 0")
        self.nesterov = nesterov
        # momentum buffers, one per parameter; None until the first step (PyTorch: b₁ = g₁)
        self.buffers: list[float] | None = None

    def step(self) -> None:
        lr, mu, wd, nesterov = self.lr, self.momentum, self.weight_decay, self.nesterov
        if mu == 0.0:
            for p in self.params:
                g = p.grad + wd * p.data if wd else p.grad
                p.data -= lr * g
            return
        first = self.buffers is None
        bufs = self.buffers if self.buffers is not None else [0.0] * len(self.params)
        for i, p in enumerate(self.params):
            g = p.grad + wd * p.data if wd else p.grad
            b = g if first else mu * bufs[i] + g
            bufs[i] = b
            g = g + mu * b if nesterov else b
            p.data -= lr * g
        self.buffers = bufs

    def _hyper(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }

    def _state(self) -> dict[str, Any]:
        return {"buffers": None if self.buffers is None else list(self.buffers)}

    def _set(self, hyper: dict[str, Any], state: dict[str, Any]) -> None:
        if hyper["nesterov"] and hyper["momentum"] <= 0.0:
            raise ValueError("SGD.load_state_dict: Nesterov momentum requires momentum > 0")
        for k in ("lr", "momentum", "weight_decay"):
            if hyper[k] < 0.0:
                raise ValueError(f"SGD.load_state_dict: invalid {k} {hyper[k]!r}")
        self.lr = hyper["lr"]
        self.momentum = hyper["momentum"]
        self.nesterov = hyper["nesterov"]
        self.weight_decay = hyper["weight_decay"]
        self.buffers = state["buffers"]


class Adam(Optimizer):
    """Adam (Kingma & Ba), exactly as ``torch.optim.Adam`` (L2 weight decay added to the
    gradient, not decoupled; no AMSGrad).  At step t, for each parameter p with gradient g:

        g ← g + weight_decay·p
        m ← β₁·m + (1 − β₁)·g            v ← β₂·v + (1 − β₂)·g²
        p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
    """

    __slots__ = ("beta1", "beta2", "eps", "m", "steps", "v", "weight_decay")

    def __init__(
        self,
        params: Iterable[Value] | Module,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if isinstance(betas, (str, bytes)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1 = _beta("Adam", "beta1 (betas[0])", betas[0])
        self.beta2 = _beta("Adam", "beta2 (betas[1])", betas[1])
        self.eps = _positive("Adam", "eps", eps)
        self.weight_decay = _non_negative("Adam", "weight_decay", weight_decay)
        self.steps = 0
        self.m = [0.0] * len(self.params)  # first-moment estimates
        self.v = [0.0] * len(self.params)  # second-moment estimates

    @property
    def betas(self) -> tuple[float, float]:
        return (self.beta1, self.beta2)

    def step(self) -> None:
        self.steps += 1
        t = self.steps
        b1, b2, eps, wd = self.beta1, self.beta2, self.eps, self.weight_decay
        step_size = self.lr / (1.0 - b1**t)
        bias_correction2_sqrt = math.sqrt(1.0 - b2**t)
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad + wd * p.data if wd else p.grad
            m[i] = m[i] + (1.0 - b1) * (g - m[i])  # torch: exp_avg.lerp_(g, 1 − β₁)
            v[i] = v[i] * b2 + (1.0 - b2) * (g * g)  # torch: exp_avg_sq.mul_(β₂).addcmul_
            denom = math.sqrt(v[i]) / bias_correction2_sqrt + eps
            p.data -= step_size * (m[i] / denom)

    def _hyper(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "betas": [self.beta1, self.beta2],
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }

    def _state(self) -> dict[str, Any]:
        return {"step": self.steps, "m": list(self.m), "v": list(self.v)}

    def _set(self, hyper: dict[str, Any], state: dict[str, Any]) -> None:
        b1, b2 = hyper["betas"]
        for name, b in (("beta1", b1), ("beta2", b2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"Adam.load_state_dict: invalid {name} {b!r}")
        for k in ("lr", "weight_decay"):
            if hyper[k] < 0.0:
                raise ValueError(f"Adam.load_state_dict: invalid {k} {hyper[k]!r}")
        if hyper["eps"] <= 0.0:
            raise ValueError(f"Adam.load_state_dict: invalid eps {hyper['eps']!r} (must be > 0)")
        if state["m"] is None or state["v"] is None:
            raise ValueError("Adam.load_state_dict: 'm' and 'v' must be lists")
        if any(x < 0.0 for x in state["v"]):  # a mean of squares; sqrt would fail at the step
            raise ValueError("Adam.load_state_dict: state 'v' must not be negative")
        self.lr, self.beta1, self.beta2 = hyper["lr"], b1, b2
        self.eps, self.weight_decay = hyper["eps"], hyper["weight_decay"]
        self.steps, self.m, self.v = state["step"], state["m"], state["v"]


# --- learning-rate schedules ----------------------------------------------------------------


class _Schedule:
    __slots__ = ("base_lr", "epoch", "optimizer")

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0
        optimizer.lr = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch (call after ``optimizer.step()``) and set the optimizer's lr."""
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)


class StepLR(_Schedule):
    """lr = base_lr · gamma^⌊epoch / step_size⌋ (``torch.optim.lr_scheduler.StepLR``).

    ``0 <= gamma <= 1``: with gamma > 1 the factor gamma^k grows without bound and overflows a
    float at some epoch (the second one for gamma = 1e300), so it is a ValueError here, at
    construction, naming that epoch, rather than an OverflowError deep in a training run."""

    __slots__ = ("gamma", "step_size")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be an int >= 1, got {step_size!r}")
        self.step_size = step_size
        self.gamma = _non_negative("StepLR", "gamma", gamma)
        if self.gamma > 1.0:
            # the first k with gamma^k > the largest float: where lr_at would overflow
            k = math.floor(math.log(sys.float_info.max) / math.log(self.gamma)) + 1
            raise ValueError(
                f"StepLR: gamma {_brief(gamma)} > 1 would overflow: the learning rate's factor "
                f"gamma^k grows past the largest float at k = {k:,}, i.e. at epoch "
                f"{k * step_size:,} (step_size {step_size}); StepLR decays the rate, so gamma "
                "must be in [0, 1]"
            )
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class LinearLR(_Schedule):
    """lr = base_lr · (s + (e − s)·min(epoch, total_iters)/total_iters): a straight line from
    ``start_factor`` to ``end_factor`` (``torch.optim.lr_scheduler.LinearLR``, closed form)."""

    __slots__ = ("end_factor", "start_factor", "total_iters")

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3.0,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        self.start_factor = _number("LinearLR", "start_factor", start_factor)
        self.end_factor = _number("LinearLR", "end_factor", end_factor)
        if not 0.0 < self.start_factor <= 1.0:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0.0 <= self.end_factor <= 1.0:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        if isinstance(total_iters, bool) or not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be an int >= 1, got {total_iters!r}")
        self.total_iters = total_iters
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        frac = min(epoch, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


def _brief_number(v: object) -> str:
    """``repr(v)`` shortened: an int of thousands of digits must not flood the message."""
    try:
        text = repr(v)
    except ValueError:  # an int over Python's limit on digits converted to text
        return (
            f"an int of about {int(v.bit_length() * 0.30103) if isinstance(v, int) else '?'} digits"
        )
    return text if len(text) <= 40 else f"{text[:20]}…({len(text)} characters)"
