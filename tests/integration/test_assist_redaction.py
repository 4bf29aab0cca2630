"""Canary test: every field of a realistic OMV configuration and the logs carries a unique string;
none may reach the loopback LLM, in any assistant context or in direct mode.

The configuration is read by the real omv source code (``collect.omv.read_config``) through
the fake ``omv-rpc`` replaying tests/fakes/omv, completed with the records OMV's datamodels
define for rsync jobs, NFS shares, Wi-Fi interfaces and mail authentication. Every string
field gets a canary, except OMV's own vocabulary (types, states, device nodes) which keeps a
realistic value, and command lines, which get realistic commands carrying canary credentials.
"""

from __future__ import annotations

import itertools
import json
import shutil

import pytest

from tests.assist_helpers import fixture_snapshot, make_agent
from tests.conftest import ROOT

FAKES = ROOT / "tests" / "fakes"

#: Fields whose value is OMV's vocabulary or a device node: left realistic (not user data).
VOCABULARY = {"type", "state", "level", "execution", "devicename", "devicefile", "canonicaldevicefile",
              "parentdevicefile", "devices", "model", "vendor", "overallstatus", "powermode", "version", "shell", "method",
              "method6", "link", "mode", "minute", "hour", "month", "dayofmonth", "dayofweek", "netmask", "id"}
#: OMV's service registry (smb, nfs, ssh, …) and module names (samba, collectd): names OMV gives, not the user.
VOCABULARY_IN = {"Services.getStatus": {"name", "title"}, "System.getInformation": {"dirtyModules"}}
#: OMV services the collector reads and the records it adds to the fakes' empty lists.
EXTRA = {
    "Rsync.getList": [{"uuid": "u", "enable": True, "sendemail": True, "comment": "c", "type": "remote", "mode": "push",
                       "src": {"sharedfolderref": "s", "uri": "u"}, "dest": {"sharedfolderref": "", "uri": "rsync://d"},
                       "srcname": "n", "destname": "n", "minute": ["0"], "hour": ["2"], "month": ["*"],
                       "dayofmonth": ["*"], "dayofweek": ["*"], "extraoptions": "x", "authentication": "password",
                       "password": "p", "sshcertificateref": "r", "sshport": 22}],
    "NFS.getShareList": [{"uuid": "u", "sharedfolderref": "s", "mntentref": "m", "client": "c", "options": "o",
                          "comment": "c", "extraoptions": "e", "sharedfoldername": "n"}],
}
WIFI = {"uuid": "u", "type": "wifi", "devicename": "wlan0", "method": "dhcp", "address": "a", "netmask": "", "gateway": "g",
        "method6": "manual", "address6": "a", "dnsnameservers": "d", "dnssearch": "s", "comment": "c", "wpassid": "s",
        "wpapsk": "p", "keymanagement": "psk", "altmacaddress": "m", "ether": "e"}


class Canaries:
    """Unique strings, remembered by kind (secret / identifier) so a failure names the field."""

    def __init__(self):
        self.counter = itertools.count(1)
        self.made: dict[str, str] = {}  # canary -> where

    def __call__(self, where: str) -> str:
        value = f"zq{next(self.counter):03d}{''.join(c for c in where.split('.')[-1] if c.isalnum())[:6]}"
        self.made[value] = where
        return value


def command_line(c: Canaries, where: str) -> str:
    """A cron/rsync command line with credentials and identifiers in every form we scrub."""
    return (f"mysqldump -u root -p{c(where + '.mysql-p')} db | curl -u {c(where + '.curl-user')}:{c(where + '.curl-pw')} "
            f"https://{c(where + '.url-host')}.example.net/up && rsync -a /srv/x "
            f"rsync://{c(where + '.rsync-user')}:{c(where + '.rsync-pw')}@{c(where + '.rsync-host')}/mod "
            f"--password={c(where + '.opt-pw')}; sshpass -p {c(where + '.sshpass')} ssh {c(where + '.ssh-user')}@"
            f"{c(where + '.ssh-host')} true; PGPASSWORD={c(where + '.env-pw')} pg_dump")


