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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from assetgen import write_atomic

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


def add_to_model(model_dir: Path, data: Path) -> dict[str, Any]:
    """Write ``source_words.json`` (from ``data``'s training split) into an exported model
    folder and list it in the manifest; the other files and their sha256 stay as they are."""
    from assetgen.training import read_manifest, write_manifest

    manifest = read_manifest(model_dir)
    with open(data / "train.jsonl", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    write_source_words(model_dir, records)
    files = sorted({*manifest["files"], SOURCE_WORDS})
    return write_manifest(model_dir, manifest, files)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Give an exported dialogue GPT folder its per-source word lists "
        f"({SOURCE_WORDS}) and update its manifest."
    )
    parser.add_argument("--model", type=Path, required=True, help="the exported model folder")
    parser.add_argument("--data", type=Path, required=True, help="the data set it was trained on")
    args = parser.parse_args(argv)
    manifest = add_to_model(args.model, args.data)
    entry = manifest["files"][SOURCE_WORDS]
    print(f"{args.model / SOURCE_WORDS}: {entry['bytes']} bytes, sha256 {entry['sha256']}")


if __name__ == "__main__":
    main()
