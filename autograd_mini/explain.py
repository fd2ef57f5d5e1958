"""The backward pass as text: the chain rule, one line per node, with numbers.

Backward visits the nodes in reverse topological order.  When it reaches a node n, every node
that consumed n (used it as an input) has already been visited, and

    ∂R/∂n = Σ over consumers c of  ∂R/∂c · ∂c/∂n

where R is the root and ∂c/∂n is c's *local partial* (the op's rule in :mod:`autograd_mini.ops`).
:func:`explain` prints exactly that sum for every node: symbolically, then with numbers, then the
result.  A node used twice by the same consumer (``x * x``) gets two terms, one per argument.

:func:`explain` reads only ``data`` and the graph: it neither calls ``backward`` nor touches
``.grad``, so it gives the same text before or after ``root.backward()`` (even after backward
released the graph).  Its numbers are ∂root/∂node for this one pass with seed 1, computed with the
same VJP rules in the same order as the engine, so they equal the ``.grad`` a single
``root.backward()`` leaves on freshly created Values.

>>> from autograd_mini import Value
>>> x = Value(3.0, label="x")
>>> w = Value(-2.0, label="w")
>>> y = (w * x).tanh(); y.label = "y"
>>> print(explain(y))
y = tanh(v2) = -0.999988    ∂y/∂y = 1  (seed)
v2 = w * x = -6             ∂y/∂v2 = ∂y/∂y · (1 − y²) = 1 · 2.45765e-05 = 2.4576547405286142e-05
x = 3                       ∂y/∂x = ∂y/∂v2 · w = 2.45765e-05 · (-2) = -4.9153094810572284e-05
w = -2                      ∂y/∂w = ∂y/∂v2 · x = 2.45765e-05 · 3 = 7.372964221585843e-05
"""

from __future__ import annotations

from dataclasses import dataclass

from autograd_mini.engine import Value
from autograd_mini.naming import atom, bounded_order, node_names

__all__ = ["MAX_NODES", "Step", "Term", "explain", "explain_lines", "explain_steps"]

MAX_NODES = 10_000
"""Default limit on the Values :func:`explain` walks: text grows linearly (one line per node), so
it can go further than a drawing (``draw_graph`` stops at 500) while a graph that would print
tens of thousands of lines is still refused with a ValueError."""


@dataclass(frozen=True)
class Term:
    """One consumer's share of a node's gradient: ``upstream · local``.

    ``consumer``: the consumer's name; ``formula``: ∂consumer/∂node written with names;
    ``local``: its value (the VJP rule at g = 1); ``upstream``: ∂root/∂consumer;
    ``contribution``: what backward adds, the VJP rule at g = upstream (= upstream · local up to
    rounding).
    """

    consumer: str
    formula: str
    local: float
    upstream: float
    contribution: float


@dataclass(frozen=True)
class Step:
    """One node of the backward pass: ``grad`` = ∂root/∂node = Σ ``terms`` (seed 1 for the root;
    None for a constant, a node that needs no gradient).

    ``definition`` is how the node was computed (``v4 = v2 + b = 0.6``); ``forward`` the same
    with the inputs' numbers put in (``v4 = v2 + b = 0.5 + 0.1 = 0.6``; a leaf: its definition).
    """

    name: str
    definition: str
    data: float
    grad: float | None
    terms: tuple[Term, ...]
    value: Value
    forward: str = ""


def _num(x: float) -> str:
    return f"{x:.6g}"


def _factor(x: float) -> str:
    """A number as a factor in a product: negatives in parentheses."""
    s = _num(x)
    return f"({s})" if s.startswith("-") else s


def _formula_names(order: list[Value], names: dict[Value, str]) -> dict[Value, str]:
    """Names inside formulas: constants (unlabelled leaves) by their value, others as usual."""
    return {v: (_num(v.data) if v.is_leaf and not v.label else atom(names[v])) for v in order}


def _expression(v: Value, args: list[str]) -> str:
    """``v``'s operation applied to ``args`` (names or numbers): ``a + b``, ``-a``, ``tanh(a)``."""
    op = v._op
    assert op is not None  # only called for operation nodes
    if op.notation == "infix":
        return f"{args[0]} {op.symbol} {args[1]}"
    if op.notation == "prefix":
        return f"{op.symbol}{args[0]}"
    return f"{op.symbol}({', '.join(args)})"


