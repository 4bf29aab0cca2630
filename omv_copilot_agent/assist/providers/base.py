"""What every LLM provider offers the assistant, whatever its wire protocol.

A provider answers one chat (``chat``), and may tell the size of its model's context window
(``context_tokens``) and count tokens with the model's own tokenizer (``count_tokens``), so the
prompt can be cut to what the model can read instead of being refused or silently truncated.
Errors worth falling back on raise :class:`ProviderError`; the engine tries the next provider.
Keys are read from config or a key file at call time and never logged or returned.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

#: How long what a server told about itself (context size, tokenizer) is believed.
PROBE_TTL_S = 300.0
PROBE_TIMEOUT_S = 3.0


class ProviderError(RuntimeError):
    """This provider could not give a usable reply; ``kind`` says why (timeout, http_429, too_long, …)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def api_key(cfg: dict) -> str | None:
    if cfg.get("api_key"):
        return str(cfg["api_key"])
    if cfg.get("api_key_file"):
        from omv_copilot_agent.config import key_file_problem

        reason = key_file_problem(cfg["api_key_file"])  # checked again: the file may have changed since
        if reason:
            raise ProviderError("key_file", f"key file refused: {reason}")
        try:
            return Path(cfg["api_key_file"]).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ProviderError("key_file", f"cannot read key file ({exc.__class__.__name__})") from None
    return None


_probes: dict[tuple, tuple[float, object]] = {}
_probes_lock = threading.Lock()


def remembered(key: tuple, probe):
    """``probe()``'s value, asked once per PROBE_TTL_S per key (failures included: a cloud API
    without llama.cpp's /props must not be asked again for every question)."""
    now = time.monotonic()
    with _probes_lock:
        hit = _probes.get(key)
        if hit and now - hit[0] < PROBE_TTL_S:
            return hit[1]
    value = probe()
    remember(key, value)
    return value


def remember(key: tuple, value) -> None:
    with _probes_lock:
        _probes[key] = (time.monotonic(), value)


def forget_probes() -> None:
    """Drop what servers told about themselves (tests restart servers on the same port)."""
    with _probes_lock:
        _probes.clear()


def post_json(cfg: dict, url: str, headers: dict, body: dict, timeout: float | None = None):
    """POST and return (status, parsed JSON or None); transport failures raise ProviderError."""
    import requests

    limit = float(timeout if timeout is not None else cfg.get("timeout_s", 120))
    try:
        response = requests.post(url, json=body, headers=headers, timeout=limit,
                                 verify=bool(cfg.get("verify_tls", True)))
    except requests.Timeout:
        raise ProviderError("timeout", f"no answer within {limit:g} s") from None
    except requests.ConnectionError:
        raise ProviderError("connection", "connection failed") from None
    except requests.RequestException as exc:
        raise ProviderError("request", exc.__class__.__name__) from None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def get_json(cfg: dict, url: str, headers: dict, timeout: float = PROBE_TIMEOUT_S):
    """GET for probes: the parsed JSON of a 200 answer, else None (never raises)."""
    import requests

    try:
        response = requests.get(url, headers=headers, timeout=timeout, verify=bool(cfg.get("verify_tls", True)))
        return response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None


def check_status(status: int, data) -> None:
    """Raise for an HTTP error. The body is not echoed: some providers quote the (partial) key
    back in auth errors. A context overflow is named, since the user can act on it."""
    if status < 400:
        return
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and (error.get("type") == "exceed_context_size_error"
                                    or "context" in str(error.get("code", ""))):
        n_prompt, n_ctx = error.get("n_prompt_tokens"), error.get("n_ctx")
        detail = f" ({n_prompt} tokens, context {n_ctx})" if n_prompt and n_ctx else ""
        raise ProviderError("too_long", f"the prompt is longer than the model's context window{detail}")
    raise ProviderError(f"http_{status}", f"HTTP {status}")


class Provider:
    """One configured provider (an ``assist.providers`` entry); subclasses speak one wire protocol."""

    kind = ""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.name = str(cfg["name"])
        self.model = str(cfg["model"])
        self.endpoint = str(cfg["endpoint"]).rstrip("/")

    def api_key(self) -> str | None:
        return api_key(self.cfg)

    @property
    def max_tokens(self) -> int:
        return int(self.cfg.get("max_tokens", 2048))

    def chat(self, system: str, messages: list[dict], schema: dict | None = None) -> dict:
        """One completion: {text, reasoning, model, duration_ms, usage, cut (the reply stopped at
        max_tokens)}; raises ProviderError.
        ``schema``: the JSON schema the answer must follow, where the server can enforce it."""
        raise NotImplementedError

    def context_tokens(self) -> int | None:
        """The model's context window in tokens: ``context_tokens`` from config, else what the
        server tells (None when it does not)."""
        if self.cfg.get("context_tokens"):
            return int(self.cfg["context_tokens"])
        return remembered((self.kind, self.endpoint, self.model, "ctx"), self._probe_context)

    def count_tokens(self, text: str) -> int | None:
        """Tokens of ``text`` in the model's tokenizer, or None when the server cannot say."""
        return None

    def _probe_context(self) -> int | None:
        return None
