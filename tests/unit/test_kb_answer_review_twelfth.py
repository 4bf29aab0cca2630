"""Second review of the KB-only answer (docs/review-2026-12-07-twelfth.md): one test per fix, each
failing on the code before it. Like the first review's tests it stubs the matches (_stub_search),
so what is tested is the composition, not the ranking.
"""

from __future__ import annotations

import re

import pytest

from omv_copilot_agent.assist import kb_answer
from omv_copilot_agent.cli import ask as cli_ask
from omv_copilot_agent.cli import output
from tests.assist_helpers import make_agent
from tests.conftest import ROOT
from tests.unit.test_kb_answer_review import _stub_search


@pytest.fixture
def agent(make_config):
    """The fixture box (a degraded md0, no LLM provider)."""
    made = make_agent(make_config)
    yield made
    made.close()


# -- where to add an LLM provider: the real place, for the surface the user is on ------------------

WEB_PATH = "Diagnostics → Co-Pilot → Settings"


def test_the_no_pattern_answer_names_the_web_ui_s_real_menu_path(agent, monkeypatch):
    """Before: "With an LLM provider configured (Settings → Assistant)": OMV has no such page; the
    Co-Pilot entry sits under Diagnostics and its Settings page links the LLM providers list."""
    _stub_search(agent, monkeypatch, [])
    text = agent.assist.ask("how do I make sourdough bread", mode="kb_only")["analysis"]
    assert "Settings → Assistant" not in text
    assert f"(OMV: {WEB_PATH} → LLM providers)" in text, text


def test_the_web_ui_banner_and_the_answers_say_the_same_path():
    """The panel's banner (copilot-assistant.js, shown outside OMV) and the answers take one path."""
    js = (ROOT / "webui-extjs/app/copilot-assistant.js").read_text(encoding="utf-8")
    banner = re.search(r"Add an LLM provider \((OMV: [^;]+);", js).group(1)
    assert kb_answer.PROVIDER_PLACE["web"].startswith(banner), (banner, kb_answer.PROVIDER_PLACE["web"])
    # and the settings page it names has the providers list the answers send the user to
    route = ROOT / "webui-extjs/omv/usr/share/openmediavault/workbench/route.d/copilot.settings.providers.yaml"
    assert 'title: _("LLM providers")' in route.read_text(encoding="utf-8")


def test_the_cli_says_the_config_file_not_a_web_ui_menu(agent, monkeypatch):
    """In a shell the web UI's menu is not where the user is: the CLI names assist.providers in the
    config file (there is no subcommand that edits the provider list)."""
    _stub_search(agent, monkeypatch, [])
    answer = agent.assist.ask("how do I make sourdough bread", mode="kb_only")
    text = " ".join(cli_ask.render(answer, width=100).split())
    assert "Diagnostics →" not in text and "Settings → Assistant" not in text
    assert "With an LLM provider configured (assist.providers in /etc/omv-copilot/config.yaml or the file --config names;" in text, text


def test_direct_chat_without_a_provider_names_the_real_place(agent):
    """Before: "none is configured (Settings → assist.providers)", a page that does not exist."""
    answer = agent.assist.ask("what is zfs", mode="direct")
    assert answer["llm_error"] and "Settings → assist.providers" not in answer["llm_error"]
    assert WEB_PATH in answer["llm_error"], answer["llm_error"]


def test_the_cli_s_direct_chat_error_and_its_answers_name_one_place():
    assert cli_ask._provider_place() == kb_answer.PROVIDER_PLACE["cli"]
    assert kb_answer.for_surface("x (" + kb_answer.PROVIDER_PLACE["web"] + ") y", "cli") == \
        "x (" + kb_answer.PROVIDER_PLACE["cli"] + ") y"


# -- the CLI's list layout is named once ------------------------------------------------------------

def test_the_cli_s_bullet_layout_is_one_helper():
    """Before: five list kinds each called output.wrap(text, "    ", width, first="  - ")."""
    assert cli_ask._item("a short entry", 60) == ["  - a short entry"]
    assert cli_ask._item("word " * 20, 40)[1].startswith("    word")
    source = (ROOT / "omv_copilot_agent/cli/ask.py").read_text(encoding="utf-8")
    assert source.count('first="  - "') == 1, "the bullet layout is spelled out more than once"


