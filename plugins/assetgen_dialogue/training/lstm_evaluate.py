"""Evaluate a character LSTM model folder (``assetgen_dialogue.tools.evaluate``): held-out
nats per character through the exported step graph against a unigram and a Kneser-Ney
baseline, and figures on lines generated through the engine (distinct n-grams, copied lines,
known words, an archetype classifier's accuracy)."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from assetgen import write_atomic

from .baselines import (
    KneserNey,
    NaiveBayes,
    distinct_n,
    target_nats,
    unigram_nats_per_char,
    words_of,
)
from .lstm_data import DEFAULT_DATA, Split, data_dir, encode_split
from .lstm_export import ONNX_NAME, VOCAB_NAME
from .lstm_model import PAD, SPECIAL_TOKENS
from .records import read_records

EVAL_CONFIG: dict[str, Any] = {
    "data": str(DEFAULT_DATA),
    "seed": 1234,
    "per_archetype": 50,
    "temperature": 0.8,
    "top_k": 0,
    "top_p": 1.0,
    "max_chars": 240,
    "kn_order": 5,  # 0 skips the Kneser-Ney baseline
    "batch_size": 256,
    "novel_min_chars": 30,
    "archetype_guidance": 0.0,  # the generator option of that name, for the generated lines
}


def onnx_nats_per_char(
    session: Any,
    manifest: dict[str, Any],
    split: Split,
    archetypes: np.ndarray,
    batch: int = 256,
) -> float:
    """Mean nats per predicted symbol of a split, run through the exported step graph."""
    layers, hidden = manifest["layers"], manifest["hidden"]
    order = np.argsort(split.lengths, kind="stable")
    total, symbols = 0.0, 0
    for start in range(0, len(order), batch):
        index = order[start : start + batch]
        tokens, _ = split.batch(index)
        tok = tokens.numpy()
        arch = archetypes[index]
        h = np.zeros((layers, len(index), hidden), np.float32)
        c = np.zeros_like(h)
        for t in range(tok.shape[1] - 1):
            logits, h, c = session.run(None, {"char": tok[:, t], "archetype": arch, "h": h, "c": c})
            target = tok[:, t + 1]
            live = target != PAD
            if not live.any():
                break
            total += target_nats(logits[live], target[live])
            symbols += int(live.sum())
    return total / max(symbols, 1)


def evaluate(model_dir: Path | None, out: Path | None, config: dict[str, Any]) -> dict[str, Any]:
    """Held-out nats/char (ONNX step graph) vs baselines, and figures on generated lines."""
    from assetgen import Engine, Runtime

    from .. import plugin

    if model_dir is not None:
        plugin.MODEL_DIR = model_dir.resolve()
    path = data_dir(config["data"])
    bundle = Runtime("cpu").load_model(plugin.MODEL_DIR)
    manifest = bundle.manifest
    vocab_doc = json.loads(bundle.path(VOCAB_NAME).read_text(encoding="utf-8"))
    chars = vocab_doc["tokens"][len(SPECIAL_TOKENS) :]
    archetypes = list(vocab_doc["archetypes"])
    train_records = read_records(path, "train")
    test_records = read_records(path, "test")
    test = encode_split(test_records, chars, archetypes)
    session = bundle.session(ONNX_NAME)
    started = time.monotonic()
    nats = onnx_nats_per_char(session, manifest, test, test.archetypes, config["batch_size"])
    # the same lines told a wrong speaker (a random other archetype): how much the model
    # relies on the archetype it is given
    rng = np.random.default_rng(config["seed"])
    shift = rng.integers(1, len(archetypes), size=len(test.archetypes))
    wrong = (test.archetypes + shift) % len(archetypes)
    nats_wrong = onnx_nats_per_char(session, manifest, test, wrong, config["batch_size"])
    print(f"test nats/char {nats:.4f} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    train_texts = [r["text"] for r in train_records]
    test_texts = test.texts
    unigram = unigram_nats_per_char(train_texts, test_texts)
    kn = None
    if config["kn_order"]:
        started = time.monotonic()
        model_kn = KneserNey(train_texts, config["kn_order"], len(chars) + 1)
        kn = model_kn.nats_per_char(test_texts)
        print(
            f"{config['kn_order']}-gram Kneser-Ney {kn:.4f} nats/char "
            f"({time.monotonic() - started:.0f} s)",
            file=sys.stderr,
        )
    # generated lines through the engine (the runtime path a game uses)
    engine = Engine(device="cpu", plugins=["dialogue"])
    per = config["per_archetype"]
    generated: dict[str, list[str]] = {}
    started = time.monotonic()
    for k, name in enumerate(archetypes):
        # a seed range of its own per archetype: shared seeds would share random draws and
        # make the archetypes' lines look more alike than the model makes them
        assets = engine.generate(
            "dialogue",
            seed=config["seed"] + k * per,
            count=per,
            archetype=name,
            temperature=config["temperature"],
            top_k=config["top_k"],
            top_p=config["top_p"],
            max_chars=config["max_chars"],
            archetype_guidance=config["archetype_guidance"],
        )
        generated[name] = [a.text for a in assets]  # type: ignore[union-attr]
    seconds = time.monotonic() - started
    all_lines = [line for lines in generated.values() for line in lines]
    chars_generated = sum(len(line) + 1 for line in all_lines)
    corpus_text = "\n".join(train_texts)
    train_set = set(train_texts)
    long_lines = [line for line in all_lines if len(line) >= config["novel_min_chars"]]
    copied_long = [line for line in long_lines if line in corpus_text]
    words_corpus = {w for t in train_texts for w in words_of(t)}
    gen_words = [w for line in all_lines for w in words_of(line)]
    nb = NaiveBayes(
        train_texts, [archetypes.index(r["archetype"]) for r in train_records], len(archetypes)
    )
    real_hits = [nb.predict(t) == a for t, a in zip(test_texts, test.archetypes, strict=True)]
    real_per_class = [
        float(np.mean([h for h, a in zip(real_hits, test.archetypes, strict=True) if a == k]))
        for k in range(len(archetypes))
        if (test.archetypes == k).any()
    ]
    gen_hits = {
        name: float(np.mean([nb.predict(line) == k for line in generated[name]]))
        for k, name in enumerate(archetypes)
    }
    report: dict[str, Any] = {
        "model_dir": str(plugin.MODEL_DIR),
        "test_lines": len(test_texts),
        "test_symbols_note": "every character of each line plus its end-of-line symbol",
        "test_nats_per_char": nats,
        "test_bits_per_char": nats / math.log(2),
        "test_nats_per_char_wrong_archetype": nats_wrong,
        "unigram_nats_per_char": unigram,
        "kneser_ney_order": config["kn_order"] or None,
        "kneser_ney_nats_per_char": kn,
        "improvement_over_kneser_ney": None if kn is None else 1 - nats / kn,
        "generated_lines": len(all_lines),
        "generation_chars_per_s": chars_generated / max(seconds, 1e-9),
        "mean_generated_chars": float(np.mean([len(x) for x in all_lines])),
        "distinct_1": distinct_n(all_lines, 1),
        "distinct_2": distinct_n(all_lines, 2),
        "distinct_3": distinct_n(all_lines, 3),
        "copied_line_share": float(np.mean([x in train_set for x in all_lines])),
        f"lines_of_{config['novel_min_chars']}+_chars": len(long_lines),
        "novel_share_long_lines": 1 - len(copied_long) / len(long_lines) if long_lines else None,
        "known_word_share": float(np.mean([w in words_corpus for w in gen_words]))
        if gen_words
        else None,
        "archetype_classifier_balanced_accuracy_real_test": float(np.mean(real_per_class)),
        "archetype_classifier_accuracy_generated": float(np.mean(list(gen_hits.values()))),
        "archetype_classifier_accuracy_generated_per_archetype": gen_hits,
        "archetype_chance": 1 / len(archetypes),
        "samples": {name: lines[:5] for name, lines in generated.items()},
        "command": "assetgen eval dialogue "
        + " ".join(f"--set {k}={v}" for k, v in config.items()),
    }
    if out is not None:
        write_atomic(out, (json.dumps(report, indent=2) + "\n").encode())
    return report
