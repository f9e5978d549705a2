"""Retake the Studio screenshots in docs/studio/ (docs/studio.md shows them).

    .venv/bin/python scripts/studio_screenshots.py                     # the shipped models
    .venv/bin/python scripts/studio_screenshots.py --portraits-model DIR
    .venv/bin/python scripts/studio_screenshots.py --tiny              # no portraits model yet

It starts the Studio on a free port over the shipped models, drives headless Chromium (Debian's
chromium and chromium-driver, as the tests do) through the main views and saves one PNG per
view (portraits also at 800 px wide, and the pinned seeds exported as one batch).
``--portraits-model`` uses another portraits model folder (an export of your own run);
``--tiny`` trains the test suite's tiny portraits model first (about a minute; needs the train
extra), which draws blurry blobs: use it only until a real model ships. Retake the screenshots
whenever the page or a shipped model changes.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def build_tiny_portraits_model(folder: Path) -> Path:
    """The tiny model tests/conftest.py builds, with the same settings."""
    from assetgen_portraits.training import analysis, classifier
    from assetgen_portraits.training import commands as tools
    from assetgen_portraits.training import dataset_builder as dataset

    spec = importlib.util.spec_from_file_location(
        "_tiny_settings", ROOT / "tests" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    settings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(settings)
    data, run, out = folder / "data", folder / "run", folder / "model"
    dataset.build_dataset(data, 96, seed=3, pairs=12, workers=1, write_png=False, progress=False)
    tools.train(run, data, {**tools.DEFAULT_CONFIG, **settings.TINY_GAN}, resume=False)
    images, targets = classifier.load_labelled(data / "portraits_64.npz")
    clf, acc = classifier.train_classifier(images, targets, settings.TINY_CLASSIFIER, holdout=16)
    classifier.save(clf, settings.TINY_CLASSIFIER, acc, run / "classifier.pt")
    saved = dict(analysis.SIZES)
    analysis.SIZES.update(settings.TINY_SIZES)
    try:
        tools.export(run, out)
    finally:
        analysis.SIZES.update(saved)
    return out


def wait(driver: Any, test: Callable[[Any], Any], timeout: float = 30) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(test)


def settled(driver: Any) -> None:
    """Wait until the page has no request in flight, then a little for the debounces."""
    time.sleep(0.6)
    wait(driver, lambda d: d.execute_script("return document.body.dataset.busy") == "0")
    time.sleep(0.3)


def shoot(driver: Any, path: Path, width: int = 1440) -> None:
    """The whole page at ``width`` CSS pixels, however tall (up to 2400 pixels): the height is
    measured at that width, since a narrower window lays the page out differently."""
    metrics = {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    time.sleep(0.3)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    metrics["height"] = min(height, 2400)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    time.sleep(0.3)
    png = driver.get_screenshot_as_png()
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    # 256 colours keep the page sharp at a third of the size (these files are committed)
    with Image.open(io.BytesIO(png)) as image:
        image.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


def fold(driver: Any, css: str, open_: bool) -> None:
    """Open or close a folding group (a ``details`` element) as a click on its title does."""
    from selenium.webdriver.common.by import By

    group = driver.find_element(By.CSS_SELECTOR, css)
    if (group.get_attribute("open") is not None) != open_:
        group.find_element(By.TAG_NAME, "summary").click()


def set_slider(driver: Any, option: str, value: str, key: str | None = None) -> None:
    """Move a slider the way the page sees a drag: set its value and fire its input event."""
    selector = f'input[type=range][data-option="{option}"]'
    if key is not None:
        selector += f'[data-key="{key}"]'
    slider = driver.find_element("css selector", selector)
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        slider,
        value,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "studio")
    parser.add_argument("--portraits-model", type=Path, default=None)
    parser.add_argument("--tiny", action="store_true", help="train a tiny portraits model first")
    args = parser.parse_args(argv)

    from assetgen_portraits import plugin as portraits_plugin
    from assetgen_shoes import plugin as shoes_plugin
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from assetgen import Engine
    from assetgen.studio.browser import open_browser
    from assetgen.studio.server import start_in_thread

    with tempfile.TemporaryDirectory() as tmp:
        if args.tiny:
            print("training the tiny portraits model (about a minute)...")
            portraits_plugin.MODEL_DIR = build_tiny_portraits_model(Path(tmp))
        elif args.portraits_model is not None:
            portraits_plugin.MODEL_DIR = args.portraits_model.resolve()
        engine = Engine(device="cpu")
        studio = start_in_thread(engine)
        driver = open_browser(Path(tmp))
        args.out.mkdir(parents=True, exist_ok=True)
        try:
            # 1. portraits with sliders: truncation, two attribute vectors, a mixed-in seed
            driver.get(studio.url + "#generator=portraits&seed=7")
            wait(driver, lambda d: d.execute_script("return document.body.dataset.ready"))
            settled(driver)
            set_slider(driver, "truncation", "0.9")
            attributes = engine.generator_info("portraits").model.get("attributes", [])
            for name, value in zip(attributes[:2], ("2.5", "-1.5"), strict=False):
                set_slider(driver, "attributes", value, key=name)
            driver.find_element(By.CSS_SELECTOR, '.control[data-option="mix_seed"] .pick').click()
            driver.find_element(By.CSS_SELECTOR, '#grid .cell[data-seed="3"]').click()
            set_slider(driver, "mix_layer", "6")
            settled(driver)
            # 1a. the same at 800 px: two columns, Export and the options beside the seed
            shoot(driver, args.out / "portraits_800.png", width=800)
            # 1b. at 1440 px with the attribute sliders unfolded (they start folded)
            attributes_group = 'details.control.mapping[data-option="attributes"]'
            fold(driver, attributes_group, True)
            settled(driver)
            shoot(driver, args.out / "portraits.png")
            fold(driver, attributes_group, False)  # the other shots as the page starts

            # 2. a talk animation driven by a typed line, playing
            text = driver.find_element(By.CSS_SELECTOR, 'textarea[data-option="text"]')
            text.clear()
            text.send_keys("Well met, traveller! The road north is closed.")
            driver.find_element(By.ID, "say-play").click()
            wait(driver, lambda d: d.execute_script("return document.body.dataset.playing") == "1")
            settled(driver)
            shoot(driver, args.out / "talk.png")

            # 2b. the same line's mouth-shape timeline, paused on a cue in the middle
            cues = driver.find_elements(By.CSS_SELECTOR, "#cue-track .cue")
            if cues:
                cues[len(cues) // 2].click()
                settled(driver)
                shoot(driver, args.out / "lipsync.png")
            else:
                print("lipsync: this portraits model does not draw mouth shapes; no screenshot")

            # 3. a bad value: the engine's message on the page
            frames = driver.find_element(By.ID, "frames")
            frames.send_keys("500\n")
            wait(driver, lambda d: d.find_element(By.ID, "error").is_displayed())
            driver.execute_script("window.scrollTo(0, 0)")
            shoot(driver, args.out / "error.png")
            frames.clear()
            frames.send_keys("\n")

            # 4. dialogue: archetype, temperature, prompt; Export offers the grid's lines (jsonl)
            Select(driver.find_element(By.ID, "generator")).select_by_value("dialogue")
            settled(driver)
            Select(driver.find_element(By.CSS_SELECTOR, 'select[data-option="archetype"]')) \
                .select_by_value("soldier")
            set_slider(driver, "temperature", "0.6")
            prompt = driver.find_element(By.CSS_SELECTOR, '[data-option="prompt"].wide')
            prompt.send_keys("Halt")
            prompt.send_keys("\t")
            settled(driver)
            shoot(driver, args.out / "dialogue.png")

            # 5. shoes, once its model ships: a type and a colour
            if (shoes_plugin.MODEL_DIR / "manifest.json").is_file():
                Select(driver.find_element(By.ID, "generator")).select_by_value("shoes")
                settled(driver)
                types = engine.generator_info("shoes").model["types"]
                Select(driver.find_element(By.CSS_SELECTOR, 'select[data-option="type"]')) \
                    .select_by_value(types[0])
                set_slider(driver, "hue_shift", "120")
                settled(driver)
                shoot(driver, args.out / "shoes.png")
            else:
                print("shoes: no shipped model yet; no screenshot")

            # 6. pinned seeds exported as one batch: a dialogue line and three portraits
            # (two with the default options, one with sliders set), the job file under Export
            Select(driver.find_element(By.ID, "generator")).select_by_value("dialogue")
            settled(driver)
            driver.find_element(By.CSS_SELECTOR, '#grid .cell[data-seed="2"] .pin').click()
            Select(driver.find_element(By.ID, "generator")).select_by_value("portraits")
            settled(driver)
            for seed in ("3", "12"):
                driver.find_element(By.CSS_SELECTOR, f'#grid .cell[data-seed="{seed}"] .pin') \
                    .click()
            set_slider(driver, "truncation", "0.9")
            for name, value in zip(attributes[:2], ("2.5", "-1.5"), strict=False):
                set_slider(driver, "attributes", value, key=name)
            settled(driver)
            driver.find_element(By.ID, "pin-current").click()  # seed 7, with those options
            settled(driver)
            Select(driver.find_element(By.ID, "export-what")).select_by_value("pins")
            Select(driver.find_element(By.ID, "export-format")).select_by_value("png")
            settled(driver)
            wait(driver, lambda d: d.find_element(By.ID, "job-file").is_displayed())
            driver.find_element(By.ID, "export-button").click()
            wait(driver, lambda d: d.find_element(By.ID, "export-result").text.startswith(
                "downloaded studio_pins.zip"))
            settled(driver)
            driver.execute_script("window.scrollTo(0, 0)")
            shoot(driver, args.out / "pins.png")
        finally:
            driver.quit()
            studio.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
