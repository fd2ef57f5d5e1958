"""Neural networks built from Values: :class:`Neuron`, :class:`Layer`, :class:`MLP`.

A neuron computes ``z = Σᵢ wᵢxᵢ + b`` and then its activation φ(z) (relu, tanh, sigmoid or the
identity, "linear"); a layer is a list of neurons reading the same inputs; an MLP is a chain of
layers whose last one is linear, so its outputs are raw scores (logits) for the losses in
:mod:`autograd_mini.losses`.

Initialisation is PyTorch's ``nn.Linear`` default: every weight and bias is drawn uniformly from
``[−1/√nin, 1/√nin]``, which keeps ``z`` of order 1 whatever the layer width.  It is seeded:
``seed`` is an int or a :class:`random.Random`; ``None`` draws a seed from the global
:mod:`random` state (so ``random.seed(...)`` makes it reproducible too).

Called with plain numbers, a model makes each one a constant input labelled ``x1 … xn`` (a
Value with ``requires_grad=False``, shared by the neurons that read it), so that pictures and
:func:`~autograd_mini.explain` name the inputs; Values passed in are used as given.

>>> from autograd_mini.nn import MLP
>>> model = MLP(2, [16, 16, 1], seed=0)
>>> model
MLP(2, [16, 16, 1], activation='relu')
>>> len(model.parameters())
337
>>> model.named_parameters()[0][0]
'layers.0.neurons.0.w.0'
>>> model.parameters()[0].label       # a short label for drawings: layer 1, neuron 1, weight 1
'L1.n1.w1'
>>> y = model([0.5, -1.0])     # one output: a Value
>>> y.backward()
>>> model.zero_grad()
"""

from __future__ import annotations

import io
import json
import math
import numbers
import os
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set as AbstractSet
from typing import Any, ClassVar, TypeAlias

from autograd_mini.atomicfile import write_atomic
from autograd_mini.engine import Value
from autograd_mini.jsonload import JSONFileError, NotAFileError, read_json
from autograd_mini.registry import brief as _brief

__all__ = [
    "ACTIVATIONS",
    "MAX_FILE_BYTES",
    "MAX_PARAMETERS",
    "MLP",
    "Layer",
    "Module",
    "Neuron",
    "StateDictError",
    "make_rng",
]

Input: TypeAlias = "Sequence[Value | float | int]"
Seed: TypeAlias = "int | random.Random | None"

ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
}
"""Activation name → the Value method applied to ``z`` (``None``: the identity)."""

_FORMAT = "autograd_mini.state_dict"
_FORMAT_VERSION = 1
_FILE_KEYS = ("format", "version", "architecture", "state_dict")

MAX_PARAMETERS = 1_000_000
"""Most parameters ``MLP.load(path)`` builds (checked from the architecture before building:
each parameter is a Value, ~100 bytes, and ~50 bytes of JSON)."""
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest model file ``load`` reads (a million parameters take ~50 MB)."""
_MAX_DEPTH = 32  # JSON nesting: a saved model nests 3 levels
_MAX_CONTAINERS = 10_000  # JSON arrays and objects: a saved model has a handful


class StateDictError(KeyError, ValueError):
    """A state dict or model file does not fit the model (missing or extra key, non-number,
    wrong architecture).  Both a :class:`KeyError` and a :class:`ValueError`, so either
    ``except`` catches it; the message names the offending key."""

    def __str__(self) -> str:  # KeyError would print repr(message) with quotes
        return str(self.args[0]) if self.args else ""


def make_rng(seed: Seed) -> random.Random:
    """A :class:`random.Random` for ``seed``: the generator itself, a new one seeded with the int,
    or (``None``) one seeded from the global :mod:`random` state."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None:
        return random.Random(random.getrandbits(64))
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"seed must be an int, a random.Random or None, got {type(seed).__name__}: {seed!r}"
        )
    return random.Random(seed)


def _check_size(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}: {_brief(n)}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return n


