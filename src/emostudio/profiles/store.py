"""The profile store on Qdrant: an embedded store in a folder by default, a Qdrant server or cluster by URL.

    ProfileStore()                         the user's data folder (see records.default_store_path)
    ProfileStore("/path/to/store")         qdrant-client local mode on that folder (one process at a time)
    ProfileStore("http://host:6333")       a Qdrant server or cluster (api_key= for Qdrant Cloud)
    ProfileStore(":memory:")               nothing written to disk (tests, experiments)

One collection per model id and embedding size (`records.collection_name`), so records of different models
never mix; cosine distance. Point ids are uuid5(speaker, clip key): adding a clip again replaces its record, and
a re-run after a crash (even `kill -9`) adds only what is missing. Local mode writes each point in its own SQLite
transaction, so a crash never leaves half a record.

Local mode keeps its points in `<folder>/collection/<name>/storage.sqlite`, each point pickled by qdrant-client
itself. That file is the user's own store, written only by this code; never open a store folder you did not
create. We switch its SQLite journal to WAL with synchronous=NORMAL (about 4x faster adds; every transaction
stays atomic and survives a crash of the process, only a power cut can lose the last commits) unless
`durable=True`. Local mode searches by brute force and loads every point into memory when opened: above roughly
20,000 records a Qdrant server is faster (`--store http://host:6333`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from emostudio.profiles.errors import (
    AmbiguousModelError,
    DimensionMismatchError,
    EmptyStoreError,
    ProfileError,
    StoreLockedError,
    StoreUnreachableError,
    UnknownSpeakerError,
)
from emostudio.profiles.records import (
    COLLECTION_PREFIX,
    ProfileRecord,
    collection_name,
    default_store_path,
    parse_time,
)

PAGE = 1024  # points per request to a server (ids per retrieve, points per scroll page)
LOCAL_PAGE = 50_000  # local mode sorts every id for each scroll page: few large pages are much faster


@dataclass(frozen=True)
class CollectionRef:
    """One model's records: the collection name, the model id, the embedding size and how many records."""

    name: str
    model_id: str
    dim: int
    count: int = 0

    def to_dict(self) -> dict:
        return {"collection": self.name, "model_id": self.model_id, "dim": self.dim, "records": self.count}


def is_url(location: str | os.PathLike | None) -> bool:
    return isinstance(location, str) and location.startswith(("http://", "https://"))


