"""The shipped patterns: schema-valid, resolvable, distinct, runnable; the loader survives broken files."""

from __future__ import annotations

import difflib
import itertools
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests import risk_labels
from tests.conftest import ROOT
from omv_copilot_agent import probes
from omv_copilot_agent.knowledge import KnowledgeBase, diagnostics, fill, loader

PATTERNS_DIR = ROOT / "patterns"
FILES = sorted(PATTERNS_DIR.glob("*.yaml"))
FILES_BY_ID = {yaml.safe_load(f.read_text())["pattern_id"]: f for f in FILES}
CATEGORIES = ("storage", "network", "services", "performance", "security", "hardware", "backup")

#: A valid value for every placeholder the patterns may use (what an admin would pass).
SAMPLE_PARAMS = {"device": "/dev/sda", "md_device": "/dev/md0", "partition": "/dev/sdb1", "disk": "sda", "share": "media",
                 "interface": "eth0",
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
        for s in ordered:  # shown to a human, never run: its {placeholders} are fill's names, filled only in fill's shapes
            command = s.get("command") or ""
            assert fill.unknown_in_command(command) == [], f"{pid}: solution command names an unknown placeholder"
            shown, needs = fill.apply_command(command, SAMPLE_PARAMS)
            assert needs == [n for n in fill.in_command(command) if n in fill.ASK_ONLY], (pid, command, needs)
            assert fill.in_command(shown) == needs, (pid, shown)


#: The patterns whose solution commands name their devices as {placeholders} (thirteenth session); others still
#: show /dev/sdX examples, to be converted by their authors.
CONVERTED = ("mdadm-degraded", "mdadm-replace-disk-grow-remove", "mdadm-array-vanished-disk-removed", "mdadm-resync-slow",
             "raid-grown-filesystem-not-bigger", "btrfs-multi-device-missing-disk", "fs-duplicate-uuid-cloned-disk",
             "disk-device-names-change", "usb-enclosure-duplicate-serial", "system-backup-restore")


def test_converted_solution_commands_name_no_box_device_literally(kb):
    """/dev/md0 in a command copied on a box whose array is md127 is the wrong array (issue 16): name {md_device}."""
    for pid in CONVERTED:
        for s in kb.patterns[pid]["solutions"]:
            assert not re.search(r"/dev/(md\d|sd[a-zX]\b|[A-Z_]+\b)", s.get("command") or ""), (pid, s["command"])


#: A read-only label on a command that changes the box, planted: the lint must catch each (label it needs).
LYING = [
    ("rm -rf /srv/dev-disk-by-uuid-1234/media/.recycle", "data-risk"), ("wipefs -a /dev/sdb", "data-risk"),
    ("dd if=/dev/zero of=/dev/sdb bs=1M count=10", "data-risk"), ("mkfs.ext4 /dev/sdb1", "data-risk"),
    ("mdadm --manage /dev/md0 --remove /dev/sdb", "data-risk"), ("mdadm /dev/md0 --fail /dev/sdb", "data-risk"),
    ("mdadm --zero-superblock /dev/sdb", "data-risk"), ("mdadm --create /dev/md0 --level=1 --raid-devices=2 /dev/sd[bc]",
                                                        "data-risk"),
    ("mdadm --assemble --scan", "changes-config"), ("zpool destroy tank", "data-risk"),
    ("zpool import -f tank", "changes-config"), ("zpool export tank", "data-risk"),
    ("mv /etc/openmediavault/config.xml /root/", "changes-config"), ("reboot", "restarts-service"),
    ("shutdown -h now", "restarts-service"), ("poweroff", "restarts-service"),
    ("systemctl restart smbd", "restarts-service"), ("sudo systemctl stop nfs-server", "restarts-service"),
    ("systemctl start collectd", "restarts-service"), ("systemctl disable --now rrdcached", "changes-config"),
    ("systemctl enable smartmontools", "changes-config"), ("systemctl mask systemd-networkd-wait-online", "changes-config"),
    ("apt install --reinstall openmediavault", "changes-config"), ("apt-get remove -y nfs-common", "data-risk"),
    ("apt-get purge openmediavault-compose", "data-risk"), ("apt-get upgrade", "changes-config"),
    ("dpkg -i ./openmediavault-omvextrasorg_latest_all7.deb", "changes-config"), ("dpkg -r plexmediaserver", "changes-config"),
    ("dpkg --purge plexmediaserver", "changes-config"), ("omv-salt deploy run samba", "changes-config"),
    ("chmod 775 /srv/dev-disk-by-uuid-1234/media", "changes-config"),
    ("chown -R nobody:users /srv/dev-disk-by-uuid-1234/media", "data-risk"),
    ("setfacl -m u:alice:rwx /srv/dev-disk-by-uuid-1234/media", "changes-config"),
    ("sed -i 's/^#DefaultLimitNOFILE=/DefaultLimitNOFILE=65536/' /etc/systemd/system.conf", "changes-config"),
    ("echo 'vm.swappiness=10' | tee /etc/sysctl.d/99-swap.conf", "changes-config"),
    ("echo 4096 > /sys/block/md0/md/stripe_cache_size", "changes-config"),
    ("cat /proc/mdstat; echo check >> /sys/block/md0/md/sync_action", "changes-config"),
    ("docker restart plex", "restarts-service"), ("journalctl --vacuum-size=200M", "changes-config"),
    ("journalctl --vacuum-t=1s", "changes-config"),
    ("hdparm -S 120 /dev/sda", "changes-config"), ("omv-rpc -u admin Config applyChanges '{\"modules\": []}'", "changes-config"),
]
#: Read-only commands as patterns show them: not findings (a quoted ">", 2>/dev/null, a <placeholder>, list subcommands).
READ_ONLY = ["cat /proc/mdstat", "mdadm --detail /dev/md0", "smartctl -a /dev/sda", "zpool status -v",
             "systemctl status smbd --no-pager", "systemctl status <unit> --no-pager; journalctl -u <unit> -b -n 50",
             "journalctl -u smbd -b --no-pager 2>/dev/null | tail -n 50", "awk '$5 > 90' /proc/self/mounts",
             "grep -c '>' /var/log/syslog", "omv-salt deploy list-dirty", "dpkg -l | grep openmediavault",
             "apt list --upgradable", "getfacl /srv/dev-disk-by-uuid-1234/media", "sed -n '1,20p' /etc/fstab",
             "hdparm -I /dev/sda", "hdparm -B /dev/sda", "omv-rpc -u admin ShareMgmt getList '{\"start\": 0}'",
             "docker logs --tail 50 plex", "ls -l /dev/disk/by-uuid/ > /dev/null"]


@pytest.mark.parametrize("command,needs", LYING, ids=[c for c, _ in LYING])
def test_a_read_only_label_on_a_command_that_changes_the_box_is_a_finding(command, needs):
    pattern = {"solutions": [{"priority": 1, "action": "check", "explanation": "x", "risk": "read-only",
                              "command": command}]}
    found = risk_labels.lying_read_only_labels({"planted": pattern})
    assert [(pid, prio, label) for pid, prio, _cmd, label, _why in found] == [("planted", 1, needs)], found
    pattern["solutions"][0]["risk"] = needs  # labelled as the lint says: no finding
    assert risk_labels.lying_read_only_labels({"planted": pattern}) == []


@pytest.mark.parametrize("command", READ_ONLY)
def test_a_read_only_command_is_not_a_finding(command):
    assert risk_labels.changes_the_box(command) is None


#: The shipped patterns' read-only labels the lint finds (twelfth session), for the lead to relabel:
#: (pattern id, solution priority, the label the lint says the command needs).
def test_no_read_only_label_lies(kb):
    """A solution labelled read-only shows no command that changes the box (tests/risk_labels.py says what does)."""
    assert [(pid, prio, label) for pid, prio, _cmd, label, _why in risk_labels.lying_read_only_labels(kb.patterns)] == []


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
