"""Lip sync in the Studio (issue 21): a recording (WAV, OGG or FLAC) or a Rhubarb cue file
uploaded for the talk animation, the cue track in the animation's answer, the ``cues`` export
and the reproductions; and, in headless Chromium, the mouth-shape timeline under the
animation. The server runs over the tiny label-conditioned portraits model (the shipped kind,
whose talk draws the nine Rhubarb shapes)."""

from __future__ import annotations

import base64
import json
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from assetgen_portraits import plugin as portraits_plugin

from assetgen import Engine
from assetgen.bridge import Bridge
from assetgen.studio import MAX_UPLOAD
from assetgen.studio.server import RunningStudio
from assetgen.studio.service import MAX_CUES_UPLOAD

from ..rhubarb import rhubarb_json
from .conftest import PLUGINS
from .test_api import call, files_of, png_of, post_json, run_cli

LINE = "Hello there, how are you?"
CUES_JSON = json.dumps(
    rhubarb_json(
        "hello.wav",
        (0.0, 0.25, "X"), (0.25, 0.5, "B"), (0.5, 0.75, "D"),
        (0.75, 1.0, "F"), (1.0, 1.25, "A"), (1.25, 1.5, "X"),
    ),
    indent=2,
)  # fmt: skip
CUES_TSV = "0.00\tX\n0.30\tC\n0.60\tE\n0.90\tA\n1.20\tX\n"


