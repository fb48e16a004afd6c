"""The one pipeline behind the web UI and the REST API: model state, admission, prepare → worker → save, runs.

The model loads once, in a background thread, and is shared. A request is admitted only while fewer than
`queue_size` are in flight (else QueueFullError → 429); decoding, quality and enhancement run in a small
thread pool, scoring in the ModelWorker, and the run folder is written back in the pool. Async callers only
await futures.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emostudio import runs
from emostudio.compare import compare_takes
from emostudio.embeddings import cosine_similarity
from emostudio.errors import EmoStudioError, InternalError
from emostudio.messages import t
from emostudio.model.checkpoint import DEFAULT_MODEL, ModelNotFoundError
from emostudio.options import AnalysisOptions
from emostudio.recognize import Recognizer
from emostudio.records import Prepared, StageProgress, at_stage, within
from emostudio.results import Result
from emostudio.runs import AUDIO_FILE, DOWNLOADS, EMBEDDING_FILE, RunReadError
from emostudio.server.settings import ServerSettings
from emostudio.server.worker import ModelWorker, QueueFullError, UnavailableError
from emostudio.settings import Settings


class RunNotFoundError(EmoStudioError):
    code = "run_not_found"
    status = 404


class RunFileNotFoundError(EmoStudioError):
    code = "file_not_found"
    status = 404


class BadRequestError(EmoStudioError):
    code = "bad_parameters"
    status = 422


class DamagedRunError(ValueError):
    """A run folder on the server's own disk whose result.json cannot be read: the server's failure, not the
    client's, so it is answered as an internal error (500, one log line)."""


# where each stage of one analysis lies on its progress bar (fractions of the whole)
STAGE_SHARES = {"progress_decoding": (0.1, 0.1), "progress_diarize": (0.1, 0.4), "progress_model": (0.4, 0.9)}


def _from_threads(progress) -> StageProgress | None:
    """A `(stage, fraction)` callback for worker threads that tells `progress(overall fraction, stage)` on this
    event loop (placed by STAGE_SHARES; call it from a coroutine); None without `progress`."""
    if progress is None:
        return None
    loop = asyncio.get_running_loop()

    def told(stage: str, fraction: float) -> None:
        loop.call_soon_threadsafe(progress, within(*STAGE_SHARES.get(stage, (0.0, 0.0)), fraction), stage)

    return told


@dataclass
class ModelState:
    """Where model loading stands: loading | ready | missing | failed, with a message for people."""

    state: str = "loading"
    model: str = ""
    message: str = ""
    searched: list[str] | None = None
    is_random: bool = False

    def to_dict(self) -> dict:
        return {
            "state": self.state,
            "model": self.model,
            "message": self.message,
            "searched": self.searched or [],
            "is_random": self.is_random,
        }


@dataclass
class Analysis:
    result: Result
    run_id: str
    run_dir: Path

    def to_dict(self) -> dict:
        return runs.read_result(self.run_dir)


