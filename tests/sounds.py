"""Sound files for the lip-sync tests (portraits generator and studio)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def speech_wav(path: Path, seconds: float = 1.5, rate: int = 8000) -> Path:
    """A 16-bit mono WAV at ``path``: silence, then a 220 Hz tone from half-way (the mouth stays
    shut, then opens)."""
    t = np.arange(int(seconds * rate)) / rate
    tone = (np.sin(2 * np.pi * 220 * t) * 12000 * (t > seconds / 2)).astype("<i2")
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes(tone.tobytes())
    return path
