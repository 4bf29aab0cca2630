#!/usr/bin/python3
"""API load: requests/s and p50/p95/p99 latency per endpoint at 1, 8 and 32 concurrent clients.

One real daemon (default sources, collection every 60 s) on a loopback port;
clients are separate processes with keep-alive sessions, each level
bounded by ``BENCH_API_REQUESTS`` requests (default 600) and ``BENCH_API_S``
seconds (default 15). Client and server share the same cores, so the numbers
are a floor for what a separate client would see. Endpoints not served by this
build (e.g. ``/assist/query`` before the assistant lands) are listed as such.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import requests

from _common import ROOT, machine, percentile, start_daemon, stop, table

LEVELS = (1, 8, 32)
MAX_REQUESTS = int(os.environ.get("BENCH_API_REQUESTS", "600"))
MAX_SECONDS = float(os.environ.get("BENCH_API_S", "15"))
ENDPOINTS = [
    ("GET /system/status", "GET", "/api/v1/system/status", None),
    ("GET /healthz", "GET", "/healthz", None),
    ("GET /knowledge/search", "GET", "/api/v1/knowledge/search?q=raid+degraded+disk", None),
    ("POST /assist/query (KB only)", "POST", "/api/v1/assist/query", {"query": "my RAID is degraded, what now?", "mode": "kb_only"}),
    ("POST /assist/query (instant fake LLM)", "POST", "/api/v1/assist/query", {"query": "my RAID is degraded, what now?", "mode": "llm"}),
]


def _client(args) -> tuple[list[float], int]:
    """One client process: ``count`` sequential keep-alive requests until the deadline."""
    url, token, method, path, body, count, deadline = args
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    latencies, errors = [], 0
    for _ in range(count):
        if time.time() > deadline:
            break
        start = time.perf_counter()
        try:
            ok = session.request(method, url + path, json=body, timeout=30).status_code < 400
        except requests.RequestException:
            ok = False
        if ok:
            latencies.append((time.perf_counter() - start) * 1000)
        else:
            errors += 1
    return latencies, errors


def run_level(url: str, token: str, method: str, path: str, body, clients: int) -> tuple[int, int, float, list[float]]:
    """(ok, errors, elapsed s, latencies ms) for ``clients`` client processes sharing the request budget.

    Processes, not threads: with threads the clients' own GIL contention shows up as server latency.
    """
    import multiprocessing

    share = [MAX_REQUESTS // clients + (1 if i < MAX_REQUESTS % clients else 0) for i in range(clients)]
    deadline = time.time() + MAX_SECONDS
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        start = time.monotonic()
        results = pool.map(_client, [(url, token, method, path, body, n, deadline) for n in share])
        elapsed = time.monotonic() - start
    latencies = [lat for lats, _ in results for lat in lats]
    return len(latencies), sum(e for _, e in results), elapsed, latencies


def main() -> int:
    print(f"machine: {machine()}")
    print(f"each level: at most {MAX_REQUESTS} requests or {MAX_SECONDS:g} s\n", flush=True)
    rows, summary = [], {}
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as tmp:
        sys.path.insert(0, str(ROOT))
        from tests.fake_llm import FakeLLM  # the loopback fake LLM the tests use; answers at once

        fake = FakeLLM()
        proc, url, token, _ = start_daemon(Path(tmp), {"assist": {"providers": [fake.provider()]}})
        try:
            deadline = time.monotonic() + 60
            while requests.get(url + "/healthz", timeout=5).json().get("snapshot_age_s") is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("no snapshot within 60 s")
                time.sleep(0.2)
            for label, method, path, body in ENDPOINTS:
                probe = requests.request(method, url + path, json=body, timeout=60,
                                         headers={"Authorization": f"Bearer {token}"})
                if probe.status_code == 404:
                    rows.append([label, "-", "not served in this build", "", "", "", ""])
                    continue
                if probe.status_code >= 400:
                    rows.append([label, "-", f"answers {probe.status_code}: {probe.text[:60]}", "", "", "", ""])
                    log = (Path(tmp) / "daemon.log").read_text(errors="replace")
                    if probe.status_code >= 500 and "Traceback" in log:
                        print(f"  {label}: {probe.status_code}; the daemon logged:\n" + log[log.rfind("Traceback"):][:3000])
                    continue
                for clients in LEVELS:
                    ok, errors, elapsed, lat = run_level(url, token, method, path, body, clients)
                    p50, p95, p99 = (percentile(lat, q) for q in (50, 95, 99))
                    summary[(label, clients)] = (p50, p99)
                    rows.append([label, clients, f"{ok / elapsed:.0f}", f"{p50:.1f}", f"{p95:.1f}", f"{p99:.1f}", errors])
                    print(f"  {label} x{clients}: {ok} ok in {elapsed:.1f} s", flush=True)
        finally:
            stop(proc)
            fake.close()
    print()
    print(table(["endpoint", "clients", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"], rows))
    status = summary.get(("GET /system/status", 8))
    if status:
        print(f"\ntarget: /system/status p99 <= 25 ms at 8 clients: {'met' if status[1] <= 25 else 'NOT met'} ({status[1]:.1f} ms)")
    assist = summary.get(("POST /assist/query (KB only)", 1))
    print("target: KB-only assist p50 <= 50 ms: " + (f"{'met' if assist[0] <= 50 else 'NOT met'} ({assist[0]:.1f} ms)"
                                                     if assist else "not measured (endpoint not served)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
