"""The registry of primitives: :class:`Op`, the table :data:`OPS` and :func:`defop`.

Everything that lists operations reads :data:`OPS`: the ``Value`` methods (through the entries
of :mod:`autograd_mini.ops`), :func:`~autograd_mini.explain.explain`'s formulas, the expression
parser's function whitelist and the CLI help, graph drawings (the symbol) and
:func:`autograd_mini.testing.reals` (domain and kinks).  The built-in entries are made in
:mod:`autograd_mini.ops`; :func:`defop` adds a user's.
"""

from __future__ import annotations

import inspect
import keyword
import math
import numbers
from collections.abc import Callable
from typing import Any

__all__ = ["OPS", "Op", "defop"]

INF = math.inf

Formula = Callable[[str, tuple[str, ...], Any], tuple[str, ...]]
"""``formula(out_name, input_names, node) -> (∂out/∂input₀, …)`` as display text."""

NOTATIONS = ("call", "infix", "prefix")


class Op:
    """A primitive: its ``name`` (the stem shared by ``Value.<name>``, ``<name>_vjp`` and the
    graph label), the ``symbol`` drawn in graphs, the float ``forward`` function and the ``vjp``
    rule ``vjp(g, out, *inputs) -> (g·∂out/∂input₀, …)``.

    ``domain`` is the open interval of the first input where the op is smooth and defined, and
    ``kinks`` are the points inside it where a derivative (first or second) jumps;
    :func:`autograd_mini.testing.reals` uses both to draw inputs where central differences are
    meaningful.  ``formula`` is what :func:`~autograd_mini.explain.explain` prints for each local
    partial: format strings with ``{0}``, ``{1}`` for the inputs' names and ``{out}`` for the
    result's (or a :data:`Formula` function; None prints ``∂out/∂input``).  ``notation`` says how
    the op is written: ``"call"`` (``tanh(x)``, also a function in expressions), ``"infix"``
    (``x + y``) or ``"prefix"`` (``-x``).  ``defaults`` are default values for the last inputs
    (``leaky_relu``'s slope).

    Lowerings, one keyword per backend of :func:`autograd_mini.trace` (None: not declared):

    * ``numpy``: a callable on float64 arrays computing ``forward`` element-wise.  Optional:
      the NumPy lowering vectorises ``forward``/``vjp`` from their source where it can and
      otherwise calls them element by element; ``numpy=`` replaces that fallback for the
      forward pass.
    * ``jax``: a callable on ``jax.numpy`` arrays computing ``forward``.  JAX differentiates it
      (``jax.grad``/``value_and_grad``), so its derivative must be the VJP's, including at the
      kinks — wrap it in ``jax.custom_jvp`` where JAX's own convention differs.  Required for
      the JAX backend, which refuses an op without one (an error naming the op and the
      backend, never a wrong result).  Import jax inside the callable: ``import autograd_mini``
      must not import it.

    An op is callable: ``op(x)`` / ``op(x, y)`` returns a Value if any argument is a Value
    (the op is recorded), else the float result.
    """

    __slots__ = (
        "arity",
        "defaults",
        "domain",
        "formula",
        "forward",
        "jax",
        "kinks",
        "name",
        "notation",
        "numpy",
        "symbol",
        "user",
        "vjp",
    )

    def __init__(
        self,
        name: str,
        symbol: str,
        forward: Callable[..., float],
        vjp: Callable[..., tuple[Any, ...]],
        domain: tuple[float, float] = (-INF, INF),
        kinks: tuple[float, ...] = (),
        *,
        formula: tuple[str, ...] | Formula | None = None,
        notation: str = "call",
        defaults: tuple[float, ...] = (),
        numpy: Any = None,
        jax: Any = None,
        arity: int | None = None,
        user: bool = False,
    ) -> None:
        self.name = name
        self.symbol = symbol
        self.forward = forward
        self.vjp = vjp
        self.domain = domain
        self.kinks = kinks
        self.formula = formula
        self.notation = notation
        self.defaults = defaults
        self.numpy = numpy
        self.jax = jax
        # the VJP's parameters after g and out
        self.arity = int(vjp.__code__.co_argcount) - 2 if arity is None else arity
        self.user = user

    def __call__(self, *args: Any) -> Any:
        """``op(x[, y])``: a Value (recorded) if any argument is a Value, else a float."""
        apply = _APPLY or _load_apply()
        return apply(self, args)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def partials_text(self, out: str, inputs: tuple[str, ...], node: Any) -> tuple[str, ...]:
        """The local partials ∂out/∂inputᵢ as text, for :func:`~autograd_mini.explain.explain`."""
        f = self.formula
        if f is None:
            return tuple(f"∂{out}/∂{name}" for name in inputs)
        if callable(f):
            return f(out, inputs, node)
        return tuple(text.format(*inputs, out=out) for text in f)


