"""The decoding levers of issue 22's second read-through: the per-source word mask
(``source_words``), sentence-by-sentence decoding of medium and long lines (``by_sentence``,
``sentence_temperature``) and the grammar-slip line check (``slip_checks``).

Against the tiny GPT of conftest.py (plumbing, not prose), plus one check of the shipped
model folder's word lists when it is present.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from assetgen_dialogue import plugin
from assetgen_dialogue.rerank import FAULTS, faults
from assetgen_dialogue.training import readthrough, words

from assetgen import Engine, seeds
from assetgen.runtime import Runtime, read_manifest, write_manifest

from .conftest import V2_ROLES, decoder, dialogue_engine


@pytest.fixture
def engine(tiny_gpt: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    return dialogue_engine(tiny_gpt, monkeypatch)


def words_of(text: str) -> list[str]:
    plain = text.replace("{NAME}", " ").replace("{PLACE}", " ")
    return [w.lower() for w in re.findall(r"[A-Za-z']+", plain) if any(c.isalpha() for c in w)]


def source_lists(tiny_v2_data: Path) -> dict[str, set[str]]:
    records = [json.loads(x) for x in (tiny_v2_data / "train.jsonl").read_text().splitlines()]
    return {k: set(v) for k, v in words.source_words(records).items()}


# -- per-source word mask ---------------------------------------------------------------------


def test_export_writes_each_source_s_words(tiny_gpt: Path, tiny_v2_data: Path) -> None:
    doc = json.loads((tiny_gpt / words.SOURCE_WORDS).read_text())
    assert sorted(doc) == ["crawl", "shakespeare", "wesnoth"]
    assert {k: set(v) for k, v in doc.items()} == source_lists(tiny_v2_data)
    everything = set((tiny_gpt / "words.txt").read_text().split())
    assert set().union(*map(set, doc.values())) == everything
    assert words.SOURCE_WORDS in read_manifest(tiny_gpt)["files"]


def test_add_to_model_updates_the_manifest(
    tiny_gpt: Path, tiny_v2_data: Path, tmp_path: Path
) -> None:
    """A folder exported before source_words.json existed gets it, and still verifies."""
    folder = tmp_path / "model"
    shutil.copytree(tiny_gpt, folder)
    manifest = read_manifest(folder)
    (folder / words.SOURCE_WORDS).unlink()
    write_manifest(folder, manifest, [f for f in manifest["files"] if f != words.SOURCE_WORDS])
    before = read_manifest(folder)["files"]
    words.main(["--model", str(folder), "--data", str(tiny_v2_data)])
    after = read_manifest(folder)["files"]
    assert set(after) == {*before, words.SOURCE_WORDS}
    assert all(after[f] == before[f] for f in before)  # the other files are untouched
    Runtime("cpu").load_model(folder)  # every sha256 checks out


def test_add_to_model_writes_the_data_line_hashes_the_export_writes(
    tiny_gpt: Path, tiny_v2_data: Path, tmp_path: Path
) -> None:
    """A folder exported before data_lines.json existed gets the same file the export
    writes (every split's lines, hashed), listed in the manifest."""
    folder = tmp_path / "model"
    shutil.copytree(tiny_gpt, folder)
    exported = (folder / words.DATA_LINES).read_bytes()
    manifest = read_manifest(folder)
    (folder / words.DATA_LINES).unlink()
    write_manifest(folder, manifest, [f for f in manifest["files"] if f != words.DATA_LINES])
    words.main(["--model", str(folder), "--data", str(tiny_v2_data)])
    assert (folder / words.DATA_LINES).read_bytes() == exported
    assert words.DATA_LINES in read_manifest(folder)["files"]
    lines = [
        json.loads(x)["text"]
        for split in ("train", "val", "test")
        for x in (tiny_v2_data / f"{split}.jsonl").read_text().splitlines() if x.strip()
    ]
    hashes = set(json.loads(exported)["lines"])
    assert hashes == {f"{seeds.fnv1a64(t):016x}" for t in lines}
    Runtime("cpu").load_model(folder)


def test_source_mask_refuses_another_source_s_word(engine: Engine, tiny_v2_data: Path) -> None:
    lists = source_lists(tiny_v2_data)
    only_plays = sorted(lists["shakespeare"] - lists["wesnoth"] - lists["crawl"])
    assert only_plays, "the tiny data set has words only its Shakespeare lines use"
    dec = decoder(engine)
    on = plugin.DialogueOptions.parse({"source": "wesnoth"})
    off = plugin.DialogueOptions.parse({"source": "wesnoth", "source_words": False})
    mask_on, mask_off = dec.word_mask("wesnoth", on), dec.word_mask("wesnoth", off)
    assert mask_off is dec.mask and mask_on is not dec.mask
    assert dec.word_mask("wesnoth", on) is mask_on  # built once
    for word in only_plays:
        assert mask_on.advance("", word + " ") is None, word  # refused in a Wesnoth line
        assert mask_off.advance("", word + " ") is not None, word  # any training word
        assert dec.word_mask("shakespeare", on).advance("", word + " ") is not None
    for word in lists["wesnoth"]:
        assert mask_on.advance("", word + " ") is not None, word


def test_wesnoth_lines_spell_only_wesnoth_words(engine: Engine, tiny_v2_data: Path) -> None:
    known = source_lists(tiny_v2_data)["wesnoth"]
    kw = {"source": "wesnoth", "temperature": 2.0, "top_p": 1.0, "candidates": 1}
    lines = engine.generate("dialogue", seed=0, count=24, **kw)
    for line in lines:
        for w in words_of(line.text):
            assert w in known or w.strip("'") in known, (w, line.text)
    off = engine.generate("dialogue", seed=0, count=24, source_words=False, **kw)
    assert [x.text for x in off] != [x.text for x in lines]
    spelled = {w for x in off for w in words_of(x.text)}
    assert spelled - known, "without the per-source mask a Wesnoth line uses other words"


def test_a_model_without_source_words_falls_back(engine: Engine) -> None:
    dec = decoder(engine)
    saved = dec.source_word_lists
    try:
        dec.source_word_lists = {}
        opts = plugin.DialogueOptions.parse({"source": "wesnoth"})
        assert dec.word_mask("wesnoth", opts) is dec.mask
    finally:
        dec.source_word_lists = saved


def test_shipped_model_refuses_shakespeare_words_in_wesnoth_lines() -> None:
    folder = plugin.MODEL_DIR
    if not (folder / words.SOURCE_WORDS).is_file():
        pytest.skip("no shipped dialogue model with source_words.json")
    bundle = Runtime("cpu").load_model(folder)  # the manifest lists it with its sha256
    assert words.SOURCE_WORDS in bundle.manifest["files"]
    gen = plugin.DialogueGenerator(Runtime("cpu"))
    dec = gen.gpt(bundle)
    on = plugin.DialogueOptions.parse({})
    mask = dec.word_mask("wesnoth", on)
    for word in ("sooth", "hangeth", "viands", "fardingales", "vinaigre"):
        assert mask.advance("", word + " ") is None, word
        assert dec.mask.advance("", word + " ") is not None, word
    assert mask.advance("", "orcs ") is not None


# -- sentence by sentence ---------------------------------------------------------------------


def test_by_sentence_on_and_off(engine: Engine) -> None:
    kw = {"length": "long", "candidates": 4, "temperature": 1.0}
    on = engine.generate("dialogue", seed=3, count=6, by_sentence=True, **kw)
    off = engine.generate("dialogue", seed=3, count=6, by_sentence=False, **kw)
    assert all(x.metadata["sentences"] == 1 for x in off)
    assert all(1 <= x.metadata["sentences"] <= 8 for x in on)
    assert all(x.metadata["stop"] in ("eos", "sentence", "max_chars", "context") for x in on)
    assert [x.text for x in on] != [x.text for x in off]
    # off, a long line is the one-pass decoding: the same as the candidates' best
    dec = decoder(engine)
    opts = plugin.DialogueOptions.parse({**kw, "by_sentence": False})
    found, _ = dec.candidates(3, opts)
    assert off[0].text == found[off[0].metadata["chosen"]].text
    # short lines and candidates=1 are never decoded sentence by sentence
    short = engine.generate(
        "dialogue", seed=3, count=4, length="short", candidates=4, by_sentence=True
    )
    short_off = engine.generate(
        "dialogue", seed=3, count=4, length="short", candidates=4, by_sentence=False
    )
    assert [x.text for x in short] == [x.text for x in short_off]
    single = engine.generate(
        "dialogue", seed=3, count=2, length="long", candidates=1, by_sentence=True
    )
    assert all(x.metadata["sentences"] == 1 for x in single)


def test_by_sentence_is_deterministic_per_seed(engine: Engine) -> None:
    kw = {"length": "medium", "candidates": 4, "temperature": 1.2, "by_sentence": True}
    a = engine.generate("dialogue", seed=11, count=5, **kw)
    b = engine.generate("dialogue", seed=11, count=5, **kw)
    assert [x.text for x in a] == [x.text for x in b]
    (fourth,) = engine.generate("dialogue", seed=14, **kw)
    assert fourth.text == a[3].text  # item k is seed + k
    assert len({x.text for x in a}) > 1
    t = engine.generate("dialogue", seed=11, count=5, sentence_temperature=0.3, **kw)
    t2 = engine.generate("dialogue", seed=11, count=5, sentence_temperature=0.3, **kw)
    assert [x.text for x in t] == [x.text for x in t2]


def test_each_sentence_continues_the_chosen_ones(engine: Engine) -> None:
    """Every round's candidates begin with the line chosen so far; the line ends at the
    length floor or where the chosen candidate ends it."""
    dec = decoder(engine)
    opts = plugin.DialogueOptions.parse({"length": "long", "candidates": 4, "temperature": 1.0})
    tags = dec.resolve(8, opts)
    chosen, found, best, scores, sentences = dec._sentences(8, opts, tags)
    assert found[best].text == chosen.text and chosen.logprobs.size >= len(chosen.pieces)
    assert all(
        c.text.startswith(chosen.text[: len(chosen.text) - len(found[best].text)]) for c in found
    )
    floor = dec.floor(opts, tags["length"])
    # it ends at the floor, where the chosen candidate ends it, after 8 sentences, or (below
    # the floor) where every next candidate adds a fault or runs past max_chars
    assert 1 <= sentences <= 8
    if chosen.stop == "sentence":
        assert re.search(r"[.!?][\"')]?$", chosen.text), chosen.text
    if sentences < 8 and chosen.stop == "sentence" and len(chosen.text) < floor:
        nxt = dec._sample(
            8,
            opts,
            tags,
            chosen.pieces,
            streams=[("dialogue.sentence", 64 * sentences + k) for k in range(4)],
            keep=len(chosen.text),
            state="",
            until_sentence=True,
        )
        assert all(c.stop not in ("eos", "sentence") or faults(c.text) for c in nxt), (
            "an early end only when no next sentence was clean"
        )
    (line,) = engine.generate(
        "dialogue",
        seed=8,
        **{"length": "long", "candidates": 4, "temperature": 1.0, "by_sentence": True},
    )
    assert line.text == chosen.text and line.metadata["sentences"] == sentences


def test_sentence_stop_cuts_at_a_sentence_end(engine: Engine) -> None:
    dec = decoder(engine)
    opts = plugin.DialogueOptions.parse({"length": "long", "candidates": 6, "temperature": 1.5})
    tags = dec.resolve(2, opts)
    found = dec._sample(
        2,
        opts,
        tags,
        [],
        streams=[("dialogue.sentence", k) for k in range(6)],
        keep=0,
        state="",
        until_sentence=True,
    )
    for c in found:
        if c.stop == "sentence":
            assert re.search(r"[.!?][\"')]?$", c.text), c.text


# -- grammar slips ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slip"),
    [
        ("We can't have to go north.", True),
        ("You must have to pay for our people.", True),
        ("If you can't be able to find it.", True),
        ("We're not a very good to get out of this place.", True),
        ("I haven't going to see you.", True),
        ("We should have find other choices.", True),
        ("We will have to go north.", False),
        ("You must be able to see it.", False),
        ("I have found the way.", False),
        ("We will be able to win.", False),
        ("I'm not going to do with you, {NAME}.", True),
        ("What's going to do with this?", True),
        ("What are you going to do with him?", False),
    ],
)
def test_grammar_slips(text: str, slip: bool) -> None:
    assert ("grammar_slip" in faults(text)) == slip
    assert "grammar_slip" not in faults(text, slips=False)
    assert "grammar_slip" in FAULTS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What's this? {NAME}? What's this?!", ["repeated_sentence"]),
        ("Orcs sighted! To arms! To arms!", ["repeated_sentence"]),
        ("No! No! Run!", []),  # one-word cries may repeat
        ("I am {NAME}. I am not {NAME}. Go.", ["contradiction"]),
        ("You're {NAME}? You're no {NAME}!", ["contradiction"]),
        ("I am {NAME}. You are not {NAME}.", []),
        ("Hold!!!! Now.", ["punctuation_run"]),
        ("Wait... what?", []),
    ],
)
def test_more_line_checks(text: str, expected: list[str]) -> None:
    assert faults(text) == expected
    assert faults(text, slips=False) == []
    assert set(expected) <= set(FAULTS)


