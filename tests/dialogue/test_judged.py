"""The judged reranker (``rerank=judged``, ``judged_scorer.json``): its word n-gram features
(``gram_words``, ``gram_counts``), the scorer file's round trip and refusals
(``Scorer.from_json``), the fallback to likelihood on a model folder without the file, and
that on the shipped model it does choose other candidates than likelihood does.

The C# runtime's side of the same (parity of lines and of the refusals' messages) is in
tests/runtime/test_dialogue_parity.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from assetgen_dialogue import gpt_lines, plugin
from assetgen_dialogue.rerank import (
    FEATURES,
    GRAM_END,
    GRAM_ORDER,
    GRAM_START,
    Scorer,
    features,
    gram_counts,
    gram_words,
    scorer_row,
)

from assetgen import Engine, ModelError
from assetgen.runtime import read_manifest
from assetgen.seeds import fnv1a64

from .conftest import decoder, dialogue_engine

LINE = "We must hurry! I'm afraid the orcs of {NAME} come... Why? 42!"
LINE_WORDS = [
    "<s>", "we", "must", "hurry", "</s>",
    "<s>", "i'm", "afraid", "the", "orcs", "of", "{name}", "come", "</s>",
    "<s>", "why", "</s>",
]  # fmt: skip


# -- n-gram features ---------------------------------------------------------------------------


def test_gram_words_of_a_known_line() -> None:
    # "42!" is a sentence without words: no marks for it
    assert gram_words(LINE) == LINE_WORDS
    assert (GRAM_START, GRAM_END, GRAM_ORDER) == ("<s>", "</s>", 3)
    assert gram_words("") == [] and gram_words("?! ...") == []
    # lower-cased, placeholders kept as words, digits and other marks dropped
    assert gram_words("{PLACE} burns, 3 TIMES") == ["<s>", "{place}", "burns", "times", "</s>"]


def test_gram_counts_count_every_n_gram_once() -> None:
    n = len(LINE_WORDS)
    grams = sum(n - k + 1 for k in range(1, GRAM_ORDER + 1))  # 17 + 16 + 15
    for buckets in (1, 7, 2048):
        counts = gram_counts(LINE, buckets)
        assert counts.shape == (buckets,) and counts.dtype == np.float64
        assert counts.sum() == grams == 48
    assert gram_counts(LINE, 1).tolist() == [48.0]
    assert not gram_counts("", 16).any()


def test_gram_counts_hash_the_space_joined_gram_with_fnv1a64() -> None:
    # FNV-1a 64 of "a", the published test vector
    assert fnv1a64("a") == 0xAF63DC4C8601EC8C
    buckets = 1 << 20
    counts = gram_counts("Hold, friend.", buckets)
    expected = ["<s>", "hold", "friend", "</s>", "<s> hold", "hold friend", "friend </s>",
                "<s> hold friend", "hold friend </s>"]  # fmt: skip
    hit = np.zeros(buckets)
    for gram in expected:
        hit[fnv1a64(gram) % buckets] += 1.0
    assert np.array_equal(counts, hit) and counts.sum() == 9
    # the same words in another sentence split are other grams
    assert not np.array_equal(gram_counts("Hold. Friend.", buckets), counts)


def test_scorer_row_is_the_features_then_the_counts() -> None:
    words = frozenset({"we", "must"})
    lp = [-1.0, -2.5, -0.25]
    row = scorer_row(LINE, lp, words, 32)
    assert row.shape == (len(FEATURES) + 32,)
    assert row[: len(FEATURES)].tolist() == features(LINE, lp, words)
    assert np.array_equal(row[len(FEATURES) :], gram_counts(LINE, 32))
    assert scorer_row(LINE, lp, words, 0).tolist() == features(LINE, lp, words)


# -- the scorer file -----------------------------------------------------------------------


def scorer_doc(buckets: int = 4, **fields: Any) -> dict[str, Any]:
    size = len(FEATURES) + buckets
    doc: dict[str, Any] = {
        "mean": [0.5] * len(FEATURES) + [0.0] * buckets,
        "scale": [2.0] * len(FEATURES) + [1.0] * buckets,
        "weights": [0.25 * (k % 3 - 1) for k in range(size)],
        "bias": -0.75,
        "ngram_buckets": buckets,
    }
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not None}


def test_scorer_json_round_trip_with_buckets() -> None:
    doc = scorer_doc(4)
    scorer = Scorer.from_json(json.loads(json.dumps(doc)), "judged_scorer.json")
    assert scorer.ngram_buckets == 4
    again = Scorer.from_json(json.loads(json.dumps(scorer.to_json())), "judged_scorer.json")
    assert again.to_json() == scorer.to_json() == doc
    words = frozenset({"we"})
    x = np.array([scorer.row(LINE, [-1.0, -2.0], words), scorer.row("Run.", [-0.5], words)])
    assert x.shape == (2, len(FEATURES) + 4)
    assert np.array_equal(again.logit(x), scorer.logit(x))
    z = (x - np.array(doc["mean"])) / np.array(doc["scale"])
    assert np.allclose(scorer.logit(x), z @ np.array(doc["weights"]) + doc["bias"])
    # without buckets the field is left out, and reads back as 0
    plain = scorer_doc(0, ngram_buckets=None)
    learned = Scorer.from_json(plain)
    assert learned.ngram_buckets == 0 and "ngram_buckets" not in learned.to_json()
    assert learned.row(LINE, [-1.0], words).shape == (len(FEATURES),)


REQUIRED = (
    "fields 'mean', 'scale', 'weights' (lists of numbers) and 'bias' are required"
)

#: (case, the document's changed fields, the message after "judged_scorer.json: ")
REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("no_bias", {"bias": None}, REQUIRED),
    ("no_weights", {"weights": None}, REQUIRED),
    ("text_weight", {"weights": ["x"] * 14}, REQUIRED),
    ("object_mean", {"mean": {"a": 1}}, REQUIRED),
    ("ragged_scale", {"scale": [1.0, [1.0]] * 7}, REQUIRED),
    ("bias_list", {"bias": [1.0]}, REQUIRED),
    ("buckets_text", {"ngram_buckets": "four"}, REQUIRED),
    ("buckets_list", {"ngram_buckets": [4]}, REQUIRED),
    ("short_mean", {"mean": [0.0] * 13},
     "'mean', 'scale' and 'weights' must each hold 14 numbers (10 features and 4 n-gram "
     "buckets)"),
    ("buckets_mismatch", {"ngram_buckets": 5},
     "'mean', 'scale' and 'weights' must each hold 15 numbers (10 features and 5 n-gram "
     "buckets)"),
    ("negative_buckets", {"ngram_buckets": -4},
     "'mean', 'scale' and 'weights' must each hold 6 numbers (10 features and -4 n-gram "
     "buckets)"),
    ("nested_weights", {"weights": [[0.5]] * 14},
     "'mean', 'scale' and 'weights' must each hold 14 numbers (10 features and 4 n-gram "
     "buckets)"),
    ("null_weight", {"weights": [None] + [0.5] * 13},
     "'weights' and 'bias' must be finite numbers"),
    ("infinite_bias", {"bias": "inf"}, "'weights' and 'bias' must be finite numbers"),
    ("null_mean", {"mean": [None] * 14}, "'mean' must be finite and 'scale' positive"),
    ("zero_scale", {"scale": [1.0] * 13 + [0.0]}, "'mean' must be finite and 'scale' positive"),
    ("negative_scale", {"scale": [-1.0] * 14}, "'mean' must be finite and 'scale' positive"),
    ("zero_weights", {"weights": [0.0] * 13 + [-0.0]},
     "'weights' are all zero (an untrained scorer)"),
]


@pytest.mark.parametrize(("case", "change", "message"), REFUSALS, ids=[c[0] for c in REFUSALS])
def test_from_json_refusals_name_the_file_and_the_field(
    case: str, change: dict[str, Any], message: str
) -> None:
    doc = scorer_doc(4)
    doc.update(change)
    doc = {k: v for k, v in doc.items() if v is not None}
    with pytest.raises(ModelError) as info:
        Scorer.from_json(json.loads(json.dumps(doc)), "judged_scorer.json")
    assert str(info.value) == "judged_scorer.json: " + message


def test_from_json_refuses_what_is_no_object() -> None:
    for doc in ([], "scorer", None, 3):
        with pytest.raises(ModelError, match="^scorer.json: fields 'mean'"):
            Scorer.from_json(doc)  # type: ignore[arg-type]


# -- choosing ------------------------------------------------------------------------------


def test_judged_falls_back_to_likelihood_without_its_file(
    tiny_gpt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_gpt, folder)
    files = read_manifest(folder)["files"]
    assert gpt_lines.SCORER_FILES["judged"] not in files and "scorer.json" in files
    engine = dialogue_engine(folder, monkeypatch)
    dec = decoder(engine)
    assert set(dec.scorers) == {"learned"}
    opts = plugin.DialogueOptions.parse({"candidates": 6, "by_sentence": False})
    found, _ = dec.candidates(5, opts)
    likelihood = dec.scores(found, "likelihood")
    assert np.array_equal(dec.scores(found, "judged"), likelihood)
    assert not np.array_equal(dec.scores(found, "learned"), likelihood)
    for by_sentence in (False, True):
        kw = {"candidates": 5, "length": "long", "by_sentence": by_sentence}
        judged = engine.generate("dialogue", seed=4, count=4, rerank="judged",
                                 sentence_rerank="judged", **kw)
        plain = engine.generate("dialogue", seed=4, count=4, rerank="likelihood",
                                sentence_rerank="likelihood", **kw)
        assert [line(x) for x in judged] == [line(x) for x in plain]


def line(asset: Any) -> dict[str, Any]:
    """A line's text and metadata but the options it echoes."""
    return dict({k: v for k, v in asset.metadata.items() if k != "options"}, text=asset.text)


