"""The Studio's pinned seeds as one batch: a job file for ``assetgen batch`` and the files it
writes, in one zip.

The page sends its pins (``{"pins": [{"generator", "seed", "options"}, ...], "format"}``).
Each pin is checked as any Studio request is (options as JSON values or ``-o`` text), then
becomes one ``[[run]]`` of a job file holding the options that differ from their defaults,
typed as TOML. The job is then loaded and run by :mod:`assetgen.batch` itself, into a
private folder, so the zip holds exactly what ``assetgen batch job.toml`` writes (the files
and ``manifest.json``), beside the job file that writes them again.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..batch import JOURNAL_NAME, load_job, run_job
from ..errors import InvalidOptionsError, show_value
from ..exporting import OutputFile
from .recipes import Recipe

#: Most pins one export takes (each is one run of the job).
MAX_PINS = 64
#: The job's output folder, relative to the job file; the zip holds it as written.
PINS_OUT = "out/pins"
JOB_NAME = "job.toml"
ZIP_NAME = "studio_pins.zip"
PIN_KEYS = ("generator", "seed", "options")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def parse_pins(body: Any) -> tuple[list[Mapping[str, Any]], str | None]:
    """The pins and the chosen format of a pins export body; problems name the pin."""
    if not isinstance(body, Mapping) or not set(body) <= {"pins", "format"}:
        raise InvalidOptionsError(
            'the request must be a JSON object {"pins": [...], "format": format name}',
            parameter="request",
        )
    pins = body.get("pins")
    if not isinstance(pins, list) or not pins:
        raise InvalidOptionsError(
            "pins must be a list of pinned seeds, each "
            '{"generator": id, "seed": seed, "options": {...}}; pin a seed with its star first',
            parameter="pins",
        )
    if len(pins) > MAX_PINS:
        raise InvalidOptionsError(
            f"at most {MAX_PINS} pins are exported at once; got {len(pins)}", parameter="pins"
        )
    for number, pin in enumerate(pins, start=1):
        if not isinstance(pin, Mapping) or not set(pin) <= set(PIN_KEYS):
            raise InvalidOptionsError(
                f"pin {number} must be an object with the keys " + ", ".join(PIN_KEYS),
                parameter="pins",
            )
    fmt = body.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise InvalidOptionsError(
            f"format must be a format name; got {show_value(fmt)}", parameter="format"
        )
    return pins, fmt


def job_text(recipes: list[Recipe], formats: list[str | None]) -> str:
    """The job file: one run per pin, named ``<generator>-<seed>`` (``-2``, ``-3``... when a
    seed is pinned twice), with the options that differ from their defaults."""
    lines = [
        f"# {len(recipes)} pinned seed(s) from AssetGen Studio. Run: assetgen batch {JOB_NAME}",
        f'out = "{PINS_OUT}"',
    ]
    used: dict[str, int] = {}
    for recipe, fmt in zip(recipes, formats, strict=True):
        base = f"{recipe.generator}-{recipe.seed}"
        used[base.casefold()] = used.get(base.casefold(), 0) + 1
        name = base if used[base.casefold()] == 1 else f"{base}-{used[base.casefold()]}"
        lines += ["", "[[run]]", f"name = {toml_value(name)}",
                  f"generator = {toml_value(recipe.generator)}", f"seed = {recipe.seed}"]
        if fmt is not None:
            lines.append(f"formats = [{toml_value(fmt)}]")
        changed = recipe.changed()
        if changed:
            lines.append("options = " + toml_value(changed, option=True))
    return "\n".join(lines) + "\n"


def toml_value(value: Any, *, option: bool = False) -> str:
    """``value`` as TOML (an inline table for a mapping); one that TOML cannot hold (none,
    NaN) is refused naming it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidOptionsError(f"a job file cannot hold the number {value!r}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            shown = key if _BARE_KEY.match(str(key)) else json.dumps(str(key), ensure_ascii=False)
            try:
                items.append(f"{shown} = {toml_value(item)}")
            except InvalidOptionsError as exc:
                where = f"option '{key}'" if option else f"key '{key}'"
                raise InvalidOptionsError(f"{where}: {exc}", parameter=str(key)) from None
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise InvalidOptionsError(
        f"a job file cannot hold the value {show_value(value)}", parameter="options"
    )


def run_pins_job(engine: Any, text: str) -> list[OutputFile]:
    """Run the job as ``assetgen batch job.toml`` does, in a private folder; the job file and
    every file it wrote (the journal aside), as paths relative to the job file."""
    with tempfile.TemporaryDirectory(prefix="assetgen-studio-pins-") as folder:
        root = Path(folder)
        job_path = root / JOB_NAME
        job_path.write_text(text, encoding="utf-8")
        run_job(engine, load_job(job_path, engine), progress=False)
        files = [OutputFile(JOB_NAME, text.encode("utf-8"))]
        for path in sorted((root / PINS_OUT).rglob("*")):
            if path.is_file() and path.name != JOURNAL_NAME:
                files.append(OutputFile(path.relative_to(root).as_posix(), path.read_bytes()))
        return files
