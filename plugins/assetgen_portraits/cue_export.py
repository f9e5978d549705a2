"""The ``cues`` format: a talking portrait's mouth-shape track as Rhubarb Lip Sync cue files.

A lip-synced talk animation (``animation=talk`` with ``text``, ``audio`` or ``cues``) carries
its track in ``metadata["lipsync"]``. This exporter writes it as ``<stem>_cues.json``
(Rhubarb's JSON: ``metadata.soundFile``, ``metadata.duration``, ``mouthCues``) and
``<stem>_cues.tsv`` (Rhubarb's TSV: a start time and a shape per line); the ``_cues`` keeps
them apart from a sprite sheet's ``<stem>.json`` in the same request. With the character's
shape sheet (``animation=mouths --format sheet``: one frame tagged per shape) this is the
game-side format: one sheet per character serves every line, each line's cue file says when to show
which frame.
"""

from __future__ import annotations

from collections.abc import Sequence

from assetgen import ANIMATION, AnimationAsset, Asset, Exporter, InvalidOptionsError, OutputFile

from . import lipsync


def track_of(asset: AnimationAsset) -> lipsync.Track:
    """The lip-sync track stored in a talk animation's metadata."""
    data = asset.metadata.get("lipsync")
    if not isinstance(data, dict):
        raise InvalidOptionsError(
            "format 'cues' writes the mouth shapes of a lip-synced talk animation; give "
            "animation=talk with text, audio or cues (this animation has none)",
            parameter="format",
            value="cues",
        )
    cues = tuple(lipsync.Cue(float(a), float(b), str(s)) for a, b, s in data["cues"])
    return lipsync.Track(cues=cues, duration=float(data["duration"]), source=str(data["source"]))


class CuesExporter(Exporter):
    id = "cues"
    description = (
        "Rhubarb Lip Sync cue files (.json and .tsv) of a lip-synced talk animation (text, "
        "audio or cues): when to show each mouth shape A-H, X"
    )
    accepts = (ANIMATION,)
    per_asset = True

    def render(self, assets: Sequence[Asset], stem: str) -> list[OutputFile]:
        (anim,) = assets
        assert isinstance(anim, AnimationAsset)
        track = track_of(anim)
        sound = str(anim.metadata["lipsync"].get("sound_file", ""))
        return [
            OutputFile(
                f"{stem}_cues.json", lipsync.to_rhubarb_json(track, sound).encode("utf-8")
            ),
            OutputFile(f"{stem}_cues.tsv", lipsync.to_rhubarb_tsv(track).encode("utf-8")),
        ]