def test_slip_checks_on_and_off(engine: Engine) -> None:
    kw = {"candidates": 6, "length": "short"}
    (on,) = engine.generate("dialogue", seed=4, **kw)
    (off,) = engine.generate("dialogue", seed=4, slip_checks=False, **kw)
    assert "grammar_slip" not in off.metadata["faults"]
    assert on.text == off.text or "grammar_slip" not in on.metadata["faults"]


def test_new_defaults() -> None:
    opts = plugin.DialogueOptions.parse({})
    assert (opts.source_words, opts.by_sentence, opts.slip_checks) == (True, False, True)
    assert opts.sentence_temperature == 0.0
    assert (opts.rerank, opts.sentence_rerank) == ("judged", "likelihood")


# -- the read-through of two chosen decodings -------------------------------------------------


def test_readthrough_arms_take_any_decoding() -> None:
    calls: list[dict[str, Any]] = []

    class Engine_:
        def generate(self, gen: str, seed: int, count: int, **options: Any) -> list[Any]:
            calls.append(options)
            meta = {"length": "short"}
            return [type("L", (), {"text": "Hold.", "metadata": meta})() for _ in range(count)]

    old = {"by_sentence": False, "source_words": False}
    lines = readthrough.make_lines(
        Engine_(), list(V2_ROLES[:2]), 2, seed=1, decodings={"baseline": old, "current": {}}
    )
    assert [c for c in calls] == [
        {"archetype": V2_ROLES[0], **old},
        {"archetype": V2_ROLES[1], **old},
        {"archetype": V2_ROLES[0]},
        {"archetype": V2_ROLES[1]},
    ]
    assert [r["seed"] for r in lines["baseline"]] == [r["seed"] for r in lines["current"]]
    calls.clear()
    readthrough.make_lines(Engine_(), list(V2_ROLES[:1]), 1, seed=1)
    assert calls[0] == {"archetype": V2_ROLES[0], **readthrough.BASELINE}


