"""memory.in_child: one-time work runs in a forked child; only its answer comes back."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from omv_copilot_agent import memory
from omv_copilot_agent.config import ConfigError
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def test_result_is_computed_in_another_process():
    assert memory.in_child(os.getpid) != os.getpid()
    assert memory.in_child(lambda a, b: {"sum": a + b, "items": [a, b]}, 2, 3) == {"sum": 5, "items": [2, 3]}


def test_the_childs_exception_is_raised_here():
    def refuse():
        raise ConfigError("api.listen: port 70000 is out of range 1-65535")

    with pytest.raises(ConfigError, match="port 70000 is out of range"):
        memory.in_child(refuse)


def test_an_unpicklable_answer_is_computed_here_instead():
    answer = memory.in_child(lambda: (os.getpid(), threading.Lock()))
    assert answer[0] == os.getpid()


def test_with_other_threads_it_runs_here():
    """A lock another thread holds at fork time would stay locked in the child: no fork then."""
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        assert memory.in_child(os.getpid) == os.getpid()
    finally:
        release.set()
        worker.join()


def test_what_the_child_imports_stays_out_of_this_process():
    code = ("import sys\nfrom omv_copilot_agent import memory\n"
            "assert 'fractions' not in sys.modules\n"
            "value = memory.in_child(lambda: str(__import__('fractions').Fraction(1, 3)))\n"
            "print(value, 'fractions' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1/3", "False"]
