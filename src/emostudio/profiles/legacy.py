"""Store folders of emostudio before Qdrant Edge: qdrant-client's local mode (`meta.json` and
`collection/<name>/storage.sqlite`, each point a pickle in SQLite).

Opening such a folder as a store is refused (`refuse_legacy`), because reading it means unpickling. The one way to
read it is `emostudio profile migrate OLD NEW`, which unpickles every row with `SafeUnpickler`: only the classes
qdrant-client's local mode writes are allowed, each mapped to an inert stand-in that just keeps its state (no
constructor, no `__setstate__` of a real class runs); any other global, or a reduce call of anything, raises
`UnsafePickleError` before it is called.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from emostudio.profiles.errors import ProfileError


class LegacyStoreError(ProfileError):
    """A store folder in the old qdrant-client local format: migrate it."""


class UnsafePickleError(ProfileError):
    """A point of an old store holds something other than qdrant-client's point data: nothing of it was run."""


def is_legacy(path: Path) -> bool:
    return path.is_dir() and ((path / "meta.json").is_file() or (path / "collection").is_dir())


def refuse_legacy(path: Path) -> None:
    if is_legacy(path):
        raise LegacyStoreError(
            f"{path}: cannot open the profile store: it is in the old format of emostudio ≤ 0.x (qdrant-client "
            "local mode, each record a pickle inside SQLite), which this version never opens because reading it "
            f"could run code. Convert it once with `emostudio profile migrate {path} NEW_FOLDER` and use the new "
            "folder (the old one is left as it is)"
        )


class _Inert:
    """Stands in for an allowed class: keeps the pickled state, runs nothing."""

    def __init__(self, *args) -> None:
        self.args = args
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state


class _PointStruct(_Inert):
    pass


# (module, name) → stand-in: what qdrant-client's local mode pickles (protocol 4/5: NEWOBJ + BUILD, no reduce)
ALLOWED = {("qdrant_client.http.models.models", "PointStruct"): _PointStruct}


class SafeUnpickler(pickle.Unpickler):
    """Unpickles only the allow-listed qdrant-client classes (as inert stand-ins) and plain data."""

    def find_class(self, module: str, name: str):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        raise UnsafePickleError(
            f"refused to load {module}.{name}: not a qdrant-client point (nothing was run)"
        )


def safe_loads(data: bytes) -> object:
    obj = SafeUnpickler(io.BytesIO(data)).load()
    return obj


@dataclass
class OldPoint:
    id: str
    vector: list[float]
    payload: dict


@dataclass
class OldCollection:
    name: str
    model_id: str
    dim: int
    file: Path


def _point(obj: object, where: str) -> OldPoint:
    if not isinstance(obj, _PointStruct) or not isinstance(obj.state, dict):
        raise UnsafePickleError(f"{where}: not a qdrant-client point ({type(obj).__name__})")
    state = obj.state.get("__dict__", obj.state)
    if not isinstance(state, dict):
        raise UnsafePickleError(f"{where}: a point without its fields")
    vec, payload = state.get("vector"), state.get("payload") or {}
    if isinstance(vec, dict) and len(vec) == 1:  # a single named vector
        vec = next(iter(vec.values()))
    if (
        not isinstance(vec, list)
        or not all(isinstance(x, int | float) for x in vec)
        or not isinstance(payload, dict)
    ):
        raise ProfileError(f"{where}: a point without a plain vector and payload")
    return OldPoint(str(state.get("id")), [float(x) for x in vec], payload)


def old_collections(path: Path) -> list[OldCollection]:
    """The collections of an old store folder, read from its meta.json (JSON only)."""
    meta_file = path / "meta.json"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        colls = meta["collections"]
    except FileNotFoundError as e:
        raise ProfileError(f"{path}: not an old profile store (no meta.json)") from e
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ProfileError(
            f"{meta_file}: the old store's meta.json is damaged ({type(e).__name__}: {e})"
        ) from e
    out = []
    for name, cfg in sorted(colls.items()):
        meta_of = (cfg or {}).get("metadata") or {}
        vectors = (cfg or {}).get("vectors") or {}
        dim = int(meta_of.get("dim") or vectors.get("size") or 0)
        out.append(
            OldCollection(
                name, str(meta_of.get("model_id") or "?"), dim, path / "collection" / name / "storage.sqlite"
            )
        )
    return out


def old_points(coll: OldCollection) -> Iterator[OldPoint]:
    """Every point of an old collection, newest row of an id winning, each unpickled by SafeUnpickler."""
    if not coll.file.is_file():
        return
    try:
        con = sqlite3.connect(f"file:{coll.file}?mode=ro", uri=True)
        rows = con.execute("SELECT rowid, id, point FROM points ORDER BY rowid DESC").fetchall()
        con.close()
    except sqlite3.DatabaseError as e:
        raise ProfileError(f"{coll.file}: the old store's SQLite file is damaged ({e})") from e
    seen: set[str] = set()
    for rowid, key, value in rows:
        where = f"{coll.file} row {rowid}"
        try:
            pid = safe_loads(base64.b64decode(key)) if isinstance(key, str) else None
            point = _point(safe_loads(bytes(value)), where)
        except UnsafePickleError as e:
            raise UnsafePickleError(f"{where}: {e}") from e
        except (pickle.UnpicklingError, ValueError, TypeError, EOFError, AttributeError, IndexError) as e:
            raise ProfileError(f"{where}: a damaged point ({type(e).__name__}: {e})") from e
        if pid is not None and str(pid) != point.id:
            raise ProfileError(f"{where}: the row's key {pid!r} is not its point's id {point.id!r}")
        if point.id not in seen:
            seen.add(point.id)
            yield point
