"""Sixth review of the KB-only answer (docs/review-2026-12-07-sixteenth.md): one test per fix, each failing on
the code before it (the wording refactor's test shows its output unchanged). Matches are stubbed and the box is a
stub read in full, so what is tested is the composition and the filling, not the ranking.
"""

from __future__ import annotations

import pytest

from omv_copilot_agent.assist import kb_answer
from omv_copilot_agent.cli import ask as cli_ask
from omv_copilot_agent.knowledge import fill
from tests.unit.test_kb_answer_review_thirteenth import _match  # the stub of one match


class _Box:
    """A stub box read in full: its md arrays, ZFS pools, disks and interfaces."""

    def __init__(self, raid=(), zfs=(), disks=("vda",), addresses=()):
        self._data = {"storage": {"raid": [{"name": a} for a in raid],
                                  "zfs": [{"name": p, "health": "ONLINE"} for p in zfs],
                                  "block_devices": [{"name": d, "type": "disk"} for d in disks]},
                      "smart": {"disks": [{"device": "/dev/" + d, "passed": True} for d in disks]},
                      "network": {"interfaces": [{"name": "eth0", "up": True, "addresses": list(addresses)}]}}

    def status(self, name):
        return "ok" if name in self._data else None

    def data(self, name):
        return self._data.get(name, {})


# -- (b) one way to say that a named array or pool is not on the box ---------------------------------

@pytest.mark.parametrize("query, box, said", [
    ("is /dev/md5 ok", _Box(raid=["md0"]),
     "This box shows no /dev/md5 right now (its md arrays: /dev/md0): check the name; if it is right, that array is "
     "not assembled."),
    ("are md5 and md6 ok", _Box(raid=["md0", "md1"]),
     "This box shows no /dev/md5, /dev/md6 right now (its md arrays: /dev/md0, /dev/md1): check the names; if they "
     "are right, those arrays are not assembled."),
    ("zpool import tank fails", _Box(zfs=["data"]),
     "This box shows no ZFS pool tank right now (its pools: data): check the name; if it is right, that pool is not "
     "imported."),
    ("zpool import tank and zpool import backup", _Box(zfs=["data", "x"]),
     "This box shows no ZFS pools tank, backup right now (its pools: data, x): check the names; if they are right, "
     "those pools are not imported."),
    ("is /dev/md5 ok", _Box(),
     "This box shows no /dev/md5 right now (no md RAID array at all: the last reading of /proc/mdstat lists none): "
     "check the name; if it is right, that array is not assembled or its disks are missing."),
    ("are md5 and md6 ok", _Box(),
     "This box shows no /dev/md5, /dev/md6 right now (no md RAID array at all: the last reading of /proc/mdstat lists "
     "none): check the names; if they are right, those arrays are not assembled or their disks are missing."),
])
def test_a_missing_array_and_a_missing_pool_are_said_as_before(query, box, said):
    """The missing-array and missing-pool sentences were two near-copies in fill._absent_storage; one helper
    (fill._not_shown) words them now, with the same output for one and for two names."""
    assert fill.absent_named(query, box, ()) == ([said], [])


# -- a placeholder filled with the right value ---------------------------------------------------------

PING_CLIENT = {"name": "Client reachability", "probe": "ping", "params": {"count": "2", "host": "{client_ip}"}}
NFS_Q = ("nfs mount of 192.168.1.10:/export/media fails with permission denied, state 13, when my app runs as a "
         "normal user on 10.6.0.19, as root it mounts fine")


def _filled(query: str, diag: dict, box=None) -> tuple[dict, list]:
    answer = kb_answer.compose(query, "security", [_match("nfs-mount-denied", 0.53, diagnostics=[diag])], [], "stub",
                               box if box is not None else _Box())
    row = answer["suggested_diagnostics"][0]
    return row["params"], row["needs"]


