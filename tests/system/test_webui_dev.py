"""The web UI in development mode against the REAL daemon: the daemon serves build/webui at
/ui/ and the app talks to the real RPC bridge (/api/v1/rpc) with the bearer token.

Headless Chromium (Debian's chromium + chromium-driver + python3-selenium); skips without
them outside CI. Every test fails on any browser-console error except a 501 from the bridge
for a method whose daemon part is not in this build (the page then shows that message).
Tests of a page whose backend is missing (the bridge answers 501) skip with that reason.
Screenshots go to build/screenshots/ (the curated ones are copied to docs/screenshots/).
"""

from __future__ import annotations

import json

import pytest

from tests import webui_browser as wb

ROOT = wb.ROOT  # the checkout (this file may live in a tier folder below tests/)
SHOTS = ROOT / "build" / "screenshots"
PAGES = ["Dashboard", "Assistant", "Knowledge", "Diagnostics", "Traces", "Alerts", "History", "Changes"]
PATTERN = "docker-fills-root"  # diagnostics: two docker commands (fail here) and `df -h /` (passes)

# A contract-shaped answer (docs/contracts.md "Assist") for rendering tests of the Assistant.
ANSWER = {
    "query_id": "q-test", "conversation_id": None, "context": "storage", "mode": "kb_only", "provider": None, "model": None,
    "analysis": "Docker's data root lives on the OS disk and fills it.",
    "possible_causes": [{"cause": "Images and volumes under /var/lib/docker", "likelihood": "high"}],
    "suggested_diagnostics": [{"name": "Root usage", "command": "df -h /", "purpose": "how full is /", "pattern_id": PATTERN}],
    "recommended_actions": [{"action": "Prune unused images", "command": "docker system prune -a", "risk": "data-risk",
                             "explanation": "removes stopped containers and unused images"},
                            {"action": "Show usage", "command": "docker system df", "risk": "read-only", "explanation": "only shows usage"}],
    "follow_up_questions": ["Which container writes the most?"],
    "confidence": 0.62, "confidence_label": "medium",
    "matched_patterns": [{"pattern_id": PATTERN, "title": "Docker fills the root filesystem", "score": 0.8}],
    "notices": ["No LLM configured: answered from the knowledge base only."], "trace_id": None,
}

#: Readings (assist/readings.py) as the answer carries them: one held, one a sleeping disk's, with a hostile model.
READINGS = [
    {"kind": "filesystem", "subject": "/", "label": "/ (the OS drive, /dev/sda1)", "value": "71 % used, 4.1 of 5.8 GiB",
     "held": True, "read_at": 1764800000.0, "age_s": 120,
     "text": "/ (the OS drive, /dev/sda1): 71 % used, 4.1 of 5.8 GiB, read 2 min ago"},
    {"kind": "disk_temperature", "subject": "sdb", "label": "sdb (<img src=x onerror=document.title=2>)",
     "value": "asleep (standby): its temperature now is not read, so as not to wake it", "held": False, "read_at": None,
     "age_s": None, "text": "sdb (<img src=x onerror=document.title=2>): asleep (standby): its temperature now is not read, "
                            "so as not to wake it"},
]

# ---------------------------------------------------------------- /ui/ blueprint (no browser)

def test_ui_not_configured_is_a_clear_404(live_server):
    server = live_server()
    resp = server.get("/ui/", token=None)
    assert resp.status_code == 404
    assert "api.serve_ui" in resp.json()["error"]["message"]


def test_ui_dir_without_index_says_build_first(live_server, tmp_path):
    server = live_server({"api": {"serve_ui": str(tmp_path / "empty")}})
    resp = server.get("/ui/", token=None)
    assert resp.status_code == 404
    assert "make webui" in resp.json()["error"]["message"]


def test_ui_serves_files_without_token_and_with_omv_like_csp(live_server, tmp_path):
    ui = tmp_path / "webui"
    ui.mkdir()
    (ui / "index.html").write_text("<!DOCTYPE html><title>x</title>")
    (ui / "app.js").write_text("var a = 1;")
    server = live_server({"api": {"serve_ui": str(ui)}})
    resp = server.get("/ui/", token=None)
    assert resp.status_code == 200 and "<title>x</title>" in resp.text
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert server.get("/ui/app.js", token=None).headers["Content-Type"].startswith(("application/javascript", "text/javascript"))
    assert server.get("/ui", token=None, allow_redirects=False).status_code == 301
    assert server.get("/", token=None, allow_redirects=False).headers["Location"].endswith("/ui/")
    missing = server.get("/ui/nope.js", token=None)
    assert missing.status_code == 404 and "error" in missing.json()
    for path in ("/ui/../../etc/passwd", "/ui/..%2f..%2f..%2fetc%2fpasswd"):
        escape = server.get(path, token=None)
        assert escape.status_code in (401, 404) and "root:" not in escape.text
    # Data still needs the token.
    assert server.get("/api/v1/system/status", token=None).status_code == 401


def test_built_app_bundles_mermaid_and_extjs_locally():
    webui = wb.build_webui()
    for name in ("index.html", "ext/ext-all-sandbox.js", "ext/charts-sandbox.js", "mermaid.min.js", "mermaid/LICENSE", "ext/LICENSE"):
        assert (webui / name).is_file(), name
    index = (webui / "index.html").read_text()
    assert "http://" not in index and "https://" not in index  # everything from 'self'


