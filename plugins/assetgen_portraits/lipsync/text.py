"""The text driver: a line of dialogue -> ARPAbet phones -> timed mouth shapes.

Words are looked up in the CMU Pronouncing Dictionary as shipped inside the ``pocketsphinx``
wheel (``model/en-us/cmudict-en-us.dict``; BSD-style licence, see docs/lipsync.md), read once
on first use. Words it lacks go through :func:`letters_to_phones`, a small set of our own
English spelling rules; numbers are spoken as words. Without pocketsphinx installed every word
goes through the rules (``Track.method`` then says ``rules``).

Timing: each phone has a base duration (``phonemes.csv``); the vowel a word stresses is
lengthened by :data:`STRESS_SCALE`, and function words are shortened by
:data:`FUNCTION_WORD_SCALE`. All phone durations are then scaled together so that the speech
(pauses excluded) runs at ``rate`` syllables per second. Commas and the like add
:data:`CLAUSE_PAUSE` of rest (X), sentence ends :data:`SENTENCE_PAUSE`; the line starts with
:data:`LEAD_IN` of rest and ends with :data:`TAIL` (or the final pause, if longer). The result
is deterministic: the same text and options give the same cues on every machine.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from assetgen import InvalidOptionsError

from .shapes import (
    MAX_SECONDS,
    Phone,
    Track,
    Word,
    base_phone,
    build_cues,
    check_number,
    phone_segments,
    phone_table,
)

#: Speaking rate of the text driver, in syllables per second of speech (pauses excluded);
#: about the pace of espeak-ng's default voice.
DEFAULT_RATE = 4.5
RATE_MIN = 1.0
RATE_MAX = 12.0
#: Longest line :func:`text_track` accepts, in characters (as the openness-curve driver).
MAX_TEXT_CHARS = 2000

#: Rest (X) around and inside a line, in seconds.
LEAD_IN = 0.10
TAIL = 0.20
CLAUSE_PAUSE = 0.20
SENTENCE_PAUSE = 0.40
#: Duration factors: the stressed vowel of a content word, and every phone of a function word.
STRESS_SCALE = 1.4
FUNCTION_WORD_SCALE = 0.75
#: Shortest phone, in centiseconds, after rate scaling.
MIN_PHONE_TICKS = 2

_CLAUSE_MARKS = ",;:()\u2013\u2014"
_SENTENCE_MARKS = ".!?\u2026"

#: Words said without stress in running speech (their vowels stay short).
FUNCTION_WORDS = frozenset(
    """a an the and or but if of to in on at by for from with as is am are was were be been
    it its i me my we us our you your he him his she her they them their this that than then
    so not no do does did have has had can could will would shall should may might must
    there here what who whom which when where how just very too also into onto upon""".split()
)

_TOKEN = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)*(?:st|nd|rd|th)?)"
    r"|(?P<word>[^\W\d_]+(?:'[^\W\d_]+)*)"
    r"|(?P<dash>\s-+\s|--+)"
    r"|(?P<mark>[.!?\u2026,;:()\u2013\u2014])"
    r"|(?P<sym>[&%+@=#$\u20ac\u00a3])",
    re.IGNORECASE,
)
_SYMBOL_WORDS = {
    "&": "and", "%": "percent", "+": "plus", "@": "at", "=": "equals", "#": "number",
    "$": "dollars", "\u20ac": "euros", "\u00a3": "pounds",
}


def check_text(text: Any, *, allow_empty: bool = False) -> str:
    """The ``text`` option: a string of at most :data:`MAX_TEXT_CHARS` characters."""
    if not isinstance(text, str):
        raise InvalidOptionsError(
            f"option 'text' must be a string of 1 to {MAX_TEXT_CHARS} characters; "
            f"got {type(text).__name__}",
            parameter="text",
            value=text,
        )
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidOptionsError(
            f"option 'text' is {len(text)} characters long; at most {MAX_TEXT_CHARS} are "
            "allowed (split the dialogue into shorter lines)",
            parameter="text",
            value=text,
        )
    if not allow_empty and not text.strip():
        raise InvalidOptionsError(
            f"option 'text' must contain something to say (1 to {MAX_TEXT_CHARS} characters); "
            "got an empty or whitespace-only string",
            parameter="text",
            value=text,
        )
    return text


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}


def number_words(number: int) -> list[str]:
    """An integer below 10**12 in English words (``1234`` -> one thousand two hundred...)."""
    if number < 20:
        return [_ONES[number]]
    if number < 100:
        tens, ones = divmod(number, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return [_ONES[hundreds], "hundred"] + (number_words(rest) if rest else [])
    for scale, name in _SCALES:
        if number >= scale:
            high, rest = divmod(number, scale)
            return number_words(high) + [name] + (number_words(rest) if rest else [])
    raise AssertionError("unreachable")  # pragma: no cover


def _ordinal(words: list[str]) -> list[str]:
    last = words[-1]
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return words[:-1] + [last]


def spoken_number(token: str) -> list[str]:
    """A numeric token as words: ``42`` -> forty two, ``3.5`` -> three point five, ``1,000``
    -> one thousand, ``2nd`` -> second, ``007`` and very long numbers -> digit by digit."""
    lowered = token.lower()
    suffix = lowered[-2:] if lowered[-2:] in ("st", "nd", "rd", "th") else ""
    digits = lowered[: len(lowered) - len(suffix)]
    fraction = ""
    if re.fullmatch(r"\d{1,3}(,\d{3})+", digits):
        digits = digits.replace(",", "")
    elif "." in digits or "," in digits:
        parts = re.split(r"[.,]", digits)
        digits, fraction = parts[0], "".join(parts[1:])
    if (len(digits) > 1 and digits.startswith("0")) or len(digits) > 12:
        words = [_ONES[int(d)] for d in digits]
    else:
        words = number_words(int(digits))
    if suffix and not fraction:
        words = _ordinal(words)
    if fraction:
        words.append("point")
        words += [_ONES[int(d)] for d in fraction if d.isdigit()]
    return words


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """NFKC, typographic apostrophes to ``'``, letters stripped of accents where possible."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u02bc", "'")
    return text


