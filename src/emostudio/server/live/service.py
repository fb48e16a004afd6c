"""The server's live streams: how many may run, their share of the request queue, idle timeouts, scoring
through the one model worker, and the closing pass saved as a run. Used by the WebSocket route
(`live.routes`) and the web UI's Live tab (`live.ui`), so both obey the same limits.

- At most `settings.max_streams` streams at once; the next is refused with `TooManyStreamsError`.
- Each stream holds one slot of the server's request queue for its whole life (`Service._admit`), so with
  `max_streams < queue_size` uploads always keep slots, and an admitted stream always has its own.
- A stream has at most one model job in flight: windows due while one is being scored wait, and only the
  newest of them is scored next (`latest_only`), so a stream never queues up work behind real time; a client
  that wants every hop (`skip_late: false`) gets them scored together once the model is free (at most
  MAX_BACKLOG_HOPS waiting).
- A stream that receives no audio for `stream_idle_timeout_s` is ended (its audio so far is saved) and freed;
  one that has run `max_stream_wall_s` of wall-clock time is ended the same way, whatever it sends.
- The closing pass goes through the worker in parts of at most `max_duration_s` seconds of audio, like uploads.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from anyio import to_thread

from emostudio.errors import EmoStudioError, InternalError
from emostudio.live import LiveOptions, LiveStream
from emostudio.live import closing as closing_mod
from emostudio.server.analyze.service import Service
from emostudio.server.worker import UnavailableError

log = logging.getLogger("emostudio.server")
LIVE_DIR = ".live"  # under the outputs folder: where unnamed spool files are created
TICKET_TTL_S = 60.0  # a web UI ticket must be used this soon (seconds)
MAX_BACKLOG_HOPS = 40  # skip_late=False: hops waiting for the model at most (older ones are skipped)


class TooManyStreamsError(EmoStudioError):
    """The server already runs its maximum number of live streams (HTTP 429 / WebSocket 1013)."""

    code = "too_many_streams"


@dataclass
class StreamParams:
    """What a client asks for when it starts a live stream (the WebSocket's first message, the UI's choices)."""

    sample_rate: int
    format: str = "s16le"
    channels: int = 1  # channels per frame, interleaved
    channel_mode: str = "mix"  # "mix" | "separate"
    roles: list[str] | None = None
    hop_s: float = 0.5
    window_s: float = 3.0
    name: str = "live"
    save: bool = True
    skip_late: bool = True  # behind real time: score only the newest window (False: every hop, later)


@dataclass
class Ending:
    """How a stream ended: why, and the saved run (or the reason nothing was saved)."""

    reason: str  # stop | idle | wall_clock | disconnect | too_long | error | shutdown
    run_id: str | None = None
    doc: dict | None = None  # a short summary of the closing result
    error: EmoStudioError | None = None


class LiveSession:
    """One live stream on the server. Feed it with `push`; read `events` (an asyncio.Queue of JSON dicts,
    None at the end); `end(reason)` once (later calls return the same Ending)."""

    def __init__(self, hub: LiveHub, stream: LiveStream, params: StreamParams, stream_id: str):
        self.hub, self.stream, self.params, self.id = hub, stream, params, stream_id
        self.events: asyncio.Queue[dict | None] = asyncio.Queue()
        self.last_activity = time.monotonic()
        self.started = time.monotonic()
        self.latencies_s: deque[float] = deque(maxlen=10_000)  # chunk received → update sent (see `stamp`)
        self._scoring: asyncio.Task | None = None
        self._ending: asyncio.Task | None = None
        self.ended: Ending | None = None

    # ---- audio in, updates out ---------------------------------------------------------------------------------
    async def push(self, chunk, received_at: float | None = None) -> None:
        """Take one chunk (bytes in the stream's format, or an array); scoring starts in the background.

        Raises FrameError / TooLongError / UsageError from the stream.
        """
        if self.ended is not None or self._ending is not None:
            raise UnavailableError("this live stream has ended")
        self.last_activity = time.monotonic()
        await to_thread.run_sync(self.stream.push, chunk, received_at or time.monotonic())
        self._kick()

    def touch(self) -> None:
        self.last_activity = time.monotonic()

    def _kick(self) -> None:
        if self._scoring is None or self._scoring.done():
            self._scoring = asyncio.ensure_future(self._score_due())
            self._scoring.add_done_callback(self._scored)

    def _scored(self, task: asyncio.Task) -> None:
        """A bug in the scoring loop is logged and told to the client; the stream ends (its audio is kept)."""
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        log.error("live stream %s: scoring failed: %s: %s", self.id, type(exc).__name__, exc)
        self.events.put_nowait(
            {
                "type": "error",
                "code": "internal",
                "message": f"scoring failed ({type(exc).__name__}: {exc})",
                "fatal": False,
            }
        )

    async def _score_due(self) -> None:
        worker = self.hub.service.worker
        while self.ended is None:
            batch = await to_thread.run_sync(self.stream.take, None, MAX_BACKLOG_HOPS)
            if batch is None:
                return
            result = None
            if batch.prepared is not None:
                try:
                    if worker is None:
                        raise UnavailableError(self.hub.service.unavailable_message())
                    result = await asyncio.wrap_future(worker.submit(batch.prepared, "utterance", False))
                except EmoStudioError as exc:  # this window only: say so and go on with the next
                    await self.events.put(
                        {"type": "error", "code": exc.code, "message": str(exc), "fatal": False}
                    )
                    continue
            for event in self.stream.apply(batch, result):
                doc = event.to_dict()
                received = getattr(event, "received_at", None)
                if received is not None:
                    doc["_received"] = received  # `stamp` turns it into latency_ms when sent
                await self.events.put(doc)

    def stamp(self, doc: dict) -> dict:
        """Just before an update leaves: its latency (the chunk that completed its hop received → now)."""
        received = doc.pop("_received", None)
        if received is not None:
            latency = time.monotonic() - received
            self.latencies_s.append(latency)
            doc["latency_ms"] = round(1000 * latency, 1)
        return doc

    def drain(self) -> list[dict]:
        """The events waiting now (the UI polls; the WebSocket route awaits `events` instead)."""
        out: list[dict] = []
        while True:
            try:
                ev = self.events.get_nowait()
            except asyncio.QueueEmpty:
                return out
            if ev is not None:
                out.append(self.stamp(ev))

    # ---- the end -------------------------------------------------------------------------------------------------
    async def end(self, reason: str, save: bool | None = None) -> Ending:
        """Stop taking audio, finish scoring, run the closing pass, save the run (when asked) and free it all."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(
                self._end(reason, self.params.save if save is None else save)
            )
        return await asyncio.shield(self._ending)

    async def _end(self, reason: str, save: bool) -> Ending:
        service = self.hub.service
        ending = Ending(reason)
        try:
            if self._scoring is not None:
                with contextlib.suppress(Exception):
                    await self._scoring
            if reason in (
                "stop",
                "too_long",
                "wall_clock",
            ):  # the client is there: give it the last hop's update too
                await to_thread.run_sync(self.stream.flush_audio)
                await self._score_due()
            if save and service.worker is not None:
                ending = await self._close_and_save(reason)
        except EmoStudioError as exc:
            ending = Ending(reason, error=exc)
        except Exception as exc:  # a bug: logged, the stream is freed, the server goes on
            log.error("live stream %s failed while closing: %s: %s", self.id, type(exc).__name__, exc)
            ending = Ending(reason, error=EmoStudioError(f"internal error while closing the stream: {exc}"))
        finally:
            self.stream.release()
            self.ended = ending
            self.hub._forget(self)
            await self.events.put(None)
        return ending

    async def _close_and_save(self, reason: str) -> Ending:
        service, stream = self.hub.service, self.stream
        rec, worker = service.recognizer, service.worker
        if rec is None or worker is None:  # not reached: a stream opens only with a model loaded
            raise UnavailableError(service.unavailable_message())
        prepared = await service._in_pool(stream.finish)
        parts = list(closing_mod.plan(prepared, service.settings.max_duration_s))
        scores = [await asyncio.wrap_future(worker.submit_scores(p.prepared, "frame", False)) for p in parts]
        result = stream.result_of(prepared, parts, scores)
        run_dir = await service._in_pool(rec.save, result, prepared, service.settings.outputs)
        return Ending(reason, run_dir.name, summary(result, run_dir.name))

    def info(self) -> dict:
        return {
            "stream_id": self.id,
            "seconds": round(self.stream.duration_s, 3),
            "updates": self.stream.stats.updates,
            "skipped": self.stream.stats.skipped,
        }


