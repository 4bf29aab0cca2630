"""Assist building blocks: routing, prompt budget, reply parsing, confidence, redaction, Mermaid."""

from __future__ import annotations

import json

import pytest

from tests.assist_helpers import PRIVATE, check_mermaid, fixture_snapshot, realistic_sections


# -- routing -------------------------------------------------------------
def test_router_seed_triggers_are_the_floor():
    from omv_copilot_agent.assist import router

    seed = {"storage": ["disk", "storage", "zfs", "raid", "filesystem"],
            "network": ["network", "connection", "firewall", "vpn", "interface"],
            "service": ["smb", "nfs", "ftp", "ssh", "plex", "service"],
            "performance": ["slow", "performance", "cpu", "memory", "load"],
            "security": ["permission", "access", "security", "auth", "vulnerability"]}
    for context, words in seed.items():
        for word in words:
            assert router.route(f"question about {word} here")[0] == context, word
    assert router.route("hello there")[0] == "general"


def test_router_whole_words_only():
    from omv_copilot_agent.assist import router

    # "loader" is not "load", "diskette" not "disk", "sharepoint" not "share"
    assert router.route("the bootloader and diskette reader")[0] == "general"
    assert router.score("download")["performance"] == 0


def test_router_picks_by_score_not_dict_order():
    from omv_copilot_agent.assist import router

    # one storage word, two service words → service although storage comes first in CONTEXTS
    assert router.route("smb share on my disk")[0] == "service"
    assert router.route("raid disk zfs via smb")[0] == "storage"


def test_router_tie_is_broken_by_fixed_priority():
    from omv_copilot_agent.assist import router

    assert router.route("network disk")[0] == "storage"
    assert router.route("disk network")[0] == "storage"


def test_findings_tip_slow_to_storage_on_degraded_array():
    from omv_copilot_agent import findings
    from omv_copilot_agent.assist import router

    assert router.route("everything is slow")[0] == "performance"
    ctx, details = router.route("everything is slow", findings.evaluate(fixture_snapshot()))
    assert ctx == "storage", details


def test_requested_context_wins():
    from omv_copilot_agent.assist import router

    assert router.route("slow smb", requested="security")[0] == "security"


def test_router_reads_phrases_before_words():
    from omv_copilot_agent.assist import router

    # issue 16: a web UI answering 502 is a service problem although 'gateway' is a network word
    assert router.route("nginx 502 bad gateway")[0] == "service"
    assert router.route("the web interface shows bad gateway")[0] == "service"
    # "web interface" names no network interface: alone it is no trigger at all
    assert router.route("the web interface has missing fields")[0] == "general"
    assert router.route("the network interface is down")[0] == "network"
    assert router.score("i cannot log in")["security"] > 0


def test_router_problem_words_outweigh_the_part():
    from omv_copilot_agent.assist import router

    # access → security although the question names the SMB service or SSH (issue 16's rule)
    assert router.route("smb password refused")[0] == "security"
    assert router.route("ssh login as root fails")[0] == "security"
    assert router.route("enable root login over ssh")[0] == "security"
    assert router.route("sshd_config changes are wiped")[0] == "security"
    # throughput → performance
    assert router.route("copying to the nas maxes at 1gbit")[0] == "performance"
    assert router.score("only 100M-200Mbps, 40 MB/s on wifi")["performance"] == 1  # one rate word, however written
    # a part without a problem word stays with the part
    assert router.route("smb share on my disk")[0] == "service"


def _pattern(context: str, title: str, symptoms: list[str], category: str = "services") -> dict:
    return {"title": title, "category": category, "symptoms": symptoms, "triggers": [], "keywords": [],
            **({"context": context} if context else {})}


