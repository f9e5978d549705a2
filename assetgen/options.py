"""Declarative, validated generator options.

A generator describes its parameters once, as a subclass of :class:`Options`::

    class Options(assetgen.Options):
        truncation: float = assetgen.option(0.7, "Pull toward the average face.", ge=0, le=1)
        hair: str = assetgen.option("any", "Hair style.", choices=("any", "short", "long"))

and the CLI (``-o key=value``), the Python API (keyword arguments), the batch job file and
the .NET bridge (JSON) all parse, validate and document it from that one declaration.
Unknown keys are refused; every error names the option, the value and what is allowed.

Subclasses become frozen, keyword-only dataclasses automatically.

An option's ``description``, ``ge``, ``le`` and ``choices`` may each be a function of no
arguments instead of a value: it is called once, the first time the options are described or
parsed. A model plugin uses this to take allowed values from its shipped model's manifest
without reading the manifest when the plugin is imported.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self, TypeAlias, TypeVar

from .errors import InvalidOptionsError, show_value

#: Longest string any option accepts unless it sets ``max_length`` itself; keeps a stray
#: megabyte of text from reaching a model or a file name.
DEFAULT_MAX_STRING = 1000
#: Most entries a mapping option (such as attribute strengths) accepts.
MAX_MAPPING_ENTRIES = 64

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_INT_RE = re.compile(r"^[+-]?\d+$")
#: Longest number accepted as text: far beyond any range an option declares, far below the
#: 4300 digits at which int() refuses to parse.
_MAX_NUMBER_TEXT = 100
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """What one option accepts; built from the field declaration."""

    name: str
    type: Any
    default: Any
    description: str
    ge: float | None = None
    le: float | None = None
    choices: tuple[Any, ...] | None = None
    max_length: int | None = None
    nullable: bool = False

    @property
    def is_mapping(self) -> bool:
        """A name: number mapping (such as attribute strengths), not a single value."""
        return _is_mapping_type(self.type)

    def describe_allowed(self) -> str:
        """Human wording of the allowed values, used in errors and in `assetgen info`."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.type is bool:
            return "true or false"
        if self.type in (int, float):
            kind = "an integer" if self.type is int else "a number"
            if self.ge is not None and self.le is not None:
                return f"{kind} from {_fmt(self.ge)} to {_fmt(self.le)}"
            if self.ge is not None:
                return f"{kind} >= {_fmt(self.ge)}"
            if self.le is not None:
                return f"{kind} <= {_fmt(self.le)}"
            return kind
        if self.type is str:
            return f"text of at most {self.max_length or DEFAULT_MAX_STRING} characters"
        if _is_mapping_type(self.type):
            val = typing.get_args(self.type)[1]
            rng = ""
            if self.ge is not None and self.le is not None:
                rng = f" from {_fmt(self.ge)} to {_fmt(self.le)}"
            return f"name:{val.__name__} pairs{rng}, e.g. a:1.5,b:-1"
        return getattr(self.type, "__name__", str(self.type))

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"description": self.description}
        if _is_mapping_type(self.type):
            item: dict[str, Any] = {"type": "number"}
            if self.ge is not None:
                item["minimum"] = self.ge
            if self.le is not None:
                item["maximum"] = self.le
            schema.update(
                type="object", additionalProperties=item, maxProperties=MAX_MAPPING_ENTRIES
            )
            if self.choices is not None:
                schema["propertyNames"] = {"enum": list(self.choices)}
        else:
            schema["type"] = {bool: "boolean", int: "integer", float: "number", str: "string"}[
                self.type
            ]
            if self.ge is not None:
                schema["minimum"] = self.ge
            if self.le is not None:
                schema["maximum"] = self.le
            if self.choices is not None:
                schema["enum"] = list(self.choices)
            if self.type is str:
                schema["maxLength"] = self.max_length or DEFAULT_MAX_STRING
        if self.nullable:
            schema["type"] = [schema["type"], "null"]
        schema["default"] = _jsonable(self.default)
        return schema

    # -- conversion -------------------------------------------------------------------------

    def convert(self, value: Any, *, from_text: bool) -> Any:
        """Check (and, for text from a command line, parse) one value."""
        if value is None or (from_text and self.nullable and value in ("", "none", "null")):
            if self.nullable:
                return None
            self._fail(value)
        if from_text and isinstance(value, str):
            value = self._parse_text(value)
        if _is_mapping_type(self.type):
            return self._convert_mapping(value)
        if self.type is bool:
            if not isinstance(value, bool):
                self._fail(value)
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                self._fail(value)
            value = int(value)
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                self._fail(value)
            number = _to_float(value)
            if number is None or not math.isfinite(number):
                self._fail(value)
            value = number
        elif self.type is str:
            if not isinstance(value, str):
                self._fail(value)
            if len(value) > (self.max_length or DEFAULT_MAX_STRING):
                self._fail(value)
            problem = text_problem(value)
            if problem:
                self._fail(value, problem)
        self._check_range(value)
        if self.choices is not None and value not in self.choices:
            self._fail(value)
        return value

    def _check_range(self, value: Any) -> None:
        if self.type in (int, float):
            if self.ge is not None and value < self.ge:
                self._fail(value)
            if self.le is not None and value > self.le:
                self._fail(value)

    def _parse_text(self, text: str) -> Any:
        if self.type is bool:
            low = text.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            self._fail(text)
        if self.type is int:
            if len(text) > _MAX_NUMBER_TEXT or not _INT_RE.match(text.strip()):
                self._fail(text)
            return int(text)
        if self.type is float:
            if len(text) > _MAX_NUMBER_TEXT:
                self._fail(text)
            try:
                return float(text)
            except ValueError:
                self._fail(text)
        if _is_mapping_type(self.type):
            return self._parse_mapping_text(text)
        return text

    def _parse_mapping_text(self, text: str) -> dict[str, Any]:
        stripped = text.strip()
        if stripped.startswith("{"):
            try:
                parsed = json.loads(stripped)
            except (ValueError, RecursionError):  # bad JSON, a 5000-digit number, deep nesting
                self._fail(text, "not a JSON object of name: number")
            if not isinstance(parsed, dict):
                self._fail(text)
            return parsed
        result: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in stripped.split(","))):
            key, sep, raw = part.partition(":")
            if not sep:
                key, sep, raw = part.partition("=")
            if not sep:
                self._fail(text, f"{show_value(part)} is not name:value")
            try:
                result[key.strip()] = float(raw)
            except ValueError:
                self._fail(text, f"{show_value(raw.strip())} is not a number")
        return result

    def _convert_mapping(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            self._fail(value)
        if len(value) > MAX_MAPPING_ENTRIES:
            self._fail(value, f"it has {len(value)} entries (at most {MAX_MAPPING_ENTRIES})")
        val_type = typing.get_args(self.type)[1]
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key or len(key) > 100 or text_problem(key):
                self._fail(value, f"key {show_value(key)} is not a name")
            if self.choices is not None and key not in self.choices:
                self._fail(value, f"unknown name {key!r}")
            if isinstance(item, bool) or not isinstance(item, numbers.Real):
                self._fail(value, f"{key} is not a number")
            number = _to_float(item) if val_type is float else val_type(item)
            if number is None or (isinstance(number, float) and not math.isfinite(number)):
                self._fail(value, f"{key} is not a finite number")
            if (self.ge is not None and number < self.ge) or (
                self.le is not None and number > self.le
            ):
                self._fail(value, f"{key}={_fmt(number)} is out of range")
            out[key] = number
        return dict(sorted(out.items()))

    def _fail(self, value: Any, why: str | None = None) -> typing.NoReturn:
        shown = show_value(value)
        reason = f" ({why})" if why else ""
        raise InvalidOptionsError(
            f"option '{self.name}' must be {self.describe_allowed()}; got {shown}{reason}",
            parameter=self.name,
            value=value,
        )


#: a value, or a function of no arguments that gives it when the option is first used
Deferred: TypeAlias = T | Callable[[], T]


def option(
    default: Any,
    description: Deferred[str],
    *,
    ge: Deferred[float | None] = None,
    le: Deferred[float | None] = None,
    choices: Deferred[tuple[Any, ...] | list[Any] | None] = None,
    max_length: int | None = None,
) -> Any:
    """Declare an option field: its default, a one-line description and its allowed values
    (``description``, ``ge``, ``le`` and ``choices`` may be deferred: see the module doc)."""
    meta = {
        "assetgen": {
            "description": description,
            "ge": ge,
            "le": le,
            "choices": choices if choices is None or callable(choices) else tuple(choices),
            "max_length": max_length,
        }
    }
    if isinstance(default, dict):
        frozen = dict(default)
        return dataclasses.field(default_factory=lambda: dict(frozen), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


class Options:
    """Base class of every generator's options; see the module docstring."""

    #: each option's fields, deferred ones not called yet (set per class)
    _declared: ClassVar[tuple[dict[str, Any], ...]] = ()
    #: the specs, built from ``_declared`` on first use (per class: see :meth:`specs`)
    _specs: ClassVar[tuple[OptionSpec, ...] | None] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(frozen=True, kw_only=True)(cls)
        hints = typing.get_type_hints(cls)
        declared = []
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            meta = f.metadata.get("assetgen")
            if meta is None:
                raise TypeError(f"{cls.__qualname__}.{f.name} must be declared with option()")
            typ, nullable = _unwrap_optional(hints[f.name])
            if typ not in (bool, int, float, str) and not _is_mapping_type(typ):
                raise TypeError(f"{cls.__qualname__}.{f.name}: unsupported option type {typ}")
            if f.default is dataclasses.MISSING:
                default = f.default_factory()  # type: ignore[operator]
            else:
                default = f.default
            declared.append(
                {"name": f.name, "type": typ, "default": default, "nullable": nullable, **meta}
            )
        cls._declared = tuple(declared)
        cls._specs = None

    @classmethod
    def specs(cls) -> tuple[OptionSpec, ...]:
        """One spec per option, deferred values called (once, on the first call)."""
        specs = cls.__dict__.get("_specs")
        if specs is None:
            specs = tuple(OptionSpec(**_resolved(fields)) for fields in cls._declared)
            cls._specs = specs
        return specs

    @classmethod
    def parse(cls, values: Mapping[str, Any] | None = None, *, from_text: bool = False) -> Self:
        """Validate ``values`` (keyword arguments, JSON, or CLI text when ``from_text``)."""
        if values is not None and not isinstance(values, Mapping):
            raise InvalidOptionsError(
                f"options must be a mapping of option names to values; got {show_value(values)}",
                parameter="options",
                value=values,
            )
        values = dict(values or {})
        known = {s.name: s for s in cls.specs()}
        for key in values:
            if key not in known:
                allowed = ", ".join(sorted(known)) or "none"
                raise InvalidOptionsError(
                    f"unknown option {show_value(key)}; allowed options: {allowed}",
                    parameter=str(key),
                    value=values[key],
                )
        kwargs = {
            name: spec.convert(values[name], from_text=from_text)
            for name, spec in known.items()
            if name in values
        }
        return cls(**kwargs)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {s.name: s.json_schema() for s in cls.specs()},
        }

    def to_dict(self) -> dict[str, Any]:
        """All option values, defaults included: what metadata and manifests record."""
        return {s.name: _jsonable(getattr(self, s.name)) for s in self.specs()}

    def replace(self, **changes: Any) -> Self:
        merged = {**self.to_dict(), **changes}
        return self.parse(merged)


class NoOptions(Options):
    """For generators without parameters."""


_DEFERRABLE = ("description", "ge", "le", "choices")


def _resolved(fields: dict[str, Any]) -> dict[str, Any]:
    """An option's fields with its deferred values called (choices as a tuple)."""
    out = dict(fields)
    for key in _DEFERRABLE:
        if callable(out[key]):
            out[key] = out[key]()
    if out["choices"] is not None:
        out["choices"] = tuple(out["choices"])
    return out


def _unwrap_optional(typ: Any) -> tuple[Any, bool]:
    if isinstance(typ, types.UnionType) or typing.get_origin(typ) is typing.Union:
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return typ, False


def _is_mapping_type(typ: Any) -> bool:
    return typing.get_origin(typ) is dict and typing.get_args(typ)[0] is str


def _fmt(number: float) -> str:
    return f"{number:g}" if isinstance(number, float) else str(number)


def _to_float(value: Any) -> float | None:
    """``float(value)``, or None for an integer too large for a float (10**400)."""
    try:
        return float(value)
    except (OverflowError, ValueError):
        return None


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be an option value, or None: NUL characters end C strings and file
    names, and lone surrogates (undecodable bytes from a command line, or broken UTF-16 from
    C#) cannot be written out as UTF-8."""
    if "\x00" in text:
        return "it contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "it is not valid Unicode text (undecodable bytes or a lone surrogate)"
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value
