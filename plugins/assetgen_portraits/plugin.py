"""The ``portraits`` generator: character portrait sprites from the shipped StyleGAN.

Runtime path: ONNX Runtime and numpy only. Two kinds of model folder:

- **label-conditioned** (``"conditioning": "labels"`` in the manifest; the shipped default):
  seed -> a label set (``labels.py``; every label also an option) -> ``mapping.onnx`` (w and
  the label spatial maps) -> W arithmetic here (truncation, mixing, attribute vectors) ->
  ``synthesis.onnx``. Talk and blink swap the mouth or eye label for other labelled states;
  lip sync (text, audio, cue files: ``lipsync``) and the ``mouths`` sheet draw the nine
  Rhubarb shapes as mouth labels (``manifest.json`` ``mouth_shapes``); every mouth frame is
  kept to the two mouths' footprints (``labels.keep_local``). Morphs move every column's
  weights, one part after the other; colour attributes are per-face label swaps in w.
- **unconditional** (a model trained on your own unlabelled art): seed -> z (the portable
  normals of ``assetgen.seeds``, stream "portraits.latent") ->
``mapping.onnx`` -> w; truncation, style mixing and attribute vectors are W arithmetic done
here; the synthesis runs as ``synthesis_prefix.onnx`` (everything up to the edited layer) and
``synthesis_suffix.onnx`` (the rest, with the local edit's delta as an input). A still is the
suffix with a zero delta, so a talk frame at the still's mouth state is exactly the still, and
a character's animation frames reuse one run of the prefix.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import assetgen
from assetgen import (
    MAX_FRAMES,
    MAX_SEED,
    AnimationAsset,
    Generator,
    ImageAsset,
    InvalidOptionsError,
    ModelBundle,
    ModelGenerator,
    Options,
    Runtime,
    model_option,
    option,
    shipped_manifest,
)
from assetgen import seeds as seeds_

from . import checks, drivers, lipsync
from .labels import RANDOM, LabelModel, keep_local
from .lipsync.smoothing import MAX_MIN_HOLD
from .local_edits import LocalEdit

#: the shipped model; ``model_dir()`` reads it per request (evaluations point it elsewhere)
MODEL_DIR = Path(__file__).resolve().parent / "model"
_SHIPPED_DIR = MODEL_DIR
ANIMATIONS = ("talk", "blink", "interpolate", "mouths")
#: the still-portrait talk loop's openness for each mouth shape (models without shapes)
SHAPE_OPENNESS = {"A": 0.0, "B": 0.3, "C": 0.7, "D": 1.0, "E": 0.5, "F": 0.35, "G": 0.3,
                  "H": 0.6, "X": 0.0}
LABEL_OPTIONS = (
    "hair", "hair_color", "skin", "eyes", "eyebrows", "mouth", "glasses", "earrings", "details",
)
MAX_ATTRIBUTE_STRENGTH = 5.0
#: faces per ONNX call when generating stills: a call has a fixed cost worth sharing, and
#: memory grows with the batch, so requests of any size run in bounded slices
CALL_BATCH = 32


@functools.cache
def _shipped() -> dict[str, Any]:
    """Facts from the shipped manifest, read when the options are first used, so the options'
    allowed values (shown by ``assetgen info``) match the model; ``validate`` checks against
    the model actually used."""
    facts: dict[str, Any] = {"num_ws": 10, "labels": {}}
    manifest = shipped_manifest(_SHIPPED_DIR)
    try:
        facts["num_ws"] = int(manifest["num_ws"])
        if manifest.get("conditioning") == "labels":
            labels = LabelModel(manifest)
            facts["labels"] = {option: labels.choices(option) for option in labels.options}
    except (KeyError, TypeError, ValueError, assetgen.ModelError):
        pass
    return facts


def read_attributes(path: Path) -> list[dict[str, Any]]:
    """attributes.csv: name, group, strength_min, strength_max, strength, w0..w{n-1}."""
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        try:
            for row in csv.DictReader(fh):
                rows.append(_attribute_row(row))
        except (KeyError, TypeError, ValueError) as exc:
            raise assetgen.ModelError(f"attributes.csv: unreadable row ({exc!r})") from None
    return rows


def _attribute_row(row: dict[str, str]) -> dict[str, Any]:
    n = sum(1 for k in row if k.startswith("w") and k[1:].isdigit())
    return {
        "name": row["name"],
        "group": row["group"],
        "strength_min": float(row["strength_min"]),
        "strength_max": float(row["strength_max"]),
        "strength": float(row["strength"]),
        "vector": np.array([float(row[f"w{i}"]) for i in range(n)], np.float32),
    }


def _label_option(name: str, what: str) -> Any:
    return option(
        RANDOM,
        f"{what} ('random': drawn from the seed).",
        choices=lambda: _shipped()["labels"].get(name) or None,
        max_length=40,
    )


class PortraitOptions(Options):
    hair: str = _label_option("hair", "Hair style, e.g. long03 or short12")
    hair_color: str = _label_option("hair_color", "Hair colour: a name (red, blonde...) or #hex")
    skin: str = _label_option("skin", "Skin colour: light, medium, tan, dark or #hex")
    eyes: str = _label_option("eyes", "Eyes variant (variant19 and 20 are closed)")
    eyebrows: str = _label_option("eyebrows", "Eyebrows variant")
    mouth: str = _label_option(
        "mouth", "Mouth variant, variant01-30 (pictures: docs/images/portraits_mouths.png)"
    )
    glasses: str = _label_option("glasses", "Glasses variant or none")
    earrings: str = _label_option("earrings", "Earrings variant or none (hidden by long hair)")
    details: str = _label_option("details", "birthmark, blush, freckles, mustache or none")
    truncation: float = option(
        1.0,
        "Truncation psi: pull w toward the average w (0 = the average face's colours and "
        "style, 1 = untruncated). Label models draw exactly their labels at 1; lower values "
        "blend colours toward the average. Models trained on your own art look cleaner lower.",
        ge=0.0,
        le=1.5,
    )
    mix_seed: int = option(
        -1,
        "Style mixing: take the styles of this seed from mix_layer on (-1 = no mixing).",
        ge=-1,
        le=MAX_SEED,
    )
    mix_layer: int = option(
        5,
        lambda: f"First style layer taken from mix_seed (1 to {_shipped()['num_ws'] - 1}; low "
        "numbers take the face's shape too, high ones only colours and fine detail).",
        ge=1,
        le=lambda: _shipped()["num_ws"] - 1,
    )
    attributes: dict[str, float] = option(
        {},
        "Attribute vectors with strengths, e.g. hair_color_red=1.5,skin_dark=0.5 (names and "
        "each one's useful range: 'assetgen info portraits' or the model's attributes.csv; "
        "each model has its own, checked against the model used).",
        ge=-MAX_ATTRIBUTE_STRENGTH,
        le=MAX_ATTRIBUTE_STRENGTH,
    )
    model: str = model_option(
        "default (the shipped model) or the name of a model installed with "
        "'assetgen install-model portraits' (see 'assetgen models portraits')."
    )


class PortraitAnimationOptions(PortraitOptions):
    animation: str = option(
        "talk",
        "talk (mouth opens and closes; with text, audio or cues: lip sync with the nine "
        "mouth shapes), blink, interpolate (morph to to_seed), or mouths (the nine shape "
        "frames A-H and X of one character).",
        choices=ANIMATIONS,
    )
    fps: float = option(12.0, "Frames per second.", ge=drivers.FPS_MIN, le=drivers.FPS_MAX)
    text: str = option(
        "",
        "talk: a line to say, spoken with mouth shapes from its phonemes (CMU dictionary); "
        "with audio, the words the recording says, used to align it. Sets the frame count "
        "when frames is not given.",
        max_length=drivers.MAX_TEXT_CHARS,
    )
    audio: str = option(
        "",
        "talk: a WAV, OGG or FLAC recording of the line; its phones (or loudness, see speech) "
        "drive the mouth shapes. Sets the frame count when frames is not given.",
        max_length=4096,
    )
    cues: str = option(
        "",
        "talk: a Rhubarb Lip Sync cue file (JSON or TSV) to play on this face.",
        max_length=4096,
    )
    speech: str = option(
        "auto",
        "talk with audio: auto (align to text when given, else phone recognition), align, "
        "phones, or loudness (any language: the mouth opens with the volume).",
        choices=lipsync.METHODS,
    )
    hold: float = option(
        lipsync.DEFAULT_MIN_HOLD,
        "talk with text or audio: shortest time a mouth shape is held, in seconds "
        "(shorter ones merge into a neighbour; no shape shows for a single frame).",
        ge=0.0,
        le=MAX_MIN_HOLD,
    )
    tween: bool = option(
        True,
        "talk with text or audio: one in-between frame where the mouth jumps between closed "
        "and wide open (C) or puckered and wide open (E). Cue files play as given.",
    )
    extended_shapes: bool = option(
        True,
        "talk with text or audio: use the extended shapes G (F, V) and H (L); off: "
        "only the six basic shapes A-F and X.",
    )
    strength: float = option(
        1.0,
        "talk/blink: how far the mouth opens (eyes close); 0 gives the still in every frame.",
        ge=0.0,
        le=2.0,
    )
    to_seed: int = option(
        -1, "interpolate: the seed to morph into (-1 = seed + 1).", ge=-1, le=MAX_SEED
    )


def _manifest_int(manifest: dict[str, Any], field: str, default: int | None = None) -> int:
    value = manifest.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise assetgen.ModelError(
            f"manifest.json: field '{field}' must be a non-negative integer; got {value!r}"
        )
    return value


def _label_attributes(manifest: dict[str, Any], labels: LabelModel) -> dict[str, tuple[str, int]]:
    """Attribute name -> (column, code) for the manifest's attributes that swap a value of a
    column the model reads only through w (not drawn by spatial maps)."""
    maps = manifest.get("maps", {})
    drawn = set(maps.get("map16_columns", [])) | set(maps.get("map32_columns", []))
    out = {}
    for entry in manifest.get("attributes", []):
        column, value = entry.get("column"), entry.get("value")
        col = labels.by_name.get(str(column))
        if col is None or column in drawn or value not in col.values:
            continue
        out[str(entry["name"])] = (col.name, col.values.index(value))
    return out


class _Model:
    """The parts of one verified model folder, parsed once."""

    def __init__(self, bundle: ModelBundle) -> None:
        m = bundle.manifest
        self.bundle = bundle
        self.labels = LabelModel(m) if m.get("conditioning") == "labels" else None
        self.z_dim = _manifest_int(m, "z_dim", 0 if self.labels else None)
        self.w_dim = _manifest_int(m, "w_dim")
        self.num_ws = _manifest_int(m, "num_ws")
        self.split_layer = _manifest_int(m, "split_layer", 0 if self.labels else None)
        try:
            self.w_avg = np.asarray(m["w_avg"], np.float32).reshape(-1)
        except (KeyError, TypeError, ValueError) as exc:
            raise assetgen.ModelError(f"manifest.json: field 'w_avg' ({exc!r})") from None
        self.attributes = {a["name"]: a for a in read_attributes(bundle.path("attributes.csv"))}
        try:
            self.edits = {name: LocalEdit(spec) for name, spec in m.get("edits", {}).items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise assetgen.ModelError(f"manifest.json: field 'edits' ({exc!r})") from None
        synthesis = "synthesis.onnx" if self.labels else "synthesis_prefix.onnx"
        checks.check_common(
            bundle, self.w_dim, self.num_ws, self.w_avg, self.attributes, synthesis
        )
        #: label models: attribute -> (column, value code) of the colour it swaps in, for the
        #: columns that reach the image through w alone (hair and skin colour)
        self.label_attributes: dict[str, tuple[str, int]] = {}
        if self.labels is not None:
            checks.check_labels(bundle, self.labels.size)
            self.label_attributes = _label_attributes(m, self.labels)
        else:
            checks.check_unconditional(bundle, m, self.z_dim, self.split_layer, self.edits)


class PortraitsGenerator(ModelGenerator):
    id = "portraits"
    kind = "image"
    description = (
        "64×64 RGBA character portrait sprites (label-conditioned StyleGAN2-like: every part "
        "an option; talk, blink, morph)"
    )
    Options = PortraitOptions
    AnimationOptions = PortraitAnimationOptions
    training = "assetgen_portraits.training.commands"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        self._tracks: dict[tuple[Any, ...], Any] = {}

    # -- model -------------------------------------------------------------------------------

    def model_dir(self) -> Path:
        return MODEL_DIR

    def parse_model(self, bundle: ModelBundle) -> _Model:
        """Every check a load makes (checks.py); install-model runs them too."""
        return _Model(bundle)

    def model(self, options: PortraitOptions | None = None) -> _Model:
        model: _Model = super().model(options)
        return model

    def model_summary(self, bundle: ModelBundle) -> dict[str, Any]:
        model: _Model = self.model_of(bundle)
        labels = model.labels
        return {
            "labels": (
                {name: list(labels.choices(name)) for name in labels.options} if labels else {}
            ),
            "attributes": sorted(model.attributes),
            "animations": list(ANIMATIONS),
        }

    def validate(self, options: PortraitOptions) -> None:
        model = self.model(options)
        if options.mix_layer >= model.num_ws:
            raise InvalidOptionsError(
                f"option 'mix_layer' must be an integer from 1 to {model.num_ws - 1}; "
                f"got {options.mix_layer}",
                parameter="mix_layer",
                value=options.mix_layer,
            )
        for name in options.attributes:
            if name not in model.attributes:
                raise InvalidOptionsError(
                    f"option 'attributes': unknown attribute {name!r}; known: "
                    + ", ".join(sorted(model.attributes)),
                    parameter="attributes",
                    value=name,
                )
        labels = model.labels
        if labels is None:
            for name in LABEL_OPTIONS:
                if getattr(options, name) != RANDOM:
                    raise InvalidOptionsError(
                        f"option '{name}': model '{options.model}' takes no labels (it was "
                        f"trained on unlabelled art); leave {name} at 'random'",
                        parameter=name,
                        value=getattr(options, name),
                    )
        else:
            for name in labels.options:
                labels.code(name, getattr(options, name))
        if isinstance(options, PortraitAnimationOptions):
            edit = {"talk": "mouth", "blink": "blink"}.get(options.animation)
            if labels is not None:
                edit = None  # label models animate their labelled mouth and eye states
            if edit is not None and edit not in model.edits:
                raise InvalidOptionsError(
                    f"option 'animation': model '{options.model}' has no {edit} edit (a model "
                    "trained on unlabelled art has none); use animation='interpolate'",
                    parameter="animation",
                    value=options.animation,
                )
            self._validate_drivers(options, model)

    def _validate_drivers(self, options: PortraitAnimationOptions, model: _Model) -> None:
        """text / audio / cues: which go together, and that each can be read."""
        shapes = self._speaks_shapes(model)
        if options.cues and (options.text or options.audio):
            raise InvalidOptionsError(
                "option 'cues' gives the mouth shapes itself; leave 'text' and 'audio' empty "
                "with it",
                parameter="cues",
            )
        if options.text and options.audio and not shapes:
            raise InvalidOptionsError(
                f"options 'text' and 'audio' both drive the mouth of model '{options.model}', "
                "which has one mouth openness, not mouth shapes; give one of them",
                parameter="text",
            )
        if (options.text or options.audio or options.cues) and options.animation != "talk":
            raise InvalidOptionsError(
                f"options 'text', 'audio' and 'cues' drive the talk animation; got "
                f"animation={options.animation!r}",
                parameter="animation",
                value=options.animation,
            )
        if options.animation == "mouths" and not shapes:
            raise InvalidOptionsError(
                f"option 'animation': model '{options.model}' has no mouth shapes (only "
                "label-conditioned models with 'mouth_shapes' in their manifest do); use "
                "animation='talk'",
                parameter="animation",
                value=options.animation,
            )
        if options.text.strip() == "" and options.text:
            raise InvalidOptionsError(
                "option 'text' is only whitespace; give a line to say or leave it empty",
                parameter="text",
            )
        if options.audio:
            if shapes:
                lipsync.check_audio(options.audio)
            else:
                drivers.audio_frames(options.audio, options.fps)  # readable, not too long
        if options.cues:
            lipsync.read_cues(options.cues)

    # -- label sets (label-conditioned models) -------------------------------------------------

    @staticmethod
    def fixed_labels(options: PortraitOptions, labels: LabelModel) -> dict[str, int]:
        """Column -> value code of every label the options set (not ``random``)."""
        fixed = {}
        for name, column in labels.options.items():
            code = labels.code(name, getattr(options, name))
            if code is not None:
                fixed[column] = code
        return fixed

    @classmethod
    def label_codes(cls, seed: int, options: PortraitOptions, labels: LabelModel) -> dict[str, int]:
        """Column -> value code of one seed's label set, with the label options applied."""
        return labels.draw(seed, cls.fixed_labels(options, labels))

    @staticmethod
    def map_labels(
        weights: np.ndarray, model: _Model
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """N x V label weights -> w (N x w_dim), maps16, maps32, at most CALL_BATCH a run."""
        parts = [
            model.bundle.session("mapping.onnx").run(
                None, {"label_weights": weights[i : i + CALL_BATCH]}
            )
            for i in range(0, len(weights), CALL_BATCH)
        ]
        if len(parts) == 1:
            w, m16, m32 = parts[0]
        else:
            w, m16, m32 = (np.concatenate(p) for p in zip(*parts, strict=True))
        return w, m16, m32

    def label_batch(
        self, seeds: Sequence[int], options: PortraitOptions, model: _Model
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, int]]]:
        """ws, maps16, maps32 and the label codes of each seed: truncation and attribute
        vectors on w, style mixing from ``mix_seed``'s own label set (drawn with no options)."""
        labels = model.labels
        assert labels is not None
        codes = labels.draw_batch(list(seeds), self.fixed_labels(options, labels))
        weights = np.stack([labels.weights(c) for c in codes])
        mixing = options.mix_seed >= 0
        if mixing:
            weights = np.concatenate(
                [weights, labels.weights(labels.draw(options.mix_seed, {}))[None]]
            )
        n = len(seeds)
        swaps = [(a, s) for a, s in options.attributes.items() if a in model.label_attributes]
        for name, _ in swaps:  # the same faces with the attribute's colour swapped in
            column, code = model.label_attributes[name]
            moved = weights[:n].copy()
            span = labels.span(column)
            moved[:, span] = 0.0
            moved[:, span.start + code] = 1.0
            weights = np.concatenate([weights, moved])
        w, m16, m32 = self.map_labels(weights, model)
        psi = np.float32(options.truncation)
        base = w[:n]
        ws = np.repeat((model.w_avg + psi * (base - model.w_avg))[:, None], model.num_ws, axis=1)
        if mixing:
            ws[:, options.mix_layer :] = model.w_avg + psi * (w[n] - model.w_avg)
        at = n + int(mixing)
        for name, strength in options.attributes.items():
            if name in model.label_attributes:
                # per face: toward the w of this very face with the colour swapped in
                swapped = w[at : at + n]
                at += n
                ws += (np.float32(strength) * psi * (swapped - base))[:, None]
            else:
                ws += np.float32(strength) * model.attributes[name]["vector"]
        return ws.astype(np.float32), m16[:n], m32[:n], codes

    @staticmethod
    def synthesise(
        ws: np.ndarray, maps16: np.ndarray, maps32: np.ndarray, model: _Model
    ) -> np.ndarray:
        """N x H x W x 4 uint8 sprites from the synthesis graph, at most CALL_BATCH a run."""
        out = []
        for i in range(0, len(ws), CALL_BATCH):
            (rgba,) = model.bundle.session("synthesis.onnx").run(
                None,
                {
                    "ws": ws[i : i + CALL_BATCH],
                    "maps16": maps16[i : i + CALL_BATCH],
                    "maps32": maps32[i : i + CALL_BATCH],
                },
            )
            out.append(to_uint8_batch(rgba))
        return out[0] if len(out) == 1 else np.concatenate(out)

    # -- W arithmetic ------------------------------------------------------------------------

    @staticmethod
    def z_of(seed: int, model: _Model) -> np.ndarray:
        """The latent of one seed, from that seed alone (whatever batch it is mapped in)."""
        return seeds_.SeedStream(seed, "portraits.latent").standard_normal(model.z_dim).astype(
            np.float32
        )

    def w_batch(self, seeds: Sequence[int], truncation: float, model: _Model) -> np.ndarray:
        """len(seeds) x w_dim truncated latents, one mapping run for all seeds. A row depends on
        its own seed only: mapping is row-wise (a Gemm per layer and element-wise operations),
        and the tests compare every batched row with its seed mapped alone."""
        z = np.stack([self.z_of(s, model) for s in seeds])
        (w,) = model.bundle.session("mapping.onnx").run(None, {"z": z})
        return (model.w_avg + np.float32(truncation) * (w - model.w_avg)).astype(np.float32)

    def ws_batch(self, seeds: Sequence[int], options: PortraitOptions, model: _Model) -> np.ndarray:
        """len(seeds) x num_ws x w_dim styles: :meth:`ws_of` for every seed, with one mapping
        run for all of them (the mix seed, if any, mapped in the same run)."""
        mixing = options.mix_seed >= 0
        w = self.w_batch([*seeds, options.mix_seed] if mixing else seeds, options.truncation, model)
        ws = np.repeat(w[: len(seeds), None], model.num_ws, axis=1)
        if mixing:
            ws[:, options.mix_layer :] = w[-1]
        for name, strength in options.attributes.items():
            ws += np.float32(strength) * model.attributes[name]["vector"]
        return ws

    def ws_of(self, seed: int, options: PortraitOptions, model: _Model) -> np.ndarray:
        """num_ws x w_dim styles for one character: truncation, mixing, attribute vectors."""
        return self.ws_batch([seed], options, model)[0]

    # -- synthesis ---------------------------------------------------------------------------

    def prefix(self, ws: np.ndarray, model: _Model) -> tuple[np.ndarray, np.ndarray]:
        """Feature map at the split layer and the RGBA skip image, for one character."""
        features, skip = model.bundle.session("synthesis_prefix.onnx").run(None, {"ws": ws[None]})
        return features, skip

    def suffix(
        self,
        features: np.ndarray,
        skip: np.ndarray,
        ws: np.ndarray,
        delta: np.ndarray,
        model: _Model,
    ) -> np.ndarray:
        return self.suffix_frames(features, skip, ws, delta[None], model)[0]

    def render(self, ws: np.ndarray, model: _Model) -> np.ndarray:
        features, skip = self.prefix(ws, model)
        zero = np.zeros(features.shape[1:], np.float32)
        return self.suffix(features, skip, ws, zero, model)

    # -- generator contract ------------------------------------------------------------------

    def generate(self, seed: int, options: PortraitOptions) -> ImageAsset:
        return self.generate_batch([seed], options)[0]

    def generate_batch(self, seeds: Sequence[int], options: PortraitOptions) -> list[ImageAsset]:
        """All seeds through the graphs in calls of at most CALL_BATCH faces (a call's fixed
        cost is shared; benchmark item 7 measures it). Each image in a batch is computed
        independently of the others, so a face's pixels do not depend on the batch it was in
        (the seeding rule; tests compare every batch with its single-seed requests)."""
        model = self.model(options)
        if model.labels is not None:
            ws, m16, m32, codes = self.label_batch(seeds, options, model)
            images = self.synthesise(ws, m16, m32, model)
            return [
                ImageAsset(img, metadata={"labels": model.labels.readable(c)})
                for img, c in zip(images, codes, strict=True)
            ]
        assets = []
        # at most CALL_BATCH faces per graph run: the gain is in the first few dozen, and
        # memory grows with the batch (every face's activations are held at once)
        for start in range(0, len(seeds), CALL_BATCH):
            part = seeds[start : start + CALL_BATCH]
            ws = self.ws_batch(part, options, model)
            features, skip = model.bundle.session("synthesis_prefix.onnx").run(None, {"ws": ws})
            (rgba,) = model.bundle.session("synthesis_suffix.onnx").run(
                None,
                {"features": features, "skip": skip, "ws": ws, "delta": np.zeros_like(features)},
            )
            assets.extend(ImageAsset(img) for img in to_uint8_batch(rgba))
        return assets

    @staticmethod
    def _speaks_shapes(model: _Model) -> bool:
        return model.labels is not None and bool(model.labels.mouth_shapes)

    def track(self, options: PortraitAnimationOptions) -> Any:
        """The smoothed mouth-shape track (``lipsync.Track``) of the talk drivers given: cues,
        audio (aligned to text when both are given) or text; cached, since the frame count
        and the frames both need it."""
        key = (options.text, options.audio, options.cues, options.speech, options.hold,
               options.extended_shapes, options.tween, options.fps)
        for path in (options.audio, options.cues):
            if path:
                try:
                    stat = Path(path).stat()
                    key += (stat.st_mtime_ns, stat.st_size)
                except OSError:
                    pass
        cached = self._tracks.get(key)
        if cached is not None:
            return cached
        if options.cues:  # a cue file is played as its author timed it
            track = lipsync.read_cues(options.cues)
        else:
            if options.audio:
                track = lipsync.audio_track(
                    options.audio, text=options.text, method=options.speech,
                    extended=options.extended_shapes,
                )
            else:
                track = lipsync.text_track(options.text, extended=options.extended_shapes)
            track = lipsync.smooth(track, min_hold=options.hold, fps=options.fps)
            if options.tween:
                track = lipsync.tween(track, options.fps)
        if len(self._tracks) > 32:
            self._tracks.clear()
        self._tracks[key] = track
        return track

    def frame_count(self, options: PortraitAnimationOptions) -> int | None:
        if options.animation == "mouths":
            return len(lipsync.SHAPES)
        if options.animation != "talk":
            return None
        if options.cues or (
            (options.text or options.audio) and self._speaks_shapes(self.model(options))
        ):
            n = lipsync.track_frames(self.track(options), options.fps)
            what = f"the line takes {n} frames at {options.fps:g} fps"
        elif options.text:
            n = drivers.text_frames(options.text, options.fps)
            what = f"the text takes {n} frames at {options.fps:g} fps"
        elif options.audio:
            n = drivers.audio_frames(options.audio, options.fps)
            what = f"the audio takes {n} frames at {options.fps:g} fps"
        else:
            return None
        if n > MAX_FRAMES:
            raise InvalidOptionsError(
                f"{what}, more than the {MAX_FRAMES}-frame limit; shorten it or lower fps",
                parameter="cues" if options.cues else "audio" if options.audio else "text",
            )
        return n

    def animate(self, seed: int, frames: int, options: PortraitAnimationOptions) -> AnimationAsset:
        model = self.model(options)
        if model.labels is not None:
            return self._animate_labels(seed, frames, options, model)
        if options.animation == "interpolate":
            return self._interpolate(seed, frames, options, model)
        edit = model.edits["mouth" if options.animation == "talk" else "blink"]
        curve = self.curve(seed, frames, options)
        ws = self.ws_of(seed, options, model)
        features, skip = self.prefix(ws, model)
        # move from the still's own state toward the curve's; strength 0 keeps the still
        deltas, made = edit.frame_deltas(features[0], curve, options.strength)
        images = [ImageAsset(f) for f in self.edit_frames(features, skip, ws, deltas, edit, model)]
        return AnimationAsset(
            images,
            fps=options.fps,
            metadata={
                "animation": options.animation,
                "edit_layer": edit.layer,
                "edit_shift": list(made["shift"]),
                "start_state": round(made["start"], 4),
                "rest_state": round(made["rest"], 4),
                "curve": [round(float(c), 4) for c in curve],
            },
        )

    @staticmethod
    def suffix_frames(
        features: np.ndarray, skip: np.ndarray, ws: np.ndarray, deltas: np.ndarray, model: _Model
    ) -> np.ndarray:
        """One character's images (N x H x W x 4 uint8), one per delta, from the whole suffix
        graph in one run."""
        n = len(deltas)
        (rgba,) = model.bundle.session("synthesis_suffix.onnx").run(
            None,
            {
                "features": np.repeat(features, n, axis=0),
                "skip": np.repeat(skip, n, axis=0),
                "ws": np.repeat(ws[None], n, axis=0),
                "delta": deltas,
            },
        )
        return to_uint8_batch(rgba)

    def edit_frames(
        self,
        features: np.ndarray,
        skip: np.ndarray,
        ws: np.ndarray,
        deltas: np.ndarray,
        edit: LocalEdit,
        model: _Model,
        still: np.ndarray | None = None,
    ) -> list[np.ndarray]:
        """One character's frames under ``edit``, one per delta, as animations make them. A
        zero delta gives the still, bit for bit; the other frames run in one graph call: the
        edit's window graph when it ships one (only the crop of the map is run and only the
        ``paste`` box, where the edit can reach, differs from the still, see ``local_edits``),
        else the whole suffix. ``still``: the character's still, if already made."""
        moving = [i for i, d in enumerate(deltas) if d.any()]
        window = edit.window
        if still is None and (window is not None or len(moving) < len(deltas)):
            still = self.suffix(features, skip, ws, np.zeros_like(features[0]), model)
        made: dict[int, np.ndarray] = {}
        if moving:
            if window is None:
                images = list(self.suffix_frames(features, skip, ws, deltas[moving], model))
            else:
                assert still is not None
                images = self._window_frames(
                    features, skip, ws, deltas[moving], still, window, model
                )
            made = dict(zip(moving, images, strict=True))
        frames = [made.get(i, still) for i in range(len(deltas))]
        return [f for f in frames if f is not None]

    @staticmethod
    def _window_frames(
        features: np.ndarray,
        skip: np.ndarray,
        ws: np.ndarray,
        deltas: np.ndarray,
        still: np.ndarray,
        window: dict[str, Any],
        model: _Model,
    ) -> list[np.ndarray]:
        """Frames from the edit's window graph, each the still with the ``paste`` box
        replaced."""
        y0, y1, x0, x1 = window["crop"]
        py0, py1, px0, px1 = window["paste"]
        n = len(deltas)
        (rgba,) = model.bundle.session(window["graph"]).run(
            None,
            {
                "features": np.repeat(features[:, :, y0:y1, x0:x1], n, axis=0),
                "skip": np.repeat(skip[:, :, y0:y1, x0:x1], n, axis=0),
                "ws": np.repeat(ws[None], n, axis=0),
                "delta": np.ascontiguousarray(deltas[:, :, y0:y1, x0:x1]),
            },
        )
        scale = still.shape[0] // features.shape[-1]
        oy, ox = y0 * scale, x0 * scale
        parts = to_uint8_batch(rgba[:, :, py0 - oy : py1 - oy, px0 - ox : px1 - ox])
        frames = []
        for part in parts:
            frame = still.copy()
            frame[py0:py1, px0:px1] = part
            frames.append(frame)
        return frames

    def curve(self, seed: int, frames: int, options: PortraitAnimationOptions) -> np.ndarray:
        """Openness (talk) or closedness (blink) per frame, in [0, 1]."""
        fps = options.fps
        if options.animation == "blink":
            return drivers.blink_curve(frames, fps, seed)
        if options.cues:
            shapes = lipsync.frame_shapes(self.track(options), fps, frames)
            return np.array([SHAPE_OPENNESS.get(x, 0.0) for x in shapes], np.float32)
        if options.text:
            base = drivers.text_curve(options.text, fps)
        elif options.audio:
            base = drivers.audio_curve(options.audio, fps)
        else:
            return drivers.talk_cycle(frames, fps, seed)
        # an explicit frame count keeps the driver's timing: pad with a closed mouth, or cut
        out = np.zeros(frames, np.float32)
        out[: min(frames, len(base))] = base[:frames]
        return out

    def _animate_labels(
        self, seed: int, frames: int, options: PortraitAnimationOptions, model: _Model
    ) -> AnimationAsset:
        """Talk and blink: each frame draws the labelled mouth (eye) state nearest the curve:
        closed, half-open or open mouths of the face's family (open or closed eyes), the curve
        starting from the still's own state, so strength 0 keeps the still; w stays the
        still's (mouth and eyes are not in w), so only the mouth's (eyes') spatial maps change.
        Interpolate: w moves linearly, the labels one part after another
        (``labels.MORPH_SCHEDULE``)."""
        labels = model.labels
        assert labels is not None
        ws, m16, m32, (codes,) = self.label_batch([seed], options, model)
        weights = labels.weights(codes)
        meta: dict[str, Any] = {"animation": options.animation, "labels": labels.readable(codes)}
        if options.animation == "interpolate":
            to_seed = self._to_seed(seed, options)
            ws_b, _, _, (codes_b,) = self.label_batch([to_seed], options, model)
            t = np.linspace(0.0, 1.0, frames, dtype=np.float32) if frames > 1 else np.zeros(1)
            blended = labels.morph(weights, labels.weights(codes_b), t)
            _, m16, m32 = self.map_labels(blended, model)
            ws_t = ws + t[:, None, None] * (ws_b - ws)
            meta.update(to_seed=to_seed, to_labels=labels.readable(codes_b))
        elif options.animation == "blink":
            value = labels.by_name["eyes"].values[codes["eyes"]]
            states = list(labels.eyes_pair(value, seed))
            chosen = self._states_by_curve(seed, frames, options, states, value)
            _, m16, m32 = self.map_labels(labels.frames_of(weights, "eyes", chosen), model)
            ws_t = np.repeat(ws, len(chosen), axis=0)
            meta.update(states=states, frame_states=chosen)
        else:
            return self._mouth_frames(seed, frames, options, model, ws, codes, meta)
        images = self.synthesise(ws_t.astype(np.float32), m16, m32, model)
        return AnimationAsset([ImageAsset(f) for f in images], fps=options.fps, metadata=meta)

    def _states_by_curve(
        self, seed: int, frames: int, options: PortraitAnimationOptions, states: list[str],
        value: str,
    ) -> list[str]:
        """Per frame, the labelled state nearest the driver curve (closed, half-open or open
        mouths; open or closed eyes), starting from the still's own state, so strength 0 keeps
        the still."""
        start = states.index(value) / (len(states) - 1)
        curve = self.curve(seed, frames, options)
        t = np.clip(start + options.strength * (curve - start), 0.0, 1.0)
        return [states[int(np.floor(v * (len(states) - 1) + 0.5))] for v in t]

    def _mouth_frames(
        self, seed: int, frames: int, options: PortraitAnimationOptions, model: _Model,
        ws: np.ndarray, codes: dict[str, int], meta: dict[str, Any],
    ) -> AnimationAsset:
        """Talk and mouths on a label model: each frame is the still with another mouth
        variant drawn, kept to the two mouths' footprints (``labels.keep_local``). Every
        distinct mouth is drawn once. Lip sync (text, audio, cues): the nine Rhubarb shapes
        of ``lipsync``, each a mouth variant (``LabelModel.shape_mouths``); mouths: the nine
        shape frames A-H, X (cycling when more frames are asked for); talk without a driver:
        the closed / half-open / open mouths of the face's family by the talk curve."""
        labels = model.labels
        assert labels is not None
        still_mouth = labels.by_name["mouth"].values[codes["mouth"]]
        if options.animation == "mouths" or options.text or options.audio or options.cues:
            shape_of = labels.shape_mouths(still_mouth)
            if options.animation == "mouths":
                shapes = [lipsync.SHAPES[k % len(lipsync.SHAPES)] for k in range(frames)]
                meta["frame_names"] = list(shapes)
            else:
                track = self.track(options)
                shapes = lipsync.frame_shapes(track, options.fps, frames)
                meta["lipsync"] = _track_meta(track, options)
            chosen = [shape_of[x] for x in shapes]
            meta.update(frame_shapes=shapes, shape_mouths=shape_of)
        else:
            shut, half, opened = labels.mouth_states(still_mouth, seed)
            states = [shut, opened] if half is None else [shut, half, opened]
            chosen = self._states_by_curve(seed, frames, options, states, still_mouth)
            meta.update(states=states)
        meta["frame_states"] = chosen
        drawn = [still_mouth] + sorted(set(chosen) - {still_mouth})
        weights = labels.weights(codes)
        _, m16, m32 = self.map_labels(labels.frames_of(weights, "mouth", drawn), model)
        images = self.synthesise(
            np.repeat(ws, len(drawn), axis=0).astype(np.float32), m16, m32, model
        )
        size = images.shape[1]
        local = keep_local(
            images[0], images[1:], [labels.mouth_weights(still_mouth, m, size) for m in drawn[1:]]
        )
        by_mouth = {still_mouth: images[0], **dict(zip(drawn[1:], local, strict=True))}
        return AnimationAsset(
            [ImageAsset(by_mouth[m].copy()) for m in chosen], fps=options.fps, metadata=meta
        )

    @staticmethod
    def _to_seed(seed: int, options: PortraitAnimationOptions) -> int:
        to_seed = options.to_seed if options.to_seed >= 0 else seed + 1
        if to_seed > MAX_SEED:
            raise InvalidOptionsError(
                f"option 'to_seed' defaults to seed + 1, which is over {MAX_SEED}; give to_seed",
                parameter="to_seed",
            )
        return to_seed

    def _interpolate(
        self, seed: int, frames: int, options: PortraitAnimationOptions, model: _Model
    ) -> AnimationAsset:
        to_seed = self._to_seed(seed, options)
        a = self.ws_of(seed, options, model)
        b = self.ws_of(to_seed, options, model)
        steps = np.linspace(0.0, 1.0, frames, dtype=np.float32) if frames > 1 else np.zeros(1)
        images = [
            ImageAsset(self.render((a + np.float32(t) * (b - a)).astype(np.float32), model))
            for t in steps
        ]
        return AnimationAsset(
            images, fps=options.fps, metadata={"animation": "interpolate", "to_seed": to_seed}
        )