def test_router_word_model_learns_each_context_from_the_patterns_text():
    from omv_copilot_agent.assist import router
    from omv_copilot_agent.knowledge import matcher

    patterns = {"a": _pattern("security", "Account locked after wrong passwords", ["faillock locked me out"]),
                "b": _pattern("", "Share not visible in the windows explorer", ["share missing in explorer"]),
                "c": _pattern("general", "Plugin list is empty", ["no plugins listed"], category="hardware"),
                "d": _pattern("", "Disk temperature too hot", ["disk runs hot"], category="hardware")}
    words = router.ContextWords(matcher.Index(patterns))
    assert set(words.counts) == {"security", "service", "general", "storage"}  # context:, else the category's
    post = words.posterior("my account is locked")
    assert max(post, key=post.get) == "security" and abs(sum(post.values()) - 1) < 1e-9
    assert max(words.posterior("the plugins are missing").items(), key=lambda kv: kv[1])[0] == "general"
    assert words.posterior("how do i bake bread") == {}
    # the word model tips a tie of trigger words (old routing: a tie went to the fixed priority)
    assert router.route("disk share in the explorer")[0] == "storage"
    assert router.route("disk share in the explorer", words=words)[0] == "service"
    # no trigger word: still general before any pattern matched (an off-topic question stays general)
    assert router.route("my account", words=words)[0] == "general"


def test_router_word_model_is_built_once_per_index():
    from omv_copilot_agent.assist import router
    from omv_copilot_agent.knowledge import matcher

    patterns = {"a": _pattern("security", "Account locked", ["locked out"])}
    index = matcher.Index(patterns)
    assert router.words_of(index) is router.words_of(index)
    assert router.words_of(matcher.Index(patterns)) is not router.words_of(index)


def test_router_issue_examples_with_the_shipped_patterns():
    """Issue 16's own examples, through the words, the learnt word model and the shipped patterns' votes."""
    from omv_copilot_agent.assist import router
    from omv_copilot_agent.knowledge import KnowledgeBase
    from tests.conftest import ROOT

    kb = KnowledgeBase(ROOT / "patterns")
    words = router.words_of(kb.index)

    def context(question: str) -> str:
        chosen, details = router.route(question, None, None, words)
        return router.by_pattern(chosen, details, [m.to_dict(with_pattern=True) for m in kb.search(question)])[0]

    assert context("my web ui shows 502 bad gateway") == "service"
    assert context("web interface says 502 after the upgrade") == "service"
    assert context("smb transfers only reach 40 MB/s") == "performance"
    assert context("copying to my smb share is slow over wifi") == "performance"
    assert context("samba password refused from windows") == "security"
    assert context("how do i bake sourdough bread") == "general"


def _match(pid: str, score: float, context: str | None = None, category: str = "services") -> dict:
    return {"pattern_id": pid, "category": category, "score": score,
            "pattern": {"category": category, **({"context": context} if context else {})}}


def test_router_matched_patterns_vote_for_the_context():
    from omv_copilot_agent.assist import router

    words = router.route("my nas is odd")  # no trigger word: general
    assert words[0] == "general"
    ctx, details = router.by_pattern(*words, [_match("webui-502-bad-gateway", 0.8)])
    assert ctx == "service" and details["reason"] == "patterns" and details["by_words"] == "general"
    # a pattern's own context: wins over its category's; hardware patterns are storage questions
    assert router.by_pattern(*words, [_match("cache", 0.8, context="general")])[0] == "general"
    assert router.by_pattern("general", {}, [_match("x", 0.8, category="hardware")])[0] == "storage"
    # two patterns that agree outvote a slightly better one (old routing: the top pattern alone decided)
    three = [_match("n", 0.5, category="network"), _match("s1", 0.4), _match("s2", 0.35)]
    assert router.by_pattern(*words, three)[0] == "service"
    # the words count too: one weak pattern does not overrule two security words
    words = router.route("password denied")
    assert router.by_pattern(*words, [_match("s", 0.3)])[0] == "security"


def test_router_weak_or_missing_pattern_leaves_the_words_context():
    from omv_copilot_agent.assist import router

    weak = _match("x", router.PATTERN_ROUTE_MIN - 0.01)
    assert router.by_pattern("network", {"reason": "score"}, [weak]) == ("network", {"reason": "score"})
    assert router.by_pattern("storage", {}, []) == ("storage", {})
    odd = dict(weak, score=0.9, pattern={"context": "kitchen"}, category="kitchen")
    assert router.by_pattern("storage", {}, [odd])[0] == "storage"


# -- prompt budget ---------------------------------------------------------
def test_prompt_budget_cuts_least_relevant_first_and_keeps_valid_json():
    from omv_copilot_agent.assist import prompt

    sections = prompt.state_sections(fixture_snapshot())
    full = json.dumps(sections, separators=(",", ":"), default=str)
    assert len(full) > 1500
    text, kept, dropped, trimmed = prompt.budget_state(sections, "storage", 1500)
    assert len(text) <= 1500 and dropped
    assert list(json.loads(text)) == kept  # parses: never cut in half; most relevant first
    assert kept[0] == "storage" and "storage" not in dropped
    # least relevant first: for storage, apt/network/omv go before smart/system
    order = prompt.RELEVANCE["storage"]
    assert all(order.index(d) > order.index(k) for d in dropped if d in order for k in kept if k in order)


