"""Batch export: job validation, manifest, atomic outputs, resume after interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assetgen import Engine, InvalidOptionsError
from assetgen.batch import JOURNAL_NAME, load_job, run_job
from assetgen.cli import main

from .. import batch_jobs
from ..batch_jobs import mixed_job

JOB = mixed_job(echo_count=5)


def write_job(tmp_path: Path, text: str = JOB) -> Path:
    return batch_jobs.write_job(tmp_path, text)


def tree(folder: Path) -> dict[str, str]:
    return batch_jobs.tree(folder, skip={JOURNAL_NAME})


def test_batch_writes_every_output_and_a_manifest(engine: Engine, tmp_path) -> None:
    job = load_job(write_job(tmp_path), engine)
    result = run_job(engine, job, progress=False)
    out = tmp_path / "result"
    manifest = json.loads((out / "manifest.json").read_text())
    files = tree(out)
    listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    assert listed == {k: v for k, v in files.items() if k != "manifest.json"}
    assert result.written == len(listed) == 40 + 2 + 3 + 12 + 2
    blob = next(o for o in manifest["outputs"] if o["path"] == "blobs/blob_7.png")
    assert blob["seed"] == 7 and blob["options"]["size"] == 24 and blob["format"] == "png"
    assert (out / "blob-2" / "blob_0.gif").is_file()  # default name of the second blob run
    sheet = next(o for o in manifest["outputs"] if o["path"] == "blobs/blobs.json")
    assert sheet["count"] == 40


def test_rerun_skips_completed_work_and_is_identical(engine: Engine, tmp_path) -> None:
    job = load_job(write_job(tmp_path), engine)
    run_job(engine, job, progress=False)
    first = tree(tmp_path / "result")
    result = run_job(engine, job, progress=False)
    assert result.written == 0 and result.skipped == 48
    assert tree(tmp_path / "result") == first


def test_resume_after_interruption_redoes_only_missing_and_damaged(
    engine: Engine, tmp_path, monkeypatch
) -> None:
    reference = tmp_path / "reference"
    run_job(engine, load_job(write_job(tmp_path), engine, out=reference), progress=False)

    job = load_job(write_job(tmp_path), engine, out=tmp_path / "resumed")
    calls = {"n": 0}
    original = engine.run  # what makes each chunk

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_job(engine, job, progress=False)
    monkeypatch.setattr(engine, "run", original)
    out = tmp_path / "resumed"
    assert not (out / "manifest.json").exists()  # the manifest is written last
    done_before = len(list(out.rglob("*.png")))
    assert 0 < done_before < 40
    (out / "blobs" / "blob_6.png").write_bytes(b"torn")  # a damaged file is redone
    (out / "blobs" / ".blob_9.png.123.tmp").write_bytes(b"partial")  # a stray temp file
    result = run_job(engine, job, progress=False)
    assert result.skipped == done_before - 1
    assert tree(out) == tree(reference)
    assert not list(out.rglob("*.tmp"))


def test_resume_redoes_a_run_whose_spec_changed(engine: Engine, tmp_path) -> None:
    path = write_job(tmp_path)
    run_job(engine, load_job(path, engine), progress=False)
    path.write_text(JOB.replace("size = 24", "size = 28"))
    result = run_job(engine, load_job(path, engine), progress=False)
    assert result.written == 42  # only the changed run is redone


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[[run]]\ngenerator='blob'\ncolour='red'\n", "run 1: unknown key 'colour'"),
        (
            "[[run]]\ngenerator='blob'\ncount=0\n",
            "run 1 (blob): count must be an integer from 1 to 10000",
        ),
        ("[[run]]\ngenerator='blob'\noptions={size=1000}\n", "run 1 (blob): option 'size' must be"),
        ("[[run]]\ngenerator='nope'\n", "unknown generator 'nope'"),
        ("[[run]]\ngenerator='blob'\nname='../x'\n", "name must be"),
        ("[[run]]\ngenerator='blob'\nformats=['gif']\n", "format 'gif' cannot write image assets"),
        (
            "[[run]]\ngenerator='blob'\n[[run]]\ngenerator='echo'\nname='blob'\n",
            "name 'blob' is used twice",
        ),
        ("title='x'\n", "unknown key 'title'"),
        ("out='x'\n", "needs at least one [[run]] table"),
        ("[[run]\n", "not valid TOML"),
        ("[[run]]\ngenerator='blob'\nseed=-1\n", "seed must be an integer"),
        ("[[run]]\ngenerator='blob'\nanimate='yes'\n", "animate must be true or false"),
    ],
)
def test_bad_job_files_are_refused_before_any_work(
    engine: Engine, tmp_path, text, fragment
) -> None:
    with pytest.raises(InvalidOptionsError) as err:
        load_job(write_job(tmp_path, text), engine)
    assert fragment in str(err.value)
    assert str(tmp_path / "job.toml") in str(err.value)


def test_non_utf8_job_file(engine: Engine, tmp_path) -> None:
    job = tmp_path / "job.toml"
    job.write_bytes(b"\xff\xfe[[run]]")
    with pytest.raises(InvalidOptionsError, match="not UTF-8"):
        load_job(job, engine)


def test_cli_batch_prints_progress_and_summary(plugins_env, tmp_path, capsys) -> None:
    assert main(["batch", str(write_job(tmp_path))]) == 0
    err = capsys.readouterr().err
    assert "[1/3] blobs: 40/40 items (100%)" in err
    assert "manifest:" in err


def test_rerun_progress_has_no_rate_for_skipped_items(plugins_env, tmp_path, capsys) -> None:
    """A rerun that finds every item done says so; it must not divide thousands of skipped
    items by a few milliseconds and print a rate like '52869.1/s'."""
    job = str(write_job(tmp_path))
    assert main(["batch", job]) == 0
    capsys.readouterr()
    assert main(["batch", job]) == 0
    err = capsys.readouterr().err
    assert "[1/3] blobs: 40/40 items (100%), 40 already done, took" in err
    assert "/s" not in err and "ETA" not in err


def test_progress_rate_counts_only_items_made() -> None:
    import io

    from assetgen.progress import Progress

    bar = Progress(10, "x", stream=io.StringIO())
    bar.skip(8)
    assert bar.text() == "x: 8/10 items (80%), 8 already done"
    bar._start -= 4.0  # 4 s in, two items made: 0.5/s over the made items, not 2.5/s
    bar.advance(2)
    assert bar.text(final=True) == "x: 10/10 items (100%), 8 already done, 0.5/s, took 4s"


def test_progress_redraws_one_line_on_a_terminal_and_prints_lines_in_a_log() -> None:
    """tqdm draws the line: in place on a terminal (even one that reports no size, as a bare
    pseudo-terminal does), as whole lines in a log."""
    import io

    from assetgen.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    bar = Progress(4, "[1/1] faces", stream=terminal)
    bar.skip(2)
    bar.advance(2)
    bar.close()
    shown = terminal.getvalue()
    assert shown.count("\n") == 1 and shown.endswith("\n")  # one line, redrawn with \r
    assert shown.rstrip().split("\r")[-1].startswith(
        "[1/1] faces: 4/4 items (100%), 2 already done, ")
    assert shown.rstrip().endswith("s") and "took" in shown.split("\r")[-1]

    log = io.StringIO()
    bar = Progress(4, "[1/1] faces", stream=log, interval=0)
    bar.skip(4)
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[-1].startswith("[1/1] faces: 4/4 items (100%), 4 already done, took")
    assert len(lines) == len(set(lines))  # a redraw of the same text is not repeated

    # two bars open at once (a batch starts the next run's before the last one closes): tqdm
    # moves the cursor between them, which a log must not show as "ESC [ A" lines
    log = io.StringIO()
    first = Progress(2, "[1/2] a", stream=log, interval=0)
    first.advance(2)
    second = Progress(2, "[2/2] b", stream=log, interval=0)
    first.close()
    second.advance(2)
    second.close()
    assert "\x1b" not in log.getvalue()
    assert all(line.strip() for line in log.getvalue().splitlines())


def test_sigkilled_batch_resumes_to_the_same_bytes(plugins_env, tmp_path) -> None:
    """Kill the CLI process mid-run (SIGKILL, then SIGINT) and check the resumed result."""
    job = write_job(tmp_path, JOB.replace("count = 40", "count = 400"))
    reference = tmp_path / "reference"
    cmd = [sys.executable, "-m", "assetgen", "batch", str(job), "--quiet"]
    subprocess.run([*cmd, "--out", str(reference)], env=plugins_env, check=True)
    out = tmp_path / "killed"
    for sig in (signal.SIGKILL, signal.SIGINT):
        before = len(list(out.rglob("*.png")))
        # a shell's background job starts with SIGINT ignored, and Python then never raises
        # KeyboardInterrupt: give the child the default disposition, as in a terminal
        proc = subprocess.Popen(
            [*cmd, "--out", str(out)],
            env=plugins_env,
            stderr=subprocess.PIPE,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(list(out.rglob("*.png"))) < before + 30:
            if proc.poll() is not None:
                pytest.fail(f"the batch finished before it could be sent {sig.name}")
            time.sleep(0.01)
        os.kill(proc.pid, sig)
        _, err = proc.communicate()
        if sig == signal.SIGINT:
            assert proc.returncode == 130 and b"run the same command again to resume" in err
    subprocess.run([*cmd, "--out", str(out)], env=plugins_env, check=True)
    assert tree(out) == tree(reference)
    assert not list(out.rglob("*.tmp"))
