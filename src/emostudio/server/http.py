"""HTTP plumbing shared by every feature: the error envelope, the bearer token, the ASGI middleware.

Every error is answered `{"error": {"code", "message"}}`:
- `ApiError` / `as_api_error` / `install_error_handlers`: typed errors and FastAPI's own refusals in that shape;
- `token_ok` / `bearer_auth`: `Authorization: Bearer <token>` when the server has a token;
- `BodyLimit`: 413 as soon as a request body is known to exceed the limit (declared or streamed, chunked too);
- `ApiRoutes`: an unknown path under /v1 is a 404 and a known path with the wrong method a 405 (with `Allow`),
  before the web UI mounted at / would answer them;
- `CatchAll`: an unhandled exception is a 500 in the same shape, with one log line.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from emostudio.errors import AudioError, EmoStudioError, OutputError, UsageError
from emostudio.messages import format_size
from emostudio.server.worker import QueueFullError, UnavailableError

log = logging.getLogger("emostudio.server")
MULTIPART_SLACK = 1024 * 1024  # multipart framing on top of the file itself


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


class BodyLimit:
    """Answer 413 once a request body exceeds `limit` bytes: by its Content-Length, or while it streams in."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    def _too_large(self):
        return error_response(
            413, "too_large", f"the upload is larger than the {format_size(self.limit)} limit"
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit + MULTIPART_SLACK:
            return await self._too_large()(scope, receive, send)
        seen = 0
        started = exceeded = False

        async def counted_receive():
            nonlocal seen, exceeded, started
            if exceeded:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit + MULTIPART_SLACK:
                    exceeded = True
                    if not started:  # answer now; the app sees a disconnected client and stops reading
                        started = True
                        await self._too_large()(scope, receive, send)
                    return {"type": "http.disconnect"}
            return msg

        async def tracked_send(msg):
            nonlocal started
            if exceeded:
                return  # the client already has its 413
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except Exception:
            if not exceeded:
                raise  # the body parser's complaint about the cut-off body is not news: 413 was sent


class ApiRoutes:
    """404 / 405 in the JSON error shape for paths under `prefix` that no API route serves."""

    def __init__(self, app, router, prefix: str = "/v1"):
        self.app, self.router, self.prefix = app, router, prefix

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == self.prefix or path.startswith(self.prefix + "/")):
            return await self.app(scope, receive, send)
        # the web UI is mounted at / and matches every path: it never serves /v1
        api = [
            r for r in self.router.routes if not (isinstance(r, Mount) and not r.path.startswith(self.prefix))
        ]
        served, allowed = _lookup(api, scope)
        if served:
            return await self.app(scope, receive, send)
        if allowed:
            methods = ", ".join(sorted(allowed))
            answer = error_response(
                405,
                "method_not_allowed",
                f"{scope.get('method')} is not allowed on {path}; use {methods}",
                {"Allow": methods},
            )
        else:
            answer = error_response(404, "not_found", f"no API route {path}; see /docs for the routes")
        await answer(scope, receive, send)


def _lookup(routes, scope) -> tuple[bool, set[str]]:
    """(some route serves this method and path, the methods of routes that match the path only).

    Included routers (FastAPI wraps them) are searched through."""
    allowed: set[str] = set()
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return True, set()
        if match == Match.PARTIAL:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                served, methods = _lookup(inner.routes, scope)
                if served:
                    return True, set()
                allowed |= methods
            else:
                allowed |= set(getattr(route, "methods", None) or ())
    return False, allowed


class CatchAll:
    """An unhandled exception becomes the JSON error shape with status 500 and one log line.

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
