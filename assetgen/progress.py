"""Progress lines on stderr for long work (batch export, data set builds, training).

On a terminal the line is redrawn in place; in a log (CI, a build pipeline) a line is printed
at most every ``interval`` seconds, so logs stay readable.
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
        self._start = time.monotonic()
        self._last = 0.0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.done >= self.total or now - self._last >= (0.1 if self._tty else self.interval):
            self._last = now
            self._show(final=False)

    def close(self) -> None:
        self._show(final=True)

    def _show(self, *, final: bool) -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self._start, 1e-9)
        rate = self.done / elapsed
        pct = 100.0 * self.done / self.total if self.total else 100.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        text = (
            f"{self.label}: {self.done}/{self.total} {self.unit} ({pct:.0f}%) "
            f"{rate:.1f}/s, {'took' if final else 'ETA'} {elapsed if final else eta:.0f}s"
        )
        if self._tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        elif final or self.done < self.total:
            self.stream.write(text + "\n")
        self.stream.flush()
