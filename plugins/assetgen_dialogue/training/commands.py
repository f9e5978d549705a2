"""The generator's ``tools`` module: what ``assetgen train|export|eval dialogue`` call."""

from .evaluate import EVAL_CONFIG, evaluate
from .export import export
from .train import DEFAULT_CONFIG, SUPPORTS_DISTRIBUTED, train

__all__ = ["DEFAULT_CONFIG", "EVAL_CONFIG", "SUPPORTS_DISTRIBUTED", "evaluate", "export", "train"]