def test_the_client_to_reach_is_not_the_nas_the_question_mounts_from():
    """N8: "nfs mount of 192.168.1.10:/export/media fails ... on 10.6.0.19", before: "Client reachability: ping -c 2
    192.168.1.10" - the NAS itself (the server of the server:/path the client mounts), pinged from the NAS. An
    address written as a server's (``IP:/path``, ``//IP/share``) or one of the box's own is no client."""
    assert _filled(NFS_Q, PING_CLIENT) == ({"client_ip": "10.6.0.19"}, [])
    assert _filled(r"\\192.168.1.10\media asks for a password on the pc 192.168.1.23", PING_CLIENT) == (
        {"client_ip": "192.168.1.23"}, [])
    own = _Box(addresses=[{"family": "ipv4", "address": "192.168.1.10", "netmask": "255.255.255.0"}])
    assert _filled("jumbo frames: 192.168.1.10 cannot ping 192.168.1.50 with mtu 9000", PING_CLIENT, own) == (
        {"client_ip": "192.168.1.50"}, [])
    # the question naming only the NAS leaves the client asked for
    assert _filled("mount 192.168.1.10:/export/media fails with access denied", PING_CLIENT) == ({}, ["client_ip"])


# -- follow-ups do not ask for what the question says ------------------------------------------------

@pytest.mark.parametrize("query", [
    "after updating omv 5 to 6 and then to 7 I get 502 Bad Gateway right after logging in to the web ui, nginx, "
    "php7.4-fpm and openmediavault-engined are all active and running",
    "after I disabled the auto logout in the web ui settings nginx only answers 502 bad gateway, I use ssl only",
    "uploading a plugin file gives 413 Request Entity Too Large",
    "the dashboard shows 504 gateway time-out when I open it",
])
def test_an_http_status_the_question_gives_is_the_exact_message(query):
    """N2 and N3 ("I get 502 Bad Gateway right after logging in", "nginx only answers 502 bad gateway"), before:
    "What exact error message does the client show?" - the browser's message is the status line they quoted."""
    assert kb_answer.FOLLOW_UPS["service"][1] not in kb_answer.follow_ups("service", query)


def test_an_error_mentioned_but_not_given_is_still_asked_for():
    assert kb_answer.FOLLOW_UPS["service"][1] in kb_answer.follow_ups("service", "the web ui shows an error after the update")
    assert kb_answer.FOLLOW_UPS["service"][1] in kb_answer.follow_ups("service", "502 errors since the update")


@pytest.mark.parametrize("query", [
    "my omv runs from a 16GB usb stick, df shows / at 100% and now it turned read-only, I never installed the "
    "flashmemory plugin",
    "how full is my root file system right now",
    "rootfs is full after installing docker",
    "the root filesystem keeps filling up",
    "my os disk is full",
])
def test_the_root_file_system_named_answers_which_file_system(query):
    """N9 ("df shows / at 100%") and S1 ("how full is my root file system"), before: "Which disk or filesystem is
    affected (device or mount point)?" - the question named it: the root file system, mounted at /."""
    assert kb_answer.FOLLOW_UPS["storage"][0] not in kb_answer.follow_ups("storage", query)


def test_a_file_system_not_named_is_still_asked_for():
    for query in ("a file system is full", "my disk is full of errors", "the share root is read-only for users"):
        assert kb_answer.FOLLOW_UPS["storage"][0] in kb_answer.follow_ups("storage", query), query


# -- (a) the confidence label agrees with the words ---------------------------------------------------

def _weak_answer(score: float, confidence: float, label: str, mode: str = "kb_only") -> dict:
    top = _match("release-upgrade-how-to", score)
    fields = kb_answer.compose("how do I go from omv 6 to omv 7", "general", [top, _match("apt-update-fails", 0.13)],
                               [], "stub", _Box())
    answer = {"mode": mode, "context": "general", "confidence": confidence, "confidence_label": label, **fields,
              "matched_patterns": [{k: m[k] for k in ("pattern_id", "title", "category", "score", "reasons")}
                                   for m in (top, _match("apt-update-fails", 0.13))]}
    answer["confidence_label"] = kb_answer.confidence_label(answer)  # as the engine sets it for every client
    return answer


