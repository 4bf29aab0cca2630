"""Evidence in every alert: built on a real store from real snapshots, delivered to a loopback SMTP
sink, a loopback webhook and a loopback Alertmanager, for firing and resolved alerts."""

from __future__ import annotations

import json
import time

from omv_copilot_agent.alerts import evidence
from tests.alerts_support import cycle, make_agent, smart_disk, snapshot

NOW = time.time()
MiB = 2**20


def system(mem_percent: float, procs: list[tuple[str, int, float | None, int]] | None = None) -> dict:
    rows = [{"name": n, "pid": pid, "cpu_percent": cpu, "rss": rss} for n, pid, cpu, rss in procs or []]
    return {"hostname": "nas", "cpu": {"count": 4, "percent": 20.0, "load": [0.5, 0.5, 0.5]},
            "memory": {"total": 4 * 2**30, "available": 1, "used": 1, "percent": mem_percent},
            "swap": {"total": 0, "used": 0, "percent": 0.0},
            "processes": {"count": len(rows), "top_cpu": sorted([r for r in rows if r["cpu_percent"] is not None],
                                                                 key=lambda r: -r["cpu_percent"]),
                          "top_rss": sorted(rows, key=lambda r: -r["rss"])}}


PROCS = [("plexmediaserver", 812, 35.5, 1900 * MiB), ("smbd", 990, 2.0, 80 * MiB), ("dockerd", 501, 1.0, 120 * MiB)]


def _history(agent, at: float) -> None:
    """An OMV configuration change and a note, both before the alert opens."""
    store = agent.store
    store.add_config_revision(at - 3600, "h1", "initial", {"smb_shares": [{"name": "media", "readonly": True}]})
    store.add_config_revision(at - 600, "h2", "changed", {"smb_shares": [{"name": "media", "readonly": False,
                                                                          "password": "hunter2secret"}]})
    store.add_note("raised the Plex transcoder limit", now=at - 300)


def test_memory_alert_evidence_has_top_processes_change_note_pattern_and_link(tmp_path):
    agent = make_agent(tmp_path)
    _history(agent, NOW)
    events = cycle(agent, snapshot(NOW, system=system(97.0, PROCS)))
    [alert] = [a for a in events.new if a["rule"] == "memory_pressure"]
    ev = alert["evidence"]
    assert ev == agent.store.get_alert(alert["id"])["evidence"]  # what was sent is what is stored
    assert ev["kind"] == "processes"
    assert [p["name"] for p in ev["processes"]["top_rss"]] == ["plexmediaserver", "dockerd", "smbd"]
    assert ev["processes"]["top_rss"][0] == {"name": "plexmediaserver", "pid": 812, "cpu_percent": 35.5, "rss": 1900 * MiB}
    assert ev["processes"]["top_cpu"][0]["name"] == "plexmediaserver"
    assert ev["last_change"]["total"] == 2 and "smb_shares.name=media.readonly: True → False" in ev["last_change"]["changes"]
    assert not any("hunter2" in c for c in ev["last_change"]["changes"])  # a secret field's value never shows
    assert ev["last_note"]["text"] == "raised the Plex transcoder limit"
    assert ev["pattern"]["id"] == "memory-swap-pressure"
    assert ev["pattern"]["first_check"]["name"] == "Memory usage" and ev["pattern"]["first_check"]["command"]
    assert ev["assistant_url"] == f"#/diagnostics/copilot/panel/assistant?alert={alert['id']}"
    # the API shows it too
    got = agent.alerts.get(alert["id"])
    assert got["evidence"]["processes"]["top_rss"][0]["pid"] == 812


