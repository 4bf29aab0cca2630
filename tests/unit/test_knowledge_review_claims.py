"""Claims in shipped patterns that were wrong in ways tools/omv_facts.py cannot see (review guards).

Each row is a sentence a pattern once said, the pattern it was in, and why it is wrong, checked
against the sources named there. The fact checker reads OMV's salt states, RPCs and navigation;
it cannot tell that a button does something else than the command shown beside it, or that a
Docker command frees nothing after the one the pattern ran before it.
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import ROOT

PATTERNS = {(data := yaml.safe_load(path.read_text(encoding="utf-8")))["pattern_id"]: data
            for path in sorted((ROOT / "patterns").glob("*.yaml"))}

#: (pattern id, regex over one solution's action + command + explanation, why it is wrong)
WRONG = [
    ("docker-daemon-not-running", r"clear the\s+field to use /var/lib/docker again",
     "a blank Docker storage field leaves /etc/docker/daemon.json as it is (openmediavault-compose's 30docker.sls "
     "writes it only when a path is set; the field's hint: 'Leave blank to use a custom /etc/docker/daemon.json'), "
     "so its data-root still points at the missing disk"),
    ("docker-daemon-not-running", r"Reinstall Docker.*\|\s*systemctl restart",
     "the Reinstall Docker button purges and reinstalls the Docker packages (compose.inc reinstallDocker); "
     "a command that only restarts the units is not what the action says"),
    ("docker-fills-root", r"docker builder prune\s*\|(?!.*-a\b)",
     "docker system prune runs the build-cache pruner with its own --all (docker/cli cli/command/system/prune.go); "
     "'docker builder prune' without -a frees nothing the system prune before it left"),
    ("docker-fills-root", r"build cache that docker system prune keeps",
     "docker system prune removes unused build cache, and with -a all of it (docker/cli system/prune.go)"),
]


def _solution_texts(pattern: dict) -> list[str]:
    return [" | ".join(str(s.get(k) or "") for k in ("action", "command", "explanation"))
            for s in pattern.get("solutions") or []]


@pytest.mark.parametrize("pid,claim,why", WRONG, ids=[f"{w[0]}:{w[1][:30]}" for w in WRONG])
def test_a_pattern_does_not_repeat_a_claim_found_wrong(pid, claim, why):
    assert pid in PATTERNS, f"{pid} is gone: move or drop its row"
    said = [text for text in _solution_texts(PATTERNS[pid]) if re.search(claim, " ".join(text.split()), re.I)]
    assert not said, f"{pid}: {why}\n{said}"
