"""A tiny dialogue corpus and a tiny trained + exported model, built once per test session.

The generator tests run against this model (monkeypatched in as ``plugin.MODEL_DIR``) so they
do not depend on the shipped model: a few training steps, hidden size 16, in a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from assetgen_dialogue import corpus

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


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("dialogue_corpus"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, tiny_corpus: Path) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from assetgen_dialogue import tools

    root = tmp_path_factory.mktemp("dialogue_model")
    config = {**tools.DEFAULT_CONFIG, **TINY_CONFIG, "steps": 30}
    tools.train(root / "run", tiny_corpus, config, resume=False)
    tools.export(root / "run", root / "model")
    return root / "model"
