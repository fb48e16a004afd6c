"""A real browser on the tabs Analyze, History, Profiles, Evaluate and Two-party call of a live `emostudio
serve`, in Chinese and in English: each tab, once it shows a result, holds no word of the other language
outside the short allow-list of `langcheck` (emotion names like "😊 快乐 (Happy)", units) and the data shown
as it is (file names, run ids, the model's path). The browser's locale matches the language, so Gradio's own
strings are not what is tested here. A mistake on Analyze and on Profiles is one message, with no red "Error"
badge. Screenshots of every tab in both languages at 1400 px and 390 px: test-artifacts/tabs/."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from audio_factory import encode, make_voice
from langcheck import check
from playwright.sync_api import expect
from test_ui_browser import ARTIFACTS, NARROW, WIDE, browser, live  # noqa: F401 (fixtures)

from emostudio.messages import t

pytestmark = pytest.mark.browser
SR = 16000
SHOTS = ARTIFACTS / "tabs"
LOCALE = {"zh": "zh-CN", "en": "en-US"}


@pytest.fixture(scope="module")
def inputs(live):  # noqa: F811
    _, tmp = live
    voice = encode(tmp / "voice.wav", make_voice(6.0, SR, seed=7), SR, "wav").path
    both = np.stack([make_voice(4.0, SR, seed=1), make_voice(4.0, SR, seed=2)], axis=1)
    call = encode(tmp / "call.wav", both, SR, "wav").path
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, lab in enumerate(("angry", "happy", "neutral", "sad")):
            wav = encode(tmp / f"e{i}.wav", make_voice(1.0, SR, seed=40 + i), SR, "wav").path
            zf.write(wav, f"set/{lab}/e{i}.wav")
    testset = tmp / "myset.zip"
    testset.write_bytes(buf.getvalue())
    return {"voice": voice, "call": call, "testset": testset}


def _panel(page) -> str:
    return page.locator("[role=tabpanel] >> visible=true").first.inner_text()


def _data(tmp) -> tuple[str, ...]:
    """What the page shows as it is: file names, run and report ids, the speaker, the model's path."""
    out = tmp / "outputs"
    ids = [p.name for p in out.iterdir()] + [p.name for p in (out / "evaluations").glob("eval_*")]
    files = (
        "result",
        "processed_audio",
        "frames_ch0",
        "frames_ch1",
        "frames",
        "predictions",
        "metrics",
        "report",
    )
    suffixes = (".json", ".wav", ".csv", ".zip", ".html", "KB")  # gr.File shows stem, suffix and size apart
    shown = (
        "voice.wav",
        "call.wav",
        "myset.zip",
        "e0.wav",
        "alice",
        "next tuesday",
        "myset",
        str(tmp.parent),  # the model's folder is beside the server's
        "pcm_s16le",
        "tiny_model0",  # the model, by its folder
        "tiny",
    )
    return (*ids, *shown, *files, *suffixes)


def _tab(page, key: str, lang: str) -> None:
    page.get_by_role("tab", name=t(key, lang)).click()


