"""Item 8: lip sync, the drivers and the shape frames (issue 21).

- **cue extraction as a multiple of real time**: seconds of speech a driver times per second of
  processing, on one espeak-ng line (words synthesised one by one and joined with gaps, as in
  ``assetgen_portraits.lipsync.evaluate``; about 6 s): the text driver on the line's text, the
  speech driver aligned to the text, by phone recognition, and by loudness. Goal >= 10x for the
  speech driver (Rhubarb runs at roughly 0.3x on users' machines). Skipped without espeak-ng.
- **a lip-synced talk**: the same line as a 24 fps talk animation from its text through
  ``engine.animate`` (driver, smoothing, the distinct mouths drawn once, kept to the mouth),
  against as many still sprites from one ``engine.generate`` call, side by side in this
  process: frames/s and the ratio.
- **the nine-shape sheet** of one character (``animation=mouths``): ms a sheet.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .common import ItemResult, Settings, median, ratio, side_by_side
from .models import ModelSource

LINE = "The bridge is out, so we take the long road through the forest."
FPS = 24.0


def _clip(folder: Path) -> tuple[Path, float] | None:
    """A WAV of LINE said by espeak-ng word by word, and its length in seconds."""
    if shutil.which("espeak-ng") is None:
        return None
    import soundfile
    from assetgen_portraits.lipsync import evaluate as timing

    clip = timing.make_clip(LINE, np.random.default_rng(0), timing.Espeak.get())
    path = folder / "line.wav"
    soundfile.write(str(path), clip.samples, clip.rate, subtype="PCM_16")
    return path, clip.seconds


def bench_lipsync(engine: Any, src: ModelSource, settings: Settings) -> ItemResult:
    item = ItemResult("8", "Lip sync: cue extraction and lip-synced portrait frames")
    src.require_model()
    from assetgen_portraits import lipsync

    with tempfile.TemporaryDirectory() as tmp:
        made = _clip(Path(tmp))
        seconds = lipsync.text_track(LINE).duration
        fns: dict[str, Any] = {"text": lambda: lipsync.text_track(LINE)}
        if made is not None:
            wav, seconds_audio = made
            for method in ("align", "phones", "loudness"):
                fns[method] = (lambda m: lambda: lipsync.audio_track(wav, text=LINE, method=m))(
                    method
                )
            for fn in fns.values():
                fn()  # warm: the dictionary and the decoder load once per process
        times = side_by_side(fns, settings.reps, settings.batch_s)
    speed = {k: (seconds if k == "text" else seconds_audio) / median(v) for k, v in times.items()}
    item.details.update(line=LINE, x_realtime=speed)
    item.row("text driver", speed["text"], "× real time", note=f"{seconds:.2f} s line")
    if made is None:
        item.skip("speech driver, aligned to the text", "espeak-ng is not installed",
                  target=10.0, unit="× real time")
    else:
        item.row("speech driver, aligned to the text", speed["align"], "× real time",
                 target=10.0, note=f"{seconds_audio:.2f} s espeak-ng clip")
        item.row("speech driver, phone recognition", speed["phones"], "× real time")
        item.row("speech driver, loudness", speed["loudness"], "× real time")

    frames = lipsync.track_frames(lipsync.smooth(lipsync.text_track(LINE), fps=FPS), FPS)
    anim = {
        "talk": lambda: engine.animate("portraits", seed=7, animation="talk", text=LINE, fps=FPS),
        "stills": lambda: engine.generate("portraits", seed=7, count=frames),
        "mouths": lambda: engine.animate("portraits", seed=7, animation="mouths"),
    }
    for fn in anim.values():
        fn()
    times = side_by_side(anim, settings.reps, settings.batch_s)
    item.details.update(talk_frames=frames, animation_s={k: median(v) for k, v in times.items()})
    item.row(f"lip-synced talk, {frames} frames at {FPS:g} fps (engine.animate)",
             frames / median(times["talk"]), "frames/s")
    item.row("lip-synced talk / as many stills (engine.generate)",
             ratio(times["stills"], times["talk"]), "×",
             note="above 1: faster than stills (each distinct mouth drawn once)")
    item.row("nine-shape sheet (animation=mouths)", median(times["mouths"]), "ms")
    return item
