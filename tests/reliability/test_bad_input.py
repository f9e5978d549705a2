"""Bad input everywhere: the CLI, ``-o key=value``, the Python API, the bridge's JSON and batch
job files. Each mistake gets its own clear error (CLI: exit 2, one line, no traceback) and
nothing is written. tests/core covers the everyday mistakes; these are the hostile ones:
wrong types, NaN/inf/huge numbers, enormous and non-UTF-8 text, path-like names, NUL bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from assetgen import Engine, InvalidOptionsError, UnknownGeneratorError
from assetgen.batch import load_job, run_job
from assetgen.bridge import Bridge
from assetgen.cli import main

HUGE_INT = "9" * 5000  # int() refuses more than 4300 digits
LONG = "x" * 100_000
DEEP = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
MAX_ERROR_LINE = 400  # characters: a bad value is shown cut short, never whole
MAX_CLI_LINE = 1000  # the CLI cuts any error line (click's own included) to this


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def one_line_error(err: str, fragment: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[:2000]
    assert lines[0].startswith("assetgen: error: "), lines[0][:500]
    assert fragment in lines[0], lines[0][:500]
    assert "Traceback" not in err
    assert len(lines[0]) <= MAX_CLI_LINE + len("assetgen: error: "), f"{len(lines[0])} chars"
    return lines[0]


# -- the command line -------------------------------------------------------------------------

CLI_CASES = [
    # -o key=value: numbers
    (["generate", "blob", "-o", f"size={HUGE_INT}"], "option 'size' must be an integer"),
    (["generate", "blob", "-o", "size=-5"], "option 'size' must be an integer from 8 to 128"),
    (["generate", "blob", "-o", "size=1.5"], "option 'size' must be an integer"),
    (["generate", "blob", "-o", "size=0x10"], "option 'size' must be an integer"),
    (["generate", "blob", "-o", "size="], "option 'size' must be an integer"),
    (["generate", "blob", "-o", "scale=nan"], "option 'scale' must be a number from 0.5 to 2"),
    (["generate", "blob", "-o", "scale=inf"], "got inf"),
    (["generate", "blob", "-o", "scale=-1e999"], "option 'scale' must be a number"),
    (["generate", "blob", "-o", f"scale=1{'0' * 400}"], "option 'scale' must be a number"),
    (["generate", "blob", "-o", "color=RED"], "option 'color' must be one of 'any', 'red'"),
    # -o key=value: mappings
    (["generate", "blob", "-o", f'tint={{"a": {HUGE_INT}}}'], "option 'tint' must be"),
    (["generate", "blob", "-o", f"tint={DEEP}"], "option 'tint' must be"),
    (["generate", "blob", "-o", "tint=a:nan"], "a is not a finite number"),
    (["generate", "blob", "-o", "tint=a:1,b"], "'b' is not name:value"),
    (["generate", "blob", "-o", "tint=[1, 2]"], "option 'tint' must be"),
    (["generate", "blob", "-o", "tint=a\x00:1"], "contains a NUL character"),
    (
        ["generate", "blob", "-o", "tint=" + ",".join(f"k{i}:0" for i in range(65))],
        "it has 65 entries (at most 64)",
    ),
    # -o key=value: text
    (["generate", "blob", "-o", f"label={LONG}"], "option 'label' must be text of at most 40"),
    (["generate", "blob", "-o", "label=a\x00b"], "contains a NUL character"),
    (["generate", "echo", "-o", "prefix=a\udcffb"], "it is not valid Unicode text"),
    (["generate", "echo", "-o", "prefix=\ud800"], "it is not valid Unicode text"),
    # -o syntax
    (["generate", "blob", "-o", "=5"], "-o expects key=value"),
    (["generate", "blob", "-o", f"{LONG}"], "-o expects key=value"),
    (["generate", "blob", "-o", "size=8", "-o", "size=9"], "option 'size' is given twice"),
    (["generate", "blob", "-o", f"{LONG}=1"], "unknown option 'xxxxxxxx"),
    (["generate", "blob", "-o", "../../x=1"], "unknown option '../../x'"),
    # request parameters
    (["generate", "blob", "--seed", str(2**63)], "seed must be an integer from 0 to"),
    (["generate", "blob", "--seed", "9223372036854775800", "--count", "9"], "for count=9"),
    (["generate", "blob", "--seed", HUGE_INT], "is not a valid integer"),
    (["generate", "blob", "--seed", "1e3"], "'1e3' is not a valid integer"),
    (["generate", "blob", "--count", "-1"], "count must be an integer from 1 to 10000; got -1"),
    (["generate", "blob", "--count", "10001"], "count must be an integer from 1 to 10000"),
    (["generate", "blob", "--count", "nan"], "'nan' is not a valid integer"),
    (["animate", "blob", "--frames", "0"], "frames must be an integer from 1 to 240; got 0"),
    (["animate", "blob", "--frames", "241"], "frames must be an integer from 1 to 240"),
    (["animate", "blob", "-o", "speed=inf"], "option 'speed' must be a number"),
    (["--device", "tpu", "generate", "blob"], "'tpu' is not one of 'auto', 'cpu', 'cuda'"),
    # names that become file names
    (["generate", "blob", "--name", "../../x"], "name must be 1-100 characters"),
    (["generate", "blob", "--name", "/etc/passwd"], "name must be"),
    (["generate", "blob", "--name", "a/b"], "name must be"),
    (["generate", "blob", "--name", "a\\b"], "name must be"),
    (["generate", "blob", "--name", ".hidden"], "name must be"),
    (["generate", "blob", "--name", ""], "name must be"),
    (["generate", "blob", "--name", "a" * 101], "name must be 1-100 characters"),
    (["generate", "blob", "--name", "a\x00b"], "contains a NUL character"),
    (["generate", "blob", "--name", "\udcff"], "name must be"),
    (["generate", "blob", "--name", "con"], "not a device name"),
    (["generate", "blob", "--name", "NUL.png"], "not a device name"),
    (["generate", "blob", "--name", "trailing."], "not ending in '.'"),
    # generators and formats
    (["generate", LONG], "unknown generator 'xxxxx"),
    (["generate", "../blob"], "unknown generator '../blob'"),
    (["generate", "\udcff"], "unknown generator"),
    (["info", "a\x00b"], "contains a NUL character"),
    (["generate", "blob", "--format", "../png"], "unknown format '../png'"),
    (["generate", "echo", "--format", "png"], "format 'png' cannot write text assets"),
    (["animate", "blob", "--format", "jsonl"], "format 'jsonl' cannot write animation"),
    # regression: png and sheet of one image both wrote blob_0.png, the sheet replacing the PNG
    (["generate", "blob", "--format", "png,sheet"], "png and sheet would both write blob_0.png"),
    # found by the CLI fuzzer: main(["batch", "\x00"]) was an internal error (click's Path
    # type calls os.stat); only main(argv) can pass a NUL, a real command line cannot
    (["batch", "job\x00.toml"], "argument 'job\\x00.toml' contains a NUL character"),
    (["info", "blob", "--json\x00"], "contains a NUL character"),
    # found by the CLI fuzzer too: main(["batch", "\ud800"]), a lone surrogate that no real
    # command line holds (undecodable bytes arrive as \udc80-\udcff, which os.fsencode takes)
    (["batch", "\ud800"], "'\\ud800' is not valid text for a file name"),
    (["batch", "job.toml", "--out", "\udfff"], "'--out': '\\udfff' is not valid text"),
    (["generate", "blob", "--format", "sheet,png", "--name", "x"], "would both write x.png"),
]


@pytest.mark.parametrize(
    ("args", "fragment"), CLI_CASES, ids=[f"cli{i}" for i in range(len(CLI_CASES))]
)
def test_cli_bad_input_exits_2_with_one_specific_line(
    plugins_env: dict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    figures: Counter,
    args,
    fragment,
) -> None:
    out = tmp_path / "out"
    extra = ["--out", str(out)] if {"generate", "animate"} & set(args) else []
    assert main([*args, *extra]) == 2
    captured = capsys.readouterr()
    one_line_error(captured.err, fragment)
    assert captured.out == ""
    assert files_under(out) == []
    figures["bad inputs refused (table)"] += 1


def test_cli_raw_non_utf8_bytes_in_arguments(plugins_env: dict, tmp_path: Path, figures) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates; the CLI refuses them cleanly."""
    for args, fragment in [
        ([b"generate", b"echo", b"-o", b"prefix=caf\xe9"], b"not valid Unicode text"),
        ([b"generate", b"blob", b"--name", b"\xff\xfe"], b"name must be"),
        ([b"generate", b"\xff"], b"unknown generator"),
        ([b"generate", b"blob", b"-o", b"\xff=1"], b"unknown option"),
    ]:
        proc = subprocess.run(
            [sys.executable.encode(), b"-m", b"assetgen", *args, b"--out", bytes(tmp_path)],
            env=plugins_env,
            capture_output=True,
        )
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0] and b"Traceback" not in proc.stderr
        assert files_under(tmp_path) == []
        figures["bad inputs refused (table)"] += 1


