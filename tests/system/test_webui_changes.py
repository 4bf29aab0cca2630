"""The Changes tab in development mode against the REAL daemon (tests/system/test_webui_dev.py's
helpers): OMV's pending change explained from a fixture box (config.xml and its revision, dirty
modules, salt states, a planted hand edit), OMV's revert behind a confirmation, the upgrade
preflight's verdict from a fixture of apt's simulation, and the timeline merging every kind.

Screenshots: build/screenshots/webui-changes-*.png (the curated ones are in docs/screenshots/).
"""

from __future__ import annotations

import json
import time

import pytest

from tests import webui_browser as wb
from tests.integration.test_changes_pending import SAMBA_SLS, SSH_SLS, AFTER, BEFORE
from tests.integration.test_changes_preflight import KERNEL_ZFS
from tests.system.test_webui_dev import _errors, _js, _open, _q, _shot, _tab, _text

from omv_copilot_agent.changes import pending
from omv_copilot_agent.collect import apt_history, boots, omv_files



@pytest.fixture
def box(tmp_path):
    """An OMV box's files in a folder (as tests/integration/test_changes_pending.py builds them)."""
    etc = tmp_path / "root" / "etc"
    for sub in ("openmediavault", "samba", "ssh"):
        (etc / sub).mkdir(parents=True)
    (etc / "samba" / "smb.conf").write_text("[global]\nworkgroup = WORKGROUP\n")
    (etc / "ssh" / "sshd_config").write_text("Port 22\n")
    (etc / "openmediavault" / "config.xml.0001").write_text(BEFORE)
    (etc / "openmediavault" / "config.xml").write_text(AFTER)
    for name, text in (("samba", SAMBA_SLS), ("ssh", SSH_SLS)):
        (tmp_path / "deploy" / name).mkdir(parents=True)
        (tmp_path / "deploy" / name / "10configure.sls").write_text(text)
    (tmp_path / "dirtymodules.json").write_text(json.dumps(["samba", "ssh"]))
    return pending.Paths(config_file=etc / "openmediavault" / "config.xml", dirty_file=tmp_path / "dirtymodules.json",
                         deploy_root=tmp_path / "deploy", root=tmp_path / "root")


@pytest.fixture
def ui(live_server, box, monkeypatch, tmp_path):
    """The real daemon reading the fixture box; a baseline after the last deploy, then a hand edit of smb.conf."""
    monkeypatch.setattr(omv_files, "PATHS", box)
    monkeypatch.setattr(apt_history, "LOG", str(tmp_path / "no-apt-history.log"))
    monkeypatch.setattr(boots, "WTMP", str(tmp_path / "no-wtmp"))
    server = live_server({"api": {"serve_ui": str(wb.build_webui())}}, sources=("system",))
    baseline = pending.Baseline(server.agent.config.data_dir / omv_files.BASELINE_FILE)
    baseline.take(["/etc/samba/smb.conf", "/etc/ssh/sshd_config"], box, "after a deploy")
    with open(box.root / "etc/samba/smb.conf", "a") as fh:
        fh.write("server signing = disabled\n")  # the planted hand edit
    return server


def _changes(driver, sub: str):
    _tab(driver, "Changes")
    _js(driver, f"{_q('#changes')}.setActiveTab({_q(sub)});")


def test_pending_shows_modules_diff_states_and_the_hand_edit_warning(driver, ui):
    _open(driver, ui)
    _changes(driver, "#pendingView")
    text = wb.wait(driver, lambda d: "module(s) will be deployed" in _text(d, "#pendingView") and _text(d, "#pendingView"),
                   message="the pending change did not render")
    assert "2 module(s) will be deployed on Apply: samba, ssh" in text
    assert "SMB share 'media': readonly read only → read/write" in text
    assert "SSH settings: permitrootlogin root login on → root login off" in text
    assert "omv-salt deploy run samba" in text and "/etc/samba/smb.conf" in text and "smbd" in text
    warning = _js(driver, f"var el = {_q('#pendingView')}.body.dom.querySelector('.ocp-chg-handedit'); return el && el.textContent;")
    assert warning and "/etc/samba/smb.conf" in warning and "Extra options" in warning and "config-hand-edit-overwritten" in warning
    assert "SECRET" not in text
    assert _js(driver, f"return {_q('#pendingView #revertBtn')}.isVisible()") is True
    _shot(driver, "changes-pending")
    assert _errors(driver) == []


