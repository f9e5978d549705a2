"""The Studio's server without a browser: the JSON API (results equal the engine's, bad input is
400 with the engine's own message), the reproduction recipes (the shown CLI command, C# call
and options JSON give the same bytes), and the ``assetgen studio`` command."""

from __future__ import annotations

import base64
import io
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
from assetgen_dialogue import plugin as dialogue_plugin
from assetgen_shoes import plugin as shoes_plugin
from hypothesis import given, settings
from hypothesis import strategies as st

from assetgen import Engine, InvalidOptionsError
from assetgen.bridge import Bridge
from assetgen.cli import main as cli_main
from assetgen.studio import INSTALL_HINT
from assetgen.studio.recipes import Recipe, csharp_string, option_text
from assetgen.studio.server import RunningStudio, start_in_thread

from ..sounds import speech_wav

HAS_SHOES = (shoes_plugin.MODEL_DIR / "manifest.json").is_file()
needs_dialogue = pytest.mark.skipif(
    not (dialogue_plugin.MODEL_DIR / "manifest.json").is_file(),
    reason="no shipped dialogue model (plugins/assetgen_dialogue/model/)",
)
needs_shoes = pytest.mark.skipif(
    not HAS_SHOES, reason="no shipped shoes model yet (plugins/assetgen_shoes/model/)"
)

