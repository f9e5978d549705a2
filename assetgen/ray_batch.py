"""Batch export on a Ray cluster: ``assetgen batch JOB.toml --engine ray [--address ADDR]``.

The job is the local engine's (:mod:`assetgen.batch`): the same validation, chunks, journal,
atomic writes and manifest. Only the making of the chunks moves: :class:`RayChunks` is a chunk
maker that groups consecutive chunks into *shards* of about ``shard_size`` items and runs them
on a pool of Ray actors. Each actor holds one :class:`~assetgen.Engine` (so one set of ONNX
Runtime sessions, loaded on its first shard and reused for every later one), generates the
assets and renders their per-item files, and returns the **bytes** to the driver. The driver
(the process that runs ``assetgen batch``) writes every file, the journal and the manifest, in
the job's order, exactly as the local engine does; so the output folder needs to exist only
where the driver runs, and no node needs shared storage. What every node does need is the same
``assetgen`` install, plugins and models: each worker checks that the model it loaded has the
sha256 the driver recorded for the run, and refuses the shard if not.

Ray is an optional extra (``pip install 'assetgen[ray]'``); this module imports it only when a
job runs on it.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from . import __version__
from .batch import CHUNK, ChunkResult, ChunkTask, RunSpec, make_chunk, run_plan
from .engine import Engine
from .errors import AssetGenError, InvalidOptionsError, ModelError, PluginError
from .request import Plan

RAY_HINT = "pip install 'assetgen[ray]'"
#: Items per shard (one actor call) by default: four chunks, so that a call's own cost (a few
#: milliseconds of scheduling and transfer) is small next to its work, while a job still
#: splits into many more shards than workers.
DEFAULT_SHARD = 4 * CHUNK
#: Shards queued on each actor at once: one running, one waiting, so that a worker never idles
#: while the driver writes the last result and sends the next shard.
PER_WORKER = 2
#: Environment the workers take from the driver: which plugins to load, where installed models
#: are (the path must hold the same models on every node).
FORWARDED_ENV = ("ASSETGEN_LOAD_PLUGINS", "ASSETGEN_MODELS")


def import_ray() -> ModuleType:
    """The ``ray`` module, or a one-line error that says how to install it."""
    try:
        import ray
    except ImportError:
        raise InvalidOptionsError(
            f"--engine ray needs Ray, which is not installed: {RAY_HINT}", parameter="--engine"
        ) from None
    return ray


class BatchWorker:
    """One Ray actor: an Engine kept for the actor's life; shards in, rendered bytes out."""

    def __init__(self, device: str, threads: int, env: dict[str, str]) -> None:
        os.environ.update(env)
        self.engine = Engine(device, intra_op_threads=threads)
        self.node = socket.gethostname()
        self._plans: dict[tuple[str, str], Plan] = {}

    def describe(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "pid": os.getpid(),
            "version": __version__,
            "generators": sorted(g.id for g in self.engine.generators()),
            "exporters": sorted(e.id for e in self.engine.exporters()),
        }

    def run(self, tasks: list[ChunkTask]) -> list[ChunkResult]:
        plans = [self._plan(task.run) for task in tasks]  # every run checked before any work
        return [
            make_chunk(self.engine, task, plan=plan)
            for task, plan in zip(tasks, plans, strict=True)
        ]

    def _plan(self, run: RunSpec) -> Plan:
        """The run planned by this worker's engine once (its options arrive parsed), with the
        same model as the driver's, or no work: different bytes must not slip in."""
        key = (run.name, run.fingerprint)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        plan = run_plan(self.engine, run)
        if plan.model_sha256 != run.model_sha256:
            raise ModelError(
                f"worker on node {self.node}: run '{run.name}' needs the {run.generator} model "
                f"with manifest sha256 {run.model_sha256}, but this node has "
                f"{plan.model_sha256}; install the same assetgen version, plugins and models on "
                "every node"
            )
        self._plans[key] = plan
        return plan


