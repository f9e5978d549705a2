"""Plugin discovery through entry points, selection, and isolation of broken plugins."""

from __future__ import annotations

import types
import warnings

import pytest

import assetgen
from assetgen import Engine, Generator, ImageAsset, PluginError, UnknownGeneratorError


def test_third_party_plugin_is_discovered_through_entry_points(engine: Engine) -> None:
    gens = {g.id: g for g in engine.generators()}
    assert set(gens) == {"blob", "echo", "crashing"}
    assert gens["blob"].plugin == "testkit" and gens["blob"].can_animate
    assert gens["echo"].kind == "text"
    exporters = {e.id: e.plugin for e in engine.exporters()}
    assert exporters == {fmt: "exporters" for fmt in ("csv", "gif", "jsonl", "png", "sheet")}


def test_load_plugins_env_restricts_what_loads(
    plugins_env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters")
    assert Engine().generators() == []
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "")
    assert Engine().exporters() == []


def test_plugins_argument_overrides_env(plugins_env: dict) -> None:
    engine = Engine(plugins=["testkit"])
    assert {g.id for g in engine.generators()} == {"blob", "echo", "crashing"}
    assert engine.exporters() == []


@pytest.mark.parametrize(
    ("broken", "stage", "fragment"),
    [
        ("broken_import", "import", "needs a package that is not installed"),
        ("misspelled", "hook check", "register_generatorz"),
        ("broken_register", "registration", "registration went wrong"),
    ],
)
def test_broken_plugin_is_named_and_the_rest_works(
    plugins_env: dict, broken: str, stage: str, fragment: str
) -> None:
    with pytest.warns(RuntimeWarning, match=f"plugin '{broken}' failed at {stage}"):
        engine = Engine(plugins=["exporters", "testkit", broken])
    (failure,) = engine.plugin_failures()
    assert (failure.plugin, failure.stage) == (broken, stage)
    assert fragment in failure.error
    # a plugin that raised half-way through registering leaves nothing behind
    assert {g.id for g in engine.generators()} == {"blob", "echo", "crashing"}
    assert len(engine.generate("blob", seed=1, count=2)) == 2


def test_duplicate_generator_id_is_refused_naming_both_plugins(plugins_env: dict) -> None:
    with pytest.warns(RuntimeWarning):
        engine = Engine(plugins=["testkit", "duplicate"])
    (failure,) = engine.plugin_failures()
    assert "generator id 'blob' is already registered by plugin" in failure.error
    assert {failure.plugin, *failure.error.split("'")[3:4]} == {"testkit", "duplicate"}


def test_missing_plugin_name_is_reported(plugins_env: dict) -> None:
    with pytest.warns(RuntimeWarning, match="no installed plugin"):
        engine = Engine(plugins=["nope"])
    assert engine.plugin_failures()[0].plugin == "nope"


def test_plugin_objects_can_be_registered_directly(plugins_env: dict) -> None:
    class Dot(Generator):
        id = "dot"
        kind = "image"

        def generate(self, seed: int, options: object) -> ImageAsset:
            import numpy as np

            return ImageAsset(np.full((2, 2, 4), seed % 256, dtype=np.uint8))

    plugin = types.SimpleNamespace(
        register_generators=assetgen.hookimpl(lambda register: register(Dot))
    )
    engine = Engine(plugins=[plugin])
    assert engine.generate("dot", seed=3)[0].rgba[0, 0, 0] == 3


def test_error_inside_generate_names_the_plugin(engine: Engine) -> None:
    with pytest.raises(
        PluginError,
        match=r"generator 'crashing' \(plugin 'testkit'\) failed: RuntimeError: the model exploded",
    ) as err:
        engine.generate("crashing")
    assert err.value.plugin == "testkit"
    assert engine.generate("blob")  # the engine keeps working


def test_unknown_generator_lists_the_available_ones(engine: Engine) -> None:
    with pytest.raises(
        UnknownGeneratorError,
        match="unknown generator 'portrait'; available generators: blob, crashing, echo",
    ):
        engine.generate("portrait")


@pytest.mark.parametrize(
    ("attrs", "fragment"),
    [
        ({"id": "Bad Id"}, "id must be"),
        ({"id": "UPPER"}, "lower case"),
        ({"kind": "sound"}, "kind must be one of"),
        ({"Options": dict}, "must subclass assetgen.Options"),
    ],
)
def test_malformed_generator_class_is_refused(
    plugins_env: dict, attrs: dict, fragment: str
) -> None:
    base = {"id": "ok", "kind": "image", "generate": lambda self, seed, options: None}
    cls = type("Gen", (Generator,), {**base, **attrs})
    plugin = types.SimpleNamespace(
        register_generators=assetgen.hookimpl(lambda register: register(cls))
    )
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        engine = Engine(plugins=[plugin])
    assert fragment in engine.plugin_failures()[0].error