def test_cli_output_folder_that_is_a_file(
    plugins_env: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"a file")
    assert main(["generate", "blob", "--out", str(blocker)]) == 2
    one_line_error(capsys.readouterr().err, "is a file")
    # a folder to be made below a file: refused as bad input before anything is generated
    # (it was exit 1, "cannot write to", after the generator had run)
    for below in (blocker / "below", blocker / "below" / "deeper"):
        for command in ("generate", "animate"):
            assert main([command, "blob", "--out", str(below)]) == 2
            one_line_error(
                capsys.readouterr().err,
                f"Invalid value for '--out': '{below}' cannot be a folder: '{blocker}' is a file",
            )
    assert blocker.read_bytes() == b"a file"


EDGE_CASES = [
    # --format "" fell back to the default format: exit 0 and a PNG
    (["generate", "blob", "--format", ""], "--format: '' holds an empty format name; formats "
     "for image assets: png, sheet"),
    (["generate", "blob", "--format", "png,"], "--format: 'png,' holds an empty format name"),
    (["generate", "blob", "--format", " , "], "--format: ' , ' holds an empty format name"),
    (["animate", "blob", "--format", ""], "formats for animation assets: gif, png, sheet"),
    (["generate", "echo", "--format", ""], "formats for text assets: csv, jsonl"),
    # --out "" wrote into the current folder and printed an empty path
    (["generate", "blob", "--out", ""], "Invalid value for '--out': an empty name is not a path"),
    (["animate", "blob", "--out", ""], "Invalid value for '--out': an empty name is not a path"),
    (["batch", "job.toml", "--out", ""], "Invalid value for '--out': an empty name"),
    (["batch", ""], "Invalid value for 'JOB': an empty name is not a path; give a file path"),
]


