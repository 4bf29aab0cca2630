"""Ranking: realistic admin queries find their pattern in the top 3; scores and reasons are sound."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.knowledge_queries import QUERIES
from omv_copilot_agent.knowledge import KnowledgeBase, matcher, text


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase(ROOT / "patterns")


def test_query_set_is_large_and_covers_many_patterns(kb):
    assert len(QUERIES) >= 40
    assert all(expected in kb.patterns for _, expected in QUERIES)
    assert len({expected for _, expected in QUERIES}) >= 40


@pytest.mark.parametrize("query,expected", QUERIES, ids=[q for q, _ in QUERIES])
def test_expected_pattern_in_top_3(kb, query, expected):
    results = kb.search(query, limit=3)
    ids = [m.pattern_id for m in results]
    assert expected in ids, f"{query!r}: expected {expected}, got {[(m.pattern_id, round(m.score, 2)) for m in results]}"


def test_top_1_accuracy_is_high(kb):
    top1 = sum(1 for q, e in QUERIES if kb.search(q, limit=1)[0].pattern_id == e)
    assert top1 / len(QUERIES) >= 0.85, f"top-1 {top1}/{len(QUERIES)}"


def test_scores_in_unit_interval_sorted_and_reasons_name_the_words(kb):
    results = kb.search("samba share not accessible from windows", limit=10)
    assert results
    scores = [m.score for m in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    best = results[0]
    assert best.pattern_id == "smb-share-not-accessible"
    assert best.reasons[0].startswith("words: ") and "smb" in best.reasons[0]
    as_dict = best.to_dict()
    assert set(as_dict) == {"pattern_id", "title", "category", "score", "reasons"}


def test_typos_are_tolerated_and_explained(kb):
    best = kb.search("smaba shair not acessible", limit=1)[0]
    assert best.pattern_id == "smb-share-not-accessible"
    assert "'smaba'≈'samba'" in best.reasons[0] or "smb" in best.reasons[0]


def test_synonyms_and_light_stemming():
    assert "smb" in text.tokens("samba")
    assert "performance" in text.tokens("nas slow")
    assert text.stem("mounting") == "mount" and text.stem("disks") == "disk" and text.stem("failed") == "fail"
    assert text.stem("stopped") == "stop" and text.stem("policies") == "policy"


def test_nonsense_and_empty_queries_return_nothing(kb):
    assert kb.search("", limit=5) == []
    assert kb.search("   ", limit=5) == []
    assert kb.search("qwertzuiop zxcvbnm", limit=5) == []


def test_vague_query_is_raised_by_findings(kb):
    snapshot = {"sources": {"storage": {"status": "ok", "data": {"raid": [
        {"name": "md0", "level": "raid1", "state": "active", "degraded": True, "action": None}]}}}}
    assert kb.search("something is wrong") == []
    results = kb.search("something is wrong", snapshot)
    assert results[0].pattern_id == "mdadm-degraded"
    assert any(r.startswith("finding: raid-degraded") and "md0" in r for r in results[0].reasons)
    assert 0 < results[0].score <= 1
    # text + signal beats text alone for the same pattern
    plain = {m.pattern_id: m.score for m in kb.search("raid degraded", limit=5)}
    boosted = {m.pattern_id: m.score for m in kb.search("raid degraded", snapshot, limit=5)}
    assert boosted["mdadm-degraded"] > plain["mdadm-degraded"]


def test_state_alone_does_not_outrank_what_was_asked(kb):
    """A question whose words match patterns gets those; a signal-only pattern does not jump ahead."""
    snapshot = {"sources": {"storage": {"status": "ok", "data": {"raid": [
        {"name": "md0", "level": "raid1", "state": "active", "degraded": True, "action": None}]}}}}
    results = kb.search("smb", snapshot, limit=5)  # text scores ≈ 0.5: a state-only 0.6 used to come first
    assert results and all(any(r.startswith("words: ") for r in m.reasons) for m in results)
    assert "mdadm-degraded" not in [m.pattern_id for m in results]


def test_feedback_nudges_within_bounds_and_shows_in_reasons(kb):
    base = {m.pattern_id: m for m in matcher.rank(kb.index, "smb password", limit=10)}
    pid = "smb-windows-credentials"
    up = {m.pattern_id: m for m in matcher.rank(kb.index, "smb password", limit=10, feedback={pid: (1000, 0)})}
    down = {m.pattern_id: m for m in matcher.rank(kb.index, "smb password", limit=10, feedback={pid: (0, 1000)})}
    assert up[pid].score == pytest.approx(min(1.0, base[pid].score + matcher.FEEDBACK_CAP))
    assert down[pid].score == pytest.approx(base[pid].score - matcher.FEEDBACK_CAP)
    assert any(r.startswith("feedback: +0.10 (1000 helpful") for r in up[pid].reasons)
    assert matcher.feedback_nudge((3, 1)) == pytest.approx(2 * matcher.FEEDBACK_STEP)


def test_feedback_from_a_broken_store_does_not_break_search():
    class BrokenStore:
        def feedback_counts(self):
            raise RuntimeError("database is locked")

    kb = KnowledgeBase(ROOT / "patterns", store=BrokenStore())
    assert kb.search("web ui 502 bad gateway")[0].pattern_id == "webui-502-bad-gateway"


def test_bench_script_runs_and_prints_its_table():
    """bench/knowledge.py is what docs/benchmarks.md quotes; keep it runnable (no timing asserted)."""
    import subprocess

    from tests.conftest import PYTHON

    result = subprocess.run([PYTHON, str(ROOT / "bench" / "knowledge.py")], capture_output=True, text=True, timeout=300,
                            env={"KNOWLEDGE_BENCH_REPEAT": "1", "KNOWLEDGE_BENCH_SYNTHETIC": "50", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "MATCH p50 ms" in result.stdout and "shipped + 50 synthetic" in result.stdout
    assert f"{len(QUERIES)}/{len(QUERIES)} (100 %)" in result.stdout.splitlines()[3]


#: tools/rank-unseen on the tuned split, the case's own patterns left out (docs/knowledge.md "Ranking
#: problems it has not seen"): 0.322 / 0.678 on 241 patterns before the sixth session's ranking
#: changes, 0.364 / 0.736 after. A ratchet: raise it when a ranking change lifts it, never lower it for
#: a ranking change. Lowered once for a change of population: kbB's patterns cite 9 more tuned cases'
#: threads (109 of 121 now lose a pattern, 100 before), and one of them (installscript-123, "relevant"
#: before only through an unrelated pattern) then matches nothing: 0.364 / 0.727 on 249 patterns.
#: Eighth session (313 patterns; batch 3's 12 tuned cases added, none of them with a pattern written from it):
#: 0.376 / 0.752 on 133. Ninth session (334 patterns): 0.383 / 0.767 (51 / 102 of 133). Without the design
#: patterns' exception in evalset.written_from it would read 41 / 95 (see there).
#: Tenth session (344 patterns): 52 / 102. Eleventh: 51 / 96 when the judge stopped reading a pattern's
#: sources: and related_patterns: (tests/eval/run.py NOT_ADVICE; lowered for a change of measure: without the
#: floor 52 / 113, and the refit on the new labels raised the floor 0.100 -> 0.131).
#: After the eleventh session's patterns (358): 54 / 100. Twelfth (371): 55 / 101. Thirteenth (381): 55 / 100.
#: Fourteenth (390): 59 / 102 (kbA's web UI and Apply wordings: 55 -> 61 on its branch; two near-ties,
#: omv-720 and omv-1141, flip with most refits, so two cases of slack are kept). Fifteenth (397): 59 / 103.
#: Sixteenth (410): 61 / 103 (kbB's pam_tally2 pattern, from threads other than the case's; two cases of slack).
UNSEEN_FLOORS = {"fix_top1": 0.44, "relevant_top3": 0.75}
#: The same with the design's patterns left out too when they cite the case (rank-unseen's "strict"
#: line, tenth session: 41 / 96 of 133 at its start, 43 / 97 after its merges): the reading no
#: design-pattern extension can lift. Eleventh session, the stricter judge: 40 / 89.
#: After the eleventh session's patterns: 44 / 93. Twelfth: 46 / 96 (one case of slack kept: most refits move
#: a case on the floor's edge). Fourteenth: 50 / 97 (two cases of slack kept, as above). Sixteenth: 52 / 98.
STRICT_FLOORS = {"fix_top1": 0.375, "relevant_top3": 0.71}


def test_ranking_of_problems_it_has_not_seen_holds_its_floor(kb):
    """The tuned questions ranked without the patterns written from their own thread: a ranking
    change that only helps a pattern's own thread (its copied wording) does not lift this."""
    from tests.conftest import load_tool

    tool = load_tool("rank-unseen")
    result = tool.measure(kb, tool.tuned_cases())
    assert result["cases"] >= 100 and result["with_patterns_left_out"] >= result["cases"] // 2
    for metric, floor in UNSEEN_FLOORS.items():
        assert result["unseen"][metric]["rate"] >= floor, (metric, result["unseen"][metric])
        # the regime that hides a case's own patterns can only do worse than the one that shows them
        assert result["unseen"][metric]["rate"] <= result["seen"][metric]["rate"]
    for metric, floor in STRICT_FLOORS.items():
        assert result["strict"][metric]["rate"] >= floor, ("strict", metric, result["strict"][metric])
    assert result["unseen"]["fix_top1"]["hits"] <= result["unseen_ceiling"]["fix_top1"]["hits"]
    row = next(r for r in result["rows"] if r["left_out"])
    assert not set(row["left_out"]) & set(row["unseen"]["top"])  # the left-out patterns are really out
    # where the nearest holder of each fix ranks: every case counted once; a fix on top after the floor was on
    # top before it; "no pattern holds it" is what the ceiling leaves out
    holder = result["unseen_holder"]
    assert sum(holder.values()) == result["cases"]
    assert holder["top"] >= result["unseen"]["fix_top1"]["hits"]
    assert holder["none"] == result["cases"] - result["unseen_ceiling"]["fix_top1"]["hits"]
    ranks = {r["id"]: r["unseen_holder_rank"] for r in result["rows"]}
    assert all(ranks[r["id"]] == 1 for r in result["rows"] if r["unseen"]["fix_top1"])


