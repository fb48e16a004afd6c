"""The batch job on Ray Data: same inputs, same rows, same shard layout and resume rules as the local runner.

    ray.data.from_items(pending inputs) → map_batches(EmotionActor, actor pool holding the model; GPU actors
    when the cluster has GPUs, fractional GPUs allowed) → rows streamed back to the driver → ShardStore commits

Each actor runs its batch through `emostudio.pipeline` (the same failure policy as everywhere). The driver
writes the shards (temp file + rename), so a Ray job is resumable and crash-safe exactly like a local one.
Rows travel from actors to the driver pickled: that is Ray's own transport between processes of one job,
never data from outside.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from emostudio.batch.job import BatchProgress, BatchSummary, check_job, finish_job, job_identity
from emostudio.batch.runner import job_items, job_text, pending, text_options_for
from emostudio.batch.shards import Row, RowContext, ShardStore, error_row, result_row
from emostudio.errors import BatchError, EmoStudioError, UsageError
from emostudio.model.checkpoint import DEMO_ID, find_model, load_model, weights_file
from emostudio.model.weights import file_sha256
from emostudio.options import AnalysisOptions, TextOptions
from emostudio.pipeline import PipelineOptions, iter_results
from emostudio.recognize import Recognizer, check_device, precision_name
from emostudio.records import InputItem
from emostudio.settings import Settings


@dataclass(frozen=True)
class ActorSpec:
    """What each model actor loads and how it analyses (sent to every actor)."""

    model: str
    device: str
    dtype: str | None
    allow_download: bool
    settings: Settings
    options: PipelineOptions  # the analysis options (granularity, embedding, ...) and the prepare threads
    text_options: TextOptions | None = None  # when inputs carry transcripts


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide the job runs on Ray."""

    address: str | None = None  # None: a private local cluster of `num_cpus` CPUs
    actors: int | None = None  # model replicas; None: one per GPU share, else half the CPUs
    gpus_per_actor: float | None = None  # None: 1 when the cluster has GPUs, else 0; fractions share a GPU
    batch_size: int = 32  # inputs per actor call
    num_cpus: int = 2
    shutdown: bool = True  # stop Ray at the end


def _text(value) -> str | None:
    """A manifest field back from Ray; missing ones travel as "" (Ray turns a None among strings into 'nan')."""
    return None if value is None or value == "" else str(value)


def _item(values: Sequence[object]) -> InputItem:
    """An input back from Ray's columns (id, path, speaker, time, label, text); id and path are never empty."""
    id_, path, *rest = values
    return InputItem(str(id_), str(path), *(_text(v) for v in rest))


class EmotionActor:
    """Ray Data callable class: holds one Recognizer; maps a batch of inputs to pickled `Row`s."""

    def __init__(self, spec: ActorSpec, context: RowContext):
        self.rec = Recognizer(
            model=spec.model,
            device=spec.device,
            dtype=spec.dtype,
            settings=spec.settings,
            allow_download=spec.allow_download,
        )
        self.options = spec.options
        self.text_options = spec.text_options
        self.context = replace(context, random_weights=self.rec.model_ref.is_random)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        fields = ("id", "path", "speaker", "time", "label", "text")
        items = [_item(vals) for vals in zip(*(batch[f] for f in fields), strict=True)]
        rows: list[Row] = []
        for o in iter_results(self.rec, items, self.options):
            if o.error is not None:
                rows.append(error_row(o.item, o.error, self.context))
            else:
                rows.append(
                    result_row(o.item, o.result, o.scored_audio().duration_s, self.context, self.text_options)
                )
            o.prepared = None
        out = np.empty(len(rows), dtype=object)
        out[:] = [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in rows]
        return {"row": out}


def _model_identity(model: str | os.PathLike, allow_download: bool) -> tuple[str, str]:
    """(model id, weights sha256) without loading the model (the driver never holds it)."""
    if os.fspath(model) == DEMO_ID:
        return DEMO_ID, load_model(DEMO_ID, device="cpu").fingerprint()
    folder, model_id = find_model(model, allow_download)
    return model_id, file_sha256(weights_file(folder))


