"""WebSocket `/v1/stream`: live emotion of an audio stream, an update every hop, the whole stream saved as a run.

Protocol (all JSON messages are text frames; audio goes in binary frames):

    client → {"type": "start", "sample_rate": 16000, "format": "s16le" | "f32le", "channels": 1,
              "channel_mode": "mix" | "separate", "roles": ["agent", "customer"], "hop_s": 0.5,
              "window_s": 3.0, "name": "call-42", "save": true, "skip_late": true}
                                                                     (only sample_rate is required)
    server → {"type": "ready", "stream_id", ..., "limits": {...}}
    client → binary frames: little-endian PCM, channels interleaved, a whole number of samples each
    server → {"type": "update", "seq", "channel", "role", "time_s", "window", "label", "confidence", "band",
              "scores", "segments_from", "segments", "latency_ms", ...}  every hop (silence: once, then
              every 5 s at most), {"type": "notice", ...} (e.g. channel 2 copies channel 1). When the model
              falls behind real time, late hops are skipped (`skipped` counts them) unless skip_late is false.
              `segments` holds the dominant-emotion segments from index `segments_from` on (the earlier ones
              are unchanged since that channel's previous update).
    client → {"type": "stop"}  (or {"type": "ping"} → {"type": "pong"})
    server → {"type": "result", "run_id", "emotion", "confidence", "channels", "links", ...} and closes 1000

Errors are {"type": "error", "code", "message", "fatal"}; a fatal one is followed by a close with
    1003 unsupported data (bad start message: rate, format, channels, options)
    1007 a malformed binary frame (ragged size, NaN/Inf)          — nothing is saved
    1008 not authorised, a foreign Origin, or a protocol misuse     — nothing is saved
    1009 a binary frame over the size limit                          — nothing is saved
    1013 try again later: too many live streams, the queue is full, the model is not loaded
    1009 a text message over 64 KiB or nested over 32 deep          — nothing is saved
    4408 no audio or stop for --stream-idle-timeout seconds (pings do not count) — the audio so far is saved
    4410 the stream ran past --max-stream-wall seconds of wall-clock time — the audio so far is saved
    4507 the server's disk is full — what was received is saved if space allows, else the error says so
The bearer token (when the server has one) is read from `Authorization: Bearer …` or the `token` query
parameter; the web UI's page, past its login, uses a one-time `ticket` query parameter instead. A browser page from another origin is refused (cross-site WebSocket hijacking).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from emostudio.audio import TooLongError
from emostudio.errors import EmoStudioError, OutputError, UsageError
from emostudio.live import FrameError
from emostudio.live import pcm as pcm_mod
from emostudio.options import CHANNEL_MODES, AnalysisOptions
from emostudio.server import bounded_json
from emostudio.server.analyze.service import Service
from emostudio.server.disk import WS_DISK_FULL, disk_full_error, is_disk_full
from emostudio.server.live.service import LiveHub, LiveSession, StreamParams, TooManyStreamsError, live_hub
from emostudio.server.settings import safe_filename
from emostudio.server.worker import QueueFullError, UnavailableError

log = logging.getLogger("emostudio.server")
MAX_FRAME_BYTES = 1 << 20  # one binary frame at most (about 5.5 s of 48 kHz stereo 16-bit audio)
START_FIELDS = {
    "type",
    "sample_rate",
    "format",
    "channels",
    "channel_mode",
    "roles",
    "hop_s",
    "window_s",
    "name",
    "save",
    "skip_late",
}
CLOSE = {
    "stop": 1000,
    "too_long": 1000,
    "idle": 4408,
    "wall_clock": 4410,
    "disk_full": WS_DISK_FULL,
    "unsupported": 1003,
    "malformed": 1007,
    "policy": 1008,
}
CLOSE_REASON = {"idle": "idle timeout", "wall_clock": "wall-clock limit", "disk_full": "disk full"}


class ProtocolError(EmoStudioError):
    """The client broke the protocol (a fatal error with a close code)."""

    def __init__(self, code: str, message: str, close_code: int):
        super().__init__(message)
        self.code, self.close_code = code, close_code


def authorised(ws: WebSocket, token: str | None, hub: LiveHub | None = None) -> bool:
    """True without a server token; else the token must come as a Bearer header or `token` query parameter,
    or a one-time `ticket` the web UI's page got from the hub after its login."""
    if not token:
        return True
    ticket = ws.query_params.get("ticket")
    if ticket and hub is not None:
        return hub.take_ticket(ticket)
    scheme, _, given = ws.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        given = ws.query_params.get("token", "")
    return secrets.compare_digest(given.strip().encode(), token.encode())