def test_off_source_words_figure() -> None:
    report = readthrough.off_source_words(
        ["Hold, sooth!", "Hold the line."], {"hold", "the", "line"}
    )
    assert report == {"share": 0.5, "words": ["sooth"]}


def test_mixed_rerank_keeps_to_the_likelier_half(engine: Engine) -> None:
    dec = decoder(engine)
    opts = plugin.DialogueOptions.parse({"candidates": 6, "by_sentence": False})
    found, _ = dec.candidates(3, opts)
    mixed = dec.scores(found, "mixed")
    likelihood = dec.scores(found, "likelihood")
    learned = dec.scores(found, "learned")
    half = [k for k in range(6) if likelihood[k] >= np.median(likelihood)]
    top = int(np.argmax(mixed))
    assert top in half and learned[top] == max(learned[k] for k in half)
    kw = {
        "rerank": "mixed",
        "sentence_rerank": "mixed",
        "candidates": 4,
        "length": "long",
        "by_sentence": True,
    }
    a = engine.generate("dialogue", seed=6, count=3, **kw)
    b = engine.generate("dialogue", seed=6, count=3, **kw)
    assert [x.text for x in a] == [x.text for x in b]


def test_a_line_stops_when_every_next_sentence_adds_a_fault(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With filters, a line made sentence by sentence ends (below the floor) rather than take
    a sentence that adds a fault; without filters it goes on."""
    from assetgen_dialogue import gpt_lines

    dec = decoder(engine)
    first_round: set[str] = set()
    sample = dec._sample

    def recording(*args: Any, **kw: Any) -> list[Any]:
        found = sample(*args, **kw)
        if not args[3]:  # an empty prefix: the first sentence of a new line
            first_round.clear()
            first_round.update(c.text for c in found)
        return found

    def faults(text: str, slips: bool = True) -> list[str]:
        # every candidate after the first sentence has a fault
        return [] if text in first_round else ["grammar_slip"]

    monkeypatch.setattr(dec, "_sample", recording)
    monkeypatch.setattr(gpt_lines, "faults", faults)
    kw = {
        "length": "long",
        "candidates": 4,
        "temperature": 1.0,
        "min_chars": 400,
        "by_sentence": True,
    }
    lines = engine.generate("dialogue", seed=2, count=4, **kw)
    assert all(x.metadata["sentences"] == 1 for x in lines)
    loose = engine.generate("dialogue", seed=2, count=4, filters=False, **kw)
    assert any(x.metadata["sentences"] > 1 for x in loose)
