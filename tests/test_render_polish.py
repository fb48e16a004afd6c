"""Small things a demanding user sees: compare's deltas carry their units and each take's SNR its own method;
the day-granularity trend chart of two months stays a readable picture."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from test_profiles import weekly

from emostudio.profiles import trend
from emostudio.profiles.charts import MAX_WIDTH_IN, trend_png
from emostudio.render.result import comparison, delta_text

pytestmark = pytest.mark.unit


def test_deltas_say_their_unit():
    assert delta_text(-32000, "Hz") == "-32000 Hz" and delta_text(3.24, "dB") == "+3.2 dB"
    assert delta_text(0.5, "%") == "+0.5%" and delta_text(None, "dB") == "" and delta_text(1.0, "") == "+1.0"


def _take(side: str) -> dict:
    scores = {
        k: 1 / 9
        for k in ("angry", "disgusted", "fearful", "happy", "neutral", "other", "sad", "surprised", "unknown")
    }
    return {"emotion": "happy", "confidence": 0.5, "band": {"en": "uncertain", "zh": "不确定"}, "scores": scores,
            "source": f"{side}.wav"}  # fmt: skip


def test_each_takes_snr_is_labelled_with_its_own_method():
    row = {"name": "snr", "label_en": "SNR (VAD)", "label_zh": "信噪比（VAD）", "unit": "dB", "a": 20.0, "b": 8.0,
           "delta": -12.0, "label_a_en": "SNR (VAD)", "label_b_en": "SNR (floor)",
           "label_a_zh": "信噪比（VAD）", "label_b_zh": "信噪比（底噪）"}  # fmt: skip
    rate = {"name": "sample_rate", "label_en": "Sample rate", "label_zh": "采样率", "unit": "Hz", "a": 48000,
            "b": 16000, "delta": -32000}  # fmt: skip
    cmp = {"a": _take("a"), "b": _take("b"), "quality": [row, rate], "verdict": {"en": "v", "zh": "v"},
           "agreement": {"en": "a", "zh": "a"}}  # fmt: skip
    html = comparison(cmp, "en")
    assert "A: SNR (VAD) · B: SNR (floor)" in html and "-12 dB" in html and "-32000 Hz" in html
    assert "A: 信噪比（VAD） · B: 信噪比（底噪）" in comparison(cmp, "zh")


def test_two_months_by_day_stay_a_readable_picture():
    recs = weekly("dana", [3] * 9, n=7)  # one record a day or so for nine weeks
    tr = trend(recs, by="day", tz="UTC")
    assert len(tr.table) > 50
    width_px, _ = Image.open(io.BytesIO(trend_png(tr, lang="en"))).size
    assert (
        width_px <= MAX_WIDTH_IN * 110 * 1.05
    )  # capped at 110 dpi (the old width grew 0.55 in per day: over 30 in)