def origin_allowed(ws: WebSocket, allowed: list[str]) -> bool:
    """Non-browser clients send no Origin; a browser page must come from this server or an allowed origin."""
    origin = ws.headers.get("origin")
    if not origin:
        return True
    if origin in allowed or "*" in allowed:
        return True
    return urlsplit(origin).netloc.lower() == ws.headers.get("host", "").lower()


def read_text(text: str, what: str = "a text message"):
    """A client's JSON text message, its size and nesting bounded first; ProtocolError 1009 / 1008."""
    try:
        return bounded_json.loads(text)
    except bounded_json.JsonRefused as e:
        close = 1009 if e.kind in ("too_large", "too_deep") else 1008
        code = "bad_message" if e.kind == "not_json" else "message_too_large"
        raise ProtocolError(code, f"{what}: {e}", close) from None


def parse_start(text: str, settings) -> StreamParams:
    """The start message → StreamParams; ProtocolError (1003 / 1008) saying exactly what is wrong."""
    doc = read_text(text, "the first message")
    if not isinstance(doc, dict) or doc.get("type", "start") != "start":
        raise ProtocolError(
            "bad_message", 'the first message must be {"type": "start", "sample_rate": ...}', 1008
        )
    unknown = sorted(set(doc) - START_FIELDS)
    if unknown:
        raise ProtocolError(
            "bad_parameters",
            f"unknown field(s) in the start message: {', '.join(map(str, unknown))} "
            f"(known: {', '.join(sorted(START_FIELDS - {'type'}))})",
            1003,
        )
    if "sample_rate" not in doc:
        raise ProtocolError("bad_parameters", "the start message needs sample_rate (Hz)", 1003)
    try:
        rate = pcm_mod.check_rate(doc["sample_rate"])
        fmt = pcm_mod.check_format(doc.get("format", "s16le"))
        channels = pcm_mod.check_input_channels(doc.get("channels", 1))
        mode = doc.get("channel_mode", "mix")
        if mode not in CHANNEL_MODES:  # the start message names it channel_mode (channels: per frame)
            raise UsageError(f"channel_mode must be 'mix' or 'separate', not {mode!r}")
        roles = AnalysisOptions(channels=mode, roles=doc.get("roles")).check().role_names
        if roles and len(roles) > channels:
            raise UsageError(f"{len(roles)} roles for {channels} channel(s)")
        hop, window = doc.get("hop_s", 0.5), doc.get("window_s", 3.0)
        for key, v in (("hop_s", hop), ("window_s", window)):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise UsageError(f"{key} must be a number of seconds, got {v!r}")
        if not 0.1 <= hop <= window <= 30:
            raise UsageError(f"need 0.1 ≤ hop_s ≤ window_s ≤ 30 seconds, got hop_s={hop}, window_s={window}")
        save, skip = doc.get("save", True), doc.get("skip_late", True)
        for key, v in (("save", save), ("skip_late", skip)):
            if not isinstance(v, bool):
                raise UsageError(f"{key} must be true or false, got {v!r}")
        name = doc.get("name", "live")
        if not isinstance(name, str):
            raise UsageError(f"name must be text, got {name!r}")
    except UsageError as e:
        raise ProtocolError("bad_parameters", str(e), 1003) from None
    return StreamParams(
        rate, fmt, channels, mode, roles, float(hop), float(window), safe_filename(name, "live"), save, skip
    )


async def _send(ws: WebSocket, doc: dict) -> bool:
    if ws.application_state != WebSocketState.CONNECTED or ws.client_state != WebSocketState.CONNECTED:
        return False
    try:
        await ws.send_text(json.dumps(doc, ensure_ascii=False, allow_nan=False))
        return True
    except (WebSocketDisconnect, RuntimeError, OSError):
        return False


