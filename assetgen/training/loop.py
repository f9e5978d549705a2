"""Pieces every training loop repeats: the EMA update of a generator's weights and the
progress line on stderr. Each plugin's loop keeps its own step (losses, optimisers, what it
logs); checkpoints, metrics and sample sheets are :class:`assetgen.training.run.TrainingRun`'s.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

import torch


@torch.no_grad()
def ema_update(
    target: torch.nn.Module, source: torch.nn.Module, beta: float, *, buffers: bool = True
) -> None:
    """Move ``target``'s parameters towards ``source``'s: ``t = beta * t + (1 - beta) * s``.

    With ``buffers`` (the default) ``target`` also takes ``source``'s buffers as they are
    (batch-norm statistics, a mapping's running mean w): an average of those is not what the
    network computed with. A model whose buffers are set otherwise (the label model's
    truncation centre, computed before each evaluation) passes ``buffers=False``.
    """
    for p_ema, p in zip(target.parameters(), source.parameters(), strict=True):
        p_ema.lerp_(p, 1 - beta)
    if buffers:
        for b_ema, b in zip(target.buffers(), source.buffers(), strict=True):
            b_ema.copy_(b)


def ramped_ema_beta(beta: float, step: int) -> float:
    """``beta``, but at most ``(1 + step) / (10 + step)``: a plain 0.999 average keeps mostly
    the initial weights for the first thousand steps, and with batch norm those weights draw
    blank grey samples."""
    return min(beta, (1 + step) / (10 + step))


class StepProgress:
    """The progress line of a loop from ``start_step`` to ``total`` steps, on stderr::

        step STEP/TOTAL <figures> RATE it/s [RATE <unit>/s ...] ETA MINUTES min

    :meth:`due` says whether a line is due (``every_s`` seconds since the last one, or the
    last step; never when ``enabled`` is false, as on the ranks other than 0 under torchrun),
    so a loop computes its figures (``loss.item()`` waits for the GPU) only then; the rate
    counts the steps of this process since it started, not those of a resumed run's past.
    """

    def __init__(
        self,
        total: int,
        start_step: int,
        every_s: float,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        self.total = total
        self.start_step = start_step
        self.every_s = every_s
        self.enabled = enabled
        self.stream = stream
        self.started = time.monotonic()
        self._last = 0.0
        self._now = self.started

    def due(self, step: int) -> bool:
        """True when a line is due at ``step``; the next one is then ``every_s`` later."""
        if not self.enabled:
            return False
        now = time.monotonic()
        if now - self._last > self.every_s or step == self.total:
            self._last = self._now = now
            return True
        return False

    def line(self, step: int, figures: str, per_second: dict[str, float] | None = None) -> str:
        """``step {step}/{total} {figures} {rate} it/s [{n / s} {unit}/s ...] ETA {min} min``,
        timed at the last :meth:`due` that returned true; ``per_second`` maps a unit to a count
        since the start (characters, tokens) to print as a rate after the steps'."""
        elapsed = max(self._now - self.started, 1e-9)
        rate = (step - self.start_step) / elapsed
        eta = (self.total - step) / max(rate, 1e-9)
        rates = "".join(f" {n / elapsed:.0f} {unit}/s" for unit, n in (per_second or {}).items())
        return f"step {step}/{self.total} {figures} {rate:.2f} it/s{rates} ETA {eta / 60:.1f} min"

    def print(self, step: int, figures: str, per_second: dict[str, float] | None = None) -> None:
        """Write :meth:`line` (flushed: the line is how a long run shows it is alive)."""
        print(self.line(step, figures, per_second), file=self.stream or sys.stderr, flush=True)
