"""The output folder of a batch job: one row per input, committed in Parquet shards, atomically.

A shard is the unit of commit. Its companion files (`embeddings-NNNNN.npy`, `frames-NNNNN.parquet`) are written
first and `part-NNNNN.parquet` last, each by temp file + rename, so after a crash (even `kill -9`) every
`part-*.parquet` present is complete; the inputs done are exactly the ids in those parts, and a re-run skips
them. Companions without their part file and temp files are leftovers of a crash and are removed on the next
run. An exclusive lock on `out/.lock` keeps two jobs from writing one folder at once.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from emostudio import atomic
from emostudio.errors import BatchError, EmoStudioError, OutputError, printable
from emostudio.model.labels import KEYS
from emostudio.multimodal import text_columns
from emostudio.records import InputItem
from emostudio.runs import COMPANION_RE, PART_RE, SCORE_COLUMNS, part_files

WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)  # the output folder cannot take more

LOCK_FILE = ".lock"

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("path", pa.string()),
        ("speaker", pa.string()),
        ("time", pa.string()),
        ("ref_label", pa.string()),
        ("text", pa.string()),
        ("duration_s", pa.float64()),
        ("label", pa.string()),
        ("confidence", pa.float64()),
        ("band", pa.string()),
        *[(c, pa.float64()) for c in SCORE_COLUMNS],
        ("quality_verdict", pa.string()),
        ("error_code", pa.string()),
        ("error", pa.string()),
        ("warnings", pa.string()),  # e.g. the file looks truncated; "; "-joined, None when there are none
        ("model_id", pa.string()),
        ("weights_sha256", pa.string()),  # which weights scored the row (a resume never mixes two)
        ("dtype", pa.string()),  # float32 | bfloat16 | float16 | int8
        ("random_weights", pa.bool_()),
        ("segments", pa.int32()),
        # transcripts (a `text` column in the manifest): the words' polarity and the fused reading
        # (emostudio.multimodal); None without text
        ("text_polarity", pa.float64()),
        ("text_language", pa.string()),
        ("fused_label", pa.string()),
        ("fused_confidence", pa.float64()),
        ("agreement", pa.string()),
        # an adapter (--adapter DIR): its id, the reading over its labels and every label's score as JSON
        # ({"frustrated": 0.8, ...}: the labels are the user's, so not one column each); None without one
        ("adapter_id", pa.string()),
        ("adapted_label", pa.string()),
        ("adapted_confidence", pa.float64()),
        ("adapted_band", pa.string()),
        ("adapted_scores", pa.string()),
        # rows of embeddings-NNNNN.npy that belong to this input (1 row in utterance mode, one per frame in
        # frame mode, 0 for a failure); only filled when embeddings were asked for
        ("embedding_start", pa.int64()),
        ("embedding_count", pa.int64()),
        # two-party calls (channels="separate"): the input's row has these null; each channel gets a row of its
        # own with id "<id>#ch<N>", its channel number (0-based), role and status (speaker | silent | copy)
        ("channel", pa.int32()),
        ("role", pa.string()),
        ("channel_status", pa.string()),
        # speaker turns (speakers=): the input's row has these null; each speaker gets a row of its own with id
        # "<id>#spk<N>" (its reading: the scored turns' seconds-weighted mean), its talk time and turn count
        ("turn_speaker", pa.string()),
        ("speaker_seconds", pa.float64()),
        ("speaker_turns", pa.int64()),
    ]
)
FRAMES_SCHEMA = pa.schema(
    [("id", pa.string()), ("start_s", pa.float64()), ("end_s", pa.float64()), ("label", pa.string()),
     ("confidence", pa.float64()), *[(c, pa.float64()) for c in SCORE_COLUMNS]]
)  # fmt: skip


@dataclass
class Row:
    """One input's output: the Parquet record plus its optional embedding and frame table."""

    record: dict
    embedding: np.ndarray | None = None  # (dim,) or (frames, dim) float32
    frame_starts_s: np.ndarray | None = None  # (steps,)
    frame_probs: np.ndarray | None = None  # (steps, 9)
    frame_step_s: float = 0.0


@dataclass(frozen=True)
class RowContext:
    """What every row of a job records about the model that made it."""

    model_id: str
    random_weights: bool
    weights_sha256: str | None = None
    dtype: str | None = None


def _base_record(item: InputItem, ctx: RowContext) -> dict:
    rec: dict[str, Any] = {c: None for c in SCHEMA.names}
    rec.update(
        id=item.id,
        path=item.path,
        speaker=item.speaker,
        time=item.time,
        ref_label=item.label,
        text=item.text,
        model_id=ctx.model_id,
        weights_sha256=ctx.weights_sha256,
        dtype=ctx.dtype,
        random_weights=ctx.random_weights,
    )
    return rec


def error_row(item: InputItem, error: BaseException, ctx: RowContext) -> Row:
    """The row of an input that failed: `error_code` from the typed error (`internal` for an unexpected one)."""
    rec = _base_record(item, ctx)
    if isinstance(error, EmoStudioError):
        rec.update(error_code=error.code, error=str(error))
    else:
        rec.update(error_code="internal", error=f"{printable(item.path)}: {type(error).__name__}: {error}")
    return Row(rec)


