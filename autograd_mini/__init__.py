"""autograd_mini: a scalar reverse-mode automatic-differentiation engine with a small neural-network
library on top, written to show backpropagation at work.

>>> from autograd_mini import Value
>>> x = Value(2.0, label="x")
>>> y = (x * x + 3).tanh()
>>> y.backward()
>>> print(y.data, x.grad)  # tanh(7), 4·(1 − tanh²7)
0.9999983369439447 1.3304437379346723e-05
"""

from autograd_mini.anomaly import AnomalyError, detect_anomaly
from autograd_mini.engine import (
    Value,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    topological_order,
)

# The function, not the module of the same name: ``from autograd_mini import explain`` gives
# ``explain(root) -> str``; ``from autograd_mini.explain import explain_steps`` still works.
from autograd_mini.explain import explain
from autograd_mini.forward import jvp
from autograd_mini.functional import hessian, hvp, jacobian
from autograd_mini.registry import OPS, Op, defop, where
from autograd_mini.trace import trace

__all__ = [
    "OPS",
    "AnomalyError",
    "Op",
    "Value",
    "defop",
    "detect_anomaly",
    "enable_grad",
    "explain",
    "grad",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "no_grad",
    "topological_order",
    "trace",
    "where",
]

__version__ = "0.1.0"


def _display_graph(self: Value, include: object = None, exclude: object = None) -> dict[str, str]:
    """Jupyter shows a Value as its graph (SVG) beside the repr: registered here, above the
    engine, so the engine imports no drawing code (graphviz is imported on first display)."""
    from autograd_mini.viz import _mimebundle

    return _mimebundle(self)


Value._repr_mimebundle_ = _display_graph  # type: ignore[attr-defined]

_LAZY_SUBMODULES = ("data", "functions", "losses", "nn", "optim", "viz")


def __getattr__(name: str) -> object:
    """``autograd_mini.nn`` (and ``.functions``, ``.losses``, ``.optim``, ``.data``, ``.viz``)
    after a bare ``import autograd_mini``: imported on first use, so the package stays light."""
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"autograd_mini.{name}")
    raise AttributeError(f"module 'autograd_mini' has no attribute {name!r}")
