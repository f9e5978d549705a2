"""``assetgen train`` under torchrun: 2 CPU processes (Gloo), a few steps of tiny models.

Each run goes through ``tests/distributed/ddp_train.py``, which records what every rank holds
at each checkpoint, so the tests can check that both ranks hold identical weights; rank 0 alone
writes the run folder; ``--resume`` under torchrun continues exactly where an unbroken run
would be.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from assetgen.cli import main

torch = pytest.importorskip("torch", reason="needs PyTorch: pip install 'assetgen[train]'")
pytest.importorskip("onnx")
if not (torch.distributed.is_available() and torch.distributed.is_gloo_available()):
    pytest.skip("this PyTorch build has no Gloo backend for CPU processes", allow_module_level=True)

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "ddp_train.py"

TINY_SHOES = ["width=4", "batch_size=4", "z_dim=8", "sample_every=2", "checkpoint_every=2",
              "device=cpu", "threads=1"]
TINY_DIALOGUE = ["dim=16", "layers=1", "heads=2", "context=64", "batch_size=4", "val_every=2",
                 "checkpoint_every=2", "sample_every=2", "device=cpu", "threads=1"]
TINY_PORTRAITS = ["batch_size=4", "z_dim=16", "w_dim=16", "mapping_layers=2",
                  'channels={"4": 16, "8": 16, "16": 8, "32": 8, "64": 4}', "holdout=0",
                  "r1_every=1", "sample_every=2", "checkpoint_every=1", "device=cpu", "threads=1"]


def sets(values: list[str]) -> list[str]:
    return [arg for v in values for arg in ("--set", v)]


def torchrun(args: list[str], plugins: str, tmp_path: Path) -> str:
    """``python -m torch.distributed.run --nproc_per_node 2 ARGS`` on this machine; stderr."""
    env = dict(os.environ, ASSETGEN_LOAD_PLUGINS=plugins, OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    # --standalone: a rendezvous on this machine, on a free port
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           *args]
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so that a hung run can be stopped with its workers
    )
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"torchrun did not finish in 240 s: {err[-3000:]}")
    assert proc.returncode == 0, out + err
    return err


def records(folder: Path, rank: int, kind: str) -> dict[str, dict]:
    return {
        p.name.removeprefix(f"rank{rank}_"): json.loads(p.read_text())
        for p in sorted(folder.glob(f"rank{rank}_{kind}*.json"))
    }


def assert_ranks_identical(folder: Path, kind: str, expected: int) -> None:
    rank0, rank1 = records(folder, 0, kind), records(folder, 1, kind)
    assert len(rank0) == expected and rank0.keys() == rank1.keys()
    for name in rank0:
        assert rank0[name] == rank1[name], f"the ranks differ at {name}"
        assert rank0[name] and all(rank0[name].values())  # something was recorded


def test_shoes_on_two_processes_identical_weights_and_exact_resume(tmp_path) -> None:
    # an unbroken 6-step run, its ranks recorded at steps 2, 4 and 6
    straight = tmp_path / "straight"
    err = torchrun(
        [str(SCRIPT), str(tmp_path / "rec"), "train", "shoes", "--out", str(straight),
         *sets(["steps=6", *TINY_SHOES])],
        "shoes,exporters",
        tmp_path,
    )
    assert "2 processes: effective batch 4 x 2 = 8" in err
    assert err.count("done: 6 steps") == 1  # progress from rank 0 only
    assert_ranks_identical(tmp_path / "rec", "step", 3)  # models, EMA copy, optimisers
    assert_ranks_identical(tmp_path / "rec", "checkpoint", 3)
    # rank 0 alone wrote the folder: one metrics line per sample step, not one per rank
    lines = [json.loads(x) for x in (straight / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in lines] == [2, 4, 6] and lines[0]["world_size"] == 2
    state = torch.load(straight / "checkpoint.pt", weights_only=True)
    assert state["world_size"] == 2 and len(state["rng_ranks"]) == 2
    assert not torch.equal(state["rng_ranks"][0], state["rng_ranks"][1])  # own data streams

    # 4 steps, then --resume to 6 with the plain command (python -m assetgen)
    split = tmp_path / "split"
    torchrun(
        [str(SCRIPT), str(tmp_path / "rec2"), "train", "shoes", "--out", str(split),
         *sets(["steps=4", *TINY_SHOES])],
        "shoes,exporters",
        tmp_path,
    )
    err = torchrun(
        ["-m", "assetgen", "train", "shoes", "--out", str(split), "--resume", "--set", "steps=6"],
        "shoes,exporters",
        tmp_path,
    )
    assert err.count("resuming from step 4") == 1
    resumed = torch.load(split / "checkpoint.pt", weights_only=True)
    assert resumed["step"] == 6
    for part in ("G", "D", "G_ema", "opt_g", "opt_d"):
        assert_same(state[part], resumed[part], part)


def assert_same(a: object, b: object, where: str) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}.{index}")
    else:
        assert a == b, where


def test_dialogue_on_two_processes_identical_weights(tmp_path) -> None:
    # the tiny data set of tests/dialogue/conftest.py, loaded under a name of its own
    spec = importlib.util.spec_from_file_location(
        "dialogue_test_corpus", HERE.parent / "dialogue" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    pytest.importorskip("sentencepiece")
    corpus = helpers.write_v2_data(tmp_path / "corpus")
    run = tmp_path / "run"
    err = torchrun(
        [str(SCRIPT), str(tmp_path / "rec"), "train", "dialogue", "--out", str(run),
         "--data", str(corpus), *sets(["steps=4", *TINY_DIALOGUE])],
        "dialogue,exporters",
        tmp_path,
    )
    assert "effective batch 4 x 2 = 8" in err
    assert_ranks_identical(tmp_path / "rec", "checkpoint", 2)
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_0000002.txt",
        "step_0000004.txt",
    ]
    assert (run / "best.pt").is_file()


def test_portraits_on_two_processes_identical_weights(tmp_path) -> None:
    from PIL import Image, ImageDraw

    art = tmp_path / "art"
    art.mkdir()
    for i in range(12):
        img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
        ImageDraw.Draw(img).ellipse((8 + i, 16, 52, 48), fill=(20 * i, 120, 200, 255))
        img.save(art / f"face_{i:02d}.png")
    err = torchrun(
        [str(SCRIPT), str(tmp_path / "rec"), "train", "portraits", "--out", str(tmp_path / "r"),
         "--data", str(art), *sets(["steps=2", *TINY_PORTRAITS])],
        "portraits,exporters",
        tmp_path,
    )
    assert "effective batch 4 x 2" in err
    assert_ranks_identical(tmp_path / "rec", "step", 2)
    assert_ranks_identical(tmp_path / "rec", "checkpoint", 2)


def test_a_trainer_without_distributed_support_is_refused(monkeypatch, tmp_path, capsys) -> None:
    from assetgen_shoes.training import commands as tools

    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "shoes,exporters")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delattr(tools, "SUPPORTS_DISTRIBUTED")
    assert main(["train", "shoes", "--out", str(tmp_path / "r"), *sets(TINY_SHOES)]) == 2
    assert "does not support several processes (WORLD_SIZE=2)" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_alone_the_helpers_change_nothing() -> None:
    from assetgen.training.distributed import Distributed, setup

    dist = setup(torch.device("cpu"))
    assert not dist.enabled and dist.is_main
    assert dist.rank_seed(7) == 7 and list(dist.shard(5)) == [0, 1, 2, 3, 4]
    module = torch.nn.Linear(2, 2)
    assert dist.wrap(module) is module
    two = Distributed(rank=1, world_size=2)
    assert list(two.shard(5)) == [1, 3] and two.rank_seed(7) != 7
    with pytest.raises(Exception, match="fewer than the 2 training processes"):
        two.shard(1)
