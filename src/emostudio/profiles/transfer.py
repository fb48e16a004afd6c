"""Moving records between stores without analysing anything again: an old-format folder into a new store
(`migrate`), and every record of one store into another (`copy_store`: `profile push URL` / `profile pull URL`).

A URL goes through qdrant-client to a Qdrant server, a folder through the embedded engine (`ProfileStore` picks);
ids, payloads (times, tags, scores, …) and the stored unit vectors are copied as they are, so the target answers
every query as the source did. Copying twice replaces, never duplicates (the ids are the same).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emostudio.profiles.errors import ProfileError
from emostudio.profiles.legacy import is_legacy, old_collections, old_points
from emostudio.profiles.store import ProfileStore

CHUNK = 512  # points per write


@dataclass
class TransferReport:
    """Records copied per collection (name → count), and where from / to."""

    source: str
    target: str
    copied: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.copied.values())

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "target": self.target,
            "records": self.total,
            "collections": self.copied,
        }


def _write(dst: ProfileStore, name: str, ids: list[str], vecs: list, payloads: list[dict]) -> None:
    if ids:
        dst.backend.upsert(name, ids, np.asarray(vecs, np.float32), payloads)
        del ids[:], vecs[:], payloads[:]


def copy_store(
    src: ProfileStore, dst: ProfileStore, on_chunk: Callable[[int], None] | None = None
) -> TransferReport:
    """Every record of every collection of `src` into `dst` (ids, payloads and vectors as stored)."""
    if src.kind == dst.kind != "memory" and os.path.realpath(src.location) == os.path.realpath(dst.location):
        raise ProfileError(f"{src.location}: the source and the target are the same store")
    report = TransferReport(src.location, dst.location)
    for ref in src.collections():
        name = dst._ensure(ref.model_id, ref.dim)
        ids: list[str] = []
        vecs: list = []
        payloads: list[dict] = []
        n = 0
        for hit in src.backend.scroll(ref.name, None, True):
            ids.append(hit.id)
            vecs.append(hit.vector)
            payloads.append(hit.payload)
            n += 1
            if len(ids) >= CHUNK:
                _write(dst, name, ids, vecs, payloads)
                if on_chunk:
                    on_chunk(n)
        _write(dst, name, ids, vecs, payloads)
        want, got = ref.count, dst.backend.count(name)
        if got < want:
            raise ProfileError(f"{dst.location}: {name} holds {got} records after copying {want}")
        report.copied[ref.name] = n
    return report


def migrate(old: str | os.PathLike, new: str | os.PathLike, **store_kwargs) -> TransferReport:
    """Read an old-format folder (qdrant-client local mode) with the allow-listed unpickler into a new store.

    The old folder is only read. Raises `UnsafePickleError` (nothing run, nothing written for that point) when a
    point is anything but qdrant-client's point data."""
    old_path = Path(os.path.expanduser(str(old)))
    if not is_legacy(old_path):
        raise ProfileError(
            f"{old_path}: not a profile store folder of the old format (no meta.json / collection/)"
        )
    colls = old_collections(old_path)  # read before NEW is made, so a bad OLD leaves nothing behind
    with ProfileStore(new, **store_kwargs) as dst:
        report = TransferReport(str(old_path), dst.location)
        for coll in colls:
            if coll.dim <= 0:
                raise ProfileError(f"{old_path}: collection {coll.name} has no vector size in meta.json")
            name = dst._ensure(coll.model_id, coll.dim)
            ids: list[str] = []
            vecs: list = []
            payloads: list[dict] = []
            n = 0
            for p in old_points(coll):
                if len(p.vector) != coll.dim:
                    raise ProfileError(
                        f"{coll.file}: point {p.id} has {len(p.vector)} values, not {coll.dim}"
                    )
                ids.append(p.id)
                vecs.append(p.vector)
                payloads.append(p.payload)
                n += 1
                if len(ids) >= CHUNK:
                    _write(dst, name, ids, vecs, payloads)
            _write(dst, name, ids, vecs, payloads)
            report.copied[coll.name] = n
    return report