def result_row(item: InputItem, result, duration_s: float, ctx: RowContext, text_options=None) -> Row:
    """The row of an input that was recognised (`result` is an emostudio.results.Result).

    With `text_options` (emostudio.multimodal.TextOptions) and a transcript in the item, the text columns are
    filled; a transcript that cannot be read keeps the speech result and says why in `warnings`.
    """
    rec = _base_record(item, ctx)
    if text_options is not None and item.text:
        try:
            rec.update(text_columns(result, item.text, text_options))
        except EmoStudioError as e:
            result.warnings.append(f"transcript not used: {e}")
    rec.update(
        duration_s=round(float(duration_s), 6),
        label=result.label,
        confidence=float(result.confidence),
        band=result.band.key,
        segments=len(result.segments),
        quality_verdict=(result.quality or {}).get("verdict"),
        warnings="; ".join(result.warnings) or None,
    )
    for col, p in zip(SCORE_COLUMNS, result.probs, strict=True):
        rec[col] = float(p)
    if result.adapted is not None:
        rec.update(adapted_columns(result.adapted.to_dict()))
    row = Row(rec, None if result.embedding is None else np.asarray(result.embedding, np.float32))
    if result.frames is not None:
        row.frame_starts_s = np.asarray(result.frames.starts_s, np.float64)
        row.frame_probs = np.asarray(result.frames.probs, np.float64)
        row.frame_step_s = float(result.frames.step_s)
    return row


def adapted_columns(adapted: dict) -> dict:
    """The adapter columns of a row from result.json's `adapted` block."""
    return {
        "adapter_id": adapted["adapter"],
        "adapted_label": adapted["label"],
        "adapted_confidence": float(adapted["confidence"]),
        "adapted_band": adapted["band"],
        "adapted_scores": json.dumps(
            {k: round(float(v), 6) for k, v in adapted["scores"].items()}, ensure_ascii=False
        ),
    }


def channel_id(item_id: str, index: int) -> str:
    """The row id of one channel of a two-party input: `<id>#ch<N>` (N 0-based, as in result.json)."""
    return f"{item_id}#ch{index}"


def rows_for(item: InputItem, result, duration_s: float, ctx: RowContext, text_options=None) -> list[Row]:
    """The input's row, then one row per channel when it was analysed with channels="separate".

    A speaker channel's row holds its own label, scores, quality, frames and embedding; a silent or copied
    channel's row has no label and says why in `warnings`.
    """
    rows = [result_row(item, result, duration_s, ctx, text_options), *speaker_rows(item, result, ctx)]
    for ch in result.channels or []:
        sub = dataclasses.replace(item, id=channel_id(item.id, ch.info.index), text=None)
        if ch.result is not None:
            row = result_row(sub, ch.result, duration_s, ctx)
        else:
            row = Row(_base_record(sub, ctx))
            row.record.update(duration_s=round(float(duration_s), 6), warnings=(ch.info.note or {}).get("en"))
        row.record.update(channel=ch.info.index, role=ch.info.role, channel_status=ch.info.status)
        rows.append(row)
        if ch.result is not None:
            rows += speaker_rows(sub, ch.result, ctx)
    return rows


def speaker_row_id(item_id: str, speaker: str) -> str:
    """The row id of one speaker of an input analysed with speaker turns: `<id>#spk0`, ..."""
    return f"{item_id}#{speaker}"


def speaker_rows(item: InputItem, result, ctx: RowContext) -> list[Row]:
    """One row per speaker of `result.speaker_turns` (none without speaker turns): its reading, talk time and
    turns; a speaker without a scored turn has no label."""
    st = result.speaker_turns
    rows = []
    for sp in st.speakers if st is not None else []:
        sub = dataclasses.replace(item, id=speaker_row_id(item.id, sp.id), text=None)
        rec = _base_record(sub, ctx)
        rec.update(turn_speaker=sp.id, speaker_seconds=round(sp.seconds, 6), speaker_turns=sp.turns)
        if sp.probs is not None and sp.band is not None:
            rec.update(label=sp.label, confidence=float(sp.probs.max()), band=sp.band.key)
            rec.update({col: float(p) for col, p in zip(SCORE_COLUMNS, sp.probs, strict=True)})
        rows.append(Row(rec))
    return rows


def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array, np.float32), allow_pickle=False)
    return buf.getvalue()


def _parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def read_part(path: Path) -> pa.Table:
    """One committed shard in the current schema (columns added since it was written come back as nulls)."""
    table = pq.read_table(path)
    for f in SCHEMA:
        if f.name not in table.column_names:
            table = table.append_column(f, pa.nulls(table.num_rows, f.type))
    return table.select(SCHEMA.names).cast(SCHEMA)


