"""Batch jobs: many inputs → Parquet shards, resumable and crash-safe.

    inputs (folder / CSV / JSONL / wav.scp) → prepare in a worker pool (decode, VAD, quality, enhance)
        → one model on the main thread, length-sorted batches of at most `batch_seconds` of padded audio
        → rows committed in shards: out/part-00000.parquet (+ embeddings-00000.npy, frames-00000.parquet)

A shard is the unit of commit. Its companion files are written first and `part-NNNNN.parquet` last, each by
temp file + rename, so after a crash (even `kill -9`) every `part-*.parquet` present is complete; the inputs
done are exactly the ids in those parts, and a re-run skips them. Companions without their part file and
temp files are leftovers of a crash and are removed on the next run. One row per input, failures included.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import multiprocessing
import os
import re
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from emostudio import atomic
from emostudio.errors import EmoStudioError
from emostudio.model.labels import KEYS

PART_RE = re.compile(r"^part-(\d{5,})\.parquet$")
JOB_FILE = "job.json"
SUMMARY_FILE = "summary.json"
LOCK_FILE = ".lock"
SCORE_COLUMNS = tuple(f"score_{k}" for k in KEYS)

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
        ("model_id", pa.string()),
        ("random_weights", pa.bool_()),
        ("segments", pa.int32()),
        # rows of embeddings-NNNNN.npy that belong to this input (1 row in utterance mode, one per frame in
        # frame mode, 0 for a failure); only filled when embeddings were asked for
        ("embedding_start", pa.int64()),
        ("embedding_count", pa.int64()),
    ]
)
FRAMES_SCHEMA = pa.schema(
    [("id", pa.string()), ("start_s", pa.float64()), ("end_s", pa.float64()), ("label", pa.string()),
     ("confidence", pa.float64()), *[(c, pa.float64()) for c in SCORE_COLUMNS]]
)  # fmt: skip


class BatchError(EmoStudioError):
    """A problem with the job as a whole: an unreadable manifest, a settings clash with an earlier run."""

    code = "batch_error"


# ---------------------------------------------------------------------------------------------------- inputs
@dataclass
class InputItem:
    """One input of a job. `id` is stable across runs: from the manifest, else the path relative to the folder."""

    id: str
    path: str
    speaker: str | None = None
    time: str | None = None
    label: str | None = None
    text: str | None = None


_ALIASES = {
    "id": ("id", "key", "utt", "utt_id", "uttid"),
    "path": ("path", "source", "wav", "audio", "file", "filename"),
    "speaker": ("speaker", "spk", "speaker_id"),
    "time": ("time", "timestamp", "start_time"),
    "label": ("label", "emotion", "target", "ref_label"),
    "text": ("text", "transcript", "sentence"),
}


def _field(row: dict, name: str) -> str | None:
    for key in _ALIASES[name]:
        value = row.get(key)
        if value is not None and str(value).strip() != "":
            return str(value).strip()
    return None


def _resolve(path: str, base: Path) -> str:
    p = Path(os.path.expanduser(path))
    return str(p if p.is_absolute() else base / p)


def _from_rows(rows: Iterator[tuple[int, dict]], manifest: Path) -> list[InputItem]:
    base = manifest.parent
    items = []
    for line, row in rows:
        path = _field(row, "path")
        if path is None:
            raise BatchError(
                f"{manifest}: line {line} has no path (expected a column named one of "
                f"{', '.join(_ALIASES['path'])})"
            )
        items.append(
            InputItem(
                _field(row, "id") or path,
                _resolve(path, base),
                _field(row, "speaker"),
                _field(row, "time"),
                _field(row, "label"),
                _field(row, "text"),
            )
        )
    return items


def _read_csv(manifest: Path) -> list[InputItem]:
    with manifest.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        cols = {c.strip().lower() for c in reader.fieldnames or []}
        if not cols & set(_ALIASES["path"]):
            raise BatchError(
                f"{manifest}: no path column in the header {sorted(cols)} (expected one of "
                f"{', '.join(_ALIASES['path'])})"
            )
        rows = ((i + 2, {(k or "").strip().lower(): v for k, v in r.items()}) for i, r in enumerate(reader))
        return _from_rows(rows, manifest)


def _read_jsonl(manifest: Path) -> list[InputItem]:
    def rows() -> Iterator[tuple[int, dict]]:
        with manifest.open(encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise BatchError(f"{manifest}: line {i} is not valid JSON ({e.msg})") from e
                if not isinstance(obj, dict):
                    raise BatchError(f"{manifest}: line {i} is not a JSON object")
                yield i, {k.lower(): v for k, v in obj.items()}

    return _from_rows(rows(), manifest)


def _read_scp(manifest: Path) -> list[InputItem]:
    """Kaldi / FunASR `wav.scp`: `<id> <path>` per line; piped commands (`... |`) are not supported."""
    items = []
    with manifest.open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(maxsplit=1)
            if len(parts) != 2:
                raise BatchError(f"{manifest}: line {i} should be '<id> <path>', got {line!r}")
            if parts[1].rstrip().endswith("|"):
                raise BatchError(
                    f"{manifest}: line {i} is a piped command; only plain file paths are supported"
                )
            items.append(InputItem(parts[0], _resolve(parts[1].strip(), manifest.parent)))
    return items


def load_inputs(source: str | os.PathLike) -> list[InputItem]:
    """Inputs of a job from a folder (recursive, audio extensions), a CSV / JSONL manifest, or a `wav.scp`.

    Manifest columns: path (or source/wav/audio/file), optional id (or key), speaker, time, label, text;
    relative paths are taken from the manifest's folder. Ids must be unique. Raises BatchError.
    """
    from emostudio.audio import AUDIO_EXTENSIONS

    src = Path(source)
    if src.is_dir():
        files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
        items = [InputItem(p.relative_to(src).as_posix(), str(p)) for p in files]
        if not items:
            raise BatchError(
                f"{src}: no audio files found (extensions: {', '.join(sorted(AUDIO_EXTENSIONS))})"
            )
    elif not src.exists():
        raise BatchError(f"{src}: no such folder or manifest")
    else:
        suffix = src.suffix.lower()
        if suffix == ".csv" or suffix == ".tsv":
            items = _read_csv(src)
        elif suffix in (".jsonl", ".json", ".ndjson"):
            items = _read_jsonl(src)
        elif suffix == ".scp" or src.name.endswith("wav.scp"):
            items = _read_scp(src)
        else:
            raise BatchError(f"{src}: not a folder or a manifest (.csv, .jsonl, wav.scp)")
        if not items:
            raise BatchError(f"{src}: the manifest lists no inputs")
    seen: set[str] = set()
    for it in items:
        if it.id in seen:
            raise BatchError(f"{src}: id {it.id!r} appears more than once; ids must be unique")
        seen.add(it.id)
    return items


# ------------------------------------------------------------------------------------------------------ rows
@dataclass
class Row:
    """One input's output: the Parquet record plus its optional embedding and frame table."""

    record: dict
    embedding: np.ndarray | None = None  # (dim,) or (frames, dim) float32
    frame_starts_s: np.ndarray | None = None  # (steps,)
    frame_probs: np.ndarray | None = None  # (steps, 9)
    frame_step_s: float = 0.0


