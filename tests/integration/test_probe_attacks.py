"""Issue 15's reproductions, replayed the way the attacker did: save a pattern, then run its diagnostics.

Each attack is tried through the REST API (PUT /knowledge/patterns/<id>, POST /assist/diagnostics)
and through OMV's RPC bridge (setPattern, runDiagnostics). Every one must fail safe: refused at
save time with a message naming the probe and argument (or that patterns cannot hold commands),
or — where the grammar is bypassed on purpose below — harmless inside the sandbox.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from omv_copilot_agent import probes, runner

PID = "local-attack"


def pattern(diagnostics: list[dict]) -> str:
    return yaml.safe_dump({
        "pattern_id": PID, "title": "A pattern an attacker saved", "category": "services", "symptoms": ["anything"],
        "diagnostics": [{"name": f"attack {i}", **d} for i, d in enumerate(diagnostics)],
        "solutions": [{"priority": 1, "action": "nothing", "explanation": "nothing", "risk": "read-only"}],
        "references": ["https://docs.openmediavault.org/"], "confidence": 0.5}, sort_keys=False)


#: (the issue's reproduction, the diagnostic that tries it in the probe grammar, words the refusal must hold)
ATTACKS = [
    ("ip netns a x", {"probe": "links-brief", "params": {"args": "netns a x"}}, ["links-brief", "'args'"]),
    ("ip netns exec x id", {"probe": "link-stats", "params": {"interface": "x exec id"}}, ["link-stats", "'interface'"]),
    ("openssl x509 -in CERT --out FILE", {"probe": "cert-dates", "params": {"cert": "--out"}}, ["cert-dates", "'cert'"]),
    ("openssl -out= form", {"probe": "cert-dates", "params": {"cert": "/etc/ssl/certs/a.pem -out=/tmp/f"}}, ["cert-dates", "'cert'"]),
    ("journalctl --vacuum-t=1s", {"probe": "unit-journal", "params": {"unit": "--vacuum-t=1s", "lines": "5"}},
     ["unit-journal", "'unit'"]),
    ("hostname NEWNAME", {"probe": "hostname-fqdn", "params": {"name": "NEWNAME"}}, ["hostname-fqdn", "no parameter 'name'"]),
    ("docker system prune -af --volumes", {"probe": "docker-logs", "params": {"lines": "5", "container": "--volumes"}},
     ["docker-logs", "'container'"]),
    ("exportfs *:/", {"probe": "nfs-exports", "params": {"export": "*:/"}}, ["nfs-exports", "no parameter 'export'"]),
    ("cat /proc/self/root/PATH", {"probe": "read-file", "params": {"file": "/proc/self/root/etc/omv-copilot/config.yaml"}},
     ["read-file", "'file'", "/proc/<pid>"]),
    ("cat /proc/1/root/PATH", {"probe": "read-file", "params": {"file": "/proc/1/root/etc/shadow"}}, ["read-file", "/proc/<pid>"]),
    ("smartctl -t short", {"probe": "smart-health", "params": {"device": "-t short"}}, ["smart-health", "'device'"]),
    ("smartctl -s on", {"probe": "smart-attributes", "params": {"device": "-s"}}, ["smart-attributes", "'device'"]),
    ("smartctl --set=standby,now", {"probe": "smart-all", "params": {"device": "--set=standby,now"}}, ["smart-all", "'device'"]),
    ("journalctl --cursor-file=/etc/passwd", {"probe": "journal-recent", "params": {"lines": "--cursor-file=/etc/passwd"}},
     ["journal-recent", "'lines'"]),
    ("docker inspect --format={{(.Config)}}", {"probe": "docker-user", "params": {"container": "--format={{(.Config)}}"}},
     ["docker-user", "'container'"]),
    ("testparm -s /etc/shadow", {"probe": "samba-config", "params": {"file": "/etc/shadow"}}, ["samba-config", "no parameter"]),
    ("cat wireguard", {"probe": "read-file", "params": {"file": "/etc/wireguard/wg0.conf"}}, ["read-file", "may hold secrets"]),
    ("cat netplan (Wi-Fi PSK)", {"probe": "read-file", "params": {"file": "/etc/netplan/50-cloud-init.yaml"}},
     ["read-file", "may hold secrets"]),
    ("cat wpa_supplicant", {"probe": "read-file", "params": {"file": "/etc/wpa_supplicant/wpa_supplicant.conf"}},
     ["read-file", "may hold secrets"]),
    ("cat the API token", {"probe": "log-tail", "params": {"lines": "5", "file": "/etc/omv-copilot/api-token"}},
     ["log-tail", "'file'"]),
    ("apt-get -s -o APT::Get::Simulate=0", {"probe": "apt-simulate-upgrade", "params": {"o": "APT::Get::Simulate=0"}},
     ["apt-simulate-upgrade", "no parameter 'o'"]),
    ("sensors -s", {"probe": "sensors", "params": {"s": ""}}, ["sensors", "no parameter 's'"]),
    ("a probe that does not exist", {"probe": "shell", "params": {"cmd": "id"}}, ["unknown probe 'shell'"]),
]
#: The same reproductions written the old way, as a command: a pattern can no longer hold one.
COMMANDS = ["ip netns a x", "ip netns exec x id", "openssl x509 -in /etc/ssl/certs/a.pem --out /tmp/f",
            "journalctl --vacuum-t=1s", "hostname NEWNAME", "docker system prune -af --volumes", "exportfs *:/",
            "cat /proc/self/root/etc/omv-copilot/config.yaml", "smartctl -t short /dev/sda", "smartctl -s on /dev/sda",
            "smartctl --set=standby,now /dev/sda", "journalctl --cursor-file=/etc/passwd",
            "docker inspect --format={{(.Config)}} web", "testparm -s /etc/shadow", "cat /etc/wireguard/wg0.conf",
            "cat /etc/netplan/50-cloud-init.yaml", "apt-get -s dist-upgrade -o APT::Get::Simulate=0", "sensors -s"]


@pytest.fixture
def srv(live_server, tmp_path):
    return live_server({"knowledge": {"local_patterns_dir": str(tmp_path / "data" / "overlay")}}, cycle=False)


def rest_save(srv, text):
    return srv.request("PUT", f"/api/v1/knowledge/patterns/{PID}", json={"yaml": text})


def rpc(srv, method, params, **kw):
    return srv.post("/api/v1/rpc", json={"method": method, "params": params}, **kw)


def assert_refused_and_not_saved(srv, response, words):
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert all(w in message for w in words), message
    assert srv.get(f"/api/v1/knowledge/patterns/{PID}").status_code == 404
    assert srv.post("/api/v1/assist/diagnostics", json={"pattern_id": PID}).status_code == 404


@pytest.mark.parametrize("attack,diag,words", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_probe_form_is_refused_at_save_naming_probe_and_argument(srv, attack, diag, words):
    assert_refused_and_not_saved(srv, rest_save(srv, pattern([diag])), words)
    assert_refused_and_not_saved(srv, rpc(srv, "setPattern", {"id": PID, "yaml": pattern([diag])}), words)
    checked = rpc(srv, "validatePattern", {"yaml": pattern([diag])}).json()
    assert checked["valid"] is False and all(w in checked["problems"][0]["reason"] for w in words if w != "'args'"), checked


@pytest.mark.parametrize("command", COMMANDS)
def test_command_form_is_refused_at_save(srv, command):
    words = ["diagnostics.0.command", "patterns cannot run commands"]
    assert_refused_and_not_saved(srv, rest_save(srv, pattern([{"command": command}])), words)
    assert_refused_and_not_saved(srv, rpc(srv, "setPattern", {"id": PID, "yaml": pattern([{"command": command}])}), words)
    # A probe diagnostic with a command beside it saves, but the command is display only: the probe is what runs.
    saved = rest_save(srv, pattern([{"probe": "kernel-name", "command": command}]))
    assert saved.status_code == 400 and "patterns cannot run commands" in saved.text


def test_placeholder_values_are_checked_at_run_time_too(srv):
    """A saved pattern with a {placeholder} gets its value at run time: the same refusal, through API and RPC."""
    assert rest_save(srv, pattern([{"probe": "read-file", "params": {"file": "{file}"}},
                                   {"probe": "smart-health", "params": {"device": "{device}"}}])).status_code == 201
    for params, words in (({"file": "/proc/self/root/etc/shadow"}, ["params.file", "read-file", "/proc/<pid>"]),
                          ({"file": "/etc/wireguard/wg0.conf"}, ["params.file", "may hold secrets"]),
                          ({"device": "--set=standby,now"}, ["params.device", "smart-health"]),
                          ({"hack": "-s"}, ["params.hack", "takes no parameter"])):
        for response in (srv.post("/api/v1/assist/diagnostics", json={"pattern_id": PID, "params": params}),
                         rpc(srv, "runDiagnostics", {"pattern_id": PID, "params": params})):
            assert response.status_code == 400, response.text
            assert all(w in response.json()["error"]["message"] for w in words), response.text
    ok = srv.post("/api/v1/assist/diagnostics", json={"pattern_id": PID, "params": {"file": "/proc/loadavg"}, "step": 0}).json()
    assert ok["results"][0]["returncode"] == 0 and ok["results"][0]["argv"] == ["cat", "/proc/loadavg"]


def test_catastrophic_regex_costs_one_probe_not_the_daemon(srv):
    """``^(a+)+$`` and friends froze the daemon (re holds the GIL); now health answers while it runs and it fails alone."""
    diags = [{"probe": "kernel-name", "expected_output": expr} for expr in ("^(a+)+$", "(a|aa)+$", "(x+x+)+y")]
    # exponential on any longer text (here /proc/cpuinfo) for Python's re *and* python3-regex: only the bound stops it
    diags.append({"probe": "read-file", "params": {"file": "/proc/cpuinfo"}, "expected_output": "((\\w|\\w\\w)+ )+!"})
    assert rpc(srv, "setPattern", {"id": PID, "yaml": pattern(diags)}).status_code == 201
    health_times = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            started = time.monotonic()
            assert srv.get("/healthz").status_code == 200
            health_times.append(time.monotonic() - started)
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        started = time.monotonic()
        body = rpc(srv, "runDiagnostics", {"pattern_id": PID}).json()
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        poller.join()
    assert elapsed < 20, elapsed
    assert len(body["results"]) == 4 and body["results"][0]["stdout"].strip() == "Linux"
    last = body["results"][3]
    assert "judging the output failed: regex" in last["error"] and "took longer than" in last["error"], last
    assert last["ok"] is False and last["matched_expected"] is None and "processor" in last["stdout"]
    assert health_times and max(health_times) < 2.0, health_times
    assert srv.get("/api/v1/knowledge/patterns/smart-health-failing").status_code in (200, 404)  # still serving


# --- the sandbox holds even where the grammar is bypassed on purpose ---------------------------------

@pytest.fixture
def bypass(monkeypatch):
    """Declare the issue's writing commands as probes (as if the grammar had a hole) and run them as root."""
    def declare(name, argv, **flags):
        monkeypatch.setitem(probes.catalogue(), name, probes.Probe(name, "attack", tuple(argv), root=True, **flags))
    return declare


