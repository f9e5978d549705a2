"""Training the judged reranker (``training/judged.py``): reading judged sheets, the AUC,
and the whole command on the tiny GPT (the file it writes, the manifest entry, the lines it
then ranks, and its refusals)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from assetgen_dialogue.rerank import FEATURES
from assetgen_dialogue.training import judged

from assetgen.runtime import read_manifest

from .conftest import V2_ROLES, decoder, dialogue_engine

GOOD = [
    "We must hold the bridge.",
    "The orcs are coming! To arms!",
    "We have crossed the river at last.",
    "Stand fast, the enemy is near.",
    "Find the king before nightfall.",
    "I will guard the gate.",
]
BAD = [
    "I'm not sure that's not not true true.",
    "We will be a little place for you the.",
    "I am afraid I am afraid I am afraid.",
    "The the orcs of of the river.",
    "You are a good idea, a good idea.",
    "What what is is this this?",
]


def write_sheet(path: Path, rows: list[tuple[bool, str, str, str]]) -> Path:
    lines = ["# Dialogue read-through (blind)", ""]
    for k, (ok, role, length, text) in enumerate(rows, start=1):
        lines.append(f"{k}. [{'ok' if ok else 'no'}] ({role}, {length}) {text}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def sheet_rows(roles: tuple[str, ...] = V2_ROLES) -> list[tuple[bool, str, str, str]]:
    rows = [(True, roles[k % len(roles)], "short", t) for k, t in enumerate(GOOD)]
    rows += [(False, roles[k % len(roles)], "medium", t) for k, t in enumerate(BAD)]
    return rows


def test_read_judged_takes_each_line_once_with_the_last_sheets_mark(tmp_path: Path) -> None:
    first = write_sheet(
        tmp_path / "a.md", [(True, "ruler", "short", "Hold."), (False, "mage", "long", "No no.")]
    )
    second = write_sheet(tmp_path / "b.md", [(False, "soldier", "medium", "Hold.")])
    lines = judged.read_judged([first, second])
    assert [(x.text, x.ok, x.role, x.length, x.sheet) for x in lines] == [
        ("No no.", False, "mage", "long", "a.md"),
        ("Hold.", False, "soldier", "medium", "b.md"),
    ]


def test_read_judged_refuses_unjudged_and_untagged_items(tmp_path: Path) -> None:
    sheet = tmp_path / "s.md"
    sheet.write_text("1. [  ] (ruler, short) Hold.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="item 1 is not judged yet"):
        judged.read_judged([sheet])
    sheet.write_text("1. [ok] Hold.\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"without its \(role, length\) tag"):
        judged.read_judged([sheet])


def test_auc_counts_pairs_and_ties() -> None:
    assert judged.auc(np.array([3.0, 2.0, 1.0]), np.array([1.0, 0.0, 0.0])) == 1.0
    assert judged.auc(np.array([1.0, 2.0]), np.array([1.0, 0.0])) == 0.0
    assert judged.auc(np.array([1.0, 1.0]), np.array([1.0, 0.0])) == 0.5
    assert judged.auc(np.array([1.0, 2.0]), np.array([1.0, 1.0])) is None


def test_train_judged_writes_a_scorer_the_decoder_ranks_with(
    tiny_gpt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_gpt, model)
    sheet = write_sheet(tmp_path / "judged.md", sheet_rows())
    report = judged.train_judged(model, [sheet], buckets=64, l2=0.3, progress=False)
    assert report["trained_on"] == {"sheets": ["judged.md"], "lines": 12, "ok": 6}
    assert report["features"] == [*FEATURES, "ngrams[64]"]
    assert 0.0 <= report["cross_validated"]["auc"] <= 1.0
    doc = json.loads((model / judged.SCORER_NAME).read_text(encoding="utf-8"))
    assert doc["ngram_buckets"] == 64 and len(doc["weights"]) == len(FEATURES) + 64
    assert judged.SCORER_NAME in read_manifest(model)["files"]
    # the same sheets give the same file, byte for byte
    first = (model / judged.SCORER_NAME).read_bytes()
    judged.train_judged(model, [sheet], buckets=64, l2=0.3, progress=False)
    assert (model / judged.SCORER_NAME).read_bytes() == first
    # the decoder loads it and ranks with it: the good lines above the bad ones
    engine = dialogue_engine(model, monkeypatch)
    dec = decoder(engine)
    assert "judged" in dec.scorers
    good = np.array([dec.scorers["judged"].row(t, np.full(5, -2.0), dec.words) for t in GOOD])
    bad = np.array([dec.scorers["judged"].row(t, np.full(5, -2.0), dec.words) for t in BAD])
    assert dec.scorers["judged"].logit(good).mean() > dec.scorers["judged"].logit(bad).mean()
    line = engine.generate("dialogue", seed=1, candidates=4, rerank="judged")[0]
    likely = engine.generate("dialogue", seed=1, candidates=4, rerank="likelihood")[0]
    assert line.metadata["score"] != likely.metadata["score"]


def test_train_judged_refuses_one_sided_sheets_and_unknown_roles(
    tiny_gpt: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_gpt, model)
    only_ok = write_sheet(tmp_path / "ok.md", [(True, "ruler", "short", t) for t in GOOD])
    with pytest.raises(ValueError, match=r"both \[ok\] and \[no\]"):
        judged.train_judged(model, [only_ok], progress=False)
    stranger = write_sheet(tmp_path / "god.md", sheet_rows(("god",)))
    with pytest.raises(ValueError, match=r"roles this model does not have: \['god'\]"):
        judged.train_judged(model, [stranger], progress=False)
    assert not (model / judged.SCORER_NAME).exists()


def test_the_command_exits_2_with_one_line_on_a_bad_sheet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.md"
    assert judged.main([str(missing), "--model", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nowhere.md" in err and len(err.splitlines()) == 1
