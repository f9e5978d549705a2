"""The typed contract between a model plugin and ``assetgen train | export | eval``."""

from __future__ import annotations

import sys
import types

import pytest

from assetgen import InvalidOptionsError
from assetgen.training_tools import TrainingTools, load_training_tools, training_module


def _module(name: str, **attrs: object) -> str:
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    sys.modules[name] = module
    return name


def _complete(name: str) -> str:
    return _module(
        name, DEFAULT_CONFIG={"steps": 1}, train=lambda *a: None, export=lambda *a: None,
        evaluate=lambda *a: {},
    )


def test_a_complete_module_loads_as_training_tools() -> None:
    class Gen:
        training = _complete("tt_complete")

    tools = load_training_tools(Gen, "gen")
    assert isinstance(tools, TrainingTools)
    assert tools.DEFAULT_CONFIG == {"steps": 1}


def test_a_module_missing_a_function_is_refused_by_name() -> None:
    class Gen:
        training = _module("tt_partial", DEFAULT_CONFIG={}, train=lambda *a: None)

    with pytest.raises(InvalidOptionsError) as err:
        load_training_tools(Gen, "gen")
    message = str(err.value)
    assert "tt_partial" in message and "export (" in message and "evaluate (" in message
    assert "train (" not in message


def test_default_config_must_be_a_dict() -> None:
    class Gen:
        training = _module(
            "tt_badconfig", DEFAULT_CONFIG=[1], train=print, export=print, evaluate=print
        )

    with pytest.raises(InvalidOptionsError, match="DEFAULT_CONFIG"):
        load_training_tools(Gen, "gen")


def test_a_missing_training_dependency_says_how_to_install_it() -> None:
    class Gen:
        training = "tt_no_such_module_anywhere"

    with pytest.raises(InvalidOptionsError, match=r"pip install 'assetgen\[train\]'"):
        load_training_tools(Gen, "gen")


def test_the_old_tools_attribute_still_works_with_a_warning() -> None:
    class Old:
        tools = _complete("tt_old")

    with pytest.warns(DeprecationWarning, match="Old.training"):
        assert training_module(Old) == "tt_old"

    class Neither:
        pass

    assert training_module(Neither) is None


def test_every_builtin_model_plugin_names_a_complete_training_module() -> None:
    pytest.importorskip("torch")
    from assetgen import Engine

    engine = Engine(device="cpu", plugins=["portraits", "shoes", "dialogue"])
    for name in ("portraits", "shoes", "dialogue"):
        cls = engine.plugin_manager.registry.generators[name]
        assert "tools" not in vars(cls), name
        assert isinstance(load_training_tools(cls, name), TrainingTools)
