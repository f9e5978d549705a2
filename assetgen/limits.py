"""Documented caps on request sizes (docs/limits.md). A request over a cap is refused before
any work is done or memory is spent."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from .errors import InvalidOptionsError, show_value

MAX_COUNT = 10_000
"""Most assets one generate request (or one batch run) may ask for."""
MAX_FRAMES = 240
"""Most frames one animation may have."""
DEFAULT_FRAMES = 8  # an animation's length when neither the caller nor its generator sets one
MAX_IMAGE_SIDE = 4096
"""Widest or tallest image (or animation frame) a generator may return; a request's image size
is capped first by the generator's own size option, this is the engine's backstop."""
MAX_BATCH_RUNS = 1_000
"""Most runs one batch job file may list."""
MAX_BATCH_ITEMS = 100_000
"""Most items one batch job file may ask for in all (the sum of its runs' counts)."""
MAX_JOB_FILE_BYTES = 1_000_000
"""Largest batch job file accepted."""


def check_int(
    name: str, value: Any, low: int, high: int | None = None, *, option: bool = False
) -> int:
    """``value`` if it is an int from ``low`` to ``high`` (no upper bound when ``high`` is
    None); otherwise an :class:`InvalidOptionsError` naming ``name``, the value and the range.

    bool is refused although it is an int subclass: ``True`` as a count is a bug, not a request
    for one item. ``option=True`` checks a generator option the way ``Options`` checks an int
    one: the message says ``option 'NAME'``, and any integral number (numpy's too) is accepted
    and returned as an int.
    """
    if option and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
    in_range = isinstance(value, int) and low <= value and (high is None or value <= high)
    if isinstance(value, bool) or not in_range:
        allowed = f"from {low} to {high}" if high is not None else f"of at least {low}"
        subject = f"option '{name}'" if option else name
        raise InvalidOptionsError(
            f"{subject} must be an integer {allowed}; got {show_value(value)}",
            parameter=name,
            value=value,
        )
    return value


def check_choice(name: str, value: Any, allowed: Sequence[Any], *, scope: str = "") -> Any:
    """``value`` if it is one of ``allowed``; otherwise an :class:`InvalidOptionsError`
    naming the option ``name``, listing ``allowed`` and quoting the value. For an option whose
    allowed values depend on what a request loads (a model's names), not on its declaration;
    ``scope`` says so in the message ("... one of 'a', 'b' for this model; got 'c'")."""
    if value not in allowed:
        where = f" for {scope}" if scope else ""
        raise InvalidOptionsError(
            f"option '{name}' must be one of "
            + ", ".join(repr(a) for a in allowed)
            + f"{where}; got {value!r}",
            parameter=name,
            value=value,
        )
    return value