@pytest.mark.parametrize("context", ["storage", "network", "service", "performance", "security", "general"])
def test_a_config_ten_times_the_budget_still_carries_the_most_relevant_state(context):
    """The old budget dropped a section whole when it alone exceeded the budget: with a busy
    box's configuration the security context's prompt carried no state at all."""
    from omv_copilot_agent.assist import prompt

    sections = realistic_sections()
    budget = 5000
    assert len(json.dumps(sections)) >= 10 * budget
    assert all(len(json.dumps(sections[order[0]])) > budget for order in prompt.RELEVANCE.values())
    text, kept, dropped, trimmed = prompt.budget_state(sections, context, budget)
    assert len(text) <= budget
    sent = json.loads(text)
    top = prompt.RELEVANCE[context][0]
    assert kept[0] == top and top in trimmed and top not in dropped
    # it carries real rows (not only "+N more" notes) and the largest share of the budget
    rows = [r for v in sent[top].values() if isinstance(v, list) for r in v if isinstance(r, dict)]
    assert rows, sent[top]
    sizes = {name: len(json.dumps(part)) for name, part in sent.items()}
    assert sizes[top] >= budget // 3 and sizes[top] == max(sizes.values()), sizes
    # the next most relevant section is there too, cut rather than dropped
    assert prompt.RELEVANCE[context][1] in kept


def test_journal_rows_are_cut_from_the_oldest():
    from omv_copilot_agent.assist import prompt

    logs = realistic_sections()["logs"]
    text, _cut = prompt.compact(logs, 1000, tail=True)
    assert "entry 83)" in text and "entry 0)" not in text and '"+' in text


def test_budget_in_model_tokens_rescales_until_it_fits():
    from omv_copilot_agent.assist import prompt

    sections = realistic_sections()
    calls = []

    def count(text):  # a tokenizer with 2 characters per token
        calls.append(len(text))
        return (len(text) + 1) // 2

    state = prompt.budget_state(sections, "storage", 5000, tokens=800, count=count)
    assert count(state.text) <= 800 and state.kept[0] == "storage"
    assert len(calls) <= 6  # measured, rescaled, measured again: not one call per row
    # without a tokenizer the character budget alone applies
    assert len(prompt.budget_state(sections, "storage", 5000, tokens=800, count=None).text) > 1600


def test_prompt_has_frame_patterns_query_and_format():
    from omv_copilot_agent.assist import prompt

    state = prompt.budget_state(prompt.state_sections(fixture_snapshot()), "storage", 5000)
    built = prompt.build("storage", "my raid is degraded", state,
                         [{"pattern_id": "mdadm-degraded", "title": "RAID degraded", "category": "storage", "score": 0.9,
                           "reasons": ["signal"], "summary": "array shows [U_]"}], [])
    assert "Storage Specialist" in built["system"] and "Prioritize data safety" in built["system"]
    user = built["user"]
    for needle in ("## Current system state", "[mdadm-degraded] RAID degraded", "## User query", "my raid is degraded",
                   '"follow_up_questions"'):
        assert needle in user
    state_line = user.split("\n")[1]
    json.loads(state_line)
    assert len(state_line) <= 5000


@pytest.mark.parametrize("context", ["storage", "network", "service", "performance", "security", "general"])
def test_every_specialist_template_renders(context):
    from omv_copilot_agent.assist import prompt

    built = prompt.build(context, "q", prompt.NO_STATE, [], [])
    assert "JSON" in built["system"] and built["user"].endswith("]}")


# -- parsing -----------------------------------------------------------------
GOOD = {"analysis": "a", "possible_causes": [{"cause": "c", "likelihood": "high"}], "suggested_diagnostics": [],
        "recommended_actions": [{"action": "x", "command": "ls", "risk": "low", "explanation": "e"}],
        "explanation": "ex", "follow_up_questions": ["q?"]}


