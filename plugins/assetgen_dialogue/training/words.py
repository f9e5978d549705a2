"""Word lists of the word-validity mask: all training words, and each source's own.

``words.txt`` holds every word of the training text; ``source_words.json`` holds, per source
(wesnoth, crawl, shakespeare), the words of that source's own training lines, so a Wesnoth line
cannot spell "sooth" or "viands" just because a Shakespeare play does (``source_words``
option of the generator). Both come from the training split only. Torch-free, so a model
folder exported before the per-source list existed can be given one::

    python -m assetgen_dialogue.training.words --model plugins/assetgen_dialogue/model \
        --data data/dialogue-v3

which writes ``source_words.json`` into the folder and rewrites ``manifest.json`` with the
sha256 of every file (``assetgen.runtime.write_manifest``, as the export does).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from assetgen import write_atomic

from .records import SPLITS, read_records

SOURCE_WORDS = "source_words.json"


def training_words(texts: Iterable[str]) -> list[str]:
    """The words (runs of letters and apostrophes, lower case) of ``texts``, sorted."""
    from ..pieces import is_word_char

    words: set[str] = set()
    for text in texts:
        word = ""
        for ch in text + " ":
            if is_word_char(ch):
                word += ch.lower()
            elif word:
                if any(c.isalpha() for c in word):
                    words.add(word)
                word = ""
    return sorted(words)


def source_words(records: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Per source, the words of its own lines (``records``: the training split)."""
    texts: dict[str, list[str]] = {}
    for rec in records:
        texts.setdefault(str(rec["source"]), []).append(str(rec["text"]))
    return {source: training_words(texts[source]) for source in sorted(texts)}


def write_source_words(out: Path, records: Iterable[Mapping[str, Any]]) -> None:
    doc = source_words(records)
    write_atomic(out / SOURCE_WORDS, (json.dumps(doc, separators=(",", ":")) + "\n").encode())


#: the model folder's list of data-set lines, as 64-bit FNV-1a hashes of their UTF-8 text
DATA_LINES = "data_lines.json"


def write_data_lines(out: Path, texts: Sequence[str]) -> int:
    """``data_lines.json``: the hash (``assetgen.seeds.fnv1a64``, 16 hex digits) of every
    distinct data-set line, sorted; the samplers refuse a candidate line equal to one of them
    (a copy of the data, not a generated line). Hashes, not text: the folder does not carry
    the data set, and a line is looked up by its hash alone (a 64-bit collision with one of
    some 50,000 lines is not a practical concern). Returns how many were written."""
    from assetgen import seeds

    hashes = sorted({f"{seeds.fnv1a64(t):016x}" for t in texts})
    doc = {"hash": "fnv1a64-utf8", "lines": hashes}
    write_atomic(out / DATA_LINES, (json.dumps(doc, indent=0) + "\n").encode())
    return len(hashes)


def add_to_model(model_dir: Path, data: Path) -> dict[str, Any]:
    """Write ``source_words.json`` (from ``data``'s training split) and ``data_lines.json``
    (every split's lines) into an exported model folder and list them in the manifest; the
    other files and their sha256 stay as they are."""
    from assetgen.training import read_manifest, write_manifest

    manifest = read_manifest(model_dir)
    write_source_words(model_dir, read_records(data, "train"))
    write_data_lines(model_dir, [r["text"] for split in SPLITS for r in read_records(data, split)])
    files = sorted({*manifest["files"], SOURCE_WORDS, DATA_LINES})
    return write_manifest(model_dir, manifest, files)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Give an exported dialogue GPT folder its per-source word lists "
        f"({SOURCE_WORDS}) and its data-line hashes ({DATA_LINES}) and update its manifest."
    )
    parser.add_argument("--model", type=Path, required=True, help="the exported model folder")
    parser.add_argument("--data", type=Path, required=True, help="the data set it was trained on")
    args = parser.parse_args(argv)
    manifest = add_to_model(args.model, args.data)
    lines = len(json.loads((args.model / DATA_LINES).read_text(encoding="utf-8"))["lines"])
    for name, what in ((SOURCE_WORDS, ""), (DATA_LINES, f"{lines} distinct lines, ")):
        entry = manifest["files"][name]
        print(f"{args.model / name}: {what}{entry['bytes']} bytes, sha256 {entry['sha256']}")


if __name__ == "__main__":
    main()

