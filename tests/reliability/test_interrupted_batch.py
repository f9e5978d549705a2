"""Interrupted batches: kill ``assetgen batch`` at random points (SIGINT and SIGKILL), and crash
it hard at every write boundary; rerunning must complete the job with every file present
exactly once, byte-identical to an uninterrupted run, and no partial or temporary files.

Two complementary methods:

* **real kills** of the CLI process at random moments (a few by default, many with ``-m heavy``);
* **hard crashes at every write boundary**: a forked copy of the engine runs the job and calls
  ``os._exit`` (no cleanup, like SIGKILL) just before a file is renamed into place, just after,
  or half-way through a journal line; the parent then resumes. The default run samples these
  points; the heavy run visits every one.

After every interruption the folder is checked too: any file under its final name must already
be byte-identical to the reference (writes are atomic), and ``manifest.json`` appears only once
the whole job is done.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from assetgen import Engine
from assetgen.batch import JOURNAL_NAME, MANIFEST_NAME, Journal, load_job, run_job

from .. import batch_jobs
from ..batch_jobs import job_text

JOB = job_text(
    {"name": "blobs", "generator": "blob", "seed": 11, "count": 90,
     "formats": ["png", "sheet"], "options": {"size": 20, "tint": {"r": 0.5}}},
    {"name": "pulses", "generator": "blob", "animate": True, "frames": 5, "count": 5,
     "formats": ["gif", "png", "sheet"], "options": {"speed": 2.0}},
    {"name": "lines", "generator": "echo", "seed": 3, "count": 40,
     "formats": ["jsonl", "csv"], "options": {"prefix": "Hail"}},
    out="out",
)  # fmt: skip

# a smaller job for the in-process crash points (every write of it is a crash point)
SMALL_JOB = JOB.replace("count = 90", "count = 20").replace("count = 40", "count = 6")


def write_job(folder: Path, text: str = JOB) -> Path:
    return batch_jobs.write_job(folder, text)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != JOURNAL_NAME
    }


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def check_interrupted_state(out: Path, reference: dict[str, bytes]) -> None:
    """What an interruption may leave: finished files (identical to the reference), temporary
    files, a journal; never a torn file under its final name, never an early manifest."""
    if not out.exists():
        return
    for path in out.rglob("*"):
        if not path.is_file() or path.name == JOURNAL_NAME or path.name.endswith(".tmp"):
            continue
        rel = str(path.relative_to(out))
        assert rel in reference, f"unexpected file {rel}"
        if rel == MANIFEST_NAME:
            assert path.read_bytes() == reference[rel]
            continue
        assert path.read_bytes() == reference[rel], f"{rel} differs from the reference"


def check_complete(out: Path, reference: dict[str, bytes]) -> None:
    """Every file present exactly once, byte-identical, nothing partial or extra."""
    got = snapshot(out)
    assert sorted(got) == sorted(reference)
    assert got == reference
    assert temp_files(out) == []
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    paths = [o["path"] for o in manifest["outputs"]]
    assert len(paths) == len(set(paths)), "a file is listed twice"
    assert set(paths) == set(reference) - {MANIFEST_NAME}
    for entry in manifest["outputs"]:
        assert hashlib.sha256(got[entry["path"]]).hexdigest() == entry["sha256"]


@pytest.fixture(scope="module")
def reference(testkit_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The uninterrupted result, made in-process (the CLI must give the same bytes)."""
    folder = tmp_path_factory.mktemp("reference")
    engine = Engine(device="cpu", plugins=["exporters", "testkit"])
    run_job(engine, load_job(write_job(folder), engine), progress=False)
    return snapshot(folder / "out")


