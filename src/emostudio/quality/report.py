"""The quality report: measure a waveform, judge every metric with `rules.RULES`, add hints.

Input is a 16 kHz mono float32 waveform of shape (samples,) in [-1, 1] plus, optionally, what the file was
(`SourceInfo`). Memory is bounded whatever the length (see measures.py, snr.py, pitch.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from emostudio.quality import measures, pitch, snr
from emostudio.quality.rules import RULES
from emostudio.records import SAMPLE_RATE, VERDICTS, Metric, QualityReport, SourceInfo, Span
from emostudio.segment import speech_spans
from emostudio.settings import QualityThresholds


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value


def measure(
    x: np.ndarray,
    source: SourceInfo | None,
    t: QualityThresholds,
    spans: list[Span],
    original: np.ndarray | None = None,
    original_rate: int | None = None,
    like: QualityReport | None = None,
) -> tuple[dict[str, Any], dict[str, str], dict[str, dict]]:
    """Every metric's value by name (None where not measurable), context for the labels, and how each was
    measured. With `like` (another report), methods that choose how to measure repeat that report's choice."""
    values: dict[str, Any] = {}
    rate = source.sample_rate if source is not None else original_rate
    values["sample_rate"] = None if rate is None else int(rate)
    if source is not None:
        values["channels"] = int(source.channels)
        values["codec"] = source.codec
    values["duration"] = len(x) / SAMPLE_RATE
    lv = measures.levels(x)
    values["peak"] = lv.peak_dbfs
    values["rms"] = lv.rms_dbfs
    values["loudness"] = measures.integrated_loudness(x) if x.size else None
    clip_args = (t.clip_level, t.clip_min_run, t.clip_lossy_rel, t.clip_lossy_min_peak_dbfs)
    if original is not None:
        clip = measures.clipping_ratio(np.asarray(original, np.float32).reshape(-1), *clip_args, lossy=False)
        if source is not None and not str(source.codec).startswith(("pcm", "flac", "alac")):
            clip = max(clip, measures.clipping_ratio(x, *clip_args, lossy=True))
    else:
        clip = measures.clipping_ratio(x, *clip_args, lossy=True)
    values["clipping"] = 100 * clip
    values["dc_offset"] = lv.mean
    like_snr = None
    if like is not None:
        d = next((m.detail for m in like.metrics if m.name == "snr"), {})
        like_snr = snr.SnrReading(
            None, d.get("method", "none"), d.get("base", "none"), d.get("spectral_weight", 0.0)
        )
    reading = snr.measure_snr(x, spans, like_snr)
    values["snr"], method = reading.value, reading.method
    values["speech_ratio"] = 100 * measures.covered_fraction(spans, len(x))
    fp = measures.frame_power(x)
    if fp.size:
        frame_db = 10 * np.log10(np.maximum(fp, 1e-10))
        values["dynamic_range"] = float(np.percentile(frame_db, 95) - np.percentile(frame_db, 5))
    values["hum"] = measures.hum_db(x, t.hum_cutoff_hz)
    method_en = "not measurable" if method == "none" else method
    return values, {"method": method_en, "method_zh": snr.METHODS[method][1]}, {"snr": reading.to_dict()}


def assess(
    waveform16k: np.ndarray,
    source: SourceInfo | None = None,
    *,
    thresholds: QualityThresholds | None = None,
    spans: list[Span] | None = None,
    original: np.ndarray | None = None,
    original_rate: int | None = None,
    like: QualityReport | None = None,
) -> QualityReport:
    """Measure a 16 kHz mono waveform (samples,) and judge each measurement against `thresholds`.

    `spans` are VAD speech spans (computed when not given). `original` (samples,) at `original_rate` Hz
    lets clipping be measured before resampling, where plateaus are still flat. `like`: measure the way that
    report was measured (an enhanced copy against its original: same SNR method).
    """
    thresholds = thresholds or QualityThresholds()
    x = np.asarray(waveform16k)
    if x.ndim != 1:
        raise ValueError(f"expected a mono waveform of shape (samples,), got shape {x.shape}")
    x = x.astype(np.float32, copy=False)
    if spans is None:
        spans = speech_spans(x)
    values, ctx, details = measure(x, source, thresholds, spans, original, original_rate, like)
    metrics = []
    for rule in RULES:
        if rule.name not in values:
            continue
        value = _clean(values[rule.name])
        verdict, advice_en, advice_zh = rule.verdict_and_advice(value, thresholds, ctx)
        label_en, label_zh = rule.labels(thresholds, ctx)
        metrics.append(
            Metric(
                rule.name, value, rule.unit, verdict, advice_en, advice_zh, label_en, label_zh,
                details.get(rule.name, {}),
            )
        )  # fmt: skip
    hints = pitch.hints(x, thresholds) if x.size else []
    worst = max((m.verdict for m in metrics), key=VERDICTS.index, default="info")
    return QualityReport(metrics, hints, worst)
