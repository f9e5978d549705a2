"""Train the character LSTM (the shipped ``shakespeare`` dialogue model; ``assetgen train
dialogue`` trains the GPT of :mod:`.train`, and ``assetgen_dialogue.tools`` runs this one).

The loss is the mean negative log-likelihood per predicted symbol (every character and the end
of the line), in nats; the speaker's archetype is fed at every step.

``DEFAULT_CONFIG`` is sized for a small CPU (2 cores): a 2×256 LSTM (0.9 M parameters),
batches of 64 lines, 6,000 steps: about 40 M predicted characters, 11 passes over the training
plays: about 32-35 minutes on 2 idle vCPUs (2.9-3.2 it/s, ~19,000 chars/s), validation
passes (~4 s each, 12 of them) and checkpoints included. Another job on the same cores slows
it several times over; ``threads=1`` then helps. On a GPU (``device`` ``auto`` picks it) the
same time trains a larger model, e.g. ``--set hidden=512 --set batch_size=128 --set
steps=12000`` (a suggestion, not a measured configuration).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from assetgen import InvalidOptionsError
from assetgen.training import distributed
from assetgen.training.loop import StepProgress
from assetgen.training.run import TrainingRun, pick_device, read_checkpoint

from .lstm_data import (
    DEFAULT_DATA,
    BatchSchedule,
    Split,
    build_vocab,
    corpus_archetypes,
    data_dir,
    encode_split,
)
from .lstm_model import BOS, EOS, PAD, SPECIAL_TOKENS, DialogueLSTM
from .records import read_records
from .train import lr_at, optimizer_step

DEFAULT_CONFIG: dict[str, Any] = {
    "seed": 0,
    "device": "auto",  # auto: the GPU when PyTorch sees one, else the CPU
    "steps": 6000,
    "batch_size": 64,
    "hidden": 256,
    "layers": 2,
    "char_dim": 64,
    "archetype_dim": 16,
    "dropout": 0.1,
    "lr": 2e-3,
    "min_lr_ratio": 0.05,  # cosine decay from lr to lr * min_lr_ratio at the last step
    "warmup_steps": 100,
    "weight_decay": 0.0,
    "grad_clip": 1.0,
    "val_every": 500,
    "val_max_lines": 0,  # 0: the whole validation split (~2,800 lines)
    "checkpoint_every": 250,
    "sample_every": 500,
    "threads": 0,  # 0: PyTorch's default
}

#: the loop runs under torchrun too (docs/distributed.md): ``batch_size`` is then per process.
SUPPORTS_DISTRIBUTED = True


def make_model(config: dict[str, Any], vocab_size: int, num_archetypes: int) -> DialogueLSTM:
    return DialogueLSTM(
        vocab_size,
        num_archetypes,
        hidden=config["hidden"],
        layers=config["layers"],
        char_dim=config["char_dim"],
        archetype_dim=config["archetype_dim"],
        dropout=config["dropout"],
    )


def sequence_loss(
    model: DialogueLSTM, tokens: torch.Tensor, archetypes: torch.Tensor
) -> tuple[torch.Tensor, int]:
    """Summed NLL (nats) of every symbol after <bos>, and how many symbols that was."""
    logits, _ = model(tokens[:, :-1], archetypes)
    targets = tokens[:, 1:]
    loss = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        targets.reshape(-1),
        ignore_index=PAD,
        reduction="sum",
    )
    return loss, int((targets != PAD).sum())


@torch.no_grad()
def split_nats_per_char(
    model: DialogueLSTM, split: Split, device: torch.device, max_lines: int = 0, batch: int = 128
) -> float:
    """Mean nats per predicted symbol over (the first ``max_lines`` of) a split."""
    was_training = model.training
    model.eval()
    count = len(split.lines) if not max_lines else min(max_lines, len(split.lines))
    order = np.argsort(split.lengths[:count], kind="stable")
    total, symbols = 0.0, 0
    for start in range(0, count, batch):
        tokens, arch = split.batch(order[start : start + batch])
        loss, n = sequence_loss(model, tokens.to(device), arch.to(device))
        total += float(loss)
        symbols += n
    model.train(was_training)
    return total / max(symbols, 1)


@torch.no_grad()
def sample_lines(
    model: DialogueLSTM,
    vocab: Sequence[str],
    archetype_ids: Sequence[int],
    device: torch.device,
    *,
    temperature: float = 0.8,
    max_chars: int = 200,
    seed: int = 0,
) -> list[str]:
    """Sample one line per archetype id with PyTorch (for the training sample files)."""
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    n = len(archetype_ids)
    arch = torch.tensor(list(archetype_ids), dtype=torch.long, device=device)
    state = model.initial_state(n, device)
    token = torch.full((n, 1), BOS, dtype=torch.long, device=device)
    out: list[list[int]] = [[] for _ in range(n)]
    done = [False] * n
    for _ in range(max_chars + 1):
        logits, state = model(token, arch, state)
        logits = logits[:, -1].float().cpu() / temperature
        logits[:, PAD] = logits[:, BOS] = -math.inf
        token_cpu = torch.multinomial(torch.softmax(logits, dim=1), 1, generator=gen)
        for k in range(n):
            t = int(token_cpu[k, 0])
            if t == EOS:
                done[k] = True
            elif not done[k]:
                out[k].append(t)
        if all(done):
            break
        token = token_cpu.to(device)
    model.train(was_training)
    offset = len(SPECIAL_TOKENS)
    return ["".join(vocab[t - offset] for t in ids) for ids in out]



def train(out: Path, data: Path | None, config: dict[str, Any], resume: bool) -> None:
    if config["threads"]:
        torch.set_num_threads(config["threads"])
    dist = distributed.setup(pick_device(config["device"]))
    device = dist.device
    recorded = out / "config.json"
    if data is None and resume and recorded.is_file():
        # a resumed run reads the corpus it started with unless --data says otherwise
        data = Path(json.loads(recorded.read_text(encoding="utf-8")).get("data", DEFAULT_DATA))
    path = data_dir(data)
    train_records = read_records(path, "train")
    val_records = read_records(path, "val")
    archetypes = corpus_archetypes(path)
    vocab = build_vocab(train_records)
    config = {**config, "data": str(path), "vocab": vocab, "archetypes": archetypes}
    run = TrainingRun(out, config, resume=resume, dist=dist)
    train_split = encode_split(train_records, vocab, archetypes)
    val_split = encode_split(val_records, vocab, archetypes)
    torch.manual_seed(config["seed"])
    model = make_model(config, len(SPECIAL_TOKENS) + len(vocab), len(archetypes)).to(device)
    dist.reseed_torch(config["seed"])  # each rank its own dropout (rank 0: unchanged)
    opt = torch.optim.AdamW(
        model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"]
    )
    step, best_val = 0, math.inf
    if resume:
        state = run.load()
        saved = json.loads(state["config"])
        if saved["vocab"] != vocab or saved["archetypes"] != archetypes:
            raise InvalidOptionsError(
                f"--resume: the corpus in {path} has a different vocabulary or archetype list "
                "than the checkpoint; resume with the data the run started with",
                parameter="--data",
            )
        try:
            model.load_state_dict(state["model"])
        except RuntimeError as exc:
            raise InvalidOptionsError(
                "--resume: the checkpoint does not fit the model settings (hidden, layers, "
                f"char_dim, archetype_dim must not change): {str(exc).splitlines()[0]}",
                parameter="--resume",
            ) from None
        opt.load_state_dict(state["opt"])
        step, best_val = int(state["step"]), float(state["best_val"])
        torch_rng, cuda_rng = run.own_state(state, "torch_rng"), run.own_state(state, "cuda_rng")
        if torch_rng is not None:
            torch.set_rng_state(torch_rng)
        else:  # a rank the checkpoint has no state for (written by fewer processes)
            torch.manual_seed(dist.rank_seed(config["seed"]) + step)
        if device.type == "cuda" and cuda_rng is not None:
            torch.cuda.set_rng_state(cuda_rng, device)
        if dist.is_main:
            print(f"resuming from step {step}", file=sys.stderr)
    n_params = sum(p.numel() for p in model.parameters())
    if dist.is_main:
        print(
            f"dialogue LSTM: {n_params / 1e6:.2f} M parameters, vocabulary {len(vocab)} + "
            f"{len(SPECIAL_TOKENS)} special, {len(archetypes)} archetypes, "
            f"{len(train_split.lines)} training lines, device {device}"
            + (
                f"; {dist.world_size} processes: effective batch {config['batch_size']} x "
                f"{dist.world_size} = {config['batch_size'] * dist.world_size}"
                if dist.enabled
                else ""
            ),
            file=sys.stderr,
        )
    # this process's share of the lines (all of them when alone), in batches of batch_size
    shard = dist.shard(len(train_split.lines))
    schedule = BatchSchedule(train_split.lengths[shard], config["batch_size"], config["seed"])
    train_model = dist.wrap(model)  # DDP under torchrun, else the model itself

    def checkpoint() -> None:
        cuda_rng = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
        ranks = run.rank_states(torch_rng=torch.get_rng_state(), cuda_rng=cuda_rng)
        run.save(
            {
                "model": model.state_dict(),
                "opt": opt.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": cuda_rng,
                "step": step,
                "best_val": best_val,
                "config": json.dumps(config),
                **ranks,
            }
        )

    model.train()
    progress = StepProgress(config["steps"], step, every_s=5, enabled=dist.is_main)
    loss_sum, sym_sum, chars_done = 0.0, 0, 0
    try:
        while step < config["steps"]:
            lr = lr_at(step, config)
            tokens, arch = train_split.batch(shard[schedule(step)])
            loss_total, symbols = sequence_loss(train_model, tokens.to(device), arch.to(device))
            optimizer_step(opt, model, loss_total / max(symbols, 1), lr, config["grad_clip"])
            step += 1
            loss_sum += loss_total.item()
            sym_sum += symbols
            chars_done += symbols
            if progress.due(step):
                progress.print(
                    step,
                    f"loss {loss_sum / max(sym_sum, 1):.3f} nats/char lr {lr:.2e}",
                    {"chars": chars_done},
                )
            # validation, samples and best.pt on rank 0 only (the model is the same everywhere)
            validate = step % config["val_every"] == 0 or step == config["steps"]
            validate = validate and dist.is_main
            if validate:
                val = split_nats_per_char(model, val_split, device, config["val_max_lines"])
                run.log(
                    step,
                    train_nats_per_char=loss_sum / max(sym_sum, 1),
                    val_nats_per_char=val,
                    val_bits_per_char=val / math.log(2),
                    lr=lr,
                )
                loss_sum, sym_sum = 0.0, 0
                best = val < best_val
                if best:
                    best_val = val
                    run.save(
                        {
                            "model": model.state_dict(),
                            "step": step,
                            "val_nats_per_char": val,
                            "config": json.dumps(config),
                        },
                        "best.pt",
                    )
                print(
                    f"step {step}: validation {val:.4f} nats/char ({val / math.log(2):.3f} "
                    f"bits){' (best)' if best else ''}",
                    file=sys.stderr,
                    flush=True,
                )
            if dist.is_main and (step % config["sample_every"] == 0 or step == config["steps"]):
                lines = sample_lines(model, vocab, range(len(archetypes)), device, seed=step)
                text = "".join(f"{a}: {t}\n" for a, t in zip(archetypes, lines, strict=True))
                run.save_text_samples(text, step)
            if step % config["checkpoint_every"] == 0 or step == config["steps"]:
                checkpoint()
    except KeyboardInterrupt:
        # keep what an interrupted run learnt: --resume continues from this step (alone only:
        # under torchrun the ranks stop at different points, so the last periodic checkpoint
        # is what --resume continues from)
        if not dist.enabled:
            checkpoint()
            print(f"interrupted: checkpoint at step {step} in {run.dir}", file=sys.stderr)
        raise
    if dist.is_main:
        print(
            f"done: {step} steps; best validation {best_val:.4f} nats/char; checkpoint in "
            f"{run.dir}",
            file=sys.stderr,
        )



def load_run_model(run_dir: Path) -> tuple[DialogueLSTM, dict[str, Any], int, str]:
    """The best checkpoint by validation loss if there is one, else the latest."""
    state, name = read_checkpoint(run_dir, "best.pt", "checkpoint.pt")
    config = json.loads(state["config"])
    model = make_model(
        config, len(SPECIAL_TOKENS) + len(config["vocab"]), len(config["archetypes"])
    )
    model.load_state_dict(state["model"])
    return model.eval(), config, int(state["step"]), name
