"""Turn an LLM's text into the answer fields; fill gaps instead of failing (a partial answer beats none)."""

from __future__ import annotations

import json
import re

FIELDS = ("analysis", "possible_causes", "suggested_diagnostics", "recommended_actions", "explanation", "follow_up_questions")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def extract_json(text: str) -> dict | None:
    """The first JSON object in ``text``: whole, fenced, or followed by trailing prose."""
    candidates = [text.strip()] + [m.group(1).strip() for m in _FENCE.finditer(text)]
    decoder = json.JSONDecoder()
    for cand in candidates:
        start = cand.find("{")
        while start != -1:
            try:
                obj, _ = decoder.raw_decode(cand[start:])
                if isinstance(obj, dict):
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
