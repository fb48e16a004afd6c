"""The local batch runner: every input of a job through `emostudio.pipeline`, rows committed in shards.

inputs → pipeline (prepare in a worker pool, length-sorted model batches, one failure policy)
       → one row per input, in input order → a shard every `shard_size` rows → summary.json
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path

from emostudio.adapt import Adapter, resolve_adapter
from emostudio.batch.exports import batch_formats, export_item
from emostudio.batch.job import BatchProgress, BatchSummary, check_job, finish_job, job_identity
from emostudio.batch.shards import Row, RowContext, ShardStore, error_row, rows_for
from emostudio.errors import BatchError, UsageError
from emostudio.inputs import load_inputs
from emostudio.options import DEFAULT_TEXT_WEIGHT, AnalysisOptions, TextOptions
from emostudio.pipeline import PipelineOptions, iter_results
from emostudio.recognize import DEFAULT_MODEL, Recognizer
from emostudio.records import InputItem
from emostudio.settings import SpeakerSettings


def job_text(text_weight: float | None = None, text_backend: str | None = None) -> TextOptions:
    """How a job reads its transcripts: the given weight and backend, else the defaults (checked)."""
    weight = DEFAULT_TEXT_WEIGHT if text_weight is None else text_weight
    return TextOptions(weight=weight, backend=text_backend or "auto").check()


def text_options_for(
    items: Sequence[InputItem], text: TextOptions, enabled: bool = True
) -> TextOptions | None:
    """The TextOptions transcripts are read with (None when no input has one, or transcripts are off)."""
    if not enabled or not any(it.text for it in items):
        return None
    return text


def job_items(inputs: Sequence[InputItem] | str | os.PathLike) -> list[InputItem]:
    """A job's inputs: a folder or manifest read (emostudio.inputs), or the given items; ids must be unique."""
    items = load_inputs(inputs) if isinstance(inputs, str | os.PathLike) else list(inputs)
    if len({it.id for it in items}) != len(items):
        raise BatchError("input ids must be unique")
    return items


def pending(store: ShardStore, items: Sequence[InputItem]) -> tuple[list[InputItem], BatchProgress]:
    """The inputs an earlier run has not finished, and the progress record of this run."""
    done = store.done_ids()
    todo = [it for it in items if it.id not in done]
    return todo, BatchProgress(len(todo), 0, 0, 0.0, 0.0, len(items) - len(todo))


def identity_of(
    recognizer: Recognizer, options: AnalysisOptions, text_options: TextOptions | None = None
) -> dict:
    """The job identity of analysing with `options` and `recognizer` (see emostudio.batch.job)."""
    ref = recognizer.model_ref
    adapter = recognizer.adapter_for(options)
    settings = {k: v for k, v in recognizer.settings.to_dict().items() if k != "batch_seconds"}
    settings["text"] = text_options
    if options.channels != "mix":  # (only then: the identity of every earlier job stays what it was)
        settings["channels"] = options.channels
    if options.speakers is not None:  # the same: jobs without speaker turns keep their identity
        settings["speakers"] = {
            "speakers": options.speakers,
            "engine": options.speaker_engine,
            "model": None if options.speaker_model is None else os.fspath(options.speaker_model),
            **asdict(SpeakerSettings()),
        }
    return job_identity(
        ref.id,
        recognizer.model.fingerprint(),
        ref.dtype,
        options.granularity,
        options.embedding,
        options.enhance,
        options.quality,
        settings,
        adapter.sha256 if adapter is not None else None,
    )


def context_of(identity: dict, random_weights: bool) -> RowContext:
    return RowContext(identity["model_id"], random_weights, identity["weights_sha256"], identity["dtype"])


def run_batch(
    inputs: Sequence[InputItem] | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    recognizer: Recognizer | None = None,
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
    text: bool = True,
    text_weight: float | None = None,
    text_backend: str | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    on_stage: Callable[[str, str, float], None] | None = None,
    channels: str = "mix",
    adapter: Adapter | str | os.PathLike | None = None,
    exports: Sequence[str] = (),
    options: AnalysisOptions | None = None,
    speakers: int | str | None = None,
) -> BatchSummary:
    """Recognise every input into Parquet shards under `out_dir`; skip inputs finished by an earlier run.

    Inputs are prepared (decoded, checked, enhanced) by `workers` threads (`executor="process"`: a spawned process
    pool, `workers=0` inline) while the model scores groups of about `group_seconds` of audio (default 4 ×
    batch_seconds) in length-sorted batches of at most `batch_seconds` padded seconds. Every `shard_size` rows are
    committed as one shard. A failing input becomes a row with `error_code` and `error`; it never stops the job.
    `channels="separate"` (or a manifest's `roles` / `channels` column): one more row per channel (shards.rows_for);
    `speakers` ("auto"/N; a manifest's `speakers` column per input): one more row per speaker, `<id>#spk0`, ...
    `adapter` (a folder or a loaded adapter, checked against the model before any input is read) fills the adapter
    columns and is part of the job's identity. `exports` (textgrid, eaf, vtt, srt, rttm): each input's annotations
    in `out_dir/exports/`. A manifest's `text` column adds the text columns (emostudio.multimodal; `text=False`
    skips them). `options` (an AnalysisOptions) replaces the keyword analysis options. `progress(BatchProgress)`
    after each input; `on_stage(input id, stage, fraction)` while one is worked on (Recognizer.analyze's stages,
    from the pool's threads too; not told by worker processes). Writes `summary.json`; returns the summary.
    """
    analysis = options or AnalysisOptions(
        granularity,
        embedding,
        enhance,
        quality,
        channels,
        text=job_text(text_weight, text_backend),
        adapter=adapter,
        speakers=speakers,
    )
    pipe = PipelineOptions(analysis, workers, executor, group_seconds=group_seconds).check()
    formats = _check_job_args(shard_size, batch_seconds, exports)
    items = job_items(inputs)
    t0 = time.perf_counter()
    with ShardStore(out_dir) as store:  # before loading the model: a bad --out or a busy folder fails at once
        rec = _recognizer(recognizer, model, device, dtype, allow_download, batch_seconds)
        analysis = resolve_adapter(analysis, rec)  # a folder loaded, other weights refused: before any input
        pipe = replace(pipe, analysis=analysis)
        text_options = text_options_for(items, analysis.text, text)
        identity = identity_of(rec, analysis, text_options)
        previous = check_job(store, identity, force)
        todo, state = pending(store, items)
        ctx = context_of(identity, rec.model_ref.is_random)
        rows = iter_rows(rec, todo, pipe, ctx, text_options, state, (store.dir, formats), on_stage)
        commit_rows(store, rows, shard_size, analysis, progress, state, t0)
        settings = {
            **job_settings(analysis, text_options),
            "batch_seconds": rec.batch_seconds,
            "workers": workers,
            "executor": executor,
            "shard_size": shard_size,
        }
        return finish_job(
            store, identity, ctx.random_weights, state, time.perf_counter() - t0, settings, previous
        )