def test_resolved_alert_evidence_in_email_and_webhook_payload(tmp_path, sink, hook):
    """Acceptance: a resolved alert's evidence is in its e-mail (loopback SMTP) and webhook payload."""
    smtp, receiver = sink(), hook()
    agent = make_agent(tmp_path, {"email": True, "email_to": ["admin@example.org"], "smtp_host": "127.0.0.1",
                                  "smtp_port": smtp.port, "webhooks": [{"url": receiver.url + "/in", "format": "generic"}],
                                  "notify_backoff_s": 0, "resolve_after_clear_cycles": 1, "reopen_within_s": 0,
                                  "default_policy": {"warning": "immediately"}})
    _history(agent, NOW)
    cycle(agent, snapshot(NOW, system=system(97.0, PROCS)))
    cycle(agent, snapshot(NOW + 60, system=system(40.0, PROCS)))
    assert agent.alerts.notifier.flush(60)
    resolved_mail = [m for _, m in smtp.messages if "RESOLVED" in m["Subject"]]
    assert len(resolved_mail) == 1
    body = resolved_mail[0].get_content()
    assert "Evidence (as last seen while open):" in body
    assert "Top memory: plexmediaserver (pid 812) 1900 MiB" in body
    assert "Matching pattern: memory-swap-pressure" in body and "First check: Memory usage" in body
    assert "Last note (" in body and "raised the Plex transcoder limit" in body
    assert "smb_shares.name=media.readonly: True → False" in body
    assert "http://nas/#/diagnostics/copilot/panel/assistant?alert=" in body
    payloads = [json.loads(r["body"]) for r in receiver.received]
    resolved = [p for p in payloads if p["event"] == "resolved"]
    assert len(resolved) == 1 and resolved[0]["alert"]["state"] == "resolved"
    ev = resolved[0]["alert"]["evidence"]
    assert ev["processes"]["top_rss"][0]["name"] == "plexmediaserver"
    assert ev["pattern"]["id"] == "memory-swap-pressure" and ev["last_note"]["text"].startswith("raised the Plex")
    firing = [p for p in payloads if p["event"] == "new"]
    assert firing and firing[0]["alert"]["evidence"]["kind"] == "processes"  # the firing message carries it too


def test_alertmanager_annotations_carry_evidence(tmp_path, hook):
    am = hook()
    agent = make_agent(tmp_path, {"alertmanager_url": am.url, "notify_backoff_s": 0, "resolve_after_clear_cycles": 1,
                                  "reopen_within_s": 0})
    cycle(agent, snapshot(NOW, system=system(97.0, PROCS)))
    cycle(agent, snapshot(NOW + 60, system=system(40.0, PROCS)))
    assert agent.alerts.notifier.flush(60)
    pushed = [item for r in am.received for item in json.loads(r["body"]) if item["labels"]["alertname"] == "memory_pressure"]
    assert pushed and pushed[-1].get("endsAt")  # the resolved push
    for item in (pushed[0], pushed[-1]):
        notes = item["annotations"]
        assert all(isinstance(v, str) for v in notes.values())
        assert "plexmediaserver" in notes["evidence"] and notes["pattern"] == "memory-swap-pressure"
        assert notes["assistant_url"].startswith("http://nas/#/diagnostics/copilot/panel/assistant?alert=")
        assert notes["first_check"]


def test_disk_alert_evidence_has_smart_verdict_and_trend(tmp_path):
    agent = make_agent(tmp_path)
    disk = smart_disk("smart-ata-failed-scrutiny.json", "/dev/sda")
    temps = [44, 47, 52, 58, 61, 62, 63, 64, 65, 66, 67, 68]
    events = None
    for i, t in enumerate(temps):
        ts = NOW + i * evidence.REFRESH_S / 6  # two hours: the open alert is refreshed once
        d = {**disk, "temperature_c": t, "read_at": ts, "asleep": False}
        d["attributes"] = [{**a, "raw": 8 + i} if a["id"] == 5 else a for a in disk["attributes"]]
        got = cycle(agent, snapshot(ts, smart={"disks": [d], "cycle_at": ts}))
        events = events or (got if any(a["rule"] == "disk_temperature" for a in got.new) else None)
    assert events is not None
    alert = next(a for a in agent.alerts.open_alerts() if a["rule"] == "disk_temperature")
    opened_with = next(a for a in events.new if a["rule"] == "disk_temperature")["evidence"]
    assert opened_with["kind"] == "disk" and opened_with["disk"]["verdict"] == "PASSED"
    assert opened_with["disk"]["model"] == "Samsung SSD 840 Series"
    trend = opened_with["disk"]["trend"]["temperature"]
    assert trend["first"] == 44 and trend["last"] == opened_with["disk"]["temperature_c"] and trend["max"] >= trend["first"]
    assert opened_with["disk"]["trend"]["reallocated"]["first"] == 8
    assert "S14LNEACC02756X" not in json.dumps(alert["evidence"])  # the serial is not part of disk evidence
    later = alert["evidence"]["disk"]["trend"]["temperature"]  # refreshed while open: more history, still 5 points
    assert later["first"] == 44 and later["last"] > trend["last"] and later["points"][-1][1] == later["last"]
    assert len(later["points"]) <= evidence.MAX_ITEMS and later["points"][0][1] == 44


