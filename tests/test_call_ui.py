"""The Two-party call tab's callbacks without a browser: its downloads, per-channel quality, legend and axis,
and a user's mistake said in the UI's language with the previous result cleared and one log line."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from audio_factory import encode, make_voice

from emostudio.messages import t
from emostudio.model.labels import colour, emotion_name
from emostudio.render.lanes import axis_ticks, within
from emostudio.render.live import call_html, role_name
from emostudio.server.live import ui as live_ui

pytestmark = pytest.mark.unit
SR = 16000


@pytest.fixture(scope="module")
def service(tiny_service):
    return tiny_service


@pytest.fixture(scope="module")
def stereo(tmp_path_factory) -> str:
    both = np.stack([make_voice(3.0, SR, seed=1), make_voice(3.0, SR, seed=2)], axis=1)
    return str(encode(tmp_path_factory.mktemp("clips") / "call.wav", both, SR, "wav").path)


def test_a_call_gives_its_downloads_quality_per_channel_and_a_legend(service, stereo):
    doc, html, files = asyncio.run(live_ui.analyse_call_file(service, stereo, "agent, customer", "English"))
    names = {Path(f).name for f in files["value"]}
    assert {"result.json", "frames_ch0.csv", "frames_ch1.csv"} <= names
    assert any(n.endswith(".zip") for n in names) and files["label"] == t("files", "en")
    assert html.count('class="call-quality"') == 2  # one quality report per channel
    assert 'id="call-legend"' in html
    for ch in doc["channels"]:
        segs = [(s["start_s"], s["end_s"], s["label"]) for s in ch["result"]["frames"]["segments"]]
        for _, _, label in within(segs, ch["speech"]):
            legend = html.split('id="call-legend"')[1].split('class="call-quality"')[0]
            assert emotion_name(label, "en") in legend and colour(label) in legend
    ticks = re.findall(r'class="axis"[^>]*>([^<]*)<', html)
    assert ticks and len(ticks) == len(set(ticks))  # no "0 s 1 s 1 s 2 s"


@pytest.mark.parametrize("choice,lang", [("中文", "zh"), ("English", "en")])
def test_call_mistakes_are_toasts_in_the_ui_language_with_one_log_line(service, stereo, choice, lang, caplog):
    with caplog.at_level("INFO", logger="emostudio.server"):
        with pytest.raises(gr.Error) as e:
            asyncio.run(live_ui.analyse_call_file(service, stereo, "a, b, c", choice))
    said = e.value.message
    assert "call.wav" in said and (re.search(r"[\u4e00-\u9fff]", said) is not None) == (lang == "zh")
    lines = [r for r in caplog.records if r.name == "emostudio.server"]
    assert len(lines) == 1 and lines[0].exc_info is None and "\n" not in lines[0].getMessage()
    with pytest.raises(gr.Error, match=t("call_need_audio", lang)):
        asyncio.run(live_ui.analyse_call_file(service, None, None, choice))
    assert live_ui.call_cleared() == (None, "", None)  # run before each analysis: nothing old stays


def test_axis_ticks_are_round_and_never_repeat():
    assert axis_ticks(0, 3) == [0, 1, 2, 3]
    assert axis_ticks(0, 2.5) == [0, 1, 2]
    assert axis_ticks(0, 60) == [0, 15, 30, 45, 60]
    assert axis_ticks(12.3, 72.3) == [15, 30, 45, 60]
    for end in (0.4, 1.0, 7.2, 59.9, 600.0, 7200.0, 90000.0):
        ticks = axis_ticks(0, end)
        assert 1 <= len(ticks) <= 6 and len(set(ticks)) == len(ticks) and ticks == sorted(ticks)


def test_default_roles_are_said_in_each_language():
    assert {role_name(r, "zh") for r in ("left", "right", "mono")}.isdisjoint({"left", "right", "mono"})
    assert role_name("agent", "zh") == "agent"  # a user's role name is shown as given


def _lane_blocks(html: str) -> list[list[tuple[float, float]]]:
    """Each lane's painted strip blocks (start_s, end_s) read back from their hover titles."""
    svg = html.split('id="call-timeline-svg"')[1].split("</svg>")[0]
    lanes = svg.split('<text x="4"')[1:]
    return [
        [(float(a), float(b)) for a, b in re.findall(r"<title>[^<]* ([\d.]+)–([\d.]+) s</title>", x)]
        for x in lanes
    ]


@pytest.fixture(scope="module")
def turns(tmp_path_factory) -> str:
    """A call where each side talks while the other is silent: left 0–2.5 s and 5–7.5 s, right 2.5–5 s."""
    n, cut = int(7.5 * SR), int(2.5 * SR)
    left, right = np.zeros(n, np.float32), np.zeros(n, np.float32)
    left[:cut], left[2 * cut :] = make_voice(2.5, SR, seed=3), make_voice(2.5, SR, seed=4)
    right[cut : 2 * cut] = make_voice(2.5, SR, seed=5)
    return str(
        encode(tmp_path_factory.mktemp("turns") / "turns.wav", np.stack([left, right], 1), SR, "wav").path
    )


def test_each_channel_strip_is_painted_only_where_that_channel_speaks(service, turns):
    doc, html, _ = asyncio.run(live_ui.analyse_call_file(service, turns, "agent, customer", "中文"))
    left, right = (ch["speech"] for ch in doc["channels"])
    assert left and right and all(b <= 2.9 or a >= 4.6 for a, b in left)  # the VAD saw the silent turn
    assert all(a >= 2.1 and b <= 5.4 for a, b in right)
    blocks = _lane_blocks(html)
    assert len(blocks) == 2 and blocks[0] and blocks[1]
    assert not any(a < 4.5 and b > 3.0 for a, b in blocks[0])  # a gap while the agent is silent
    assert not any(b > 6.0 or a < 1.5 for a, b in blocks[1])  # the customer only during its turn
    for lane, speech in zip(blocks, (left, right), strict=True):  # every block inside a speech run
        assert all(any(s0 - 0.05 <= a and b <= s1 + 0.05 for s0, s1 in speech) for a, b in lane)
    ticks = re.findall(r'class="axis"[^>]*>([^<]*)<', html)
    assert ticks and len(ticks) == len(set(ticks))


def test_a_strip_without_speech_runs_is_painted_all_along_and_a_silent_gap_is_left_empty():
    frames = {
        "step_s": 0.5,
        "start_s": [0.5 * i for i in range(12)],
        "scores": [[0.9] + [0.0125] * 8] * 12,
        "segments": [{"start_s": 0.0, "end_s": 6.0, "label": "happy"}],
    }
    res = {"emotion": "happy", "confidence": 0.9, "band": {"en": "sure", "zh": "确定"}, "frames": frames}
    channel = {"index": 0, "role": "left", "status": "speaker", "note": None, "result": res}
    doc = {"emotion": "happy", "confidence": 0.9, "audio": {"duration_s": 6.0}, "channels": [channel]}
    assert _lane_blocks(call_html(doc, "en")) == [[(0.0, 6.0)]]  # a run saved before `speech` existed
    html = call_html({**doc, "channels": [{**channel, "speech": [[0.0, 2.0], [4.0, 6.0]]}]}, "en")
    assert _lane_blocks(html) == [[(0.0, 2.0), (4.0, 6.0)]]
    assert html.count("<polyline") == 2  # the confidence line breaks in the gap too
    ticks = re.findall(r'class="axis"[^>]*>([^<]*)<', html)
    assert ticks == [t("live_seconds_tick", "en", s=s) for s in (0, 2, 4, 6)]
