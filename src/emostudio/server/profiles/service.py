"""The server's speaker-profile store and the steps the REST routes and the Profiles tab share.

The store lives in `<outputs>/profiles` (local Qdrant) unless `build_profiles_router(service, store=...)` or
$EMOSTUDIO_SERVER_PROFILE_STORE names another folder or a Qdrant server URL. It is opened on first use, shared by
the routes and the web UI (`profiles_service(service)`), and closed when the app shuts down.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import weakref
from pathlib import Path

import numpy as np
from starlette.concurrency import run_in_threadpool

from emostudio.clips import Clip, ClipSource, clip_from_doc, read_stored
from emostudio.errors import InternalError
from emostudio.profiles import ProfileRecord, ProfileStore, add_run
from emostudio.runs import AUDIO_FILE
from emostudio.server.analyze.service import Service

SERVER_STORE_ENV = "EMOSTUDIO_SERVER_PROFILE_STORE"


class ProfilesService:
    """The server's profile store (opened lazily, one per process) and the steps the REST API and UI share."""

    def __init__(self, service: Service, location: str | os.PathLike | None = None):
        self._service = weakref.ref(service)  # the registry below is keyed weakly by the service
        self.location = str(
            location or os.environ.get(SERVER_STORE_ENV) or Path(service.settings.outputs) / "profiles"
        )
        self._store: ProfileStore | None = None
        self._lock = threading.Lock()

    @property
    def service(self) -> Service:
        service = self._service()
        if service is None:  # the registry drops this object with its Service
            raise InternalError("the profile store's server service is gone")
        return service

    def store(self) -> ProfileStore:
        with self._lock:
            if self._store is None:
                self._store = ProfileStore(self.location)
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    async def clip_of_run(self, run_id: str) -> tuple[Clip, Path]:
        """A run's clip: its embedding.npy, or (without one) its processed audio scored again by the worker."""
        folder = self.service.run_dir(run_id)
        src = ClipSource(folder.name, "run", folder)
        clip = await run_in_threadpool(read_stored, src)
        if clip is None:  # no embedding.npy: the run's scores, the embedding of its audio scored again
            doc = self.service.read_run(run_id)
            fresh = await self.clip_of_audio(folder / AUDIO_FILE, f"{folder.name}/{AUDIO_FILE}")
            clip = clip_from_doc(folder.name, fresh.vector, doc, folder, src)
            if clip.probs is None:
                clip.probs = fresh.probs
        return clip, folder

    async def clip_of_audio(self, source, name: str) -> Clip:
        """Score audio (a path or bytes) with the server's model, utterance embedding on; nothing is saved."""
        rec, worker = self.service._ready()

        async def job() -> Clip:
            item = await self.service._in_pool(rec.prepare, source, name=name, quality=False)
            res = await asyncio.wrap_future(worker.submit(item, "utterance", True))
            return Clip(
                name,
                np.asarray(res.embedding, np.float32),
                probs=res.probs,
                model_id=res.model.id,
                random_weights=res.model.is_random,
                source=name,
                duration_s=round(item.duration_s, 3),
                analysed_at=res.timestamp,
            )

        return await self.service._admitted(job())

    async def add_run(self, speaker: str, run_id: str, at: str | None, tags: list[str]) -> ProfileRecord:
        clip, folder = await self.clip_of_run(run_id)
        store = await run_in_threadpool(self.store)
        return await run_in_threadpool(
            functools.partial(add_run, store, folder, speaker, at=at, tags=tags, clip=clip)
        )

    async def add_upload(self, speaker: str, data: bytes, name: str, at: str | None, tags: list[str]):
        done = await self.service.analyze(data, name=name, granularity="utterance", embedding=True)
        return await self.add_run(speaker, done.run_id, at, tags), done.run_id


_registry: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def profiles_service(service: Service, location: str | os.PathLike | None = None) -> ProfilesService:
    """The one ProfilesService of a Service (created on first call; `location` counts only then)."""
    with _registry_lock:
        if service not in _registry:
            _registry[service] = ProfilesService(service, location)
        return _registry[service]
