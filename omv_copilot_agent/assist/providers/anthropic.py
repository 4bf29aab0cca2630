"""Anthropic's Messages API (``kind: anthropic``)."""

from __future__ import annotations

import time

from omv_copilot_agent.assist.providers.base import Provider, ProviderError, check_status, post_json


class Anthropic(Provider):
    """The answer format is asked for in the prompt; thinking blocks are never the answer."""

    kind = "anthropic"

    def chat(self, system: str, messages: list[dict], schema: dict | None = None) -> dict:
        started = time.monotonic()
        url = self.endpoint if self.endpoint.endswith("/messages") else self.endpoint + "/v1/messages"
        headers = {"anthropic-version": "2023-06-01", "content-type": "application/json"}
        key = self.api_key()
        if key:
            headers["x-api-key"] = key
        body = {"model": self.model, "max_tokens": self.max_tokens,
                "temperature": float(self.cfg.get("temperature", 0.2)), "system": system, "messages": messages}
        status, data = post_json(self.cfg, url, headers, body)
        check_status(status, data)
        if not isinstance(data, dict):
            raise ProviderError("bad_reply", "reply is not JSON")
        blocks = [b for b in data.get("content") or [] if isinstance(b, dict)]
        text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        reasoning = "".join(b.get("thinking", "") for b in blocks if b.get("type") == "thinking")
        if not text.strip():
            raise ProviderError("empty", "reply has no answer text")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return {"text": text, "reasoning": reasoning, "model": data.get("model") or self.model,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "usage": {"prompt_tokens": usage.get("input_tokens"), "completion_tokens": usage.get("output_tokens")},
                "cut": data.get("stop_reason") == "max_tokens"}
