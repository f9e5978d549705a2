"""What ``assetgen train | export | eval shoes`` call (the generator's ``training`` module:
:class:`assetgen.training_tools.TrainingTools`)."""

from __future__ import annotations

from .evaluate import EVAL_CONFIG, evaluate
from .export import export
from .train import DEFAULT_CONFIG, SUPPORTS_DISTRIBUTED, train

__all__ = ["DEFAULT_CONFIG", "EVAL_CONFIG", "SUPPORTS_DISTRIBUTED", "evaluate", "export", "train"]
