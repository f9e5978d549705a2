"""Batch export: a TOML job file -> many files on disk, resumable, with a manifest.

A job lists runs; each run is one generate (or animate) request and the formats to write::

    out = "out/starter"          # relative to the job file; `--out` overrides

    [[run]]
    name = "faces"               # folder under `out` (default: the generator id)
    generator = "portraits"
    seed = 0
    count = 64
    formats = ["png", "sheet"]
    options = { truncation = 0.7 }

    [[run]]
    name = "talking"
    generator = "portraits"
    animate = true
    frames = 8
    count = 4                    # four animations, seeds 0..3
    formats = ["gif", "sheet"]
    options = { animation = "talk" }

Everything is validated before any work starts. Each file is written atomically and recorded
in a journal (``.assetgen-journal.jsonl``) once a unit of work (one item, or one whole-request
file such as a sprite sheet) is complete. Rerunning the same job skips units whose files are
on disk with the recorded sha256, so an interrupted job resumes where it stopped and the
result is byte-identical to an uninterrupted run. ``manifest.json`` is written last.

How the items are made is pluggable: :func:`run_job` hands a stream of :class:`ChunkTask` (a run
and up to :data:`CHUNK` consecutive seeds) to a *chunk maker* and takes back one
:class:`ChunkResult` per task, in order. The default maker runs each task in this process as
it is needed (:func:`make_chunk`); :mod:`assetgen.ray_batch` runs them on Ray workers. Writing,
the journal, progress and the manifest stay here, so every maker gives the same files.

The writing happens on one writer thread (:class:`_Writer`) while the next chunk is made: a
chunk's per-item files are rendered (for the local maker: PNG encoding), written and flushed,
then journaled, chunk after chunk in the job's order, with at most :data:`WRITE_AHEAD` chunks
waiting, so memory stays flat. An error on the writer thread stops it and is raised by
:func:`run_job` as it is; an error or Ctrl-C while making a chunk lets the writer finish the
chunks already made first (they are complete work), then is raised.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import queue
import re
import threading
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .assets import Asset
from .engine import Engine
from .errors import InvalidOptionsError, OutputError, UnknownGeneratorError, show_value
from .exporting import (
    MAX_FILE_NAME,
    OutputFile,
    check_out_dir,
    check_output_name,
    remove_stale_temp_files,
    write_atomic,
    write_atomic_many,
)
from .limits import (
    MAX_BATCH_ITEMS,
    MAX_BATCH_RUNS,
    MAX_JOB_FILE_BYTES,
)
from .progress import Progress
from .request import Plan, Request

JOURNAL_NAME = ".assetgen-journal.jsonl"
MANIFEST_NAME = "manifest.json"
#: Items generated per engine call: big enough to batch model calls, small enough that an
#: interruption loses little work.
CHUNK = 16
#: Made chunks that may wait for the writer thread (besides the one it is writing): the maker
#: runs at most this far ahead of the disk.
WRITE_AHEAD = 1

_JOB_KEYS = {"out", "run"}
_RUN_KEYS = {"name", "generator", "seed", "count", "animate", "frames", "formats", "options"}


@dataclass(frozen=True)
class RunSpec:
    name: str
    generator: str
    seed: int
    count: int
    animate: bool
    frames: int | None
    formats: tuple[str, ...]
    options: dict[str, Any]
    fingerprint: str
    #: the sha256 of the model the options select when the job was loaded (None: procedural)
    model_sha256: str | None = None
    #: the checked request (parsed options, formats), which a Ray worker plans again
    request: Request | None = None
    #: this process's plan of it, made once when the job is loaded; it stays in this process
    #: (its exporters belong to this engine): a pickled RunSpec carries the request only
    plan: Plan | None = field(default=None, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "plan": None}


@dataclass
class Job:
    source: Path
    out: Path
    runs: list[RunSpec]


@dataclass
class BatchResult:
    written: int = 0
    skipped: int = 0
    outputs: list[dict[str, Any]] = field(default_factory=list)
    manifest: Path | None = None
    paths: set[str] = field(default_factory=set)


def _job_error(source: Path, where: str, message: str, parameter: str | None = None) -> Exception:
    return InvalidOptionsError(f"{source}: {where}: {message}", parameter=parameter)


def load_job(path: str | Path, engine: Engine, out: str | Path | None = None) -> Job:
    """Read and fully validate a job file; nothing is generated or written."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise InvalidOptionsError(f"cannot read job file {source}: {exc.strerror or exc}") from None
    except ValueError:  # a NUL character in the path
        raise InvalidOptionsError(
            f"cannot read job file {show_value(str(path))}: the path contains a NUL character"
        ) from None
    if len(raw) > MAX_JOB_FILE_BYTES:
        raise InvalidOptionsError(f"job file {source} is over {MAX_JOB_FILE_BYTES} bytes")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidOptionsError(f"job file {source} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidOptionsError(f"job file {source} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - _JOB_KEYS)
    if unknown:
        raise _job_error(
            source, "top level", f"unknown key {show_value(unknown[0])}; allowed: out, run"
        )
    runs_raw = data.get("run")
    if not isinstance(runs_raw, list) or not runs_raw:
        raise _job_error(source, "top level", "needs at least one [[run]] table")
    if len(runs_raw) > MAX_BATCH_RUNS:
        raise _job_error(source, "top level", f"at most {MAX_BATCH_RUNS} runs; got {len(runs_raw)}")
    out_dir = _job_out(source, data.get("out"), out)
    runs: list[RunSpec] = []
    generator_uses: dict[str, int] = {}
    items = 0
    for index, run in enumerate(runs_raw, start=1):
        spec = _load_run(source, index, run, engine, generator_uses)
        # folder names are compared without case: on Windows and macOS 'Faces' is 'faces'
        if any(r.name.casefold() == spec.name.casefold() for r in runs):
            raise _job_error(source, f"run {index}", f"name {spec.name!r} is used twice", "name")
        items += spec.count
        if items > MAX_BATCH_ITEMS:
            raise _job_error(
                source,
                f"run {index}",
                f"the job asks for more than {MAX_BATCH_ITEMS} items in all (the sum of every "
                "run's count); split it into several job files",
                "count",
            )
        runs.append(spec)
    return Job(source=source, out=out_dir, runs=runs)


