"""Filling the profile store: audio files, folders, manifests, run folders, and finished `emostudio batch` folders.

Each clip gets a key (`sha256:<digest of the file>`, or the run's id and time) so its record id is stable: adding
it again replaces it, and a re-run after a crash adds only what is missing (audio already stored for the same
speaker and model is not analysed again unless `update=True`). Records are written every `chunk` clips, so a
crash loses at most the clips in flight. A bad input is reported and the rest carry on.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from emostudio import runs
from emostudio.clips import Clip, ClipFailure, ClipSource, iter_clips, read_stored, resolve_sources
from emostudio.errors import EmoStudioError
from emostudio.profiles.errors import ProfileError
from emostudio.profiles.records import ProfileRecord, check_speaker, parse_time, record_id
from emostudio.profiles.store import ProfileStore


def file_digest(path: str | os.PathLike) -> str:
    """`sha256:<hex>` of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return f"sha256:{h.hexdigest()}"


def source_key(src: ClipSource) -> str:
    """What identifies a clip within a speaker: the file's digest, or a run's id and analysis time."""
    if src.kind == "run":
        doc = runs.read_result(src.path)
        return f"run:{doc.get('run_id') or src.path.name}:{doc.get('timestamp', '')}"
    return file_digest(src.path)


def file_time(path: str | os.PathLike) -> datetime:
    """When a recording was made: the container's creation_time tag when it has one, else the file's mtime."""
    return container_time(path) or datetime.fromtimestamp(os.stat(path).st_mtime, timezone.utc)


def container_time(path: str | os.PathLike) -> datetime | None:
    """The creation_time tag of a media file (phones and recorders write one into mp4/m4a/mov), if readable."""
    import av

    try:
        with av.open(str(path)) as c:
            tags = {**(c.metadata or {}), **(c.streams.audio[0].metadata if c.streams.audio else {})}
        stamp = parse_time(tags.get("creation_time"))
    except (av.FFmpegError, OSError, ValueError, EmoStudioError):  # no readable tag
        return None
    return stamp if stamp is not None and stamp.year > 1971 else None


def record_from_clip(
    clip: Clip,
    speaker: str,
    *,
    key: str,
    recorded_at: datetime | str | None = None,
    tags: Sequence[str] = (),
    model_id: str | None = None,
) -> ProfileRecord:
    """A record of `speaker` from an analysed clip (it needs scores and a model id)."""
    if clip.probs is None:
        raise ProfileError(
            f"{clip.name}: a bare embedding has no emotion scores; add the audio or its run folder instead"
        )
    mid = clip.model_id or model_id
    if not mid:
        raise ProfileError(f"{clip.name}: unknown model; give the model id (--model-id) of this embedding")
    when = recorded_at if recorded_at is not None else clip.analysed_at
    return ProfileRecord(
        speaker=speaker,
        recorded_at=parse_time(when) or datetime.now(timezone.utc),
        scores=clip.probs,
        model_id=mid,
        key=key,
        embedding=clip.vector,
        source=clip.source or clip.name,
        quality=clip.quality,
        tags=list(tags),
        random_weights=clip.random_weights,
        run_id=clip.run_id,
        duration_s=clip.duration_s,
    )


@dataclass
class AddReport:
    """What an add did: records written, clips skipped because already stored, and each failure."""

    added: int = 0
    skipped: int = 0
    failed: list[ClipFailure] = field(default_factory=list)
    speakers: Counter = field(default_factory=Counter)
    ids: list[str] = field(default_factory=list)

    def stored(self, store: ProfileStore, records: list[ProfileRecord]) -> None:
        """Add `records` to `store` (one call) and count them as added."""
        if not records:
            return
        store.add(records)
        self.added += len(records)
        self.ids += [r.id for r in records]
        self.speakers.update(r.speaker for r in records)

    def merge(self, other: AddReport) -> None:
        """Add another report's counts, failures, speakers and ids to this one."""
        self.added += other.added
        self.skipped += other.skipped
        self.failed += other.failed
        self.speakers.update(other.speakers)
        self.ids += other.ids

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "skipped": self.skipped,
            "failed": [f.to_dict() for f in self.failed],
            "speakers": dict(self.speakers),
            "ids": self.ids,
        }


