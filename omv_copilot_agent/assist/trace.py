"""Decision traces: the nine points of an answer with their timings, and a Mermaid view."""

from __future__ import annotations

import re
import time
import uuid

POINTS = ("query_received", "context_selection", "system_data_collection", "pattern_matching", "prompt_assembly",
          "llm_request", "llm_response", "confidence_calculation", "response_assembly")


class Trace:
    def __init__(self, query: str):
        self.id = uuid.uuid4().hex
        self.created_at = time.time()
        self.query = query
        self.steps: list[dict] = []
        self.hops: list[dict] = []

    def step(self, point: str, started: float, inputs=None, outputs=None, error: str | None = None, skipped: bool = False):
        self.steps.append({"point": point, "started_at": round(started, 6),
                           "duration_ms": round((time.time() - started) * 1000, 3), "inputs": inputs, "outputs": outputs,
                           "error": error, "skipped": skipped})

    def to_dict(self, mode: str, provider: str | None) -> dict:
        return {"id": self.id, "created_at": self.created_at, "query": self.query, "mode": mode, "provider": provider,
                "steps": self.steps, "hops": self.hops}


def _label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9 _.,:/()=-]", " ", str(text))[:60]


def mermaid(trace: dict) -> str:
    """A ``flowchart TD`` of the path taken; each fallback hop is a node of its own."""
    lines = ["flowchart TD"]
    prev = None
    for i, step in enumerate(trace.get("steps", [])):
        node = f"S{i}"
        state = "skipped" if step.get("skipped") else ("error" if step.get("error") else f"{step.get('duration_ms', 0)} ms")
        lines.append(f'    {node}["{_label(step["point"])} ({_label(state)})"]')
        if prev:
            lines.append(f"    {prev} --> {node}")
        prev = node
        if step["point"] == "llm_request":
            for j, hop in enumerate(trace.get("hops", [])):
                hnode = f"H{j}"
                lines.append(f'    {hnode}{{"{_label(hop.get("provider"))}: {_label(hop.get("result"))}"}}')
                lines.append(f"    {prev} --> {hnode}")
                prev = hnode
    return "\n".join(lines) + "\n"
