"""The pending-change explainer: OMV's dirty modules, the configuration diff in OMV's words, the
salt states, services and files Apply will touch, and hand edits Apply would overwrite.

Unit tests build OMV's files in a temporary folder; the salt states come from OMV 7's source
(../shared/omv-source) where it is present; the last test changes settings through the real
OMV engine of the test bed and reverts them the way the explainer offers.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from omv_copilot_agent.changes import omvconfig, pending
from omv_copilot_agent.collect import omv_files
from omv_copilot_agent.collect import omv_salt as salt

OMV_SOURCE = next((p / "shared" / "omv-source" for p in Path(__file__).resolve().parents
                   if (p / "shared" / "omv-source").is_dir()), Path("/nonexistent"))
CORE_STATES = OMV_SOURCE / "openmediavault" / "openmediavault" / "srv" / "salt" / "omv" / "deploy"

BEFORE = """<?xml version="1.0" encoding="UTF-8"?>
<config><version>0.1</version>
  <system>
    <shares><sharedfolder><uuid>aaaa1111-0000-0000-0000-000000000001</uuid><name>media</name>
      <reldirpath>media/</reldirpath></sharedfolder></shares>
    <usermanagement><users><user><uuid>bbbb2222-0000-0000-0000-000000000002</uuid><name>anna</name>
      <password>OLDSECRET</password></user></users></usermanagement>
  </system>
  <services>
    <smb><enable>1</enable><workgroup>WORKGROUP</workgroup><shares>
      <share><uuid>cccc3333-0000-0000-0000-000000000003</uuid><sharedfolderref>aaaa1111-0000-0000-0000-000000000001</sharedfolderref>
        <readonly>1</readonly><browseable>1</browseable></share>
    </shares></smb>
    <ssh><enable>1</enable><port>22</port><permitrootlogin>1</permitrootlogin></ssh>
  </services>
</config>
"""
AFTER = (BEFORE.replace("<readonly>1</readonly>", "<readonly>0</readonly>")
         .replace("<permitrootlogin>1</permitrootlogin>", "<permitrootlogin>0</permitrootlogin>")
         .replace("OLDSECRET", "NEWSECRET")
         .replace("</shares></smb>", "<share><uuid>dddd4444-0000-0000-0000-000000000004</uuid><sharedfolderref>"
                  "aaaa1111-0000-0000-0000-000000000001</sharedfolderref><readonly>1</readonly></share></shares></smb>"))

SAMBA_SLS = """
configure_samba_global:
  file.managed:
    - name: "/etc/samba/smb.conf"
    - source:
      - salt://{{ tpldir }}/files/global.j2
start_samba_service:
  service.running:
    - name: smbd
    - enable: True
/etc/cron.daily/openmediavault-samba-recycle:
  file.managed:
    - contents: x
"""
SSH_SLS = """
configure_sshd_config:
  file.managed:
    - name: "/etc/ssh/sshd_config"
restart_ssh_service:
  service.running:
    - name: ssh
    - watch:
      - file: configure_sshd_config
"""


@pytest.fixture
def box(tmp_path):
    """An OMV box's files in a folder: config.xml with its revision, dirty modules, two states."""
    etc = tmp_path / "root" / "etc"
    (etc / "openmediavault").mkdir(parents=True)
    (etc / "samba").mkdir()
    (etc / "ssh").mkdir()
    (etc / "samba" / "smb.conf").write_text("[global]\nworkgroup = WORKGROUP\n")
    (etc / "ssh" / "sshd_config").write_text("Port 22\n")
    (etc / "openmediavault" / "config.xml.0001").write_text(BEFORE)
    (etc / "openmediavault" / "config.xml").write_text(AFTER)
    states = tmp_path / "deploy"
    for name, text in (("samba", SAMBA_SLS), ("ssh", SSH_SLS)):
        (states / name).mkdir(parents=True)
        (states / name / "10configure.sls").write_text(text)
    dirty = tmp_path / "dirtymodules.json"
    dirty.write_text(json.dumps(["samba", "ssh", "task"]))
    return pending.Paths(config_file=etc / "openmediavault" / "config.xml", dirty_file=dirty, deploy_root=states,
                         root=tmp_path / "root")


def test_the_diff_is_in_omvs_words_and_never_shows_a_secret():
    changes = [c.describe() for c in omvconfig.diff(_xml(BEFORE), _xml(AFTER))]
    assert "SMB share 'media': readonly read only → read/write" in changes
    assert "SSH settings: permitrootlogin root login on → root login off" in changes
    assert "User 'anna': password changed" in changes
    assert any(c.startswith("SMB share 'media': added") for c in changes)
    assert not any("SECRET" in c for c in changes)
    assert all("SECRET" not in json.dumps(c.to_dict()) for c in omvconfig.diff(_xml(BEFORE), _xml(AFTER)))


def _xml(text):
    import xml.etree.ElementTree as ET

    return ET.fromstring(text)


