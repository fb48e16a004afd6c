"""The speaker strip and cards drawn from hand-built result.json documents with speaker turns (the blocks of
issue 28: diarization, turns, speakers), in Chinese and English."""

from __future__ import annotations

import re

import pytest

from emostudio.messages import t
from emostudio.model.labels import KEYS, UNSCORED_COLOUR, colour, emotion_name
from emostudio.render import speakers as render
from emostudio.render.lanes import axis_ticks

pytestmark = pytest.mark.unit


def _scores(top: str, p: float) -> dict:
    rest = (1 - p) / (len(KEYS) - 1)
    return {k: p if k == top else rest for k in KEYS}


def _turn(spk, a, b, label=None, p=0.7, band="leaning", overlap=False, overlap_s=0.0) -> dict:
    scored = label is not None
    return {
        "speaker": spk,
        "start_s": a,
        "end_s": b,
        "overlap": overlap,
        "overlap_s": overlap_s,
        "scored": scored,
        "label": label,
        "confidence": p if scored else None,
        "band": band if scored else None,
        "scores": _scores(label, p) if scored else None,
    }


def _doc() -> dict:
    turns = [
        _turn("spk0", 0.0, 4.2, "happy", 0.85, "confident"),
        _turn("spk1", 4.0, 9.5, "angry", 0.65, overlap=True, overlap_s=0.2),
        _turn("spk0", 9.5, 10.1),  # shorter than min_scored_turn_s: grey
        _turn("spk0", 10.1, 13.0, "neutral", 0.55, "uncertain"),
    ]
    turns[0]["overlap"], turns[0]["overlap_s"] = True, 0.2
    return {
        "audio": {"duration_s": 13.4},
        "emotion": "neutral",
        "diarization": {
            "engine": "emostudio",
            "requested": 3,
            "found": 2,
            "speech_s": 12.8,
            "notes": [
                {
                    "key": "speakers_fewer_than_asked",
                    "en": "3 speakers were asked for, 2 found",
                    "zh": "要求 3 位，找到 2 位",
                }
            ],
            "settings": {"min_scored_turn_s": 1.0},
        },
        "turns": turns,
        "speakers": [
            {
                "id": "spk0",
                "seconds": 7.7,
                "turns": 3,
                "scored_seconds": 7.1,
                "label": "happy",
                "confidence": 0.637,
                "band": "leaning",
                "scores": _scores("happy", 0.637),
                "share": {"happy": 0.59, "neutral": 0.41},
            },
            {
                "id": "spk1",
                "seconds": 5.5,
                "turns": 1,
                "scored_seconds": 5.5,
                "label": "angry",
                "confidence": 0.65,
                "band": "leaning",
                "scores": _scores("angry", 0.65),
                "share": {"angry": 1.0},
            },
        ],
    }


