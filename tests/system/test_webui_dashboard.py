"""The Dashboard in development mode against the REAL daemon (its API, store, alert engine and
knowledge base), seeded with a NAS in trouble: a disk SMART says FAILED (the real smartctl capture
smart-fail2.json), a filesystem filling at a steady rate, 30 days of history in the store's tiers,
a clean md array from the real /proc/mdstat capture and container/shaper interfaces that are down.

It answers "is my NAS OK?": the headline lists what needs attention worst first and one click on
the worst item reaches its fix. Headless Chromium; skips without it outside CI. Screenshots go to
build/screenshots/dashboard-*.png (the curated ones are copied to docs/screenshots/).
"""

from __future__ import annotations

import json
import time

import pytest

from tests import dashboard_support as ds
from tests import webui_browser as wb

SHOTS = wb.ROOT / "build" / "screenshots"


@pytest.fixture
def ui(live_server):
    webui = wb.build_webui()
    server = live_server({"api": {"serve_ui": str(webui)}, "alerts": {"udev_monitor": False}}, sources=("system",), cycle=False)
    ds.seed(server.agent, time.time())
    return server


def _js(driver, script, *args):
    return driver.execute_script(script, *args)


def _q(expr: str) -> str:
    return f"Ext6.ComponentQuery.query({json.dumps(expr)})[0]"


def _body(card: str) -> str:
    """A JS expression for the body element of a dashboard card."""
    return f"{_q('#dashboard #' + card)}.body.dom"


def _open(driver, ui, width: int = 1280, height: int = 800):
    driver.set_window_size(width, height)
    driver.get(ui.url + "/ui/#token=" + ui.token)
    wb.wait(driver, lambda d: _js(d, "return !!document.querySelector('.ocp-root[data-ready]')"), message="the panel did not render")
    wb.wait(driver, lambda d: _js(d, f"return {_body('openAlerts')}.querySelectorAll('.copilot-dash-item').length > 0"),
            message="the headline did not list anything")
    wb.wait(driver, lambda d: _js(d, f"return !!{_body('filesystems')}.querySelector('.copilot-dash-fs')"), message="no filesystem cards")
    wb.wait(driver, lambda d: _js(d, f"return !!{_body('disks')}.querySelector('.copilot-dash-disk')"), message="no disk cards")
    wb.wait(driver, lambda d: _js(d, f"return !!{_body('charts')}.querySelector('svg[data-kind=cpumem]')"), message="no history charts")


def _active_tab(driver) -> str:
    return _js(driver, f"return {_q('#copilotRoot')}.getActiveTab().itemId")


def _click(driver, css: str):
    from selenium.webdriver.common.by import By

    el = driver.find_element(By.CSS_SELECTOR, css)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    el.click()


def _errors(driver):
    failures = _js(driver, "var f = OmvCopilot.failures || []; OmvCopilot.failures = []; return f;") or []
    return [f"{f['method']}: {f['code']}: {f['message']}" for f in failures] + wb.console_errors(driver)


def _shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"dashboard-{name}.png"))


