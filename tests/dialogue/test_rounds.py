"""Rounds of candidates (``rounds``, ``accept``, ``give_up``): while the best line so far is a
near miss by the scorer's probability, N more candidates are sampled.

The search rule is checked against candidates recomputed round by round (the tiny GPT of
conftest.py with its learned scorer, and the shipped model with its judged scorer when it is
present); the options' refusals and the one-round cases (likelihood ranking, one candidate,
accept 0) are checked on the tiny GPT.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from assetgen_dialogue import plugin
from assetgen_dialogue.gpt_lines import GptDecoder
from assetgen_dialogue.rerank import faults

from assetgen import Engine, InvalidOptionsError

from .conftest import decoder, dialogue_engine
from .test_judged import shipped_judged


@pytest.fixture
def engine(tiny_gpt: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    return dialogue_engine(tiny_gpt, monkeypatch)


def replay(dec: Any, seed: int, opts: Any) -> tuple[list[Any], np.ndarray, int, int]:
    """The search done by hand: the candidates and scores of every round sampled, the best
    index and the number of rounds, by the rule the options' help states."""
    found: list[Any] = []
    scores = np.zeros(0)
    accept, give_up = dec.logit(opts.accept), dec.logit(opts.give_up)
    best = 0
    for r in range(opts.rounds):
        more, tags = dec.candidates(seed, opts, r)
        found += more
        scores = np.concatenate([scores, dec.scores(more, opts.rerank)])
        floor = dec.floor(opts, tags["length"])
        kept = [
            k for k, c in enumerate(found)
            if len(c.text) >= floor and not faults(c.text, opts.slip_checks)
            and not dec.copied(c.text)
        ]
        pool = kept or [k for k, c in enumerate(found) if len(c.text) >= floor] or list(
            range(len(found))
        )
        best = max(pool, key=lambda k: (scores[k], -k))
        if (kept and scores[best] >= accept) or scores[best] < give_up:
            return found, scores, best, r + 1
    return found, scores, best, opts.rounds


def check_search(engine: Engine, seeds_: range, **options: Any) -> list[int]:
    """Each line is the replayed search's choice; returns the rounds each request took."""
    dec = decoder(engine)
    opts = plugin.DialogueOptions.parse(options)
    taken = []
    for seed in seeds_:
        (asset,) = engine.generate("dialogue", seed=seed, **options)
        found, scores, best, rounds = replay(dec, seed, opts)
        assert asset.metadata["rounds"] == rounds
        assert asset.metadata["candidates"] == len(found) == rounds * opts.candidates
        assert asset.metadata["chosen"] == best
        assert asset.text == found[best].text
        assert asset.metadata["score"] == pytest.approx(float(scores[best]))
        taken.append(rounds)
    return taken


def test_logit_of_the_probability_options() -> None:
    assert GptDecoder.logit(0.0) == -math.inf and GptDecoder.logit(1.0) == math.inf
    assert GptDecoder.logit(0.5) == 0.0
    assert GptDecoder.logit(0.15) == pytest.approx(math.log(0.15 / 0.85))
    p = 0.73
    assert 1 / (1 + math.exp(-GptDecoder.logit(p))) == pytest.approx(p)


def test_defaults() -> None:
    opts = plugin.DialogueOptions.parse({})
    assert (opts.rounds, opts.accept, opts.give_up, opts.candidates) == (4, 0.5, 0.15, 16)


def test_learned_scorer_rounds_follow_the_rule(engine: Engine) -> None:
    """The tiny GPT's learned scorer: with accept 1 every request runs to the last round
    unless it gives up; with give_up 0 as well, every request runs every round."""
    assert "learned" in decoder(engine).scorers
    kw = {"rerank": "learned", "candidates": 3, "max_chars": 40}
    assert check_search(engine, range(4), rounds=3, accept=1.0, give_up=0.0, **kw) == [3] * 4
    taken = check_search(engine, range(4, 12), rounds=3, **kw)
    assert all(1 <= r <= 3 for r in taken)


@pytest.mark.parametrize(
    "options",
    [
        {"rerank": "likelihood"},  # no probability to compare
        {"rerank": "mixed"},
        {"rerank": "learned", "candidates": 1},  # reranking off
        {"rerank": "learned", "accept": 0.0},  # any first round is good enough
        {"rerank": "learned", "rounds": 1},
        {"rerank": "learned", "give_up": 1.0, "accept": 1.0},  # every request gives up
    ],
)
def test_one_round(engine: Engine, options: dict[str, Any]) -> None:
    kw = {"candidates": 3, "max_chars": 40, "rounds": 4, **options}
    lines = engine.generate("dialogue", seed=5, count=3, **kw)
    assert [x.metadata["rounds"] for x in lines] == [1, 1, 1]
    same = engine.generate("dialogue", seed=5, count=3, **{**kw, "rounds": 1})
    assert [x.text for x in lines] == [x.text for x in same]


def test_rounds_are_deterministic_and_later_rounds_sample_new_streams(engine: Engine) -> None:
    kw = {"rerank": "learned", "candidates": 3, "max_chars": 40, "rounds": 3, "accept": 1.0,
          "give_up": 0.0}  # fmt: skip
    first = engine.generate("dialogue", seed=9, count=3, **kw)
    again = engine.generate("dialogue", seed=9, count=3, **kw)
    assert [(x.text, x.metadata) for x in first] == [(x.text, x.metadata) for x in again]
    dec = decoder(engine)
    opts = plugin.DialogueOptions.parse(kw)
    texts = [[c.text for c in dec.candidates(9, opts, r)[0]] for r in range(3)]
    assert texts[0] != texts[1] != texts[2]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"rounds": 0}, "option 'rounds' must be an integer from 1 to 16"),
        ({"rounds": 17}, "option 'rounds' must be an integer from 1 to 16"),
        ({"accept": -0.1}, "option 'accept' must be a number from 0 to 1"),
        ({"accept": 1.5}, "option 'accept' must be a number from 0 to 1"),
        ({"give_up": 2}, "option 'give_up' must be a number from 0 to 1"),
    ],
)
def test_bad_round_options(engine: Engine, options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidOptionsError, match=fragment) as caught:
        engine.generate("dialogue", **options)
    assert caught.value.parameter == next(iter(options))


def test_shipped_model_searches_medium_lines_and_gives_up_on_hopeless_ones() -> None:
    """On the shipped model with its defaults: the choice is the replayed search's, some
    medium requests need more than one round, and a request never runs past 'rounds'."""
    shipped_judged()
    engine = Engine()
    taken = check_search(engine, range(8), source="wesnoth", length="medium")
    assert max(taken) > 1 and max(taken) <= 4
    assert check_search(engine, range(2), source="wesnoth", length="short", rounds=1) == [1, 1]