class ProfileStore:
    """Speaker emotion profiles in Qdrant. Thread-safe; use as a context manager or call `close()`."""

    def __init__(
        self,
        location: str | os.PathLike | None = None,
        *,
        api_key: str | None = None,
        timeout_s: float = 10.0,
        durable: bool = False,
    ):
        try:
            from qdrant_client import QdrantClient
        except ImportError as e:
            raise ProfileError(
                "the profile store needs qdrant-client: pip install 'emostudio[store]' (or qdrant-client)"
            ) from e

        self._lock = threading.RLock()
        self._refs: dict[str, CollectionRef] = {}
        self.durable = durable
        if is_url(location):
            self.location, self.kind = str(location), "server"
            self.client = QdrantClient(
                url=self.location, api_key=api_key, timeout=int(max(1, timeout_s)), check_compatibility=False
            )
            self._call(self.client.get_collections)  # fail now, clearly, if nobody answers
        elif str(location) == ":memory:":
            self.location, self.kind = ":memory:", "memory"
            self.client = QdrantClient(location=":memory:")
        else:
            path = Path(os.path.expanduser(str(location))) if location is not None else default_store_path()
            self.location, self.kind = str(path), "local"
            if path.exists() and not path.is_dir():
                raise ProfileError(f"{path}: the profile store must be a folder, and this is a file")
            path.mkdir(parents=True, exist_ok=True)
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*Local mode is not recommended.*")
                    self.client = QdrantClient(path=str(path))
            except RuntimeError as e:
                if "already accessed" in str(e):
                    raise StoreLockedError(
                        f"{path}: the profile store is open in another process (another `emostudio profile` "
                        "command or an `emostudio serve`). Wait for it to finish, use another --store folder, "
                        "or run a Qdrant server (--store http://host:6333) to share one store"
                    ) from e
                raise ProfileError(f"{path}: cannot open the profile store ({e})") from e
            except (
                OSError,
                ValueError,
                KeyError,
                sqlite3.DatabaseError,
            ) as e:  # unreadable meta.json or SQLite
                raise ProfileError(
                    f"{path}: cannot open the profile store ({type(e).__name__}: {e}); it was left as it is"
                ) from e
            self._tune_local()

    # ---- plumbing ----------------------------------------------------------------------------------------------
    def _call(self, fn, *args, **kwargs):
        """Run a client call under the lock, turning transport and server errors into typed errors."""
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        with self._lock:
            try:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message=".*Local mode is not recommended.*")
                    return fn(*args, **kwargs)
            except ResponseHandlingException as e:
                raise StoreUnreachableError(
                    f"the Qdrant server at {self.location} does not answer ({e.source if hasattr(e, 'source') else e}). "
                    "Is it running, is the address right, and is the network up?"
                ) from e
            except UnexpectedResponse as e:
                raise ProfileError(
                    f"the Qdrant server at {self.location} refused the request: HTTP {e.status_code} "
                    f"{(e.content or b'').decode('utf-8', 'replace')[:300]}"
                ) from e

    def _tune_local(self) -> None:
        """WAL journal + synchronous=NORMAL on every local collection's SQLite file (see the module docstring)."""
        if self.kind != "local" or self.durable:
            return
        inner = getattr(self.client, "_client", None)
        for coll in (getattr(inner, "collections", None) or {}).values():
            conn = getattr(getattr(coll, "storage", None), "storage", None)
            if isinstance(conn, sqlite3.Connection):
                with self._lock:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        with self._lock:
            self.client.close()

    def __enter__(self) -> ProfileStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> str:
        return f"{self.kind} store {self.location}"

    # ---- collections -------------------------------------------------------------------------------------------
    def collections(self) -> list[CollectionRef]:
        """Every model's collection in the store, with its record count."""
        out = []
        for desc in self._call(self.client.get_collections).collections:
            if not desc.name.startswith(COLLECTION_PREFIX):
                continue
            ref = self._ref(desc.name)
            count = self._call(self.client.count, desc.name, exact=True).count
            out.append(CollectionRef(ref.name, ref.model_id, ref.dim, count))
        return sorted(out, key=lambda r: (r.model_id, r.dim))

    def _ref(self, name: str) -> CollectionRef:
        if name in self._refs:
            return self._refs[name]
        info = self._call(self.client.get_collection, name)
        vectors = info.config.params.vectors
        dim = int(getattr(vectors, "size", 0) or 0)
        meta = getattr(info.config, "metadata", None) or {}
        model_id = meta.get("model_id")
        if not model_id:  # a server without collection metadata: every point carries its model id
            pts, _ = self._call(self.client.scroll, name, limit=1, with_payload=["model_id"])
            model_id = (pts[0].payload or {}).get("model_id", "?") if pts else "?"
        ref = self._refs[name] = CollectionRef(name, model_id, dim)
        return ref

    def _ensure(self, model_id: str, dim: int) -> str:
        from qdrant_client import models

        name = collection_name(model_id, dim)
        with self._lock:
            if name in self._refs or self._call(self.client.collection_exists, name):
                return name
            vectors = models.VectorParams(size=int(dim), distance=models.Distance.COSINE)
            try:
                self._call(
                    self.client.create_collection,
                    name,
                    vectors_config=vectors,
                    metadata={"model_id": model_id, "dim": int(dim), "schema": 1},
                )
            except ProfileError:
                if self.kind != "server":
                    raise
                # a Qdrant server older than 1.16 has no collection metadata: the points carry the model id
                self._call(self.client.create_collection, name, vectors_config=vectors)
            if self.kind == "server":  # indexes for the filters we use (local mode has none)
                for field_name, schema in (
                    ("speaker", models.PayloadSchemaType.KEYWORD),
                    ("tags", models.PayloadSchemaType.KEYWORD),
                    ("recorded_ts", models.PayloadSchemaType.FLOAT),
                ):
                    self._call(self.client.create_payload_index, name, field_name, field_schema=schema)
            self._tune_local()
            self._refs[name] = CollectionRef(name, model_id, int(dim))
            return name

    def _pick(self, model_id: str | None, dim: int | None) -> CollectionRef:
        """The one collection a query means: by model id and/or embedding size (typed errors otherwise)."""
        refs = self.collections()
        if not refs or not any(r.count for r in refs):
            raise EmptyStoreError(
                f"the profile store {self.location} holds no records yet (add some with "
                "`emostudio profile add FILE --speaker ID`)"
            )
        cands = [r for r in refs if (model_id is None or r.model_id == model_id)]
        if model_id is not None and not cands:
            have = ", ".join(sorted({r.model_id for r in refs}))
            raise EmptyStoreError(f"no records from model {model_id!r} in {self.location} (it holds: {have})")
        fit = [r for r in cands if dim is None or r.dim == dim]
        if not fit:
            have = ", ".join(f"{r.dim}-d ({r.model_id})" for r in cands)
            raise DimensionMismatchError(
                f"the query embedding has {dim} values but the store holds {have}: "
                "it comes from another model; use the same model as the stored records"
            )
        if len(fit) > 1:
            raise AmbiguousModelError(
                "records of several models match; choose one with --model-id / model_id=: "
                + ", ".join(f"{r.model_id} ({r.dim}-d, {r.count} records)" for r in fit)
            )
        return fit[0]

    # ---- writing -----------------------------------------------------------------------------------------------
    def add(self, records: Iterable[ProfileRecord], chunk: int = 256) -> int:
        """Store records (each needs its embedding); a record with an existing id replaces it. Returns how many."""
        from qdrant_client import models

        n = 0
        groups: dict[str, list] = {}

        def flush(name: str) -> None:
            pts = groups.pop(name, [])
            if pts:
                self._call(self.client.upsert, name, points=pts, wait=True)

        for rec in records:
            if rec.embedding is None:
                raise ProfileError(f"{rec.source or rec.id}: a record needs its embedding to be stored")
            name = self._ensure(rec.model_id, rec.dim)
            norm = float(np.linalg.norm(rec.embedding))
            groups.setdefault(name, []).append(
                models.PointStruct(id=rec.id, vector=(rec.embedding / norm).tolist(), payload=rec.payload())
            )
            n += 1
            if len(groups[name]) >= chunk:
                flush(name)
        for name in list(groups):
            flush(name)
        return n

    def existing_ids(self, ids: Iterable[str], model_id: str) -> set[str]:
        """Which of `ids` are already stored for `model_id` (any embedding size)."""
        ids = list(dict.fromkeys(ids))
        found: set[str] = set()
        for ref in self.collections():
            if ref.model_id != model_id:
                continue
            for i in range(0, len(ids), PAGE):
                pts = self._call(
                    self.client.retrieve,
                    ref.name,
                    ids=ids[i : i + PAGE],
                    with_payload=False,
                    with_vectors=False,
                )
                found.update(str(p.id) for p in pts)
        return found

    def delete_speaker(self, speaker: str) -> int:
        """Remove every record of `speaker` from every model's collection (nothing else). Returns how many."""
        total = 0
        for ref in self.collections():
            flt = self._filter(speaker=speaker)
            n = self._call(self.client.count, ref.name, count_filter=flt, exact=True).count
            if n:
                from qdrant_client import models

                self._call(
                    self.client.delete, ref.name, points_selector=models.FilterSelector(filter=flt), wait=True
                )
                left = self._call(self.client.count, ref.name, count_filter=flt, exact=True).count
                if left:
                    raise ProfileError(f"{left} record(s) of {speaker!r} remain in {ref.name} after deleting")
                total += n
        if not total:
            self._unknown(speaker)
        return total

    # ---- reading -----------------------------------------------------------------------------------------------
    @staticmethod
    def _filter(
        speaker: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        tag: str | None = None,
    ):
        from qdrant_client import models

        must: list[models.Condition] = []
        if speaker is not None:
            must.append(models.FieldCondition(key="speaker", match=models.MatchValue(value=speaker)))
        if tag is not None:
            must.append(models.FieldCondition(key="tags", match=models.MatchValue(value=tag)))
        lo, hi = parse_time(since, what="--since"), parse_time(until, what="--until")
        if lo is not None or hi is not None:
            must.append(
                models.FieldCondition(
                    key="recorded_ts",
                    range=models.Range(gte=lo.timestamp() if lo else None, lt=hi.timestamp() if hi else None),
                )
            )
        return models.Filter(must=must) if must else None

    def _unknown(self, speaker: str, where: str = ""):
        known = len(self.speakers())
        if not known:
            raise EmptyStoreError(f"the profile store {self.location} holds no records yet")
        raise UnknownSpeakerError(speaker, known, where)

    def require_speaker(self, speaker: str, model_id: str | None = None) -> None:
        """Raise UnknownSpeakerError (EmptyStoreError for an empty store) unless `speaker` has a record."""
        flt = self._filter(speaker=speaker)
        for ref in self.collections():
            if (
                model_id in (None, ref.model_id)
                and self._call(self.client.count, ref.name, count_filter=flt).count
            ):
                return
        self._unknown(speaker, f" from model {model_id!r}" if model_id else "")

    def _scroll(self, name: str, flt, with_vectors: bool, payload=True) -> Iterator:
        offset = None
        # vectors come back as Python lists (~32 bytes a value): smaller pages bound the memory
        page = PAGE if self.kind == "server" else (LOCAL_PAGE // 12 if with_vectors else LOCAL_PAGE)
        while True:
            pts, offset = self._call(
                self.client.scroll,
                name,
                scroll_filter=flt,
                limit=page,
                offset=offset,
                with_payload=payload,
                with_vectors=with_vectors,
            )
            yield from pts
            if offset is None:
                return

    def records(
        self,
        *,
        speaker: str | None = None,
        model_id: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        tag: str | None = None,
        with_vectors: bool = False,
    ) -> list[ProfileRecord]:
        """Records matching the filters (every model unless `model_id`), oldest first. `until` is exclusive."""
        flt = self._filter(speaker, since, until, tag)
        out = []
        for ref in self.collections():
            if model_id is not None and ref.model_id != model_id:
                continue
            for p in self._scroll(ref.name, flt, with_vectors):
                vec = p.vector if with_vectors else None
                out.append(ProfileRecord.from_payload(str(p.id), p.payload or {}, vec))
        out.sort(key=lambda r: (r.recorded_at, r.id))
        return out

    def speaker_records(
        self, speaker: str, model_id: str | None = None, with_vectors: bool = False, **filters
    ) -> list[ProfileRecord]:
        """One speaker's records from one model (typed errors for an unknown speaker or several models)."""
        recs = self.records(speaker=speaker, model_id=model_id, with_vectors=with_vectors, **filters)
        if not recs:
            if filters and self.records(speaker=speaker, model_id=model_id):
                return []
            self._unknown(speaker, f" from model {model_id!r}" if model_id else "")
        models_seen = Counter(r.model_id for r in recs)
        if len(models_seen) > 1:
            raise AmbiguousModelError(
                f"speaker {speaker!r} has records from several models, which never mix; choose one with "
                "--model-id / model_id=: " + ", ".join(f"{m} ({n} records)" for m, n in models_seen.items())
            )
        return recs

    def speakers(self, model_id: str | None = None) -> dict[str, int]:
        """Records per speaker (every model unless `model_id`), most records first."""
        counts: Counter = Counter()
        for ref in self.collections():
            if model_id is None or ref.model_id == model_id:
                for p in self._scroll(ref.name, None, False, payload=["speaker"]):
                    counts[(p.payload or {}).get("speaker")] += 1
        return dict(counts.most_common())

    def count(self) -> int:
        return sum(r.count for r in self.collections())

    def search(
        self,
        vector: np.ndarray,
        *,
        model_id: str | None = None,
        k: int = 5,
        speaker: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        tag: str | None = None,
    ) -> list[ProfileRecord]:
        """The `k` stored records nearest to `vector` (dim,) by cosine (in `record.score`), best first."""
        q = np.asarray(vector, np.float64).reshape(-1)
        if not np.all(np.isfinite(q)) or not np.any(q):
            raise ProfileError("the query embedding is empty, zero or not finite")
        ref = self._pick(model_id, len(q))
        flt = self._filter(speaker, since, until, tag)
        res = self._call(
            self.client.query_points,
            ref.name,
            query=(q / np.linalg.norm(q)).tolist(),
            query_filter=flt,
            limit=max(1, int(k)),
            with_payload=True,
            with_vectors=False,
        )
        if not res.points and speaker is not None:  # nothing found: say so if the speaker is unknown
            self.require_speaker(speaker, ref.model_id)
        return [
            ProfileRecord.from_payload(str(p.id), p.payload or {}, None, float(p.score)) for p in res.points
        ]


@contextlib.contextmanager
def open_store(location: str | os.PathLike | None = None, **kwargs) -> Iterator[ProfileStore]:
    """`with open_store(path_or_url) as store: ...`."""
    store = ProfileStore(location, **kwargs)
    try:
        yield store
    finally:
        store.close()
