"""Asynchronous questions: a bounded pool of daemon worker threads and a job table.

OMV's nginx cuts PHP requests at 60 s and an LLM may take 120 s, so the web UI
starts a job (202 ``{job_id}``) and polls. The pool is bounded twice: a fixed
number of workers and a cap on queued jobs (beyond it ``submit`` refuses, the API
answers 503). Finished jobs are kept for ``keep_s`` so a slow poller still finds
them. Threads are daemons so an in-process CLI never hangs on exit; the daemon
closes the pool before the store, so no answer is being written while it shuts.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


class PoolFull(RuntimeError):
    """Too many questions are waiting already."""


@dataclass
class Job:
    id: str
    conversation_id: str | None
    created_at: float = field(default_factory=time.time)
    status: str = QUEUED
    stage: str | None = None
    stage_text: str | None = None  # the stage in words ("asking glm-4…"), for a person waiting
    started_at: float | None = None
    finished_at: float | None = None
    answer: dict | None = None
    error: dict | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def to_dict(self) -> dict:
        out = {"job_id": self.id, "status": self.status, "stage": self.stage, "stage_text": self.stage_text,
               "conversation_id": self.conversation_id,
               "created_at": self.created_at, "started_at": self.started_at, "finished_at": self.finished_at}
        if self.answer is not None:
            out["answer"] = self.answer
        if self.error is not None:
            out["error"] = self.error
        return out


class JobPool:
    def __init__(self, workers: int = 2, max_queued: int = 16, keep_s: float = 3600.0):
        self.max_queued = max_queued
        self.keep_s = keep_s
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"assist-worker-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[[Job], dict], conversation_id: str | None = None) -> Job:
        """Queue ``fn(job) -> answer``; raises PoolFull when ``max_queued`` jobs wait already."""
        self._expire()
        with self._lock:
            if self._closed:
                raise PoolFull("the daemon is shutting down; ask again once it is back")
            waiting = sum(1 for j in self.jobs.values() if j.status == QUEUED)
            if waiting >= self.max_queued:
                raise PoolFull(f"{waiting} questions are already waiting; try again shortly")
            job = Job(uuid.uuid4().hex, conversation_id)
            self.jobs[job.id] = job
        self._queue.put((job, fn))
        return job

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        if job is None:
            return None
        with self._lock:
            if job.status in (QUEUED, RUNNING):
                job.cancel.set()
                job.status, job.finished_at = CANCELLED, time.time()
        return job

    def close(self, timeout_s: float = 5.0) -> list[str]:
        """Cancel every queued or running job and wait up to ``timeout_s`` for the workers.

        Returns the names of workers still busy at the deadline (a provider call that
        ignores cancellation); they are daemon threads and end with the process.
        """
        with self._lock:
            self._closed = True
            for job in self.jobs.values():
                if job.status in (QUEUED, RUNNING):
                    job.cancel.set()
                    job.status, job.finished_at = CANCELLED, time.time()
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return [t.name for t in self._threads if t.is_alive()]

    def _expire(self) -> None:
        cutoff = time.time() - self.keep_s
        with self._lock:
            for jid in [j.id for j in self.jobs.values() if j.finished_at and j.finished_at < cutoff]:
                del self.jobs[jid]

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:  # close(): one sentinel per worker
                return
            job, fn = item
            with self._lock:
                if job.status == CANCELLED:
                    continue
                job.status, job.started_at = RUNNING, time.time()
            try:
                answer = fn(job)
                error = None
            except Exception as exc:  # reported on the job, never raised into the pool
                answer, error = None, {"code": "assist_failed", "message": f"{exc.__class__.__name__}: {exc}"[:300]}
            with self._lock:
                if job.status == CANCELLED:
                    continue
                job.answer, job.error = answer, error
                job.status = DONE if error is None else FAILED
                job.finished_at = time.time()
