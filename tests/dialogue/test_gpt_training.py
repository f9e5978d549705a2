"""The dialogue GPT's data builder, ``assetgen train | export | eval dialogue`` on a tiny data
set (seconds, not a real run)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assetgen.cli import main
from assetgen.runtime import Runtime

from .conftest import TINY_GPT, interrupted_at_step

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from assetgen_dialogue.training import data, train  # noqa: E402  (needs torch)
from assetgen_dialogue.training.commands import EVAL_CONFIG, evaluate  # noqa: E402


def sets(config: dict[str, object]) -> list[str]:
    return [arg for key, value in config.items() for arg in ("--set", f"{key}={value}")]


@pytest.fixture
def dialogue_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "dialogue,exporters")


def test_train_resume_export_through_the_cli(
    dialogue_only, tiny_v2_data: Path, tmp_path, capsys
) -> None:
    run = tmp_path / "run"
    args = ["train", "dialogue", "--data", str(tiny_v2_data), "--out", str(run)]
    assert main([*args, *sets({**TINY_GPT, "steps": 10, "val_every": 5})]) == 0
    err = capsys.readouterr().err
    assert "step 10/10" in err and "tokens/s" in err and "held-out campaigns" in err
    config = json.loads((run / "config.json").read_text())
    assert config["tags"]["role"][0] == "any" and config["dim"] == 16
    metrics = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [5, 10]
    assert all(0 < m["val_nats_per_char"] < 10 for m in metrics)
    assert (run / "best.pt").is_file() and (run / "samples" / "step_0000010.txt").is_file()
    assert main([*args, *sets(TINY_GPT)]) == 2
    assert "already holds a run; pass --resume" in capsys.readouterr().err
    assert main(["train", "dialogue", "--out", str(run), "--resume", "--set", "steps=12"]) == 0
    assert "resuming from step 10" in capsys.readouterr().err
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 12
    model = tmp_path / "model"
    assert main(["export", "dialogue", str(run), "--out", str(model)]) == 0
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["parity"]["max_abs_diff"] <= 1e-3 and manifest["opset"] <= 15
    assert manifest["training"]["steps"] in (10, 12)
    bundle = Runtime("cpu").load_model(model)  # every file's sha256 checks out
    session = bundle.session("dialogue_gpt_step.onnx")
    cache = np.zeros((1, 3, 2, 4, 8), np.float32)
    logits, key, value = session.run(
        None, {"token": np.array([1, 2, 3]), "past_key": cache, "past_value": cache}
    )
    assert logits.shape == (3, manifest["vocab_size"]) and key.shape == value.shape == (
        1,
        3,
        2,
        5,
        8,
    )


def test_an_interrupted_run_resumes_exactly(tiny_v2_data: Path, tmp_path, monkeypatch) -> None:
    """Optimiser, RNG (dropout, tag dropout) and data order restored: 3 + 3 steps == 6."""
    config = {**train.DEFAULT_CONFIG, **TINY_GPT, "steps": 6, "checkpoint_every": 100}
    train.train(tmp_path / "straight", tiny_v2_data, config, resume=False)
    with interrupted_at_step(train, 3, monkeypatch):
        train.train(tmp_path / "split", tiny_v2_data, config, resume=False)
    train.train(tmp_path / "split", tiny_v2_data, config, resume=True)
    a = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key


def test_weighted_batches_are_a_function_of_the_step() -> None:
    lengths = np.random.default_rng(0).integers(5, 60, size=300)
    repeats = np.array([2] * 100 + [1] * 200)
    first = train.BatchSchedule(lengths, repeats, 16, seed=3)
    second = train.BatchSchedule(lengths, repeats, 16, seed=3)
    for step in (0, 7, first.per_epoch, 3 * first.per_epoch + 1):
        assert np.array_equal(first(step), second(step))
    epoch = np.concatenate([first(s) for s in range(first.per_epoch)])
    counts = np.bincount(epoch, minlength=300)
    assert (counts[:100] == 2).all() and (counts[100:] == 1).all()


def test_evaluate_reports_the_figures(
    tiny_gpt: Path, tiny_v2_data: Path, monkeypatch, tmp_path
) -> None:
    from assetgen_dialogue import plugin

    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "dialogue,exporters")
    monkeypatch.setattr(plugin, "MODEL_DIR", plugin.MODEL_DIR)  # restored after the test
    sheet = tmp_path / "sheet.md"
    config = {
        **EVAL_CONFIG,
        "data": str(tiny_v2_data),
        "kn_order": 3,
        "off_lines": 4,
        "sheet": str(sheet),
        "sheet_per_role": 2,
        "candidates": 2,
        "max_play_lines": 20,
    }
    report = evaluate(tiny_gpt, tmp_path / "report.json", config)
    assert json.loads((tmp_path / "report.json").read_text()) == report
    for key in (
        "nats_per_char_campaigns",
        "nats_per_char_plays",
        "kneser_ney_campaigns",
        "lstm_campaigns",
    ):
        assert 0 < report[key] < 20, key
    assert report["generated_lines"] == report["test_campaign_lines"] > 0
    assert 0 <= report["real_vs_generated_accuracy"] <= 1
    assert 0 <= report["length_matched"]["ks_distance"] <= 1
    assert report["placeholder_problems"] == 0 and report["lines_per_s"] > 0
    text = sheet.read_text()
    assert text.count("\n1. ") == len(
        json.loads((tiny_gpt / "manifest.json").read_text())["archetypes"]
    )


# -- the data builder's rules ------------------------------------------------------------------

WML = """
[side]
    type=Elvish Captain
    id=Kalenz
    name= _ "Kalenz"