def test_a_weak_best_match_does_not_read_medium_confidence():
    """Fifteenth review's N9 "how do I go from omv 6 to omv 7": release-upgrade-how-to at 0.17, confidence 65 %
    by the seed rule (0.5 + the mean score), before: "confidence 65% (medium)" above "No pattern matches this
    question well; the closest is a weak match". The label was wrong; the number stays the rule's."""
    answer = _weak_answer(0.17, 0.65, "medium")
    assert "No pattern matches this question well" in answer["analysis"]
    head = cli_ask.render(answer, width=100).splitlines()[0]
    assert head.endswith("confidence 65% (low)"), head
    # a best match that is not weak keeps the rule's label; an LLM answer is not the KB's to relabel
    assert cli_ask.render(_weak_answer(0.45, 0.82, "high"), width=100).splitlines()[0].endswith("(high)")
    assert _weak_answer(0.17, 0.65, "medium", mode="llm")["confidence_label"] == "medium"


#: copilot-core.js and copilot-assistant.js loaded in node with the few browser globals they touch at load time,
#: and one answer (JSON on stdin) rendered by OmvCopilot.renderAnswer.
_RENDER_JS = r"""
const fs = require('fs'), vm = require('vm');
const ctx = {console};
ctx.window = ctx;
ctx.Ext6 = {String: {htmlEncode: s => s.replace(/[&<>"']/g, c => '&#' + c.charCodeAt(0) + ';')}};
ctx.document = {currentScript: null, querySelector: () => true, head: {appendChild() {}},
                createElement: () => ({setAttribute() {}})};
vm.createContext(ctx);
for (const f of ['copilot-core.js', 'copilot-assistant.js'])
  vm.runInContext(fs.readFileSync(process.argv[1] + '/' + f, 'utf8'), ctx);
process.stdout.write(ctx.OmvCopilot.renderAnswer(JSON.parse(fs.readFileSync(0, 'utf8')), 0, null));
"""


def test_the_web_ui_reads_the_same_label_as_the_cli():
    """The web UI's answer head said "65% (medium)" above the same weak-match analysis; it shows the label the
    engine set, as the CLI does."""
    import json
    import pathlib
    import shutil
    import subprocess

    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        pytest.skip("no node to run the web UI's renderer")
    app = pathlib.Path(__file__).resolve().parents[2] / "webui-extjs" / "app"

    def head(answer):
        html = subprocess.run([node, "-e", _RENDER_JS, str(app)], input=json.dumps(answer), capture_output=True,
                              text=True, check=True, timeout=60).stdout
        return html[html.index('class="ocp-conf"'):html.index("</span></div>")]

    assert head(_weak_answer(0.17, 0.65, "medium")).endswith("65% (low)")
    assert head(_weak_answer(0.45, 0.82, "high")).endswith("82% (high)")


# -- (c) "the raid" on a box with no md array ----------------------------------------------------------

NO_MD = "This box shows no md RAID array right now (the last reading of /proc/mdstat lists none)"


def _analysis(query: str, box, *diags) -> str:
    return kb_answer.compose(query, "storage", [_match("raid-create-no-candidate-disks", 0.46, diagnostics=list(diags))],
                             [], "stub", box)["analysis"]


def test_a_question_about_the_raid_is_told_the_box_has_no_md_array():
    """Fifteenth review's S1 "which of my disks dropped out of the raid" on a box with no md array, before: nothing
    said it has none, as the top pattern has no {md_device}. The box's md arrays bear on a question about its raid:
    that it shows none is the first thing to know (said once, and not as "the advice below is not about this box",
    which the advice need not be)."""
    text = _analysis("which of my disks dropped out of the raid", _Box())
    assert NO_MD + ": if one should be there, it is not assembled or its disks are missing." in text, text
    assert "the advice below is not about this box" not in text
    # advice about an array says it by its own sentence, once
    text = _analysis("which of my disks dropped out of the raid", _Box(), {"name": "Array detail", "probe": "md-detail",
                                                                           "params": {"md_device": "{md_device}"}})
    assert text.count(NO_MD) == 1 and "the advice below is not about this box" in text, text


