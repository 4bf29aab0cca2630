"""Mail text: the daily health report and notification digests (plain text + HTML, jinja2).

HTML templates autoescape every value: alert titles and messages carry share,
disk and unit names, which are user input.
"""

from __future__ import annotations

import time

import jinja2

from omv_copilot_agent.alerts import evidence

_ENV = jinja2.Environment(autoescape=jinja2.select_autoescape(default=False, default_for_string=False),
                          trim_blocks=True, lstrip_blocks=True)
_ENV.filters["ts"] = lambda t: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t)) if t else "-"
def duration(seconds: float | None) -> str:
    """``1 d 2 h``, ``3 h 5 min``, ``40 min``, ``12 s``: a time to resolution for people."""
    if seconds is None:
        return "-"
    s = int(seconds)
    for unit, size, sub, subsize in (("d", 86400, "h", 3600), ("h", 3600, "min", 60)):
        if s >= size:
            return f"{s // size} {unit}" + (f" {s % size // subsize} {sub}" if s % size // subsize else "")
    return f"{s // 60} min" if s >= 60 else f"{s} s"


_ENV.filters["duration"] = duration

TEXT = _ENV.from_string("""\
OMV Co-Pilot health report for {{ host }} — {{ now|ts }}

Health score: {{ health.score }}/100 (grade {{ health.grade }})
{% for d in health.deductions %}
  -{{ d.points }}  {{ d.reason }}
{% endfor %}

Open alerts ({{ open|length }}):
{% for a in open %}
  [{{ a.severity|upper }}] {{ a.title }} — {{ a.state }}, since {{ a.first_seen|ts }}
{% else %}
  none
{% endfor %}

Filesystem forecasts:
{% for f in forecasts %}
  {{ f.mountpoint }}: {% if f.status == 'filling' %}full in {{ '%.1f'|format(f.days_left) }} days ({{ f.full_at|ts }}){% else %}{{ f.status }}{% if f.reason %} ({{ f.reason }}){% endif %}{% endif %}

{% else %}
  no filesystems
{% endfor %}

Resolved in the last 24 h ({{ resolved|length }}):
{% for a in resolved %}
  {{ a.title }} — resolved {{ a.resolved_at|ts }}
{% else %}
  none
{% endfor %}

Fixes verified in the last {{ ttr.window_days }} days: {{ ttr.verified }}{% if ttr.verified %}, time to resolution mean {{ ttr.mean_ttr_s|duration }}, median {{ ttr.median_ttr_s|duration }}{% endif %}

""")

HTML = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
HTML.filters["ts"] = _ENV.filters["ts"]
HTML.filters["duration"] = duration
HTML_T = HTML.from_string("""\
<!doctype html><html><head><meta charset="utf-8"><title>Health report {{ host }}</title></head><body>
<h1>{{ host }}: {{ health.score }}/100 ({{ health.grade }})</h1><p>{{ now|ts }}</p>
<ul>{% for d in health.deductions %}<li>&minus;{{ d.points }} {{ d.reason }}</li>{% endfor %}</ul>
<h2>Open alerts ({{ open|length }})</h2>
<table border="1" cellpadding="4"><tr><th>Severity</th><th>Alert</th><th>State</th><th>Since</th></tr>
{% for a in open %}<tr><td>{{ a.severity }}</td><td>{{ a.title }}<br><small>{{ a.message }}</small></td><td>{{ a.state }}</td><td>{{ a.first_seen|ts }}</td></tr>{% endfor %}
</table>
<h2>Forecasts</h2><ul>{% for f in forecasts %}<li>{{ f.mountpoint }}: {% if f.status == 'filling' %}full in {{ '%.1f'|format(f.days_left) }} days{% else %}{{ f.status }}{% endif %}</li>{% endfor %}</ul>
<h2>Resolved in the last 24 h</h2><ul>{% for a in resolved %}<li>{{ a.title }} ({{ a.resolved_at|ts }})</li>{% endfor %}</ul>
<h2>Verified fixes (last {{ ttr.window_days }} days)</h2><p>{{ ttr.verified }} verified{% if ttr.verified %}; time to resolution mean {{ ttr.mean_ttr_s|duration }}, median {{ ttr.median_ttr_s|duration }}{% endif %}</p>
</body></html>
""")


def build(service, *, now: float | None = None) -> dict:
    now = now or time.time()
    snap = service.latest()
    resolved = [a for a in service.store.list_alerts(state="resolved", limit=500)[1] if (a["resolved_at"] or 0) >= now - 86400]
    return {"host": (snap.data("system").get("hostname") if snap else None) or "this NAS", "now": now,
            "health": service.health_score(snap), "open": service.open_alerts(), "forecasts": service.forecasts(),
            "resolved": resolved,
            "ttr": service.resolution_stats(now)}


def render(data: dict, html: bool = False) -> str:
    return (HTML_T if html else TEXT).render(**data)


#: What an admin can do about each alert class (shown in every message and digest).
ADVICE = {
    "fs_full": "free space (old snapshots, recycle bin, downloads) or grow the filesystem; services stop writing when it is full.",
    "fs_forecast": "check what is growing (omv-copilot ask 'what fills /srv/...') and clean up or plan more space before the date shown.",
    "fs_state": "check the disk and the mount in Storage > File Systems; a read-only remount follows I/O errors — read the kernel log.",
    "service_down": "look at the unit's log (journalctl -u UNIT) and restart it from the OMV service page once the cause is fixed.",
    "smart_health": "back up the data on this disk now and plan its replacement; run a long SMART self-test.",
    "smart_attributes": "watch the count: if it keeps rising, back up and replace the disk; run a long SMART self-test.",
    "nvme_health": "back up the NVMe drive and plan its replacement; check its wear and spare in the SMART page.",
    "disk_temperature": "improve airflow or cooling; check fans and that the disks are not stacked without space.",
    "raid_degraded": "replace the failed member and add it in Storage > Multiple Device; avoid heavy writes until the rebuild ends.",
    "raid_resync": "nothing, unless it does not progress: keep the NAS on until it finishes.",
    "security_updates": "install the updates in System > Update Management.",
    "memory_pressure": "find the process using the memory (omv-copilot diagnose); stop containers you do not need.",
    "load": "find what keeps the CPU or disks busy (omv-copilot diagnose); a scrub or a rebuild explains a temporary load.",
    "config_dirty": "apply or revert the pending configuration changes in OMV's web UI.",
    "config_hand_edit": "OMV's next Apply overwrites this hand edit: make the change the durable way the alert names, then Apply.",
    "backup_overdue": "check the backup job's log and the destination; run the job by hand once.",
    "job_not_run": "read the job's last output (its e-mail, journalctl -t CRON, /var/log/rsync.log or the plugin's log: snapraid.log, borgbackup.log, omv-backup.log) and run it once from its OMV page.",
    "disk_change": "if you did not add or remove a disk, check its cable and power.",
}

_DIGEST_TEXT = _ENV.from_string("""\
{{ title }} for {{ host }} — {{ now|ts }}
{% if note %}

{{ note }}
{% endif %}

{% for group, rows in groups %}
{{ group }} ({{ rows|length }}):
{% for r in rows %}

  [{{ r.alert.severity|upper }}] {{ r.alert.title }}
    {{ r.events }}
    Evidence: {{ r.alert.message }}
{% for line in r.evidence %}
      {{ line }}
{% endfor %}
{% if r.advice and not r.resolved %}
    What to do: {{ r.advice }}
{% endif %}
{% endfor %}

{% endfor %}
-- OMV Co-Pilot (alert #ids and settings: omv-copilot alerts list, omv-copilot alerts policy)
""")

_DIGEST_HTML = HTML.from_string("""\
<!doctype html><html><head><meta charset="utf-8"><title>{{ title }} {{ host }}</title></head><body>
<h1>{{ title }}: {{ host }}</h1><p>{{ now|ts }}</p>
{% if note %}<p><strong>{{ note }}</strong></p>{% endif %}
{% for group, rows in groups %}<h2>{{ group }} ({{ rows|length }})</h2>
<table border="1" cellpadding="4"><tr><th>Severity</th><th>Alert</th><th>Events</th><th>Evidence</th><th>What to do</th></tr>
{% for r in rows %}<tr><td>{{ r.alert.severity }}</td><td>{{ r.alert.title }}</td><td>{{ r.events }}</td><td>{{ r.alert.message }}{% for line in r.evidence %}<br><small>{{ line }}</small>{% endfor %}</td><td>{% if not r.resolved %}{{ r.advice or "" }}{% endif %}</td></tr>
{% endfor %}</table>
{% endfor %}</body></html>
""")

_EVENT_WORDS = {"new": "raised", "escalated": "rose to", "deescalated": "lowered to", "resolved": "resolved", "reminder": "still open"}
_RANK = {"critical": 0, "warning": 1, "info": 2}


def _clock(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def digest(msg, host: str) -> tuple[str, str, str]:
    """(subject, text, html) of a digest :class:`~omv_copilot_agent.alerts.policy.Message`.

    One row per condition (class + subject), so a flapping one reads "raised, resolved, raised …".
    """
    rows: dict = {}
    for item in sorted(msg.items, key=lambda i: i["ts"]):
        row = rows.setdefault((item["alert"]["rule"], str(item["alert"]["subject"])), {"events": []})
        row["alert"] = item["alert"]
        word = _EVENT_WORDS.get(item["event"], item["event"])
        if item["event"] in ("escalated", "deescalated"):
            word += " " + item["alert"]["severity"]
        row["events"].append(f"{word} {_clock(item['ts'])}")
    for row in rows.values():
        row["flaps"] = sum(e.startswith("raised") for e in row["events"])
        row["resolved"] = row["alert"].get("state") == "resolved" or row["events"][-1].startswith("resolved")
        row["events"] = ", ".join(row["events"])
        row["advice"] = ADVICE.get(row["alert"].get("rule"))
        row["evidence"] = evidence.summary(row["alert"].get("evidence"), host)
    ordered = sorted(rows.values(), key=lambda r: (_RANK.get(r["alert"]["severity"], 3), r["alert"]["title"]))
    still = [r for r in ordered if not r["resolved"]]
    flapping = [r for r in ordered if r["resolved"] and r["flaps"] > 1]
    gone = [r for r in ordered if r["resolved"] and r["flaps"] <= 1]
    groups = [(name, g) for name, g in (("Needs attention", still), ("Flapping (came and went repeatedly)", flapping),
                                        ("Resolved", gone)) if g]
    counts = [f"{n} {sev}" for sev in ("critical", "warning", "info") if (n := sum(r["alert"]["severity"] == sev for r in still))]
    summary = ", ".join([", ".join(counts) + " open"] if counts else [])
    summary = ", ".join(filter(None, [summary, f"{len(flapping)} flapping" if flapping else "",
                                      f"{len(gone)} resolved" if gone else ""]))
    subject = f"[{host}] {msg.title}: {summary or 'nothing open'}"
    ctx = {"title": msg.title, "host": host, "now": msg.now or time.time(), "note": msg.note, "groups": groups}
    return subject, _DIGEST_TEXT.render(**ctx), _DIGEST_HTML.render(**ctx)
