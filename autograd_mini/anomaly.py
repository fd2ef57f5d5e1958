"""Anomaly mode: find the operation that made a NaN or an infinity.

>>> from autograd_mini import Value, detect_anomaly
>>> x = Value(0.0, label="x")
>>> with detect_anomaly():  # doctest: +ELLIPSIS
...     y = x.sqrt()
...     y.backward()
Traceback (most recent call last):
...
autograd_mini.anomaly.AnomalyError: backward: sqrt'(0.0) = inf, so ...

Inside ``with detect_anomaly():`` (or a function decorated with ``@detect_anomaly()``):

* forward: the first operation whose result is NaN or ±inf although its inputs are finite raises
  :class:`AnomalyError`, naming the op, its inputs and the file and line of the user's code that
  called it.  The operations that already refuse such inputs (``exp`` overflow, ``log`` of 0,
  division by 0, …) raise an error that is both an AnomalyError and their usual exception;
* every node records where it was created (file, line), so that backward can say where the
  culprit came from;
* backward (``backward()`` and ``grad()``): the first rule that turns a finite gradient into NaN
  or ±inf for an input that needs a gradient raises, naming the node (its label or ``vN``, N its
  topological index), the op, the rule's inputs and the line that created the node.  Constants
  need no gradient, so their partials are never computed nor checked.

The mode is per thread and asyncio task (a ``ContextVar``, like ``no_grad``): the engine reads it
where it builds a node or starts a pass, so code outside every block runs exactly as without it.
"""

from __future__ import annotations

import linecache
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from autograd_mini import grad_mode
from autograd_mini.naming import sanitize_label

__all__ = ["AnomalyError", "detect_anomaly"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_DEMOS_DIR = os.path.join(_PACKAGE_DIR, "demos") + os.sep


class AnomalyError(FloatingPointError):
    """An operation (forward) or a derivative rule (backward) produced NaN or ±inf from finite
    numbers inside :class:`detect_anomaly`."""


def user_site() -> tuple[str, int]:
    """(file, line) of the innermost caller outside this package (its demos count as users)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith(_PACKAGE_DIR) or name.startswith(_DEMOS_DIR):
            return name, frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>", 0


def _where(site: tuple[str, int] | None) -> str:
    """```code` at file:line`` (the code when the source is readable)."""
    if site is None:
        return "an unknown line (the node was made outside detect_anomaly)"
    path, line = site
    code = linecache.getline(path, line).strip()
    return (f"`{code}` at " if code else "") + f"{path}:{line}"


_ANOMALY_TYPES: dict[type[BaseException], type[AnomalyError]] = {}


def check_forward(
    name: str, args: Sequence[float], data: float = 0.0, error: BaseException | None = None
) -> None:
    """Raise AnomalyError if op ``name`` made NaN/±inf (``data``) from finite ``args``, or
    raised the math-domain ``error`` on them (then the AnomalyError is also of its type)."""
    if (error is None and math.isfinite(data)) or not all(map(math.isfinite, args)):
        return
    text = ", ".join(map(repr, args))
    if error is None:
        raise AnomalyError(
            f"forward: {name}({text}) = {data!r} from finite inputs, in {_where(user_site())}"
        )
    kind = type(error)
    if kind not in _ANOMALY_TYPES:
        _ANOMALY_TYPES[kind] = type(f"Anomaly{kind.__name__}", (AnomalyError, kind), {})
    raise _ANOMALY_TYPES[kind](
        f"forward: {name}({text}) has no finite value ({error}), in {_where(user_site())}"
    ) from error


def _name(order: Sequence[Any], node: Any) -> str:
    """The node's display name, as in drawings: its label, else ``vN``."""
    if node.label:
        return repr(sanitize_label(node.label))
    # by identity: == compares data, so order.index(node) could find an equal-valued node
    return f"v{next((i for i, v in enumerate(order) if v is node), '?')}"


def check_rule(order: Sequence[Any], node: Any, g: Any, grads: Sequence[Any]) -> None:
    """Raise AnomalyError if ``node``'s rule turned the finite gradient ``g`` into NaN/±inf for
    an input that needs a gradient (``grads`` has None for the others)."""
    if not math.isfinite(g) or all(gp is None or math.isfinite(gp) for gp in grads):
        return
    op, parents = node._op, node._parents
    i = next(k for k, gp in enumerate(grads) if gp is not None and not math.isfinite(gp))
    datas = [p.data for p in parents]
    args = ", ".join(repr(d) for d in datas)
    named = ", ".join(f"{n}={d!r}" for n, d in zip("xy", datas, strict=False))
    partial = op.vjp(1.0, node.data, *datas, needs=[k == i for k in range(len(parents))])[i]
    local = f"{op.name}'({args})" if len(parents) == 1 else f"∂{op.name}({args})/∂{'xy'[i]}"
    raise AnomalyError(
        f"backward: {local} = {partial!r}, so the gradient {float(g)!r} flowing into node "
        f"{_name(order, node)} ({op.name} of {', '.join(_name(order, p) for p in parents)}) "
        f"became {float(grads[i])!r} for input {_name(order, parents[i])}; rule "
        f"{op.name}_vjp(g={float(g)!r}, out={node.data!r}, {named}); reached through "
        f"{_where(getattr(node, '_site', None))}"
    )


class detect_anomaly(grad_mode.ModeBlock):  # noqa: N801 - named like torch.autograd.detect_anomaly
    """``with detect_anomaly():`` (or ``@detect_anomaly()``): anomaly mode (see the module);
    ``check_nan=False`` (as in PyTorch) only records where nodes are created, without checking.
    One object may be entered by several threads at once."""

    def __init__(self, check_nan: bool = True) -> None:
        if not isinstance(check_nan, bool):
            hint = " (as a decorator, write @detect_anomaly() with parentheses)"
            raise TypeError(
                f"detect_anomaly: check_nan must be a bool, got {type(check_nan).__name__}: "
                f"{check_nan!r}" + (hint if callable(check_nan) else "")
            )
        super().__init__(anomaly=check_nan)
        self.check_nan = check_nan
