"""Operations whose handlers are imported at their first request (services.operations.lazy) answer then.

In a fresh interpreter (this test process has imported everything already): the app is built,
the service modules are not loaded, and two concurrent first requests to each operation both get
the full answer, the same one a later request gets.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = r"""
import sys, threading
from pathlib import Path
from tests.alerts_support import make_agent
from omv_copilot_agent.api import create_app

agent = make_agent(Path(sys.argv[1]))
app = create_app(agent, "tok")
PATHS = {"history": "/api/v1/history/notes", "settings": "/api/v1/settings",
         "knowledge": "/api/v1/knowledge/patterns?limit=2", "assist": "/api/v1/assist/conversations"}
for module, path in PATHS.items():
    name = "omv_copilot_agent.services." + module
    assert name not in sys.modules, name + " was imported before its first request"
    barrier, answers = threading.Barrier(2), []

    def first():
        barrier.wait()
        r = app.test_client().get(path, headers={"Authorization": "Bearer tok"})
        answers.append((r.status_code, r.get_data(as_text=True)))

    threads = [threading.Thread(target=first) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    later = app.test_client().get(path, headers={"Authorization": "Bearer tok"})
    assert [a[0] for a in answers] == [200, 200], (path, answers)
    assert answers[0][1] == answers[1][1] == later.get_data(as_text=True), path
    assert name in sys.modules
print("OK")
"""


def test_lazily_loaded_operations_answer_their_first_two_concurrent_calls(tmp_path):
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stderr[-3000:]
