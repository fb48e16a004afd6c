"""The batch job on Ray Data: same inputs, same rows, same shard layout and resume rules as `emostudio.batch`.

    ray.data.from_items(pending inputs) → map_batches(EmotionActor, actor pool holding the model; GPU actors
    when the cluster has GPUs, fractional GPUs allowed) → rows streamed back to the driver → ShardStore commits

Each actor decodes and prepares its batch with a small thread pool and scores it in one batched pass. The
driver writes the shards (temp file + rename), so a Ray job is resumable and crash-safe exactly like a local one.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from emostudio.batch import (
    BatchError,
    BatchProgress,
    BatchSummary,
    InputItem,
    Row,
    ShardStore,
    check_job,
    error_row,
    finish_job,
    job_settings,
    load_inputs,
    result_row,
)
from emostudio.errors import EmoStudioError


def _text(value) -> str | None:
    """A manifest field back from Ray; missing ones travel as "" (Ray turns a None among strings into 'nan')."""
    return None if value is None or value == "" else str(value)


class EmotionActor:
    """Ray Data callable class: holds one Recognizer; maps a batch of inputs to pickled `Row`s."""

    def __init__(
        self,
        model: str,
        device: str,
        dtype: str | None,
        allow_download: bool,
        settings,
        granularity: str,
        embedding: bool,
        enhance: bool,
        quality: bool,
        threads: int = 2,
    ):
        from emostudio.recognize import Recognizer

        self.rec = Recognizer(
            model=model, device=device, dtype=dtype, settings=settings, allow_download=allow_download
        )
        self.granularity, self.embedding, self.enhance, self.quality = (
            granularity,
            embedding,
            enhance,
            quality,
        )
        self.pool = ThreadPoolExecutor(max(1, threads))

    def _prepare(self, item: InputItem):
        try:
            return self.rec.prepare(item.path, name=item.path, enhance=self.enhance, quality=self.quality)
        except Exception as e:  # becomes this input's error row; the batch goes on
            return e

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        fields = ("id", "path", "speaker", "time", "label", "text")
        items = [
            InputItem(*(_text(v) for v in vals)) for vals in zip(*(batch[f] for f in fields), strict=True)
        ]
        ref = self.rec.model_ref
        prepared = list(self.pool.map(self._prepare, items))
        rows: list[Row | None] = [None] * len(items)
        ok = []
        for i, (item, p) in enumerate(zip(items, prepared, strict=True)):
            if isinstance(p, Exception):
                rows[i] = error_row(item, p, ref.id, ref.is_random)
            else:
                ok.append(i)
        if ok:
            try:
                results = self.rec.infer([prepared[i] for i in ok], self.granularity, self.embedding)
                for i, res in zip(ok, results, strict=True):
                    rows[i] = result_row(items[i], res, prepared[i].duration_s)
            except Exception:  # find the culprit: score each input alone
                for i in ok:
                    try:
                        res = self.rec.infer([prepared[i]], self.granularity, self.embedding)[0]
                        rows[i] = result_row(items[i], res, prepared[i].duration_s)
                    except Exception as e:
                        rows[i] = error_row(items[i], e, ref.id, ref.is_random)
        out = np.empty(len(rows), dtype=object)
        out[:] = [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in rows]
        return {"row": out}


def _model_id(model: str | os.PathLike, allow_download: bool) -> str:
    from emostudio.model.checkpoint import DEMO_ID, find_model

    return DEMO_ID if os.fspath(model) == DEMO_ID else find_model(model, allow_download)[1]


def init_ray(address: str | None = None, num_cpus: int = 2, object_store_mb: int = 128) -> None:
    """Start (address None: a private local cluster) or join Ray, with usage stats and the dashboard off."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    if ray.is_initialized():
        return
    quiet = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
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
    settings=None,
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
    progress: Callable[[BatchProgress], None] | None = None,
) -> BatchSummary:
    """`emostudio.batch.run_batch` on Ray Data: `address` None starts a local cluster of `num_cpus` CPUs.

    `actors` model replicas (default: one per GPU share, else half the CPUs); `gpus_per_actor` (default 1 when
    the cluster has GPUs, else 0; fractions such as 0.5 pack actors onto one GPU); `batch_size` inputs per
    actor call. Writes the same shards, job.json and summary.json as the local runner.
    """
    from emostudio.recognize import GRANULARITIES
    from emostudio.settings import Settings

    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, not {granularity!r}")
    items = load_inputs(inputs) if isinstance(inputs, str | os.PathLike) else list(inputs)
    if len({it.id for it in items}) != len(items):
        raise BatchError("input ids must be unique")
    settings = settings or Settings()
    if batch_seconds is not None:
        settings = replace(settings, batch_seconds=float(batch_seconds))
    model_id = _model_id(model, allow_download)
    out = Path(out_dir)
    t0 = time.perf_counter()
    with ShardStore(out) as store:
        check_job(
            out,
            job_settings(
                model_id,
                granularity,
                embedding,
                bool(enhance),
                quality,
                {k: v for k, v in settings.to_dict().items() if k != "batch_seconds"},
            ),
            force,
        )
        done = store.done_ids()
        todo = [it for it in items if it.id not in done]
        state = BatchProgress(len(todo), 0, 0, 0.0, 0.0, len(items) - len(todo))
        random_weights = model_id == "demo"
        if todo:
            import ray

            init_ray(address, num_cpus)
            try:
                random_weights = _run(
                    todo,
                    store,
                    state,
                    t0,
                    progress,
                    model,
                    device,
                    dtype,
                    allow_download,
                    settings,
                    granularity,
                    embedding,
                    bool(enhance),
                    quality,
                    actors,
                    gpus_per_actor,
                    batch_size,
                    shard_size,
                    random_weights,
                )
            finally:
                if shutdown:
                    ray.shutdown()
        wall = time.perf_counter() - t0
        table = store.read()
        if table.num_rows:
            random_weights = bool(table.column("random_weights")[0].as_py())
        summary = finish_job(
            store,
            out,
            model_id,
            random_weights,
            state,
            wall,
            granularity,
            {
                "embedding": embedding,
                "enhance": bool(enhance),
                "quality": quality,
                "batch_seconds": settings.batch_seconds,
                "ray": address or "local",
                "actors": actors,
                "gpus_per_actor": gpus_per_actor,
                "batch_size": batch_size,
                "shard_size": shard_size,
            },
        )
    return summary