def test_headline_lists_worst_first_and_one_click_reaches_the_fix(driver, ui):
    _open(driver, ui)
    items = _js(driver, f"""return Array.from({_body('openAlerts')}.querySelectorAll('.copilot-dash-item')).map(function (li) {{
        return {{sev: li.className.match(/copilot-dash-sev-(\\w+)/)[1], text: li.textContent}}; }});""")
    head = _js(driver, f"return {_body('openAlerts')}.querySelector('.copilot-dash-headline').textContent")
    assert head == f"{len(items)} things need attention" and len(items) >= 3, head
    ranks = [{"critical": 2, "warning": 1}[i["sev"]] for i in items]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] == 2, items
    assert "failed its SMART health check" in items[0]["text"] and "/dev/sdb" in items[0]["text"], items[0]
    assert any("predicted full" in i["text"] and ds.FILLING in i["text"] for i in items)

    # one click on the worst item: the knowledge base opens on the pattern that fixes it
    _click(driver, '.copilot-dash-item[data-index="0"] .copilot-dash-fix')
    wb.wait(driver, lambda d: _active_tab(d) == "knowledge")
    wb.wait(driver, lambda d: "SMART overall health self-assessment FAILED" in _js(
        d, "var p = Ext6.ComponentQuery.query('#knowledge')[0]; return p.el.dom.textContent;"), message="the pattern did not open")

    # "Ask Co-Pilot": the Assistant opens with the question and its evidence typed in (not sent)
    _js(driver, "OmvCopilot.app.show('dashboard');")
    _click(driver, '.copilot-dash-item[data-index="0"] [data-ask]')
    wb.wait(driver, lambda d: _active_tab(d) == "assistant")
    question = _js(driver, f"return {_q('#assistant #question')}.getValue()")
    assert "/dev/sdb" in question and "Evidence:" in question and "Hitachi HDS721050DLE630" in question, question

    # its alert: the Alerts tab
    _js(driver, "OmvCopilot.app.show('dashboard');")
    alert_id = _js(driver, f"return +{_body('openAlerts')}.querySelector('.copilot-dash-item[data-index=\"0\"] [data-alert]').dataset.alert")
    _click(driver, '.copilot-dash-item[data-index="0"] [data-alert]')
    wb.wait(driver, lambda d: _active_tab(d) == "alerts")
    assert ui.post("/api/v1/rpc", json={"method": "getAlert", "params": {"id": str(alert_id)}}).json()["subject"] == "/dev/sdb"
    assert _errors(driver) == []


def test_headline_says_ok_on_a_healthy_nas(driver, live_server):
    from tests.alerts_support import fs, snapshot

    server = live_server({"api": {"serve_ui": str(wb.build_webui())}, "alerts": {"udev_monitor": False}}, cycle=False)
    server.agent.snapshot = snapshot(time.time(), system={"hostname": "nas"}, storage={"filesystems": [fs("/srv/data", 20)]})
    driver.get(server.url + "/ui/#token=" + server.token)
    wb.wait(driver, lambda d: _js(d, "return !!document.querySelector('.ocp-root[data-ready]')"))
    wb.wait(driver, lambda d: "Everything is OK" in _js(d, f"return {_body('openAlerts')}.textContent"))
    assert _js(driver, f"return {_body('openAlerts')}.querySelectorAll('.copilot-dash-item').length") == 0
    # a source that could not be read: the headline does not claim more than it saw
    from omv_copilot_agent.collect.base import SourceResult

    server.agent.snapshot.sources["smart"] = SourceResult("smart", "unavailable", {}, reason="smartctl not found")
    _js(driver, f"{_q('#dashboard')}.refresh();")
    wb.wait(driver, lambda d: "Nothing needs attention in what could be read" in _js(d, f"return {_body('openAlerts')}.textContent"))
    assert "Could not read: smart (smartctl not found)" in _js(driver, f"return {_body('openAlerts')}.textContent")
    assert _errors(driver) == []


def test_disk_cards_show_the_verdict_the_attributes_and_sleep(driver, ui):
    _open(driver, ui)
    cards = _js(driver, f"""return Array.from({_body('disks')}.querySelectorAll('.copilot-dash-disk')).map(function (c) {{
        return {{device: c.dataset.device, verdict: c.querySelector('.copilot-dash-verdict').textContent, text: c.textContent,
                 spark: (c.querySelector('svg.copilot-dash-spark') || {{dataset: {{}}}}).dataset.points}}; }});""")
    by = {c["device"]: c for c in cards}
    assert set(by) == {"/dev/sda", "/dev/sdb", "/dev/sdc"}
    failing = by["/dev/sdb"]
    assert failing["verdict"] == "Failing" and "Hitachi HDS721050DLE630" in failing["text"]
    disk = ds.failing_snapshot(time.time()).data("smart")["disks"][1]
    raw = {a["id"]: a["raw"] for a in disk["attributes"]}
    assert f"Reallocated sectors (5){raw[5]}" in failing["text"] and f"Pending sectors (197){raw[197]}" in failing["text"]
    assert "Last self-test: Short offline: Completed without error" in failing["text"]
    assert by["/dev/sda"]["verdict"] == "Healthy" and int(by["/dev/sda"]["spark"]) > 10  # 24 h of temperatures
    assert "asleep" in by["/dev/sdc"]["text"] and "values from 5 h ago" in by["/dev/sdc"]["text"]
    assert _errors(driver) == []