def test_evidence_is_redacted_and_capped(tmp_path):
    agent = make_agent(tmp_path)
    hostile = [("mysqld --password=hunter2 \x1b[31m" + "A" * 5000, 66, 99.0, 3000 * MiB),
               ("curl https://bob:s3cr3tpw@example.org", 67, 50.0, 2000 * MiB)]
    store = agent.store
    big = {"smb_shares": [{"name": f"share{i}", "comment": "x" * 900} for i in range(50)]}
    store.add_config_revision(NOW - 7200, "a", "initial", {"smb_shares": []})
    store.add_config_revision(NOW - 60, "b", "changed", big)
    store.add_note("token=abcdef123456 " + "n" * 5000, now=NOW - 30)
    events = cycle(agent, snapshot(NOW, system=system(97.0, hostile)))
    ev = next(a for a in events.new if a["rule"] == "memory_pressure")["evidence"]
    text = json.dumps(ev, ensure_ascii=False)
    assert len(text.encode()) <= evidence.MAX_BYTES
    for secret in ("hunter2", "s3cr3tpw", "abcdef123456", "\x1b"):
        assert secret not in text, secret
    assert "password=***" in text
    names = [p["name"] for p in ev["processes"]["top_rss"]]
    assert all(len(n) <= evidence.MAX_TEXT for n in names)
    assert len(ev["last_change"]["changes"]) <= evidence.MAX_ITEMS and ev["last_change"]["total"] == 50


def test_open_alert_evidence_refresh_is_bounded(tmp_path):
    agent = make_agent(tmp_path)
    cycle(agent, snapshot(NOW, system=system(97.0, PROCS)))
    alert = next(a for a in agent.alerts.open_alerts() if a["rule"] == "memory_pressure")
    first_at = alert["evidence_at"]
    later = [("java", 7, 80.0, 3500 * MiB)]
    cycle(agent, snapshot(NOW + 60, system=system(98.0, later)))  # within REFRESH_S: not rebuilt
    again = agent.store.get_alert(alert["id"])
    assert again["evidence_at"] == first_at and again["evidence"]["processes"]["top_rss"][0]["name"] == "plexmediaserver"
    cycle(agent, snapshot(NOW + evidence.REFRESH_S + 1, system=system(98.0, later)))
    again = agent.store.get_alert(alert["id"])
    assert again["evidence_at"] > first_at and again["evidence"]["processes"]["top_rss"][0]["name"] == "java"


def test_system_source_reports_top_processes():
    """The real collector: the processes the evidence quotes come from psutil, CPU share from the second cycle on."""
    from omv_copilot_agent.collect import system as system_source

    cache: dict = {}
    first = system_source.top_processes(cache)
    assert first["count"] > 0 and first["top_cpu"] == [] and len(first["top_rss"]) <= system_source.TOP_PROCESSES
    assert all(p["rss"] > 0 and isinstance(p["pid"], int) for p in first["top_rss"])
    sum(i * i for i in range(2_000_000))  # this process burns some CPU between the two readings
    # every process ranked: on a busy machine others outrank this one in the default top few
    second = system_source.top_processes(cache, limit=100_000, every_s=0)
    import os

    assert any(p["pid"] == os.getpid() and p["cpu_percent"] > 0 for p in second["top_cpu"])
    shares = [p["cpu_percent"] for p in second["top_cpu"]]
    assert shares == sorted(shares, reverse=True)


def test_the_process_table_is_read_at_most_every_five_minutes(monkeypatch):
    """Reading every /proc/<pid> each cycle cost ten times the rest of the source: between readings
    the last ranking is served, and a reading after the interval averages over it."""
    from omv_copilot_agent.collect import system as system_source

    reads = []
    real = system_source.psutil.process_iter
    monkeypatch.setattr(system_source.psutil, "process_iter", lambda *a, **k: reads.append(1) or real(*a, **k))
    clock = [1000.0]
    monkeypatch.setattr(system_source.time, "monotonic", lambda: clock[0])
    cache: dict = {}
    first = system_source.top_processes(cache)
    for _ in range(4):  # four more one-minute cycles
        clock[0] += 60
        assert system_source.top_processes(cache) is first
    assert len(reads) == 1
    clock[0] += 60
    fresh = system_source.top_processes(cache)
    assert len(reads) == 2 and fresh is not first and fresh["top_cpu"] is not None


