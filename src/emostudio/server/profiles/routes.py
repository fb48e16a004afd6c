"""REST routes for speaker profiles (/v1/profiles/...) and two-clip similarity with a reading (/v1/similar).

The server's store lives in `<outputs>/profiles` (local Qdrant) unless `build_profiles_router(service, store=...)`
or $EMOSTUDIO_SERVER_PROFILE_STORE names another folder or a Qdrant server URL. It is opened on first use and
shared with the web UI's Profiles tab (`profiles_service(service)`), and closed when the app shuts down.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from emostudio.clips import Clip, ClipError
from emostudio.embeddings import similarity
from emostudio.profiles import (
    AlertRule,
    ProfileError,
    compare,
    summarize,
    trend,
)
from emostudio.server.analyze.service import Service
from emostudio.server.http import ApiError, bearer_auth
from emostudio.server.openapi_errors import ERROR_RESPONSES
from emostudio.server.profiles.service import ProfilesService, profiles_service
from emostudio.server.uploads import read_upload


def as_api(exc: Exception) -> ApiError:
    if isinstance(exc, ProfileError):
        return ApiError(getattr(exc, "status", 422), exc.code, str(exc))
    if isinstance(exc, ClipError):
        return ApiError(404 if exc.code == "run_not_found" else 422, exc.code, str(exc))
    raise exc


def _typed(fn):
    """Profile and clip errors become their HTTP status; others go to the app's handlers as usual."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def wrapped_async(*args, **kwargs):
            try:
                return await fn(*args, **kwargs)
            except (ProfileError, ClipError) as e:
                raise as_api(e) from e

        return wrapped_async

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ProfileError, ClipError) as e:
            raise as_api(e) from e

    return wrapped