def _ascii_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalpha() or ch == "'"))


def tokens(text: str) -> list[tuple[Any, ...]]:
    """A line -> ``("word", original, spoken)`` words and ``("pause", seconds)`` items.

    ``spoken`` is the lower-case dictionary spelling (numbers and symbols become words).
    """
    items: list[tuple[Any, ...]] = []
    for match in _TOKEN.finditer(_fold(text)):
        kind, value = match.lastgroup, match.group()
        if kind == "num":
            for spoken in spoken_number(value):
                items.append(("word", value, spoken))
        elif kind == "word":
            items.append(("word", value, value.lower()))
        elif kind == "sym":
            items.append(("word", value, _SYMBOL_WORDS[value]))
        else:
            mark = value.strip()[:1] if kind == "mark" else "-"
            pause = SENTENCE_PAUSE if mark in _SENTENCE_MARKS else CLAUSE_PAUSE
            if items and items[-1][0] == "pause":
                items[-1] = ("pause", max(items[-1][1], pause))
            elif items:
                items.append(("pause", pause))
    return items


# ---------------------------------------------------------------------------------------------
# Pronunciation
# ---------------------------------------------------------------------------------------------


def dictionary_path() -> Path | None:
    """The CMU dictionary inside the installed pocketsphinx wheel, or None."""
    try:
        spec = importlib.util.find_spec("pocketsphinx")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "model" / "en-us" / "cmudict-en-us.dict"
    return path if path.is_file() else None


@cache
def dictionary() -> dict[str, str]:
    """{word: "PH ON ES"}: the first pronunciation of each word (empty without pocketsphinx)."""
    path = dictionary_path()
    if path is None:
        return {}
    entries: dict[str, str] = {}
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            word, _, phones = line.strip().partition(" ")
            if word and phones and "(" not in word:
                entries.setdefault(word, phones.strip())
    return entries


def pronounce(word: str) -> tuple[tuple[str, ...], str]:
    """A lower-case word -> (ARPAbet phones, ``"dict"`` or ``"rules"``)."""
    entries = dictionary()
    found = entries.get(word)
    if found is None and word.endswith("'s") and word[:-2] in entries:
        stem = entries[word[:-2]].split()
        ending = "IH Z" if stem[-1] in ("S", "Z", "SH", "ZH", "CH", "JH") else (
            "S" if stem[-1] in ("P", "T", "K", "F", "TH") else "Z"
        )
        found = " ".join(stem) + " " + ending
    if found is not None:
        return tuple(found.split()), "dict"
    return letters_to_phones(word), "rules"


