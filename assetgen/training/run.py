"""A training run folder: recorded config, atomic checkpoints, metrics log, sample sheets."""

from __future__ import annotations

import io
import json
import math
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InvalidOptionsError, ModelError
from ..exporting import write_atomic

CHECKPOINT = "checkpoint.pt"


class TrainingRun:
    """``RUN_DIR/config.json``, ``checkpoint.pt``, ``best.pt``, ``metrics.jsonl``, ``samples/``."""

    def __init__(self, directory: str | Path, config: dict[str, Any], *, resume: bool) -> None:
        self.dir = Path(directory)
        self.config = config
        config_path = self.dir / "config.json"
        if resume:
            if not (self.dir / CHECKPOINT).is_file():
                raise InvalidOptionsError(
                    f"--resume: no {CHECKPOINT} in {self.dir}; start without --resume",
                    parameter="--resume",
                )
        elif (self.dir / CHECKPOINT).exists():
            raise InvalidOptionsError(
                f"{self.dir} already holds a run; pass --resume to continue it or choose "
                "another --out",
                parameter="--out",
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "samples").mkdir(exist_ok=True)
        write_atomic(config_path, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
        self._start = time.monotonic()

    def save(self, state: dict[str, Any], name: str = CHECKPOINT) -> None:
        buf = io.BytesIO()
        torch.save(state, buf)
        write_atomic(self.dir / name, buf.getvalue())

    def load(self, name: str = CHECKPOINT) -> dict[str, Any]:
        # weights_only: a checkpoint is data, never code to execute
        path = self.dir / name
        try:
            state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise ModelError(
                f"checkpoint {path} holds more than tensors and plain data, so it is not loaded "
                f"(checkpoints are read with weights_only=True): {_first_line(exc)}"
            ) from None
        return state

    def save_state(self, step: int, parts: dict[str, Any], rng: torch.Generator) -> None:
        """The usual checkpoint: each part's ``state_dict`` under its name (models and
        optimisers), the data and PyTorch random states, the step and the recorded config."""
        state = {name: part.state_dict() for name, part in parts.items()}
        state.update(
            rng=rng.get_state(),
            torch_rng=torch.get_rng_state(),
            step=step,
            config=json.dumps(self.config),
        )
        self.save(state)

    def restore_state(self, parts: dict[str, Any], rng: torch.Generator) -> int:
        """Load what :meth:`save_state` wrote back into ``parts`` and ``rng``; returns the step."""
        state = self.load()
        for name, part in parts.items():
            part.load_state_dict(state[name])
        rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        step = int(state["step"])
        print(f"resuming from step {step}", file=sys.stderr)
        return step

    def log(self, step: int, **metrics: float) -> None:
        record = {"step": step, "elapsed_s": round(time.monotonic() - self._start, 1), **metrics}
        with open(self.dir / "metrics.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def save_samples(self, images: np.ndarray, step: int) -> Path:
        """A contact sheet (on a checkerboard, so transparency shows) of N×H×W×4 uint8 images."""
        path = self.dir / "samples" / f"step_{step:07d}.png"
        write_atomic(path, contact_sheet(images))
        return path


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def contact_sheet(images: np.ndarray, columns: int | None = None, scale: int = 2) -> bytes:
    from PIL import Image

    n, h, w, _ = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    yy, xx = np.mgrid[0 : rows * h, 0 : columns * w]
    checker = np.where(((yy // 8) + (xx // 8)) % 2 == 0, 200, 240).astype(np.float32)
    canvas = np.repeat(checker[..., None], 3, axis=2)
    for i, img in enumerate(images):
        y, x = (i // columns) * h, (i % columns) * w
        alpha = img[..., 3:4].astype(np.float32) / 255.0
        region = canvas[y : y + h, x : x + w]
        canvas[y : y + h, x : x + w] = img[..., :3] * alpha + region * (1 - alpha)
    pil = Image.fromarray(canvas.astype(np.uint8))
    pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


def to_uint8_rgba(images: torch.Tensor) -> np.ndarray:
    """N×4×H×W in [-1, 1] -> N×H×W×4 uint8 (the same conversion the runtime uses)."""
    arr = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return arr.permute(0, 2, 3, 1).cpu().numpy()


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InvalidOptionsError("config device='cuda' but no CUDA GPU is visible to PyTorch")
    return torch.device(name)
