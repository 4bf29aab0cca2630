"""Prompt assembly from jinja2 templates in the top-level ``prompts/`` directory.

System state is cut to a budget by dropping whole sections, least relevant to the
chosen context first, so the JSON sent is always valid (never cut in half).
"""

from __future__ import annotations

import json
from functools import lru_cache

from omv_copilot_agent import paths

#: Template search path: the source tree's prompts/ when this code runs from a checkout (so a
#: package installed on the same machine never shadows the code under test), then the installed
#: copy (/usr/share/omv-copilot/prompts, debian/rules). Looked up per template, not at import.
PROMPTS_DIRS = [str(paths.REPO / "prompts"), str(paths.INSTALLED / "prompts")]

#: Sources in order of relevance per context (first = keep longest).
RELEVANCE = {
    "storage": ("storage", "smart", "system", "logs", "services", "omv", "network", "apt"),
    "network": ("network", "services", "system", "logs", "omv", "storage", "smart", "apt"),
    "service": ("services", "logs", "omv", "network", "system", "storage", "smart", "apt"),
    "performance": ("system", "storage", "services", "logs", "network", "smart", "omv", "apt"),
    "security": ("omv", "services", "logs", "network", "system", "apt", "storage", "smart"),
    "general": ("system", "storage", "services", "smart", "network", "logs", "omv", "apt"),
}


@lru_cache(maxsize=1)
def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(PROMPTS_DIRS), autoescape=False,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def state_sections(snapshot) -> dict:
    if snapshot is None:
        return {}
    out = {}
    for name, result in snapshot.sources.items():
        out[name] = {"status": result.status, "data": result.data} if getattr(result, "status", "ok") != "ok" else result.data
    return out


def budget_state(sections: dict, context: str, budget: int) -> tuple[str, list[str], list[str]]:
    """(json text ≤ budget, kept, dropped): drop least relevant whole sections until it fits."""
    order = list(RELEVANCE.get(context, RELEVANCE["general"]))
    order += [s for s in sections if s not in order]
    kept = [s for s in order if s in sections]
    dropped: list[str] = []
    while kept:
        text = json.dumps({k: sections[k] for k in kept}, separators=(",", ":"), default=str, sort_keys=True)
        if len(text) <= budget:
            return text, kept, dropped
        dropped.append(kept.pop())
    return "", [], dropped


def build(context: str, query: str, sections: dict, patterns: list[dict], diagnostics: list[dict], budget: int) -> dict:
    """{system, user, state_sections, dropped}."""
    state, kept, dropped = budget_state(sections, context, budget) if sections else ("", [], [])
    env = _env()
    system = env.get_template(f"{context}.j2").render()
    user = env.get_template("frame.j2").render(state=state, state_sections=kept, dropped=dropped, patterns=patterns,
                                               diagnostics=diagnostics, query=query)
    return {"system": system.strip(), "user": user.strip(), "state_sections": kept, "dropped": dropped}


def direct(query: str) -> dict:
    return {"system": "You are a helpful assistant for OpenMediaVault administrators. Answer plainly.", "user": query,
            "state_sections": [], "dropped": []}