def init_ray(address: str | None = None, num_cpus: int = 2, object_store_mb: int = 128) -> None:
    """Start (address None: a private local cluster) or join Ray, with usage stats and the dashboard off."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    if ray.is_initialized():
        return
    quiet: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    if address:
        ray.init(address=address, **quiet)
    else:
        ray.init(
            address="local", num_cpus=num_cpus, object_store_memory=object_store_mb * 1024 * 1024, **quiet
        )
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def run_ray_batch(
    inputs: Sequence[InputItem] | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    model: str | os.PathLike,
    device: str = "auto",
    dtype: str | None = None,
    allow_download: bool = True,
    settings: Settings | None = None,
    granularity: str = "utterance",
    embedding: bool = False,
    enhance: bool = False,
    quality: bool = True,
    batch_seconds: float | None = None,
    address: str | None = None,
    actors: int | None = None,
    gpus_per_actor: float | None = None,
    batch_size: int = 32,
    num_cpus: int = 2,
    shard_size: int = 256,
    force: bool = False,
    shutdown: bool = True,
    text: bool = True,
    text_weight: float | None = None,
    text_backend: str | None = None,
    progress: Callable[[BatchProgress], None] | None = None,
    options: AnalysisOptions | None = None,
) -> BatchSummary:
    """`emostudio.batch.run_batch` on Ray Data: `address` None starts a local cluster of `num_cpus` CPUs.

    `actors` model replicas (default: one per GPU share, else half the CPUs); `gpus_per_actor` (default 1 when
    the cluster has GPUs, else 0; fractions such as 0.5 pack actors onto one GPU); `batch_size` inputs per
    actor call. `options` (an AnalysisOptions) replaces the keyword analysis options when given. Writes the
    same shards, job.json and summary.json as the local runner.
    """
    analysis = options or AnalysisOptions(
        granularity, embedding, enhance, quality, text=job_text(text_weight, text_backend)
    )
    pipe = PipelineOptions(analysis, workers=2, executor="thread").check()
    check_device(device, dtype)
    if batch_size < 1 or shard_size < 1:
        raise UsageError("batch_size and shard_size must be at least 1")
    items = job_items(inputs)
    _local_only(analysis, items)
    settings = settings or Settings()
    if batch_seconds is not None:
        settings = replace(settings, batch_seconds=float(batch_seconds))
    model_id, weights = _model_identity(model, allow_download)
    text_options = text_options_for(items, analysis.text, text)
    identity = _identity(model_id, weights, precision_name(dtype), analysis, settings, text_options)
    spec = ActorSpec(os.fspath(model), device, dtype, allow_download, settings, pipe, text_options)
    ray_opts = RayOptions(address, actors, gpus_per_actor, batch_size, num_cpus, shutdown)
    t0 = time.perf_counter()
    with ShardStore(Path(out_dir)) as store:
        previous = check_job(store, identity, force)
        todo, state = pending(store, items)
        ctx = RowContext(model_id, model_id == "demo", weights, identity["dtype"])
        if todo:
            ctx = _run(todo, store, state, t0, progress, spec, ray_opts, ctx, shard_size)
        table = store.read()
        random_weights = (
            bool(table.column("random_weights")[0].as_py()) if table.num_rows else ctx.random_weights
        )
        job_settings = {
            "embedding": analysis.embedding,
            "enhance": bool(analysis.enhance),
            "quality": analysis.quality,
            "batch_seconds": settings.batch_seconds,
            "ray": address or "local",
            "actors": actors,
            "gpus_per_actor": gpus_per_actor,
            "batch_size": batch_size,
            "shard_size": shard_size,
        }
        return finish_job(
            store, identity, random_weights, state, time.perf_counter() - t0, job_settings, previous
        )


def _local_only(analysis: AnalysisOptions, items: Sequence[InputItem]) -> None:
    """BatchError for what only the local runner does: two-party rows (one row per channel) and adapters."""
    if analysis.channels == "separate" or any(it.roles or it.channels == "separate" for it in items):
        raise BatchError(
            "the manifest names channel roles (two-party calls, one row per channel): run it without --ray"
        )
    if analysis.adapter is not None:
        raise BatchError("an adapter (--adapter) is read by the local runner only: run the job without --ray")
    if analysis.speakers is not None or any(it.speakers for it in items):
        raise BatchError(
            "speaker turns (--speakers, a speakers column) run on the local runner only: leave out --ray"
        )


def _identity(
    model_id: str,
    weights: str,
    dtype: str,
    analysis: AnalysisOptions,
    settings: Settings,
    text_options: TextOptions | None,
) -> dict:
    """The job identity (emostudio.batch.job) of a Ray job: the same as the local runner's for the same job."""
    identity_settings = {k: v for k, v in settings.to_dict().items() if k != "batch_seconds"}
    identity_settings["text"] = text_options
    a = analysis
    return job_identity(
        model_id, weights, dtype, a.granularity, a.embedding, a.enhance, a.quality, identity_settings
    )


def _run(
    todo: list[InputItem],
    store: ShardStore,
    state: BatchProgress,
    t0: float,
    progress: Callable[[BatchProgress], None] | None,
    spec: ActorSpec,
    ray_opts: RayOptions,
    ctx: RowContext,
    shard_size: int,
) -> RowContext:
    """Start (or join) Ray, stream the pending inputs through the actor pool and commit their rows, and stop Ray
    again when asked; returns the rows' context."""
    import ray

    init_ray(ray_opts.address, ray_opts.num_cpus)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        resources = ray.cluster_resources()
        gpus = float(resources.get("GPU", 0))
        per = ray_opts.gpus_per_actor if ray_opts.gpus_per_actor is not None else (1.0 if gpus else 0.0)
        actors = ray_opts.actors
        if actors is None:
            actors = max(1, int(gpus / per)) if per > 0 else max(1, int(resources.get("CPU", 2)) // 2)
        actor_spec = replace(
            spec, device="cuda" if per > 0 else ("cpu" if spec.device == "auto" else spec.device)
        )
        ds: ray.data.Dataset = ray.data.from_items(
            [{k: "" if v is None else v for k, v in asdict(it).items()} for it in todo]
        )
        ds = ds.map_batches(
            EmotionActor,
            fn_constructor_kwargs=dict(spec=actor_spec, context=ctx),
            batch_size=ray_opts.batch_size,
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_gpus=per or None,
            num_cpus=1,
            batch_format="numpy",
        )
        embedding, frames = spec.options.analysis.embedding, spec.options.analysis.granularity == "frame"
        buffer: list[Row] = []
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            for blob in batch["row"]:
                row: Row = pickle.loads(blob)
                buffer.append(row)
                state.done += 1
                state.failed += row.record["error_code"] is not None
                state.audio_s += row.record["duration_s"] or 0.0
                ctx = replace(ctx, random_weights=bool(row.record["random_weights"]))
                if len(buffer) >= shard_size:
                    store.commit(buffer, embedding, frames)
                    buffer.clear()
            if progress:
                state.elapsed_s = time.perf_counter() - t0
                progress(state)
        if buffer:
            store.commit(buffer, embedding, frames)
        if state.done != len(todo):
            raise EmoStudioError(f"Ray returned {state.done} rows for {len(todo)} inputs")
        return ctx
    finally:
        if ray_opts.shutdown:
            ray.shutdown()
