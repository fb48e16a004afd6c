"""The REST API under /v1: analyze, run history and downloads, similarity. Errors are JSON {"error": {code, message}}."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from emostudio.errors import AudioError, EmoStudioError, OutputError, UsageError
from emostudio.messages import format_size
from emostudio.options import DEFAULT_TEXT_WEIGHT, AnalysisOptions, TextOptions
from emostudio.runs import DOWNLOADS, run_files
from emostudio.server.openapi_errors import ERROR_RESPONSES
from emostudio.server.service import BadRequestError, RunNotFoundError, Service
from emostudio.server.settings import safe_filename
from emostudio.server.text_fields import TEXT_FIELD_HELP, WEIGHT_FIELD_HELP, RestTextBackend, apply_text
from emostudio.server.worker import QueueFullError, UnavailableError

log = logging.getLogger("emostudio.server")
# AudioError.code -> HTTP status; any other audio problem is 422 (the upload could not be decoded/used)
AUDIO_STATUS = {"not_audio": 415, "unsupported": 415, "too_long": 413}


class ApiError(EmoStudioError):
    """An error with its HTTP status, answered as {"error": {"code", "message"}}."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def as_api_error(exc: Exception) -> ApiError:
    """The HTTP status and code for an error raised by the pipeline."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, QueueFullError):
        return ApiError(429, exc.code, str(exc), {"Retry-After": "2"})
    if isinstance(exc, UnavailableError):
        return ApiError(503, exc.code, str(exc), {"Retry-After": "5"})
    if isinstance(exc, RunNotFoundError):
        return ApiError(404, exc.code, str(exc))
    if isinstance(exc, BadRequestError):
        return ApiError(422, exc.code, str(exc))
    if isinstance(exc, AudioError):
        return ApiError(AUDIO_STATUS.get(exc.code, 422), exc.code, str(exc))
    if isinstance(exc, UsageError):
        return ApiError(422, exc.code, str(exc))
    if isinstance(exc, OutputError):
        return ApiError(507, exc.code, str(exc))
    status = getattr(exc, "status", None)
    if isinstance(exc, EmoStudioError) and isinstance(status, int) and 400 <= status < 600:
        return ApiError(status, exc.code, str(exc))  # a typed error that knows its own HTTP status
    if isinstance(exc, EmoStudioError):  # typed, but the server's side (the model failed, an internal error)
        return ApiError(500, exc.code, str(exc))
    return ApiError(500, "internal_error", f"{type(exc).__name__}: {exc}")


def install_error_handlers(app) -> None:
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        e = as_api_error(exc)
        level = logging.ERROR if e.status >= 500 else logging.INFO
        log.log(
            level, "%s %s → %d %s: %s", request.method, request.url.path, e.status, e.code, e.message[:300]
        )
        return error_response(e.status, e.code, e.message, e.headers)

    async def on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path", "form"))
            parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
        return error_response(422, "bad_parameters", "; ".join(parts) or "invalid request")

    async def on_http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own refusals (e.g. a form field over its 1 MB part limit) in our error format too
        detail = str(exc.detail)
        if "exceeded maximum size" in detail:
            return error_response(
                413,
                "too_large",
                f"a form field is too large: {detail} (a `text` transcript "
                "is analysed up to 10000 characters; send at most 1 MB)",
            )
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return error_response(exc.status_code, code if exc.status_code < 500 else "internal_error", detail)

    app.add_exception_handler(EmoStudioError, on_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def token_ok(request: Request, token: str) -> bool:
    """Whether the request carries `Authorization: Bearer <token>`."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token.encode())


def bearer_auth(token: str | None):
    """A dependency that demands `Authorization: Bearer <token>` when a token is set."""

    async def check(request: Request) -> None:
        if not token:
            return
        if not token_ok(request, token):
            raise ApiError(
                401,
                "unauthorized",
                "this server needs 'Authorization: Bearer <token>' (the --token it was started with)",
                {"WWW-Authenticate": "Bearer"},
            )

    return check


async def read_upload(service: Service, upload: UploadFile, field: str = "file") -> tuple[bytes, str]:
    """The upload's bytes (at most max_upload_bytes) and a sanitised display name."""
    name = safe_filename(upload.filename)
    limit = service.settings.max_upload_bytes
    if upload.size is not None and upload.size > limit:
        raise ApiError(
            413, "too_large", f"{name}: upload is {_size(upload.size)}; the limit is {_size(limit)}"
        )
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(413, "too_large", f"{name}: upload is larger than the {_size(limit)} limit")
    if not data:
        raise ApiError(422, "empty", f"{name}: file is empty (0 bytes)")
    return data, name


def _size(n: int) -> str:
    return format_size(n)


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


def with_links(doc: dict, run_id: str) -> dict:
    base = f"/v1/runs/{run_id}"
    doc["links"] = {
        "self": base,
        "zip": f"{base}/zip",
        **{key: f"{base}/files/{name}" for key, name in run_files(doc).items()},
    }
    return doc


def build_router(service: Service) -> APIRouter:
    router = APIRouter(
        prefix="/v1",
        dependencies=[Depends(bearer_auth(service.settings.token))],
        tags=["v1"],
        responses=ERROR_RESPONSES,
    )

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
    ) -> dict:
        data, name = await read_upload(service, file)
        options = AnalysisOptions(
            granularity,
            embedding,
            enhance,
            channels=channels,
            roles=roles,
            text=TextOptions(weight=text_weight, backend=text_backend),
        )  # checked by service.analyze before any work
        done = await service.analyze(data, name=name, options=options)
        done = await apply_text(
            service, done, text, options.text.weight, options.text.backend
        )  # `text` block
        return with_links(done.to_dict(), done.run_id)

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

    return router
