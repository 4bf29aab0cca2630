"""Every operation of the agent, declared once: the table the API, RPC, OpenAPI and OMV are made from.

A row names the operation (the OMV RPC method name), where it lives among the
resources (``resource`` under /api/v1 and ``action``: read, create, update, delete
or invoke), its named arguments and submitted document (JSON Schemas), its result,
the role it needs and its handler (``handler(call)`` in this package, which knows
nothing of HTTP; :class:`lazy` for the rarely used ones, imported at their first
call). From it come: the Flask routes (api/routes.py), the RPC bridge's method
table (api/rpc.py), the OpenAPI document and OMV's datamodels and PHP service
(tools/gen-operations writes them; a test keeps them current).

``params`` is the parameter object OMV's engine validates before forwarding (the
datamodel, draft-3 style: ``required: true`` per property); ``args`` are the named
arguments a REST client puts in the path or query (``required: true`` likewise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from omv_copilot_agent.services import alerts, dashboard, overview, schemas, system

ACTIONS = ("read", "create", "update", "delete", "invoke")
OBJECT: dict = {"type": "object", "additionalProperties": True}
TEXT: dict = {"type": "string"}

PAGING_PARAMS = {
    "start": {"type": "integer", "minimum": 0, "required": True},
    "limit": {"type": ["integer", "null"], "required": True},
    "sortfield": {"type": ["string", "null"]},
    "sortdir": {"type": ["string", "null"], "enum": ["asc", "ASC", "desc", "DESC"]},
    "search": {"type": ["string", "integer", "null"]},
}
def listing(default: int, maximum: int, max_offset: int = 10**9) -> dict:
    """``limit`` and ``offset`` of a list operation: its page size by default, at most ``maximum``."""
    return {"limit": {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
            "offset": {"type": "integer", "minimum": 0, "maximum": max_offset, "default": 0}}


INT_ID = {"type": "integer", "minimum": 0}
ASSIST_ID = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,100}$"}
RPC_ID = {"type": "string", "minLength": 1, "maxLength": 200, "required": True}
PATTERN_ID = {"type": "string", "minLength": 3, "maxLength": 64, "pattern": "^[a-z0-9][a-z0-9_-]{2,63}$", "required": True}
STATES = {"type": "string", "enum": list(alerts.STATES)}
PROVIDER_NAME = {"type": "string", "maxLength": 200}
#: OMV's provider form as its datamodel checks it (the daemon checks the entry again as a whole).
PROVIDER_FIELDS = {"kind": {"type": "string", "enum": list(schemas.KINDS)}, "endpoint": {"type": "string", "maxLength": 2000},
                   "model": {"type": "string", "maxLength": 200}, "api_key": {"type": ["string", "null"], "maxLength": 4000},
                   "api_key_set": {"type": "boolean"}, "timeout_s": {"type": ["number", "string"]},
                   "response_format": {"type": "string", "enum": ["json_object", "json_schema", "none"]},
                   "position": {"type": ["integer", "string"]}}
SEVERITIES = {"type": "string", "enum": list(alerts.SEVERITIES)}


def choice(*values: str, default: str | None = None) -> dict:
    return {"type": "string", "enum": list(values), **({"default": default} if default else {})}


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a row is one declaration
class Operation:
    """One thing a caller can ask of the agent (see the module docstring)."""

    name: str
    summary: str
    resource: str
    action: str
    handler: Callable[..., Any]
    args: dict = field(default_factory=dict)
    body: dict | None = None
    media_types: tuple[str, ...] = ("application/json",)
    result: dict = field(default_factory=lambda: OBJECT)
    params: dict = field(default_factory=dict)
    paged: bool = False
    role: str = "admin"
    rpc: bool = True
    documents: tuple[str, ...] = ()  # media types of answers that are documents, not JSON (a report, YAML)
    aliases: tuple[str, ...] = ()  # older resource names that still answer
    offline: dict | None = None  # what OMV's proxy answers when the daemon fails ("{message}": why)

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValueError(f"operation {self.name}: unknown action {self.action!r}")

    @property
    def path_names(self) -> tuple[str, ...]:
        import re

        return tuple(re.findall(r"{([^}]+)}", self.resource))

    @property
    def query_names(self) -> tuple[str, ...]:
        """Named arguments that are not part of the resource's path."""
        return tuple(n for n in self.args if n not in self.path_names)