def test_revert_asks_first_and_runs_only_after_yes(driver, ui, tmp_path):
    ui.agent.config["omv_rpc"] = {**ui.agent.config.get("omv_rpc", {}), "command": str(_fake_omv_rpc(tmp_path))}
    _open(driver, ui)
    _changes(driver, "#pendingView")
    wb.wait(driver, lambda d: _js(d, f"return {_q('#pendingView #revertBtn')}.isVisible()"))
    _js(driver, f"{_q('#pendingView #revertBtn')}.el.dom.click();")
    box = wb.wait(driver, lambda d: _js(d, "var m = Ext6.Msg; return m.isVisible() && m.msg.getEl().dom.textContent;"),
                  message="no confirmation dialog")
    assert "discard every unapplied configuration change" in box
    _shot(driver, "changes-revert-confirm")
    _js(driver, "Ext6.Msg.down('#no').el.dom.click();")
    wb.wait(driver, lambda d: not _js(d, "return Ext6.Msg.isVisible();"))
    time.sleep(0.5)
    assert not (tmp_path / "omv-rpc.log").exists()  # "No" runs nothing
    _js(driver, f"{_q('#pendingView #revertBtn')}.el.dom.click();")
    wb.wait(driver, lambda d: _js(d, "return Ext6.Msg.isVisible();"))
    _js(driver, "Ext6.Msg.down('#yes').el.dom.click();")
    # The fake OMV reverts as OMV does: config.xml back to the revision, dirty modules emptied.
    wb.wait(driver, lambda d: (tmp_path / "omv-rpc.log").exists())
    assert (tmp_path / "omv-rpc.log").read_text().split("\n")[0] == '-u admin Config revertChanges {"filename": ""}'
    wb.wait(driver, lambda d: "No configuration changes are waiting" in _text(d, "#pendingView"),
            message="the page did not reload the pending change after the revert")
    assert _errors(driver) == []


def _fake_omv_rpc(tmp_path):
    """An omv-rpc that logs its arguments and does what Config revertChanges does to the box's files."""
    fake = tmp_path / "bin" / "omv-rpc"
    fake.parent.mkdir(exist_ok=True)
    root = tmp_path / "root" / "etc" / "openmediavault"
    fake.write_text("#!/usr/bin/python3\nimport os, sys\n"
                    f"open({str(tmp_path / 'omv-rpc.log')!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
                    f"os.replace({str(root / 'config.xml.0001')!r}, {str(root / 'config.xml')!r})\n"
                    f"open({str(tmp_path / 'dirtymodules.json')!r}, 'w').write('[]')\nprint('null')\n")
    fake.chmod(0o755)
    return fake


def test_preflight_shows_the_verdict_reasons_and_the_release_toggle(driver, ui, monkeypatch):
    from omv_copilot_agent import runner

    asked = []

    def simulated(call, timeout=None):
        asked.append(call.name)
        return runner.CommandResult(argv=["apt-get", "-s", "dist-upgrade"], returncode=0, stdout=KERNEL_ZFS)

    monkeypatch.setattr(runner, "run_probe", simulated)
    _open(driver, ui)
    _changes(driver, "#preflightView")
    _js(driver, f"{_q('#preflightView #runPreflight')}.el.dom.click();")
    verdict = wb.wait(driver, lambda d: _js(d, f"var v = {_q('#preflightView')}.body.dom.querySelector('.ocp-chg-verdict');"
                                                " return v && v.getAttribute('data-verdict');"), message="no verdict")
    text = _text(driver, "#preflightView")
    assert verdict == "wait" and text.startswith("WAIT")  # unapplied changes (samba, ssh) and no configuration backup
    assert "unapplied configuration changes (samba, ssh)" in text and "No configuration backup found" in text
    assert "New kernel linux-image-6.1.0-28-amd64" in text and "Rollback plan" in text and "apt-mark hold" in text
    assert "zfs-dkms" in text and "2.1.11-1+deb12u1" in text  # the packages table
    badges = _js(driver, f"return Array.prototype.map.call({_q('#preflightView')}.body.dom.querySelectorAll('.ocp-list .ocp-badge'),"
                         " function (b) { return b.textContent; });")
    assert badges == ["wait", "wait", "info"]  # worst first
    _shot(driver, "changes-preflight")
    _js(driver, f"{_q('#preflightView #releaseToggle')}.setValue(true);")
    wb.wait(driver, lambda d: len(asked) == 2)
    assert asked == ["apt-simulate-upgrade", "apt-simulate-upgrade"]
    assert _errors(driver) == []


