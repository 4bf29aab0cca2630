"""Assist benchmarks: KB-only latency, prompt build cost and size, pipeline overhead around an instant LLM.

Run: ``/usr/bin/python3 bench/assist.py`` (or ``make bench``). Uses the assist test
fixture snapshot, a throw-away data dir and the loopback fake LLM from tests/.
Prints tables; numbers go to docs/benchmarks.md "## assist".
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = ["my raid array is degraded", "smb share is very slow when copying large files", "disk is full",
             "cannot ssh into the nas", "permission denied on a shared folder", "web ui is sluggish and cpu is high",
             "nfs mount hangs on the client", "what does this smart reallocated sector count mean"]


def stats(samples_ms: list[float]) -> list[str]:
    s = sorted(samples_ms)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return [str(len(s)), f"{statistics.median(s):.2f}", f"{p95:.2f}", f"{max(s):.2f}"]


def table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def make_agent(providers=()):
    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.collect import Collector, Snapshot
    from omv_copilot_agent.daemon.agent import Agent

    data = tempfile.mkdtemp(prefix="bench-assist-")
    cfg = config_mod.from_dict({"data_dir": data, "api": {"token_file": data + "/token"},
                                "assist": {"providers": list(providers)}})
    agent = Agent(cfg, collector=Collector(cfg, sources=("system",)))
    agent.snapshot = Snapshot.from_dict(json.loads((ROOT / "tests/fixtures/assist/snapshot.json").read_text()))
    return agent


def main() -> int:
    from omv_copilot_agent.assist import prompt, redact

    agent = make_agent()
    rounds = 25
    for q in QUESTIONS:  # warm-up (template cache, SQLite)
        agent.assist.ask(q)
    kb = []
    for _ in range(rounds):
        for q in QUESTIONS:
            t = time.perf_counter()
            agent.assist.ask(q)
            kb.append((time.perf_counter() - t) * 1000)

    from omv_copilot_agent.api import create_app
    from omv_copilot_agent.daemon import build_server
    import threading

    import requests

    app = create_app(agent, "bench-token-" + "x" * 20)
    server = build_server(app, "127.0.0.1", 0, 4)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}/api/v1/assist/query"
    session = requests.Session()
    session.headers["Authorization"] = "Bearer bench-token-" + "x" * 20
    http = []
    for i in range(rounds * 4):
        t = time.perf_counter()
        r = session.post(url, json={"query": QUESTIONS[i % len(QUESTIONS)]}, timeout=30)
        http.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
    # the waitress thread is a daemon: closing it under a running loop only prints a select() error

    sections = prompt.state_sections(agent.snapshot)
    matches = [m.to_dict() for m in agent.knowledge.search(QUESTIONS[0], agent.snapshot, limit=5)]
    build, red, sizes = [], [], None
    for _ in range(300):
        t = time.perf_counter()
        r = redact.Redactor()
        redacted = r.redact_data(sections)
        red_data = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        built = prompt.build("storage", QUESTIONS[0], prompt.budget_state(redacted, "storage", 5000), matches, [])
        build.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        system, user = r.redact(built["system"]), r.redact(built["user"])
        red.append(red_data + (time.perf_counter() - t) * 1000)
        sizes = (len(system), len(user), (len(system) + len(user) + 3) // 4, ",".join(built["dropped"]) or "-")

    from tests.fake_llm import FakeLLM

    fake = FakeLLM()
    llm_agent = make_agent([fake.provider("instant")])
    total, overhead = [], []
    for q in QUESTIONS:
        llm_agent.assist.ask(q)
    for _ in range(rounds):
        for q in QUESTIONS:
            t = time.perf_counter()
            a = llm_agent.assist.ask(q)
            wall = (time.perf_counter() - t) * 1000
            hops = llm_agent.store.get_trace(a["trace_id"])["hops"]
            total.append(wall)
            overhead.append(wall - sum(h["duration_ms"] for h in hops))
    fake.close()

    head = ["what", "n", "median ms", "p95 ms", "max ms"]
    table(f"assist latency (fixture snapshot, {len(agent.knowledge.patterns)} patterns, SQLite in tmp)", head, [
        ["KB-only answer, in-process (engine.ask)", *stats(kb)],
        ["KB-only answer over HTTP (POST /assist/query)", *stats(http)],
        ["prompt build (jinja2 + 5,000-char state budget)", *stats(build)],
        ["redaction (state as data, then the built prompt)", *stats(red)],
        ["LLM answer, fake LLM answering instantly: wall", *stats(total)],
        ["  of which assist overhead (wall - LLM hop time)", *stats(overhead)],
    ])
    table("prompt size (storage question, fixture snapshot)", ["system chars", "user chars", "est. tokens", "dropped sections"],
          [[str(sizes[0]), str(sizes[1]), str(sizes[2]), sizes[3]]])
    agent.close()
    llm_agent.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
