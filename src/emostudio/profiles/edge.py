"""The embedded store: a folder of Qdrant Edge shards (`qdrant-edge-py`, the Qdrant engine in-process).

    FOLDER/emostudio-store.json                  {"format": "emostudio-profiles", "engine": "qdrant-edge", ...}
    FOLDER/.lock                                 held (flock) while a process has the store open
    FOLDER/collections/<name>/collection.json    {"model_id": ..., "dim": ..., "schema": 1}
    FOLDER/collections/<name>/shard/             the Edge shard: segments, write-ahead log, payload indexes

Nothing here unpickles anything: the engine keeps points in its own segment files, metadata is JSON. Every write
goes to the shard's write-ahead log before `upsert` returns, so a killed process (even `kill -9`) keeps every
committed chunk and replays it on the next open; `durable=True` also flushes the segments after each write (a power
cut then loses nothing either). A collection is made in `collections/.new-<name>` and renamed into place, so a crash
while making one leaves no half collection.

Search (chosen by measurement, benchmarks/RESULTS.md): below EXACT_BELOW points an exact scan; above it the
int8-quantized vectors are scanned (no HNSW graph: on 1024-d embeddings the graph needed very large `ef` for recall
0.99 and minutes to build) and the best OVERSAMPLING × k are rescored with the original float vectors.
Filters use payload indexes on speaker, tags and recorded_ts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emostudio.atomic import write_json
from emostudio.profiles.backend import INDEXED_FLOATS, INDEXED_KEYWORDS, Hit, Where
from emostudio.profiles.errors import ProfileError, StoreLockedError
from emostudio.profiles.legacy import refuse_legacy
from emostudio.profiles.records import COLLECTION_PREFIX

MARKER = "emostudio-store.json"
FORMAT = {"format": "emostudio-profiles", "engine": "qdrant-edge", "version": 1}
EXACT_BELOW = 10_000  # points: an exact scan is at most a few ms up to here
OVERSAMPLING = 3.0  # quantized candidates rescored per result
SCROLL_PAGE = 2048
try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


def _edge():
    try:
        import qdrant_edge
    except ImportError as e:
        raise ProfileError(
            "the profile store needs qdrant-edge-py: pip install 'emostudio[store]' (or qdrant-edge-py)"
        ) from e
    return qdrant_edge


@contextlib.contextmanager
def engine_errors(what: str) -> Iterator[None]:
    """Engine failures (Python errors and Rust panics) become a ProfileError naming `what`."""
    try:
        yield
    except ProfileError:
        raise
    except BaseException as e:  # a Rust panic arrives as pyo3's PanicException, a BaseException
        if not isinstance(e, Exception) and type(e).__name__ != "PanicException":
            raise
        text = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
        if "WouldBlock" in text or "Resource temporarily unavailable" in text:
            raise StoreLockedError(f"{what}: {LOCKED}") from e
        raise ProfileError(f"{what}: {text}") from e


LOCKED = (
    "the profile store is open in another process (another `emostudio profile` command or an `emostudio "
    "serve`). Wait for it to finish, use another --store folder, or run a Qdrant server (--store "
    "http://host:6333) to share one store"
)


def _lock(path: Path):
    """An exclusive lock on FOLDER/.lock for as long as the returned file stays open."""
    f = open(path / ".lock", "a+b")  # noqa: SIM115 - held open until close()
    try:
        if fcntl is not None:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
    except OSError as e:
        f.close()
        raise StoreLockedError(f"{path}: {LOCKED}") from e
    return f


def _read_json(path: Path, what: str) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ProfileError(
            f"{path}: cannot open the profile store: {what} is missing; it was left as it is"
        ) from e
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ProfileError(
            f"{path}: cannot open the profile store: {what} is damaged ({type(e).__name__}: {e}); "
            "it was left as it is"
        ) from e
    if not isinstance(doc, dict):
        raise ProfileError(f"{path}: cannot open the profile store: {what} is not a JSON object")
    return doc


class EdgeBackend:
    """A store folder on Qdrant Edge, one shard per collection. One process at a time (`StoreLockedError`)."""

    kind = "local"

    def __init__(self, path: Path, *, durable: bool = False):
        self.q = _edge()
        self.path, self.location, self.durable = path, str(path), durable
        if path.exists() and not path.is_dir():
            raise ProfileError(f"{path}: the profile store must be a folder, and this is a file")
        refuse_legacy(path)
        path.mkdir(parents=True, exist_ok=True)
        self._lockfile = _lock(path)
        self.shards: dict[str, tuple[Any, str, int]] = {}  # name -> (EdgeShard, model id, dim)
        self._written: set[str] = set()
        self._meta: dict[str, dict] = {}  # collection.json of each collection
        try:
            self._open_all()
        except BaseException:
            self.close()
            raise

    def _open_all(self) -> None:
        marker, root = self.path / MARKER, self.path / "collections"
        if not marker.exists() and not root.exists():
            write_json(marker, FORMAT)  # a new store
        doc = _read_json(marker, f"its metadata file {MARKER}")
        if doc.get("format") != FORMAT["format"] or doc.get("engine") != FORMAT["engine"]:
            raise ProfileError(
                f"{marker}: cannot open the profile store: not an emostudio profile store ({doc})"
            )
        if int(doc.get("version", 0)) > int(FORMAT["version"]):  # type: ignore[call-overload]
            raise ProfileError(f"{marker}: this store was written by a newer emostudio; upgrade to open it")
        root.mkdir(exist_ok=True)
        for d in sorted(root.iterdir()):
            if d.name.startswith(".new-"):  # a collection whose making was interrupted: it held no records
                shutil.rmtree(d, ignore_errors=True)
            elif d.is_dir() and d.name.startswith(COLLECTION_PREFIX):
                meta = _read_json(d / "collection.json", f"the metadata of collection {d.name}")
                if not (d / "shard").is_dir():
                    raise ProfileError(
                        f"{d}: cannot open the profile store: the collection's shard folder is missing"
                    )
                with engine_errors(f"{d}: cannot open the profile store (collection {d.name} is damaged)"):
                    shard = self.q.EdgeShard.load(str(d / "shard"))
                self.shards[d.name] = (shard, str(meta.get("model_id", "?")), int(meta.get("dim", 0)))
                self._meta[d.name] = meta
                self._check_count(d.name)

    def _check_count(self, name: str) -> None:
        """Fewer points than committed means damaged engine files: say so rather than show a store that shrank."""
        have, committed = self.count(name), int(self._meta[name].get("committed", 0))
        if have < committed:
            raise ProfileError(
                f"{self.path / 'collections' / name}: cannot open the profile store: the collection holds {have} "
                f"records but {committed} were committed, so its engine files are damaged (left as they are); "
                "restore the folder from a backup, or `emostudio profile pull` it from a server"
            )

    def _set_committed(self, name: str, n: int) -> None:
        """The lower bound of the records the collection holds (written after adds, before deletes)."""
        if int(self._meta[name].get("committed", -1)) != n:
            self._meta[name] = {**self._meta[name], "committed": n}
            write_json(self.path / "collections" / name / "collection.json", self._meta[name])

    def _config(self, dim: int):
        q = self.q
        return q.EdgeConfig(
            vectors=q.EdgeVectorParams(size=int(dim), distance=q.Distance.Cosine),
            hnsw_config=q.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000),
            quantization_config=q.ScalarQuantizationConfig(
                type=q.ScalarType.Int8, quantile=0.99, always_ram=True
            ),
            optimizers=q.EdgeOptimizersConfig(default_segment_number=2),
        )

    def _shard(self, name: str):
        if name not in self.shards:
            raise ProfileError(f"{self.path}: no collection {name}")
        return self.shards[name][0]

    def _filter(self, where: Where | None):
        q = self.q
        if where is None or where.empty:
            return None
        must: list = []
        if where.speaker is not None:
            must.append(q.FieldCondition(key="speaker", match=q.MatchValue(where.speaker)))
        if where.tag is not None:
            must.append(q.FieldCondition(key="tags", match=q.MatchValue(where.tag)))
        if where.lo_ts is not None or where.hi_ts is not None:
            must.append(
                q.FieldCondition(key="recorded_ts", range=q.RangeFloat(gte=where.lo_ts, lt=where.hi_ts))
            )
        return q.Filter(must=must)

    # ---- the Backend calls -------------------------------------------------------------------------------------
    def collections(self) -> list[tuple[str, str, int]]:
        return [(name, model_id, dim) for name, (_, model_id, dim) in self.shards.items()]

    def create(self, name: str, model_id: str, dim: int) -> None:
        if name in self.shards:
            return
        q, final = self.q, self.path / "collections" / name
        tmp = final.parent / f".new-{name}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with engine_errors(f"{self.path}: cannot make collection {name}"):
            shard = q.EdgeShard.create(str(tmp / "shard"), self._config(dim))
            for field_name in INDEXED_KEYWORDS:
                shard.update(q.UpdateOperation.create_field_index(field_name, q.PayloadSchemaType.Keyword))
            for field_name in INDEXED_FLOATS:
                shard.update(q.UpdateOperation.create_field_index(field_name, q.PayloadSchemaType.Float))
            shard.flush()
            shard.close()
            meta = {"model_id": model_id, "dim": int(dim), "schema": 1, "committed": 0}
            write_json(tmp / "collection.json", meta)
            os.replace(tmp, final)
            self._meta[name] = meta
            self.shards[name] = (q.EdgeShard.load(str(final / "shard")), model_id, int(dim))

    def count(self, name: str, where: Where | None = None) -> int:
        with engine_errors(f"{self.path}: counting {name}"):
            if (
                where is None or where.empty
            ):  # the shard's own tally: an exact count walks every point (~20 ms at 100k)
                return int(self._shard(name).info().points_count)
            return int(self._shard(name).count(self.q.CountRequest(exact=True, filter=self._filter(where))))

    def upsert(self, name: str, ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[dict]) -> None:
        q, shard = self.q, self._shard(name)
        pts = [q.Point(i, v.tolist(), p) for i, v, p in zip(ids, vectors, payloads, strict=True)]
        with engine_errors(f"{self.path}: writing to {name}"):
            shard.update(q.UpdateOperation.upsert_points(pts))
            if self.durable:
                shard.flush()
        self._written.add(name)
        self._set_committed(name, self.count(name))

    def existing(self, name: str, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        with engine_errors(f"{self.path}: reading {name}"):
            for i in range(0, len(ids), SCROLL_PAGE):
                recs = self._shard(name).retrieve(list(ids[i : i + SCROLL_PAGE]), False, False)
                found.update(str(r.id) for r in recs)
        return found

    def delete(self, name: str, where: Where) -> None:
        self._set_committed(name, self.count(name) - self.count(name, where))
        with engine_errors(f"{self.path}: deleting from {name}"):
            shard = self._shard(name)
            shard.update(self.q.UpdateOperation.delete_points_by_filter(self._filter(where)))
            shard.flush()  # a deletion (right to be forgotten) reaches the segments at once
        self._written.add(name)

    def scroll(
        self, name: str, where: Where | None, with_vectors: bool, fields: list[str] | None = None
    ) -> Iterator[Hit]:
        offset = None
        while True:
            req = self.q.ScrollRequest(
                offset=offset,
                limit=SCROLL_PAGE,
                filter=self._filter(where),
                with_payload=fields if fields is not None else True,
                with_vector=with_vectors,
            )
            with engine_errors(f"{self.path}: reading {name}"):
                recs, offset = self._shard(name).scroll(req)
            for r in recs:
                vec = self._vector(name, r) if with_vectors else None
                yield Hit(str(r.id), self._payload(name, r, fields), None, vec)
            if offset is None:
                return

    def _vector(self, name: str, r) -> np.ndarray:
        vec = np.asarray(r.vector if isinstance(r.vector, list) else [], np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            norm = float(np.linalg.norm(vec)) if vec.size else 0.0
        if not 0.9 < norm < 1.1:  # stored vectors are unit vectors: missing, NaN or huge values are damage
            raise ProfileError(f"{self.path / 'collections' / name}: record {r.id} has a damaged vector")
        return vec

    def _payload(self, name: str, r, fields: list[str] | None) -> dict:
        payload = r.payload or {}
        if not isinstance(payload.get("speaker"), str) or (fields is None and "recorded_at" not in payload):
            raise ProfileError(
                f"{self.path / 'collections' / name}: record {r.id} has lost its data (damaged files)"
            )
        return payload

    def search(self, name: str, vector: np.ndarray, where: Where | None, k: int) -> list[Hit]:
        q = self.q
        exact = self.count(name) < EXACT_BELOW
        params = q.SearchParams(
            exact=exact, quantization=q.QuantizationSearchParams(rescore=True, oversampling=OVERSAMPLING)
        )
        req = q.QueryRequest(
            limit=k,
            query=q.Query.Nearest(vector.tolist()),
            filter=self._filter(where),
            params=params,
            with_payload=True,
        )
        with engine_errors(f"{self.path}: searching {name}"):
            pts = self._shard(name).query(req)
        return [Hit(str(p.id), self._payload(name, p, None), float(p.score)) for p in pts]

    def optimize(self) -> None:
        """Build the quantized segments of what was written (seconds per 100,000 records of 1024-d)."""
        for name in sorted(self._written):
            with engine_errors(f"{self.path}: optimizing {name}"):
                self._shard(name).optimize()
        self._written.clear()

    def close(self) -> None:
        try:
            if self._written:
                self.optimize()
            for shard, _, _ in self.shards.values():
                with engine_errors(f"{self.path}: closing the store"):
                    shard.flush()
                    shard.close()
        finally:
            self.shards.clear()
            if not self._lockfile.closed:
                self._lockfile.close()
