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
from emostudio.render.lanes import axis_ticks
from emostudio.render.live import role_name
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
        for seg in ch["result"]["frames"]["segments"]:
            legend = html.split('id="call-legend"')[1].split('class="call-quality"')[0]
            assert emotion_name(seg["label"], "en") in legend and colour(seg["label"]) in legend
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