class Service:
    """Shared state of one server process. Create, then `start()`; `close()` on shutdown."""

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        self.model_state = ModelState(model=settings.model or "")
        self.recognizer: Recognizer | None = None
        self.worker: ModelWorker | None = None
        self._pool = ThreadPoolExecutor(settings.prepare_threads, thread_name_prefix="emostudio-prepare")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._reserved = 0  # slots promised to a caller that waits for them (`_admit_waiting`)
        self._closing = False
        self._loader: threading.Thread | None = None
        # called with the Recognizer when it has loaded, before the server turns ready (the active adapter:
        # emostudio.server.adapters); an EmoStudioError from one marks the model failed with its message
        self.on_model: list[Callable[[Recognizer], None]] = []

    # ---- model -----------------------------------------------------------------------------------------------
    def start(self, model: str | None = None) -> threading.Thread:
        """Load `model` (default: the settings' model) in a background thread; returns the thread."""
        name = model or self.settings.model or DEFAULT_MODEL
        with self._lock:
            if self._loader is not None and (self.model_state.state == "ready" or self._loader.is_alive()):
                return self._loader  # ready (only the loader makes it so) or still loading
            self.model_state = ModelState("loading", name, f"loading model {name} …")
            self._loader = threading.Thread(
                target=self._load, args=(name,), name="emostudio-load", daemon=True
            )
            self._loader.start()
            return self._loader

    def _load(self, name: str) -> None:
        s = self.settings
        try:
            rec = Recognizer(
                model=name,
                device=s.device,
                dtype=s.dtype,
                allow_download=s.allow_download,
                settings=Settings(max_duration_s=s.max_duration_s),
            )
        except ModelNotFoundError as exc:
            self.model_state = ModelState(
                "missing", name, str(exc), [str(p) for p in getattr(exc, "searched", [])]
            )
            return
        except Exception as exc:  # reported on /readyz and in the UI; the process keeps serving
            self.model_state = ModelState("failed", name, f"{type(exc).__name__}: {exc}")
            return
        try:
            for hook in self.on_model:
                hook(rec)
        except EmoStudioError as exc:  # e.g. `serve --adapter` for other weights: named on /readyz
            self.model_state = ModelState("failed", name, str(exc))
            return
        worker = ModelWorker(rec, capacity=s.queue_size, workers=s.workers, max_batch=s.max_batch).start()
        with self._lock:
            if self._closing:
                worker.close()
                return
            self.recognizer, self.worker = rec, worker
            note = f" ({t('random_note', 'en')})" if rec.model.is_random else ""
            self.model_state = ModelState(
                "ready",
                rec.model.model_id,
                f"model {rec.model.model_id} ready{note}",
                is_random=rec.model.is_random,
            )

    def wait_ready(self, timeout_s: float | None = None) -> bool:
        if self._loader is not None:
            self._loader.join(timeout_s)
        return self.model_state.state == "ready"

    def unavailable_message(self) -> str:
        st = self.model_state
        if st.state == "loading":
            return f"the model {st.model} is still loading; try again in a few seconds"
        if st.state == "missing":
            return (
                f"no model weights for {st.model}. {st.message}\n"
                f"To try the server without weights, restart it with `--model demo` ({t('random_note', 'en')}) "
                "or press 'load demo model' in the web UI."
            )
        return f"the model {st.model} failed to load: {st.message}"

    def _ready(self) -> tuple[Recognizer, ModelWorker]:
        if self._closing:
            raise UnavailableError("the server is shutting down")
        rec, worker = self.recognizer, self.worker
        if rec is None or worker is None:
            raise UnavailableError(self.unavailable_message())
        return rec, worker

    def close(self) -> None:
        with self._lock:
            self._closing = True
            worker = self.worker
        if worker is not None:
            worker.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ---- admission ---------------------------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _admit(self, n: int = 1) -> None:
        with self._lock:  # slots reserved for a waiting evaluation are taken too
            if self._in_flight + n + self._reserved > self.settings.queue_size:
                raise QueueFullError(
                    f"the server is busy ({self._in_flight} requests in progress, queue holds "
                    f"{self.settings.queue_size}); try again in a few seconds"
                )
            self._in_flight += n

    def _release(self, n: int = 1) -> None:
        with self._lock:
            self._in_flight -= n

    async def _admit_waiting(self, n: int, wait_s: float) -> int:
        """Take up to `n` slots, waiting at most `wait_s` seconds: the slots still missing are reserved, so
        others are refused (429) rather than taking each slot that frees. Returns the slots held (at least 1;
        all `n` unless the wait ran out); QueueFullError when not one freed in time."""
        held, deadline = 0, time.monotonic() + wait_s
        with self._lock:
            self._reserved += n
        try:
            while True:
                with self._lock:
                    take = min(
                        n - held, self.settings.queue_size - self._in_flight - (self._reserved - (n - held))
                    )
                    if take > 0:
                        self._in_flight += take
                        self._reserved -= take
                        held += take
                if held == n or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(0.05)
        finally:
            with self._lock:
                self._reserved -= n - held
        if held == 0:
            raise QueueFullError(
                f"the server stayed busy for {wait_s:g} s ({self._in_flight} requests in progress, queue holds "
                f"{self.settings.queue_size}); try again in a few seconds"
            )
        return held

    async def _admitted(self, coro, n: int = 1, wait_s: float = 0.0):
        """Run `coro` holding `n` queue slots until it really finishes, even if the caller goes away.

        `wait_s` > 0: wait that long for the slots, reserving them (`_admit_waiting`), instead of a 429 at once."""
        try:
            if wait_s > 0:
                n = await self._admit_waiting(n, wait_s)
            else:
                self._admit(n)
        except (QueueFullError, asyncio.CancelledError):
            coro.close()
            raise

        async def hold():
            try:
                return await coro
            finally:
                self._release(n)

        return await asyncio.shield(asyncio.ensure_future(hold()))

    async def _in_pool(self, fn, *args, **kwargs):
        return await asyncio.wrap_future(self._pool.submit(fn, *args, **kwargs))

    # ---- analysis ------------------------------------------------------------------------------------------------
    async def analyze(
        self,
        source: bytes | str | os.PathLike,
        *,
        name: str,
        granularity: str = "utterance",
        embedding: bool = False,
        enhance: bool = False,
        progress=None,
        channels: str = "mix",
        roles: str | list[str] | None = None,
        options: AnalysisOptions | None = None,
        speakers: int | str | None = None,
    ) -> Analysis:
        """Decode, check, score and save one upload; returns the Result and its run folder.

        `options` (what the REST API builds) replaces the keyword analysis options when given; `speakers`:
        speaker turns (None | "auto" | N, as options.parse_speakers returns).
        Raises AudioError subclasses for bad audio, QueueFullError when busy, UnavailableError without a model.
        `progress(fraction, key)` is called between stages and as speaker turns are found and the model scores
        (on the event loop) when given; `key` names the stage in the message catalogue (progress_decoding,
        progress_diarize, progress_waiting, progress_model, progress_saving).
        """
        # checked before any work (UsageError → 422); channels="separate": two-party calls
        opts = (
            options
            or AnalysisOptions(
                granularity, embedding, enhance, channels=channels, roles=roles, speakers=speakers
            )
        ).check()
        rec, worker = self._ready()

        async def job() -> Analysis:
            step = progress or (lambda *_: None)
            threads = _from_threads(progress)  # the pool's and the model worker's progress, on this loop
            step(0.1, "progress_decoding")
            item: Prepared = await self._in_pool(rec.prepare, source, opts, name=name, progress=threads)
            step(0.4, "progress_waiting" if worker.waiting else "progress_model")
            result: Result = await asyncio.wrap_future(
                worker.submit(
                    item, opts.granularity, opts.embedding, progress=at_stage(threads, "progress_model")
                )
            )
            step(0.9, "progress_saving")
            run_dir: Path = await self._in_pool(rec.save, result, item, self.settings.outputs)
            return Analysis(result, run_dir.name, run_dir)

        return await self._admitted(job())

    async def similarity(self, a: dict, b: dict) -> dict:
        """Cosine similarity of two clips' utterance embeddings.

        Each side is {"run_id": id} or {"source": bytes|path, "name": str}. A run's embedding.npy is used when it
        holds an utterance embedding; otherwise its processed_audio.wav is scored again.
        """
        rec, worker = self._ready()

        async def side(spec: dict) -> tuple[np.ndarray, dict]:
            if "run_id" in spec:
                folder = self.run_dir(spec["run_id"])
                doc = self.read_run(spec["run_id"])
                info = {
                    "run_id": folder.name,
                    "source": doc.get("source"),
                    "emotion": doc.get("emotion"),
                    "confidence": doc.get("confidence"),
                }
                emb_path = folder / EMBEDDING_FILE
                if emb_path.is_file():
                    vec = np.load(emb_path, allow_pickle=False)
                    if vec.ndim == 1:
                        return vec, info
                if not (folder / AUDIO_FILE).is_file():
                    raise RunNotFoundError(
                        f"run {folder.name} has neither an utterance embedding nor its audio"
                    )
                source, name = folder / AUDIO_FILE, f"{folder.name}/{AUDIO_FILE}"
            else:
                source, name, info = spec["source"], spec["name"], {"source": spec["name"]}
            item = await self._in_pool(rec.prepare, source, name=name, quality=False)
            res: Result = await asyncio.wrap_future(worker.submit(item, "utterance", True))
            info.setdefault("emotion", res.label)
            info.setdefault("confidence", round(res.confidence, 6))
            if res.embedding is None:  # not reached: the worker was asked for the embedding
                raise InternalError(f"{name}: the model gave no embedding")
            return res.embedding, info

        async def job() -> dict:
            (ea, ia), (eb, ib) = await asyncio.gather(side(a), side(b))
            try:
                sim = cosine_similarity(ea, eb)
            except ValueError as exc:
                raise BadRequestError(str(exc)) from exc
            return {
                "similarity": round(sim, 6),
                "a": ia,
                "b": ib,
                "model": self.model_state.model,
                "is_random": self.model_state.is_random,
            }

        return await self._admitted(job(), n=2)

    async def compare(self, a: dict, b: dict) -> dict:
        """Two takes side by side (`emostudio.compare.compare_takes`): which is the more reliable reading and why.

        Each side is {"run_id": id} (its result.json, and its utterance embedding when it has one) or
        {"source": bytes|path, "name": str}: analysed with quality and an utterance embedding, and saved as a run.
        """
        rec, worker = self._ready()

        async def side(spec: dict) -> tuple[dict, np.ndarray | None]:
            if "run_id" in spec:
                folder = self.run_dir(spec["run_id"])
                doc = self.read_run(spec["run_id"])
                emb = None
                if (folder / EMBEDDING_FILE).is_file():
                    vec = np.load(folder / EMBEDDING_FILE, allow_pickle=False)
                    emb = vec if vec.ndim == 1 else vec.mean(axis=0)
                return doc, emb
            item: Prepared = await self._in_pool(rec.prepare, spec["source"], name=spec["name"])
            res: Result = await asyncio.wrap_future(worker.submit(item, "utterance", True))
            run_dir: Path = await self._in_pool(rec.save, res, item, self.settings.outputs)
            return runs.read_result(run_dir), res.embedding

        async def job() -> dict:
            (da, ea), (db, eb) = await asyncio.gather(side(a), side(b))
            out = compare_takes(da, db, (ea, eb))
            out["model"] = self.model_state.model
            return out

        return await self._admitted(job(), n=2)

    # ---- runs (emostudio.runs knows the folders) -----------------------------------------------------------------
    def run_dir(self, run_id: str) -> Path:
        found = runs.run_folder(self.settings.outputs, run_id)
        if found is None:
            raise RunNotFoundError(f"no run {run_id!r}: ids look like outputs_YYYYMMDD_HHMMSS[_N]")
        return found.path

    def read_run(self, run_id: str) -> dict:
        """The result.json of run `run_id` (RunNotFoundError for an unknown id, DamagedRunError for one that cannot
        be read)."""
        try:
            return runs.read_result(self.run_dir(run_id))
        except RunReadError as exc:
            raise DamagedRunError(str(exc)) from exc

    def list_runs(self, limit: int = 20, offset: int = 0) -> dict:
        """Finished runs, newest first: {"total", "limit", "offset", "runs": [summary, ...]}."""
        found = runs.list_runs(self.settings.outputs)
        page: list[dict] = []
        for run in found[offset : offset + limit]:
            try:
                doc = run.result()
            except RunReadError as exc:
                page.append({"run_id": run.id, "error": exc.problem})
                continue
            page.append(
                {
                    "run_id": run.id,
                    "timestamp": doc.get("timestamp"),
                    "source": doc.get("source"),
                    "emotion": doc.get("emotion"),
                    "confidence": doc.get("confidence"),
                    "label": (doc.get("label") or {}).get("display"),
                    "granularity": doc.get("granularity"),
                    "model": (doc.get("model") or {}).get("id"),
                    "files": sorted(run.files()),
                }
            )
        return {"total": len(found), "limit": limit, "offset": offset, "runs": page}

    def run_file(self, run_id: str, name: str) -> Path:
        folder = self.run_dir(run_id)  # an unknown run is run_not_found, a known run without the file is not
        if name not in DOWNLOADS:
            raise RunFileNotFoundError(f"{name!r} is not a run file; choose one of {', '.join(DOWNLOADS)}")
        path = folder / name
        if not path.is_file():
            raise RunFileNotFoundError(f"run {run_id} has no {name}")
        return path

    def zip_run(self, run_id: str) -> bytes:
        """The run folder's files (allow-listed names only) as a zip archive in memory."""
        return runs.zip_run(self.run_dir(run_id))
