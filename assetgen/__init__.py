"""AssetGen: a plugin-based engine that generates game assets from trained models.

The public API::

    from assetgen import Engine
    engine = Engine()
    sprites = engine.generate("portraits", seed=7, count=4)
    talk = engine.animate("portraits", seed=7, frames=8, animation="talk")

Plugin authors use :class:`Generator`, :class:`Options`, :func:`option`, :class:`Exporter`,
:data:`hookimpl`, :func:`check_int` and :func:`check_choice` (:func:`show_value` quotes a value
in a message of their own); model plugins also :class:`ModelGenerator` (with
:func:`model_option` and :func:`shipped_manifest`: model folder, ``model`` option, caching),
:class:`Runtime` / :class:`ModelBundle` (verified model folders), :mod:`assetgen.model_store`
(installed models), :mod:`assetgen.seeds` (portable seed streams), and in their training
modules :mod:`assetgen.training`. A plugin imports nothing else from the core: these names are
the contract (``tests/core/test_public_names.py`` checks the built-in plugins keep to it).
"""

from __future__ import annotations

__version__ = "0.1.0"

from .assets import (  # noqa: E402
    ANIMATION,
    IMAGE,
    TEXT,
    AnimationAsset,
    Asset,
    ImageAsset,
    TextAsset,
    encode_png,
)
from .engine import Engine, ExporterInfo, GeneratorInfo  # noqa: E402
from .errors import (  # noqa: E402
    AssetGenError,
    InvalidOptionsError,
    ModelError,
    OutputError,
    PluginError,
    UnknownGeneratorError,
    show_value,
)
from .exporting import Exporter, OutputFile, write_atomic  # noqa: E402
from .generator import MAX_SEED, Generator  # noqa: E402
from .hookspecs import hookimpl  # noqa: E402
from .limits import MAX_FRAMES, check_choice, check_int  # noqa: E402
from .model_generator import ModelGenerator, model_option, shipped_manifest  # noqa: E402
from .options import Options, OptionSpec, option  # noqa: E402
from .runtime import ModelBundle, Runtime  # noqa: E402

__all__ = [
    "ANIMATION",
    "IMAGE",
    "MAX_FRAMES",
    "MAX_SEED",
    "TEXT",
    "AnimationAsset",
    "Asset",
    "AssetGenError",
    "Engine",
    "Exporter",
    "ExporterInfo",
    "Generator",
    "GeneratorInfo",
    "ImageAsset",
    "InvalidOptionsError",
    "ModelBundle",
    "ModelError",
    "ModelGenerator",
    "OptionSpec",
    "Options",
    "OutputError",
    "OutputFile",
    "PluginError",
    "Runtime",
    "TextAsset",
    "UnknownGeneratorError",
    "__version__",
    "check_choice",
    "check_int",
    "encode_png",
    "hookimpl",
    "model_option",
    "option",
    "shipped_manifest",
    "show_value",
    "write_atomic",
]
