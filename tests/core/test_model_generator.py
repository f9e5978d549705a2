"""ModelGenerator: the model plumbing every model plugin shares (issue 25), and deferred
option values, which let a plugin list its shipped model's names without reading the
manifest at import."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import assetgen
from assetgen import (
    Engine,
    ImageAsset,
    InvalidOptionsError,
    ModelBundle,
    ModelError,
    ModelGenerator,
    Options,
    model_option,
    option,
    shipped_manifest,
)
from assetgen.runtime import Runtime, write_manifest


def model_folder(folder: Path, name: str, colours: str = "red,blue") -> Path:
    """A model folder with no graph: a manifest and one table."""
    folder.mkdir(parents=True)
    (folder / "colours.txt").write_text(colours)
    write_manifest(
        folder,
        {"name": name, "license": "CC0-1.0", "data": "made up", "generator": "swatches",
         "metrics": {"score": 1.0}},
        ["colours.txt"],
    )
    (folder / "MODEL_CARD.md").write_text("# card\n")
    return folder


class Swatches:
    """The parsed form of a swatches model."""

    def __init__(self, bundle: ModelBundle) -> None:
        self.colours = bundle.path("colours.txt").read_text().split(",")
        if "" in self.colours:
            raise ModelError(f"{bundle.path('colours.txt')}: an empty colour name")


def swatches_generator(default: Path, builtin: Path) -> type[ModelGenerator]:
    class SwatchOptions(Options):
        model: str = model_option("default, other or an installed model's name.")

    class SwatchesGenerator(ModelGenerator):
        id = "swatches"
        kind = "image"
        Options = SwatchOptions
        builtin_models = {"other": builtin}
        parsed: list[str] = []

        def model_dir(self) -> Path:
            return default

        def parse_model(self, bundle: ModelBundle) -> Swatches:
            self.parsed.append(bundle.manifest["name"])
            return Swatches(bundle)

        def model_summary(self, bundle: ModelBundle) -> dict[str, Any]:
            return {"colours": self.model_of(bundle).colours}

        def generate(self, seed: int, options: Any) -> ImageAsset:
            colours = self.model(options).colours
            rgba = np.full((2, 2, 4), len(colours[seed % len(colours)]), np.uint8)
            return ImageAsset(rgba, metadata={"colour": colours[seed % len(colours)]})

    return SwatchesGenerator


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("ASSETGEN_MODELS", str(tmp_path / "installed"))
    return {
        "default": model_folder(tmp_path / "shipped", "shipped"),
        "other": model_folder(tmp_path / "other", "other", "green"),
        "mine": model_folder(tmp_path / "mine", "mine", "black,white,grey"),
    }


def engine_with(cls: type[ModelGenerator]) -> Engine:
    plugin = types.SimpleNamespace(
        register_generators=assetgen.hookimpl(lambda register: register(cls))
    )
    return Engine(device="cpu", plugins=[plugin])


def test_the_model_option_picks_shipped_builtin_and_installed_models(models) -> None:
    cls = swatches_generator(models["default"], models["other"])
    assetgen.model_store.install("swatches", models["mine"], "mine")
    engine = engine_with(cls)
    assert engine.generate("swatches", seed=0)[0].metadata["colour"] == "red"
    assert engine.generate("swatches", seed=0, model="other")[0].metadata["colour"] == "green"
    mine = engine.generate("swatches", seed=2, model="mine")[0]
    assert mine.metadata["colour"] == "grey"
    sha = engine.runtime.load_model(models["default"]).sha256
    assert engine.generate("swatches", seed=1)[0].metadata["model_sha256"] == sha
    with pytest.raises(InvalidOptionsError, match="available: default, mine"):
        engine.generate("swatches", seed=0, model="nope")


def test_each_model_is_parsed_once_and_summarised(models) -> None:
    cls = swatches_generator(models["default"], models["other"])
    gen = cls(Runtime("cpu"))
    assert gen.model() is gen.model() is gen.model_of(gen.bundle())
    assert cls.parsed == ["shipped"]
    info = gen.model_info()
    assert list(info) == ["name", "sha256", "license", "data", "colours", "metrics", "card",
                          "other_models"]
    assert info["colours"] == ["red", "blue"] and info["metrics"] == {"score": 1.0}
    assert info["card"] == str(models["default"] / "MODEL_CARD.md")
    assert info["other_models"] == {"other": str(models["other"])}
    assert cls.parsed == ["shipped"]


def test_install_model_runs_the_checks_a_load_makes(models, tmp_path: Path) -> None:
    cls = swatches_generator(models["default"], models["other"])
    broken = model_folder(tmp_path / "broken", "broken", "red,")
    gen = cls(Runtime("cpu"))
    with pytest.raises(ModelError, match="an empty colour name"):
        assetgen.model_store.install("swatches", broken, "broken", check=gen.check_model)
    assert assetgen.model_store.installed("swatches") == []


def test_a_model_generator_must_name_its_model_folder() -> None:
    class Nameless(ModelGenerator):
        id = "nameless"
        kind = "image"

        def generate(self, seed: int, options: Any) -> ImageAsset:
            raise AssertionError

    with pytest.raises(NotImplementedError, match="must implement model_dir"):
        Nameless(Runtime("cpu")).bundle()


def test_deferred_option_values_are_called_once_on_first_use() -> None:
    calls: list[str] = []

    def names() -> tuple[str, ...]:
        calls.append("choices")
        return ("a", "b")

    class Deferred(Options):
        name: str = option("a", lambda: "Pick " + "/".join(names()), choices=names)
        size: int = option(1, "Size.", ge=lambda: 1, le=lambda: len(calls) + 8)

    assert calls == []
    assert Deferred.parse({"name": "b", "size": 10}).name == "b"
    assert calls == ["choices", "choices"]
    (name, size) = Deferred.specs()
    assert (name.description, name.choices, size.le) == ("Pick a/b", ("a", "b"), 10)
    with pytest.raises(InvalidOptionsError, match="one of 'a', 'b'"):
        Deferred.parse({"name": "c"})
    assert calls == ["choices", "choices"]


def test_shipped_manifest_is_empty_for_a_missing_or_broken_folder(tmp_path: Path) -> None:
    assert shipped_manifest(tmp_path / "absent") == {}
    (tmp_path / "manifest.json").write_text("{not json")
    assert shipped_manifest(tmp_path) == {}


READS = r"""
import builtins, io, sys
read = []
real_open = io.open

def spy(file, *args, **kwargs):
    if str(file).endswith("manifest.json"):
        read.append(str(file))
    return real_open(file, *args, **kwargs)

builtins.open = io.open = spy
from assetgen import Engine
engine = Engine(device="cpu", plugins=["portraits", "shoes", "dialogue"])
assert sorted(engine._registry.generators) == ["dialogue", "portraits", "shoes"]
print("at start:", len(read))
engine.generator_info("shoes")
print("listed:", len(read))
"""


def test_no_plugin_reads_a_manifest_when_the_engine_starts(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-c", READS], capture_output=True, text=True,
                         cwd=tmp_path, env=dict(os.environ), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    start, listed = run.stdout.splitlines()
    assert start == "at start: 0"
    assert listed != "listed: 0"  # the spy sees the reads that do happen
