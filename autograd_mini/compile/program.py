"""The compiler's IR: a :class:`Program` is a scalar function written as equations.

A program is what :func:`autograd_mini.trace` records (see :mod:`.record`), what the one
reverse-mode transform differentiates (:mod:`.autodiff`), and what every lowering reads.  Like
a jaxpr, it is a straight list of equations in topological order; each equation applies one
primitive from :mod:`autograd_mini.ops` to variables and constants::

    inputs v0 v1
    v2 = mul v0 v1
    v4 = add v2 1.0
    v5 = tanh v4
    outputs v5

An *atom* is a variable name (``str``) or a constant (a Python ``float``, printed as the number
itself).  Variables are assigned once per equation; a gradient program may re-assign an
accumulator (``g3 = add g3 d7_0``), and is read top to bottom like straight-line code.

A *vjp equation* (``vjp=True``) applies the op's VJP rule: its inputs are ``g, out,
operands…`` and it binds one output per operand (None: that gradient is not needed).
*Guards* are the comparisons recorded while tracing: ``lhs symbol rhs`` must keep its recorded
outcome, or the program is not the function for these inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypeAlias

from autograd_mini.ops import Op

__all__ = ["Atom", "Eqn", "Guard", "Program", "UnsupportedOpError", "format_atom"]

Atom: TypeAlias = "str | float"
"""A variable (its name) or a constant (a Python float)."""


class UnsupportedOpError(NotImplementedError):
    """A backend cannot lower an op (it declares no lowering for it): never a wrong result."""

    def __init__(self, op: str, backend: str, hint: str = "") -> None:
        super().__init__(
            f"op {op!r} has no lowering for backend {backend!r}"
            + (f": {hint}" if hint else f" (give one with defop(..., {backend}=...))")
        )
        self.op = op
        self.backend = backend


def format_atom(a: Atom) -> str:
    """A variable's name, or the constant as a number (``repr`` of the float)."""
    return a if isinstance(a, str) else repr(float(a))


@dataclass(frozen=True)
class Eqn:
    """``outs = op(ins)``: one primitive applied; with ``vjp`` its VJP rule (ins: g, out, x…)."""

    op: Op
    ins: tuple[Atom, ...]
    outs: tuple[str | None, ...]
    vjp: bool = False

    def __str__(self) -> str:
        lhs = ", ".join("_" if o is None else o for o in self.outs)
        name = f"{self.op.name}_vjp" if self.vjp else self.op.name
        return f"{lhs} = {name} {' '.join(format_atom(a) for a in self.ins)}"


@dataclass(frozen=True)
class Guard:
    """A recorded comparison ``lhs symbol rhs`` and the ``outcome`` it had when traced."""

    lhs: Atom
    symbol: str
    rhs: Atom
    outcome: bool

    def holds(self, lhs: float, rhs: float) -> bool:
        """Whether the comparison comes out as recorded for these operand values."""
        if self.symbol == "<":
            result = lhs < rhs
        elif self.symbol == "<=":
            result = lhs <= rhs
        elif self.symbol == ">":
            result = lhs > rhs
        elif self.symbol == ">=":
            result = lhs >= rhs
        elif self.symbol == "==":
            result = lhs == rhs
        else:
            result = lhs != rhs
        return result == self.outcome

    def __str__(self) -> str:
        return (
            f"guard {format_atom(self.lhs)} {self.symbol} {format_atom(self.rhs)} is {self.outcome}"
        )


@dataclass(frozen=True)
class Program:
    """A straight-line scalar program.

    ``inputs`` and ``params`` name the variables the caller supplies (a gradient program also
    takes the output weights ``seeds``); ``eqns`` compute the rest in order; ``outputs`` are the
    values returned and ``grads`` (gradient programs only) the gradients, in the order of the
    ``wrt`` variables.  ``guards`` must all hold (:meth:`Guard.holds`) for the result to be
    ``f``'s.  ``str(program)`` prints one equation per line.
    """

    inputs: tuple[str, ...]
    params: tuple[str, ...]
    eqns: tuple[Eqn, ...]
    outputs: tuple[Atom, ...]
    guards: tuple[Guard, ...] = ()
    seeds: tuple[str, ...] = ()
    grads: tuple[Atom, ...] = ()
    wrt: tuple[str, ...] = field(default=())

    @property
    def consts(self) -> tuple[float, ...]:
        """The constants the equations use, each once, in order of first use."""
        seen: dict[str, float] = {}
        for eqn in self.eqns:
            for a in eqn.ins:
                if not isinstance(a, str):
                    seen.setdefault(_key(a), float(a))
        return tuple(seen.values())

    @property
    def ops(self) -> tuple[Op, ...]:
        """Every op the program applies (forward or VJP), each once, in order of first use."""
        found: dict[str, Op] = {}
        for eqn in self.eqns:
            found.setdefault(eqn.op.name, eqn.op)
        return tuple(found.values())

    def __str__(self) -> str:
        lines = [f"inputs {' '.join(self.inputs)}".rstrip()]
        if self.params:
            lines.append(f"params {' '.join(self.params)}")
        if self.seeds:
            lines.append(f"seeds {' '.join(self.seeds)}")
        lines += [str(e) for e in self.eqns]
        lines += [str(g) for g in self.guards]
        lines.append(f"outputs {' '.join(format_atom(a) for a in self.outputs)}".rstrip())
        if self.wrt:
            pairs = (f"d/d{w}={format_atom(g)}" for w, g in zip(self.wrt, self.grads, strict=True))
            lines.append(f"grads {' '.join(pairs)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Program: {len(self.inputs)} inputs, {len(self.params)} params, "
            f"{len(self.eqns)} equations, {len(self.guards)} guards>"
        )


def _key(x: float) -> str:
    """Constants told apart by value and sign of zero (0.0 and -0.0 differ; NaN is one)."""
    return "nan" if math.isnan(x) else repr(x)