def call(
    studio: RunningStudio, path: str, body: Any = None, *, raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(
        studio.url.rstrip("/") + path,
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, _lower(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, _lower(err.headers), err.read()


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def post_json(studio: RunningStudio, path: str, body: Any) -> dict[str, Any]:
    status, _, data = call(studio, path, body)
    assert status == 200, data
    return json.loads(data)


def png_of(data_url: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return base64.b64decode(data_url[len(prefix):])


def run_cli(command: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run a shown ``assetgen ...`` command in ``folder``; returns its output folder."""
    words = shlex.split(command)
    assert words[0] == "assetgen"
    monkeypatch.chdir(folder)
    assert cli_main(words[1:]) == 0
    return folder / words[words.index("--out") + 1]


def files_of(headers: dict[str, str], data: bytes) -> dict[str, bytes]:
    """An export answer as {file name: bytes}: the file itself, or a zip's members."""
    name = headers["content-disposition"].split('filename="')[1].rstrip('"')
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {n: archive.read(n) for n in archive.namelist()}
    return {name: data}


# -- pages and discovery ---------------------------------------------------------------------


def test_the_page_and_its_files_are_served(studio: RunningStudio) -> None:
    status, headers, page = call(studio, "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"AssetGen Studio" in page
    for name in ("studio.js", "studio.css"):
        status, _, data = call(studio, f"/static/{name}")
        assert status == 200 and len(data) > 1000


def test_generators_carry_schemas_model_facts_and_model_errors(
    studio: RunningStudio, engine: Engine
) -> None:
    status, _, data = call(studio, "/api/generators")
    catalogue = json.loads(data)
    gens = {g["id"]: g for g in catalogue["generators"]}
    assert {"portraits", "dialogue", "shoes"} <= set(gens)
    portraits = gens["portraits"]
    assert portraits["model"]["attributes"] == engine.generator_info("portraits").model[
        "attributes"
    ]
    assert set(portraits["options_schema"]["properties"]) >= {
        "truncation", "mix_seed", "mix_layer", "attributes"
    }
    assert portraits["animation_options_schema"]["properties"]["animation"]["enum"] == [
        "talk", "blink", "interpolate", "mouths"
    ]
    # 2**63 - 1 travels as text: a JavaScript number would round it
    assert portraits["options_schema"]["properties"]["mix_seed"]["maximum"] == str(2**63 - 1)
    if not HAS_SHOES:
        assert "manifest" in gens["shoes"]["model"]["error"]
    formats = {e["id"]: e["accepts"] for e in catalogue["exporters"]}
    assert {"png", "sheet", "gif", "yarn"} <= set(formats)


# -- results are the engine's ------------------------------------------------------------------


def test_a_page_of_seeds_is_the_engines_images(studio: RunningStudio, engine: Engine) -> None:
    options = {"truncation": "0.9", "attributes": {}, "mix_seed": "3", "mix_layer": 4}
    result = post_json(studio, "/api/generate",
                       {"generator": "portraits", "seed": "7", "count": 4, "options": options})
    assert [item["seed"] for item in result["items"]] == ["7", "8", "9", "10"]
    expected = engine.generate("portraits", seed=7, count=4, truncation=0.9, mix_seed=3,
                               mix_layer=4)
    assert [png_of(i["png"]) for i in result["items"]] == [a.to_png() for a in expected]


def test_attribute_sliders_change_the_image(studio: RunningStudio, engine: Engine) -> None:
    name = engine.generator_info("portraits").model["attributes"][0]
    plain = post_json(studio, "/api/generate", {"generator": "portraits", "seed": 2})
    pushed = post_json(studio, "/api/generate", {
        "generator": "portraits", "seed": 2, "options": {"attributes": {name: 3}}})
    assert plain["items"][0]["png"] != pushed["items"][0]["png"]
    assert f"attributes={name}:3.0" in pushed["recipe"]["cli"]


def test_seeds_beyond_javascripts_exact_range_travel_as_text(studio: RunningStudio) -> None:
    seed = 2**63 - 2
    result = post_json(studio, "/api/generate",
                       {"generator": "portraits", "seed": str(seed), "count": 2})
    assert [i["seed"] for i in result["items"]] == [str(seed), str(seed + 1)]
    assert f"--seed {seed}" in result["recipe"]["cli"]


def test_talk_driven_by_a_line_is_as_long_as_the_engine_makes_it(
    studio: RunningStudio, engine: Engine
) -> None:
    line = "Well met, traveller! The road north is closed."
    result = post_json(studio, "/api/animate", {
        "generator": "portraits", "seed": 5, "options": {"animation": "talk", "text": line}})
    anim = engine.animate("portraits", seed=5, text=line)
    assert len(result["frames"]) == len(anim.frames) > 8
    assert [png_of(f) for f in result["frames"]] == [f.to_png() for f in anim.frames]
    assert result["fps"] == anim.fps
    assert shlex.split(result["recipe"]["cli"])[5:9] == ["--animation", "talk", "--text", line]


def test_talk_driven_by_an_uploaded_wav_is_the_engines_and_the_cli_commands(
    studio: RunningStudio, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page uploads the WAV (it used to send a path on the server); the shown command,
    run where the file is, writes the exported sheet byte for byte."""
    wav = speech_wav(tmp_path / "line.wav")
    data = base64.b64encode(wav.read_bytes()).decode()
    body = {"mode": "animate", "generator": "portraits", "seed": 6, "format": "sheet",
            "options": {"animation": "talk"},
            "uploads": {"audio": {"name": "line.wav", "data": data}}}
    result = post_json(studio, "/api/animate", body)
    anim = engine.animate("portraits", seed=6, audio=str(wav))
    assert [png_of(f) for f in result["frames"]] == [f.to_png() for f in anim.frames]
    assert len(anim.frames) == 18  # 1.5 s at 12 fps
    assert "--animation talk --audio line.wav --format sheet" in result["recipe"]["cli"]
    status, headers, exported = call(studio, "/api/export", body)
    assert status == 200
    assert run_cli(result["recipe"]["cli"], tmp_path, monkeypatch).is_dir()
    written = {p.name: p.read_bytes() for p in (tmp_path / "out" / "studio").iterdir()}
    assert written == files_of(headers, exported)
    # a path on the server is refused, whatever it names, without being opened
    for path in (str(wav), "/etc/shadow", "/nonexistent.wav"):
        status, _, data_ = call(studio, "/api/animate", {**body, "uploads": None,
                                                         "options": {"audio": path}})
        assert status == 400
        assert json.loads(data_)["error"] == (
            "option 'audio' names a file, and the Studio does not open files on the server by "
            'name: upload a WAV, OGG or FLAC file instead (request key "uploads")'
        )
    # the portraits plugin's own check of the file names the upload, not its private copy
    header_only = wav.read_bytes()[:44]
    status, _, data_ = call(studio, "/api/animate", {**body, "uploads": {"audio": {
        "name": "speech.wav", "data": base64.b64encode(header_only[:20]).decode()}}})
    assert status == 400
    error = json.loads(data_)["error"]
    assert error.startswith("option 'audio': cannot use 'speech.wav': ") and "/" not in error


# -- bad input ---------------------------------------------------------------------------------


def engine_message(engine: Engine, generator: str, options: dict[str, Any], **kw: Any) -> str:
    with pytest.raises(InvalidOptionsError) as caught:
        engine.parse_options(generator, options, from_text=True, **kw)
    return str(caught.value)


@pytest.mark.parametrize(
    "options",
    [
        {"truncation": 9},
        {"truncation": "lots"},
        {"mix_layer": 0},
        {"mix_seed": "-5"},
        {"attributes": {"no_such_attribute": 1}},
        {"colour": "red"},
    ],
)
def test_bad_options_are_400_with_the_engines_message(
    studio: RunningStudio, engine: Engine, options: dict[str, Any]
) -> None:
    status, headers, data = call(
        studio, "/api/generate", {"generator": "portraits", "seed": 1, "options": options})
    assert status == 400 and headers["content-type"] == "application/json"
    body = json.loads(data)
    assert body["type"] == "InvalidOptionsError"
    assert body["error"] == engine_message(engine, "portraits", options)


def test_a_bad_animation_request_is_400_with_the_engines_message(
    studio: RunningStudio, engine: Engine
) -> None:
    options = {"animation": "blink", "text": "hello"}
    status, _, data = call(studio, "/api/animate",
                           {"generator": "portraits", "seed": 1, "options": options})
    assert status == 400
    assert json.loads(data)["error"] == engine_message(engine, "portraits", options, animate=True)


@pytest.mark.parametrize(
    ("path", "body", "words"),
    [
        ("/api/generate", {"generator": "nope"}, "unknown generator 'nope'; available generators"),
        ("/api/generate", {"generator": "portraits", "seed": -1}, "seed must be an integer"),
        ("/api/generate", {"generator": "portraits", "seed": "12x"}, "seed must be an integer"),
        ("/api/generate", {"generator": "portraits", "count": 0}, "count must be an integer"),
        ("/api/generate", {"generator": "portraits", "count": 65}, "count must be an integer"),
        ("/api/generate", {"generator": "portraits", "size": 3}, "unknown request key 'size'"),
        ("/api/generate", [1, 2], "must be a JSON object"),
        ("/api/animate", {"generator": "portraits", "frames": 999}, "frames must be an integer"),
        ("/api/animate", {"generator": "dialogue"}, "generator 'dialogue' cannot animate"),
        ("/api/export", {"generator": "portraits", "format": "gif"},
         "format 'gif' cannot write image assets"),
        ("/api/export", {"generator": "portraits", "format": "tiff"}, "unknown format 'tiff'"),
        ("/api/recipe", {"generator": "portraits", "format": 5}, "format must be a format name"),
    ],
)
def test_bad_requests_are_400_and_say_what_is_wrong(
    studio: RunningStudio, path: str, body: Any, words: str
) -> None:
    status, _, data = call(studio, path, body)
    assert status == 400, data
    assert words in json.loads(data)["error"]


def test_a_body_that_is_not_json_is_400(studio: RunningStudio) -> None:
    status, _, data = call(studio, "/api/generate", raw=b"{truncation: 1")
    assert status == 400 and "not valid JSON" in json.loads(data)["error"]


def test_a_missing_model_is_500_with_the_engines_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetgen_portraits import plugin as portraits_plugin

    monkeypatch.setattr(portraits_plugin, "MODEL_DIR", tmp_path / "no-model")
    running = start_in_thread(Engine(device="cpu"))
    try:
        status, _, data = call(running, "/api/generators")
        (portraits,) = [g for g in json.loads(data)["generators"] if g["id"] == "portraits"]
        assert "model manifest not found" in portraits["model"]["error"]
        status, _, data = call(running, "/api/generate", {"generator": "portraits"})
    finally:
        running.stop()
    body = json.loads(data)
    assert status == 500 and body["type"] == "ModelError"
    assert "model manifest not found" in body["error"]


def test_requests_for_another_host_name_are_refused(studio: RunningStudio) -> None:
    """A page on another site cannot reach the server by pointing its own name at 127.0.0.1."""
    status, _, _ = call(studio, "/api/generators", headers={"Host": "evil.example:80"})
    assert status == 400


# -- reproduction: the shown CLI command, C# call and Python call -------------------------------


def test_the_cli_command_writes_the_exported_png_byte_for_byte(
    studio: RunningStudio, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = engine.generator_info("portraits").model["attributes"][-1]
    body = {"generator": "portraits", "seed": "11", "format": "png", "options": {
        "truncation": "0.55", "mix_seed": "4", "mix_layer": "3", "attributes": {name: -1.7}}}
    shown = post_json(studio, "/api/generate", body)
    status, headers, data = call(studio, "/api/export", body)
    assert status == 200 and headers["content-type"] == "image/png"
    assert data == png_of(shown["items"][0]["png"])
    recipe = shown["recipe"]
    out = run_cli(recipe["cli"], tmp_path, monkeypatch)
    assert (out / "portraits_11.png").read_bytes() == data
    # the C# call passes this JSON to GeneratePng: the bridge's Python half gives the same
    bridge = Bridge(engine)
    assert bridge.generate_png("portraits", 11, recipe["options_json"]) == data
    assert csharp_string(recipe["options_json"]) in recipe["csharp"]
    assert recipe["csharp"].startswith('byte[] png = engine.GeneratePng("portraits", 11, ')


def test_the_cli_command_writes_the_exported_sprite_sheet(
    studio: RunningStudio, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"mode": "animate", "generator": "portraits", "seed": 3, "frames": 6,
            "format": "sheet", "options": {"animation": "blink", "strength": "1.5"}}
    status, headers, data = call(studio, "/api/export", body)
    assert status == 200 and headers["content-type"] == "application/zip"
    files = files_of(headers, data)
    assert set(files) == {"portraits_3.png", "portraits_3.json"}
    table = json.loads(files["portraits_3.json"])
    assert len(table["frames"]) == 6 and table["meta"]["frameTags"][0]["name"] == "blink"
    recipe = post_json(studio, "/api/recipe", body)["recipe"]
    assert "--frames 6 --animation blink -o strength=1.5 --format sheet" in recipe["cli"]
    out = run_cli(recipe["cli"], tmp_path, monkeypatch)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files
    frames = Bridge(engine).animate_png("portraits", 3, recipe["options_json"], 6)
    anim = engine.animate("portraits", seed=3, frames=6, animation="blink", strength=1.5)
    assert frames == [f.to_png() for f in anim.frames]
    assert 'engine.AnimatePng("portraits", 3, 6, ' in recipe["csharp"]


def test_a_whole_grid_exports_as_one_sheet(
    studio: RunningStudio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"generator": "portraits", "seed": 16, "count": 16, "format": "sheet"}
    status, headers, data = call(studio, "/api/export", body)
    files = files_of(headers, data)
    assert set(files) == {"portraits_16-31.png", "portraits_16-31.json"}
    recipe = post_json(studio, "/api/recipe", body)["recipe"]
    assert "--count 16" in recipe["cli"] and "for (long seed = 16; seed <= 31" in recipe["csharp"]
    out = run_cli(recipe["cli"], tmp_path, monkeypatch)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == files


@needs_dialogue
def test_dialogue_lines_export_to_yarn_as_the_cli_writes_them(
    studio: RunningStudio, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = {"archetype": "soldier", "temperature": "0.6", "prompt": "Halt, who goes there?"}
    body = {"generator": "dialogue", "seed": 5, "count": 3, "format": "yarn", "options": options}
    shown = post_json(studio, "/api/generate", body)
    lines = engine.generate("dialogue", seed=5, count=3, archetype="soldier", temperature=0.6,
                            prompt="Halt, who goes there?")
    assert [i["text"] for i in shown["items"]] == [a.text for a in lines]
    assert all(i["text"].startswith("Halt, who goes there?") for i in shown["items"])
    status, headers, data = call(studio, "/api/export", body)
    assert status == 200 and b"soldier: Halt, who goes there?" in data
    out = run_cli(shown["recipe"]["cli"], tmp_path, monkeypatch)
    assert (out / "dialogue_5-7.yarn").read_bytes() == data
    bridge = Bridge(engine)
    assert bridge.generate_text("dialogue", 5, 3, shown["recipe"]["options_json"]) == [
        a.text for a in lines
    ]


@needs_shoes
def test_shoes_type_and_colour(studio: RunningStudio, engine: Engine) -> None:
    types = engine.generator_info("shoes").model["types"]
    plain = post_json(studio, "/api/generate",
                      {"generator": "shoes", "seed": 4, "options": {"type": types[0]}})
    tinted = post_json(studio, "/api/generate", {"generator": "shoes", "seed": 4, "options": {
        "type": types[0], "hue_shift": "90", "saturation": "1.5"}})
    assert plain["items"][0]["png"] != tinted["items"][0]["png"]
    assert "-o hue_shift=90.0 -o saturation=1.5" in tinted["recipe"]["cli"]


def _specs() -> dict[str, Any]:
    from assetgen_portraits.plugin import PortraitAnimationOptions

    return {s.name: s for s in PortraitAnimationOptions.specs()}


@settings(max_examples=60, deadline=None)
@given(
    truncation=st.floats(0, 1.5, allow_nan=False),
    strength=st.floats(-5, 5, allow_nan=False),
    text=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40),
)
def test_option_text_reads_back_as_the_same_value(
    truncation: float, strength: float, text: str
) -> None:
    """What the CLI command shows for each option parses back to exactly the value used."""
    from assetgen_portraits.plugin import PortraitAnimationOptions

    specs = _specs()
    values = {"truncation": truncation, "attributes": {"glasses": strength}, "text": text}
    for name, value in values.items():
        parsed = specs[name].convert(option_text(specs[name], value), from_text=True)
        assert parsed == value
    options = PortraitAnimationOptions.parse({"truncation": truncation, "text": text})
    recipe = Recipe("animate", "portraits", "animation", 1, 1, None, options, "gif")
    words = shlex.split(recipe.to_dict()["cli"])
    if text:
        assert words[words.index("--text") + 1] == text
    shown = json.loads(recipe.options_json())
    if truncation == specs["truncation"].default:
        assert "truncation" not in shown
    else:
        assert shown["truncation"] == truncation


def test_csharp_strings_escape_quotes_and_backslashes() -> None:
    text = json.dumps({"text": 'say "hi"\\ \n é'}, ensure_ascii=True)
    assert csharp_string(text) == '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    assert "\n" not in csharp_string(text)


# -- the command -------------------------------------------------------------------------------


def test_without_the_extra_the_command_names_the_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "starlette", None)
    assert cli_main(["studio"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and INSTALL_HINT in err


def test_a_port_in_use_is_a_one_line_error(
    studio: RunningStudio, capsys: pytest.CaptureFixture[str]
) -> None:
    port = studio.sock.getsockname()[1]
    assert cli_main(["studio", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"cannot listen on 127.0.0.1:{port}" in err


def test_assetgen_studio_serves_the_page_until_interrupted(tmp_path: Path) -> None:
    """As a user runs it: the real command, its printed address, the page, Ctrl-C."""
    env = {**os.environ, "ASSETGEN_LOAD_PLUGINS": "dialogue,exporters"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assetgen", "studio", "--port", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("AssetGen Studio: http://127.0.0.1:"), line
        url = line.split()[2]
        with urllib.request.urlopen(url, timeout=30) as response:
            assert b"AssetGen Studio" in response.read()
        with urllib.request.urlopen(url + "api/generators", timeout=30) as response:
            assert [g["id"] for g in json.loads(response.read())["generators"]] == ["dialogue"]
        host, port = url.split("//")[1].strip("/").split(":")
        with socket.create_connection((host, int(port)), timeout=5):
            pass
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "AssetGen Studio stopped" in err
