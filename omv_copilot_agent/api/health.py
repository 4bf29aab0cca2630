"""``GET /healthz``: unauthenticated liveness for systemd, monit and load balancers.

It stays HTTP 200 while the process serves (systemd/test start-up waits rely on that) but
says ``degraded`` with the reason when the database cannot be read or the last write failed,
so a failing store is not reported as healthy.
"""

from flask import Blueprint, jsonify

from omv_copilot_agent import __version__

bp = Blueprint("health", __name__)


def _store_problem(store) -> str | None:
    """Why the store is unusable now (a read probe, else the last failed write), or None."""
    from omv_copilot_agent.store import StoreError

    if store is None:
        return None
    try:
        store.query("SELECT MAX(version) FROM schema_version")
    except StoreError as exc:
        return str(exc)
    return getattr(store, "last_write_error", None)


@bp.get("/healthz")
def healthz():
    from omv_copilot_agent.api import agent

    current = agent()
    snap = current.snapshot
    body = {"status": "ok", "version": __version__, "snapshot_age_s": round(snap.age_s(), 1) if snap else None}
    problem = _store_problem(getattr(current, "store", None))
    if problem:
        body.update(status="degraded", reason=f"store unavailable: {problem}")
    return jsonify(body)
