"""Knowledge-base-only answers: composed from matched patterns and state signals, no LLM.

Used when no provider is configured (the default), when every provider failed, or
when the caller asks for ``kb_only``. The answer has the same fields as an LLM
answer so every client renders it the same way; ``mode`` says where it came from.
"""

from __future__ import annotations

#: Generic next questions per specialist context when no pattern matched.
FOLLOW_UPS = {
    "storage": ["Which disk or filesystem is affected (device or mount point)?",
                "Did anything change recently (new disk, power loss, OMV update)?"],
    "network": ["Can the NAS be reached by IP address but not by name?",
                "Is only one client affected, or all of them?"],
    "service": ["Which service and which client show the problem?",
                "What exact error message does the client show?"],
    "performance": ["Is it slow all the time or only during transfers or backups?",
                    "How fast is it compared to what you expect (MB/s)?"],
    "security": ["Which user or share is affected?", "What exact 'denied' or login message do you see?"],
    "general": ["What did you expect to happen, and what happened instead?",
                "When did it start, and what changed around then?"],
}


def likelihood(score: float) -> str:
    return "high" if score >= 0.7 else "medium" if score >= 0.4 else "low"


def compose(query: str, context: str, matches: list[dict], signals: list[dict], reason: str) -> dict:
    """Answer fields from ``matches`` (Match.to_dict(with_pattern=True)) and state ``signals``."""
    causes, diags, actions, seen_diag = [], [], [], set()
    for m in matches:
        pattern = m.get("pattern") or {}
        causes.append({"cause": m["title"], "likelihood": likelihood(m["score"])})
        for d in pattern.get("diagnostics") or []:
            key = d.get("command")
            if key in seen_diag:
                continue
            seen_diag.add(key)
            diags.append({"name": d.get("name", ""), "command": d.get("command", ""),
                          "purpose": f"check for: {m['title']}", "pattern_id": m["pattern_id"]})
        for s in sorted(pattern.get("solutions") or [], key=lambda s: s.get("priority", 99))[:2]:
            actions.append({"action": s.get("action", ""), "command": s.get("command") or "",
                            "risk": str(s.get("risk", "unknown")), "explanation": s.get("explanation", "")})
    lines = [f"Knowledge-base answer ({reason})."]
    if matches:
        top = matches[0]
        lines.append(f"Best match: {top['title']} (score {top['score']:.2f}, pattern {top['pattern_id']}).")
        if len(matches) > 1:
            lines.append("Also possible: " + "; ".join(m["title"] for m in matches[1:]) + ".")
    else:
        lines.append("No known pattern matches this question; try naming the service, disk or error message.")
    active = [s for s in signals if s["pattern_id"] not in {m["pattern_id"] for m in matches}]
    if active:
        lines.append("The box currently shows: " + "; ".join(s["title"] for s in active[:3]) + ".")
    explanation = ""
    if matches:
        symptoms = (matches[0].get("pattern") or {}).get("symptoms") or []
        if symptoms:
            explanation = "Typical symptoms of the best match: " + "; ".join(symptoms[:3]) + "."
    return {"analysis": " ".join(lines), "possible_causes": causes, "suggested_diagnostics": diags[:8],
            "recommended_actions": actions[:6], "explanation": explanation,
            "follow_up_questions": list(FOLLOW_UPS.get(context, FOLLOW_UPS["general"]))}
