"""memory.in_child: one-time work runs in a forked child; only its answer comes back.

The forking cases run in a fresh interpreter: threads other tests left running make
``in_child`` (rightly) compute in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from omv_copilot_agent import memory
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _run(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", "import os, sys\nfrom omv_copilot_agent import memory\n" + code],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_result_is_computed_in_another_process():
    assert _run("print(memory.in_child(os.getpid) != os.getpid())\n"
                "print(memory.in_child(lambda a, b: {'sum': a + b, 'items': [a, b]}, 2, 3) == {'sum': 5, 'items': [2, 3]})\n"
                ) == ["True", "True"]


def test_the_childs_exception_is_raised_here():
    assert _run("from omv_copilot_agent.config import ConfigError\n"
                "def refuse():\n    raise ConfigError(f'api.listen: port 70000 is out of range (pid {os.getpid()})')\n"
                "try:\n    memory.in_child(refuse)\nexcept ConfigError as exc:\n"
                "    print(type(exc).__name__, str(exc).startswith('api.listen: port 70000'), f'(pid {os.getpid()})' not in str(exc))\n"
                ) == ["ConfigError", "True", "True"]


def test_what_the_child_imports_stays_out_of_this_process():
    assert _run("assert 'fractions' not in sys.modules\n"
                "print(memory.in_child(lambda: str(__import__('fractions').Fraction(1, 3))), 'fractions' in sys.modules)\n"
                ) == ["1/3", "False"]


def test_an_unpicklable_answer_is_computed_here_instead():
    assert _run("import threading\nanswer = memory.in_child(lambda: (os.getpid(), threading.Lock()))\n"
                "print(answer[0] == os.getpid())\n") == ["True"]


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