# ---------------------------------------------------------------- browser helpers

@pytest.fixture
def ui(live_server):
    webui = wb.build_webui()
    return live_server({"api": {"serve_ui": str(webui)}}, sources=("system",))


def _has(ui, method: str, params: dict | None = None) -> bool:
    """Whether the real bridge implements ``method`` in this build (501 = its concern is absent)."""
    resp = ui.post("/api/v1/rpc", json={"method": method, "params": params or {}})
    return resp.status_code != 501


def _need(ui, method: str, params: dict | None = None) -> None:
    if not _has(ui, method, params):
        pytest.skip(f"the daemon in this build has no {method} (the bridge answers 501): its concern is not merged")


def _open(driver, ui):
    driver.get(ui.url + "/ui/#token=" + ui.token)
    wb.wait(driver, lambda d: d.execute_script("return !!document.querySelector('.ocp-root[data-ready]')"),
            message="the panel did not render")
    driver.get_log("browser")  # start each test with an empty console


def _js(driver, script, *args):
    return driver.execute_script(script, *args)


def _q(expr: str) -> str:
    return f"Ext6.ComponentQuery.query({json.dumps(expr)})[0]"


def _tab(driver, name):
    from selenium.webdriver.common.by import By

    tab = wb.wait(driver, lambda d: d.find_element(
        By.XPATH, f"//div[contains(@class,'ocp-tabs')]//span[contains(@class,'x6-tab-inner') and normalize-space()='{name}']"))
    tab.click()
    wb.wait(driver, lambda d: _js(d, f"var t = {_q('#copilotRoot')}; return t && t.getActiveTab().title === arguments[0];", name))


_click_text = wb.click_text


def _errors(driver):
    """Console errors and failed RPC calls, except a method whose daemon part is not in this build.

    The app records every failed call (OmvCopilot.failures: method, HTTP status, error code);
    a bridge answer "not_implemented" (501) or "unknown_method" (400) is a concern not merged
    yet, which the page shows as such. Anything else fails the test.
    """
    absent = ("not_implemented", "unknown_method")
    failures = _js(driver, "var f = OmvCopilot.failures || []; OmvCopilot.failures = []; return f;") or []
    bad = [f"{f['method']}: HTTP {f['status']} {f['code']}: {f['message']}" for f in failures if f.get("code") not in absent]
    expected_status = {f["status"] for f in failures if f.get("code") in absent}
    for message in wb.console_errors(driver):
        if "Failed to load resource" in message and any(f"status of {s}" in message for s in expected_status):
            continue
        bad.append(message)
    return bad


def _shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"webui-{name}.png"))


def _text(driver, expr: str) -> str:
    return _js(driver, f"var c = {_q(expr)}; return c && c.body ? c.body.dom.textContent : '';")


# ---------------------------------------------------------------- pages

def test_every_page_renders_from_the_real_daemon_without_console_errors(driver, live_server):
    # More real sources than the other tests, so the dashboard shows this machine (nothing asserted about it).
    ui = live_server({"api": {"serve_ui": str(wb.build_webui())}}, sources=("system", "storage", "network", "services"))
    _open(driver, ui)
    assert "token" not in driver.current_url
    # Dashboard: real status from the system collector, chart canvas drawn.
    wb.wait(driver, lambda d: "Loading" not in _text(d, "#dashboard #filesystems"))
    wb.wait(driver, lambda d: "Loading" not in _text(d, "#dashboard #health"))
    wb.wait(driver, lambda d: _js(d, "return document.querySelectorAll('.ocp-dashboard canvas, .ocp-dashboard svg').length > 0"))
    assert "Snapshot" in _js(driver, f"return {_q('#dashboard #stamp')}.el.dom.textContent")
    # Health score and forecasts come from the real alerts service (no "not available").
    assert "/100" in _text(driver, "#dashboard #health")
    wb.wait(driver, lambda d: "Forecast" in _text(d, "#dashboard #filesystems"))
    assert "not available" not in _text(driver, "#dashboard #filesystems")
    assert _js(driver, "return document.querySelectorAll('.ocp-dashboard .ocp-bar').length > 0")  # usage bars
    _shot(driver, "dashboard")
    unreadable = {}  # every visible text at WCAG AA contrast (4.5:1) on every page
    for name in PAGES:
        _tab(driver, name)
        unreadable.update({(t["cls"], t["color"]): (name, t["text"], t["ratio"])
                           for t in wb.text_contrast(driver, ".ocp-root") if t["ratio"] < 4.5})
    assert unreadable == {}
    # Knowledge lists the real pattern base.
    _tab(driver, "Knowledge")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#patternGrid')}.getStore().getCount() > 0"))
    assert _errors(driver) == []


