"""The matcher's text functions: ``typed_words`` keeps, for each token of ``tokens(synonyms=False)``,
the word it was stemmed from (a typo is judged on that word), so the two must tokenise alike."""

from __future__ import annotations

import pytest

from omv_copilot_agent.knowledge import text

TRICKY = [
    "my raid's degraded, can't mount /srv/dev-disk-by-uuid-1234",
    "I\u2019ve got 2 disks: sda1 & sdb2 (ext4) -- they're read-only?!",
    "smb.conf won\u00b4t load; nfs-kernel-server fails after v7.0.5 upgrade",
    "Festplatte \u00fcberhitzt, d\u00e9j\u00e0 vu: na\u00efve caf\u00e9 f\u00fcr zfs-2.1.11",
    "m.2 nvme0n1 at 70\u00b0C ... 'quoted' words-and-hyphens- -leading trailing. dots...",
    "docker-compose.yml 192.168.1.10:8080 e-mail a+b c/d x_y \u00bd ~ 100%",
    "ACCES DENIED on SHARES; Sharing failed; accessed shared drives",
    "",
    "   ' - . ",
]


@pytest.mark.parametrize("query", TRICKY)
def test_typed_words_hold_the_word_of_every_token_as_typed(query):
    stemmed = text.tokens(query, synonyms=False)
    typed = text.typed_words(query)
    assert list(typed) == list(dict.fromkeys(stemmed))  # the same tokens, in the same order
    lowered = text._lower(query)
    for token, word in typed.items():
        assert text.stem(word) == token and word in lowered and word not in text.STOPWORDS


def test_both_tokenise_through_one_helper(monkeypatch):
    """A change to the tokenising reaches both at once: they cannot drift apart."""
    query = "raid degraded after reboot"
    monkeypatch.setattr(text, "_words", lambda lowered: ["mounted", "shares"])
    assert text.tokens(query, synonyms=False) == ["mount", "share"]
    assert text.tokens(query) == ["mount", "share"]
    assert text.typed_words(query) == {"mount": "mounted", "share": "shares"}
