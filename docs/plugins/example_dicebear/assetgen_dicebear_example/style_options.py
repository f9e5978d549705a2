"""A style's own DiceBear options: parsed from one text, checked against the style.

AssetGen options are declared once per generator, but every DiceBear style has options of
its own (``hairVariant``, ``skinColor``...). They travel in one text option, written the way
DiceBear's HTTP API writes them in a URL::

    hairVariant=long01,long02&skinColor=f2d3b1&glassesProbability=0

or as a JSON object (``{"hairVariant": ["long01", "long02"], "skinColor": "f2d3b1"}``).
Each name and value is checked against the style's definition here, so that an error names
the option and what it allows, before anything is drawn.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NoReturn

from assetgen import InvalidOptionsError

from .styles import RESERVED_OPTIONS, style_option_fields

PARAMETER = "style_options"
_COLOR_RE = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
# Enum value lists longer than this are cut short in messages; the full list is one command
# away (`assetgen dicebear-styles STYLE`).
_SHOWN_VALUES = 12


def parse_style_options(style: str, text: str) -> dict[str, Any]:
    """The options in ``text``, checked against ``style``; ready to pass to DiceBear.

    Cached, since the engine checks the options once and the generator reads them again for
    every avatar. Callers must not change the result.
    """
    return _parse(style, text)


@lru_cache(maxsize=256)
def _parse(style: str, text: str) -> dict[str, Any]:
    stripped = text.strip()
    if not stripped:
        return {}
    if stripped.startswith("{"):
        raw, from_text = _json_object(stripped), False
    else:
        raw, from_text = _query_pairs(stripped), True
    fields = style_option_fields(style)
    return {
        name: _check(style, name, _field(style, name, fields), value, from_text)
        for name, value in raw.items()
    }


def describe_field(field: dict[str, Any]) -> str:
    """What a field allows, in words (used by errors and by `assetgen dicebear-styles`)."""
    kind = field["type"]
    many = field.get("list", False)
    if kind == "enum":
        values = field["values"]
        shown = ", ".join(repr(v) for v in values[:_SHOWN_VALUES])
        more = f", ... ({len(values)} values)" if len(values) > _SHOWN_VALUES else ""
        if field.get("open"):
            return f"one or more names separated by commas, such as {shown}{more}"
        return ("one or more of " if many else "one of ") + shown + more
    if kind == "number":
        span = _span(field)
        return f"one or more numbers{span}, separated by commas" if many else f"a number{span}"
    if kind == "range":
        return f"a number{_span(field)}, or two separated by a comma to pick between"
    if kind == "boolean":
        return "true or false"
    if kind == "color":
        return "one or more hex colours such as f2d3b1, separated by commas (none: empty)"
    return "text"


# -- reading the text ----------------------------------------------------------------------


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(f"option '{PARAMETER}' is not valid JSON ({exc.msg} at character {exc.pos})")
    if not isinstance(value, dict):
        _fail(f"option '{PARAMETER}' must be a JSON object of DiceBear option names and values")
    return value


def _query_pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split("&"))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            _fail(
                f"option '{PARAMETER}' takes name=value pairs joined by '&' "
                f"(e.g. flip=horizontal&scale=90); got {part!r}"
            )
        if name in pairs:
            _fail(f"style option '{name}' is given twice in '{PARAMETER}'")
        pairs[name] = value.strip()
    return pairs


# -- checking each option ------------------------------------------------------------------


def _field(style: str, name: Any, fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if name in RESERVED_OPTIONS:
        _fail(f"style option '{name}' cannot be set: {RESERVED_OPTIONS[name]}")
    if name not in fields:
        close = difflib.get_close_matches(str(name), list(fields), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        _fail(
            f"unknown style option {name!r} for style '{style}'; {hint}"
            f"'assetgen dicebear-styles {style}' lists them"
        )
    return fields[name]


def _check(style: str, name: str, field: dict[str, Any], given: Any, from_text: bool) -> Any:
    """``given`` as DiceBear takes it; errors quote it as the user wrote it."""

    def bad(why: str = "") -> NoReturn:
        _bad(style, name, field, given, why)

    value = _from_text(field, given, bad) if from_text else given
    kind = field["type"]
    if kind == "enum" and field.get("weighted") and isinstance(value, dict):
        weights = list(value.values())
        if not weights or not all(_is_number(w) and w >= 0 for w in weights):
            bad("weights must be numbers >= 0")
        items = list(value)
    elif isinstance(value, list):
        if kind == "range" and len(value) > 2:
            bad("a range is one or two numbers")
        if kind != "range" and not field.get("list"):
            bad("it takes a single value")
        items = value
    else:
        items = [value]
    if not all(_item_ok(field, item) for item in items):
        bad()
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _item_ok(field: dict[str, Any], item: Any) -> bool:
    kind = field["type"]
    if kind == "enum":
        return isinstance(item, str) and (field.get("open", False) or item in field["values"])
    if kind in ("number", "range"):
        if not _is_number(item):
            return False
        low, high = field.get("min"), field.get("max")
        return (low is None or item >= low) and (high is None or item <= high)
    if kind == "boolean":
        return isinstance(item, bool)
    if kind == "color":
        return isinstance(item, str) and bool(_COLOR_RE.match(item))
    return isinstance(item, str)


def _from_text(field: dict[str, Any], text: str, fail: Callable[[], NoReturn]) -> Any:
    """A value written in a URL query, as the JSON value DiceBear takes."""
    kind = field["type"]
    parts = [p.strip() for p in text.split(",")] if text else []
    if kind == "boolean":
        low = text.lower()
        if low not in _TRUE | _FALSE:
            fail()
        return low in _TRUE
    if kind in ("number", "range"):
        numbers = [_number(p, fail) for p in parts]
        if not numbers:
            fail()
        return numbers if kind == "range" or field.get("list") else numbers[0]
    if kind in ("enum", "color") and field.get("list"):
        return parts
    return text


def _number(text: str, fail: Callable[[], NoReturn]) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        fail()


def _span(field: dict[str, Any]) -> str:
    low, high = field.get("min"), field.get("max")
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" >= {low}"
    return ""


def _bad(style: str, name: str, field: dict[str, Any], value: Any, why: str = "") -> NoReturn:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    reason = f" ({why})" if why else ""
    _fail(
        f"style option '{name}' of style '{style}' must be {describe_field(field)}; "
        f"got {shown}{reason}"
    )


def _fail(message: str) -> NoReturn:
    raise InvalidOptionsError(message, parameter=PARAMETER)