# engine.apply_op, imported on the first call of an op (the engine imports this module)
_APPLY: Callable[[Op, tuple[Any, ...]], Any] | None = None


def _load_apply() -> Callable[[Op, tuple[Any, ...]], Any]:
    global _APPLY
    from autograd_mini.engine import apply_op

    _APPLY = apply_op
    return apply_op


OPS: dict[str, Op] = {}
"""Every primitive by name: the built-ins in the order of :mod:`autograd_mini.ops`, then the
ones :func:`defop` added, in the order they were defined."""


def _count_params(fn: Callable[..., Any], what: str) -> int | None:
    """Number of positional parameters ``fn`` requires; None if it takes ``*args`` or its
    signature cannot be read."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    count = 0
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            count += 1
        elif p.kind is p.KEYWORD_ONLY and p.default is p.empty:
            raise TypeError(f"defop: {what} has a required keyword-only parameter {p.name!r}")
    return count


def _real(x: object, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"defop: {what} must be a real number, got {type(x).__name__}: {x!r}")
    return float(x)


def _user_vjp(name: str, vjp: Callable[..., Any], arity: int) -> Callable[..., tuple[Any, ...]]:
    """The user's rule, checked: a tuple (or list) with one entry per input; plain floats in
    float mode (so ``.grad`` stays a float)."""

    def checked_vjp(g: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
        result = vjp(g, out, *inputs)
        if not isinstance(result, (tuple, list)) or len(result) != arity:
            raise TypeError(
                f"{name}: the vjp must return a tuple of {arity} gradient"
                f"{'s' if arity > 1 else ''} (one per input), got {result!r}"
            )
        if type(g) is float:
            return tuple(_real(r, f"{name} vjp result") for r in result)
        return tuple(result)

    checked_vjp.__name__ = checked_vjp.__qualname__ = f"{name}_vjp"
    checked_vjp.__doc__ = vjp.__doc__
    return checked_vjp


# name -> the module and qualified names of the forward and vjp functions defop made it from
_DEFINITIONS: dict[str, tuple[str, str, str]] = {}


def _origin(forward: Callable[..., Any], vjp: Callable[..., Any]) -> tuple[str, str, str]:
    def attr(fn: object, name: str) -> str:
        return str(getattr(fn, name, "") or "")

    return attr(forward, "__module__"), attr(forward, "__qualname__"), attr(vjp, "__qualname__")


def _replaces(name: str, forward: Callable[..., Any], vjp: Callable[..., Any]) -> bool:
    """Whether defining user op ``name`` again replaces it instead of clashing: made from
    functions of the same names (a notebook cell or a script run again), or from another module
    (two examples, or a test and the README, that happen to pick the same name).  Values
    already built keep the op they were built with."""
    old = _DEFINITIONS.get(name)
    new = _origin(forward, vjp)
    return old is not None and (old[1:] == new[1:] or old[0] != new[0])


def defop(
    name: str,
    forward: Callable[..., float],
    vjp: Callable[..., tuple[Any, ...]],
    *,
    symbol: str | None = None,
    domain: tuple[float, float] = (-INF, INF),
    kinks: tuple[float, ...] = (),
    numpy: Any = None,
    jax: Any = None,
    formula: tuple[str, ...] | None = None,
) -> Op:
    """Define a primitive with its own derivative rule and return it (the op is callable:
    ``op(2.0)`` is a float, ``op(Value(2.0))`` a recorded Value).

    ``forward(x)`` or ``forward(x, y)`` computes the result on floats (one or two inputs);
    ``vjp(g, out, *inputs)`` returns ``(g·∂out/∂x,)`` or ``(g·∂out/∂x, g·∂out/∂y)``, the same
    signature as the built-in rules.  The op then works with ``backward``, ``grad``, ``no_grad``,
    ``trace``, ``explain``, ``draw_graph`` (``symbol``, default the name), ``gradcheck`` and
    ``testing.reals`` (``domain``: the open interval of the first input where the op is smooth;
    ``kinks``: points inside it where a derivative jumps).  ``formula``: optional display text of
    each partial for ``explain`` (``{0}``, ``{1}`` the inputs, ``{out}`` the result).

    ``grad(create_graph=True)`` runs the same ``vjp`` on Values: second derivatives are right
    when the rule is written with arithmetic on its arguments (``g * 3.0 * x * x``) or with
    functions that accept Values (``autograd_mini.functions.cos(x)``, ``x.exp()``).  ``math.cos``
    would turn a Value into a float, silently dropping that part of the second derivative.

    ``numpy``/``jax``: the op's lowering for those compiler backends (the forward only).  JAX
    differentiates the ``jax=`` lowering by ``vjp`` when the rule runs on jax arrays (written
    with arithmetic or ``jax.numpy``); a rule that needs floats (``math``, ``if x > 0``) leaves
    JAX's own derivative of the lowering, which must then agree with ``vjp``.

    ValueError if ``name`` is not an identifier or is already an op: a built-in, or a user op
    defined in the same module from other functions (defining it from the same functions, or in
    another module, replaces the op).
    Exceptions ``forward`` raises are reported as ``"<name>: <message> (x = …)"``, before any
    node is built.
    """
    if not isinstance(name, str):
        raise TypeError(f"defop: name must be a str, got {type(name).__name__}: {name!r}")
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"defop: name must be a Python identifier, got {name!r}")
    for what, fn in (("forward", forward), ("vjp", vjp)):
        if not callable(fn):
            raise TypeError(f"defop: {what} must be callable, got {type(fn).__name__}: {fn!r}")
    for what, fn in (("numpy", numpy), ("jax", jax)):
        if fn is not None and not callable(fn):
            raise TypeError(
                f"defop: {what}= must be a callable lowering or None, got {type(fn).__name__}: "
                f"{fn!r}"
            )
    existing = OPS.get(name)
    if existing is not None and not _replaces(name, forward, vjp):
        kind = "user-defined op" if existing.user else "built-in op"
        raise ValueError(f"defop: {name!r} is already a {kind}; choose another name")
    n_vjp = _count_params(vjp, "vjp")
    n_fwd = _count_params(forward, "forward")
    arity = n_vjp - 2 if n_vjp is not None else n_fwd
    if arity is None or arity not in (1, 2):
        raise ValueError(
            f"defop: {name} must take one or two inputs: forward(x) or forward(x, y) and "
            f"vjp(g, out, x) or vjp(g, out, x, y); got forward{_sig(forward)}, vjp{_sig(vjp)}"
        )
    if n_fwd is not None and n_fwd != arity:
        raise ValueError(
            f"defop: {name}'s forward takes {n_fwd} inputs but its vjp takes {arity} "
            f"(after g and out)"
        )
    if symbol is None:
        symbol = name
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValueError(f"defop: symbol must be a non-empty str, got {symbol!r}")
    lo, hi = (_real(d, "domain bound") for d in _pair(domain))
    if not lo < hi:
        raise ValueError(f"defop: domain must be an interval (lo, hi) with lo < hi, got {domain!r}")
    points = tuple(_real(k, "kink") for k in _sequence(kinks, "kinks"))
    if formula is not None:
        formula = tuple(formula)
        if len(formula) != arity or not all(isinstance(t, str) for t in formula):
            raise ValueError(f"defop: formula must be {arity} str (one per input), got {formula!r}")
        try:
            for text in formula:
                text.format(*(["x"] * arity), out="y")
        except (IndexError, KeyError, ValueError) as exc:
            raise ValueError(f"defop: bad formula {formula!r}: {exc!r}") from None
    op = Op(
        name,
        symbol,
        forward,
        _user_vjp(name, vjp, arity),
        (lo, hi),
        points,
        formula=formula,
        numpy=numpy,
        jax=None if jax is None else _jax_with_vjp(name, jax, vjp, arity),
        arity=arity,
        user=True,
    )
    OPS[name] = op
    _DEFINITIONS[name] = _origin(forward, vjp)
    return op


def _jax_with_vjp(
    name: str, lowering: Callable[..., Any], vjp: Callable[..., Any], arity: int
) -> Callable[..., Any]:
    """The user's ``jax=`` lowering, differentiated by the user's ``vjp`` (a ``jax.custom_jvp``
    whose partials are ``vjp(1, out, *inputs)``), so the JAX backend's gradients are the
    ones eager computes, kinks and deliberate conventions (a straight-through rule) included.

    That needs a rule that runs on traced jax arrays (arithmetic, ``jax.numpy``), checked once
    with ``jax.eval_shape``; a rule that needs floats (``math.cos(x)``, ``if x > 0``) cannot,
    and then JAX differentiates the lowering itself.  Built on the first call (jax is
    imported only then)."""
    built: list[Callable[..., Any]] = []

    def build() -> Callable[..., Any]:
        import jax
        import jax.numpy as jnp

        scalar = jax.ShapeDtypeStruct((), jnp.float64)  # type: ignore[no-untyped-call]
        try:
            jax.eval_shape(lambda *a: tuple(vjp(*a)), *([scalar] * (arity + 2)))
        except Exception:  # the rule needs floats: JAX's own derivative of the lowering
            return lowering

        def partials(xs: tuple[Any, ...], out: Any) -> tuple[Any, ...]:
            result = tuple(vjp(jnp.ones_like(out), out, *xs))
            if len(result) != arity:
                raise TypeError(f"{name}: the vjp must return {arity} gradient(s), got {result!r}")
            return result

        def forward(xs: tuple[Any, ...]) -> Any:  # one value per element of the operands
            shape = jnp.broadcast_shapes(*(jnp.shape(x) for x in xs))
            return jnp.broadcast_to(jnp.asarray(lowering(*xs), dtype=jnp.float64), shape)

        @jax.custom_jvp
        def lowered(*xs: Any) -> Any:
            return forward(xs)

        @lowered.defjvp
        def lowered_jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, Any]:
            out = lowered(*primals)  # itself, so derivatives of higher order use the rule too
            tangent = jnp.zeros_like(out)
            for p, t in zip(partials(primals, out), tangents, strict=True):
                tangent = tangent + p * t
            return out, jnp.broadcast_to(tangent, out.shape)

        def call(*xs: Any) -> Any:
            return lowered(*(jnp.asarray(x, dtype=jnp.float64) for x in xs))

        return call

    def lowered_with_vjp(*xs: Any) -> Any:
        if not built:
            built.append(build())
        return built[0](*xs)

    lowered_with_vjp.__name__ = lowered_with_vjp.__qualname__ = f"{name}_jax"
    return lowered_with_vjp


def _sig(fn: Callable[..., Any]) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(?)"


def _pair(x: object) -> tuple[object, object]:
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"defop: domain must be a pair (lo, hi), got {x!r}")
    return x[0], x[1]


def _sequence(x: object, what: str) -> tuple[object, ...]:
    if not isinstance(x, (tuple, list)):
        raise TypeError(f"defop: {what} must be a tuple of numbers, got {type(x).__name__}")
    return tuple(x)
