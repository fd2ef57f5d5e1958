"""Gradient mode: whether operations record the graph (:class:`no_grad`, :class:`enable_grad`,
:func:`is_grad_enabled`), and the hook that lets a tracer watch comparisons
(:func:`comparison_hook`).

Both settings are ContextVars, so a ``no_grad`` block (or a tracer) in one thread or asyncio task
does not affect another.  :mod:`autograd_mini.engine` binds ``_grad_enabled`` and
``_COMPARISON_HOOK`` at import, so building a node costs no lookup through this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

if TYPE_CHECKING:
    from autograd_mini.engine import Value

__all__ = ["comparison_hook", "enable_grad", "is_grad_enabled", "no_grad"]

F = TypeVar("F", bound=Callable[..., Any])

# Whether operations record the graph. A ContextVar, so `no_grad` in one thread (or asyncio task)
# does not switch recording off in another.
_GRAD_ENABLED: ContextVar[bool] = ContextVar("autograd_mini_grad_enabled", default=True)
_grad_enabled = _GRAD_ENABLED.get


ComparisonHook: TypeAlias = "Callable[[Value, str, object, bool], None]"
# Called after every comparison of a Value (``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=``) with
# the left operand, the symbol, the right operand as given and the outcome.  Tracing switches
# it on for its own context (a ContextVar: other threads and tasks are not watched); None: off.
_COMPARISON_HOOK: ContextVar[ComparisonHook | None] = ContextVar(
    "autograd_mini_comparison_hook", default=None
)


@contextmanager
def comparison_hook(hook: ComparisonHook) -> Iterator[None]:
    """Call ``hook(lhs, symbol, rhs, outcome)`` for every Value comparison made in this
    context (how :func:`autograd_mini.trace` records the branches ``f`` took)."""
    token = _COMPARISON_HOOK.set(hook)
    try:
        yield
    finally:
        _COMPARISON_HOOK.reset(token)


def is_grad_enabled() -> bool:
    """Whether operations are being recorded in this thread / context."""
    return _grad_enabled()


class _GradMode:
    """Context manager and decorator that sets whether operations are recorded."""

    _enabled = True

    def __init__(self) -> None:
        self._tokens: list[Any] = []

    def __enter__(self) -> None:
        self._tokens.append(_GRAD_ENABLED.set(self._enabled))

    def __exit__(self, *exc: object) -> None:
        _GRAD_ENABLED.reset(self._tokens.pop())

    def __call__(self, func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 - named like torch.no_grad
    """``with no_grad():`` (or ``@no_grad()``) records no graph: results are leaves.

    Use it for evaluation and for parameter updates.  Per thread / asyncio task (a ContextVar).
    """

    _enabled = False


class enable_grad(_GradMode):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block."""

    _enabled = True