def _check_activation(activation: object) -> str:
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {', '.join(map(repr, ACTIVATIONS))}"
        )
    return activation


def _check_input(x: object, nin: int, who: str) -> list[Value]:
    """``x`` as ``nin`` Values: Values as given, each plain number as a constant (a Value that
    needs no gradient) labelled ``x1 … xn`` by its position, made once and shared by every
    neuron that reads it, so that drawings and :func:`~autograd_mini.explain` name the inputs."""
    if isinstance(x, (AbstractSet, Mapping)):
        # a set iterates in an arbitrary order, a dict over its keys: never what was meant
        raise TypeError(
            f"{who}: input must be an ordered sequence of {nin} numbers or Values (a list or "
            f"tuple), got {type(x).__name__}"
        )
    if isinstance(x, Iterable) and not isinstance(x, (Sequence, Mapping, Value, str, bytes)):
        x = list(x)  # e.g. a NumPy row or a generator: read it once
    if isinstance(x, (Value, str, bytes)) or not isinstance(x, Sequence):
        raise TypeError(
            f"{who}: input must be a list of {nin} numbers or Values, got {type(x).__name__}"
        )
    if len(x) != nin:
        raise ValueError(f"{who}: expected {nin} inputs, got {len(x)}")
    for i, xi in enumerate(x):
        if not isinstance(xi, (Value, numbers.Real)):
            raise TypeError(
                f"{who}: input[{i}] must be a number or a Value, got {type(xi).__name__}: {xi!r}"
            )
    return [
        xi if isinstance(xi, Value) else Value(xi, f"x{i}", requires_grad=False)
        for i, xi in enumerate(x, start=1)
    ]


