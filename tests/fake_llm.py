"""A real loopback LLM server for tests and the bench: OpenAI chat completions + Anthropic Messages.

``FakeLLM()`` listens on 127.0.0.1:<free port>. Script it with ``script(*steps)``:
each request consumes the next step (the last one repeats). A step is a dict:

- ``{"answer": {...}}``      valid JSON answer as the message content
- ``{"text": "..."}``        this exact content (fences, prose, trailing text, garbage)
- ``{"reasoning": "...", "answer"|"text": ...}`` GLM-style ``reasoning_content`` beside the content
  (Anthropic: a ``thinking`` block)
- ``{"status": 429|500|..., "error": {...}}`` that HTTP status with an error body (``error``
  replaces the generic one, e.g. llama.cpp's exceed_context_size_error)
- ``{"body": "..."}``        a raw non-JSON HTTP 200 body
- ``{"cut": True, ...}``       finish_reason "length" (the reply stopped at max_tokens)
- ``{"delay": s, ...}``      wait first (``hang``: longer than the client's timeout; ``slow``: shorter)

Every request is recorded (path, headers, parsed body) in ``requests`` so tests can
assert what left the box (redaction, response_format, model, key header).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD_ANSWER = {
    "analysis": "The array md0 is degraded: one member failed.",
    "possible_causes": [{"cause": "failed disk", "likelihood": "high"}],
    "suggested_diagnostics": [{"name": "array detail", "command": "mdadm --detail /dev/md0", "purpose": "see members",
                               "pattern_id": "mdadm-degraded"}],
    "recommended_actions": [{"action": "Replace the failed disk", "command": "", "risk": "medium",
                             "explanation": "Rebuild restores redundancy."}],
    "explanation": "RAID keeps working degraded but has no redundancy left.",
    "follow_up_questions": ["Do you have a spare disk?"],
}


class FakeLLM:
    def __init__(self, llama_ctx: int | None = None):
        """``llama_ctx``: also answer like llama.cpp's server about itself (GET /props with this
        context window, POST /tokenize at 4 characters per token)."""
        self.llama_ctx = llama_ctx
        self.tokenized = 0
        self.requests: list[dict] = []
        self._steps: list[dict] = [{"answer": GOOD_ANSWER}]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                if fake.llama_ctx and self.path == "/tokenize":
                    fake.tokenized += 1
                    text = (json.loads(raw or "{}") or {}).get("content", "")
                    return self._send(200, json.dumps({"tokens": list(range((len(text) + 3) // 4))}))
                if not self.path.endswith(("/messages", "/chat/completions")):
                    # What a cloud API answers to llama.cpp's /tokenize or Ollama's /api/show: not
                    # a scripted step (those are the chat requests the tests count).
                    self.send_error(404)
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                step = fake._next({"path": self.path, "headers": dict(self.headers), "body": body, "raw": raw})
                if step.get("delay"):
                    fake._stop.wait(float(step["delay"]))
                wire = fake._anthropic if self.path.endswith("/messages") else fake._openai
                self._send(*wire(step, body))

            def do_GET(self):
                if fake.llama_ctx and self.path == "/props":
                    return self._send(200, json.dumps({"default_generation_settings": {"n_ctx": fake.llama_ctx}}))
                self.send_error(404)

            def _send(self, status, payload):
                data = payload.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # -- scripting -----------------------------------------------------
    def script(self, *steps: dict) -> "FakeLLM":
        with self._lock:
            self._steps = list(steps) or [{"answer": GOOD_ANSWER}]
        return self

    def _next(self, record: dict) -> dict:
        with self._lock:
            self.requests.append(record)
            return self._steps.pop(0) if len(self._steps) > 1 else self._steps[0]

    def provider(self, name: str = "fake", kind: str = "openai", **extra) -> dict:
        """A config entry for ``assist.providers`` pointing here."""
        endpoint = self.url + ("/v1" if kind == "openai" else "")
        return {"name": name, "kind": kind, "endpoint": endpoint, "model": f"{name}-model", "timeout_s": 10, **extra}

    def sent_text(self) -> str:
        """Everything clients sent, as one string (for redaction checks)."""
        return "\n".join(r["raw"] for r in self.requests)

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    # -- wire formats --------------------------------------------------
    @staticmethod
    def _content(step: dict) -> str:
        if "answer" in step:
            return json.dumps(step["answer"])
        return step.get("text", "")

    def _openai(self, step: dict, body) -> tuple[int, str]:
        if step.get("status"):
            error = step.get("error") or {"message": f"scripted {step['status']}", "type": "scripted"}
            return step["status"], json.dumps({"error": error})
        if "body" in step:
            return 200, step["body"]
        message = {"role": "assistant", "content": self._content(step)}
        if "reasoning" in step:
            message["reasoning_content"] = step["reasoning"]
        model = (body or {}).get("model", "fake")
        return 200, json.dumps({"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                                "model": model, "choices": [{"index": 0, "message": message,
                                                               "finish_reason": "length" if step.get("cut") else "stop"}],
                                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    def _anthropic(self, step: dict, body) -> tuple[int, str]:
        if step.get("status"):
            return step["status"], json.dumps({"type": "error", "error": {"type": "scripted", "message": f"scripted {step['status']}"}})
        if "body" in step:
            return 200, step["body"]
        blocks = []
        if "reasoning" in step:
            blocks.append({"type": "thinking", "thinking": step["reasoning"], "signature": "x"})
        text = self._content(step)
        if text:
            blocks.append({"type": "text", "text": text})
        return 200, json.dumps({"id": "msg_fake", "type": "message", "role": "assistant", "model": (body or {}).get("model", "fake"),
                                "content": blocks, "stop_reason": "end_turn",
                                "usage": {"input_tokens": 1, "output_tokens": 1}})