@pytest.mark.parametrize(("args", "fragment"), EDGE_CASES, ids=[" ".join(a) for a, _ in EDGE_CASES])
def test_cli_empty_format_and_out_exit_2_naming_the_parameter(
    plugins_env: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    figures: Counter,
    args: list[str],
    fragment: str,
) -> None:
    monkeypatch.chdir(tmp_path)  # where --out "" used to write
    (tmp_path / "job.toml").write_text(RUN)
    before = files_under(tmp_path)
    assert main(args) == 2
    captured = capsys.readouterr()
    one_line_error(captured.err, fragment)
    assert captured.out == ""
    assert files_under(tmp_path) == before
    figures["bad inputs refused (table)"] += 1


def test_remove_model_blames_its_name_argument(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    """remove-model has no --name option; its NAME argument is what was wrong."""
    from assetgen import model_store

    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters,shoes")
    monkeypatch.setenv("ASSETGEN_MODELS", str(tmp_path / "models"))
    victim = tmp_path / "etc"
    victim.mkdir()
    (victim / "manifest.json").write_text("{}")
    nested = tmp_path / "models" / "shoes"
    nested.mkdir(parents=True)
    for name, fragment in [
        ("../../etc", "NAME must be 1-64 letters, digits"),
        ("../../../etc", "NAME must be"),
        ("/etc", "NAME must be"),
        ("", "NAME must be"),
        ("default", "(and not 'default'); got 'default'"),
        ("missing", "NAME: no shoes model named 'missing' is installed in"),
    ]:
        assert main(["remove-model", "shoes", name]) == 2
        line = one_line_error(capsys.readouterr().err, fragment)
        assert "--name" not in line
    assert (victim / "manifest.json").is_file()
    # the Python API names its own argument
    with pytest.raises(InvalidOptionsError, match="^'name' must be") as err:
        model_store.remove("shoes", "../../etc")
    assert err.value.parameter == "name"


def test_api_export_refuses_an_empty_folder_and_one_below_a_file(
    testkit_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assets = testkit_engine.generate("blob", seed=1)
    with pytest.raises(InvalidOptionsError, match="out_dir must be a folder path") as err:
        testkit_engine.export(assets, "png", "")
    assert err.value.parameter == "out_dir"
    blocker = tmp_path / "file"
    blocker.write_bytes(b"x")
    with pytest.raises(InvalidOptionsError, match=r"'.*file/sub' is inside '.*file', which is a"):
        testkit_engine.export(assets, "png", blocker / "sub")
    with pytest.raises(InvalidOptionsError, match="'.*file' is a file"):
        testkit_engine.export(assets, "png", blocker)
    assert files_under(tmp_path) == [blocker]


# -- batch job files --------------------------------------------------------------------------

RUN = "[[run]]\ngenerator = 'blob'\n"
JOB_CASES = [
    # wrong types and out-of-range numbers
    (RUN + "count = '5'", "count must be an integer from 1 to 10000; got '5'"),
    (RUN + "count = 5.0", "count must be an integer from 1 to 10000; got 5.0"),
    (RUN + "count = true", "count must be an integer"),
    (RUN + "count = nan", "count must be an integer"),
    (RUN + "count = inf", "count must be an integer"),
    (RUN + "count = 9223372036854775807", "count must be an integer from 1 to 10000"),
    (RUN + "count = -1", "count must be an integer"),
    (RUN + "count = 0x7fff_ffff", "count must be an integer from 1 to 10000; got 2147483647"),
    (RUN + "seed = -1", "seed must be an integer"),
    (RUN + "seed = 9223372036854775807\ncount = 2", "for count=2"),
    (RUN + "seed = 1.5", "seed must be an integer"),
    (RUN + "seed = 1979-05-27", "seed must be an integer"),
    (RUN + "seed = [1]", "seed must be an integer"),
    (RUN + "animate = true\nframes = 0", "frames must be an integer from 1 to 240"),
    (RUN + "animate = true\nframes = -inf", "frames must be an integer"),
    (RUN + "animate = true\nframes = 241", "frames must be an integer from 1 to 240"),
    (RUN + "animate = 1", "animate must be true or false"),
    (RUN + "formats = [1]", "formats must be a list of format names"),
    (RUN + "formats = []", "formats must be a list of format names"),
    (RUN + "formats = ['../png']", "unknown format '../png'"),
    (RUN + "formats = ['png', 'jsonl']", "format 'jsonl' cannot write image assets"),
    (RUN + "options = 'size=9'", "options must be a table"),
    (RUN + "options = { size = 'big' }", "option 'size' must be an integer"),
    (RUN + "options = { size = 1e300 }", "option 'size' must be an integer"),
    (RUN + "options = { scale = nan }", "option 'scale' must be a number"),
    (RUN + "options = { scale = -inf }", "option 'scale' must be a number"),
    (RUN + "options = { label = '" + "x" * 5000 + "' }", "at most 40 characters"),
    (RUN + 'options = { label = "a\\u0000b" }', "it contains a NUL character"),
    (RUN + "options = { tint = { a = 1e400 } }", "a is not a finite number"),
    (RUN + "options = { tint = [1] }", "option 'tint' must be"),
    (RUN + "options = { nope = 1 }", "unknown option 'nope'"),
    # unknown keys, missing or malformed structure
    (RUN + "colour = 'red'", "run 1: unknown key 'colour'"),
    (RUN + "'" + "k" * 5000 + "' = 1", "unknown key 'kkkkkkk"),
    ("jobname = 'x'\n" + RUN, "top level: unknown key 'jobname'"),
    ("", "needs at least one [[run]] table"),
    ("run = []", "needs at least one [[run]] table"),
    ("run = 5", "needs at least one [[run]] table"),
    ("run = [1, 2]", "run 1: must be a table"),
    ("[run]\ngenerator = 'blob'", "needs at least one [[run]] table"),
    ("[[run]]\ngenerator = 5", "generator must be a generator id"),
    ("[[run]]\ngenerator = ''", "unknown generator ''"),
    ("[[run]]\ngenerator = '" + "g" * 100_000 + "'", "unknown generator 'gggg"),
    ("[[run]]\ngenerator = '../../blob'", "unknown generator '../../blob'"),
    ("[[run]]", "generator must be a generator id"),
    ("\ufeff" + RUN, "not valid TOML"),
    (RUN + "count = 1\ncount = 2", "not valid TOML"),
    # names and paths that become files or folders
    (RUN + "name = '../../x'", "name must be"),
    (RUN + "name = '/abs/path'", "name must be"),
    (RUN + "name = 'C:\\\\x'", "name must be"),
    (RUN + 'name = "a\\u0000b"', "name must be"),
    (RUN + "name = ''", "name must be"),
    (RUN + "name = 5", "name must be"),
    (RUN + "name = 'aux'", "not a device name"),
    (RUN + "name = 'manifest.json'", "reserved for the job's manifest"),
    (RUN + "name = 'Manifest.JSON'", "reserved for the job's manifest"),
    (RUN + "name = 'blob_5'\nformats = ['png', 'sheet']", "looks like the per-item files"),
    (RUN + "name = 'Faces'\n" + RUN + "name = 'faces'", "run 2: name 'faces' is used twice"),
    ("out = ''\n" + RUN, "out must be a folder path"),
    ("out = 5\n" + RUN, "out must be a folder path"),
    ('out = "a\\u0000b"\n' + RUN, "out must be a folder path"),
    # caps
    ("[[run]]\ngenerator='echo'\n" * 1001, "at most 1000 runs; got 1001"),
    (
        "".join(f"[[run]]\nname = 'r{i}'\ngenerator = 'echo'\ncount = 10000\n" for i in range(11)),
        "run 11: the job asks for more than 100000 items in all",
    ),
]


@pytest.mark.parametrize(
    ("text", "fragment"), JOB_CASES, ids=[f"job{i}" for i in range(len(JOB_CASES))]
)
def test_bad_job_file_is_refused_naming_file_and_problem(
    testkit_engine: Engine, tmp_path: Path, figures: Counter, text: str, fragment: str
) -> None:
    job = tmp_path / "job.toml"
    job.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidOptionsError) as err:
        load_job(job, testkit_engine)
    message = str(err.value)
    assert fragment in message and str(job) in message, message[:500]
    assert "\n" not in message and len(message) < MAX_ERROR_LINE + len(str(job)) + 200
    assert not (tmp_path / "out").exists()
    figures["bad inputs refused (table)"] += 1


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"[[run]]\ngenerator = 'blob'\nname = '\xff'\n", "is not UTF-8 text"),
        (b"\x00\x01\x02", "not valid TOML"),
        (b"[[run]]\ngenerator = 'blob'\n" + b"#" * 1_000_000, "is over 1000000 bytes"),
    ],
)
def test_job_file_bytes(testkit_engine: Engine, tmp_path: Path, content: bytes, fragment) -> None:
    job = tmp_path / "job.toml"
    job.write_bytes(content)
    with pytest.raises(InvalidOptionsError, match=fragment):
        load_job(job, testkit_engine)


