"""Pinned seeds exported as one batch: a job file for ``assetgen batch`` and a zip of it with
every file that job writes, from the API and from the page. The test of the zip is the user's
own: unzip it, run ``assetgen batch job.toml``, and get the very same files.
"""

from __future__ import annotations

import io
import json
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from assetgen import Engine
from assetgen.cli import main as cli_main
from assetgen.studio.server import RunningStudio

from .test_api import call, needs_dialogue, post_json
from .test_browser import cli_command, export, find, idle, open_studio, text_of, wait_for

JOURNAL = ".assetgen-journal.jsonl"


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def batch_files(job_text: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """What ``assetgen batch job.toml`` writes beside the job file (the journal aside)."""
    folder.mkdir(parents=True)
    (folder / "job.toml").write_text(job_text, encoding="utf-8")
    monkeypatch.chdir(folder)
    assert cli_main(["batch", "job.toml", "--quiet"]) == 0
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != JOURNAL
    }


def test_pins_export_is_the_job_file_and_what_assetgen_batch_writes(
    studio: RunningStudio, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = engine.generator_info("portraits").model["attributes"][0]
    body = {
        "pins": [
            {"generator": "portraits", "seed": "7",
             "options": {"truncation": "0.9", "attributes": {name: 1.5}}},
            {"generator": "portraits", "seed": "12", "options": {}},
            {"generator": "portraits", "seed": "12", "options": {"mix_seed": "3"}},
        ],
        "format": "sheet",
    }
    recipe = post_json(studio, "/api/pins/recipe", body)
    job = tomllib.loads(recipe["job"])
    assert job["out"] == "out/pins"
    assert [(r["name"], r["seed"], r["formats"]) for r in job["run"]] == [
        ("portraits-7", 7, ["sheet"]), ("portraits-12", 12, ["sheet"]),
        ("portraits-12-2", 12, ["sheet"]),
    ]
    assert job["run"][0]["options"] == {"truncation": 0.9, "attributes": {name: 1.5}}
    assert "options" not in job["run"][1]  # only what differs from the defaults
    assert recipe["recipe"]["cli"] == "assetgen batch job.toml"
    assert recipe["count"] == 3

    status, headers, data = call(studio, "/api/pins/export", body)
    assert status == 200, data
    assert headers["content-type"] == "application/zip"
    assert 'filename="studio_pins.zip"' in headers["content-disposition"]
    files = unzip(data)
    assert files["job.toml"].decode() == recipe["job"]
    assert set(files) == {
        "job.toml", "out/pins/manifest.json",
        "out/pins/portraits-7/portraits-7.png", "out/pins/portraits-7/portraits-7.json",
        "out/pins/portraits-12/portraits-12.png", "out/pins/portraits-12/portraits-12.json",
        "out/pins/portraits-12-2/portraits-12-2.png",
        "out/pins/portraits-12-2/portraits-12-2.json",
    }
    assert headers["x-assetgen-files"].split(",") == list(files)
    # the user's check: the job file, run by the CLI, writes the same bytes
    assert batch_files(recipe["job"], tmp_path / "rerun", monkeypatch) == files
    manifest = json.loads(files["out/pins/manifest.json"])
    assert {o["seed"] for o in manifest["outputs"]} == {7, 12}


@needs_dialogue
def test_pins_of_several_generators_take_the_format_where_it_fits(
    studio: RunningStudio, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"pins": [{"generator": "portraits", "seed": 3, "options": {}},
                     {"generator": "dialogue", "seed": 4, "options": {"archetype": "soldier"}}],
            "format": "png"}
    job = tomllib.loads(post_json(studio, "/api/pins/recipe", body)["job"])
    assert job["run"][0]["formats"] == ["png"]
    assert "formats" not in job["run"][1]  # png cannot write lines: the text default, jsonl
    status, _, data = call(studio, "/api/pins/export", body)
    assert status == 200, data
    files = unzip(data)
    assert files["out/pins/portraits-3/portraits_3.png"] == engine.generate(
        "portraits", seed=3)[0].to_png()
    line = json.loads(files["out/pins/dialogue-4/dialogue-4.jsonl"])
    assert line["text"] == engine.generate("dialogue", seed=4, archetype="soldier")[0].text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"pins": []}, "pins must be a list of pinned seeds"),
        ({"pins": [{"generator": "portraits", "seed": 1, "extra": 1}]},
         "pin 1 must be an object with the keys generator, seed, options"),
        ({"pins": [{"generator": "portraits", "seed": 1},
                   {"generator": "portraits", "seed": 2, "options": {"truncation": "9"}}]},
         "pin 2 ('portraits' seed 2): "),
        ({"pins": [{"generator": "nope", "seed": 1}]}, "pin 1 ('nope' seed 1): "),
        ({"pins": [{"generator": "portraits", "seed": 1}] * 65}, "at most 64 pins"),
    ],
)
def test_bad_pins_are_refused_naming_the_pin(
    studio: RunningStudio, body: dict[str, Any], message: str
) -> None:
    for path in ("/api/pins/recipe", "/api/pins/export"):
        status, _, data = call(studio, path, body)
        assert status == 400, data
        assert message in json.loads(data)["error"]


def test_the_page_exports_its_pinned_seeds_as_one_batch(
    browser: Any, studio: RunningStudio, engine: Engine, downloads: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    from .test_browser import move_slider

    open_studio(browser, studio, "generator=portraits&seed=0")
    browser.execute_script("localStorage.clear()")
    open_studio(browser, studio, "generator=portraits&seed=0")
    values = [o.get_attribute("value") for o in Select(find(browser, "#export-what")).options]
    assert "pins" not in values  # nothing pinned, nothing to offer
    find(browser, '#grid .cell[data-seed="4"] .pin').click()
    move_slider(browser, "truncation", Keys.HOME)
    idle(browser)
    find(browser, '#grid .cell[data-seed="9"] .pin').click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#pins .pinned")) == 2
    what = Select(find(browser, "#export-what"))
    assert what.options[-1].text.startswith("the pinned seeds (2)")

    zipped = export(browser, downloads, "pins", "png")
    assert zipped.name == "studio_pins.zip"
    files = unzip(zipped.read_bytes())
    shown_job = find(browser, "#job-file").get_attribute("textContent")
    assert files["job.toml"].decode() == shown_job
    assert cli_command(browser) == "assetgen batch job.toml"
    assert files["out/pins/portraits-4/portraits_4.png"] == engine.generate(
        "portraits", seed=4)[0].to_png()
    assert files["out/pins/portraits-9/portraits_9.png"] == engine.generate(
        "portraits", seed=9, truncation=0.0)[0].to_png()
    assert batch_files(shown_job, tmp_path / "rerun", monkeypatch) == files
    wait_for(browser, lambda d: d.find_element(By.ID, "export-result").text.startswith(
        "downloaded studio_pins.zip"))
    csharp = text_of(browser, "#csharp-call")
    assert 'engine.GeneratePng("portraits", 4, "{}");' in csharp
    assert 'engine.GeneratePng("portraits", 9, "{\\"truncation\\": 0.0}");' in csharp

    # unpinning the last pins takes the choice away again
    for _ in range(2):
        find(browser, "#pins .pinned button").click()
    idle(browser)
    values = [o.get_attribute("value") for o in Select(find(browser, "#export-what")).options]
    assert "pins" not in values and what.first_selected_option.get_attribute("value") == "selected"
    browser.execute_script("localStorage.clear()")
