"""The ``shoes`` generator: footwear item icons from the shipped DCGAN, via ONNX Runtime."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

import assetgen
from assetgen import (
    Generator,
    ImageAsset,
    ModelBundle,
    ModelGenerator,
    Options,
    OptionSpec,
    check_choice,
    model_option,
    model_store,
    option,
    shipped_manifest,
)
from assetgen import seeds as seeds_

from .colour import recolour

#: the shipped model; ``model_dir()`` reads it per request (evaluations point it elsewhere)
MODEL_DIR = Path(__file__).resolve().parent / "model"
_SHIPPED_DIR = MODEL_DIR


def _type_names() -> tuple[str, ...]:
    """The choices of ``type``: the shipped model's types, read from its manifest when the
    options are first used, so ``assetgen info``, the JSON schema and the studio list them. A
    model trained on your own art has the types of its labels.csv (docs/training.md): with
    ``model`` set to it, ``type`` is taken as text (:meth:`ShoeOptions.parse`) and
    ``validate`` checks it against that model's manifest."""
    names = shipped_manifest(_SHIPPED_DIR).get("type_names")
    return ("random", *names) if isinstance(names, list) else ("random",)


class ShoeOptions(Options):
    type: str = option(
        "random",
        "Footwear type, or random for one drawn from the seed.",
        choices=_type_names,
    )
    variety: float = option(
        0.8, "Latent scale (truncation): lower is more typical, higher more varied.", ge=0.0, le=1.5
    )
    hue_shift: float = option(
        0.0,
        "Rotate colours by this many degrees (brightness kept, so icons stay readable).",
        ge=-180.0,
        le=180.0,
    )
    saturation: float = option(1.0, "Colour saturation multiplier.", ge=0.0, le=2.0)
    model: str = model_option(
        "default (the shipped model) or the name of a model installed with "
        "'assetgen install-model shoes' (see 'assetgen models shoes')."
    )

    @classmethod
    def parse(cls, values: Mapping[str, Any] | None = None, *, from_text: bool = False) -> Self:
        """As :meth:`Options.parse`; with another model than the shipped one, ``type`` may be
        any of that model's own types (checked in ``validate``, where the model is loaded)."""
        if not isinstance(values, Mapping) or values.get("model", _SHIPPED) == _SHIPPED:
            return super().parse(values, from_text=from_text)
        rest = dict(values)
        if "type" not in rest:
            return super().parse(rest, from_text=from_text)
        kind = _OWN_TYPE.convert(rest.pop("type"), from_text=from_text)
        return dataclasses.replace(super().parse(rest, from_text=from_text), type=kind)


_SHIPPED = model_store.DEFAULT_MODEL
#: ``type`` for a model of your own: text, its names checked against that model
_OWN_TYPE = OptionSpec("type", str, "random", "Footwear type.", max_length=100)


class ShoesGenerator(ModelGenerator):
    id = "shoes"
    kind = "image"
    description = "64×64 RGBA footwear item icons (class-conditional DCGAN)"
    Options = ShoeOptions
    training = "assetgen_shoes.training.commands"

    def model_dir(self) -> Path:
        return MODEL_DIR

    def model_summary(self, bundle: ModelBundle) -> dict[str, Any]:
        return {"types": bundle.manifest["type_names"]}

    def validate(self, options: ShoeOptions) -> None:
        names = self.bundle(options).manifest["type_names"]
        check_choice("type", options.type, ("random", *names))

    def generate(self, seed: int, options: ShoeOptions) -> ImageAsset:
        return self.generate_batch([seed], options)[0]

    def generate_batch(self, seeds: Sequence[int], options: ShoeOptions) -> list[ImageAsset]:
        bundle = self.bundle(options)
        names = bundle.manifest["type_names"]
        z_dim = bundle.manifest["z_dim"]
        zs, types = [], []
        for seed in seeds:
            # one portable stream a seed (assetgen.seeds): the type draw is made even when
            # the type is named, so the latent after it is the same
            rng = seeds_.SeedStream(seed, "shoes")
            drawn = rng.integers(len(names))
            types.append(drawn if options.type == "random" else names.index(options.type))
            zs.append(rng.standard_normal(z_dim).astype(np.float32) * options.variety)
        session = bundle.session("shoes.onnx")
        assets = []
        # one row at a time: identical results whatever the batch (the seeding rule)
        for z, t in zip(zs, types, strict=True):
            (rgba,) = session.run(None, {"z": z[None], "type": np.array([t], np.int64)})
            img = np.rint(rgba[0].transpose(1, 2, 0) * 255).astype(np.uint8)
            img = recolour(img, options.hue_shift, options.saturation)
            assets.append(ImageAsset(img, metadata={"type": names[t]}))
        return assets


@assetgen.hookimpl
def register_generators(register: Callable[[type[Generator]], None]) -> None:
    register(ShoesGenerator)
