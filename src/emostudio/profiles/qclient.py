"""A Qdrant server or cluster (`http://host:6333`, Qdrant Cloud with an API key) through qdrant-client, and the
in-memory store of tests (`:memory:`). Nothing here reads a store folder: folders are `profiles.edge`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import numpy as np

from emostudio.profiles.backend import INDEXED_FLOATS, INDEXED_KEYWORDS, Hit, Where
from emostudio.profiles.errors import ProfileError, StoreUnreachableError
from emostudio.profiles.records import COLLECTION_PREFIX

PAGE = 1024  # points per request to a server (ids per retrieve, points per scroll page)


def _client_module():
    try:
        import qdrant_client
    except ImportError as e:
        raise ProfileError(
            "a Qdrant server store needs qdrant-client: pip install 'emostudio[store]' (or qdrant-client)"
        ) from e
    return qdrant_client


class ClientBackend:
    """qdrant-client against a server (`kind="server"`) or in memory (`kind="memory"`)."""

    def __init__(self, location: str, *, api_key: str | None = None, timeout_s: float = 10.0):
        qdrant_client = _client_module()
        from qdrant_client import models

        self.models = models
        if location == ":memory:":
            self.location, self.kind = ":memory:", "memory"
            self.client = qdrant_client.QdrantClient(location=":memory:")
        else:
            self.location, self.kind = location, "server"
            self.client = qdrant_client.QdrantClient(
                url=location, api_key=api_key, timeout=int(max(1, timeout_s)), check_compatibility=False
            )
            self._call(self.client.get_collections)  # fail now, clearly, if nobody answers

    def _call(self, fn, *args, **kwargs):
        """A client call, with transport and server errors turned into typed errors."""
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*Local mode is not recommended.*")
                return fn(*args, **kwargs)
        except ResponseHandlingException as e:
            raise StoreUnreachableError(
                f"the Qdrant server at {self.location} does not answer ({getattr(e, 'source', e)}). "
                "Is it running, is the address right, and is the network up?"
            ) from e
        except UnexpectedResponse as e:
            raise ProfileError(
                f"the Qdrant server at {self.location} refused the request: HTTP {e.status_code} "
                f"{(e.content or b'').decode('utf-8', 'replace')[:300]}"
            ) from e

    def _filter(self, where: Where | None):
        m = self.models
        if where is None or where.empty:
            return None
        must: list = []
        if where.speaker is not None:
            must.append(m.FieldCondition(key="speaker", match=m.MatchValue(value=where.speaker)))
        if where.tag is not None:
            must.append(m.FieldCondition(key="tags", match=m.MatchValue(value=where.tag)))
        if where.lo_ts is not None or where.hi_ts is not None:
            must.append(m.FieldCondition(key="recorded_ts", range=m.Range(gte=where.lo_ts, lt=where.hi_ts)))
        return m.Filter(must=must)

    def collections(self) -> list[tuple[str, str, int]]:
        out = []
        for desc in self._call(self.client.get_collections).collections:
            if not desc.name.startswith(COLLECTION_PREFIX):
                continue
            info = self._call(self.client.get_collection, desc.name)
            dim = int(getattr(info.config.params.vectors, "size", 0) or 0)
            model_id = (getattr(info.config, "metadata", None) or {}).get("model_id")
            if not model_id:  # a server without collection metadata: every point carries its model id
                pts, _ = self._call(self.client.scroll, desc.name, limit=1, with_payload=["model_id"])
                model_id = (pts[0].payload or {}).get("model_id", "?") if pts else "?"
            out.append((desc.name, str(model_id), dim))
        return out

    def create(self, name: str, model_id: str, dim: int) -> None:
        m = self.models
        if self._call(self.client.collection_exists, name):
            return
        vectors = m.VectorParams(size=int(dim), distance=m.Distance.COSINE)
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
        if self.kind == "server":  # indexes for the filters we use
            for field_name in INDEXED_KEYWORDS:
                self._call(
                    self.client.create_payload_index,
                    name,
                    field_name,
                    field_schema=m.PayloadSchemaType.KEYWORD,
                )
            for field_name in INDEXED_FLOATS:
                self._call(
                    self.client.create_payload_index, name, field_name, field_schema=m.PayloadSchemaType.FLOAT
                )

    def count(self, name: str, where: Where | None = None) -> int:
        return int(self._call(self.client.count, name, count_filter=self._filter(where), exact=True).count)

    def upsert(self, name: str, ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[dict]) -> None:
        pts = [
            self.models.PointStruct(id=i, vector=v.tolist(), payload=p)
            for i, v, p in zip(ids, vectors, payloads, strict=True)
        ]
        self._call(self.client.upsert, name, points=pts, wait=True)

    def existing(self, name: str, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), PAGE):
            pts = self._call(
                self.client.retrieve,
                name,
                ids=list(ids[i : i + PAGE]),
                with_payload=False,
                with_vectors=False,
            )
            found.update(str(p.id) for p in pts)
        return found

    def delete(self, name: str, where: Where) -> None:
        flt = self.models.FilterSelector(filter=self._filter(where))
        self._call(self.client.delete, name, points_selector=flt, wait=True)

    def scroll(
        self, name: str, where: Where | None, with_vectors: bool, fields: list[str] | None = None
    ) -> Iterator[Hit]:
        offset = None
        while True:
            pts, offset = self._call(
                self.client.scroll,
                name,
                scroll_filter=self._filter(where),
                limit=PAGE,
                offset=offset,
                with_payload=fields if fields is not None else True,
                with_vectors=with_vectors,
            )
            for p in pts:
                vec = np.asarray(p.vector, np.float32) if with_vectors else None
                yield Hit(str(p.id), p.payload or {}, None, vec)
            if offset is None:
                return

    def search(self, name: str, vector: np.ndarray, where: Where | None, k: int) -> list[Hit]:
        res = self._call(
            self.client.query_points,
            name,
            query=vector.tolist(),
            query_filter=self._filter(where),
            limit=k,
            with_payload=True,
            with_vectors=False,
        )
        return [Hit(str(p.id), p.payload or {}, float(p.score)) for p in res.points]

    def close(self) -> None:
        self.client.close()
