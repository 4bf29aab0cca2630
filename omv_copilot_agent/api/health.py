"""``GET /healthz``: unauthenticated liveness for systemd, monit and load balancers."""

from flask import Blueprint, jsonify

from omv_copilot_agent import __version__

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    from omv_copilot_agent.api import agent

    snap = agent().snapshot
    return jsonify({"status": "ok", "version": __version__, "snapshot_age_s": round(snap.age_s(), 1) if snap else None})
