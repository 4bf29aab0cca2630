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