def _job_out(source: Path, value: Any, override: str | Path | None) -> Path:
    if override is not None:
        return check_out_dir(override, "out")
    if value is None:
        return source.parent / "out"
    if not isinstance(value, str) or not value or "\x00" in value:
        raise _job_error(source, "top level", "out must be a folder path", "out")
    return source.parent / value


def _load_run(source: Path, index: int, run: Any, engine: Engine, uses: dict[str, int]) -> RunSpec:
    where = f"run {index}"
    if not isinstance(run, dict):
        raise _job_error(source, where, "must be a table")
    unknown = sorted(set(run) - _RUN_KEYS)
    if unknown:
        raise _job_error(
            source,
            where,
            f"unknown key {show_value(unknown[0])}; allowed: {', '.join(sorted(_RUN_KEYS))}",
        )
    try:
        plan = _plan_run(engine, run)
        generator = plan.request.generator
        uses[generator] = uses.get(generator, 0) + 1
        default_name = generator if uses[generator] == 1 else f"{generator}-{uses[generator]}"
        name = check_output_name(run.get("name", default_name))
        _check_run_name(name, generator, plan)
    except (InvalidOptionsError, UnknownGeneratorError) as exc:
        shown = run.get("generator", "?")
        if not (isinstance(shown, str) and re.fullmatch(r"[\w.-]{1,60}", shown)):
            shown = show_value(shown)  # quoted and cut: the message stays one short line
        raise _job_error(source, f"{where} ({shown})", str(exc)) from None
    request, options = plan.request, plan.options.to_dict()
    canonical = {
        "generator": request.generator,
        "seed": request.seed,
        "count": request.count,
        "animate": request.animate,
        "frames": request.frames,
        "formats": list(plan.formats),
        "options": options,
        "model_sha256": plan.model_sha256,
    }
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()[:16]
    return RunSpec(
        name=name,
        generator=request.generator,
        seed=request.seed,
        count=request.count,
        animate=request.animate,
        frames=request.frames,
        formats=plan.formats,
        options=options,
        fingerprint=digest,
        model_sha256=plan.model_sha256,
        request=request,
        plan=plan,
    )


