"""The shipped patterns: schema-valid, resolvable, distinct, runnable; the loader survives broken files."""

from __future__ import annotations

import difflib
import itertools
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from omv_copilot_agent import probes
from omv_copilot_agent.knowledge import KnowledgeBase, diagnostics, loader

PATTERNS_DIR = ROOT / "patterns"
FILES = sorted(PATTERNS_DIR.glob("*.yaml"))
FILES_BY_ID = {yaml.safe_load(f.read_text())["pattern_id"]: f for f in FILES}
CATEGORIES = ("storage", "network", "services", "performance", "security", "hardware", "backup")

#: A valid value for every placeholder the patterns may use (what an admin would pass).
SAMPLE_PARAMS = {"device": "/dev/sda", "md_device": "/dev/md0", "disk": "sda", "share": "media", "interface": "eth0",
                 "unit": "smbd.service", "user": "alice", "host": "example.org",
                 "path": "/srv/dev-disk-by-uuid-1234/media", "mountpoint": "/srv/dev-disk-by-uuid-1234",
                 "pool": "tank", "ups": "ups@localhost", "container": "plex",
                 "cert": "/etc/ssl/certs/openmediavault-1.crt", "port": "445", "client_ip": "192.168.1.20",
                 "ip": "192.168.1.1"}


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase(PATTERNS_DIR)


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_every_shipped_pattern_validates(path):
    data = _load(path)
    assert loader.validate(data) == [], f"{path.name} does not match knowledge/schema.yaml"
    assert path.stem.split("--", 1)[-1] == data["pattern_id"], "file name is <category>--<pattern_id>.yaml"
    assert path.stem.split("--", 1)[0] == data["category"]


def test_whole_directory_loads_without_errors(kb):
    assert kb.errors == []
    assert len(kb.patterns) == len(FILES)


def test_at_least_60_patterns_and_5_per_category(kb):
    assert len(kb.patterns) >= 60
    per_category = Counter(p["category"] for p in kb.patterns.values())
    assert set(per_category) == set(CATEGORIES)
    assert all(n >= 5 for n in per_category.values()), per_category


def test_ids_unique_and_related_patterns_resolve(kb):
    ids = [_load(f)["pattern_id"] for f in FILES]
    assert len(ids) == len(set(ids))
    for pid, pattern in kb.patterns.items():
        for related in pattern.get("related_patterns", []):
            assert related in kb.patterns, f"{pid}: related pattern {related} does not exist"
            assert related != pid


def test_no_near_duplicate_titles_or_symptoms(kb):
    def norm(text):
        return " ".join(text.lower().split())

    titles = {pid: norm(p["title"]) for pid, p in kb.patterns.items()}
    for (a, ta), (b, tb) in itertools.combinations(titles.items(), 2):
        ratio = difflib.SequenceMatcher(None, ta, tb).ratio()
        assert ratio < 0.8, f"titles of {a} and {b} are near-duplicates ({ratio:.2f})"
    owners: dict[str, str] = {}
    for pid, p in kb.patterns.items():
        for symptom in p["symptoms"]:
            assert owners.setdefault(norm(symptom), pid) == pid, f"symptom {symptom!r} in {pid} and {owners[norm(symptom)]}"


def test_every_diagnostic_is_a_catalogue_probe_and_every_placeholder_takes_a_sample(kb):
    for pid, pattern in kb.patterns.items():
        samples = dict(SAMPLE_PARAMS, device="/dev/nvme0n1") if "nvme" in pid else SAMPLE_PARAMS  # fits smartctl and nvme
        assert diagnostics.check_params(pattern["diagnostics"], {n: samples[n] for n in
                                        {n for d in pattern["diagnostics"] for n in diagnostics.placeholders(d)}}) == [], pid
        for diag in pattern["diagnostics"]:
            assert "command" not in yaml.safe_load(FILES_BY_ID[pid].read_text())["diagnostics"][0]
            for name in diagnostics.placeholders(diag):
                assert name in SAMPLE_PARAMS, f"{pid}: placeholder {{{name}}} has no sample value"
            call = diagnostics.call(diag, samples)  # raises ParamError naming probe and argument
            assert probes.recognise(call.argv).argv == call.argv
            assert diag["command"].split(" | ")[0].split()[0] == call.argv[0]  # what is shown is what runs


def test_solutions_are_ordered_and_risk_labelled(kb):
    for pid, pattern in kb.patterns.items():
        priorities = [s["priority"] for s in pattern["solutions"]]
        assert len(priorities) == len(set(priorities)), f"{pid}: duplicate solution priorities"
        ordered = kb.solutions(pid)
        assert [s["priority"] for s in ordered] == sorted(priorities)
        assert all(s["risk"] in ("read-only", "changes-config", "restarts-service", "data-risk") for s in ordered)
        for s in ordered:  # shown to a human, never filled or run: use /dev/sdX-style examples, not {placeholders}
            assert not diagnostics.placeholders(s.get("command") or ""), f"{pid}: solution command has a placeholder"


