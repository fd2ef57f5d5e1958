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
  or ±inf raises, naming the node (its label or ``vN``, N its topological index), the op, the
  rule's inputs and the line that created the node.

Outside every block nothing is checked and nothing is recorded: the engine's node constructor
(and its table of forward functions) is swapped for a checking one only while some block is
open, and backward looks at the mode once per pass.  Per thread / asyncio task, like ``no_grad``.
"""

from __future__ import annotations

import contextlib
import linecache
import math
import os
import sys
import types
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

from autograd_mini import engine as _engine
from autograd_mini import instrument as _inst
from autograd_mini import ops as _ops
from autograd_mini.engine import Value
from autograd_mini.ops import OPS, Op

__all__ = ["AnomalyError", "detect_anomaly"]

F = TypeVar("F", bound=Callable[..., Any])

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_DEMOS_DIR = os.path.join(_PACKAGE_DIR, "demos") + os.sep
_plain_node = _engine._node
_ENGINE_GLOBALS = vars(_engine)  # where Value's methods look up _node and _ops
_plain_ops = _ENGINE_GLOBALS["_ops"]


class AnomalyError(FloatingPointError):
    """An operation (forward) or a derivative rule (backward) produced NaN or ±inf from finite
    numbers inside :class:`detect_anomaly`."""


class _SitedValue(Value):
    """A node made in anomaly mode: a Value that also knows where the user created it."""

    __slots__ = ("_site",)
    _site: tuple[str, int]


def _user_site() -> tuple[str, int]:
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


def _finite(x: float) -> bool:
    return math.isfinite(x)


def _anomaly_node(data: float, x: Value, y: Value | None, op: Op) -> Value:
    """The engine's ``_node`` while some anomaly block is open: in one, check the result and
    record the creation site; elsewhere (another thread) exactly the plain constructor."""
    mode = _inst.ANOMALY.get()
    if mode is None:
        return _plain_node(data, x, y, op)
    if mode and not _finite(data) and _finite(x.data) and (y is None or _finite(y.data)):
        args = ", ".join(repr(v.data) for v in ((x,) if y is None else (x, y)))
        raise AnomalyError(
            f"forward: {op.name}({args}) = {data!r} from finite inputs, in {_where(_user_site())}"
        )
    plain = _plain_node(data, x, y, op)
    v = _SitedValue.__new__(_SitedValue)
    for slot in Value.__slots__:  # copy whatever the plain constructor set
        with contextlib.suppress(AttributeError):  # a slot the constructor left unset
            setattr(v, slot, getattr(plain, slot))
    v._site = _user_site()
    return v


_ANOMALY_TYPES: dict[type[BaseException], type[AnomalyError]] = {}


def _anomaly_type(error: type[BaseException]) -> type[AnomalyError]:
    """AnomalyError that is also ``error`` (e.g. OverflowError), so that code catching either
    catches it."""
    if error not in _ANOMALY_TYPES:
        _ANOMALY_TYPES[error] = type(f"Anomaly{error.__name__}", (AnomalyError, error), {})
    return _ANOMALY_TYPES[error]


def _checked_forward(name: str, fn: Callable[..., float]) -> Callable[..., float]:
    """``fn`` (an op's float forward), whose math-domain errors on finite inputs become
    AnomalyErrors naming the op, the inputs and the user's line (in an anomaly block)."""

    @wraps(fn)
    def forward(*args: float) -> float:
        try:
            return fn(*args)
        except (ArithmeticError, ValueError) as e:
            if not _inst.ANOMALY.get() or not all(_finite(a) for a in args):
                raise
            text = ", ".join(repr(a) for a in args)
            raise _anomaly_type(type(e))(
                f"forward: {name}({text}) has no finite value ({e}), in {_where(_user_site())}"
            ) from e

    return forward


# What the engine's Value methods call as ``_ops.<name>`` while an anomaly block is open: the
# ops module with every op's forward wrapped by _checked_forward.
_checked_ops = types.SimpleNamespace(
    **{k: getattr(_ops, k) for k in dir(_ops) if not k.startswith("__")}
)
for _op_name, _op in OPS.items():
    setattr(_checked_ops, _op_name, _checked_forward(_op_name, _op.forward))


def _name(order: Sequence[Value], node: Value) -> str:
    """The node's display name, as in drawings: its label, else ``vN``."""
    from autograd_mini.naming import sanitize_label

    if node.label:
        return repr(sanitize_label(node.label))
    # by identity: == compares data, so order.index(node) could find an equal-valued node
    return f"v{next(i for i, v in enumerate(order) if v is node)}"


def _check_rule(order: Sequence[Value], node: Value, g: Any, grads: Sequence[Any]) -> None:
    """Raise AnomalyError if ``node``'s rule turned the finite gradient ``g`` into NaN/±inf."""
    if not _inst.is_finite(g) or all(_inst.is_finite(gp) for gp in grads):
        return
    op: Op = node._op  # type: ignore[assignment]  # only recorded nodes have rules
    parents = node._parents
    i = next(k for k, gp in enumerate(grads) if not _inst.is_finite(gp))
    args = ", ".join(repr(p.data) for p in parents)
    names = op.vjp.__code__.co_varnames[2 : 2 + len(parents)]
    named = ", ".join(f"{k}={p.data!r}" for k, p in zip(names, parents, strict=True))
    partials = op.vjp(1.0, node.data, *[p.data for p in parents])
    local = (
        f"{op.name}'({args})"
        if len(parents) == 1
        else f"∂{op.name}({args})/∂{'xy'[i] if len(parents) == 2 else i}"
    )
    site = getattr(node, "_site", None)
    raise AnomalyError(
        f"backward: {local} = {partials[i]!r}, so the gradient {float(g)!r} flowing into node "
        f"{_name(order, node)} ({op.name} of {', '.join(_name(order, p) for p in parents)}) "
        f"became {float(grads[i])!r} for input {_name(order, parents[i])}; rule "
        f"{op.name}_vjp(g={float(g)!r}, out={node.data!r}, {named}); reached through "
        f"{_where(site)}"
    )


class detect_anomaly:  # noqa: N801 - named like torch.autograd.detect_anomaly
    """``with detect_anomaly():`` (or ``@detect_anomaly()``): raise :class:`AnomalyError` at the
    first operation or derivative rule that makes NaN or ±inf from finite numbers.

    ``check_nan=False`` (as in PyTorch) only records where nodes are created, without checking.
    Nested blocks and threads are independent (a ContextVar); the checks cost nothing outside.
    """

    def __init__(self, check_nan: bool = True) -> None:
        if not isinstance(check_nan, bool):
            hint = " (as a decorator, write @detect_anomaly() with parentheses)"
            raise TypeError(
                f"detect_anomaly: check_nan must be a bool, got {type(check_nan).__name__}: "
                f"{check_nan!r}" + (hint if callable(check_nan) else "")
            )
        self.check_nan = check_nan
        self._tokens: list[Any] = []

    def __enter__(self) -> None:
        with _inst.LOCK:
            if _inst.anomaly_blocks == 0:
                _engine._node = _anomaly_node
                _ENGINE_GLOBALS["_ops"] = _checked_ops
            _inst.anomaly_blocks += 1
        self._tokens.append(_inst.ANOMALY.set(self.check_nan))

    def __exit__(self, *exc: object) -> None:
        _inst.ANOMALY.reset(self._tokens.pop())
        with _inst.LOCK:
            _inst.anomaly_blocks -= 1
            if _inst.anomaly_blocks == 0:
                _engine._node = _plain_node
                _ENGINE_GLOBALS["_ops"] = _plain_ops

    def __call__(self, func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
