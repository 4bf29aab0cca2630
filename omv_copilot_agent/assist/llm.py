"""LLM clients over ``requests``: OpenAI-compatible chat completions and Anthropic Messages.

Errors worth falling back on (timeout, connection refused, 429, 5xx, an empty or
unusable reply) raise :class:`ProviderError`; the engine tries the next provider.
Keys are read from config or a key file at call time and never logged or returned.
"""

from __future__ import annotations

import time
from pathlib import Path


class ProviderError(RuntimeError):
    """This provider could not give a usable reply; ``kind`` says why (timeout, http_429, …)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def api_key(provider: dict) -> str | None:
    if provider.get("api_key"):
        return str(provider["api_key"])
    if provider.get("api_key_file"):
        from omv_copilot_agent.config import key_file_problem

        reason = key_file_problem(provider["api_key_file"])  # checked again: the file may have changed since
        if reason:
            raise ProviderError("key_file", f"key file refused: {reason}")
        try:
            return Path(provider["api_key_file"]).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ProviderError("key_file", f"cannot read key file ({exc.__class__.__name__})") from None
    return None


def _post(provider: dict, url: str, headers: dict, body: dict) -> dict:
    import requests

    try:
        response = requests.post(url, json=body, headers=headers, timeout=float(provider.get("timeout_s", 120)),
                                 verify=bool(provider.get("verify_tls", True)))
    except requests.Timeout:
        raise ProviderError("timeout", f"no answer within {provider.get('timeout_s', 120)} s") from None
    except requests.ConnectionError:
        raise ProviderError("connection", "connection failed") from None
    except requests.RequestException as exc:
        raise ProviderError("request", exc.__class__.__name__) from None
    if response.status_code == 429 or response.status_code >= 500:
        raise ProviderError(f"http_{response.status_code}", f"HTTP {response.status_code}")
    if response.status_code >= 400:
        # The body is not echoed: some providers quote the (partial) key back in auth errors.
        raise ProviderError(f"http_{response.status_code}", f"HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise ProviderError("bad_reply", "reply is not JSON") from None


def chat(provider: dict, system: str, messages: list[dict]) -> dict:
    """One completion: {text, reasoning, model, duration_ms}; raises ProviderError."""
    started = time.monotonic()
    key = api_key(provider)
    endpoint = provider["endpoint"].rstrip("/")
    if provider["kind"] == "anthropic":
        url = endpoint if endpoint.endswith("/messages") else endpoint + "/v1/messages"
        headers = {"anthropic-version": "2023-06-01", "content-type": "application/json"}
        if key:
            headers["x-api-key"] = key
        body = {"model": provider["model"], "max_tokens": int(provider.get("max_tokens", 2048)),
                "temperature": float(provider.get("temperature", 0.2)), "system": system, "messages": messages}
        data = _post(provider, url, headers, body)
        blocks = data.get("content") if isinstance(data, dict) else None
        text = "".join(b.get("text", "") for b in blocks or [] if isinstance(b, dict) and b.get("type") == "text")
        reasoning = "".join(b.get("thinking", "") for b in blocks or [] if isinstance(b, dict) and b.get("type") == "thinking")
    else:
        url = endpoint if endpoint.endswith("/chat/completions") else endpoint + "/chat/completions"
        headers = {"content-type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body = {"model": provider["model"], "max_tokens": int(provider.get("max_tokens", 2048)),
                "temperature": float(provider.get("temperature", 0.2)),
                "messages": [{"role": "system", "content": system}, *messages]}
        if provider.get("json_mode", True):
            body["response_format"] = {"type": "json_object"}
        data = _post(provider, url, headers, body)
        try:
            message = data["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            raise ProviderError("bad_reply", "reply has no choices[0].message") from None
        # GLM-4.x puts its chain of thought in reasoning_content: never the answer.
        text = message.get("content") or ""
        reasoning = message.get("reasoning_content") or ""
    if not str(text).strip():
        raise ProviderError("empty", "reply has no answer text")
    return {"text": str(text), "reasoning": str(reasoning), "model": (data.get("model") if isinstance(data, dict) else None) or provider["model"],
            "duration_ms": round((time.monotonic() - started) * 1000, 1)}
