"""The ordered LLM provider list (``assist.providers``), edited one entry at a time.

The assistant asks the providers in list order and falls back to the next one, so the list
needs a home where an admin can add, change, remove and reorder entries, and check one
answers before relying on it. Every change goes through settings.save (one validation,
one atomic write, the same CONFIG_CHANGED event), so this is a view of that list and never a
second copy. Entries are named by ``name`` (unique); an API key is write-only: an entry shows
``api_key_set`` and a save without a key keeps the stored one.
"""

from __future__ import annotations

import copy
import time

from omv_copilot_agent.services import settings
from omv_copilot_agent.services.call import Call
from omv_copilot_agent.services.errors import ServiceError, invalid, not_found
from omv_copilot_agent.services.schemas import ENTRY_SCHEMA, MOVE_SCHEMA

#: What an admin edits here; the rest of an entry (temperature, context_tokens, …) is kept as it is.
EDITABLE = ("kind", "endpoint", "model", "api_key", "timeout_s", "response_format")
#: The test's question and the longest it may take: a check, not a conversation.
TEST_QUESTION = "Connection test from OMV Co-Pilot. Reply with the single word OK."
TEST_TIMEOUT_S = 30.0
TEST_MAX_TOKENS = 256  # room for a reasoning model's thoughts before its "OK"


def _entries(call: Call) -> list[dict]:
    return [copy.deepcopy(p) for p in (call.agent.config.get("assist") or {}).get("providers") or [] if isinstance(p, dict)]


def _index(entries: list[dict], name: str) -> int:
    for i, entry in enumerate(entries):
        if entry.get("name") == name:
            return i
    raise not_found(f"no LLM provider named '{name[:100]}' (configured: {', '.join(e.get('name', '?') for e in entries) or 'none'})")


def _row(entry: dict, position: int) -> dict:
    """One entry as the list shows it: no secret, its place in the order (1 = asked first)."""
    shown = settings.public(entry)
    return {"position": position, "name": shown.get("name"), "kind": shown.get("kind"), "endpoint": shown.get("endpoint"),
            "model": shown.get("model"), "timeout_s": shown.get("timeout_s", 120),
            "response_format": shown.get("response_format", "json_object"),
            "api_key": "", "api_key_set": bool(shown.get("api_key_set") or entry.get("api_key_file"))}


def _store(call: Call, entries: list[dict]) -> None:
    settings.save(call, {"assist": {"providers": entries}})


def list_providers(call: Call) -> dict:
    limit, offset = call.paging()
    rows = [_row(e, i + 1) for i, e in enumerate(_entries(call))]
    return {"total": len(rows), "limit": limit, "offset": offset, "providers": rows[offset:offset + limit]}


def provider(call: Call) -> dict:
    return provider_row(call, call.path["name"])


def save_provider(call: Call) -> dict:
    """Create the entry named by the path (appended: asked last) or change it in place."""
    name = call.path["name"].strip()
    if not name:
        raise invalid("the provider's name must not be empty", "invalid_parameter")
    body = call.body(ENTRY_SCHEMA)
    if "name" in body and str(body["name"]).strip() not in ("", name):
        raise invalid(f"{call.field('name')}: differs from the provider being saved ('{name[:100]}'); "
                      "to rename, add the new one and delete the old", "invalid_body")
    if "timeout_s" in body:
        try:
            body["timeout_s"] = float(body["timeout_s"])
        except (TypeError, ValueError):
            raise invalid(f"{call.field('timeout_s')}: must be a number of seconds", "invalid_body") from None
    entries = _entries(call)
    try:
        i = _index(entries, name)
    except ServiceError:
        entries.append({"name": name})
        i = len(entries) - 1
    entry = entries[i]
    for key in EDITABLE:
        if key in body:
            entry[key] = body[key] if body[key] != "" or key != "api_key" else None
    _store(call, entries)
    return provider_row(call, name)


def provider_row(call: Call, name: str) -> dict:
    entries = _entries(call)
    i = _index(entries, name)
    return _row(entries[i], i + 1)


def delete_provider(call: Call) -> dict:
    entries = _entries(call)
    del entries[_index(entries, call.path["name"])]
    _store(call, entries)
    return {"deleted": call.path["name"], "providers": [_row(e, i + 1) for i, e in enumerate(_entries(call))]}


def move_provider(call: Call) -> dict:
    """Move an entry ``offset`` places (-1 = asked one earlier), clamped to the list's ends."""
    offset = call.body(MOVE_SCHEMA)["offset"]
    entries = _entries(call)
    i = _index(entries, call.path["name"])
    j = max(0, min(len(entries) - 1, i + offset))
    entries.insert(j, entries.pop(i))
    _store(call, entries)
    return {"providers": [_row(e, k + 1) for k, e in enumerate(_entries(call))]}


def test_provider(call: Call) -> dict:
    """Ask the provider one short question; its latency and first words, or why it did not answer.

    Nothing about the box is sent. The reply format is plain text whatever the entry says (a
    JSON-mode server would refuse a question that does not mention JSON).
    """
    from omv_copilot_agent.assist.providers import ProviderError, make

    entries = _entries(call)
    entry = entries[_index(entries, call.path["name"])]
    cfg = {**entry, "response_format": "none", "max_tokens": min(int(entry.get("max_tokens", 2048)), TEST_MAX_TOKENS),
           "timeout_s": min(float(entry.get("timeout_s", 120)), TEST_TIMEOUT_S)}
    started = time.monotonic()
    try:
        reply = make(cfg).chat("You answer connection tests.", [{"role": "user", "content": TEST_QUESTION}])
    except ProviderError as exc:
        ms = round((time.monotonic() - started) * 1000)
        raise ServiceError("upstream_failed", "provider_test_failed",
                           f"{entry['name']} did not answer after {ms} ms: {exc} ({exc.kind})") from None
    ms = round((time.monotonic() - started) * 1000)
    words = " ".join(str(reply.get("text") or "").split())[:80]
    return {"name": entry["name"], "ok": True, "latency_ms": ms, "model": reply.get("model") or entry.get("model"),
            "reply": words, "message": f"{entry['name']} answered in {ms} ms: \u201c{words}\u201d"}