def _definition(v: Value, name: str, fnames: dict[Value, str]) -> str:
    if v._op is None:
        return f"{name} = {_num(v.data)}" + ("" if v.requires_grad else " (constant)")
    expr = _expression(v, [fnames[p] for p in v._parents])
    return f"{name} = {expr} = {_num(v.data)}"


def _forward(v: Value, name: str, fnames: dict[Value, str]) -> str:
    """The forward computation with numbers: ``v4 = v2 + b = 0.5 + 0.1 = 0.6``."""
    if v._op is None:
        return _definition(v, name, fnames)
    symbolic = _expression(v, [fnames[p] for p in v._parents])
    bare = v._op.notation != "call"  # operators get no parentheses of their own: -(-0.5)
    numeric = _expression(v, [(_factor if bare else _num)(p.data) for p in v._parents])
    if numeric == symbolic:  # every input a constant: say it once
        return f"{name} = {symbolic} = {_num(v.data)}"
    return f"{name} = {symbolic} = {numeric} = {_num(v.data)}"


def explain_steps(root: Value, *, max_nodes: int = MAX_NODES) -> list[Step]:
    """The backward pass from ``root`` (seed 1) as data, one :class:`Step` per node, in the order
    backward visits them.  Reads the graph only; ValueError above ``max_nodes`` Values."""
    if not isinstance(root, Value):
        raise TypeError(f"explain: root must be a Value, got {type(root).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"explain: max_nodes must be a positive int, got {max_nodes!r}")
    order = bounded_order(root, max_nodes, "explain")
    names = node_names(order)
    fnames = _formula_names(order, names)
    grads: dict[Value, float] = {v: 0.0 for v in order}
    grads[root] = 1.0
    terms: dict[Value, list[Term]] = {v: [] for v in order}
    steps = []
    for node in reversed(order):  # the engine's visiting order
        g = grads[node] if node.requires_grad else None
        definition = _definition(node, names[node], fnames)
        forward = _forward(node, names[node], fnames)
        steps.append(Step(names[node], definition, node.data, g, tuple(terms[node]), node, forward))
        op = node._op
        if op is None or g is None:
            continue
        parents = node._parents
        inputs = [p.data for p in parents]
        needs = [p.requires_grad for p in parents]  # constants get no partial, as in backward
        # the same rule, in the same order, as the engine's float backward pass
        contributions = op.vjp(g, node.data, *inputs, needs=needs)
        locals_ = op.vjp(1.0, node.data, *inputs, needs=needs)
        # ∂node/∂input as text, from the op's entry in the registry (for display only: the
        # numbers always come from the rule)
        formulas = op.partials_text(fnames[node], tuple(fnames[p] for p in parents), node)
        for parent, gp, local, text in zip(parents, contributions, locals_, formulas, strict=True):
            if gp is not None:
                grads[parent] += gp
                terms[parent].append(Term(names[node], text, float(local), g, float(gp)))
    return steps


def explain(root: Value, *, max_nodes: int = MAX_NODES) -> str:
    """The backward pass from ``root`` as text, one line per node in backward's visiting order:

    ``<node> = <how it was computed>    ∂R/∂node = Σ ∂R/∂c · ∂c/∂node = <numbers> = <gradient>``

    summing over the node's consumers c (the root's line is the seed, 1; a constant's line has
    no gradient: nothing needs one).  Does not call
    ``backward`` or change any ``.grad``; the gradients shown equal those one ``root.backward()``
    produces.  ValueError for graphs over ``max_nodes`` Values.
    """
    return "\n".join(explain_lines(explain_steps(root, max_nodes=max_nodes)))


def explain_lines(steps: list[Step]) -> list[str]:
    """The lines of :func:`explain` for the steps of :func:`explain_steps` (one per step, the
    definitions padded to one width): the text the step-through page shows at each step."""
    r = atom(steps[0].name)
    width = max(len(s.definition) for s in steps) + 4
    lines = []
    for s in steps:
        head = f"∂{r}/∂{atom(s.name)}"
        if s.grad is None:  # a constant: no gradient
            body = ""
        elif not s.terms:
            body = f"{head} = 1  (seed)"
        else:
            symbolic = " + ".join(f"∂{r}/∂{atom(t.consumer)} · {t.formula}" for t in s.terms)
            numeric = " + ".join(f"{_factor(t.upstream)} · {_factor(t.local)}" for t in s.terms)
            body = f"{head} = {symbolic} = {numeric} = {s.grad!r}"
        lines.append(f"{s.definition.ljust(width)}{body}".rstrip())
    return lines