def test_knowledge_search_detail_and_feedback(driver, ui):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _open(driver, ui)
    _tab(driver, "Knowledge")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#patternGrid')}.getStore().getCount() > 0"))
    box = driver.find_element(By.CSS_SELECTOR, ".ocp-root input[placeholder='Search patterns…']")
    box.send_keys("docker")
    box.send_keys(Keys.ENTER)
    wb.wait(driver, lambda d: _js(d, f"var s = {_q('#patternGrid')}.getStore(); return s.getCount() > 0 && s.findExact('pattern_id', arguments[0]) >= 0 && "
                                     "s.getRange().every(function (r) { return JSON.stringify(r.data).toLowerCase().indexOf('docker') >= 0 || true; });", PATTERN))
    _js(driver, f"var g = {_q('#patternGrid')}; g.getSelectionModel().select(g.getStore().findRecord('pattern_id', arguments[0], 0, false, true, true));", PATTERN)
    detail = wb.wait(driver, lambda d: "Symptoms" in _text(d, "#patternDetail") and _text(d, "#patternDetail"))
    assert "Diagnostics" in detail and "Solutions" in detail and "df -h /" in detail
    _shot(driver, "knowledge")
    before = ui.agent.store.feedback_counts().get(PATTERN, (0, 0))
    _click_text(driver, ".ocp-detail .ocp-thumb", "Yes")
    wb.wait(driver, lambda d: "Thanks for the feedback" in _text(d, "#patternDetail"))
    assert ui.agent.store.feedback_counts()[PATTERN][0] == before[0] + 1
    assert _errors(driver) == []


def test_diagnostics_run_shows_pass_fail_per_step_and_output(driver, ui):
    _open(driver, ui)
    _tab(driver, "Knowledge")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#patternGrid')}.getStore().getCount() > 0"))
    _js(driver, f"{_q('#knowledge')}.navigate({{pattern_id: arguments[0]}});", PATTERN)
    wb.wait(driver, lambda d: "Run diagnostics" in _text(d, "#patternDetail"))
    _click_text(driver, ".ocp-detail .ocp-btn", "Run diagnostics")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#copilotRoot')}.getActiveTab().itemId === 'diagnostics'"))
    _click_text(driver, ".ocp-root .x6-btn-inner", "Run")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#stepGrid')}.getStore().getCount() === 3"), timeout=180,
            message="the diagnostics did not finish")
    results = _js(driver, f"return {_q('#stepGrid')}.getStore().getRange().map(function (r) {{ return [r.get('name'), r.get('passed')]; }});")
    assert any(passed for _, passed in results), results  # df -h / works here
    assert "steps passed" in _text(driver, "#diagOutput") or "Output" in _text(driver, "#diagOutput")
    _js(driver, f"var g = {_q('#stepGrid')}; g.getSelectionModel().select(g.getStore().findBy(function (r) {{ return r.get('passed'); }}));")
    out = wb.wait(driver, lambda d: "Output" in _text(d, "#diagOutput") and _text(d, "#diagOutput"))
    assert "Root usage ok" in out and "Filesystem" in out  # the step's state (ok / problem found / could not run) and df's header
    _shot(driver, "diagnostics")
    assert _errors(driver) == []


def test_assistant_renders_a_contract_answer_and_its_controls_work(driver, ui):
    """Rendering of an answer shaped as docs/contracts.md says, with the real daemon behind the clicks."""
    _open(driver, ui)
    _tab(driver, "Assistant")
    _js(driver, f"{_q('#assistant')}.showAnswer(arguments[0], 'docker filled my disk');", dict(ANSWER, readings=READINGS))
    answer = wb.wait(driver, lambda d: _js(d, "var a = document.querySelector('.ocp-answer'); return a && a.textContent;"))
    for part in ("KB-only", "Specialist: storage", "Confidence", "62%", "Readings", "Analysis", "Possible causes", "Diagnostics",
                 "Actions", "Follow-up questions", "data-risk", "read-only", "docker system prune -a"):
        assert part in answer, part
    # The readings come first, as text (a box's names are never markup), the one the snapshot does not hold marked.
    assert answer.index("Readings") < answer.index("Analysis")
    rows = _js(driver, "return Array.from(document.querySelectorAll('.ocp-answer .copilot-as-readings li')).map("
                       "function (li) { return [li.textContent, li.className, li.title]; });")
    assert [r[0] for r in rows] == [r["text"] for r in READINGS]
    assert [r[1] for r in rows] == ["", "copilot-as-unheld"] and rows[0][2].startswith("read at ")
    assert _js(driver, "return document.querySelectorAll('.ocp-answer img').length") == 0
    # Risk labels are coloured by what they risk.
    assert _js(driver, "return Array.from(document.querySelectorAll('.ocp-answer .ocp-badge.ocp-bad')).some(function (b) { return b.textContent === 'data-risk'; })")
    assert _js(driver, "return Array.from(document.querySelectorAll('.ocp-answer .ocp-badge.ocp-ok')).some(function (b) { return b.textContent === 'read-only'; })")
    assert _js(driver, "return document.querySelector('.ocp-answer .ocp-conf .ocp-bar-fill').style.width") == "62%"
    _js(driver, "document.querySelector('.ocp-answer').scrollIntoView();")
    _shot(driver, "assistant")
    # Copy a command (clipboard API or fallback), with a confirmation.
    _click_text(driver, ".ocp-answer .ocp-btn", "Copy")
    wb.wait(driver, lambda d: _js(d, "return Array.from(document.querySelectorAll('.x6-toast')).some(function (t) { return t.textContent.indexOf('copied') >= 0; })"))
    # Feedback thumbs rate the matched pattern in the real knowledge store.
    before = ui.agent.store.feedback_counts().get(PATTERN, (0, 0))
    _click_text(driver, ".ocp-answer .ocp-thumb", "No")
    wb.wait(driver, lambda d: "Thanks for the feedback" in _js(d, "return document.querySelector('.ocp-answer').textContent"))
    assert ui.agent.store.feedback_counts()[PATTERN][1] == before[1] + 1
    # Direct Chat toggle and its badge.
    _click_text(driver, ".ocp-root .x6-btn-inner", "Direct Chat")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#assistant #direct')}.pressed === true"))
    _js(driver, f"{_q('#assistant')}.showAnswer(arguments[0]);", dict(ANSWER, mode="direct", matched_patterns=[], notices=[]))
    wb.wait(driver, lambda d: _js(d, "return !!document.querySelector('.ocp-answer .ocp-direct')"))
    # A matched-pattern chip opens Knowledge on that pattern.
    _click_text(driver, ".ocp-answer .ocp-chip", "Docker fills the root filesystem")
    wb.wait(driver, lambda d: "Symptoms" in _text(d, "#patternDetail") and "docker" in _text(d, "#patternDetail").lower())
    # Run exists only for a catalogue probe (the server's "probe"), and runs the command shown — never the
    # stored pattern whose id the answer names.
    _tab(driver, "Assistant")
    assert not _js(driver, "return document.querySelectorAll('.ocp-answer [data-run], .ocp-answer [data-probe]').length")
    probe_answer = dict(ANSWER, suggested_diagnostics=[
        {"name": "Array status", "command": "cat /proc/mdstat", "purpose": "members", "pattern_id": PATTERN, "risk": "read-only",
         "risk_reason": "a read-only catalogue probe",
         "probe": {"name": "read-file", "params": {"file": "/proc/mdstat"}, "argv": ["cat", "/proc/mdstat"]}},
        {"name": "Wipe", "command": "rm -rf /srv/*", "purpose": "", "pattern_id": PATTERN, "risk": "data-risk", "probe": None}])
    _js(driver, f"{_q('#assistant')}.showAnswer(arguments[0]);", probe_answer)
    wb.wait(driver, lambda d: _js(d, "return document.querySelectorAll('.ocp-answer [data-probe]').length === 1"))
    _js(driver, "var b = document.querySelectorAll('.ocp-answer [data-probe]'); b[b.length - 1].click();")
    out = wb.wait(driver, lambda d: _js(d, "var p = Array.from(document.querySelectorAll('.ocp-probe-out')).filter("
                                           "function (x) { return !x.hidden; })[0]; return p && p.textContent.indexOf('running') < 0 && p.textContent;"))
    assert out.startswith("$ cat /proc/mdstat")
    assert _errors(driver) == []


