"""The ``dialogue`` generator: NPC lines by archetype from the shipped character LSTM.

The model is a single-step ONNX graph (character, archetype, state -> logits, new state); the
sampling loop runs here in numpy, so the runtime path needs ONNX Runtime only, never torch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import assetgen
from assetgen import Asset, Exporter, Generator, InvalidOptionsError, Options, TextAsset, option
from assetgen.runtime import ModelBundle, Runtime

from . import corpus
from .yarn import YarnExporter

MODEL_DIR = Path(__file__).resolve().parent / "model"
ONNX_NAME = "dialogue_step.onnx"
VOCAB_NAME = "vocab.json"
#: Longest line the generator writes; the training lines are at most 240 characters.
MAX_CHARS = 400


def _shipped_facts() -> tuple[tuple[str, ...], int]:
    """Archetype names and vocabulary size from the shipped manifest, so the options' allowed
    values (shown by ``assetgen info``) match the model. Before a model is shipped, the
    corpus's archetype list stands in; :meth:`DialogueGenerator.validate` always checks
    against the model actually loaded."""
    try:
        manifest = json.loads((MODEL_DIR / "manifest.json").read_text(encoding="utf-8"))
        return tuple(manifest["archetypes"]), int(manifest["vocab_size"])
    except (OSError, KeyError, TypeError, ValueError):
        return tuple(corpus.ARCHETYPES), 256


_ARCHETYPES, _VOCAB_SIZE = _shipped_facts()


class DialogueOptions(Options):
    archetype: str = option(
        "random", "NPC archetype who speaks the line, or random.", choices=("random", *_ARCHETYPES)
    )
    temperature: float = option(
        0.8, "Sampling temperature: lower is safer and plainer, higher wilder.", ge=0.1, le=2.0
    )
    top_k: int = option(
        0, "Sample only from the k likeliest characters (0 = off).", ge=0, le=_VOCAB_SIZE
    )
    top_p: float = option(
        1.0,
        "Nucleus sampling: the smallest set of characters with this much probability "
        "(greater than 0; 1 = off).",
        ge=0.0,
        le=1.0,
    )
    max_chars: int = option(
        200, "Most characters in the line, prompt included.", ge=1, le=MAX_CHARS
    )
    prompt: str = option("", "Text the line begins with (optional).", max_length=MAX_CHARS)
    archetype_guidance: float = option(
        0.0,
        "Strengthen the archetype's voice: each character's log-probabilities are pushed away "
        "from their mean over all archetypes by this factor (0 = off; about 3x slower when on).",
        ge=0.0,
        le=8.0,
    )


class DialogueGenerator(Generator):
    id = "dialogue"
    kind = "text"
    description = "NPC dialogue lines by archetype (character-level LSTM, Shakespearean English)"
    Options = DialogueOptions
    tools = "assetgen_dialogue.tools"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        # vocab.json parsed once per verified model folder (keyed by its manifest's sha256)
        self._vocabs: dict[str, dict[str, Any]] = {}

    def _bundle(self) -> ModelBundle:
        return self.runtime.load_model(MODEL_DIR)

    def _vocab(self, bundle: ModelBundle) -> dict[str, Any]:
        cached = self._vocabs.get(bundle.sha256)
        if cached is None:
            doc = json.loads(bundle.path(VOCAB_NAME).read_text(encoding="utf-8"))
            tokens = list(doc["tokens"])
            cached = {
                "tokens": tokens,
                "index": {t: i for i, t in enumerate(tokens)},
                "special": dict(doc["special"]),
                "archetypes": list(doc["archetypes"]),
            }
            self._vocabs[bundle.sha256] = cached
        return cached

    def validate(self, options: DialogueOptions) -> None:
        if options.top_p <= 0.0:
            raise InvalidOptionsError(
                f"option 'top_p' must be a number greater than 0 and at most 1 (1 = off); "
                f"got {options.top_p!r}",
                parameter="top_p",
                value=options.top_p,
            )
        if len(options.prompt) > options.max_chars:
            raise InvalidOptionsError(
                f"option 'prompt' is {len(options.prompt)} characters long, more than "
                f"max_chars={options.max_chars}; shorten it or raise max_chars",
                parameter="prompt",
                value=options.prompt,
            )
        vocab = self._vocab(self._bundle())
        archetypes = vocab["archetypes"]
        if options.archetype != "random" and options.archetype not in archetypes:
            raise InvalidOptionsError(
                "option 'archetype' must be one of 'random', "
                + ", ".join(repr(a) for a in archetypes)
                + f"; got {options.archetype!r}",
                parameter="archetype",
                value=options.archetype,
            )
        if options.top_k > len(vocab["tokens"]):
            raise InvalidOptionsError(
                f"option 'top_k' must be an integer from 0 to {len(vocab['tokens'])} (the "
                f"model's vocabulary size); got {options.top_k}",
                parameter="top_k",
                value=options.top_k,
            )
        special = set(vocab["special"].values())
        unknown = sorted(
            {ch for ch in options.prompt if vocab["index"].get(ch) in (None, *special)}
        )
        if unknown:
            shown = ", ".join(repr(ch) for ch in unknown)
            raise InvalidOptionsError(
                f"option 'prompt' contains characters the model does not know: {shown}; "
                "it knows letters, digits and common punctuation (see vocab.json)",
                parameter="prompt",
                value=options.prompt,
            )

    def generate(self, seed: int, options: DialogueOptions) -> TextAsset:
        return self._generate_lines([seed], options)[0]

    def generate_batch(self, seeds: Sequence[int], options: DialogueOptions) -> list[Asset]:
        return list(self._generate_lines(seeds, options))

    def _generate_lines(self, seeds: Sequence[int], options: DialogueOptions) -> list[TextAsset]:
        bundle = self._bundle()
        vocab = self._vocab(bundle)
        session = bundle.session(ONNX_NAME)
        # one line at a time: the same seed gives the same line whatever the batch (a batched
        # matrix product may round differently and flip a sampled character)
        return [self._line(seed, options, bundle, vocab, session) for seed in seeds]

    def _line(
        self,
        seed: int,
        options: DialogueOptions,
        bundle: ModelBundle,
        vocab: dict[str, Any],
        session: Any,
    ) -> TextAsset:
        rng = np.random.default_rng(seed)
        archetypes = vocab["archetypes"]
        # drawn even when an archetype is named, so the sampling stream of a seed is the same
        drawn = int(rng.integers(len(archetypes)))
        arch_id = drawn if options.archetype == "random" else archetypes.index(options.archetype)
        tokens, index, special = vocab["tokens"], vocab["index"], vocab["special"]
        eos, newline = special["eos"], index.get("\n")
        banned = np.array([special["pad"], special["bos"]])
        layers, hidden = bundle.manifest["layers"], bundle.manifest["hidden"]
        guidance = float(options.archetype_guidance)
        # with guidance, one batch: the requested archetype, then every archetype (their mean
        # is the "any speaker" reference the line is pushed away from)
        rows = [arch_id, *range(len(archetypes))] if guidance > 0 else [arch_id]
        h = np.zeros((layers, len(rows), hidden), np.float32)
        c = np.zeros_like(h)
        arch = np.array(rows, np.int64)

        def step(token: int) -> np.ndarray:
            nonlocal h, c
            chars = np.full(len(rows), token, np.int64)
            logits, h, c = session.run(None, {"char": chars, "archetype": arch, "h": h, "c": c})
            out = np.asarray(logits, dtype=np.float64)
            if guidance == 0:
                return out[0]
            logp = out - out.max(1, keepdims=True)
            logp -= np.log(np.exp(logp).sum(1, keepdims=True))
            return logp[0] + guidance * (logp[0] - logp[1:].mean(0))

        logits = step(special["bos"])
        for ch in options.prompt:
            logits = step(index[ch])
        out: list[str] = []
        stop = "max_chars"
        room = options.max_chars - len(options.prompt)
        while len(out) < room:
            token = sample_token(
                logits, rng, options.temperature, options.top_k, options.top_p, banned
            )
            if token == eos:
                stop = "eos"
                break
            if token == newline:
                stop = "newline"
                break
            out.append(tokens[token])
            if len(out) < room:  # no model step for a character that will not be sampled
                logits = step(token)
        generated = "".join(out)
        text = options.prompt + generated.rstrip() if generated.strip() else options.prompt
        name = archetypes[arch_id]
        return TextAsset(text, speaker=name, metadata={"archetype": name, "stop": stop})

    def model_info(self) -> dict[str, Any]:
        bundle = self._bundle()
        m = bundle.manifest
        return {
            "name": m["name"],
            "sha256": bundle.sha256,
            "license": m["license"],
            "data": m["data"],
            "archetypes": m["archetypes"],
            "metrics": m.get("metrics", {}),
            "card": str(MODEL_DIR / "MODEL_CARD.md"),
        }


def sample_token(
    logits: np.ndarray,
    rng: np.random.Generator,
    temperature: float,
    top_k: int,
    top_p: float,
    banned: np.ndarray,
) -> int:
    """Draw one token id: temperature, then top-k, then top-p (nucleus), one uniform draw.

    In float64 with stable sorts and exactly one ``rng.random()`` per token, so a seed always
    consumes its random stream the same way.
    """
    z = logits / temperature
    z[banned] = -np.inf
    if 0 < top_k < len(z):
        kth = np.partition(z, len(z) - top_k)[len(z) - top_k]
        z[z < kth] = -np.inf
    p = np.exp(z - z.max())
    p /= p.sum()
    if top_p < 1.0:
        order = np.argsort(-p, kind="stable")
        cum = np.cumsum(p[order])
        # keep the likeliest characters up to and including the one that crosses top_p
        drop = order[np.searchsorted(cum, top_p, side="left") + 1 :]
        p[drop] = 0.0
        p /= p.sum()
    cdf = np.cumsum(p)
    u = rng.random() * cdf[-1]
    return int(min(np.searchsorted(cdf, u, side="right"), len(p) - 1))


@assetgen.hookimpl
def register_generators(register: Callable[[type[Generator]], None]) -> None:
    register(DialogueGenerator)


@assetgen.hookimpl
def register_exporters(register: Callable[[type[Exporter]], None]) -> None:
    register(YarnExporter)
