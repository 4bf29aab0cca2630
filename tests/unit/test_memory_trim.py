"""memory.trim: best effort, never fatal, runs glibc's malloc_trim where present."""

import platform

from omv_copilot_agent import memory


def test_trim_is_safe_and_repeatable():
    first = memory.trim()
    assert memory.trim() is first  # the libc lookup is cached
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert first is True


def test_limit_arenas_respects_env(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.limit_arenas() is False  # an admin's explicit setting wins


def test_after_settle_a_cycles_trim_walks_only_what_the_cycle_allocated():
    """trim() after every cycle ran a full collection over every start-up object (~30 ms a cycle)."""
    import subprocess
    import sys

    code = (
        "import gc\n"
        "from omv_copilot_agent import memory\n"
        "startup = [{'n': i, 'l': [i]} for i in range(50000)]\n"
        "memory.settle()\n"
        "cycle = [{'n': i} for i in range(100)]\n"
        "gc.collect(1)\n"
        "print(len(gc.get_objects(generation=2)), gc.get_freeze_count())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("tests.conftest", fromlist=["ROOT"]).ROOT)).stdout.split()
    walked, frozen = int(out[0]), int(out[1])
    assert frozen >= 100000 and walked < 5000, (walked, frozen)
