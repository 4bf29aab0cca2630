"""The assistant: :class:`AssistService`, built by the Agent (contract: docs/contracts.md "Assist").

The service owns the pipeline (:mod:`.engine`), the bounded pool for
asynchronous questions (:mod:`.jobs`) and trace retention. The API, the RPC
bridge and the CLI all go through :meth:`AssistService.ask` / :meth:`submit`.
"""

from __future__ import annotations

import logging
import threading
import time

from omv_copilot_agent.assist.jobs import JobPool, PoolFull

log = logging.getLogger(__name__)

__all__ = ["AssistService", "CONTEXTS", "MODES", "PoolFull"]


def __getattr__(name: str):
    """``MODES`` and ``CONTEXTS`` from the engine's modules, imported when first asked for (see AssistService.engine)."""
    if name == "MODES":
        from omv_copilot_agent.assist.engine import MODES

        return MODES
    if name == "CONTEXTS":
        from omv_copilot_agent.assist.router import CONTEXTS

        return CONTEXTS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

PRUNE_EVERY_S = 3600
DIAGNOSTICS_KEEP_S = 3600
DIAGNOSTICS_KEEP_N = 50


class AssistService:
    def __init__(self, config, store, knowledge, latest_snapshot, recognise):
        """See :class:`Engine` for the arguments; diagnostics reach it through :meth:`record_diagnostics`
        (subscribed to ``events.DIAGNOSTIC_RAN``)."""
        self.config = config
        self.store = store
        #: the probe lookup answers are classified with (one for the engine and the Run endpoint)
        self.recognise = recognise
        self._engine_args = (config, store, knowledge, latest_snapshot, recognise)
        self._engine = None
        self._engine_lock = threading.Lock()
        self._diagnostics: list[dict] = []
        cfg = config.get_path
        self.pool = JobPool(workers=int(cfg("assist.workers", 2)), max_queued=int(cfg("assist.max_queued_jobs", 16)))
        self._last_prune = 0.0

    def ask(self, query: str, *, context: str | None = None, mode: str = "auto", conversation_id: str | None = None,
            cancel=None, stage=None, reply_to: str | None = None) -> dict:
        """Answer now (blocking); see :meth:`Engine.answer`."""
        return self.engine.answer(query, context=context, mode=mode, conversation_id=conversation_id, cancel=cancel,
                                  stage=stage, reply_to=reply_to)

    def submit(self, query: str, *, context: str | None = None, mode: str = "auto", conversation_id: str | None = None,
               reply_to: str | None = None):
        """Queue the question; the Job's conversation id is fixed now so a client can show it at once."""
        import uuid

        conversation_id = conversation_id or uuid.uuid4().hex

        def run(job):
            from omv_copilot_agent.assist.engine import Cancelled

            def stage(name):
                job.stage, job.stage_text = str(name), getattr(name, "words", None)
            try:
                return self.ask(query, context=context, mode=mode, conversation_id=conversation_id, cancel=job.cancel,
                                stage=stage, reply_to=reply_to)
            except Cancelled:
                return None

        return self.pool.submit(run, conversation_id)

    def close(self) -> None:
        """Cancel open questions and stop the workers before the agent closes the store."""
        busy = self.pool.close()
        if busy:
            log.warning("assistant workers still busy at shutdown: %s", ", ".join(busy))

    def record_diagnostics(self, pattern_id: str, results: list[dict]) -> None:
        """Remember diagnostics the user ran so the next prompt shows them ("diagnostics already run")."""
        now = time.time()
        for r in results:
            self._diagnostics.append({"at": now, "pattern_id": pattern_id, "name": r.get("name"), "returncode": r.get("returncode"),
                                      "stdout": str(r.get("stdout") or r.get("error") or "")[:2000]})
        del self._diagnostics[:-DIAGNOSTICS_KEEP_N]

    @property
    def engine(self):
        """The pipeline (:class:`~.engine.Engine`), built at the first question or provider lookup.

        Why: the daemon runs for weeks, most of them without a question; the engine's modules
        (redaction, prompt, router, risk, providers, parsing: ~0.5 MiB) stay out of it until then.
        """
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    from omv_copilot_agent.assist.engine import Engine

                    self._engine = Engine(*self._engine_args, diagnostics=self.recent_diagnostics)
        return self._engine

    def run_probe(self, probe: dict) -> dict:
        """Run a probe call the server recognised ({name, params, filter}) in the runner's sandbox;
        a display filter (``| grep -i -E X``) is applied with the knowledge base's bounded regex."""
        import regex

        from omv_copilot_agent import probes, runner
        from omv_copilot_agent.knowledge.diagnostics import RegexTimeout, filter_lines
        from omv_copilot_agent.probes import verdict

        cfg = self.config.get_path
        result = runner.run_probe(probes.ProbeCall(probe["name"], dict(probe["params"])),
                                  timeout=float(cfg("knowledge.diagnostic_timeout_s", 10) or 10),
                                  max_output=int(cfg("knowledge.diagnostic_max_output_bytes", 65536) or 65536)).to_dict()
        if probe.get("filter") and result.get("stdout"):
            try:
                result["stdout"] = filter_lines(probe["filter"], result["stdout"])
            except (RegexTimeout, regex.error) as exc:
                result["stdout"], result["error"] = "", f"filter not applied: {exc}"
        result.update(verdict.judge(result, probes.get(probe["name"])))
        return result

    def recent_diagnostics(self, pattern_ids: list[str]) -> list[dict]:
        cutoff = time.time() - DIAGNOSTICS_KEEP_S
        return [d for d in self._diagnostics if d["at"] >= cutoff and d["pattern_id"] in pattern_ids][-10:]

    def providers_public(self) -> list[dict]:
        """Provider names/models for status views (never keys)."""
        return [{"name": p.name, "kind": p.kind, "model": p.model} for p in self.engine.providers()]

    def prune(self, now: float | None = None) -> int:
        now = now or time.time()
        days = int(self.config.get_path("assist.trace_retention_days", 14))
        return self.store.prune_traces(now - days * 86400)

    def on_snapshot(self, _snapshot) -> None:
        """Trace retention, at most once an hour, on the collection cycle's beat."""
        if time.time() - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = time.time()
        try:
            removed = self.prune()
            if removed:
                log.info("pruned %d assist traces", removed)
        except Exception as exc:
            log.warning("assist trace retention failed: %s", exc)
