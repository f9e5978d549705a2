"""Lip sync: the nine Rhubarb Lip Sync mouth shapes, timed from text, speech or a cue file.

A :class:`Track` is a list of :class:`Cue` (start, end, shape) covering a line. It comes from

* :func:`text_track` - a line of dialogue, timed from a speaking rate;
* :func:`audio_track` - a WAV/OGG/FLAC recording, through pocketsphinx (aligned to the line's
  text when given) or, with ``method="loudness"``, from the loudness alone;
* :func:`read_cues` - a Rhubarb JSON or TSV cue file;

and goes through :func:`smooth` (minimum hold, no single-frame flicker, rest in silence),
:func:`tween` (one in-between frame where the mouth jumps from closed to wide open) and
:func:`frame_shapes` (one shape per animation frame) on its way to a portrait, or out again as
a Rhubarb file (:func:`to_rhubarb_json`, :func:`to_rhubarb_tsv`). docs/lipsync.md describes
the shapes, drivers, file formats and limits.

Importing this package needs only numpy; ``soundfile`` and ``pocketsphinx`` (the ``lipsync``
extra) are imported when audio is read.
"""

from __future__ import annotations

from .audio import MAX_AUDIO_SECONDS, AudioInfo, check_audio
from .cues import read_cues, to_rhubarb_json, to_rhubarb_tsv
from .shapes import (
    BASIC_EQUIVALENT,
    BASIC_SHAPES,
    CLOSED_SHAPES,
    MAX_SECONDS,
    SHAPES,
    SOURCES,
    Cue,
    Phone,
    Track,
    Word,
)
from .smoothing import DEFAULT_MIN_HOLD, TWEENS, frame_shapes, smooth, track_frames, tween
from .speech import METHODS, audio_track
from .text import DEFAULT_RATE, MAX_TEXT_CHARS, text_track

__all__ = [
    "BASIC_EQUIVALENT",
    "BASIC_SHAPES",
    "CLOSED_SHAPES",
    "DEFAULT_MIN_HOLD",
    "DEFAULT_RATE",
    "MAX_AUDIO_SECONDS",
    "MAX_SECONDS",
    "MAX_TEXT_CHARS",
    "METHODS",
    "SHAPES",
    "SOURCES",
    "TWEENS",
    "AudioInfo",
    "Cue",
    "Phone",
    "Track",
    "Word",
    "audio_track",
    "check_audio",
    "frame_shapes",
    "read_cues",
    "smooth",
    "text_track",
    "to_rhubarb_json",
    "to_rhubarb_tsv",
    "track_frames",
    "tween",
]
