"""AssetGen: a plugin-based engine that generates game assets from trained models.

The public API::

    from assetgen import Engine
    engine = Engine()
    sprites = engine.generate("portraits", seed=7, count=4)
    talk = engine.animate("portraits", seed=7, frames=8, animation="talk")

Plugin authors use :class:`Generator`, :class:`Options`, :func:`option`, :class:`Exporter`,
:data:`hookimpl` and :func:`check_int`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .assets import AnimationAsset, Asset, ImageAsset, TextAsset  # noqa: E402
from .engine import Engine, ExporterInfo, GeneratorInfo  # noqa: E402
from .errors import (  # noqa: E402
    AssetGenError,
    InvalidOptionsError,
    ModelError,
    OutputError,
    PluginError,
    UnknownGeneratorError,
)
from .exporting import Exporter, OutputFile  # noqa: E402
from .generator import Generator  # noqa: E402
from .hookspecs import hookimpl  # noqa: E402
from .limits import check_int  # noqa: E402
from .options import Options, option  # noqa: E402

__all__ = [
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
    "ModelError",
    "Options",
    "OutputError",
    "OutputFile",
    "PluginError",
    "TextAsset",
    "UnknownGeneratorError",
    "__version__",
    "check_int",
    "hookimpl",
    "option",
]