def test_cli_batch_bad_job_exits_2_and_writes_nothing(
    plugins_env: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    job = tmp_path / "job.toml"
    job.write_text(RUN + "count = 3\n" + RUN + "options = { scale = nan }\n")
    assert main(["batch", str(job)]) == 2
    one_line_error(capsys.readouterr().err, "run 2 (blob): option 'scale' must be a number")
    assert not (tmp_path / "out").exists()
    assert main(["batch", str(tmp_path)]) == 2  # a folder, not a job file
    one_line_error(capsys.readouterr().err, "is a directory")


def test_out_path_is_a_folder_by_design(testkit_engine: Engine, tmp_path: Path) -> None:
    """``out`` is a folder the job's author chooses (demo jobs use '../out/<name>'): relative
    paths resolve against the job file; only file and run names are held to check_output_name."""
    (tmp_path / "jobs").mkdir()
    job = tmp_path / "jobs" / "job.toml"
    job.write_text("out = '../elsewhere'\n" + RUN)
    assert load_job(job, testkit_engine).out == tmp_path / "jobs" / "../elsewhere"
    assert load_job(job, testkit_engine, out=tmp_path / "o").out == tmp_path / "o"
    with pytest.raises(InvalidOptionsError, match="out must be a folder path without NUL"):
        load_job(job, testkit_engine, out="a\x00b")


def test_a_name_clash_inside_a_run_is_refused_before_it_overwrites(
    testkit_engine: Engine, tmp_path: Path
) -> None:
    """Regression: run 'blob_5' with png+sheet wrote its sheet over item 5's PNG, listed the
    path twice in the manifest and rewrote it on every rerun. The name is now refused; and the
    runner refuses any two outputs of one job on one path before writing the second."""
    job = tmp_path / "job.toml"
    job.write_text(RUN + "name = 'blob_5'\ncount = 8\nformats = ['png', 'sheet']\n")
    with pytest.raises(InvalidOptionsError, match="looks like the per-item files"):
        load_job(job, testkit_engine)
    job.write_text(RUN + "name = 'b'\ncount = 8\nformats = ['png', 'sheet']\n")
    spec = load_job(job, testkit_engine)
    spec.runs[0] = spec.runs[0].__class__(**{**spec.runs[0].__dict__, "name": "blob_5"})
    from assetgen import OutputError

    with pytest.raises(OutputError, match="would write blob_5/blob_5.png twice"):
        run_job(testkit_engine, spec, progress=False)
    assert (tmp_path / "out" / "blob_5" / "blob_5.png").read_bytes() == (
        testkit_engine.generate("blob", seed=5)[0].to_png()
    )


def test_long_valid_names_fit_in_the_files_they_name(
    testkit_engine: Engine, tmp_path: Path
) -> None:
    """Regression: a 100-character name (allowed) failed *after* generating, because
    '<name>_<seed>.png' was held to the same 100 characters."""
    name = "n" * 100
    assets = testkit_engine.generate("blob", seed=2**63 - 3, count=2)
    paths = testkit_engine.export(assets, "png", tmp_path, name=name)
    assert [p.name for p in paths] == [f"{name}_{2**63 - 3}.png", f"{name}_{2**63 - 2}.png"]
    job = tmp_path / "job.toml"
    job.write_text(RUN + f"name = '{name}'\nformats = ['png', 'sheet']\n")
    run_job(testkit_engine, load_job(job, testkit_engine), progress=False)
    assert (tmp_path / "out" / name / f"{name}.json").is_file()


# -- the Python API ---------------------------------------------------------------------------

API_CASES: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("generate", {"generator_id": None}, UnknownGeneratorError, "unknown generator None"),
    ("generate", {"generator_id": ["blob"]}, UnknownGeneratorError, "unknown generator ['blob']"),
    ("generate", {"generator_id": "x" * 10**6}, UnknownGeneratorError, "unknown generator"),
    ("generate", {"seed": -1}, InvalidOptionsError, "seed must be an integer"),
    ("generate", {"seed": 2**63}, InvalidOptionsError, "seed must be an integer"),
    ("generate", {"seed": 10**5000}, InvalidOptionsError, "got an integer of about 5001 digits"),
    ("generate", {"seed": 1.0}, InvalidOptionsError, "got 1.0"),
    ("generate", {"seed": True}, InvalidOptionsError, "got True"),
    ("generate", {"seed": "7"}, InvalidOptionsError, "got '7'"),
    ("generate", {"seed": float("nan")}, InvalidOptionsError, "got nan"),
    ("generate", {"count": 10**5000}, InvalidOptionsError, "count must be an integer"),
    ("generate", {"count": 2.0}, InvalidOptionsError, "count must be an integer"),
    ("generate", {"count": None}, InvalidOptionsError, "count must be an integer"),
    ("generate", {"size": 10**5000}, InvalidOptionsError, "option 'size' must be an integer"),
    ("generate", {"size": 16.0}, InvalidOptionsError, "option 'size' must be an integer"),
    ("generate", {"size": "16"}, InvalidOptionsError, "option 'size' must be an integer"),
    ("generate", {"scale": 10**400}, InvalidOptionsError, "option 'scale' must be a number"),
    ("generate", {"scale": float("nan")}, InvalidOptionsError, "got nan"),
    ("generate", {"scale": float("-inf")}, InvalidOptionsError, "got -inf"),
    ("generate", {"scale": True}, InvalidOptionsError, "got True"),
    ("generate", {"scale": [1.0]}, InvalidOptionsError, "option 'scale' must be a number"),
    ("generate", {"label": "a\x00"}, InvalidOptionsError, "it contains a NUL character"),
    ("generate", {"label": "a\udcff"}, InvalidOptionsError, "not valid Unicode text"),
    ("generate", {"label": "x" * 10**6}, InvalidOptionsError, "at most 40 characters"),
    ("generate", {"label": b"bytes"}, InvalidOptionsError, "option 'label' must be text"),
    ("generate", {"tint": {"a": 10**400}}, InvalidOptionsError, "a is not a finite number"),
    ("generate", {"tint": {"a": float("nan")}}, InvalidOptionsError, "is not a finite number"),
    ("generate", {"tint": {"a": True}}, InvalidOptionsError, "a is not a number"),
    ("generate", {"tint": {"a\x00": 1}}, InvalidOptionsError, "is not a name"),
    ("generate", {"tint": {5: 1}}, InvalidOptionsError, "key 5 is not a name"),
    ("generate", {"tint": {"": 1}}, InvalidOptionsError, "key '' is not a name"),
    ("generate", {"tint": [("a", 1)]}, InvalidOptionsError, "option 'tint' must be"),
    ("generate", {"tint": {f"k{i}": 0 for i in range(65)}}, InvalidOptionsError, "65 entries"),
    ("generate", {"colour": "red"}, InvalidOptionsError, "unknown option 'colour'"),
    ("animate", {"frames": 0}, InvalidOptionsError, "frames must be an integer from 1 to 240"),
    ("animate", {"frames": 8.0}, InvalidOptionsError, "got 8.0"),
    ("animate", {"frames": "8"}, InvalidOptionsError, "got '8'"),
    ("animate", {"frames": 10**5000}, InvalidOptionsError, "frames must be an integer"),
    ("animate", {"speed": float("inf")}, InvalidOptionsError, "option 'speed' must be a number"),
    ("animate", {"generator_id": "echo"}, InvalidOptionsError, "cannot animate"),
]


