"""Risk is decided by the server: an LLM's "read-only" on ``rm -rf /srv/*`` is not believed,
and Run exists only for a catalogue probe call, running exactly the command shown.

The probe lookup is the real catalogue's (``probes.recognise``, passed to the engine by the Agent).
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import run_cli
from tests.fake_llm import GOOD_ANSWER

HOSTILE = {**GOOD_ANSWER,
           "suggested_diagnostics": [
               # the LLM picks a real pattern id beside a destructive command
               {"name": "look at the array", "command": "rm -rf /srv/*", "purpose": "x", "pattern_id": "mdadm-degraded",
                "risk": "read-only"},
               {"name": "array status", "command": "cat /proc/mdstat", "purpose": "see members", "pattern_id": None}],
           "recommended_actions": [
               {"action": "Clean up", "command": "rm -rf /srv/*", "risk": "read-only", "explanation": "frees space"},
               {"action": "Recreate", "command": "mkfs.ext4 -F /dev/md0", "risk": "low", "explanation": "fresh fs"},
               {"action": "Restart Samba", "command": "systemctl restart smbd", "risk": "read-only", "explanation": "."},
               {"action": "Replace disk", "command": "", "risk": "medium", "explanation": "."}]}


def one_probe(argv, **how):
    """The real catalogue's lookup (``cat /proc/mdstat`` is the probe read-file)."""
    from omv_copilot_agent import probes

    return probes.recognise(argv, **how)


@pytest.mark.parametrize("command, expected", [
    ("rm -rf /srv/*", "data-risk"), ("mkfs.ext4 -F /dev/md0", "data-risk"), ("mkfs -t xfs /dev/sdb1", "data-risk"),
    ("sudo -u root rm -rf /x", "data-risk"), ("dd if=/dev/zero of=/dev/sda bs=1M", "data-risk"),
    ("wipefs -a /dev/sdb", "data-risk"), ("mdadm --create /dev/md1 -l1 -n2 /dev/sd[bc]", "data-risk"),
    ("mdadm --zero-superblock /dev/sdb1", "data-risk"), ("zpool destroy tank", "data-risk"),
    ("sgdisk --zap-all /dev/sda", "data-risk"), ("parted -s /dev/sda mklabel gpt", "data-risk"),
    ("chmod -R 777 /srv/data", "data-risk"), ("chown -R anna: /srv", "data-risk"),
    ("echo 1 > /dev/sda", "data-risk"), ("bash -c 'wipefs -a /dev/sdb'", "data-risk"),
    ("find /srv -name '*.tmp' -delete", "data-risk"), ("e2fsck -fy /dev/md0", "data-risk"),
    ("cat /proc/mdstat", "read-only"), ("cat  /proc/mdstat", "read-only"),
    ("cat /proc/mdstat; rm -rf /", "data-risk"), ("cat /proc/mdstat /etc/shadow", "unverified"),
    ("systemctl restart smbd", "unverified"),
    ("sgdisk -p /dev/sda", "unverified"), ("ls 'unbalanced", "data-risk"),
    ("mdadm --detail /dev/md0", "read-only"), ("smartctl -H /dev/sda", "read-only"),
    ("smartctl -t short /dev/sda", "unverified"), ("journalctl --vacuum-t=1s", "unverified"),
    ("cat /proc/self/root/etc/shadow", "unverified"), ("cat /proc/mdstat | grep -i -E 'md[0-9]'", "read-only"),
    ("cat /proc/mdstat | grep -i -E x | sh", "unverified"),
    # a probe's call that still shows the value the answer asks for is that probe's (read-only once filled) ...
    ("mdadm --detail {md_device}", "read-only"), ("smartctl -H {device}", "read-only"),
    # ... but a placeholder is never a way around the catalogue: only a whole slot may be open
    ("mdadm --detail {md_device} {device}", "unverified"), ("{tool} --detail /dev/md0", "unverified"),
    ("mdadm --manage {md_device} --add {new_device}", "data-risk"), ("cat {file}", "read-only"),
    ("rm -rf {path}", "data-risk"),
])
def test_server_classifies_commands(command, expected):
    from omv_copilot_agent.assist import risk

    assert risk.classify(command, one_probe)["risk"] == expected


def test_an_open_probe_call_is_read_only_but_cannot_run():
    """The KB answer shows "mdadm --detail {md_device}" on a box without an array: labelled read-only (it
    is the mdadm-detail probe), never offered to Run as shown, and the verdict names what to fill in."""
    from omv_copilot_agent.assist import risk

    verdict = risk.classify("mdadm --detail {md_device}", one_probe)
    assert verdict["probe"] is None and verdict["needs"] == ["md_device"]
    assert "once md_device is filled in" in verdict["reason"]
    filled = risk.classify("mdadm --detail /dev/md127", one_probe)
    assert filled["probe"]["argv"] == ["mdadm", "--detail", "/dev/md127"] and "needs" not in filled
    reviewed = risk.review({"suggested_diagnostics": [{"name": "n", "command": "mdadm --detail {md_device}"}]}, one_probe)
    assert reviewed["suggested_diagnostics"][0]["risk"] == "read-only"
    assert reviewed["suggested_diagnostics"][0]["probe"] is None


