"""Property-based fuzzing (hypothesis) of everything that parses user input: generator options
from Python values, from ``-o key=value`` text and from the bridge's JSON; batch job files as
TOML documents, as mutated text and as raw bytes; and whole CLI command lines.

The property is always the same: the input is either accepted, and then every value is within
what its option declares, or refused with an ``InvalidOptionsError`` (or
``UnknownGeneratorError``) whose message is one short line — never another exception, never a
traceback. Inputs tried are counted into the session's figures. Each property runs twice: a
light default and a ``heavy`` variant with many more examples.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import math
import os
import tempfile
import typing
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assetgen import Engine, InvalidOptionsError, UnknownGeneratorError
from assetgen.batch import load_job
from assetgen.bridge import Bridge, parse_options_json
from assetgen.cli import main, parse_option_pairs
from assetgen.exporting import check_output_name
from assetgen.limits import MAX_BATCH_ITEMS, MAX_BATCH_RUNS, MAX_COUNT, MAX_FRAMES
from assetgen.options import DEFAULT_MAX_STRING, MAX_MAPPING_ENTRIES, Options, text_problem

from ..batch_jobs import job_text

MAX_MESSAGE = 600
TARGETS = [("blob", False), ("blob", True), ("echo", False)]
FORMATS = ["png", "sheet", "gif", "jsonl", "csv"]


def fuzz(light: int, heavy: int, **strategies: Any) -> Callable[[Callable], tuple]:
    """A light test (the default run) and a ``heavy`` one from one property."""
    base = settings.get_profile("reliability")

    def make(fn: Callable) -> tuple:
        light_test = settings(base, max_examples=light)(given(**strategies)(fn))
        heavy_test = settings(base, max_examples=heavy)(given(**strategies)(fn))
        return light_test, pytest.mark.heavy(heavy_test)

    return make


def options_class(engine: Engine, generator: str, animate: bool) -> type[Options]:
    cls = engine.plugin_manager.registry.generators[generator]
    return cls.AnimationOptions if animate else cls.Options  # type: ignore[return-value]


def assert_within_declaration(parsed: Options, *, count: bool = True) -> None:
    """Every value of accepted options is what its declaration allows."""
    if count:
        FIGURES["fuzz outcome: accepted"] += 1
    for spec in parsed.specs():
        value = getattr(parsed, spec.name)
        if value is None:
            assert spec.nullable, spec.name
            continue
        if typing.get_origin(spec.type) is dict:
            assert isinstance(value, dict) and len(value) <= MAX_MAPPING_ENTRIES
            for key, number in value.items():
                assert isinstance(key, str) and 0 < len(key) <= 100 and text_problem(key) is None
                assert type(number) is float and math.isfinite(number)
                assert spec.ge is None or number >= spec.ge
                assert spec.le is None or number <= spec.le
            continue
        assert type(value) is spec.type, (spec.name, value)
        if spec.type is float:
            assert math.isfinite(value)
        if spec.type in (int, float):
            assert spec.ge is None or value >= spec.ge
            assert spec.le is None or value <= spec.le
        if spec.type is str:
            assert len(value) <= (spec.max_length or DEFAULT_MAX_STRING)
            assert text_problem(value) is None
        if spec.choices is not None:
            assert value in spec.choices


def assert_clean_refusal(exc: BaseException) -> None:
    assert isinstance(exc, InvalidOptionsError | UnknownGeneratorError), repr(exc)[:300]
    message = str(exc)
    assert message and "\n" not in message and len(message) <= MAX_MESSAGE, message[:300]
    FIGURES["fuzz outcome: refused cleanly"] += 1


#: The session's figures (set by the autouse fixture below), for helpers shared by the tests.
FIGURES: Counter = Counter()


@pytest.fixture(autouse=True)
def _share_figures(figures: Counter) -> None:
    global FIGURES
    FIGURES = figures


# -- strategies -------------------------------------------------------------------------------

NASTY_TEXT = [
    "\x00",
    "\udcff",
    "\ud800",
    "/",
    "\\",
    "..",
    "../../x",
    "/etc/passwd",
    "C:\\x",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "{",
    "}",
    ",",
    ":",
    "=",
    " ",
    "\n",
    "none",
    "null",
    "true",
    "é",
    "😀",
    "\u202e",
    "\ufeff",
]
# long text is built by .map, so that hypothesis does not repr a 5000-character constant
long_text = st.sampled_from(["9", "x", "\x00", "é"]).map(lambda c: c * 5000)
text = st.lists(
    st.one_of(st.characters(exclude_categories=()), st.sampled_from(NASTY_TEXT), long_text),
    max_size=12,
).map("".join)
# (built by .map so that hypothesis never has to repr a 5000-digit constant)
huge_ints = st.one_of(
    st.sampled_from([2**63 - 1, 2**63, 2**64, -(2**63), -(2**64)]),
    st.tuples(st.sampled_from([1, -1]), st.sampled_from([30, 300, 400])).map(
        lambda sign_digits: sign_digits[0] * 10 ** sign_digits[1]
    ),
)
numbers = st.one_of(
    st.integers(), huge_ints, st.floats(allow_nan=True, allow_infinity=True), st.fractions()
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text, st.binary(max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(text, st.integers()), inner, max_size=4),
    ),
    max_leaves=8,
)
OPTION_KEYS = ["size", "color", "scale", "label", "tint", "speed", "words", "prefix"]
known_keys = st.sampled_from(OPTION_KEYS)
option_keys = st.one_of(known_keys, known_keys, known_keys, text)
tint_values = st.dictionaries(
    st.one_of(st.sampled_from(["r", "g", "a" * 101]), text), numbers, max_size=70
)
# plausible values (often within range) as well as hostile ones, so both outcomes are common
plausible = st.one_of(
    st.integers(0, 140),
    st.floats(-0.5, 12),
    st.sampled_from(["red", "any", "blue", "RED", None, True]),
    st.dictionaries(st.sampled_from(["r", "g", "b"]), st.floats(-1.5, 1.5), max_size=3),
    st.text(max_size=45),
)
option_values = st.one_of(plausible, plausible, values, numbers, tint_values)
options_dicts = st.dictionaries(option_keys, option_values, max_size=3)

number_text = st.one_of(
    st.integers(0, 140).map(str),
    st.floats(-0.5, 12).map(repr),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    huge_ints.map(str),
    st.just("9").map(lambda c: c * 5000),
    st.sampled_from(["nan", "-nan", "inf", "infinity", "1e999", "0x10", "1_000", "٣", " 8 ", ""]),
)
tint_text = st.one_of(
    st.dictionaries(text, numbers, max_size=4).map(
        lambda d: json.dumps(
            {k: v if not isinstance(v, int | float) else v for k, v in d.items()}, default=str
        )
    ),
    st.lists(st.tuples(text, number_text), max_size=5).map(
        lambda pairs: ",".join(f"{k}:{v}" for k, v in pairs)
    ),
    st.just("{" * 3000),
)
option_text = st.one_of(
    text, number_text, number_text, tint_text, st.sampled_from(["red", "any", "true", "r:0.5"])
)
pair_text = st.one_of(
    st.tuples(option_keys, option_text).map(lambda kv: f"{kv[0]}={kv[1]}"),
    text,
)


# -- options from Python values (the API), from text (the CLI) and from JSON (the bridge) -----


@fuzz(light=300, heavy=5000, options=options_dicts, target=st.sampled_from(TARGETS))
def _options_from_python(testkit_engine: Engine, figures: Counter, options, target) -> None:
    figures["fuzz inputs: options (Python values)"] += 1
    generator, animate = target
    try:
        parsed = testkit_engine.parse_options(generator, options, animate=animate)
    except Exception as exc:
        assert_clean_refusal(exc)
        return
    assert_within_declaration(parsed)


test_options_from_python, test_options_from_python_heavy = _options_from_python


@fuzz(light=300, heavy=5000, pairs=st.lists(pair_text, max_size=4), target=st.sampled_from(TARGETS))
def _options_from_command_line_text(
    testkit_engine: Engine, figures: Counter, pairs, target
) -> None:
    figures["fuzz inputs: -o key=value options"] += 1
    generator, animate = target
    try:
        parsed = testkit_engine.parse_options(
            generator, parse_option_pairs(pairs), animate=animate, from_text=True
        )
    except Exception as exc:
        assert_clean_refusal(exc)
        return
    assert_within_declaration(parsed)


test_options_from_text, test_options_from_text_heavy = _options_from_command_line_text


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        huge_ints,
        st.floats(allow_nan=True, allow_infinity=True),
        text,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(option_keys, text), inner, max_size=4),
    ),
    max_leaves=8,
)


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value)
    except ValueError:  # an integer too long to write
        return '{"size": ' + "9" * 5000 + "}"  # pragma: no cover


bridge_json = st.one_of(
    st.dictionaries(option_keys, json_values, max_size=5).map(_json_text),
    json_values.map(_json_text),
    text,
    st.sampled_from(["", "null", "{}", "[", "{" * 10_000, "[" * 100_000 + "]" * 100_000]),
)


@fuzz(light=200, heavy=3000, options_json=bridge_json, seed=st.integers(-2, 2**64))
def _bridge_json(testkit_engine: Engine, figures: Counter, options_json: str, seed: int) -> None:
    """What the C# side sends: accepted JSON gives the Python API's exact bytes."""
    figures["fuzz inputs: bridge JSON"] += 1
    bridge = Bridge(testkit_engine)
    try:
        png = bridge.generate_png("blob", seed, options_json)
    except Exception as exc:
        assert_clean_refusal(exc)
        return
    options = parse_options_json(options_json)
    assert png == testkit_engine.generate("blob", seed=seed, **options)[0].to_png()
    figures["fuzz outcome: accepted"] += 1


