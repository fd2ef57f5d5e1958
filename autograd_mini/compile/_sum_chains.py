"""A pass for array backends that may reorder float sums: chains of ``add`` → one n-ary sum.

Traced code writes Σᵢ wᵢxᵢ + b as a chain of scalar adds, ``((b + w₀x₀) + w₁x₁) + …``: k
terms are k − 1 equations at k − 1 different depths, so a level-grouping lowering runs k − 1
tiny operations one after the other, and the products wait for the chain.  :func:`sum_chains`
rewrites every such tree of adds into one :class:`Sum` node with all its terms; its depth is one
more than its deepest term's, so the products of a whole layer land in one group and the sums
of a whole layer in another (``jnp.sum`` over a (count, k) block).  On the benchmark
MLP(2, [16, 16, 1]): ~45 forward groups become ~12.

The sum of the terms equals the chain's value up to rounding only (float addition is not
associative): the JAX lowering uses it (results equal eager to 1e-12, not bit for bit); the
Python and NumPy lowerings, which keep eager's exact operation order, must not.  Gradients are
unchanged in kind: ∂(Σ tᵢ)/∂tᵢ = 1, as ``add``'s VJP.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograd_mini.compile.program import Atom, Eqn, Program
from autograd_mini.ops import OPS

__all__ = ["Sum", "sum_chains"]


@dataclass(frozen=True)
class Sum:
    """``out = Σ terms``: variables and constants, added in any order (at least three)."""

    terms: tuple[Atom, ...]
    out: str


def sum_chains(program: Program) -> tuple[Eqn | Sum, ...]:
    """The program's forward equations with each tree of ``add`` equations collapsed into one
    :class:`Sum` (in the position of its last add, so the order stays topological).

    An add is absorbed into the add that reads it when that is its only use anywhere (not read
    twice, not an output, not in a guard); trees of two terms stay plain adds.  One pass over
    the equations and an explicit stack per tree: no recursion, so million-term chains are
    fine."""
    add = OPS["add"]
    uses: dict[str, int] = {}
    for eqn in program.eqns:
        if eqn.vjp:
            raise ValueError("sum_chains: a forward program was expected")
        for a in eqn.ins:
            if isinstance(a, str):
                uses[a] = uses.get(a, 0) + 1
    for a in (*program.outputs, *(x for g in program.guards for x in (g.lhs, g.rhs))):
        if isinstance(a, str):
            uses[a] = uses.get(a, 0) + 2  # never absorbed: its value is needed on its own
    adds: dict[str, Eqn] = {}  # add equations by output name
    absorbed: set[str] = set()
    for eqn in program.eqns:
        if eqn.op is add:
            (out,) = eqn.outs
            assert out is not None
            adds[out] = eqn
            for a in eqn.ins:
                if isinstance(a, str) and a in adds and uses[a] == 1:
                    absorbed.add(a)
    nodes: list[Eqn | Sum] = []
    for eqn in program.eqns:
        (out,) = eqn.outs
        assert out is not None
        if out in absorbed:
            continue  # computed inside the sum that reads it
        if eqn.op is not add or not any(isinstance(a, str) and a in absorbed for a in eqn.ins):
            nodes.append(eqn)
            continue
        terms: list[Atom] = []
        stack: list[Atom] = list(reversed(eqn.ins))
        while stack:  # left to right through the tree
            a = stack.pop()
            if isinstance(a, str) and a in absorbed:
                stack.extend(reversed(adds[a].ins))
            else:
                terms.append(a)
        nodes.append(Sum(tuple(terms), out))
    return tuple(nodes)
