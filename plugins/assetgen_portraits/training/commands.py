"""What ``assetgen train | export | eval portraits`` call (the generator's ``training`` module:
:class:`assetgen.training_tools.TrainingTools`): one entry for both portrait models, sent by
``conditioning`` to the label model (``train``, ``export``, ``evaluate``) or the unconditional
StyleGAN (``unconditional_train``, ``unconditional_export``, ``evaluate_unconditional``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assetgen import InvalidOptionsError, ModelError
from assetgen.training.image_folder import is_image_folder

from . import train as label_training
from . import unconditional_train
from .evaluate import LABEL_EVAL_CONFIG
from .evaluate import evaluate as evaluate_labels
from .evaluate_unconditional import EVAL_CONFIG as UNCONDITIONAL_EVAL_CONFIG
from .evaluate_unconditional import evaluate as evaluate_unconditional
from .lipsync_eval import LIPSYNC_EVAL_CONFIG
from .lipsync_eval import evaluate as evaluate_lipsync

DEFAULT_CONFIG: dict[str, Any] = {
    # labels: the label-conditioned renderer (train.py), trained on the DiceBear labels; none:
    # the unconditional StyleGAN (unconditional_train.py), for unlabelled art of your own; auto:
    # none for a folder of images, labels otherwise
    "conditioning": "auto",
    "seed": 0,
    "device": "auto",  # auto: the GPU when PyTorch sees one, else the CPU
    "steps": 12000,
    "batch_size": 16,
    "z_dim": 128,
    "w_dim": 128,
    "mapping_layers": 4,
    "channels": {},  # {} = model.DEFAULT_CHANNELS; e.g. {"4": 256, ..., "64": 64} on a GPU
    "d_channels": {},  # {} = the generator's
    "lr": 0.002,
    "r1_gamma": 0.2,  # 0.05 (with no augmentation) collapsed to one face by step 2,000
    "r1_every": 16,
    "style_mixing": 0.5,
    "ema_kimg": 10.0,  # EMA half-life in thousands of images
    "ema_rampup": 0.05,  # ... but at most this share of the images seen so far
    # DiffAugment on D's inputs: keeps D from overpowering G at batch 16 (run without it
    # collapsed; runs/portraits-b with it kept hair and skin varied)
    "augment": ["translation", "color"],
    "holdout": 2000,  # the last N images of the data set are never trained on (evaluation)
    "sample_every": 500,
    "checkpoint_every": 250,
    "threads": 0,  # 0: PyTorch's default
    # conditioning=labels only (train.py); the keys above without "label_" in their
    # name that it uses: seed, device, holdout, checkpoint_every, threads
    **label_training.LABEL_TRAIN_CONFIG,
}
CONDITIONING = ("auto", "labels", "none")

#: ``assetgen train portraits`` runs under torchrun (docs/distributed.md); batch_size per process.
SUPPORTS_DISTRIBUTED = True


def train(out: Path, data: Path | None, config: dict[str, Any], resume: bool) -> None:
    if config["conditioning"] not in CONDITIONING:
        raise InvalidOptionsError(
            f"conditioning must be one of {', '.join(CONDITIONING)}; "
            f"got {config['conditioning']!r}",
            parameter="conditioning",
        )
    own_art = data is not None and Path(data).is_dir() and is_image_folder(Path(data))
    if config["conditioning"] == "auto":
        config = {**config, "conditioning": "none" if own_art else "labels"}
    if config["conditioning"] == "labels":
        if own_art:
            raise InvalidOptionsError(
                f"--data: {data} is a folder of unlabelled images; conditioning=labels needs "
                "the labelled DiceBear set: pass --set conditioning=none to train on your art",
                parameter="--data",
            )
        label_training.train(out, data, config, resume)
        return
    unconditional_train.train(out, data, config, resume)


def _run_conditioning(run_dir: Path) -> str:
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "none"
    return str(config.get("conditioning", "none"))


def export(run_dir: Path, out: Path) -> Path:
    if _run_conditioning(run_dir) == "labels":
        from .export import export as export_labels

        return export_labels(run_dir, out)
    from .unconditional_export import export as export_unconditional

    return export_unconditional(run_dir, out)


#: read by `assetgen eval`: the label evaluation's settings, and the unconditional one's
EVAL_CONFIG = {**UNCONDITIONAL_EVAL_CONFIG, **LABEL_EVAL_CONFIG}


#: extra evaluations `assetgen eval NAME` finds here: name -> (function, default config)
EVALUATIONS = {"lipsync": (evaluate_lipsync, LIPSYNC_EVAL_CONFIG)}


def evaluate(model_dir: Path | None, out: Path | None, config: dict[str, Any]) -> dict[str, Any]:
    from .. import plugin

    folder = model_dir or plugin.MODEL_DIR
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder / 'manifest.json'}: {exc}") from None
    if manifest.get("conditioning") == "labels":
        return evaluate_labels(model_dir, out, {k: config[k] for k in LABEL_EVAL_CONFIG})
    return evaluate_unconditional(
        model_dir, out, {k: config[k] for k in UNCONDITIONAL_EVAL_CONFIG}
    )