def test_explain_lists_modules_states_services_files_and_the_diff(box):
    out = pending.explain(box)
    assert out["pending"] and [m["module"] for m in out["modules"]] == ["samba", "ssh", "task"]
    assert out["services"] == ["smbd", "ssh"]
    assert out["files"] == ["/etc/samba/smb.conf", "/etc/cron.daily/openmediavault-samba-recycle", "/etc/ssh/sshd_config"]
    assert out["modules"][2]["state"] is None and "no deploy state" in out["modules"][2]["note"]
    assert "SSH settings: permitrootlogin root login on → root login off" in [c["text"] for c in out["changes"]]
    assert out["revert"]["rpc"] == {"service": "Config", "method": "revertChanges", "params": {"filename": ""}}
    assert out["hand_edits"] == []  # no baseline yet: nothing to compare with


def test_a_hand_edit_of_a_generated_file_is_flagged_with_the_durable_way(box, tmp_path):
    baseline = pending.Baseline(tmp_path / "generated-files.json")
    baseline.take(["/etc/samba/smb.conf", "/etc/ssh/sshd_config"], box, "after a deploy")
    assert pending.explain(box, baseline)["hand_edits"] == []
    with open(box.root / "etc/samba/smb.conf", "a") as f:
        f.write("server signing = disabled\n")  # the planted hand edit
    (edit,) = pending.explain(box, pending.Baseline.load(tmp_path / "generated-files.json"))["hand_edits"]
    assert edit["file"] == "/etc/samba/smb.conf" and edit["module"] == "samba"
    assert "Extra options" in edit["durable_way"] and "overwrite" in edit["text"]


def test_drift_guard_takes_a_baseline_then_flags_edits_outside_a_deploy(box, tmp_path):
    box.dirty_file.write_text("[]")
    box.config_file.with_name("config.xml.0001").unlink()
    baseline = pending.Baseline.load(tmp_path / "generated-files.json")
    assert omv_files.drifted(box, baseline) == [] and baseline.reason == "first run"
    (box.root / "etc/ssh/sshd_config").write_text("Port 2222\n")
    assert [d["file"] for d in omv_files.drifted(box, baseline)] == ["/etc/ssh/sshd_config"]
    # an Apply (OMV rewrites dirtymodules.json) after the baseline: the files are OMV's again
    time.sleep(0.01)
    box.dirty_file.write_text("[]")
    os.utime(box.dirty_file, (time.time() + 5, time.time() + 5))
    assert omv_files.drifted(box, baseline) == [] and baseline.reason == "after a deploy"
    assert omv_files.drifted(box, pending.Baseline.load(tmp_path / "generated-files.json")) == []


@pytest.mark.parametrize("text,message", [("{not json", "not valid JSON"), ('{"a": 1}', "list of module names"),
                                          ('[1, 2]', "list of module names")])
def test_a_broken_dirty_modules_file_is_a_clear_error(box, text, message):
    box.dirty_file.write_text(text)
    with pytest.raises(pending.PendingError, match=message) as err:
        pending.explain(box)
    assert str(box.dirty_file) in str(err.value)


def test_nothing_pending_says_so(box):
    box.dirty_file.write_text("[]")
    box.config_file.with_name("config.xml.0001").unlink()
    out = pending.explain(box)
    assert not out["pending"] and out["revert"] is None and "No configuration changes" in out["summary"]


@pytest.mark.skipif(not CORE_STATES.is_dir(), reason="OMV source tree not found (../shared/omv-source)")
def test_omv_7s_own_samba_and_ssh_states_are_read():
    samba, ssh = salt.read_state("samba", CORE_STATES), salt.read_state("ssh", CORE_STATES)
    assert "/etc/samba/smb.conf" in samba.files and {"smbd", "nmbd", "wsdd-server"} <= set(samba.services)
    assert "/etc/ssh/sshd_config" in ssh.files and "ssh" in ssh.services
    assert salt.read_state("../etc", CORE_STATES) is None and salt.read_state("nosuchstate", CORE_STATES) is None