@pytest.fixture(scope="module")
def small_reference(testkit_path: Path, tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("small_reference")
    engine = Engine(device="cpu", plugins=["exporters", "testkit"])
    run_job(engine, load_job(write_job(folder, SMALL_JOB), engine), progress=False)
    return snapshot(folder / "out")


# -- real kills of the CLI --------------------------------------------------------------------


def kill_rounds(
    env: dict, folder: Path, reference: dict[str, bytes], kills: int, rng: random.Random
) -> Counter:
    """Start the batch, kill it at a random moment, check, repeat; when a run gets to finish,
    check the result and start over in a fresh folder. Returns what was survived."""
    job = write_job(folder)
    cmd = [sys.executable, "-m", "assetgen", "batch", str(job), "--quiet"]
    started = time.monotonic()
    full = subprocess.run(cmd + ["--out", str(folder / "timing")], env=env, capture_output=True)
    assert full.returncode == 0, full.stderr
    assert snapshot(folder / "timing") == reference  # the CLI writes the API's bytes
    duration = time.monotonic() - started
    survived: Counter = Counter()
    round_no = 0
    out = folder / f"round{round_no}"
    while survived["kills"] < kills:
        sig = rng.choice([signal.SIGINT, signal.SIGKILL])
        proc = subprocess.Popen(
            cmd + ["--out", str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            proc.wait(timeout=rng.uniform(0.2, duration))
        except subprocess.TimeoutExpired:
            proc.send_signal(sig)  # only this child, which this test started
        _, err = proc.communicate(timeout=120)
        if proc.returncode == 0:  # it finished before the signal: check, then start over
            check_complete(out, reference)
            survived["completed rounds"] += 1
            round_no += 1
            out = folder / f"round{round_no}"
            continue
        if sig == signal.SIGINT:
            # caught by the CLI (130), or before its handler was installed (-2)
            assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, err[-2000:])
            if proc.returncode == 130:
                assert b"run the same command again to resume" in err
                assert b"Traceback" not in err
        else:
            assert proc.returncode == -signal.SIGKILL, (proc.returncode, err[-2000:])
        survived[f"{signal.Signals(sig).name}"] += 1
        survived["kills"] += 1
        check_interrupted_state(out, reference)
        done = len(snapshot(out)) if out.exists() else 0
        if 0 < done < len(reference):  # it had written some files, not all
            survived["mid-job"] += 1
    final = subprocess.run(cmd + ["--out", str(out)], env=env, capture_output=True)
    assert final.returncode == 0, final.stderr
    check_complete(out, reference)
    return survived


def _kills(plugins_env, tmp_path, reference, figures, kills: int, seed: int) -> None:
    print(f"kill timings from random.Random({seed})")  # shown if the test fails
    rng = random.Random(seed)
    survived = kill_rounds(plugins_env, tmp_path, reference, kills, rng)
    figures["kills survived: SIGINT"] += survived["SIGINT"]
    figures["kills survived: SIGKILL"] += survived["SIGKILL"]
    figures["kill rounds completed"] += survived["completed rounds"] + 1
    figures["kills that landed mid-job (some files written, not all)"] += survived["mid-job"]


def test_random_kills_of_the_cli_lose_nothing(plugins_env, tmp_path, reference, figures) -> None:
    _kills(plugins_env, tmp_path, reference, figures, kills=4, seed=int(time.time()) % 1000)


@pytest.mark.heavy
def test_many_random_kills_of_the_cli_lose_nothing(
    plugins_env, tmp_path, reference, figures
) -> None:
    _kills(plugins_env, tmp_path, reference, figures, kills=60, seed=int(time.time()) % 1000)


# -- hard crashes at every write boundary -----------------------------------------------------


class _Crash:
    """Counts write boundaries in a forked child and ends the process (no cleanup) at one."""

    def __init__(self, point: int) -> None:
        self.point = point
        self.seen = 0

    def tick(self) -> bool:
        self.seen += 1
        return self.seen == self.point


def run_until_crash(engine: Engine, job_path: Path, point: int) -> int:
    """Fork; the child runs the job and dies at write boundary ``point``. Returns its status:
    77 when it crashed there, 0 when the job has fewer boundaries (it completed)."""
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            crash = _Crash(point)
            real_replace = os.replace
            real_record = Journal.record

            def replace(src, dst):  # type: ignore[no-untyped-def]
                if crash.tick():
                    os._exit(77)  # the temporary file is written, not yet renamed
                real_replace(src, dst)
                if crash.tick():
                    os._exit(77)  # renamed, not yet in the journal

            def record(self, run, units):  # type: ignore[no-untyped-def]
                if crash.tick():
                    unit, outputs = units[0]
                    line = json.dumps({"run": run.name, "unit": unit, "outputs": outputs})
                    with open(self.path, "a", encoding="utf-8") as fh:
                        fh.write(line[: len(line) // 2])  # a torn journal line
                    os._exit(77)
                real_record(self, run, units)

            os.replace = replace  # only in this child process
            Journal.record = record  # type: ignore[method-assign]
            run_job(engine, load_job(job_path, engine), progress=False)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def crash_points(testkit_path, tmp_path, small_reference, figures, sample: int | None) -> None:
    engine = Engine(device="cpu", plugins=["exporters", "testkit"])
    writes = len(small_reference)  # files, each a rename, plus journal records (fewer)
    total = 3 * writes + 3  # an upper bound on boundaries
    points = list(range(1, total + 1))
    if sample is not None:
        points = sorted(random.Random(len(points)).sample(points, sample))
    crashed = 0
    for point in points:
        folder = tmp_path / f"p{point}"
        job = write_job(folder, SMALL_JOB)
        status = run_until_crash(engine, job, point)
        assert status in (0, 77), status
        out = folder / "out"
        if status == 0:
            check_complete(out, small_reference)
            continue
        crashed += 1
        check_interrupted_state(out, small_reference)
        # a second crash later in the resumed run, then a clean finish
        if point % 3 == 0:
            assert run_until_crash(engine, job, max(1, point // 3)) in (0, 77)
            check_interrupted_state(out, small_reference)
        run_job(engine, load_job(job, engine), progress=False)
        check_complete(out, small_reference)
    assert crashed >= min(len(points), writes) // 2
    figures["hard crashes survived (write boundaries)"] += crashed


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_hard_crash_at_sampled_write_boundaries(
    testkit_path, tmp_path, small_reference, figures
) -> None:
    crash_points(testkit_path, tmp_path, small_reference, figures, sample=12)


@pytest.mark.heavy
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_hard_crash_at_every_write_boundary(
    testkit_path, tmp_path, small_reference, figures
) -> None:
    crash_points(testkit_path, tmp_path, small_reference, figures, sample=None)


def test_stale_temp_files_are_removed_only_where_the_job_writes(
    testkit_path: Path, tmp_path: Path, small_reference
) -> None:
    """Regression: resume deleted every '.*.tmp' under the output folder, recursively — with
    ``--out .`` that meant other programs' files anywhere below the working folder."""
    engine = Engine(device="cpu", plugins=["exporters", "testkit"])
    job = write_job(tmp_path, SMALL_JOB)
    out = tmp_path / "out"
    (out / "blobs").mkdir(parents=True)
    (out / "unrelated" / "deep").mkdir(parents=True)
    ours = [out / ".manifest.json.abc123.tmp", out / "blobs" / ".blob_11.png.x.tmp"]
    theirs = [out / "unrelated" / ".editor.swp.tmp", out / "unrelated" / "deep" / ".cache.tmp"]
    for path in ours + theirs:
        path.write_bytes(b"partial")
    run_job(engine, load_job(job, engine), progress=False)
    assert not any(p.exists() for p in ours)
    assert all(p.read_bytes() == b"partial" for p in theirs)


def test_a_torn_journal_line_does_not_swallow_the_next_record(
    testkit_path: Path, tmp_path: Path, small_reference
) -> None:
    engine = Engine(device="cpu", plugins=["exporters", "testkit"])
    job = write_job(tmp_path, SMALL_JOB)
    out = tmp_path / "out"
    out.mkdir()
    (out / JOURNAL_NAME).write_text('{"run": "blobs", "fingerpr')  # killed mid-line
    run_job(engine, load_job(job, engine), progress=False)
    lines = (out / JOURNAL_NAME).read_text().splitlines()
    assert lines[0] == '{"run": "blobs", "fingerpr'
    assert all(json.loads(line) for line in lines[1:])
    second = run_job(engine, load_job(job, engine), progress=False)
    assert second.written == 0  # every record after the torn line was readable
    check_complete(out, small_reference)


def test_a_doctored_journal_is_ignored_not_followed(
    testkit_path: Path, tmp_path: Path, small_reference
) -> None:
    """Journal lines that are valid JSON but not records of ours (wrong shape, or a path that
    leaves the output folder) are skipped: nothing crashes, nothing outside OUT is read."""
    engine = Engine(device="cpu", plugins=["exporters", "testkit"])
    job = write_job(tmp_path, SMALL_JOB)
    spec = load_job(job, engine)
    fingerprint = spec.runs[0].fingerprint
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not yours")
    out = tmp_path / "out"
    out.mkdir()
    bad = [
        [1, 2],
        {"run": "blobs", "fingerprint": fingerprint, "unit": "item:11", "outputs": 5},
        {"run": "blobs", "fingerprint": fingerprint, "unit": "item:11", "outputs": [7]},
        {
            "run": "blobs",
            "fingerprint": fingerprint,
            "unit": "item:11",
            "outputs": [
                {"path": "../secret.png", "sha256": hashlib.sha256(b"not yours").hexdigest()}
            ],
        },
    ]
    (out / JOURNAL_NAME).write_text("".join(json.dumps(b) + "\n" for b in bad))
    result = run_job(engine, spec, progress=False)
    assert result.skipped == 0
    check_complete(out, small_reference)
    assert secret.read_bytes() == b"not yours"
