"""Data-parallel training over several processes: ``torchrun`` and DistributedDataParallel.

``assetgen train`` runs unchanged under ``torchrun``, which starts one process per GPU (or per
CPU share) and tells each its place through the environment (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``)::

    torchrun --nproc_per_node 4 -m assetgen train shoes --out runs/shoes4

A trainer that supports it calls :func:`setup` once it knows its device and gets a
:class:`Distributed` back: with ``WORLD_SIZE`` above 1 the process group is started (NCCL on
CUDA, Gloo on CPU), and the object then

* wraps models in DDP (:meth:`Distributed.wrap`) or averages gradients by hand
  (:meth:`Distributed.average_gradients`, for loops DDP does not fit, such as a lazy R1
  penalty taken with ``torch.autograd.grad``);
* shards the data: rank r of w draws its batches from items r, r + w, r + 2w... with its own
  random stream (:meth:`Distributed.shard`, :meth:`Distributed.rank_seed`), so every rank sees
  different batches and the effective batch is ``batch_size × WORLD_SIZE``;
* keeps the ranks' buffers (batch-norm statistics...) equal to rank 0's
  (:meth:`Distributed.sync_buffers`).

:class:`~assetgen.training.run.TrainingRun` does the rest: rank 0 alone writes the run folder
(config, checkpoints, samples, metrics); a checkpoint holds every rank's random state, and on
``--resume`` rank 0 reads it and sends it to the others, so all ranks continue from the same
weights. Without ``torchrun`` (``WORLD_SIZE`` unset or 1) nothing changes: :func:`setup`
returns a single-process object whose methods do nothing, and training is bit-for-bit what it
was.
"""

from __future__ import annotations

import gc
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist

from ..errors import AssetGenError, InvalidOptionsError

T = TypeVar("T")

#: Ranks' random seeds are spread this far apart (rank 0 keeps the configured seed).
RANK_SEED_STRIDE = 1_000_003


def world_size_from_env() -> int:
    """``WORLD_SIZE`` as torchrun sets it (1 when it is not set)."""
    try:
        return max(int(os.environ.get("WORLD_SIZE", "1")), 1)
    except ValueError:
        raise InvalidOptionsError(
            f"WORLD_SIZE must be an integer; got {os.environ.get('WORLD_SIZE')!r}"
        ) from None


@dataclass(frozen=True)
class Distributed:
    """This process's place among the training processes (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files and prints progress."""
        return self.rank == 0

    # -- data --------------------------------------------------------------------------------

    def rank_seed(self, seed: int) -> int:
        """The seed of this rank's random streams: ``seed`` itself on rank 0."""
        return seed + RANK_SEED_STRIDE * self.rank

    def reseed_torch(self, seed: int) -> None:
        """Give ranks other than 0 their own global PyTorch stream (noise, dropout) once the
        models are built; on rank 0 (and alone) the stream goes on untouched."""
        if self.rank:
            torch.manual_seed(self.rank_seed(seed))

    def shard(self, n: int) -> np.ndarray:
        """The indices of the ``n`` data items this rank draws from: every item alone, items
        ``rank, rank + world_size, ...`` under torchrun."""
        if n < self.world_size:
            raise InvalidOptionsError(
                f"the data set has {n} items, fewer than the {self.world_size} training "
                "processes; use fewer processes (--nproc_per_node) or more data"
            )
        return np.arange(self.rank, n, self.world_size, dtype=np.int64)

    # -- models ------------------------------------------------------------------------------

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """``module`` in DistributedDataParallel (gradients averaged over the ranks in
        backward), or ``module`` itself when alone. Buffers are not broadcast at every forward;
        :meth:`sync_buffers` copies rank 0's once per step instead."""
        if not self.enabled:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        kwargs: dict[str, Any] = {"device_ids": ids, "output_device": ids[0] if ids else None}
        # rank 0's parameters and buffers are copied to every rank here, once; not at every
        # forward (the option's name changed in PyTorch 2.13)
        if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters:
            kwargs["forward_sync_buffers"] = False
        else:
            kwargs["broadcast_buffers"] = False
        return DistributedDataParallel(module, **kwargs)

    def average_gradients(self, *modules: torch.nn.Module) -> None:
        """Average the gradients of ``modules`` over the ranks (one all-reduce), what DDP does
        inside backward; call it between ``backward()`` and ``optimizer.step()``. A parameter
        with no gradient on this rank counts as zero."""
        if not self.enabled:
            return
        params = [p for m in modules for p in m.parameters() if p.requires_grad]
        if not params:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n

    def sync_buffers(self, *modules: torch.nn.Module) -> None:
        """Copy rank 0's buffers (batch-norm running statistics, moving averages) to every
        rank, so that all ranks hold the same state; each rank updates them from its own batch
        in forward."""
        if not self.enabled:
            return
        for module in modules:
            for buffer in module.buffers():
                dist.broadcast(buffer, src=0)

    # -- agreement ---------------------------------------------------------------------------

    def from_main(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on rank 0 only and give its result (or raise its error) on every rank:
        a bad setting or an unreadable checkpoint stops all ranks with the same message."""
        if not self.enabled:
            return fn()
        box: list[Any] = [None]
        if self.is_main:
            try:
                box[0] = ("ok", fn())
            except AssetGenError as exc:
                box[0] = ("error", exc)
        dist.broadcast_object_list(box, src=0)
        kind, value = box[0]
        if kind == "error":
            raise value
        return value

    def gather(self, value: T) -> list[T]:
        """Every rank's ``value``, in rank order, on every rank (``[value]`` when alone)."""
        if not self.enabled:
            return [value]
        values: list[Any] = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def setup(device: torch.device) -> Distributed:
    """Join the training processes torchrun started (``WORLD_SIZE`` > 1), or stay alone.

    On CUDA each process takes the GPU ``LOCAL_RANK`` and the processes talk through NCCL;
    on CPU through Gloo. Returns this process's :class:`Distributed`, whose ``device`` is the
    one to train on.
    """
    world = world_size_from_env()
    if world <= 1:
        return Distributed(device=device)
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return Distributed(rank=rank, world_size=world, local_rank=local_rank, device=device)


def teardown(sync: bool = False) -> None:
    """Leave the process group, if this process joined one. ``sync`` (after a run that ended
    well): wait at a barrier first, so that no process tears its Gloo connections down while
    another is still using them (Gloo then aborts that worker with "terminate called without
    an active exception"). The trainer's DDP wrapper is usually left in a reference cycle that
    still holds the group; collecting it first lets the group shut its Gloo threads down here
    rather than during interpreter shutdown, where the same abort can happen even after the
    barrier."""
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        if sync:
            dist.barrier()
        dist.destroy_process_group()
