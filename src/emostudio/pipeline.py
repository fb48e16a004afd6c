"""Many inputs → (input, Result | error), in input order: the one loop behind every surface that takes many.

    sources → prepare in a worker pool (decode, checks, VAD, quality, enhancement), bounded read-ahead
            → groups of about `group_seconds` of audio → `score` (length-sorted model batches)
            → Outcome per input, in the order given

`Recognizer.analyze_many`, the server's model worker, the local batch runner and the Ray actor all use this
module, so they share one failure policy:

- a bad input (any `EmoStudioError` while preparing) is that input's error and nothing else's;
- when a model batch fails, its members are scored again one by one, so only the guilty input gets an error;
- an unexpected exception (a bug) becomes an `InternalError` for that input, never the whole call's.

Memory stays bounded for any number of inputs: at most `read_ahead` inputs are being prepared or wait
prepared, preparing pauses while more than `group_seconds` of prepared audio waits, and a group is scored and
handed out as soon as it holds `group_seconds` of audio (or `max_group_items` inputs).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from emostudio.audio import ALL_ERRORS, Audio
from emostudio.enhance import EnhanceSettings
from emostudio.errors import AudioError, EmoStudioError, InferenceError, InternalError, UsageError, printable
from emostudio.records import InputItem

if TYPE_CHECKING:
    from emostudio.prepare import Prepared
    from emostudio.recognize import Recognizer
    from emostudio.results import Result
    from emostudio.settings import Settings

GRANULARITIES = ("utterance", "frame")
EXECUTORS = ("thread", "process", "inline")


@dataclass
class PipelineOptions:
    """How many inputs are analysed. Seconds are audio seconds."""

    granularity: str = "utterance"  # "utterance" | "frame"
    embedding: bool = False
    enhance: bool | EnhanceSettings = False
    quality: bool = True
    workers: int = 2  # inputs prepared at once (threads or processes); 0 = on the calling thread
    executor: str = "thread"  # "thread" | "process" (spawned, one torch thread each) | "inline"
    group_seconds: float | None = None  # audio scored per group; None: 4 × batch seconds × model streams
    max_group_items: int = 256  # inputs per group at most
    read_ahead: int | None = None  # inputs submitted but not yet handed out; None: max(4, 4 × workers)
    channels: str = "mix"  # "mix" | "separate" (each channel its own speaker; an InputItem's own wins)

    def check(self) -> None:
        """Raise UsageError naming the first bad option."""
        check_granularity(self.granularity)
        for name in ("embedding", "quality"):
            if not isinstance(getattr(self, name), bool):
                raise UsageError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not isinstance(self.enhance, bool | EnhanceSettings):
            raise UsageError(f"enhance must be True, False or an EnhanceSettings, got {self.enhance!r}")
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
        from emostudio.channels import check_channels

        check_channels(self.channels)


def check_granularity(granularity: object) -> None:
    if granularity not in GRANULARITIES:
        raise UsageError(f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}")


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


def source_name(source: object, name: str | None = None) -> str:
    if name:
        return name
    if isinstance(source, InputItem):
        return source.path
    if isinstance(source, str | os.PathLike):
        return os.fspath(source) or "''"
    if isinstance(source, Audio):
        return source.source.path
    if isinstance(source, tuple):
        return "<array>"
    return (
        "<array>" if isinstance(source, np.ndarray) else "<bytes>" if isinstance(source, bytes) else "<input>"
    )


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


def _prepare_job(
    job: Job, enhance: bool | EnhanceSettings, quality: bool, in_process: bool, channels: str = "mix"
):
    """Runs in a worker: a Prepared, or the input's error (an unexpected exception becomes InternalError)."""
    from emostudio.channels import parse_roles
    from emostudio.prepare import prepare

    try:
        roles = None
        if isinstance(
            job.item, InputItem
        ):  # a manifest row may name its channel roles (and so separate them)
            roles = parse_roles(job.item.roles)
            channels = job.item.channels or ("separate" if roles else channels)
        return prepare(
            job.source,
            _worker_settings,
            name=job.name,
            sample_rate=job.sample_rate,
            enhance=enhance,
            quality=quality,
            channels=channels,
            roles=roles,
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


# ----------------------------------------------------------------------------------------------- scoring
def score(
    recognizer: Recognizer, items: Sequence[Prepared], granularity: str, embedding: bool
) -> list[Result | EmoStudioError]:
    """Score prepared inputs together; if the batch fails, each alone, so only the guilty one gets an error."""
    if not items:
        return []
    try:
        return list(recognizer.infer(items, granularity, embedding))
    except Exception as exc:
        if len(items) == 1:
            return [_as_error(items[0].name, exc)]
    out: list[Result | EmoStudioError] = []
    for item in items:
        try:
            out.append(recognizer.infer([item], granularity, embedding)[0])
        except Exception as exc:
            out.append(_as_error(item.name, exc))
    return out


def _as_error(name: str, exc: Exception) -> EmoStudioError:
    if isinstance(exc, EmoStudioError):
        return exc
    if isinstance(exc, MemoryError):
        return InferenceError(f"{printable(name)}: not enough memory to score this input")
    return InferenceError(f"{printable(name)}: the model failed on this input ({type(exc).__name__}: {exc})")


# ------------------------------------------------------------------------------------------------- driving
def iter_results(
    recognizer: Recognizer, sources: object, options: PipelineOptions | None = None
) -> Iterator[Outcome]:
    """Analyse many inputs; yields one Outcome per input, in input order, as groups finish.

    Arguments are checked before any work (UsageError). The pool keeps preparing while the caller handles the
    outcomes handed out; closing the generator early stops the pool.
    """
    opts = options or PipelineOptions()
    opts.check()
    jobs = as_jobs(sources)
    settings = recognizer.settings
    streams = recognizer.streams
    # a group holds several batches per stream, so the streams seldom wait for the group's last batch
    group_limit = opts.group_seconds or 4 * recognizer.batch_seconds * (streams.count if streams else 1)
    read_ahead = opts.read_ahead or max(4, 4 * max(opts.workers, 1))
    in_process = opts.executor == "process" and opts.workers > 0
    pool = make_executor(opts, settings)
    pending: deque[tuple[Job, Future]] = deque()
    held: list[tuple[Job, Any]] = []  # handed back by the pool, waiting for their group to be scored
    held_s = 0.0
    held_items = 0
    exhausted = False

    def waiting_s() -> float:
        done = [f.result() for _, f in pending if f.done() and f.exception() is None]
        return held_s + sum(p.duration_s for p in done if not isinstance(p, _Failed | EmoStudioError))

    def submit(job: Job) -> Future:
        return pool.submit(_prepare_job, job, opts.enhance, opts.quality, in_process, opts.channels)

    def result_of(job: Job, fut: Future) -> Any:
        """The worker's answer; a worker process that died takes only its own input down with it."""
        nonlocal pool
        try:
            return fut.result()
        except BrokenExecutor:
            pass
        # every future of a broken pool fails: find out whether this input is the one that kills a worker
        rest = [j for j, _ in pending]
        pool.shutdown(wait=True, cancel_futures=True)
        pool = make_executor(opts, settings)
        try:
            got = pool.submit(
                _prepare_job, job, opts.enhance, opts.quality, in_process, opts.channels
            ).result()
        except BrokenExecutor:
            pool.shutdown(wait=True, cancel_futures=True)
            pool = make_executor(opts, settings)
            got = InternalError(
                f"{printable(job.name)}: the worker process preparing this input died (out of memory, or a crash "
                "in a decoder)"
            )
        pending.clear()
        pending.extend((j, submit(j)) for j in rest)
        return got

    def fill() -> None:
        nonlocal exhausted
        while not exhausted and len(pending) < read_ahead and waiting_s() < group_limit:
            job = next(jobs, None)
            if job is None:
                exhausted = True
                return
            pending.append((job, submit(job)))

    def flush() -> Iterator[Outcome]:
        nonlocal held_s, held_items
        ready = [(j, p) for j, p in held if not isinstance(p, EmoStudioError)]
        scored = score(recognizer, [p for _, p in ready], opts.granularity, opts.embedding)
        by_index = {j.index: (p, r) for (j, p), r in zip(ready, scored, strict=True)}
        group, held[:] = list(held), []
        held_s, held_items = 0.0, 0
        for job, got in group:
            if isinstance(got, EmoStudioError):
                yield Outcome(job.name, None, got, job.index, job.item)
                continue
            prepared, res = by_index[job.index]
            if isinstance(res, EmoStudioError):
                yield Outcome(job.name, None, res, job.index, job.item)
            else:
                yield Outcome(job.name, res, None, job.index, job.item, prepared)

    try:
        fill()
        while pending:
            job, fut = pending.popleft()
            got = result_of(job, fut)
            if isinstance(got, _Failed):
                got = _rebuild(got)
            held.append((job, got))
            if not isinstance(got, EmoStudioError):
                held_s += got.duration_s
                held_items += 1
                if held_s >= group_limit or held_items >= opts.max_group_items:
                    yield from flush()
            fill()
        if held:
            yield from flush()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
