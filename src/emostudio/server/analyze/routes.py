"""The REST API under /v1: analyze, run history and downloads, similarity. Errors are JSON {"error": {code, message}}."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from emostudio.errors import EmoStudioError
from emostudio.export import check_available, export_run, parse_formats
from emostudio.options import DEFAULT_TEXT_WEIGHT, AnalysisOptions, TextOptions, parse_speakers
from emostudio.runs import DOWNLOADS, run_files
from emostudio.server.analyze.service import Service
from emostudio.server.analyze.text_fields import (
    TEXT_FIELD_HELP,
    WEIGHT_FIELD_HELP,
    RestTextBackend,
    apply_text,
)
from emostudio.server.http import ApiError, bearer_auth
from emostudio.server.openapi_errors import ERROR_RESPONSES
from emostudio.server.uploads import read_upload

log = logging.getLogger("emostudio.server")
SPEAKERS_FIELD_HELP = (
    "speaker turns (who spoke when) of a mono recording, or within each channel of channels=separate: "
    "auto, or at most N speakers (1-8); empty or off: none. Adds diarization, turns and speakers to the result"
)


async def two_sides(service: Service, file_a, file_b, run_a: str | None, run_b: str | None) -> list[dict]:
    """The A and B of a two-clip request: each exactly one upload or one run id (checked before any work)."""
    sides: list[dict] = []
    for label, upload, run_id in (("a", file_a, run_a), ("b", file_b, run_b)):
        if (upload is None) == (run_id is None):
            raise ApiError(422, "bad_parameters", f"give exactly one of file_{label} or run_{label}")
        if run_id is not None:
            service.run_dir(run_id)  # 404 before any work
            sides.append({"run_id": run_id})
        else:
            data, name = await read_upload(service, upload, f"file_{label}")
            sides.append({"source": data, "name": name})
    return sides


def export_formats(spec: str | None) -> tuple[str, ...]:
    """The analyze request's `export` field as formats (per-run ones only); 422 naming a bad one."""
    if not spec or not spec.strip():
        return ()
    try:
        formats = parse_formats(spec)
        check_available(formats)
    except EmoStudioError as exc:
        raise ApiError(422, exc.code, str(exc)) from exc
    if "labelstudio" in formats:
        raise ApiError(
            422, "bad_parameters", "export labelstudio is one file for many runs; not per analysis"
        )
    return formats


def with_links(doc: dict, run_id: str) -> dict:
    base = f"/v1/runs/{run_id}"
    doc["links"] = {
        "self": base,
        "zip": f"{base}/zip",
        **{key: f"{base}/files/{name}" for key, name in run_files(doc).items()},
    }
    return doc


def build_router(service: Service) -> APIRouter:
    """/v1/analyze, the run history and downloads, /v1/similarity and /v1/compare, behind the bearer token."""
    router = APIRouter(
        prefix="/v1",
        dependencies=[Depends(bearer_auth(service.settings.token))],
        tags=["v1"],
        responses=ERROR_RESPONSES,
    )
    _analyze_route(router, service)
    _run_routes(router, service)
    _two_clip_routes(router, service)
    return router


def _analyze_route(router: APIRouter, service: Service) -> None:
    """POST /v1/analyze."""

    @router.post("/analyze", summary="Recognise the emotion of one audio file")
    async def analyze(
        file: Annotated[
            UploadFile, File(description="audio or video file (wav, mp3, m4a, ogg, flac, webm, ...)")
        ],
        granularity: Annotated[Literal["utterance", "frame"], Form()] = "utterance",
        embedding: Annotated[bool, Form(description="also save embedding.npy")] = False,
        enhance: Annotated[
            bool, Form(description="denoise/normalise first and compare before/after")
        ] = False,
        text: Annotated[str | None, Form(description=TEXT_FIELD_HELP)] = None,
        text_weight: Annotated[float, Form(ge=0, le=1, description=WEIGHT_FIELD_HELP)] = DEFAULT_TEXT_WEIGHT,
        text_backend: Annotated[RestTextBackend, Form()] = "auto",
        channels: Annotated[
            Literal["mix", "separate"],
            Form(description="separate: each channel its own speaker (two-party calls), in `channels`"),
        ] = "mix",
        roles: Annotated[str | None, Form(description="channel roles, e.g. agent,customer")] = None,
        speakers: Annotated[str | None, Form(description=SPEAKERS_FIELD_HELP)] = None,
        export: Annotated[
            str | None,
            Form(
                description="also write textgrid, eaf, vtt, srt and/or rttm (comma list): in files and links"
            ),
        ] = None,
    ) -> dict:
        formats = export_formats(export)  # 422 before any work
        asked = parse_speakers(speakers)  # UsageError: 422 before any work
        data, name = await read_upload(service, file)
        options = AnalysisOptions(
            granularity,
            embedding,
            enhance,
            channels=channels,
            roles=roles,
            speakers=asked,
            text=TextOptions(weight=text_weight, backend=text_backend),
        )  # checked by service.analyze before any work
        done = await service.analyze(data, name=name, options=options)
        done = await apply_text(
            service, done, text, options.text.weight, options.text.backend
        )  # `text` block
        if formats:
            await run_in_threadpool(export_run, done.run_dir, formats)  # listed in result.json `files`
        return with_links(done.to_dict(), done.run_id)


def _run_routes(router: APIRouter, service: Service) -> None:
    """GET /v1/runs, one run's result.json, one of its files, its zip."""

    @router.get("/runs", summary="Finished runs, newest first")
    def runs(
        limit: Annotated[int, Query(ge=1, le=200)] = 20, offset: Annotated[int, Query(ge=0)] = 0
    ) -> dict:
        return service.list_runs(limit, offset)

    @router.get("/runs/{run_id}", summary="The result.json of one run, with download links")
    def run(run_id: str) -> dict:
        return with_links(service.read_run(run_id), run_id)

    @router.get("/runs/{run_id}/files/{name}", summary="Download one file of a run")
    def run_file(run_id: str, name: str) -> FileResponse:
        path = service.run_file(run_id, name)
        return FileResponse(path, media_type=DOWNLOADS[name], filename=f"{run_id}_{name}")

    @router.get("/runs/{run_id}/zip", summary="Download the run folder as a zip")
    def run_zip(run_id: str) -> Response:
        data = service.zip_run(run_id)
        return Response(
            data,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{run_id}.zip"'},
        )


def _two_clip_routes(router: APIRouter, service: Service) -> None:
    """POST /v1/similarity and /v1/compare."""

    @router.post(
        "/similarity", summary="Cosine similarity of two clips (two files, two run ids, or one of each)"
    )
    async def similarity(
        file_a: Annotated[UploadFile | None, File()] = None,
        file_b: Annotated[UploadFile | None, File()] = None,
        run_a: Annotated[str | None, Form()] = None,
        run_b: Annotated[str | None, Form()] = None,
    ) -> dict:
        return await service.similarity(*await two_sides(service, file_a, file_b, run_a, run_b))

    @router.post(
        "/compare",
        summary="Two takes side by side: labels, scores, quality with deltas, and which reading is more reliable",
    )
    async def compare(
        file_a: Annotated[UploadFile | None, File()] = None,
        file_b: Annotated[UploadFile | None, File()] = None,
        run_a: Annotated[str | None, Form()] = None,
        run_b: Annotated[str | None, Form()] = None,
    ) -> dict:
        return await service.compare(*await two_sides(service, file_a, file_b, run_a, run_b))
