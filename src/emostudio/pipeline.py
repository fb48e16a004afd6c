"""Many inputs → (input, Result | error), in input order: the one loop behind every surface that takes many.

    sources → prepare in a worker pool (decode, checks, VAD, quality, enhancement), bounded read-ahead
            → groups of about `group_seconds` of audio → `Engine.results` (length-sorted model batches)
            → Outcome per input, in the order given

`Recognizer.analyze_many`, the local batch runner and the Ray actor all use this module, and the server's model
worker the same `Engine.results`, so they share one failure policy:

- a bad input (any `EmoStudioError` while preparing) is that input's error and nothing else's;
- when a model batch fails, its members are scored again one by one, so only the guilty input gets an error
  (emostudio.scoring.each_or_alone);
- an unexpected exception (a bug) becomes an `InternalError` for that input, never the whole call's.

What is computed for each input is an `AnalysisOptions` (emostudio.options) held by `PipelineOptions`, which adds
only how the many inputs are run (workers, executor, grouping, read-ahead).

Progress inside one input (`on_progress(index, stage, fraction)`: its decoding, speaker turns and scoring) is
told from the thread or inline pools; worker processes tell nothing until their input is prepared.

Memory stays bounded for any number of inputs: at most `read_ahead` inputs are being prepared or wait
prepared, preparing pauses while more than `group_seconds` of prepared audio waits, and a group is scored and
handed out as soon as it holds `group_seconds` of audio (or `max_group_items` inputs).
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emostudio.audio import ALL_ERRORS
from emostudio.engine import Engine
from emostudio.errors import AudioError, EmoStudioError, InternalError, UsageError, printable
from emostudio.options import AnalysisOptions
from emostudio.prepare import prepare
from emostudio.records import Audio, Fraction, InputItem, Prepared, at_stage, source_name, to_all
from emostudio.results import Result
from emostudio.settings import Settings

EXECUTORS = ("thread", "process", "inline")


@dataclass
class PipelineOptions:
    """How many inputs are run: `analysis` says what is computed for each; the rest how they flow. Seconds are
    audio seconds. An InputItem's own `roles` / `channels` win over `analysis` for that input."""

    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    workers: int = 2  # inputs prepared at once (threads or processes); 0 = on the calling thread
    executor: str = "thread"  # "thread" | "process" (spawned, one torch thread each) | "inline"
    group_seconds: float | None = None  # audio scored per group; None: 4 × batch seconds × model lanes
    max_group_items: int = 256  # inputs per group at most
    read_ahead: int | None = None  # inputs submitted but not yet handed out; None: max(4, 4 × workers)

    def check(self) -> PipelineOptions:
        """Raise UsageError naming the first bad option; returns self."""
        if not isinstance(self.analysis, AnalysisOptions):
            raise UsageError(f"analysis must be an AnalysisOptions, got {type(self.analysis).__name__}")
        self.analysis.check()
        if not isinstance(self.workers, int) or isinstance(self.workers, bool) or self.workers < 0:
            raise UsageError(f"workers must be a whole number ≥ 0, got {self.workers!r}")
        if self.executor not in EXECUTORS:
            raise UsageError(f"executor must be one of {', '.join(EXECUTORS)}, not {self.executor!r}")
        if self.group_seconds is not None and not self.group_seconds > 0:
            raise UsageError(f"group_seconds must be positive, got {self.group_seconds!r}")
        if self.max_group_items < 1:
            raise UsageError(f"max_group_items must be at least 1, got {self.max_group_items!r}")
        if self.read_ahead is not None and self.read_ahead < 1:
            raise UsageError(f"read_ahead must be at least 1, got {self.read_ahead!r}")
        return self


@dataclass
class Job:
    """One input as the pipeline carries it. `item` is whatever the caller passed (an InputItem for batches)."""

    index: int
    source: Any  # path, bytes, numpy array, Audio
    name: str
    sample_rate: int | None = None
    item: Any = None


@dataclass
class Outcome:
    """One input's end: a Result, or the error that stopped it (both when the result could not be saved)."""

    source: str  # display name of the input
    result: Result | None = None
    error: EmoStudioError | None = None
    index: int = 0
    item: Any = None  # the caller's input (InputItem, path, ...)
    prepared: Prepared | None = field(
        default=None, repr=False
    )  # the scored audio, for saving; drop after use

    @property
    def ok(self) -> bool:
        return self.result is not None and self.error is None

    def scored_audio(self) -> Prepared:
        """The scored audio of a recognised input (InternalError once it was dropped, or for a failed one)."""
        if self.prepared is None:
            raise InternalError(f"{printable(self.source)}: the scored audio is not kept (failed or dropped)")
        return self.prepared


