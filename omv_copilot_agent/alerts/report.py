"""The daily health report (text or HTML, jinja2): score, open alerts, forecasts, recent resolves."""

from __future__ import annotations

import time

import jinja2

_ENV = jinja2.Environment(autoescape=jinja2.select_autoescape(default=False, default_for_string=False),
                          trim_blocks=True, lstrip_blocks=True)
_ENV.filters["ts"] = lambda t: time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t)) if t else "-"

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
""")

HTML = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
HTML.filters["ts"] = _ENV.filters["ts"]
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
</body></html>
""")


def build(service, *, now: float | None = None) -> dict:
    now = now or time.time()
    snap = service.latest()
    resolved = [a for a in service.store.list_alerts(state="resolved", limit=500)[1] if (a["resolved_at"] or 0) >= now - 86400]
    return {"host": (snap.data("system").get("hostname") if snap else None) or "this NAS", "now": now,
            "health": service.health_score(snap), "open": service.open_alerts(), "forecasts": service.forecasts(),
            "resolved": resolved}


def render(data: dict, html: bool = False) -> str:
    return (HTML_T if html else TEXT).render(**data)
