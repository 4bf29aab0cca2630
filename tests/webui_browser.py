"""Headless Chromium for the web UI tests (Debian's python3-selenium + chromium-driver).

Skips with the reason when they are absent (outside CI); in CI a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
WEBUI = ROOT / "build" / "webui"
WAIT_S = 60


def _missing(reason: str):
    if IN_CI:
        pytest.fail(f"web UI tests need {reason} in CI")
    pytest.skip(reason)


def build_webui() -> Path:
    """Run webui-extjs/build.sh once (ExtJS from npm, cached in build/cache)."""
    if not (WEBUI / "index.html").exists() or _stale():
        if not shutil.which("npm") and not (ROOT / "build" / "cache" / "extjs-gpl-6.2.0.tgz").exists():
            _missing("npm (to fetch extjs-gpl) is not installed")
        result = subprocess.run(["sh", str(ROOT / "webui-extjs" / "build.sh")], capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            pytest.fail(f"webui build failed: {(result.stderr or result.stdout)[-1500:]}")
    return WEBUI


def _stale() -> bool:
    built = (WEBUI / "index.html").stat().st_mtime
    sources = [p for p in (ROOT / "webui-extjs").rglob("*") if p.is_file()]
    return any(p.stat().st_mtime > built for p in sources)


def make_driver(width: int = 1280, height: int = 800):
    try:
        from selenium import webdriver
    except ImportError:
        _missing("python3-selenium is not installed")
    chromium = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        _missing("chromium / chromium-driver are not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--hide-scrollbars", "--force-device-scale-factor=1",
                "--disable-extensions", "--no-first-run", "--password-store=basic"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(WAIT_S)
    return driver


def console_errors(driver, *, ignore_network: bool = False) -> list[str]:
    """SEVERE browser-console entries (JS errors; failed requests unless ignore_network)."""
    entries = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    if ignore_network:
        entries = [e for e in entries if "Failed to load resource" not in e.get("message", "")]
    return [e.get("message", "") for e in entries]


def wait(driver, condition, timeout: float = WAIT_S, message: str = ""):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition, message)