def _base_record(item: InputItem, model_id: str, random_weights: bool) -> dict:
    rec = {c: None for c in SCHEMA.names}
    rec.update(
        id=item.id,
        path=item.path,
        speaker=item.speaker,
        time=item.time,
        ref_label=item.label,
        text=item.text,
        model_id=model_id,
        random_weights=random_weights,
    )
    return rec


def error_row(item: InputItem, error: BaseException, model_id: str, random_weights: bool) -> Row:
    """The row of an input that failed: `error_code` from the typed error (`internal` for an unexpected one)."""
    rec = _base_record(item, model_id, random_weights)
    if isinstance(error, EmoStudioError):
        rec.update(error_code=error.code, error=str(error))
    else:
        rec.update(error_code="internal", error=f"{item.path}: {type(error).__name__}: {error}")
    return Row(rec)


def result_row(item: InputItem, result, duration_s: float) -> Row:
    """The row of an input that was recognised (`result` is an emostudio.results.Result)."""
    rec = _base_record(item, result.model.id, bool(result.model.is_random))
    rec.update(
        duration_s=round(float(duration_s), 6),
        label=result.label,
        confidence=float(result.confidence),
        band=result.band.key,
        segments=len(result.segments),
        quality_verdict=(result.quality or {}).get("verdict"),
    )
    for col, p in zip(SCORE_COLUMNS, result.probs, strict=True):
        rec[col] = float(p)
    row = Row(rec, None if result.embedding is None else np.asarray(result.embedding, np.float32))
    if result.frames is not None:
        row.frame_starts_s = np.asarray(result.frames.starts_s, np.float64)
        row.frame_probs = np.asarray(result.frames.probs, np.float64)
        row.frame_step_s = float(result.frames.step_s)
    return row


