"""DNS-rebinding guard: the server answers only to the host names it is known by.

A page on `evil.example` whose name is re-pointed at 127.0.0.1 reaches a local server with `Host: evil.example`
(and `Origin: http://evil.example`). So every HTTP request and WebSocket handshake must name, in `Host` and (when
sent) `Origin`, one of:

- a loopback name: `localhost`, `*.localhost`, 127.0.0.0/8, ::1;
- the address the server was bound to (`--host`); bound to all addresses (0.0.0.0, ::), any IP address literal
  (an IP literal cannot be rebound; a token is required for such a bind anyway);
- a name given with `--allowed-host NAME` (repeatable; `EMOSTUDIO_ALLOWED_HOSTS`, comma-separated) for a
  reverse proxy or a LAN name; `*` turns the check off;
- for `Origin` only: an origin listed with `--cors-origin`.

Anything else is refused: HTTP 421 in the error envelope (code `forbidden_host` or `forbidden_origin`); a
WebSocket gets the same code in a fatal `{"type": "error"}` message, then close code 1008.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from urllib.parse import urlsplit

from emostudio.server.http import error_response
from emostudio.server.settings import is_loopback

log = logging.getLogger("emostudio.server")
WILDCARDS = ("0.0.0.0", "::", "")


def host_name(value: str) -> str:
    """The name of a `Host` header value without its port, lower case (`[::1]:7860` → `::1`)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class HostPolicy:
    """Which `Host` names and `Origin`s a server accepts (see the module docstring)."""

    def __init__(self, bound: str, allowed: list[str], cors_origins: list[str]):
        self.bound = host_name(bound)
        self.allowed = {host_name(h) for h in allowed if h.strip()}
        self.any = "*" in {h.strip() for h in allowed}
        self.cors = set(cors_origins)

    def host_ok(self, name: str) -> bool:
        name = host_name(name)
        if self.any or not name:
            return self.any
        if is_loopback(name) or name.endswith(".localhost") or name == self.bound or name in self.allowed:
            return True
        return self.bound in WILDCARDS and _is_ip(name)

    def origin_ok(self, origin: str | None) -> bool:
        """No Origin (not a browser): fine. Else its host must be accepted, or the origin listed for CORS."""
        if origin is None or self.any or origin in self.cors or "*" in self.cors:
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and self.host_ok(parts.netloc)


class HostCheck:
    """ASGI middleware: refuse requests and WebSocket handshakes whose Host or Origin is not accepted."""

    def __init__(self, app, policy: HostPolicy):
        self.app, self.policy = app, policy

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        host = headers.get(b"host", "")
        origin = headers.get(b"origin")
        if self.policy.host_ok(host) and self.policy.origin_ok(origin):
            return await self.app(scope, receive, send)
        code, what = (
            ("forbidden_host", f"host {host!r}")
            if not self.policy.host_ok(host)
            else ("forbidden_origin", f"pages from {origin!r}")
        )
        log.info("refused %s %s: %s", scope["type"], scope.get("path"), code)
        message = (
            f"this server does not answer to {what}; it serves localhost, its own address and the names "
            "given with --allowed-host (a guard against DNS rebinding)"
        )
        if scope["type"] == "http":
            return await error_response(421, code, message)(scope, receive, send)
        if (await receive())["type"] != "websocket.connect":
            return None
        await send({"type": "websocket.accept"})
        error = {"type": "error", "code": code, "message": message, "fatal": True}
        await send({"type": "websocket.send", "text": json.dumps(error)})
        return await send({"type": "websocket.close", "code": 1008, "reason": code})