def test_rank_unseen_without_the_floor_measures_the_ranking_alone(kb):
    """``tools/rank-unseen --no-floor``: the same order, only nothing cut by the relevance floor.

    Why: the floor follows one off-topic question's best match, so a ranking change moves it and
    relevant@3 with it while the order is unchanged; the bare ranking separates the two."""
    from tests.conftest import load_tool

    tool = load_tool("rank-unseen")
    cases = tool.tuned_cases()[:25]
    floored, bare = tool.measure(kb, cases), tool.measure(kb, cases, min_score=0.0)
    assert floored["floor"] == matcher.MODEL["floor"] > 0 and bare["floor"] == 0.0
    for cut, whole in zip(floored["rows"], bare["rows"]):
        for regime in ("seen", "unseen"):
            assert whole[regime]["top"][:len(cut[regime]["top"])] == cut[regime]["top"]  # the floor only cuts
    assert any(len(whole["unseen"]["top"]) > len(cut["unseen"]["top"]) for cut, whole in zip(floored["rows"], bare["rows"]))
    assert bare["unseen"]["relevant_top3"]["hits"] >= floored["unseen"]["relevant_top3"]["hits"]


#: Log lines and questions that two patterns shared or that a loose trigger sent elsewhere (eighth
#: session's review): each pattern of an overlapping pair must rank first for its own wording.
OWN_WORDING = [
    ("mount: unknown filesystem type 'ntfs'", "ntfs-exfat-data-disk"),
    ("mount: /proc/fs/nfsd: unknown filesystem type 'nfsd'", "nfs-server-fails-to-start"),
    ("Failed to start Avahi mDNS/DNS-SD Stack.", "zeroconf-service-announcements"),
    ("Failed to start Docker Application Container Engine.", "docker-daemon-not-running"),
    ("failed to start daemon: Error initializing network controller", "docker-daemon-not-running"),
    ("toomanyrequests: You have reached your pull rate limit", "docker-image-pull-fails"),
    ("apply of the filebrowser plugin fails: toomanyrequests you have reached your pull rate limit",
     "podman-plugin-image-pull"),
    ("how do i upgrade from omv 6 to 7", "release-upgrade-how-to"),
    ("i upgraded debian with apt dist-upgrade but openmediavault stayed on the old version", "omv-debian-release-mismatch"),
    ("iptables: Table does not exist (do you need to insmod?)", "kernel-modules-missing-until-reboot"),
    ("can't initialize iptables table nat: Table does not exist (do you need to insmod?)", "docker-daemon-not-running"),
    ("docker does not start after a kernel update", "docker-daemon-not-running"),
]