class Module:
    """Base class: anything with named :class:`Value` parameters.

    A subclass lists in ``_fields`` the attributes that hold its parameters, in order; each is a
    Value, a Module, or a list of those.  Without ``_fields``, the public attributes are
    searched in assignment order (plain numbers and strings are skipped).  Names are the dotted
    paths to each parameter, e.g. ``layers.0.neurons.3.w.1`` (PyTorch's convention), stable
    from run to run.
    """

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The module's computation; every subclass defines it (``Any`` here, as in PyTorch, so
        that code typed against ``Module`` can call one)."""
        raise NotImplementedError(f"{type(self).__name__} does not define __call__")

    def _named(self, prefix: str) -> Iterator[tuple[str, Value]]:
        if self._fields:
            for field in self._fields:
                yield from _walk(getattr(self, field), prefix + field, strict=True)
            return
        # A user's subclass without _fields: its public attributes in assignment order, keeping
        # the Values, Modules and lists of them (like torch.nn.Module's registration).
        for field, obj in getattr(self, "__dict__", {}).items():
            if not field.startswith("_"):
                yield from _walk(obj, prefix + field, strict=False)

    def _short_parts(self) -> Iterator[tuple[str, object]]:
        """(short name, Value or Module or list) for each part, in parameter order: by default
        the fields of :meth:`named_parameters`; Neuron, Layer and MLP use 1-based short names."""
        if self._fields:
            for field in self._fields:
                yield field, getattr(self, field)
            return
        for field, obj in getattr(self, "__dict__", {}).items():
            if not field.startswith("_"):
                yield field, obj

    def label_parameters(self, prefix: str = "") -> None:
        """Give every parameter a short label from its place in the model, unique within it.

        In an :class:`MLP` the label of ``layers.i.neurons.j.w.k`` (a key of
        :meth:`named_parameters`, 0-based) is ``L{i+1}.n{j+1}.w{k+1}`` and of
        ``layers.i.neurons.j.b`` it is ``L{i+1}.n{j+1}.b``: 1-based, like the tutorial's layer,
        neuron and weight numbers (``L1.n3.w2``: first layer, third neuron, second weight).  A
        :class:`Layer` alone labels ``n{j+1}.w{k+1}``, a :class:`Neuron` alone ``w{k+1}`` and
        ``b``.  Neuron, Layer and MLP call this when they are built; loading weights changes only
        the numbers, so the labels stay.  A Module of your own can call it at the end of its
        ``__init__``: its fields are named as in :meth:`named_parameters` (``field.0`` for list
        items), and parts that are ours inside it use their short names (``enc.n2.b``).
        """
        for name, obj in self._short_parts():
            _label(obj, prefix + name)

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(dotted name, parameter)`` for every parameter, in a fixed order."""
        return list(self._named(""))

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of :meth:`named_parameters`."""
        return [p for _, p in self._named("")]

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0 (gradients accumulate across backward calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def config(self) -> dict[str, Any]:
        """The architecture as plain JSON data (saved with the weights, checked on load)."""
        return {"type": type(self).__name__}

    def state_dict(self) -> dict[str, float]:
        """Parameter name → its current ``data``, a fresh dict of floats."""
        return {name: p.data for name, p in self._named("")}

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Copy the numbers of ``state`` into the parameters.

        Everything is validated before anything changes: a missing or extra key, or a value that
        is not a finite real number (NaN and ±inf included), raises :class:`StateDictError` (a
        KeyError and a ValueError) naming the key, and the model is left exactly as it was.
        """
        named = self.named_parameters()
        values = self._checked_values(named, state)
        for (_, p), v in zip(named, values, strict=True):
            p.data = v

    def _checked_values(self, named: list[tuple[str, Value]], state: object) -> list[float]:
        """The floats of ``state`` in the order of ``named``, or :class:`StateDictError`."""
        if not isinstance(state, Mapping):
            raise StateDictError(f"state dict must be a mapping, got {type(state).__name__}")
        expected = {name for name, _ in named}
        missing = [name for name, _ in named if name not in state]
        if missing:
            raise StateDictError(
                f"state dict for {self!r} is missing key {missing[0]!r}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        extra = sorted(str(k) for k in state if k not in expected)
        if extra:
            raise StateDictError(
                f"state dict for {self!r} has unexpected key {extra[0]!r}"
                + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else "")
            )
        values = []
        for name, _ in named:
            v = state[name]
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or isinstance(v, Value):
                raise StateDictError(
                    f"state dict key {name!r}: expected a real number, got {type(v).__name__}: "
                    f"{v!r}"
                )
            try:
                f = float(v)
            except OverflowError:  # an int beyond float range, e.g. a 400-digit JSON literal
                f = math.inf
            if not math.isfinite(f):  # a NaN or ±inf weight poisons every output
                raise StateDictError(
                    f"state dict key {name!r}: expected a finite number, got {v!r}"
                )
            values.append(f)
        return values

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the architecture and weights to ``path`` as plain JSON, atomically.

        The file is written next to ``path`` under a temporary name and then renamed over it, so
        a crash never leaves a half-written model.  Floats are written with ``repr`` precision,
        so :meth:`load` restores them bit for bit.
        """
        state = self.state_dict()
        for name, v in state.items():
            if not math.isfinite(v):
                raise ValueError(f"save: parameter {name!r} is {v!r}; JSON has no NaN or infinity")
        doc = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "architecture": self.config(),
            "state_dict": state,
        }
        _write_json_atomic(path, doc)

    def _load_into(self, path: str | os.PathLike[str]) -> Any:
        """``model.load(path)``: see :data:`Module.load`."""
        arch, state = _read_model_file(path)
        return self._load_checked(os.fspath(path), arch, state)

    def _load_checked(self, where: str, arch: object, state: object) -> Any:
        """Load ``state`` (read from ``where``, saved with ``arch``) into this model, or raise
        :class:`StateDictError` naming ``where`` and leave it unchanged."""
        named = self.named_parameters()
        mismatch = arch is not None and arch != self.config()
        try:
            values = self._checked_values(named, state)
        except StateDictError as e:
            if mismatch:  # name the key, and say why it does not fit
                raise StateDictError(
                    f"{where!r} holds a model with architecture {arch!r}, but this model is "
                    f"{self.config()!r}: {e}"
                ) from None
            raise StateDictError(f"{where!r}: {e}") from None
        if mismatch:  # same parameter names, e.g. another activation
            raise StateDictError(
                f"{where!r} holds a model with architecture {arch!r} (key 'architecture'), "
                f"but this model is {self.config()!r}"
            )
        for (_, p), v in zip(named, values, strict=True):
            p.data = v
        return self

    @classmethod
    def _parameter_count(cls, arch: dict[str, Any]) -> int | None:
        """How many parameters ``cls(**arch)`` would have, computed without building it (None:
        unknown).  Checked against :data:`MAX_PARAMETERS` and the file before anything is
        built; raises TypeError/ValueError for sizes that are not counts."""
        return None

    @classmethod
    def _load_new(cls, path: str | os.PathLike[str]) -> Any:
        """``MLP.load(path)``: see :data:`Module.load`."""
        arch, state = _read_model_file(path)
        where = os.fspath(path)
        if arch is None:
            raise StateDictError(
                f"{where!r} holds bare weights without an architecture; build the model and "
                f"call model.load({where!r}) instead"
            )
        if not isinstance(arch, dict) or arch.get("type") != cls.__name__:
            raise StateDictError(
                f"{where!r} holds a model with architecture {_brief(arch)}, not a {cls.__name__}"
            )
        kwargs = {k: v for k, v in arch.items() if k != "type"}
        try:
            count = cls._parameter_count(kwargs)
        except (TypeError, ValueError) as e:
            raise StateDictError(f"{where!r}: bad architecture {_brief(arch)}: {e}") from None
        if count is not None:
            if count > MAX_PARAMETERS:
                raise StateDictError(
                    f"{where!r}: architecture {_brief(arch)} has {count:,} parameters, more than "
                    f"the {MAX_PARAMETERS:,} a model may load (autograd_mini.nn.MAX_PARAMETERS)"
                )
            if isinstance(state, Mapping) and len(state) != count:
                raise StateDictError(
                    f"{where!r}: architecture {_brief(arch)} has {count:,} parameters but the "
                    f"state dict holds {len(state):,} values"
                )
        try:
            model = cls(**kwargs)
        except (TypeError, ValueError) as e:
            raise StateDictError(
                f"{where!r}: cannot build a {cls.__name__} from {_brief(arch)}: {e}"
            ) from None
        return model._load_checked(where, arch, state)

    load: ClassVar[_LoadMethod]


class _LoadMethod:
    """``Module.load``, both an instance and a class method.

    ``model.load(path)`` loads weights written by :meth:`Module.save` (or a bare state-dict JSON
    object) into ``model`` and returns it.  Validates everything first: unreadable JSON, a
    missing or extra key, a non-number, or another architecture raise ``ValueError``
    (:class:`StateDictError`, also a ``KeyError``, naming the key) and leave the model unchanged.
    A path that is not a regular file (a named pipe, a device, a folder) is refused at once,
    before reading: :class:`~autograd_mini.jsonload.NotAFileError`, both a ``ValueError`` and an
    ``OSError``, naming the path.

    ``MLP.load(path)`` (on the class) builds a new model from the architecture saved in the file
    and loads its weights.
    """

    def __get__(
        self, obj: Module | None, objtype: type[Module] | None = None
    ) -> Callable[[str | os.PathLike[str]], Any]:
        if obj is not None:
            return obj._load_into
        if objtype is None:  # pragma: no cover - Python always passes the owner class
            raise TypeError("Module.load: no class to load into")
        return objtype._load_new


Module.load = _LoadMethod()


def _read_model_file(path: str | os.PathLike[str]) -> tuple[object, object]:
    """(architecture or None, state dict) from a file written by :meth:`Module.save` or a bare
    state-dict JSON object; :class:`StateDictError` naming the path for anything else (too
    large, too deep, not UTF-8, not JSON, a duplicate key, another format or version)."""
    where = os.fspath(path)
    try:
        doc = read_json(
            path, max_bytes=MAX_FILE_BYTES, max_depth=_MAX_DEPTH, max_containers=_MAX_CONTAINERS
        )
    except NotAFileError:
        raise  # a pipe, a device, a folder: already names the path
    except JSONFileError as e:
        raise StateDictError(str(e)) from None
    if not isinstance(doc, dict):
        raise StateDictError(f"{where!r}: expected a JSON object, got {type(doc).__name__}")
    if "format" not in doc:
        return None, doc
    version = doc.get("version")
    # the int 1 exactly: JSON's 1.0 and true compare equal to it in Python
    if doc["format"] != _FORMAT or type(version) is not int or version != _FORMAT_VERSION:
        raise StateDictError(
            f"{where!r}: unsupported format {_brief(doc.get('format'))} version "
            f"{_brief(version)} (expected {_FORMAT!r} version {_FORMAT_VERSION})"
        )
    extra = sorted(k for k in doc if k not in _FILE_KEYS)
    if extra:
        raise StateDictError(
            f"{where!r} has unexpected key {_brief(extra[0])} (a saved model has only "
            f"{', '.join(map(repr, _FILE_KEYS))})"
        )
    if "state_dict" not in doc:
        raise StateDictError(f"{where!r}: missing key 'state_dict'")
    return doc.get("architecture"), doc["state_dict"]


def _walk(obj: object, name: str, strict: bool) -> Iterator[tuple[str, Value]]:
    if isinstance(obj, Value):
        yield name, obj
    elif isinstance(obj, Module):
        yield from obj._named(name + ".")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            yield from _walk(item, f"{name}.{i}", strict)
    elif strict:
        raise TypeError(f"{name}: expected a Value, Module or list, got {type(obj).__name__}")


def _label(obj: object, name: str) -> None:
    """Label the parameters in ``obj`` (a Value, a Module or a list of them) under ``name``."""
    if isinstance(obj, Value):
        obj.label = name
    elif isinstance(obj, Module):
        obj.label_parameters(name + ".")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            _label(item, f"{name}.{i}")


def _write_json_atomic(path: str | os.PathLike[str], doc: object) -> None:
    """Write ``doc`` as JSON to ``path`` atomically (:func:`autograd_mini.atomicfile.write_atomic`:
    the target's mode is kept, errors name ``path``); encoded first, so an unencodable document
    raises before anything touches the disk."""
    buffer = io.StringIO()
    json.dump(doc, buffer, indent=1, allow_nan=False)
    buffer.write("\n")
    write_atomic(path, buffer.getvalue().encode("utf-8"))


class Neuron(Module):
    """``φ(Σᵢ wᵢxᵢ + b)``: weights ``w`` (a list of ``nin`` Values) and bias ``b``.

    ``activation`` is "relu", "tanh", "sigmoid" or "linear" (φ = identity).  Weights and bias
    start uniform in ``[−1/√nin, 1/√nin]`` (PyTorch's ``nn.Linear`` default).
    """

    __slots__ = ("_phi", "activation", "b", "nin", "w")
    _fields = ("w", "b")

    def __init__(self, nin: int, activation: str = "relu", seed: Seed = None) -> None:
        self.nin = _check_size("Neuron: nin", nin)
        self.activation = _check_activation(activation)
        self._phi = ACTIVATIONS[activation]
        rng = make_rng(seed)
        bound = 1.0 / math.sqrt(nin)
        self.w = [Value(rng.uniform(-bound, bound)) for _ in range(nin)]
        self.b = Value(rng.uniform(-bound, bound))
        self.label_parameters()

    def _short_parts(self) -> Iterator[tuple[str, object]]:
        for k, wk in enumerate(self.w):
            yield f"w{k + 1}", wk
        yield "b", self.b

    def __call__(self, x: Input) -> Value:
        return self._forward(_check_input(x, self.nin, "Neuron"))

    def _forward(self, x: Input) -> Value:
        z = self.b
        for wi, xi in zip(self.w, x, strict=True):
            z = z + wi * xi
        return z if self._phi is None else self._phi(z)

    def config(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation}

    @classmethod
    def _parameter_count(cls, arch: dict[str, Any]) -> int | None:
        return _check_size("Neuron: nin", arch.get("nin")) + 1

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs; calling it returns a list of ``nout``
    Values (always a list, even for ``nout == 1``)."""

    __slots__ = ("activation", "neurons", "nin", "nout")
    _fields = ("neurons",)

    def __init__(self, nin: int, nout: int, activation: str = "relu", seed: Seed = None) -> None:
        self.nin = _check_size("Layer: nin", nin)
        self.nout = _check_size("Layer: nout", nout)
        self.activation = _check_activation(activation)
        rng = make_rng(seed)
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]
        self.label_parameters()

    def _short_parts(self) -> Iterator[tuple[str, object]]:
        for j, neuron in enumerate(self.neurons):
            yield f"n{j + 1}", neuron

    def __call__(self, x: Input) -> list[Value]:
        return self._forward(_check_input(x, self.nin, "Layer"))

    def _forward(self, x: Input) -> list[Value]:
        return [n._forward(x) for n in self.neurons]

    @classmethod
    def _parameter_count(cls, arch: dict[str, Any]) -> int | None:
        nin = _check_size("Layer: nin", arch.get("nin"))
        return (nin + 1) * _check_size("Layer: nout", arch.get("nout"))

    def config(self) -> dict[str, Any]:
        return {
            "type": "Layer",
            "nin": self.nin,
            "nout": self.nout,
            "activation": self.activation,
        }

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multilayer perceptron: ``nin`` inputs, then one layer per entry of ``nouts``.

    Hidden layers use ``activation``; the last layer is linear.  Calling the model on one sample
    (a list of ``nin`` numbers or Values) returns a Value when ``nouts[-1] == 1``, else a list.
    """

    __slots__ = ("activation", "layers", "nin", "nouts")
    _fields = ("layers",)

    def __init__(
        self, nin: int, nouts: Sequence[int], activation: str = "relu", seed: Seed = None
    ) -> None:
        self.nin = _check_size("MLP: nin", nin)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, got {nouts!r}")
        self.nouts = [_check_size(f"MLP: nouts[{i}]", n) for i, n in enumerate(nouts)]
        self.activation = _check_activation(activation)
        rng = make_rng(seed)
        sizes = [nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < last else "linear", rng)
            for i in range(len(self.nouts))
        ]
        self.label_parameters()

    def _short_parts(self) -> Iterator[tuple[str, object]]:
        for i, layer in enumerate(self.layers):
            yield f"L{i + 1}", layer

    # Any, like torch.nn.Module.__call__: the result is a Value or a list depending on
    # nouts[-1], a run-time number, and a union would make `model(x).data` a type error.
    def __call__(self, x: Input) -> Any:
        """The network on one sample: a Value when ``nouts[-1] == 1``, else a list of Values.

        Plain numbers in ``x`` become constants labelled ``x1 … xn`` (``requires_grad=False``:
        no gradient is computed for them); Values are used as given, so pass
        ``Value(x, requires_grad=True)`` to get ∂out/∂x."""
        h = _check_input(x, self.nin, "MLP")
        for layer in self.layers:
            h = layer._forward(h)
        return h[0] if len(h) == 1 else h

    @classmethod
    def _parameter_count(cls, arch: dict[str, Any]) -> int | None:
        nouts = arch.get("nouts")
        if not isinstance(nouts, list) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, got {nouts!r}")
        sizes = [_check_size("MLP: nin", arch.get("nin"))]
        sizes += [_check_size(f"MLP: nouts[{i}]", n) for i, n in enumerate(nouts)]
        return sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))

    def config(self) -> dict[str, Any]:
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.activation,
        }

    def __repr__(self) -> str:
        return f"MLP({self.nin}, {self.nouts}, activation={self.activation!r})"
