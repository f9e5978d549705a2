"""Training configuration: defaults from the plugin, a TOML file, then ``--set`` overrides."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidOptionsError


def _json(key: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidOptionsError(
            f"config '{key}': {text!r} is not valid JSON ({exc.msg})", parameter=key, value=text
        ) from None


def _coerce(key: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        try:
            number = float(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is not None and number == number and abs(number) != float("inf"):
            return number
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(default, list):
        if isinstance(value, str) and value.strip().startswith("["):
            value = _json(key, value)
        elif isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            item_default = default[0] if default else value[0] if value else ""
            return [_coerce(key, v, item_default) for v in value]
    elif isinstance(default, dict):
        if isinstance(value, str):
            value = _json(key, value)
        if isinstance(value, dict):
            return value
    elif default is None:
        return value
    raise InvalidOptionsError(
        f"config '{key}' must be {type(default).__name__} like the default {default!r}; "
        f"got {value!r}",
        parameter=key,
        value=value,
    )


def load_config(
    defaults: Mapping[str, Any], file: str | Path | None = None, overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """Merge and type-check; unknown keys are refused (a typo must not train for hours)."""
    config = dict(defaults)
    layers: list[tuple[str, dict[str, Any]]] = []
    if file is not None:
        try:
            layers.append((str(file), tomllib.loads(Path(file).read_text(encoding="utf-8"))))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InvalidOptionsError(f"cannot read config file {file}: {exc}") from None
    pairs: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidOptionsError(f"--set expects key=value; got {item!r}", parameter="--set")
        pairs[key.strip()] = value
    layers.append(("--set", pairs))
    for source, values in layers:
        for key, value in values.items():
            if key not in defaults:
                allowed = ", ".join(sorted(defaults))
                raise InvalidOptionsError(
                    f"{source}: unknown config key {key!r}; allowed: {allowed}", parameter=key
                )
            config[key] = _coerce(key, value, defaults[key])
    return config
