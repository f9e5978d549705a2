"""The shoes training data: the built set (``training.dataset_builder`` writes
``data/shoes_64.npz``) or a folder of your own art, its augmentation, and how real batches
are drawn across footwear types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from assetgen import InvalidOptionsError
from assetgen.training.image_folder import LABELS_FILE, is_image_folder, load_image_folder

from ..colour import colour_matrix

PACKAGE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_DATA = PACKAGE_DIR / "data" / "shoes_64.npz"


def load_data(data: Path | None) -> tuple[torch.Tensor, torch.Tensor, list[str], Path]:
    """Images in [-1, 1] (N x 4 x 64 x 64), type labels, type names, and the source read: the
    npz file of a built data set, or the folder of your own art."""
    path = data or DEFAULT_DATA
    if path.is_dir() and not (path / "shoes_64.npz").is_file() and is_image_folder(path):
        return (*_own_art(path), path)
    if path.is_dir():
        path = path / "shoes_64.npz"
    if not path.is_file():
        raise InvalidOptionsError(
            f"--data: {path} not found; build it with "
            "'python -m assetgen_shoes.training.dataset_builder --out DIR' or omit --data",
            parameter="--data",
        )
    with np.load(path) as npz:
        images = torch.from_numpy(npz["images"]).permute(0, 3, 1, 2).float() / 127.5 - 1
        labels = torch.from_numpy(npz["labels"]).long()
        names = [str(n) for n in npz["type_names"]]
    return images, labels, names, path


def _own_art(folder: Path) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """A folder of your own icons; labels.csv's ``type`` column names the classes (else one
    class, ``item``)."""
    loaded = load_image_folder(folder, 64)
    if loaded.labels and "type" not in loaded.labels:
        raise InvalidOptionsError(
            f"--data: {folder / LABELS_FILE} needs a 'type' column for shoes; it has "
            + ", ".join(sorted(loaded.labels)),
            parameter="--data",
        )
    types = loaded.labels.get("type", ["item"] * len(loaded.images))
    names = sorted(set(types))
    images = torch.from_numpy(loaded.images).permute(0, 3, 1, 2).float() / 127.5 - 1
    labels = torch.tensor([names.index(t) for t in types], dtype=torch.long)
    return images, labels, names


def augment_real(
    x: torch.Tensor, generator: torch.Generator, config: dict[str, Any]
) -> torch.Tensor:
    """Data pipeline: random horizontal flips and luma-preserving recolouring."""
    n = x.shape[0]
    flip = torch.rand(n, generator=generator) < config["flip_prob"]
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    recol = torch.rand(n, generator=generator) < config["recolour_prob"]
    hues = torch.rand(n, generator=generator) * 360 - 180
    mats = torch.stack([torch.from_numpy(colour_matrix(float(h))) for h in hues])
    rgb01 = (x[:, :3] + 1) / 2
    rotated = torch.einsum("nij,njhw->nihw", mats, rgb01).clamp(0, 1) * 2 - 1
    rgb = torch.where(recol[:, None, None, None], rotated, x[:, :3])
    return torch.cat([rgb, x[:, 3:]], dim=1)


#: How each ``balance`` setting weighs a type with n icons in the real batches: n (icons
#: evenly), sqrt(n) (between), 1 (types evenly).
BALANCE_POWER = {"icon": 1.0, "sqrt": 0.5, "type": 0.0}


def type_shares(labels: torch.Tensor, balance: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The types present in ``labels`` and the share of the real batches each gets under
    ``balance`` (its icon count to the power ``BALANCE_POWER[balance]``, normalised)."""
    kinds, counts = torch.unique(labels, return_counts=True)
    weights = counts.double() ** BALANCE_POWER[balance]
    return kinds, weights / weights.sum()


def real_sampler(labels: torch.Tensor, balance: str) -> Any:
    """``draw(n, rng)``: positions of ``n`` real icons among ``labels``: a type drawn with
    weight (its icon count) ** ``BALANCE_POWER[balance]``, then one of its icons evenly
    ("icon" draws the icons evenly in one step, the stream the shipped run used)."""
    if balance not in BALANCE_POWER:
        allowed = ", ".join(repr(k) for k in BALANCE_POWER)
        raise InvalidOptionsError(f"config balance={balance!r}: expected one of {allowed}")
    if balance == "icon":
        return lambda n, rng: torch.randint(0, len(labels), (n,), generator=rng)
    members = [torch.nonzero(labels == t).flatten() for t in torch.unique(labels)]
    counts = torch.tensor([len(m) for m in members])
    weights = type_shares(labels, balance)[1]
    flat = torch.cat(members)
    offsets = torch.cumsum(counts, 0) - counts

    def draw(n: int, rng: torch.Generator) -> torch.Tensor:
        kind = torch.multinomial(weights, n, replacement=True, generator=rng)
        within = (torch.rand(n, generator=rng) * counts[kind]).long()
        return flat[offsets[kind] + within]

    return draw
