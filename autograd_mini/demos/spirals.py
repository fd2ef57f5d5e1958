"""Second demo: a 3-class spiral classifier trained with softmax cross-entropy and Adam.

Trains ``MLP(2, [16, 16, 3])`` (relu) on 300 points of three interleaved spiral arms, in
minibatches of 50, with ``cross_entropy`` plus 1e-4·L2 and Adam (lr 0.05 decaying linearly to
a tenth), for 300 steps (50 passes over the data).  The predicted class is the argmax of the three
outputs.  Writes ``decision_boundary.png``, ``loss_curve.png``, ``model.json`` and
``metrics.json`` to the output folder (default ``out/spirals``).

Run ``python -m autograd_mini.demos.spirals --help`` for the flags.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from autograd_mini.data import make_spirals, minibatches
from autograd_mini.demos._common import (
    L2_ALPHA,
    TrainResult,
    accuracy,
    add_output_arguments,
    add_training_arguments,
    check_model_size,
    check_steps,
    decaying_optimizer,
    demo_parser,
    ensure_output_folder,
    non_negative_float,
    optimizer_text,
    paused_gc,
    positive_int,
    report_and_save,
    sample_count,
    timed_progress,
)
from autograd_mini.engine import Value
from autograd_mini.losses import cross_entropy, l2
from autograd_mini.nn import MLP

__all__ = ["main", "train_spirals"]

DEFAULT_LR = {"adam": 0.05, "sgd": 0.1}


def _logits(out: Value | list[Value]) -> list[Value]:
    if isinstance(out, Value):
        raise ValueError("cross_entropy needs a model with several outputs (one per class)")
    return out


def _argmax(logits: list[Value]) -> int:
    return max(range(len(logits)), key=lambda k: logits[k].data)


def train_spirals(
    steps: int = 300,
    seed: int = 0,
    optimizer: str = "adam",
    lr: float | None = None,
    momentum: float = 0.9,
    hidden: Sequence[int] = (16, 16),
    n: int = 300,
    classes: int = 3,
    noise: float = 0.2,
    batch_size: int = 50,
    progress: TextIO | None = None,
) -> TrainResult:
    """Train an MLP on ``make_spirals(n, classes, noise, seed)`` for ``steps`` minibatch steps.

    Each epoch visits the data once in a new seeded order; loss = mean cross-entropy of the
    batch + 1e-4·Σp²; the learning rate decays linearly from ``lr`` to ``lr/10``.  ``losses``
    and ``accuracies`` in the result are per step (accuracy on the step's batch); ``accuracy``
    is the final accuracy on all training points.  Deterministic for given arguments.
    """
    check_steps(steps)
    points, y = make_spirals(n, classes, noise=noise, seed=seed)
    model = MLP(2, [*hidden, classes], seed=seed)
    params = model.parameters()
    opt, schedule = decaying_optimizer(optimizer, params, lr, momentum, steps, DEFAULT_LR)
    result = TrainResult(model, points, y)
    epoch = 0
    with timed_progress(result, steps, progress) as bar, paused_gc():
        while len(result.losses) < steps:
            for bx, by in minibatches(points, y, batch_size, seed=seed * 1_000_003 + epoch):
                logits = [_logits(model(x)) for x in bx]
                total = cross_entropy(logits, by) + L2_ALPHA * l2(params)
                opt.zero_grad()
                total.backward()
                opt.step()
                schedule.step()
                hits = sum(_argmax(z) == t for z, t in zip(logits, by, strict=True))
                result.losses.append(total.data)
                result.accuracies.append(hits / len(by))
                if bar is not None:
                    bar.update(loss=total.data, acc=f"{100 * hits / len(by):.0f}%")
                if len(result.losses) == steps:
                    break
            epoch += 1
        result.accuracy = accuracy(model, points, y)
    return result


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = demo_parser(
        "spirals",
        "Train MLP(2, [16, 16, 3]) on 3-class spirals with cross-entropy and Adam.",
        prog,
    )
    p.add_argument("--steps", type=positive_int, default=300, help="minibatch steps (300)")
    add_training_arguments(p, DEFAULT_LR)
    p.add_argument("--n", type=sample_count, default=300, help="number of points (300)")
    p.add_argument("--classes", type=positive_int, default=3, help="spiral arms / classes (3)")
    p.add_argument("--noise", type=non_negative_float, default=0.2, help="angle noise (0.2)")
    p.add_argument("--batch-size", type=positive_int, default=50, help="minibatch size (50)")
    add_output_arguments(p, "spirals")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Command-line entry point (``python -m autograd_mini.demos.spirals``; ``prog`` names it in
    ``--help``)."""
    parser = _parser(prog)
    args = parser.parse_args(None if argv is None else list(argv))
    if args.classes < 2:
        parser.error("--classes must be at least 2")
    check_model_size(parser, 2, [*args.hidden, args.classes])
    ensure_output_folder(parser, args.out)
    lr = DEFAULT_LR[args.optimizer] if args.lr is None else args.lr
    arch = MLP(2, [*args.hidden, args.classes], seed=0)
    opt_text = optimizer_text(args.optimizer, lr, args.momentum)
    print(
        f"spirals: {arch!r}, {len(arch.parameters())} parameters; {args.n} points in "
        f"{args.classes} arms (noise {args.noise}, seed {args.seed}); cross-entropy + "
        f"{L2_ALPHA}·L2; {opt_text}, lr decaying linearly to a tenth; {args.steps} steps of "
        f"{args.batch_size} points"
    )
    sys.stdout.flush()
    result = train_spirals(
        steps=args.steps,
        seed=args.seed,
        optimizer=args.optimizer,
        lr=lr,
        momentum=args.momentum,
        hidden=args.hidden,
        n=args.n,
        classes=args.classes,
        noise=args.noise,
        batch_size=args.batch_size,
        progress=None if args.quiet else sys.stderr,
    )
    fresh, fresh_y = make_spirals(args.n, args.classes, noise=args.noise, seed=args.seed + 1)
    held_out = accuracy(result.model, fresh, fresh_y)
    title = f"{args.classes} spirals: {100 * result.accuracy:.0f}% training accuracy"
    accuracy_label = "accuracy on the step's batch (%)"
    return report_and_save(
        "spirals", args, lr, result, held_out, title, "batch loss", accuracy_label
    )


if __name__ == "__main__":
    raise SystemExit(main())
