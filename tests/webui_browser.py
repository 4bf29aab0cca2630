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


def click_text(driver, css: str, text: str, timeout: float = WAIT_S):
    """Click the visible element matching css whose text is text.

    Finding and clicking happen in one polled step: the panel re-renders its detail view
    after a save, so an element found a moment earlier may be gone (stale) by the click.
    """
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def attempt(d):
        try:
            for el in d.find_elements(By.CSS_SELECTOR, css):
                if el.is_displayed() and el.text.strip() == text:
                    el.click()
                    return el
        except StaleElementReferenceException:
            pass  # re-rendered under us: look again on the next poll
        return False

    return wait(driver, attempt, timeout, message=f"no visible {css} '{text}'")


def _png_rows(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA PNG (what Chromium's screenshots are) into rows of pixel bytes."""
    import struct
    import zlib

    pos, idat, width, height, bpp = 8, b"", 0, 0, 4
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            if depth != 8 or color not in (2, 6):
                raise ValueError(f"unsupported PNG (bit depth {depth}, colour type {color})")
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        filt, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if filt == 1:
                line[x] = (line[x] + a) & 255
            elif filt == 2:
                line[x] = (line[x] + b) & 255
            elif filt == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def png_diff(a: bytes, b: bytes) -> tuple[int, tuple[int, int, int, int] | None]:
    """How many pixels differ between two screenshots, and their bounding box (x0, y0, x1, y1)."""
    if a == b:
        return 0, None
    wa, ha, bpp, rows_a = _png_rows(a)
    wb_, hb, _, rows_b = _png_rows(b)
    if (wa, ha) != (wb_, hb):
        return wa * ha, (0, 0, wa, ha)
    count, xs, ys = 0, [], []
    for y in range(ha):
        if rows_a[y] == rows_b[y]:
            continue
        for x in range(wa):
            if rows_a[y][x * bpp:(x + 1) * bpp] != rows_b[y][x * bpp:(x + 1) * bpp]:
                count += 1
                xs.append(x)
                ys.append(y)
    return count, (min(xs), min(ys), max(xs), max(ys)) if xs else None


# WCAG contrast of every visible text under ``root`` against the background it is drawn on.
_CONTRAST_JS = r"""
var root = document.querySelector(arguments[0]);
if (!root) { return null; }
function rgba(s) { var m = s.match(/[\d.]+/g) || [0, 0, 0, 0]; return m.map(Number).concat([1]).slice(0, 4); }
function lum(c) {
  var v = c.slice(0, 3).map(function (x) { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}
function background(el) {
  for (var e = el; e; e = e.parentElement) {
    var b = rgba(getComputedStyle(e).backgroundColor);
    if (b[3] > 0.5) { return b; }
  }
  return [255, 255, 255, 1];
}
var out = [], walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  var t = walker.currentNode, el = t.parentElement, text = t.textContent.trim();
  if (!text || !el || !el.getClientRects().length) { continue; }
  var st = getComputedStyle(el);
  if (st.visibility === 'hidden' || st.display === 'none' || Number(st.opacity) === 0) { continue; }
  var r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1 || r.bottom < 0 || r.top > innerHeight) { continue; }
  var fg = lum(rgba(st.color)), bg = lum(background(el));
  var ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  out.push({text: text.slice(0, 60), ratio: Math.round(ratio * 100) / 100, color: st.color, cls: String(el.className).slice(0, 80)});
}
return out;
"""


def text_contrast(driver, root_css: str) -> list[dict]:
    """[{text, ratio, color, cls}] for each visible text node under ``root_css`` (WCAG 2 contrast ratio)."""
    return driver.execute_script(_CONTRAST_JS, root_css) or []
