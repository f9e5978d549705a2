"""The v1 character LSTM's training tools (``assetgen_dialogue.training.lstm_*``, run as the
shipped ``shakespeare`` model's card says through ``assetgen_dialogue.tools``) on a tiny model:
seconds, not a real run. The GPT that ``assetgen train dialogue`` trains is tested in
test_gpt_training.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from assetgen import InvalidOptionsError
from assetgen.runtime import Runtime

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from assetgen_dialogue import plugin, tools  # noqa: E402  (needs torch)
from assetgen_dialogue.training import baselines, lstm_data, lstm_train  # noqa: E402

from .conftest import interrupted_at_step  # noqa: E402


@pytest.fixture
def dialogue_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "dialogue,exporters")


def test_train_resume_export_parity(tiny_corpus: Path, tiny_config: dict, tmp_path, capsys) -> None:
    run = tmp_path / "run"
    config = {**tools.DEFAULT_CONFIG, **tiny_config}
    tools.train(run, tiny_corpus, config, resume=False)
    err = capsys.readouterr().err
    assert "step 4/4" in err and "it/s" in err and "ETA" in err
    config_doc = json.loads((run / "config.json").read_text())
    assert config_doc["hidden"] == 16 and config_doc["archetypes"][0] == "noble"
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [2, 4]
    assert all(0 < m["val_nats_per_char"] < 10 for m in metrics)
    assert (run / "best.pt").is_file()
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_0000002.txt",
        "step_0000004.txt",
    ]
    sample = (run / "samples" / "step_0000004.txt").read_text()
    assert sample.startswith("noble: ") and len(sample.splitlines()) == 11

    # a finished run refuses to be overwritten, and can be extended with resume
    with pytest.raises(InvalidOptionsError, match="already holds a run; pass --resume"):
        tools.train(run, tiny_corpus, config, resume=False)
    tools.train(run, None, {**config, "steps": 6}, resume=True)  # the corpus the run recorded
    assert "resuming from step 4" in capsys.readouterr().err
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["step"] == 6 and "opt" in state and "torch_rng" in state

    model = tmp_path / "model"
    tools.export(run, model)
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["parity"]["max_abs_diff"] <= 1e-3
    assert manifest["parity"]["steps"] >= 200 and manifest["parity"]["archetypes"] == 11
    assert manifest["opset"] <= 15
    assert set(manifest["files"]) == {"dialogue_step.onnx", "vocab.json"}
    assert manifest["special_tokens"] == {"pad": 0, "bos": 1, "eos": 2}
    vocab = json.loads((model / "vocab.json").read_text())
    assert vocab["tokens"][:3] == ["<pad>", "<bos>", "<eos>"]
    assert manifest["vocab_size"] == len(vocab["tokens"])
    assert vocab["archetypes"] == manifest["archetypes"] and len(vocab["archetypes"]) == 11

    bundle = Runtime("cpu").load_model(model)  # the sha256 of every file checks out
    session = bundle.session("dialogue_step.onnx")
    h = np.zeros((2, 3, 16), np.float32)
    logits, h_out, c_out = session.run(
        None,
        {"char": np.ones(3, np.int64), "archetype": np.arange(3), "h": h, "c": h},
    )
    assert logits.shape == (3, len(vocab["tokens"])) and h_out.shape == c_out.shape == h.shape


def test_an_interrupted_run_resumes_exactly(
    tiny_corpus: Path, tiny_config: dict, tmp_path, monkeypatch
) -> None:
    """Optimizer, RNG (dropout) and data order are restored: 3 + 3 steps == 6 steps."""
    config = {**tools.DEFAULT_CONFIG, **tiny_config, "steps": 6, "checkpoint_every": 100}
    tools.train(tmp_path / "straight", tiny_corpus, config, resume=False)

    with interrupted_at_step(lstm_train, 3, monkeypatch):
        tools.train(tmp_path / "split", tiny_corpus, config, resume=False)
    assert torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)["step"] == 3
    tools.train(tmp_path / "split", tiny_corpus, config, resume=True)

    a = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)
    assert a["step"] == b["step"] == 6
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key


def test_batch_schedule_is_a_function_of_the_step() -> None:
    lengths = np.random.default_rng(0).integers(10, 200, size=1000)
    first = lstm_data.BatchSchedule(lengths, 16, seed=3)
    second = lstm_data.BatchSchedule(lengths, 16, seed=3)
    steps = [0, 5, first.per_epoch - 1, first.per_epoch, 3 * first.per_epoch + 2]
    for step in steps:
        assert np.array_equal(first(step), second(step))
    epoch = np.concatenate([first(s) for s in range(first.per_epoch)])
    assert sorted(epoch.tolist()) == list(range(1000))  # each line once per epoch
    spread = [np.ptp(lengths[first(s)]) for s in range(first.per_epoch)]
    assert np.median(spread) < 20  # similar lengths in a batch: little padding


def test_bad_data_is_refused(tmp_path) -> None:
    with pytest.raises(InvalidOptionsError, match="no train.jsonl"):
        tools.train(tmp_path / "r", tmp_path, dict(tools.DEFAULT_CONFIG), resume=False)


def test_kneser_ney_is_a_distribution() -> None:
    texts = ["abracadabra", "abba", "cab", "bad cab"]
    symbols = sorted(set("".join(texts))) + [baselines._EOS_CH]
    kn = baselines.KneserNey(texts, 3, len(symbols))
    for history in ("\x02\x02", "ab", "zz", "a "):
        total = sum(kn.prob(history, s) for s in symbols)
        assert math.isclose(total, 1.0, rel_tol=1e-9), history
    assert kn.nats_per_char(["abba"]) < baselines.unigram_nats_per_char(texts, ["abba"])


def test_evaluate_reports_the_figures(
    tiny_model: Path, tiny_corpus: Path, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "dialogue,exporters")
    monkeypatch.setattr(plugin, "MODEL_DIR", plugin.MODEL_DIR)  # restored after the test
    config = {
        **tools.EVAL_CONFIG,
        "data": str(tiny_corpus),
        "per_archetype": 2,
        "kn_order": 3,
        "max_chars": 40,
    }
    report = tools.evaluate(tiny_model, tmp_path / "report.json", config)
    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert 0 < report["test_nats_per_char"] < 10
    assert report["test_bits_per_char"] == pytest.approx(report["test_nats_per_char"] / math.log(2))
    assert report["unigram_nats_per_char"] > 0 and report["kneser_ney_nats_per_char"] > 0
    assert report["generated_lines"] == 22 and report["generation_chars_per_s"] > 0
    assert 0 <= report["distinct_1"] <= 1 and 0 <= report["copied_line_share"] <= 1
    assert 0 <= report["archetype_classifier_accuracy_generated"] <= 1
    assert report["archetype_chance"] == pytest.approx(1 / 11)
