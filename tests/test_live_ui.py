"""The web UI's Live tab without a browser: the page's snapshot → card, timeline and closing message, the start
order (a one-time WebSocket ticket; bad roles refused before the microphone opens), a mono microphone refused
in "one speaker per channel" mode, and the relabelling in both languages."""

from __future__ import annotations

import html as html_lib
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from emostudio.messages import ERRORS, code_text, t
from emostudio.render.page import page_head, page_js
from emostudio.server.live import ui as live_ui
from emostudio.server.live.service import LiveHub

pytestmark = pytest.mark.unit


def update(seq: int, time_s: float, label: str = "happy", channel=None) -> dict:
    return {
        "type": "update",
        "seq": seq,
        "channel": channel,
        "role": "",
        "time_s": time_s,
        "label": {"key": label, "en": label, "zh": label, "emoji": "😊"},
        "confidence": 0.8,
        "band": {"zh": "高", "en": "high"},
        "skipped": 0,
        "segments_from": 0,
        "segments": [{"start_s": 0.0, "end_s": time_s, "label": label}],
    }


def snapshot(**fields) -> str:
    row = {"channel": None, "role": "", "segments": [[0.0, 4.0, "happy"]], "points": [[4.0, 0.8]]}
    doc = {
        "push": 7,
        "state": "live",
        "rows": {"null": {**row, "current": update(8, 4.0)}},
        "seconds": 4.0,
        "updates": 8,
        "skipped": 1,
        "ui_skipped": 2,
        "notices": [],
        "result": None,
        "error": None,
    }
    return json.dumps({**doc, **fields})


def test_a_snapshot_draws_the_card_and_timeline_in_each_language():
    for lang, choice in (("zh", "中文"), ("en", "English")):
        cards, strip, ending = live_ui.show_snapshot(snapshot(), choice)
        assert 'data-push="7"' in cards and 'data-updates="8"' in cards
        assert t("live_listening", lang, seconds=4.0, updates=8) in cards
        assert t("live_skipped", lang, n=1) in cards and t("live_ui_skipped", lang, n=2) in cards
        assert "live-timeline-svg" in strip and ending == ""


def test_merged_updates_are_said_only_when_there_are_some():
    cards, _, _ = live_ui.show_snapshot(snapshot(ui_skipped=0, skipped=0), "English")
    assert "merged" not in cards and "skipped" not in cards


def test_the_closing_message_names_the_saved_run_or_why_not():
    result = {"type": "result", "reason": "stop", "run_id": "run-42", "summary": "happy", "channels": []}
    _, _, ending = live_ui.show_snapshot(snapshot(state="ended", result=result), "English")
    assert 'data-run="run-42"' in ending and "run-42" in ending
    _, _, ending = live_ui.show_snapshot(snapshot(state="ended", error="queue full"), "中文")
    assert "queue full" in ending and 'class="warn"' in ending
    _, _, ending = live_ui.show_snapshot(snapshot(state="stopping"), "English")
    assert t("live_stopping", "en") in ending


def test_a_mono_microphone_in_per_channel_mode_is_refused_in_the_uis_language():
    for lang, choice in (("zh", "中文"), ("en", "English")):
        cards, strip, _ = live_ui.show_snapshot(json.dumps({"state": "refused", "reason": "mono"}), choice)
        assert t("live_refuse_mono", lang) in cards and strip == ""
    cards, _, _ = live_ui.show_snapshot(
        json.dumps({"state": "refused", "reason": "no_mic", "error": "NotAllowedError"}), "English"
    )
    assert t("live_no_mic", "en", error="NotAllowedError") in cards


@pytest.mark.parametrize("text", [None, "", "not json", "[1, 2]", '{"rows": {"x": 3}}'])
def test_nothing_or_a_broken_snapshot_shows_the_waiting_card(text):
    cards, strip, ending = live_ui.show_snapshot(text, "English")
    assert t("live_waiting", "en") in cards and strip == "" and ending == ""


class FakeService:  # the hub only reads settings through its service
    settings = SimpleNamespace(max_streams=4, stream_idle_timeout_s=10)


def test_record_hands_the_page_a_one_time_ticket():
    service = FakeService()
    hub = LiveHub(service)  # type: ignore[arg-type]
    order, cards, strip, saved = live_ui.begin_recording(hub, "separate", "agent, customer", "English")
    doc = json.loads(order)
    assert doc["mode"] == "separate" and doc["roles"] == ["agent", "customer"]
    assert t("live_waiting", "en") in cards and strip == saved == ""
    assert hub.take_ticket(doc["ticket"]) and not hub.take_ticket(doc["ticket"])  # once only
    assert not hub.take_ticket("") and not hub.take_ticket("made-up")
    late = hub.issue_ticket(ttl_s=0.01)
    time.sleep(0.05)
    assert not hub.take_ticket(late)


