"""A real browser drives the Profiles tab of a live `emostudio serve`: analyse a clip, add it to a
speaker, pick the speaker, see the summary, the trend chart and the nearest past moments. No request may leave
127.0.0.1. Screenshot: test-artifacts/ui_profiles.png."""

from __future__ import annotations

import pytest
from audio_factory import encode, make_voice
from browsers import ARTIFACTS, keep_local
from playwright.sync_api import expect
from test_ui_browser import browser, live  # noqa: F401 (fixtures: a live server, chromium)

from emostudio.profiles import ProfileStore

pytestmark = pytest.mark.browser


def test_profiles_tab_in_the_browser(live, browser):  # noqa: F811
    srv, tmp = live
    wav = encode(tmp / "profile_voice.wav", make_voice(2.0, 16000, seed=4), 16000, "wav").path
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    outside = keep_local(page, srv.url)
    page.goto(
        srv.url + "/?lang=zh", wait_until="load"
    )  # the UI starts in 中文 (else: the browser's language)
    page.locator("#analyze-btn").wait_for(timeout=30_000)
    page.locator("#audio-in input[type=file]").set_input_files(str(wav))
    page.locator("#analyze-btn").click()
    page.locator("#result-label").wait_for(timeout=60_000)

    page.get_by_role("tab", name="档案").click()
    page.locator("#profile-speaker-new textarea, #profile-speaker-new input").first.fill("客户-42")
    page.locator("#profile-tags textarea, #profile-tags input").first.fill("vip")
    page.locator("#profile-add").click()
    status = page.locator("#profile-add-status")
    status.get_by_text("客户-42").wait_for(timeout=60_000)
    summary = page.locator("#profile-summary")
    summary.get_by_text("客户-42 · 1").wait_for(timeout=60_000)  # picking the speaker shows the profile
    assert "数据不足" in summary.inner_text()  # one record: not enough data for the alert, and it says so
    page.locator("#profile-trend img").wait_for(timeout=30_000)
    nearest = page.locator("#profile-nearest")
    expect(nearest).to_contain_text("1.000", timeout=30_000)  # the clip itself is the nearest moment
    expect(nearest).to_contain_text("profile_voice.wav")
    page.locator("#profile-at textarea, #profile-at input").first.fill("2026-13-45")
    page.locator("#profile-add").click()  # a bad time replaces the success message, no badge on the picker
    status.locator("#profile-add-error").get_by_text("2026-13-45").wait_for(timeout=30_000)
    assert status.locator("#profile-added").count() == 0
    assert page.get_by_text("Error", exact=True).count() == 0
    page.locator("#profile-pick").click(timeout=5_000)  # the picker is not covered
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui_profiles.png"), full_page=True)
    assert outside == [], f"the page tried to reach the internet: {outside}"
    page.close()
    srv.stop()  # once the server is gone its store folder opens again, with the record in it
    with ProfileStore(tmp / "outputs" / "profiles") as store:
        recs = store.speaker_records("客户-42")
    assert len(recs) == 1 and recs[0].tags == ["vip"] and recs[0].source == "profile_voice.wav"
