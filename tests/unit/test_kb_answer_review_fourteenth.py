"""Fourth review of the KB-only answer (docs/review-2026-12-07-fourteenth.md): one test per fix, each
failing on the code before it. The matches and the box's signals are stubbed, so what is tested is
the composition, not the ranking.
"""

from __future__ import annotations

from omv_copilot_agent.assist import kb_answer
from tests.unit.test_kb_answer_review_thirteenth import _match, _signal  # the stubs of one match and one signal


CPU_BUSY = _signal("high-cpu-process", "cpu-busy on cpu: CPU 100% busy (threshold 90%)", "performance")


# -- the box's state only where it bears on the question ------------------------------------------

def test_a_weak_related_match_does_not_bring_the_boxs_state_in():
    """N6 "after updating to 8.0-10 I can't log in to the web ui, every login leaves a php process waiting for
    sendmail/postdrop", before: "The box's state bears on this: CPU 100% busy (threshold 90%)." - said because
    high-cpu-process was a related match at 0.15, a word overlap, not a topic of the question."""
    q = "after updating to 8.0-10 I can't log in to the web ui, every login leaves a php process waiting for sendmail"
    matches = [_match("engined-not-running", 0.23), _match("high-cpu-process", 0.15)]
    text = kb_answer.compose(q, "security", matches, [CPU_BUSY], "stub")["analysis"]
    assert "CPU 100% busy" not in text, text
    # the same state bears when its pattern is the (even weak) best match, or a related match that is not weak
    for matches in ([_match("high-cpu-process", 0.23)],
                    [_match("engined-not-running", 0.8), _match("high-cpu-process", 0.45)]):
        text = kb_answer.compose("the web ui is sluggish", "performance", matches, [CPU_BUSY], "stub")["analysis"]
        assert "The box's state bears on this: CPU 100% busy (threshold 90%)." in text, (matches, text)


# -- follow-up questions do not ask for what the question already says ------------------------------

def test_follow_ups_do_not_ask_for_the_disk_the_question_names():
    """N8 "... hdparm -C /dev/sdb always says active/idle" and N10 "the disks in my /dev/md0 never go to standby",
    before: "Which disk or filesystem is affected (device or mount point)?" under an answer that filled /dev/sdb."""
    for q in ("my WD drives never spin down, hdparm -C /dev/sdb always says active/idle",
              "the disks in my /dev/md0 never go to standby", "sdc clicks", "/srv/dev-disk-by-uuid-1234 is full"):
        for matches in ([_match("usb-disk-sleep", 0.88)], []):
            ups = kb_answer.compose(q, "storage", matches, [], "stub")["follow_up_questions"]
            assert not any(u.startswith("Which disk") for u in ups), (q, ups)
            assert "Did anything change recently (new disk, power loss, OMV update)?" in ups, (q, ups)
    ups = kb_answer.compose("my disks never spin down", "storage", [_match("usb-disk-sleep", 0.88)], [], "stub")
    assert "Which disk or filesystem is affected (device or mount point)?" in ups["follow_up_questions"], ups


def test_follow_ups_do_not_ask_which_service_when_the_question_names_one():
    """N5 "... postfix says relayhost configuration problem", N7 "my rsync job ...", N4 "... compose plugin ...",
    before: "Which service and which client show the problem?" under the postfix, rsync and compose answers."""
    for q in ("set the notification smtp server to localhost and now postfix does not relay any mail",
              "my rsync job to a remote server fails when the internet drops",
              "changing the compose and data shared folders in the compose plugin settings fails when I apply"):
        ups = kb_answer.compose(q, "service", [_match("a-pattern", 0.9)], [], "stub")["follow_up_questions"]
        assert not any(u.startswith("Which service") for u in ups), (q, ups)
        assert kb_answer.FOLLOW_UPS["service"][1] in ups, (q, ups)
    ups = kb_answer.compose("something fails", "service", [_match("a-pattern", 0.9)], [], "stub")["follow_up_questions"]
    assert kb_answer.FOLLOW_UPS["service"][0] in ups, ups


def test_follow_ups_do_not_ask_how_fast_when_the_question_says_it():
    """N1 "reading from my smb share is only 200 MB/s but writing is 600 MB/s", asked in the performance context:
    "How fast is it compared to what you expect (MB/s)?"."""
    for q in ("reading from my smb share is only 200 MB/s but writing is 600 MB/s", "copy runs at 30mbps",
              "transfers crawl at 3.5 MB/s", "only 100 Mbit/s over a 1 gbit link"):
        ups = kb_answer.compose(q, "performance", [], [], "stub")["follow_up_questions"]
        assert not any(u.startswith("How fast") for u in ups), (q, ups)
    ups = kb_answer.compose("my share is slow", "performance", [], [], "stub")["follow_up_questions"]
    assert "How fast is it compared to what you expect (MB/s)?" in ups, ups


def test_follow_ups_do_not_ask_for_the_message_the_question_quotes():
    """N5 "... postfix says relayhost configuration problem ...", N7 "... syslog only says The synchronisation
    failed", before: "What exact error message does the client show?" under answers matched on those words."""
    for q, context in (("now postfix says relayhost configuration problem and no mails go out", "service"),
                       ("my rsync job fails, syslog only says The synchronisation failed", "service"),
                       ('apply fails with "Job for nfs-server.service canceled"', "service"),
                       ("omv-salt deploy run nfs gives error: Dependency failed for NFS server", "service"),
                       ("ssh login refused, auth.log says Permission denied (publickey)", "security")):
        ups = kb_answer.compose(q, context, [_match("a-pattern", 0.9)], [], "stub")["follow_up_questions"]
        assert not any("exact" in u for u in ups), (q, ups)
    # an error the question only mentions is still asked for
    for q, context in (("adding enp8s0 gives an error", "service"), ("I can't log in, it's refused", "security"),
                       ("omv-salt deploy run compose errors", "service")):
        ups = kb_answer.compose(q, context, [_match("a-pattern", 0.9)], [], "stub")["follow_up_questions"]
        assert any("exact" in u for u in ups), (q, ups)
