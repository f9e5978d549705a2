"""Test helper, run by torchrun (not collected by pytest): ``assetgen`` with every rank's state
recorded at each checkpoint.

    python -m torch.distributed.run --nproc_per_node 2 tests/distributed/ddp_train.py \
        RECORD_DIR train shoes --out RUN ...

Whenever the trainer checkpoints, each rank records the sha256 of every tensor it holds, so the
test can check that the ranks hold the same weights while only rank 0 writes the run folder:

* ``RECORD_DIR/rank<r>_step<s>.json``: every part given to ``TrainingRun.save_state`` (models,
  the EMA copy, optimisers; the shoes and portraits trainers);
* ``RECORD_DIR/rank<r>_checkpoint<n>.json``: the models the trainer handed to DDP or to the
  gradient averaging (every trainer, the dialogue one too), at its n-th checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import torch

from assetgen.cli import main
from assetgen.training import distributed
from assetgen.training import run as run_module


def tensor_hashes(state: Any, prefix: str = "") -> dict[str, str]:
    """sha256 of each tensor in a (nested) state dict, by its dotted path."""
    found: dict[str, str] = {}
    if isinstance(state, torch.Tensor):
        data = state.detach().cpu().contiguous()
        found[prefix] = hashlib.sha256(data.numpy().tobytes()).hexdigest()
    elif isinstance(state, dict):
        for key, value in state.items():
            found.update(tensor_hashes(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(state, (list, tuple)):
        for index, value in enumerate(state):
            found.update(tensor_hashes(value, f"{prefix}.{index}"))
    return found


def recording(record_dir: Path) -> Any:
    original = run_module.TrainingRun.save_state

    def save_state(self: Any, step: int, parts: dict[str, Any], rng: Any) -> None:
        hashes = {
            name: tensor_hashes(run_module._unwrapped(part).state_dict())
            for name, part in parts.items()
        }
        rank = int(os.environ.get("RANK", "0"))
        (record_dir / f"rank{rank}_step{step}.json").write_text(json.dumps(hashes, indent=1))
        original(self, step, parts, rng)

    return save_state


def capturing(record_dir: Path) -> None:
    """Remember the modules given to ``wrap`` and ``average_gradients``; hash them whenever a
    checkpoint gathers the ranks' states (``TrainingRun.rank_states``, on every rank)."""
    trained: dict[int, torch.nn.Module] = {}
    cls = distributed.Distributed
    wrap, average, rank_states = cls.wrap, cls.average_gradients, run_module.TrainingRun.rank_states

    def wrap_hook(self: Any, module: torch.nn.Module) -> torch.nn.Module:
        trained[id(module)] = module
        return wrap(self, module)

    def average_hook(self: Any, *modules: torch.nn.Module) -> None:
        trained.update((id(m), m) for m in modules)
        average(self, *modules)

    count = {"n": 0}

    def rank_states_hook(self: Any, **values: Any) -> dict[str, Any]:
        count["n"] += 1
        hashes = {str(i): tensor_hashes(m.state_dict()) for i, m in enumerate(trained.values())}
        rank = int(os.environ.get("RANK", "0"))
        path = record_dir / f"rank{rank}_checkpoint{count['n']}.json"
        path.write_text(json.dumps(hashes, indent=1))
        return rank_states(self, **values)

    cls.wrap = wrap_hook  # type: ignore[method-assign]
    cls.average_gradients = average_hook  # type: ignore[method-assign]
    run_module.TrainingRun.rank_states = rank_states_hook  # type: ignore[method-assign]


if __name__ == "__main__":
    record = Path(sys.argv[1])
    record.mkdir(parents=True, exist_ok=True)
    run_module.TrainingRun.save_state = recording(record)  # type: ignore[method-assign]
    capturing(record)
    sys.exit(main(sys.argv[2:]))