def _omv_rpc(*args):
    return subprocess.run(["omv-rpc", "-u", "admin", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not CORE_STATES.is_dir(), reason="needs ../shared/omv-source (OMV's salt states)")
def test_on_the_real_engine_smb_and_ssh_changes_are_explained_and_reverted(omv_engine, tmp_path):
    paths = pending.Paths(deploy_root=CORE_STATES, root=tmp_path)
    before_xml = paths.config_file.read_bytes()
    # The files OMV's samba and ssh states write (in a folder: the test bed deploys no salt), as
    # the last deploy left them, fingerprinted; then a hand edit is planted in smb.conf.
    (tmp_path / "etc/samba").mkdir(parents=True)
    (tmp_path / "etc/ssh").mkdir(parents=True)
    (tmp_path / "etc/samba/smb.conf").write_text("[global]\nworkgroup = WORKGROUP\n")
    (tmp_path / "etc/ssh/sshd_config").write_text("Port 22\n")
    baseline = pending.Baseline(tmp_path / "generated-files.json")
    baseline.take(["/etc/samba/smb.conf", "/etc/ssh/sshd_config"], paths, "after a deploy")
    with open(tmp_path / "etc/samba/smb.conf", "a") as f:
        f.write("server min protocol = NT1\n")
    assert [d["file"] for d in omv_files.drifted(paths, baseline)] == ["/etc/samba/smb.conf"]
    ssh = json.loads(_omv_rpc("SSH", "get", "{}").stdout)
    smb = json.loads(_omv_rpc("SMB", "getSettings", "{}").stdout)
    try:
        ssh_new = {**ssh, "port": 2222 if ssh["port"] != 2222 else 2223}
        assert _omv_rpc("SSH", "set", json.dumps(ssh_new)).returncode == 0
        smb_new = {**smb, "workgroup": "COPILOTTEST"}
        assert _omv_rpc("SMB", "setSettings", json.dumps(smb_new)).returncode == 0
        out = pending.explain(paths, pending.Baseline.load(tmp_path / "generated-files.json"))
        modules = [m["module"] for m in out["modules"]]
        assert {"ssh", "samba"} <= set(modules)
        (edit,) = out["hand_edits"]  # the Apply would overwrite the planted line: said before it runs
        assert edit["file"] == "/etc/samba/smb.conf" and edit["module"] == "samba" and "Extra options" in edit["durable_way"]
        texts = [c["text"] for c in out["changes"]]
        assert f"SSH settings: port '{ssh['port']}' → '{ssh_new['port']}'" in texts
        assert any(t.startswith("SMB/CIFS settings: workgroup") and "'COPILOTTEST'" in t for t in texts)
        assert {"smbd", "ssh"} <= set(out["services"]) and "/etc/samba/smb.conf" in out["files"]
        revert = out["revert"]["rpc"]
        assert _omv_rpc(revert["service"], revert["method"], json.dumps(revert["params"])).returncode == 0
        after = pending.explain(paths)
        assert not after["pending"] and after["changes"] == []
        assert json.loads(_omv_rpc("SSH", "get", "{}").stdout)["port"] == ssh["port"]
    finally:
        if paths.config_file.read_bytes() != before_xml:
            _omv_rpc("Config", "revertChanges", '{"filename": ""}')


def test_the_api_the_rpc_bridge_and_the_cli_explain_the_pending_change(live_server, box, monkeypatch):
    from omv_copilot_agent.cli.changes import render_pending

    monkeypatch.setattr(omv_files, "PATHS", box)  # the one place OMV's file locations live
    srv = live_server()
    body = srv.get("/api/v1/changes/pending").json()
    assert body["pending"] and [m["module"] for m in body["modules"]] == ["samba", "ssh", "task"]
    rpc = srv.post("/api/v1/rpc", json={"method": "getPendingChanges", "params": {}}).json()
    assert rpc["modules"] == body["modules"]
    text = render_pending(body)
    assert "SSH settings: permitrootlogin root login on → root login off" in text and "To undo instead" in text
    box.dirty_file.write_text("{broken")
    r = srv.get("/api/v1/changes/pending")
    assert r.status_code == 503 and str(box.dirty_file) in r.json()["error"]["message"]


def test_a_hand_edit_becomes_a_finding_and_one_alert_through_real_cycles(make_config, box, monkeypatch):
    """The omv_files source on a box laid out in a folder: first cycle takes the baseline, a planted
    line in a generated file is a finding and an alert naming the file and the durable way."""
    from omv_copilot_agent.collect import Collector
    from omv_copilot_agent.daemon.agent import Agent
    from omv_copilot_agent.findings import evaluate

    box.dirty_file.write_text("[]")
    box.config_file.with_name("config.xml.0001").unlink()
    monkeypatch.setattr(omv_files, "PATHS", box)
    config, _ = make_config({"alerts": {"udev_monitor": False}})
    agent = Agent(config, collector=Collector(config, sources=("omv_files",)))
    try:
        first = agent.run_cycle()
        assert first.sources["omv_files"].data["baseline_reason"] == "first run"
        assert first.sources["omv_files"].data["watched"] == 3
        with open(box.root / "etc/samba/smb.conf", "a") as f:
            f.write("server signing = disabled\n")
        second = agent.run_cycle()
        (finding,) = [f for f in evaluate(second) if f.id == "omv-file-edited"]
        assert finding.subject == "/etc/samba/smb.conf" and "Extra options" in finding.evidence["durable_way"]
        total, alerts = agent.alerts.list(state="firing")
        mine = [a for a in alerts if a["rule"] == "config_hand_edit"]
        assert len(mine) == 1 and mine[0]["subject"] == "/etc/samba/smb.conf"
        agent.run_cycle()
        assert len([a for a in agent.alerts.list(state="firing")[1] if a["rule"] == "config_hand_edit"]) == 1
    finally:
        agent.close()


def test_without_salt_states_the_explainer_says_so_instead_of_guessing(box):
    import shutil as sh

    sh.rmtree(box.deploy_root)
    out = pending.explain(box)
    assert all(m["note"] == f"OMV's salt states are not at {box.deploy_root} on this box" for m in out["modules"])
