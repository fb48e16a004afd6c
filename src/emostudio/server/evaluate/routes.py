"""REST routes for evaluations on a labelled test set (see emostudio.server.evaluate.service for the layout).

POST /v1/evaluations                    start one: a zip `archive`, or a `manifest` + `files`, or a server
                                        `folder` under the allowed roots; `wait=true` answers when done
GET  /v1/evaluations                    evaluations, newest first, with headline metrics
GET  /v1/evaluations/{id}               state (running with progress / done with metrics.json / failed)
GET  /v1/evaluations/{id}/files/{name}  metrics.json, predictions.csv, report.html, the PNG charts
GET  /v1/evaluations/{id}/history       accuracy over time of that test set (one entry per run)
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path, PurePosixPath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from emostudio.errors import EmoStudioError, OutputError
from emostudio.evaluate import Manifest, StabilityThresholds
from emostudio.server.disk import disk_full_error, is_disk_full
from emostudio.server.evaluate.inputs import UploadError
from emostudio.server.evaluate.service import Evaluations, api_error, evaluations_for
from emostudio.server.http import ApiError, as_api_error, bearer_auth
from emostudio.server.openapi_errors import ERROR_RESPONSES
from emostudio.server.settings import safe_filename
from emostudio.server.uploads import save_upload

MEDIA = {".json": "application/json", ".csv": "text/csv", ".html": "text/html", ".png": "image/png"}
# report.html holds only inline styles and data: images; forbid anything else if it is opened from the server
HTML_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def links(report_id: str) -> dict:
    base = f"/v1/evaluations/{report_id}"
    files = {n: f"{base}/files/{n}" for n in ("metrics.json", "predictions.csv", "report.html")}
    return {"self": base, "history": f"{base}/history", **files}


def thresholds_of(
    max_flip_rate: float | None,
    max_drift: float | None,
    max_mean_drift: float | None,
    max_drop: float | None,
    max_new_failures: int | None,
) -> StabilityThresholds:
    """The stability thresholds of a request: each field given, or the default."""
    defaults = StabilityThresholds()
    return StabilityThresholds(
        defaults.max_flip_rate if max_flip_rate is None else max_flip_rate,
        defaults.max_drift if max_drift is None else max_drift,
        defaults.max_mean_drift if max_mean_drift is None else max_mean_drift,
        defaults.max_drop if max_drop is None else max_drop,
        defaults.max_new_failures if max_new_failures is None else max_new_failures,
    )


async def stage_manifest(
    evals: Evaluations,
    uploads: Path,
    archive: UploadFile | None,
    manifest: UploadFile | None,
    files: list[UploadFile] | None,
    folder: str | None,
    classes: str,
) -> tuple[Manifest, Path | None]:
    """Save the request's test set under `uploads` and read its manifest: (the manifest, the uploads folder, or
    None when the set is a folder on the server and nothing was uploaded)."""
    up: Path | None = uploads
    if archive is not None:
        path = await save_upload(archive, uploads / "archive.zip")
        man = await run_in_threadpool(
            evals.manifest_from_archive, path, uploads, classes, safe_filename(archive.filename)
        )
    elif manifest is not None:
        (uploads / "manifest").mkdir()  # kept under the client's name: messages name it so
        mpath = await save_upload(
            manifest, uploads / "manifest" / safe_filename(manifest.filename, "manifest")
        )
        (uploads / "files").mkdir()
        saved = []
        for f in files or []:
            dest = uploads / "files" / safe_filename(f.filename)
            if dest.exists():
                raise UploadError(f"two uploaded files are called {dest.name}; file names must be unique")
            saved.append(await save_upload(f, dest))
        man = await run_in_threadpool(evals.manifest_from_files, mpath, saved, classes)
    elif folder is not None:
        man = await run_in_threadpool(evals.manifest_from_server, folder, classes)
        shutil.rmtree(uploads, ignore_errors=True)
        up = None
    else:  # not reached: exactly one of the three was checked above
        raise ApiError(422, "bad_parameters", "give exactly one of archive, manifest (+ files) or folder")
    return man, up


def given_name(archive: UploadFile | None, manifest: UploadFile | None, folder: str | None) -> str | None:
    """The test set's name as the client gave it: the archive's or manifest's file name, or the folder's."""
    upload = archive if archive is not None else manifest
    text = (upload.filename or "") if upload is not None else (folder or "")
    return PurePosixPath(text.replace("\\", "/").rstrip("/")).name or None


def build_evaluate_router(service) -> APIRouter:
    router = APIRouter(
        prefix="/v1",
        dependencies=[Depends(bearer_auth(service.settings.token))],
        tags=["evaluations"],
        responses=ERROR_RESPONSES,
    )
    evals: Evaluations = evaluations_for(service)
    _start_route(router, evals)
    _report_routes(router, evals)
    return router


def _start_route(router: APIRouter, evals: Evaluations) -> None:
    """POST /v1/evaluations: a zip, a manifest with its files, or a folder on the server."""

    @router.post("/evaluations", summary="Evaluate the server's model on a labelled test set")
    async def start(
        archive: Annotated[
            UploadFile | None,
            File(
                description="zip: a folder of label sub-folders (angry/, anger/, or the Chinese names, …) or a "
                "manifest with its audio"
            ),
        ] = None,
        manifest: Annotated[
            UploadFile | None,
            File(description="CSV/TSV/JSONL with path and label (optional id, speaker, text)"),
        ] = None,
        files: Annotated[
            list[UploadFile] | None, File(description="the audio files the manifest names")
        ] = None,
        folder: Annotated[
            str | None, Form(description="a manifest or label folder on the server, under the allowed roots")
        ] = None,
        classes: Annotated[Literal["all", "4"], Form()] = "all",
        baseline: Annotated[
            str | None, Form(description="id of an earlier evaluation of the same set")
        ] = None,
        wait: Annotated[bool, Form(description="answer when the evaluation has finished")] = False,
        max_flip_rate: Annotated[float | None, Form(ge=0, le=1)] = None,
        max_drift: Annotated[float | None, Form(ge=0, le=1)] = None,
        max_mean_drift: Annotated[float | None, Form(ge=0, le=1)] = None,
        max_drop: Annotated[float | None, Form(ge=0, le=1)] = None,
        max_new_failures: Annotated[int | None, Form(ge=0)] = None,
    ) -> JSONResponse:
        given = [x for x in (archive, manifest, folder) if x is not None]
        if len(given) != 1:
            raise ApiError(422, "bad_parameters", "give exactly one of archive, manifest (+ files) or folder")
        if files and manifest is None:
            raise ApiError(422, "bad_parameters", "files need the manifest that labels them")
        thresholds = thresholds_of(max_flip_rate, max_drift, max_mean_drift, max_drop, max_new_failures)
        uploads: Path | None
        try:
            if baseline:
                evals.report_dir(baseline)  # 404 before any work
            folder_dir, uploads = evals.new_job_dirs()
        except EmoStudioError as exc:
            raise api_error(exc) from exc
        except OSError as exc:
            if is_disk_full(exc):
                raise as_api_error(disk_full_error(exc, "storing the test set")) from exc
            raise
        try:
            man, uploads = await stage_manifest(evals, uploads, archive, manifest, files, folder, classes)
            job = await evals.start(man, folder_dir, uploads, baseline=baseline, thresholds=thresholds)
        except BaseException as exc:
            evals.discard(folder_dir, uploads)
            if is_disk_full(exc):  # saving or extracting the upload: 507, as /v1/analyze answers it
                raise as_api_error(disk_full_error(exc, "storing the test set")) from exc
            if isinstance(exc, EmoStudioError):
                raise api_error(exc) from exc
            raise
        # the past evaluations are named by what the client sent (not "data" or the staged "archive.zip")
        evals.name_report(job.id, given_name(archive, manifest, folder))
        if wait and job.task is not None:  # start() returns the job with its task
            await asyncio.shield(job.task)
            if job.error and job.error.get("code") == OutputError.code:  # the disk filled up while it ran
                raise ApiError(507, OutputError.code, f"evaluation {job.id} failed: {job.error['message']}")
            return JSONResponse({**evals.status(job.id), "links": links(job.id)})
        return JSONResponse({**evals.status(job.id), "links": links(job.id)}, status_code=202)


def _report_routes(router: APIRouter, evals: Evaluations) -> None:
    """The evaluations: the list, one's state and metrics, its files, the earlier runs on the same set."""

    @router.get("/evaluations", summary="Evaluations, newest first")
    def list_evaluations(
        limit: Annotated[int, Query(ge=1, le=200)] = 20, offset: Annotated[int, Query(ge=0)] = 0
    ) -> dict:
        return evals.list_reports(limit, offset)

    @router.get("/evaluations/{report_id}", summary="State of an evaluation; its metrics.json when done")
    def status(report_id: str) -> dict:
        try:
            return {**evals.status(report_id), "links": links(report_id)}
        except EmoStudioError as exc:
            raise api_error(exc) from exc

    @router.get("/evaluations/{report_id}/files/{name}", summary="Download a file of an evaluation report")
    def report_file(report_id: str, name: str) -> FileResponse:
        try:
            path = evals.file(report_id, name)
        except EmoStudioError as exc:
            raise api_error(exc) from exc
        headers = {"Content-Security-Policy": HTML_CSP} if path.suffix == ".html" else None
        return FileResponse(
            path,
            media_type=MEDIA[path.suffix],
            filename=f"{report_id}_{name}",
            headers=headers,
            content_disposition_type="inline" if path.suffix in (".html", ".png") else "attachment",
        )

    @router.get(
        "/evaluations/{report_id}/history", summary="Earlier runs on the same test set (accuracy over time)"
    )
    def history(report_id: str) -> dict:
        try:
            return {"id": report_id, "runs": evals.history(report_id)}
        except EmoStudioError as exc:
            raise api_error(exc) from exc