@pytest.mark.parametrize("query, box", [
    ("which of my disks dropped out of the raid", _Box(raid=["md0"])),      # the box has an array
    ("my zfs raidz pool shows a disk missing", _Box()),                       # another kind of raid
    ("my btrfs raid1 is degraded", _Box()),
    ("a disk dropped out and the share is gone", _Box()),                     # no raid spoken of
])
def test_no_md_array_is_said_only_when_it_bears_on_the_question(query, box):
    assert NO_MD not in _analysis(query, box)


@pytest.mark.parametrize("query", [
    "can't log in to the webui, it shows 502 bad gateway, and omv-firstaid \"configure web control panel\" says ERROR: "
    "[Errno 11] Resource temporarily unavailable",
    "the web interface hangs on Loading... since yesterday",
    "web ui login page is blank after the update",
])
def test_the_web_ui_named_is_the_service(query):
    """N4 "can't log in to the webui, it shows 502 bad gateway ...", before: "Which service and which client show the
    problem?" - the web UI (served by nginx, which the question naming it already counted) in a browser."""
    assert kb_answer.FOLLOW_UPS["service"][0] not in kb_answer.follow_ups("service", query)


def test_a_share_path_named_answers_which_share():
    """N8 "nfs mount of 192.168.1.10:/export/media fails with permission denied ...", before: "Which user or share is
    affected?" - it named the share's path."""
    assert kb_answer.FOLLOW_UPS["security"][0] not in kb_answer.follow_ups("security", NFS_Q)
    assert kb_answer.FOLLOW_UPS["security"][0] not in kb_answer.follow_ups("security", r"\\nas\photos says access denied")
    assert kb_answer.FOLLOW_UPS["security"][0] in kb_answer.follow_ups("security", "access denied on a share")


def test_a_denied_message_the_question_gives_is_not_asked_for():
    """N8 "... fails with permission denied, state 13 ...", before: "What exact 'denied' or login message do you
    see?" - it gave it."""
    for query in (NFS_Q, "mount.nfs: access denied by server while mounting", "windows says Access is denied",
                  "smbclient fails with NT_STATUS_LOGON_FAILURE"):
        assert kb_answer.FOLLOW_UPS["security"][1] not in kb_answer.follow_ups("security", query), query
    assert kb_answer.FOLLOW_UPS["security"][1] in kb_answer.follow_ups("security", "I cannot get into the share")


def test_the_api_answer_carries_the_label_the_clients_show(make_config, monkeypatch):
    """The API's JSON said "medium" where the CLI and the web UI said "low": the engine sets the label once."""
    from omv_copilot_agent.knowledge.matcher import Match
    from tests.assist_helpers import make_agent

    agent = make_agent(make_config)
    try:
        kb = agent.knowledge
        scored = [("release-upgrade-how-to", 0.17), ("apt-update-fails", 0.13)]
        monkeypatch.setattr(kb, "search", lambda query, snapshot=None, limit=5: [
            Match(pid, kb.patterns[pid]["title"], kb.patterns[pid]["category"], score, ["words: stub"], kb.patterns[pid])
            for pid, score in scored][:limit])
        answer = agent.assist.ask("how do I go from omv 6 to omv 7", mode="kb_only")
        assert answer["confidence"] == 0.65 and answer["confidence_label"] == "low"
        scored[:] = [("release-upgrade-how-to", 0.9)]
        assert agent.assist.ask("how do I go from omv 6 to omv 7", mode="kb_only")["confidence_label"] == "high"
    finally:
        agent.close()


def test_the_error_message_follow_up_does_not_assume_a_client():
    """The sixteenth review's N6/N7 (a borg job that never runs) and N10 (a missing menu) were asked "What exact
    error message does the client show?": a scheduled job or a page of the web UI has no client."""
    for query in ("my borgbackup archive never runs at 5 past the hour", "the omv-extras page has no docker drop-down"):
        asked = kb_answer.follow_ups("service", query)
        assert any("error message" in q for q in asked), asked
        assert not any("client show" in q for q in asked), asked  # the old wordings both said so