def _shots(page, name: str, lang: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(WIDE)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}_{lang}_1400.png"), full_page=True)
    page.set_viewport_size(NARROW)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}_{lang}_390.png"), full_page=True)
    page.set_viewport_size(WIDE)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_my_tabs_speak_one_language(live, browser, inputs, lang):  # noqa: F811
    srv, tmp = live
    ctx = browser.new_context(viewport=WIDE, locale=LOCALE[lang])
    page = ctx.new_page()
    page.goto(srv.url + "/", wait_until="load")
    page.locator("#analyze-btn").wait_for(timeout=30_000)
    if lang == "en":
        page.locator("#lang").get_by_text("English").click()
        page.locator("#analyze-btn").get_by_text("Analyze").wait_for(timeout=10_000)
    seen: dict[str, str] = {}

    # Analyze: a mistake first (no audio) is one message, then a frame-level run with enhancement
    page.wait_for_timeout(1000)  # the page's events are wired once it has loaded
    page.locator("#analyze-btn").click()
    page.locator("#analyze-error").get_by_text(t("no_audio", lang)).wait_for(timeout=30_000)
    assert page.get_by_text("Error", exact=True).count() == 0
    page.locator("#audio-in input[type=file]").set_input_files(str(inputs["voice"]))
    page.locator("#granularity input[value=frame]").check()
    page.locator("#enhance input").check()
    page.locator("#analyze-btn").click()
    page.locator("#result-label").wait_for(timeout=120_000)
    page.locator("#enhancement-report").wait_for(timeout=30_000)
    seen["analyze"] = _panel(page)
    _shots(page, "analyze", lang)

    # History: times local with their zone, the opened run shown like Analyze, downloads only once opened
    _tab(page, "tab_history", lang)
    table = page.locator("#history")
    # the run just made, by its id: the table is refreshed when the tab opens (rows of the other language's
    # pass are there before it), and a click on an older voice.wav row would open that one
    newest = max((p for p in (tmp / "outputs").glob("outputs_*")), key=lambda p: p.stat().st_mtime).name
    table.get_by_text(newest).locator("visible=true").first.wait_for(timeout=30_000)
    assert (
        page.locator("#history-downloads").count() == 0 or not page.locator("#history-downloads").is_visible()
    )
    shown = table.inner_text()
    assert (
        "voice.wav" in shown and "(UTC" in shown and not re.search(r"\dT\d", shown)
    )  # local times, not raw ISO 8601
    table.get_by_text(newest).locator("visible=true").first.click()
    page.locator("#history-card #result-label").wait_for(timeout=30_000)
    page.locator("#history-timeline svg").first.wait_for(timeout=30_000)
    # the opened run's views paint one by one: wait for its enhancement report rather than read it at once
    expect(page.locator("#history-enhancement")).not_to_have_text(re.compile(r"^\s*$"), timeout=30_000)
    page.locator("#history-downloads").wait_for(state="visible", timeout=30_000)
    seen["history"] = _panel(page)
    _shots(page, "history", lang)

    # Profiles: an add, then a failed add replacing its message (no badge over the picker)
    _tab(page, "tab_profiles", lang)
    page.locator("#profile-speaker-new textarea, #profile-speaker-new input").first.fill("alice")
    page.locator("#profile-add").click()
    page.locator("#profile-added").wait_for(timeout=60_000)
    page.locator("#profile-summary").get_by_text("alice").first.wait_for(timeout=60_000)
    page.locator("#profile-at textarea, #profile-at input").first.fill("next tuesday")
    page.locator("#profile-add").click()
    page.locator("#profile-add-error").wait_for(timeout=30_000)
    assert page.locator("#profile-added").count() == 0 and page.get_by_text("Error", exact=True).count() == 0
    seen["profiles"] = _panel(page)
    _shots(page, "profiles", lang)

    # Evaluate: the verdict in words, past evaluations named by the uploaded archive
    _tab(page, "tab_evaluate", lang)
    page.locator("#eval-manifest input[type=file]").set_input_files(str(inputs["testset"]))
    page.locator("#eval-run").click()
    page.locator("#eval-verdict").wait_for(timeout=120_000)
    page.locator("#eval-confusion img").wait_for(timeout=30_000)
    assert (
        t("eval_exit", lang, code=0).split("0")[0].strip() not in page.locator("#eval-verdict").inner_text()
    )
    page.locator("#eval-past input").first.click()
    page.get_by_role("option", name=re.compile("myset.zip")).first.wait_for(timeout=10_000)
    page.keyboard.press("Escape")
    seen["evaluate"] = _panel(page)
    _shots(page, "evaluate", lang)

    # Two-party call: per-channel cards, quality, legend, downloads
    _tab(page, "tab_call", lang)
    page.locator("#call-in input[type=file]").set_input_files(str(inputs["call"]))
    page.locator("#call-go").click()
    page.locator("#call-timeline-svg").wait_for(timeout=120_000)
    page.locator("#call-legend").wait_for(timeout=10_000)
    assert page.locator(".call-quality").count() == 2
    for name in (
        "result",
        "frames_ch0",
        "frames_ch1",
        ".zip",
    ):  # gr.File shows a name's stem and suffix apart
        expect(page.locator("#call-downloads")).to_contain_text(name, timeout=30_000)
    ticks = page.locator("#call-timeline-svg text.axis").all_text_contents()
    assert ticks and len(ticks) == len(set(ticks))
    seen["call"] = _panel(page)
    _shots(page, "call", lang)

    ctx.close()
    data = _data(tmp)
    for text in seen.values():  # the failure names the piece of text and the foreign words in it
        check([text], lang, data, html=False)
