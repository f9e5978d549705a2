"""Reading a dialogue data set's split files (``train.jsonl``, ``val.jsonl``, ``test.jsonl``):
one JSON record a line. Shared by the GPT and the character LSTM's training, export and
evaluation, and by ``words.py`` (no torch import, so the word-list command stays light)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assetgen import InvalidOptionsError

#: every split of a data set: a generated line equal to one of their lines is a copy
SPLITS = ("train", "val", "test")


def read_records(path: Path, split: str) -> list[dict[str, Any]]:
    file = path / f"{split}.jsonl"
    if not file.is_file():
        raise InvalidOptionsError(f"--data: {file} not found", parameter="--data")
    with open(file, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
