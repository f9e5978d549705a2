"""Loading the portraits training data: the data set ``dataset_builder`` builds
(an npz of 64 x 64 RGBA images and their labels) or a folder of your own art. Shared by the
training loop (``unconditional_train``), the DCGAN baseline (``baseline``) and the evaluation
(``evaluate_unconditional``), which is why it is a module of its own: they import it, not one
another."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from assetgen import InvalidOptionsError
from assetgen.training.image_folder import is_image_folder, load_image_folder

DATA_FILE = "portraits_64.npz"
BUILD_HINT = (
    "build it with 'python -m assetgen_portraits.training.dataset_builder --out data/portraits "
    "--count 30000 --seed 0 --pairs 2000 --no-png'"
)


def default_data_dir() -> Path:
    return Path("data") / "portraits"


def load_images(data: Path | None) -> tuple[np.ndarray, np.ndarray, list[str], Path]:
    """uint8 N x 64 x 64 x 4 images, int labels N x K, label names, the npz path."""
    path = data or default_data_dir()
    if path.is_dir() and not (path / DATA_FILE).is_file() and is_image_folder(path):
        # your own art: prepared by the documented rules, unlabelled for this generator
        folder = load_image_folder(path, 64)
        return folder.images, np.zeros((len(folder.images), 0), np.int64), [], path
    if path.is_dir():
        path = path / DATA_FILE
    if not path.is_file():
        raise InvalidOptionsError(f"--data: {path} not found; {BUILD_HINT}", parameter="--data")
    with np.load(path) as npz:
        images = npz["images"]
        labels = npz["labels"].astype(np.int64)
        names = [str(n) for n in npz["label_names"]]
    return images, labels, names, path


def to_model_range(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