async def _fail(ws: WebSocket, code: str, message: str, close_code: int) -> None:
    await _send(ws, {"type": "error", "code": code, "message": message, "fatal": True})
    with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
        await ws.close(close_code, reason=message[:120])


def build_live_router(service: Service) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["live"])
    settings = service.settings
    hub = live_hub(service)

    @router.websocket("/stream")
    async def stream(ws: WebSocket) -> None:
        """Live emotion of an audio stream (see the module docstring for the protocol)."""
        await ws.accept()
        if not authorised(ws, settings.token, hub):
            return await _fail(
                ws,
                "unauthorized",
                "this server needs 'Authorization: Bearer <token>' or ?token=<token>",
                1008,
            )
        if not origin_allowed(ws, settings.cors_origins):
            return await _fail(
                ws, "forbidden_origin", "live streams from another site's page are refused", 1008
            )
        if settings.max_streams == 0:
            return await _fail(
                ws, "live_disabled", "live streams are off on this server (--max-streams 0)", 1008
            )
        try:
            first = await asyncio.wait_for(ws.receive(), settings.stream_idle_timeout_s)
        except TimeoutError:
            return await _fail(ws, "idle_timeout", "no start message arrived in time", CLOSE["idle"])
        if first["type"] == "websocket.disconnect":
            return
        if first.get("text") is None:
            return await _fail(
                ws, "bad_message", 'send {"type": "start", "sample_rate": ...} as a text message first', 1008
            )
        try:
            params = parse_start(first["text"], settings)
            session = await hub.open(params)
        except ProtocolError as e:
            return await _fail(ws, e.code, str(e), e.close_code)
        except (TooManyStreamsError, QueueFullError, UnavailableError) as e:
            return await _fail(ws, e.code, str(e), 1013)
        except EmoStudioError as e:
            return await _fail(ws, e.code, str(e), 1003)
        log.info(
            "live stream %s started (%d Hz, %s, %d ch, %s)",
            session.id,
            params.sample_rate,
            params.format,
            params.channels,
            params.channel_mode,
        )
        await _send(
            ws,
            {
                "type": "ready",
                "stream_id": session.id,
                "sample_rate": params.sample_rate,
                "format": params.format,
                "channels": params.channels,
                "channel_mode": params.channel_mode,
                "roles": session.stream.roles,
                "hop_s": params.hop_s,
                "window_s": params.window_s,
                "save": params.save,
                "skip_late": params.skip_late,
                "limits": {
                    "max_streams": settings.max_streams,
                    "idle_timeout_s": settings.stream_idle_timeout_s,
                    "max_duration_s": settings.max_stream_s,
                    "max_frame_bytes": MAX_FRAME_BYTES,
                },
            },
        )
        await run_session(ws, session, settings)

    return router


async def run_session(ws: WebSocket, session: LiveSession, settings) -> None:
    """Receive frames until stop / idle / disconnect / error while a sender task forwards the updates."""

    async def forward() -> None:
        while (event := await session.events.get()) is not None:
            await _send(ws, session.stamp(event))

    sender = asyncio.ensure_future(forward())
    reason, fatal = "stop", None
    try:
        while True:
            msg, reason = await _receive(ws, session, settings)
            if msg is None:
                break
            received = time.monotonic()
            data = msg.get("bytes")
            if data is not None:
                ended, fatal = await _binary_frame(session, data, received)
                if ended is not None:
                    reason = ended
                    break
                continue
            stop, fatal = await _text_message(session, msg.get("text"))
            if stop or fatal is not None:
                break
    except Exception:  # the connection broke in an unusual way: free the stream all the same
        reason = "disconnect"
        raise
    finally:
        ending = await session.end(reason, save=None if fatal is None else False)
        with contextlib.suppress(Exception):
            await sender
        log.info(
            "live stream %s ended (%s): %s",
            session.id,
            reason if fatal is None else fatal.code,
            ending.run_id or "not saved",
        )
    if fatal is not None:
        return await _fail(ws, fatal.code, str(fatal), fatal.close_code)
    if reason == "disconnect":
        return
    await _finish(ws, session, reason, ending)


