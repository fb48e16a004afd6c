"""`create_app`: one FastAPI app with the REST API at /v1, the Gradio UI at /, docs at /docs, health probes.

The model starts loading in a background thread as soon as the app is created, so /healthz answers at once
and /readyz turns ready (or reports where it looked for weights) when loading ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported anywhere below

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

from emostudio import __version__, runs  # noqa: E402
from emostudio.server.adapters.routes import build_adapters_router  # noqa: E402
from emostudio.server.adapters.service import adapters_for  # noqa: E402
from emostudio.server.analyze.routes import build_router  # noqa: E402
from emostudio.server.analyze.service import Service  # noqa: E402
from emostudio.server.docs import install_docs  # noqa: E402
from emostudio.server.evaluate.routes import build_evaluate_router  # noqa: E402
from emostudio.server.hosts import HostCheck, HostPolicy  # noqa: E402
from emostudio.server.http import ApiRoutes, BodyLimit, CatchAll, install_error_handlers, token_ok  # noqa: E402
from emostudio.server.live.routes import build_live_router  # noqa: E402
from emostudio.server.openapi_errors import ERROR_RESPONSES  # noqa: E402
from emostudio.server.profiles.routes import build_profiles_router  # noqa: E402
from emostudio.server.settings import ServerSettings, check_bind  # noqa: E402

log = logging.getLogger("emostudio.server")


def _clean_leftovers(outputs) -> None:
    for leftover in runs.clean_leftovers(outputs):
        log.info("removed %s, left by an interrupted run", leftover.name)


def create_app(settings: ServerSettings | None = None, service: Service | None = None) -> FastAPI:
    """The whole server. Starts loading the model in the background; refuses unsafe binds (see check_bind)."""
    settings = settings or ServerSettings()
    check_bind(settings)
    settings.outputs.mkdir(parents=True, exist_ok=True)
    # what a killed server left half-written; again once they are old enough
    _clean_leftovers(settings.outputs)
    sweep = threading.Timer(runs.LEFTOVER_MIN_AGE_S + 5, _clean_leftovers, (settings.outputs,))
    sweep.daemon = True
    sweep.start()
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
        docs_url=None,  # served with local assets by install_docs: they work offline
        redoc_url=None,
    )
    install_docs(app, "Emotion Studio")
    app.state.service = service
    install_error_handlers(app)
    app.include_router(build_router(service))
    app.include_router(build_profiles_router(service))
    app.include_router(build_evaluate_router(service))
    app.include_router(build_live_router(service))
    service.on_model.append(adapters_for(service, settings.adapter).attach)  # before the model is ready
    app.include_router(build_adapters_router(service))
    _health_routes(app, service)
    _middleware(app, settings)

    if settings.ui:
        from emostudio.server.ui import mount_ui

        mount_ui(app, service)
    service.start()
    return app


def _health_routes(app: FastAPI, service: Service) -> None:
    """GET /healthz and /readyz."""
    settings = service.settings
    host_refused: dict[int | str, dict] = {421: ERROR_RESPONSES[421]}

    @app.get("/healthz", tags=["health"], summary="The process is up", responses=host_refused)
    async def healthz() -> dict:
        return {"status": "ok", "version": __version__}

    @app.get(
        "/readyz",
        tags=["health"],
        summary="The model is loaded and requests can be served",
        responses={**host_refused, 503: {"description": "not ready yet: the same fields, `ready` false"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        """Readiness. With a token, callers without it see only whether the server is ready and its state:
        where weights were looked for (paths under the home folder) is for the token holder."""
        st = service.model_state
        status = 200 if st.state == "ready" else 503
        if settings.token and not token_ok(request, settings.token):
            return JSONResponse({"ready": st.state == "ready", "state": st.state}, status_code=status)
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
        return JSONResponse(body, status_code=status)


def _middleware(app: FastAPI, settings: ServerSettings) -> None:
    """CORS (when asked for), the /v1 route check, the catch-all, the body limit and, outermost, the host check."""
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(ApiRoutes, router=app.router)
    app.add_middleware(CatchAll)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    # outermost: a request for a foreign host name (DNS rebinding) gets no further
    app.add_middleware(
        HostCheck, policy=HostPolicy(settings.host, settings.allowed_hosts, settings.cors_origins)
    )