@pytest.mark.parametrize(
    ("call", "kwargs", "error", "fragment"),
    API_CASES,
    ids=[f"api{i}" for i in range(len(API_CASES))],
)
def test_api_bad_input_raises_a_typed_specific_error(
    testkit_engine: Engine, figures: Counter, call, kwargs, error, fragment
) -> None:
    kwargs = {"generator_id": "blob", **kwargs}
    with pytest.raises(error) as err:
        getattr(testkit_engine, call)(**kwargs)
    message = str(err.value)
    assert fragment in message and "\n" not in message and len(message) < MAX_ERROR_LINE
    figures["bad inputs refused (table)"] += 1


def test_api_export_and_render_refuse_unsafe_names_and_folders(
    testkit_engine: Engine, tmp_path: Path
) -> None:
    assets = testkit_engine.generate("blob", seed=1)
    for name in ["../x", "/tmp/x", "a\x00b", "con", "x.", "", 5, "a" * 101, "\udcff"]:
        with pytest.raises(InvalidOptionsError, match="name must be"):
            testkit_engine.export(assets, "png", tmp_path, name=name)  # type: ignore[arg-type]
    for folder in ["a\x00b", 5, None]:
        with pytest.raises(InvalidOptionsError, match="out_dir must be a folder path"):
            testkit_engine.export(assets, "png", folder)  # type: ignore[arg-type]
    for fmt in [None, ["png"], "png\x00", "../png"]:
        with pytest.raises(UnknownGeneratorError, match="unknown format"):
            testkit_engine.render(assets, fmt)  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionsError, match="options must be a mapping"):
        testkit_engine.parse_options("blob", [("size", 9)])  # type: ignore[arg-type]
    assert files_under(tmp_path) == []