def _lane_rects(html: str) -> list[tuple[str, float, float]]:
    return [
        (m[0], float(m[1]), float(m[2]))
        for m in re.findall(r'data-label="(\w+)" x="([\d.]+)" y="([\d.]+)"', html)
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_strip_has_one_lane_per_speaker_each_turn_in_its_emotions_colour(lang):
    html = render.speaker_strip(_doc(), lang)
    rects = _lane_rects(html)
    assert [label for label, _, _ in rects] == ["happy", "unscored", "neutral", "angry"]  # lane by lane
    ys = {label: y for label, _, y in rects}
    assert ys["happy"] == ys["unscored"] == ys["neutral"] != ys["angry"]  # spk0's lane, then spk1's
    for label in ("happy", "neutral", "angry"):
        assert f'data-label="{label}"' in html and colour(label) in html
    assert f'fill="{UNSCORED_COLOUR}"' in html  # the short turn is grey
    assert (
        f">{t('speaker_n', lang, n=1)}<" in html and f">{t('speaker_n', lang, n=2)}<" in html
    )  # lane titles
    legend = html.split('id="speaker-legend"')[1]
    for label in ("happy", "neutral", "angry"):
        assert emotion_name(label, lang) in legend
    assert emotion_name("sad", lang) not in legend  # only the emotions shown
    assert t("speaker_unscored", lang) in legend and t("speaker_overlap", lang) in legend


def test_overlapping_speech_is_hatched_where_the_turns_overlap():
    doc = _doc()
    html = render.speaker_strip(doc, "en")
    assert html.count('class="overlap"') == 2  # spk0's 4.0–4.2 and spk1's: both lanes
    assert 'fill="url(#speaker-strip-svg-hatch)"' in html and '<pattern id="speaker-strip-svg-hatch"' in html
    lanes = render.speaker_lanes(doc)
    assert lanes[0].hatched == [(4.0, 4.2)] and lanes[1].hatched == [(4.0, 4.2)]
    for turn in doc["turns"]:
        turn["overlap"] = False
    doc["turns"][1]["start_s"] = 4.2  # no overlap: nothing hatched, no hatch in the legend
    plain = render.speaker_strip(doc, "en")
    assert 'class="overlap"' not in plain and t("speaker_overlap", "en") not in plain
    doc["turns"][3]["overlap"] = True  # marked by the engine but not placed in the turns: the whole turn
    assert render.speaker_lanes(doc)[0].hatched == [(10.1, 13.0)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_axis_ticks_are_round_and_in_the_ui_language(lang):
    html = render.speaker_strip(_doc(), lang)
    ticks = re.findall(r'class="axis"[^>]*>([^<]*)<', html)
    assert ticks == [t("live_seconds_tick", lang, s=s) for s in axis_ticks(0, 13.4)]
    assert len(ticks) == len(set(ticks)) >= 2
    assert ("秒" in ticks[0]) == (lang == "zh")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_card_per_speaker_with_reading_talk_time_and_share(lang):
    html = render.speakers_view(_doc(), lang)
    cards = re.findall(r'<div class="take-card speaker-card" data-speaker="(\w+)" data-label="(\w*)"', html)
    assert cards == [("spk0", "happy"), ("spk1", "angry")]
    spk0 = html.split('data-speaker="spk0"')[1].split('data-speaker="spk1"')[0]
    assert emotion_name("happy", lang, emoji=False) in spk0 and "63.7%" in spk0
    assert t("band_leaning", lang) in spk0 and t("speaker_talk", lang, seconds=7.7, turns=3) in spk0
    assert (
        f"{emotion_name('happy', lang, emoji=False)} 59%" in spk0
        and f"{emotion_name('neutral', lang, emoji=False)} 41%" in spk0
    )
    assert t("speakers_title", lang, found=2, speech_s=12.8) in html
    assert _doc()["diarization"]["notes"][0][lang] in html  # the engine's note in the UI's language
    assert html.index("speaker-strip") < html.index("speaker-cards")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_speakers_are_named_in_the_ui_language_with_their_file_id_beside(lang):
    assert render.speaker_name("spk0", lang) == ("说话人 1" if lang == "zh" else "Speaker 1")
    assert render.speaker_name("customer-spk2", lang) == f"customer · {t('speaker_n', lang, n=3)}"
    assert render.speaker_name("left-spk0", lang) == f"{t('role_left', lang)} · {t('speaker_n', lang, n=1)}"
    assert render.speaker_name("narrator", lang) == "narrator"  # not an engine id: as it is
    html = render.speakers_view(_doc(), lang)
    spk1 = html.split('data-speaker="spk1"')[1]
    assert (
        f'{t("speaker_n", lang, n=2)} <span class="muted speaker-id">spk1</span>' in spk1
    )  # as in turns.rttm


def test_a_speaker_without_a_scored_turn_says_so_and_no_turns_say_none():
    doc = _doc()
    sp = doc["speakers"][1]
    sp.update(label=None, confidence=None, band=None, scores=None, share={}, scored_seconds=0.0)
    html = render.speakers_view(doc, "zh")
    assert 'data-speaker="spk1" data-label=""' in html and t("speaker_no_reading", "zh") in html
    doc.update(turns=[], speakers=[])
    doc["diarization"].update(
        found=0, notes=[{"key": "no_speech", "en": "no speech", "zh": "没有检测到语音"}]
    )
    empty = render.speakers_view(doc, "zh")
    assert t("speakers_none", "zh") in empty and "没有检测到语音" in empty and "<svg" not in empty


def test_documents_without_speaker_turns_draw_nothing():
    assert render.speakers_view(None, "en") == "" and render.speaker_strip({}, "en") == ""
    call = {"speakers": 2, "channels": [], "audio": {"duration_s": 3.0}}  # a two-party call's count
    assert not render.has_turns(call) and render.speakers_view(call, "en") == ""


def test_overlap_spans_of_three_speakers_talking_at_once():
    turns = [
        _turn("spk0", 0.0, 10.0, "happy"),
        _turn("spk1", 2.0, 4.0, "sad"),
        _turn("spk2", 3.0, 5.0),
        _turn("spk0", 12.0, 13.0, "happy"),
        _turn("spk0", 12.5, 14.0, "happy"),  # the same speaker's turns touching: no overlap
    ]
    assert render.overlaps(turns) == [
        [(2.0, 4.0), (3.0, 5.0)],
        [(2.0, 4.0), (3.0, 4.0)],
        [(3.0, 4.0), (3.0, 5.0)],
        [],
        [],
    ]
