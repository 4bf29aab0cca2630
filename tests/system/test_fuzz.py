"""A short, seeded schemathesis pass over every endpoint (``make fuzz`` runs a longer one).

Bounded by count (20 examples per operation, ~30 s), loopback only. Skips with the
reason if the schemathesis venv cannot be built (no PyPI).
"""

from __future__ import annotations

import re

import pytest

from tests import fuzz


def test_schemathesis_finds_no_server_error_or_schema_violation():
    try:
        fuzz.ensure_venv()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"schemathesis venv could not be built: {exc}")
    code, output = fuzz.run(max_examples=20, max_time=None, seed=1)
    summary = output[output.find("SUMMARY"):] if "SUMMARY" in output else output[-3000:]
    assert "Traceback" not in output.split("--- daemon log")[1], output[-3000:]
    assert code == 0, summary[-4000:]
    tested = re.search(r"Tested:\s*(\d+)", output)
    assert tested and int(tested.group(1)) >= 10, summary[-2000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert cases and cases.group(1) == cases.group(2) and int(cases.group(1)) >= 100, summary[-2000:]
