"""What ``assetgen info GENERATOR`` prints: a table of the options and the model card's
summary for people, or one JSON object (``--json``) for programs."""

from __future__ import annotations

import math
import numbers
import textwrap
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePath
from typing import Any

from .engine import GeneratorInfo
from .options import DEFAULT_MAX_STRING, Options, OptionSpec

#: Upper bounds at least this large are "no upper bound" in the table (seeds: 2**63 - 1).
_HUGE = 2**53
#: Model keys shown first, in this order; the rest follow in the model's own order.
_MODEL_FIRST = ("name", "sha256", "license", "data")


def format_number(value: Any) -> str:
    """A number as a person reads it: integers whole, floats to 4 significant figures
    (0.6925, 4.583, 123.5), large ones without an exponent (12346), true/false for booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    if number == 0:
        return "0"
    if abs(number) >= 10_000:
        return f"{number:.0f}"
    if abs(number) < 0.001:
        return f"{number:.3g}"
    return f"{number:.4g}"


def option_type(spec: OptionSpec) -> str:
    if spec.is_mapping:
        kind = "map"
    elif spec.choices is not None:
        kind = "choice"
    else:
        kind = {bool: "bool", int: "integer", float: "number", str: "text"}.get(
            spec.type, getattr(spec.type, "__name__", str(spec.type))
        )
    return kind + (" or none" if spec.nullable else "")


def option_default(spec: OptionSpec) -> str:
    value = spec.default
    if value is None:
        return "none"
    if isinstance(value, Mapping):
        return ",".join(f"{k}:{format_number(v)}" for k, v in value.items()) or "(empty)"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, bool | numbers.Number):
        return format_number(value)
    return str(value)


def _range(spec: OptionSpec) -> str:
    low, high = spec.ge, spec.le
    if high is not None and high >= _HUGE:
        high = None
    if low is not None and high is not None:
        return f"{format_number(low)} to {format_number(high)}"
    if low is not None:
        return f">= {format_number(low)}"
    if high is not None:
        return f"<= {format_number(high)}"
    return ""


def option_allowed(spec: OptionSpec) -> str:
    """The allowed values, shorter than :meth:`OptionSpec.describe_allowed` (the table's
    columns say the type): the choices, a range, a length."""
    if spec.is_mapping:
        val = typing.get_args(spec.type)[1]
        text = f"name:{'integer' if val is int else 'number'} pairs"
        rng = _range(spec)
        if rng:
            text += f", each {rng}"
        if spec.choices is not None:
            text += "; names: " + ", ".join(str(c) for c in spec.choices)
        return text
    if spec.choices is not None:
        return ", ".join(str(c) for c in spec.choices)
    if spec.type is bool:
        return "true, false"
    if spec.type in (int, float):
        return _range(spec) or "any"
    if spec.type is str:
        return f"at most {spec.max_length or DEFAULT_MAX_STRING} characters"
    return spec.describe_allowed()


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``{"eval": {"fid": 1.5}}`` as ``("eval.fid", 1.5)``; lists of plain values stay one
    value, lists holding mappings are numbered (``runs.0.loss``)."""
    if isinstance(value, Mapping):
        if not value:
            yield prefix, "(empty)"
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list | tuple) and any(
        isinstance(v, Mapping | list | tuple) for v in value
    ):
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}.{index}" if prefix else str(index))
    else:
        yield prefix, value


def format_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value) if value else "(none)"
    if value is None:
        return "none"
    if isinstance(value, bool | numbers.Number):
        return format_number(value)
    return str(value)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, max(width, 20), break_on_hyphens=False) or [""]


def _options_table(specs: Sequence[OptionSpec], width: int) -> list[str]:
    if not specs:
        return ["  (none)"]
    rows = [(s.name, option_type(s), option_default(s)) for s in specs]
    head = ("NAME", "TYPE", "DEFAULT")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
    widths[2] = min(widths[2], 16)
    indent = 2 + widths[0] + 2
    allowed_at = indent + widths[1] + 2 + widths[2] + 2
    lines = [
        "  " + "".join(h.ljust(w + 2) for h, w in zip(head, widths, strict=True)) + "ALLOWED",
    ]
    for spec, (name, kind, default) in zip(specs, rows, strict=True):
        left = f"  {name.ljust(widths[0])}  {kind.ljust(widths[1])}  {default}"
        left = left.ljust(allowed_at - 2) + "  "
        if len(left) > allowed_at:  # a long default: the allowed values go on the next line
            lines.append(left.rstrip())
            left = " " * allowed_at
        allowed = _wrap(option_allowed(spec), width - allowed_at)
        lines.append(left + allowed[0])
        lines.extend(" " * allowed_at + more for more in allowed[1:])
        lines.extend(" " * indent + d for d in _wrap(spec.description, width - indent))
    return lines


def _key_values(pairs: Sequence[tuple[str, Any]], width: int) -> list[str]:
    """``key: value`` lines, the values aligned when the keys are short (the model's), not
    when they are long dotted paths (the metrics')."""
    if not pairs:
        return []
    longest = max(len(k) for k, _ in pairs)
    lines = []
    for key, value in pairs:
        aligned = longest <= 24
        label = f"  {key + ':':<{longest + 1}} " if aligned else f"  {key}: "
        hang = " " * (len(label) if aligned else 6)
        lines += textwrap.wrap(
            format_value(value),
            max(width, len(label) + 20),
            initial_indent=label,
            subsequent_indent=hang,
            break_on_hyphens=False,
        ) or [label.rstrip()]
    return lines


def format_info(
    info: GeneratorInfo,
    options: type[Options],
    animation_options: type[Options] | None,
    width: int = 100,
) -> str:
    """The text of ``assetgen info``: header, options table(s), model, metrics."""
    anim = ", animates" if info.can_animate else ""
    lines = [f"{info.id}: {info.kind} generator{anim}, plugin '{info.plugin}'"]
    lines.extend("  " + d for d in _wrap(info.description, width - 2))
    lines += ["", "Options (-o key=value):"]
    lines += _options_table(options.specs(), width)
    if animation_options is not None:
        shared = options.specs()
        extra = [s for s in animation_options.specs() if s not in shared]
        same = len(extra) < len(animation_options.specs())
        lines += ["", "Animation options (assetgen animate -o key=value):"]
        if same:
            lines.append("  the options above, and:" if extra else "  the options above")
        lines += _options_table(extra, width) if extra else []
    model = dict(info.model or {})
    metrics = model.pop("metrics", None)
    if model:
        keys = [k for k in _MODEL_FIRST if k in model] + [k for k in model if k not in _MODEL_FIRST]
        lines += ["", "Model:"]
        lines += _key_values([kv for k in keys for kv in flatten(model[k], k)], width)
    if metrics:
        lines += ["", "Metrics (rounded; --json for full precision):"]
        lines += _key_values(list(flatten(metrics)), width)
    return "\n".join(lines)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON: NaN and infinities become null (JSON has no such numbers),
    numpy scalars their Python values, paths strings, tuples lists."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, PurePath):
        return str(value)
    item = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(item):
        return jsonable(item())
    return str(value)