# -- the no-pattern answer decides once whether the box's state can bear on the question -------------

class _CountingContext(str):
    """A context name that counts how often it is looked up in a dict."""

    lookups = 0

    def __hash__(self):
        type(self).lookups += 1
        return str.__hash__(self)


def test_no_pattern_checks_the_context_once_not_per_signal():
    """Before: ``context in FOLLOW_UPS and context != "general"`` ran inside the comprehension, once
    for every state signal."""
    signals = [{"pattern_id": f"p{i}", "title": f"t{i}", "context": "storage", "reasons": []} for i in range(4)]
    _CountingContext.lookups = 0
    kb_answer._no_pattern(_CountingContext("storage"), signals, "test", snapshot=None)
    in_bearing = _CountingContext.lookups
    _CountingContext.lookups = 0
    kb_answer._no_pattern(_CountingContext("storage"), [], "test", snapshot=None)
    assert in_bearing - _CountingContext.lookups <= 1, in_bearing


# -- a box without the thing the best match is about: said both ways ---------------------------------

class _Snap:
    def __init__(self, storage):
        self._storage = storage

    def status(self, name):
        return "ok" if name == "storage" else None

    def data(self, name):
        return self._storage if name == "storage" else {}


def test_a_box_without_an_array_does_not_claim_one_should_be_there(agent, monkeypatch):
    """S1 "is my raid ok" on a box with no md array, before: "This box shows no md RAID array right
    now ...: an array that should be there is not assembled or its disks are missing", above the
    degraded array's advice ("Back up the data now") - on a box that never had an array."""
    from omv_copilot_agent.knowledge import fill

    for names, thing in ((["md_device"], "array"), (["pool"], "pool")):
        (said,) = fill.none_on_box(names, _Snap({"raid": [], "zfs": []}))
        assert "that should be there" not in said, said
        assert "if it has none, the advice below is not about this box" in said and f"if it should have one, the {thing}" in said


# -- a weak best match is not "the answer above" under Matched patterns -----------------------------

def test_a_weak_best_match_is_not_called_the_answer_in_the_cli_list(agent, monkeypatch):
    """O2 "my printer shows offline in windows 11", before: the analysis said "No pattern matches this
    question well; the closest is a weak match: ... (score 0.18 ...)", and Matched patterns then
    called it "- the answer above"."""
    _stub_search(agent, monkeypatch, [("smb-guest-share-access", 0.18), ("mdadm-degraded", 0.15)])
    answer = agent.assist.ask("my printer shows offline in windows 11", mode="kb_only")
    assert "the closest is a weak match" in answer["analysis"]
    listed = cli_ask.render(answer, width=200).split("Matched patterns\n", 1)[1].splitlines()
    assert "the answer above" not in listed[0] and "weak match" in listed[0], listed[0]
    assert listed[1].endswith(" - related")
    # a good best match still is the answer
    _stub_search(agent, monkeypatch, [("mdadm-degraded", 0.9)])
    listed = cli_ask.render(agent.assist.ask("my raid is degraded", mode="kb_only"), width=200)
    assert "(score 0.90) - the answer above" in listed


def test_direct_chat_without_a_provider_does_not_say_try_again(agent):
    """Before: "none is configured (...). Try again, or switch Direct Chat off": trying again cannot help."""
    text = agent.assist.ask("what is zfs", mode="direct")["analysis"]
    assert "Try again" not in text and "Add one, or switch Direct Chat off" in text, text


def test_the_cli_never_starts_a_line_with_the_rest_of_a_web_ui_path():
    """Before (thirteenth session's docs): "... find it in lsblk or Storage" / "> Disks) (fill in ...)"."""
    text = "needs: {new_device} = the new disk to add (not the failed one; find it in lsblk or Storage > Disks) (fill in)"
    for width in range(30, 120):
        lines = output.wrap(text, "      ", width)
        assert not any(line.lstrip().startswith(">") for line in lines), (width, lines)
        assert " ".join(line.strip() for line in lines) == text, (width, lines)
