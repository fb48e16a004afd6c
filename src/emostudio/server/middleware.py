"""ASGI middleware of the server: one JSON error shape for everything the routes themselves never see.

- `BodyLimit`: 413 as soon as a request body is known to exceed the limit (declared or streamed, chunked too);
- `ApiRoutes`: an unknown path under /v1 is a 404 and a known path with the wrong method a 405 (with `Allow`),
  before the web UI mounted at / would answer them;
- `CatchAll`: an unhandled exception is a 500 in the same shape, with one log line.

All of them answer `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import logging

from starlette.routing import Match, Mount

from emostudio.messages import format_size
from emostudio.server.api import error_response

log = logging.getLogger("emostudio.server")
MULTIPART_SLACK = 1024 * 1024  # multipart framing on top of the file itself


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