@pytest.mark.parametrize("text", [
    json.dumps(GOOD),
    "```json\n" + json.dumps(GOOD) + "\n```",
    "Here you go:\n```\n" + json.dumps(GOOD) + "\n```\nHope it helps",
    json.dumps(GOOD) + "\n\nLet me know if you need more.",
    "Sure! " + json.dumps(GOOD),
])
def test_parse_json_whole_fenced_or_with_prose(text):
    from omv_copilot_agent.assist import parse

    fields, problems = parse.normalize(parse.extract_json(text), text)
    assert fields == GOOD and problems == []


def test_parse_fills_missing_and_coerces_strings():
    from omv_copilot_agent.assist import parse

    obj = {"analysis": "only this", "possible_causes": ["disk"], "recommended_actions": "replace it",
           "suggested_diagnostics": ["smartctl"], "follow_up_questions": "why?"}
    fields, problems = parse.normalize(obj, "")
    assert fields["possible_causes"] == [{"cause": "disk", "likelihood": "unknown"}]
    assert fields["recommended_actions"][0]["action"] == "replace it"
    assert fields["suggested_diagnostics"][0]["name"] == "smartctl"
    assert fields["follow_up_questions"] == ["why?"] and fields["explanation"] == ""
    assert problems == []


def test_a_reply_cut_in_half_is_text_not_its_first_inner_object():
    from omv_copilot_agent.assist import parse

    cut = json.dumps(GOOD, indent=2)[:-40]
    assert parse.extract_json(cut) is None  # not {"cause": "disk", ...}
    fields, problems = parse.normalize(None, cut)
    assert fields["analysis"] == cut.strip() and problems


def test_parse_prose_keeps_raw_text():
    from omv_copilot_agent.assist import parse

    fields, problems = parse.normalize(parse.extract_json("Just restart samba."), "Just restart samba.")
    assert fields["analysis"] == "Just restart samba." and problems


# -- confidence (seed rule) --------------------------------------------------------
@pytest.mark.parametrize("scores,expected", [
    ([], 0.5),                 # no pattern: base
    ([0.2], 0.7),              # 0.5 + 0.2
    ([0.7], 0.98),             # 0.5 + 0.7 = 1.2 → cap (0.7 is not > 0.7: no bonus, still capped)
    ([0.1, 0.3], 0.7),         # mean 0.2
    ([0.71, 0.0], 0.955),      # mean 0.355 + 0.1 bonus (top > 0.7)
    ([0.70, 0.0], 0.85),       # top exactly 0.7: no bonus
    ([1.0, 1.0], 0.98),        # cap
])
def test_confidence_seed_rule_edges(scores, expected):
    from omv_copilot_agent.assist import parse

    assert parse.confidence(scores) == pytest.approx(expected)


def test_confidence_labels():
    from omv_copilot_agent.assist import parse

    assert [parse.confidence_label(v) for v in (0.5, 0.6, 0.79, 0.8, 0.98)] == ["low", "medium", "medium", "high", "high"]


# -- redaction ------------------------------------------------------------------
def test_redaction_removes_private_values_with_stable_placeholders_and_restores():
    from omv_copilot_agent.assist import prompt, redact

    snap = fixture_snapshot()
    r = redact.Redactor(redact.known_from_snapshot(snap))
    text = json.dumps(prompt.state_sections(snap))
    out = r.redact(text)
    for value in PRIVATE:
        assert value not in out, value
    assert "<IP_1>" in out and "<MAC_1>" in out and "<SERIAL_1>" in out and "<HOST_1>" in out and "<USER_1>" in out
    again = r.redact("ping 192.168.178.23 from keller-nas")
    assert again == f"ping {r.forward['192.168.178.23']} from {r.forward['keller-nas']}"
    assert r.restore({"a": [again]}) == {"a": ["ping 192.168.178.23 from keller-nas"]}


def test_redaction_leaves_versions_and_sizes_alone():
    from omv_copilot_agent.assist import redact

    r = redact.Redactor()
    text = "OMV 7.7.21-1 kernel 6.1.0-28 size 4000787030016 at 12:30:45"
    assert r.redact(text) == text