test_bridge_json, test_bridge_json_heavy = _bridge_json


def _spec_values(spec: Any) -> st.SearchStrategy:
    """Values a declaration allows (to check that nothing valid is refused)."""
    if spec.choices is not None:
        return st.sampled_from(spec.choices)
    if spec.type is int:
        return st.integers(int(spec.ge), int(spec.le))
    if spec.type is float:
        return st.floats(spec.ge, spec.le, allow_nan=False)
    if spec.type is str:
        clean = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
        return st.text(clean, max_size=spec.max_length or DEFAULT_MAX_STRING)
    keys = st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00,:={} "),
        min_size=1,
        max_size=20,
    )
    return st.dictionaries(keys, st.floats(spec.ge, spec.le), max_size=MAX_MAPPING_ENTRIES)


@fuzz(light=200, heavy=3000, data=st.data(), target=st.sampled_from(TARGETS))
def _valid_options_are_accepted(testkit_engine: Engine, figures: Counter, data, target) -> None:
    """No false refusals: any value within a declaration is accepted, unchanged, from Python;
    and numbers written as text parse back to the same value."""
    figures["fuzz inputs: valid options"] += 1
    generator, animate = target
    cls = options_class(testkit_engine, generator, animate)
    chosen = {s.name: data.draw(_spec_values(s), label=s.name) for s in cls.specs()}
    parsed = testkit_engine.parse_options(generator, chosen, animate=animate)
    assert parsed.to_dict() == {
        k: v if not isinstance(v, dict) else dict(sorted(v.items())) for k, v in chosen.items()
    }
    as_text = {
        k: repr(v) if isinstance(v, float) else str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in chosen.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    reparsed = testkit_engine.parse_options(generator, as_text, animate=animate, from_text=True)
    assert all(getattr(reparsed, k) == chosen[k] for k in as_text)


test_valid_options_are_accepted, test_valid_options_are_accepted_heavy = _valid_options_are_accepted


# -- batch job files --------------------------------------------------------------------------


def toml_string(s: str) -> str:
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")  # a surrogate escape is itself invalid TOML: also fuzz
        else:
            out.append(ch)
    return "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**100 else "9" * 120
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{toml_string(str(k))} = {toml_value(v)}" for k, v in value.items())
            + "}"
        )
    return toml_string(str(value))


