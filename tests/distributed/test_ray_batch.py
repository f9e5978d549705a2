"""Batch export on Ray (``assetgen batch --engine ray``): a local Ray instance with 2 CPUs, the
test plugin's generators, and the local engine's output as the reference (same files, same
bytes, same manifest and journal), also after an interruption."""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assetgen import Engine, ModelError
from assetgen.batch import load_job, run_job
from assetgen.cli import main

from .. import batch_jobs
from ..batch_jobs import mixed_job, tree

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed: pip install 'assetgen[ray]' (make test installs it)",
)

JOB = mixed_job(echo_count=21)


def write_job(folder: Path, text: str = JOB) -> Path:
    return batch_jobs.write_job(folder, text)


@pytest.fixture(scope="module")
def ray_instance(testkit_path: Path) -> Iterator[str]:
    """A local Ray instance with 2 CPUs for the module; its workers import the test plugin
    (PYTHONPATH is inherited from this process when Ray starts). Yields its address."""
    ray = pytest.importorskip("ray")
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(testkit_path), saved) if p)
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


@pytest.fixture(scope="module")
def reference(testkit_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The job run by the local engine."""
    folder = tmp_path_factory.mktemp("local")
    saved = os.environ.get("ASSETGEN_LOAD_PLUGINS")
    os.environ["ASSETGEN_LOAD_PLUGINS"] = "exporters,testkit"
    try:
        engine = Engine(device="cpu")
        run_job(engine, load_job(write_job(folder), engine), progress=False)
    finally:
        if saved is None:
            os.environ.pop("ASSETGEN_LOAD_PLUGINS", None)
        else:
            os.environ["ASSETGEN_LOAD_PLUGINS"] = saved
    return folder / "result"


@needs_ray
def test_ray_engine_writes_the_same_bytes_as_the_local_one(
    ray_instance, reference, plugins_env, tmp_path, capsys
) -> None:
    job = write_job(tmp_path)
    args = ["batch", str(job), "--engine", "ray", "--workers", "2", "--shard-size", "16"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "ray: 2 worker(s) on 1 node(s), shards of 16 items" in err
    assert "[1/3] blobs: 40/40 items (100%)" in err and "[3/3] echo: 21/21 items" in err
    # every file the same, manifest.json and the journal included
    assert tree(tmp_path / "result") == tree(reference)
    # a rerun on Ray finds everything complete
    assert main([*args, "--quiet"]) == 0
    assert "0 file(s) written, 64 item(s) already complete" in capsys.readouterr().err
    assert tree(tmp_path / "result") == tree(reference)


@needs_ray
def test_ray_run_interrupted_in_the_driver_resumes_to_the_same_bytes(
    ray_instance, reference, plugins_env, tmp_path
) -> None:
    from assetgen.ray_batch import RayChunks

    engine = Engine(device="cpu")
    job = load_job(write_job(tmp_path), engine)
    with RayChunks(workers=2, shard_size=16, progress=False) as chunks:

        def interrupted(tasks):  # Ctrl-C after the driver has written two chunks
            for index, result in enumerate(chunks(tasks)):
                if index == 2:
                    raise KeyboardInterrupt
                yield result

        with pytest.raises(KeyboardInterrupt):
            run_job(engine, job, progress=False, chunks=interrupted)
    out = tmp_path / "result"
    assert not (out / "manifest.json").exists()
    done_before = len(list((out / "blobs").glob("blob_*.png")))
    assert done_before == 32  # two chunks of 16
    (out / "blobs" / "blob_6.png").write_bytes(b"torn")  # a damaged file is redone
    (out / "blobs" / ".blob_9.png.123.tmp").write_bytes(b"partial")  # a stray temp file
    with RayChunks(workers=2, shard_size=16, progress=False) as chunks:
        result = run_job(engine, job, progress=False, chunks=chunks)
    assert result.skipped == done_before - 1
    assert {k: v for k, v in tree(out).items() if "journal" not in k} == {
        k: v for k, v in tree(reference).items() if "journal" not in k
    }
    assert not list(out.rglob("*.tmp"))


@needs_ray
def test_killed_ray_driver_resumes_to_the_same_bytes(
    ray_instance, plugins_env, tmp_path
) -> None:
    """SIGKILL the CLI (connected to the running Ray instance with --address) mid-job; the
    rerun finishes it byte-identical to a local run of the same job."""
    job = write_job(tmp_path, JOB.replace("count = 40", "count = 800"))
    base = [sys.executable, "-m", "assetgen", "batch", str(job), "--quiet"]
    reference = tmp_path / "reference"
    subprocess.run([*base, "--out", str(reference)], env=plugins_env, check=True)
    out = tmp_path / "killed"
    ray_args = ["--engine", "ray", "--address", ray_instance, "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen([*base, *ray_args], env=plugins_env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.rglob("*.png"))) < 100:
        if proc.poll() is not None:
            pytest.fail(f"the batch finished before it could be killed: {proc.stderr.read()}")
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    written = len(list(out.rglob("*.png")))
    assert 100 <= written < 800 and not (out / "manifest.json").exists()
    subprocess.run([*base, *ray_args], env=plugins_env, check=True)
    assert {k: v for k, v in tree(out).items() if "journal" not in k} == {
        k: v for k, v in tree(reference).items() if "journal" not in k
    }
    assert not list(out.rglob("*.tmp"))


@needs_ray
def test_a_worker_with_another_model_refuses_the_work(ray_instance, plugins_env, tmp_path) -> None:
    from assetgen.ray_batch import RayChunks

    engine = Engine(device="cpu")
    job = load_job(write_job(tmp_path), engine)
    # as if the driver had loaded a model that this node does not have
    job.runs[0] = dataclasses.replace(job.runs[0], model_sha256="0" * 64)
    with RayChunks(workers=1, progress=False) as chunks, pytest.raises(ModelError) as err:
        run_job(engine, job, progress=False, chunks=chunks)
    assert "install the same assetgen version, plugins and models on every node" in str(err.value)
    assert not (tmp_path / "result" / "blobs").exists()


@needs_ray
def test_an_unreachable_cluster_is_one_line(plugins_env, tmp_path, capsys) -> None:
    job = str(write_job(tmp_path))
    assert main(["batch", job, "--engine", "ray", "--address", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Ray cluster at 127.0.0.1:1" in err and err.count("\n") == 1


def test_without_ray_the_engine_is_refused_in_one_line(
    plugins_env, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed
    assert main(["batch", str(write_job(tmp_path)), "--engine", "ray"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--engine ray needs Ray" in err and "pip install 'assetgen[ray]'" in err
    assert not (tmp_path / "result").exists()


@pytest.mark.parametrize("flag", [["--workers", "2"], ["--address", "auto"], ["--shard-size", "8"]])
def test_ray_flags_need_the_ray_engine(plugins_env, tmp_path, capsys, flag) -> None:
    assert main(["batch", str(write_job(tmp_path)), *flag]) == 2
    assert f"{flag[0]} needs --engine ray" in capsys.readouterr().err