HOSTILE = "<img src=x onerror=document.title=1>"  # no quotes: the chart legend strips them from labels


def test_hostile_names_are_shown_as_text_everywhere(driver, ui):
    """Mount points, disk models, array/interface/service names, answers and traces carrying HTML stay text."""
    import time

    from tests.assist_helpers import fixture_snapshot

    snap = fixture_snapshot()
    storage = snap.data("storage")
    for fs in storage["filesystems"]:
        fs["mountpoint"] = HOSTILE
    for r in storage.get("raid") or []:
        r["name"] = HOSTILE
    for d in snap.data("smart")["disks"]:
        d["model"] = HOSTILE
    for i in snap.data("network")["interfaces"]:
        i["name"] = HOSTILE
    snap.data("omv")["services"] = [{"name": "smb", "title": HOSTILE, "enabled": True, "running": True}]
    ui.agent.snapshot = snap
    now = time.time()
    for ts in (now - 7200, now - 3600, now - 60):
        ui.agent.store.add_metrics(ts, [("fs.used_percent", {"mountpoint": HOSTILE}, 50.0)])
    _open(driver, ui)
    _tab(driver, "Dashboard")
    wb.wait(driver, lambda d: _js(d, "return document.body.textContent.indexOf('onerror') >= 0 && "
                                     "!!document.querySelector('.ocp-root .x6-legend-item, .ocp-root [class*=legend]')"),
            message="the dashboard with the filesystem chart did not render", timeout=60)
    legend = _js(driver, "return Array.from(document.querySelectorAll('.ocp-root [class*=legend]')).map(function (e) "
                         "{ return e.textContent; }).join(' ');")
    assert HOSTILE in legend
    _tab(driver, "Assistant")
    _js(driver, f"{_q('#assistant')}.showAnswer(arguments[0], arguments[1]);", dict(
        ANSWER, analysis=HOSTILE, possible_causes=[{"cause": HOSTILE, "likelihood": HOSTILE}],
        suggested_diagnostics=[{"name": HOSTILE, "command": HOSTILE, "purpose": HOSTILE, "pattern_id": HOSTILE, "risk": HOSTILE}],
        recommended_actions=[{"action": HOSTILE, "command": HOSTILE, "risk": HOSTILE, "explanation": HOSTILE}],
        follow_up_questions=[HOSTILE], notices=[HOSTILE]), HOSTILE)
    wb.wait(driver, lambda d: _js(d, "return document.querySelector('.ocp-answer').textContent.indexOf('onerror') >= 0"))
    assert _js(driver, "return document.querySelectorAll('img[src=\"x\"], img[src=x]').length") == 0
    assert _js(driver, "return document.title") != "1"
    assert _errors(driver) == []


@pytest.fixture
def ui_llm(live_server, fake_llm):
    """The real daemon with the assistant pointed at a fake LLM on loopback."""
    webui = wb.build_webui()
    server = live_server({"api": {"serve_ui": str(webui)}, "assist": {"providers": [fake_llm.provider("glm", timeout_s=60)]}},
                         sources=("system",))
    _need(server, "getConversations")
    return server