# ---------------------------------------------------------------------------------------------------- shards
def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array, np.float32), allow_pickle=False)
    return buf.getvalue()


def _parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


class ShardStore:
    """The output folder of a job: finds finished ids, cleans crash leftovers, commits shards atomically.

    Holds an exclusive lock on `out_dir/.lock` while open, so two runs never write the same folder at once.
    """

    def __init__(self, out_dir: str | os.PathLike):
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.dir / LOCK_FILE, "a+")  # noqa: SIM115 (held for the store's lifetime)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            self._lock.close()
            raise BatchError(f"{self.dir}: another batch job is writing this folder") from e
        self.removed = self._clean()
        self.parts = sorted(self.dir.glob("part-*.parquet"))
        self.next_index = 1 + max((int(PART_RE.match(p.name).group(1)) for p in self.parts), default=-1)

    def close(self) -> None:
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def __enter__(self) -> ShardStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _clean(self) -> list[str]:
        """Remove temp files and companions whose part file never landed (a crash mid-commit)."""
        removed = []
        parts = {m.group(1) for p in self.dir.iterdir() if (m := PART_RE.match(p.name))}
        for p in self.dir.iterdir():
            m = re.match(r"^(embeddings|frames)-(\d{5,})\.(npy|parquet)$", p.name)
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
            except Exception as e:
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
        name = f"{self.next_index:05d}"
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
            atomic.write_bytes(self.dir / f"embeddings-{name}.npy", _npy_bytes(np.concatenate(blocks)))
        if frames or any(r.frame_starts_s is not None for r in rows):
            cols: dict[str, list] = {c: [] for c in FRAMES_SCHEMA.names}
            for r in rows:
                if r.frame_starts_s is None:
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
            atomic.write_bytes(self.dir / f"frames-{name}.parquet", _parquet_bytes(table))
        part = self.dir / f"part-{name}.parquet"
        atomic.write_bytes(part, _parquet_bytes(pa.Table.from_pylist(records, schema=SCHEMA)))
        self.parts.append(part)
        self.next_index += 1
        return part

    def read(self) -> pa.Table:
        """Every committed row, shards in order."""
        if not self.parts:
            return SCHEMA.empty_table()
        return pa.concat_tables([pq.read_table(p, schema=SCHEMA) for p in self.parts])


def read_results(out_dir: str | os.PathLike) -> pa.Table:
    """All rows of a job folder (committed shards only), as one Arrow table."""
    parts = sorted(Path(out_dir).glob("part-*.parquet"))
    return (
        pa.concat_tables([pq.read_table(p, schema=SCHEMA) for p in parts]) if parts else SCHEMA.empty_table()
    )


# ------------------------------------------------------------------------------------------------ job checks
def job_settings(
    model_id: str, granularity: str, embedding: bool, enhance: bool, quality: bool, settings: dict
) -> dict:
    """What decides the results of a job; a resume must match it."""
    return {
        "model_id": model_id,
        "granularity": granularity,
        "embedding": embedding,
        "enhance": enhance,
        "quality": quality,
        "settings": json.loads(json.dumps(settings, default=str)),
    }


def check_job(out_dir: Path, wanted: dict, force: bool) -> None:
    """Refuse to add to a folder made with other settings (unless `force`), then record the settings."""
    path = out_dir / JOB_FILE
    if path.exists() and not force:
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise BatchError(
                f"{path}: unreadable job settings ({e}); use --force to start them afresh"
            ) from e
        diff = sorted(k for k in wanted if old.get(k) != wanted[k])
        if diff:
            shown = "; ".join(f"{k}: was {old.get(k)!r}, now {wanted[k]!r}" for k in diff if k != "settings")
            if "settings" in diff:
                shown = "; ".join(filter(None, [shown, "pipeline settings (thresholds) differ"]))
            raise BatchError(
                f"{out_dir}: this folder holds a job run with other settings ({shown}). Use the "
                "same options to resume, another --out, or --force to add to it anyway"
            )
    atomic.write_json(path, wanted)


