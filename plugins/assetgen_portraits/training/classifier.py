"""The attribute classifier: trained on the real labelled portraits, used for attribute vectors,
edit discovery and evaluation (its features are the embedding for FID/KID and precision/recall).

Heads (all read from the data set's labels):

- binary: ``mouth_open`` (mouthState), ``eyes_closed`` (eyesState), ``glasses``, ``earrings``,
  ``details`` (birthmark, blush, freckles or mustache drawn), ``long_hair`` (hair variant
  ``long*``), ``bald`` (no hair drawn);
- ``hair_color`` (14 colours, named in ``HAIR_COLOURS``; bald faces are left out of this head)
  and ``skin`` (4 tones, ``SKIN_TONES``).

Run ``python -m assetgen_portraits.training.classifier --data data/portraits
--out runs/classifier.pt`` (``assetgen export portraits`` trains one itself when the run folder
has none).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from assetgen import write_atomic

from .stylegan import AttributeClassifier

HAIR_COLOURS = {
    "#0e0e0e": "black",
    "#e5d7a3": "platinum",
    "#b9a05f": "blonde",
    "#796a45": "ash_brown",
    "#85c2c6": "teal",
    "#6a4e35": "brown",
    "#562306": "dark_brown",
    "#afafaf": "grey",
    "#3eac2c": "green",
    "#dba3be": "pink",
    "#592454": "purple",
    "#ac6511": "copper",
    "#cb6820": "orange",
    "#ab2a18": "red",
}
SKIN_TONES = {"#f2d3b1": "light", "#ecad80": "tan", "#9e5622": "brown", "#763900": "dark"}
BINARY_HEADS = ("mouth_open", "eyes_closed", "glasses", "earrings", "details", "long_hair", "bald")
IGNORE = -100  # label value a head skips (cross_entropy's ignore_index)

CLASSIFIER_CONFIG: dict[str, Any] = {
    "steps": 2500,
    "batch_size": 64,
    "lr": 2e-3,
    "width": 16,
    "feature_dim": 128,
    "seed": 0,
}


def head_classes() -> dict[str, list[str]]:
    heads: dict[str, list[str]] = {name: ["no", "yes"] for name in BINARY_HEADS}
    heads["hair_color"] = list(HAIR_COLOURS.values())
    heads["skin"] = list(SKIN_TONES.values())
    return heads


def targets_from_labels(
    labels: np.ndarray, label_names: Sequence[str], vocab: dict[str, Sequence[str]]
) -> dict[str, np.ndarray]:
    """Per-head class indices (``IGNORE`` where a head does not apply) from coded labels."""
    col = {name: labels[:, i] for i, name in enumerate(label_names)}

    def values(name: str) -> np.ndarray:
        return np.asarray(vocab[name], dtype=object)[col[name]]

    hair = values("hair")
    out = {
        "mouth_open": values("mouthState") == "open",
        "eyes_closed": values("eyesState") == "closed",
        "glasses": values("glassesPresent") == "1",
        "earrings": values("earringsPresent") == "1",
        "details": values("detailsPresent") == "1",
        "long_hair": np.char.startswith(hair.astype(str), "long"),
        "bald": hair == "none",
    }
    targets = {k: v.astype(np.int64) for k, v in out.items()}
    hair_names = list(HAIR_COLOURS)
    hc = values("hairColor")
    targets["hair_color"] = np.array(
        [hair_names.index(h) if h in HAIR_COLOURS else IGNORE for h in hc], np.int64
    )
    skin_names = list(SKIN_TONES)
    targets["skin"] = np.array([skin_names.index(s) for s in values("skinColor")], np.int64)
    return targets


def load_labelled(npz_path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    with np.load(npz_path) as npz:
        names = [str(n) for n in npz["label_names"]]
        vocab = {n: [str(v) for v in npz[f"vocab_{n}"]] for n in names}
        return npz["images"], targets_from_labels(npz["labels"], names, vocab)


def to_input(images_u8: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images_u8)).permute(0, 3, 1, 2).float() / 127.5 - 1


def build(config: dict[str, Any]) -> AttributeClassifier:
    sizes = {k: len(v) for k, v in head_classes().items()}
    return AttributeClassifier(sizes, width=config["width"], feature_dim=config["feature_dim"])


def train_classifier(
    images: np.ndarray,
    targets: dict[str, np.ndarray],
    config: dict[str, Any],
    holdout: int,
    log: Any = sys.stderr,
) -> tuple[AttributeClassifier, dict[str, float]]:
    """Train on all but the last ``holdout`` images; report per-head accuracy on those."""
    torch.manual_seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    clf = build(config)
    opt = torch.optim.Adam(clf.parameters(), lr=config["lr"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, config["lr"], total_steps=config["steps"])
    n_train = len(images) - holdout
    started, last = time.monotonic(), 0.0
    clf.train()
    for step in range(1, config["steps"] + 1):
        idx = rng.integers(0, n_train, config["batch_size"])
        logits = clf(to_input(images[idx]))
        loss = sum(
            F.cross_entropy(logits[k], torch.from_numpy(targets[k][idx]), ignore_index=IGNORE)
            for k in logits
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[union-attr]
        opt.step()
        sched.step()
        now = time.monotonic()
        if now - last > 10 or step == config["steps"]:
            last = now
            rate = step / (now - started)
            print(
                f"classifier step {step}/{config['steps']} loss {loss.item():.3f} "
                f"{rate:.1f} it/s ETA {(config['steps'] - step) / rate / 60:.1f} min",
                file=log,
                flush=True,
            )
    clf.eval()
    accuracy = accuracy_on(clf, images[n_train:], {k: v[n_train:] for k, v in targets.items()})
    return clf, accuracy


def predict(
    clf: AttributeClassifier, images_u8: np.ndarray, batch: int = 256
) -> dict[str, np.ndarray]:
    """Per-head class probabilities, N x classes, for uint8 RGBA images."""
    outs: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for start in range(0, len(images_u8), batch):
            logits = clf(to_input(images_u8[start : start + batch]))
            for k, v in logits.items():
                outs.setdefault(k, []).append(torch.softmax(v, 1).numpy())
    return {k: np.concatenate(v) for k, v in outs.items()}


def features(clf: AttributeClassifier, images_u8: np.ndarray, batch: int = 256) -> np.ndarray:
    parts = []
    with torch.no_grad():
        for start in range(0, len(images_u8), batch):
            parts.append(clf.features(to_input(images_u8[start : start + batch])).numpy())
    return np.concatenate(parts).astype(np.float64)


def accuracy_on(
    clf: AttributeClassifier, images: np.ndarray, targets: dict[str, np.ndarray]
) -> dict[str, float]:
    probs = predict(clf, images)
    acc = {}
    for k, p in probs.items():
        keep = targets[k] != IGNORE
        acc[k] = float((p[keep].argmax(1) == targets[k][keep]).mean())
    return acc


def save(clf: AttributeClassifier, config: dict[str, Any], accuracy: dict[str, float], path: Path):
    buf = io.BytesIO()
    torch.save(
        {"state": clf.state_dict(), "config": json.dumps(config), "accuracy": json.dumps(accuracy)},
        buf,
    )
    write_atomic(path, buf.getvalue())


def load(path: Path) -> tuple[AttributeClassifier, dict[str, float]]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    clf = build(json.loads(state["config"]))
    clf.load_state_dict(state["state"])
    return clf.eval(), json.loads(state["accuracy"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assetgen_portraits.training.classifier",
        description="Train the portraits attribute classifier on the labelled data set.",
    )
    parser.add_argument("--data", type=Path, default=Path("data/portraits"))
    parser.add_argument("--out", type=Path, required=True, help="classifier .pt file to write")
    parser.add_argument("--holdout", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=CLASSIFIER_CONFIG["steps"])
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    path = args.data / "portraits_64.npz" if args.data.is_dir() else args.data
    if not path.is_file():
        print(f"error: --data: {path} not found", file=sys.stderr)
        return 2
    images, targets = load_labelled(path)
    config = {**CLASSIFIER_CONFIG, "steps": args.steps}
    clf, accuracy = train_classifier(images, targets, config, args.holdout)
    save(clf, config, accuracy, args.out)
    print(json.dumps({"held_out_accuracy": accuracy}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
