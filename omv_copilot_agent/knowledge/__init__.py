"""The knowledge base: validated troubleshooting patterns, ranked matching, safe diagnostics.

The Agent builds the :class:`KnowledgeBase` (``KnowledgeBase.from_config``) that the
API, CLI and the assistant use (contract in docs/contracts.md). Patterns come from the shipped,
read-only directory plus a writable local overlay (``knowledge.local_patterns_dir``)
where an admin's edits live: a local file with a shipped id replaces that pattern.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from pathlib import Path

from omv_copilot_agent import findings, memory, paths
from omv_copilot_agent.findings import Thresholds
from omv_copilot_agent.knowledge import diagnostics, editing, loader, matcher, packed
from omv_copilot_agent.probes import params as probe_params
from omv_copilot_agent.knowledge.matcher import Match

log = logging.getLogger(__name__)

__all__ = ["KnowledgeBase", "Match"]


class KnowledgeBase:
    def __init__(self, patterns_dir: str | Path | None = None, store=None, *,
                 timeout_s: float = diagnostics.DEFAULT_TIMEOUT_S, max_output: int = diagnostics.DEFAULT_MAX_OUTPUT,
                 local_dir: str | Path | None = None, thresholds: Thresholds | None = None, events=None,
                 data_dir: str | Path | None = None):
        self.store = store
        #: where DIAGNOSTIC_RAN is published (None: nobody listens, e.g. a one-off KnowledgeBase)
        self.events = events
        #: where the packed patterns are kept in a file (knowledge.packed.keep); None: in memory
        self.data_dir = data_dir
        #: how often the patterns file was found damaged while running (a second time: memory only)
        self._repairs = 0
        #: the findings engine's thresholds, the same the alerts use (set again on a settings change)
        self.thresholds = thresholds or Thresholds.from_section()
        #: Serialises write + reload so two concurrent saves cannot lose one another's file or index.
        self.lock = threading.RLock()
        self.configure(patterns_dir, local_dir, timeout_s, max_output)

    def configure(self, patterns_dir: str | Path | None, local_dir: str | Path | None,
                  timeout_s: float, max_output: int) -> None:
        """Where patterns come from and how diagnostics run; reloads (at start, and on a settings change)."""
        with self.lock:
            self.patterns_dir = Path(patterns_dir) if patterns_dir else paths.data_path("patterns")
            #: The admin's overlay (None: editing is off, e.g. a KnowledgeBase built for a one-off check).
            self.local_dir = Path(local_dir) if local_dir else None
            self.timeout_s, self.max_output = timeout_s, max_output
            self.reload()

    @classmethod
    def from_config(cls, config, *, store=None, events=None) -> "KnowledgeBase":
        """The agent's knowledge base, from the ``knowledge`` and ``findings`` sections."""
        data_dir = getattr(config, "data_dir", None)
        # The daemon's own secrets join the probes' deny list wherever they are configured.
        for secret in (getattr(config, "path", None), data_dir,
                       config.get_path("api.token_file") if hasattr(config, "get_path") else None):
            if secret:
                probe_params.deny(str(secret))
        return cls(store=store, events=events, thresholds=Thresholds.from_config(config), data_dir=data_dir,
                   **_settings(config.get("knowledge") or {}, data_dir))

    def apply_config(self, config: dict) -> None:
        """A settings change (events.CONFIG_CHANGED): new thresholds and pattern directories apply at once."""
        self.thresholds = Thresholds.from_section(config.get("findings"))
        self.configure(**_settings(config.get("knowledge") or {}, self.data_dir))

    def reload(self) -> None:
        """Shipped patterns, then the overlay on top; swap everything in at once for concurrent readers.

        Parsed, validated and packed in a child process when this one has no other thread yet (the
        daemon's start): jsonschema and the parse's garbage stay out of the daemon's memory, and
        the patterns come back packed (knowledge.packed), never as a whole in this process. With a
        data dir, the packed patterns stay in its patterns file (written only when they changed)
        and only where each one is comes back.
        """
        keep_dir = Path(self.data_dir) if self.data_dir and self._repairs < 2 else None
        shipped, files, local_files, kept, errors = memory.in_child(_load_patterns, self.patterns_dir,
                                                                    self.local_dir, keep_dir)
        if isinstance(kept, packed.Layout):
            try:
                patterns = packed.Filed(kept, _repairer(self))
            except OSError as exc:  # the file vanished or cannot be opened: parse them again, into memory
                log.warning("packed patterns file %s unreadable (%s); keeping the patterns in memory", kept.path,
                            exc.strerror or str(exc))
                shipped, files, local_files, kept, errors = memory.in_child(_load_patterns, self.patterns_dir,
                                                                            self.local_dir, None)
        if not isinstance(kept, packed.Layout):
            patterns = packed.Packed(kept)
        for err in errors:
            log.warning("pattern %s (%s) %s: %s", err["file"], err["pattern_id"], err["field"], err["reason"])
        self.shipped_ids = frozenset(shipped)
        self.files = {**files, **local_files}
        self.local_files = local_files
        self.patterns, self.errors = patterns, errors
        self.index = matcher.Index(self.patterns)

    def close(self) -> None:
        """Let go of the patterns and of the events (the Agent's close, at shutdown): a patterns file
        closes as soon as no reader holds its mapping, however long something keeps this knowledge
        base, and the cycle through ``events`` (which holds ``apply_config``) is broken. Searches
        find nothing after it; a reload (a settings change) loads the patterns again."""
        with self.lock:
            self.events = None
            self.patterns = packed.Packed({})
            self.index = matcher.Index(self.patterns)

    def _repair(self, damaged: packed.Filed) -> packed.Filed | packed.Packed:
        """The patterns again, after a read found their file damaged: rebuilt once, then in memory.

        Readers that met the same damage at once count it once: the first rebuilds, the others get
        what it rebuilt.
        """
        with self.lock:
            if self.patterns is not damaged:
                return self.patterns
            self._repairs += 1
            self.reload()
            return self.patterns

    def origin(self, pattern_id: str) -> dict:
        """``{source: shipped|local, overrides_shipped}`` of a loaded pattern (never stored in its YAML)."""
        local = pattern_id in self.local_files
        return {"source": "local" if local else "shipped", "overrides_shipped": local and pattern_id in self.shipped_ids}

    def text(self, pattern_id: str) -> str | None:
        """The YAML text the pattern was loaded from (what an editor starts with)."""
        path = self.files.get(pattern_id)
        try:
            return path.read_text(encoding="utf-8") if path else None
        except OSError:
            return None

    def save_local(self, pattern_id: str, text: str) -> bool:
        """Write ``text`` as the overlay file of ``pattern_id`` and reload; True when the id was new.

        The caller has validated the text (editing.check). Raises editing.OverlayUnavailable.
        """
        if self.local_dir is None:
            raise editing.OverlayUnavailable("pattern editing is off: no local patterns directory is configured")
        with self.lock:
            created = pattern_id not in self.patterns
            target = editing.write_atomic(self.local_dir, pattern_id, text)
            old = self.local_files.get(pattern_id)
            if old is not None and old != target:  # an admin's own file name for the same id: one file per id
                editing.remove([old])
            self.reload()
        return created

    def delete_local(self, pattern_id: str) -> bool:
        """Remove the overlay file of ``pattern_id`` (back to the shipped one, if any); False when none."""
        if self.local_dir is None:
            return False
        with self.lock:
            candidates = [self.local_dir / f"{pattern_id}.yaml", self.local_dir / f"{pattern_id}.yml"]
            if pattern_id in self.local_files:
                candidates.append(self.local_files[pattern_id])
            found = editing.remove(candidates)
            if found:
                self.reload()
        return found

    def get(self, pattern_id: str) -> dict | None:
        return self.patterns.get(pattern_id) if isinstance(pattern_id, str) else None

    def _feedback(self) -> dict:
        if self.store is None or not hasattr(self.store, "feedback_counts"):
            return {}
        try:
            return self.store.feedback_counts()
        except Exception as exc:  # a broken store must not break search
            log.warning("feedback unavailable: %s", exc)
            return {}

    def search(self, query: str, snapshot=None, limit: int = 5) -> list[Match]:
        found = findings.evaluate(snapshot, self.thresholds)
        return matcher.rank(self.index, query, found, limit=limit, feedback=self._feedback())

    def signals(self, snapshot) -> list[Match]:
        """The patterns the box's findings point to, with no question asked."""
        found = findings.evaluate(snapshot, self.thresholds)
        return matcher.rank(self.index, "", found, limit=len(self.patterns), feedback=None)

    def run_diagnostics(self, pattern_id: str, params: dict | None = None, *, progress=None,
                        step: int | None = None, deadline: float | None = None, skip=None) -> list[dict]:
        """Run the pattern's diagnostics in order (only index ``step`` when given); solutions never run.

        ``deadline`` (``time.monotonic()``) bounds the whole run for a caller that must answer in
        time: each step gets at most what is left, and a step with less than a second left is
        reported as not run rather than started. ``skip(diag)`` may name a reason not to run a step
        (reported with it as the step's error).
        """
        pattern = self.get(pattern_id)
        if pattern is None:
            raise KeyError(pattern_id)
        results = []
        for i, diag in enumerate(pattern["diagnostics"]):
            if step is not None and i != step:
                continue
            if progress:
                progress(i, len(pattern["diagnostics"]), diag)
            reason = skip(diag) if skip is not None else None
            if reason:
                results.append(diagnostics.not_run(diag, reason))
                continue
            left = self.timeout_s if deadline is None else min(self.timeout_s, deadline - time.monotonic())
            if left < 1:
                results.append(diagnostics.not_run(diag, "not run: the time for these checks was spent by the steps before"))
                continue
            results.append(diagnostics.run_step(diag, params or {}, timeout=round(left, 1), max_output=self.max_output))
        if self.events is not None:
            from omv_copilot_agent.events import DIAGNOSTIC_RAN

            self.events.publish(DIAGNOSTIC_RAN, pattern_id, results)
        return results

    def solutions(self, pattern_id: str) -> list[dict]:
        pattern = self.get(pattern_id)
        if pattern is None:
            raise KeyError(pattern_id)
        return sorted(pattern["solutions"], key=lambda s: s["priority"])


