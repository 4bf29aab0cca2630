"""The assistant pipeline: one question → one traced, grounded answer.

route (by the question's words and the box's findings) → state → patterns →
prompt (budgeted) → redact → providers in order → parse → confidence → answer,
each a trace point. Without a provider (the default), or when all fail, the
answer comes from the knowledge base alone (``mode: kb_only``). ``direct``
skips KB and state.
Nothing here raises for a bad LLM: every failure becomes a hop in the trace and,
at worst, a KB-only answer.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Callable

from omv_copilot_agent import findings
from omv_copilot_agent.assist import kb_answer, parse, prompt, readings, redact, risk, router
from omv_copilot_agent.assist import providers as llm
from omv_copilot_agent.assist.trace import Trace
from omv_copilot_agent.findings import Thresholds
from omv_copilot_agent.knowledge.matcher import from_text

log = logging.getLogger(__name__)

MODES = ("auto", "llm", "kb_only", "direct")
HISTORY_TURNS = 5


#: What a waiting user reads for each decision point (a job's ``stage_text``).
STAGE_WORDS = {
    "query_received": "reading the question…",
    "context_selection": "choosing a specialist…",
    "system_data_collection": "reading this NAS's state…",
    "pattern_matching": "searching the knowledge base…",
    "prompt_assembly": "preparing the question for the LLM…",
    "llm_request": "asking the LLM…",
    "llm_response": "reading the LLM's answer…",
    "confidence_calculation": "weighing the answer…",
    "response_assembly": "checking the answer's commands…",
}


class Stage(str):
    """A decision point's name (what traces and tests compare) that also carries ``words`` for a person."""

    words: str

    def __new__(cls, name: str, words: str | None = None):
        obj = super().__new__(cls, name)
        obj.words = words or STAGE_WORDS.get(name, name.replace("_", " ") + "…")
        return obj


class Cancelled(Exception):
    """The caller cancelled the question between two steps."""


def _est_tokens(text: str) -> int:
    """Rough token count (≈4 characters per token) for the trace and the bench."""
    return (len(text) + 3) // 4


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


#: Tokens kept free for the chat template's role markers around the messages.
PROMPT_MARGIN_TOKENS = 32
#: In a small context window the box's state comes before the last related patterns: while the
#: state would get fewer tokens than this, the lowest-scored pattern after the best is left out.
STATE_MIN_TOKENS = 160