def shipped_judged() -> Path:
    folder = plugin.MODEL_DIR
    name = gpt_lines.SCORER_FILES["judged"]
    if not (folder / name).is_file() or name not in read_manifest(folder)["files"]:
        pytest.skip("no shipped dialogue model with judged_scorer.json")
    return folder


def test_the_shipped_judged_scorer_reads_and_uses_its_n_grams() -> None:
    folder = shipped_judged()
    doc = json.loads((folder / "judged_scorer.json").read_text("utf-8"))
    scorer = Scorer.from_json(doc, "judged_scorer.json")
    assert scorer.ngram_buckets > 0
    assert np.any(scorer.weights[len(FEATURES) :])  # the n-grams weigh in
    assert not scorer.mean[len(FEATURES) :].any() and (scorer.scale[len(FEATURES) :] == 1).all()


def test_judged_chooses_other_candidates_than_likelihood_on_the_shipped_model() -> None:
    shipped_judged()
    engine = Engine()
    dec = decoder(engine)
    assert set(dec.scorers) >= {"judged"}
    opts = plugin.DialogueOptions.parse({"by_sentence": False, "rounds": 1})
    differ = 0
    for seed in range(6):
        (judged,) = engine.generate("dialogue", seed=seed, rerank="judged", rounds=1)
        (plain,) = engine.generate("dialogue", seed=seed, rerank="likelihood", rounds=1)
        found, _ = dec.candidates(seed, opts)
        scores = dec.scores(found, "judged")
        # the judged line is the candidate the judged scores rank first among the eligible
        assert judged.text == found[judged.metadata["chosen"]].text
        assert judged.metadata["score"] == pytest.approx(float(scores[judged.metadata["chosen"]]))
        assert not np.array_equal(scores, dec.scores(found, "likelihood"))
        differ += judged.metadata["chosen"] != plain.metadata["chosen"]
    assert differ >= 1