@dataclass
class _Planned:
    src: ClipSource
    speaker: str
    key: str
    id: str


def add_sources(
    store: ProfileStore,
    specs: Iterable[str | os.PathLike],
    *,
    speaker: str | None = None,
    recognizer=None,
    at: datetime | str | None = None,
    tags: Sequence[str] = (),
    runs_root: str | os.PathLike = "outputs",
    update: bool = False,
    chunk: int = 32,
    model_id: str | None = None,
    on_plan: Callable[[int], None] | None = None,
    on_item: Callable[[Clip | ClipFailure], None] | None = None,
) -> AddReport:
    """Analyse (batched) and store audio files, folders, manifests and run folders as records of `speaker`.

    A manifest's speaker and time columns win over `speaker`; `at` wins over every other time. `recognizer` is a
    Recognizer or a function returning one (called only if audio must be scored). `on_plan(n)` is told how many
    inputs will be read; `on_item` gets each clip and each failure (names that resolve to nothing included).
    """
    at_time = parse_time(at, what="--at")
    sources, failures = resolve_sources(specs, runs_root)
    report = AddReport(failed=list(failures))
    for f in failures:
        if on_item:
            on_item(f)
    plan = _plan(sources, speaker, report, on_item)
    cached: list = []

    def get_rec():
        if not cached:
            is_factory = callable(recognizer) and not hasattr(recognizer, "analyze_many")
            cached.append(recognizer() if is_factory else recognizer)
        return cached[0]

    if not update and any(p.src.kind == "audio" for p in plan):
        rec = get_rec()
        if rec is not None:
            stored = store.existing_ids([p.id for p in plan if p.src.kind == "audio"], rec.model.model_id)
            report.skipped = sum(p.src.kind == "audio" and p.id in stored for p in plan)
            plan = [p for p in plan if not (p.src.kind == "audio" and p.id in stored)]
    if on_plan:
        on_plan(len(plan))

    buffer: list[ProfileRecord] = []
    items = iter_clips([p.src for p in plan], get_rec, quality=True, chunk=chunk)
    for p, item in zip(plan, items, strict=True):
        if isinstance(item, Clip):
            try:
                when = at_time or parse_time(p.src.time, what=f"{p.src.name}: time")
                if when is None and p.src.kind == "audio":
                    when = file_time(p.src.path)
                buffer.append(
                    record_from_clip(
                        item, p.speaker, key=p.key, recorded_at=when, tags=tags, model_id=model_id
                    )
                )
            except EmoStudioError as e:
                item = ClipFailure(p.src.name, e.code, str(e), p.src)
        if isinstance(item, ClipFailure):
            report.failed.append(item)
        if on_item:
            on_item(item)
        if len(buffer) >= chunk:
            report.stored(store, buffer)
            buffer = []
    report.stored(store, buffer)
    return report


def _plan(
    sources: list[ClipSource],
    speaker: str | None,
    report: AddReport,
    on_item: Callable[[Clip | ClipFailure], None] | None,
) -> list[_Planned]:
    """Each source with its speaker, key and record id; a source without a usable speaker or key is a failure."""
    plan: list[_Planned] = []
    for src in sources:
        try:
            spk = check_speaker(src.speaker or speaker)
            key = source_key(src)
        except (EmoStudioError, OSError, ValueError) as e:
            code = getattr(e, "code", "file_missing" if isinstance(e, OSError) else "bad_input")
            report.failed.append(ClipFailure(src.name, code, f"{src.name}: {e}", src))
            if on_item:
                on_item(report.failed[-1])
            continue
        plan.append(_Planned(src, spk, key, record_id(spk, key)))
    return plan


def add_run(
    store: ProfileStore,
    run_dir: str | os.PathLike,
    speaker: str,
    *,
    at: datetime | str | None = None,
    tags: Sequence[str] = (),
    clip: Clip | None = None,
) -> ProfileRecord:
    """Store one finished run folder (result.json + embedding.npy) as a record of `speaker`; returns the record.

    `clip` gives the embedding when the run has none (the server scores its processed audio again)."""
    src = ClipSource(Path(run_dir).name, "run", Path(run_dir))
    clip = clip or read_stored(src)
    if clip is None:
        raise ProfileError(
            f"{src.name}: the run has no embedding.npy; analyse with embedding on, or score it again"
        )
    rec = record_from_clip(
        clip, check_speaker(speaker), key=source_key(src), recorded_at=parse_time(at), tags=tags
    )
    store.add([rec])
    return rec


