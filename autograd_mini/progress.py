"""A tiny dependency-free progress bar for training loops.

On a terminal it redraws one line in place (``\\r``); written to a file or a pipe (a log, CI) it
prints a line at every 10% instead, so logs stay readable.

>>> import io
>>> out = io.StringIO()
>>> bar = ProgressBar(4, desc="train", stream=out, width=8)
>>> for _ in range(4):
...     bar.update(loss=0.5)
>>> bar.close()
>>> print(out.getvalue().splitlines()[-1])
train [########] 4/4 loss=0.5
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """``bar.update(n=1, **stats)`` advances by ``n`` steps and shows ``stats`` (numbers are
    formatted with 4 significant digits); ``bar.close()`` ends the line.  Also a context
    manager."""

    __slots__ = (
        "_last_decile",
        "_last_len",
        "_start",
        "desc",
        "interactive",
        "n",
        "stats",
        "stream",
        "total",
        "width",
    )

    def __init__(
        self,
        total: int,
        desc: str = "",
        stream: TextIO | None = None,
        width: int = 30,
        interactive: bool | None = None,
    ) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"ProgressBar: total must be an int >= 0, got {total!r}")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"ProgressBar: width must be an int >= 1, got {width!r}")
        self.total = total
        self.desc = desc
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.n = 0
        self.stats: dict[str, float | int | str] = {}
        if interactive is None:
            isatty = getattr(self.stream, "isatty", None)
            interactive = bool(isatty and isatty())
        self.interactive = interactive
        self._start = time.perf_counter()
        self._last_decile = -1
        self._last_len = 0

    def line(self) -> str:
        """The bar as text, e.g. ``train [#####     ] 50/100 loss=0.1234``."""
        frac = self.n / self.total if self.total else 1.0
        filled = min(self.width, int(frac * self.width))
        bar = "#" * filled + " " * (self.width - filled)
        parts = [f"{self.desc} [{bar}] {self.n}/{self.total}".lstrip()]
        parts += [
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.stats.items()
        ]
        return " ".join(parts)

    def update(self, n: int = 1, **stats: float | int | str) -> None:
        """Advance by ``n`` steps and replace the shown statistics with ``stats``."""
        self.n += n
        self.stats.update(stats)
        if self.interactive:
            text = self.line()
            # pad with spaces over the end of a longer previous line
            self.stream.write("\r" + text.ljust(self._last_len))
            self._last_len = len(text)
            self.stream.flush()
            return
        decile = 10 * self.n // self.total if self.total else 10
        if decile != self._last_decile:
            self._last_decile = decile
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    @property
    def elapsed(self) -> float:
        """Seconds since the bar was created."""
        return time.perf_counter() - self._start

    def close(self) -> None:
        """Finish the line (on a terminal)."""
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
