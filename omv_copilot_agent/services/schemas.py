"""The request bodies (JSON Schemas) and choices of the operations whose handlers load on first use.

Why here: the operation table (services/operations.py) declares every operation's body when the
API starts, but the handlers of the rarely used ones (the assistant, pattern editing, pending
changes and the upgrade preflight, history, settings and providers) are imported only at their
first call (operations.lazy), so their modules, and what those import, stay out of an idle
daemon. The handlers validate with these same objects.
"""

from __future__ import annotations

from omv_copilot_agent.services.call import SQLITE_MAX_INT

CONTEXTS = ["storage", "network", "service", "performance", "security", "general"]

MODES = ["auto", "llm", "kb_only", "direct"]

QUERY_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["query"],
    "properties": {
        "query": {"type": "string", "minLength": 1, "maxLength": 4000, "pattern": r"\S"},
        "context": {"type": ["string", "null"], "enum": CONTEXTS + ["", "auto", None]},
        "mode": {"type": ["string", "null"], "enum": MODES + [None]},
        "direct": {"type": ["boolean", "null"]},
        "conversation_id": {"type": ["string", "null"], "pattern": r"^[A-Za-z0-9_.-]{1,100}$"},
        "async": {"type": ["boolean", "null"]},
        "reply_to": {"type": ["string", "null"], "maxLength": 500},
    },
}

RENAME_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["title"],
                 "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"}}}

PROBE_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["command"],
                "properties": {"command": {"type": "string", "minLength": 1, "maxLength": 1000}}}

CATEGORIES = ("storage", "network", "services", "performance", "security", "hardware", "backup")

FEEDBACK_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["pattern_id", "helpful"],
                   "properties": {"pattern_id": {"type": "string", "maxLength": 64}, "helpful": {"type": "boolean"},
                                  "comment": {"type": ["string", "null"], "maxLength": 2000},
                                  "query": {"type": ["string", "null"], "maxLength": 500},
                                  "query_id": {"type": ["string", "null"], "pattern": r"^[A-Za-z0-9_.-]{1,100}$"}}}

EDIT_SCHEMA = {"type": "object", "additionalProperties": False,
               "properties": {"yaml": {"type": "string"}, "pattern": {"type": "object"},
                              "pattern_id": {"type": "string", "maxLength": 64}}}

DIAG_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["pattern_id"],
               "properties": {"pattern_id": {"type": "string", "maxLength": 64},
                              "params": {"type": "object", "maxProperties": 20,
                                         "additionalProperties": {"type": "string", "maxLength": 300}},
                              "step": {"type": "integer", "minimum": 0, "maximum": 99}}}

SOLUTION_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["pattern_id"],
                   "properties": {"pattern_id": {"type": "string", "maxLength": 64}}}

REVERT_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["confirm"],
                 "properties": {"confirm": {"type": "boolean"}}}

NOTE_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["text"],
               "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 10000},
                              "alert_id": {"type": ["integer", "null"], "minimum": 1, "maximum": SQLITE_MAX_INT},
                              "pattern_id": {"type": ["string", "null"], "maxLength": 64}}}

KINDS = ("openai", "anthropic")

ENTRY_SCHEMA: dict = {
    "type": "object",
    "required": ["kind", "endpoint", "model"],
    "properties": {
        "name": {"type": "string"},  # the entry's name is the path's; OMV's form sends it back too
        "kind": {"type": "string", "enum": list(KINDS)},
        "endpoint": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
        "model": {"type": "string", "minLength": 1, "maxLength": 200},
        "api_key": {"type": ["string", "null"], "maxLength": 4000},
        "api_key_set": {"type": "boolean"},
        "timeout_s": {"type": ["number", "string"]},
        "response_format": {"type": "string", "enum": ["json_object", "json_schema", "none"]},
        "position": {"type": ["integer", "string"]},
    },
    "additionalProperties": False,
}

MOVE_SCHEMA: dict = {"type": "object", "required": ["offset"],
                     "properties": {"offset": {"type": "integer", "minimum": -100, "maximum": 100}},
                     "additionalProperties": False}
