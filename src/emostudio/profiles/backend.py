"""What a profile store engine does: the few calls `ProfileStore` makes, the same for the embedded engine (Qdrant
Edge in a folder, `profiles.edge`) and a Qdrant server through qdrant-client (`profiles.qclient`).

Vectors cross this boundary as float32 unit vectors, (n, dim); payloads as JSON dicts; ids as uuid strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Where:
    """A filter on the payload: a speaker, a tag and/or a time window (`lo_ts` ≤ recorded_ts < `hi_ts`, epoch s)."""

    speaker: str | None = None
    tag: str | None = None
    lo_ts: float | None = None
    hi_ts: float | None = None

    @property
    def empty(self) -> bool:
        return self.speaker is None and self.tag is None and self.lo_ts is None and self.hi_ts is None


@dataclass(frozen=True)
class Hit:
    """One point read back: id, payload, score (cosine, search only) and vector (dim,) when asked for."""

    id: str
    payload: dict
    score: float | None = None
    vector: np.ndarray | None = None


# payload fields with an index in every collection (speaker and tag filters, time windows)
INDEXED_KEYWORDS = ("speaker", "tags")
INDEXED_FLOATS = ("recorded_ts",)


class Backend(Protocol):
    """One store engine. Every call raises a `ProfileError` subclass for a problem the user can act on."""

    kind: str  # "local", "memory" or "server"
    location: str

    def collections(self) -> list[tuple[str, str, int]]:
        """(name, model id, dim) of every emostudio collection."""
        ...

    def create(self, name: str, model_id: str, dim: int) -> None: ...

    def count(self, name: str, where: Where | None = None) -> int: ...

    def upsert(self, name: str, ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[dict]) -> None:
        """Write points; an existing id is replaced. Returns once they are committed (they survive a crash)."""
        ...

    def existing(self, name: str, ids: Sequence[str]) -> set[str]: ...

    def delete(self, name: str, where: Where) -> None: ...

    def scroll(
        self, name: str, where: Where | None, with_vectors: bool, fields: list[str] | None = None
    ) -> Iterator[Hit]:
        """Every matching point (payload limited to `fields` when given), in pages."""
        ...

    def search(self, name: str, vector: np.ndarray, where: Where | None, k: int) -> list[Hit]: ...

    def close(self) -> None: ...