class lazy:  # noqa: N801 - named like the function it stands for in the table
    """The handler ``services.<module>.<function>``, imported at its first call (Flask's "Lazily Loading Views").

    Why: the operations most requests never reach (the assistant, pattern editing, pending
    changes and the upgrade preflight, history, settings, providers) would otherwise load their
    modules into every daemon at start — ~1 MiB of RSS an idle box carries for good. Python's
    import lock makes two first calls at once import the module once; both get the same function.
    """

    def __init__(self, module: str, function: str):
        self.module, self.function = module, function
        self.__name__ = function
        self._target: Callable[..., Any] | None = None

    def __call__(self, call):
        target = self._target
        if target is None:
            import importlib

            target = getattr(importlib.import_module(f"omv_copilot_agent.services.{self.module}"), self.function)
            self._target = target
        return target(call)

    def __repr__(self) -> str:
        return f"lazy({self.module!r}, {self.function!r})"


def _paged(extra: dict | None = None) -> dict:
    return {**PAGING_PARAMS, **(extra or {})}


OPERATIONS: tuple[Operation, ...] = (
    # -- the box ----------------------------------------------------------------------------------
    Operation("getStatus", "every source's status and data plus a summary", "system/status", "read", system.status,
              result={"type": "object", "required": ["snapshot", "overall", "summary", "agent", "sources"],
                      "properties": {"snapshot": {"type": "object", "properties": {"taken_at": {"type": "number"},
                                                                                   "age_s": {"type": "number"}}},
                                     "overall": {"type": "string"}, "summary": {"type": "object"},
                                     "agent": {"type": "object"}, "sources": {"type": "object"}}}),
    Operation("getMetrics", "series list, or one series' points", "system/metrics", "read", system.metrics,
              args={"name": {"type": "string", "maxLength": 100},
                    "labels": {"type": "string", "maxLength": 300, "default": ""},
                    "since": {"type": "integer", "minimum": 1, "maximum": 10 * 365 * 86400, "default": 3600},
                    "step": {"type": "integer", "minimum": 0, "maximum": 86400, "default": 0}},
              params={"name": {"type": "string", "maxLength": 100}, "labels": {"type": "string", "maxLength": 300},
                      "since": {"type": "integer", "minimum": 1}, "step": {"type": "integer", "minimum": 0, "maximum": 86400}}),
    Operation("getLogs", "recent journald warnings/errors", "system/logs", "read", system.logs,
              args={"since": {"type": "integer", "minimum": 1, "maximum": 7 * 86400, "default": 3600},
                    "priority": choice("err", "warning")},
              params={"since": {"type": "integer", "minimum": 1, "maximum": 604800},
                      "priority": {"type": "string", "enum": ["err", "warning"]}},
              result={"type": "object", "required": ["entries", "status"],
                      "properties": {"entries": {"type": "array", "items": {"type": "object"}}, "status": {"type": "string"}}}),
    Operation("getConfiguration", "OMV's configuration and the agent's own (secrets removed)", "system/configuration",
              "read", system.configuration,
              result={"type": "object", "required": ["omv", "agent"],
                      "properties": {"omv": {"type": "object"}, "agent": {"type": "object"}}}),
    Operation("getOverview", "one flat object for OMV's Overview page and dashboard widgets", "overview", "read",
              overview.overview, offline={**overview.OFFLINE, "daemon_message": "{message}"}),
    # -- knowledge --------------------------------------------------------------------------------
    Operation("getPatterns", "the pattern catalogue", "knowledge/patterns", "read", lazy("knowledge", "patterns"),
              args={**listing(50, 500, 100000), "category": choice(*schemas.CATEGORIES)}, params=_paged(), paged=True),
    Operation("getPattern", "one pattern, with source (shipped|local), override flag and its YAML text",
              "knowledge/patterns/{id}", "read", lazy("knowledge", "pattern"),
              args={"id": {"type": "string", "maxLength": 200}, "format": choice("json", "yaml", default="json")},
              params={"id": RPC_ID}, documents=("application/yaml",)),
    Operation("getPatternText", "one pattern as pretty JSON without its YAML (OMV's detail page)",
              "knowledge/patterns/{id}/text", "read", lazy("knowledge", "pattern_text"),
              args={"id": {"type": "string", "maxLength": 200}}, params={"id": RPC_ID}, result=TEXT),
    Operation("getProbes", "the catalogue of read-only probes a diagnostic may name: {total, data: [{name, description, "
              "argv, root, host_network, ok_exit_codes, params: {name: {type, expected}}}]}", "knowledge/probes", "read",
              lazy("knowledge", "probes")),
    Operation("search", "patterns matching a query (and the current snapshot's signals)", "knowledge/search", "read",
              lazy("knowledge", "search"), args={"q": {"type": "string", "maxLength": 500, "required": True},
                                      "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5}},
              params={"q": {"type": "string", "minLength": 1, "maxLength": 500, "required": True},
                      "limit": {"type": "integer", "minimum": 1, "maximum": 50}}),
    Operation("setPattern", "save a pattern in the local overlay (knowledge.local_dir) and reload",
              "knowledge/patterns/{id}", "update", lazy("knowledge", "save"), args={"id": {"type": "string", "maxLength": 64}},
              body=schemas.EDIT_SCHEMA, media_types=("application/json", "application/yaml"),
              params={"id": PATTERN_ID, "yaml": {"type": "string", "maxLength": 65536}, "pattern": {"type": "object"}}),
    Operation("deletePattern", "delete the local file of a pattern (reverts to the shipped one)",
              "knowledge/patterns/{id}", "delete", lazy("knowledge", "delete"), args={"id": {"type": "string", "maxLength": 64}},
              params={"id": PATTERN_ID}),
    Operation("validatePattern", "check a pattern without saving it: {valid, pattern_id, exists, problems}",
              "knowledge/patterns/validate", "invoke", lazy("knowledge", "validate"), body=schemas.EDIT_SCHEMA,
              media_types=("application/json", "application/yaml"),
              params={"yaml": {"type": "string", "maxLength": 65536}, "pattern": {"type": "object"},
                      "pattern_id": {k: v for k, v in PATTERN_ID.items() if k != "required"}}),
    Operation("feedback", "was a pattern helpful (stored; nudges its ranking)", "knowledge/feedback", "create",
              lazy("knowledge", "feedback"), body=schemas.FEEDBACK_SCHEMA,
              params={"pattern_id": RPC_ID, "helpful": {"type": "boolean"},
                      "query": {"type": "string", "maxLength": 2000}, "comment": {"type": "string", "maxLength": 2000},
                      "query_id": {"type": "string", "maxLength": 100}}),
    Operation("runDiagnostics", "run a pattern's read-only diagnostics", "assist/diagnostics", "invoke",
              lazy("knowledge", "run_diagnostics"), body=schemas.DIAG_SCHEMA,
              params={"pattern_id": RPC_ID, "params": {"type": "object", "properties": {}},
                      "step": {"type": "integer", "minimum": 0, "maximum": 99}}),
    Operation("runProbe", "run a command an answer shows, only if it is exactly a catalogue probe call",
              "assist/probe", "invoke", lazy("assist", "run_probe"), body=schemas.PROBE_SCHEMA,
              params={"command": {"type": "string", "minLength": 1, "maxLength": 1000, "required": True}}),
    Operation("getSolution", "a pattern's solution steps (shown, never run)", "assist/solution", "invoke",
              lazy("knowledge", "solution"), body=schemas.SOLUTION_SCHEMA, params={"pattern_id": RPC_ID}),
    # -- alerts and health -----------------------------------------------------------------------
    Operation("getAlerts", "alerts, newest first", "alerts", "read", alerts.list_alerts,
              args={"state": STATES, "severity": SEVERITIES, **listing(1000, 10000)}, paged=True,
              params=_paged({"state": {"type": ["string", "null"], "enum": [*alerts.STATES, "", None]},
                             "severity": {"type": ["string", "null"], "enum": [*alerts.SEVERITIES, "", None]}})),
    Operation("testNotification", "send a test notification on every configured channel", "alerts/test-notification",
              "invoke", alerts.test_notification, rpc=False),
    Operation("getAlert", "one alert", "alerts/{id}", "read", alerts.get_alert, args={"id": INT_ID}, params={"id": RPC_ID}),
    Operation("acknowledgeAlert", "acknowledge an alert", "alerts/acknowledge/{id}", "invoke", alerts.acknowledge,
              args={"id": INT_ID}, body=alerts.ACK_SCHEMA,
              params={"id": RPC_ID, "note": {"type": ["string", "null"], "maxLength": 2000}}),
    Operation("verifyFix", "mark an alert's action done and verify the fix: collect afresh, re-run its pattern's probes "
              "and its rule; {outcome: fixed|still_present|could_not_verify, reason, readings, verified_at, ttr_s, alert}",
              "alerts/verify/{id}", "invoke", alerts.verify_fix, args={"id": INT_ID}, body=alerts.VERIFY_SCHEMA,
              params={"id": RPC_ID, "pattern_id": {"type": ["string", "null"], "maxLength": 64},
                      "collect": {"type": "boolean"}}),
    Operation("getForecasts", "filesystem fill forecasts, each with its guards' verdict and reason", "alerts/forecasts",
              "read", alerts.forecasts),
    Operation("getAlertPolicy", "delivery policy per alert class and channel, snoozes, maintenance windows, queued digests",
              "alerts/policy", "read", alerts.policy, rpc=False),
    Operation("snoozeAlert", "silence one alert (alert_id, or rule + subject) or an alert class (rule) for for_s seconds",
              "alerts/snooze", "create", alerts.snooze, body=alerts.SNOOZE_SCHEMA, rpc=False),
    Operation("deleteSnooze", "end a snooze", "alerts/snooze/{id}", "delete", alerts.unsnooze, args={"id": INT_ID}, rpc=False),
    Operation("addMaintenanceWindow", "hold notifications (alerts are still recorded) from start (default now) for for_s",
              "alerts/maintenance", "create", alerts.maintenance, body=alerts.MAINTENANCE_SCHEMA, rpc=False),
    Operation("endMaintenanceWindow", "end a maintenance window now (a planned one is cancelled)", "alerts/maintenance/{id}",
              "delete", alerts.end_maintenance, args={"id": INT_ID}, rpc=False),
    Operation("getHealth", "health score 0..100 with deductions", "health", "read", alerts.health),
    Operation("getAttention", "what needs attention now, worst first: open alerts and unalerted warning/critical "
              "findings sorted by severity then time, each with its alert, pattern and a question for the assistant",
              "health/attention", "read", dashboard.attention,
              result={"type": "object", "required": ["ok", "count", "items"],
                      "properties": {"ok": {"type": "boolean"}, "count": {"type": "integer"},
                                     "snapshot": {"type": "object"},
                                     "items": {"type": "array", "items": {"type": "object"}},
                                     "unread": {"type": "array", "items": {"type": "object"}}}}),
    Operation("getHealthReport", "the daily health report rendered now (text, or HTML, or both as JSON)",
              "health/report", "read", alerts.health_report,
              args={"format": choice("text", "html", "json", default="text")}, documents=("text/plain", "text/html"),
              rpc=False),
    # -- before a change --------------------------------------------------------------------------
    Operation("getPendingChanges", "what OMV's Apply will do: dirty modules, the settings changed since the last Apply "
              "(in OMV's words, secrets never shown), salt states, services, generated files, hand edits it would "
              "overwrite, and OMV's own revert", "changes/pending", "read", lazy("changes", "pending_changes")),
    Operation("revertPendingChanges", "OMV's own revert (Config revertChanges) of the unapplied configuration changes, "
              "only with {confirm: true}; answers the pending change afterwards", "changes/pending/revert", "invoke",
              lazy("changes", "revert_changes"), body=schemas.REVERT_SCHEMA, params={"confirm": {"type": "boolean", "required": True}}),
    Operation("getUpgradePreflight", "apt's simulated dist-upgrade checked against this box: verdict go|wait|no-go, "
              "reasons (level, text, pattern_id), what it touches and a rollback plan", "changes/preflight", "read",
              lazy("changes", "preflight_check"), args={"release": choice("true", "false", default="false")},
              params={"release": {"type": "string", "enum": ["true", "false"]}}),
    # -- history ----------------------------------------------------------------------------------
    Operation("getHistory", "past issues - alerts with their outcome (kind=all adds assistant questions)",
              "history/issues", "read",
              lazy("history", "issues"), args={"kind": choice("alert", "question", "all", default="alert"),
                                    "state": STATES, "severity": SEVERITIES, **listing(200, 10000)},
              params=_paged(), paged=True),
    Operation("verifyIssue", "mark an issue's action done and verify the fix - an alert (its id) or an assistant answer "
              "(q<id>, as History lists it): the pattern's probes and findings on a fresh collection; same answer as "
              "verifyFix, with 'question' instead of 'alert' for an answer", "history/issues/verify/{id}", "invoke",
              lazy("history", "verify_issue"), args={"id": {"type": "string", "pattern": "^q?[0-9]{1,18}$"}},
              body=alerts.VERIFY_SCHEMA,
              params={"id": RPC_ID, "pattern_id": {"type": ["string", "null"], "maxLength": 64},
                      "collect": {"type": "boolean"}}),
    Operation("getSnapshots", "OMV configuration snapshots (daily and on change), newest first", "history/snapshots",
              "read", lazy("history", "snapshots"), args=listing(50, 10000), params=_paged(), paged=True),
    Operation("getSnapshotDiff", "configuration drift between two snapshots (default: the newest and the one before)",
              "history/snapshots/diff", "read", lazy("history", "snapshot_diff"),
              args={"from": {"type": "integer", "minimum": 1}, "to": {"type": "integer", "minimum": 1}},
              params={"from": {"type": ["integer", "null"], "minimum": 1}, "to": {"type": ["integer", "null"], "minimum": 1}}),
    Operation("getSnapshot", "one configuration snapshot with its data (OMV's configuration then)",
              "history/snapshots/{id}", "read", lazy("history", "snapshot"), args={"id": INT_ID}, params={"id": RPC_ID}),
    Operation("getNotes", "notes", "history/notes", "read", lazy("history", "notes"),
              args={**listing(200, 10000), "alert_id": {"type": "integer", "minimum": 1}}, params=_paged(), paged=True),
    Operation("addNote", "add a note", "history/notes", "create", lazy("history", "add_note"), body=schemas.NOTE_SCHEMA,
              aliases=("history/note",),
              params={"text": {"type": "string", "minLength": 1, "maxLength": 10000, "required": True},
                      "alert_id": {"type": ["string", "integer", "null"]}}),
    Operation("getTimeline", "one list, newest first, of alerts, notes, OMV configuration changes (with their diff), "
              "package updates (apt's history) and reboots: what changed before it broke", "history/timeline", "read",
              lazy("history", "timeline"),
              args={"since": {"type": "integer", "minimum": 60, "maximum": 366 * 86400, "default": 7 * 86400},
                    "until": {"type": "integer", "minimum": 1},
                    "kinds": {"type": "string", "maxLength": 100, "default": ""},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500}},
              params={"since": {"type": "integer", "minimum": 60, "maximum": 31622400},
                      "until": {"type": ["integer", "null"], "minimum": 1},
                      "kinds": {"type": ["string", "null"], "maxLength": 100},
                      "limit": {"type": "integer", "minimum": 1, "maximum": 5000}}),
    # -- the assistant ----------------------------------------------------------------------------
    Operation("query", "ask the assistant (async: answer at once with a job to poll)", "assist/query", "invoke",
              lazy("assist", "query"), body=schemas.QUERY_SCHEMA, rpc=False),
    Operation("startQuery", "ask the assistant as a job to poll (OMV's PHP must answer within 60 s)",
              "assist/jobs", "create", lazy("assist", "start_query"), body=schemas.QUERY_SCHEMA,
              params={"query": {"type": "string", "minLength": 1, "maxLength": 10000, "required": True},
                      "context": {"type": ["string", "null"], "maxLength": 50000}, "direct": {"type": "boolean"},
                      "conversation_id": {"type": ["string", "null"], "maxLength": 200},
                      "reply_to": {"type": ["string", "null"], "maxLength": 500}}),
    Operation("getQueryResult", "a question job's state and, when done, its answer", "assist/jobs/{job_id}", "read",
              lazy("assist", "job"), args={"job_id": ASSIST_ID}, params={"job_id": RPC_ID}),
    Operation("cancelQuery", "cancel a question job", "assist/jobs/{job_id}/cancel", "invoke", lazy("assist", "cancel"),
              args={"job_id": ASSIST_ID}, params={"job_id": RPC_ID}),
    Operation("getConversations", "conversations, newest first (q: only those whose title, questions or answers "
              "contain it)", "assist/conversations", "read", lazy("assist", "conversations"),
              args={**listing(50, 1000), "q": {"type": "string", "maxLength": 200}},
              params=_paged({"q": {"type": ["string", "null"], "maxLength": 200}}), paged=True),
    Operation("getConversation", "one conversation's turns (each with the admin's feedback: up|down|null)",
              "assist/conversations/{id}", "read", lazy("assist", "conversation"), args={"id": ASSIST_ID}, params={"id": RPC_ID}),
    Operation("renameConversation", "give a conversation a title", "assist/conversations/{id}", "update",
              lazy("assist", "rename_conversation"), args={"id": ASSIST_ID}, body=schemas.RENAME_SCHEMA,
              params={"id": RPC_ID, "title": {"type": "string", "minLength": 1, "maxLength": 200, "required": True}}),
    Operation("deleteConversation", "delete a conversation and its turns", "assist/conversations/{id}", "delete",
              lazy("assist", "delete_conversation"), args={"id": ASSIST_ID}, params={"id": RPC_ID}),
    Operation("getTraces", "the assistant's decision traces, newest first", "traces", "read", lazy("assist", "traces"),
              args=listing(50, 1000), params=_paged(), paged=True),
    Operation("getTrace", "one decision trace", "traces/{id}", "read", lazy("assist", "trace"), args={"id": ASSIST_ID},
              params={"id": RPC_ID}),
    Operation("getTraceText", "one decision trace as pretty JSON (OMV's detail page)", "traces/{id}/text", "read",
              lazy("assist", "trace_text"), args={"id": ASSIST_ID}, params={"id": RPC_ID}, result=TEXT),
    Operation("getTraceMermaid", "one decision trace as a Mermaid flowchart (text, or JSON)", "traces/{id}/mermaid",
              "read", lazy("assist", "mermaid"), args={"id": ASSIST_ID, "format": choice("text", "json", default="text")},
              documents=("text/plain",), rpc=False),
    # -- settings ---------------------------------------------------------------------------------
    Operation("getSettings", "editable settings (secrets write-only)", "settings", "read", lazy("settings", "get_settings")),
    Operation("setSettings", "change settings: a partial {section: {key: value}}, validated as a whole", "settings",
              "update", lazy("settings", "set_settings"), body=OBJECT),
    Operation("getSettingsForm", "the settings as one flat form (OMV's settings page)", "settings/form", "read",
              lazy("settings", "form")),
    Operation("setSettingsForm", "save the flat settings form; answers the form as saved", "settings/form", "update",
              lazy("settings", "set_form"), body=OBJECT),
    Operation("getProviders", "the ordered LLM providers (asked in this order; keys write-only: api_key_set)",
              "settings/providers", "read", lazy("providers", "list_providers"), args=listing(100, 1000), params=_paged(), paged=True),
    Operation("getProvider", "one LLM provider (its key write-only: api_key_set)", "settings/providers/{name}", "read",
              lazy("providers", "provider"), args={"name": PROVIDER_NAME}, params={"name": RPC_ID}),
    Operation("setProvider", "add an LLM provider (asked last) or change the one of that name; an empty key keeps the stored one",
              "settings/providers/{name}", "update", lazy("providers", "save_provider"), args={"name": PROVIDER_NAME},
              body=schemas.ENTRY_SCHEMA, params={"name": RPC_ID, **PROVIDER_FIELDS}),
    Operation("deleteProvider", "remove an LLM provider", "settings/providers/{name}", "delete", lazy("providers", "delete_provider"),
              args={"name": PROVIDER_NAME}, params={"name": RPC_ID}),
    Operation("moveProvider", "move an LLM provider in the order (offset -1: asked one earlier)", "settings/providers/{name}/move",
              "invoke", lazy("providers", "move_provider"), args={"name": PROVIDER_NAME}, body=schemas.MOVE_SCHEMA,
              params={"name": RPC_ID, "offset": {"type": "integer", "minimum": -100, "maximum": 100, "required": True}}),
    Operation("testProvider", "ask an LLM provider a one-line question: {latency_ms, reply, message}, or why it failed",
              "settings/providers/{name}/test", "invoke", lazy("providers", "test_provider"), args={"name": PROVIDER_NAME},
              params={"name": RPC_ID}),
)

BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}
if len(BY_NAME) != len(OPERATIONS):
    raise ValueError("operation names must be unique")
