"""REST routes for adapters (see emostudio.server.adapters.service).

POST   /v1/adapters                  train one from a labelled set: a zip `archive`, or a `manifest` + `files`,
                                     or a server `folder` under the allowed roots (as POST /v1/evaluations);
                                     422 when a class has too few examples; 201 with the adapter and its report
GET    /v1/adapters                  the server's adapters, which one is active, whether each fits the model
GET    /v1/adapters/{id}             one adapter: adapter.json and its cross-validated report (metrics.json)
POST   /v1/adapters/{id}/activate    read it from every later result (409 when trained on other weights)
POST   /v1/adapters/deactivate       no adapter from now on
DELETE /v1/adapters/{id}             delete one the server trained (the active one is deactivated first)
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from emostudio.errors import EmoStudioError
from emostudio.server.adapters.service import AdapterStore, adapters_for
from emostudio.server.evaluate.service import api_error
from emostudio.server.http import ApiError, bearer_auth
from emostudio.server.openapi_errors import ERROR_RESPONSES
from emostudio.server.settings import safe_filename
from emostudio.server.uploads import save_upload

ONE_SOURCE = "give exactly one of archive, manifest (+ files) or folder"


async def _manifest(store: AdapterStore, uploads: Path, archive, manifest, files, folder, classes: str):
    """The labelled set of one request, read as an evaluation upload is (custom labels kept)."""
    if archive is not None:
        path = await save_upload(archive, uploads / "archive.zip")
        return await run_in_threadpool(store.manifest_from_archive, path, uploads, classes)
    if manifest is not None:
        mpath = await save_upload(
            manifest, uploads / ("manifest" + Path(safe_filename(manifest.filename)).suffix)
        )
        (uploads / "files").mkdir()
        saved = []
        for f in files or []:
            saved.append(await save_upload(f, uploads / "files" / safe_filename(f.filename)))
        return await run_in_threadpool(store.manifest_from_files, mpath, saved, classes)
    return await run_in_threadpool(store.manifest_from_server, folder, classes)


def build_adapters_router(service) -> APIRouter:
    router = APIRouter(
        prefix="/v1",
        dependencies=[Depends(bearer_auth(service.settings.token))],
        tags=["adapters"],
        responses=ERROR_RESPONSES,
    )
    store = adapters_for(service)

    @router.post(
        "/adapters", summary="Train an adapter (calibration + a head over your labels) on a labelled set"
    )
    async def train(
        archive: Annotated[
            UploadFile | None, File(description="zip: label sub-folders or a manifest")
        ] = None,
        manifest: Annotated[UploadFile | None, File(description="CSV/TSV/JSONL/Label Studio JSON")] = None,
        files: Annotated[list[UploadFile] | None, File(description="the audio the manifest names")] = None,
        folder: Annotated[
            str | None, Form(description="a set on the server, under the allowed roots")
        ] = None,
        classes: Annotated[Literal["all", "4"], Form()] = "all",
        folds: Annotated[int, Form(ge=2, le=20)] = 5,
        bootstrap: Annotated[int, Form(ge=0, le=10000)] = 1000,
    ) -> JSONResponse:
        if len([x for x in (archive, manifest, folder) if x is not None]) != 1:
            raise ApiError(422, "bad_parameters", ONE_SOURCE)
        if files and manifest is None:
            raise ApiError(422, "bad_parameters", "files need the manifest that labels them")
        try:
            uploads = store.uploads_dir()
        except EmoStudioError as exc:
            raise api_error(exc) from exc
        try:
            man = await _manifest(store, uploads, archive, manifest, files, folder, classes)
            doc = await run_in_threadpool(store.train, man, classes=classes, folds=folds, n_boot=bootstrap)
        except EmoStudioError as exc:
            raise api_error(exc) from exc
        finally:
            shutil.rmtree(uploads, ignore_errors=True)
        return JSONResponse(doc, status_code=201)

    @router.get("/adapters", summary="The server's adapters and the active one")
    def list_adapters() -> dict:
        return store.list_adapters()

    @router.post("/adapters/deactivate", summary="Read no adapter from now on")
    def deactivate() -> dict:
        try:
            return store.deactivate()
        except EmoStudioError as exc:
            raise api_error(exc) from exc

    @router.get("/adapters/{adapter_id}", summary="One adapter: adapter.json and its cross-validated report")
    def get_adapter(adapter_id: str) -> dict:
        try:
            return store.get(adapter_id)
        except EmoStudioError as exc:
            raise api_error(exc) from exc

    @router.post("/adapters/{adapter_id}/activate", summary="Read this adapter from every later result")
    def activate(adapter_id: str) -> dict:
        try:
            return store.activate(adapter_id)
        except EmoStudioError as exc:
            raise api_error(exc) from exc

    @router.delete("/adapters/{adapter_id}", summary="Delete an adapter the server trained")
    def delete(adapter_id: str) -> dict:
        try:
            return store.delete(adapter_id)
        except EmoStudioError as exc:
            raise api_error(exc) from exc

    return router
