"""bench/alerts_backtest.py: a month of NAS life per scenario through the real alerting pipeline.

Runs the backtest (30-minute snapshots to stay bounded; docs/alerts.md has the 15-minute table)
and checks the properties issue 21 asks for: no alert and no notification on the benign
scenarios, every harmful one reaching the admin with its lead time, no flood.
"""

import json
import subprocess
import sys

from tests.conftest import ROOT
SCENARIOS = {"one-off large copy", "nightly backups with pruning", "steady media library growth", "runaway log",
             "container filling /", "reallocated sectors rising", "flapping service", "resync after a reboot"}


def test_backtest_table_properties():
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "alerts_backtest.py"), "--step", "1800", "--json"],
                       capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert r.returncode in (0, 1), r.stderr[-2000:]
    results = {x["scenario"]: x for x in json.loads(r.stdout)["results"]}
    assert set(results) == SCENARIOS
    for name, x in results.items():
        if x["harmful"]:
            assert x["caught"] and x["lead_s"] >= x["need_lead_s"], (name, x["lead_s"], x["notifications"][:3])
            assert x["false_alerts"] == 0 and x["false_notifications"] == 0, (name, x["alerts"], x["notifications"])
            assert len(x["notifications"]) <= 15, (name, [n["subject"] for n in x["notifications"]])  # no flood
        else:
            assert x["alerts"] == [] and x["notifications"] == [], (name, x["alerts"], x["notifications"])
    assert results["runaway log"]["lead_s"] >= 2 * 86400  # the forecast warns days ahead, not fs_full hours ahead
    flapping = results["flapping service"]
    assert [n["event"] for n in flapping["notifications"][:2]] == ["new", "resolved"]  # 80 crashes, one mail ...
    assert {n["event"] for n in flapping["notifications"][2:]} == {"digest"}  # ... then a daily digest
    assert r.returncode == 0
