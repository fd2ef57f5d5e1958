"""The one reverse-mode transform: a :class:`~.program.Program` → its gradient Program.

The gradient program computes the values (the forward equations, unchanged) and then walks the
equations once, last to first, applying each op's VJP rule from :mod:`autograd_mini.ops` — the
same rule eager :meth:`~autograd_mini.engine.Value.backward` applies — as one *vjp equation*
``gx, gy = mul_vjp g v x y``.  A variable used more than once receives the sum of its
contributions, added in the order eager adds them (``g3 = add g3 d7_0``), so lowering the
gradient program to floats gives eager's very numbers.

Eager accumulates every gradient onto a scratch 0.0 (``x._g += gx``), and ``0.0 + -0.0`` is
``0.0``: the requested gradients end with ``gN = add 0.0 gN`` so that a lowering gives the same
sign of zero as eager (``x * -0.0`` has gradient 0.0, not -0.0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from autograd_mini.compile.program import Atom, Eqn, Program
from autograd_mini.ops import ADD

__all__ = ["gradient_flow", "gradient_program"]


def gradient_program(program: Program, wrt: Sequence[str], seeded: bool = False) -> Program:
    """The program computing ``program``'s outputs and ∂(Σₖ sₖ·outputₖ)/∂w for each variable
    ``w`` in ``wrt`` (inputs and/or parameters).  ``seeded``: the weights sₖ are extra inputs
    ``s0, s1, …`` (the gradient program's ``seeds``); else every weight is 1.

    Variables the gradient does not flow through get no vjp equation; a wanted variable no
    output depends on has gradient 0.0.
    """
    wanted = list(wrt)
    needs: set[str] = set(wanted)
    for eqn in program.eqns:
        if any(isinstance(a, str) and a in needs for a in eqn.ins):
            needs.update(o for o in eqn.outs if o is not None)
    eqns: list[Eqn] = list(program.eqns)
    grad: dict[str, Atom] = {}

    def contribute(var: str, e: Atom) -> None:
        current = grad.get(var)
        if current is None:
            grad[var] = e  # the first contribution: no addition
            return
        if not isinstance(e, str) and e == 0.0 and math.copysign(1.0, e) > 0:
            return  # adding +0.0 (a constant seed)
        name = _grad_name(var)
        eqns.append(Eqn(ADD, (current, e), (name,)))
        grad[var] = name

    seeds = tuple(f"s{k}" for k in range(len(program.outputs))) if seeded else ()
    weights: list[Atom] = list(seeds) if seeded else [1.0] * len(program.outputs)
    for result, w in zip(program.outputs, weights, strict=True):
        if isinstance(result, str) and result in needs:
            contribute(result, w)
    for eqn in reversed(program.eqns):
        (out,) = eqn.outs
        if out is None or out not in needs or out not in grad:
            continue
        outs: list[str | None] = []
        pending: list[tuple[str, str]] = []  # (variable, contribution) added after the vjp
        for k, a in enumerate(eqn.ins):
            if not isinstance(a, str) or a not in needs:
                outs.append(None)
            elif a not in grad and all(v != a for v, _ in pending):
                outs.append(_grad_name(a))  # its first contribution: bound directly
                pending.append((a, _grad_name(a)))
            else:
                name = f"d{out[1:]}_{k}"
                outs.append(name)
                pending.append((a, name))
        eqns.append(Eqn(eqn.op, (grad[out], out, *eqn.ins), tuple(outs), vjp=True))
        for var, name in pending:
            if name == _grad_name(var) and var not in grad:
                grad[var] = name
            else:
                contribute(var, name)
    grads: list[Atom] = []
    for w in wanted:
        g = grad.get(w, 0.0)
        if isinstance(g, str):
            eqns.append(Eqn(ADD, (0.0, g), (g,)))  # eager's 0.0 + Σ: no -0.0
        else:
            g = 0.0 + g
        grads.append(g)
    return Program(
        inputs=program.inputs,
        params=program.params,
        eqns=tuple(eqns),
        outputs=program.outputs,
        guards=program.guards,
        seeds=seeds,
        grads=tuple(grads),
        wrt=tuple(wanted),
    )


def _grad_name(var: str) -> str:
    """The gradient accumulator of variable ``v<i>``: ``g<i>``."""
    return f"g{var[1:]}"


def gradient_flow(gp: Program) -> set[str]:
    """The variables a gradient program sends gradient to: the wanted ones, and every
    variable that has a vjp equation or receives a contribution from one."""
    flow = set(gp.wrt)
    for eqn in gp.eqns:
        if eqn.vjp:
            out = eqn.ins[1]
            assert isinstance(out, str)
            flow.add(out)
            flow.update(
                a for a, o in zip(eqn.ins[2:], eqn.outs, strict=True) if o and isinstance(a, str)
            )
    return flow