# ---------------------------------------------------------------------------------------------------- runner
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
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(
    table: pa.Table,
    out_dir: Path,
    model_id: str,
    random_weights: bool,
    state: BatchProgress,
    wall_s: float,
    shards: int,
    granularity: str,
) -> BatchSummary:
    processed, skipped, audio_s = state.done, state.skipped, state.audio_s
    labels = [x for x in table.column("label").to_pylist() if x is not None]
    errors = Counter(x for x in table.column("error_code").to_pylist() if x is not None)
    counts = Counter(labels)
    return BatchSummary(
        out_dir=str(out_dir),
        model_id=model_id,
        random_weights=random_weights,
        total=table.num_rows,
        processed=processed,
        skipped=skipped,
        failed=sum(errors.values()),
        counts={k: counts.get(k, 0) for k in KEYS},
        errors=dict(sorted(errors.items())),
        audio_s=round(audio_s, 3),
        wall_s=round(wall_s, 3),
        files_per_s=round(processed / wall_s, 3) if wall_s > 0 else 0.0,
        audio_h_per_h=round(audio_s / wall_s, 3) if wall_s > 0 else 0.0,
        shards=shards,
        granularity=granularity,
    )


def finish_job(
    store: ShardStore,
    out_dir: Path,
    model_id: str,
    random_weights: bool,
    state: BatchProgress,
    wall_s: float,
    granularity: str,
    settings: dict,
) -> BatchSummary:
    """Summarise every committed row, record the job settings and write summary.json atomically (both runners)."""
    summary = summarize(
        store.read(), out_dir, model_id, random_weights, state, wall_s, len(store.parts), granularity
    )
    summary.settings = settings
    atomic.write_json(out_dir / SUMMARY_FILE, summary.to_dict())
    return summary


_worker_settings = None  # the Settings a worker prepares with


