"""`create_app`: one FastAPI app with the REST API at /v1, the Gradio UI at /, docs at /docs, health probes.

The model starts loading in a background thread as soon as the app is created, so /healthz answers at once
and /readyz turns ready (or reports where it looked for weights) when loading ends.
"""

from __future__ import annotations

import contextlib
import logging
import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported anywhere below

from fastapi import FastAPI  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

from emostudio import __version__  # noqa: E402
from emostudio.server.api import build_router, error_response, install_error_handlers  # noqa: E402
from emostudio.server.routes_evaluate import build_evaluate_router  # noqa: E402
from emostudio.server.routes_live import build_live_router  # noqa: E402
from emostudio.server.routes_profiles import build_profiles_router  # noqa: E402
from emostudio.server.service import Service  # noqa: E402
from emostudio.server.settings import ServerSettings, check_bind  # noqa: E402

log = logging.getLogger("emostudio.server")
# multipart framing on top of the file itself
_MULTIPART_SLACK = 1024 * 1024


class BodyLimit:
    """ASGI middleware: answer 413 as soon as a request body is known to exceed `limit` bytes."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        message = f"upload is larger than the {self.limit / 1e6:.1f} MB limit"
        if declared is not None and declared.isdigit() and int(declared) > self.limit + _MULTIPART_SLACK:
            return await error_response(413, "too_large", message)(scope, receive, send)
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit + _MULTIPART_SLACK:
                    raise _TooLarge
            return msg

        async def tracked_send(msg):
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await error_response(413, "too_large", message)(scope, receive, send)


class _TooLarge(Exception):
    pass


class CatchAll:
    """ASGI middleware: an unhandled exception becomes the JSON error shape with status 500 and one log line.

    The line names the method, path and exception, never the request's body (no audio, no tokens); the
    traceback is logged only at DEBUG level. The process keeps serving.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracked_send(msg):
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:  # the last line of defence: one clean answer and one log line
            log.error(
                "internal error on %s %s: %s: %s",
                scope.get("method"),
                scope.get("path"),
                type(exc).__name__,
                " ".join(str(exc).split())[:300],
            )
            log.debug("traceback", exc_info=True)
            if not started:
                await error_response(
                    500,
                    "internal_error",
                    f"the server failed on this request ({type(exc).__name__}); it keeps serving others",
                )(scope, receive, send)


def create_app(settings: ServerSettings | None = None, service: Service | None = None) -> FastAPI:
    """The whole server. Starts loading the model in the background; refuses unsafe binds (see check_bind)."""
    settings = settings or ServerSettings()
    check_bind(settings)
    settings.outputs.mkdir(parents=True, exist_ok=True)
    # Gradio keeps uploads and recordings in its cache: keep that under the outputs dir too
    os.environ["GRADIO_TEMP_DIR"] = str(settings.outputs / ".gradio")
    service = service or Service(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        service.close()

    app = FastAPI(
        title="Emotion Studio",
        version=__version__,
        lifespan=lifespan,
        description='Speech emotion recognition with emotion2vec+. Errors: {"error": {code, message}}.',
    )
    app.state.service = service
    install_error_handlers(app)
    app.include_router(build_router(service))
    app.include_router(build_profiles_router(service))
    app.include_router(build_evaluate_router(service))
    app.include_router(build_live_router(service))

    @app.get("/healthz", tags=["health"], summary="The process is up")
    async def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"], summary="The model is loaded and requests can be served")
    async def readyz() -> JSONResponse:
        st = service.model_state
        body = {
            "ready": st.state == "ready",
            **st.to_dict(),
            "in_flight": service.in_flight,
            "queue_size": settings.queue_size,
        }
        if service.worker is not None:
            body["worker"] = vars(service.worker.stats).copy()
        if st.state != "ready":
            body["message"] = service.unavailable_message()
        return JSONResponse(body, status_code=200 if st.state == "ready" else 503)

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(CatchAll)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)

    if settings.ui:
        from emostudio.server.ui import mount_ui

        mount_ui(app, service)
    service.start()
    return app