def test_filesystem_card_draws_the_forecast_line_to_the_day_it_fills(driver, ui):
    _open(driver, ui)
    full_at = next(f for f in ui.agent.alerts.forecasts() if f["mountpoint"] == ds.FILLING)["full_at"]
    line = _js(driver, f"""var c = {_body('filesystems')}.querySelector('.copilot-dash-fs[data-mountpoint="{ds.FILLING}"]');
        var p = c.querySelector('path.copilot-dash-forecast'), h = c.querySelector('path.copilot-dash-line:not(.copilot-dash-forecast)');
        if (!p) {{ return null; }}
        var svg = p.ownerSVGElement, box = svg.viewBox.baseVal, end = p.getPointAtLength(p.getTotalLength()), start = p.getPointAtLength(0);
        var hb = h.getBBox();
        return {{fullAt: +p.dataset.fullAt, endX: end.x, endY: end.y, startX: start.x, histRight: hb.x + hb.width, width: box.width,
                 text: c.textContent, label: (c.querySelector('.copilot-dash-marklabel') || {{}}).textContent}};""")
    assert line is not None, "no forecast line on the filling filesystem"
    assert abs(line["fullAt"] - full_at) < 2
    assert line["endX"] > line["width"] - 20 and line["endY"] < 15  # ends at 100 % on the chart's right edge
    assert abs(line["startX"] - line["histRight"]) < 3  # and continues the usage history from now
    assert "full on" in line["text"] and "in 5 days" in line["text"] and line["label"].startswith("full ")
    assert _js(driver, f"return {_body('filesystems')}.querySelector('.copilot-dash-fs[data-mountpoint=\"/\"] path.copilot-dash-forecast')") is None
    assert _errors(driver) == []


def _chart(driver, kind: str) -> dict:
    return _js(driver, f"""var s = {_body('charts')}.querySelector('svg[data-kind={kind}]');
        return {{points: +s.dataset.points, x0: +s.dataset.x0, x1: +s.dataset.x1,
                 labels: Array.from(s.querySelectorAll('.copilot-dash-xlabel')).map(function (t) {{ return t.textContent; }}),
                 range: s.closest('[data-range]').dataset.range}};""")


def test_range_picker_reads_the_tiers_for_each_range(driver, ui):
    _open(driver, ui)
    now = time.time()
    seen = {}
    for rid, span in (("24h", 86400), ("1h", 3600), ("7d", 7 * 86400), ("30d", 30 * 86400)):
        if rid != "24h":
            _click(driver, f'.copilot-dash-range[data-range="{rid}"]')
        wb.wait(driver, lambda d: _chart(d, "cpumem")["range"] == rid, message=f"range {rid} not applied")
        chart = _chart(driver, "cpumem")
        assert abs(chart["x0"] - (now - span)) < 120, (rid, chart)
        assert len(chart["labels"]) == len(set(chart["labels"])) >= 2, chart["labels"]  # no doubled x-axis labels
        for kind in ("load", "temp"):
            assert _chart(driver, kind)["points"] > 0, kind
        seen[rid] = chart["points"]
    # 1 h of 5-minute samples < 24 h at 5 min < 7 d at 30 min < 30 d hourly, two series each
    assert seen["1h"] < seen["24h"] and seen["7d"] < seen["30d"], seen
    assert seen["30d"] <= 2 * 721, seen
    assert _js(driver, f"return {_body('charts')}.querySelector('.copilot-dash-range-on').dataset.range") == "30d"
    assert _errors(driver) == []