def _die_with_parent(parent_pid: int) -> None:
    """Linux: a worker process gets SIGKILL when the job process dies (even by kill -9), never lingering."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before the request took effect
        os._exit(1)


def _init_worker(settings, parent_pid: int | None = None) -> None:
    global _worker_settings
    if parent_pid is not None:  # a worker process: one torch thread each, or the VAD oversubscribes the cores
        _die_with_parent(parent_pid)
        import torch

        torch.set_num_threads(1)
    _worker_settings = settings


def _prepare_task(item: InputItem, enhance: bool, quality: bool):
    """Runs in a worker: a Prepared, or the error (typed errors as they are; others become BatchError text)."""
    from emostudio.recognize import prepare

    try:
        return prepare(item.path, _worker_settings, name=item.path, enhance=enhance, quality=quality)
    except EmoStudioError as e:
        return _Failed(e.code, str(e))
    except Exception as e:  # one bad file must not stop the job; the row records what happened
        return _Failed("internal", f"{item.path}: {type(e).__name__}: {e}")


@dataclass
class _Failed:
    """Why an input failed in a worker, carried back as text (exceptions with custom __init__ do not pickle)."""

    code: str
    message: str


def _executor(workers: int, settings, kind: str) -> Executor:
    if kind == "process":  # spawn: the workers' parent is this process, so they can die with it
        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init_worker, initargs=(settings, os.getpid())
        )
    if kind == "thread":
        return ThreadPoolExecutor(workers, initializer=_init_worker, initargs=(settings,))
    raise ValueError(f"executor must be 'process' or 'thread', not {kind!r}")


class _Inline(Executor):
    """workers=0: prepare on the calling thread (debugging, tiny jobs)."""

    def __init__(self, settings):
        _init_worker(settings)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        f: Future = Future()
        f.set_result(fn(*args, **kwargs))
        return f


def run_batch(
    inputs: Sequence[InputItem] | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    recognizer=None,
    model: str | os.PathLike | None = None,
    device: str = "auto",
    dtype: str | None = None,
    allow_download: bool = True,
    granularity: str = "utterance",
    embedding: bool = False,
    enhance: bool = False,
    quality: bool = True,
    batch_seconds: float | None = None,
    workers: int = 2,
    executor: str = "thread",
    shard_size: int = 256,
    group_seconds: float | None = None,
    force: bool = False,
    progress: Callable[[BatchProgress], None] | None = None,
) -> BatchSummary:
    """Recognise every input into Parquet shards under `out_dir`; skip inputs finished by an earlier run.

    Inputs are prepared (decoded, checked, enhanced) by `workers` threads (`executor="process"` for a
    spawned process pool, `workers=0` inline) while the main thread runs the model over groups of about `group_seconds` of audio
    (default 4 × batch_seconds), length-sorted into batches of at most `batch_seconds` padded seconds.
    Every `shard_size` rows are committed as one shard. A failing input becomes a row with `error_code` and
    `error`; it never stops the job. Writes `summary.json` at the end and returns the summary.
    """
    from emostudio.recognize import GRANULARITIES, Recognizer

    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, not {granularity!r}")
    if shard_size < 1:
        raise ValueError("shard_size must be at least 1")
    items = load_inputs(inputs) if isinstance(inputs, str | os.PathLike) else list(inputs)
    if len({it.id for it in items}) != len(items):
        raise BatchError("input ids must be unique")
    if recognizer is None:
        kw = {} if model is None else {"model": model}
        recognizer = Recognizer(device=device, dtype=dtype, allow_download=allow_download, **kw)
    rec = recognizer
    if batch_seconds is not None and batch_seconds != rec.settings.batch_seconds:  # never change the caller's
        rec = Recognizer(model=rec.model, settings=replace(rec.settings, batch_seconds=float(batch_seconds)))
    ref = rec.model_ref
    out = Path(out_dir)
    t0 = time.perf_counter()
    with ShardStore(out) as store:
        check_job(
            out,
            job_settings(
                ref.id,
                granularity,
                embedding,
                bool(enhance),
                quality,
                {k: v for k, v in rec.settings.to_dict().items() if k != "batch_seconds"},
            ),
            force,
        )
        done = store.done_ids()
        todo = [it for it in items if it.id not in done]
        skipped = len(items) - len(todo)
        state = BatchProgress(len(todo), 0, 0, 0.0, 0.0, skipped)
        limit = group_seconds or 4 * rec.settings.batch_seconds
        buffer: list[Row] = []
        group: list[tuple[InputItem, object]] = []
        group_s = 0.0

        def emit(row: Row) -> None:
            buffer.append(row)
            state.done += 1
            state.failed += row.record["error_code"] is not None
            if len(buffer) >= shard_size:
                store.commit(buffer, embedding, granularity == "frame")
                buffer.clear()
            if progress:
                state.elapsed_s = time.perf_counter() - t0
                progress(state)

        def flush_group() -> None:
            nonlocal group_s
            if not group:
                return
            for row in _infer_rows(rec, group, granularity, embedding):
                emit(row)
            group.clear()
            group_s = 0.0

        pool = _Inline(rec.settings) if workers <= 0 else _executor(workers, rec.settings, executor)
        try:
            ahead = max(4, 4 * max(workers, 1))  # prepared inputs waiting at most: bounds memory
            queue: deque[tuple[InputItem, Future]] = deque()
            it = iter(todo)
            for item in it:
                queue.append((item, pool.submit(_prepare_task, item, bool(enhance), quality)))
                if len(queue) >= ahead:
                    break
            while queue:
                item, fut = queue.popleft()
                nxt = next(it, None)
                if nxt is not None:
                    queue.append((nxt, pool.submit(_prepare_task, nxt, bool(enhance), quality)))
                got = fut.result()
                if isinstance(got, _Failed):
                    emit(
                        Row(
                            {
                                **_base_record(item, ref.id, ref.is_random),
                                "error_code": got.code,
                                "error": got.message,
                            }
                        )
                    )
                else:
                    state.audio_s += got.duration_s
                    group.append((item, got))
                    group_s += got.duration_s
                    if group_s >= limit or len(group) >= shard_size:
                        flush_group()
            flush_group()
            if buffer:
                store.commit(buffer, embedding, granularity == "frame")
                buffer.clear()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        summary = finish_job(
            store,
            out,
            ref.id,
            ref.is_random,
            state,
            time.perf_counter() - t0,
            granularity,
            {
                "embedding": embedding,
                "enhance": bool(enhance),
                "quality": quality,
                "batch_seconds": rec.settings.batch_seconds,
                "workers": workers,
                "executor": executor,
                "shard_size": shard_size,
            },
        )
    return summary


def _infer_rows(rec, group: list[tuple[InputItem, object]], granularity: str, embedding: bool) -> list[Row]:
    """Rows for prepared inputs scored together; if the batch fails, each input is retried alone so only the
    culprit gets an error row."""
    ref = rec.model_ref
    try:
        results = rec.infer([p for _, p in group], granularity, embedding)
        return [result_row(item, res, p.duration_s) for (item, p), res in zip(group, results, strict=True)]
    except Exception as e:
        if len(group) == 1:
            return [error_row(group[0][0], e, ref.id, ref.is_random)]
        return [_infer_one(rec, g, granularity, embedding, ref) for g in group]


def _infer_one(rec, entry, granularity, embedding, ref) -> Row:
    item, prepared = entry
    try:
        res = rec.infer([prepared], granularity, embedding)[0]
    except Exception as e:
        return error_row(item, e, ref.id, ref.is_random)
    return result_row(item, res, prepared.duration_s)
