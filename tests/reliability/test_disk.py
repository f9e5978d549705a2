"""Disk full and unwritable output folders: a clear error (CLI: exit 1, one line), no partial or
temporary files, and a rerun once there is room completes the job byte-identical.

Where the tests run as root and may mount, the full disk is a real 1 MB tmpfs and the
unwritable folder a read-only tmpfs (root ignores file modes). Elsewhere an unwritable folder is
a chmod 555 folder and a full disk is simulated: ``ENOSPC`` raised from the file writes inside
``assetgen.exporting.write_atomic`` (the one place the engine writes files). The simulated
variants run everywhere.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import assetgen.exporting as exporting
from assetgen import Engine, OutputError
from assetgen.batch import JOURNAL_NAME, load_job, run_job
from assetgen.cli import main

JOB = """
[[run]]
name = "blobs"
generator = "blob"
count = 60
formats = ["png", "sheet"]
options = { size = 64, color = "any" }

[[run]]
name = "pulses"
generator = "blob"
animate = true
frames = 6
count = 4
formats = ["gif"]

[[run]]
name = "lines"
generator = "echo"
count = 50
formats = ["jsonl", "csv"]
"""


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != JOURNAL_NAME
    }


def assert_no_partial_files(out: Path, reference: dict[str, bytes]) -> None:
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")], "temporary files left"
    for rel, data in snapshot(out).items():
        assert rel != "manifest.json", "manifest written although the job failed"
        assert data == reference[rel], f"{rel} is partial"


@pytest.fixture
def engine(testkit_path: Path) -> Engine:
    return Engine(device="cpu", plugins=["exporters", "testkit"])


@pytest.fixture
def reference(engine: Engine, tmp_path: Path) -> dict[str, bytes]:
    job = tmp_path / "job.toml"
    job.write_text(JOB)
    run_job(engine, load_job(job, engine, out=tmp_path / "reference"), progress=False)
    return snapshot(tmp_path / "reference")


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def tmpfs() -> Iterator[Callable[..., Path]]:
    """Mount a small tmpfs (root only); unmounted at teardown."""
    mounted: list[Path] = []

    def mount(where: Path, size: str = "1m", read_only: bool = False) -> Path:
        where.mkdir(parents=True, exist_ok=True)
        opts = f"size={size}" + (",ro" if read_only else "")
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True
        )
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
        mounted.append(where)
        return where

    if not _can_mount():
        pytest.skip("mounting a tmpfs needs root; the simulated variant covers this")
    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", str(where)], capture_output=True)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


# -- unwritable output folder -----------------------------------------------------------------


@pytest.fixture
def unwritable(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A folder nobody may write into: a read-only tmpfs as root, else mode 555."""
    folder = tmp_path / "readonly"
    if _can_mount():
        return request.getfixturevalue("tmpfs")(folder, read_only=True)
    folder.mkdir()
    folder.chmod(0o555)
    request.addfinalizer(lambda: folder.chmod(0o755))
    return folder


def test_unwritable_folder_api_cli_and_batch(
    engine: Engine, unwritable: Path, tmp_path: Path, plugins_env: dict, capsys, figures
) -> None:
    assets = engine.generate("blob", count=3)
    with pytest.raises(OutputError, match=f"cannot write to {unwritable}"):
        engine.export(assets, "png", unwritable)
    with pytest.raises(OutputError, match="cannot write to"):
        engine.export(assets, "sheet", unwritable / "sub")
    job = tmp_path / "job.toml"
    job.write_text(JOB)
    with pytest.raises(OutputError, match="cannot"):
        run_job(engine, load_job(job, engine, out=unwritable), progress=False)
    for args in (
        ["generate", "blob", "--count", "3", "--out", str(unwritable)],
        ["batch", str(job), "--out", str(unwritable), "--quiet"],
    ):
        assert main(args) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("assetgen: error: cannot"), err
        assert "Traceback" not in err[0]
    assert list(unwritable.iterdir()) == []
    figures["disk failures reported cleanly"] += 5


def test_batch_that_meets_a_read_only_run_folder_resumes_when_it_is_writable(
    engine: Engine, tmpfs, tmp_path: Path, reference: dict[str, bytes]
) -> None:
    out = tmp_path / "out"
    tmpfs(out / "pulses", read_only=True)  # the second run's folder
    job = tmp_path / "job.toml"
    job.write_text(JOB)
    spec = load_job(job, engine, out=out)
    with pytest.raises(OutputError, match=r"pulses.*Read-only file system"):
        run_job(engine, spec, progress=False)
    assert len(snapshot(out)) == 62  # the first run is complete
    assert_no_partial_files(out, reference)
    remount(out / "pulses", "rw")
    run_job(engine, spec, progress=False)
    assert snapshot(out) == reference


