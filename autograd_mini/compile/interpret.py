"""A reference evaluator: run a :class:`~.program.Program` on Python floats, one equation at a
time, with the ops' own ``forward`` and ``vjp`` functions from :mod:`autograd_mini.ops`.

Slow (a dictionary lookup per operand) but obviously right: it is what the lowerings are
tested against, and it evaluates the guards with :meth:`~.program.Guard.holds`.
"""

from __future__ import annotations

from collections.abc import Sequence

from autograd_mini.compile.program import Atom, Program

__all__ = ["GuardFailedError", "evaluate"]


class GuardFailedError(ValueError):
    """A recorded comparison does not hold for these inputs (``.index``: which guard)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


def evaluate(
    program: Program,
    inputs: Sequence[float],
    params: Sequence[float] = (),
    seeds: Sequence[float] = (),
) -> tuple[list[float], list[float]]:
    """``(outputs, grads)`` of ``program`` at these values (grads empty for a forward program).

    Raises :class:`GuardFailedError` when a guard does not hold, and whatever an op raises (domain
    errors) as eager code would."""
    env: dict[str, float] = {}
    for names, values in (
        (program.inputs, inputs),
        (program.params, params),
        (program.seeds, seeds),
    ):
        if len(names) != len(values):
            raise ValueError(f"evaluate: expected {len(names)} values, got {len(values)}")
        env.update(zip(names, map(float, values), strict=True))

    def read(a: Atom) -> float:
        return env[a] if isinstance(a, str) else a

    guards_at = _guards_by_last_operand(program)
    for k in guards_at.get(None, ()):
        _check(program, k, read)
    for eqn in program.eqns:
        args = [read(a) for a in eqn.ins]
        if eqn.vjp:
            results = eqn.op.vjp(*args)
            for name, r in zip(eqn.outs, results, strict=True):
                if name is not None:
                    env[name] = float(r)
        else:
            (name,) = eqn.outs
            assert name is not None
            env[name] = eqn.op.forward(*args)
            for k in guards_at.get(name, ()):
                _check(program, k, read)
    return [read(a) for a in program.outputs], [read(a) for a in program.grads]


def _guards_by_last_operand(program: Program) -> dict[str | None, list[int]]:
    """Guard indices by the last-computed variable they read (None: only inputs, params and
    constants), so each guard is checked as soon as its operands exist."""
    position = {name: i for i, eqn in enumerate(program.eqns) for name in eqn.outs if name}
    found: dict[str | None, list[int]] = {}
    for k, guard in enumerate(program.guards):
        computed = [a for a in (guard.lhs, guard.rhs) if isinstance(a, str) and a in position]
        last = max(computed, key=position.__getitem__) if computed else None
        found.setdefault(last, []).append(k)
    return found


def _check(program: Program, k: int, read: object) -> None:
    guard = program.guards[k]
    assert callable(read)
    lhs, rhs = read(guard.lhs), read(guard.rhs)
    if not guard.holds(lhs, rhs):
        raise GuardFailedError(
            k, f"{guard} does not hold: {lhs!r} {guard.symbol} {rhs!r} is {not guard.outcome}"
        )
