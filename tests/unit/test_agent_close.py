"""Agent.close() lets go of what the Agent holds, with no help from the cycle collector.

Why: the daemon freezes what start-up built (memory.settle: gc.freeze), so whatever sits in a
reference cycle is never freed; the knowledge base's patterns file is an open descriptor.
"""

from __future__ import annotations

import gc
import os
import weakref

import pytest

from omv_copilot_agent import config as config_mod
from omv_copilot_agent.daemon.agent import Agent
from omv_copilot_agent.knowledge import packed

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd (Linux)")


def _open_files() -> dict[str, str]:
    out = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            out[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed meanwhile
            pass
    return out


@pytest.fixture
def no_cycle_collector():
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def test_close_releases_the_patterns_file_and_del_frees_the_agent(tmp_path, no_cycle_collector):
    before = _open_files()
    agent = Agent(config_mod.from_dict({"data_dir": str(tmp_path), "alerts": {"udev_monitor": False, "rrd_import": False}}))
    assert isinstance(agent.knowledge.patterns, packed.Filed)
    (path,) = [p for p in _open_files().values() if os.path.basename(p).startswith(packed.PREFIX)]
    events = weakref.ref(agent.events)
    agent.close()
    assert path not in _open_files().values()  # closed by close(), while the Agent is still referenced
    assert agent.knowledge.get("mdadm-degraded") is None
    freed = weakref.ref(agent)
    del agent
    assert freed() is None and events() is None  # reference counting alone: no cycle through its Events
    assert sorted(_open_files().values()) == sorted(before.values())  # the store's files too
