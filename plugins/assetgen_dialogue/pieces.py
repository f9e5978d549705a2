"""Subword pieces without sentencepiece: the piece table, tag tokens and the word mask.

The model folder's ``pieces.json`` holds the sentencepiece unigram table (piece, score, kind);
this module segments text with it (Viterbi over the piece scores, the unigram model's own
rule, so the runtime does not need the ``sentencepiece`` package), turns pieces back into
text, and lays out the token ids the model was trained with::

    0 .. P-1     pieces (0 is <unk>)
    P            <pad>
    P + 1        <eos>
    P + 2 ...    tags, in the order source, role, race, length (``tags`` of the manifest)

:class:`WordMask` says which pieces may come next so that only words of the training text can
be spelled (a word is a run of letters and apostrophes; case is ignored).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

SPACE = "\u2581"  # sentencepiece's word-start mark
TAG_KINDS: tuple[str, ...] = ("source", "role", "race", "length")


class PieceTable:
    def __init__(
        self,
        pieces: Sequence[str],
        scores: Sequence[float],
        kinds: Sequence[str],
        tags: Mapping[str, Sequence[str]],
    ) -> None:
        self.pieces = list(pieces)
        self.scores = [float(s) for s in scores]
        self.kinds = list(kinds)
        self.index = {p: i for i, p in enumerate(self.pieces)}
        self.pad = len(self.pieces)
        self.eos = self.pad + 1
        self.tags = {k: list(tags[k]) for k in TAG_KINDS}
        self.tag_ids: dict[tuple[str, str], int] = {}
        next_id = self.eos + 1
        for kind in TAG_KINDS:
            for value in self.tags[kind]:
                self.tag_ids[(kind, value)] = next_id
                next_id += 1
        self.vocab_size = next_id
        self.longest = max(len(p) for p in self.pieces)
        # user-defined pieces ({NAME}, {PLACE}) are always taken whole, as sentencepiece does
        self.user = [p for p, k in zip(self.pieces, self.kinds, strict=True) if k == "user"]
        self.unk_score = min(self.scores) - 10.0

    @classmethod
    def load(cls, path: Path, tags: Mapping[str, Sequence[str]]) -> PieceTable:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(doc["pieces"], doc["scores"], doc["kinds"], tags)

    def tag(self, kind: str, value: str) -> int:
        return self.tag_ids[(kind, value)]

    def conditioning(self, source: str, role: str, race: str, length: str) -> list[int]:
        return [
            self.tag("source", source),
            self.tag("role", role),
            self.tag("race", race),
            self.tag("length", length),
        ]

    def encode(self, text: str) -> list[int]:
        """Piece ids of ``text`` (a leading word-start mark added, as sentencepiece does)."""
        s = SPACE + text.replace(" ", SPACE)
        n = len(s)
        best = [-math.inf] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for end in range(1, n + 1):
            for start in range(max(0, end - self.longest), end):
                if best[start] == -math.inf:
                    continue
                piece = s[start:end]
                pid = self.index.get(piece)
                if pid is None or self.kinds[pid] == "unknown":
                    if end - start == 1:  # a character no piece covers: <unk>
                        score, pid = self.unk_score, 0
                    else:
                        continue
                elif self.kinds[pid] == "user":
                    score = 0.0
                else:
                    score = self.scores[pid]
                if best[start] + score > best[end]:
                    best[end] = best[start] + score
                    back[end] = (start, pid)
        ids: list[int] = []
        end = n
        while end > 0:
            start, pid = back[end]
            ids.append(pid)
            end = start
        return ids[::-1]

    def decode(self, ids: Iterable[int]) -> str:
        text = "".join(self.pieces[i] for i in ids if 0 < i < self.pad)
        return text.replace(SPACE, " ").strip()


#: Mask state just after a placeholder: the next piece must not continue a word.
AFTER_PLACEHOLDER = "}"


def is_word_char(ch: str) -> bool:
    return ch.isalpha() or ch == "'"


def case_ok(word: str) -> bool:
    """ "word", "Word" or "WORD" (apostrophes aside), not "wOrd"."""
    letters = [ch for ch in word if ch.isalpha()]
    if len(letters) < 2:
        return True
    rest = letters[1:]
    return all(ch.islower() for ch in rest) or all(ch.isupper() for ch in letters)


class WordMask:
    """Which pieces keep every word of the line a word of the training text.

    The state is the word being spelled (lower case, "" between words). A piece is allowed
    when, read character by character from that state, every word it finishes is a known word
    and the word it leaves open is the beginning of one. Each piece is split once into the
    word characters it starts with (``head``), whether a word break follows, and the open word
    it ends with (``tail``), so a state's mask needs one set lookup per piece that continues a
    word; masks are cached by state (most steps start a new word or continue a common prefix).
    """

    def __init__(self, words: Iterable[str], table: PieceTable) -> None:
        self.words = frozenset(w.lower() for w in words if any(ch.isalpha() for ch in w))
        prefixes: set[str] = set()
        for w in self.words:
            prefixes.update(w[:i] for i in range(1, len(w) + 1))
        self.prefixes = frozenset(prefixes)
        self.table = table
        self.texts = [p.replace(SPACE, " ") for p in table.pieces]
        self._cache: dict[str, np.ndarray] = {}
        self.user_ids = np.array(
            [i for i, k in enumerate(table.kinds) if k == "user"], dtype=np.int64
        )
        n = table.vocab_size
        # pieces that start a new word (or are punctuation): allowed when the state is a
        # complete word, if the words inside them are known and the tail starts a word
        self.after_break = np.zeros(n, dtype=bool)
        self.continuing: list[tuple[int, str, bool, bool]] = []  # id, head, break, rest ok
        for i, text in enumerate(self.texts):
            if table.kinds[i] == "unknown":
                continue
            if table.kinds[i] == "user":
                self.after_break[i] = True
                continue
            head = ""
            for ch in text:
                if not is_word_char(ch):
                    break
                head += ch
            rest = text[len(head) :]
            rest_ok = self.advance("", rest) is not None if rest else True
            if head:
                self.continuing.append((i, head, bool(rest), rest_ok))
            elif rest_ok:
                self.after_break[i] = True

    def advance(self, state: str, text: str, strict_case: bool = True) -> str | None:
        """The state after ``text``, or None when it spells a word that is not known (or,
        with ``strict_case``, mixes case in a word: "word", "Word" and "WORD" are the
        spellings of one)."""
        for ch in text:
            if is_word_char(ch):
                if state == AFTER_PLACEHOLDER:
                    return None
                state += ch
                if state.lower() not in self.prefixes or (strict_case and not case_ok(state)):
                    return None
            else:
                if state and not self.complete(state):
                    return None
                state = ""
        return state

    def complete(self, state: str) -> bool:
        if not state or state == AFTER_PLACEHOLDER:
            return True
        low = state.lower()
        return low in self.words or low.strip("'") in self.words

    def allowed(self, state: str) -> np.ndarray:
        """Boolean mask over the whole vocabulary (tags, <pad> and <unk> always False, <eos>
        only between words or after a complete one). Should a state have no way on (a word
        begun in capitals that the pieces can only finish in lower case), the case rule is
        dropped for it, and failing that every piece is allowed: a line never gets stuck."""
        cached = self._cache.get(state)
        if cached is None:
            cached = self._mask(state, strict_case=True)
            if not cached.any():
                cached = self._mask(state, strict_case=False)
            if not cached.any():
                cached = np.zeros_like(self.after_break)
                cached[1 : self.table.pad] = True
                cached[self.table.eos] = True
            if len(self._cache) < 50_000:
                self._cache[state] = cached
        return cached

    def _mask(self, state: str, strict_case: bool) -> np.ndarray:
        done = self.complete(state)
        mask = self.after_break.copy() if done else np.zeros_like(self.after_break)
        # a placeholder stands alone: after a break, and followed by one
        mask[self.user_ids] = state == ""
        mask[self.table.eos] = done
        if state == AFTER_PLACEHOLDER:
            return mask
        prefixes = self.prefixes
        for i, head, has_break, rest_ok in self.continuing:
            word = state + head
            if strict_case and not case_ok(word):
                continue
            if has_break:
                mask[i] = rest_ok and self.complete(word)
            else:
                mask[i] = word.lower() in prefixes
        return mask

    def state_after(self, state: str, piece_id: int) -> str:
        if self.table.kinds[piece_id] == "user":
            return AFTER_PLACEHOLDER
        text = self.texts[piece_id]
        nxt = self.advance(state, text)
        if nxt is None:  # a piece the relaxed masks allowed
            nxt = self.advance(state, text, strict_case=False)
        return "" if nxt is None else nxt
