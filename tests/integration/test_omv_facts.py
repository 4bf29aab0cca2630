"""The OMV fact checker (tools/omv_facts.py) against OMV 7's real source tree.

Every shipped pattern must pass it, and each kind of wrong fact — planted below, most of them
mistakes the knowledge base really made — must be caught. Right facts next to them must not be
flagged, or the checker would be switched off in frustration.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("omv_facts", ROOT / "tools" / "omv_facts.py")
omv_facts = importlib.util.module_from_spec(_spec)
sys.modules["omv_facts"] = omv_facts  # dataclasses look their module up there
_spec.loader.exec_module(omv_facts)

pytestmark = pytest.mark.skipif(not (omv_facts.DEFAULT_SOURCE / "openmediavault" / "openmediavault").is_dir(),
                                reason=f"OMV source tree not found at {omv_facts.DEFAULT_SOURCE} (../shared/omv-source)")


@pytest.fixture(scope="module")
def checker():
    return omv_facts.Checker(omv_facts.load_source(str(omv_facts.DEFAULT_SOURCE)))


def test_every_shipped_pattern_states_only_facts_omv_7_backs(checker):
    findings = omv_facts.check_files([ROOT / "patterns"], checker)
    assert findings == [], "\n".join(map(str, findings))


PLANTED = [
    # (text, plugins the pattern names, what the finding must mention)
    ("omv-salt deploy run smb", set(), "no such salt state"),
    ("omv-salt deploy run mdadm", set(), "openmediavault-md"),
    ("omv-salt deploy run zfs", {"openmediavault-zfs"}, "no such salt state"),  # the zfs plugin's state is zfszed
    ("omv-salt deploy run snapraid", set(), "openmediavault-snapraid"),
    ("omv-salt deploy run samba nginx phpfpmx", set(), "phpfpmx"),
    ("omv-salt deploy run nginx --append-dirty sambax", set(), "sambax"),
    ("omv-rpc -u admin Config getDirtyModules '{}'", set(), "no method 'getDirtyModules'"),
    ("omv-rpc -u admin SambaShare getList '{}'", set(), "no RPC service 'SambaShare'"),
    ("set OMV_NGINX_SITE_WEBGUI_PORT_HTTPS_X=8443 in /etc/default/openmediavault", set(), "OMV_NGINX_SITE_WEBGUI_PORT_HTTPS_X"),
    ("systemctl restart wsdd", set(), "wsdd"),
    ("journalctl -u omv-engined -n 50", set(), "omv-engined"),
    ("the OMV_NOSUCHFAMILY_<TYPE> variables", set(), "OMV_NOSUCHFAMILY_"),
    ("apt-get install openmediavault-resetperms-x", set(), "openmediavault-resetperms-x"),
    ("run omv-firstaid and choose 'Configure web control panel'", set(), "no omv-firstaid entry"),
    ("Open Storage > RAID Management and recover the array", set(), "no such page"),
    ("Open Services > Rsync > Jobs and press Run", set(), "no such page"),
    ("Storage > Multiple Device shows the array as degraded", set(), "openmediavault-md"),
    ("Edit /etc/samba/smb.conf and add 'server signing = disabled'", set(), "/etc/samba/smb.conf"),
    ("echo 'PermitRootLogin yes' >> /etc/ssh/sshd_config", set(), "/etc/ssh/sshd_config"),
    ("Cap the logs in /etc/docker/daemon.json (max-size)", set(), "openmediavault-compose"),
]


@pytest.mark.parametrize("text,plugins,mention", PLANTED, ids=[p[0][:40] for p in PLANTED])
def test_each_planted_wrong_fact_is_caught(checker, text, plugins, mention):
    findings = checker.check_text(text, plugins)
    assert findings, f"not caught: {text!r}"
    assert any(mention in claim or mention in reason for claim, reason in findings), findings


RIGHT = [
    ("omv-salt deploy run samba avahi", set()),
    ("omv-salt deploy run mdadm", {"openmediavault-md"}),
    ("omv-salt deploy run --append-dirty", set()),
    ("omv-rpc -u admin Config isDirty '{}'", set()),
    ("omv-rpc -u admin ShareMgmt getList '{\"start\":0,\"limit\":-1}'", set()),
    ("systemctl restart wsdd-server smbd nmbd", set()),
    ("systemctl status openmediavault-engined --no-pager -n 50", set()),
    ("journalctl -u postfix@-.service -n 20", set()),
    ("run omv-firstaid and choose 'Configure network interface'", set()),
    ("Services > SMB/CIFS > Settings > Extra options", set()),
    ("Storage > S.M.A.R.T. > Devices.", set()),
    ("System > Date & Time", set()),
    ("Storage > Multiple Device (openmediavault-md plugin)", set()),
    ("Regenerates /etc/samba/smb.conf from OMV's database", set()),
    ("cat /etc/ssh/sshd_config | grep Port", set()),
    ("echo 'options usb-storage quirks=152d:0578:u' > /etc/modprobe.d/disable-uas.conf", set()),
    ("set OMV_NFSD_V4_PSEUDO_ROOT_OPTIONS in /etc/default/openmediavault", set()),
    ("the OMV_FSTAB_MNTOPS_<TYPE> variables", set()),
    ("systemctl restart UNIT", set()),
]


@pytest.mark.parametrize("text,plugins", RIGHT, ids=[r[0][:40] for r in RIGHT])
def test_right_facts_are_not_flagged(checker, text, plugins):
    assert checker.check_text(text, plugins) == []


def test_a_pattern_names_its_plugin_anywhere_in_its_text(checker):
    pattern = {"pattern_id": "x", "symptoms": ["zpool shows DEGRADED"],
               "solutions": [{"action": "Redeploy", "command": "omv-salt deploy run zfszed"}]}
    assert [f.claim for f in checker.check_pattern(pattern, "x.yaml")] == ["omv-salt deploy run zfszed"]
    pattern["solutions"][0]["explanation"] = "The state comes with openmediavault-zfs."
    assert checker.check_pattern(pattern, "x.yaml") == []


def test_findings_say_where(checker, tmp_path):
    (tmp_path / "bad.yaml").write_text("pattern_id: bad\nsolutions:\n- action: x\n  command: omv-salt deploy run smb\n")
    (finding,) = omv_facts.check_files([tmp_path], checker)
    assert finding.where == "bad.yaml:solutions[0].command"
    assert omv_facts.main(["--source", str(omv_facts.DEFAULT_SOURCE), str(tmp_path)]) == 1


def test_a_missing_source_tree_is_a_clear_error(tmp_path, capsys):
    assert omv_facts.main(["--source", str(tmp_path), str(ROOT / "patterns")]) == 2
    assert "no OMV source tree" in capsys.readouterr().err


def test_a_file_that_is_not_yaml_is_a_finding_not_a_traceback(checker, tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("pattern_id: x\ntitle: [unclosed\n")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    found = [str(f) for f in omv_facts.check_files([tmp_path], checker)]
    assert len(found) == 2 and all("cannot be read as YAML" in f for f in found), found
    assert any(f.startswith("broken.yaml:") for f in found)
