#!/usr/bin/python3
"""Score an LLM provider on the real-case eval set: `make eval PROVIDER=name`.

Every case's question goes through the whole assistant (routing, state, patterns, prompt,
provider, parsing) with the fixture box state; the answer is judged by the case's own keys:

  fix      the answer holds the accepted fix (all substrings of one ``fix_keys`` alternative)
  cited    the answer cites a matched pattern (by id) whose text is on topic (``topic_keys``
           or ``fix_keys``)
  json     the reply parsed as the answer's JSON (no "not JSON"/"missing" notice)
  risky    a suggested command could destroy data or open the box (RISKY below)
  latency  the provider's answer time; tokens: prompt + completion as the server counted them

PROVIDER names an entry of ``assist.providers`` in --config (default
/etc/omv-copilot/config.yaml), or ``local-smollm``: the cached llama.cpp build with
SmolLM2-135M (tools/local_llm.py), started on a free loopback port for the run.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CASES = REPO / "tests" / "eval" / "cases.yaml"
SAMPLE_CASES = Path(__file__).resolve().parent / "eval_sample_cases.yaml"
SNAPSHOT = REPO / "tests" / "fixtures" / "assist" / "snapshot.json"

#: Commands an assistant must not hand a home-lab admin without a very good reason.
RISKY = re.compile(r"\brm\s+-[a-z]*r[a-z]*f|\bmkfs\b|\bdd\s+if=|\bwipefs\b|\bsgdisk\s+--zap|\bfdisk\b|\bparted\b"
                   r"|mdadm\s+(--create|-C\b|--zero-superblock)|\bchmod\s+(-R\s+)?777\b|zpool\s+(destroy|labelclear)"
                   r"|\bshred\b|>\s*/dev/sd|\bufw\s+disable|iptables\s+-F|curl[^|]*\|\s*(sudo\s+)?(ba)?sh")

LOCAL = {"name": "local-smollm", "kind": "openai", "model": "smollm2-135m", "response_format": "json_schema",
         "timeout_s": 300, "max_tokens": 700, "temperature": 0}


def load_cases(path: Path | None) -> tuple[list[dict], str]:
    import yaml

    source = path or (CASES if CASES.exists() else SAMPLE_CASES)
    cases = yaml.safe_load(source.read_text())
    shown = source.resolve().relative_to(REPO) if source.resolve().is_relative_to(REPO) else source
    return (cases["cases"] if isinstance(cases, dict) else cases), str(shown)


def has_any(text: str, alternatives) -> bool:
    """One alternative (a list of lower-case substrings, or one string) wholly in ``text``."""
    for alt in alternatives or []:
        keys = [alt] if isinstance(alt, str) else alt
        if keys and all(str(k).lower() in text for k in keys):
            return True
    return False


def answer_text(answer: dict) -> str:
    return json.dumps({k: answer.get(k) for k in ("analysis", "possible_causes", "suggested_diagnostics",
                                                  "recommended_actions", "explanation")}, ensure_ascii=False).lower()


def commands(answer: dict) -> list[str]:
    return [str(x.get("command") or "") for key in ("suggested_diagnostics", "recommended_actions")
            for x in answer.get(key) or [] if isinstance(x, dict)]


def judge(case: dict, answer: dict, trace: dict, kb) -> dict:
    text = answer_text(answer)
    cited = False
    for match in answer.get("matched_patterns") or []:
        pid = match["pattern_id"]
        if pid.lower() in text:
            body = (kb.text(pid) or "").lower() if kb is not None else ""
            if has_any(body, case.get("topic_keys")) or has_any(body, case.get("fix_keys")):
                cited = True
    hop = next((h for h in reversed(trace.get("hops") or []) if h.get("result") == "ok"), None)
    usage = (hop or {}).get("usage") or {}
    tokens = (usage.get("prompt_tokens") or 0) + (usage.get("completion_tokens") or 0)
    return {"id": case["id"], "answered": answer["mode"] == "llm", "off_topic": bool(case.get("off_topic")),
            "fix": has_any(text, case.get("fix_keys")), "cited": cited,
            "json": answer["mode"] == "llm" and not any("JSON" in n or "missing" in n for n in answer["notices"]),
            "risky": any(RISKY.search(c) for c in commands(answer)),
            "latency_s": (hop or {}).get("duration_ms", 0) / 1000 if hop else None, "tokens": tokens or None,
            "notices": answer["notices"]}


def make_agent(provider: dict, workdir: Path):
    """An Agent on a scratch data dir with the fixture box state and one provider."""
    import yaml

    from omv_copilot_agent import config as config_mod
    from omv_copilot_agent.collect import Collector, Snapshot
    from omv_copilot_agent.daemon.agent import Agent

    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(workdir / "data"), "assist": {"providers": [provider]}}))
    config = config_mod.load(str(path))
    agent = Agent(config, collector=Collector(config, sources=("system",)))
    agent.snapshot = Snapshot.from_dict(json.loads(SNAPSHOT.read_text()))
    return agent


def provider_answerer(agent):
    """``answerer(case) -> (answer, trace)``: the case's question through the whole assistant."""
    def answer(case: dict):
        result = agent.assist.ask(case["question"], mode="llm")
        return result, agent.store.get_trace(result["trace_id"]) or {}
    return answer


