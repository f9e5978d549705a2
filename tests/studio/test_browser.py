"""The Studio in headless Chromium, used as a person uses it: load the page, move a slider and
see the image change, play animations, type a line and watch it spoken, export files and check
them, and run the CLI command the page shows to get the very same bytes.

Sliders are moved with the keyboard (End, Home, arrows) and text is typed, so the page's own
event handlers run exactly as for a person.
"""

from __future__ import annotations

import base64
import io
import re
import shlex
import time
import wave
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from assetgen_dialogue import plugin as dialogue_plugin
from assetgen_shoes import plugin as shoes_plugin
from PIL import Image

from assetgen import Engine, InvalidOptionsError
from assetgen.bridge import Bridge
from assetgen.cli import main as cli_main
from assetgen.studio.server import RunningStudio, start_in_thread

pytest.importorskip("selenium", reason="selenium (the dev extra) drives the browser")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

HAS_SHOES = (shoes_plugin.MODEL_DIR / "manifest.json").is_file()
needs_dialogue = pytest.mark.skipif(
    not (dialogue_plugin.MODEL_DIR / "manifest.json").is_file(),
    reason="no shipped dialogue model (plugins/assetgen_dialogue/model/)",
)
TIMEOUT = 30
_visits = iter(range(1_000_000))


# -- helpers ---------------------------------------------------------------------------------


def wait_for(browser: Any, test: Callable[[Any], Any], timeout: float = TIMEOUT) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.05).until(test)


def idle(browser: Any) -> None:
    """Every change sent and answered, and the answer drawn."""
    wait_for(browser, lambda d: d.execute_script("return !!(window.studioIdle && studioIdle())"))


def open_studio(browser: Any, studio: RunningStudio, fragment: str) -> None:
    """A fresh page (a new query string, so the browser reloads even for the same hash)."""
    browser.get(f"{studio.url}?visit={next(_visits)}#{fragment}")
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.ready") == "1")
    idle(browser)


def find(browser: Any, css: str) -> Any:
    return browser.find_element(By.CSS_SELECTOR, css)


def retype(browser: Any, css: str, text: str) -> None:
    """Replace what the field at ``css`` holds with ``text`` and leave it (Tab), as a user does."""
    field = find(browser, css)
    field.clear()
    field.send_keys(text, Keys.TAB)


def text_of(browser: Any, css: str) -> str:
    return str(find(browser, css).text)


def png_of(src: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix), src[:40]
    return base64.b64decode(src[len(prefix):])


def still(browser: Any) -> str:
    return str(find(browser, "#still").get_attribute("src"))


def changed_from(browser: Any, css: str, before: str) -> str:
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, css).get_attribute("src") != before)
    idle(browser)
    return str(find(browser, css).get_attribute("src"))


def cli_command(browser: Any) -> str:
    return text_of(browser, "#cli-command")


def run_cli(command: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Run the command the page shows, in ``folder``; the files it wrote."""
    words = shlex.split(command)
    assert words[0] == "assetgen"
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(folder)
    assert cli_main(words[1:]) == 0
    out = folder / words[words.index("--out") + 1]
    return {p.name: p.read_bytes() for p in out.iterdir()}


def csharp_options(call: str) -> str:
    """The JSON text inside the C# call's last string literal."""
    literal = re.findall(r'"((?:[^"\\]|\\.)*)"\);', call)[-1]
    return re.sub(r"\\(.)", r"\1", literal)


def export(browser: Any, downloads: Path, what: str, fmt: str) -> Path:
    """Choose what and the format, press Export, and wait for the downloaded file."""
    Select(find(browser, "#export-what")).select_by_value(what)
    Select(find(browser, "#export-format")).select_by_value(fmt)
    idle(browser)
    before = set(downloads.iterdir())
    find(browser, "#export-button").click()

    def done(_: Any) -> Path | None:
        new = [p for p in set(downloads.iterdir()) - before if not p.name.endswith(".crdownload")]
        return new[0] if new else None

    path: Path = wait_for(browser, done)
    time.sleep(0.2)  # the browser renames the finished file into place
    return path


def export_files(path: Path) -> dict[str, bytes]:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    return {path.name: path.read_bytes()}


def move_slider(browser: Any, option: str, key: str, *, attribute: str | None = None) -> None:
    css = f'input[type=range][data-option="{option}"]'
    if attribute is not None:
        css += f'[data-key="{attribute}"]'
    slider = find(browser, css)
    unfold(browser, slider)
    slider.send_keys(key)


def unfold(browser: Any, element: Any) -> None:
    """Open the folded option groups around ``element`` (outermost first), as a person
    clicks a group's title to see its controls."""
    for details in element.find_elements(By.XPATH, "ancestor::details[not(@open)]"):
        details.find_element(By.TAG_NAME, "summary").click()


def frame_count(browser: Any) -> int:
    return int(find(browser, "#anim-scrub").get_attribute("max")) + 1


def show_frame(browser: Any, index: int) -> bytes:
    """Pause and scrub to frame ``index``, as a person drags the frame slider."""
    scrub = find(browser, "#anim-scrub")
    browser.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        scrub, str(index),
    )
    wait_for(browser, lambda d: d.find_element(By.ID, "anim-frame").get_attribute("data-frame")
             == str(index))
    return png_of(str(find(browser, "#anim-frame").get_attribute("src")))


