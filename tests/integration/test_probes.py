"""The probe catalogue: render/recognise round-trip, strict parameter types, path rules."""

from __future__ import annotations

import pytest

from omv_copilot_agent import probes
from omv_copilot_agent.probes import params as ptypes

#: One valid value per parameter type, to render every probe.
SAMPLES = {"disk": "/dev/sda", "nvme": "/dev/nvme0", "md_device": "/dev/md0", "interface": "eth0", "unit": "smbd.service",
           "user": "admin", "host": "nas.local", "ups": "ups", "container": "web", "pool": "tank", "package": "openmediavault",
           "lines": "50", "count": "3", "data_path": "/srv", "meta_path": "/etc", "system_file": "/proc/mdstat",
           "log_file": "/var/log", "cert": "/etc/ssl/certs"}


def sample_params(probe: probes.Probe) -> dict:
    return {p: SAMPLES[t] for p, t in probe.params.items()}


def test_every_probe_renders_and_is_recognised_back():
    assert len(probes.catalogue()) > 50
    for probe in probes.catalogue().values():
        argv = probes.render(probe.name, sample_params(probe))
        call = probes.recognise(argv)
        assert call is not None, probe.name
        assert call.argv == argv


@pytest.mark.parametrize("argv", [
    ["smartctl", "-t", "short", "/dev/sda"], ["smartctl", "-s", "on", "/dev/sda"], ["smartctl", "--set=standby,now", "/dev/sda"],
    ["journalctl", "--vacuum-t=1s"], ["journalctl", "--cursor-file=/etc/passwd"], ["hostname", "NEWNAME"],
    ["ip", "netns", "a", "x"], ["ip", "netns", "exec", "x", "id"], ["openssl", "x509", "-in", "/etc/ssl/certs", "--out", "/tmp/f"],
    ["docker", "system", "prune", "-af", "--volumes"], ["exportfs", "*:/"], ["cat", "/proc/self/root/etc/shadow"],
    ["docker", "inspect", "--format={{(.Config)}}", "web"], ["testparm", "-s", "/etc/shadow"], ["cat", "/etc/wireguard/wg0.conf"],
    ["cat", "/etc/netplan/50-cloud-init.yaml"], ["apt-get", "-s", "dist-upgrade", "-o", "APT::Get::Simulate=0"], ["sensors", "-s"],
    ["smartctl", "-H", "-d", "sat", "/dev/sda"], ["smartctl", "-H", "--", "/dev/sda"], ["smartctl", "-H", "/dev/sda/../sdb"],
])
def test_issue_reproductions_are_not_probes(argv):
    assert probes.recognise(argv) is None


@pytest.mark.parametrize("kind,value", [
    ("disk", "/dev/sda1;id"), ("disk", "-a"), ("unit", "--all"), ("unit", "-x"), ("host", "-c1"), ("lines", "0"),
    ("lines", "1001"), ("system_file", "/etc/shadow"), ("system_file", "/proc/1/environ"), ("system_file", "/proc/self/root/etc/hosts"),
    ("system_file", "/etc/../etc/shadow"), ("system_file", "/etc/ssh/ssh_host_ed25519_key"), ("system_file", "/etc/omv-copilot/config.yaml"),
    ("system_file", "/etc/openmediavault/config.xml"), ("system_file", "/etc/wpa_supplicant/wpa_supplicant.conf"),
    ("data_path", "/etc"), ("log_file", "/etc/hosts"), ("cert", "/etc/ssl/private/nas.key"),
])
def test_parameter_types_refuse(kind, value):
    assert ptypes.TYPES[kind].check(value) is not None


def test_symlink_into_a_secret_is_refused_after_realpath(tmp_path, monkeypatch):
    link = tmp_path / "innocent.conf"
    link.symlink_to("/etc/shadow")
    assert ptypes.check_path(str(link), (str(tmp_path), "/etc"), content=True) is not None
    monkeypatch.setattr(ptypes, "EXTRA_DENIED", set())
    token = tmp_path / "api-token"
    token.write_text("t")
    assert ptypes.check_path(str(token), (str(tmp_path),), content=True) is not None  # named like a secret
    plain = tmp_path / "state"
    plain.write_text("s")
    assert ptypes.check_path(str(plain), (str(tmp_path),), content=True) is None
    ptypes.deny(str(plain))
    assert "secrets" in ptypes.check_path(str(plain), (str(tmp_path),), content=True)


def test_render_names_the_probe_and_parameter():
    with pytest.raises(probes.ParamError, match="probe 'smart-health' parameter 'device'"):
        probes.render("smart-health", {"device": "/dev/sda; reboot"})
    with pytest.raises(probes.ParamError, match="has no parameter 'mode'"):
        probes.render("smart-health", {"device": "/dev/sda", "mode": "-t"})
    with pytest.raises(probes.ParamError, match="needs parameter 'device'"):
        probes.render("smart-health", {})
    with pytest.raises(probes.UnknownProbe):
        probes.render("rm-rf", {})


def test_the_daemons_own_files_join_the_deny_list(make_config, monkeypatch):
    """The API token, the config (it may hold API keys) and the data dir are refused wherever configured."""
    from omv_copilot_agent.knowledge import KnowledgeBase

    monkeypatch.setattr(ptypes, "EXTRA_DENIED", set())
    config, path = make_config({"api": {"token_file": "/var/log/ocp-auth-elsewhere"}})
    assert probes.render("log-tail", {"lines": "5", "file": "/var/log/ocp-auth-elsewhere"})
    KnowledgeBase.from_config(config)
    for file in ("/var/log/ocp-auth-elsewhere", str(path), str(config.data_dir / "copilot.db")):
        assert "may hold secrets" in ptypes.check_path(file, ("/",), content=True), file


def test_catalogue_is_served_through_api_and_rpc(live_server):
    srv = live_server(cycle=False)
    body = srv.get("/api/v1/knowledge/probes").json()
    assert body["total"] == len(probes.catalogue())
    health = {p["name"]: p for p in body["data"]}["smart-health"]
    assert health["argv"] == ["smartctl", "-H", "{device}"] and health["root"] is True
    assert health["params"]["device"]["type"] == "disk" and "/dev/sda" in health["params"]["device"]["expected"]
    assert srv.post("/api/v1/rpc", json={"method": "getProbes", "params": {}}).json()["total"] == body["total"]
