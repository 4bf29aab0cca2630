"""Slow local clients (slowloris): many connections that each send one header line every few
seconds and never finish their request. Used by tests/integration/test_slow_clients.py and bench/slow_clients.py.
"""

from __future__ import annotations

import socket
import threading
import time


def hold_slow_connections(host: str, port: int, count: int, every_s: float, stop: threading.Event) -> dict:
    """Open ``count`` connections, then send a header line on each every ``every_s`` until ``stop``.

    Returns counters filled in as it runs: opened, refused, closed_by_server.
    """
    stats = {"opened": 0, "refused": 0, "closed_by_server": 0}
    socks = []
    for _ in range(count):
        try:
            s = socket.create_connection((host, port), timeout=2)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            socks.append(s)
            stats["opened"] += 1
        except OSError:
            stats["refused"] += 1

    def closed(s) -> bool:
        try:
            return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""  # EOF: the server hung up
        except BlockingIOError:
            return False
        except OSError:
            return True

    def run():
        n, next_line = 0, time.monotonic() + every_s
        while not stop.wait(0.5):
            send = time.monotonic() >= next_line
            if send:
                n, next_line = n + 1, next_line + every_s
            for s in list(socks):
                try:
                    if closed(s):
                        raise ConnectionResetError
                    if send:
                        s.sendall(f"X-Slow-{n}: x\r\n".encode())
                except OSError:
                    socks.remove(s)
                    s.close()
                    stats["closed_by_server"] += 1
        for s in socks:
            s.close()

    threading.Thread(target=run, daemon=True).start()
    return stats


def probe(get, duration_s: float, every_s: float = 0.5) -> dict:
    """Call ``get()`` (True when answered) every ``every_s`` for ``duration_s``: answered/total and latencies."""
    latencies, failed = [], 0
    end = time.monotonic() + duration_s
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            ok = get()
        except Exception:
            ok = False
        if ok:
            latencies.append(time.monotonic() - started)
        else:
            failed += 1
        time.sleep(max(0.0, every_s - (time.monotonic() - started)))
    latencies.sort()
    return {"answered": len(latencies), "total": len(latencies) + failed,
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
            "max_ms": round(latencies[-1] * 1000, 1) if latencies else None}
