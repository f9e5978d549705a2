"""``portraits`` and ``dialogue`` stand-ins: seed-coloured squares that "talk", numbered lines."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import assetgen
from assetgen import AnimationAsset, Generator, ImageAsset, Options, TextAsset, option


def square(seed: int, mouth: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.zeros((16, 12, 4), dtype=np.uint8)
    image[..., :3] = rng.integers(0, 256, 3)
    image[..., 3] = 255
    image[10 : 11 + mouth, 4:8, :3] = 0  # a mouth that opens
    return image


class TalkOptions(Options):
    animation: str = option("talk", "Which animation.", choices=("talk",))


class PortraitStandIn(Generator):
    id = "portraits"
    kind = "image"
    description = "stand-in portrait (test only)"
    AnimationOptions = TalkOptions

    def generate(self, seed: int, options: Options) -> ImageAsset:
        return ImageAsset(square(seed))

    def animate(self, seed: int, frames: int, options: TalkOptions) -> AnimationAsset:
        return AnimationAsset([ImageAsset(square(seed, k % 3)) for k in range(frames)], fps=12)


class DialogueStandIn(Generator):
    id = "dialogue"
    kind = "text"
    description = "stand-in dialogue (test only)"

    def generate(self, seed: int, options: Options) -> TextAsset:
        return TextAsset(text=f"Line {seed}: well met, traveller.", speaker="npc")


@assetgen.hookimpl
def register_generators(register: Callable[[type[Generator]], None]) -> None:
    register(PortraitStandIn)
    register(DialogueStandIn)
