"""The quality verdicts as a table: one `Rule` per metric (name, unit, zh/en labels, how to judge, advice).

Adding a metric is one measurement in `report.measure` and one row in `RULES`. A rule's `judge` returns a case
key such as "ok", "warn:short" or "bad:quiet"; the part before the colon is the verdict, the whole key picks
the advice. Labels and advice are format strings that can use `{t}` (the thresholds), `{v}` (the value) and
the measurement context (e.g. `{method_en}` for SNR).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emostudio.settings import QualityThresholds

Judge = Callable[[Any, QualityThresholds], str]


@dataclass(frozen=True)
class Rule:
    name: str
    unit: str
    label_en: str
    label_zh: str
    judge: Judge
    advice: dict[str, tuple[str, str]] = field(default_factory=dict)  # case -> (en, zh) format strings

    def verdict_and_advice(self, value: Any, t: QualityThresholds, ctx: dict) -> tuple[str, str, str]:
        case = self.judge(value, t)
        en, zh = self.advice.get(case, ("", ""))
        fmt = {"t": t, "v": value, **ctx}
        return case.split(":")[0], en.format(**fmt), zh.format(**fmt)

    def labels(self, t: QualityThresholds, ctx: dict) -> tuple[str, str]:
        return self.label_en.format(t=t, **ctx), self.label_zh.format(t=t, **ctx)


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


QUIET = (
    "Very quiet; record closer to the mic (15–30 cm) or raise the input gain.",
    "音量很小；请靠近麦克风 15–30 厘米录音或调高输入增益。",
)
RULES: tuple[Rule, ...] = (
    Rule(
        "sample_rate", "Hz", "Sample rate", "采样率", _sample_rate,
        {"bad": ("Recorded at {v} Hz (phone-band); record at {t.min_sample_rate_hz} Hz or more.",
                 "采样率仅 {v} Hz（电话音质）；请用 {t.min_sample_rate_hz} Hz 或更高采样率录音。")},
    ),
    Rule("channels", "", "Channels", "声道数", _info),
    Rule("codec", "", "Codec", "编码", _info),
    Rule(
        "duration", "s", "Duration", "时长", _duration,
        {
            "bad:short": ("Too short; record or cut {t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} s.",
                          "太短；请录制或剪成 {t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} 秒。"),
            "warn:short": ("Short; {t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} s works best.",
                           "偏短；{t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} 秒效果最好。"),
            "warn:long": ("Long; cut to {t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} s for a sharper score.",
                          "偏长；剪成 {t.duration_ok_from_s:g}–{t.duration_ok_to_s:g} 秒结果更准。"),
            "warn:split": ("Longer than {t.duration_split_above_s:g} s: it is split at pauses and scored per segment.",
                           "超过 {t.duration_split_above_s:g} 秒：将在停顿处切分并逐段打分。"),
        },
    ),
    Rule("peak", "dBFS", "Peak level", "峰值电平", _peak, {"bad": QUIET, "warn": QUIET}),
    Rule("rms", "dBFS", "RMS level", "均方根电平", _info),
    Rule(
        "loudness", "LUFS", "Loudness", "响度", _loudness,
        {"bad:quiet": QUIET, "warn:quiet": QUIET,
         "warn:loud": ("Very loud; likely limited or clipped — lower the input gain.",
                       "响度过大，可能被压限或削波；请调低输入增益。")},
    ),
    Rule(
        "clipping", "%", "Clipping", "削波", _clipping,
        dict.fromkeys(("bad", "warn"), (
            "Clipped (distorted); lower the input gain or step back from the mic and record again.",
            "有削波失真；请调低输入增益或离麦克风远一点重新录音。",
        )),
    ),
    Rule(
        "dc_offset", "FS", "DC offset", "直流偏移", _dc,
        dict.fromkeys(("bad", "warn"), (
            "DC offset; a high-pass filter removes it (emostudio enhance).",
            "存在直流偏移；高通滤波可去除（emostudio enhance）。",
        )),
    ),
    Rule(
        "snr", "dB", "SNR ({method})", "信噪比（{method_zh}）", _snr,
        {
            **dict.fromkeys(("bad", "warn"), (
                "Noisy; record closer to the mic (15–30 cm) in a quieter room, or denoise (emostudio enhance).",
                "噪声较大；请靠近麦克风 15–30 厘米、在安静的房间录音，或降噪（emostudio enhance）。",
            )),
            "info:none": (
                "Cannot be measured: no speech was found, or the level never drops to a noise floor "
                "(a steady tone, steady noise or music).",
                "无法测量：未检测到语音，或电平从不回落到底噪（持续的音调、噪声或音乐）。",
            ),
        },
    ),
    Rule(
        "speech_ratio", "%", "Speech ratio", "语音占比", _speech,
        {"bad": ("No speech found; check the file holds speech.", "未检测到语音；请确认文件内有说话声。"),
         "warn": ("Mostly non-speech; trim the silence or noise around the speech.",
                  "大部分不是语音；请剪掉语音前后的静音或噪声。")},
    ),
    Rule("dynamic_range", "dB", "Dynamic range", "动态范围", _info),
    Rule(
        "hum", "dB", "Low-frequency hum (< {t.hum_cutoff_hz:g} Hz)", "低频嗡声（< {t.hum_cutoff_hz:g} Hz）", _hum,
        dict.fromkeys(("bad", "warn"), (
            "Low-frequency hum or rumble; a 100 Hz high-pass removes it (emostudio enhance); check cables "
            "and grounding.",
            "有低频嗡声或隆隆声；100 Hz 高通滤波可去除（emostudio enhance）；请检查线缆和接地。",
        )),
    ),
)  # fmt: skip
RULES_BY_NAME = {r.name: r for r in RULES}
