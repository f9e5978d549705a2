"""The shared train / export commands on a tiny shoes model (seconds, not a real run)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assetgen import InvalidOptionsError
from assetgen.cli import main
from assetgen.runtime import Runtime

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

TINY = [
    "--set",
    "steps=4",
    "--set",
    "width=4",
    "--set",
    "batch_size=4",
    "--set",
    "z_dim=8",
    "--set",
    "sample_every=2",
    "--set",
    "checkpoint_every=2",
    "--set",
    "device=cpu",
]


@pytest.fixture
def shoes_only(monkeypatch) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "shoes,exporters")


def test_train_resume_export_parity(shoes_only, tmp_path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", "shoes", "--out", str(run), *TINY]) == 0
    err = capsys.readouterr().err
    assert "step 4/4" in err
    # the share of the real batches each type gets, on the committed 82 icons
    assert "real batches by type (balance=icon): boot 20.7%," in err and "clog 1.2%" in err
    assert json.loads((run / "config.json").read_text())["width"] == 4
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_0000002.png",
        "step_0000004.png",
    ]
    # a finished run refuses to be overwritten, and can be extended with --resume
    assert main(["train", "shoes", "--out", str(run), *TINY]) == 2
    assert "already holds a run; pass --resume" in capsys.readouterr().err
    # a resumed run keeps its recorded settings (width=4...) and changes only what --set names
    assert main(["train", "shoes", "--out", str(run), "--resume", "--set", "steps=6"]) == 0
    assert "resuming from step 4" in capsys.readouterr().err
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["step"] == 6

    model = tmp_path / "model"
    assert main(["export", "shoes", str(run), "--out", str(model)]) == 0
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["parity"]["max_abs_diff"] <= 1e-3 and manifest["parity"]["seeds"] == 64
    assert manifest["opset"] <= 15
    assert manifest["data"] == "82 footwear icons from 8 npm icon sets (see data/LICENSES.md)"
    bundle = Runtime("cpu").load_model(model)  # the sha256 of every file checks out
    session = bundle.session("shoes.onnx")
    (rgba,) = session.run(None, {"z": np.zeros((3, 8), np.float32), "type": np.zeros(3, np.int64)})
    assert rgba.shape == (3, 4, 64, 64) and 0 <= rgba.min() and rgba.max() <= 1


def test_bad_config_is_refused(shoes_only, tmp_path, capsys) -> None:
    assert main(["train", "shoes", "--out", str(tmp_path / "r"), "--set", "stepz=3"]) == 2
    assert "unknown config key 'stepz'" in capsys.readouterr().err
    assert main(["train", "shoes", "--out", str(tmp_path / "r"), "--set", "steps=many"]) == 2
    assert "config 'steps' must be int" in capsys.readouterr().err
    assert main(["train", "shoes", "--out", str(tmp_path / "r"), "--resume"]) == 2
    assert not (tmp_path / "r" / "checkpoint.pt").exists()


def test_load_config_layers(tmp_path) -> None:
    from assetgen.training.config import load_config

    defaults = {"steps": 10, "lr": 0.1, "augment": ["color"], "flag": False}
    file = tmp_path / "c.toml"
    file.write_text("steps = 20\naugment = ['cutout', 'color']\n")
    cfg = load_config(defaults, file, ["lr=0.5", "flag=true"])
    assert cfg == {"steps": 20, "lr": 0.5, "augment": ["cutout", "color"], "flag": True}
    with pytest.raises(InvalidOptionsError, match="must be float"):
        load_config(defaults, None, ["lr=nan"])


def test_untrainable_generator(monkeypatch, tmp_path, capsys, plugins_env) -> None:
    assert main(["train", "blob", "--out", str(tmp_path)]) == 2
    assert "generator 'blob' has no training tools" in capsys.readouterr().err


def test_load_config_json_lists_and_mappings() -> None:
    from assetgen.training.augment import check_policy
    from assetgen.training.config import load_config

    defaults = {"augment": ["color"], "channels": {}}
    cfg = load_config(defaults, None, ['augment=["translation", "color"]', 'channels={"4": 8}'])
    assert cfg == {"augment": ["translation", "color"], "channels": {"4": 8}}
    assert load_config(defaults, None, ["augment=translation,cutout"])["augment"] == [
        "translation",
        "cutout",
    ]
    with pytest.raises(InvalidOptionsError, match="not valid JSON"):
        load_config(defaults, None, ["channels={4: 8"])
    with pytest.raises(InvalidOptionsError, match="unknown augmentation 'flip'; known: color"):
        check_policy(["translation", "flip"])
