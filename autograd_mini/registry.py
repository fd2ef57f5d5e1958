"""The registry of primitives: :class:`Primitive`, the table :data:`OPS`, :func:`where` and
:func:`defop`.

A primitive is defined once, as data (:class:`Primitive`), with **one derivative rule**
``rule(g, out, *inputs) -> (g·∂out/∂input₀, …)`` written in the *op vocabulary*: arithmetic,
the registry's own primitives (``functions.cos(x)``, ``x.exp()``), comparisons and
:func:`where` in place of Python branches on data (a composite op's ``defn`` too).

Because a rule only uses the vocabulary, it can be *called* on anything that implements it: on
program variables (:class:`Var`) it traces itself into a :class:`~autograd_mini.program.Program`
of primitives, and every consumer works from that program — the eager float specialisation and
the recorded-Value version (:mod:`autograd_mini.pycode` turns it into Python, with ``where``
lazy, as Python's own ``if``), the compiler's gradient programs and each backend.  Nothing reads
a rule's source code.

Arguments are dispatched by type: floats (and ints, NumPy scalars) compute ``forward``; a
program variable records an equation; other operand types (the engine's ``Value``) register a
handler with :func:`register_operand`, so this module imports nothing above it.
"""

from __future__ import annotations

import inspect
import keyword
import math
import numbers
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any

from autograd_mini import pycode
from autograd_mini.program import Atom, Eqn, Program

__all__ = ["ALIASES", "AUX", "OPS", "Primitive", "Var", "defop", "register_operand", "where"]

INF = math.inf
Formula = Callable[[str, tuple[str, ...], Any], tuple[str, ...]]
"""``formula(out_name, input_names, node) -> (∂out/∂input₀, …)`` as display text."""
Handler = Callable[["Primitive", Sequence[Any], bool], Any]


# --- numbers -------------------------------------------------------------------------------------


def _is_real_array_scalar(x: object) -> bool:
    """A NumPy-style scalar that ``numbers.Real`` does not cover (``np.bool_``, 0-d arrays) with a
    boolean, integer or floating dtype; found by duck typing, so NumPy is never imported."""
    dtype = getattr(x, "dtype", None)
    return getattr(x, "shape", None) == () and getattr(dtype, "kind", "") in ("b", "i", "u", "f")


def is_real(x: object) -> bool:
    """Whether ``x`` is a plain real number (not a Value or program variable)."""
    return type(x) in (float, int) or (
        type(x) not in _HANDLERS
        and not isinstance(x, Var)
        and (isinstance(x, numbers.Real) or _is_real_array_scalar(x))
    )


def brief(x: object, limit: int = 80) -> str:
    """``repr(x)`` for an error message, cut to ``limit`` characters; never fails (an int of
    5,000 digits cannot be printed under Python's int-to-str limit, a user's __repr__ may raise)."""
    if type(x) is int and x.bit_length() > 256:
        return f"an int of about {int(x.bit_length() * 0.30103)} digits"
    try:
        text = repr(x)
    except Exception:  # any failure of a foreign __repr__: describe the value by its type
        return f"a {type(x).__name__}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_float(x: object, what: str) -> float:
    """``x`` as a Python float if it is a real number, else a TypeError naming ``what``."""
    if type(x) is float:
        return x
    if is_real(x):
        try:
            return float(x)  # type: ignore[arg-type]
        except OverflowError:
            raise OverflowError(f"{what}: {brief(x)} is too large for a float") from None
    if type(x) in _HANDLERS:
        raise TypeError(f"{what} must be a real number, got a Value (use v.data or v.detach())")
    raise TypeError(f"{what} must be a real number, got {type(x).__name__}: {brief(x)}")


# --- the primitive -------------------------------------------------------------------------------

_HANDLERS: dict[type, Handler] = {}


def register_operand(kind: type, handler: Handler) -> None:
    """Let primitives accept operands of type ``kind``: ``handler(prim, args, in_rule)``
    applies ``prim`` to ``args`` (defaults filled in) and returns the result.  ``in_rule``: the
    call comes from a derivative rule, where results follow IEEE arithmetic instead of raising
    (the engine registers :class:`~autograd_mini.engine.Value` this way)."""
    _HANDLERS[kind] = handler


