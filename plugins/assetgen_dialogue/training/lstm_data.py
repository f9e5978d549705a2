"""The character LSTM's data: the corpus folder written by
``python -m assetgen_dialogue.training.corpus --out data/dialogue`` (``train.jsonl``, ``val.jsonl``,
``test.jsonl``; one line of dialogue per record, with its archetype), encoded one character a
token, and the batches of each step.

Each line is one sequence ``<bos> c1 ... cn <eos>`` with the speaker's archetype. Batches hold
lines of similar length (lines are shuffled, then sorted by length inside chunks of 50
batches) so little time goes to padding; the batch at step s is a pure function of (seed, s),
so a resumed run sees exactly the data an uninterrupted run would have seen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from assetgen import InvalidOptionsError

from . import corpus
from .lstm_model import BOS, EOS, PAD, SPECIAL_TOKENS
from .train import BatchSchedule as WeightedBatchSchedule

DEFAULT_DATA = Path("data") / "dialogue"


@dataclass
class Split:
    """One corpus split, encoded: token ids of each line (with <bos>/<eos>) and archetype ids."""

    lines: list[np.ndarray]
    archetypes: np.ndarray
    texts: list[str]
    skipped_chars: int = 0

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(t) for t in self.lines], dtype=np.int64)

    def batch(self, index: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded tokens (N×T int64, PAD after each line) and archetype ids (N)."""
        rows = [self.lines[i] for i in index]
        width = max(len(r) for r in rows)
        tokens = np.full((len(rows), width), PAD, dtype=np.int64)
        for k, row in enumerate(rows):
            tokens[k, : len(row)] = row
        return torch.from_numpy(tokens), torch.from_numpy(self.archetypes[np.asarray(index)])


def data_dir(data: Path | str | None) -> Path:
    path = Path(data) if data is not None else DEFAULT_DATA
    if not (path / "train.jsonl").is_file():
        raise InvalidOptionsError(
            f"--data: no train.jsonl in {path}; build the corpus with "
            f"'python -m assetgen_dialogue.training.corpus --out {path}' or pass --data DIR",
            parameter="--data",
        )
    return path


def corpus_archetypes(path: Path) -> list[str]:
    """The archetype order of the corpus (ids are positions in this list)."""
    meta = path / "corpus.json"
    if meta.is_file():
        names = json.loads(meta.read_text(encoding="utf-8")).get("archetypes")
        if isinstance(names, list) and names:
            return [str(n) for n in names]
    return list(corpus.ARCHETYPES)


def build_vocab(records: Sequence[dict[str, Any]]) -> list[str]:
    """Every character of the training split, sorted (ids start after the special tokens)."""
    chars: set[str] = set()
    for rec in records:
        chars.update(rec["text"])
    chars.discard("\n")  # a line never contains a newline; the runtime also stops at one
    return sorted(chars)


def encode_split(
    records: Sequence[dict[str, Any]], vocab: Sequence[str], archetypes: Sequence[str]
) -> Split:
    index = {ch: i + len(SPECIAL_TOKENS) for i, ch in enumerate(vocab)}
    arch_index = {a: i for i, a in enumerate(archetypes)}
    lines, arch, texts = [], [], []
    skipped = 0
    for rec in records:
        text = rec["text"]
        if rec["archetype"] not in arch_index:
            raise InvalidOptionsError(
                f"--data: archetype {rec['archetype']!r} is not one of {', '.join(archetypes)}",
                parameter="--data",
            )
        ids = [index[ch] for ch in text if ch in index]
        # characters the training split never shows cannot be predicted; they are dropped
        # (and counted) rather than mapped to an unknown token no sampler should produce
        skipped += len(text) - len(ids)
        lines.append(np.array([BOS, *ids, EOS], dtype=np.int64))
        arch.append(arch_index[rec["archetype"]])
        texts.append(text)
    return Split(lines, np.array(arch, dtype=np.int64), texts, skipped)


class BatchSchedule(WeightedBatchSchedule):
    """Deterministic batches: the batch at step s depends only on (seed, s).

    Each epoch shuffles the lines with its own seed, sorts them by length within chunks of
    ``50 × batch_size`` (little padding, still random company) and shuffles the batches: the GPT
    trainer's schedule with every line once an epoch.
    """

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int) -> None:
        super().__init__(lengths, np.ones(len(lengths), dtype=np.int64), batch_size, seed)
