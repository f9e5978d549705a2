"""Batch job files for the tests (core, distributed and reliability batch tests).

The tests spell a job's runs as dictionaries and ``job_text`` writes the TOML, so the several
jobs the tests need do not each repeat the same ``[[run]]`` lines; the text keeps the layout a
person would write (``key = value`` lines, inline tables for options), so a test may still edit
it with ``str.replace``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any


def toml_value(value: Any) -> str:
    """One TOML value as it stands after ``key = `` (strings, numbers, booleans, lists,
    inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def job_text(*runs: Mapping[str, Any], out: str | None = None) -> str:
    """A job file: the optional ``out`` line, then one ``[[run]]`` table a run, keys in order."""
    text = "" if out is None else f"out = {toml_value(out)}\n"
    for run in runs:
        text += "\n[[run]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in run.items())
    return text


def mixed_job(echo_count: int) -> str:
    """Still blobs (png and sheet), animated blobs (gif and png frames) and echo lines (jsonl and
    csv), written to ``result`` next to the job file."""
    return job_text(
        {"name": "blobs", "generator": "blob", "seed": 5, "count": 40,
         "formats": ["png", "sheet"], "options": {"size": 24}},  # fmt: skip
        {"generator": "blob", "animate": True, "frames": 4, "count": 3, "formats": ["gif", "png"]},
        {"generator": "echo", "count": echo_count, "formats": ["jsonl", "csv"]},
        out="result",
    )


def write_job(folder: Path, text: str) -> Path:
    """``folder/job.toml`` holding ``text`` (the folder is made if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    job = folder / "job.toml"
    job.write_text(text)
    return job


def tree(folder: Path, skip: Collection[str] = ()) -> dict[str, str]:
    """Every file below ``folder`` (but those named in ``skip``) by its sha256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in skip
    }
