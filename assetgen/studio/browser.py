"""Headless Chromium for the Studio's browser tests and screenshots (tests/studio,
scripts/studio_screenshots.py), driven by Selenium through Debian's ``chromium`` and
``chromium-driver`` packages (scripts/install-system-deps.sh). Selenium (the ``dev`` extra) is
imported only when a browser is opened; nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

#: The flags every Studio browser starts with.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
_BROWSERS = ("chromium", "chromium-browser", "google-chrome")
_DRIVERS = ("chromedriver", "/usr/lib/chromium/chromedriver")


def find_chromium() -> tuple[str, str] | None:
    """Paths of the Chromium binary and its chromedriver (``$ASSETGEN_CHROMIUM`` and
    ``$ASSETGEN_CHROMEDRIVER`` first), or None when either is missing."""
    browser = os.environ.get("ASSETGEN_CHROMIUM") or next(
        (found for name in _BROWSERS if (found := shutil.which(name))), None
    )
    driver = os.environ.get("ASSETGEN_CHROMEDRIVER") or next(
        (found for name in _DRIVERS if (found := shutil.which(name))), None
    )
    if not browser or not driver:
        return None
    return browser, driver


def open_browser(
    download_dir: Path | None = None, width: int = 1440, height: int = 1000
) -> Any:
    """A headless Chromium WebDriver; downloads go to ``download_dir`` without asking."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if found is None:
        raise RuntimeError("chromium and chromedriver not found (apt-get install chromium "
                           "chromium-driver)")
    browser, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    if download_dir is not None:
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(download_dir),
                "download.prompt_for_download": False,
                "safebrowsing.enabled": False,
            },
        )
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    if download_dir is not None:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(download_dir)},
        )
    return driver
