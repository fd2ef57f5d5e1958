"""Read a JSON file with bounds, for files a user may have been handed (saved models).

:func:`read_json` checks, before and while parsing, everything that would otherwise fail deep
inside :mod:`json` or exhaust the machine, and raises :class:`JSONFileError` (a ValueError)
naming the file for each:

* the size (checked before reading: a 10 GB file is not read into memory);
* the text must be UTF-8 (the position of the first bad byte is given);
* the nesting depth (``"[" * 100000`` would be a RecursionError in :mod:`json`'s decoder) and
  the number of arrays and objects;
* a key twice in one object (JSON parsers silently keep the last one: a file that says two
  things is refused);
* ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON.

Only a regular file is read: a named pipe, a device, a socket or a folder is refused at once
with :class:`NotAFileError` (a pipe with no writer would block the reader forever).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import stat
from typing import Any

__all__ = ["JSONFileError", "NotAFileError", "read_json"]

# A JSON string literal (escapes included; an unterminated one runs to the end, so a match never
# fails and never backtracks); brackets inside strings do not nest anything.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONFileError(ValueError):
    """A JSON file is too large, too deep, not UTF-8, not JSON, or has a key twice; the message
    names the file."""


class NotAFileError(JSONFileError, OSError):
    """The path is not a regular file (a named pipe, a device, a socket, a folder): refused
    before reading.  Both a :class:`ValueError` (bad input) and an :class:`OSError` (like the
    other ways a path cannot be read); the message and ``filename`` name the path."""


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _open_regular(path: str | os.PathLike[str]) -> int:
    """A descriptor of ``path`` opened for reading, or :class:`NotAFileError` if it is not a
    regular file.  Opened without blocking (opening a pipe with no writer would wait forever),
    checked, then switched back to blocking reads."""
    where = os.fspath(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise NotAFileError(f"{where!r} is {kind}, not a regular file: nothing was read")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


class _DuplicateKeyError(Exception):
    pass


def _brackets(text: str) -> str:
    """The ``[]{}`` of JSON ``text`` outside strings, in order."""
    return _NOT_BRACKET.sub("", _STRING.sub("", text))


def _depth(brackets: str) -> int:
    """How deeply the brackets nest: a running sum of +1/−1, no recursion."""
    return max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def read_json(
    path: str | os.PathLike[str], *, max_bytes: int, max_depth: int, max_containers: int
) -> Any:
    """The JSON document in ``path``, or :class:`JSONFileError` (see the module docstring).

    ``OSError`` (a missing file, no permission) propagates as it is: it already names the path.
    """
    where = os.fspath(path)
    with open(_open_regular(path), "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise JSONFileError(
                f"{where!r} is {size:,} bytes, over the limit of {max_bytes:,}; is it a model file?"
            )
        raw = f.read(max_bytes + 1)  # a file that grew since fstat is still cut off here
    if len(raw) > max_bytes:
        raise JSONFileError(f"{where!r} is over the limit of {max_bytes:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise JSONFileError(
            f"{where!r} is not UTF-8 text (byte {e.start}: {raw[e.start : e.start + 1]!r}); "
            "is it a model file?"
        ) from None
    # openers anywhere (inside strings too) bound the depth: the usual file skips the scan
    if text.count("[") + text.count("{") > max_depth:
        brackets = _brackets(text)
        if len(brackets) > 2 * max_containers:
            raise JSONFileError(
                f"{where!r} has more than {max_containers:,} JSON arrays and objects; "
                "is it a model file?"
            )
        depth = _depth(brackets)
        if depth > max_depth:
            raise JSONFileError(
                f"{where!r}: JSON nested {depth} levels deep, more than the {max_depth} allowed"
            )
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except _DuplicateKeyError as e:
        raise JSONFileError(f"{where!r}: key {e.args[0]!r} appears twice in one object") from None
    except (ValueError, RecursionError) as e:  # RecursionError: unreachable after the depth check
        raise JSONFileError(f"{where!r} is not valid JSON: {e}") from None
