"""A real browser (Debian's chromium via Playwright) on the web UI's Live and Two-party call tabs of a live
`emostudio serve`, with chromium's fake microphone playing a synthetic voice.

Live: press Record (the page streams the microphone over /v1/stream); the label card and the scrolling timeline move as updates arrive; press stop; the whole
stream is saved as a run, which the History tab lists. Two-party call: a stereo recording gives one card and
one timeline per channel, drawn one above the other. No request may leave 127.0.0.1.
Screenshots: test-artifacts/ui_live.png, test-artifacts/ui_call.png.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from audio_factory import encode
from browsers import ARTIFACTS, chromium_with_microphone, keep_local
from playwright.sync_api import expect
from server_process import ServerProcess
from signals import voice

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("live_ui")
    args = ["--model", str(tiny_model_dir), "--device", "cpu", "--offline", "--outputs", str(tmp / "outputs")]
    with ServerProcess(args, log_path=tmp / "server.log", env={"OMP_NUM_THREADS": "1"}) as srv:
        yield srv, tmp


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    x, _ = voice(30, seed=1, pauses=False)  # chromium loops the file: the microphone never runs dry
    with chromium_with_microphone(tmp_path_factory.mktemp("mic") / "mic.wav", x) as b:
        yield b


def open_page(srv, browser):
    context = browser.new_context(permissions=["microphone"], viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    outside = keep_local(page, srv.url)
    page.goto(
        srv.url + "/?lang=zh", wait_until="load"
    )  # the UI starts in 中文 (else: the browser's language)
    page.locator("#model-status").get_by_text(re.compile("ready|已就绪")).wait_for(
        timeout=60_000
    )  # the app's queue is up
    return page, outside


def test_live_timeline_moves_and_the_stream_lands_in_history(app, browser):
    srv, tmp = app
    page, outside = open_page(srv, browser)
    page.get_by_role("tab", name="实时").click()
    page.locator("#live-record").click()
    card, strip = page.locator("#live-card .live-card"), page.locator("#live-timeline-svg rect.seg")
    card.first.wait_for(timeout=60_000)
    status = page.locator("#live-status")
    # the timeline moves: more analysed seconds and more of the strip drawn as updates arrive
    page.wait_for_function(
        "() => { const s = document.querySelector('#live-status'); return s && /([3-9]|\\d\\d)\\.\\d 秒/.test(s.textContent) }",
        timeout=90_000,
    )
    first_status = status.inner_text()
    first_right = page.locator("#live-timeline-svg rect.seg").last.evaluate(
        "r => parseFloat(r.getAttribute('x')) + parseFloat(r.getAttribute('width'))"
    )
    page.wait_for_function(
        f"() => {{ const r = [...document.querySelectorAll('#live-timeline-svg rect.seg')].pop();"
        f" return r && parseFloat(r.getAttribute('x')) + parseFloat(r.getAttribute('width')) > {first_right} + 20 }}",
        timeout=90_000,
    )
    assert status.inner_text() != first_status
    assert strip.count() >= 1 and card.first.get_attribute("data-label")
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui_live.png"), full_page=True)
    page.locator("#live-stop").click()
    saved = page.locator("#live-saved")
    saved.wait_for(timeout=120_000)
    run_id = saved.get_attribute("data-run")
    assert run_id and run_id in saved.inner_text()
    doc = json.loads((tmp / "outputs" / run_id / "result.json").read_text())
    assert doc["granularity"] == "frame" and doc["source"] == "microphone (web)"
    assert doc["audio"]["original"]["container"] == "stream" and doc["audio"]["duration_s"] >= 3
    assert doc["settings"]["live"]["stats"]["updates"] >= 4
    page.get_by_role("tab", name="历史记录").click()
    page.locator("#history-refresh").click()
    expect(page.locator("#history")).to_contain_text(run_id, timeout=30_000)
    assert outside == [], f"the page tried to reach the internet: {outside}"
    page.close()


def test_two_party_call_draws_one_timeline_per_channel(app, browser, tmp_path):
    srv, tmp = app
    calm, _ = voice(6, seed=21)
    agitated, _ = voice(6, seed=22, pauses=False)
    stereo = np.stack([0.3 * calm, np.clip(3 * agitated, -0.95, 0.95)], axis=1)
    path = encode(tmp_path / "call.wav", stereo, 16000, "wav").path
    page, outside = open_page(srv, browser)
    page.get_by_role("tab", name="双方通话").click()
    page.locator("#call-in input[type=file]").set_input_files(str(path))
    page.locator("#call-roles textarea, #call-roles input").first.fill("agent,customer")
    page.locator("#call-go").click()
    svg = page.locator("#call-timeline-svg")
    svg.wait_for(timeout=90_000)
    channels = page.locator(".call-channel")
    assert channels.count() == 2
    assert "agent" in channels.nth(0).inner_text() and "customer" in channels.nth(1).inner_text()
    assert (
        svg.locator("text", has_text="agent").count() == 1
        and svg.locator("text", has_text="customer").count() == 1
    )
    assert svg.locator("rect.seg").count() >= 2
    runs = sorted(p for p in (tmp / "outputs").iterdir() if p.name.startswith("outputs_"))
    doc = json.loads((runs[-1] / "result.json").read_text())
    assert doc["speakers"] == 2 and [c["role"] for c in doc["channels"]] == ["agent", "customer"]
    page.screenshot(path=str(ARTIFACTS / "ui_call.png"), full_page=True)
    assert outside == [], f"the page tried to reach the internet: {outside}"
    page.close()