class ShardStore:
    """The output folder of a job: finds finished ids, cleans crash leftovers, commits shards atomically.

    Holds an exclusive lock on `out_dir/.lock` while open, so two runs never write the same folder at once.
    """

    def __init__(self, out_dir: str | os.PathLike):
        self.dir = Path(out_dir)
        shown = printable(self.dir)
        if self.dir.exists() and not self.dir.is_dir():
            raise BatchError(f"{shown}: the output folder is a file")
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.dir / LOCK_FILE, "a+")  # noqa: SIM115 (held for the store's lifetime)
        except OSError as e:
            raise BatchError(f"{shown}: cannot write the output folder ({e.strerror or e})") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise BatchError(
                f"{shown}: another batch job is writing this folder (wait for it to finish, or use another --out)"
            ) from None
        self.removed = self._clean()
        self.parts = committed_parts(self.dir)
        self.next_index = 1 + max(
            (int(m.group(1)) for p in self.parts if (m := PART_RE.match(p.name))), default=-1
        )

    def close(self) -> None:
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def __enter__(self) -> ShardStore:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()
        # disk full (or read-only) while committing: say so and how to resume, keeping what was committed
        if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
            raise OutputError(
                f"{printable(self.dir)}: cannot write the results ({exc.strerror or exc}); the "
                f"{len(self.parts)} shard(s) committed so far are kept: free some space and run the same "
                "command again to resume"
            ) from None

    def _clean(self) -> list[str]:
        """Remove temp files and companions whose part file never landed (a crash mid-commit)."""
        removed = []
        parts = {m.group(1) for p in self.dir.iterdir() if (m := PART_RE.match(p.name))}
        for p in self.dir.iterdir():
            m = COMPANION_RE.match(p.name)
            if (p.name.startswith(".") and p.name.endswith(".tmp")) or (m and m.group(2) not in parts):
                p.unlink()
                removed.append(p.name)
        return removed

    def done_ids(self) -> set[str]:
        """Ids in every committed part. A part that does not read is an error naming it (never silently redone)."""
        done: set[str] = set()
        for p in self.parts:
            try:
                ids = pq.read_table(p, columns=["id"]).column("id").to_pylist()
            except Exception as e:  # any Arrow/IO error: the message names the shard and what to do
                raise BatchError(
                    f"{p}: committed shard does not read ({e}); move it away to redo its inputs"
                ) from e
            done.update(ids)
        return done

    def commit(self, rows: Sequence[Row], embedding: bool = False, frames: bool = False) -> Path:
        """Write one shard (companions first, part file last) and return the part's path.

        With `embedding` / `frames` the companion files are written even when every input of the shard failed
        (then `embeddings-NNNNN.npy` has shape (0, 0) and the frame table no rows).
        """
        part_name, embeddings_name, frames_name = part_files(self.next_index)
        records = [dict(r.record) for r in rows]
        emb = [r.embedding for r in rows]
        if embedding or any(e is not None for e in emb):
            dim = next((e.shape[-1] for e in emb if e is not None), 0)
            blocks, start = [], 0
            for rec, e in zip(records, emb, strict=True):
                block = np.zeros((0, dim), np.float32) if e is None else e.reshape(-1, dim)
                rec["embedding_start"], rec["embedding_count"] = start, len(block)
                start += len(block)
                blocks.append(block)
            atomic.write_bytes(self.dir / embeddings_name, _npy_bytes(np.concatenate(blocks)))
        if frames or any(r.frame_starts_s is not None for r in rows):
            cols: dict[str, list] = {c: [] for c in FRAMES_SCHEMA.names}
            for r in rows:
                if r.frame_starts_s is None or r.frame_probs is None:
                    continue
                k = r.frame_probs.argmax(axis=1)
                cols["id"] += [r.record["id"]] * len(k)
                cols["start_s"] += r.frame_starts_s.tolist()
                cols["end_s"] += (r.frame_starts_s + r.frame_step_s).tolist()
                cols["label"] += [KEYS[i] for i in k]
                cols["confidence"] += r.frame_probs.max(axis=1).tolist()
                for j, c in enumerate(SCORE_COLUMNS):
                    cols[c] += r.frame_probs[:, j].tolist()
            table = pa.table(cols, schema=FRAMES_SCHEMA)
            atomic.write_bytes(self.dir / frames_name, _parquet_bytes(table))
        part = self.dir / part_name
        atomic.write_bytes(part, _parquet_bytes(pa.Table.from_pylist(records, schema=SCHEMA)))
        self.parts.append(part)
        self.next_index += 1
        return part

    def read(self) -> pa.Table:
        """Every committed row, shards in order."""
        if not self.parts:
            return SCHEMA.empty_table()
        return pa.concat_tables([read_part(p) for p in self.parts])


def committed_parts(folder: Path) -> list[Path]:
    """The shards of a job folder in order: part-NNNNN.parquet only (a copy like 'part-00001 (1).parquet' is
    not one of them)."""
    return sorted(p for p in folder.glob("part-*.parquet") if PART_RE.match(p.name))


def read_results(out_dir: str | os.PathLike) -> pa.Table:
    """All rows of a job folder (committed shards only), as one Arrow table."""
    parts = committed_parts(Path(out_dir))
    return pa.concat_tables([read_part(p) for p in parts]) if parts else SCHEMA.empty_table()