def _track_meta(track: Any, options: PortraitAnimationOptions) -> dict[str, Any]:
    """What the ``cues`` exporter and a game need of a lip-sync track, as JSON values."""
    return {
        "source": track.source,
        "duration": round(float(track.duration), 3),
        "sound_file": Path(options.audio).name if options.audio else "",
        "cues": [[round(c.start, 3), round(c.end, 3), c.shape] for c in track.cues],
    }


def to_uint8(chw: np.ndarray) -> np.ndarray:
    """4 x H x W in [0, 1] -> H x W x 4 uint8, transparent pixels cleared to (0, 0, 0, 0)."""
    return to_uint8_batch(chw[None])[0]


def to_uint8_batch(nchw: np.ndarray) -> np.ndarray:
    """:func:`to_uint8` for N images at once (element-wise, so each image comes out the same
    as alone), in one C-contiguous N x H x W x 4 array."""
    # scale then clamp to [0, 255] equals clamp to [0, 1] then scale, value for value
    x = np.multiply(nchw, np.float32(255))
    np.maximum(x, 0.0, out=x)
    np.minimum(x, 255.0, out=x)
    np.rint(x, out=x)
    # element-wise first, then one transpose of the bytes (4x less memory to move)
    img = x.astype(np.uint8).transpose(0, 2, 3, 1).copy()
    # each pixel as one little-endian 32-bit word, alpha its top byte: zero the words whose
    # alpha is 0 (a multiply by the comparison; boolean-mask indexing costs more per call)
    words = img.view("<u4")
    np.multiply(words, words > 0xFFFFFF, out=words)
    return img


@assetgen.hookimpl
def register_generators(register: Callable[[type[Generator]], None]) -> None:
    register(PortraitsGenerator)


@assetgen.hookimpl
def register_exporters(register: Callable[[type[assetgen.Exporter]], None]) -> None:
    from .cue_export import CuesExporter

    register(CuesExporter)
