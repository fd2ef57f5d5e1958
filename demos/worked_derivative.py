"""A worked derivative: y = tanh(x·x + 3) at x = 2, by the engine and by hand."""

import math

from autograd_mini import Value


def main() -> None:
    x = Value(2.0, label="x")
    u = x * x + 3  # u = x² + 3 = 7
    y = u.tanh()  # y = tanh(u)
    y.backward()
    by_hand = (1 - math.tanh(7.0) ** 2) * 2 * 2.0  # dy/du · du/dx = (1 − tanh²u) · 2x
    print(f"y        = tanh(x*x + 3) at x = 2 -> {y.data:.12f}")
    print(f"dy/dx    (engine)              -> {x.grad:.12e}")
    print(f"dy/dx    (1 - tanh²7)·2x by hand -> {by_hand:.12e}")


if __name__ == "__main__":
    main()