def test_references_are_https(kb):
    for pid, pattern in kb.patterns.items():
        assert pattern["references"], pid
        assert all(r.startswith("https://") for r in pattern["references"]), pid
        assert len(pattern["references"]) == len(set(pattern["references"])), f"{pid}: duplicate reference"


# --- the loader with broken files -------------------------------------------------------------

@pytest.fixture
def patterns_copy(tmp_path):
    target = tmp_path / "patterns"
    shutil.copytree(PATTERNS_DIR, target)
    return target


def _errors_for(errors, file):
    return [e for e in errors if e["file"] == file]


def test_missing_required_field_is_reported_with_file_id_field_and_reason(patterns_copy):
    path = patterns_copy / "storage--data-disk-full.yaml"
    data = _load(path)
    del data["symptoms"]
    path.write_text(yaml.safe_dump(data))
    kb = KnowledgeBase(patterns_copy)
    errs = _errors_for(kb.errors, path.name)
    assert errs and errs[0]["pattern_id"] == "data-disk-full"
    assert errs[0]["field"] == "(root)" and "symptoms" in errs[0]["reason"]
    assert "data-disk-full" not in kb.patterns
    assert len(kb.patterns) == len(FILES) - 1


def test_bad_field_values_are_each_reported(patterns_copy):
    path = patterns_copy / "hardware--smart-reallocated-sectors.yaml"
    data = _load(path)
    data["category"] = "plumbing"
    data["solutions"][0]["risk"] = "yolo"
    data["references"] = ["http://insecure.example"]
    path.write_text(yaml.safe_dump(data))
    kb = KnowledgeBase(patterns_copy)
    fields = {e["field"]: e["reason"] for e in _errors_for(kb.errors, path.name)}
    assert set(fields) == {"category", "solutions.0.risk", "references.0"}
    assert "plumbing" in fields["category"] and "yolo" in fields["solutions.0.risk"]
    assert all(e["pattern_id"] == "smart-reallocated-sectors" for e in _errors_for(kb.errors, path.name))
    assert len(kb.patterns) == len(FILES) - 1


def test_unparseable_yaml_and_non_mapping_files_do_not_stop_the_rest(patterns_copy):
    (patterns_copy / "zz-broken.yaml").write_text("pattern_id: x\n  title: [unclosed\n")
    (patterns_copy / "zz-list.yaml").write_text("- just\n- a list\n")
    (patterns_copy / "zz-binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    kb = KnowledgeBase(patterns_copy)
    reasons = {e["file"]: e["reason"] for e in kb.errors}
    assert reasons["zz-broken.yaml"].startswith("not valid YAML")
    assert "mapping" in reasons["zz-list.yaml"]
    assert "zz-binary.yaml" in reasons
    assert len(kb.patterns) == len(FILES)


def test_duplicate_id_and_dangling_related_pattern(patterns_copy):
    data = _load(patterns_copy / "storage--data-disk-full.yaml")
    data["title"] = "A second file claiming the same id"
    data["related_patterns"] = ["no-such-pattern", "root-fs-full-logs"]
    (patterns_copy / "zz-dup.yaml").write_text(yaml.safe_dump(data))
    other = _load(patterns_copy / "storage--quota-exceeded.yaml")
    other["related_patterns"] = ["no-such-pattern"]
    (patterns_copy / "storage--quota-exceeded.yaml").write_text(yaml.safe_dump(other))
    kb = KnowledgeBase(patterns_copy)
    dup = _errors_for(kb.errors, "zz-dup.yaml")
    assert dup == [{"file": "zz-dup.yaml", "pattern_id": "data-disk-full", "field": "pattern_id",
                    "reason": "duplicate id, already defined in storage--data-disk-full.yaml"}]
    dangling = _errors_for(kb.errors, "storage--quota-exceeded.yaml")
    assert dangling[0]["field"] == "related_patterns" and "no-such-pattern" in dangling[0]["reason"]
    assert kb.patterns["quota-exceeded"]["related_patterns"] == []  # still loaded, link dropped


def test_missing_directory_is_one_error_not_a_crash(tmp_path):
    kb = KnowledgeBase(tmp_path / "nope")
    assert kb.patterns == {} and kb.errors[0]["reason"] == "patterns directory does not exist"
    assert kb.search("smb") == []


def test_default_patterns_dir_is_the_shipped_tree():
    if os.path.isdir("/usr/share/omv-copilot/patterns"):
        pytest.skip("an installed package provides the patterns here")
    assert KnowledgeBase().patterns_dir == PATTERNS_DIR


def test_every_shipped_pattern_names_its_sources_and_omv_versions(kb):
    # issue 16: a pattern says where its facts come from (a thread or doc page OMV users hit the
    # problem in, or the OMV source file that proves the fix) and which OMV releases they hold for
    missing = [pid for pid, p in kb.patterns.items() if not p.get("sources") or not p.get("omv_versions")]
    assert not missing, f"patterns without sources or omv_versions: {missing}"
    for pid, p in kb.patterns.items():
        assert 7 in p["omv_versions"], f"{pid}: the facts are checked against OMV 7"
