"""Progress lines on stderr for long work (batch export), drawn by tqdm.

tqdm does the drawing: redrawn in place on a terminal (at most every 0.1 s), and in a log (CI,
a build pipeline) a line at most every ``interval`` seconds, so logs stay readable.

What the line says is ours: items a rerun finds already done are counted with
:meth:`Progress.skip`; they move the count but not the rate, which is taken over the items
actually made (none made: no rate and no ETA), so a rerun that skips 10 000 finished items in
a second does not claim "10000.0/s" (tqdm's own rate counts every update).
"""

from __future__ import annotations

import os
import re
import sys
import time
from typing import Any, TextIO

from tqdm import tqdm


class Progress:
    def __init__(
        self,
        total: int,
        label: str,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float = 2.0,
        unit: str = "items",
    ) -> None:
        self.total = max(total, 0)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.unit = unit
        self.done = 0
        #: of ``done``, how many were already finished (skipped, not made)
        self.skipped = 0
        self._start = time.monotonic()
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        # a terminal that reports no size (a bare pseudo-terminal: 0 columns, 0 rows) would
        # have tqdm cut or hide the line; there it is shown whole
        sized = tty and _columns(self.stream) > 0
        self._bar = tqdm(
            total=self.total,
            desc=self.text(),
            bar_format="{desc}",  # the line is text(); tqdm decides when and how to draw it
            file=self.stream if tty else _LogLines(self.stream),
            disable=not enabled,
            mininterval=0.1 if tty else interval,
            miniters=1,
            dynamic_ncols=sized,
            ncols=None if sized else _UNCUT,
            nrows=None if sized else _UNCUT,
            leave=True,
        )

    def advance(self, n: int = 1) -> None:
        """``n`` items made."""
        self.done += n
        self._update(n)

    def skip(self, n: int = 1) -> None:
        """``n`` items found already done: counted, but left out of the rate."""
        self.done += n
        self.skipped += n
        self._update(n)

    def close(self) -> None:
        self._bar.set_description_str(self.text(final=True), refresh=False)
        self._bar.close()

    def _update(self, n: int) -> None:
        self._bar.set_description_str(self.text(), refresh=False)
        if self.done >= self.total:
            self._bar.n += n
            self._bar.refresh()  # the last item always shows, however soon it came
        else:
            self._bar.update(n)

    def text(self, *, final: bool = False) -> str:
        """The progress line (without line ending)."""
        elapsed = max(time.monotonic() - self._start, 1e-9)
        made = self.done - self.skipped
        pct = 100.0 * self.done / self.total if self.total else 100.0
        parts = [f"{self.label}: {self.done}/{self.total} {self.unit} ({pct:.0f}%)"]
        if self.skipped:
            parts.append(f"{self.skipped} already done")
        if made > 0:
            rate = made / elapsed
            parts.append(f"{_rate(rate)}/s")
            if not final:
                parts.append(f"ETA {(self.total - self.done) / rate:.0f}s")
        if final:
            parts.append(f"took {elapsed:.0f}s")
        return ", ".join(parts)


_CURSOR = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _LogLines:
    """A log's view of tqdm's output: each redraw (``\\r`` + line + padding) as a line of its
    own, so a log holds readable lines rather than one line of carriage returns."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last = ""

    def write(self, text: str) -> int:
        # tqdm moves the cursor (ESC [ A) when one bar is still open as the next starts;
        # a log has no cursor, so those control sequences are dropped
        for part in _CURSOR.sub("", text).split("\r"):
            line = part.rstrip()
            if line and line != self._last:
                self.stream.write(line + "\n")
                self._last = line
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


#: tqdm's width and height where the line is not to be cut or hidden (tqdm reads 0 columns
#: as "no meter", not "no limit", and the -1 rows a sizeless terminal reports as "hide it")
_UNCUT = 10_000


def _columns(stream: TextIO) -> int:
    """The terminal's width in columns; 0 when it reports none."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


def _rate(rate: float) -> str:
    """At most three significant figures, never an exponent: 0.0123, 1.23, 12.3, 1234."""
    return f"{rate:.0f}" if rate >= 100 else f"{rate:.3g}"
