"""A tiny dialogue corpus and a tiny trained + exported model, built once per test session.

The generator tests run against this model (monkeypatched in as ``plugin.MODEL_DIR``) so they
do not depend on the shipped model: a few training steps, hidden size 16, in a few seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from assetgen_dialogue import plugin
from assetgen_dialogue.training import corpus

from assetgen import Engine

# Short lines with every letter of the alphabet in both cases, so prompts can use any letter.
SENTENCES = (
    "Good morrow, my lord; the quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs!",
    "How vexingly quick daft zebras jump?",
    "Stand, ho! Who is there? Speak, and give the word.",
    "JACK QUIZ: WHY MUST VEXED GOBLINS FLAP, PRAY?",
    "I pray you, sir, what news from the king?",
    "Fie, fie! Thou art a knave, and I will have thy purse.",
    "Alas, poor Yorick; I knew him well.",
)


def dialogue_engine(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A CPU engine with the dialogue plugin (and the exporters) using the model in
    ``model_dir`` instead of the shipped one (for the test files' ``engine`` fixtures)."""
    monkeypatch.setattr(plugin, "MODEL_DIR", model_dir)
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "dialogue,exporters")
    return Engine(device="cpu")


def decoder(engine: Engine) -> Any:
    """The GPT decoder of the engine's own dialogue generator instance."""
    gen = engine._instance("dialogue")
    return gen.gpt(gen.bundle())


