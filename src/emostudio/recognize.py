"""Recognizer: one input → Result, the same steps behind every surface.

decode → VAD → quality → (enhance) → split long audio → batched model → interpret → Result → (run folder)

`prepare` does the per-file CPU work (decoding, checks, VAD, quality, enhancement); `infer` runs prepared files
through the encoder in length-sorted batches bounded by total audio seconds; `analyze` does both for one input
and `analyze_many` for many (through `emostudio.pipeline`, which owns read-ahead, grouping and the failure
policy). Arguments are checked before any work; every error is a typed `EmoStudioError` naming the input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from emostudio import audio as audio_io
from emostudio import enhance as enhance_mod
from emostudio.channels import attach as attach_channels
from emostudio.channels import parse_roles
from emostudio.errors import (
    EmoStudioError,
    InferenceError,
    InternalError,
    ModelError,
    OutputError,
    UsageError,
    printable,
)
from emostudio.interpret import band_for, compound_for, dominant_segments, softmax, timeline
from emostudio.model.accel import optimise_for_cpu
from emostudio.model.checkpoint import DEFAULT_MODEL, LoadedModel, load_model
from emostudio.model.encoder import FRAME_RATE_HZ, num_frames, receptive_field
from emostudio.model.streams import Streams, plan_batches
from emostudio.pipeline import GRANULARITIES, Outcome, PipelineOptions, check_granularity, iter_results, score
from emostudio.prepare import Prepared, Source, prepare, segment_weights
from emostudio.results import (
    EnhancementReport,
    FrameTimeline,
    ModelRef,
    Result,
    SegmentResult,
    check_output_root,
    save_run,
)
from emostudio.settings import Settings

if TYPE_CHECKING:
    from emostudio.live import LiveStream

__all__ = ["GRANULARITIES", "Outcome", "Prepared", "Recognizer", "prepare", "segment_weights"]
DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
CPU_BATCH_SECONDS = 30.0
GPU_BATCH_SECONDS = 120.0
DTYPES = (None, "fp32", "float32", "bf16", "bfloat16", "fp16", "float16", "half", "int8")


@dataclass
class _Scored:
    """Model outputs for one stretch of audio, classes in KEYS order."""

    logits: np.ndarray  # (9,)
    frame_logits: np.ndarray  # (frames, 9)
    embedding: np.ndarray  # (dim,)
    features: np.ndarray | None = None  # (frames, dim) when frame embeddings were asked for


def precision_name(dtype: str | torch.dtype | None) -> str:
    """The canonical precision name recorded in results and job identities: float32, bfloat16, float16, int8."""
    text = str(dtype).replace("torch.", "").lower() if dtype is not None else "float32"
    return {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16", "half": "float16"}.get(text, text)


def check_device(device: object, dtype: object) -> None:
    """UsageError unless `device` is auto / cpu / cuda[:N] and `dtype` a known precision."""
    if not isinstance(device, str) or not DEVICE_RE.match(device):
        raise UsageError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', not {device!r}")
    if dtype is not None and not isinstance(dtype, str | torch.dtype):
        raise UsageError(f"dtype must be one of fp32, bf16, fp16, int8, not {dtype!r}")
    if isinstance(dtype, str) and dtype.lower() not in DTYPES:
        raise UsageError(f"dtype must be one of fp32, bf16, fp16, int8, not {dtype!r}")


class Recognizer:
    """Speech emotion recognition with an emotion2vec+ model.

    >>> rec = Recognizer(model="large", device="auto")
    >>> result = rec.analyze("speech.wav", granularity="frame", output_dir="outputs")
    >>> print(result.summary())   # 😊 快乐 (Happy) 置信度: 63.7%
    """

    def __init__(
        self,
        model: str | os.PathLike | LoadedModel = DEFAULT_MODEL,
        device: str = "auto",
        dtype: str | None = None,
        settings: Settings | None = None,
        allow_download: bool = True,
    ):
        check_device(device, dtype)
        if settings is not None and not isinstance(settings, Settings):
            raise UsageError(
                f"settings must be an emostudio.settings.Settings, got {type(settings).__name__}"
            )
        if isinstance(model, LoadedModel):
            self.model = model  # used as given (see emostudio.model.accel for the CPU fast paths)
        else:
            loaded = load_model(model, device, None if dtype == "int8" else dtype, allow_download)
            if dtype == "int8" or (loaded.device.type == "cpu" and loaded.dtype == torch.float32):
                # CPU: fp32 gets the cache-sized chunked front-end (same numbers to ~1e-7, 15-25 % faster);
                # int8 also quantises the matmuls (about 2x faster; probabilities move ~1e-3). GPU: refused.
                loaded = optimise_for_cpu(loaded, dtype or "fp32", threads=torch.get_num_threads())
            self.model = loaded
        if self.model.encoder.head is None:
            raise ModelError(
                f"{printable(self.model.source)}: this model has no emotion classification head (its folder "
                "has no tokens.txt), so it cannot recognise emotions; use an emotion2vec+ model "
                "(seed, base or large)"
            )
        self.settings = settings or Settings()
        self._streams: Streams | None = None

    @property
    def model_ref(self) -> ModelRef:
        m = self.model
        dtype = str(m.dtype).replace("torch.", "")
        if m.arch.get("cpu_precision") not in (None, "fp32"):
            dtype = m.arch["cpu_precision"]
        return ModelRef(m.model_id, m.source, m.is_random, str(m.device), dtype)

    # ---- per-file CPU work -------------------------------------------------------------------------------
    def prepare(
        self,
        source: Source,
        *,
        name: str | None = None,
        sample_rate: int | None = None,
        enhance: bool | enhance_mod.EnhanceSettings = False,
        quality: bool = True,
        channels: str = "mix",
        roles: list[str] | None = None,
    ) -> Prepared:
        """Decode and check one input, measure its quality, optionally enhance it, and plan its segments.

        `channels="separate"`: each channel is also prepared as its own speaker (see emostudio.channels).
        """
        return prepare(
            source,
            self.settings,
            name=name,
            sample_rate=sample_rate,
            enhance=enhance,
            quality=quality,
            channels=channels,
            roles=roles,
        )

    # ---- model ---------------------------------------------------------------------------------------------
    @property
    def batch_seconds(self) -> float:
        """Padded audio seconds per model batch: `settings.batch_seconds`, or when that is None, 30 s on CPU (a
        batch's activations then stay near the CPU cache; 120 s batches of plus_large ran at about half the
        speed) and 120 s on a GPU."""
        if self.settings.batch_seconds is not None:
            return float(self.settings.batch_seconds)
        return CPU_BATCH_SECONDS if self.model.device.type == "cpu" else GPU_BATCH_SECONDS

    @property
    def streams(self) -> Streams | None:
        """The CPU model's batch streams (see `emostudio.model.streams`); None on a GPU."""
        if self.model.device.type != "cpu":
            return None
        if self._streams is None:
            threads = int(self.model.arch.get("cpu_threads") or torch.get_num_threads())
            count = int(self.model.arch.get("cpu_streams") or 1)
            self._streams = Streams(count, max(1, threads // count), threads)
        return self._streams

    def _score(self, waveforms: Sequence[np.ndarray], keep_features: bool) -> list[_Scored]:
        """Run the encoder over many waveforms in length-sorted batches of at most `batch_seconds` of padded
        audio (on CPU, independent batches run side by side on the model's streams)."""
        out: list[_Scored | None] = [None] * len(waveforms)
        lengths = [len(w) for w in waveforms]
        batches = plan_batches(lengths, self.batch_seconds * audio_io.SAMPLE_RATE)
        encoder = self.model.encoder
        # one ALiBi bias for every batch of this call (each uses a corner of it): built once, not per batch,
        # and one copy in memory for both streams (for 30 s segments it is 146 MB)
        alibi = None
        if len(batches) > 1 and encoder.alibi_shared:
            alibi = encoder.alibi(num_frames(max(lengths), encoder.config.feature_layers))

        def run(batch: list[int]) -> None:
            enc = encoder.encode([waveforms[i] for i in batch], alibi=alibi)
            if enc.logits is None or enc.frame_logits is None:  # refused in __init__; a head gives both
                raise ModelError(f"{printable(self.model.source)}: this model has no classification head")
            logits = self.model.key_logits(enc.logits).float().numpy()
            frame_logits = self.model.key_logits(enc.frame_logits).float().numpy()
            for j, i in enumerate(batch):
                n = int(enc.frame_lengths[j])
                out[i] = _Scored(
                    logits[j],
                    frame_logits[j, :n].copy(),  # not a view: the batch's padded array is freed
                    enc.embeddings[j].float().numpy(),
                    enc.features[j, :n].float().numpy().copy() if keep_features else None,
                )

        streams = self.streams
        if streams is None:
            for batch in batches:
                run(batch)
        else:
            streams.run(run, batches, cost=lambda b: len(b) * max(lengths[i] for i in b))
        scored = [s for s in out if s is not None]
        if len(scored) != len(out):  # not reached: every index is in one batch
            raise InternalError(f"{len(out) - len(scored)} waveform(s) were never scored")
        return scored

    def infer(
        self, items: Sequence[Prepared], granularity: str = "utterance", embedding: bool = False
    ) -> list[Result]:
        """Score prepared inputs together (one batched pass) and build their Results.

        Raises TooShortError for an input (or segment) shorter than the model's receptive field and
        InferenceError when the model's scores are not finite; `emostudio.pipeline.score` isolates the culprit.
        """
        check_granularity(granularity)
        # channels="separate": each speaker channel is scored in the same pass as one more item
        parts = [(i, p) for i, it in enumerate(items) for p in (it.channels or []) if p.prepared is not None]
        owners, items = list(items), [*items, *(p.prepared for _, p in parts if p.prepared is not None)]
        need = receptive_field(self.model.encoder.config.feature_layers)
        sr = audio_io.SAMPLE_RATE
        for item in items:
            for sp in item.spans:
                sl = sp.samples(sr)
                if sl.stop - sl.start < need:
                    raise audio_io.TooShortError(
                        item.name,
                        f"audio is too short for the model ({sl.stop - sl.start} samples at {sp.start_s:.2f} s; "
                        f"it needs at least {need}, {1000 * need / sr:g} ms)",
                    )
        jobs: list[np.ndarray] = []
        index: list[tuple[int, int, bool]] = []  # (item, span, is_original_before_enhancement)
        for i, item in enumerate(items):
            for k, sp in enumerate(item.spans):
                a, b = int(round(sp.start_s * sr)), int(round(sp.end_s * sr))
                jobs.append(item.waveform[a:b])
                index.append((i, k, False))
                if item.enhanced is not None:
                    jobs.append(item.audio.waveform[a:b])
                    index.append((i, k, True))
        keep = granularity == "frame" and embedding
        scored = self._score(jobs, keep)
        per_item: list[dict[tuple[int, bool], _Scored]] = [{} for _ in items]
        for (i, k, before), sc in zip(index, scored, strict=True):
            per_item[i][(k, before)] = sc
        built = [self._build(item, per_item[i], granularity, embedding) for i, item in enumerate(items)]
        by_channel = {(i, p.info.index): r for (i, p), r in zip(parts, built[len(owners) :], strict=True)}
        return attach_channels(built[: len(owners)], owners, by_channel)

    def _build(self, item: Prepared, scored: dict, granularity: str, embedding: bool) -> Result:
        s = self.settings
        spans = item.spans
        segs = [
            SegmentResult(sp.start_s, sp.end_s, softmax(scored[(k, False)].logits))
            for k, sp in enumerate(spans)
        ]
        weights = segment_weights(spans, item.speech)
        probs = (
            segs[0].probs if len(segs) == 1 else np.average([g.probs for g in segs], axis=0, weights=weights)
        )
        if not np.all(np.isfinite(probs)):
            raise InferenceError(
                f"{printable(item.name)}: the model produced non-finite scores (NaN/Inf); its weights may be broken"
            )

        frames = None
        if granularity == "frame":
            starts, rows, dom = [], [], []
            for k, sp in enumerate(spans):
                t, p = timeline(scored[(k, False)].frame_logits, FRAME_RATE_HZ, s.timeline)
                starts.append(t + sp.start_s)
                rows.append(p)
                dom += dominant_segments(
                    t + sp.start_s, p, s.timeline.step_s, sp.end_s, s.timeline.min_segment_s
                )
            frames = FrameTimeline(
                np.concatenate(starts), np.concatenate(rows), s.timeline.step_s, s.timeline.window_s, dom
            )

        emb = None
        if embedding:
            if granularity == "frame":
                # one float32 copy (concatenate writes it directly); the per-segment arrays go with `scored`
                emb = np.concatenate(
                    [scored[(k, False)].features for k in range(len(spans))], dtype=np.float32
                )
            else:
                vecs = [scored[(k, False)].embedding for k in range(len(spans))]
                emb = np.average(vecs, axis=0, weights=weights).astype(np.float32)

        enh = None
        if item.enhanced is not None:
            before = [softmax(scored[(k, True)].logits) for k in range(len(spans))]
            before_probs = before[0] if len(before) == 1 else np.average(before, axis=0, weights=weights)
            enh = EnhancementReport(
                item.enhanced.steps,
                item.enhanced.noise_source,
                before_probs,
                item.quality.to_dict() if item.quality else None,
                item.quality_after.to_dict() if item.quality_after else None,
            )

        band = band_for(float(probs.max()), s.bands)
        # the upload's own quality decides the verdicts and the low-confidence note, also when enhanced:
        # enhancement cannot undo clipping or a low sample rate, and the user must see what they recorded
        original_quality = item.quality
        warning = warning_zh = None
        if (
            original_quality is not None
            and band.key != "confident"
            and original_quality.likely_explains_low_confidence()
        ):
            warning, warning_zh = original_quality.warning_line("en"), original_quality.warning_line("zh")
        audio_info = {
            "duration_s": round(item.duration_s, 3),
            "sample_rate": audio_io.SAMPLE_RATE,
            "original": item.audio.source.to_dict(),
            "segmented": len(spans) > 1,
            "segments": len(spans),
        }
        settings = {
            "granularity": granularity,
            "embedding": embedding,
            "enhance": item.enhanced is not None,
            **s.to_dict(),
        }
        return Result(
            probs=probs,
            granularity=granularity,
            band=band,
            compound=compound_for(probs, s.compound),
            segments=segs,
            model=self.model_ref,
            audio=audio_info,
            settings=settings,
            frames=frames,
            embedding=emb,
            quality=original_quality.to_dict() if original_quality else None,
            quality_warning=warning,
            quality_warning_zh=warning_zh,
            enhancement=enh,
            source_name=item.name,
            warnings=list(item.audio.warnings),
        )

    # ---- one call per file or many --------------------------------------------------------------------------
    def analyze(
        self,
        source: Source,
        *,
        granularity: str = "utterance",
        embedding: bool = False,
        enhance: bool | enhance_mod.EnhanceSettings = False,
        quality: bool = True,
        output_dir: str | os.PathLike | None = None,
        name: str | None = None,
        sample_rate: int | None = None,
        channels: str = "mix",
        roles: str | list[str] | None = None,
    ) -> Result:
        """Analyse one input (path, bytes, numpy array with `sample_rate`, or decoded Audio).

        `channels="separate"` scores each channel as its own speaker (`result.channels`, one entry per channel
        with its role, whether it is a speaker, silent or a copy, and its own Result); `roles` names them
        ("agent,customer"). The top-level result is the mixed recording either way.
        With `output_dir`, also writes a fresh run folder `output_dir/outputs_YYYYMMDD_HHMMSS[_N]/` (checked for
        writability before any work). Raises an AudioError subclass naming the file for bad input, UsageError
        for bad arguments, OutputError when the run folder cannot be written.
        """
        PipelineOptions(granularity, embedding, enhance, quality, channels=channels).check()
        role_names = parse_roles(roles)
        if output_dir is not None:
            check_output_root(output_dir)
        item = self.prepare(
            source,
            name=name,
            sample_rate=sample_rate,
            enhance=enhance,
            quality=quality,
            channels=channels,
            roles=role_names,
        )
        result = score(self, [item], granularity, embedding)[0]
        if isinstance(result, EmoStudioError):
            raise result
        if output_dir is not None:
            self.save(result, item, output_dir)
        return result

    def save(self, result: Result, item: Prepared, output_dir: str | os.PathLike) -> Path:
        """Write the run folder for `result` (all files, or none: see results.save_run); returns the folder.

        Raises OutputError naming the input when it cannot be written (read-only, disk full, ...).
        """
        try:
            return save_run(result, output_dir, item.waveform)
        except OSError as e:
            raise OutputError(
                f"{printable(item.name)}: the results could not be written to {printable(output_dir)} "
                f"({e.strerror or e})"
            ) from e

    def analyze_many(
        self,
        sources: object,
        *,
        granularity: str = "utterance",
        embedding: bool = False,
        enhance: bool | enhance_mod.EnhanceSettings = False,
        quality: bool = True,
        output_dir: str | os.PathLike | None = None,
        workers: int = 2,
        executor: str = "thread",
        group_seconds: float | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        channels: str = "mix",
    ) -> list[Outcome]:
        """Analyse many inputs, batched; a bad input never stops the rest or costs another input its result.

        `sources`: a list of paths, bytes, `(array, sample_rate)` pairs or Audio (a single path counts as one).
        Returns one Outcome per input, in input order (`result`, or `error` with a typed EmoStudioError);
        `on_outcome` is called as each one is done. See `emostudio.pipeline` for grouping and memory bounds.
        `channels="separate"` scores each channel of every input as its own speaker (see `analyze`); an
        `InputItem` with `roles` or `channels` of its own decides for itself.
        """
        options = PipelineOptions(
            granularity,
            embedding,
            enhance,
            quality,
            workers,
            executor,
            group_seconds=group_seconds,
            channels=channels,
        )
        options.check()
        if output_dir is not None:
            check_output_root(output_dir)
        outcomes: list[Outcome] = []
        for outcome in iter_results(self, sources, options):
            if outcome.result is not None and output_dir is not None:
                try:
                    self.save(outcome.result, outcome.scored_audio(), output_dir)
                except OutputError as e:
                    outcome.error = e
            outcome.prepared = None  # the audio is not kept for the whole list
            outcomes.append(outcome)
            if on_outcome:
                on_outcome(outcome)
        return outcomes

    # ---- live ------------------------------------------------------------------------------------------------------
    def stream(self, sample_rate: int = 16000, **options) -> LiveStream:
        """A live stream: push PCM chunks as they arrive, get an update every hop, `close()` for the Result.

        >>> with rec.stream(48000, channels="separate", roles="agent,customer") as live:
        ...     for chunk in chunks:                  # (samples,) or (samples, channels), int16 or float
        ...         for update in live.feed(chunk):   # the last window's scores, label, band, segments
        ...             print(update.summary())
        ...     live.flush()                          # the last hop's update
        ...     result = live.close(output_dir="outputs")  # the whole stream, as analyze(file, granularity="frame")

        `options` are those of `emostudio.live.LiveStream` (hop_s, window_s, channels, roles, format, ...).
        """
        from emostudio.live import LiveStream

        return LiveStream(self, sample_rate, **options)
