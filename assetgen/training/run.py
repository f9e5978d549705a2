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
from .distributed import Distributed

CHECKPOINT = "checkpoint.pt"


class TrainingRun:
    """``RUN_DIR/config.json``, ``checkpoint.pt``, ``best.pt``, ``metrics.jsonl``, ``samples/``.

    Under torchrun (``dist`` from :func:`assetgen.training.distributed.setup`) rank 0 alone
    checks and writes the folder; :meth:`load` reads on rank 0 and hands the state to every
    rank, and :meth:`save_state` records every rank's random state. Methods that involve the
    other ranks (the constructor, :meth:`load`, :meth:`restore_state`, :meth:`save_state`,
    :meth:`rank_states`) must be called on every rank; :meth:`save`, :meth:`log` and
    :meth:`save_samples` write on rank 0 and do nothing elsewhere.
    """

    def __init__(
        self,
        directory: str | Path,
        config: dict[str, Any],
        *,
        resume: bool,
        dist: Distributed | None = None,
    ) -> None:
        self.dir = Path(directory)
        self.config = config
        self.dist = dist or Distributed()
        self.main = self.dist.is_main
        self.dist.from_main(lambda: self._prepare(resume))
        if self.dist.enabled:
            # every rank must train with the same settings: different ones mean a --config or
            # --set that differs, or a resumed run whose config.json only rank 0 can see
            first = self.dist.from_main(lambda: json.dumps(config, sort_keys=True))
            same = self.dist.gather(first == json.dumps(config, sort_keys=True))
            if not all(same):
                raise InvalidOptionsError(
                    f"the training processes have different settings (ranks "
                    f"{', '.join(str(r) for r, ok in enumerate(same) if not ok)} differ from "
                    "rank 0): give every node the same --config and --set, and on several "
                    "nodes keep --out and --data on storage every node sees",
                    parameter="--out",
                )
        self._start = time.monotonic()

    def _prepare(self, resume: bool) -> None:
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
        text = json.dumps(self.config, indent=2, sort_keys=True) + "\n"
        write_atomic(config_path, text.encode())

    def save(self, state: dict[str, Any], name: str = CHECKPOINT) -> None:
        """Write ``state`` atomically (rank 0 only)."""
        if not self.main:
            return
        buf = io.BytesIO()
        torch.save(state, buf)
        write_atomic(self.dir / name, buf.getvalue())

    def load(self, name: str = CHECKPOINT) -> dict[str, Any]:
        """The saved state, on every rank (read by rank 0, sent to the others)."""
        return self.dist.from_main(lambda: self._load_file(name))

    def _load_file(self, name: str) -> dict[str, Any]:
        return load_checkpoint(self.dir / name)

    def rank_states(self, **values: Any) -> dict[str, Any]:
        """Under torchrun, ``{key}_ranks``: every rank's value of each ``key``, to store in a
        checkpoint beside rank 0's own (``{}`` when alone). Call it on every rank."""
        if not self.dist.enabled:
            return {}
        return {f"{key}_ranks": self.dist.gather(value) for key, value in values.items()}

    def own_state(self, state: dict[str, Any], key: str) -> Any:
        """This rank's ``key`` from a checkpoint (see :meth:`rank_states`), or None when the
        checkpoint has none for it (it was written by fewer processes)."""
        ranks = state.get(f"{key}_ranks")
        if ranks is not None and self.dist.rank < len(ranks):
            return ranks[self.dist.rank]
        return state.get(key) if self.dist.is_main else None

    def save_state(self, step: int, parts: dict[str, Any], rng: torch.Generator) -> None:
        """The usual checkpoint: each part's ``state_dict`` under its name (models and
        optimisers), the data and PyTorch random states (every rank's under torchrun), the step
        and the recorded config."""
        ranks = self.rank_states(rng=rng.get_state(), torch_rng=torch.get_rng_state())
        if not self.main:
            return
        state = {name: _unwrapped(part).state_dict() for name, part in parts.items()}
        state.update(
            rng=rng.get_state(),
            torch_rng=torch.get_rng_state(),
            step=step,
            config=json.dumps(self.config),
        )
        if self.dist.enabled:
            state.update(ranks, world_size=self.dist.world_size)
        self.save(state)

    def restore_state(self, parts: dict[str, Any], rng: torch.Generator) -> int:
        """Load what :meth:`save_state` wrote back into ``parts`` and ``rng``; returns the step.

        Every rank loads the same weights. A rank the checkpoint has no random state for (the
        run now has more processes than when it was saved) starts fresh streams from its
        seed and the step."""
        state = self.load()
        for name, part in parts.items():
            _unwrapped(part).load_state_dict(state[name])
        step = int(state["step"])
        data_rng, torch_rng = self.own_state(state, "rng"), self.own_state(state, "torch_rng")
        if data_rng is None or torch_rng is None:
            seed = self.dist.rank_seed(int(self.config.get("seed", 0))) + step
            rng.manual_seed(seed)
            torch.manual_seed(seed)
        else:
            rng.set_state(data_rng)
            torch.set_rng_state(torch_rng)
        saved_world = int(state.get("world_size", 1))
        if self.main:
            print(f"resuming from step {step}", file=sys.stderr)
            if saved_world != self.dist.world_size:
                print(
                    f"note: the checkpoint was written by {saved_world} process(es), this run "
                    f"has {self.dist.world_size}: the data streams differ from an unbroken run",
                    file=sys.stderr,
                )
        return step

    def log(self, step: int, **metrics: float) -> None:
        if not self.main:
            return
        record = {"step": step, "elapsed_s": round(time.monotonic() - self._start, 1), **metrics}
        if self.dist.enabled:
            record["world_size"] = self.dist.world_size
        with open(self.dir / "metrics.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def save_text_samples(self, text: str, step: int) -> Path:
        """Sample lines of a text model as ``samples/step_NNNNNNN.txt`` (rank 0 only)."""
        path = self.dir / "samples" / f"step_{step:07d}.txt"
        if self.main:
            write_atomic(path, text.encode())
        return path

    def save_samples(self, images: np.ndarray, step: int) -> Path:
        """A contact sheet (on a checkerboard, so transparency shows) of N×H×W×4 uint8 images
        (rank 0 only)."""
        path = self.dir / "samples" / f"step_{step:07d}.png"
        if self.main:
            write_atomic(path, contact_sheet(images))
        return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint file's state, on the CPU. It is read with ``weights_only=True`` (a
    checkpoint is data, never code to execute): one that holds more is refused."""
    try:
        state: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelError(
            f"checkpoint {path} holds more than tensors and plain data, so it is not loaded "
            f"(checkpoints are read with weights_only=True): {_first_line(exc)}"
        ) from None
    return state


def read_checkpoint(run_dir: Path, *names: str) -> tuple[dict[str, Any], str]:
    """The first of ``names`` (``checkpoint.pt`` when none are given) that ``run_dir`` holds,
    loaded by :func:`load_checkpoint`, and its name; :class:`ModelError` when there is none."""
    names = names or (CHECKPOINT,)
    for name in names:
        if (Path(run_dir) / name).is_file():
            return load_checkpoint(Path(run_dir) / name), name
    raise ModelError(f"no {' or '.join(names)} in {run_dir}")


def _unwrapped(part: Any) -> Any:
    """A model inside DistributedDataParallel is saved and loaded as the model itself, so a
    checkpoint does not depend on how many processes wrote it."""
    from torch.nn.parallel import DistributedDataParallel

    return part.module if isinstance(part, DistributedDataParallel) else part


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