def test_evidence_hides_secrets_in_record_values_keys_and_unicode_controls(tmp_path):
    """A changed list whose records have no name (compared whole) quotes their values: a secret-named
    field inside one, ``AWS_SECRET_ACCESS_KEY=``, a bearer token, and Unicode line separators or bidi
    overrides (which split or reorder an e-mail line) must not reach the evidence."""
    agent = make_agent(tmp_path)
    store = agent.store
    store.add_config_revision(NOW - 7200, "a", "initial", {"remotes": [{"host": "a", "privatekey": "PRIVKEYVALUE1"}]})
    store.add_config_revision(NOW - 60, "b", "changed", {"remotes": [{"host": "b", "privatekey": "PRIVKEYVALUE2"}]})
    store.add_note("set AWS_SECRET_ACCESS_KEY=AKIASECRETVALUE, Authorization: Bearer BEARERVALUE", now=NOW - 30)
    procs = [("evil\u2028Subject: x\u202eexe", 70, 99.0, 3000 * MiB)]
    events = cycle(agent, snapshot(NOW, system=system(97.0, procs)))
    ev = next(a for a in events.new if a["rule"] == "memory_pressure")["evidence"]
    text = json.dumps(ev, ensure_ascii=False) + "\n".join(evidence.summary(ev))
    assert "remotes" in text  # the change is there, without its secret
    for secret in ("PRIVKEYVALUE", "AKIASECRETVALUE", "BEARERVALUE", "\u2028", "\u202e"):
        assert secret not in text, secret


def test_chat_webhooks_do_not_let_quoted_names_mention_people(tmp_path, hook):
    """Any local user (or container) can name a process '@everyone' or '<!channel>' and make it the top
    CPU user: the evidence quotes it into Discord and Slack, where it must not ping the whole channel."""
    discord, slack = hook(), hook()
    agent = make_agent(tmp_path, {"webhooks": [{"url": discord.url, "format": "discord"},
                                               {"url": slack.url, "format": "slack"}],
                                  "notify_backoff_s": 0, "default_policy": {"warning": "immediately"}})
    procs = [("@everyone", 71, 99.0, 3000 * MiB), ("<!channel>", 72, 98.0, 2900 * MiB)]
    cycle(agent, snapshot(NOW, system=system(97.0, procs)))
    assert agent.alerts.notifier.flush(60)
    [sent] = [json.loads(r["body"]) for r in discord.received]
    assert "@everyone" in sent["content"] and sent["allowed_mentions"] == {"parse": []}
    [sent] = [json.loads(r["body"]) for r in slack.received]
    assert "&lt;!channel&gt;" in sent["text"] and "<!channel>" not in sent["text"]


def test_a_refresh_pass_writes_every_alert_in_one_commit(tmp_path, monkeypatch):
    """A boot stick pays per commit: the hourly refresh of all open alerts is one transaction."""
    agent = make_agent(tmp_path)
    cycle(agent, snapshot(NOW, system=system(97.0, PROCS)))
    for i in range(3):  # two more open alerts, evidence due
        agent.store.insert_alert({"rule": "fs_full", "subject": f"/srv/d{i}", "severity": "warning",
                                  "title": f"Filesystem /srv/d{i} is 91% full", "message": "91% used", "details": {}}, NOW)
    real, writes = agent.store.write, []
    monkeypatch.setattr(agent.store, "write", lambda *a, **k: writes.append(1) or real(*a, **k))
    built = agent.alerts.attach_evidence(type("E", (), {"new": [], "escalated": [], "deescalated": []})(),
                                         snapshot(NOW + evidence.REFRESH_S + 1, system=system(97.0, PROCS)), [],
                                         NOW + evidence.REFRESH_S + 1)
    assert built >= 4 and len(writes) == 1, (built, len(writes))


def test_an_alert_stands_only_for_its_own_subjects_findings():
    """md0's alert, inside the hold-down after its own finding cleared, is not about md1's degraded
    array: its evidence and the Dashboard (one function for both) find no finding behind it, instead
    of the other array's."""
    from omv_copilot_agent.findings import Finding

    md1 = Finding("raid-degraded", "critical", "md1", "md1 is degraded", {})
    found = [md1, Finding("filesystem-full", "critical", "md0", "not this rule's", {})]
    assert evidence.alert_findings({"subject": "md0"}, found, ("raid-degraded",)) == []
    assert evidence.alert_findings({"subject": "md1"}, found, {"raid-degraded"}) == [md1]
