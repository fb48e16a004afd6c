"""The quality verdicts as a table: one `Rule` per metric (name, unit, how to judge, which advice).

Adding a metric is one measurement in `report.measure`, one row in `RULES` and its texts in the catalogue
(`emostudio.messages.analysis`: the label `quality_<name>`, the advice keys the rule names). A rule's `judge`
returns a case key such as "ok", "warn:short" or "bad:quiet"; the part before the colon is the verdict, the
whole key picks the advice. Labels and advice are format strings that can use `{t}` (the thresholds), `{v}`
(the value) and the measurement context (e.g. `{method}` for SNR).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emostudio.messages import t as text


@dataclass(frozen=True)
class QualityThresholds:
    """Every limit a verdict uses. Values at a limit get the better verdict unless noted."""

    min_sample_rate_hz: int = 16000  # below: bad (the model was trained on 16 kHz)
    duration_bad_below_s: float = 1.0  # too short to carry an emotion
    duration_ok_from_s: float = 3.0  # 3–10 s is ideal; 1–3 s warn
    duration_ok_to_s: float = 10.0  # 10–30 s warn (an utterance-level score averages over more)
    duration_split_above_s: float = 30.0  # above: warn, the file is split into segments for the model
    snr_ok_above_db: float = 30.0  # SNR > 30 dB ok
    snr_bad_below_db: float = 20.0  # 20–30 dB warn, < 20 dB bad
    clipping_warn_ratio: float = 0.001  # fraction of samples in clipped runs: ≥ 0.1 % warn
    clipping_bad_ratio: float = 0.005  # ≥ 0.5 % bad
    clip_level: float = 0.999  # |x| at or above this is full scale
    clip_min_run: int = 3  # consecutive samples at the clip level that make a plateau
    clip_lossy_rel: float = 0.9  # on 16 kHz/lossy audio: plateaus are runs at ≥ 90 % of the peak …
    clip_lossy_min_peak_dbfs: float = -3.0  # … counted only when the peak is within 3 dB of full scale
    peak_warn_below_dbfs: float = -20.0  # quiet recording
    peak_bad_below_dbfs: float = -30.0
    loudness_warn_below_lufs: float = -30.0
    loudness_bad_below_lufs: float = -40.0
    loudness_warn_above_lufs: float = -8.0  # very loud: likely limited or clipped
    dc_warn_above: float = 0.01  # |mean| as a fraction of full scale
    dc_bad_above: float = 0.05
    hum_warn_above_db: float = -15.0  # energy below 100 Hz relative to all energy
    hum_bad_above_db: float = -6.0
    hum_cutoff_hz: float = 100.0
    speech_warn_below_ratio: float = 0.3  # fraction of the clip the VAD marks as speech; 0 is bad
    # hints
    hint_min_voiced_s: float = 2.0  # pitch hints need at least this much voiced audio
    music_stable_run_s: float = 0.8  # a pitch held within ±0.5 semitone this long suggests singing / music
    speakers_min_gap_semitones: float = 7.0  # two pitch clusters this far apart suggest two speakers
    flat_pitch_std_semitones: float = 1.0  # pitch and energy spread below both → weak expression
    flat_energy_std_db: float = 3.0


Judge = Callable[[Any, QualityThresholds], str]


@dataclass(frozen=True)
class Rule:
    name: str
    unit: str
    judge: Judge
    advice: dict[str, str] = field(default_factory=dict)  # case -> the catalogue key of its advice

    def verdict_and_advice(self, value: Any, t: QualityThresholds, ctx: dict) -> tuple[str, str, str]:
        case = self.judge(value, t)
        key = self.advice.get(case)
        if key is None:
            return case.split(":")[0], "", ""
        en, zh = (text(key, lang).format(t=t, v=value, **_in(ctx, lang)) for lang in ("en", "zh"))
        return case.split(":")[0], en, zh

    def labels(self, t: QualityThresholds, ctx: dict) -> tuple[str, str]:
        en, zh = (text(f"quality_{self.name}", lang).format(t=t, **_in(ctx, lang)) for lang in ("en", "zh"))
        return en, zh


def _in(ctx: dict, lang: str) -> dict:
    """The measurement context for texts in `lang`: in Chinese, `x_zh` stands in for `x` (e.g. the SNR method)."""
    if lang != "zh":
        return ctx
    return {**ctx, **{k[:-3]: v for k, v in ctx.items() if k.endswith("_zh")}}


def _info(_v: Any, _t: QualityThresholds) -> str:
    return "info"


def _sample_rate(v, t):
    return "info" if v is None else "bad" if v < t.min_sample_rate_hz else "ok"


def _duration(v, t):
    if v < t.duration_bad_below_s:
        return "bad:short"
    if v < t.duration_ok_from_s:
        return "warn:short"
    if v <= t.duration_ok_to_s:
        return "ok"
    return "warn:long" if v <= t.duration_split_above_s else "warn:split"


def _peak(v, t):
    return "bad" if v is None or v < t.peak_bad_below_dbfs else "warn" if v < t.peak_warn_below_dbfs else "ok"


def _loudness(v, t):
    if v is None or v < t.loudness_bad_below_lufs:
        return "bad:quiet"
    if v < t.loudness_warn_below_lufs:
        return "warn:quiet"
    return "warn:loud" if v > t.loudness_warn_above_lufs else "ok"


def _clipping(v, t):  # v in percent
    return "bad" if v >= 100 * t.clipping_bad_ratio else "warn" if v >= 100 * t.clipping_warn_ratio else "ok"


def _dc(v, t):
    return "bad" if abs(v) > t.dc_bad_above else "warn" if abs(v) > t.dc_warn_above else "ok"


def _snr(v, t):
    if v is None:
        return "info:none"
    return "ok" if v > t.snr_ok_above_db else "bad" if v < t.snr_bad_below_db else "warn"


def _speech(v, t):  # v in percent
    return "bad" if v == 0 else "warn" if v < 100 * t.speech_warn_below_ratio else "ok"


def _hum(v, t):
    return (
        "info"
        if v is None
        else "bad"
        if v > t.hum_bad_above_db
        else "warn"
        if v > t.hum_warn_above_db
        else "ok"
    )


RULES: tuple[Rule, ...] = (
    Rule("sample_rate", "Hz", _sample_rate, {"bad": "quality_advice_phone_band"}),
    Rule("channels", "", _info),
    Rule("codec", "", _info),
    Rule(
        "duration",
        "s",
        _duration,
        {
            "bad:short": "quality_advice_too_short",
            "warn:short": "quality_advice_short",
            "warn:long": "quality_advice_long",
            "warn:split": "quality_advice_split",
        },
    ),
    Rule("peak", "dBFS", _peak, {"bad": "quality_advice_quiet", "warn": "quality_advice_quiet"}),
    Rule("rms", "dBFS", _info),
    Rule(
        "loudness",
        "LUFS",
        _loudness,
        {
            "bad:quiet": "quality_advice_quiet",
            "warn:quiet": "quality_advice_quiet",
            "warn:loud": "quality_advice_loud",
        },
    ),
    Rule("clipping", "%", _clipping, dict.fromkeys(("bad", "warn"), "quality_advice_clipped")),
    Rule("dc_offset", "FS", _dc, dict.fromkeys(("bad", "warn"), "quality_advice_dc")),
    Rule(
        "snr",
        "dB",
        _snr,
        {**dict.fromkeys(("bad", "warn"), "quality_advice_noisy"), "info:none": "quality_advice_snr_none"},
    ),
    Rule(
        "speech_ratio",
        "%",
        _speech,
        {"bad": "quality_advice_no_speech", "warn": "quality_advice_little_speech"},
    ),
    Rule("dynamic_range", "dB", _info),
    Rule("hum", "dB", _hum, dict.fromkeys(("bad", "warn"), "quality_advice_hum")),
)
RULES_BY_NAME = {r.name: r for r in RULES}