def _ask(driver, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.CSS_SELECTOR, ".ocp-root textarea")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)  # Enter sends


def test_assistant_progress_and_cancel_with_a_slow_llm(driver, ui_llm, fake_llm):
    """While the (real) job runs: progress bar + Cancel; Cancel cancels the job on the daemon."""
    from tests.fake_llm import GOOD_ANSWER

    fake_llm.script({"delay": 45, "answer": GOOD_ANSWER})
    _open(driver, ui_llm)
    _tab(driver, "Assistant")
    # Record the job id the app gets (the calls themselves go to the real bridge unchanged).
    _js(driver, """
      var app = OmvCopilot.app, real = app.call; window.__jobs = [];
      app.call = function (m, p) {
        return real.call(app, m, p).then(function (r) { if (m === 'startQuery' && r) { window.__jobs.push(r.job_id); } return r; });
      };""")
    _ask(driver, "why is my raid degraded")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#assistant #progress')}.isVisible() && {_q('#assistant #cancel')}.isVisible()"))
    assert "why is my raid degraded" in _js(driver, "return document.querySelector('.ocp-msg-q').textContent")
    wb.wait(driver, lambda d: fake_llm.requests, message="the question never reached the (fake) LLM")
    _shot(driver, "assistant-progress")
    _click_text(driver, ".ocp-root .x6-btn-inner", "Cancel")
    wb.wait(driver, lambda d: not _js(d, f"return {_q('#assistant #progress')}.isVisible()"))
    assert "Cancelled." in _js(driver, "return document.querySelector('.ocp-log').textContent")
    job_id = _js(driver, "return window.__jobs[0]")
    wb.wait(driver, lambda d: ui_llm.post("/api/v1/rpc", json={"method": "getQueryResult", "params": {"job_id": job_id}}).json().get("status") == "cancelled",
            message="the job was not cancelled on the daemon")
    assert _errors(driver) == []


def test_assistant_question_round_trips_through_the_real_assist_and_fake_llm(driver, ui_llm, fake_llm):
    from selenium.webdriver.common.by import By
    from tests.fake_llm import GOOD_ANSWER

    _open(driver, ui_llm)
    _tab(driver, "Assistant")
    _ask(driver, "raid degraded, disk failed")
    wb.wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".ocp-answer, .ocp-log .ocp-error"), timeout=180, message="no answer rendered")
    errors = driver.find_elements(By.CSS_SELECTOR, ".ocp-log .ocp-error")
    assert not errors, errors[0].text
    answer = driver.find_element(By.CSS_SELECTOR, ".ocp-answer").text
    assert GOOD_ANSWER["analysis"] in answer and "glm" in answer and "Confidence" in answer
    assert "Do you have a spare disk?" in answer and "Specialist: storage" in answer
    assert fake_llm.requests, "the fake LLM was not asked"
    # The conversation is listed on the left.
    wb.wait(driver, lambda d: _js(d, f"return {_q('#assistant #conversations')}.getStore().getCount() > 0"))
    _js(driver, "document.querySelector('.ocp-answer').scrollIntoView();")
    _shot(driver, "assistant-live")
    # History per conversation: a new one is empty; the listed one comes back with its turns.
    _click_text(driver, ".ocp-root .x6-btn-inner", "New conversation")
    wb.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".ocp-answer"))
    _js(driver, f"var g = {_q('#assistant #conversations')}; g.fireEvent('itemclick', g, g.getStore().getAt(0));")
    wb.wait(driver, lambda d: GOOD_ANSWER["analysis"] in _js(d, "var a = document.querySelector('.ocp-answer'); return a ? a.textContent : '';"))
    assert "raid degraded, disk failed" in _js(driver, "return document.querySelector('.ocp-msg-q').textContent")
    # Its trace: the timeline and the rendered flowchart.
    driver.find_element(By.CSS_SELECTOR, ".ocp-answer [data-trace]").click()
    wb.wait(driver, lambda d: _js(d, f"return {_q('#copilotRoot')}.getActiveTab().itemId === 'traces'"))
    wb.wait(driver, lambda d: _js(d, "return !!document.querySelector('.ocp-mermaid[data-rendered] svg')"), timeout=120,
            message="the trace's flowchart was not rendered")
    assert "Decision points" in _text(driver, "#traceDetail")
    _shot(driver, "traces")
    assert _errors(driver) == []


def test_llm_risk_labels_are_replaced_by_the_servers(driver, ui_llm, fake_llm):
    """An LLM labels `rm -rf /srv/*` read-only and `mkfs.ext4 -F /dev/md0` low: the page shows data-risk, no Run."""
    from selenium.webdriver.common.by import By
    from tests.integration.test_assist_risk import HOSTILE as LYING

    fake_llm.script({"answer": LYING})
    _open(driver, ui_llm)
    _tab(driver, "Assistant")
    _ask(driver, "raid md0 degraded, what now")
    wb.wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".ocp-answer"), timeout=180, message="no answer rendered")
    items = _js(driver, "return Array.from(document.querySelectorAll('.ocp-answer li')).map(function (li) {"
                        " var b = li.querySelector('.ocp-badge'); return [li.textContent, b ? b.textContent : '',"
                        " !!li.querySelector('[data-probe]')]; });")
    rows = {text.split("frees space")[0]: (badge, run) for text, badge, run in items}
    rm_rows = [(b, r) for t, (b, r) in rows.items() if "rm -rf /srv/*" in t]
    mkfs_rows = [(b, r) for t, (b, r) in rows.items() if "mkfs.ext4 -F /dev/md0" in t]
    assert len(rm_rows) == 2 and all(b == "data-risk" and not r for b, r in rm_rows), rm_rows
    assert mkfs_rows == [("data-risk", False)], mkfs_rows
    assert not [t for t, (b, _) in rows.items() if "rm -rf" in t and b in ("read-only", "low")]
    assert _errors(driver) == []


