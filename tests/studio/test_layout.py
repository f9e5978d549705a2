"""The Studio's layout and previews in headless Chromium, as a technical artist sees them: the
Export panel on screen without scrolling at 800 and 1440 px, the options column on screen at
800 px, options in groups that fold (the labels as pickers, the attribute sliders), a game-size
(1x) preview beside the zoomed one on a background of one's choice, the model as a drop-down of
the installed models, and no stale download note after switching generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from assetgen_portraits import plugin as portraits_plugin

from assetgen import Engine, model_store
from assetgen.studio.server import RunningStudio

from .conftest import PLUGINS
from .test_browser import (
    cli_command,
    export,
    find,
    idle,
    needs_dialogue,
    open_studio,
    png_of,
    still,
    text_of,
    unfold,
    wait_for,
)

pytest.importorskip("selenium", reason="selenium (the dev extra) drives the browser")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

#: The window sizes the issue names; 1000 px tall windows (about 860 px of page in headless
#: Chromium once its own bars are taken).
WIDTHS = (800, 1440)


@pytest.fixture(scope="module")
def patched_models(tiny_label_model: Path) -> Iterator[Path]:
    """The tiny label-conditioned portraits model (the shipped kind: its labels are options)
    in place of the shipped one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(portraits_plugin, "MODEL_DIR", tiny_label_model)
        patch.setenv("ASSETGEN_LOAD_PLUGINS", PLUGINS)
        yield tiny_label_model


def box(browser: Any, css: str) -> dict[str, float]:
    """Where an element is drawn, in the window's coordinates."""
    rect: dict[str, float] = browser.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,"
        " width: r.width, height: r.height};",
        css,
    )
    return rect


def window(browser: Any) -> tuple[float, float]:
    width, height = browser.execute_script(
        "return [document.documentElement.clientWidth, window.innerHeight]")
    return float(width), float(height)


def on_screen(browser: Any, css: str) -> bool:
    """Drawn inside the window with the page scrolled to its top."""
    rect = box(browser, css)
    width, height = window(browser)
    return (rect["width"] > 0 and rect["height"] > 0 and rect["left"] >= 0
            and rect["top"] >= 0 and rect["right"] <= width + 1 and rect["bottom"] <= height + 1)


@pytest.fixture
def sized(browser: Any) -> Any:
    yield browser
    browser.set_window_size(1440, 1000)


@pytest.mark.parametrize("width", WIDTHS)
def test_export_is_on_screen_without_scrolling(
    sized: Any, studio: RunningStudio, width: int
) -> None:
    browser = sized
    browser.set_window_size(width, 1000)
    open_studio(browser, studio, "generator=portraits&seed=7")
    assert browser.execute_script("return window.scrollY") == 0
    for css in ("#export-what", "#export-format", "#export-button", "#cli-command"):
        assert on_screen(browser, css), (width, css, box(browser, css), window(browser))
    # the options column is on screen too (its first controls), beside the selected seed
    assert on_screen(browser, "#options-panel h2"), box(browser, "#options-panel")
    assert on_screen(browser, '.control[data-option="hair"] select')
    assert on_screen(browser, "#still") and on_screen(browser, "#still-1x")
    options, view = box(browser, "#options-panel"), box(browser, "#view")
    assert options["left"] >= view["right"]  # a column of its own, not under the seed
    seeds = box(browser, "#browse")
    if width == 800:  # the seeds right under the selected seed, whatever the right column's height
        assert seeds["right"] <= options["left"] and 0 <= seeds["top"] - view["bottom"] <= 16
    else:
        assert seeds["right"] <= view["left"]
    # nothing wider than the window
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # 24 attribute sliders fold away: the group is closed, and says how many it holds
    attributes = find(browser, 'details.control.mapping[data-option="attributes"]')
    assert attributes.get_attribute("open") is None
    assert "sliders" in attributes.find_element(By.TAG_NAME, "summary").text


