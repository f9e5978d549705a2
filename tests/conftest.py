"""Shared fixtures: the third-party-style test plugin, installed the way a user installs one."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .plugin_install import pip_install

ROOT = Path(__file__).resolve().parents[1]
TESTKIT_SRC = ROOT / "tests" / "fixtures" / "testkit_plugin"


@pytest.fixture(scope="session")
def testkit_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pip-install the test plugin package into a private folder and put it on sys.path.

    It is then found through its ``assetgen`` entry points, like any plugin from PyPI, without
    touching the virtual environment other tests and users see.
    """
    target = tmp_path_factory.mktemp("testkit")
    pip_install(TESTKIT_SRC, target)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    return target


@pytest.fixture
def plugins_env(testkit_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Load only the built-in exporters and the working test plugin (not whatever is installed)."""
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters,testkit")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(testkit_path), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(autouse=True, scope="session")
def _private_models_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Installed models come from an empty folder of the suite's own, never from the user's
    ~/.local/share/assetgen/models (tests that install models point it elsewhere)."""
    path = tmp_path_factory.mktemp("installed-models")
    previous = os.environ.get("ASSETGEN_MODELS")
    os.environ["ASSETGEN_MODELS"] = str(path)
    yield
    if previous is None:
        os.environ.pop("ASSETGEN_MODELS", None)
    else:
        os.environ["ASSETGEN_MODELS"] = previous


# -- the tiny portraits model --------------------------------------------------------------------
# A tiny portraits data set and a tiny trained + exported model, built once per test session and
# shared by tests/portraits and tests/studio (which monkeypatch it in as ``plugin.MODEL_DIR``), so
# they need no shipped model and no long training: 96 faces, a StyleGAN with 4-16 channels
# trained for a few steps, a classifier trained for a few steps, the analysis on a few dozen faces.

TINY_GAN = {
    "conditioning": "none",
    "steps": 3,
    "batch_size": 8,
    "z_dim": 16,
    "w_dim": 16,
    "mapping_layers": 2,
    "channels": {"4": 16, "8": 16, "16": 8, "32": 8, "64": 4},
    "holdout": 16,
    "checkpoint_every": 3,
    "sample_every": 3,
    "device": "cpu",
}
TINY_CLASSIFIER = {"steps": 40, "batch_size": 8, "lr": 2e-3, "width": 4, "feature_dim": 8,
                   "seed": 0}
TINY_SIZES = {
    "attr_samples": 48,
    "attr_test": 16,
    "attr_min_group": 1,
    "edit_samples": 48,
    "edit_val": 8,
    "edit_min_group": 1,
    "rest_samples": 20,
}


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from assetgen_portraits.training import dataset_builder as dataset

    out = tmp_path_factory.mktemp("portraits-data") / "data"
    dataset.build_dataset(out, 96, seed=3, pairs=12, workers=1, write_png=False, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_run(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from assetgen_portraits.training import classifier
    from assetgen_portraits.training import commands as tools

    run = tmp_path_factory.mktemp("portraits-run") / "run"
    tools.train(run, tiny_data, {**tools.DEFAULT_CONFIG, **TINY_GAN}, resume=False)
    images, targets = classifier.load_labelled(tiny_data / "portraits_64.npz")
    clf, acc = classifier.train_classifier(images, targets, TINY_CLASSIFIER, holdout=16)
    classifier.save(clf, TINY_CLASSIFIER, acc, run / "classifier.pt")
    return run


# The tiny label-conditioned model (the shipped kind): the same 96 faces plus 16 speech-mouth
# faces, a generator with 4-16 channels trained for a few steps, exported with its manifest.
TINY_LABELS = {
    "conditioning": "labels",
    "label_steps": 4,
    "label_batch": 8,
    "embed_dim": 8,
    "label_w_dim": 16,
    "mapping_hidden": 16,
    "label_channels": [16, 16, 8, 8],
    "head_channels": 4,
    "map16_channels": 8,
    "map32_channels": 4,
    "holdout": 16,
    "gan_start": 0.5,
    "eval_every": 2,
    "eval_images": 8,
    "checkpoint_every": 2,
    "device": "cpu",
}


@pytest.fixture(scope="session")
def tiny_label_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from assetgen_portraits.training import dataset_builder as dataset

    out = tmp_path_factory.mktemp("portraits-label-data") / "data"
    dataset.build_dataset(
        out, 96, seed=3, pairs=12, speech=16, workers=1, write_png=False, progress=False
    )
    return out


@pytest.fixture(scope="session")
def tiny_label_run(tiny_label_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from assetgen_portraits.training import commands as tools

    run = tmp_path_factory.mktemp("portraits-label-run") / "run"
    tools.train(run, tiny_label_data, {**tools.DEFAULT_CONFIG, **TINY_LABELS}, resume=False)
    return run


@pytest.fixture(scope="session")
def tiny_label_model(tiny_label_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from assetgen_portraits.training import commands as tools

    out = tmp_path_factory.mktemp("portraits-label-model") / "model"
    tools.export(tiny_label_run, out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from assetgen_portraits.training import analysis
    from assetgen_portraits.training import commands as tools

    saved = dict(analysis.SIZES)
    analysis.SIZES.update(TINY_SIZES)
    try:
        out = tmp_path_factory.mktemp("portraits-model") / "model"
        tools.export(tiny_run, out)
    finally:
        analysis.SIZES.update(saved)
    return out
