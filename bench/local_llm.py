"""What an answer costs on a local model: llama.cpp's server with SmolLM2-135M (tools/local_llm.py).

Prints prompt and generation speed (tokens per second, from the server's own timings) and the
server's resident memory, for a free-text and a JSON-schema-held answer to a short question and
one with a box's state (the size the assistant sends), at two context sizes.
Needs the cached build (`make local-llm`); prints why not otherwise.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from omv_copilot_agent.assist.parse import ANSWER_SCHEMA  # noqa: E402
from tools.local_llm import Server, ready_info  # noqa: E402

QUESTION = "My RAID 1 array md0 is degraded after a disk failed. What should I check first?"
#: A prompt the size the assistant sends with a box's state (about 1,400 tokens).
STATE = (Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "assist" / "snapshot.json").read_text()[:4000]
ROUNDS = 3


def main() -> int:
    info = ready_info()
    if not info:
        print("no local llama.cpp build (run `make local-llm`)")
        return 0
    print("| ctx | output | prompt tok | prompt tok/s | gen tok | gen tok/s | RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for ctx in (2048, 4096):
        server = Server(info, ctx=ctx)
        try:
            schema = {"type": "json_schema", "json_schema": {"name": "a", "schema": ANSWER_SCHEMA}}
            for label, fmt, question in (("text", None, QUESTION), ("json_schema", schema, QUESTION),
                                         ("json_schema + state", schema, STATE + "\n\n" + QUESTION)):
                runs = []
                for _ in range(ROUNDS):
                    body = {"model": "m", "max_tokens": 200, "temperature": 0, "cache_prompt": False,
                            "messages": [{"role": "system", "content": "You help OpenMediaVault admins."},
                                         {"role": "user", "content": question}]}
                    if fmt:
                        body["response_format"] = fmt
                    runs.append(requests.post(server.url + "/v1/chat/completions", json=body, timeout=600).json()["timings"])
                print(f"| {ctx} | {label} | {runs[0]['prompt_n']} | "
                      f"{statistics.median(r['prompt_per_second'] for r in runs):.0f} | {runs[0]['predicted_n']} | "
                      f"{statistics.median(r['predicted_per_second'] for r in runs):.1f} | {server.rss_mib()} |")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
