"""The quality report: measure a waveform, judge every metric with `rules.RULES`, add hints.

Input is a 16 kHz mono float32 waveform of shape (samples,) in [-1, 1] plus, optionally, what the file was
(`SourceInfo`). Memory is bounded whatever the length (see measures.py, snr.py, pitch.py).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from emostudio.quality import measures, pitch, snr
from emostudio.quality.rules import RULES, QualityThresholds
from emostudio.records import SAMPLE_RATE, Span

if TYPE_CHECKING:
    from emostudio.audio import SourceInfo

VERDICTS = ("info", "ok", "warn", "bad")  # in order of severity
_LOW_CONFIDENCE_CAUSES = ("snr", "clipping", "loudness", "duration", "sample_rate")


@dataclass
class Metric:
    name: str
    value: float | int | str | None  # None: could not be measured (see the advice)
    unit: str
    verdict: str  # "ok" | "warn" | "bad" | "info"
    advice_en: str = ""
    advice_zh: str = ""
    label_en: str = ""
    label_zh: str = ""
    detail: dict = field(default_factory=dict)  # how it was measured (SNR: method, spectral blend weight)

    def value_text(self, lang: str = "en") -> str:
        """`-23.4 LUFS`, `0.12%`, or `n/a` / `无法测量` for a value that could not be measured."""
        if self.value is None:
            return "无法测量" if lang == "zh" else "n/a"
        v = self.value
        text = (f"{v:.2f}" if abs(v) < 1 else f"{v:.1f}") if isinstance(v, float) else str(v)
        return f"{text}%" if self.unit == "%" else f"{text} {self.unit}".strip()


@dataclass
class Hint:
    name: str
    en: str
    zh: str
    evidence: dict = field(default_factory=dict)


@dataclass
class QualityReport:
    metrics: list[Metric]
    hints: list[Hint]
    verdict: str  # worst metric verdict

    def get(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"no quality metric named {name!r}; have {[m.name for m in self.metrics]}")

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "metrics": [asdict(m) for m in self.metrics],
            "hints": [asdict(h) for h in self.hints],
        }

    def _culprits(self) -> list[Metric]:
        return [m for m in self.metrics if m.name in _LOW_CONFIDENCE_CAUSES and m.verdict == "bad"]

    def likely_explains_low_confidence(self) -> bool:
        return bool(self._culprits())

    def warning_line(self, lang: str = "en") -> str | None:
        """One line for a result summary naming the bad metrics, or None when quality is no likely cause."""
        bad = self._culprits()
        if not bad:
            return None
        if lang == "zh":
            parts = "；".join(f"{m.label_zh} {m.value_text('zh')}：{m.advice_zh}" for m in bad)
            return f"音频质量可能是置信度低的原因 — {parts}"
        parts = "; ".join(f"{m.label_en} {m.value_text('en')}: {m.advice_en}" for m in bad)
        return f"Audio quality may explain the low confidence — {parts}"


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
        from emostudio.segment import speech_spans

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
