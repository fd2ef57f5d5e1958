"""Modes: whether operations record the graph (:class:`no_grad`, :class:`enable_grad`,
:func:`is_grad_enabled`), whether anomaly mode checks them, and the hook that lets a tracer watch
comparisons (:func:`comparison_hook`).

Each is per thread and per asyncio task: a ``ContextVar``, read where it is needed, never a
module global swapped for the duration of a block.  Recording and anomaly mode share one
``ContextVar`` holding a small immutable :class:`Mode`, so building a node reads one variable and
compares it with the default by identity.  A mode object (``no_grad()``, ``detect_anomaly()``)
keeps no state of its own: entering saves the previous mode on a per-context stack, so one object
may be entered by several threads at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ContextDecorator, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

if TYPE_CHECKING:
    from autograd_mini.engine import Value

__all__ = ["Mode", "comparison_hook", "enable_grad", "is_grad_enabled", "no_grad"]


class Mode(NamedTuple):
    """``grad``: operations are recorded; ``anomaly``: None (off), True (check for NaN/inf) or
    False (only record where nodes are made, PyTorch's ``check_nan=False``)."""

    grad: bool
    anomaly: bool | None


_MODES = {m: m for m in (Mode(g, a) for g in (True, False) for a in (None, True, False))}
RECORDING = _MODES[Mode(True, None)]
"""The default mode: recording, no anomaly checks (the engine's fast path tests for it)."""

MODE: ContextVar[Mode] = ContextVar("autograd_mini_mode", default=RECORDING)
_SAVED: ContextVar[tuple[Mode, ...]] = ContextVar("autograd_mini_saved_modes", default=())
mode = MODE.get


ComparisonHook: TypeAlias = "Callable[[Value, str, object, bool], None]"
COMPARISON_HOOK: ContextVar[ComparisonHook | None] = ContextVar(
    "autograd_mini_comparison_hook", default=None
)


@contextmanager
def comparison_hook(hook: ComparisonHook) -> Iterator[None]:
    """Call ``hook(lhs, symbol, rhs, outcome)`` for every Value comparison (``<`` … ``!=`` and
    ``bool(v)``) made in this context: how :func:`autograd_mini.trace` records the branches
    ``f`` took."""
    token = COMPARISON_HOOK.set(hook)
    try:
        yield
    finally:
        COMPARISON_HOOK.reset(token)


def is_grad_enabled() -> bool:
    """Whether operations are being recorded in this thread / context."""
    return MODE.get().grad


class ModeBlock(ContextDecorator):
    """Context manager and decorator that runs its block in the current mode with ``changes``
    (``grad=``, ``anomaly=``); the mode it replaces waits on this context's stack."""

    def __init__(self, **changes: bool) -> None:
        self._changes = changes

    def __enter__(self) -> None:
        old = MODE.get()
        _SAVED.set((*_SAVED.get(), old))
        MODE.set(_MODES[old._replace(**self._changes)])  # the one Mode of its kind: see RECORDING

    def __exit__(self, *exc: object) -> None:
        saved = _SAVED.get()
        MODE.set(saved[-1])
        _SAVED.set(saved[:-1])


class no_grad(ModeBlock):  # noqa: N801 - named like torch.no_grad
    """``with no_grad():`` (or ``@no_grad()``) records no graph: results are leaves that need
    no gradient.  Use it for evaluation and for parameter updates.  Per thread / asyncio task."""

    def __init__(self) -> None:
        super().__init__(grad=False)


class enable_grad(ModeBlock):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(grad=True)