def test_virtual_interfaces_are_hidden_until_asked(driver, ui):
    _open(driver, ui)
    wb.wait(driver, lambda d: "eth0" in _js(d, f"return {_body('network')}.textContent"))
    text = _js(driver, f"return {_body('network')}.textContent")
    assert not any(n in text for n in ("ifb0", "ifb1", "veth3f2a1b0", "docker0", "br-5e1c2d3a4b5f")), text
    assert "down" not in text and "Show 5 virtual interfaces" in text
    _click(driver, "[data-toggle-virtual]")
    wb.wait(driver, lambda d: "ifb0" in _js(d, f"return {_body('network')}.textContent"))
    # shown on request, a virtual interface that is down is not a red badge
    assert _js(driver, f"return {_body('network')}.querySelectorAll('.ocp-badge.ocp-bad').length") == 0
    _click(driver, "[data-toggle-virtual]")
    wb.wait(driver, lambda d: "ifb0" not in _js(d, f"return {_body('network')}.textContent"))
    assert _errors(driver) == []


@pytest.mark.parametrize("width, height", [(1280, 800), (800, 1000)])
def test_dashboard_fits_the_window_and_no_chart_is_cut(driver, ui, width, height):
    _open(driver, ui, width, height)
    overflow = _js(driver, """var out = [];
        document.querySelectorAll('.ocp-dashboard .copilot-dash-card').forEach(function (c) {
          var r = c.getBoundingClientRect();
          if (r.right > window.innerWidth + 1) { out.push('card ' + c.textContent.slice(0, 40) + ' ends at ' + r.right); }
          c.querySelectorAll('svg.copilot-dash-chart').forEach(function (s) {
            var b = s.getBoundingClientRect();
            if (b.right > r.right + 1 || b.left < r.left - 1) { out.push('chart cut in ' + c.textContent.slice(0, 40)); }
          });
        });
        var body = Ext6.ComponentQuery.query('#dashboard')[0].body.dom;
        if (body.scrollWidth > body.clientWidth + 1) { out.push('horizontal scroll ' + body.scrollWidth + ' > ' + body.clientWidth); }
        return out;""")
    assert overflow == []
    # the failing NAS's colours (verdicts, forecast, headline) are readable: WCAG AA, 4.5:1
    unreadable = {(t["cls"], t["color"]): (t["text"], t["ratio"]) for t in wb.text_contrast(driver, ".ocp-dashboard") if t["ratio"] < 4.5}
    assert unreadable == {}
    tag = str(width)
    _shot(driver, tag)
    _js(driver, f"{_body('filesystems')}.scrollIntoView(true)")
    time.sleep(0.3)
    _shot(driver, tag + "-storage")
    _js(driver, f"{_body('charts')}.scrollIntoView(true)")
    time.sleep(0.3)
    _shot(driver, tag + "-history")
    assert _errors(driver) == []


def test_charts_refreshed_behind_another_tab_are_drawn_when_it_shows(driver, ui):
    _open(driver, ui)
    _js(driver, "OmvCopilot.app.show('assistant'); window.ocpDone = false;"
                f"{_q('#dashboard')}.refresh().then(function () {{ window.ocpDone = true; }});")
    wb.wait(driver, lambda d: _js(d, "return window.ocpDone"))
    _js(driver, "OmvCopilot.app.show('dashboard');")
    # two filesystem charts and three history charts, each at its card's width
    wb.wait(driver, lambda d: _js(d, "return document.querySelectorAll('.ocp-dashboard svg.copilot-dash-chart').length") == 5)
    assert _js(driver, """return Array.from(document.querySelectorAll('.ocp-dashboard svg.copilot-dash-chart')).every(function (s) {
        return Math.abs(s.getBoundingClientRect().width - s.parentNode.clientWidth) < 2; });""")
    assert _errors(driver) == []