@pytest.mark.skipif(runner.sandbox_unavailable() is not None, reason=f"no sandbox: {runner.sandbox_unavailable()}")
def test_sandbox_makes_grammar_holes_harmless(srv, bypass, tmp_path):
    out = Path("/var/tmp") / f"ocp-attack-{os.getpid()}"
    certs = sorted(Path("/etc/ssl/certs").glob("*.pem"))
    attacks = {"evil-hostname": ["hostname", "ocp-pwned"], "evil-netns": ["ip", "netns", "add", "ocp-attack"],
               "evil-vacuum": ["journalctl", "--vacuum-time=1s"], "evil-write": ["cp", "/etc/hostname", str(out)]}
    if certs:
        attacks["evil-openssl"] = ["openssl", "x509", "-in", str(certs[0]), "--out", str(out)]
    for name, argv in attacks.items():
        bypass(name, argv)
    hostname = socket.gethostname()
    assert rpc(srv, "setPattern", {"id": PID, "yaml": pattern([{"probe": n} for n in attacks])}).status_code == 201
    body = srv.post("/api/v1/assist/diagnostics", json={"pattern_id": PID}).json()
    assert len(body["results"]) == len(attacks)
    assert socket.gethostname() == hostname  # its own UTS namespace
    assert not Path("/run/netns/ocp-attack").exists()
    assert not out.exists(), "a sandboxed probe wrote a file"
    stderr = " ".join(r["stderr"] for r in body["results"])
    assert "Read-only file system" in stderr, body["results"]
