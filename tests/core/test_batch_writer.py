"""Batch export's writer thread: chunk k is written and journaled while chunk k+1 is made.

What must hold (besides the resume tests in test_batch.py and tests/reliability): files are
flushed before their journal record, chunks are written in order on one thread other than the
caller's, the maker runs only a bounded distance ahead of the disk, an error on the writer
thread comes out of run_job as itself and stops the writing, and an error while making a chunk
lets the chunks already made be written first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assetgen import Engine, OutputError
from assetgen import batch as batch_module
from assetgen.batch import (
    CHUNK,
    WRITE_AHEAD,
    ChunkResult,
    ChunkTask,
    Journal,
    load_job,
    local_chunks,
    run_job,
)

from ..batch_jobs import job_text, write_job

JOB = job_text(
    {"name": "blobs", "generator": "blob", "seed": 3, "count": 100,
     "formats": ["png", "sheet"], "options": {"size": 16}},  # fmt: skip
)


def _job(engine: Engine, tmp_path: Path) -> Any:
    return load_job(write_job(tmp_path, JOB), engine, out=tmp_path / "out")


def _journaled(out: Path) -> list[str]:
    return sorted(unit for (_, _, unit) in Journal(out).entries if unit.startswith("item:"))


def test_files_are_flushed_before_their_record_in_order_on_the_writer_thread(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, Any, str]] = []
    real_write = batch_module.write_atomic_many
    real_record = Journal.record

    def write(files):  # type: ignore[no-untyped-def]
        real_write(files)  # returns once every file is flushed and renamed
        names = sorted(p.name for p, _ in files)
        events.append(("written", names, threading.current_thread().name))

    def record(self, run, units):  # type: ignore[no-untyped-def]
        events.append(("journaled", [u for u, _ in units], threading.current_thread().name))
        real_record(self, run, units)

    monkeypatch.setattr(batch_module, "write_atomic_many", write)
    monkeypatch.setattr(Journal, "record", record)
    result = run_job(engine, _job(engine, tmp_path), progress=False)
    assert result.written == 100 + 2  # the PNGs, the sheet's image and table
    main = threading.current_thread().name
    assert all(thread != main for _, _, thread in events)
    assert len({thread for _, _, thread in events}) == 1  # one writer thread
    seeds = list(range(3, 103))
    chunks = [seeds[i : i + CHUNK] for i in range(0, len(seeds), CHUNK)]
    expected: list[tuple[str, Any]] = []
    for chunk in chunks:
        expected.append(("written", sorted(f"blob_{s}.png" for s in chunk)))
        expected.append(("journaled", [f"item:{s}" for s in chunk]))
    expected += [("written", ["blobs.json", "blobs.png"]), ("journaled", ["group:sheet"])]
    assert [(kind, what) for kind, what, _ in events] == expected


def test_the_maker_runs_a_bounded_distance_ahead_of_the_journal(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = {"n": 0}
    recorded = {"n": 0}
    lead: list[int] = []
    real_record = Journal.record
    maker = local_chunks(engine)

    def record(self, run, units):  # type: ignore[no-untyped-def]
        real_record(self, run, units)
        recorded["n"] += 1

    def counting(tasks: Iterator[ChunkTask]) -> Iterator[ChunkResult]:
        for result in maker(tasks):
            made["n"] += 1
            lead.append(made["n"] - recorded["n"])
            yield result

    monkeypatch.setattr(Journal, "record", record)
    run_job(engine, _job(engine, tmp_path), progress=False, chunks=counting)
    # one chunk being written, WRITE_AHEAD waiting, one in the maker's hand
    assert max(lead) <= WRITE_AHEAD + 2


def test_a_write_error_comes_out_as_itself_and_stops_the_writing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = batch_module.write_atomic_many
    calls = {"n": 0}
    error = OutputError("cannot write out/blobs/blob_19.png: No space left on device")

    def write(files):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise error
        real_write(files)

    monkeypatch.setattr(batch_module, "write_atomic_many", write)
    spec = _job(engine, tmp_path)
    with pytest.raises(OutputError) as raised:
        run_job(engine, spec, progress=False)
    assert raised.value is error  # the same object: same type and message
    assert calls["n"] == 2  # nothing written after the failure
    out = tmp_path / "out"
    assert _journaled(out) == sorted(f"item:{s}" for s in range(3, 3 + CHUNK))
    assert not (out / "manifest.json").exists()
    assert all(t.name != "assetgen-batch-writer" for t in threading.enumerate())
    monkeypatch.undo()
    result = run_job(engine, spec, progress=False)  # the rerun completes the job
    assert result.skipped == CHUNK and (out / "manifest.json").is_file()


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_error_while_making_lets_the_chunks_made_be_written_first(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type
) -> None:
    original = engine.run  # what makes each chunk
    calls = {"n": 0}

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise error("stop")
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "run", failing)
    with pytest.raises(error):
        run_job(engine, _job(engine, tmp_path), progress=False)
    out = tmp_path / "out"
    # the three chunks made before the error are all on disk and journaled
    assert _journaled(out) == sorted(f"item:{s}" for s in range(3, 3 + 3 * CHUNK))
    assert len(list((out / "blobs").glob("blob_*.png"))) == 3 * CHUNK
    assert all(t.name != "assetgen-batch-writer" for t in threading.enumerate())