@pytest.mark.parametrize("query,expected", OWN_WORDING, ids=[q for q, _ in OWN_WORDING])
def test_each_pattern_of_an_overlapping_pair_wins_its_own_wording(kb, query, expected):
    results = kb.search(query, limit=3)
    assert results and results[0].pattern_id == expected, \
        f"{query!r}: expected {expected} first, got {[(m.pattern_id, round(m.score, 2)) for m in results]}"


def test_ok_is_a_stop_word_not_smb_configuration(kb):
    """'ok' is how users end a question ("is my raid ok"); as a word it only names smb.conf's 'guest ok', so
    the review of 2026-12-07 saw "is my raid ok" answered by the SMB guest pattern (0.15)."""
    top = kb.search("is my raid ok", limit=1)
    assert top and top[0].pattern_id.startswith("mdadm-"), top
    assert kb.search("is my raid okay", limit=1)[0].pattern_id == top[0].pattern_id
    assert kb.search("guests cannot write to my public smb share", limit=1)[0].pattern_id == "smb-guest-share-access"


#: The fifteenth session's answer review (docs/review-2026-12-07-fifteenth.md, questions N4, N6, N7, N9, S1):
#: each question's topic must rank first, and its answer must hold the fix (a substring of the top pattern's text).
REVIEW_FIFTEENTH = [
    ("net use to the share works but when I open the drive windows says Access is denied, smbd logs "
     "change_to_user_internal: chdir_current_service() failed", "smb-permission-denied", "chdir_current_service"),
    ("my raid1 file system is not mounted automatically after a reboot anymore, mount -a mounts it fine",
     "fs-not-mounted-after-reboot", "/proc/mdstat"),
    ("which of my disks dropped out of the raid", "mdadm-degraded", "(f)"),
    ("smart keeps warning me about 8 reallocated sectors on sdc every day, the number never changes",
     "smart-reallocated-sectors", "-r 5!"),
    ("how do I go from omv 6 to omv 7 and keep all my settings, can omv-regen do it", "release-upgrade-how-to",
     "omv-regen"),
]