@pytest.fixture(scope="module")
def patched_models(tiny_label_model: Path) -> Iterator[Path]:
    """The tiny label-conditioned portraits model in place of the shipped one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(portraits_plugin, "MODEL_DIR", tiny_label_model)
        patch.setenv("ASSETGEN_LOAD_PLUGINS", PLUGINS)
        yield tiny_label_model


def recording(path: Path, seconds: float = 1.5, rate: int = 16000) -> Path:
    """Silence, then a buzzing vowel-like tone, in the format the suffix names."""
    t = np.arange(int(seconds * rate)) / rate
    voice = np.sin(2 * np.pi * 140 * t) + 0.5 * np.sin(2 * np.pi * 700 * t)
    sound = (0.4 * voice * (t > seconds / 3)).astype(np.float32)
    soundfile.write(str(path), sound, rate)
    return path


def uploaded(option: str, path: Path, name: str | None = None) -> dict[str, Any]:
    data = base64.b64encode(path.read_bytes()).decode()
    return {option: {"name": name or path.name, "data": data}}


def frame_cues(cues: list[list[Any]], fps: float, frames: int) -> list[int]:
    """The cue each frame shows: the one covering most of its time (ties: the earlier)."""
    out = []
    for k in range(frames):
        a, b = k / fps, (k + 1) / fps
        overlaps = [min(end, b) - max(start, a) for start, end, _ in cues]
        best = max(range(len(cues)), key=lambda i: (overlaps[i] > 1e-9, overlaps[i], -i))
        out.append(best if overlaps[best] > 1e-9 else -1)
    return out


def talk(seed: int = 6, **options: Any) -> dict[str, Any]:
    return {"mode": "animate", "generator": "portraits", "seed": seed,
            "options": {"animation": "talk", **options}}


# -- the API ---------------------------------------------------------------------------------


def test_the_catalogue_marks_audio_and_cues_as_uploads(studio: RunningStudio) -> None:
    catalogue = json.loads(call(studio, "/api/generators")[2])
    (portraits,) = [g for g in catalogue["generators"] if g["id"] == "portraits"]
    schema = portraits["animation_options_schema"]["properties"]
    assert schema["audio"]["x-studio-upload"]["what"] == "a WAV, OGG or FLAC file"
    assert {".wav", ".ogg", ".flac"} <= set(schema["audio"]["x-studio-upload"]["accept"]
                                           .split(","))
    assert schema["audio"]["x-studio-upload"]["max_bytes"] == MAX_UPLOAD
    assert schema["cues"]["x-studio-upload"] == {
        "what": "a Rhubarb cue file (JSON or TSV text)",
        "accept": ".json,.tsv,.txt,application/json,text/tab-separated-values,text/plain",
        "max_bytes": MAX_CUES_UPLOAD,
    }
    assert "cues" in {e["id"] for e in catalogue["exporters"]}


def test_a_typed_line_answers_with_its_cue_track_and_frame_shapes(
    studio: RunningStudio, engine: Engine
) -> None:
    result = post_json(studio, "/api/animate", talk(text=LINE))
    anim = engine.animate("portraits", seed=6, text=LINE)
    meta = result["metadata"]
    assert meta["lipsync"] == json.loads(json.dumps(anim.metadata["lipsync"]))
    assert meta["lipsync"]["source"] == "text"
    assert meta["frame_shapes"] == anim.metadata["frame_shapes"]
    assert len(meta["frame_shapes"]) == len(result["frames"]) == len(anim.frames)
    assert [png_of(f) for f in result["frames"]] == [f.to_png() for f in anim.frames]
    assert set(meta["frame_shapes"]) <= set("ABCDEFGHX")


@pytest.mark.parametrize("suffix", [".wav", ".ogg", ".flac"])
def test_a_recording_uploads_as_wav_ogg_or_flac(
    studio: RunningStudio, engine: Engine, tmp_path: Path, suffix: str
) -> None:
    audio = recording(tmp_path / f"line{suffix}")
    body = {**talk(speech="loudness"), "uploads": uploaded("audio", audio)}
    status, _, data = call(studio, "/api/animate", body)
    assert status == 200, data
    assert "assetgen-studio-" not in data.decode()  # no private path in the answer
    result = json.loads(data)
    anim = engine.animate("portraits", seed=6, audio=str(audio), speech="loudness")
    assert [png_of(f) for f in result["frames"]] == [f.to_png() for f in anim.frames]
    assert len(anim.frames) == 18  # 1.5 s at 12 fps
    assert result["metadata"]["lipsync"]["sound_file"] == audio.name
    assert result["metadata"]["lipsync"]["cues"] == json.loads(
        json.dumps(anim.metadata["lipsync"]["cues"]))
    assert f"--audio line{suffix} -o speech=loudness" in result["recipe"]["cli"]
    assert result["options"]["audio"] == audio.name


def test_the_cues_export_of_an_uploaded_recording_is_the_cli_commands(
    studio: RunningStudio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Rhubarb files name the recording as the user has it (soundFile), and the shown
    command, run beside the recording, writes the same bytes."""
    audio = recording(tmp_path / "hello.flac")
    body = {**talk(seed=3, speech="loudness", hold=0.12), "format": "cues",
            "uploads": uploaded("audio", audio)}
    recipe = post_json(studio, "/api/recipe", body)["recipe"]
    assert recipe["cli"] == (
        "assetgen animate portraits --seed 3 --animation talk --audio hello.flac "
        "-o speech=loudness -o hold=0.12 --format cues --out out/studio"
    )
    assert json.loads(recipe["options_json"]) == {
        "animation": "talk", "audio": "hello.flac", "speech": "loudness", "hold": 0.12}
    assert "audio='hello.flac', speech='loudness', hold=0.12" in recipe["python"]
    status, headers, exported = call(studio, "/api/export", body)
    assert status == 200, exported
    files = files_of(headers, exported)
    assert set(files) == {"portraits_3_cues.json", "portraits_3_cues.tsv"}
    rhubarb = json.loads(files["portraits_3_cues.json"])
    assert rhubarb["metadata"]["soundFile"] == "hello.flac"
    assert rhubarb["mouthCues"] and {c["value"] for c in rhubarb["mouthCues"]} <= set("ABCDEFGHX")
    written = run_cli(recipe["cli"], tmp_path, monkeypatch)
    assert {p.name: p.read_bytes() for p in written.iterdir()} == files