def _plan_run(engine: Engine, run: dict[str, Any]) -> Plan:
    """The run's request, checked by the engine's one planning step (absent ``frames``: the
    generator decides, e.g. a text-driven talk animation, else 8)."""
    generator = run.get("generator")
    if not isinstance(generator, str):
        raise InvalidOptionsError("generator must be a generator id, e.g. 'portraits'")
    animate = run.get("animate", False)
    if not isinstance(animate, bool):
        raise InvalidOptionsError(f"animate must be true or false; got {show_value(animate)}")
    options = run.get("options", {})
    if not isinstance(options, dict):
        raise InvalidOptionsError("options must be a table of option = value")
    formats = run.get("formats")  # absent: the default formats of what the run makes
    if isinstance(formats, str):
        formats = [formats]
    if formats is not None and not (
        isinstance(formats, list) and formats and all(isinstance(f, str) for f in formats)
    ):
        raise InvalidOptionsError("formats must be a list of format names, e.g. ['png', 'sheet']")
    request = Request(
        generator,
        "animate" if animate else "generate",
        seed=run.get("seed", 0),
        count=run.get("count", 1),
        frames=run.get("frames"),
        options=options,
        formats=tuple(formats or ()),
    )
    return engine.plan(request)


def _check_run_name(name: str, generator: str, plan: Plan) -> None:
    """Refuse a run name whose files would land on another output's path.

    The run's folder sits beside ``manifest.json``; whole-request files are named after the
    run (``<name>.png``) and per-item files after the generator and seed (``<gen>_<seed>.png``,
    ``<gen>_<seed>_<frame>.png``), so a run named like a per-item file would overwrite one.
    """
    if name.casefold() == MANIFEST_NAME:
        raise InvalidOptionsError(
            f"name {name!r} is reserved for the job's manifest; choose another run name",
            parameter="name",
            value=name,
        )
    per_asset = [f for f in plan.formats if plan.per_asset(f)]
    grouped = [f for f in plan.formats if not plan.per_asset(f)]
    if per_asset and grouped and re.match(rf"{re.escape(generator)}_\d", name, re.IGNORECASE):
        raise InvalidOptionsError(
            f"name {name!r} looks like the per-item files '{generator}_<seed>' this run writes, "
            f"so its {grouped[0]} file could overwrite one; choose another run name",
            parameter="name",
            value=name,
        )


# -- running ----------------------------------------------------------------------------------