toml_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    huge_ints.filter(lambda n: abs(n) < 10**100),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.dates(),
    st.datetimes(),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)
run_fields = {
    "generator": st.one_of(st.sampled_from(["blob", "echo", "crashing", "nope", "BLOB", ""]), text),
    "seed": st.one_of(st.integers(-3, 2**63 - 1), toml_values),
    "count": st.one_of(st.integers(-3, MAX_COUNT + 3), st.sampled_from([MAX_COUNT]), toml_values),
    "animate": st.one_of(st.booleans(), toml_values),
    "frames": st.one_of(st.integers(-3, MAX_FRAMES + 3), toml_values),
    "formats": st.one_of(
        st.lists(st.sampled_from([*FORMATS, "nope", "../png"]), max_size=3),
        st.sampled_from(FORMATS),
        toml_values,
    ),
    "options": st.one_of(
        st.dictionaries(option_keys, st.one_of(toml_scalars, toml_values), max_size=3), toml_values
    ),
    "name": st.one_of(
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,12}", fullmatch=True),
        st.sampled_from(
            ["manifest.json", "con", "../x", "/abs", "a" * 101, "blob_1", "Blob", "blob"]
        ),
        text,
    ),
}
run_tables = st.fixed_dictionaries({}, optional={**run_fields, "colour": toml_values}).flatmap(
    lambda d: st.just(d) if d else st.just({"generator": "blob"})
)
top_level = st.fixed_dictionaries(
    {"run": st.one_of(st.lists(run_tables, min_size=0, max_size=4), toml_values)},
    optional={
        "out": st.one_of(st.sampled_from(["o", "../o", "/tmp/x", ""]), text, toml_values),
        "title": toml_values,
    },
)


