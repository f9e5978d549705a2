"""`assetgen eval shoes` on the shipped model, at a small size."""

from __future__ import annotations

import json

import pytest
from assetgen_shoes import plugin

from assetgen.cli import main

pytestmark = pytest.mark.skipif(
    not (plugin.MODEL_DIR / "manifest.json").is_file(),
    reason="no shipped shoes model (plugins/assetgen_shoes/model/)",
)


@pytest.fixture(autouse=True)
def shoes_only(monkeypatch) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "shoes,exporters")


def test_eval_report(tmp_path, capsys) -> None:
    out = tmp_path / "report.json"
    args = ["--set", "classifier_steps=300", "--set", "per_type=3", "--out", str(out)]
    assert main(["eval", "shoes", *args]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err  # progress on stderr: the full evaluation takes minutes
    assert "eval: training the type classifier: 300/300 steps" in err
    assert "eval: generating 3 icons per type: 13/13 types" in err
    report = json.loads(out.read_text())
    # the judge is good enough to mean something (its batch-norm statistics are re-estimated
    # after training, so the last training batch cannot skew them)
    assert report["classifier_accuracy_on_real"] >= 0.9
    assert report["generated"] == 3 * 13
    assert set(report["type_consistency_per_type"]) == set(
        json.loads((plugin.MODEL_DIR / "manifest.json").read_text())["type_names"]
    )
    assert 0.0 <= report["type_consistency"] <= 1.0
    assert 0.0 <= report["near_copy_share"] <= 1.0
    assert report["near_copy_threshold"] > 0
    # one-drawing types have no real spread to compare with
    assert "clog" not in report["diversity_within_type"]
    assert report["fid_generated_vs_real"] > report["fid_real_vs_real_floor"] >= 0
    assert report["command"].startswith("assetgen eval shoes --set per_type=3")


def test_eval_refuses_an_untrained_judge(tmp_path, capsys) -> None:
    out = tmp_path / "report.json"
    assert main(["eval", "shoes", "--set", "classifier_steps=1", "--out", str(out)]) != 0
    err = capsys.readouterr().err
    assert "type classifier recognises only" in err and "classifier_steps=N (now 1)" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_near_copy_distances_match_the_direct_difference() -> None:
    # the evaluation's nearest-icon search (assetgen.training.metrics.sq_dists, float64)
    import numpy as np

    from assetgen.training.metrics import sq_dists

    rng = np.random.default_rng(0)
    queries = rng.random((20, 300)).astype(np.float32).astype(np.float64)
    refs = rng.random((7, 300)).astype(np.float32).astype(np.float64)
    direct = np.sqrt(((queries[:, None] - refs[None]) ** 2).sum(-1)).min(1)
    assert np.allclose(np.sqrt(sq_dists(queries, refs).min(1)), direct, atol=1e-6)
    assert np.allclose(np.sqrt(sq_dists(refs[:3], refs).min(1)), 0, atol=1e-6)  # a copy
