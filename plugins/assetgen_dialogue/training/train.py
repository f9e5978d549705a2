"""The training loop of the dialogue GPT (``assetgen train dialogue``).

Data: the folder written by ``python -m assetgen_dialogue.training.data --out
data/dialogue-v3`` (``--data`` defaults to that). Each line becomes ``<source> <role> <race>
<length> pieces... <eos>``; the loss is the mean negative log-likelihood of the pieces and the
end of line. Figures are reported in nats per character (every character of the line plus its
end), so they compare with the character models and the 5-gram baseline.

Batches hold lines of similar length (the v1 schedule: shuffled, sorted inside chunks of 50
batches), drawn with each source repeated ``weight_<source>`` times per epoch so the game
dialogue is not drowned by the plays; the batch at step s is a pure function of (seed, s), so
a resumed run sees what an unbroken one would. Role and race are replaced by "any" with
probabilities ``role_dropout`` / ``race_dropout`` (and the length bucket with
``length_dropout``), seeded by the step as well.

The best checkpoint (``best.pt``) is kept by the validation loss on the held-out Wesnoth
campaigns, the figure the model is for.

``DEFAULT_CONFIG``: 4 layers, d = 192, 4 heads, context 128, tied embeddings (2.4 M
parameters with 3,000 pieces), batches of 64 lines, AdamW 1.5e-3 with warm-up and cosine
decay. See the model card for the shipped run's settings and speed.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from assetgen import InvalidOptionsError
from assetgen.training import distributed
from assetgen.training.loop import StepProgress
from assetgen.training.run import TrainingRun, pick_device

from ..pieces import PieceTable
from .model import DialogueGPT
from .records import read_records

DEFAULT_DATA = Path("data") / "dialogue-v3"

DEFAULT_CONFIG: dict[str, Any] = {
    "seed": 0,
    "device": "auto",
    "steps": 8000,
    "batch_size": 64,
    "context": 128,
    "dim": 192,
    "layers": 4,
    "heads": 4,
    "dropout": 0.1,
    "lr": 1.5e-3,
    "min_lr_ratio": 0.1,
    "warmup_steps": 200,
    "weight_decay": 0.05,
    "grad_clip": 1.0,
    "weight_wesnoth": 2,
    "weight_crawl": 2,
    "weight_shakespeare": 1,
    "role_dropout": 0.1,
    "race_dropout": 0.2,
    "length_dropout": 0.1,
    "val_every": 500,
    "checkpoint_every": 200,
    "sample_every": 500,
    "threads": 0,
}
SUPPORTS_DISTRIBUTED = True


# -- data -------------------------------------------------------------------------------------


def data_dir(data: Path | str | None) -> Path:
    path = Path(data) if data is not None else DEFAULT_DATA
    if not (path / "train.jsonl").is_file() or not (path / "pieces.json").is_file():
        raise InvalidOptionsError(
            f"--data: no train.jsonl and pieces.json in {path}; build the data set with "
            f"'python -m assetgen_dialogue.training.data --out {path}' or pass --data DIR",
            parameter="--data",
        )
    return path


def dataset_tags(path: Path) -> dict[str, list[str]]:
    """The tag values of the data set, "any" first where a tag can be unknown or dropped."""
    meta = json.loads((path / "dataset.json").read_text(encoding="utf-8"))
    return {
        "source": list(meta["sources"]),
        "role": ["any", *meta["roles"]],
        "race": ["any", *meta["races"]],
        "length": ["any", *meta["length_buckets"]],
    }


@dataclass
class Split:
    """Encoded lines: tag ids (N×4), piece ids with <eos> per line, and the texts."""

    tags: np.ndarray
    lines: list[np.ndarray]
    texts: list[str]
    sources: list[str]

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(x) + 4 for x in self.lines], dtype=np.int64)

    def batch(
        self, index: Sequence[int] | np.ndarray, tags: np.ndarray | None = None
    ) -> torch.Tensor:
        """N×T int64: 4 tags, pieces, <eos>, then <pad> (``pad`` = the table's pad id)."""
        tags = self.tags[np.asarray(index)] if tags is None else tags
        rows = [self.lines[i] for i in index]
        width = 4 + max(len(r) for r in rows)
        out = np.full((len(rows), width), self.pad, dtype=np.int64)
        for k, row in enumerate(rows):
            out[k, :4] = tags[k]
            out[k, 4 : 4 + len(row)] = row
        return torch.from_numpy(out)

    pad: int = 0


def encode_split(
    records: Sequence[dict[str, Any]], table: PieceTable, context: int, encoder: Any = None
) -> Split:
    """``encoder``: a fast ``text -> ids`` function (sentencepiece's) giving the same ids as
    ``table.encode`` (checked by the tests); lines longer than the context are cut."""
    encode = encoder or table.encode
    tags, lines, texts, sources = [], [], [], []
    for rec in records:
        tags.append(table.conditioning(rec["source"], rec["role"], rec["race"], rec["length"]))
        ids = list(encode(rec["text"]))[: context - 5]
        lines.append(np.array([*ids, table.eos], dtype=np.int64))
        texts.append(rec["text"])
        sources.append(rec["source"])
    split = Split(np.array(tags, dtype=np.int64).reshape(-1, 4), lines, texts, sources)
    split.pad = table.pad
    return split


def fast_encoder(path: Path) -> Any:
    try:
        import sentencepiece as spm
    except ImportError:
        return None
    model = path / "tokenizer.model"
    if not model.is_file():
        return None
    proc = spm.SentencePieceProcessor(model_file=str(model))
    return proc.encode


class BatchSchedule:
    """Deterministic weighted batches: the batch at step s depends only on (seed, s).

    Line i stands ``repeats[i]`` times in an epoch. Each epoch shuffles the pool with its own
    seed, sorts it by length within chunks of ``50 × batch_size`` (little padding, still random
    company) and shuffles the batches. The LSTM trainer's schedule is this one with every
    repeat 1.
    """

    CHUNK_BATCHES = 50

    def __init__(self, lengths: np.ndarray, repeats: np.ndarray, batch_size: int, seed: int):
        self.pool = np.repeat(np.arange(len(lengths)), repeats)
        self.lengths = lengths[self.pool]
        self.batch_size = batch_size
        self.seed = seed
        self.per_epoch = math.ceil(len(self.pool) / batch_size)
        self._epoch = -1
        self._batches: list[np.ndarray] = []

    def _build(self, epoch: int) -> list[np.ndarray]:
        rng = np.random.default_rng([self.seed, epoch])
        perm = rng.permutation(len(self.pool))
        chunk = self.batch_size * self.CHUNK_BATCHES
        batches: list[np.ndarray] = []
        for start in range(0, len(perm), chunk):
            part = perm[start : start + chunk]
            part = part[np.argsort(self.lengths[part], kind="stable")]
            batches += [part[i : i + self.batch_size] for i in range(0, len(part), self.batch_size)]
        return [self.pool[batches[i]] for i in rng.permutation(len(batches))]

    def __call__(self, step: int) -> np.ndarray:
        epoch, pos = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self._batches, self._epoch = self._build(epoch), epoch
        return self._batches[pos]


def drop_tags(
    tags: np.ndarray, table: PieceTable, config: dict[str, Any], seed: int, step: int
) -> np.ndarray:
    """Role, race and length replaced by "any" at random (seeded by the step)."""
    rng = np.random.default_rng([seed, step, 7])
    out = tags.copy()
    for col, kind, p in (
        (1, "role", config["role_dropout"]),
        (2, "race", config["race_dropout"]),
        (3, "length", config["length_dropout"]),
    ):
        hit = rng.random(len(out)) < p
        out[hit, col] = table.tag(kind, "any")
    return out


def lr_at(step: int, config: dict[str, Any]) -> float:
    """Linear warm-up, then cosine decay to ``lr * min_lr_ratio`` at ``steps`` (the LSTM trainer
    uses it too).

    The warm-up is capped at a fifth of the run so that short runs still reach full rate.
    """
    total = max(config["steps"], 1)
    base, warm = config["lr"], min(config["warmup_steps"], total // 5)
    if warm and step < warm:
        return base * (step + 1) / warm
    progress = min(1.0, (step - warm) / max(total - warm, 1))
    low = base * config["min_lr_ratio"]
    return low + (base - low) * 0.5 * (1 + math.cos(math.pi * progress))


def optimizer_step(opt: Any, model: Any, loss: torch.Tensor, lr: float, grad_clip: float) -> None:
    """One optimiser step on ``loss`` at learning rate ``lr``, the gradient norm clipped to
    ``grad_clip`` (0: not clipped); the LSTM trainer takes its steps with it too."""
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    opt.step()


def make_model(config: dict[str, Any], vocab_size: int) -> DialogueGPT:
    return DialogueGPT(
        vocab_size,
        context=config["context"],
        dim=config["dim"],
        layers=config["layers"],
        heads=config["heads"],
        dropout=config["dropout"],
    )


def sequence_loss(model: Any, tokens: torch.Tensor, pad: int) -> tuple[torch.Tensor, int]:
    """Summed NLL (nats) of the pieces and <eos> (not of the tags), and how many there were."""
    logits = model(tokens[:, :-1])[:, 3:]
    targets = tokens[:, 4:]
    loss = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=pad, reduction="sum"
    )
    return loss, int((targets != pad).sum())


@torch.no_grad()
def nats_per_char(
    model: DialogueGPT,
    split: Split,
    index: np.ndarray | None = None,
    batch: int = 64,
    tags: np.ndarray | None = None,
) -> float:
    """Mean nats per character (each character of a line and its end) over ``index``."""
    was = model.training
    model.eval()
    index = np.arange(len(split.lines)) if index is None else index
    order = index[np.argsort(split.lengths[index], kind="stable")]
    total, chars = 0.0, 0
    for start in range(0, len(order), batch):
        part = order[start : start + batch]
        tokens = split.batch(part, None if tags is None else tags[part])
        loss, _ = sequence_loss(model, tokens, split.pad)
        total += float(loss)
        chars += sum(len(split.texts[i]) + 1 for i in part)
    model.train(was)
    return total / max(chars, 1)


@torch.no_grad()
def sample(
    model: DialogueGPT,
    table: PieceTable,
    conditioning: list[list[int]],
    seed: int,
    temperature: float = 0.8,
    max_tokens: int = 80,
) -> list[str]:
    """Lines sampled with PyTorch (for the training sample files)."""
    was = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.tensor(conditioning, dtype=torch.long)
    done = torch.zeros(len(conditioning), dtype=torch.bool)
    banned = [0, table.pad, *range(table.eos + 1, table.vocab_size)]
    for _ in range(max_tokens):
        logits = model(tokens[:, -model.context :])[:, -1] / temperature
        logits[:, banned] = -math.inf
        nxt = torch.multinomial(torch.softmax(logits, dim=1), 1, generator=gen)[:, 0]
        nxt[done] = table.pad
        done |= nxt == table.eos
        tokens = torch.cat([tokens, nxt[:, None]], dim=1)
        if bool(done.all()):
            break
    model.train(was)
    out = []
    for row in tokens[:, 4:].tolist():
        ids = row[: row.index(table.eos)] if table.eos in row else row
        out.append(table.decode(ids))
    return out


# -- training ---------------------------------------------------------------------------------


def train(out: Path, data: Path | None, config: dict[str, Any], resume: bool) -> None:
    if config["threads"]:
        torch.set_num_threads(config["threads"])
    dist = distributed.setup(pick_device(config["device"]))
    device = dist.device
    recorded = out / "config.json"
    if data is None and resume and recorded.is_file():
        data = Path(json.loads(recorded.read_text(encoding="utf-8")).get("data", DEFAULT_DATA))
    path = data_dir(data)
    tags = dataset_tags(path)
    pieces_doc = json.loads((path / "pieces.json").read_text(encoding="utf-8"))
    table = PieceTable(pieces_doc["pieces"], pieces_doc["scores"], pieces_doc["kinds"], tags)
    config = {**config, "data": str(path), "tags": tags, "pieces_sha": _digest(pieces_doc)}
    run = TrainingRun(out, config, resume=resume, dist=dist)
    encoder = fast_encoder(path)
    train_split = encode_split(read_records(path, "train"), table, config["context"], encoder)
    val_split = encode_split(read_records(path, "val"), table, config["context"], encoder)
    val_wesnoth = np.array([i for i, s in enumerate(val_split.sources) if s == "wesnoth"])
    val_plays = np.array([i for i, s in enumerate(val_split.sources) if s == "shakespeare"])
    torch.manual_seed(config["seed"])
    model = make_model(config, table.vocab_size).to(device)
    dist.reseed_torch(config["seed"])
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "position" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "position" not in n)]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config["weight_decay"]},
            {"params": rest, "weight_decay": 0.0},
        ],
        lr=config["lr"],
        betas=(0.9, 0.98),
    )
    step, best_val = 0, math.inf
    if resume:
        state = run.load()
        saved = json.loads(state["config"])
        if saved.get("tags") != tags or saved.get("pieces_sha") != config["pieces_sha"]:
            raise InvalidOptionsError(
                f"--resume: the data set in {path} has other pieces or tags than the "
                "checkpoint; resume with the data the run started with",
                parameter="--data",
            )
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, best_val = int(state["step"]), float(state["best_val"])
        torch_rng = run.own_state(state, "torch_rng")
        if torch_rng is not None:
            torch.set_rng_state(torch_rng)
        else:
            torch.manual_seed(dist.rank_seed(config["seed"]) + step)
        if dist.is_main:
            print(f"resuming from step {step}", file=sys.stderr)
    if dist.is_main:
        n_params = sum(p.numel() for p in model.parameters())
        print(
            f"dialogue GPT: {n_params / 1e6:.2f} M parameters, vocabulary {table.vocab_size} "
            f"({len(table.pieces)} pieces), {len(train_split.lines)} training lines, "
            f"device {device}, threads {torch.get_num_threads()}"
            + (
                f"; {dist.world_size} processes: effective batch {config['batch_size']} x "
                f"{dist.world_size} = {config['batch_size'] * dist.world_size}"
                if dist.enabled
                else ""
            ),
            file=sys.stderr,
        )
    weights = np.array([config[f"weight_{s}"] for s in train_split.sources], dtype=np.int64)
    shard = dist.shard(len(train_split.lines))
    schedule = BatchSchedule(
        train_split.lengths[shard], weights[shard], config["batch_size"], config["seed"]
    )
    train_model = dist.wrap(model)
    wanted = (
        ("wesnoth", "soldier", "human"),
        ("wesnoth", "ruler", "elf"),
        ("wesnoth", "mage", "human"),
        ("wesnoth", "brute", "orc"),
        ("wesnoth", "undead", "undead"),
        ("crawl", "god", "any"),
        ("shakespeare", "commoner", "human"),
    )
    sample_names = [
        (src, role if role in tags["role"] else "any")
        for src, role, _ in wanted
        if src in tags["source"]
    ]
    sample_tags = [
        table.conditioning(
            src,
            role if role in tags["role"] else "any",
            race if race in tags["race"] else "any",
            "medium",
        )
        for src, role, race in wanted
        if src in tags["source"]
    ]

    def checkpoint() -> None:
        ranks = run.rank_states(torch_rng=torch.get_rng_state())
        run.save(
            {
                "model": model.state_dict(),
                "opt": opt.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "step": step,
                "best_val": best_val,
                "config": json.dumps(config),
                **ranks,
            }
        )

    model.train()
    progress = StepProgress(config["steps"], step, every_s=10, enabled=dist.is_main)
    loss_sum, char_sum, tokens_done = 0.0, 0, 0
    try:
        while step < config["steps"]:
            lr = lr_at(step, config)
            index = shard[schedule(step)]
            batch_tags = drop_tags(train_split.tags[index], table, config, config["seed"], step)
            tokens = train_split.batch(index, batch_tags).to(device)
            loss_total, count = sequence_loss(train_model, tokens, table.pad)
            optimizer_step(opt, model, loss_total / max(count, 1), lr, config["grad_clip"])
            step += 1
            loss_sum += loss_total.item()
            char_sum += sum(len(train_split.texts[i]) + 1 for i in index)
            tokens_done += int(tokens.numel())
            if progress.due(step):
                progress.print(
                    step,
                    f"loss {loss_sum / max(char_sum, 1):.3f} nats/char lr {lr:.2e}",
                    {"tokens": tokens_done},
                )
            if dist.is_main and (step % config["val_every"] == 0 or step == config["steps"]):
                val_w = nats_per_char(model, val_split, val_wesnoth)
                val_p = nats_per_char(model, val_split, val_plays[:800])
                run.log(
                    step,
                    train_nats_per_char=loss_sum / max(char_sum, 1),
                    val_nats_per_char=val_w,
                    val_plays_nats_per_char=val_p,
                    lr=lr,
                )
                loss_sum, char_sum = 0.0, 0
                best = val_w < best_val
                if best:
                    best_val = val_w
                    run.save(
                        {
                            "model": model.state_dict(),
                            "step": step,
                            "val_nats_per_char": val_w,
                            "config": json.dumps(config),
                        },
                        "best.pt",
                    )
                print(
                    f"step {step}: validation {val_w:.4f} nats/char on held-out campaigns, "
                    f"{val_p:.4f} on held-out plays{' (best)' if best else ''}",
                    file=sys.stderr,
                    flush=True,
                )
            if dist.is_main and (step % config["sample_every"] == 0 or step == config["steps"]):
                lines = sample(model, table, sample_tags, seed=step)
                text = "".join(
                    f"{src} {role}: {line}\n"
                    for (src, role), line in zip(sample_names, lines, strict=True)
                )
                run.save_text_samples(text, step)
            if step % config["checkpoint_every"] == 0 or step == config["steps"]:
                checkpoint()
    except KeyboardInterrupt:
        if not dist.enabled:
            checkpoint()
            print(f"interrupted: checkpoint at step {step} in {run.dir}", file=sys.stderr)
        raise
    if dist.is_main:
        print(
            f"done: {step} steps; best validation {best_val:.4f} nats/char (held-out "
            f"campaigns); checkpoint in {run.dir}",
            file=sys.stderr,
        )


def _digest(doc: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(doc["pieces"]).encode("utf-8")).hexdigest()[:16]