# Letter-to-sound rules, tried longest first at each position: (letters, phones, where), where
# "^" = only at the start of the word, "$" = only at the end, "" = anywhere. Our own rules for
# common English spellings; unknown letters are skipped.
_RULES: list[tuple[str, str, str]] = [
    ("tion", "SH AH N", ""), ("sion", "ZH AH N", ""), ("ough", "AO", ""), ("augh", "AO", ""),
    ("eigh", "EY", ""), ("igh", "AY", ""), ("tch", "CH", ""), ("sch", "S K", ""),
    ("dge", "JH", ""), ("ear", "IH R", ""), ("air", "EH R", ""), ("ure", "Y UH R", "$"),
    ("ch", "CH", ""), ("sh", "SH", ""), ("th", "TH", ""), ("ph", "F", ""), ("wh", "W", ""),
    ("ck", "K", ""), ("ng", "NG", ""), ("qu", "K W", ""), ("gh", "G", "^"), ("gh", "", ""),
    ("kn", "N", "^"), ("wr", "R", "^"), ("rh", "R", "^"), ("mb", "M", "$"), ("ps", "S", "^"),
    ("ee", "IY", ""), ("ea", "IY", ""), ("oo", "UW", ""), ("ou", "AW", ""), ("ow", "OW", "$"),
    ("ow", "AW", ""), ("oi", "OY", ""), ("oy", "OY", ""), ("ai", "EY", ""), ("ay", "EY", ""),
    ("au", "AO", ""), ("aw", "AO", ""), ("ie", "IY", ""), ("ei", "EY", ""), ("ey", "IY", "$"),
    ("ey", "EY", ""), ("oa", "OW", ""), ("ue", "UW", ""), ("ew", "UW", ""),
    ("ar", "AA R", ""), ("or", "AO R", ""), ("er", "ER", ""), ("ir", "ER", ""),
    ("ur", "ER", ""), ("le", "AH L", "$"),
]
_RULES.sort(key=lambda rule: -len(rule[0]))
_SHORT = {"a": "AE", "e": "EH", "i": "IH", "o": "AA", "u": "AH"}
_LONG = {"a": "EY", "e": "IY", "i": "AY", "o": "OW", "u": "UW"}
_CONSONANTS = {
    "b": "B", "d": "D", "f": "F", "h": "HH", "j": "JH", "k": "K", "l": "L", "m": "M", "n": "N",
    "p": "P", "q": "K", "r": "R", "s": "S", "t": "T", "v": "V", "w": "W", "x": "K S", "z": "Z",
}
_VOWEL_LETTERS = "aeiouy"


