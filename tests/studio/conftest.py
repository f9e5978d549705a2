"""The Studio under test: a server on a free port in a background thread, over an engine with
the tiny trained portraits model (built by tests/conftest.py, shared with tests/portraits), the
shipped dialogue model, and shoes when its model is shipped; and headless Chromium.

Without chromium and chromedriver the browser tests are skipped on a developer's machine and
fail in CI (``CI`` set), where `make test` installs them (scripts/install-system-deps.sh).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the studio extra: pip install -e '.[studio]'")
pytest.importorskip("uvicorn", reason="the studio extra: pip install -e '.[studio]'")

from assetgen_portraits import plugin as portraits_plugin  # noqa: E402

from assetgen import Engine  # noqa: E402
from assetgen.studio.browser import find_chromium, open_browser  # noqa: E402
from assetgen.studio.server import RunningStudio, start_in_thread  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


PLUGINS = "portraits,dialogue,shoes,exporters"


@pytest.fixture(scope="module")
def patched_models(tiny_model: Path) -> Iterator[Path]:
    """The tiny portraits model in place of the shipped one, and only the built-in plugins,
    for the whole module (the server and the CLI runs in it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(portraits_plugin, "MODEL_DIR", tiny_model)
        patch.setenv("ASSETGEN_LOAD_PLUGINS", PLUGINS)
        yield tiny_model


@pytest.fixture(scope="module")
def engine(patched_models: Path) -> Engine:
    return Engine(device="cpu")


@pytest.fixture(scope="module")
def studio(engine: Engine) -> Iterator[RunningStudio]:
    running = start_in_thread(engine)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    if find_chromium() is None:
        message = (
            "the browser tests need chromium and chromedriver (Debian: chromium, "
            "chromium-driver); `make test` installs them (scripts/install-system-deps.sh)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("selenium", reason="selenium (the dev extra) drives the browser")
    driver = open_browser(downloads)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