def toml_document(doc: dict[str, Any]) -> str:
    lines = [f"{toml_string(k)} = {toml_value(v)}" for k, v in doc.items() if k != "run"]
    runs = doc.get("run")
    if isinstance(runs, list) and all(isinstance(r, dict) for r in runs):
        for run in runs:
            lines.append("[[run]]")
            lines += [f"{toml_string(k)} = {toml_value(v)}" for k, v in run.items()]
    elif "run" in doc:
        lines.insert(0, f"run = {toml_value(runs)}")
    return "\n".join(lines) + "\n"


def check_job(engine: Engine, path: Path) -> None:
    try:
        job = load_job(path, engine)
    except Exception as exc:
        assert_clean_refusal(exc)
        assert str(path) in str(exc) or "job file" in str(exc)
        return
    assert 0 < len(job.runs) <= MAX_BATCH_RUNS
    assert sum(r.count for r in job.runs) <= MAX_BATCH_ITEMS
    assert len({r.name.casefold() for r in job.runs}) == len(job.runs)
    for run in job.runs:
        assert check_output_name(run.name) == run.name and run.name.casefold() != "manifest.json"
        assert 1 <= run.count <= MAX_COUNT and 0 <= run.seed <= 2**63 - run.count
        assert run.frames is None or 1 <= run.frames <= MAX_FRAMES
        assert run.formats and set(run.formats) <= set(FORMATS)
        cls = options_class(engine, run.generator, run.animate)
        assert_within_declaration(cls.parse(run.options), count=False)
    FIGURES["fuzz outcome: accepted"] += 1


@fuzz(light=200, heavy=4000, doc=top_level)
def _job_documents(testkit_engine: Engine, tmp_path: Path, figures: Counter, doc) -> None:
    figures["fuzz inputs: job files (TOML documents)"] += 1
    path = tmp_path / "job.toml"
    path.write_text(toml_document(doc), encoding="utf-8", errors="surrogatepass")
    check_job(testkit_engine, path)