def test_labels_are_shown_only_when_not_milder():
    from omv_copilot_agent.assist import risk

    out = risk.review(HOSTILE, one_probe)
    diags, actions = out["suggested_diagnostics"], out["recommended_actions"]
    assert [d["risk"] for d in diags] == ["data-risk", "read-only"]
    assert diags[0]["probe"] is None and diags[1]["probe"]["argv"] == ["cat", "/proc/mdstat"]
    assert [a["risk"] for a in actions] == ["data-risk", "data-risk", "unverified", "medium"]
    # a harsher label than the server's is kept
    harsh = risk.review({"recommended_actions": [{"action": "a", "command": "cat /proc/mdstat", "risk": "high"}]}, one_probe)
    assert harsh["recommended_actions"][0]["risk"] == "high"


@pytest.fixture
def hostile_server(live_server, fake_llm):
    fake_llm.script({"answer": HOSTILE})
    server = live_server({"assist": {"providers": [fake_llm.provider()]}}, cycle=False)
    return server


def _check(answer):
    diags = {d["command"]: d for d in answer["suggested_diagnostics"]}
    acts = {a["command"]: a for a in answer["recommended_actions"]}
    assert diags["rm -rf /srv/*"]["risk"] == "data-risk" and diags["rm -rf /srv/*"]["probe"] is None
    assert acts["rm -rf /srv/*"]["risk"] == "data-risk" and acts["mkfs.ext4 -F /dev/md0"]["risk"] == "data-risk"
    assert acts["systemctl restart smbd"]["risk"] == "unverified"
    assert diags["cat /proc/mdstat"]["probe"]["name"] == "read-file"


def test_api_and_rpc_answers_carry_the_servers_risk(hostile_server):
    r = hostile_server.post("/api/v1/assist/query", json={"query": "my raid md0 is degraded"})
    assert r.status_code == 200, r.text
    _check(r.json())
    # OMV's path: startQuery, then getQueryResult until the job is done
    r = hostile_server.post("/api/v1/rpc", json={"method": "startQuery", "params": {"query": "md0 degraded"}})
    assert r.status_code in (200, 202), r.text
    import time

    job = r.json()
    for _ in range(100):
        job = hostile_server.post("/api/v1/rpc", json={"method": "getQueryResult", "params": {"job_id": job["job_id"]}}).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert job["status"] == "done", job
    _check(job["answer"])


def test_run_exists_only_for_probes_and_runs_what_is_shown(hostile_server, tmp_path):
    marker = tmp_path / "ran"
    for command in ("rm -rf /srv/*", f"touch {marker}", "cat /proc/mdstat; touch " + str(marker), "cat /proc/mdstat "
                    "/etc/shadow"):
        r = hostile_server.post("/api/v1/assist/probe", json={"command": command})
        assert r.status_code == 400 and r.json()["error"]["code"] == "not_a_probe", r.text
        assert "only catalogue probes run" in r.json()["error"]["message"]
        r = hostile_server.post("/api/v1/rpc", json={"method": "runProbe", "params": {"command": command}})
        assert r.status_code == 400, r.text
    r = hostile_server.post("/api/v1/assist/probe", json={"command": "mdadm --detail {md_device}"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "needs_params", r.text
    assert r.json()["error"]["message"].startswith("field 'command': fill in md_device first"), r.text
    # the old way in: a pattern id the LLM chose is not a parameter of Run
    r = hostile_server.post("/api/v1/assist/probe", json={"command": "cat /proc/mdstat", "pattern_id": "mdadm-degraded"})
    assert r.status_code == 400
    r = hostile_server.post("/api/v1/assist/probe", json={"command": "cat /proc/mdstat"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["probe"]["argv"] == ["cat", "/proc/mdstat"] == body["result"]["argv"]
    assert not marker.exists()


def test_cli_shows_the_servers_risk(make_config, fake_llm):
    fake_llm.script({"answer": HOSTILE})
    quiet = ["smart", "omv", "logs", "apt", "services", "network", "storage"]
    _, path = make_config({"collect": {"disabled_sources": quiet}, "assist": {"providers": [fake_llm.provider()]}})
    r = run_cli("--config", str(path), "ask", "my raid md0 is degraded")
    assert r.returncode == 0, r.stderr
    assert "[data-risk] Clean up" in r.stdout and "[data-risk] Recreate" in r.stdout
    assert "[read-only] Clean up" not in r.stdout and "[low]" not in r.stdout
    # the server's label on the check, its command on the next line (the CLI never wraps a command)
    assert re.search(r"\[data-risk\] look at the array:.*\n\s+\$ rm -rf /srv/\*\n", r.stdout), r.stdout


def test_knowledge_base_diagnostics_are_probe_calls_with_run(live_server):
    """Patterns' diagnostics are shown as their probe's command: read-only, runnable as shown."""
    server = live_server(cycle=False)
    answer = server.post("/api/v1/assist/query", json={"query": "my raid array md0 is degraded", "mode": "kb_only"}).json()
    diags = answer["suggested_diagnostics"]
    assert diags, answer["analysis"]
    runnable = [d for d in diags if d["probe"]]
    assert runnable and all(d["risk"] == "read-only" and d["risk_by"] == "server" for d in runnable)
    first = runnable[0]
    r = server.post("/api/v1/assist/probe", json={"command": first["command"]})
    assert r.status_code == 200, r.text
    assert r.json()["probe"]["name"] == first["probe"]["name"]
