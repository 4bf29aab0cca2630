"""Slow local clients against a real daemon: N connections each sending one header line every
10 s, never a full request (slowloris). Measures /healthz over TCP and the CLI's API calls over
the Unix socket while they hold on. Result table for docs/security.md.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import machine, start_daemon, stop

from tests.slow_clients import hold_slow_connections, probe

CLIENTS = 150
DURATION_S = 30


def main() -> int:
    import requests

    from omv_copilot_agent.cli.client import UnixClient

    with tempfile.TemporaryDirectory() as tmp:
        proc, url, token, _ = start_daemon(Path(tmp), {"collect": {"interval_s": 3600, "disabled_sources": [
            "smart", "apt", "omv", "logs", "services", "network", "storage"]}})
        try:
            port = int(url.rsplit(":", 1)[1])
            stop_event = threading.Event()
            stats = hold_slow_connections("127.0.0.1", port, CLIENTS, 10, stop_event)
            unix = UnixClient(str(Path(tmp) / "data" / "api.sock"), token, timeout=3)
            results = {}

            def cli():
                results["cli (Unix socket)"] = probe(lambda: unix.get("/healthz") is not None, DURATION_S)

            thread = threading.Thread(target=cli)
            thread.start()
            results["/healthz (TCP)"] = probe(lambda: requests.get(url + "/healthz", timeout=3).status_code == 200, DURATION_S)
            thread.join()
            time.sleep(1)
            stop_event.set()
        finally:
            stop(proc)
    print(f"{machine()}\n{CLIENTS} slow clients (a header line every 10 s) for {DURATION_S} s: {stats}\n")
    print("| path | answered | p50 ms | max ms |\n|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['answered']}/{r['total']} | {r['p50_ms']} | {r['max_ms']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