def _check_reachable(address: str | None) -> None:
    """A ``HOST:PORT`` or ``ray://HOST:PORT`` address must accept a connection within a few
    seconds; otherwise Ray itself waits on it for minutes before it gives up."""
    if not address or address in ("auto", "local"):
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # not a form checked here: Ray reports it
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise InvalidOptionsError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}; start it with "
            "'ray start --head' or check --address",
            parameter="--address",
            value=address,
        ) from None


@dataclass
class _Unit:
    """A shard for a worker, or (``local``) one task that needs no work."""

    tasks: list[ChunkTask]
    local: bool


class RayChunks:
    """A chunk maker (see :mod:`assetgen.batch`) that runs shards on Ray actors.

    Use it as a context manager around :func:`assetgen.batch.run_job`::

        with RayChunks(address="auto", workers=8) as chunks:
            run_job(engine, job, chunks=chunks)

    ``address`` is passed to ``ray.init`` (None: ``RAY_ADDRESS`` if set, else a new local Ray
    instance); a Ray already initialised in this process is used as it is. ``workers``
    defaults to the cluster's CPU count; each worker takes ``cpus_per_worker`` CPUs (and one GPU
    with ``device="cuda"``) and runs ONNX Runtime with ``threads`` threads (0: as many as the
    worker's CPUs). Given the driver's ``engine``, the workers must load the same generators
    and exporters as it does.
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        workers: int | None = None,
        shard_size: int = DEFAULT_SHARD,
        device: str = "auto",
        threads: int = 0,
        cpus_per_worker: int = 1,
        progress: bool = True,
        engine: Engine | None = None,
    ) -> None:
        if workers is not None and workers < 1:
            raise InvalidOptionsError(f"workers must be 1 or more; got {workers}", value=workers)
        if shard_size < 1:
            raise InvalidOptionsError(
                f"shard size must be 1 or more items; got {shard_size}", value=shard_size
            )
        self.ray = import_ray()
        self.address = address
        self.workers = workers
        self.shard_size = shard_size
        self.device = device
        self.threads = threads or cpus_per_worker
        self.cpus_per_worker = cpus_per_worker
        self.progress = progress
        self.engine = engine
        self.actors: list[Any] = []
        self.nodes: list[str] = []
        self._started_ray = False

    # -- lifetime ------------------------------------------------------------------------------

    def __enter__(self) -> RayChunks:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        ray = self.ray
        _check_reachable(self.address)
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "logging_level": logging.WARNING,
            }
            if self.address is None and not os.environ.get("RAY_ADDRESS") and self.workers:
                # a new local instance: as many CPUs as workers asked for
                kwargs["num_cpus"] = self.workers * self.cpus_per_worker
            if self.address is None:
                _check_reachable(os.environ.get("RAY_ADDRESS"))
            try:
                ray.init(address=self.address, **kwargs)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                reason = (str(exc).strip().splitlines() or [repr(exc)])[0].strip("'\"")
                raise InvalidOptionsError(
                    f"cannot connect to Ray at {self.address or 'a new local instance'}: {reason}",
                    parameter="--address",
                ) from None
            self._started_ray = True
        cpus = int(ray.cluster_resources().get("CPU", 0))
        workers = self.workers or max(cpus // self.cpus_per_worker, 1)
        if workers * self.cpus_per_worker > cpus:
            raise InvalidOptionsError(
                f"{workers} workers of {self.cpus_per_worker} CPU each do not fit in the Ray "
                f"cluster's {cpus} CPUs; ask for fewer with --workers",
                parameter="--workers",
                value=workers,
            )
        env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
        remote = ray.remote(BatchWorker).options(
            num_cpus=self.cpus_per_worker,
            num_gpus=1 if self.device == "cuda" else 0,
            # a worker lost with its node is restarted and its shards retried (they only
            # compute and return bytes, so a retry changes nothing)
            max_restarts=3,
            max_task_retries=3,
        )
        self.actors = [remote.remote(self.device, self.threads, env) for _ in range(workers)]
        described = self._get([actor.describe.remote() for actor in self.actors])
        for info in described:
            if info["version"] != __version__:
                raise PluginError(
                    f"worker on node {info['node']} runs assetgen {info['version']}, the driver "
                    f"{__version__}; install the same version on every node"
                )
        loaded = {(tuple(i["generators"]), tuple(i["exporters"])) for i in described}
        if self.engine is not None:
            loaded.add(
                (
                    tuple(sorted(g.id for g in self.engine.generators())),
                    tuple(sorted(e.id for e in self.engine.exporters())),
                )
            )
        if len(loaded) > 1:
            raise PluginError(
                "the Ray workers do not load the same generators and exporters as the driver "
                "and each other; install the same plugins on every node (and set "
                "ASSETGEN_LOAD_PLUGINS the same way)"
            )
        self.nodes = sorted({info["node"] for info in described})
        if self.progress:
            print(
                f"ray: {workers} worker(s) on {len(self.nodes)} node(s), shards of "
                f"{self.shard_size} items",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        for actor in self.actors:
            try:
                self.ray.kill(actor)
            except Exception:  # already gone with its node
                pass
        self.actors = []
        if self._started_ray:
            self.ray.shutdown()
            self._started_ray = False

    # -- the chunk maker -------------------------------------------------------------------------

    def __call__(self, tasks: Iterator[ChunkTask]) -> Iterator[ChunkResult]:
        """Results in task order; shards run ahead on every worker, at most a few per worker
        (so neither the cluster's object store nor the driver holds the whole job)."""
        if not self.actors:
            raise RuntimeError("RayChunks used outside its 'with' block")
        ray = self.ray
        units = self._units(tasks)
        pending: dict[Any, tuple[int, Any]] = {}  # object ref -> (unit index, actor)
        finished: dict[int, list[ChunkResult]] = {}
        load = dict.fromkeys(range(len(self.actors)), 0)
        window = PER_WORKER * len(self.actors) * 2
        sent = given = 0
        held: _Unit | None = None
        exhausted = False
        while True:
            while not exhausted and sent - given < window:
                if held is None:
                    held = next(units, None)
                    if held is None:
                        exhausted = True
                        break
                if held.local:
                    finished[sent] = [ChunkResult(task) for task in held.tasks]
                else:
                    slot = min(load, key=load.__getitem__)
                    if load[slot] >= PER_WORKER:
                        break
                    ref = self.actors[slot].run.remote(held.tasks)
                    pending[ref] = (sent, slot)
                    load[slot] += 1
                sent += 1
                held = None
            if given in finished:
                yield from finished.pop(given)
                given += 1
                continue
            if not pending:
                return  # every unit sent and given out
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                index, slot = pending.pop(ref)
                load[slot] -= 1
                finished[index] = self._get(ref)

    def _units(self, tasks: Iterator[ChunkTask]) -> Iterator[_Unit]:
        shard: list[ChunkTask] = []
        items = 0
        for task in tasks:
            if not task.needs_work:
                if shard:
                    yield _Unit(shard, local=False)
                    shard, items = [], 0
                yield _Unit([task], local=True)
                continue
            shard.append(task)
            items += len(task.seeds)
            if items >= self.shard_size:
                yield _Unit(shard, local=False)
                shard, items = [], 0
        if shard:
            yield _Unit(shard, local=False)

    def _get(self, ref: Any) -> Any:
        """``ray.get``, with a worker's own error (a bad option, a broken model) raised as
        itself so that the command line shows its one-line message."""
        exceptions = self.ray.exceptions
        try:
            return self.ray.get(ref)
        except exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, AssetGenError):
                raise cause from None
            if isinstance(cause, Exception):
                raise PluginError(
                    f"a Ray worker failed: {type(cause).__name__}: {cause}"
                ) from None
            raise
        except exceptions.RayActorError as exc:
            raise PluginError(
                f"a Ray worker died and could not be restarted: {str(exc).splitlines()[0]}; "
                "rerun the same command to resume"
            ) from None