def as_jobs(sources: object) -> Iterator[Job]:
    """Jobs from a list (or any iterable) of inputs; a single path or bytes counts as a list of one.

    Each input may be a path (str / PathLike), bytes, an `Audio`, an `InputItem`, or `(array, sample_rate)`.
    """
    if isinstance(sources, str | os.PathLike | bytes | bytearray | Audio | InputItem):
        sources = [sources]
    elif isinstance(sources, np.ndarray):
        raise UsageError(
            "sources is a numpy array: pass a list of inputs, e.g. [(waveform, sample_rate)] for one array"
        )
    elif sources is None or not isinstance(sources, Iterable):
        raise UsageError(
            f"sources must be a list of inputs (paths, bytes, arrays), got {type(sources).__name__}"
        )
    for i, src in enumerate(sources):
        if isinstance(src, InputItem):
            yield Job(i, src.path, src.path, None, src)
        elif isinstance(src, tuple) and len(src) == 2 and isinstance(src[0], np.ndarray):
            yield Job(i, src[0], f"<array {i}>", src[1], src)
        else:
            yield Job(i, src, source_name(src), None, src)


# ---------------------------------------------------------------------------------------------- preparing
_worker_settings: Settings | None = None  # the Settings a pool worker prepares with


def _die_with_parent(parent_pid: int) -> None:
    """Linux: a worker process gets SIGKILL when its parent dies (even by kill -9), never lingering."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before the request took effect
        os._exit(1)


def _init_worker(settings: Settings, parent_pid: int | None = None) -> None:
    global _worker_settings
    if parent_pid is not None:  # a worker process: one torch thread each, or the VAD oversubscribes the cores
        _die_with_parent(parent_pid)
        import torch

        torch.set_num_threads(1)
    _worker_settings = settings


@dataclass
class _Failed:
    """An error carried back from a worker process by its code and text (rebuilt with its type)."""

    code: str
    path: str | None
    message: str


InputProgress = Callable[[int, str, float], None]  # (input index, stage key, fraction of that stage)


def _prepare_job(
    job: Job, options: AnalysisOptions, in_process: bool, on_progress: InputProgress | None = None
):
    """Runs in a worker: a Prepared, or the input's error (an unexpected exception becomes InternalError)."""
    try:
        # a manifest row may name its channel roles (and so separate them)
        return prepare(
            job.source,
            _worker_settings,
            options.for_item(job.item),
            name=job.name,
            sample_rate=job.sample_rate,
            progress=None if on_progress is None else functools.partial(on_progress, job.index),
        )
    except EmoStudioError as e:
        if in_process:
            return _Failed(e.code, getattr(e, "path", None), getattr(e, "problem", None) or str(e))
        return e
    except Exception as e:  # a bug while preparing one input: that input's error, the rest go on
        err = InternalError(f"{printable(job.name)}: unexpected {type(e).__name__} while preparing: {e}")
        return _Failed(err.code, None, str(err)) if in_process else err


def _rebuild(failed: _Failed) -> EmoStudioError:
    """The typed error for a `_Failed` from a worker process."""
    if failed.path is not None:
        classes: tuple[type[AudioError], ...] = (*ALL_ERRORS, AudioError)
        for cls in classes:
            if cls.code == failed.code:
                return cls(failed.path, failed.message)
    err = EmoStudioError(failed.message)
    err.code = failed.code
    return err


class _Inline(Executor):
    """workers=0: prepare on the calling thread (debugging, tiny jobs, inside a Ray actor)."""

    def __init__(self, settings: Settings):
        _init_worker(settings)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        f: Future = Future()
        f.set_result(fn(*args, **kwargs))
        return f


def make_executor(options: PipelineOptions, settings: Settings) -> Executor:
    if options.workers == 0 or options.executor == "inline":
        return _Inline(settings)
    if options.executor == "process":  # spawn: the workers' parent is this process, so they can die with it
        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            options.workers, mp_context=ctx, initializer=_init_worker, initargs=(settings, os.getpid())
        )
    return ThreadPoolExecutor(options.workers, initializer=_init_worker, initargs=(settings,))