test_job_documents, test_job_documents_heavy = _job_documents

VALID_JOB = job_text(
    {"name": "blobs", "generator": "blob", "seed": 5, "count": 3,
     "formats": ["png", "sheet"], "options": {"size": 24, "tint": {"r": 0.5}, "label": "hi"}},
    {"generator": "blob", "animate": True, "frames": 4, "formats": ["gif"],
     "options": {"speed": 2.0}},
    {"generator": "echo", "count": 2, "formats": ["jsonl", "csv"]},
    out="result",
)  # fmt: skip


@fuzz(
    light=150,
    heavy=3000,
    edits=st.lists(
        st.tuples(
            st.integers(0, len(VALID_JOB)),
            st.integers(0, 3),
            st.one_of(st.sampled_from(NASTY_TEXT), st.characters(exclude_categories=())),
        ),
        min_size=1,
        max_size=4,
    ),
)
def _mutated_job_files(testkit_engine: Engine, tmp_path: Path, figures: Counter, edits) -> None:
    figures["fuzz inputs: job files (mutated text)"] += 1
    text = VALID_JOB
    for at, delete, insert in edits:
        text = text[:at] + insert + text[at + delete :]
    path = tmp_path / "job.toml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))  # bad UTF-8 on purpose
    check_job(testkit_engine, path)


test_mutated_job_files, test_mutated_job_files_heavy = _mutated_job_files


@fuzz(light=100, heavy=2000, data=st.binary(max_size=2000))
def _raw_job_bytes(testkit_engine: Engine, tmp_path: Path, figures: Counter, data: bytes) -> None:
    figures["fuzz inputs: job files (raw bytes)"] += 1
    path = tmp_path / "job.toml"
    path.write_bytes(data)
    check_job(testkit_engine, path)


test_raw_job_bytes, test_raw_job_bytes_heavy = _raw_job_bytes


# -- whole command lines ----------------------------------------------------------------------

cli_args = st.one_of(
    st.tuples(
        st.sampled_from(["generate", "animate"]),
        st.sampled_from(["blob", "echo", "crashing", "nope"]),
        st.lists(
            st.one_of(
                st.tuples(st.just("-o"), pair_text),
                st.tuples(st.sampled_from(["--seed", "--count", "--frames"]), number_text),
                st.tuples(st.just("--name"), st.one_of(text, st.sampled_from(["ok", "../x"]))),
                st.tuples(st.just("--format"), st.sampled_from([*FORMATS, "nope", ""])),
            ),
            max_size=3,
        ),
    ).map(lambda t: [t[0], t[1], *[a for pair in t[2] for a in pair]]),
    st.lists(
        st.one_of(text, st.sampled_from(["generate", "blob", "-o", "--seed", "batch"])), max_size=4
    ),
)


@fuzz(light=25, heavy=400, args=cli_args)
def _command_lines(plugins_env: dict, figures: Counter, args: list[str]) -> None:
    """Exit 0 with files written, or 2 (bad input) with one line; never 1, never a traceback
    (the test plugin's 'crashing' generator, a plugin failure, is the one allowed exit 1)."""
    figures["fuzz inputs: CLI command lines"] += 1
    with tempfile.TemporaryDirectory() as out:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main([*args, "--out", out] if args[:1] in (["generate"], ["animate"]) else args)
        message = err.getvalue()
        assert "Traceback" not in message and "internal error" not in message, message[:500]
        if code == 1:
            assert "crashing" in args and "failed: RuntimeError: the model exploded" in message
        elif code == 2:
            lines = message.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("assetgen: error: "), message[:500]
        else:
            assert code == 0, (code, message[:500])
            assert args[0] not in ("generate", "animate") or os.listdir(out)
        figures[f"fuzz outcome: CLI exit {code}"] += 1


test_command_lines, test_command_lines_heavy = _command_lines
