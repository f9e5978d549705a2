"""Progress lines on stderr for long work (batch export, data set builds, training).

On a terminal the line is redrawn in place; in a log (CI, a build pipeline) a line is printed
at most every ``interval`` seconds, so logs stay readable.

Items a rerun finds already done are counted with :meth:`Progress.skip`: they move the count
but not the rate, which is taken over the items actually made (none made: no rate and no ETA),
so a rerun that skips 10 000 finished items in a second does not claim "10000.0/s".
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


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
        self.interval = interval
        self.unit = unit
        self.done = 0
        #: of ``done``, how many were already finished (skipped, not made)
        self.skipped = 0
        self._start = time.monotonic()
        self._last = 0.0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def advance(self, n: int = 1) -> None:
        """``n`` items made."""
        self.done += n
        self._maybe_show()

    def skip(self, n: int = 1) -> None:
        """``n`` items found already done: counted, but left out of the rate."""
        self.done += n
        self.skipped += n
        self._maybe_show()

    def close(self) -> None:
        self._show(final=True)

    def _maybe_show(self) -> None:
        now = time.monotonic()
        if self.done >= self.total or now - self._last >= (0.1 if self._tty else self.interval):
            self._last = now
            self._show(final=False)

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

    def _show(self, *, final: bool) -> None:
        if not self.enabled:
            return
        text = self.text(final=final)
        if self._tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        elif final or self.done < self.total:
            self.stream.write(text + "\n")
        self.stream.flush()


def _rate(rate: float) -> str:
    """At most three significant figures, never an exponent: 0.0123, 1.23, 12.3, 1234."""
    return f"{rate:.0f}" if rate >= 100 else f"{rate:.3g}"
