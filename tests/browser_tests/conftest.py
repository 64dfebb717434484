"""Headless Chromium (Debian's `chromium` and `chromium-driver`) driven by Selenium, and the
folder its screenshots are kept in (METAOPT_ARTIFACTS, default build/test-artifacts)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ARTIFACTS = Path(
    os.environ.get(
        "METAOPT_ARTIFACTS", Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
    )
)
CHROMIUM = ("chromium", "chromedriver")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    absent = [name for name in CHROMIUM if shutil.which(name) is None]
    if absent:
        return f"{', '.join(absent)} not found (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    why = _missing()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the browser tests: {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which("chromium"))
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    folder = ARTIFACTS / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
