"""What a batch job is (its identity), whether a folder may be resumed, and what a job did (summary.json).

A job's identity is everything that changes its numbers: the model id, a sha256 of its weights, the precision
(dtype), granularity, embedding, enhancement settings, quality, every pipeline threshold and the adapter (the
sha256 of its weights file, or None). A folder of an earlier job version (2, before adapters) resumes when the
job has no adapter (its job.json is brought up to date); with an adapter it is another job. A re-run on the
same folder with any difference is refused with the difference named; `--force` moves the earlier results into
`previous-YYYYMMDD-HHMMSS/` and starts a new job, so rows of two models are never mixed.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path

import pyarrow as pa

from emostudio import atomic
from emostudio.batch.shards import ShardStore
from emostudio.errors import BatchError, printable
from emostudio.model.labels import KEYS
from emostudio.runs import PART_RE, new_archive_dir

JOB_FILE = "job.json"
SUMMARY_FILE = "summary.json"
JOB_VERSION = 3  # 3: the adapter counts; 2: weights and dtype count (a job.json of 1 is another job)
UPGRADABLE_VERSION = 2  # resumed by a job without an adapter: nothing else changed between 2 and 3


def _plain(value):
    """JSON-able form of settings (dataclasses → dicts, numpy arrays → a short description)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        import hashlib

        import numpy as np

        arr = np.ascontiguousarray(value)
        return f"array{tuple(arr.shape)} sha256:{hashlib.sha256(arr.tobytes()).hexdigest()[:16]}"
    return value


def job_identity(
    model_id: str,
    weights_sha256: str,
    dtype: str,
    granularity: str,
    embedding: bool,
    enhance,
    quality: bool,
    settings: dict,
    adapter_sha256: str | None = None,
) -> dict:
    """What decides the results of a job; a resume must match it exactly."""
    return {
        "version": JOB_VERSION,
        "adapter": adapter_sha256,
        "model_id": model_id,
        "weights_sha256": weights_sha256,
        "dtype": dtype,
        "granularity": granularity,
        "embedding": embedding,
        "enhance": _plain(enhance),
        "quality": quality,
        "settings": json.loads(json.dumps(_plain(settings), default=str)),
    }


def _describe(key: str, old, new) -> str:
    if key == "weights_sha256":
        return f"weights: were sha256 {str(old)[:12]}…, now {str(new)[:12]}… (same folder, new weights?)"
    if key == "settings":
        changed = sorted(
            k for k in set(old or {}) | set(new or {}) if (old or {}).get(k) != (new or {}).get(k)
        )
        return f"pipeline settings differ ({', '.join(changed)})"
    if key == "adapter":
        shown = [f"adapter sha256 {str(v)[:12]}…" if v else "no adapter" for v in (old, new)]
        return f"adapter: was {shown[0]}, now {shown[1]}"
    if key == "version":
        if old == UPGRADABLE_VERSION:
            return (
                "the folder was written before adapters were part of a job (job version 2): it resumes "
                "without --adapter"
            )
        return "the folder was written by an older emostudio that did not record weights and precision"
    return f"{key}: was {old!r}, now {new!r}"