@pytest.mark.parametrize(
    ("mode", "roles", "key"),
    [("mix", "agent, customer", "live_roles_too_many"), ("separate", "a, a", "bad_roles")],
)
def test_bad_roles_are_refused_before_the_microphone_opens(mode, roles, key):
    hub = LiveHub(FakeService())  # type: ignore[arg-type]
    for lang, choice in (("zh", "中文"), ("en", "English")):
        order, cards, _, _ = live_ui.begin_recording(hub, mode, roles, choice)
        assert order == "" and 'class="warn"' in cards
        if key == "live_roles_too_many":
            assert t(key, lang, n=2, k=1) in cards
        elif lang == "zh":
            assert "声道角色无效" in cards
    assert hub._tickets == {}


def test_relabel_follows_the_language():
    for lang, choice in (("zh", "中文"), ("en", "English")):
        out = live_ui.relabel_updates(snapshot(), choice, None)
        assert out[0]["value"] == t("live_record", lang) and out[1]["value"] == t("live_stop", lang)
        assert t("live_listening", lang, seconds=4.0, updates=8) in out[4]


def test_the_page_script_carries_the_language_choices():
    js = page_js((("中文", "zh"), ("English", "en")))
    assert '{"中文": "zh", "English": "en"}' in js and "__LANG_CHOICES__" not in js
    assert "/v1/stream" not in js or "v1/stream" in js  # the product's own WebSocket
    assert "AudioWorkletNode" in js and "changeLocale" in js
    assert page_head({"中文": "zh"}).startswith("<script>")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("too_many_streams", "too many live streams (4 open); try again later"),
        ("unavailable", "the model is not loaded yet"),
        ("queue_full", "the server is busy (queue of 8 is full)"),
        ("bad_parameters", "need 0.1 ≤ hop_s ≤ window_s ≤ 30 seconds"),
        ("output_error", "nothing saved: the server's disk is full while keeping the stream's audio"),
        ("made_up_code", "something the catalogue does not know"),
    ],
)
def test_a_server_error_on_the_live_card_is_said_in_the_uis_language(code, message):
    view = snapshot(state="ended", error=message, error_code=code)
    _, _, zh = live_ui.show_snapshot(view, "中文")
    _, _, en = live_ui.show_snapshot(view, "English")
    assert (
        'class="warn"' in zh
        and message not in zh
        and re.search(r"[a-z]{4}", _text(zh).replace(code, "")) is None
    )
    said = live_ui.snapshot_view(view).error_text("zh")
    assert t("live_not_saved", "zh", error=said) in _text(zh)
    assert said == (
        code_text(code, "zh", message) if code in ERRORS else t("live_stream_error", "zh", code=code)
    )
    assert message in _text(en) and t("live_not_saved", "en", error=message) in _text(en)


def test_a_closed_connection_and_a_refused_microphone_are_said_from_the_catalogue():
    for lang, choice in (("zh", "中文"), ("en", "English")):
        _, _, ending = live_ui.show_snapshot(snapshot(state="ended", close_code=1006), choice)
        assert t("live_not_saved", lang, error=t("live_closed", lang, code=1006)) in _text(ending)
        for name, key in (("NotAllowedError", "live_mic_denied"), ("NotFoundError", "live_mic_missing")):
            browser = "Permission denied by system" if lang == "zh" else "Requested device not found"
            doc = json.dumps({"state": "refused", "reason": "no_mic", "error": browser, "error_code": name})
            cards, _, _ = live_ui.show_snapshot(doc, choice)
            assert t("live_no_mic", lang, error=t(key, lang)) in _text(cards) and browser not in cards


def test_the_wall_clock_notice_is_said_in_the_uis_language():
    notice = {
        "code": "wall_clock_limit"
    }  # the server's notice carries an English string: the page keeps its code
    for lang, choice in (("zh", "中文"), ("en", "English")):
        cards, _, _ = live_ui.show_snapshot(snapshot(notices=[notice]), choice)
        assert t("live_notice_wall_clock_limit", lang) in _text(cards)


def test_the_status_words_page_js_rewrites_are_the_ones_gradios_status_tracker_writes():
    """page.js rewrites Gradio's English status line ("processing |", "queue: 2/3 |") inside `.progress-text`:
    the installed Gradio must still write those words there, or the rewrite finds nothing (a Gradio upgrade)."""
    import gradio

    assets = Path(gradio.__file__).parent / "templates" / "frontend" / "assets"
    trackers = [p.read_text(encoding="utf-8") for p in assets.glob("statustracker-*.js")]
    assert trackers, "Gradio's status tracker bundle is gone: check page.js relabelStatus"
    js = "\n".join(trackers)
    assert "progress-text" in js and "`processing |`" in js and "`queue: ${" in js
    page = page_js((("中文", "zh"), ("English", "en")))
    assert '"processing": {"zh": "处理中", "en": "processing"}' in page and '"queue:": {"zh": "排队"' in page
    assert "__GRADIO_STATUS__" not in page and ".progress-text" in page


def test_the_page_keeps_the_servers_error_code_and_a_bare_close_code():
    js = page_js((("中文", "zh"), ("English", "en")))
    assert "error_code = ev.code" in js and "close_code = e.code" in js and "{ code: ev.code }" in js
    assert "closed (" not in js  # no English made up on the page


def _text(html: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))
