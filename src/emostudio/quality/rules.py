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
from emostudio.settings import QualityThresholds

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
    if v is not None and v > t.peak_bad_above_dbfs:
        return "bad:over"
    if v is not None and v > t.peak_warn_above_dbfs:
        return "warn:over"
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
    Rule(
        "peak",
        "dBFS",
        _peak,
        {
            "bad": "quality_advice_quiet",
            "warn": "quality_advice_quiet",
            "bad:over": "quality_advice_over_range",
            "warn:over": "quality_advice_over_range",
        },
    ),
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