@contextmanager
def interrupted_at_step(
    trainer: Any, step: int, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The training run in the block must stop with KeyboardInterrupt at ``step`` (raised when
    the trainer module's loop asks ``lr_at`` for that step's learning rate, the way Ctrl-C would
    stop it); afterwards ``lr_at`` is the real one again."""
    real = trainer.lr_at

    def interrupt(at: int, cfg: dict) -> float:
        if at == step:
            raise KeyboardInterrupt
        return real(at, cfg)

    monkeypatch.setattr(trainer, "lr_at", interrupt)
    with pytest.raises(KeyboardInterrupt):
        yield
    monkeypatch.setattr(trainer, "lr_at", real)


def write_corpus(out: Path, lines_per_archetype: int = 6) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", lines_per_archetype), ("val", 2), ("test", 2)):
        rows = []
        for a, archetype in enumerate(corpus.ARCHETYPES):
            for k in range(count):
                text = SENTENCES[(a + k) % len(SENTENCES)]
                rows.append(
                    {
                        "text": text,
                        "speaker": archetype.upper(),
                        "archetype": archetype,
                        "play": f"{split}-play",
                    }
                )
        body = "".join(json.dumps(r) + "\n" for r in rows)
        (out / f"{split}.jsonl").write_text(body, encoding="utf-8")
    return out


TINY_CONFIG = {
    "steps": 4,
    "hidden": 16,
    "char_dim": 8,
    "archetype_dim": 4,
    "batch_size": 4,
    "val_every": 2,
    "checkpoint_every": 2,
    "sample_every": 2,
    "device": "cpu",
}


@pytest.fixture
def tiny_config() -> dict[str, object]:
    """Training settings for a run of seconds (``--set`` overrides of DEFAULT_CONFIG)."""
    return dict(TINY_CONFIG)


def trained_and_exported(
    root: Path, train: Callable[..., Any], export: Callable[[Path, Path], Any], data: Path,
    config: dict[str, Any],
) -> Path:
    """``root/model``: a run trained from ``data`` into ``root/run`` with ``config``, exported
    (``train`` and ``export``: the LSTM's tools or the GPT's training modules)."""
    train(root / "run", data, config, resume=False)
    export(root / "run", root / "model")
    return root / "model"


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("dialogue_corpus"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, tiny_corpus: Path) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from assetgen_dialogue import tools

    config = {**tools.DEFAULT_CONFIG, **TINY_CONFIG, "steps": 30}
    root = tmp_path_factory.mktemp("dialogue_model")
    return trained_and_exported(root, tools.train, tools.export, tiny_corpus, config)


# -- dialogue v2 (the GPT): a tiny data set in the builder's format, a tiny trained model ------

V2_LINES = (
    "Hold the line, {NAME}! They come from the east.",
    "We march to {PLACE} at dawn, and no one rests until the bridge is ours.",
    "Your magic will not save you here, old man.",
    "The dead do not sleep in these hills.",
    "Gold for the king, and steel for his enemies!",
    "I pray the light keeps us through the night.",
    "Pack my box with five dozen liquor jugs, quick!",
    "How vexingly quick daft zebras jump over the lazy dog?",
    "Stand, ho! Who is there? Speak, and give the word.",
    "JACK QUIZ: why must vexed goblins flap, pray?",
)
V2_ROLES = ("ruler", "soldier", "mage", "priest", "rogue", "commoner", "undead", "brute")
V2_SOURCES = ("wesnoth", "crawl", "shakespeare")
V2_RACES = ("human", "elf", "orc")


def write_v2_data(out: Path) -> Path:
    """A data set folder as ``python -m assetgen_dialogue.training.data`` writes it."""
    from assetgen_dialogue.training import data

    out.mkdir(parents=True, exist_ok=True)
    records: dict[str, list[dict[str, str]]] = {}
    for split, count in (("train", 4), ("val", 2), ("test", 2)):
        rows = []
        for r, role in enumerate(V2_ROLES):
            for k in range(count):
                text = V2_LINES[(r + k) % len(V2_LINES)]
                rows.append(
                    {
                        "text": text,
                        "source": V2_SOURCES[(r + k) % 3],
                        "role": role,
                        "race": V2_RACES[k % 3],
                        "length": data.length_bucket(text),
                        "group": f"{split}-campaign",
                        "speaker": role.title(),
                    }
                )
        # every source has every role once more, as Wesnoth lines, for the evaluation
        rows += [{**row, "source": "wesnoth"} for row in rows[: len(V2_ROLES)]]
        records[split] = rows
        (out / f"{split}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in rows))
    data.train_tokenizer([r["text"] for r in records["train"]], out, vocab_size=90)
    lengths: dict[str, dict[str, dict[str, int]]] = {}
    for row in records["train"]:
        per = lengths.setdefault(row["source"], {}).setdefault(row["role"], {})
        per[row["length"]] = per.get(row["length"], 0) + 1
    meta = {
        "sources": list(V2_SOURCES),
        "roles": list(V2_ROLES),
        "races": list(V2_RACES),
        "length_buckets": {k: list(v) for k, v in data.LENGTH_BUCKETS.items()},
        "length_counts_train": lengths,
        "licences": data.LICENCES,
        "packages": {},
    }
    (out / "dataset.json").write_text(json.dumps(meta))
    return out


TINY_GPT = {
    "steps": 20,
    "dim": 16,
    "layers": 1,
    "heads": 2,
    "context": 64,
    "batch_size": 8,
    "val_every": 10,
    "checkpoint_every": 10,
    "sample_every": 10,
    "device": "cpu",
    "threads": 1,
    "warmup_steps": 2,
}


@pytest.fixture(scope="session")
def tiny_v2_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sentencepiece")
    return write_v2_data(tmp_path_factory.mktemp("dialogue_v2_data"))


@pytest.fixture(scope="session")
def tiny_gpt(tmp_path_factory: pytest.TempPathFactory, tiny_v2_data: Path) -> Path:
    """A GPT trained for 20 steps on the tiny data set and exported (ONNX, pieces, scorer)."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from assetgen_dialogue.training import export, train

    config = {**train.DEFAULT_CONFIG, **TINY_GPT}
    root = tmp_path_factory.mktemp("dialogue_gpt")
    return trained_and_exported(root, train.train, export.export, tiny_v2_data, config)
