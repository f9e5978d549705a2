"""Decoding lines from the dialogue GPT's step graph (numpy + ONNX Runtime only).

One request line (one seed) is made like this:

1. the seed's generator draws the role and the length bucket when they are ``random`` (both
   draws are always made, so naming a role does not shift the rest of the stream);
2. the four tag tokens and the prompt's pieces are fed through the step graph, once for all
   N candidates at once (rows of one batch; with ``archetype_guidance`` N more rows whose role
   tag is "any");
3. each candidate samples its own pieces from its own portable stream (``assetgen.seeds``,
   purpose "dialogue.candidate", index k): log-probabilities,
   optional guidance, the word-validity mask, then temperature / top-k / top-p
   (:func:`assetgen_dialogue.sampling.sample_token`, one uniform draw per piece);
4. the candidates shorter than the length floor are passed over (unless all are), then with
   ``filters`` those that fail a line check (:func:`assetgen_dialogue.rerank.faults`: an
   unfinished sentence, a repeated phrase, piled-up placeholders, with ``slip_checks`` the
   model's recurring grammar slips and piled-up marks; unless all do), the rest ranked
   (``rerank``: by the judged scorer trained on the read-throughs' marks, the default; by
   their mean log-probability; by the real-vs-generated scorer, or by it among the likelier
   half; :mod:`.rerank`), and the best is kept;
4b. with a scorer that gives a probability (judged, learned): while the best candidate that
   passes the floor and the checks scores below ``accept`` and not below ``give_up``, N more
   candidates are sampled (streams N * r + k of round r), up to ``rounds`` rounds, and the
   best of all is returned (:meth:`GptDecoder._whole_lines`);
5. with ``by_sentence``, medium and long lines are made a sentence at a time: steps 3-4 pick
   each sentence from N candidates that continue the sentences chosen before
   (:meth:`GptDecoder._sentences`).

With ``word_mask`` and ``source_words`` the words are those of the requested source's own
training lines (``source_words.json``) instead of all of them (``words.txt``).

The same seed and options always give the same line: every random draw comes from the seed
and the batch of a request never depends on other requests.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assetgen import InvalidOptionsError, ModelBundle, ModelError, TextAsset, check_choice, seeds

from .pieces import PieceTable, WordMask
from .rerank import Scorer, faults
from .sampling import sample_token

STEP_GRAPH = "dialogue_gpt_step.onnx"
#: Roles with fewer training lines than this for a source are not drawn by ``random``.
MIN_ROLE_LINES = 40
#: With the word mask on, a line begins as the real ones do (none of them starts in lower
#: case) and ends after one of these characters (99% of the training lines do).
LINE_START = "{('\"."
LINE_END = ".!?'\")"
#: The end of a sentence (the last characters of a line so far): sentence-by-sentence
#: decoding stops a candidate here when the next piece begins a new word.
SENTENCE_END = re.compile(r"[.!?][\"')]?\s*$")
#: Most sentences one line is made of, sentence by sentence.
MAX_SENTENCES = 8
#: The model folder's file of each learned reranker (``rerank``); a folder without it ranks
#: by likelihood.
SCORER_FILES = {"learned": "scorer.json", "judged": "judged_scorer.json"}


def length_counts(manifest: dict[str, Any], source: str, role: str) -> dict[str, int]:
    """The training lines of each length bucket that ``length=random`` draws from for a
    source and role (in the manifest's bucket order; buckets without lines left out): the
    role's own, or the source's over all roles for a role the source never has."""
    per_source = manifest.get("length_counts", {}).get(source, {})
    counts = dict(per_source.get(role) or {})
    if not counts:
        for c in per_source.values():
            for k, v in c.items():
                counts[k] = counts.get(k, 0) + v
    return {b: counts[b] for b in manifest["length_buckets"] if counts.get(b, 0) > 0}


@dataclass
class Candidate:
    text: str
    logprobs: np.ndarray
    stop: str
    pieces: list[int] = field(default_factory=list)

    @property
    def mean_logprob(self) -> float:
        return float(self.logprobs.mean()) if self.logprobs.size else -1e9


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return np.asarray(z - np.log(np.exp(z).sum(axis=-1, keepdims=True)))


_HASH = re.compile(r"[0-9a-f]{16}")


def read_data_lines(path: Any) -> frozenset[int]:
    """The hashes of ``data_lines.json``; a list that is empty or holds anything but
    16-digit lower-case hexadecimal hashes is refused (the C# runtime says the same)."""
    try:
        lines = json.loads(path.read_text(encoding="utf-8"))["lines"]
    except (ValueError, KeyError, TypeError):
        raise ModelError("data_lines.json: field 'lines' is missing or not JSON") from None
    if not isinstance(lines, list) or not all(
        isinstance(h, str) and _HASH.fullmatch(h) for h in lines
    ):
        raise ModelError("data_lines.json: field 'lines' must hold 16-digit hexadecimal hashes")
    if not lines:
        raise ModelError("data_lines.json: field 'lines' holds no hashes")
    return frozenset(int(h, 16) for h in lines)


class GptDecoder:
    def __init__(self, bundle: ModelBundle) -> None:
        m = bundle.manifest
        self.bundle = bundle
        self.manifest = m
        self.table = PieceTable.load(bundle.path("pieces.json"), m["tags"])
        words = bundle.path("words.txt").read_text(encoding="utf-8").split()
        self.words = frozenset(words)
        self.mask = WordMask(words, self.table)
        # per-source word lists (``source_words``), each mask built when first asked for
        self.source_word_lists: dict[str, list[str]] = {}
        if "source_words.json" in m["files"]:
            doc = json.loads(bundle.path("source_words.json").read_text(encoding="utf-8"))
            self.source_word_lists = {str(k): list(v) for k, v in doc.items()}
        self.source_masks: dict[str, WordMask] = {}
        # the data set's lines, hashed (``data_lines.json``): with ``filters`` a candidate
        # that would end the line as one of them is refused (a copy, not a generated line)
        self.data_lines: frozenset[int] = frozenset()
        if "data_lines.json" in m["files"]:
            self.data_lines = read_data_lines(bundle.path("data_lines.json"))
        # the rerankers (``rerank``): learned = scorer.json, judged = judged_scorer.json
        self.scorers: dict[str, Scorer] = {}
        for how, name in SCORER_FILES.items():
            if name in m["files"]:
                try:
                    doc = json.loads(bundle.path(name).read_text(encoding="utf-8"))
                except ValueError as exc:
                    raise ModelError(f"{name}: not JSON ({exc})") from None
                self.scorers[how] = Scorer.from_json(doc, name)
        self.roles = [r for r in m["tags"]["role"] if r != "any"]
        t = self.table
        self.open_vocab = np.zeros(t.vocab_size, dtype=bool)
        self.open_vocab[1 : t.pad] = True
        self.open_vocab[t.eos] = True
        self.cache_shape = (m["layers"], m["heads"], m["dim"] // m["heads"])
        # pieces a line may begin with: an upper-case letter or an opening mark first
        self.first_ok = np.zeros(t.vocab_size, dtype=bool)
        for i, piece in enumerate(t.pieces):
            text = piece.lstrip("\u2581")
            if t.kinds[i] != "unknown" and text and (text[0].isupper() or text[0] in LINE_START):
                self.first_ok[i] = True

    # -- options ---------------------------------------------------------------------------

    def validate(self, options: Any) -> None:
        tags = self.table.tags
        checks = (
            ("archetype", options.archetype, ["random", "any", *self.roles]),
            ("source", options.source, tags["source"]),
            ("race", options.race, tags["race"]),
        )
        for name, value, allowed in checks:
            check_choice(name, value, allowed, scope="this model")
        if options.top_k > self.table.vocab_size:
            raise InvalidOptionsError(
                f"option 'top_k' must be an integer from 0 to {self.table.vocab_size} (the "
                f"model's vocabulary size); got {options.top_k}",
                parameter="top_k",
                value=options.top_k,
            )
        if options.prompt:
            ids = self.table.encode(options.prompt)
            if 0 in ids:
                known = set("".join(self.table.pieces))
                unknown = sorted({ch for ch in options.prompt if ch not in known and ch != " "})
                raise InvalidOptionsError(
                    "option 'prompt' contains characters the model does not know: "
                    + ", ".join(repr(ch) for ch in unknown)
                    + "; it knows letters, digits and common punctuation (see pieces.json)",
                    parameter="prompt",
                    value=options.prompt,
                )
            if len(ids) + 4 >= self.manifest["context"]:
                raise InvalidOptionsError(
                    f"option 'prompt' is {len(ids)} pieces long; the model reads at most "
                    f"{self.manifest['context'] - 5}",
                    parameter="prompt",
                    value=options.prompt,
                )

    def resolve(self, seed: int, options: Any) -> dict[str, str]:
        rng = seeds.SeedStream(seed, "dialogue.tags")
        role_draw, length_draw = rng.random(), rng.random()
        source = options.source
        role = options.archetype
        if role == "random":
            counts = self.manifest.get("role_lines", {}).get(source, {})
            pool = [r for r in self.roles if counts.get(r, 0) >= MIN_ROLE_LINES] or self.roles
            role = pool[min(int(role_draw * len(pool)), len(pool) - 1)]
        length = options.length
        if length == "random":
            counts = length_counts(self.manifest, source, role)
            buckets = list(counts)
            if not buckets:
                length = "any"
            else:
                weights = np.array([counts[b] for b in buckets], dtype=np.float64)
                cdf = np.cumsum(weights) / weights.sum()
                length = buckets[
                    min(int(np.searchsorted(cdf, length_draw, side="right")), len(buckets) - 1)
                ]
        return {"source": source, "role": role, "race": options.race, "length": length}

    # -- sampling ----------------------------------------------------------------------------

    def word_mask(self, source: str, options: Any) -> WordMask:
        """The mask of a request: every training word, or (``source_words``, when the model
        folder has ``source_words.json``) only the words of that source's own lines."""
        if not options.source_words or source not in self.source_word_lists:
            return self.mask
        mask = self.source_masks.get(source)
        if mask is None:
            mask = WordMask(self.source_word_lists[source], self.table)
            self.source_masks[source] = mask
        return mask

    def candidates(
        self, seed: int, options: Any, round_: int = 0
    ) -> tuple[list[Candidate], dict[str, str]]:
        """N whole-line candidates of one request (the one-pass decoding); round r of
        ``rounds`` samples the streams N * r to N * r + N - 1."""
        tags = self.resolve(seed, options)
        prompt_ids = self.table.encode(options.prompt) if options.prompt else []
        n = options.candidates
        found = self._sample(
            seed,
            options,
            tags,
            prompt_ids,
            streams=[("dialogue.candidate", n * round_ + k) for k in range(n)],
            keep=len(options.prompt),
            state=self._prompt_state(options.prompt),
            until_sentence=False,
        )
        return found, tags

    def _sample(
        self,
        seed: int,
        options: Any,
        tags: dict[str, str],
        prefix: list[int],
        streams: list[tuple[str, int]],
        keep: int,
        state: str,
        until_sentence: bool,
        temperature: float | None = None,
    ) -> list[Candidate]:
        """One candidate per stream, all continuing ``prefix`` (the prompt's pieces, or the
        sentences chosen so far). With ``until_sentence`` a candidate stops (stop
        "sentence") where a sentence ends and a new word would begin."""
        t = self.table
        n = len(streams)
        temperature = options.temperature if temperature is None else temperature
        guidance = float(options.archetype_guidance)
        mask = self.word_mask(tags["source"], options) if options.word_mask else None
        cond = t.conditioning(tags["source"], tags["role"], tags["race"], tags["length"])
        rows = n * 2 if guidance > 0 else n
        session = self.bundle.session(STEP_GRAPH)
        layers, heads, head_dim = self.cache_shape
        past_k = np.zeros((layers, rows, heads, 0, head_dim), np.float32)
        past_v = np.zeros_like(past_k)

        def step(tokens: np.ndarray) -> np.ndarray:
            nonlocal past_k, past_v
            logits, past_k, past_v = session.run(
                None, {"token": tokens, "past_key": past_k, "past_value": past_v}
            )
            return np.asarray(logits, dtype=np.float64)

        any_role = t.tag("role", "any")
        logits = np.zeros((rows, t.vocab_size))
        for pos, token in enumerate([*cond, *prefix]):
            feed = np.full(rows, token, np.int64)
            if guidance > 0 and pos == 1:
                feed[n:] = any_role
            logits = step(feed)
        rngs = [seeds.SeedStream(seed, purpose, index) for purpose, index in streams]
        texts = self.mask.texts
        states = [state] * n
        out: list[list[int]] = [[] for _ in range(n)]
        logps: list[list[float]] = [[] for _ in range(n)]
        stops = ["context"] * n
        alive = [True] * n
        prefix_text = t.decode(prefix)
        room = options.max_chars - keep
        chars = [0] * n
        tails = [prefix_text[-3:]] * n
        position = len(cond) + len(prefix)
        banned = np.zeros(0, dtype=np.int64)
        if room <= 0:
            alive = [False] * n
            stops = ["max_chars"] * n
        while any(alive):
            logp = _log_softmax(logits[:n])
            z = logp
            if guidance > 0:
                z = logp + guidance * (logp - _log_softmax(logits[n:]))
            feed = np.full(rows, t.pad, np.int64)
            for k in range(n):
                if not alive[k]:
                    continue
                if mask is not None:
                    allowed = self._line_rules(mask.allowed(states[k]), out[k], prefix)
                else:
                    allowed = self.open_vocab
                zk = np.where(allowed, z[k], -np.inf)
                token = sample_token(zk, rngs[k], temperature, options.top_k, options.top_p, banned)
                if token == t.eos:
                    logps[k].append(float(logp[k, token]))
                    alive[k], stops[k] = False, "eos"
                    continue
                if (
                    until_sentence
                    and out[k]
                    and texts[token].startswith(" ")
                    and SENTENCE_END.search(tails[k])
                ):
                    alive[k], stops[k] = False, "sentence"
                    continue
                logps[k].append(float(logp[k, token]))
                out[k].append(token)
                tails[k] = (tails[k] + texts[token])[-3:]
                if mask is not None:
                    states[k] = mask.state_after(states[k], token)
                chars[k] += len(texts[token])
                if chars[k] >= room:
                    alive[k], stops[k] = False, "max_chars"
                    continue
                feed[k] = token
                if guidance > 0:
                    feed[n + k] = token
            position += 1
            if not any(alive):
                break
            if position >= self.manifest["context"]:
                break
            logits = step(feed)
        found = []
        for k in range(n):
            text = t.decode([*prefix, *out[k]])[: options.max_chars].rstrip()
            cut = text.rfind("{")
            if cut >= keep and cut > text.rfind("}"):  # max_chars cut a placeholder
                text = text[:cut].rstrip()
            if stops[k] not in ("eos", "sentence") and mask is not None:
                text = self._drop_open_word(text, keep, mask)
            found.append(Candidate(text, np.array(logps[k]), stops[k], out[k]))
        return found

    def _line_rules(self, allowed: np.ndarray, out: list[int], prompt: list[int]) -> np.ndarray:
        """The first piece of a line starts it as real lines start; <eos> comes after a
        sentence end. Falls back to ``allowed`` when a rule would leave nothing."""
        t = self.table
        if not out and not prompt:
            first = allowed & self.first_ok
            return first if first.any() else allowed
        last = (out or prompt)[-1]
        ends = self.mask.texts[last].rstrip()[-1:] in LINE_END or t.kinds[last] == "user"
        if allowed[t.eos] and not ends:
            allowed = allowed.copy()
            allowed[t.eos] = False
            if not allowed.any():
                allowed[t.eos] = True
        return allowed

    def _drop_open_word(self, text: str, keep: int, mask: WordMask) -> str:
        """A line cut by max_chars or the context ends on whole words (the prompt is kept)."""
        end = len(text)
        while end > keep and (text[end - 1].isalpha() or text[end - 1] == "'"):
            end -= 1
        word = text[end:]
        if word and not mask.complete(word):
            return text[: max(end, keep)].rstrip()
        return text

    def _prompt_state(self, prompt: str) -> str:
        if not prompt or not (prompt[-1].isalpha() or prompt[-1] == "'"):
            return ""
        word = ""
        for ch in reversed(prompt):
            if not (ch.isalpha() or ch == "'"):
                break
            word = ch.lower() + word
        return word if word in self.mask.prefixes else ""

    # -- choosing ----------------------------------------------------------------------------

    def floor(self, options: Any, length: str) -> int:
        if options.min_chars >= 0:
            return int(options.min_chars)
        bucket = self.manifest["length_buckets"].get(length)
        return int(bucket[0]) if bucket else 0

    def scores(
        self, found: list[Candidate], how: str, before: np.ndarray | None = None
    ) -> np.ndarray:
        """Reranking scores; ``before``: the log-probabilities of the sentences chosen
        before (sentence by sentence), so a candidate is scored as the whole line so far."""
        lps = [
            c.logprobs if before is None else np.concatenate([before, c.logprobs]) for c in found
        ]
        likelihood = np.array([float(lp.mean()) if lp.size else -1e9 for lp in lps])
        scorer = self.scorers.get("learned" if how == "mixed" else how)
        if scorer is None:
            return likelihood
        x = np.array([scorer.row(c.text, lp, self.words) for c, lp in zip(found, lps, strict=True)])
        learned = scorer.logit(x)
        if how == "mixed":
            # the learned scorer, among the likelier half of the candidates only
            return np.where(likelihood >= np.median(likelihood), learned, learned - 1e6)
        return learned

    def by_sentence(self, options: Any, tags: dict[str, str]) -> bool:
        """Whether a request is decoded sentence by sentence: a line of more than one
        sentence (length medium or long) with reranking on."""
        return (
            bool(options.by_sentence)
            and options.candidates > 1
            and tags["length"]
            in (
                "medium",
                "long",
            )
        )

    def _sentences(
        self, seed: int, options: Any, tags: dict[str, str]
    ) -> tuple[Candidate, list[Candidate], int, np.ndarray, int]:
        """A line made a sentence at a time: N candidates for the next sentence (each from
        its own stream, purpose "dialogue.sentence", index 64 * sentence + k) continue the
        sentences chosen so far; the floor, the bucket's upper end and the line checks pass
        over candidates, the scorer ranks the rest on the whole line so far, and the best is
        kept. The line ends when the chosen candidate ends it (<eos>, max_chars) or reaches
        the length floor."""
        floor = self.floor(options, tags["length"])
        bucket = self.manifest["length_buckets"].get(tags["length"])
        upper = min(int(bucket[1]) if bucket else options.max_chars, options.max_chars)
        n = options.candidates
        prefix = self.table.encode(options.prompt) if options.prompt else []
        before = np.zeros(0)
        state = self._prompt_state(options.prompt)
        chosen = Candidate(options.prompt, before, "eos", [])
        last: tuple[list[Candidate], int, np.ndarray] = ([chosen], 0, np.zeros(1))
        for r in range(MAX_SENTENCES):
            later = r > 0 and options.sentence_temperature > 0
            found = self._sample(
                seed,
                options,
                tags,
                prefix,
                streams=[("dialogue.sentence", 64 * r + k) for k in range(n)],
                keep=len(options.prompt) if r == 0 else len(chosen.text),
                state=state if r == 0 else "",
                until_sentence=True,
                temperature=options.sentence_temperature if later else None,
            )
            scores = self.scores(found, options.sentence_rerank, before)
            k_all = list(range(n))
            ended = [k for k in k_all if found[k].stop in ("eos", "sentence")]
            if not ended and r > 0:
                # every next sentence runs past max_chars: the line ends where it is
                return chosen, *last, r
            eligible = ended or k_all
            eligible = [
                k for k in eligible if found[k].stop == "sentence" or len(found[k].text) >= floor
            ] or eligible
            eligible = [k for k in eligible if len(found[k].text) <= upper] or eligible
            if options.filters:
                had = set(faults(chosen.text, options.slip_checks))
                clean = [
                    k for k in eligible
                    if not set(faults(found[k].text, options.slip_checks)) - had
                    and not (self.copied(found[k].text) and self._ends(found[k], floor))
                ]
                if not clean and r > 0:
                    # every next sentence would add a fault: the line ends where it is
                    return chosen, *last, r
                eligible = clean or eligible
            best = max(eligible, key=lambda k: (scores[k], -k))
            pick = found[best]
            last = (found, best, scores)
            before = np.concatenate([before, pick.logprobs])
            chosen = Candidate(pick.text, before, pick.stop, [*chosen.pieces, *pick.pieces])
            prefix = [*prefix, *pick.pieces]
            if pick.stop != "sentence" or len(pick.text) >= floor or not pick.pieces:
                return chosen, *last, r + 1
        return chosen, *last, MAX_SENTENCES

    @staticmethod
    def logit(p: float) -> float:
        """A probability option as a scorer logit (-inf for 0, +inf for 1), so the search
        compares logits and never rounds a probability."""
        if p <= 0.0:
            return -math.inf
        if p >= 1.0:
            return math.inf
        return math.log(p / (1.0 - p))

    def _whole_lines(
        self, seed: int, options: Any
    ) -> tuple[Candidate, list[Candidate], int, np.ndarray, dict[str, str], int]:
        """The one-pass decoding: rounds of N candidates until the best one that passes the
        length floor and the line checks scores at least ``accept`` (only with a scorer that
        gives a probability: judged, learned), the best scores below ``give_up`` (a request
        that far from a kept line gains little from more), or ``rounds`` rounds were
        sampled. The best of all candidates so far is kept, so one round gives the same line
        as before rounds existed, and every round's batch has the same N rows whatever came
        before."""
        floor: int | None = None
        found: list[Candidate] = []
        scores = np.zeros(0)
        probability = options.rerank in SCORER_FILES and options.rerank in self.scorers
        rounds = options.rounds if options.candidates > 1 and probability else 1
        accept, give_up = self.logit(options.accept), self.logit(options.give_up)
        tags: dict[str, str] = {}
        best, r = 0, 0
        passes: list[bool] = []  # each candidate's line checks, made once
        for r in range(rounds):
            more, tags = self.candidates(seed, options, r)
            found.extend(more)
            ranked = self.scores(more, options.rerank) if options.candidates > 1 else None
            scores = np.concatenate([scores, np.zeros(len(more)) if ranked is None else ranked])
            if floor is None:
                floor = self.floor(options, tags["length"])
            if options.filters:
                passes += [
                    not faults(c.text, options.slip_checks) and not self.copied(c.text)
                    for c in more
                ]
            long_enough = [k for k, c in enumerate(found) if len(c.text) >= floor]
            eligible = long_enough or list(range(len(found)))
            clean = bool(long_enough)
            if options.filters:
                passing = [k for k in eligible if passes[k]]
                clean = clean and bool(passing)
                eligible = passing or eligible
            best = max(eligible, key=lambda k: (scores[k], -k))
            if (clean and scores[best] >= accept) or scores[best] < give_up:
                break
        return found[best], found, best, scores, tags, r + 1

    def copied(self, text: str) -> bool:
        """Whether ``text`` is a line of the model's data set word for word."""
        return bool(self.data_lines) and seeds.fnv1a64(text) in self.data_lines

    @staticmethod
    def _ends(candidate: Candidate, floor: int) -> bool:
        """Whether choosing this sentence candidate ends the line (as ``_sentences`` does)."""
        return candidate.stop != "sentence" or len(candidate.text) >= floor or not candidate.pieces

    def line(self, seed: int, options: Any) -> TextAsset:
        tags = self.resolve(seed, options)
        sentences, rounds = 1, 1
        if self.by_sentence(options, tags):
            chosen, found, best, scores, sentences = self._sentences(seed, options, tags)
        else:
            chosen, found, best, scores, tags, rounds = self._whole_lines(seed, options)
        text = chosen.text
        placeholders = [p for p in ("{NAME}", "{PLACE}") if p in text]
        if options.name:
            text = text.replace("{NAME}", options.name)
        if options.place:
            text = text.replace("{PLACE}", options.place)
        return TextAsset(
            text,
            speaker=options.name or tags["role"],
            metadata={
                "archetype": tags["role"],
                "source": tags["source"],
                "race": tags["race"],
                "length": tags["length"],
                "stop": chosen.stop,
                "candidates": len(found),
                "chosen": best,
                "score": float(scores[best]),
                "placeholders": placeholders,
                "faults": faults(chosen.text, options.slip_checks),
                "sentences": sentences,
                "rounds": rounds,
                "license": self.manifest["license"],
            },
        )
