"""Evaluations on the server: stage a labelled test set, run it through the shared model worker, keep reports.

Used by the REST routes (evaluate/routes.py) and the web UI tab (evaluate/ui.py). Layout under --outputs:

    outputs/evaluations/eval_YYYYMMDD_HHMMSS[_N]/   one report folder per evaluation (see emostudio.evaluate)
    outputs/evaluations/history/<fingerprint>.jsonl the run history of each test set (accuracy over time)
    outputs/evaluations/.uploads/<id>/              uploaded files while their evaluation runs; removed after

A test set comes as (a) a zip archive (a folder of label sub-folders, or a manifest with its audio), (b) a
manifest plus the audio files it names (matched by file name), or (c) a manifest or label folder already on the
server, inside one of the allowed roots (`ServerSettings.evaluation_roots` when present, else the
EMOSTUDIO_EVAL_ROOTS environment variable, paths separated by ':'; none: the server refuses folder paths).
Every file a manifest names must resolve (symlinks followed) inside the archive, the uploads or the root.

One evaluation runs at a time. It holds a few of the server's queue slots for its whole run (so interactive
requests keep the rest); under load it waits up to ADMIT_WAIT_S seconds for them with the missing ones reserved
(uploads get 429 meanwhile rather than taking each slot that frees) and starts with what it holds by then. It
decodes in its own thread and scores through the one model worker, a few files at a time; the event loop only
awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from emostudio import atomic
from emostudio.errors import EmoStudioError
from emostudio.evaluate import (
    EvaluationAborted,
    EvaluationError,
    Manifest,
    ManifestError,
    ModelUnderTest,
    Progress,
    StabilityThresholds,
    evaluate,
    load_manifest,
    read_history,
    read_report,
)
from emostudio.evaluate.report import METRICS_FILE, read_summary
from emostudio.runs import REPORT_ID, new_report_dir, sort_key
from emostudio.server.disk import disk_full_error, is_disk_full
from emostudio.server.evaluate.inputs import (
    ROOTS_ENV,
    ForbiddenPathError,
    UploadError,
    allowed_roots,
    extract_archive,
    find_test_set,
    inside,
    remap_to_uploads,
)
from emostudio.server.http import ApiError, as_api_error
from emostudio.server.settings import safe_filename
from emostudio.server.worker import QueueFullError, UnavailableError

if TYPE_CHECKING:
    from emostudio.server.analyze.service import Service

EVAL_DIR = "evaluations"
HISTORY_DIR = "history"
UPLOADS_DIR = ".uploads"
NAMES_DIR = ".names"  # <id>.txt: the uploaded test set's file name, shown in the lists of past evaluations
ERROR_FILE = "error.json"
ADMIT_WAIT_S = 30.0  # an evaluation waits at most this long for its queue slots (then 429)
EXTRACT_BUDGET = 2  # an archive extracts to at most this many times the upload limit
CHUNK_SECONDS = 60.0  # audio decoded ahead of the worker per group (the worker scores a few files per call)


class EvaluationNotFoundError(EmoStudioError):
    code = "evaluation_not_found"


# ------------------------------------------------------------------------------------------------------ jobs
@dataclass
class Job:
    id: str
    folder: Path
    started: str
    state: str = "running"  # running | done | failed
    progress: Progress | None = None
    error: dict | None = None
    finished: str | None = None
    task: asyncio.Future | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        p = self.progress
        return {
            "id": self.id,
            "state": self.state,
            "started": self.started,
            "finished": self.finished,
            "progress": None
            if p is None
            else {
                "done": p.done,
                "total": p.total,
                "failed": p.failed,
                "audio_s": round(p.audio_s, 3),
                "elapsed_s": round(p.elapsed_s, 3),
            },
            "error": self.error,
        }


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


class Evaluations:
    """The evaluations of one server: staging, the running job, finished reports."""

    def __init__(self, service: Service):
        self.service = service
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self.service.settings.outputs / EVAL_DIR

    @property
    def history_dir(self) -> Path:
        return self.root / HISTORY_DIR

    @property
    def slots(self) -> int:
        """Queue slots an evaluation holds: half the queue, at most 4, so interactive requests keep the rest."""
        return max(1, min(4, self.service.settings.queue_size // 2))

    @property
    def running(self) -> Job | None:
        return next((j for j in self.jobs.values() if j.state == "running"), None)

    # ---- staging --------------------------------------------------------------------------------------------
    def new_job_dirs(self) -> tuple[Path, Path]:
        """A fresh report folder and its (empty) uploads folder. Refuses while another evaluation runs."""
        self.service._ready()  # 503 before any upload is stored when there is no model
        if self.running is not None:
            raise QueueFullError(
                f"evaluation {self.running.id} is still running; one evaluation runs at a time, try again later"
            )
        folder = new_report_dir(self.root)
        uploads = self.root / UPLOADS_DIR / folder.name
        uploads.mkdir(parents=True, exist_ok=True)
        return folder, uploads

    def name_report(self, report_id: str, name: str | None) -> None:
        """Remember the name a person gave the test set (the uploaded archive's or manifest's file name, made
        display-safe) for the lists of past evaluations; the report folder itself is left as evaluate() wrote it."""
        if name:
            atomic.write_text(
                self.root / NAMES_DIR / f"{self.report_dir(report_id).name}.txt", safe_filename(name)
            )

    def report_name(self, report_id: str) -> str | None:
        """The name `name_report` remembered, or None."""
        path = self.root / NAMES_DIR / f"{report_id}.txt"
        return (path.read_text(encoding="utf-8").strip() or None) if path.is_file() else None

    def discard(self, folder: Path, uploads: Path | None) -> None:
        """Remove the folders of an evaluation that never started."""
        if uploads is not None:
            shutil.rmtree(uploads, ignore_errors=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()

    def manifest_from_archive(
        self, archive: Path, uploads: Path, classes: str, name: str | None = None
    ) -> Manifest:
        """The test set in an uploaded zip (`name`: the client's file name, for messages)."""
        data = uploads / "data"
        data.mkdir(exist_ok=True)
        budget = EXTRACT_BUDGET * self.service.settings.max_upload_bytes
        extract_archive(archive, data, max_bytes=budget, shown_as=name)
        archive.unlink(missing_ok=True)
        found = find_test_set(data)
        man = load_manifest(found, classes, allowed_roots=[data])
        inner = found.relative_to(data).as_posix()
        man.source = f"{name or archive.name}:{inner}" if inner != "." else (name or archive.name)
        return man

    def manifest_from_files(self, manifest: Path, files: list[Path], classes: str) -> Manifest:
        by_name: dict[str, Path] = {}
        for f in files:
            if f.name in by_name:
                raise UploadError(f"two uploaded files are called {f.name}; file names must be unique")
            by_name[f.name] = f
        man = remap_to_uploads(load_manifest(manifest, classes), by_name)
        man.source = manifest.name  # the client's file name (the server's upload folder is not theirs to see)
        return man

    def manifest_from_server(self, path: str, classes: str) -> Manifest:
        roots = allowed_roots(self.service.settings)
        if not roots:
            raise ForbiddenPathError(
                f"this server reads no folders for evaluations; start it with {ROOTS_ENV}=/path/to/testsets "
                "(folders separated by ':') or upload the test set"
            )
        p = Path(os.path.expanduser(path))
        candidates = [p] if p.is_absolute() else [r / p for r in roots]
        for c in candidates:
            if c.exists() and inside(c, roots):
                return load_manifest(Path(os.path.realpath(c)), classes, allowed_roots=roots)
        if any(c.exists() for c in candidates):
            raise ForbiddenPathError(f"{path} is outside the folders this server may read for evaluations")
        raise ManifestError(f"{path}: no such manifest or folder under the allowed roots")

    # ---- running --------------------------------------------------------------------------------------------
    async def start(
        self,
        manifest: Manifest,
        folder: Path,
        uploads: Path | None,
        *,
        baseline: str | None = None,
        thresholds: StabilityThresholds | None = None,
    ) -> Job:
        """Start evaluating `manifest` into `folder` in the background; returns the running Job.

        Raises QueueFullError when the server has no free slots, UnavailableError without a model.
        """
        rec, worker = self.service._ready()
        base_dir = self.report_dir(baseline) if baseline else None
        job = Job(folder.name, folder, _now())
        with self._lock:
            if self.running is not None:
                raise QueueFullError(f"evaluation {self.running.id} is still running; try again later")
            self.jobs[job.id] = job
        admitted = asyncio.Event()

        def run_sync():
            return self._run(job, manifest, rec, worker, base_dir, thresholds)

        async def body():
            admitted.set()
            try:
                await asyncio.to_thread(run_sync)
                job.state = "done"
            except Exception as exc:  # recorded for GET /v1/evaluations/{id} and the UI
                if is_disk_full(exc):
                    exc = disk_full_error(exc, "writing the report")
                code = exc.code if isinstance(exc, EmoStudioError) else "internal_error"
                job.error = {
                    "code": code,
                    "message": str(exc)
                    if isinstance(exc, EmoStudioError)
                    else f"{type(exc).__name__}: {exc}",
                }
                job.state = "failed"
                with contextlib.suppress(OSError):  # a full disk may not take this either: the job says it
                    atomic.write_json(folder / ERROR_FILE, {"error": job.error, "started": job.started})
            finally:
                job.finished = _now()
                if uploads is not None:
                    shutil.rmtree(uploads, ignore_errors=True)

        # waits up to ADMIT_WAIT_S for its slots, reserving them, so uploads cannot keep it out forever
        task = asyncio.ensure_future(self.service._admitted(body(), self.slots, wait_s=ADMIT_WAIT_S))
        waiter = asyncio.ensure_future(admitted.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        refused = task.exception() if task.done() else None
        if refused is not None:  # not admitted: the server is busy
            with self._lock:
                self.jobs.pop(job.id, None)
            self.discard(folder, uploads)
            raise refused
        job.task = task
        return job

    def _run(self, job: Job, manifest: Manifest, rec, worker, baseline: Path | None, thresholds):
        slots = self.slots

        def submit(p):
            deadline = time.monotonic() + 120
            while True:
                try:
                    return worker.submit(p, "utterance", False)
                except QueueFullError:  # our slots guarantee room; wait out anything else briefly
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
                except UnavailableError as e:
                    raise EvaluationAborted(f"evaluation stopped: {e}") from e

        def infer(items):
            out = []
            for i in range(0, len(items), slots):
                futures = [submit(p) for p in items[i : i + slots]]
                for f in futures:
                    try:
                        out.append(f.result())
                    except UnavailableError as e:
                        raise EvaluationAborted(f"evaluation stopped: {e}") from e
            return out

        display = {it.path: it.display for it in manifest.items}
        model = ModelUnderTest(rec.model_ref.id, infer, rec.model_ref.to_dict(), rec)

        def progress(p: Progress) -> None:
            job.progress = p

        return evaluate(
            manifest,
            [model],
            report_dir=job.folder,
            baseline=baseline,
            thresholds=thresholds,
            history_dir=self.history_dir,
            # an item cut out of a long file comes as the Audio of its stretch, already named
            prepare=lambda src: rec.prepare(src, name=display.get(src) if isinstance(src, str) else None),
            chunk_seconds=CHUNK_SECONDS,
            workers=1,
            progress=progress,
        )

    # ---- reports --------------------------------------------------------------------------------------------
    def report_dir(self, report_id: str) -> Path:
        """The folder of an evaluation (running or finished). Raises EvaluationNotFoundError."""
        if not isinstance(report_id, str) or not REPORT_ID.match(report_id):
            raise EvaluationNotFoundError(
                f"no evaluation {report_id!r}: ids look like eval_YYYYMMDD_HHMMSS[_N]"
            )
        root = self.root.resolve()
        path = (root / report_id).resolve()
        if path.parent != root or not path.is_dir():
            raise EvaluationNotFoundError(f"no evaluation {report_id!r}")
        return path

    def status(self, report_id: str) -> dict:
        """{"id", "state": running|done|failed|interrupted, "progress", "error", "metrics" (when done)}."""
        folder = self.report_dir(report_id)
        job = self.jobs.get(report_id)
        if (folder / METRICS_FILE).is_file():
            doc = json.loads((folder / METRICS_FILE).read_text(encoding="utf-8"))
            base = (
                job.to_dict() if job else {"id": report_id, "started": None, "finished": doc.get("created")}
            )
            return {**base, "state": "done", "metrics": doc}
        if job is not None:
            return job.to_dict()
        if (folder / ERROR_FILE).is_file():
            err = json.loads((folder / ERROR_FILE).read_text(encoding="utf-8"))
            return {
                "id": report_id,
                "state": "failed",
                "started": err.get("started"),
                "error": err.get("error"),
            }
        return {
            "id": report_id,
            "state": "interrupted",
            "error": {
                "code": "interrupted",
                "message": "the evaluation did not finish (the server stopped while it ran)",
            },
        }

    def list_reports(self, limit: int = 20, offset: int = 0) -> dict:
        """Evaluations, newest first, with their headline metrics."""
        ids = [p.name for p in self.root.iterdir() if REPORT_ID.match(p.name)] if self.root.is_dir() else []
        ids.sort(key=sort_key, reverse=True)
        page = []
        for rid in ids[offset : offset + limit]:
            folder = self.report_dir(rid)
            if not (folder / METRICS_FILE).is_file():
                page.append(self.status(rid))
                continue
            summary = read_summary(folder)  # a few fields, never the whole metrics.json (issue 25)
            job = self.jobs.get(rid)
            base = job.to_dict() if job else {"id": rid, "started": None, "finished": summary.get("created")}
            page.append(
                {
                    **base,
                    "state": "done",
                    "name": self.report_name(rid),
                    **{k: v for k, v in summary.items() if k != "created"},
                }
            )
        return {"total": len(ids), "limit": limit, "offset": offset, "evaluations": page}

    def file(self, report_id: str, name: str) -> Path:
        """A file of a finished report: metrics.json, predictions.csv, report.html or one of its PNG charts."""
        folder = self.report_dir(report_id)
        allowed = {"metrics.json", "predictions.csv", "report.html"}
        if name not in allowed and not (name.endswith(".png") and name[:-4].replace("_", "").isalnum()):
            raise EvaluationNotFoundError(f"{name!r} is not a report file")
        path = folder / name
        if not path.is_file():
            raise EvaluationNotFoundError(f"evaluation {report_id} has no {name}")
        return path

    def history(self, report_id: str) -> list[dict]:
        """Runs recorded for the test set of a finished report (same classes), oldest first."""
        doc, _ = read_report(self.report_dir(report_id))
        return [
            e
            for e in read_history(self.history_dir, doc["manifest"]["fingerprint"])
            if e.get("classes") == doc["classes"]
        ]


_BY_SERVICE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def evaluations_for(service) -> Evaluations:
    """The one Evaluations object of a server (shared by the REST routes and the UI)."""
    ev = _BY_SERVICE.get(service)
    if ev is None:
        ev = _BY_SERVICE[service] = Evaluations(service)
    return ev


def api_error(exc: Exception) -> ApiError:
    """HTTP status of an evaluation error (others as the rest of the API answers them)."""
    if isinstance(exc, EvaluationNotFoundError):
        return ApiError(404, exc.code, str(exc))
    if isinstance(exc, ForbiddenPathError):
        return ApiError(403, exc.code, str(exc))
    if isinstance(exc, UploadError | EvaluationError):
        return ApiError(getattr(exc, "status", 422), exc.code, str(exc))  # 413: an archive over its budget
    return as_api_error(exc)