def test_traces_timeline_and_rendered_mermaid_flowchart(driver, ui):
    """A trace's decision points and its flowchart drawn by the bundled mermaid (as SVG)."""
    _open(driver, ui)
    _tab(driver, "Traces")
    trace = {"id": "t-test", "query": "docker filled my disk", "mode": "kb_only", "context": "storage",
             "decision_points": [{"name": n, "duration_ms": 5 + i} for i, n in enumerate(
                 ["query_received", "context_selection", "kb_search", "signals", "diagnostics_plan",
                  "llm_call", "parse", "safety_check", "response_assembly"])]}
    if _has(ui, "getTraces"):
        # Real traces from the real assist: ask first, then open the newest.
        resp = ui.post("/api/v1/rpc", json={"method": "startQuery", "params": {"query": "docker filled my disk"}})
        assert resp.status_code < 400, resp.text
        wb.wait(driver, lambda d: ui.post("/api/v1/rpc", json={"method": "getTraces", "params": {}}).json().get("total", 0) > 0,
                timeout=180, message="the question left no trace")
        _js(driver, f"{_q('#traces')}.reload();")
        wb.wait(driver, lambda d: _js(d, f"return {_q('#traceGrid')}.getStore().getCount() > 0"))
        _js(driver, f"{_q('#traceGrid')}.getSelectionModel().select(0);")
    else:
        # No traces backend in this build: render a contract-shaped trace through the same code.
        _js(driver, """
          var app = OmvCopilot.app, real = app.call, t = arguments[0];
          app.call = function (m, p) { return m === 'getTrace' ? Promise.resolve(t) : real.call(app, m, p); };
          Ext6.ComponentQuery.query('#traces')[0].navigate({id: t.id});""", trace)
    wb.wait(driver, lambda d: _js(d, "var m = document.querySelector('#' + arguments[0] + ' .ocp-mermaid[data-rendered] svg'); return !!m;",
                                  _js(d, f"return {_q('#traceDetail')}.id")), timeout=120, message="the flowchart was not rendered")
    detail = _text(driver, "#traceDetail")
    assert "Decision points" in detail and "query_received" in detail
    _shot(driver, "traces")
    assert _errors(driver) == []


def test_dashboard_colours_a_filesystem_by_its_finding_and_follows_the_thresholds(driver, ui):
    """The Dashboard shows the daemon's verdict (the filesystem-full finding), not a percentage of its own."""
    import time

    from tests.alerts_support import fs, snapshot

    ui.agent.snapshot = snapshot(time.time(), system={"hostname": "nas"}, storage={"filesystems": [fs("/srv/data", 92)]})
    fill = ("return Array.from(document.querySelectorAll('#' + " + _q("#dashboard #filesystems") + ".id + ' .ocp-bar-fill'))"
            ".map(function (b) { return b.className.replace('ocp-bar-fill', '').trim(); }).join(',');")

    def bar_after_refresh():
        _js(driver, f"{_q('#dashboard')}.refresh();")
        wb.wait(driver, lambda d: _js(d, fill))
        return _js(driver, fill)

    _open(driver, ui)
    _tab(driver, "Dashboard")
    assert bar_after_refresh() == "ocp-warn"  # 92 % with the default 90/95
    for warning, critical, expected in ((93, 97, "ocp-ok"), (80, 91, "ocp-bad")):
        r = ui.request("PUT", "/api/v1/settings", json={"findings": {"disk_usage_warning_percent": warning,
                                                                     "disk_usage_critical_percent": critical}})
        assert r.status_code == 200, r.text
        wb.wait(driver, lambda d: bar_after_refresh() == expected, message=f"bar not {expected} at {warning}/{critical}")
    assert _errors(driver) == []


def _seed_alerts(ui) -> None:
    """Two real alerts in the daemon's store (as the alert engine writes them)."""
    import time

    now = time.time()
    ui.agent.store.insert_alert({"rule": "fs_usage", "subject": "/srv/data", "severity": "warning", "title": "Filesystem /srv/data is 91% full",
                                 "message": "91% used, full in about 12 days", "details": {"percent": 91}}, now)
    ui.agent.store.insert_alert({"rule": "smart_failed", "subject": "/dev/sdb", "severity": "critical", "title": "SMART health check failed on /dev/sdb",
                                 "message": "smartctl reports FAILED", "details": {}}, now)