def _tags(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


async def query_clip(
    service: Service,
    ps: ProfilesService,
    file: UploadFile | None,
    run_id: str | None,
    field: str = "file",
    run_field: str = "run_id",
) -> Clip:
    """The clip a request names: exactly one of an upload (`field`) or a saved run (`run_field`)."""
    if run_id is not None and file is None:
        return (await ps.clip_of_run(run_id))[0]
    if file is not None and run_id is None:
        data, name = await read_upload(service, file, field)
        return await ps.clip_of_audio(data, name)
    raise ApiError(422, "bad_parameters", f"give exactly one of {field} or {run_field}")


def build_profiles_router(service: Service, store: str | os.PathLike | None = None) -> APIRouter:
    """/v1/profiles/... and /v1/similar, behind the same bearer token as the rest of /v1."""
    ps = profiles_service(service, store)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        ps.close()

    router = APIRouter(
        prefix="/v1",
        dependencies=[Depends(bearer_auth(service.settings.token))],
        tags=["profiles"],
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )

    _similarity_routes(router, service, ps)
    _store_routes(router, service, ps)
    speaker = _speaker_routes(router, service, ps)
    speaker.update(_trend_routes(router, ps))
    _speaker_in_query(router, **speaker)
    return router


def _similarity_routes(router: APIRouter, service: Service, ps: ProfilesService) -> None:
    """POST /v1/similar."""

    @router.post(
        "/similar", summary="How alike two clips are: cosine, score distance (JS) and a zh/en reading"
    )
    @_typed
    async def similar(
        file_a: Annotated[UploadFile | None, File()] = None,
        file_b: Annotated[UploadFile | None, File()] = None,
        run_a: Annotated[str | None, Form()] = None,
        run_b: Annotated[str | None, Form()] = None,
    ) -> dict:
        a = await query_clip(service, ps, file_a, run_a, "file_a", "run_a")
        b = await query_clip(service, ps, file_b, run_b, "file_b", "run_b")
        if a.model_id and b.model_id and a.model_id != b.model_id:
            raise ApiError(422, "model_mismatch", f"{a.name} and {b.name} come from different models")
        try:
            sim = similarity(a.vector, b.vector, a.probs, b.probs)
        except ValueError as e:
            raise ApiError(422, "dimension_mismatch", str(e)) from e
        info = lambda c: {"name": c.name, "run_id": c.run_id, "emotion": c.label}  # noqa: E731
        return {
            **sim.to_dict(),
            "a": info(a),
            "b": info(b),
            "random_weights": a.random_weights or b.random_weights,
        }


def _store_routes(router: APIRouter, service: Service, ps: ProfilesService) -> None:
    """The whole store: GET /v1/profiles, POST /v1/profiles/search, GET /v1/profiles/compare and /export (before
    the /profiles/{speaker} routes, which would match those paths)."""

    @router.get(
        "/profiles", summary="Speakers in the store (records per speaker) and the models' collections"
    )
    @_typed
    def overview(model_id: str | None = None) -> dict:
        st = ps.store()
        return {
            "store": st.location,
            "kind": st.kind,
            "collections": [r.to_dict() for r in st.collections()],
            "speakers": st.speakers(model_id),
        }

    @router.post("/profiles/search", summary="Stored moments nearest to a clip (an upload or a run id)")
    @_typed
    async def search(
        file: Annotated[UploadFile | None, File()] = None,
        run_id: Annotated[str | None, Form()] = None,
        k: Annotated[int, Form(ge=1, le=100)] = 5,
        speaker: Annotated[str | None, Form()] = None,
        since: Annotated[str | None, Form()] = None,
        until: Annotated[str | None, Form()] = None,
        tag: Annotated[str | None, Form()] = None,
        model_id: Annotated[str | None, Form()] = None,
    ) -> dict:
        q = await query_clip(service, ps, file, run_id)
        st = await run_in_threadpool(ps.store)
        hits = await run_in_threadpool(
            functools.partial(
                st.search,
                q.vector,
                model_id=model_id or q.model_id,
                k=k,
                speaker=speaker,
                since=since,
                until=until,
                tag=tag,
            )  # fmt: skip
        )
        return {"query": {"name": q.name, "run_id": q.run_id, "emotion": q.label},
                "matches": [h.to_dict() for h in hits]}  # fmt: skip

    @router.get("/profiles/compare", summary="How speaker B's expression differs from speaker A's")
    @_typed
    def compare_speakers(a: str, b: str, model_id: str | None = None) -> dict:
        st = ps.store()
        return compare(
            st.speaker_records(a, model_id, with_vectors=True),
            st.speaker_records(b, model_id, with_vectors=True),
        ).to_dict()

    @router.get("/profiles/export", summary="Every record (or one speaker's) as Parquet or CSV")
    @_typed
    def export(
        format: Literal["parquet", "csv"] = "parquet",
        speaker: str | None = None,
        model_id: str | None = None,
    ) -> Response:
        from emostudio.profiles.export import export_records

        st = ps.store()
        if speaker is not None:
            st.require_speaker(speaker, model_id)
        recs = st.records(speaker=speaker, model_id=model_id, with_vectors=format == "parquet")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"profiles.{format}"
            export_records(recs, path, format, embedding=format == "parquet")
            data = path.read_bytes()
        media = "application/vnd.apache.parquet" if format == "parquet" else "text/csv"
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="profiles.{format}"'})  # fmt: skip


def _speaker_routes(router: APIRouter, service: Service, ps: ProfilesService) -> dict[str, Callable]:
    """One speaker: add a record, the profile, the records. Returns the handlers by name (for `_speaker_in_query`)."""

    @router.post(
        "/profiles/{speaker}/records", summary="Add a finished run (run_id) or an uploaded file to a speaker"
    )
    @_typed
    async def add(
        speaker: str,
        file: Annotated[UploadFile | None, File()] = None,
        run_id: Annotated[str | None, Form()] = None,
        at: Annotated[str | None, Form(description="time of the recording, ISO 8601")] = None,
        tags: Annotated[str | None, Form(description="comma-separated tags")] = None,
    ) -> dict:
        if run_id is not None and file is None:
            rec, rid = await ps.add_run(speaker, run_id, at, _tags(tags)), run_id
        elif file is not None and run_id is None:
            data, name = await read_upload(service, file)
            rec, rid = await ps.add_upload(speaker, data, name, at, _tags(tags))
        else:
            raise ApiError(422, "bad_parameters", "give exactly one of file or run_id")
        return {"record": rec.to_dict(), "run_id": rid}

    @router.get(
        "/profiles/{speaker}", summary="A speaker's profile: counts, emotion shares, confidence, last seen"
    )
    @_typed
    def show(speaker: str, model_id: str | None = None, since: str | None = None, until: str | None = None,
             tag: str | None = None) -> dict:  # fmt: skip
        recs = ps.store().speaker_records(speaker, model_id, since=since, until=until, tag=tag)
        if not recs:
            raise ApiError(404, "no_records", f"{speaker!r} has no records in that time range / tag")
        return summarize(recs).to_dict()

    @router.get("/profiles/{speaker}/records", summary="A speaker's records, newest first")
    @_typed
    def records(
        speaker: str,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
        model_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        tag: str | None = None,
    ) -> dict:
        recs = ps.store().speaker_records(speaker, model_id, since=since, until=until, tag=tag)[::-1]
        return {"total": len(recs), "limit": limit, "offset": offset,
                "records": [r.to_dict() for r in recs[offset : offset + limit]]}  # fmt: skip

    return {"add": add, "show": show, "records": records}


def _trend_routes(router: APIRouter, ps: ProfilesService) -> dict[str, Callable]:
    """One speaker's trend and the right to be forgotten. Returns the handlers by name (`_speaker_in_query`)."""

    @router.get("/profiles/{speaker}/trend", summary="Emotion shares per period and the negative-share alert "
                "(format=json, png or html)")  # fmt: skip
    @_typed
    def speaker_trend(
        speaker: str,
        by: Literal["day", "week", "month"] = "week",
        format: Literal["json", "png", "html"] = "json",
        threshold: Annotated[float, Query(gt=0, lt=1)] = 0.15,
        recent: Annotated[int, Query(ge=1, le=52)] = 3,
        min_records: Annotated[int, Query(ge=1)] = 3,
        tz: str | None = None,
        model_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        lang: Literal["zh", "en"] = "en",
    ):
        from emostudio.profiles.charts import trend_html, trend_png

        recs = ps.store().speaker_records(speaker, model_id, since=since, until=until)
        if not recs:
            raise ApiError(404, "no_records", f"{speaker!r} has no records in that time range")
        tr = trend(recs, by, AlertRule(threshold=threshold, recent=recent, min_records=min_records), tz)
        if format == "png":
            return Response(trend_png(tr, lang=lang), media_type="image/png")
        if format == "html":
            return HTMLResponse(trend_html(tr))
        return tr.to_dict()

    @router.delete("/profiles/{speaker}", summary="Delete every record of a speaker (right to be forgotten)")
    @_typed
    def delete(speaker: str) -> dict:
        return {"speaker": speaker, "deleted": ps.store().delete_speaker(speaker)}

    return {"trend": speaker_trend, "delete": delete}


def _speaker_in_query(router: APIRouter, **handlers: Callable) -> None:
    """/v1/speaker[/records|/trend]?speaker=ID: the same handlers with the id in the query, so that every id is
    addressable — one with '/', or one named like a route ('export', 'compare'). /v1/profiles/{speaker} stays."""
    note = " (the speaker id in the query: any id)"
    for path, method, name, summary in (
        ("/speaker", "GET", "show", "A speaker's profile"),
        ("/speaker", "DELETE", "delete", "Delete every record of a speaker"),
        ("/speaker/records", "GET", "records", "A speaker's records, newest first"),
        ("/speaker/records", "POST", "add", "Add a finished run or an uploaded file to a speaker"),
        ("/speaker/trend", "GET", "trend", "Emotion shares per period and the alert"),
    ):
        router.add_api_route(
            path, handlers[name], methods=[method], summary=summary + note, name=f"speaker_{name}_by_query"
        )
