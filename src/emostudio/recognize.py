"""Recognizer: the one pipeline behind every surface.

decode → VAD → quality → (enhance) → split long audio → batched model → interpret → Result → (run folder)

`prepare` does the per-file CPU work (decoding, VAD, quality, enhancement); `infer` runs prepared files through
the encoder in length-sorted batches bounded by total audio seconds; `analyze` / `analyze_many` do both and write
run folders.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from emostudio import audio as audio_io
from emostudio import enhance as enhance_mod
from emostudio import quality as quality_mod
from emostudio import segment as segment_mod
from emostudio.errors import EmoStudioError
from emostudio.interpret import band_for, compound_for, dominant_segments, softmax, timeline
from emostudio.model.accel import optimise_for_cpu
from emostudio.model.checkpoint import DEFAULT_MODEL, LoadedModel, load_model
from emostudio.model.encoder import FRAME_RATE_HZ
from emostudio.results import (
    EnhancementReport,
    FrameTimeline,
    ModelRef,
    Result,
    SegmentResult,
    new_run_dir,
    write_run,
)
from emostudio.settings import Settings

GRANULARITIES = ("utterance", "frame")
Source = str | os.PathLike | bytes | np.ndarray | audio_io.Audio


@dataclass
class Prepared:
    """A decoded, checked (and optionally enhanced) input, ready for the model."""

    name: str
    audio: audio_io.Audio  # the original, 16 kHz mono
    waveform: np.ndarray  # what the model scores: (samples,) float32, enhanced when enhancement is on
    spans: list[segment_mod.Span]  # stretches scored separately (one covering the clip unless it was long)
    speech: list[segment_mod.Span] | None = None  # VAD speech runs, when the VAD ran
    quality: quality_mod.QualityReport | None = None
    enhanced: enhance_mod.Enhanced | None = None
    quality_after: quality_mod.QualityReport | None = None

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / audio_io.SAMPLE_RATE


def segment_weights(spans: list[segment_mod.Span], speech: list[segment_mod.Span] | None) -> np.ndarray:
    """How much each segment counts in the overall scores: its seconds of detected speech.

    Falls back to segment length when the VAD found no speech (or did not run), so nothing is ignored.
    """
    if speech:
        w = np.array([segment_mod.speech_overlap_s(sp, speech) for sp in spans])
        if w.sum() > 0:
            return w
    return np.array([max(sp.end_s - sp.start_s, 1e-6) for sp in spans])


@dataclass
class _Scored:
    """Model outputs for one stretch of audio, classes in KEYS order."""

    logits: np.ndarray  # (9,)
    frame_logits: np.ndarray  # (frames, 9)
    embedding: np.ndarray  # (dim,)
    features: np.ndarray | None = None  # (frames, dim) when frame embeddings were asked for


@dataclass
class Outcome:
    """One input of `analyze_many`: a Result, or the error that stopped it."""

    source: str
    result: Result | None = None
    error: EmoStudioError | None = None
    extra: dict = field(default_factory=dict)


def _source_name(source: Source, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, str | os.PathLike):
        return str(source)
    if isinstance(source, audio_io.Audio):
        return source.source.path
    return "<array>" if isinstance(source, np.ndarray) else "<bytes>"


def prepare(
    source: Source,
    settings: Settings | None = None,
    *,
    name: str | None = None,
    sample_rate: int | None = None,
    enhance: bool | enhance_mod.EnhanceSettings = False,
    quality: bool = True,
) -> Prepared:
    """Decode and check one input, measure its quality, optionally enhance it, and plan its segments."""
    label = _source_name(source, name)
    s = settings or Settings()
    if isinstance(source, audio_io.Audio):
        audio = source
    elif isinstance(source, np.ndarray):
        if sample_rate is None:
            raise ValueError(f"{label}: a numpy waveform needs sample_rate=")
        audio = audio_io.from_array(source, sample_rate, name=label)
    else:
        audio = audio_io.decode(source, name=name, max_duration_s=s.max_duration_s)
    speech = (
        segment_mod.speech_spans(audio.waveform)
        if (quality or enhance or audio.duration_s > s.max_segment_s)
        else None
    )
    report = (
        quality_mod.assess(audio.waveform, audio.source, thresholds=s.quality, spans=speech)
        if quality
        else None
    )
    waveform, enhanced, report_after = audio.waveform, None, None
    if enhance:
        cfg = enhance if isinstance(enhance, enhance_mod.EnhanceSettings) else enhance_mod.EnhanceSettings()
        enhanced = enhance_mod.enhance(audio.waveform, cfg, spans=speech)
        waveform = enhanced.waveform
        if quality:
            report_after = quality_mod.assess(waveform, audio.source, thresholds=s.quality, spans=speech)
    duration = len(waveform) / audio_io.SAMPLE_RATE
    if duration > s.max_segment_s:
        spans = segment_mod.split_for_model(waveform, max_segment_s=s.max_segment_s, spans=speech)
    else:
        spans = [segment_mod.Span(0.0, duration)]
    return Prepared(label, audio, waveform, spans, speech, report, enhanced, report_after)


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
        if isinstance(model, LoadedModel):
            self.model = model  # used as given (see emostudio.model.accel for the CPU fast paths)
        else:
            loaded = load_model(model, device, None if dtype == "int8" else dtype, allow_download)
            if dtype == "int8" or (loaded.device.type == "cpu" and loaded.dtype == torch.float32):
                # CPU: fp32 gets the cache-sized chunked front-end (same numbers to ~1e-7, 15-25 % faster);
                # int8 also quantises the matmuls (about 2x faster; probabilities move ~1e-3). GPU: refused.
                loaded = optimise_for_cpu(loaded, dtype or "fp32", threads=torch.get_num_threads())
            self.model = loaded
        self.settings = settings or Settings()

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
    ) -> Prepared:
        """Decode and check one input, measure its quality, optionally enhance it, and plan its segments."""
        return prepare(
            source, self.settings, name=name, sample_rate=sample_rate, enhance=enhance, quality=quality
        )

    # ---- model ---------------------------------------------------------------------------------------------
    def _score(self, waveforms: Sequence[np.ndarray], keep_features: bool) -> list[_Scored]:
        """Run the encoder over many waveforms in length-sorted batches of at most `batch_seconds` of padded audio."""
        order = sorted(range(len(waveforms)), key=lambda i: len(waveforms[i]))
        out: list[_Scored | None] = [None] * len(waveforms)
        budget = self.settings.batch_seconds * audio_io.SAMPLE_RATE
        batch: list[int] = []

        def flush() -> None:
            if not batch:
                return
            enc = self.model.encoder.encode([waveforms[i] for i in batch])
            logits = self.model.key_logits(enc.logits).float().numpy()
            frame_logits = self.model.key_logits(enc.frame_logits).float().numpy()
            for j, i in enumerate(batch):
                n = int(enc.frame_lengths[j])
                out[i] = _Scored(
                    logits[j],
                    frame_logits[j, :n],
                    enc.embeddings[j].float().numpy(),
                    enc.features[j, :n].float().numpy() if keep_features else None,
                )
            batch.clear()

        for i in order:
            # sorted ascending, so the newest item is the longest: padded size = count × its length
            if batch and (len(batch) + 1) * len(waveforms[i]) > budget:
                flush()
            batch.append(i)
        flush()
        return out  # type: ignore[return-value]

    def infer(
        self, items: Sequence[Prepared], granularity: str = "utterance", embedding: bool = False
    ) -> list[Result]:
        """Score prepared inputs together (one batched pass) and build their Results."""
        if granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {GRANULARITIES}, not {granularity!r}")
        sr = audio_io.SAMPLE_RATE
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
        return [self._build(item, per_item[i], granularity, embedding) for i, item in enumerate(items)]

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
                emb = np.concatenate([scored[(k, False)].features for k in range(len(spans))]).astype(
                    np.float32
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
        final_quality = item.quality_after or item.quality
        warning = None
        if (
            final_quality is not None
            and band.key != "confident"
            and final_quality.likely_explains_low_confidence()
        ):
            warning = final_quality.warning_line("en")
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
            quality=final_quality.to_dict() if final_quality else None,
            quality_warning=warning,
            enhancement=enh,
            source_name=item.name,
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
    ) -> Result:
        """Analyse one file (path, bytes, numpy array with `sample_rate`, or decoded Audio).

        With `output_dir`, also writes a fresh run folder `output_dir/outputs_YYYYMMDD_HHMMSS[_N]/`.
        Raises an AudioError subclass naming the file for bad input.
        """
        item = self.prepare(source, name=name, sample_rate=sample_rate, enhance=enhance, quality=quality)
        result = self.infer([item], granularity, embedding)[0]
        if output_dir is not None:
            self.save(result, item, output_dir)
        return result

    def save(self, result: Result, item: Prepared, output_dir: str | os.PathLike) -> Path:
        """Write the run folder for `result`; returns the folder."""
        run_dir = new_run_dir(output_dir)
        write_run(result, run_dir, item.waveform)
        return run_dir

    def analyze_many(
        self,
        sources: Iterable[Source],
        *,
        granularity: str = "utterance",
        embedding: bool = False,
        enhance: bool | enhance_mod.EnhanceSettings = False,
        quality: bool = True,
        output_dir: str | os.PathLike | None = None,
        workers: int = 2,
        group_seconds: float | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> list[Outcome]:
        """Analyse many inputs: decode in a thread pool, score together in batches; a bad file never stops the rest.

        Inputs are gathered into groups of about `group_seconds` of audio (default: 4 × batch_seconds), each scored
        in one batched pass; results come back in input order, `on_outcome` is called as each one is done.
        """
        sources = list(sources)
        limit = group_seconds or 4 * self.settings.batch_seconds
        outcomes: list[Outcome] = [Outcome(_source_name(src, None)) for src in sources]

        def prep(src: Source) -> Prepared | EmoStudioError:
            try:
                return self.prepare(src, enhance=enhance, quality=quality)
            except EmoStudioError as exc:
                return exc

        def finish(group: list[tuple[int, Prepared]]) -> None:
            if not group:
                return
            results = self.infer([p for _, p in group], granularity, embedding)
            for (i, item), res in zip(group, results, strict=True):
                if output_dir is not None:
                    self.save(res, item, output_dir)
                outcomes[i].result = res
                if on_outcome:
                    on_outcome(outcomes[i])
            group.clear()

        group: list[tuple[int, Prepared]] = []
        seconds = 0.0

        def prepared_in_order(pool: ThreadPoolExecutor) -> Iterator[Prepared | EmoStudioError]:
            # at most `ahead` inputs decoded but not yet scored, so a long list never sits in memory at once
            ahead = 4 * max(1, workers)
            pending: deque[Future] = deque(pool.submit(prep, src) for src in sources[:ahead])
            for src in sources[ahead:]:
                yield pending.popleft().result()
                pending.append(pool.submit(prep, src))
            while pending:
                yield pending.popleft().result()

        with ThreadPoolExecutor(max(1, workers)) as pool:
            for i, prepared in enumerate(prepared_in_order(pool)):
                if isinstance(prepared, EmoStudioError):
                    outcomes[i].error = prepared
                    if on_outcome:
                        on_outcome(outcomes[i])
                    continue
                group.append((i, prepared))
                seconds += prepared.duration_s
                if seconds >= limit:
                    finish(group)
                    seconds = 0.0
            finish(group)
        return outcomes