def _run(
    todo,
    store,
    state,
    t0,
    progress,
    model,
    device,
    dtype,
    allow_download,
    settings,
    granularity,
    embedding,
    enhance,
    quality,
    actors,
    gpus_per_actor,
    batch_size,
    shard_size,
    random_weights,
) -> bool:
    import ray

    ray.data.DataContext.get_current().enable_progress_bars = False
    resources = ray.cluster_resources()
    gpus = float(resources.get("GPU", 0))
    per = gpus_per_actor if gpus_per_actor is not None else (1.0 if gpus else 0.0)
    if actors is None:
        actors = max(1, int(gpus / per)) if per > 0 else max(1, int(resources.get("CPU", 2)) // 2)
    actor_device = "cuda" if per > 0 else ("cpu" if device == "auto" else device)
    ds = ray.data.from_items([{k: "" if v is None else v for k, v in asdict(it).items()} for it in todo])
    ds = ds.map_batches(
        EmotionActor,
        fn_constructor_kwargs=dict(
            model=os.fspath(model),
            device=actor_device,
            dtype=dtype,
            allow_download=allow_download,
            settings=settings,
            granularity=granularity,
            embedding=embedding,
            enhance=enhance,
            quality=quality,
        ),
        batch_size=batch_size,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_gpus=per or None,
        num_cpus=1,
        batch_format="numpy",
    )
    buffer: list[Row] = []
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        for blob in batch["row"]:
            row: Row = pickle.loads(blob)
            buffer.append(row)
            state.done += 1
            state.failed += row.record["error_code"] is not None
            state.audio_s += row.record["duration_s"] or 0.0
            random_weights = bool(row.record["random_weights"])
            if len(buffer) >= shard_size:
                store.commit(buffer, embedding, granularity == "frame")
                buffer.clear()
        if progress:
            state.elapsed_s = time.perf_counter() - t0
            progress(state)
    if buffer:
        store.commit(buffer, embedding, granularity == "frame")
    if state.done != len(todo):
        raise EmoStudioError(f"Ray returned {state.done} rows for {len(todo)} inputs")
    return random_weights
