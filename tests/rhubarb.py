"""Rhubarb Lip Sync cue documents for the tests (portraits and studio lip-sync tests)."""

from __future__ import annotations

from typing import Any


def rhubarb_json(sound_file: str, *cues: tuple[float, float, str]) -> dict[str, Any]:
    """The JSON document Rhubarb writes (``rhubarb -f json``) for ``cues`` (start and end in
    seconds, mouth shape); its duration is the last cue's end."""
    return {
        "metadata": {"soundFile": sound_file, "duration": cues[-1][1]},
        "mouthCues": [{"start": start, "end": end, "value": v} for start, end, v in cues],
    }
