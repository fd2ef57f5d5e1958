"""The floor: each workload written by hand as straight-line float code with a hand-derived
backward pass.  No graph, no objects per operation — what any scalar engine in CPython would
cost if recording the graph and walking it back were free.  The engines are compared with it.

Every function returns the same numbers as the engines' versions (value, then gradients), which
the benchmark checks to rel 1e-9 before timing anything.
"""

from __future__ import annotations

import math

__all__ = ["chain", "mlp_step", "tanh_chain", "wide_sum"]


def chain(x: float, depth: int) -> list[float]:
    """c ← c·1.0001 + 0.1, ``depth`` times from c = x; returns [c, dc/dx]."""
    c = x
    for _ in range(depth):
        c = c * 1.0001 + 0.1
    g = 1.0
    for _ in range(depth):  # d(c·k + 0.1)/dc = k
        g = g * 1.0001
    return [c, g]


def tanh_chain(x: float, depth: int) -> list[float]:
    """c ← tanh(c), ``depth`` times from c = x; returns [c, dc/dx]."""
    outs = []
    c = x
    for _ in range(depth):
        c = math.tanh(c)
        outs.append(c)
    g = 1.0
    for out in reversed(outs):  # tanh' = 1 − out²
        g = g * (1.0 - out * out)
    return [c, g]


def wide_sum(a: list[float], b: list[float]) -> list[float]:
    """s = Σ aᵢ·bᵢ; returns [s, ∂s/∂a…, ∂s/∂b…] (∂s/∂aᵢ = bᵢ, ∂s/∂bᵢ = aᵢ)."""
    s = 0.0
    for ai, bi in zip(a, b, strict=True):
        s = s + ai * bi
    return [s, *b, *a]


def mlp_step(
    weights: list[list[list[float]]],
    biases: list[list[float]],
    xs: list[tuple[float, float]],
    ys: list[float],
    lr: float,
    alpha: float,
) -> list[float]:
    """One SGD step of the benchmark MLP (ReLU hidden layers, linear output) on the max-margin
    loss mean(relu(1 − yᵢ·sᵢ)) + alpha·Σp², updating ``weights``/``biases`` in place.

    Returns [loss, gradients…] with the gradients in parameter order (per layer, per neuron:
    weights then bias), taken before the update.
    """
    n_layers = len(weights)
    gw = [[[0.0] * len(row) for row in layer] for layer in weights]
    gb = [[0.0] * len(layer) for layer in biases]
    inv_n = 1.0 / len(xs)
    data_loss = 0.0
    for (x0, x1), y in zip(xs, ys, strict=True):
        # forward, keeping each layer's activations
        acts: list[list[float]] = [[x0, x1]]
        h = acts[0]
        for k in range(n_layers):
            last = k == n_layers - 1
            out = []
            for row, b in zip(weights[k], biases[k], strict=True):
                z = b
                for w, hi in zip(row, h, strict=True):
                    z = z + w * hi
                out.append(z if last or z > 0.0 else 0.0)
            acts.append(out)
            h = out
        q = 1.0 + (-y) * h[0]
        data_loss = data_loss + (q if q > 0.0 else 0.0)
        # backward: d loss/d s, then layer by layer
        if q <= 0.0:
            continue
        delta = [inv_n * -y]
        for k in range(n_layers - 1, -1, -1):
            h_in = acts[k]
            back = [0.0] * len(h_in)
            for j, d in enumerate(delta):
                if d == 0.0:
                    continue
                row, grow = weights[k][j], gw[k][j]
                gb[k][j] += d
                for i, hi in enumerate(h_in):
                    grow[i] += d * hi
                    back[i] += d * row[i]
            if k:
                delta = [d if a > 0.0 else 0.0 for d, a in zip(back, h_in, strict=True)]
    reg = 0.0
    for layer, blayer in zip(weights, biases, strict=True):
        for row, b in zip(layer, blayer, strict=True):
            for w in row:
                reg = reg + w * w
            reg = reg + b * b
    loss = data_loss * inv_n + alpha * reg
    grads: list[float] = []
    for k, (layer, blayer) in enumerate(zip(weights, biases, strict=True)):
        for j, (row, b) in enumerate(zip(layer, blayer, strict=True)):
            grow = gw[k][j]
            for i, w in enumerate(row):
                g = grow[i] + 2.0 * alpha * w
                grads.append(g)
                row[i] = w - lr * g
            g = gb[k][j] + 2.0 * alpha * b
            grads.append(g)
            blayer[j] = b - lr * g
    return [loss, *grads]