def reply_room(provider: llm.Provider, window: int) -> int:
    """Tokens left for the answer: max_tokens, but never more than a quarter of a small window."""
    return min(provider.max_tokens, max(256, window // 4))


#: The least room for a reply below which a prompt is refused (or max_tokens, when smaller).
MIN_REPLY_TOKENS = 64


def check_fits(provider: llm.Provider, sent: dict) -> None:
    """Refuse before sending a prompt the model cannot read (the question alone can be too long).

    It asks for no more room than the state budget left (:func:`reply_room` ≥ this), so a prompt
    that was cut to the window is never refused afterwards."""
    window = provider.context_tokens()
    if not window:
        return
    used = provider.count_tokens("\n".join([sent["system"], *(m["content"] for m in sent["messages"])]))
    room = min(MIN_REPLY_TOKENS, reply_room(provider, window))
    if used is not None and used + PROMPT_MARGIN_TOKENS + room > window:
        raise llm.ProviderError("too_long", f"the prompt is {used} tokens; {provider.model} reads at most {window}")


class Engine:
    def __init__(self, config, store, knowledge, latest_snapshot: Callable[[], object], recognise: risk.Recognise,
                 diagnostics: Callable[[list[str]], list[dict]] | None = None):
        """``config``: the live Config; ``knowledge``: the KnowledgeBase (None: answer without patterns);
        ``latest_snapshot()``: the newest collected snapshot or None; ``recognise``: the probe catalogue's
        lookup (a command is read-only only if it is a probe call)."""
        self.config = config
        self.store = store
        self.knowledge = knowledge
        self.latest = latest_snapshot
        self.recognise = recognise
        self.diagnostics = diagnostics or (lambda pattern_ids: [])

    # -- config -------------------------------------------------------
    def cfg(self, key: str, default=None):
        return self.config.get_path(f"assist.{key}", default)

    def providers(self) -> list[llm.Provider]:
        return [llm.make(p) for p in (self.cfg("providers", []) or []) if isinstance(p, dict)]

    # -- the pipeline -------------------------------------------------
    def answer(self, query: str, *, context: str | None = None, mode: str = "auto", conversation_id: str | None = None,
               cancel=None, stage: Callable[[str], None] | None = None, reply_to: str | None = None) -> dict:
        """Answer ``query``; with ``reply_to`` (a follow-up question of an earlier answer in this conversation)
        ``query`` is the user's answer to it: context for the conversation's question, not a new question."""
        started = time.monotonic()
        trace = Trace(query)
        conversation_id = conversation_id or uuid.uuid4().hex
        notices: list[str] = []
        direct = mode == "direct"

        def point(name: str, words: str | None = None):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if stage:
                stage(Stage(name, words))
            return time.time()

        # 1 query_received
        t = point("query_received")
        history = self._history(conversation_id)
        about = query  # what routing and the knowledge base look at
        if reply_to:
            first = next((m["content"] for m in history if m["role"] == "user"), "")
            about = f"{first} {query}".strip()
            query = f'My answer to your question "{reply_to}": {query}'
        trace.step("query_received", t, inputs={"query_chars": len(query), "mode": mode, "context": context,
                                                "conversation_id": conversation_id},
                   outputs={"history_turns": len(history)})

        # 2 context_selection
        t = point("context_selection")
        snapshot = None if direct else self.latest()
        if direct:
            chosen, details = "general", {"reason": "direct mode"}
            trace.step("context_selection", t, outputs=details, skipped=True)
        else:
            found = findings.evaluate(snapshot, Thresholds.from_config(self.config))
            words = router.words_of(self.knowledge.index) if self.knowledge is not None else None
            chosen, details = router.route(about, found, context, words)
            trace.step("context_selection", t, inputs={"requested": context},
                       outputs={"context": chosen, **{k: v for k, v in details.items() if k != "hints"},
                                "hints": {k: v for k, v in (details.get("hints") or {}).items() if v}})

        # 3 system_data_collection (the daemon's cached snapshot; never collects inline)
        t = point("system_data_collection")
        sections: dict = {}
        if direct:
            trace.step("system_data_collection", t, outputs={"reason": "direct mode"}, skipped=True)
        else:
            sections = prompt.state_sections(snapshot)
            if snapshot is None:
                notices.append("no system snapshot yet; the answer does not know this box's state")
            trace.step("system_data_collection", t,
                       outputs={"sources": {n: getattr(r, "status", "?") for n, r in (snapshot.sources.items() if snapshot else [])},
                                "snapshot_age_s": round(snapshot.age_s(), 1) if snapshot else None})

        # 4 pattern_matching
        t = point("pattern_matching")
        matches: list[dict] = []
        signals: list[dict] = []
        kb = self.knowledge
        if direct:
            trace.step("pattern_matching", t, outputs={"reason": "direct mode"}, skipped=True)
        elif kb is None:
            notices.append("the knowledge base is not available")
            trace.step("pattern_matching", t, error="knowledge base not available")
        else:
            try:
                matches = [m.to_dict(with_pattern=True) for m in kb.search(about, snapshot, limit=5)]
                signals = [{**m.to_dict(), "context": router.pattern_context(m.pattern, m.category)}
                           for m in kb.signals(snapshot)[:5]] if snapshot is not None else []
                if context not in router.CONTEXTS:  # matched patterns know the context better than the words alone
                    chosen, details = router.by_pattern(chosen, details, [m for m in matches if from_text(m)])
                trace.step("pattern_matching", t, outputs={"matched": [[m["pattern_id"], m["score"]] for m in matches],
                                                           "signals": [s["pattern_id"] for s in signals],
                                                           "context": chosen, "context_reason": details.get("reason"),
                                                           "context_votes": details.get("votes")})
            except Exception as exc:  # a broken KB must not lose the question
                log.exception("pattern matching failed")
                notices.append("pattern matching failed; answering without patterns")
                trace.step("pattern_matching", t, error=f"{exc.__class__.__name__}: {exc}"[:200])

        # 5 prompt_assembly (+ redaction: what the trace shows is exactly what leaves the box)
        providers = self.providers()
        t = point("prompt_assembly", None if providers and mode != "kb_only" else "writing the answer from the knowledge base…")
        effective = "direct" if direct else ("kb_only" if mode == "kb_only" or not providers else "llm")
        if mode == "llm" and not providers:
            notices.append("no LLM provider is configured; answered from the knowledge base")
        # Redacted as data before any prompt exists: secrets always, identifiers unless switched off.
        # Direct mode sends no state, but the state still tells which words in the question are private.
        redactor = redact.Redactor(identifiers=bool(self.cfg("redaction", True)))
        if effective != "kb_only":  # nothing leaves the box in knowledge-base mode
            sections = redactor.redact_data(sections if not direct else prompt.state_sections(self.latest()))
        sent = None
        if effective == "kb_only":
            trace.step("prompt_assembly", t, outputs={"reason": "no LLM call in knowledge-base mode"}, skipped=True)
        else:
            if direct:
                built = prompt.direct(query)
            else:
                pats = [{"pattern_id": m["pattern_id"], "title": m["title"], "category": m["category"], "score": m["score"],
                         "reasons": m["reasons"], "summary": "; ".join((m.get("pattern") or {}).get("symptoms", [])[:2])}
                        for m in matches]
                ran = self.diagnostics([m["pattern_id"] for m in matches])
                budget = self._state_budget(chosen, query, list(sections), pats, ran, history, providers,
                                            redactor.redact)
                while sections and len(pats) > 1 and budget.get("tokens", STATE_MIN_TOKENS) < STATE_MIN_TOKENS:
                    pats = pats[:-1]
                    budget = self._state_budget(chosen, query, list(sections), pats, ran, history, providers,
                                                redactor.redact)
                    budget["patterns_left_out"] = len(matches) - len(pats)
                count = budget.pop("count", None)
                state = prompt.budget_state(sections, chosen, budget["chars"], budget.get("tokens"),
                                            count) if sections else prompt.NO_STATE
                built = prompt.build(chosen, query, state, pats, ran)
            messages = [*history, {"role": "user", "content": built["user"]}]
            system = built["system"]
            system = redactor.redact(system)
            messages = [{"role": m["role"], "content": redactor.redact(m["content"])} for m in messages]
            sent = {"system": system, "messages": messages}
            size = len(system) + sum(len(m["content"]) for m in messages)
            trace.step("prompt_assembly", t, outputs={
                "chars": size, "est_tokens": _est_tokens(system) + sum(_est_tokens(m["content"]) for m in messages),
                "state_sections": built["state_sections"], "dropped_sections": built["dropped"],
                "trimmed_sections": built["trimmed"], "state_budget": None if direct else budget,
                "redaction": {"enabled": redactor.identifiers, "replaced": dict(redactor.counts)},
                "sent": sent})

        # 6 llm_request / 7 llm_response
        provider_name = model = None
        fields = None
        llm_error: str | None = None  # why no LLM answered (shown as the failure it is)
        if effective == "kb_only":
            words = "writing the answer from the knowledge base…"
            now = point("llm_request", words)
            trace.step("llm_request", now, outputs={"reason": "no provider configured" if not providers else "kb_only requested"},
                       skipped=True)
            trace.step("llm_response", point("llm_response", words), skipped=True)
        elif not providers:  # direct without any provider
            trace.step("llm_request", point("llm_request"), error="no LLM provider configured")
            trace.step("llm_response", point("llm_response"), skipped=True)
            llm_error = f"direct chat needs an LLM provider; none is configured (add one in {kb_answer.PROVIDER_PLACE['web']})"
        else:
            t = point("llm_request", f"asking {providers[0].model or providers[0].name}…")
            reply, errors = self._call(providers, sent, trace, cancel)
            trace.step("llm_request", t, inputs={"providers": [p.name for p in providers]},
                       outputs={"provider": reply["provider"] if reply else None, "hops": len(trace.hops)},
                       error=None if reply else "every provider failed")
            t = point("llm_response")
            if reply is None:
                trace.step("llm_response", t, skipped=True, outputs={"reason": "no usable reply"})
                llm_error = "every LLM provider failed (" + "; ".join(errors) + ")"
                if not direct:
                    notices.append(llm_error + "; answered from the knowledge base")
                effective = "kb_only" if not direct else "direct"
            else:
                provider_name, model = reply["provider"], reply["model"]
                fields, problems = parse.normalize(parse.extract_json(reply["text"]), reply["text"])
                if reply.get("cut"):
                    limit = next((p.max_tokens for p in providers if p.name == reply["provider"]), None)
                    problems.append(f"the answer was cut at max_tokens ({limit}): raise it for {reply['provider']}")
                if not direct and problems:
                    notices.extend(problems)
                fields = redactor.restore(fields)
                trace.step("llm_response", t, outputs={"chars": len(reply["text"]), "reasoning_chars": len(reply["reasoning"]),
                                                        "parsed": not problems, "problems": problems,
                                                        "duration_ms": reply["duration_ms"], "usage": reply.get("usage")})
        if fields is None:
            if direct:  # said as a failure, not dressed as an answer
                # "try again" helps when a provider failed; with none configured only adding one does
                fields = {"analysis": f"Direct Chat got no answer: {llm_error}. "
                                      + ("Try again, or" if providers else "Add one, or")
                                      + " switch Direct Chat off for an answer from the knowledge base.", "possible_causes": [],
                          "suggested_diagnostics": [], "recommended_actions": [], "explanation": "", "follow_up_questions": []}
            else:
                reason = ("no LLM provider is configured" if not providers else
                          "knowledge-base mode requested" if mode == "kb_only" else "the LLM providers failed")
                fields = kb_answer.compose(about, chosen, matches, signals, reason, snapshot)

        # 8 confidence_calculation
        t = point("confidence_calculation")
        # Patterns the state alone pointed to (a question whose words matched nothing) are shown
        # but do not make the answer more certain: how well the question was understood does.
        scores = [m["score"] for m in matches if from_text(m)]
        confidence = parse.confidence(scores)
        trace.step("confidence_calculation", t, inputs={"scores": scores},
                   outputs={"confidence": confidence, "label": parse.confidence_label(confidence),
                            "rule": "0.5 + mean(scores), +0.1 if top > 0.7, cap 0.98"})

        # 9 response_assembly (risk of every command decided here, whatever the LLM or pattern claimed)
        t = point("response_assembly")
        fields = risk.review(fields, self.recognise)
        # the values the question asks for, read from the same snapshot (a KB answer has them from compose: not read twice)
        if "readings" not in fields:
            fields["readings"] = [] if direct else readings.of(about, snapshot)
        answer = {"query_id": trace.id, "conversation_id": conversation_id, "query": query, "context": chosen,
                  "mode": effective, "provider": provider_name, "model": model, **fields,
                  "confidence": confidence, "confidence_label": parse.confidence_label(confidence),
                  "matched_patterns": [{k: m[k] for k in ("pattern_id", "title", "category", "score", "reasons")} for m in matches],
                  "notices": notices, "trace_id": trace.id, "created_at": trace.created_at,
                  "llm_error": llm_error, "llm_configured": bool(providers), "reply_to": reply_to}
        trace.step("response_assembly", t, outputs={"mode": effective, "provider": provider_name,
                                                    "causes": len(fields["possible_causes"]),
                                                    "actions": len(fields["recommended_actions"])})
        answer["confidence_label"] = kb_answer.confidence_label(answer)  # one label for the API, the CLI and the web UI
        answer["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        self._save(trace, answer, conversation_id, query)
        return answer

    # -- helpers ------------------------------------------------------
    def _history(self, conversation_id: str) -> list[dict]:
        """Earlier turns as chat messages (query + the answer's analysis), oldest first."""
        try:
            turns = self.store.turns(conversation_id, limit=HISTORY_TURNS)
        except Exception:
            return []
        out = []
        for turn in turns:
            out.append({"role": "user", "content": turn["query"]})
            out.append({"role": "assistant", "content": str((turn.get("answer") or {}).get("analysis") or "")[:2000]})
        return out

    def _state_budget(self, context: str, query: str, names: list[str], pats: list[dict], ran: list[dict],
                      history: list[dict], providers: list[llm.Provider], as_sent: Callable[[str], str]) -> dict:
        """The state's budget: ``assist.state_budget_chars``, and, where a provider tells its context
        window and counts tokens, what the smallest such window leaves after the rest of the prompt
        and room for the reply (so the most relevant state is cut to fit instead of refused).
        Tokens are counted on the text ``as_sent`` (redacted: placeholders change its length)."""
        budget: dict = {"chars": int(self.cfg("state_budget_chars", 5000))}
        for provider in providers:
            try:
                window = provider.context_tokens()
                if not window or (budget.get("context_tokens") and window >= budget["context_tokens"]):
                    continue
                # the prompt without the state's JSON, its heading naming every section (at most)
                frame = prompt.build(context, query, prompt.State(" ", names, [], names), pats, ran)
                rest = provider.count_tokens(as_sent("\n".join([frame["system"], frame["user"],
                                                                  *(m["content"] for m in history)])))
            except llm.ProviderError:
                continue
            if rest is None:
                continue
            tokens = max(0, window - reply_room(provider, window) - rest - PROMPT_MARGIN_TOKENS)
            budget.update({"tokens": tokens, "context_tokens": window, "provider": provider.name,
                           "count": lambda text, count=provider.count_tokens: count(as_sent(text))})
        return budget

    def _call(self, providers: list[llm.Provider], sent: dict, trace: Trace, cancel) -> tuple[dict | None, list[str]]:
        """Try each provider in order; a hop per attempt. (reply or None, error summaries)."""
        errors = []
        for provider in providers:
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            started = time.monotonic()
            try:
                secrets = [provider.api_key() or ""]
            except llm.ProviderError:
                secrets = []
            try:
                check_fits(provider, sent)
                reply = provider.chat(sent["system"], sent["messages"], schema=parse.ANSWER_SCHEMA)
            except llm.ProviderError as exc:
                message = _scrub(str(exc), secrets)
                trace.hops.append({"provider": provider.name, "model": provider.model, "result": exc.kind,
                                   "message": message, "duration_ms": round((time.monotonic() - started) * 1000, 1)})
                errors.append(f"{provider.name}: {message}")
                log.info("LLM provider %s failed: %s", provider.name, message)
                continue
            except Exception as exc:  # a client bug must fall back, not lose the question
                message = _scrub(f"{exc.__class__.__name__}: {exc}", secrets)[:200]
                trace.hops.append({"provider": provider.name, "model": provider.model, "result": "error",
                                   "message": message, "duration_ms": round((time.monotonic() - started) * 1000, 1)})
                errors.append(f"{provider.name}: {message}")
                continue
            trace.hops.append({"provider": provider.name, "model": reply["model"], "result": "ok",
                               "duration_ms": round((time.monotonic() - started) * 1000, 1), "usage": reply.get("usage")})
            return {**reply, "provider": provider.name}, errors
        return None, errors

    def _save(self, trace: Trace, answer: dict, conversation_id: str, query: str) -> None:
        data = trace.to_dict(answer["mode"], answer["provider"])
        data.update({"context": answer["context"], "duration_ms": answer["duration_ms"], "conversation_id": conversation_id})
        try:
            self.store.save_trace(data)
            self.store.add_turn(conversation_id, query, answer)
        except Exception as exc:  # the answer still reaches the user
            log.error("could not store the assist trace/turn: %s", exc)
            answer["notices"].append("this answer could not be saved to history")
