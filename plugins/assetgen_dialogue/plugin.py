"""The ``dialogue`` generator: NPC lines by role from a small subword GPT (default) or the
Shakespeare character LSTM (``-o model=shakespeare``).

Both models are single-step ONNX graphs; the sampling loop (temperature, top-k, top-p, the
word-validity mask, best-of-N reranking) runs in numpy, so the runtime path needs ONNX Runtime
only, never torch or sentencepiece. The GPT's decoding lives in :mod:`.gpt_lines`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import assetgen
from assetgen import (
    Asset,
    Exporter,
    Generator,
    InvalidOptionsError,
    ModelBundle,
    ModelGenerator,
    Options,
    TextAsset,
    check_choice,
    model_option,
    option,
    seeds,
    shipped_manifest,
)

from .archetypes import ARCHETYPES
from .sampling import sample_token
from .yarn import YarnExporter, YarnNodesExporter

PLUGIN_DIR = Path(__file__).resolve().parent
#: the shipped default model; ``model_dir()`` reads it per request (evaluations point it
#: elsewhere)
MODEL_DIR = PLUGIN_DIR / "model"
_SHIPPED_DIR = MODEL_DIR
#: Models shipped beside the default, selected by name with ``-o model=NAME``.
BUILTIN_MODELS: dict[str, Path] = {"shakespeare": PLUGIN_DIR / "shakespeare_model"}
ONNX_NAME = "dialogue_step.onnx"
VOCAB_NAME = "vocab.json"
#: Longest line the generator writes; the training lines are at most 240 characters.
MAX_CHARS = 400


@functools.cache
def _shipped_facts() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Roles (archetypes), races and sources of the shipped models, read when the options are
    first used, so the options' allowed values (shown by ``assetgen info``) cover every
    shipped model; requests are checked against the model actually loaded
    (:meth:`DialogueGenerator.validate`)."""
    tables = json.loads((PLUGIN_DIR / "training" / "speakers.json").read_text(encoding="utf-8"))
    roles: list[str] = list(tables["roles"])
    races: list[str] = ["any"]
    sources: list[str] = []
    for folder in (_SHIPPED_DIR, *BUILTIN_MODELS.values()):
        m = shipped_manifest(folder)
        tags = m.get("tags") or {}
        roles += [str(r) for r in m.get("archetypes") or [] if r not in roles]
        races += [str(r) for r in tags.get("race", []) if r not in races]
        sources += [str(s) for s in tags.get("source", []) if s not in sources]
    roles += [a for a in ARCHETYPES if a not in roles]
    return (
        tuple(roles),
        tuple(races),
        tuple(sources or ("wesnoth", "crawl", "shakespeare")),
    )


class DialogueOptions(Options):
    archetype: str = option(
        "random",
        "Role of the NPC who speaks (ruler, soldier, mage...; with model=shakespeare that "
        "model's archetypes), random, or any (an unspecified speaker).",
        choices=lambda: ("random", "any", *_shipped_facts()[0]),
    )
    source: str = option(
        "wesnoth",
        "Which game's dialogue the line imitates: wesnoth (fantasy campaign dialogue), crawl "
        "(roguelike monster, god and weapon barks) or shakespeare (early-modern English).",
        choices=lambda: _shipped_facts()[2],
    )
    race: str = option(
        "any",
        lambda: "Race of the speaker ("
        + ", ".join(_shipped_facts()[1])
        + "; the model's own list is checked).",
        max_length=40,
    )
    length: str = option(
        "random",
        "Length of the line: short (12-50 characters), medium (51-120), long (121-240; "
        "almost never shippable as it is: see the model card), or random (as often as the "
        "role's real lines are that long).",
        choices=("random", "short", "medium", "long"),
    )
    temperature: float = option(
        0.6,
        "Sampling temperature: lower is safer and plainer, higher wilder (0.8 before the "
        "read-through of docs/dialogue_readthrough.md).",
        ge=0.1,
        le=2.0,
    )
    top_k: int = option(0, "Sample only from the k likeliest tokens (0 = off).", ge=0, le=4096)
    top_p: float = option(
        0.9,
        "Nucleus sampling: the smallest set of tokens with this much probability "
        "(greater than 0; 1 = off).",
        ge=0.0,
        le=1.0,
    )
    max_chars: int = option(
        200, "Most characters in the line, prompt included.", ge=1, le=MAX_CHARS
    )
    prompt: str = option("", "Text the line begins with (optional).", max_length=MAX_CHARS)
    candidates: int = option(
        16,
        "Best-of-N: sample this many lines and keep the one the reranker scores highest "
        "(1 = no reranking).",
        ge=1,
        le=32,
    )
    rounds: int = option(
        4,
        "With judged or learned reranking: while the best candidate's chance of being kept "
        "(the scorer's probability) is below 'accept' (and not below 'give_up'), sample "
        "'candidates' more, up to this many rounds in all (1 = one round; see "
        "docs/dialogue.md).",
        ge=1,
        le=16,
    )
    accept: float = option(
        0.5,
        "The scorer's probability of a line being kept at which no more rounds are sampled "
        "(0 = stop after the first round, 1 = always sample every round).",
        ge=0.0,
        le=1.0,
    )
    give_up: float = option(
        0.15,
        "No more rounds are sampled when the best candidate's probability is below this: a "
        "request that far from a line readers keep (most long lines) gains little from more "
        "(0 = never give up).",
        ge=0.0,
        le=1.0,
    )
    rerank: str = option(
        "judged",
        "How candidates are ranked: judged (a scorer trained on the lines readers kept or "
        "rejected in the blind read-throughs), likelihood (mean log-probability per piece; "
        "plainer, fewer broken lines), learned (the model's real-vs-generated scorer; more "
        "varied) or mixed (the learned scorer among the likelier half). A model folder "
        "without the scorer's file ranks by likelihood.",
        choices=("judged", "learned", "likelihood", "mixed"),
    )
    min_chars: int = option(
        -1,
        "Length floor of reranking: shorter candidates are passed over unless all are "
        "(-1 = the lower end of the length bucket, 0 = off).",
        ge=-1,
        le=MAX_CHARS,
    )
    filters: bool = option(
        True,
        "Pass over candidates that fail a line check (a sentence ending on 'the' or 'and', a "
        "repeated phrase, piled-up placeholders) unless all do.",
    )
    slip_checks: bool = option(
        True,
        "With filters: also pass over candidates with one of the model's recurring grammar "
        "slips ('we can't have to go', 'you must have to pay', 'I haven't going'), piled-up "
        "marks ('!!!!'), a sentence said twice, or 'I am {NAME}' with 'I am not {NAME}'.",
    )
    word_mask: bool = option(
        True, "Spell only words that occur in the training text (no invented words)."
    )
    source_words: bool = option(
        True,
        "With word_mask: spell only words of the chosen source's own training lines (no "
        "Shakespeare words in a Wesnoth line); false: any word of the whole training text.",
    )
    by_sentence: bool = option(
        False,
        "Make medium and long lines a sentence at a time: each sentence is the best of the "
        "candidates (line checks, sentence_rerank) continuing the sentences chosen before it "
        "(off by default since the judged reranker: whole lines ranked by it read better).",
    )
    sentence_rerank: str = option(
        "likelihood",
        "How by_sentence ranks the candidates of each sentence, on the line so far: judged, "
        "likelihood, learned or mixed (as rerank).",
        choices=("judged", "learned", "likelihood", "mixed"),
    )
    sentence_temperature: float = option(
        0.0,
        "Sampling temperature of the second and later sentences with by_sentence (0 = the "
        "temperature option's).",
        ge=0.0,
        le=2.0,
    )
    name: str = option(
        "", "Fills the {NAME} placeholder (empty: the line keeps '{NAME}').", max_length=100
    )
    place: str = option(
        "", "Fills the {PLACE} placeholder (empty: the line keeps '{PLACE}').", max_length=100
    )
    archetype_guidance: float = option(
        0.0,
        "Strengthen the role's voice: log-probabilities are pushed away from those of an "
        "unspecified speaker by this factor (0 = off; about twice the work when on).",
        ge=0.0,
        le=8.0,
    )
    model: str = model_option(
        "default (the shipped GPT), shakespeare (the shipped character LSTM, public-domain "
        "data), or the name of a model installed with 'assetgen install-model dialogue'."
    )