@pytest.mark.parametrize("query,expected,fix", REVIEW_FIFTEENTH, ids=[e for _, e, _ in REVIEW_FIFTEENTH])
def test_review_questions_get_their_topic_first_with_the_fix(kb, query, expected, fix):
    results = kb.search(query, limit=3)
    assert results and results[0].pattern_id == expected, \
        f"{query!r}: expected {expected} first, got {[(m.pattern_id, round(m.score, 2)) for m in results]}"
    import yaml
    body = {k: v for k, v in kb.patterns[expected].items() if k not in ("sources", "related_patterns")}
    assert fix in yaml.safe_dump(body, width=10**6).lower()


def test_a_spin_down_question_about_the_home_assistant_integration_does_not_list_the_password_pattern(kb):
    """N1 of the fifteenth review: webui-password-lost came second (0.22) through 'anymore' and the integration."""
    ids = [m.pattern_id for m in kb.search("since I installed the home assistant openmediavault integration my "
                                           "disks sdb and sdc never spin down anymore, they wake up right away")]
    assert ids and ids[0] == "smart-wakes-disks" and "webui-password-lost" not in ids[:3]



#: The sixteenth session's answer review (docs/review-2026-12-07-sixteenth.md, "Pattern defects for the lead": N1,
#: N9) and a defect the seventeenth session's authors left: each question's topic must rank first, and its answer
#: must hold the fix (a substring of the top pattern's text).
REVIEW_SIXTEENTH = [
    ("omv-salt deploy run compose fails with exit code 1 when I save the compose settings, the state ID: docker "
     "Function: service.running shows Result: False", "apply-service-start-failed", "journalctl -u {unit}"),
    ("my omv runs from a 16GB usb stick, df shows / at 100% and now it turned read-only, I never installed the "
     "flashmemory plugin", "os-flash-media-worn", "df -h /"),
    ("the time in the web ui is wrong", "time-ntp-wrong", "chrony"),
]


@pytest.mark.parametrize("query,expected,fix", REVIEW_SIXTEENTH, ids=[e for _, e, _ in REVIEW_SIXTEENTH])
def test_sixteenth_review_questions_get_their_topic_first_with_the_fix(kb, query, expected, fix):
    test_review_questions_get_their_topic_first_with_the_fix(kb, query, expected, fix)


def test_an_apply_that_cannot_start_a_service_is_the_services_problem(kb):
    """N1: by docs/knowledge.md's context convention Apply only reports a service that does not start; the pattern
    was labelled general, so a compose apply failure got the general context's follow-ups."""
    from omv_copilot_agent.assist import router

    assert router.pattern_context(kb.patterns["apply-service-start-failed"]) == "service"


def test_a_raid1_size_question_that_names_no_btrfs_is_not_a_sure_btrfs_answer(kb):
    """'my raid1 shows the wrong size' went to btrfs-raid-size-shows-raw-total at 0.97: a trigger said RAID1
    without Btrfs and its words held 'wrong size' (an md RAID1 or a mergerfs pool is as likely). With Btrfs
    named it still leads."""
    plain = {m.pattern_id: m.score for m in kb.search("my raid1 shows the wrong size", limit=5)}
    assert plain.get("btrfs-raid-size-shows-raw-total", 0.0) < 0.9, plain
    named = kb.search("my btrfs raid1 shows double the size of one disk", limit=1)
    assert named and named[0].pattern_id == "btrfs-raid-size-shows-raw-total" and named[0].score >= 0.9