# ---- finished batch jobs -----------------------------------------------------------------------------------------
def add_batch_results(
    store: ProfileStore,
    batch_dir: str | os.PathLike,
    *,
    speaker: str | None = None,
    speaker_column: str = "speaker",
    at: datetime | str | None = None,
    tags: Sequence[str] = (),
    on_part: Callable[[int, int], None] | None = None,
) -> AddReport:
    """Store every recognised row of a finished `emostudio batch ... --embedding` folder.

    Reads each committed `part-NNNNN.parquet` with its `embeddings-NNNNN.npy` (rows `embedding_start` …
    `+embedding_count`; frame embeddings are mean-pooled). The speaker is the row's `speaker_column`, else
    `speaker`; the time `at`, else the row's time, else the audio file's time, else when the shard was written.
    Failed rows and rows without a speaker are reported, not stored; the per-channel rows of two-party calls
    (`channel` set) are left out (the call's own row is stored). One `store.add` per shard.
    `on_part(done, total)` is called after each shard.
    """
    import pyarrow.parquet as pq

    folder = Path(batch_dir)
    parts = sorted(
        (p, int(m.group(1))) for p in folder.glob("part-*.parquet") if (m := runs.PART_RE.match(p.name))
    )
    if not parts:
        raise ProfileError(f"{folder}: no finished batch shards (part-NNNNN.parquet) here")
    at_time = parse_time(at, what="--at")
    report = AddReport()
    for n, (part, idx) in enumerate(parts, 1):
        emb_path = folder / runs.part_files(idx)[1]
        rows = pq.read_table(part).to_pylist()
        if not emb_path.is_file():
            raise ProfileError(
                f"{folder}: {part.name} has no {emb_path.name}; run the batch with --embedding to store it"
            )
        emb = np.load(emb_path, allow_pickle=False)
        written = datetime.fromtimestamp(part.stat().st_mtime, timezone.utc)
        records = []
        for row in rows:
            name = row.get("id") or row.get("path") or "?"
            if row.get("channel") is not None:  # a channel row of a two-party call: its input's row is stored
                continue
            if row.get("error_code"):
                report.failed.append(
                    ClipFailure(name, row["error_code"], row.get("error") or "failed in the batch")
                )
                continue
            try:
                spk = check_speaker(row.get(speaker_column) or speaker)
                records.append(_batch_record(row, name, spk, emb, emb_path.name, at_time, written, tags))
            except (EmoStudioError, OSError, ValueError, KeyError, TypeError) as e:
                code = getattr(e, "code", "bad_row")
                report.failed.append(ClipFailure(name, code, f"{name}: {e}"))
        report.stored(store, records)
        if on_part:
            on_part(n, len(parts))
    return report


def _batch_record(
    row: dict,
    name: str,
    speaker: str,
    emb: np.ndarray,
    emb_name: str,
    at_time: datetime | None,
    written: datetime,
    tags: Sequence[str],
) -> ProfileRecord:
    """The record of one recognised batch row; its embedding is rows `embedding_start`… of `emb`, mean-pooled."""
    start, count = row.get("embedding_start"), row.get("embedding_count")
    if start is None or not count:
        raise ProfileError(f"{name}: no embedding rows in {emb_name}")
    vec = emb[int(start) : int(start) + int(count)].astype(np.float64).mean(axis=0)
    path = Path(row["path"]) if row.get("path") else None
    found = path if path is not None and path.is_file() else None
    key = file_digest(found) if found else f"batch:{row.get('id')}:{row.get('path')}"
    when = at_time or parse_time(row.get("time"), what=f"{name}: time")
    return ProfileRecord(
        speaker=speaker,
        recorded_at=when or (file_time(found) if found else written),
        scores=np.array([float(row[c]) for c in runs.SCORE_COLUMNS]),
        model_id=row["model_id"],
        key=key,
        embedding=vec,
        source=row.get("path") or name,
        quality=row.get("quality_verdict"),
        tags=list(tags),
        random_weights=bool(row.get("random_weights")),
        duration_s=row.get("duration_s"),
    )