async def _binary_frame(
    session: LiveSession, data: bytes, received: float
) -> tuple[str | None, ProtocolError | None]:
    """Push one binary audio frame: (None, None) to go on, else (why the stream ends, the fatal error or None)."""
    if len(data) > MAX_FRAME_BYTES:
        return "stop", ProtocolError(
            "frame_too_large",
            f"a binary frame of {len(data)} bytes; at most {MAX_FRAME_BYTES}",
            1009,
        )
    try:
        await session.push(data, received)
    except FrameError as e:
        return "stop", ProtocolError(
            e.code, f"{e}; the stream is ended and nothing is saved", CLOSE["malformed"]
        )
    except UnavailableError:  # ended meanwhile (the idle reaper, or the server shutting down)
        return "idle", None
    except TooLongError as e:
        await session.events.put({"type": "error", "code": e.code, "message": str(e), "fatal": True})
        return "too_long", None
    except OSError as e:
        if not is_disk_full(e):
            raise
        err = disk_full_error(e, "keeping the stream's audio")
        await session.events.put({"type": "error", "code": err.code, "message": str(err), "fatal": True})
        return (
            "disk_full",
            None,
        )  # what was received is saved if space allows; else the closing message says so
    return None, None


async def _text_message(session: LiveSession, text: str | None) -> tuple[bool, ProtocolError | None]:
    """Answer one text frame ({"type": "stop"} or {"type": "ping"}; anything else is a non-fatal error event):
    (whether it asks to stop, the fatal error of a message too large or too deep, or None)."""
    try:
        doc = read_text(text or "")
    except ProtocolError as e:
        if e.close_code != 1008:  # too large or too deep: the end of this stream
            return False, e
        doc = None
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "stop":
        return True, None
    if kind == "ping":  # answered, but only audio is activity: a ping-only stream still times out
        await session.events.put({"type": "pong", **session.info()})
        return False, None
    await session.events.put(
        {
            "type": "error",
            "code": "bad_message",
            "message": 'unknown message; send binary audio frames, {"type": "stop"} or {"type": "ping"}',
            "fatal": False,
        }
    )
    return False, None


async def _finish(ws: WebSocket, session: LiveSession, reason: str, ending) -> None:
    """The last message of an ended stream (its result, or why nothing was saved), then the close code."""
    if ending.error is not None:
        await _send(
            ws,
            {
                "type": "error",
                "code": ending.error.code,
                "message": f"nothing saved: {ending.error}",
                "fatal": True,
            },
        )
    else:
        await _send(
            ws,
            {
                "type": "result",
                "reason": reason,
                **(ending.doc or {"run_id": None}),
                "stats": vars(session.stream.stats),
                **_latency(session),
            },
        )
    close = WS_DISK_FULL if isinstance(ending.error, OutputError) else CLOSE.get(reason, 1000)
    with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
        await ws.close(close, reason=CLOSE_REASON.get(reason, ""))


async def _receive(ws: WebSocket, session: LiveSession, settings) -> tuple[Mapping | None, str]:
    """The next message, or (None, why the stream ends): "idle" after stream_idle_timeout_s without audio or
    other messages than pings, "wall_clock" past max_stream_wall_s since the start, "disconnect"."""
    while True:
        now = time.monotonic()
        wall_left = session.started + settings.max_stream_wall_s - now
        idle_left = session.last_activity + settings.stream_idle_timeout_s - now
        if wall_left <= 0:
            await session.events.put(
                {
                    "type": "notice",
                    "code": "wall_clock_limit",
                    "message": f"the stream ran {settings.max_stream_wall_s:g} s, this server's limit "
                    "(--max-stream-wall); it ends and what was received is saved",
                }
            )
            return None, "wall_clock"
        if idle_left <= 0 or session.ended is not None:
            return None, "idle"
        try:
            msg = await asyncio.wait_for(ws.receive(), min(wall_left, idle_left))
        except TimeoutError:
            continue  # the loop says which limit it was
        if msg["type"] == "websocket.disconnect":
            return None, "disconnect"
        return msg, "stop"


def _latency(session: LiveSession) -> dict:
    lat = sorted(session.latencies_s)
    if not lat:
        return {}
    pick = lambda q: round(1000 * lat[min(len(lat) - 1, int(q * len(lat)))], 1)  # noqa: E731
    return {"latency_ms": {"p50": pick(0.5), "p95": pick(0.95), "max": round(1000 * lat[-1], 1)}}
