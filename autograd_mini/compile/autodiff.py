"""The reverse-mode transform: a program → its gradient program, of registry primitives only.

After the forward equations it walks them once, last to first, *inlining* each primitive's
rule program (restricted with :func:`~autograd_mini.pycode.keep_outputs` to the inputs whose
gradient is needed; ``g``, ``out``, ``x``, ``y`` renamed to the program's variables) as
IEEE-marked equations.  A variable used more than once gets the sum of its contributions in
the order eager adds them (reverse topological order, first input first), so on floats the
gradient program gives eager's very numbers.

Eager adds a gradient onto a scratch ``0.0`` (``0.0 + -0.0`` is ``0.0``): each wanted gradient
ends with ``add 0.0 g``.  (Inner gradients need not: rules are linear in ``g``, so there a
``-0.0`` changes only the sign of zeros that this last addition normalises.)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from autograd_mini.program import Atom, Eqn, Program
from autograd_mini.pycode import keep_outputs
from autograd_mini.registry import OPS

__all__ = ["gradient_program", "needs_of"]


def needs_of(program: Program, wrt: Sequence[str]) -> set[str]:
    """The variables that depend on one of ``wrt`` (themselves included)."""
    needs = set(wrt)
    for eqn in program.eqns:
        if any(isinstance(a, str) and a in needs for a in eqn.ins):
            needs.add(eqn.out)
    return needs


def gradient_program(program: Program, wrt: Sequence[str], seeded: bool = False) -> Program:
    """The program computing ``program``'s outputs and ∂(Σₖ sₖ·outputₖ)/∂w for each variable
    ``w`` of ``wrt`` (its ``grads``).  ``seeded``: the weights sₖ are extra inputs ``s0, s1, …``
    (the program's ``seeds``); else every weight is 1.  A wanted variable no output depends on
    has gradient ``0.0``."""
    needs = needs_of(program, wrt)
    eqns = list(program.eqns)
    grad: dict[str, Atom] = {}
    ids = itertools.count(1)

    def fresh(stem: str = "t") -> str:
        return f"{stem}{next(ids)}"

    def contribute(var: str, c: Atom) -> None:
        current = grad.get(var)
        if current is None:
            grad[var] = c
        elif isinstance(c, str) or c != 0.0 or math.copysign(1.0, c) < 0:  # +0.0 changes nothing
            name = fresh(_grad_name(var) + "_")
            eqns.append(Eqn(OPS["add"], (current, c), name, ieee=True))
            grad[var] = name

    seeds = tuple(f"s{k}" for k in range(len(program.outputs))) if seeded else ()
    weights: Sequence[Atom] = seeds if seeded else [1.0] * len(program.outputs)
    for result, w in zip(program.outputs, weights, strict=True):
        if isinstance(result, str) and result in needs:
            contribute(result, w)
    rules: dict[tuple[Any, tuple[bool, ...]], Program] = {}
    for eqn in reversed(program.eqns):
        if eqn.out not in grad:
            continue
        mask = tuple(isinstance(a, str) and a in needs for a in eqn.ins)
        if (eqn.prim, mask) not in rules:
            rules[eqn.prim, mask] = keep_outputs(eqn.prim.rule_program(), mask)
        rule = rules[eqn.prim, mask]
        env: dict[str, Atom] = dict(
            zip(rule.inputs, (grad[eqn.out], eqn.out, *eqn.ins), strict=True)
        )
        # a rule's result that is its own equation's output is named for the gradient it is
        # (g<i>) when it is that variable's first contribution: readable programs and source
        firsts = [str(a) for a, m in zip(eqn.ins, mask, strict=True) if m]  # variables only
        named: dict[str, str] = {}
        for a, r in zip(firsts, rule.outputs, strict=True):
            fresh_result = isinstance(r, str) and r not in rule.inputs and r not in named
            if fresh_result and a not in grad and _grad_name(a) not in named.values():
                named[r] = _grad_name(a)  # type: ignore[index]
        for r_eqn in rule.eqns:
            ins = tuple(env.get(a, a) if isinstance(a, str) else a for a in r_eqn.ins)
            name = named.get(r_eqn.out) or fresh()
            eqns.append(Eqn(r_eqn.prim, ins, name, ieee=True))
            env[r_eqn.out] = name
        for a, r in zip(firsts, rule.outputs, strict=True):
            contribute(a, env.get(r, r) if isinstance(r, str) else r)
    grads: list[Atom] = []
    for w in wrt:
        g = grad.get(w, 0.0)
        if isinstance(g, str):
            eqns.append(Eqn(OPS["add"], (0.0, g), fresh("d"), ieee=True))
        grads.append(eqns[-1].out if isinstance(g, str) else 0.0 + g)
    return replace(program, eqns=tuple(eqns), seeds=seeds, grads=tuple(grads), wrt=tuple(wrt))


def _grad_name(var: str) -> str:
    """The gradient of variable ``v<i>``: ``g<i>`` (``g_<name>`` for other names)."""
    return f"g{var[1:]}" if var[:1] == "v" and var[1:].isdigit() else f"g_{var}"
