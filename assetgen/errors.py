"""The exceptions the engine raises.

Every error a user can cause derives from :class:`AssetGenError`, so callers (the CLI, the
.NET bridge, a game) can catch one type. Messages name the parameter, the value given and
what is allowed, because they are often the only thing a user of the CLI or of Unity sees.
"""

from __future__ import annotations

from typing import Any


def show_value(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages.

    A megabyte of text must not become a megabyte-long error line, and ``repr`` of an integer
    of more than 4300 digits raises (Python's int-to-text limit), so huge integers are
    described by their size instead.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        sign = "a negative" if value < 0 else "an"
        return f"{sign} integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except Exception:  # a caller's object with a broken __repr__
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class AssetGenError(Exception):
    """Base class of every error the engine raises on purpose."""

    #: Process exit status the CLI uses for this error (2 = bad input, 1 = failure).
    exit_code: int = 1


class InvalidOptionsError(AssetGenError, ValueError):
    """A request parameter or generator option is missing, mistyped or out of range."""

    exit_code = 2

    def __init__(self, message: str, *, parameter: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value


class UnknownGeneratorError(AssetGenError, LookupError):
    """No loaded plugin provides the requested generator (or exporter)."""

    exit_code = 2


class ModelError(AssetGenError):
    """A model file is missing, corrupted, or does not match its manifest."""


class PluginError(AssetGenError):
    """A plugin failed to import, to register, or inside a generator it provides."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin


class OutputError(AssetGenError):
    """An output could not be written (unwritable folder, disk full, bad output name)."""