# ------------------------------------------------------------------------------------------------- driving
def iter_results(
    engine: Engine,
    sources: object,
    options: PipelineOptions | None = None,
    on_progress: InputProgress | None = None,
) -> Iterator[Outcome]:
    """Analyse many inputs with `engine` (a Recognizer); yields one Outcome per input, in input order, as groups
    finish.

    Arguments are checked before any work (UsageError). The pool keeps preparing while the caller handles the
    outcomes handed out; closing the generator early stops the pool. `on_progress(index, stage, fraction)`, from
    the pool's threads too: see the module docstring.
    """
    flow = _Flow(engine, (options or PipelineOptions()).check(), as_jobs(sources), on_progress)
    try:
        flow.fill()
        while flow.pending:
            job, fut = flow.pending.popleft()
            got = flow.result_of(job, fut)
            if isinstance(got, _Failed):
                got = _rebuild(got)
            flow.held.append((job, got))
            if not isinstance(got, EmoStudioError):
                flow.held_s += got.duration_s
                flow.held_items += 1
                if flow.held_s >= flow.group_limit or flow.held_items >= flow.opts.max_group_items:
                    yield from flow.flush()
            flow.fill()
        if flow.held:
            yield from flow.flush()
    finally:
        flow.pool.shutdown(wait=True, cancel_futures=True)


class _Flow:
    """The state of one `iter_results`: the preparing pool, the inputs in flight and the group being gathered."""

    def __init__(
        self,
        engine: Engine,
        opts: PipelineOptions,
        jobs: Iterator[Job],
        on_progress: InputProgress | None = None,
    ):
        self.engine, self.opts, self.jobs, self.on_progress = engine, opts, jobs, on_progress
        self.analysis = opts.analysis
        self.adapter = engine.adapter_for(opts.analysis)  # checked against the model before any work
        lanes = engine.lanes
        # a group holds several batches per lane, so the lanes seldom wait for the group's last batch
        self.group_limit = opts.group_seconds or 4 * engine.batch_seconds * (lanes.count if lanes else 1)
        self.read_ahead = opts.read_ahead or max(4, 4 * max(opts.workers, 1))
        self.in_process = opts.executor == "process" and opts.workers > 0
        self.pool = make_executor(opts, engine.settings)
        self.pending: deque[tuple[Job, Future]] = deque()
        self.held: list[tuple[Job, Any]] = []  # handed back by the pool, waiting for their group to be scored
        self.held_s = 0.0
        self.held_items = 0
        self.exhausted = False

    def waiting_s(self) -> float:
        done = [f.result() for _, f in self.pending if f.done() and f.exception() is None]
        return self.held_s + sum(p.duration_s for p in done if not isinstance(p, _Failed | EmoStudioError))

    def submit(self, job: Job) -> Future:
        tell = None if self.in_process else self.on_progress  # a callback does not cross into a process
        return self.pool.submit(_prepare_job, job, self.analysis, self.in_process, tell)

    def result_of(self, job: Job, fut: Future) -> Any:
        """The worker's answer; a worker process that died takes only its own input down with it."""
        try:
            return fut.result()
        except BrokenExecutor:
            pass
        # every future of a broken pool fails: find out whether this input is the one that kills a worker
        rest = [j for j, _ in self.pending]
        self._new_pool()
        try:
            got = self.submit(job).result()
        except BrokenExecutor:
            self._new_pool()
            got = InternalError(
                f"{printable(job.name)}: the worker process preparing this input died (out of memory, or a crash "
                "in a decoder)"
            )
        self.pending.clear()
        self.pending.extend((j, self.submit(j)) for j in rest)
        return got

    def _new_pool(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = make_executor(self.opts, self.engine.settings)

    def fill(self) -> None:
        while (
            not self.exhausted and len(self.pending) < self.read_ahead and self.waiting_s() < self.group_limit
        ):
            job = next(self.jobs, None)
            if job is None:
                self.exhausted = True
                return
            self.pending.append((job, self.submit(job)))

    def _scoring_progress(self, indices: list[int]) -> Fraction | None:
        """The group's scoring share, told for each of its inputs (they are scored in one pass)."""
        tell = self.on_progress
        if tell is None:
            return None
        return to_all(at_stage(functools.partial(tell, i), "progress_model") for i in indices)

    def flush(self) -> Iterator[Outcome]:
        """Score the group gathered so far (one `Engine.results` call) and hand out its outcomes in order."""
        ready = [(j, p) for j, p in self.held if not isinstance(p, EmoStudioError)]
        scored = self.engine.results(
            [p for _, p in ready],
            self.analysis.granularity,
            self.analysis.embedding,
            self.adapter,
            self._scoring_progress([j.index for j, _ in ready]),
        )
        by_index = {j.index: (p, r) for (j, p), r in zip(ready, scored, strict=True)}
        group, self.held = self.held, []
        self.held_s, self.held_items = 0.0, 0
        for job, got in group:
            if isinstance(got, EmoStudioError):
                yield Outcome(job.name, None, got, job.index, job.item)
                continue
            prepared, res = by_index[job.index]
            if isinstance(res, EmoStudioError):
                yield Outcome(job.name, None, res, job.index, job.item)
            else:
                yield Outcome(job.name, res, None, job.index, job.item, prepared)
