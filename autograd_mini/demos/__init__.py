"""Runnable demos.  Each module ``autograd_mini.demos.<name>`` exposes
``main(argv: list[str] | None = None) -> int`` (argparse, ``--help``) and runs with
``python -m autograd_mini.demos.<name>``; each writes its files to ``out/<name>`` by default.

* ``moons``: train ``MLP(2, [16, 16, 1])`` on 100 two-moons points; writes a decision-boundary
  picture, a loss curve and the trained model (the ``make demo`` job).
* ``spirals``: a 3-class spiral classifier trained with ``cross_entropy`` and Adam.
* ``cascade``: the tutorial's two logistic neurons, backpropagation by hand beside the engine.
* ``vanishing``: gradients through deep sigmoid and ReLU chains.
* ``gradflow``: the vanishing gradient while training an 8-layer MLP (sigmoid, tanh, ReLU),
  watched with gradient hooks.
* ``newton``: gradient descent against Newton's method (with ``hessian``) on Rosenbrock.

Plots need matplotlib (the ``demo`` extra), imported only when a demo draws.
"""