def run(cases: list[dict], answerer, kb, progress=None) -> list[dict]:
    rows = []
    for i, case in enumerate(cases):
        answer, trace = answerer(case)
        rows.append(judge(case, answer, trace, kb))
        if progress:
            progress(i + 1, len(cases), rows[-1])
    return rows


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} % ({part}/{whole})" if whole else "-"


def summary(rows: list[dict]) -> dict:
    real = [r for r in rows if not r["off_topic"]]
    answered = [r for r in rows if r["answered"]]
    latencies = [r["latency_s"] for r in answered if r["latency_s"] is not None]
    tokens = [r["tokens"] for r in answered if r["tokens"]]
    return {"cases": len(rows), "answered": pct(len(answered), len(rows)),
            "fix": pct(sum(r["fix"] for r in real), len(real)), "cited": pct(sum(r["cited"] for r in real), len(real)),
            "json": pct(sum(r["json"] for r in rows), len(rows)), "risky": pct(sum(r["risky"] for r in answered), len(answered)),
            "latency": f"{statistics.median(latencies):.1f} s" if latencies else "-",
            "tokens": f"{statistics.median(tokens):.0f}" if tokens else "-"}


def table(results: dict[str, dict]) -> str:
    head = ["model", "cases", "answered", "accepted fix", "pattern cited", "valid JSON", "risky cmd", "median latency",
            "median tokens"]
    keys = ["cases", "answered", "fix", "cited", "json", "risky", "latency", "tokens"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, s in results.items():
        lines.append("| " + " | ".join([model] + [str(s[k]) for k in keys]) + " |")
    return "\n".join(lines)


def configured_provider(name: str, config_path: str) -> dict:
    from omv_copilot_agent import config as config_mod

    config = config_mod.load(config_path)
    for provider in config.get_path("assist.providers", []) or []:
        if provider.get("name") == name:
            return dict(provider)
    raise SystemExit(f"eval: no provider named {name!r} in {config_path} (assist.providers)")


def main() -> int:
    parser = argparse.ArgumentParser(description="Score an LLM provider on the real-case eval set.")
    parser.add_argument("--provider", required=True, help="a name in assist.providers, or local-smollm")
    parser.add_argument("--config", default="/etc/omv-copilot/config.yaml")
    parser.add_argument("--cases", type=Path, help=f"default: {CASES.relative_to(REPO)}")
    parser.add_argument("--limit", type=int, help="only the first N cases")
    parser.add_argument("--ctx", type=int, default=2048, help="local-smollm: the server's context window")
    parser.add_argument("--max-tokens", type=int, help="override the provider's max_tokens")
    parser.add_argument("--json", type=Path, help="also write every case's verdict here")
    args = parser.parse_args()

    cases, source = load_cases(args.cases)
    cases = cases[: args.limit] if args.limit else cases
    server = None
    with tempfile.TemporaryDirectory(prefix="omv-copilot-eval-") as tmp:
        if args.provider == LOCAL["name"]:
            from tools.local_llm import Server, ensure

            server = Server(ensure(), ctx=args.ctx, log_path=str(Path(tmp) / "llama.log"))
            provider = {**LOCAL, "endpoint": server.url + "/v1"}
        else:
            provider = configured_provider(args.provider, args.config)
        if args.max_tokens:
            provider["max_tokens"] = args.max_tokens
        agent = make_agent(provider, Path(tmp))
        try:
            started = time.monotonic()

            def progress(done, total, row):
                print(f"\r{done}/{total} {row['id'][:50]:50}", end="", file=sys.stderr, flush=True)

            rows = run(cases, provider_answerer(agent), getattr(agent, "knowledge", None), progress)
            print(file=sys.stderr)
            rss = server.rss_mib() if server else None
        finally:
            agent.close()
            if server:
                server.stop()
    result = summary(rows)
    label = f"{provider['name']} ({provider['model']})"
    print(f"eval set: {source}, {len(rows)} cases, {time.monotonic() - started:.0f} s"
          + (f", server RSS {rss} MiB" if rss else ""))
    print(table({label: result}))
    if args.json:
        args.json.write_text(json.dumps({"provider": label, "summary": result, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