class Journal:
    """Append-only record of completed units; the basis of resume."""

    def __init__(self, out: Path) -> None:
        self.path = out / JOURNAL_NAME
        self.entries: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._torn_tail = False
        if self.path.is_file():
            with open(self.path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    self._torn_tail = not line.endswith("\n")
                    entry = _journal_entry(line)
                    if entry is None:
                        continue  # a line torn by a kill mid-write, or not ours
                    self.entries[(entry["run"], entry["fingerprint"], entry["unit"])] = entry

    def completed(self, out: Path, run: RunSpec, unit: str) -> dict[str, Any] | None:
        entry = self.entries.get((run.name, run.fingerprint, unit))
        if entry is None:
            return None
        for record in entry["outputs"]:
            path = out / record["path"]
            if not path.is_file() or _sha256(path.read_bytes()) != record["sha256"]:
                return None
        return entry

    def record(self, run: RunSpec, units: list[tuple[str, list[dict[str, Any]]]]) -> None:
        """Append one line per completed unit, flushed to disk once for all of them (a chunk's
        items together: one flush per chunk instead of one per item)."""
        entries: list[dict[str, Any]] = [
            {"run": run.name, "fingerprint": run.fingerprint, "unit": unit, "outputs": outputs}
            for unit, outputs in units
        ]
        if not entries:
            return
        line = "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries)
        if self._torn_tail:  # end the torn line so that this record stays whole
            line = "\n" + line
        try:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self._torn_tail = False
        for entry in entries:
            self.entries[(run.name, run.fingerprint, entry["unit"])] = entry


def _journal_entry(line: str) -> dict[str, Any] | None:
    """One journal record, or None if the line is torn or malformed. Output paths must be
    ``<run>/<file>`` with safe names, so a doctored journal cannot point outside ``OUT``."""
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or not all(
        isinstance(entry.get(k), str) for k in ("run", "fingerprint", "unit")
    ):
        return None
    outputs = entry.get("outputs")
    if not isinstance(outputs, list):
        return None
    for record in outputs:
        if not isinstance(record, dict) or not isinstance(record.get("sha256"), str):
            return None
        parts = record.get("path", "").split("/") if isinstance(record.get("path"), str) else []
        try:
            if len(parts) != 2:
                return None
            check_output_name(parts[0])
            check_output_name(parts[1], max_length=MAX_FILE_NAME)
        except InvalidOptionsError:
            return None
    return entry


@dataclass(frozen=True)
class ChunkTask:
    """Up to :data:`CHUNK` consecutive seeds of one run: the unit a chunk maker works on.

    ``todo`` are the seeds whose per-item files are not complete yet (they are rendered);
    ``keep`` asks for the assets themselves too (a whole-request format such as a sprite sheet
    is still to be written from all of the run's assets). A task with neither needs no work.
    """

    run: RunSpec
    seeds: tuple[int, ...]
    todo: tuple[int, ...]
    keep: bool

    @property
    def needs_work(self) -> bool:
        return bool(self.todo) or self.keep


@dataclass
class ChunkResult:
    """What a chunk maker returns for one task: each ``todo`` seed's per-item files (format and
    file, in the run's format order) and, when the task asked to keep them, the assets.

    A maker may leave the rendering to the writer: then ``unrendered`` holds each ``todo``
    seed's asset and ``files`` is empty (the local maker does this, so that PNG encoding runs on
    the writer thread while the next chunk is generated)."""

    task: ChunkTask
    files: dict[int, list[tuple[str, OutputFile]]] = field(default_factory=dict)
    assets: list[Asset] | None = None
    unrendered: dict[int, Asset] | None = None


#: Turns the job's tasks (pulled lazily, in order) into one result per task, in the same order.
ChunkMaker = Callable[[Iterator[ChunkTask]], Iterable[ChunkResult]]


def make_chunk(
    engine: Engine, task: ChunkTask, *, render: bool = True, plan: Plan | None = None
) -> ChunkResult:
    """Generate one chunk's assets and (``render``) render its per-item files (the work of
    every maker); without ``render`` the ``todo`` seeds' assets come back unrendered.
    ``plan``: the run's plan in this process (default: the one made when the job loaded)."""
    if not task.needs_work:
        return ChunkResult(task)
    plan = plan or run_plan(engine, task.run)
    assets = engine.run(plan, task.seeds)
    todo = set(task.todo)
    pending = {seed: asset for seed, asset in zip(task.seeds, assets, strict=True) if seed in todo}
    kept = assets if task.keep else None
    if not render:
        return ChunkResult(task, assets=kept, unrendered=pending)
    return ChunkResult(task, render_items(engine, plan, pending), kept)


def run_plan(engine: Engine, run: RunSpec) -> Plan:
    """The run's plan: made when the job was loaded, or (a RunSpec from another process)
    made here from its checked request."""
    if run.plan is not None:
        return run.plan
    if run.request is None:
        raise ValueError(f"run '{run.name}' carries no request to plan")
    return engine.plan(run.request)


def render_items(
    engine: Engine, plan: Plan, assets: dict[int, Asset]
) -> dict[int, list[tuple[str, OutputFile]]]:
    """Each seed's per-item files: format and file, in the run's format order."""
    per_asset = [f for f in plan.formats if plan.per_asset(f)]
    return {
        seed: [(fmt, f) for fmt in per_asset for f in engine.render([asset], fmt, plan=plan)]
        for seed, asset in assets.items()
    }


def local_chunks(engine: Engine) -> ChunkMaker:
    """The default maker: each task in this process, one at a time, when it is needed (so an
    interruption loses at most the chunks in hand); the per-item files are rendered by the
    writer thread."""

    def make(tasks: Iterator[ChunkTask]) -> Iterator[ChunkResult]:
        for task in tasks:
            yield make_chunk(engine, task, render=False)

    return make


class _Writer:
    """One background thread that runs jobs (a chunk's writes) in the order submitted.

    At most :data:`WRITE_AHEAD` jobs wait besides the one running, so ``submit`` blocks when
    the maker is further ahead. The first error stops the work: later jobs are dropped and the
    error (the same exception object, so the same type and message) is raised in the calling
    thread by the next ``submit`` or by ``finish``.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=WRITE_AHEAD)
        self._error: BaseException | None = None
        # a daemon: should the process be ended while a write is under way, the write is
        # atomic and the journal tolerates a torn line, so nothing waits on it at exit
        self._thread = threading.Thread(
            target=self._work, name="assetgen-batch-writer", daemon=True
        )
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._error is None:
                try:
                    job()
                except BaseException as exc:  # raised in the calling thread
                    self._error = exc

    def _raise(self) -> None:
        error = self._error
        if error is not None:
            raise error

    def submit(self, job: Callable[[], None]) -> None:
        self._raise()
        self._jobs.put(job)
        self._raise()

    def finish(self) -> None:
        """Wait for every job submitted; raise the first error of any."""
        self.stop()
        self._raise()

    def stop(self) -> None:
        """Let the jobs submitted run (or be dropped after an error), then end the thread."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()


def run_job(
    engine: Engine, job: Job, *, progress: bool = True, chunks: ChunkMaker | None = None
) -> BatchResult:
    """Produce every output of ``job`` that is not already complete, then the manifest.

    ``chunks`` makes the items (default: :func:`local_chunks`, in this process); whatever makes
    them, the files, the journal and the manifest are written here, in the job's order.
    """
    try:
        job.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {job.out}: {exc.strerror or exc}") from None
    # only where this job writes: OUT itself and each run's folder
    remove_stale_temp_files(job.out, recursive=False)
    for run in job.runs:
        remove_stale_temp_files(job.out / run.name, recursive=False)
    journal = Journal(job.out)
    result = BatchResult()
    # whole-request files already complete, per run; a run with one missing keeps its assets
    group_done = [
        {
            fmt: journal.completed(job.out, run, f"group:{fmt}")
            for fmt in run.formats
            if not run_plan(engine, run).per_asset(fmt)
        }
        for run in job.runs
    ]
    maker = chunks or local_chunks(engine)
    results = iter(maker(_tasks(job, journal, group_done)))
    writer = _Writer()
    try:
        for number, run in enumerate(job.runs, start=1):
            bar = Progress(run.count, f"[{number}/{len(job.runs)}] {run.name}", enabled=progress)
            writing = _RunWriting(engine, job.out, run, journal, result, bar)
            _run_one(writing, results, group_done[number - 1], writer)
            writer.submit(bar.close)
        writer.finish()
    finally:
        # an error or Ctrl-C here: the chunks already made are written first (stop() waits
        # for them), then the error goes on
        writer.stop()
    manifest = {
        "assetgen_version": __version__,
        "job": job.source.name,
        "outputs": result.outputs,
    }
    result.manifest = job.out / MANIFEST_NAME
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    write_atomic(result.manifest, text.encode("utf-8"))
    return result


def _tasks(
    job: Job, journal: Journal, group_done: list[dict[str, dict[str, Any] | None]]
) -> Iterator[ChunkTask]:
    """Every chunk of the job, in order; whether an item is complete is checked when its task
    is pulled (a maker that works ahead pulls early: the journal only grows meanwhile)."""
    for run, groups in zip(job.runs, group_done, strict=True):
        keep = any(entry is None for entry in groups.values())
        for chunk_seeds in _chunks(run.seed, run.count):
            todo = tuple(
                s for s in chunk_seeds if journal.completed(job.out, run, f"item:{s}") is None
            )
            yield ChunkTask(run, tuple(chunk_seeds), todo, keep)


@dataclass(frozen=True)
class _RunWriting:
    """What writing one run of a job works with: the engine that renders, the job's output
    folder, the run, the journal and the result it adds to, and the run's progress bar."""

    engine: Engine
    out: Path
    run: RunSpec
    journal: Journal
    result: BatchResult
    bar: Progress

    def write(
        self, groups: list[tuple[list[int], list[tuple[str, OutputFile]]]]
    ) -> list[list[dict[str, Any]]]:
        """:func:`_write` of the run's groups, on paths no other output of the job has taken."""
        return _write(self.out, self.run, groups, taken=self.result.paths)

    def collect(self, key: str) -> None:
        """Add the journaled outputs of ``key`` (``item:SEED``, ``group:FORMAT``) to the result."""
        entry = self.journal.entries[(self.run.name, self.run.fingerprint, key)]
        self.result.outputs.extend(entry["outputs"])
        self.result.paths.update(record["path"].casefold() for record in entry["outputs"])


def _run_one(
    writing: _RunWriting,
    results: Iterator[ChunkResult],
    group_done: dict[str, dict[str, Any] | None],
    writer: _Writer,
) -> None:
    """Take the run's chunks from the maker (this thread) and hand each to the writer thread,
    which writes, journals and counts them in order."""
    run = writing.run
    kept: list[Asset] = []
    for chunk_seeds in _chunks(run.seed, run.count):
        chunk = next(results)
        task = chunk.task
        if (task.run.name, list(task.seeds)) != (run.name, chunk_seeds):
            raise RuntimeError(f"chunk maker returned {task.run.name} {task.seeds} out of order")
        if task.keep and task.needs_work:
            if chunk.assets is None:
                raise RuntimeError(f"chunk maker dropped the assets of {run.name} {task.seeds}")
            kept.extend(chunk.assets)
        writer.submit(functools.partial(_write_chunk, writing, chunk, chunk_seeds))
    writer.submit(functools.partial(_write_groups, writing, group_done, kept))


def _write_chunk(writing: _RunWriting, chunk: ChunkResult, chunk_seeds: list[int]) -> None:
    """On the writer thread: one chunk's files rendered if need be, written and flushed
    together, then journaled together."""
    engine, run, result, bar = writing.engine, writing.run, writing.result, writing.bar
    task = chunk.task
    if not task.needs_work:
        for s in chunk_seeds:
            writing.collect(f"item:{s}")
        result.skipped += len(chunk_seeds)
        bar.skip(len(chunk_seeds))
        return
    files = chunk.files
    if chunk.unrendered is not None:
        files = render_items(engine, run_plan(engine, run), chunk.unrendered)
    groups = [([seed], files[seed]) for seed in chunk_seeds if seed in task.todo]
    records = writing.write(groups)
    writing.journal.record(
        run,
        [(f"item:{seeds[0]}", recs) for (seeds, _), recs in zip(groups, records, strict=True)],
    )
    result.written += sum(len(files) for _, files in groups)
    result.skipped += len(chunk_seeds) - len(groups)
    for seed in chunk_seeds:
        writing.collect(f"item:{seed}")
    if len(groups) < len(chunk_seeds):
        bar.skip(len(chunk_seeds) - len(groups))
    bar.advance(len(groups))


def _write_groups(
    writing: _RunWriting, group_done: dict[str, dict[str, Any] | None], kept: list[Asset]
) -> None:
    """On the writer thread, after the run's chunks: its whole-request files (a sprite sheet)."""
    engine, run = writing.engine, writing.run
    for fmt, entry in group_done.items():
        if entry is None:
            plan = run_plan(engine, run)
            files = [(fmt, f) for f in engine.render(kept, fmt, name=run.name, plan=plan)]
            seeds = list(range(run.seed, run.seed + run.count))
            (written,) = writing.write([(seeds, files)])
            writing.journal.record(run, [(f"group:{fmt}", written)])
            writing.result.written += len(files)
        writing.collect(f"group:{fmt}")


def _chunks(seed: int, count: int) -> Iterator[list[int]]:
    for start in range(seed, seed + count, CHUNK):
        yield list(range(start, min(start + CHUNK, seed + count)))


def _write(
    out: Path,
    run: RunSpec,
    groups: list[tuple[list[int], list[tuple[str, OutputFile]]]],
    *,
    taken: set[str],
) -> list[list[dict[str, Any]]]:
    """Write every group's files atomically, all flushed together; one record list per group
    (a group: the seeds an output covers, and its files)."""
    seen: set[str] = set()
    for _, files in groups:
        for _, f in files:  # two outputs of one job on one path: the later would replace it
            rel = f"{run.name}/{f.name}".casefold()
            if rel in taken or rel in seen:
                raise OutputError(
                    f"run '{run.name}' would write {run.name}/{f.name} twice (two outputs share "
                    "a file name); choose another run name"
                )
            seen.add(rel)
    write_atomic_many([(out / run.name / f.name, f.data) for _, files in groups for _, f in files])
    return [
        [
            {
                "path": f"{run.name}/{f.name}",
                "sha256": _sha256(f.data),
                "bytes": len(f.data),
                "run": run.name,
                "format": fmt,
                "generator": run.generator,
                "seed": seeds[0],
                "count": len(seeds),
                "options": run.options,
            }
            for fmt, f in files
        ]
        for seeds, files in groups
    ]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
