"""The panel's shell in development mode (real daemon at /ui/, headless Chromium): the address
follows the tab (#/<tab>[/<id>]), Back and deep links work, the look is OMV's workbench (Inter,
flat tabs and headers, mdi icons) and the light/dark appearance follows the setting live with
every text at WCAG AA contrast. Screenshots go to build/screenshots/.
"""

from __future__ import annotations

import time

import pytest

from tests import webui_browser as wb

SHOTS = wb.ROOT / "build" / "screenshots"
PATTERN = "docker-fills-root"


@pytest.fixture
def ui(live_server):
    webui = wb.build_webui()
    return live_server({"api": {"serve_ui": str(webui)}}, sources=("system",))


def _js(driver, script, *args):
    return driver.execute_script(script, *args)


def _open(driver, ui, route: str = "") -> None:
    driver.get(ui.url + "/ui/#token=" + ui.token)
    wb.wait(driver, lambda d: _js(d, "return !!document.querySelector('.ocp-root[data-ready]')"), message="the panel did not render")
    if route:
        driver.get(ui.url + "/ui/" + route)  # the token stays in sessionStorage
        driver.refresh()
        wb.wait(driver, lambda d: _js(d, "return !!document.querySelector('.ocp-root[data-ready]')"), message="the panel did not render")
    driver.get_log("browser")


def _active(driver) -> str:
    return _js(driver, "return Ext6.ComponentQuery.query('#copilotRoot')[0].getActiveTab().getItemId();")


def _hash(driver) -> str:
    return _js(driver, "return location.hash;")


def _click_tab(driver, title: str) -> None:
    wb.click_text(driver, ".ocp-root .x6-tab-inner", title)


def test_tabs_set_the_address_and_back_returns(driver, ui):
    _open(driver, ui)
    _click_tab(driver, "Alerts")
    wb.wait(driver, lambda d: _hash(d) == "#/alerts", message=f"the address did not follow the tab: {_hash(driver)}")
    _click_tab(driver, "Knowledge")
    wb.wait(driver, lambda d: _hash(d) == "#/knowledge")
    driver.back()
    wb.wait(driver, lambda d: _active(d) == "alerts", message="Back did not return to the Alerts tab")
    assert _hash(driver) == "#/alerts"
    driver.back()
    wb.wait(driver, lambda d: _active(d) == "dashboard", message="Back did not return to the Dashboard")
    driver.forward()
    wb.wait(driver, lambda d: _active(d) == "alerts")
    assert wb.console_errors(driver, ignore_network=True) == []


def test_deep_link_opens_the_tab_and_item(driver, ui):
    _open(driver, ui, f"#/knowledge/{PATTERN}")
    wb.wait(driver, lambda d: _active(d) == "knowledge", message="a deep link did not open its tab")
    wb.wait(driver, lambda d: PATTERN in (_js(d, "var e = document.querySelector('.ocp-detail'); return e ? e.textContent : '';") or ""),
            message="the deep link's pattern was not shown")
    # A link inside the panel to an item puts its tab in the address (not the item: inside OMV that
    # would change the route's shape and OMV would rebuild the page under the open panel).
    _js(driver, "OmvCopilot.app.show('traces');")
    wb.wait(driver, lambda d: _hash(d) == "#/traces")
    _js(driver, "OmvCopilot.app.show('knowledge', {pattern_id: arguments[0]});", PATTERN)
    wb.wait(driver, lambda d: _hash(d) == "#/knowledge")
    driver.back()
    wb.wait(driver, lambda d: _active(d) == "traces", message="Back did not return to Traces")
    # A hash naming no tab leaves the panel as it is (no error).
    _js(driver, "location.hash = '#/no-such-tab';")
    time.sleep(0.5)  # let hashchange run; the assertion is that nothing broke
    assert _active(driver) == "traces"
    assert wb.console_errors(driver, ignore_network=True) == []


def _style(driver, css: str, prop: str) -> str:
    return _js(driver, "var e = document.querySelector(arguments[0]); return e ? getComputedStyle(e)[arguments[1]] : null;", css, prop)


def test_workbench_look_font_flat_tabs_icons(driver, ui):
    _open(driver, ui)
    assert _style(driver, ".ocp-root .x6-tab-inner", "fontFamily").startswith("Inter")
    assert _style(driver, ".ocp-root .x6-tab-inner", "fontSize") == "14px"
    # Flat: no gradient on the tab strip, tabs or panel headers (the classic theme has them all).
    for css in (".ocp-root .x6-tab-bar", ".ocp-root .x6-tab", ".ocp-root .x6-panel-header"):
        assert _style(driver, css, "backgroundImage") == "none", css
    # The active tab is underlined in OMV's primary colour.
    assert _style(driver, ".ocp-root .x6-tab-active", "borderBottomColor") == "rgb(93, 172, 223)"
    # Every tab has its mdi icon (a mask over the text colour).
    icons = _js(driver, "return Array.from(document.querySelectorAll('.ocp-root .x6-tab .x6-tab-icon-el')).map(function (e) {"
                        " var s = getComputedStyle(e); return e.offsetWidth > 0 && (s.webkitMaskImage || s.maskImage || '').indexOf('svg') >= 0; });")
    assert icons and all(icons), icons


def _unreadable(driver) -> list[dict]:
    return [t for t in wb.text_contrast(driver, ".ocp-root") if t["ratio"] < 4.5]


def test_dark_appearance_follows_the_preference_live_and_stays_readable(driver, ui):
    _open(driver, ui)
    light_bg = _style(driver, ".ocp-root .x6-panel-body", "backgroundColor")
    try:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        wb.wait(driver, lambda d: _js(d, "return document.querySelector('.ocp-root').classList.contains('ocp-dark')"),
                message="the panel did not follow the dark preference")
        dark_bg = _style(driver, ".ocp-root .x6-panel-body", "backgroundColor")
        assert light_bg == "rgb(255, 255, 255)" and dark_bg == "rgb(66, 66, 66)"  # OMV's card colours
        unreadable = {}
        for page in ("dashboard", "assistant", "knowledge", "alerts", "history"):
            _js(driver, "OmvCopilot.app.show(arguments[0]);", page)
            time.sleep(1.0)  # the page's data; the assertion is about colours
            unreadable.update({(t["cls"], t["color"]): (page, t["text"], t["ratio"]) for t in _unreadable(driver)})
        assert unreadable == {}
        _js(driver, "OmvCopilot.app.show('dashboard');")
        SHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SHOTS / "webui-dark.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]})
    wb.wait(driver, lambda d: not _js(d, "return document.querySelector('.ocp-root').classList.contains('ocp-dark')"))
    assert _unreadable(driver) == []