def summary(result, run_id: str | None) -> dict:
    """The closing message: the overall reading, each channel's, the run and its links (not the whole
    result.json, which the client can fetch from /v1/runs/{run_id})."""
    doc = {
        "run_id": run_id,
        "emotion": result.label,
        "confidence": round(result.confidence, 6),
        "summary": result.summary("zh"),
        "band": {"key": result.band.key, "en": result.band.en, "zh": result.band.zh},
        "duration_s": result.audio.get("duration_s"),
        "segments": [s.to_dict() for s in result.frames.segments] if result.frames else [],
        "warnings": list(result.warnings),
    }
    if result.channels is not None:
        doc["speakers"] = sum(c.info.status == "speaker" for c in result.channels)
        doc["channels"] = [
            {
                **c.info.to_dict(),
                "emotion": c.result.label if c.result else None,
                "confidence": round(c.result.confidence, 6) if c.result else None,
            }
            for c in result.channels
        ]
    if run_id:
        doc["links"] = {"self": f"/v1/runs/{run_id}", "zip": f"/v1/runs/{run_id}/zip"}
    return doc


class LiveHub:
    """The live streams of one server process (see the module docstring)."""

    def __init__(self, service: Service):
        self._service = weakref.ref(service)
        self.sessions: dict[str, LiveSession] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._reaper: asyncio.Task | None = None
        self._tickets: dict[str, float] = {}  # one-time WebSocket tickets of the web UI → when they expire

    def issue_ticket(self, ttl_s: float = TICKET_TTL_S) -> str:
        """A one-time ticket for WebSocket /v1/stream (`?ticket=`), for the web UI's page: a user who got
        past the UI's login may open one stream without the bearer token in the page."""
        ticket = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            self._tickets = {k: v for k, v in self._tickets.items() if v > now}
            self._tickets[ticket] = now + ttl_s
        return ticket

    def take_ticket(self, ticket: str) -> bool:
        """True once for a ticket from `issue_ticket` that has not expired."""
        with self._lock:
            expires = self._tickets.pop(ticket, 0.0)
        return bool(ticket) and expires > time.monotonic()

    @property
    def service(self) -> Service:
        service = self._service()
        if service is None:  # the hub lives on the service (a weak reference back, so no cycle keeps it)
            raise InternalError("the live-stream hub outlived its server")
        return service

    @property
    def limit(self) -> int:
        return int(self.service.settings.max_streams or 0)

    async def open(self, params: StreamParams) -> LiveSession:
        """A new session, admitted: TooManyStreamsError at the limit, QueueFullError when the server is busy,
        UnavailableError without a model, UsageError for bad parameters (nothing is held after an error)."""
        service = self.service
        rec, _worker = service._ready()
        with self._lock:
            if len(self.sessions) >= self.limit:
                raise TooManyStreamsError(
                    f"the server already runs {len(self.sessions)} live stream(s), its limit "
                    f"(--max-streams {self.limit}); try again when one ends"
                )
            service._admit(1)  # QueueFullError when uploads fill the queue
            stream_id = f"live-{next(self._ids)}"
            self.sessions[stream_id] = None  # type: ignore[assignment]  # the place is taken while it opens
        try:
            spool = Path(service.settings.outputs) / LIVE_DIR
            options = LiveOptions(
                hop_s=params.hop_s,
                window_s=params.window_s,
                min_window_s=min(1.0, params.window_s),
                latest_only=params.skip_late,
                max_backlog=0 if params.skip_late else MAX_BACKLOG_HOPS,
                max_duration_s=service.settings.max_stream_s,
                part_s=service.settings.max_duration_s,
            )
            stream = await to_thread.run_sync(
                lambda: LiveStream(
                    rec,
                    params.sample_rate,
                    channels=params.channel_mode,
                    input_channels=params.channels,
                    roles=params.roles,
                    format=params.format,
                    name=params.name,
                    options=options,
                    spool_dir=spool,
                )
            )
        except BaseException:
            with self._lock:
                self.sessions.pop(stream_id, None)
            service._release(1)
            raise
        session = LiveSession(self, stream, params, stream_id)
        with self._lock:
            self.sessions[stream_id] = session
        self._start_reaper()
        return session

    def _forget(self, session: LiveSession) -> None:
        with self._lock:
            if self.sessions.get(session.id) is session:
                del self.sessions[session.id]
                self.service._release(1)

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.ensure_future(self._reap())

    async def _reap(self) -> None:
        """End streams that stopped sending audio or ran past the wall-clock limit (their audio so far is saved)
        until none is left."""
        timeout = self.service.settings.stream_idle_timeout_s
        wall = float(self.service.settings.max_stream_wall_s or 0)
        while True:
            await asyncio.sleep(min(1.0, timeout / 4))
            with self._lock:
                live = [s for s in self.sessions.values() if s is not None]
            if not live and not self.sessions:
                return
            now = time.monotonic()
            for s in live:
                if s._ending is None and now - s.started > wall:
                    log.info("live stream %s: ran past the %.0f s wall-clock limit; ending it", s.id, wall)
                    asyncio.ensure_future(s.end("wall_clock"))
                elif s._ending is None and now - s.last_activity > timeout:
                    log.info("live stream %s: no audio for %.0f s; ending it", s.id, timeout)
                    asyncio.ensure_future(s.end("idle"))

    def stats(self) -> dict:
        with self._lock:
            return {"active": sum(s is not None for s in self.sessions.values()), "limit": self.limit}


_hubs: weakref.WeakKeyDictionary[Service, LiveHub] = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def live_hub(service: Service) -> LiveHub:
    """The one LiveHub of a Service (created on first use)."""
    with _hubs_lock:
        if service not in _hubs:
            _hubs[service] = LiveHub(service)
        return _hubs[service]


__all__ = ["Ending", "LiveHub", "LiveSession", "StreamParams", "TooManyStreamsError", "live_hub", "summary"]