def _repairer(kb: KnowledgeBase):
    """``kb._repair``, holding ``kb`` weakly: its packed.Filed keeps its file open, and a strong
    reference back from the mapping to the knowledge base would make a cycle that only the cycle
    collector frees (after the daemon's gc.freeze, never). Without one, reference counting closes the
    file as soon as nothing reads it any more: a reload or a replaced knowledge base leaves no
    descriptor behind."""
    repair = weakref.WeakMethod(kb._repair)

    def on_damage(damaged: packed.Filed):
        method = repair()
        if method is None:  # a reader outlived its knowledge base: nothing to rebuild from
            raise packed.Damaged(f"{damaged.path}: damaged, and its knowledge base is gone")
        return method(damaged)

    return on_damage


def _load_patterns(patterns_dir: Path, local_dir: Path | None, keep_dir: Path | None):
    """(shipped pattern ids, their files, overlay files, the merged patterns packed, errors).

    With ``keep_dir`` the packed patterns are put in its patterns file and only their packed.Layout
    (where each one is) is returned: the patterns themselves never cross to the caller. Should the
    caller then fail to open the file (another process removed it in between: rare), it parses them
    again without ``keep_dir``. A file that cannot be written: the packed patterns themselves.
    """
    shipped, files, errors = loader.load_files(patterns_dir)
    patterns = dict(shipped)
    local_files: dict[str, Path] = {}
    if local_dir is not None and local_dir.is_dir():
        local, local_files, local_errors = loader.load_files(local_dir, label=lambda path: f"local:{path.name}")
        patterns.update(local)
        errors += local_errors
    labels = {pid: (f"local:{local_files[pid].name}" if pid in local_files else files[pid].name) for pid in patterns}
    loader.check_related(patterns, labels, errors)
    blobs = packed.pack(patterns)
    kept: packed.Layout | dict[str, bytes] = blobs
    if keep_dir is not None and keep_dir.is_dir():  # not there: a CLI run before the daemon ever started
        try:
            kept = packed.keep(keep_dir, blobs)
        except OSError as exc:  # e.g. a CLI user who may not write the daemon's data dir: no error of theirs
            log.info("cannot keep the packed patterns in %s (%s); keeping them in memory", keep_dir, exc)
    return list(shipped), files, local_files, kept, errors


def _settings(knowledge: dict, data_dir) -> dict:
    """KnowledgeBase arguments from the config's ``knowledge`` section."""
    local_dir = knowledge.get("local_patterns_dir") or (Path(data_dir) / "patterns" if data_dir else None)
    return {"patterns_dir": knowledge.get("patterns_dir"), "local_dir": local_dir,
            "timeout_s": float(knowledge.get("diagnostic_timeout_s") or diagnostics.DEFAULT_TIMEOUT_S),
            "max_output": int(knowledge.get("diagnostic_max_output_bytes") or diagnostics.DEFAULT_MAX_OUTPUT)}
