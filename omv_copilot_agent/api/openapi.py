"""``GET /api/v1/openapi.json``: the API's OpenAPI 3 document (from ``openapi.yaml`` beside this file).

The YAML is the source of truth for clients and for the schemathesis run; a test
keeps it equal to Flask's URL map. Loaded once, lazily, so the daemon does not
parse it unless asked.
"""

from __future__ import annotations

import functools
from pathlib import Path

from flask import Blueprint, jsonify

bp = Blueprint("openapi", __name__)

SPEC_PATH = Path(__file__).with_name("openapi.yaml")


@functools.lru_cache(maxsize=1)
def document() -> dict:
    """The parsed OpenAPI document (cached; the file ships with the package)."""
    import yaml

    return yaml.safe_load(SPEC_PATH.read_text())


@bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(document())