def fill(node, c: Canaries, where: str):
    """Every string in ``node`` → a canary (vocabulary kept, command lines realistic)."""
    if isinstance(node, dict):
        return {k: fill(v, c, f"{where}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [fill(v, c, where) for v in node]
    if not isinstance(node, str):
        return node
    key = where.rsplit(".", 1)[-1]
    if key in ("command", "extraoptions"):
        return command_line(c, where)
    if key in ("devicefiles", "devlinks", "devicelinks", "predictabledevicefile"):
        return f"/dev/disk/by-id/ata-WDC_WD40EFRX_{c(where + '.by-id')}"
    if key == "mountpoint":
        return f"/srv/dev-disk-by-uuid-{c(where + '.by-uuid')}"
    method = ".".join(where.split(".")[:2])
    if key in VOCABULARY or key in VOCABULARY_IN.get(method, ()) or node.lstrip("-").isdigit() or node in ("*", ""):
        return node
    return c(where)


@pytest.fixture
def canary_snapshot(tmp_path):
    """(snapshot, canaries): OMV's configuration from the fake omv-rpc, logs and state full of canaries."""
    from omv_copilot_agent.collect.base import SourceResult
    from omv_copilot_agent.collect.omv import _live, read_config
    from omv_copilot_agent.collect.omv_rpc import OmvRpcClient

    c = Canaries()
    folder = tmp_path / "rpc"
    (folder / "omv").mkdir(parents=True)
    shutil.copy(FAKES / "omv-rpc", folder / "omv-rpc")
    for path in (FAKES / "omv").glob("*.json"):
        data = json.loads(path.read_text())
        method = path.name[:-5]
        if method in EXTRA:
            data = {"total": 1, "data": EXTRA[method]}
        if method == "Network.enumerateDevices":
            (data["data"] if isinstance(data, dict) else data).append(WIFI)
        if method == "EmailNotification.get":
            data["authentication"] = {"enable": True, "username": "u", "password": "p"}
        if method == "UserMgmt.getUserList":
            for user in (data["data"] if isinstance(data, dict) else data):
                user["sshpubkeys"] = ["ssh-ed25519 AAAA key"]
        (folder / "omv" / path.name).write_text(json.dumps(fill(data, c, method)))
    client = OmvRpcClient(str(folder / "omv-rpc"), 20)
    config, errors = read_config(client)
    assert not errors, errors
    config = {**_live(client.call("System", "getInformation", {})), **config}  # as collect() assembles it
    assert config["hostname"] in c.made
    snap = fixture_snapshot()
    snap.sources["omv"] = SourceResult("omv", "ok", config)
    omv_text = json.dumps(config)
    assert "wpapsk" in omv_text and "sshpubkeys" not in omv_text  # what the collector keeps reaches the assistant

    # Logs mention the configuration's identifiers and secrets the way daemons do.
    users = [u["name"] for u in config["users"]]
    share = config["shared_folders"][0]["name"]
    email = config["users"][0]["email"]
    wifi_psk = next(v for v, where in c.made.items() if where.endswith("wpapsk"))
    smb_pw = next(v for v, where in c.made.items() if where.startswith("Rsync.getList") and where.endswith(".password"))
    messages = [f"connect to service {share} initially as user {users[0]} from 10.20.30.40",
                f"Failed password for {users[-1]} from 10.20.30.41 port 22 ssh2",
                f"wpa_supplicant: psk={wifi_psk} rejected", f"rsync: auth failed with password {smb_pw}",
                f"postfix: to=<{email}> relay={config['notifications']['email']['server']}",
                f"kernel: dev-disk-by-uuid-{c('log.by-uuid')} mounted; mac {'02:42:ac:11:00:02'} up",
                f"sshd: Accepted publickey for {c('log.ssh-user')}@{c('log.host')} token={c('log.token')}"]
    snap.sources["logs"] = SourceResult("logs", "ok", {"since": 0, "counts": {"err": len(messages)}, "entries": [
        {"ts": 1.0 + i, "unit": "smbd", "priority": 3, "message": m} for i, m in enumerate(messages)]})
    system = dict(snap.data("system"), hostname=f"{c('system.hostname')}.{c('system.domain')}.lan")
    snap.sources["system"] = SourceResult("system", "ok", system)
    return snap, c, {"share": share, "user": users[0], "wifi_psk": wifi_psk, "smb_pw": smb_pw}


def leaked(sent: str, c: Canaries) -> dict[str, str]:
    return {value: where for value, where in c.made.items() if value in sent}


def canary_agent(make_config, fake, snap, **assist):
    # a budget that sends every section: a dropped section would hide a leak
    agent = make_agent(make_config, [fake.provider()], state_budget_chars=100000, **assist)
    agent.snapshot = snap
    return agent


@pytest.mark.parametrize("context", ["storage", "network", "service", "performance", "security", "general", "direct"])
def test_no_canary_reaches_the_llm(fake_llm, make_config, canary_snapshot, context):
    snap, c, names = canary_snapshot
    agent = canary_agent(make_config, fake_llm, snap)
    try:
        query = (f"why can {names['user']} not write to {names['share']} (psk {names['wifi_psk']}, "
                 f"rsync password {names['smb_pw']})?")
        kw = {"mode": "direct"} if context == "direct" else {"context": context}
        answer = agent.assist.ask(query, **kw)
        assert answer["mode"] == ("direct" if context == "direct" else "llm"), answer["notices"]
    finally:
        agent.close()
    sent = fake_llm.sent_text()
    assert names["share"] not in sent
    assert leaked(sent, c) == {}
    if context != "direct":
        body = json.dumps(fake_llm.requests[-1]["body"])
        # the state was really sent: OMV's vocabulary and every section are there, placeholders instead of names
        for kept in ("raid1", "WDC WD40EFRX", "smbd", "wlan0", "mysqldump -u root -p<SECRET_"):
            assert kept in body, kept
        assert "<USER_" in body and "<NAME_" in body and "<HOST_" in body


def test_with_identifier_redaction_off_secrets_still_never_leave(fake_llm, make_config, canary_snapshot):
    snap, c, names = canary_snapshot
    agent = canary_agent(make_config, fake_llm, snap, redaction=False)
    try:
        agent.assist.ask("what is wrong with my shares?", context="security")
    finally:
        agent.close()
    out = leaked(fake_llm.sent_text(), c)
    assert names["share"] in out  # identifiers pass (so this test can see a leak) ...
    secret_words = ("pw", "password", "psk", "sshpass", "mysql-p", "token", "sshpubkeys")
    assert not {v: w for v, w in out.items() if any(s in w.rsplit(".", 1)[-1] or s in w for s in secret_words)}


def test_restore_shows_identifiers_but_never_secrets_or_inside_commands():
    from omv_copilot_agent.assist import redact

    r = redact.Redactor()
    sent = r.redact("user anna on keller.example.org: curl -u anna:hunter22 https://keller.example.org/x")
    user, secret = r.forward["anna"], r.forward["hunter22"]
    reply = {"analysis": f"{user} uses {secret}; run `ssh {user}@host`",
             "recommended_actions": [{"action": f"ask {user}", "command": f"passwd {user}", "risk": "low"}]}
    shown = r.restore(reply)
    assert "hunter22" not in json.dumps(shown) and "anna:" not in sent
    assert shown["analysis"].startswith("anna uses <SECRET_") and f"`ssh {user}@host`" in shown["analysis"]
    assert shown["recommended_actions"][0] == {"action": "ask anna", "command": f"passwd {user}", "risk": "low"}
    # a link built from placeholders keeps them: it must not carry the real user or address anywhere
    ip = r.forward.get("192.168.1.7") or r.redact("192.168.1.7")
    link = r.restore(f"see https://evil.example/?u={user}&ip={ip} or www.x.example/{user}; {user} at {ip}")
    assert link == f"see https://evil.example/?u={user}&ip={ip} or www.x.example/{user}; anna at 192.168.1.7"


@pytest.mark.parametrize("data, gone", [
    ({"rsync": {"password": "Geheim123!", "uri": "x"}}, "Geheim123!"),
    ({"net": [{"wpapsk": "wifi-psk-1", "wpassid": "HomeNet"}]}, "HomeNet"),
    ({"a": {"b": {"c": {"api_key": "sk-123456"}}}}, "sk-123456"),
    ({"mail": {"authentication": {"username": "u", "password": "mailpw99"}}}, "mailpw99"),
], ids=["json-password", "wifi", "deep-key", "mail-auth"])
def test_secret_keys_are_dropped_at_any_depth(data, gone):
    from omv_copilot_agent.assist import redact

    r = redact.Redactor()
    out = json.dumps(r.redact_data({"logs": data}))
    assert gone not in out
    assert gone not in r.redact(f"a log line with {gone} in it")


def test_a_degraded_omv_source_is_redacted_like_an_ok_one():
    from omv_copilot_agent.assist import redact

    data = {"users": [{"name": "anna", "shell": "/bin/bash"}], "filesystems": [{"type": "ext4", "label": "family"}]}
    ok = redact.Redactor().redact_data({"omv": data})["omv"]
    degraded = redact.Redactor().redact_data({"omv": {"status": "degraded", "data": data}})["omv"]
    assert degraded == {"status": "degraded", "data": ok}
    assert ok["filesystems"][0]["type"] == "ext4" and ok["users"][0]["name"] == "<USER_1>"
