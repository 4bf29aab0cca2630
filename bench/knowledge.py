#!/usr/bin/python3
"""Knowledge-base benchmark: pattern load time, match latency (p50/p95/p99), ranking accuracy.

Runs over the shipped patterns and over the shipped ones plus 1,000 synthetic patterns
(deterministic: built from the real vocabulary with a fixed seed), using the realistic
queries of tests/knowledge_queries.py. Prints tables; asserts nothing (timings vary by box).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import yaml  # noqa: E402

from knowledge_queries import QUERIES  # noqa: E402
from omv_copilot_agent.cli.output import table  # noqa: E402
from omv_copilot_agent.knowledge import KnowledgeBase  # noqa: E402

import os  # noqa: E402

#: Overridable so the test suite can smoke-run the script quickly (tests/integration/test_knowledge_ranking.py).
REPEAT = int(os.environ.get("KNOWLEDGE_BENCH_REPEAT", 20))
SYNTHETIC = int(os.environ.get("KNOWLEDGE_BENCH_SYNTHETIC", 1000))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def synthetic_patterns(real: dict[str, dict], n: int, directory: Path) -> None:
    """n plausible patterns: titles/symptoms/triggers re-mixed from the real ones' words."""
    rng = random.Random(42)
    words = sorted({w for p in real.values() for text in [p["title"], *p["symptoms"], *p.get("triggers", [])]
                    for w in text.lower().split() if w.isalpha() and len(w) > 3})
    template = next(iter(real.values()))
    categories = ["storage", "network", "services", "performance", "security", "hardware", "backup"]
    for i in range(n):
        def phrase(k):
            return " ".join(rng.sample(words, k))
        data = {"pattern_id": f"synthetic-{i:04d}", "title": phrase(6).capitalize(), "category": rng.choice(categories),
                "symptoms": [phrase(7) for _ in range(3)], "triggers": [phrase(2) for _ in range(4)],
                "keywords": [phrase(1) for _ in range(3)], "diagnostics": template["diagnostics"],
                "solutions": template["solutions"], "references": template["references"], "confidence": 0.5}
        (directory / f"synthetic--{i:04d}.yaml").write_text(yaml.safe_dump(data))


def measure(patterns_dir: Path) -> dict:
    start = time.perf_counter()
    kb = KnowledgeBase(patterns_dir)
    load_s = time.perf_counter() - start
    latencies, top1, top3 = [], 0, 0
    for query, expected in QUERIES:
        ids = [m.pattern_id for m in kb.search(query, limit=3)]
        top1 += bool(ids) and ids[0] == expected
        top3 += expected in ids
        for _ in range(REPEAT):
            t = time.perf_counter()
            kb.search(query, limit=5)
            latencies.append((time.perf_counter() - t) * 1000)
    return {"patterns": len(kb.patterns), "errors": len(kb.errors), "load_ms": load_s * 1000, "lat": latencies,
            "top1": top1, "top3": top3}


def main() -> int:
    real_dir = ROOT / "patterns"
    real = measure(real_dir)
    with tempfile.TemporaryDirectory(prefix="omv-copilot-bench-") as tmp:
        big_dir = Path(tmp)
        for f in real_dir.glob("*.yaml"):
            (big_dir / f.name).write_text(f.read_text())
        synthetic_patterns(KnowledgeBase(real_dir).patterns, SYNTHETIC, big_dir)
        big = measure(big_dir)
    n = len(QUERIES)
    rows = []
    for label, r in (("shipped", real), (f"shipped + {SYNTHETIC} synthetic", big)):
        lat = r["lat"]
        rows.append([label, r["patterns"], f"{r['load_ms']:.0f}", f"{statistics.median(lat):.2f}",
                     f"{percentile(lat, 95):.2f}", f"{percentile(lat, 99):.2f}", f"{max(lat):.2f}",
                     f"{r['top1']}/{n} ({100 * r['top1'] / n:.0f} %)", f"{r['top3']}/{n} ({100 * r['top3'] / n:.0f} %)"])
    print(table(["PATTERN SET", "PATTERNS", "LOAD ms", "MATCH p50 ms", "p95 ms", "p99 ms", "max ms", "TOP-1", "TOP-3"], rows,
                title=f"knowledge: {n} realistic queries x {REPEAT} runs each, text-only ranking (no snapshot), "
                      f"Python {sys.version.split()[0]}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