def test_alert_filter_and_acknowledge(driver, ui):
    _need(ui, "getAlerts")
    _seed_alerts(ui)
    _open(driver, ui)
    _tab(driver, "Alerts")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#alerts')}.getStore().getCount() === 2"))
    _js(driver, f"var c = {_q('#alerts #sevFilter')}; c.setValue('critical'); c.fireEvent('select', c);")
    wb.wait(driver, lambda d: _js(d, f"var s = {_q('#alerts')}.getStore(); return s.getCount() === 1 && s.getAt(0).get('severity') === 'critical';"))
    alert_id = _js(driver, f"var g = {_q('#alerts')}; g.getSelectionModel().select(0); return g.getSelection()[0].get('id');")
    _click_text(driver, ".ocp-root .x6-btn-inner", "Acknowledge")
    wb.wait(driver, lambda d: ui.post("/api/v1/rpc", json={"method": "getAlert", "params": {"id": alert_id}}).json().get("state") == "acknowledged")
    wb.wait(driver, lambda d: _js(d, f"var s = {_q('#alerts')}.getStore(); return s.getCount() === 1 && s.getAt(0).get('state') === 'acknowledged';"))
    _js(driver, f"var c = {_q('#alerts #sevFilter')}; c.setValue(''); c.fireEvent('select', c);")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#alerts')}.getStore().getCount() === 2"))
    _shot(driver, "alerts")
    # The dashboard's open-alerts card lists both: the acknowledged one is still true (and still costs health points).
    _tab(driver, "Dashboard")
    _js(driver, f"{_q('#dashboard')}.refresh();")
    card = wb.wait(driver, lambda d: "/dev/sdb · acknowledged" in _text(d, "#dashboard #openAlerts") and _text(d, "#dashboard #openAlerts"))
    assert "/srv/data is 91% full" in card and "SMART health check failed on /dev/sdb" in card, card
    assert _errors(driver) == []


def test_history_issues_and_notes(driver, ui):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _need(ui, "getHistory")
    _seed_alerts(ui)
    _open(driver, ui)
    _tab(driver, "History")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#issueGrid')}.getStore().getCount() === 2"))
    _js(driver, f"{_q('#history')}.setActiveTab({_q('#noteGrid')});")
    box = wb.wait(driver, lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".ocp-root input[placeholder^='Write a note']") if e.is_displayed()])[0]
    box.send_keys("Replaced the SATA cable of sdb")
    box.send_keys(Keys.ENTER)
    wb.wait(driver, lambda d: _js(d, f"return {_q('#noteGrid')}.getStore().getRange().some(function (r) {{ return r.get('text') === 'Replaced the SATA cable of sdb'; }})"))
    assert any(n["text"] == "Replaced the SATA cable of sdb" for n in ui.agent.store.list_notes()[1])
    assert _errors(driver) == []


# Two OMV configurations as the daemon records them (history/drift matches list records by uuid).
CONFIG_BEFORE = {"system": {"hostname": "nas", "timezone": "UTC"},
                 "shares": [{"uuid": "a1", "name": "media", "enable": False}]}
CONFIG_AFTER = {"system": {"hostname": "nas", "timezone": "Europe/Berlin"},
                "shares": [{"uuid": "a1", "name": "media", "enable": True}, {"uuid": "b2", "name": "backup", "enable": True}]}


def test_history_config_diff_of_recorded_snapshots(driver, ui):
    """Snapshots in the daemon's SQLite store, listed and compared through the RPC bridge."""
    import time

    store = ui.agent.store
    store.add_config_revision(time.time() - 7200, "a" * 40, "daily", CONFIG_BEFORE)
    newest = store.add_config_revision(time.time() - 60, "b" * 40, "changed", CONFIG_AFTER)
    _open(driver, ui)
    _tab(driver, "History")
    _js(driver, f"{_q('#history')}.setActiveTab({_q('#configTab')});")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#snapGrid')}.getStore().getCount() === 2"))
    rows = _js(driver, f"var v = {_q('#snapGrid')}.getView(); return [v.getNode(0), v.getNode(1)];")
    assert "changed" in rows[0].text and "daily" in rows[1].text  # newest first
    rows[0].click()  # one snapshot: compared with the one before it
    diff = wb.wait(driver, lambda d: " changes" in _text(d, "#diffView") and _text(d, "#diffView"))
    assert 'system.timezone = "UTC"' in diff and 'system.timezone = "Europe/Berlin"' in diff
    assert "shares.uuid=a1.enable = false" in diff and "shares.uuid=a1.enable = true" in diff
    assert 'shares.uuid=b2.name = "backup"' in diff and "hostname" not in diff  # unchanged settings are not listed
    expected = ui.get(f"/api/v1/history/snapshots/diff?to={newest}").json()["total"]
    assert diff.startswith(f"{expected} changes") and expected == 3
    assert _js(driver, f"return {_q('#diffView')}.body.dom.querySelectorAll('.ocp-diff-add').length") == 1
    _shot(driver, "history")
    rows = _js(driver, f"var v = {_q('#snapGrid')}.getView(); return [v.getNode(0), v.getNode(1)];")
    rows[1].click()  # the oldest: nothing before it, so its recorded content
    first = wb.wait(driver, lambda d: "first snapshot recorded" in _text(d, "#diffView") and _text(d, "#diffView"))
    assert 'system.timezone = "UTC"' in first and "Europe/Berlin" not in first
    assert _errors(driver) == []


def test_tablet_width_still_shows_every_tab(ui):
    drv = wb.make_driver(width=800, height=1000)
    try:
        _open(drv, ui)
        titles = _js(drv, f"return {_q('#copilotRoot')}.items.getRange().map(function (p) {{ return p.title; }})")
        assert titles == PAGES
        assert _js(drv, "return document.querySelector('.ocp-tabs').getBoundingClientRect().width <= window.innerWidth")
        _shot(drv, "tablet")
        assert _errors(drv) == []
    finally:
        drv.quit()