@pytest.mark.parametrize(("name", "text"), [("line.json", CUES_JSON), ("line.tsv", CUES_TSV)])
def test_an_uploaded_cue_file_drives_the_talk_and_its_reproductions(
    studio: RunningStudio, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    name: str, text: str,
) -> None:
    cue_file = tmp_path / name
    cue_file.write_text(text, encoding="utf-8")
    body = {**talk(seed=2, extended_shapes=False), "format": "gif",
            "uploads": uploaded("cues", cue_file)}
    result = post_json(studio, "/api/animate", body)
    anim = engine.animate("portraits", seed=2, cues=str(cue_file), extended_shapes=False)
    assert [png_of(f) for f in result["frames"]] == [f.to_png() for f in anim.frames]
    assert result["metadata"]["lipsync"]["source"] == "cues"
    assert result["metadata"]["frame_shapes"] == anim.metadata["frame_shapes"]
    words = shlex.split(result["recipe"]["cli"])
    assert words[words.index("-o") :] == [
        "-o", f"cues={name}", "-o", "extended_shapes=false", "--format", "gif",
        "--out", "out/studio",
    ]
    status, headers, exported = call(studio, "/api/export", body)
    assert status == 200
    written = run_cli(result["recipe"]["cli"], tmp_path, monkeypatch)
    assert {p.name: p.read_bytes() for p in written.iterdir()} == files_of(headers, exported)
    # the C# call's options JSON, through the bridge's Python half, beside the file
    frames = Bridge(engine).animate_png("portraits", 2, result["recipe"]["options_json"])
    assert frames == [f.to_png() for f in anim.frames]


def _upload(option: str, data: bytes, name: str) -> dict[str, Any]:
    return {option: {"name": name, "data": base64.b64encode(data).decode()}}


AUDIO_KINDS = "is not a WAV, OGG or FLAC file"
CUE_KINDS = "is not a Rhubarb cue file (JSON or TSV text)"


@pytest.mark.parametrize(
    ("uploads", "fragment"),
    [
        (_upload("audio", b"Hello, this is a note, not a recording.", "notes.txt"),
         f"option 'audio': the uploaded file 'notes.txt' {AUDIO_KINDS}"),
        (_upload("audio", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "face.png"),
         f"option 'audio': the uploaded file 'face.png' {AUDIO_KINDS}"),
        (_upload("audio", b"RIFF\x10\x00\x00\x00AVI LIST", "clip.wav"),
         f"option 'audio': the uploaded file 'clip.wav' {AUDIO_KINDS}"),
        (_upload("audio", b"OggX" + b"\x00" * 40, "line.ogg"),
         f"option 'audio': the uploaded file 'line.ogg' {AUDIO_KINDS}"),
        (_upload("audio", b"", "empty.flac"), f"{AUDIO_KINDS} (it is empty)"),
        (_upload("audio", b"fLaC" + b"\x00" * MAX_UPLOAD, "long.flac"),
         f"option 'audio': the uploaded file is over {MAX_UPLOAD} bytes, the most the Studio "
         "takes for a WAV, OGG or FLAC file"),
        (_upload("cues", b"RIFF\x00\x00\x00\x00WAVEfmt ", "line.json"),
         f"option 'cues': the uploaded file 'line.json' {CUE_KINDS}"),
        (_upload("cues", b"{\xff\xfe not utf-8}", "line.json"),
         f"option 'cues': the uploaded file 'line.json' {CUE_KINDS}"),
        (_upload("cues", b"start\tvalue\n", "line.tsv"),
         f"option 'cues': the uploaded file 'line.tsv' {CUE_KINDS}"),
        (_upload("cues", b"{" + b" " * MAX_CUES_UPLOAD + b"}", "big.json"),
         f"option 'cues': the uploaded file is over {MAX_CUES_UPLOAD} bytes, the most the "
         "Studio takes for a Rhubarb cue file (JSON or TSV text)"),
    ],
)
def test_bad_uploads_are_refused_naming_the_option_and_the_kinds_allowed(
    studio: RunningStudio, uploads: dict[str, Any], fragment: str
) -> None:
    status, _, data = call(studio, "/api/animate", {**talk(), "uploads": uploads})
    answer = json.loads(data)
    assert status == 400 and fragment in answer["error"], answer
    assert answer["parameter"] == next(iter(uploads))
    assert "assetgen-studio-" not in answer["error"]


