"""OpenAI-compatible chat completions (``kind: openai``): OpenAI, GLM, Ollama, llama.cpp, vLLM.

Besides the chat, llama.cpp's server tells its context window (``GET /props``) and tokenizes
with the model's own tokenizer (``POST /tokenize``); Ollama tells the model's settings
(``POST /api/show``). Other servers answer 404 there and the prompt budget stays in characters.
"""

from __future__ import annotations

import re
import time

from omv_copilot_agent.assist.providers.base import (PROBE_TIMEOUT_S, Provider, ProviderError, check_status, get_json,
                                                     post_json, remember, remembered)

#: Ollama's context window when the model's settings do not name one (its documented default).
OLLAMA_DEFAULT_CTX = 4096


class OpenAICompatible(Provider):
    kind = "openai"

    @property
    def root(self) -> str:
        """The server's root (llama.cpp and Ollama serve /props, /tokenize, /api/show there)."""
        return re.sub(r"/v1(/chat/completions)?$", "", self.endpoint)

    def _headers(self) -> dict:
        headers = {"content-type": "application/json"}
        key = self.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def response_format(self, schema: dict | None) -> dict | None:
        """``response_format`` per config: json_object (default: GLM and OpenAI accept it),
        json_schema (llama.cpp, Ollama, OpenAI: the decoder can only emit the answer's shape), none."""
        wanted = self.cfg.get("response_format", "json_object")
        if wanted == "json_schema" and schema:
            return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
        if wanted in ("json_object", "json_schema"):
            return {"type": "json_object"}
        return None

    def chat(self, system: str, messages: list[dict], schema: dict | None = None) -> dict:
        started = time.monotonic()
        url = self.endpoint if self.endpoint.endswith("/chat/completions") else self.endpoint + "/chat/completions"
        body = {"model": self.model, "max_tokens": self.max_tokens, "temperature": float(self.cfg.get("temperature", 0.2)),
                "messages": [{"role": "system", "content": system}, *messages]}
        fmt = self.response_format(schema)
        if fmt:
            body["response_format"] = fmt
        status, data = post_json(self.cfg, url, self._headers(), body)
        check_status(status, data)
        if data is None:
            raise ProviderError("bad_reply", "reply is not JSON")
        try:
            choice = data["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise ProviderError("bad_reply", "reply has no choices[0].message") from None
        # GLM-4.x puts its chain of thought in reasoning_content: never the answer.
        text = str(message.get("content") or "")
        if not text.strip():
            raise ProviderError("empty", "reply has no answer text")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return {"text": text, "reasoning": str(message.get("reasoning_content") or ""),
                "model": data.get("model") or self.model, "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "usage": {"prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens")},
                "cut": isinstance(choice, dict) and choice.get("finish_reason") == "length"}

    def _probe_context(self) -> int | None:
        props = get_json(self.cfg, self.root + "/props", self._headers())
        if isinstance(props, dict):  # llama.cpp: the window the server was started with (-c)
            settings = props.get("default_generation_settings") or {}
            n_ctx = settings.get("n_ctx") or props.get("n_ctx")
            if isinstance(n_ctx, int) and n_ctx > 0:
                return n_ctx
        try:
            status, shown = post_json(self.cfg, self.root + "/api/show", self._headers(), {"model": self.model},
                                      timeout=PROBE_TIMEOUT_S)
        except ProviderError:
            return None
        if status == 200 and isinstance(shown, dict) and ("model_info" in shown or "parameters" in shown):
            # Ollama serves a model with num_ctx (its Modelfile's, else the default), not the trained length.
            found = re.search(r"^num_ctx\s+(\d+)", str(shown.get("parameters") or ""), re.M)
            return int(found.group(1)) if found else OLLAMA_DEFAULT_CTX
        return None

    def count_tokens(self, text: str) -> int | None:
        if remembered((self.kind, self.endpoint, "no-tokenize"), lambda: False):
            return None
        try:
            status, data = post_json(self.cfg, self.root + "/tokenize", self._headers(), {"content": text},
                                     timeout=PROBE_TIMEOUT_S)
        except ProviderError:
            status, data = 0, None
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if status != 200 or not isinstance(tokens, list):
            remember((self.kind, self.endpoint, "no-tokenize"), True)
            return None
        return len(tokens)