def letters_to_phones(word: str) -> tuple[str, ...]:
    """Guess the ARPAbet phones of a word from its spelling (our own rules, see _RULES).

    Handles digraphs, a silent final e that makes the vowel before it long (``make``), soft c
    and g before e/i/y, doubled consonants and y as a vowel. Words without Latin letters (after
    accents are stripped) are spoken as one neutral syllable per two characters.
    """
    letters = _ascii_word(word).lower().replace("'", "")
    if not letters:
        syllables = max(1, (len(word) + 1) // 2)
        return ("T", "AH") * syllables
    phones: list[str] = []
    n = len(letters)
    silent_e = (
        n >= 3
        and letters.endswith("e")
        and letters[-2] not in _VOWEL_LETTERS
        and any(ch in _VOWEL_LETTERS for ch in letters[:-2])
    )
    i = 0
    while i < n:
        if silent_e and i == n - 1:
            break
        for letters_rule, sound, where in _RULES:
            size = len(letters_rule)
            if letters.startswith(letters_rule, i) and (
                (where == "^" and i == 0) or (where == "$" and i + size == n) or where == ""
            ):
                phones += sound.split()
                i += size
                break
        else:
            ch = letters[i]
            following = letters[i + 1] if i + 1 < n else ""
            if ch in "aeiou":
                long_vowel = silent_e and i == n - 3
                phones.append((_LONG if long_vowel else _SHORT)[ch])
            elif ch == "y":
                if i == 0:
                    phones.append("Y")
                elif i == n - 1:
                    single = not any(c in "aeiou" for c in letters[:-1])
                    phones.append("AY" if single else "IY")
                else:
                    phones.append("IH")
            elif ch == "c":
                phones.append("S" if following in ("e", "i", "y") else "K")
            elif ch == "g":
                phones.append("JH" if following in ("e", "i", "y") and i > 0 else "G")
            elif ch in _CONSONANTS:
                if following != ch:  # a doubled consonant is said once
                    phones += _CONSONANTS[ch].split()
            i += 1
    if not any(phone_table()[p].syllabic for p in phones):
        phones.append("AH")  # "hmm", "shh", "brr": a murmur needs some voice
    return tuple(phones)


def stressed_index(phones: tuple[str, ...]) -> int | None:
    """Which vowel (index into phones) a word stresses: the first full (not AH/IH/ER) vowel,
    else the first vowel. The dictionary we ship has no stress marks, so this is a guess."""
    table = phone_table()
    vowels = [i for i, p in enumerate(phones) if table[p].syllabic]
    if not vowels:
        return None
    for i in vowels:
        if phones[i] not in ("AH", "IH", "ER"):
            return i
    return vowels[0]


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------


def text_track(text: str, *, rate: float = DEFAULT_RATE, extended: bool = True) -> Track:
    """Mouth-shape cues for a line of dialogue, timed from a speaking rate.

    ``rate`` is in syllables per second of speech (pauses excluded), from
    :data:`RATE_MIN` to :data:`RATE_MAX`. Raises :class:`InvalidOptionsError` naming 'text'
    or 'rate'.
    """
    check_text(text)
    rate = check_number(rate, "rate", RATE_MIN, RATE_MAX, "syllables per second")
    table = phone_table()
    # 1. words and pauses -> phones with base durations (ms) and a word index
    plan: list[tuple[str, float, int]] = []  # (phone or "SIL", ms, word index or -1)
    words: list[str] = []
    sources: set[str] = set()
    syllables = 0
    for item in tokens(text):
        if item[0] == "pause":
            plan.append(("SIL", item[1] * 1000, -1))
            continue
        spoken = item[2]
        phones, source = pronounce(spoken)
        phones = tuple(base_phone(p) for p in phones)
        phones = tuple(p for p in phones if p != "SIL")
        sources.add(source)
        function = spoken in FUNCTION_WORDS
        stress = None if function else stressed_index(phones)
        for i, phone in enumerate(phones):
            ms = float(table[phone].ms)
            if function:
                ms *= FUNCTION_WORD_SCALE
            elif i == stress:
                ms *= STRESS_SCALE
            syllables += table[phone].syllabic
            plan.append((phone, ms, len(words)))
        words.append(spoken)
    if not words:
        raise InvalidOptionsError(
            "option 'text' has no words to say (only punctuation or symbols); "
            f"give a line of 1 to {MAX_TEXT_CHARS} characters with words or numbers",
            parameter="text",
            value=text,
        )
    # 2. scale speech to the rate, keep pauses as they are, quantise on the 10 ms grid
    speech_ms = sum(ms for phone, ms, _ in plan if phone != "SIL")
    scale = (max(syllables, 1) / rate * 1000) / speech_ms
    plan_tail = TAIL * 1000
    while plan and plan[-1][0] == "SIL":
        plan_tail = max(plan_tail, plan.pop()[1])
    clock = LEAD_IN * 1000
    timed: list[tuple[str, int, int, int]] = []
    for phone, ms, word in plan:
        length = ms if phone == "SIL" else ms * scale
        start = round(clock / 10)
        clock += length
        end = max(round(clock / 10), start + (0 if phone == "SIL" else MIN_PHONE_TICKS))
        clock = max(clock, end * 10)
        timed.append((phone, start, end, word))
    total = round((clock + plan_tail) / 10)
    if total > MAX_SECONDS * 100:
        raise InvalidOptionsError(
            f"option 'text' takes {total / 100:.1f} s to say at {rate:g} syllables/s, longer "
            f"than the {MAX_SECONDS:g} s limit; split the line or raise 'rate'",
            parameter="text",
            value=text,
        )
    speech = [(p, s, e) for p, s, e, _ in timed if p != "SIL" and e > s]
    segments = phone_segments(speech, extended)
    word_times = []
    for index, spoken in enumerate(words):
        spans = [(s, e) for p, s, e, w in timed if w == index and e > s]
        if spans:
            word_times.append(Word(spoken, spans[0][0] / 100, spans[-1][1] / 100))
    method = "dict" if sources == {"dict"} else "rules" if sources == {"rules"} else "dict+rules"
    return Track(
        cues=build_cues(segments, total),
        duration=total / 100,
        source="text",
        method=method,
        extended=extended,
        words=tuple(word_times),
        phones=tuple(Phone(p, s / 100, e / 100) for p, s, e in speech),
    )