def _check_job_args(shard_size: int, batch_seconds: float | None, exports: Sequence[str]) -> tuple[str, ...]:
    """UsageError / ExportError for a bad shard size, batch length or export format; the export formats."""
    if not isinstance(shard_size, int) or shard_size < 1:
        raise UsageError(f"shard_size must be at least 1, got {shard_size!r}")
    if batch_seconds is not None and not batch_seconds > 0:
        raise UsageError(f"batch_seconds must be positive, got {batch_seconds!r}")
    return batch_formats(exports)


def _recognizer(
    recognizer: Recognizer | None,
    model: str | os.PathLike | None,
    device: str,
    dtype: str | None,
    allow_download: bool,
    batch_seconds: float | None,
) -> Recognizer:
    """The job's Recognizer: the caller's (a copy when the job's batch_seconds differ), else `model` loaded."""
    rec = recognizer or Recognizer(
        DEFAULT_MODEL if model is None else model, device, dtype, allow_download=allow_download
    )
    if batch_seconds is not None and batch_seconds != rec.settings.batch_seconds:  # never the caller's
        rec = Recognizer(model=rec.model, settings=replace(rec.settings, batch_seconds=float(batch_seconds)))
        rec.adapter = recognizer.adapter if recognizer is not None else None
    return rec


def job_settings(analysis: AnalysisOptions, text_options: TextOptions | None) -> dict:
    """summary.json's analysis settings: embedding, enhancement, quality, transcripts, the adapter's id."""
    adapter = analysis.loaded_adapter
    return {
        "embedding": analysis.embedding,
        "enhance": bool(analysis.enhance),
        "quality": analysis.quality,
        "text": None
        if text_options is None
        else {"weight": text_options.weight, "backend": text_options.backend},
        "adapter": None if adapter is None else adapter.id,
    }


def iter_rows(
    rec: Recognizer,
    todo: list[InputItem],
    pipe: PipelineOptions,
    ctx: RowContext,
    text_options: TextOptions | None,
    state: BatchProgress,
    exports: tuple[Path, tuple[str, ...]] | None = None,
    on_stage: Callable[[str, str, float], None] | None = None,
) -> Iterator[list[Row]]:
    """The rows of each input, in input order: its row (+ one per channel of a two-party call), or its error row.
    `exports`: (the job folder, formats) to write each input's annotations into (emostudio.batch.exports).
    `on_stage(input id, stage, fraction)`: as in run_batch."""
    told = None if on_stage is None else lambda i, key, fraction: on_stage(todo[i].id, key, fraction)
    for outcome in iter_results(rec, todo, pipe, told):
        item: InputItem = outcome.item
        if outcome.error is not None:
            rows = [error_row(item, outcome.error, ctx)]
        else:
            duration_s = outcome.scored_audio().duration_s
            rows = rows_for(item, outcome.result, duration_s, ctx, text_options)
            state.audio_s += duration_s
            if exports is not None and exports[1]:
                problems = export_item(exports[0], item, outcome.result, exports[1])
                if problems:
                    first = rows[0].record
                    first["warnings"] = "; ".join([*filter(None, [first["warnings"]]), *problems])
        outcome.prepared = None
        yield rows


def commit_rows(
    store: ShardStore,
    rows: Iterable[list[Row]],
    shard_size: int,
    analysis: AnalysisOptions,
    progress: Callable[[BatchProgress], None] | None,
    state: BatchProgress,
    t0: float,
) -> None:
    """Commit each input's rows in shards of about `shard_size` rows (an input's rows share a shard)."""
    buffer: list[Row] = []
    frames = analysis.granularity == "frame"
    for group in rows:
        buffer += group
        state.done += 1
        state.failed += group[0].record["error_code"] is not None
        if len(buffer) >= shard_size:
            store.commit(buffer, analysis.embedding, frames)
            buffer.clear()
        if progress:
            state.elapsed_s = time.perf_counter() - t0
            progress(state)
    if buffer:
        store.commit(buffer, analysis.embedding, frames)
