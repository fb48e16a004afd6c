"""Exporting records: Parquet (embeddings included as a list column) or CSV (embeddings in a companion .npy)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from emostudio import atomic, csvsafe
from emostudio.model.labels import KEYS
from emostudio.profiles.errors import ProfileError
from emostudio.profiles.records import ProfileRecord, iso

FORMATS = ("parquet", "csv")
COLUMNS = (
    "id", "speaker", "recorded_at", "source", "label", "confidence", *(f"score_{k}" for k in KEYS), "quality",
    "tags", "model_id", "dim", "random_weights", "run_id", "duration_s", "added_at", "key",
)  # fmt: skip


def records_table(records: list[ProfileRecord], embedding: bool = False) -> pa.Table:
    """One row per record (COLUMNS; `tags` a list), plus `embedding` (list<float32>) when asked."""
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    for r in records:
        d = r.payload()
        for c in COLUMNS:
            if c == "id":
                cols[c].append(r.id)
            elif c.startswith("score_"):
                cols[c].append(float(d["scores"][c[6:]]))
            elif c == "recorded_at":
                cols[c].append(iso(r.recorded_at))
            else:
                cols[c].append(d.get(c))
    table = pa.table(cols)
    if embedding:
        table = table.append_column(
            "embedding",
            pa.array([v.astype(np.float32).tolist() for v in _vectors(records)], pa.list_(pa.float32())),
        )
    return table


def _vectors(records: list[ProfileRecord]) -> list[np.ndarray]:
    """The records' embeddings, in order; ProfileError when a record was read without its vector."""
    vectors = [r.embedding for r in records if r.embedding is not None]
    if len(vectors) != len(records):
        raise ProfileError("read the records with their vectors to export embeddings")
    return vectors


def export_records(
    records: list[ProfileRecord], path: str | os.PathLike, fmt: str = "parquet", embedding: bool = True
) -> list[Path]:
    """Write `records` to `path` atomically; returns the files written.

    parquet: embeddings as a list column. csv: tags joined by `;`, embeddings (when asked) in `<path>.embeddings.npy`,
    row i of the array belonging to row i of the CSV (records of one model only, so every row has the same size).
    """
    if fmt not in FORMATS:
        raise ProfileError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    path = Path(path)
    if fmt == "parquet":
        buf = io.BytesIO()
        pq.write_table(records_table(records, embedding), buf)
        atomic.write_bytes(path, buf.getvalue())
        return [path]
    vectors = _vectors(records) if embedding else []  # before the CSV: no CSV without its embeddings
    df = records_table(records, False).to_pandas()
    df["tags"] = [";".join(list(t)) if t is not None else "" for t in df["tags"]]
    df = df.map(
        csvsafe.cell
    )  # text a spreadsheet would run is escaped; numbers stay numbers (emostudio.csvsafe)
    atomic.write_text(path, df.to_csv(index=False, lineterminator="\n"))
    written = [path]
    if embedding and records:
        dims = {r.dim for r in records}
        if len(dims) != 1:
            raise ProfileError(
                f"records of several embedding sizes ({sorted(dims)}): export one model at a time (--model-id)"
            )
        buf = io.BytesIO()
        np.save(buf, np.stack(vectors).astype(np.float32), allow_pickle=False)
        npy = path.with_name(path.name + ".embeddings.npy")
        atomic.write_bytes(npy, buf.getvalue())
        written.append(npy)
    return written