def test_labels_are_pickers_in_a_group_and_attribute_sliders_fold(
    browser: Any, studio: RunningStudio, engine: Engine
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=7")
    labels = engine.generator_info("portraits").model["labels"]
    group = find(browser, '.option-group[data-group="labels"]')
    assert group.get_attribute("open") is not None
    pickers = group.find_elements(By.CSS_SELECTOR, "select[data-option]")
    assert sorted(p.get_attribute("data-option") for p in pickers) == sorted(labels)
    schema = engine.generator_info("portraits").options_schema["properties"]
    for picker in pickers:  # the values the engine takes, the model's labels among them
        name = picker.get_attribute("data-option")
        values = [o.get_attribute("value") for o in Select(picker).options]
        assert values == schema[name]["enum"]
        assert set(labels[name]) <= set(values)

    # a label picked in the group changes the image and the command
    before = still(browser)
    Select(find(browser, 'select[data-option="glasses"]')).select_by_value("none")
    wait_for(browser, lambda d: d.find_element(By.ID, "still").get_attribute("src") != before)
    idle(browser)
    assert "-o glasses=none" in cli_command(browser)
    assert png_of(still(browser)) == engine.generate(
        "portraits", seed=7, glasses="none")[0].to_png()

    # the attribute sliders: folded, opened by a click on the title, counted when set
    name = engine.generator_info("portraits").model["attributes"][0]
    slider = find(browser, f'input[type=range][data-option="attributes"][data-key="{name}"]')
    assert not slider.is_displayed()
    unfold(browser, slider)
    assert slider.is_displayed()
    slider.send_keys(Keys.END)
    idle(browser)
    summary = find(browser, 'details.control.mapping[data-option="attributes"] > summary')
    assert "1 set" in summary.text
    # the Labels group folds too
    find(browser, '.option-group[data-group="labels"] > summary').click()
    assert not find(browser, 'select[data-option="hair"]').is_displayed()


def test_a_game_size_preview_beside_the_zoomed_one_on_each_background(
    browser: Any, studio: RunningStudio, engine: Engine
) -> None:
    browser.execute_script("localStorage.removeItem('assetgen-studio-background')")
    open_studio(browser, studio, "generator=portraits&seed=3")
    zoomed, actual = box(browser, "#still"), box(browser, "#still-1x")
    # 64x64 pixels: 64 CSS pixels at 1x, 256 (4x) zoomed, each in a 1 px border, side by side
    assert actual["width"] == pytest.approx(66, abs=0.01)
    assert zoomed["width"] == pytest.approx(258, abs=0.01)
    assert actual["left"] >= zoomed["right"] and actual["top"] < zoomed["bottom"]
    shown = png_of(str(find(browser, "#still-1x").get_attribute("src")))
    assert shown == png_of(still(browser)) == engine.generate("portraits", seed=3)[0].to_png()
    assert browser.execute_script(
        "const i = document.getElementById('still-1x'); return [i.naturalWidth, i.width]"
    ) == [64, 64]

    def background(css: str) -> tuple[str, str]:
        color, image = browser.execute_script(
            "const s = getComputedStyle(document.querySelector(arguments[0]));"
            "return [s.backgroundColor, s.backgroundImage];", css)
        return str(color), str(image)

    # checker by default: transparent pixels show as a checkerboard
    assert "gradient" in background("#still-1x")[1]
    for kind, expected in (("white", "rgb(255, 255, 255)"), ("black", "rgb(0, 0, 0)")):
        find(browser, f'#backgrounds button[data-bg="{kind}"]').click()
        for css in ("#still", "#still-1x", "#grid .cell img"):
            assert background(css) == (expected, "none"), (kind, css)
        assert find(browser, f'#backgrounds button[data-bg="{kind}"]').get_attribute(
            "aria-checked") == "true"
    # a colour of one's own, from the colour input
    browser.execute_script(
        "const c = document.getElementById('background-color'); c.value = '#336699';"
        "c.dispatchEvent(new Event('input', {bubbles: true}));")
    assert background("#still-1x") == ("rgb(51, 102, 153)", "none")
    assert background("#still") == ("rgb(51, 102, 153)", "none")
    # kept in this browser: a reload shows the same background
    open_studio(browser, studio, "generator=portraits&seed=3")
    assert background("#still-1x") == ("rgb(51, 102, 153)", "none")

    # an animation gets its game-size frame too, the same frame as the zoomed one
    find(browser, '.play[data-animation="blink"]').click()
    wait_for(browser, lambda d: d.execute_script("return document.body.dataset.playing") == "1")
    idle(browser)
    find(browser, "#anim-toggle").click()  # pause
    frame = browser.execute_script(
        "return [document.getElementById('anim-frame').src,"
        " document.getElementById('anim-frame-1x').src,"
        " document.getElementById('anim-frame-1x').naturalWidth]")
    assert frame[0] == frame[1] and frame[2] == 64
    assert box(browser, "#anim-frame-1x")["left"] >= box(browser, "#anim-frame")["right"]
    find(browser, '#backgrounds button[data-bg="checker"]').click()
    browser.execute_script("localStorage.removeItem('assetgen-studio-background')")


def test_model_is_a_drop_down_of_the_installed_models(
    browser: Any, studio: RunningStudio, engine: Engine, patched_models: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=5")
    picker = Select(find(browser, 'select[data-option="model"]'))
    assert [o.get_attribute("value") for o in picker.options] == ["default"]

    monkeypatch.setenv("ASSETGEN_MODELS", str(tmp_path / "models"))
    model_store.install("portraits", patched_models, "heroes")
    open_studio(browser, studio, "generator=portraits&seed=5")  # the page reads them anew
    picker = Select(find(browser, 'select[data-option="model"]'))
    assert [o.get_attribute("value") for o in picker.options] == ["default", "heroes"]
    assert browser.find_elements(By.CSS_SELECTOR, 'input[type=text][data-option="model"]') == []
    picker.select_by_value("heroes")
    wait_for(browser, lambda d: "-o model=heroes" in d.find_element(By.ID, "cli-command").text)
    idle(browser)
    assert find(browser, "#error").is_displayed() is False
    assert png_of(still(browser)) == engine.generate(
        "portraits", seed=5, model="heroes")[0].to_png()


@needs_dialogue
def test_the_download_note_goes_when_the_generator_changes(
    browser: Any, studio: RunningStudio, downloads: Path
) -> None:
    open_studio(browser, studio, "generator=portraits&seed=2")
    sheet = export(browser, downloads, "grid", "sheet")
    wait_for(browser, lambda d: d.find_element(By.ID, "export-result").text.startswith(
        f"downloaded {sheet.name}"))
    assert sheet.suffix == ".zip"
    Select(find(browser, "#generator")).select_by_value("dialogue")
    idle(browser)
    assert text_of(browser, "#export-result") == ""
    assert find(browser, "#export-result").get_attribute("data-file") is None


@needs_dialogue
def test_models_a_plugin_ships_besides_its_default_are_in_the_drop_down(
    browser: Any, studio: RunningStudio
) -> None:
    """dialogue ships a second model (``-o model=shakespeare``, its summary's other_models)."""
    open_studio(browser, studio, "generator=dialogue&seed=0")
    picker = Select(find(browser, 'select[data-option="model"]'))
    assert [o.get_attribute("value") for o in picker.options] == ["default", "shakespeare"]
    picker.select_by_value("shakespeare")
    wait_for(browser, lambda d: "-o model=shakespeare" in d.find_element(By.ID, "cli-command").text)
    idle(browser)
    assert find(browser, "#error").is_displayed() is False
    assert not find(browser, "#preview-row").is_displayed()  # lines have no background