# -- the bridge's JSON ------------------------------------------------------------------------

BRIDGE_CASES: list[tuple[Any, str]] = [
    (5, "options must be JSON text (or null); got int"),
    (b'{"size": 9}', "options must be JSON text (or null); got bytes"),
    ("[1, 2]", "options must be a JSON object"),
    ('"size=9"', "options must be a JSON object"),
    ("{size: 9}", "options are not valid JSON"),
    ("{'size': 9}", "options are not valid JSON"),
    ('{"size": 9,}', "options are not valid JSON"),
    ('{"size": 9} {"size": 10}', "options are not valid JSON"),
    ('{"size": ' + HUGE_INT + "}", "options are not valid JSON"),
    ('{"size": 9.0}', "option 'size' must be an integer"),
    ('{"size": 1e400}', "option 'size' must be an integer"),
    ('{"scale": NaN}', "option 'scale' must be a number from 0.5 to 2; got nan"),
    ('{"scale": Infinity}', "got inf"),
    ('{"scale": -Infinity}', "got -inf"),
    ('{"scale": 1' + "0" * 400 + "}", "option 'scale' must be a number"),
    ('{"scale": "1.0"}', "option 'scale' must be a number"),
    ('{"label": "a\\u0000b"}', "it contains a NUL character"),
    ('{"label": "a\\udcffb"}', "it is not valid Unicode text"),
    ('{"label": "' + "x" * 10**6 + '"}', "at most 40 characters"),
    ('{"tint": {"a": 1e999}}', "a is not a finite number"),
    ('{"tint": {"": 1}}', "is not a name"),
    ('{"tint": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ('{"seed": 3}', "'seed' is an argument of the request"),
    ('{"count": 3}', "'count' is an argument of the request"),
    ('{"../../x": 1}', "unknown option '../../x'"),
    ('{"colour": "red"}', "unknown option 'colour'"),
]


@pytest.mark.parametrize(
    ("options_json", "fragment"),
    BRIDGE_CASES,
    ids=[f"bridge{i}" for i in range(len(BRIDGE_CASES))],
)
def test_bridge_bad_json_is_refused_by_name(
    testkit_engine: Engine, figures: Counter, options_json, fragment
) -> None:
    bridge = Bridge(testkit_engine)
    for call in (
        lambda: bridge.generate_png("blob", 1, options_json),
        lambda: bridge.animate_rgba("blob", 1, options_json, 4),
    ):
        with pytest.raises(InvalidOptionsError) as err:
            call()
        message = str(err.value)
        assert fragment in message and "\n" not in message and len(message) < MAX_ERROR_LINE
    figures["bad inputs refused (table)"] += 1


def test_bridge_bad_request_arguments(testkit_engine: Engine) -> None:
    bridge = Bridge(testkit_engine)
    with pytest.raises(InvalidOptionsError, match="seed must be an integer"):
        bridge.generate_png("blob", "5", None)  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionsError, match="count must be an integer from 1 to 10000"):
        bridge.generate_text("echo", 0, 10**9, None)
    with pytest.raises(InvalidOptionsError, match="frames must be an integer from 1 to 240"):
        bridge.animate_png("blob", 0, None, frames=-1)
    with pytest.raises(UnknownGeneratorError, match="unknown generator None"):
        bridge.generate_png(None, 0, None)  # type: ignore[arg-type]
    with pytest.raises(UnknownGeneratorError):
        bridge.info_json("y" * 10**6)
    # the bridge keeps serving after every refusal
    assert json.loads(bridge.info_json("blob"))["id"] == "blob"
    assert bridge.generate_png("blob", 1, '{"size": 9}')[:4] == b"\x89PNG"