# -- trace / mermaid ---------------------------------------------------------------
def test_mermaid_of_a_trace_with_fallback_hops_is_strictly_valid():
    import time

    from omv_copilot_agent.assist.trace import POINTS, Trace, mermaid

    t = Trace("q")
    for p in POINTS:
        t.step(p, time.time(), error="boom" if p == "llm_request" else None)
    t.hops = [{"provider": "glm \"main\"", "result": "timeout"}, {"provider": "claude", "result": "ok"}]
    nodes = check_mermaid(mermaid(t.to_dict("llm", "claude")))
    assert nodes == ["S0", "S1", "S2", "S3", "S4", "S5", "H0", "H1", "S6", "S7", "S8"]


from hypothesis import given, settings, strategies as st  # noqa: E402

_octet = st.integers(0, 255)
_ipv4 = st.tuples(_octet, _octet, _octet, _octet).map(lambda t: ".".join(map(str, t)))
_mac = st.lists(st.integers(0, 255), min_size=6, max_size=6).map(lambda b: ":".join(f"{x:02x}" for x in b))
_ipv6 = st.ip_addresses(v=6).map(str).filter(lambda s: s.count(":") >= 2 and "." not in s)


@settings(max_examples=200, deadline=None)
@given(ip=_ipv4, mac=_mac, ip6=_ipv6, word=st.sampled_from(["from", "via", "to", "at"]))
def test_redaction_property_addresses_never_survive_and_restore_exactly(ip, mac, ip6, word):
    from omv_copilot_agent.assist import redact

    text = f"login {word} {ip} (mac {mac}, v6 {ip6}) failed"
    r = redact.Redactor()
    out = r.redact(text)
    assert ip not in out and mac not in out and ip6 not in out
    assert r.restore(out) == text


SEED_5_2 = """You are an OpenMediaVault Storage Specialist with deep expertise in:
- ZFS administration and troubleshooting
- RAID configuration and recovery
- File system optimization
- Disk health monitoring
- Data integrity and recovery

Your role is to assist OMV server administrators with storage-related issues.

Guidelines:
1. Be practical and actionable
2. Explain technical concepts clearly
3. Prioritize data safety
4. Suggest diagnostics before fixes
5. Consider performance implications
6. Reference OMV-specific tools when available

When analyzing issues:
- Start with non-invasive diagnostics
- Consider both hardware and software factors
- Provide clear warning signs to watch for
- Suggest data protection measures

Always respond in the specified JSON format."""


def test_storage_prompt_is_the_seed_5_2_text():
    from omv_copilot_agent.assist import prompt

    assert prompt.build("storage", "q", prompt.NO_STATE, [], [])["system"] == SEED_5_2


def test_two_first_questions_at_once_build_one_pipeline(monkeypatch):
    """The pipeline is built lazily at the first question: questions arriving together (the job
    pool's workers, the API) must share one Engine, never each build and keep their own."""
    import threading
    import time

    from omv_copilot_agent.assist import AssistService, engine

    class Config:
        def get_path(self, key, default=None):
            return default

    built = []
    slow_init = engine.Engine.__init__

    def init(self, *args, **kwargs):
        built.append(self)
        time.sleep(0.05)  # the window two unlocked builders would both fall into
        slow_init(self, *args, **kwargs)

    monkeypatch.setattr(engine.Engine, "__init__", init)
    svc = AssistService(Config(), None, None, lambda: None, lambda argv: None)
    try:
        got, start = [], threading.Barrier(8)

        def first_question():
            start.wait()
            got.append(svc.engine)

        threads = [threading.Thread(target=first_question) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(built) == 1 and len({id(e) for e in got}) == 1 and got[0] is built[0]
    finally:
        svc.pool.close()


def test_a_prompt_cut_to_the_window_is_not_then_refused_as_too_long():
    """The state budget leaves room for the reply (max_tokens when small); the refusal before
    sending must not ask for more room than that, or a prompt cut to fit is refused anyway."""
    from types import SimpleNamespace

    from omv_copilot_agent.assist import engine

    window, max_tokens = 2048, 16
    provider = SimpleNamespace(max_tokens=max_tokens, model="m", context_tokens=lambda: window,
                               count_tokens=lambda text: len(text.split()))
    room = engine.reply_room(provider, window)
    filled = window - room - engine.PROMPT_MARGIN_TOKENS  # what _state_budget lets the prompt reach
    engine.check_fits(provider, {"system": " ".join(["w"] * filled), "messages": []})
    with pytest.raises(engine.llm.ProviderError, match="the prompt is 2048 tokens"):
        engine.check_fits(provider, {"system": " ".join(["w"] * window), "messages": []})