[/side]
[event]
    [message]
        speaker=Kalenz
        message= _ "We ride to Wesmere before ""nightfall""!"
        [option]
            message= _ "Not a line"
        [/option]
    [/message]
    [message]
        speaker=narrator
        message= _ "A long time ago" +
            _ " in a land far away."
    [/message]
[/event]
"""


def test_wml_blocks_and_roles() -> None:
    blocks = list(data.wml_blocks(WML))
    messages = [keys for tag, keys in blocks if tag == "message"]
    assert messages[0] == {"speaker": "Kalenz", "message": 'We ride to Wesmere before "nightfall"!'}
    assert messages[1]["message"] == "A long time ago in a land far away."
    assert [keys for tag, keys in blocks if tag == "option"] == [{"message": "Not a line"}]
    assert (data.wesnoth_role("Elvish Captain"), data.wesnoth_race("Elvish Captain")) == (
        "soldier",
        "elf",
    )
    assert data.wesnoth_role("Lich") == data.wesnoth_race("Lich") == "undead"
    assert data.wesnoth_role("Orcish Warlord") == "ruler"
    assert data.wesnoth_role("Wolf Rider") == "soldier" and data.wesnoth_role("Wolf") == "beast"


def test_crawl_speech() -> None:
    assert data.crawl_speech('@The_monster@ shouts @at_foe@, "You are history!"') == [
        "You are history!"
    ]
    assert data.crawl_speech("VISUAL:@The_monster@ shimmers.") == []
    assert data.crawl_speech('@The_monster@ says, "Hi @player_name@, a [ploy|trick]!"') == [
        "Hi Xyzzy, a ploy!"
    ]
    assert data.crawl_speech("Embrace the darkness.", bare_is_speech=True) == [
        "Embrace the darkness."
    ]
    assert data.crawl_speech("Xom grants you a gift!") == []
    entries = dict(data.crawl_entries("%%%%\n# c\nkey one\n\nline a\n\nline b\n%%%%\n"))
    assert entries == {"key one": ["line a", "line b"]}


def test_placeholders() -> None:
    common = {"we", "ride", "to", "at", "dawn", "the", "king", "sir", "hold", "line"}
    names, places = {"Kalenz"}, {"Wesmere Forest"}
    preps = frozenset({"to", "in"})
    assert (
        data.placeholders(
            "We ride to Wesmere Forest at dawn, Kalenz.", common, places, names, preps
        )
        == "We ride to {PLACE} at dawn, {NAME}."
    )
    assert (
        data.placeholders("Hold the line, Sir Konrad Delfador!", common, set(), set(), preps)
        == "Hold the line, Sir {NAME}!"
    )
    assert data.placeholders("The King rides to Alduin.", common, set(), set(), preps) == (
        "The King rides to {PLACE}."
    )
    # game text: a capitalised phrase of common words is a name; an article stays outside
    game = common | {"ruby", "of", "fire", "find", "must", "northern", "alliance", "will", "not",
                     "fight", "black", "eye", "your", "highness", "with"}
    assert data.placeholders("We must find the Ruby of Fire.", game, set(), set(), preps,
                             True) == "We must find the {NAME}."
    assert data.placeholders("The Northern Alliance will not fight.", game, set(), set(), preps,
                             True) == "The {NAME} will not fight."
    assert data.placeholders("Hold the line, Black-Eye!", game, set(), set(), preps,
                             True) == "Hold the line, {NAME}!"
    assert data.placeholders("Your Highness, we ride with the King.", game, set(), set(),
                             preps, True) == "Your Highness, we ride with the King."
    common_counts = data.lowercase_words(["the king and the first lord by grace of god"] * 3)
    assert data.known_names({"Konrad", "Li'sar Dawn"}, {"The King", "First Lord", "Grace"},
                            common_counts) == {"Konrad", "Li'sar Dawn"}
    # verse (phrases off): capitals at line starts are not names
    assert data.placeholders("We ride with the Northern Alliance.", game, set(), set(),
                             preps) == "We ride with the Northern Alliance."
    assert data.clean_text("<i>Hello</i> \u2014 there, $name!") is None
    assert data.clean_text("<i>Hello</i>   there!") == "Hello there!"
    assert data.length_bucket("x" * 50) == "short" and data.length_bucket("x" * 51) == "medium"
