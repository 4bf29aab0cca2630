"""LLM providers, one class per wire protocol (``kind`` in ``assist.providers``).

A new protocol is one module here with a :class:`Provider` subclass and one line in KINDS.
"""

from __future__ import annotations

from omv_copilot_agent.assist.providers.anthropic import Anthropic
from omv_copilot_agent.assist.providers.base import Provider, ProviderError, forget_probes
from omv_copilot_agent.assist.providers.openai import OpenAICompatible

__all__ = ["KINDS", "Provider", "ProviderError", "forget_probes", "make"]

KINDS: dict[str, type[Provider]] = {"openai": OpenAICompatible, "anthropic": Anthropic}


def make(cfg: dict) -> Provider:
    """The provider for one ``assist.providers`` entry (the config schema guarantees ``kind``)."""
    return KINDS[cfg["kind"]](cfg)
