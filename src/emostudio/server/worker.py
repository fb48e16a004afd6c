"""The model worker: a bounded queue drained by (by default) one thread that scores whatever waits in one batch.

Requests that arrive together are scored together: a worker takes the first waiting job, then everything else
already queued (up to `max_batch`), and scores each (granularity, embedding) group with `Engine.results` (or
`Engine.segment_scores` for segment scores: the live closing pass), so a request whose audio breaks the model fails
alone while the rest of its group gets results.
Callers get a `concurrent.futures.Future`; async code awaits it with `asyncio.wrap_future`, so an event loop
never blocks on the model.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from emostudio.engine import Engine
from emostudio.errors import EmoStudioError
from emostudio.records import Fraction, Prepared, to_all
from emostudio.results import Result
from emostudio.scoring import InputScores


class QueueFullError(EmoStudioError):
    """Too many requests are waiting; try again shortly (HTTP 429)."""

    code = "queue_full"


class UnavailableError(EmoStudioError):
    """The server cannot take work now: shutting down, or no model loaded (HTTP 503)."""

    code = "unavailable"


@dataclass
class _Job:
    item: Prepared
    granularity: str
    embedding: bool
    scores_only: bool = False  # True: the segment scores (InputScores), not a Result
    future: Future = field(default_factory=Future)
    progress: Fraction | None = None  # told the share of its group scored (from the worker thread)


@dataclass
class WorkerStats:
    """Counters for /readyz and tests: jobs scored, model calls made, the largest group scored at once."""

    jobs: int = 0
    batches: int = 0
    largest_batch: int = 0
    failures: int = 0


class ModelWorker:
    """Bounded job queue in front of `engine.results`, served by `workers` threads."""

    def __init__(self, recognizer: Engine, *, capacity: int = 8, workers: int = 1, max_batch: int = 8):
        self.recognizer = recognizer
        self.max_batch = max(1, max_batch)
        self.stats = WorkerStats()
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max(1, capacity))
        self._threads = [
            threading.Thread(target=self._loop, name=f"emostudio-model-{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        self._closed = False
        self._lock = threading.Lock()

    def start(self) -> ModelWorker:
        for t in self._threads:
            if not t.is_alive():
                t.start()
        return self

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def submit(
        self,
        item: Prepared,
        granularity: str = "utterance",
        embedding: bool = False,
        progress: Fraction | None = None,
    ) -> Future:
        """Queue one prepared input; the future resolves to its Result. Raises QueueFullError / UnavailableError.
        `progress` is told the share of its group scored, from the worker thread."""
        return self._put(_Job(item, granularity, embedding, progress=progress))

    def submit_scores(
        self, item: Prepared, granularity: str = "utterance", embedding: bool = False
    ) -> Future:
        """Queue one prepared input; the future resolves to its segment scores (emostudio.scoring.InputScores),
        for callers that assemble a Result from several parts (the live closing pass)."""
        return self._put(_Job(item, granularity, embedding, scores_only=True))

    def _put(self, job: _Job) -> Future:
        if self._closed:
            raise UnavailableError("the server is shutting down")
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise QueueFullError(
                f"the model queue is full ({self._queue.maxsize} waiting); try again shortly"
            ) from None
        return job.future

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop taking jobs, fail the ones still waiting, and let the threads finish their current batch."""
        self._closed = True
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(UnavailableError("the server is shutting down"))
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break
        for t in self._threads:
            if t.is_alive():
                t.join(timeout_s)

    # ---- worker thread -------------------------------------------------------------------------------------
    def _take(self) -> list[_Job] | None:
        first = self._queue.get()
        if first is None:
            return None
        jobs = [first]
        while len(jobs) < self.max_batch:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:  # a stop signal: put it back for after this batch
                self._queue.put_nowait(None)
                break
            jobs.append(nxt)
        return [j for j in jobs if j.future.set_running_or_notify_cancel()]

    def _loop(self) -> None:
        while True:
            jobs = self._take()
            if jobs is None:
                return
            groups: dict[tuple[str, bool, bool], list[_Job]] = {}
            for j in jobs:
                groups.setdefault((j.granularity, j.embedding, j.scores_only), []).append(j)
            for (granularity, embedding, scores_only), group in groups.items():
                self._run(group, granularity, embedding, scores_only)
            if self._closed and self._queue.empty():
                return

    def _run(self, group: list[_Job], granularity: str, embedding: bool, scores_only: bool = False) -> None:
        """Score a group with the one failure policy: a bad input fails its own request only."""
        outcomes: Sequence[Result | InputScores | BaseException]
        items = [j.item for j in group]
        try:
            if scores_only:
                outcomes = self.recognizer.segment_scores(items, granularity, embedding)
            else:
                # one pass scores the group: its share is told to each job that asked
                scoring = to_all(j.progress for j in group)
                outcomes = self.recognizer.results(items, granularity, embedding, progress=scoring)
        except (
            BaseException
        ) as exc:  # a bug outside any one input: every caller hears of it, the worker lives
            outcomes = [exc] * len(group)
        failed = sum(isinstance(o, BaseException) for o in outcomes)
        with self._lock:
            self.stats.failures += failed
            self.stats.jobs += len(group) - failed
            self.stats.batches += 1
            self.stats.largest_batch = max(self.stats.largest_batch, len(group))
        for j, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                j.future.set_exception(outcome)
            else:
                j.future.set_result(outcome)
