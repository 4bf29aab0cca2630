"""Turn an LLM's text into the answer fields; fill gaps instead of failing (a partial answer beats none)."""

from __future__ import annotations

import json
import re

FIELDS = ("analysis", "possible_causes", "suggested_diagnostics", "recommended_actions", "explanation", "follow_up_questions")
_TEXT = {"type": "string", "maxLength": 200}
_PROSE = {"type": "string", "maxLength": 800}
_RISK = {"type": "string", "enum": ["low", "medium", "high"]}


def _rows(props: dict) -> dict:
    return {"type": "array", "maxItems": 3,
            "items": {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}}


#: The answer's shape, for servers that constrain their output to a JSON schema (llama.cpp,
#: Ollama, OpenAI). Lists and strings are capped so a small model cannot repeat itself until
#: max_tokens cuts the JSON in half.
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "analysis": _PROSE,
        "possible_causes": _rows({"cause": _TEXT, "likelihood": _RISK}),
        "suggested_diagnostics": _rows({"name": _TEXT, "command": _TEXT, "purpose": _TEXT,
                                        "pattern_id": {"type": ["string", "null"]}}),
        "recommended_actions": _rows({"action": _TEXT, "command": _TEXT, "risk": _RISK, "explanation": _TEXT}),
        "explanation": _PROSE,
        "follow_up_questions": {"type": "array", "maxItems": 3, "items": _TEXT},
    },
    "required": list(FIELDS),
    "additionalProperties": False,
}
#: Answer fields that no row inside an answer has (an action has an "explanation" too).
_TOP_ONLY = tuple(f for f in FIELDS if f != "explanation")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def extract_json(text: str) -> dict | None:
    """The first JSON object in ``text`` that holds a top-level answer field: whole, fenced, or followed by
    trailing prose. (An object nested in a reply cut at max_tokens, e.g. one of its causes, is not
    the answer.)"""
    candidates = [text.strip()] + [m.group(1).strip() for m in _FENCE.finditer(text)]
    decoder = json.JSONDecoder()
    for cand in candidates:
        start = cand.find("{")
        while start != -1:
            try:
                obj, _ = decoder.raw_decode(cand[start:])
                if isinstance(obj, dict) and any(key in obj for key in _TOP_ONLY):
                    return obj
            except ValueError:
                pass
            start = cand.find("{", start + 1)
    return None


def _list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def normalize(obj: dict | None, raw: str) -> tuple[dict, list[str]]:
    """(answer fields, problems). With nothing parsed the raw text becomes the analysis."""
    problems: list[str] = []
    if obj is None:
        return ({"analysis": raw.strip(), "possible_causes": [], "suggested_diagnostics": [], "recommended_actions": [],
                 "explanation": "", "follow_up_questions": []}, ["reply was not JSON; shown as text"])
    out: dict = {}
    out["analysis"] = str(obj.get("analysis") or "")
    if not out["analysis"]:
        problems.append("analysis missing")
    out["explanation"] = str(obj.get("explanation") or "")
    causes = []
    for c in _list(obj.get("possible_causes")):
        causes.append({"cause": str(c.get("cause", "")), "likelihood": c.get("likelihood", "unknown")} if isinstance(c, dict)
                      else {"cause": str(c), "likelihood": "unknown"})
    out["possible_causes"] = causes
    diags = []
    for d in _list(obj.get("suggested_diagnostics")):
        diags.append({"name": str(d.get("name", "")), "command": str(d.get("command", "")), "purpose": str(d.get("purpose", "")),
                      "pattern_id": d.get("pattern_id")} if isinstance(d, dict)
                     else {"name": str(d), "command": "", "purpose": "", "pattern_id": None})
    out["suggested_diagnostics"] = diags
    actions = []
    for a in _list(obj.get("recommended_actions")):
        actions.append({"action": str(a.get("action", "")), "command": str(a.get("command", "") or ""),
                        "risk": str(a.get("risk", "unknown")), "explanation": str(a.get("explanation", ""))} if isinstance(a, dict)
                       else {"action": str(a), "command": "", "risk": "unknown", "explanation": ""})
    out["recommended_actions"] = actions
    out["follow_up_questions"] = [str(q) for q in _list(obj.get("follow_up_questions"))]
    return out, problems


def confidence(scores: list[float]) -> float:
    """Seed rule: 0.5 + mean(pattern scores), +0.1 if the top score > 0.7, capped at 0.98."""
    value = 0.5
    if scores:
        value += sum(scores) / len(scores)
        if max(scores) > 0.7:
            value += 0.1
    return round(min(value, 0.98), 4)


def confidence_label(value: float) -> str:
    return "high" if value >= 0.8 else "medium" if value >= 0.6 else "low"