# -- disk full: a real small file system ------------------------------------------------------


def test_disk_full_on_a_real_tmpfs(
    engine: Engine, tmpfs, tmp_path: Path, reference: dict[str, bytes], plugins_env, capsys
) -> None:
    needed = sum(len(d) for d in reference.values())
    out = tmpfs(tmp_path / "small", size=f"{needed // 2 // 1024}k")
    job = tmp_path / "job.toml"
    job.write_text(JOB)
    spec = load_job(job, engine, out=out)
    with pytest.raises(OutputError, match="No space left on device"):
        run_job(engine, spec, progress=False)
    assert_no_partial_files(out, reference)
    assert main(["batch", str(job), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0], err
    assert_no_partial_files(out, reference)
    remount(out, f"size={needed * 4 // 1024}k")  # room again: the rerun completes
    run_job(engine, spec, progress=False)
    assert snapshot(out) == reference
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


# -- disk full: simulated (runs everywhere) ---------------------------------------------------


class FullDisk:
    """The engine's file writes fail with ENOSPC: at ``write`` once ``budget`` bytes went
    through (after a short write reached the disk), or at the ``budget``-th ``fsync``."""

    def __init__(self, budget: int, where: str = "write") -> None:
        self.budget = budget
        self.where = where
        self.fsyncs = 0
        self.full = False

    def fdopen(self, fd: int, mode: str = "r", *args, **kwargs) -> _File:
        return _File(_real_fdopen(fd, mode, *args, **kwargs), self)

    def fsync(self, fd: int) -> None:
        self.fsyncs += 1
        if self.where == "fsync" and self.fsyncs > self.budget:
            self.full = True
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        _real_fsync(fd)


class _File:
    def __init__(self, raw: io.BufferedWriter, disk: FullDisk) -> None:
        self.raw = raw
        self.disk = disk

    def __enter__(self) -> _File:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()

    def write(self, data: bytes) -> int:
        disk = self.disk
        if disk.where == "write" and len(data) > disk.budget:
            disk.full = True
            self.raw.write(bytes(data[: disk.budget]))  # a short write reaches the disk first
            self.raw.flush()
            disk.budget = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if disk.where == "write":
            disk.budget -= len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()

    def fileno(self) -> int:
        return self.raw.fileno()


_real_fdopen = os.fdopen
_real_fsync = os.fsync


@pytest.mark.parametrize(
    ("where", "budget"), [("write", 0), ("write", 20_000), ("fsync", 0), ("fsync", 10)]
)
def test_disk_full_simulated_in_write_atomic(
    engine: Engine,
    tmp_path: Path,
    reference: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    figures,
    where: str,
    budget: int,
) -> None:
    disk = FullDisk(budget, where)
    monkeypatch.setattr(exporting.os, "fdopen", disk.fdopen)
    monkeypatch.setattr(exporting.os, "fsync", disk.fsync)
    job = tmp_path / "job.toml"
    job.write_text(JOB)
    spec = load_job(job, engine, out=tmp_path / "out")
    with pytest.raises(OutputError, match="No space left on device"):
        run_job(engine, spec, progress=False)
    assert disk.full
    assert_no_partial_files(tmp_path / "out", reference)
    disk.budget, disk.fsyncs = 0, 0
    with pytest.raises(OutputError, match="No space left on device"):
        engine.export(engine.generate("blob", count=2), "sheet", tmp_path / "single")
    assert not list((tmp_path / "single").iterdir())
    monkeypatch.undo()  # room again
    run_job(engine, spec, progress=False)
    assert snapshot(tmp_path / "out") == reference
    figures["disk failures reported cleanly"] += 2


def test_disk_full_simulated_through_the_cli(
    plugins_env: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    disk = FullDisk(10_000)
    monkeypatch.setattr(exporting.os, "fdopen", disk.fdopen)
    out = tmp_path / "out"
    assert main(["generate", "blob", "--count", "50", "-o", "size=64", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("assetgen: error: cannot write "), err
    assert err[0].endswith("No space left on device")
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