def test_a_cue_file_the_plugin_cannot_read_is_named_as_uploaded(studio: RunningStudio) -> None:
    """Text that starts like a cue file but is not one reaches the plugin, whose message
    names the upload, never its private copy."""
    bad = _upload("cues", b'{"mouthCues": "not a list"}', "broken.json")
    status, _, data = call(studio, "/api/animate", {**talk(), "uploads": bad})
    answer = json.loads(data)
    assert status == 400 and answer["parameter"] == "cues", answer
    assert "broken.json" in answer["error"] and "assetgen-studio-" not in answer["error"]


def test_a_cue_file_is_never_named_by_a_server_path(studio: RunningStudio) -> None:
    status, _, data = call(studio, "/api/animate", talk(cues="/etc/passwd"))
    assert status == 400
    assert json.loads(data)["error"] == (
        "option 'cues' names a file, and the Studio does not open files on the server by "
        'name: upload a Rhubarb cue file (JSON or TSV text) instead (request key "uploads")'
    )


# -- the timeline, in Chromium ---------------------------------------------------------------


def test_a_typed_line_shows_its_cues_on_a_timeline_that_follows_and_seeks(
    browser: Any, studio: RunningStudio, engine: Engine, downloads: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from .test_browser import export, export_files, find, idle, open_studio, wait_for

    browser.set_window_size(1440, 1000)
    open_studio(browser, studio, "generator=portraits&seed=7")
    assert not find(browser, "#cue-box").is_displayed()
    find(browser, 'textarea[data-option="text"]').send_keys(LINE)
    find(browser, "#say-play").click()
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.playing") == "1")
    wait_for(browser, lambda d: d.find_element(By.ID, "cue-box").is_displayed())
    idle(browser)
    anim = engine.animate("portraits", seed=7, text=LINE)
    fps, shapes = anim.fps, anim.metadata["frame_shapes"]
    cues = anim.metadata["lipsync"]["cues"]

    # one segment per cue, labelled with its letter, as wide as it lasts
    segments = browser.find_elements(By.CSS_SELECTOR, "#cue-track .cue")
    shown = [(float(s.get_attribute("data-start")), float(s.get_attribute("data-end")), s.text)
             for s in segments]
    assert shown == [(float(a), float(b), str(x)) for a, b, x in cues]
    track_width = find(browser, "#cue-track").rect["width"]
    span = max(anim.metadata["lipsync"]["duration"], len(anim.frames) / fps)
    for segment, (start, end, _) in zip(segments, cues, strict=True):
        assert abs(segment.rect["width"] - track_width * (end - start) / span) < 1.5
    # the cue under each frame's time is the shape that frame draws
    under = frame_cues(cues, fps, len(anim.frames))
    assert [cues[i][2] if i >= 0 else "X" for i in under] == shapes
    legend = find(browser, "#cue-legend").text
    for words in ("A closed (M, B, P)", "G F, V", "H L", "X rest"):
        assert words in legend

    # the playhead follows playback, and the frame on show is drawn in the shape under it
    seen = set()
    deadline = time.monotonic() + 4
    while len(seen) < 4 and time.monotonic() < deadline:
        k, shape, at = browser.execute_script(
            "const f = document.getElementById('anim-frame');"
            "return [Number(f.dataset.frame), f.dataset.shape,"
            " document.getElementById('cue-playhead').dataset.time];")
        assert shape == shapes[k] and float(at) == pytest.approx(k / fps, abs=1e-3)
        seen.add(at)
        time.sleep(0.04)
    assert len(seen) >= 4

    # a click seeks: playback pauses on the first frame of that cue
    target = next(i for i in range(1, len(cues) - 1) if i in under and i + 1 in under)
    segments[target].click()
    first = under.index(target)
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.playing") == "0")
    frame = find(browser, "#anim-frame")
    assert frame.get_attribute("data-frame") == str(first)
    assert png_of(str(frame.get_attribute("src"))) == anim.frames[first].to_png()
    assert "current" in segments[target].get_attribute("class")
    playhead = float(find(browser, "#cue-playhead").get_attribute("data-time"))
    assert playhead == pytest.approx(first / fps, abs=1e-3)

    # the keyboard: the cue on show is the one tab stop; arrows and Home/End move between cues
    assert segments[target].get_attribute("tabindex") == "0"
    assert [s.get_attribute("tabindex") for s in segments].count("0") == 1
    segments[target].send_keys(Keys.ARROW_RIGHT)
    after = under.index(target + 1)
    wait_for(browser, lambda d: d.find_element(By.ID, "anim-frame").get_attribute("data-frame")
             == str(after))
    assert browser.switch_to.active_element.get_attribute("data-index") == str(target + 1)
    browser.switch_to.active_element.send_keys(Keys.HOME)
    wait_for(browser, lambda d: d.find_element(By.ID, "anim-frame").get_attribute("data-frame")
             == "0")

    # readable at 800 and 1440 pixels: the timeline fits the window, the letters are drawn
    for width in (800, 1440):
        browser.set_window_size(width, 1000)
        wait_for(browser, lambda d, w=width: d.execute_script(
            "return document.documentElement.clientWidth") <= w)
        box = find(browser, "#cue-track").rect
        page = browser.execute_script("return document.documentElement.clientWidth")
        assert box["x"] >= 0 and box["x"] + box["width"] <= page + 1, (width, box)
        assert box["width"] >= 300
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    browser.set_window_size(1440, 1000)

    # the cues format exports the track as Rhubarb files, as the shown command writes them
    formats = [o.get_attribute("value") for o in browser.find_elements(
        By.CSS_SELECTOR, "#export-format option")]
    assert "cues" in formats
    files = export_files(export(browser, downloads, "animation", "cues"))
    assert set(files) == {"portraits_7_cues.json", "portraits_7_cues.tsv"}
    rhubarb = json.loads(files["portraits_7_cues.json"])
    assert [[c["start"], c["end"], c["value"]] for c in rhubarb["mouthCues"]] == [
        [float(a), float(b), x] for a, b, x in cues]
    command = find(browser, "#cli-command").text
    written = run_cli(command, tmp_path, monkeypatch)
    assert {p.name: p.read_bytes() for p in written.iterdir()} == files


def test_a_chosen_cue_file_drives_the_timeline(
    browser: Any, studio: RunningStudio, engine: Engine, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    from .test_browser import find, idle, open_studio, wait_for

    cue_file = tmp_path / "rhubarb" / "hello.tsv"
    cue_file.parent.mkdir()
    cue_file.write_text(CUES_TSV, encoding="utf-8")
    open_studio(browser, studio, "generator=portraits&seed=4")
    find(browser, 'input[type=file][data-option="cues"]').send_keys(str(cue_file))
    wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, '.upload-name[data-option="cues"]').text == "hello.tsv")
    find(browser, '.play[data-animation="talk"]').click()
    wait_for(browser, lambda d: d.find_element(By.ID, "cue-box").is_displayed())
    idle(browser)
    anim = engine.animate("portraits", seed=4, cues=str(cue_file))
    letters = [s.text for s in browser.find_elements(By.CSS_SELECTOR, "#cue-track .cue")]
    assert letters == [x for _, _, x in anim.metadata["lipsync"]["cues"]]
    assert "from the cue file" in find(browser, "#cue-info").text
    assert "-o cues=hello.tsv" in find(browser, "#cli-command").text
    # blink has no cues: the timeline goes
    find(browser, '.play[data-animation="blink"]').click()
    wait_for(browser, lambda d: not d.find_element(By.ID, "cue-box").is_displayed())