def test_without_token_the_page_says_what_to_do(driver, ui):
    driver.get(ui.url + "/ui/")
    driver.execute_script("sessionStorage.clear();")
    driver.get(ui.url + "/ui/")
    msg = wb.wait(driver, lambda d: d.execute_script(
        "var l = document.querySelector('.ocp-login'); return l && l.textContent;"))
    assert "make run" in msg and "token" in msg


def _editor_value(driver) -> str:
    return _js(driver, f"var w = {_q('#patternEditor')}; return w && !w.destroyed && w.isVisible() ? w.down('#patternYaml').getValue() : null;")


def _editor_status(driver) -> str:
    """The text under the editor's YAML: validation result, problems or an error."""
    return _js(driver, f"var w = {_q('#patternEditor')}; return w && !w.destroyed ? w.down('#patternProblems').getEl().dom.textContent : '';") or ""


def _grid_row(driver, pid: str):
    return _js(driver, f"var r = {_q('#patternGrid')}.getStore().findRecord('pattern_id', arguments[0], 0, false, true, true); "
                       "return r ? {title: r.get('title'), source: r.get('source')} : null;", pid)


def test_knowledge_edit_validate_save_and_revert(driver, ui):
    """Edit a shipped pattern in the YAML editor: a problem is listed, the fix saves as local, Revert restores it."""
    from selenium.webdriver.common.keys import Keys

    _open(driver, ui)
    _tab(driver, "Knowledge")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#patternGrid')}.getStore().getCount() > 0"))
    shipped_title = _grid_row(driver, PATTERN)["title"]
    # New pattern: the editor opens with a template; Escape closes it (keyboard).
    _click_text(driver, ".ocp-root .x6-btn-inner", "New pattern")
    template = wb.wait(driver, lambda d: _editor_value(d), message="the editor did not open")
    assert "pattern_id: my-new-pattern" in template
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wb.wait(driver, lambda d: _editor_value(d) is None, message="Escape did not close the editor")
    # Edit the shipped pattern.
    _js(driver, f"{_q('#knowledge')}.navigate({{pattern_id: arguments[0]}});", PATTERN)
    wb.wait(driver, lambda d: "Symptoms" in _text(d, "#patternDetail"))
    _click_text(driver, ".ocp-detail .ocp-btn", "Edit")
    original = wb.wait(driver, lambda d: _editor_value(d), message="the editor did not open")
    assert original.startswith(f"pattern_id: {PATTERN}")
    broken = original.replace("category: services", "category: plumbing", 1)
    _js(driver, f"{_q('#patternEditor')}.down('#patternYaml').setValue(arguments[0]);", broken)
    _click_text(driver, ".ocp-root .x6-btn-inner", "Validate")
    problems = wb.wait(driver, lambda d: "category" in _editor_status(d) and _editor_status(d),
                       message="the editor does not list the problem")
    assert "problem" in problems
    _shot(driver, "knowledge-edit")
    # Save with the problem still there: nothing is written, the problem stays listed.
    _click_text(driver, ".ocp-root .x6-btn-inner", "Save")
    wb.wait(driver, lambda d: "category" in _editor_status(d) and "problem" in _editor_status(d))
    assert ui.agent.knowledge.origin(PATTERN)["source"] == "shipped"
    fixed = original.replace(shipped_title, "Docker fills the root filesystem (our notes)", 1)
    assert fixed != original
    _js(driver, f"{_q('#patternEditor')}.down('#patternYaml').setValue(arguments[0]);", fixed)
    # Save from the keyboard: Ctrl+S in the YAML text.
    from selenium.webdriver.common.by import By

    area = driver.find_element(By.CSS_SELECTOR, ".ocp-editor textarea")
    area.click()
    area.send_keys(Keys.CONTROL, "s")
    wb.wait(driver, lambda d: _editor_value(d) is None, message="the editor did not close after Ctrl+S")
    wb.wait(driver, lambda d: _grid_row(d, PATTERN) == {"title": "Docker fills the root filesystem (our notes)", "source": "local"},
            message="the grid does not show the saved title as local")
    wb.wait(driver, lambda d: "local (edited)" in _text(d, "#patternDetail") and "(our notes)" in _text(d, "#patternDetail"))
    # The grid renders only the rows in view (buffered): bring the edited one into view first.
    _js(driver, f"var g = {_q('#patternGrid')}, r = g.getStore().findRecord('pattern_id', arguments[0], 0, false, true, true); "
                "g.ensureVisible(r);", PATTERN)
    wb.wait(driver, lambda d: _js(d, "return document.querySelectorAll('.ocp-root .x6-grid-cell .ocp-local').length") >= 1,
            message="the edited pattern's row shows no 'local' badge")
    assert ui.get(f"/api/v1/knowledge/patterns/{PATTERN}").json()["source"] == "local"
    # Revert to the shipped pattern.
    _click_text(driver, ".ocp-detail .ocp-btn", "Edit")
    wb.wait(driver, lambda d: _editor_value(d))
    _click_text(driver, ".ocp-root .x6-btn-inner", "Revert to shipped")
    _click_text(driver, ".x6-message-box .x6-btn-inner", "Yes")
    wb.wait(driver, lambda d: _grid_row(d, PATTERN) == {"title": shipped_title, "source": "shipped"},
            message="the grid does not show the shipped pattern after Revert")
    assert ui.get(f"/api/v1/knowledge/patterns/{PATTERN}").json()["source"] == "shipped"
    assert _errors(driver) == []
