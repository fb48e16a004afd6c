"""The profile store: an embedded Qdrant engine in a folder by default, a Qdrant server or cluster by URL.

    ProfileStore()                         the user's data folder (see records.default_store_path)
    ProfileStore("/path/to/store")         Qdrant Edge on that folder (one process at a time; `profiles.edge`)
    ProfileStore("http://host:6333")       a Qdrant server or cluster (api_key= for Qdrant Cloud; `profiles.qclient`)
    ProfileStore(":memory:")               nothing written to disk (tests, experiments)

One collection per model id and embedding size (`records.collection_name`), so records of different models
never mix; cosine distance. Point ids are uuid5(speaker, clip key): adding a clip again replaces its record, and
a re-run after a crash (even `kill -9`) adds only what is missing. Every `add` chunk is in the engine's
write-ahead log when it returns, so a crash never loses a committed record nor leaves half of one.

A folder never gets unpickled: the engine keeps its own segment files and JSON metadata. Folders of the old
format (qdrant-client local mode, pickles in SQLite) are refused with the command that converts them
(`emostudio profile migrate OLD NEW`, `profiles.legacy`). Above one machine's needs (several processes writing,
millions of records), use a Qdrant server (`emostudio profile push URL`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from emostudio.profiles.backend import Backend, Where
from emostudio.profiles.edge import EdgeBackend
from emostudio.profiles.errors import (
    AmbiguousModelError,
    DimensionMismatchError,
    EmptyStoreError,
    ProfileError,
    UnknownSpeakerError,
)
from emostudio.profiles.qclient import ClientBackend
from emostudio.profiles.records import (
    ProfileRecord,
    collection_name,
    default_store_path,
    parse_time,
)


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
        self._lock = threading.RLock()
        self._made: set[str] = set()  # collections known to exist (saves a round trip to a server per record)
        self.durable = durable
        self.backend: Backend
        if is_url(location) or str(location) == ":memory:":
            self.backend = ClientBackend(str(location), api_key=api_key, timeout_s=timeout_s)
        else:
            path = Path(os.path.expanduser(str(location))) if location is not None else default_store_path()
            self.backend = EdgeBackend(path, durable=durable)
        self.location, self.kind = self.backend.location, self.backend.kind

    def close(self) -> None:
        with self._lock:
            self.backend.close()

    def __enter__(self) -> ProfileStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> str:
        return f"{self.kind} store {self.location}"

    # ---- collections -------------------------------------------------------------------------------------------
    def collections(self) -> list[CollectionRef]:
        """Every model's collection in the store, with its record count."""
        with self._lock:
            out = [CollectionRef(n, m, d, self.backend.count(n)) for n, m, d in self.backend.collections()]
        return sorted(out, key=lambda r: (r.model_id, r.dim))

    def _ensure(self, model_id: str, dim: int) -> str:
        name = collection_name(model_id, dim)
        with self._lock:
            if name not in self._made and not any(n == name for n, _, _ in self.backend.collections()):
                self.backend.create(name, model_id, int(dim))
            self._made.add(name)
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
        """Store records (each needs its embedding); a record with an existing id replaces it. Returns how many.

        Each chunk is committed (in the write-ahead log) before the next is written."""
        n = 0
        groups: dict[str, list[ProfileRecord]] = {}

        def flush(name: str) -> None:
            recs = groups.pop(name, [])
            if recs:
                vecs = np.stack([r.embedding for r in recs]).astype(np.float32)  # type: ignore[misc]
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                with self._lock:
                    self.backend.upsert(name, [r.id for r in recs], vecs, [r.payload() for r in recs])

        for rec in records:
            if rec.embedding is None:
                raise ProfileError(f"{rec.source or rec.id}: a record needs its embedding to be stored")
            name = self._ensure(rec.model_id, rec.dim)
            groups.setdefault(name, []).append(rec)
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
            if ref.model_id == model_id:
                with self._lock:
                    found |= self.backend.existing(ref.name, ids)
        return found

    def delete_speaker(self, speaker: str) -> int:
        """Remove every record of `speaker` from every model's collection (nothing else). Returns how many."""
        total = 0
        where = Where(speaker=speaker)
        for ref in self.collections():
            with self._lock:
                n = self.backend.count(ref.name, where)
                if n:
                    self.backend.delete(ref.name, where)
                    left = self.backend.count(ref.name, where)
                    if left:
                        raise ProfileError(
                            f"{left} record(s) of {speaker!r} remain in {ref.name} after deleting"
                        )
                    total += n
        if not total:
            self._unknown(speaker)
        return total

    # ---- reading -----------------------------------------------------------------------------------------------
    @staticmethod
    def _where(
        speaker: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        tag: str | None = None,
    ) -> Where:
        lo, hi = parse_time(since, what="--since"), parse_time(until, what="--until")
        return Where(speaker, tag, lo.timestamp() if lo else None, hi.timestamp() if hi else None)

    def _unknown(self, speaker: str, where: str = ""):
        known = len(self.speakers())
        if not known:
            raise EmptyStoreError(f"the profile store {self.location} holds no records yet")
        raise UnknownSpeakerError(speaker, known, where)

    def require_speaker(self, speaker: str, model_id: str | None = None) -> None:
        """Raise UnknownSpeakerError (EmptyStoreError for an empty store) unless `speaker` has a record."""
        where = Where(speaker=speaker)
        for ref in self.collections():
            if model_id in (None, ref.model_id):
                with self._lock:
                    if self.backend.count(ref.name, where):
                        return
        self._unknown(speaker, f" from model {model_id!r}" if model_id else "")

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
        where = self._where(speaker, since, until, tag)
        out = []
        for ref in self.collections():
            if model_id is not None and ref.model_id != model_id:
                continue
            with self._lock:
                for h in self.backend.scroll(ref.name, where, with_vectors):
                    out.append(ProfileRecord.from_payload(h.id, h.payload, h.vector))  # type: ignore[arg-type]
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
                with self._lock:
                    for h in self.backend.scroll(ref.name, None, False, ["speaker"]):
                        counts[h.payload.get("speaker")] += 1
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
        where = self._where(speaker, since, until, tag)
        unit = (q / np.linalg.norm(q)).astype(np.float32)
        with self._lock:
            hits = self.backend.search(ref.name, unit, where, max(1, int(k)))
        if not hits and speaker is not None:  # nothing found: say so if the speaker is unknown
            self.require_speaker(speaker, ref.model_id)
        return [ProfileRecord.from_payload(h.id, h.payload, None, h.score) for h in hits]


@contextlib.contextmanager
def open_store(location: str | os.PathLike | None = None, **kwargs) -> Iterator[ProfileStore]:
    """`with open_store(path_or_url) as store: ...`."""
    store = ProfileStore(location, **kwargs)
    try:
        yield store
    finally:
        store.close()