class DialogueGenerator(ModelGenerator):
    id = "dialogue"
    kind = "text"
    description = (
        "NPC dialogue lines by role (subword GPT on game dialogue; GPL-2.0-or-later data, see "
        "its model card), exported to Yarn"
    )
    Options = DialogueOptions
    training = "assetgen_dialogue.training.commands"

    builtin_models = BUILTIN_MODELS

    def model_dir(self) -> Path:
        return MODEL_DIR

    @staticmethod
    def is_gpt(bundle: ModelBundle) -> bool:
        return bundle.manifest.get("architecture") == "gpt"

    def parse_model(self, bundle: ModelBundle) -> Any:
        """A GPT's decoder (:mod:`.gpt_lines`), or a character LSTM's vocabulary."""
        if self.is_gpt(bundle):
            from .gpt_lines import GptDecoder

            return GptDecoder(bundle)
        doc = json.loads(bundle.path(VOCAB_NAME).read_text(encoding="utf-8"))
        tokens = list(doc["tokens"])
        return {
            "tokens": tokens,
            "index": {t: i for i, t in enumerate(tokens)},
            "special": dict(doc["special"]),
            "archetypes": list(doc["archetypes"]),
        }

    def gpt(self, bundle: ModelBundle) -> Any:
        """The GPT decoder of a verified model folder (see :mod:`.gpt_lines`)."""
        return self.model_of(bundle)

    def model_summary(self, bundle: ModelBundle) -> dict[str, Any]:
        return {"archetypes": bundle.manifest["archetypes"]}

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
        bundle = self.bundle(options)
        if self.is_gpt(bundle):
            self.gpt(bundle).validate(options)
            return
        vocab = self.model_of(bundle)
        check_choice(
            "archetype", options.archetype, ("random", *vocab["archetypes"]), scope="this model"
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
        bundle = self.bundle(options)
        if self.is_gpt(bundle):
            gpt = self.gpt(bundle)
            return [gpt.line(seed, options) for seed in seeds]
        vocab = self.model_of(bundle)
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
        rng = seeds.SeedStream(seed, "dialogue.line")
        archetypes = vocab["archetypes"]
        # drawn even when an archetype is named, so the sampling stream of a seed is the same
        drawn = rng.integers(len(archetypes))
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
        info = super().model_info()
        manifest = self.bundle().manifest
        if "tags" in manifest:
            info["tags"] = manifest["tags"]
        return info


@assetgen.hookimpl
def register_generators(register: Callable[[type[Generator]], None]) -> None:
    register(DialogueGenerator)


@assetgen.hookimpl
def register_exporters(register: Callable[[type[Exporter]], None]) -> None:
    register(YarnExporter)
    register(YarnNodesExporter)