# -- portraits -------------------------------------------------------------------------------


def test_the_page_shows_a_grid_of_seeds_controls_and_the_command(
    browser: Any, studio: RunningStudio, engine: Engine
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=7")
    cells = browser.find_elements(By.CSS_SELECTOR, "#grid .cell")
    assert [c.get_attribute("data-seed") for c in cells] == [str(s) for s in range(16)]
    grid = [png_of(c.find_element(By.TAG_NAME, "img").get_attribute("src")) for c in cells]
    assert grid == [a.to_png() for a in engine.generate("portraits", seed=0, count=16)]
    assert "selected" in cells[7].get_attribute("class")
    assert png_of(still(browser)) == grid[7]
    for option in ("truncation", "mix_layer"):
        find(browser, f'input[type=range][data-option="{option}"]')
    for name in engine.generator_info("portraits").model["attributes"]:
        find(browser, f'input[type=range][data-option="attributes"][data-key="{name}"]')
    plays = browser.find_elements(By.CSS_SELECTOR, "#play-buttons .play")
    assert [p.get_attribute("data-animation") for p in plays] == [
        "talk", "blink", "interpolate", "mouths"
    ]
    choices = [o.text for o in Select(find(browser, "#generator")).options]
    assert "portraits" in choices and ("shoes" in choices if HAS_SHOES else
                                       "shoes (no model)" in choices)
    assert cli_command(browser) == (
        "assetgen generate portraits --seed 7 --format png --out out/studio"
    )
    assert text_of(browser, "#csharp-call") == (
        'byte[] png = engine.GeneratePng("portraits", 7, "{}");'
    )
    assert find(browser, "#error").is_displayed() is False


def test_sliders_change_the_image_and_the_shown_command_makes_the_same_png(
    browser: Any, studio: RunningStudio, engine: Engine, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=7")
    first = still(browser)
    move_slider(browser, "truncation", Keys.END)
    second = changed_from(browser, "#still", first)
    assert "-o truncation=1.5" in cli_command(browser)
    name = engine.generator_info("portraits").model["attributes"][0]
    move_slider(browser, "attributes", Keys.HOME, attribute=name)
    third = changed_from(browser, "#still", second)
    assert f"-o attributes={name}:-5.0" in cli_command(browser)
    for _ in range(3):  # three steps up from -5 by the slider's 0.1
        move_slider(browser, "attributes", Keys.ARROW_RIGHT, attribute=name)
    shown = png_of(changed_from(browser, "#still", third))
    command = cli_command(browser)
    assert f"-o attributes={name}:-4.7" in command
    assert shown == engine.generate("portraits", seed=7, truncation=1.5,
                                    attributes={name: -4.7})[0].to_png()
    assert run_cli(command, tmp_path, monkeypatch) == {"portraits_7.png": shown}
    # the C# call's options, through the bridge's Python half: the same bytes again
    call = text_of(browser, "#csharp-call")
    assert call.startswith('byte[] png = engine.GeneratePng("portraits", 7, ')
    assert Bridge(engine).generate_png("portraits", 7, csharp_options(call)) == shown


def test_style_mixing_takes_a_second_seed_picked_from_the_grid(
    browser: Any, studio: RunningStudio, engine: Engine
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=7")
    before = still(browser)
    find(browser, '.control[data-option="mix_seed"] .pick').click()
    find(browser, '#grid .cell[data-seed="3"]').click()
    after = changed_from(browser, "#still", before)
    assert find(browser, 'input[data-option="mix_seed"]').get_attribute("value") == "3"
    move_slider(browser, "mix_layer", Keys.HOME)
    mixed = changed_from(browser, "#still", after)
    assert png_of(mixed) == engine.generate(
        "portraits", seed=7, mix_seed=3, mix_layer=1)[0].to_png()
    assert "-o mix_seed=3 -o mix_layer=1" in cli_command(browser)
    assert find(browser, "#seed").get_attribute("value") == "7"  # picking did not select 3


def test_talk_and_blink_play_and_export_as_gif_and_sprite_sheet(
    browser: Any, studio: RunningStudio, engine: Engine, downloads: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=5")
    find(browser, '.play[data-animation="talk"]').click()
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.playing") == "1")
    seen = set()
    deadline = time.monotonic() + 5
    while len(seen) < 4 and time.monotonic() < deadline:  # frames advance on their own
        seen.add(find(browser, "#anim-frame").get_attribute("data-frame"))
        time.sleep(0.03)
    assert len(seen) >= 4
    assert "talk · frame" in text_of(browser, "#anim-info")
    talk = engine.animate("portraits", seed=5, animation="talk")
    assert frame_count(browser) == len(talk.frames) == 8
    idle(browser)
    assert show_frame(browser, 3) == talk.frames[3].to_png()
    assert cli_command(browser) == (
        "assetgen animate portraits --seed 5 --animation talk --format sheet --out out/studio"
    )
    gif = export(browser, downloads, "animation", "gif")
    assert gif.name == "portraits_5.gif"
    with Image.open(gif) as image:
        assert image.n_frames == 8 and image.size == (64, 64)
    assert run_cli(cli_command(browser), tmp_path, monkeypatch) == export_files(gif)

    find(browser, '.play[data-animation="blink"]').click()
    wait_for(browser, lambda d: "blink" in d.find_element(By.ID, "anim-info").text)
    idle(browser)
    sheet = export(browser, downloads, "animation", "sheet")
    files = export_files(sheet)
    assert set(files) == {"portraits_5.png", "portraits_5.json"}
    with Image.open(io.BytesIO(files["portraits_5.png"])) as image:
        # a short animation is one strip; 2 px of extruded border around every frame
        assert image.size == (8 * (64 + 4), 64 + 4)
    assert "--animation blink --format sheet" in cli_command(browser)
    assert run_cli(cli_command(browser), tmp_path / "sheet", monkeypatch) == files


@needs_dialogue
def test_a_typed_line_and_a_generated_line_drive_the_talk_animation(
    browser: Any, studio: RunningStudio, engine: Engine
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=9")
    line = "Well met, traveller! The road north is closed."
    find(browser, 'textarea[data-option="text"]').send_keys(line)
    find(browser, "#say-play").click()
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.playing") == "1")
    idle(browser)
    spoken = engine.animate("portraits", seed=9, text=line)
    assert frame_count(browser) == len(spoken.frames) > 8
    assert show_frame(browser, 5) == spoken.frames[5].to_png()
    words = shlex.split(cli_command(browser))
    assert words[words.index("--text") + 1] == line

    find(browser, "#say-generate").click()  # a line from the dialogue generator, seed 9
    written = engine.generate("dialogue", seed=9)[0].text
    wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, 'textarea[data-option="text"]')
             .get_attribute("value") == written)
    idle(browser)
    words = shlex.split(cli_command(browser))
    assert words[words.index("--text") + 1] == written
    assert frame_count(browser) == len(engine.animate("portraits", seed=9, text=written).frames)


def test_a_chosen_wav_file_drives_the_talk_animation(
    browser: Any, studio: RunningStudio, engine: Engine, downloads: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """audio is a file picker: the page uploads the WAV (the server never opens a path the
    page names), and the shown command, run beside the file, writes the exported GIF."""
    open_studio(browser, studio, "generator=portraits&seed=4")
    assert browser.find_elements(By.CSS_SELECTOR, 'input[type=text][data-option="audio"]') == []
    rate, seconds = 8000, 1.25
    t = np.arange(int(rate * seconds)) / rate
    tone = (np.sin(2 * np.pi * 180 * t) * 14000 * (t > 0.5)).astype("<i2")
    wav = tmp_path / "speech" / "hello.wav"
    wav.parent.mkdir()
    with wave.open(str(wav), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes(tone.tobytes())
    find(browser, 'input[type=file][data-option="audio"]').send_keys(str(wav))
    wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, '.upload-name[data-option="audio"]').text == "hello.wav")
    find(browser, '.play[data-animation="talk"]').click()
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.playing") == "1")
    idle(browser)
    spoken = engine.animate("portraits", seed=4, audio=str(wav))
    assert frame_count(browser) == len(spoken.frames) == 15  # 1.25 s at 12 fps
    assert show_frame(browser, 12) == spoken.frames[12].to_png()
    assert cli_command(browser) == (
        "assetgen animate portraits --seed 4 --animation talk --audio hello.wav --format sheet "
        "--out out/studio"
    )
    gif = export(browser, downloads, "animation", "gif")
    assert run_cli(cli_command(browser), wav.parent, monkeypatch) == export_files(gif)
    find(browser, '.control[data-option="audio"] .reset').click()  # no file: a plain talk loop
    idle(browser)
    assert "--audio" not in cli_command(browser)
    assert frame_count(browser) == 8


def test_interpolate_morphs_into_a_second_seed(
    browser: Any, studio: RunningStudio, engine: Engine
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=2")
    retype(browser, 'input[data-option="to_seed"]', "11")
    find(browser, "#frames").send_keys("6", Keys.TAB)
    find(browser, '.play[data-animation="interpolate"]').click()
    wait_for(browser, lambda d: "interpolate" in d.find_element(By.ID, "anim-info").text)
    idle(browser)
    morph = engine.animate("portraits", seed=2, frames=6, animation="interpolate", to_seed=11)
    assert frame_count(browser) == 6
    assert show_frame(browser, 0) == morph.frames[0].to_png()
    assert show_frame(browser, 5) == morph.frames[5].to_png()
    assert cli_command(browser) == (
        "assetgen animate portraits --seed 2 --frames 6 --animation interpolate "
        "-o to_seed=11 --format sheet --out out/studio"
    )


def test_bad_input_shows_the_engines_message_until_it_is_fixed(
    browser: Any, studio: RunningStudio, engine: Engine
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=1")
    retype(browser, 'input[data-option="mix_seed"]', "-5")
    with pytest.raises(InvalidOptionsError) as caught:
        engine.parse_options("portraits", {"mix_seed": "-5"}, from_text=True)
    # clearing the field sends '' first: wait for the answer to the last value, not the first
    expected = str(caught.value)
    wait_for(browser, lambda d: d.find_element(By.ID, "error").text == expected)
    idle(browser)
    assert text_of(browser, "#error") == expected
    find(browser, '.control[data-option="mix_seed"] .reset').click()
    wait_for(browser, lambda d: not d.find_element(By.ID, "error").is_displayed())

    find(browser, "#frames").send_keys("999", Keys.TAB)
    find(browser, '.play[data-animation="blink"]').click()
    expected = "frames must be an integer from 1 to 240; got 999"
    wait_for(browser, lambda d: d.find_element(By.ID, "error").text == expected)


def test_the_whole_grid_exports_as_one_sprite_sheet(
    browser: Any, studio: RunningStudio, downloads: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=20")
    assert find(browser, "#grid-start").get_attribute("value") == "16"
    move_slider(browser, "truncation", Keys.HOME)
    idle(browser)
    sheet = export(browser, downloads, "grid", "sheet")
    files = export_files(sheet)
    assert set(files) == {"portraits_16-31.png", "portraits_16-31.json"}
    command = cli_command(browser)
    assert "--seed 16 --count 16 -o truncation=0.0 --format sheet" in command
    assert run_cli(command, tmp_path, monkeypatch) == files


def test_pinned_favourites_stay_after_a_reload_and_bring_back_their_options(
    browser: Any, studio: RunningStudio
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=0")
    browser.execute_script("localStorage.clear()")
    move_slider(browser, "truncation", Keys.END)
    idle(browser)
    find(browser, '#grid .cell[data-seed="4"] .pin').click()
    pinned = find(browser, '#pins .pinned[data-seed="4"]')
    assert pinned.find_element(By.TAG_NAME, "img").get_attribute("src").startswith("data:")
    assert find(browser, '#grid .cell[data-seed="4"] .pin').text == "★"

    open_studio(browser, studio, "generator=portraits&seed=0")
    assert "truncation" not in cli_command(browser)  # a new page starts from the defaults
    find(browser, '#pins .pinned[data-seed="4"]').click()
    wait_for(browser, lambda d: d.find_element(By.ID, "still").get_attribute("data-seed") == "4")
    idle(browser)
    assert find(browser, "#seed").get_attribute("value") == "4"
    assert "--seed 4 -o truncation=1.5" in cli_command(browser)
    browser.execute_script("localStorage.clear()")


# -- dialogue, shoes, a third-party generator -------------------------------------------------


@needs_dialogue
def test_dialogue_archetype_temperature_and_prompt_export_to_yarn(
    browser: Any, studio: RunningStudio, engine: Engine, downloads: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_studio(browser, studio, "generator=dialogue&seed=0")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#grid .cell.text-cell")) == 8
    Select(find(browser, 'select[data-option="archetype"]')).select_by_value("soldier")
    move_slider(browser, "temperature", Keys.HOME)
    prompt = find(browser, '[data-option="prompt"].wide')
    prompt.send_keys("Halt")
    prompt.send_keys(Keys.TAB)
    wait_for(browser, lambda d: d.find_element(By.ID, "line-text").text.startswith("Halt"))
    idle(browser)
    lines = engine.generate("dialogue", seed=0, count=8, archetype="soldier", temperature=0.1,
                            prompt="Halt")
    assert text_of(browser, "#line-text") == lines[0].text
    cells = browser.find_elements(By.CSS_SELECTOR, "#grid .cell .line")
    assert [c.text for c in cells] == [a.text for a in lines]
    yarn = export(browser, downloads, "grid", "yarn")
    assert yarn.name == "dialogue_0-7.yarn"
    from assetgen_dialogue.yarn import yarn_text

    # one line group per speaker, placeholders as Yarn variables ({NAME} -> {$name})
    assert f"=> soldier: {yarn_text(lines[0].text)}" in yarn.read_text(encoding="utf-8")
    command = cli_command(browser)
    assert "-o archetype=soldier -o temperature=0.1 -o prompt=Halt --format yarn" in command
    assert run_cli(command, tmp_path, monkeypatch) == export_files(yarn)
    assert text_of(browser, "#csharp-call") == (
        'string[] lines = engine.GenerateText("dialogue", 0, 8, "{\\"archetype\\": '
        '\\"soldier\\", \\"temperature\\": 0.1, \\"prompt\\": \\"Halt\\"}");'
    )


@pytest.mark.skipif(
    not HAS_SHOES, reason="no shipped shoes model yet (plugins/assetgen_shoes/model/)"
)
def test_shoes_type_and_colour(browser: Any, studio: RunningStudio, engine: Engine) -> None:
    open_studio(browser, studio, "generator=shoes&seed=3")
    types = engine.generator_info("shoes").model["types"]
    before = still(browser)
    Select(find(browser, 'select[data-option="type"]')).select_by_value(types[-1])
    typed = changed_from(browser, "#still", before)
    move_slider(browser, "hue_shift", Keys.END)
    tinted = changed_from(browser, "#still", typed)
    assert png_of(tinted) == engine.generate("shoes", seed=3, type=types[-1],
                                             hue_shift=180.0)[0].to_png()
    assert f"-o type={types[-1]} -o hue_shift=180.0" in cli_command(browser)


def test_a_third_party_generator_gets_controls_from_its_options_schema(
    browser: Any, testkit_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASSETGEN_LOAD_PLUGINS", "exporters,testkit")
    engine = Engine(device="cpu")
    running = start_in_thread(engine)
    try:
        open_studio(browser, running, "generator=blob&seed=4")
        find(browser, 'input[type=range][data-option="size"]')
        find(browser, 'input[type=range][data-option="scale"]')
        find(browser, 'input[data-option="tint"]')  # names unknown: the name:value text form
        before = still(browser)
        Select(find(browser, 'select[data-option="color"]')).select_by_value("red")
        move_slider(browser, "size", Keys.HOME)
        shown = png_of(changed_from(browser, "#still", before))
        idle(browser)
        assert shown == engine.generate("blob", seed=4, color="red", size=8)[0].to_png()
        command = cli_command(browser)
        assert "-o size=8 -o color=red" in command
        assert run_cli(command, tmp_path, monkeypatch) == {"blob_4.png": shown}
        assert [b.get_attribute("data-animation") for b in
                browser.find_elements(By.CSS_SELECTOR, "#play-buttons .play")] == [""]
    finally:
        running.stop()