def test_timeline_merges_every_kind_in_time_order(driver, ui, tmp_path, monkeypatch):
    from tests.integration.test_history_timeline import HISTORY, _apt_date, _wtmp_record

    now = float(int(time.time()))
    log = tmp_path / "history.log"
    log.write_text(HISTORY.format(d1=_apt_date(now - 5000), d1e=_apt_date(now - 4900), d2=_apt_date(now - 3000)))
    (tmp_path / "wtmp").write_bytes(_wtmp_record(2, "reboot", "6.1.0-28-amd64", now - 2000))
    monkeypatch.setattr(apt_history, "LOG", str(log))
    monkeypatch.setattr(boots, "WTMP", str(tmp_path / "wtmp"))
    store = ui.agent.store
    store.add_config_revision(now - 7200, "a" * 40, "initial", {"smb_shares": [{"uuid": "s1", "name": "media", "readonly": True}]})
    store.add_config_revision(now - 4000, "b" * 40, "changed", {"smb_shares": [{"uuid": "s1", "name": "media", "readonly": False}]})
    alert_id = store.insert_alert({"rule": "service_down", "subject": "smbd", "severity": "critical", "title": "smbd is not running",
                                   "message": "failed after restart", "details": {}}, now - 1000)
    store.add_note("smbd fails since the upgrade", alert_id, now=now - 500)
    _open(driver, ui)
    _changes(driver, "#timelineView")
    rows = wb.wait(driver, lambda d: _js(d, f"return Array.prototype.map.call({_q('#timelineView')}.body.dom.querySelectorAll('.ocp-tl-row'),"
                                            " function (r) { return [r.getAttribute('data-kind'), Number(r.getAttribute('data-at'))]; });")
                   if "event(s)" in _text(d, "#timelineView") else None, message="the timeline did not render")
    kinds = [k for k, _ in rows]
    assert {"alert", "note", "config", "package", "reboot"} <= set(kinds)
    ats = [a for _, a in rows]
    assert ats == sorted(ats, reverse=True)
    assert kinds[:6] == ["note", "alert", "reboot", "package", "config", "package"]
    text = _text(driver, "#timelineView")
    assert "OMV configuration changed: 1 setting(s) in smb_shares" in text and "smb_shares.uuid=s1.readonly" in text
    assert "Packages: 2 upgrade, 1 install" in text or "Packages: 1 install, 2 upgrade" in text
    _js(driver, "Array.prototype.forEach.call(document.querySelectorAll('.ocp-chg-timeline details'), function (d) { d.open = true; });")
    _shot(driver, "changes-timeline")
    # "What changed before it broke?": the range ending at the alert (as an alert's link opens it).
    _js(driver, "OmvCopilot.app.show('changes', {view: 'timeline', until: arguments[0]});", now - 1000 + 1)
    wb.wait(driver, lambda d: _js(d, f"var r = {_q('#timelineView')}.body.dom.querySelector('.ocp-tl-row'); return r && r.getAttribute('data-kind') === 'alert';"),
            message="the range ending at the alert did not start with the alert")
    assert "Ending " in _js(driver, f"return {_q('#timelineView #untilNow')}.getText()")
    _js(driver, f"{_q('#timelineView #untilNow')}.el.dom.click();")
    wb.wait(driver, lambda d: _js(d, f"var r = {_q('#timelineView')}.body.dom.querySelector('.ocp-tl-row'); return r && r.getAttribute('data-kind') === 'note';"))
    # Kinds filter: only notes and reboots (this machine's own boot may add one)
    for kind in ("alert", "config", "package"):
        _js(driver, f"{_q('#timelineView #kind-' + kind)}.setValue(false);")
    wb.wait(driver, lambda d: _js(d, f"var k = Array.prototype.map.call({_q('#timelineView')}.body.dom.querySelectorAll('.ocp-tl-row'),"
                                     " function (r) { return r.getAttribute('data-kind'); });"
                                     " return k[0] === 'note' && k[1] === 'reboot' && k.every(function (x) { return x === 'note' || x === 'reboot'; });"))
    assert _errors(driver) == []


def test_the_pending_changes_widget_passes_omv_mkworkbench_schema():
    """The OMV dashboard widget loads through omv-mkworkbench's own loader and schema (nothing written)."""
    import importlib.machinery
    import importlib.util
    from pathlib import Path

    tool = Path("/usr/sbin/omv-mkworkbench")
    try:
        import openmediavault.datamodel  # noqa: F401 (the schema class the tool uses)
    except ImportError:
        pytest.skip("OMV's Python library is not installed (no OMV test bed here)")
    if not tool.exists():
        pytest.skip("omv-mkworkbench is not installed")
    loader = importlib.machinery.SourceFileLoader("omv_mkworkbench", str(tool))
    mod = importlib.util.module_from_spec(importlib.util.spec_from_loader("omv_mkworkbench", loader))
    loader.exec_module(mod)
    source = tool.read_text()
    source = source[source.index("def dashboard(ctx)"):]
    schema_text = source[source.index("openmediavault.datamodel.Schema("):source.index("    openmediavault.log.info")]
    schema = eval(schema_text.strip(), {"openmediavault": mod.openmediavault})  # the tool's own literal schema
    folder = wb.ROOT / "webui-extjs" / "omv" / "usr" / "share" / "openmediavault" / "workbench" / "dashboard.d"
    widgets = {w["title"]: w for w in mod.load_yaml_files(schema, str(folder), False, False)}
    widget = widgets["Co-Pilot pending changes explained"]
    assert widget["type"] == "value" and widget["value"]["request"] == {"service": "Copilot", "method": "getPendingChanges"}
