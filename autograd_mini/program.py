"""Programs: scalar computations as data, the one interface between the package's stages.

A :class:`Program` is a straight list of equations in topological order, like a jaxpr; each
:class:`Eqn` applies one registry primitive to *atoms* — variable names (``str``) or constants
(Python ``float``) — and binds one new variable::

    inputs g out x
    t0 = mul out out
    t1 = sub 1.0 t0
    t2 = mul g t1
    outputs t2

A derivative rule traced on program variables is such a program (tanh's, above), and so are
what :func:`autograd_mini.trace` records and the gradient program it derives.  Every later
stage reads and writes programs: passes map programs to programs, and each backend lowers one
through its table of primitives (:mod:`autograd_mini.pycode` for Python source).

*Guards* are comparisons recorded while tracing Python control flow: ``lhs symbol rhs`` must keep
its recorded outcome, or the program is not the function for these inputs.

This module knows primitives only by duck typing (``prim.name``): it imports nothing of the
package, so everything can build on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = ["Atom", "Eqn", "Guard", "Program", "UnsupportedOpError", "format_atom"]

Atom: TypeAlias = "str | float"
"""A variable (its name) or a constant (a Python float)."""


class UnsupportedOpError(NotImplementedError, ValueError):
    """A backend cannot lower a primitive of the program (JavaScript has no ``erf``); raised
    before anything is written, naming the primitives."""


def format_atom(a: Atom) -> str:
    """A variable's name, or the constant as a number (``repr`` of the float)."""
    return a if isinstance(a, str) else repr(float(a))


@dataclass(frozen=True, slots=True)
class Eqn:
    """``out = prim(*ins)``: one primitive applied to atoms.  ``ieee``: the equation computes
    with IEEE semantics (``prim.ieee``: ±inf or NaN, never an exception), as a derivative
    rule's equations do; otherwise it is a forward operation with eager's errors."""

    prim: Any
    ins: tuple[Atom, ...]
    out: str
    ieee: bool = False

    def __str__(self) -> str:
        return f"{self.out} = {self.prim.name} {' '.join(format_atom(a) for a in self.ins)}"


_COMPARE = {
    "<": float.__lt__,
    "<=": float.__le__,
    ">": float.__gt__,
    ">=": float.__ge__,
    "==": float.__eq__,
    "!=": float.__ne__,
}


@dataclass(frozen=True)
class Guard:
    """A recorded comparison ``lhs symbol rhs`` and the ``outcome`` it had when traced."""

    lhs: Atom
    symbol: str
    rhs: Atom
    outcome: bool

    def holds(self, lhs: float, rhs: float) -> bool:
        """Whether the comparison comes out as recorded for these operand values."""
        return bool(_COMPARE[self.symbol](float(lhs), float(rhs))) == self.outcome

    def __str__(self) -> str:
        lhs, rhs = format_atom(self.lhs), format_atom(self.rhs)
        return f"guard {lhs} {self.symbol} {rhs} is {self.outcome}"


@dataclass(frozen=True)
class Program:
    """A straight-line scalar program.

    ``inputs`` and ``params`` name the variables the caller supplies (a gradient program also
    takes output weights, ``seeds``); ``eqns`` compute the rest in order; ``outputs`` are the
    values returned and ``grads`` (gradient programs) the gradients with respect to the ``wrt``
    variables.  ``guards`` must all hold for the result to be the traced function's.
    ``str(program)`` prints one equation per line.
    """

    inputs: tuple[str, ...]
    eqns: tuple[Eqn, ...]
    outputs: tuple[Atom, ...]
    params: tuple[str, ...] = ()
    guards: tuple[Guard, ...] = ()
    seeds: tuple[str, ...] = ()
    grads: tuple[Atom, ...] = ()
    wrt: tuple[str, ...] = ()

    @property
    def consts(self) -> tuple[float, ...]:
        """The constants the equations use, each once (by value and sign), in order of use."""
        seen: dict[str, float] = {}
        for eqn in self.eqns:
            for a in eqn.ins:
                if not isinstance(a, str):
                    seen.setdefault("nan" if math.isnan(a) else repr(a), float(a))
        return tuple(seen.values())

    @property
    def prims(self) -> tuple[Any, ...]:
        """Every primitive the program applies, each once, in order of first use."""
        found: dict[str, Any] = {}
        for eqn in self.eqns:
            found.setdefault(eqn.prim.name, eqn.prim)
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