@dataclass(eq=False, repr=False)
class Primitive:
    """One primitive operation of the table (also exported as ``Op``).

    ``name`` is the stem shared by ``Value.<name>``, ``functions.<name>`` and the graph label;
    ``forward(*floats)`` computes it on floats, raising ``ValueError`` / ``ZeroDivisionError`` /
    ``OverflowError`` naming the op outside its domain; ``rule(g, out, *inputs)`` is the VJP in the
    op vocabulary (see the module docstring), None for a primitive with no derivative
    (comparisons).  ``ieee`` is the float forward used inside rules, where a result follows IEEE
    arithmetic (``1/0 = inf``) instead of raising; default ``forward``.

    Backend entries: ``py`` how Python source writes it (``("{0} + {1}", 10)``: a template and
    its precedence; None calls ``forward``), ``numpy`` / ``jax`` (the name of a function of
    ``numpy`` / ``jax.numpy``, or a callable on arrays; None: derived from ``defn``, else the
    float forward element by element) and ``js`` (a JavaScript expression template; None: derived
    from ``defn``, else none).  ``defn``: the forward in the op vocabulary, for composite ops.
    The ``py`` and ``js`` templates are code, written into generated source: they belong to the
    built-in table; a user's op (:func:`defop`) gives callables, and its name never reaches
    source.

    Display: ``symbol`` drawn in graphs, ``formula`` what :func:`~autograd_mini.explain.explain`
    prints for each local partial (format strings with ``{0}``, ``{1}`` the inputs' names and
    ``{out}`` the result's, or a :data:`Formula`), ``notation`` (``"call"``, ``"infix"``,
    ``"prefix"``).  ``domain`` is the open interval of the first input where the op is smooth
    and defined, ``kinks`` the points inside it where a derivative jumps
    (:func:`autograd_mini.testing.reals` draws test inputs away from both).  ``defaults`` are
    default values of the last inputs, ``aliases`` other public names (``radians``).

    An op is callable: ``op(x)`` / ``op(x, y)`` returns a Value if any argument is a Value (the
    op is recorded), else the float result.
    """

    name: str
    forward: Callable[..., float]
    rule: Callable[..., Any] | None
    _: KW_ONLY
    symbol: str = ""
    formula: tuple[str, ...] | Formula | None = None
    notation: str = "call"
    domain: tuple[float, float] = (-INF, INF)
    kinks: tuple[float, ...] = ()
    defaults: tuple[float, ...] = ()
    aliases: tuple[str, ...] = ()
    arity: int = 0
    defn: Callable[..., Any] | None = None
    ieee: Callable[..., float] = None  # type: ignore[assignment]
    py: tuple[str, int] | None = None
    numpy: str | Callable[..., Any] | None = None
    jax: str | Callable[..., Any] | None = None
    js: str | None = None
    doc: str = ""
    user: bool = False

    def __post_init__(self) -> None:
        self.symbol = self.symbol or self.name
        if not self.arity:
            source = self.rule or self.defn or self.forward
            self.arity = _count_params(source) - (2 if self.rule else 0)
        if self.forward is None:  # a composite: its float forward is generated from defn
            self.forward = _lazy(self, "forward", lambda: self.compiled_defn("float"))
        if self.ieee is None:
            self.ieee = self.forward
        self._programs: dict[str, Program] = {}
        self._compiled: dict[Any, Callable[..., Any]] = {}
        # the float specialisations of the rule that backward calls, built on first use
        x_only = (True,) if self.arity == 1 else (True, False)
        self.vjp_x = _lazy(self, "vjp_x", lambda: self.compiled_rule(x_only))
        self.vjp_y = _lazy(self, "vjp_y", lambda: self.compiled_rule((False, True)))
        self.vjp_xy = _lazy(self, "vjp_xy", lambda: self.compiled_rule((True, True)))

    # --- applying it ---
    def __call__(self, *args: Any) -> Any:
        """``op(x[, y])``: a Value (recorded) if any argument is a Value, else a float."""
        return self._apply(self._complete(args), False)

    def in_rule(self, *args: Any) -> Any:
        """The primitive as a rule calls it: results follow IEEE arithmetic (``ieee``)."""
        return self._apply(args, True)

    def _apply(self, args: tuple[Any, ...], in_rule: bool) -> Any:
        for a in args:
            t = type(a)
            if t is not float and t is not int:
                if t is Var:
                    return _emit(self, args)
                handler = _HANDLERS.get(t)
                if handler is not None:
                    return handler(self, args, in_rule)
        floats = [a if type(a) is float else as_float(a, f"{self.name}: argument {i + 1}")
                  for i, a in enumerate(args)]  # fmt: skip
        return (self.ieee if in_rule else self.forward)(*floats)

    def _complete(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """``args`` with the defaults of missing trailing inputs; TypeError for a wrong count."""
        n, need = len(args), self.arity
        if n == need:
            return args
        optional = len(self.defaults)
        if not need - optional <= n < need:
            want = str(need) if not optional else f"{need - optional} to {need}"
            raise TypeError(
                f"{self.name}() takes {want} argument{'s' if need > 1 else ''}, got {n}"
            )
        return (*args, *self.defaults[optional - (need - n) :])

    # --- its programs and their compiled forms ---
    def rule_program(self) -> Program:
        """The rule traced on program variables: inputs ``g out x [y]``, one output per input."""
        if "rule" not in self._programs:
            if self.rule is None:
                raise TypeError(f"{self.name} has no derivative rule")
            names = ("g", "out", *_INPUT_NAMES[: self.arity])
            self._programs["rule"] = trace_vocabulary(self.rule, names, self.arity, self.name)
        return self._programs["rule"]

    def defn_program(self) -> Program | None:
        """``defn`` traced on program variables (composite ops), else None."""
        if self.defn is None:
            return None
        if "defn" not in self._programs:
            names = _INPUT_NAMES[: self.arity]
            self._programs["defn"] = trace_vocabulary(self.defn, names, None, self.name)
        return self._programs["defn"]

    def compiled_rule(self, needs: tuple[bool, ...], mode: str = "float") -> Callable[..., Any]:
        """The rule as a Python function of ``(g, out, *inputs)`` computing only the partials
        ``needs`` asks for.  ``"float"``: floats in, and one float out when one partial is
        needed (else a tuple); arithmetic errors fall back to the ``"generic"`` version, which
        runs on floats and Values alike (IEEE results inside rules) and returns a tuple with
        None for the partials not needed."""
        key = (needs, mode)
        fn = self._compiled.get(key)
        if fn is None:
            program = pycode.keep_outputs(self.rule_program(), needs)
            wanted = "".join(n for n, want in zip(_INPUT_NAMES, needs, strict=False) if want)
            name = f"{self.name}_vjp" if all(needs) else f"{self.name}_vjp_{wanted}"
            if mode == "generic":
                fn = pycode.compile_function(program, name, "generic", expand=needs)
            else:
                fallback = self.compiled_rule(needs, "generic")
                single = sum(needs) == 1
                fn = pycode.compile_function(
                    program, name, "float", fallback=fallback, single=single
                )
            self._compiled[key] = fn
        return fn

    def compiled_defn(self, mode: str) -> Callable[..., Any]:
        """``defn`` as a Python function on floats (``"float"``) or on anything (``"generic"``)."""
        fn = self._compiled.get(mode)
        if fn is None:
            program = self.defn_program()
            assert program is not None
            fallback = self.compiled_defn("generic") if mode == "float" else None
            fn = pycode.compile_function(
                program, self.name, mode, fallback=fallback, single=True, unpack=False
            )
            self._compiled[mode] = fn
        return fn

    def vjp(
        self, g: Any, out: Any, *inputs: Any, needs: Sequence[bool] | None = None
    ) -> tuple[Any, ...]:
        """``(g·∂out/∂input₀, …)``: the rule applied to floats, Values or a mix (a Value
        argument gives recorded Values).  ``needs``: compute only these partials (None for the
        others)."""
        mask = tuple(bool(n) for n in needs) if needs is not None else (True,) * self.arity
        return tuple(self.compiled_rule(mask, "generic")(g, out, *inputs))

    def partials_text(self, out: str, inputs: tuple[str, ...], node: Any) -> tuple[str, ...]:
        """The local partials ∂out/∂inputᵢ as text, for :func:`~autograd_mini.explain.explain`."""
        f = self.formula
        if f is None:
            return tuple(f"∂{out}/∂{name}" for name in inputs)
        if callable(f):
            return f(out, inputs, node)
        return tuple(text.format(*inputs, out=out) for text in f)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


Op = Primitive  # the name of earlier versions (autograd_mini.Op)
_INPUT_NAMES = ("x", "y")


def _lazy(
    prim: Primitive, attr: str, build: Callable[[], Callable[..., Any]]
) -> Callable[..., Any]:
    """A stand-in for ``prim.<attr>`` that builds the real function on its first call and puts it
    in its place, so later calls cost nothing extra."""

    def first_call(*args: Any) -> Any:
        fn = build()
        setattr(prim, attr, fn)
        return fn(*args)

    first_call.__name__ = f"{prim.name}_{attr}"
    return first_call


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    """``fn``'s signature, None if it cannot be read (builtins such as ``math.log``)."""
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _count_params(fn: Callable[..., Any]) -> int:
    """Number of required positional parameters of ``fn`` (ValueError if it has ``*args``)."""
    sig = _signature(fn)
    if sig is None:
        raise ValueError(f"the signature of {brief(fn)} cannot be read")
    count = 0
    for p in sig.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            raise ValueError(f"{brief(fn)} takes *args: give its inputs one by one")
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            count += 1
        elif p.kind is p.KEYWORD_ONLY and p.default is p.empty:
            raise TypeError(f"{brief(fn)} has a required keyword-only parameter {p.name!r}")
    return count


# --- tracing the vocabulary into programs -------------------------------------------------------


class VocabularyError(TypeError):
    """A rule or definition used something outside the op vocabulary."""


# The equations a trace records, in order, by (primitive, inputs): an equation already recorded
# with the same inputs is reused, so common subexpressions are computed once.
_Trace = dict[tuple[int, tuple[str, ...]], Eqn]


_NUMBERS = "use the op's functions instead (autograd_mini.functions.cos(x), x.exp(), …)"


class _AttributeVocabularyError(VocabularyError, AttributeError):
    """``x.data`` in a rule: a VocabularyError, and an AttributeError for ``hasattr``."""


class Var:
    """A program variable: what a rule or definition is called with to trace it.  Arithmetic,
    comparisons, the registry's primitives and :func:`where` on it record equations; anything
    that needs its number (``float(v)``, ``math.cos(v)``, ``if v > 0:``) is a
    :class:`VocabularyError` naming the way to write it."""

    __slots__ = ("builder", "name")

    def __init__(self, builder: _Trace, name: str) -> None:
        self.builder = builder
        self.name = name

    def __pos__(self) -> Var:
        return self

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise VocabularyError(
            "a rule cannot branch on data with Python's if/and/or/not or a conditional "
            "expression: write where(condition, a, b) (from autograd_mini import where)"
        )

    def __float__(self) -> float:
        raise VocabularyError(
            f"a rule cannot convert an input to a number (float(), math.*): {_NUMBERS}"
        )

    __index__ = __int__ = __float__

    def __getattr__(self, attr: str) -> Any:
        """``x.exp()``, ``x.tanh()``: the registry's ops as methods, as on Values."""
        op = OPS.get(attr) or ALIASES.get(attr)
        if op is not None:
            return lambda *more: op(self, *more)
        if attr in ("data", "item", "grad"):
            raise _AttributeVocabularyError(f"a rule cannot read x.{attr}: {_NUMBERS}")
        raise AttributeError(attr)

    def clamp(self, min: Any = None, max: Any = None) -> Var:  # noqa: A002
        """As :meth:`Value.clamp <autograd_mini.engine.Value.clamp>`: clamp_min, clamp_max."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        out = self if min is None else _emit(OPS["clamp_min"], (self, min))
        return out if max is None else _emit(OPS["clamp_max"], (out, max))

    def round(self, decimals: int = 0) -> Var:
        """As :meth:`Value.round <autograd_mini.engine.Value.round>`."""
        if not decimals:
            return _emit(OPS["round"], (self,))
        scale, up = 10.0 ** abs(decimals), decimals > 0
        rounded = _emit(OPS["round"], (_emit(OPS["mul" if up else "div"], (self, scale)),))
        return _emit(OPS["div" if up else "mul"], (rounded, scale))

    def __round__(self, ndigits: int | None = None) -> Var:
        return self.round(ndigits or 0)

    def __repr__(self) -> str:
        return f"Var({self.name})"


def _operator(name: str, reflected: bool) -> Callable[..., Var]:
    def apply(self: Var, *other: Any) -> Var:  # one other operand, none for - and abs()
        prim = OPS.get(name) or AUX[name]
        return _emit(prim, (*other, self) if reflected else (self, *other))

    return apply


# Python's operators on a Var record the primitives they stand for
_ARITHMETIC = [("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div"), ("pow", "pow"),
               ("mod", "remainder"), ("floordiv", "floor_divide")]  # fmt: skip
for _dunder, _prim in _ARITHMETIC:
    setattr(Var, f"__{_dunder}__", _operator(_prim, False))
    setattr(Var, f"__r{_dunder}__", _operator(_prim, True))
for _dunder in ("lt", "le", "gt", "ge", "eq", "ne", "neg", "abs"):
    setattr(Var, f"__{_dunder}__", _operator(_dunder, False))


def _atom(builder: _Trace, x: Any, what: str) -> Atom:
    if isinstance(x, Var):
        if x.builder is not builder:
            raise VocabularyError(f"{what}: a variable of another trace")
        return x.name
    if isinstance(x, bool) or not is_real(x):
        raise VocabularyError(f"{what} must be a number or a traced input, got {brief(x)}")
    return float(x)


def _emit(prim: Primitive, args: Sequence[Any]) -> Var:
    builder = next(a.builder for a in args if isinstance(a, Var))
    ins = tuple(_atom(builder, a, f"{prim.name}: argument {i + 1}") for i, a in enumerate(args))
    key = (id(prim), tuple(a if isinstance(a, str) else repr(a) for a in ins))
    eqn = builder.get(key)
    if eqn is None:
        eqn = builder[key] = Eqn(prim, ins, f"t{len(builder)}")
    return Var(builder, eqn.out)


def trace_vocabulary(
    fn: Callable[..., Any], names: Sequence[str], n_out: int | None, who: str
) -> Program:
    """``fn`` called on program variables named ``names``, as a Program.  ``n_out``: the
    result must be a tuple (or list) of that many entries (a rule's partials); None: one value
    (a definition)."""
    builder: _Trace = {}
    inputs = [Var(builder, n) for n in names]
    try:
        result = fn(*inputs)
    except VocabularyError as e:
        raise VocabularyError(f"{who}: {e}") from None
    if n_out is None:
        items = [result]
    elif isinstance(result, (tuple, list)) and len(result) == n_out:
        items = list(result)
    else:
        raise TypeError(
            f"{who}: the vjp must return a tuple of {n_out} gradient{'s' if n_out > 1 else ''} "
            f"(one per input), got {brief(result)}"
        )
    outputs = tuple(_atom(builder, r, f"{who}: result {i + 1}") for i, r in enumerate(items))
    return Program(inputs=tuple(names), eqns=tuple(builder.values()), outputs=outputs)


def where(condition: Any, a: Any, b: Any) -> Any:
    """``a`` where ``condition`` holds, else ``b``: the op vocabulary's branch.

    On floats and Values ``condition`` is a ``bool`` (a comparison) and this is Python's
    conditional; in a rule traced on program variables it records a select equation, which
    every backend lowers (lazily, as ``a if condition else b``, in Python; both sides computed
    and masked in NumPy and JAX)."""
    if isinstance(condition, Var):
        return _emit(AUX["select"], (condition, a, b))
    return a if condition else b


# --- the tables --------------------------------------------------------------------------------

OPS: dict[str, Primitive] = {}
"""Every differentiable primitive by name: the built-ins in the order of :mod:`autograd_mini.ops`,
then the ones :func:`defop` added, in the order they were defined."""

AUX: dict[str, Primitive] = {}
"""The vocabulary's primitives that are not differentiable operations of their own: the
comparisons ``lt le gt ge eq ne`` (a boolean), ``select`` (:func:`where`) and ``floor_divide``."""

ALIASES: dict[str, Primitive] = {}
"""Other public names of ops (``radians`` for ``deg2rad``): methods, functions, the parser."""


def register(*prims: Primitive) -> None:
    """Add built-in primitives to :data:`OPS` (or :data:`AUX` for those without a rule)."""
    for p in prims:
        (OPS if p.rule is not None else AUX)[p.name] = p
        for alias in p.aliases:
            ALIASES[alias] = p


def _compare(name: str, symbol: str, fn: Callable[[float, float], bool]) -> Primitive:
    return Primitive(
        name, fn, None, symbol=symbol, notation="infix", py=(f"{{0}} {symbol} {{1}}", 5)
    )


# fmt: off
register(
    _compare("lt", "<", float.__lt__), _compare("le", "<=", float.__le__),
    _compare("gt", ">", float.__gt__), _compare("ge", ">=", float.__ge__),
    _compare("eq", "==", float.__eq__), _compare("ne", "!=", float.__ne__),
    Primitive("select", lambda c, a, b: a if c else b, None, arity=3),
    Primitive("floor_divide", float.__floordiv__, None, py=("{0} // {1}", 20),
              numpy="floor_divide", jax="floor_divide"),
)
# fmt: on


# --- user ops ----------------------------------------------------------------------------------

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


def _user_forward(name: str, forward: Callable[..., Any]) -> Callable[..., float]:
    """The user's forward, checked: its errors name the op and the inputs (as a built-in's
    domain errors do), and its result must be a real number."""

    def checked(*xs: float) -> float:
        try:
            result = forward(*xs)
        except Exception as exc:  # the user's code: report it as the op's error
            where_ = ", ".join(f"{n} = {x!r}" for n, x in zip(_INPUT_NAMES, xs, strict=False))
            kinds = (ZeroDivisionError, OverflowError, ValueError, TypeError, ArithmeticError)
            kind = next((k for k in kinds if isinstance(exc, k)), ValueError)
            raise kind(f"{name}: {exc or type(exc).__name__} ({where_})") from exc
        if is_real(result) and not isinstance(result, bool):
            return as_float(result, f"{name}: forward result")
        raise TypeError(
            f"{name}: forward must return a real number, got {type(result).__name__}: "
            f"{brief(result)}"
        )

    checked.__name__ = checked.__qualname__ = name
    checked.__doc__ = forward.__doc__
    return checked


_MAX_SYMBOL = 32


# names an op would clash with: functions that are not ops, and the expression parser's constants
_RESERVED = {
    "clamp": "functions.clamp",
    "pi": "a constant of expressions",
    "e": "a constant of expressions",
}


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"defop: name must be a str, got {type(name).__name__}: {brief(name)}")
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"defop: name must be a Python identifier, got {brief(name)}")
    if unicodedata.normalize("NFKC", name) != name:
        raise ValueError(
            f"defop: name {brief(name)} is not in Unicode normal form NFKC (Python reads it as "
            f"{unicodedata.normalize('NFKC', name)!r}): use that spelling"
        )
    return name


def _check_symbol(symbol: object) -> str:
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValueError(f"defop: symbol must be a non-empty str, got {brief(symbol)}")
    if len(symbol) > _MAX_SYMBOL:
        raise ValueError(
            f"defop: symbol must be at most {_MAX_SYMBOL} characters, got {len(symbol)}"
        )
    bad = next(
        # control, format (bidi overrides, zero widths), surrogate, unassigned, private use
        (
            c
            for c in symbol
            if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Cn", "Co", "Zl", "Zp")
        ),
        None,
    )
    if bad is not None:
        raise ValueError(
            f"defop: symbol must be printable text, got the character U+{ord(bad):04X} in "
            f"{brief(symbol)}"
        )
    return symbol


def _real(x: object, what: str) -> float:
    if isinstance(x, bool) or not is_real(x):
        raise TypeError(f"defop: {what} must be a real number, got {type(x).__name__}: {brief(x)}")
    return float(x)  # type: ignore[arg-type]


def defop(
    name: str,
    forward: Callable[..., float],
    vjp: Callable[..., tuple[Any, ...]],
    *,
    symbol: str | None = None,
    domain: tuple[float, float] = (-INF, INF),
    kinks: tuple[float, ...] = (),
    numpy: Callable[..., Any] | None = None,
    jax: Callable[..., Any] | None = None,
    formula: tuple[str, ...] | None = None,
) -> Primitive:
    """Define a primitive with its own derivative rule and return it (the op is callable:
    ``op(2.0)`` is a float, ``op(Value(2.0))`` a recorded Value).

    ``forward(x)`` or ``forward(x, y)`` computes the result on floats (one or two inputs);
    ``vjp(g, out, *inputs)`` returns ``(g·∂out/∂x,)`` or ``(g·∂out/∂x, g·∂out/∂y)`` and is
    written in the op vocabulary, like the built-in rules: arithmetic, the ops of
    :mod:`autograd_mini.functions` (or Value methods such as ``x.exp()``), comparisons and
    :func:`where` for a branch (``where(x > 0.0, g, -g)``).  It is traced once, here, into a
    program of primitives; that program is the op's derivative everywhere: ``backward``,
    ``grad`` of any order, ``jvp``, anomaly mode, ``trace`` and every backend.  A rule that
    uses ``math`` functions, ``float()`` or Python's ``if`` on its inputs is a
    :class:`VocabularyError` (a TypeError) saying what to write instead.

    The op then works with ``backward``, ``grad``, ``no_grad``, ``trace``, ``explain``,
    ``draw_graph`` (``symbol``, default the name), ``gradcheck`` and ``testing.reals``
    (``domain``: the open interval of the first input where the op is smooth; ``kinks``: points
    inside it where a derivative jumps).  ``formula``: optional display text of each partial
    for ``explain`` (``{0}``, ``{1}`` the inputs, ``{out}`` the result).

    ``numpy``/``jax``: optional forward lowerings on arrays for those compiler backends (native
    speed); without them NumPy calls ``forward`` element by element and JAX through
    ``jax.pure_callback``.  Import jax inside the callable: ``import autograd_mini`` must not
    import it.

    ValueError if ``name`` is not an identifier in NFKC normal form, or is already an op: a
    built-in, or a user op defined in the same module from other functions (defining it from
    the same functions, or in another module, replaces the op).  ``symbol``: printable text of
    at most 32 characters.  Exceptions ``forward`` raises are reported as
    ``"<name>: <message> (x = …)"``, before any node is built.
    """
    name = _check_name(name)
    for what, fn in (("forward", forward), ("vjp", vjp)):
        if not callable(fn):
            raise TypeError(f"defop: {what} must be callable, got {type(fn).__name__}: {brief(fn)}")
    for what, lowering in (("numpy", numpy), ("jax", jax)):
        if lowering is not None and not callable(lowering):
            raise TypeError(
                f"defop: {what}= must be a callable lowering or None, got "
                f"{type(lowering).__name__}: {brief(lowering)}"
            )
    existing = OPS.get(name) or AUX.get(name) or ALIASES.get(name)
    if existing is not None and not (existing.user and _replaces(name, forward, vjp)):
        kind = "user-defined op" if existing.user else "built-in op"
        raise ValueError(f"defop: {name!r} is already a {kind}; choose another name")
    if name in _RESERVED:
        raise ValueError(f"defop: {name!r} is already a name of the library ({_RESERVED[name]})")
    try:
        n_vjp = _count_params(vjp) - 2
        n_fwd = _count_params(forward) if _signature(forward) else n_vjp
    except ValueError as e:
        raise ValueError(f"defop: {name}: {e}") from None
    if n_vjp not in (1, 2):
        raise ValueError(
            f"defop: {name} must take one or two inputs: forward(x) or forward(x, y) and "
            f"vjp(g, out, x) or vjp(g, out, x, y); got forward{_signature(forward) or '(?)'}, "
            f"vjp{_signature(vjp)}"
        )
    if n_fwd != n_vjp:
        raise ValueError(
            f"defop: {name}'s forward takes {n_fwd} inputs but its vjp takes {n_vjp} "
            f"(after g and out)"
        )
    symbol = _check_symbol(name if symbol is None else symbol)
    if not isinstance(domain, (tuple, list)) or len(domain) != 2:
        raise ValueError(f"defop: domain must be a pair (lo, hi), got {brief(domain)}")
    lo, hi = (_real(d, "domain bound") for d in domain)
    if not lo < hi:
        raise ValueError(f"defop: domain must be an interval (lo, hi) with lo < hi, got {domain!r}")
    if not isinstance(kinks, (tuple, list)):
        raise TypeError(f"defop: kinks must be a tuple of numbers, got {type(kinks).__name__}")
    points = tuple(_real(k, "kink") for k in kinks)
    if formula is not None:
        formula = tuple(formula)
        if len(formula) != n_vjp or not all(isinstance(t, str) for t in formula):
            raise ValueError(f"defop: formula must be {n_vjp} str (one per input), got {formula!r}")
        try:
            for text in formula:
                text.format(*(["x"] * n_vjp), out="y")
        except (IndexError, KeyError, ValueError) as exc:
            raise ValueError(f"defop: bad formula {formula!r}: {exc!r}") from None
    op = Primitive(
        name,
        _user_forward(name, forward),
        vjp,
        symbol=symbol,
        formula=formula,
        domain=(lo, hi),
        kinks=points,
        numpy=numpy,
        jax=jax,
        user=True,
        arity=n_vjp,
        doc=(forward.__doc__ or "").strip(),
    )
    op.rule_program()  # the rule must be in the vocabulary: refused now, not at first backward
    OPS[name] = op
    _DEFINITIONS[name] = _origin(forward, vjp)
    return op