def check_job(store: ShardStore, wanted: dict, force: bool) -> str | None:
    """Refuse to add to a folder whose job had another identity; with `force` start a new job instead.

    Returns the folder the earlier results were moved to (with `force`), else None. Records `wanted`.
    """
    out = store.dir
    path = out / JOB_FILE
    moved = None
    old = None
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(old, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as e:
            if not force:
                raise BatchError(
                    f"{printable(path)}: unreadable job settings ({e}); use --force to start a new job"
                ) from None
            old = {}
    elif store.parts:
        old = {}  # shards without a job.json: an unknown job
    if old is not None and upgradable(old, wanted):
        old = {**old, "version": JOB_VERSION, "adapter": None}
    if old is not None:
        diff = [k for k in wanted if old.get(k) != wanted[k]]
        if diff and not force:
            shown = "; ".join(_describe(k, old.get(k), wanted[k]) for k in diff)
            raise BatchError(
                f"{printable(out)}: this folder holds a job run with other settings ({shown}). Use the same "
                "options to resume, another --out, or --force to start a new job (the earlier results are "
                "moved into a previous-* folder, never mixed or deleted)"
            )
        if diff:
            moved = _archive(store)
    atomic.write_json(path, wanted)
    return moved


def upgradable(old: dict, wanted: dict) -> bool:
    """A job.json of version 2 (before adapters) that a job without an adapter may resume."""
    return old.get("version") == UPGRADABLE_VERSION and "adapter" not in old and wanted.get("adapter") is None


def _archive(store: ShardStore) -> str | None:
    """Move an earlier job's shards, job.json and summary.json into `previous-YYYYMMDD-HHMMSS[-N]/`."""
    names = [
        p
        for p in store.dir.iterdir()
        if PART_RE.match(p.name)
        or p.name in (JOB_FILE, SUMMARY_FILE)
        or (p.name.startswith(("embeddings-", "frames-")) and p.suffix in (".npy", ".parquet"))
    ]
    if not names:
        return None
    target = new_archive_dir(store.dir)
    for p in names:
        os.replace(p, target / p.name)
    store.parts = []
    store.next_index = 0
    return str(target)


@dataclass
class BatchProgress:
    """Where a running job stands (counts are for this run; `skipped` were done by earlier runs)."""

    total: int
    done: int
    failed: int
    audio_s: float
    elapsed_s: float
    skipped: int = 0


@dataclass
class BatchSummary:
    """What a job did. Counts cover every row in the folder; throughput covers this run only."""

    out_dir: str
    model_id: str
    random_weights: bool
    total: int  # rows in the folder after this run
    processed: int  # inputs handled by this run
    skipped: int  # inputs already done by earlier runs
    failed: int  # rows with an error (whole folder)
    counts: dict[str, int]  # rows per label (whole folder), every key present
    errors: dict[str, int]  # failures per error code (whole folder)
    audio_s: float  # audio decoded by this run, seconds
    wall_s: float  # this run, seconds
    files_per_s: float
    audio_h_per_h: float  # hours of audio per hour of wall time (the real-time factor's inverse)
    shards: int
    granularity: str = "utterance"
    weights_sha256: str | None = None
    dtype: str | None = None
    previous: str | None = None  # where --force moved an earlier job's results
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def finish_job(
    store: ShardStore,
    identity: dict,
    random_weights: bool,
    state: BatchProgress,
    wall_s: float,
    settings: dict,
    previous: str | None = None,
) -> BatchSummary:
    """Summarise every committed row and write summary.json atomically (both runners)."""
    import pyarrow.compute as pc  # here, not at the top: importing it costs every CLI command 8 MB

    table: pa.Table = store.read()
    table = table.filter(pc.is_null(table.column("channel")))  # inputs, not two-party calls' channel rows
    labels = [x for x in table.column("label").to_pylist() if x is not None]
    errors = Counter(x for x in table.column("error_code").to_pylist() if x is not None)
    counts = Counter(labels)
    summary = BatchSummary(
        out_dir=str(store.dir),
        model_id=identity["model_id"],
        random_weights=random_weights,
        total=table.num_rows,
        processed=state.done,
        skipped=state.skipped,
        failed=sum(errors.values()),
        counts={k: counts.get(k, 0) for k in KEYS},
        errors=dict(sorted(errors.items())),
        audio_s=round(state.audio_s, 3),
        wall_s=round(wall_s, 3),
        files_per_s=round(state.done / wall_s, 3) if wall_s > 0 else 0.0,
        audio_h_per_h=round(state.audio_s / wall_s, 3) if wall_s > 0 else 0.0,
        shards=len(store.parts),
        granularity=identity["granularity"],
        weights_sha256=identity["weights_sha256"],
        dtype=identity["dtype"],
        previous=previous,
        settings=settings,
    )
    atomic.write_json(Path(store.dir) / SUMMARY_FILE, summary.to_dict())
    return summary
