"""A real browser (Debian's chromium via Playwright) drives the web UI of a live `emostudio serve`.

Upload a wav, choose frame mode, analyze: the result card, the score chart and the timeline appear, and the
label matches the run's result.json. Every request leaving 127.0.0.1 is blocked and recorded: there must be none.
Screenshot: test-artifacts/ui_frame_mode.png.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audio_factory import encode, make_voice
from playwright.sync_api import sync_playwright

from emostudio.model.labels import BY_KEY
from emostudio.server.process import ServerProcess

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def live(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("live")
    with ServerProcess(
        ["--model", str(tiny_model_dir), "--device", "cpu", "--offline", "--outputs", str(tmp / "outputs")],
        log_path=tmp / "server.log",
    ) as srv:
        yield srv, tmp


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_frame_mode_analysis_in_the_browser(live, browser):
    srv, tmp = live
    wav = encode(tmp / "voice.wav", make_voice(3.0, 16000, seed=1), 16000, "wav").path
    outside: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 1300})

    def only_local(route):
        url = route.request.url
        if url.startswith((srv.url + "/", "data:", "blob:")):
            return route.continue_()
        outside.append(url)
        return route.abort()

    page.route("**/*", only_local)
    page.goto(srv.url + "/", wait_until="load")
    page.locator("#analyze-btn").wait_for(timeout=30_000)
    page.locator("#audio-in input[type=file]").set_input_files(str(wav))
    page.locator("#granularity").get_by_text("frame").click()
    page.locator("#analyze-btn").click()
    label = page.locator("#result-label")
    label.wait_for(timeout=60_000)

    runs = [p for p in (tmp / "outputs").iterdir() if p.name.startswith("outputs_")]
    assert len(runs) == 1
    doc = json.loads((runs[0] / "result.json").read_text())
    assert doc["granularity"] == "frame" and doc["source"] == "voice.wav"
    e = BY_KEY[doc["emotion"]]
    assert label.inner_text().strip() == f"{e.zh} ({e.en})"
    card = page.locator("#result-card").inner_text()
    assert f"{doc['confidence'] * 100:.1f}%" in card and runs[0].name in card
    # the charts draw with Vega into SVG/canvas: the bar chart has its 9 classes, the timeline is visible
    bars = page.locator("#score-chart")
    timeline = page.locator("#timeline-chart")
    assert bars.is_visible() and timeline.is_visible()
    bars.locator("canvas, svg").first.wait_for(timeout=15_000)
    timeline.locator("canvas, svg").first.wait_for(timeout=15_000)
    assert bars.bounding_box()["height"] > 150 and timeline.bounding_box()["height"] > 150
    row = page.locator("#downloads tr", has=page.locator('td[aria-label="frames.csv"]'))
    row.wait_for(timeout=10_000)
    href = row.locator("a[data-testid=download-link]").get_attribute("href")
    got = page.request.get(href)
    assert got.ok and got.body() == (runs[0] / "frames.csv").read_bytes()
    page.wait_for_timeout(500)  # let the charts finish their transition before the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui_frame_mode.png"), full_page=True)
    # switching to English relabels the UI and re-renders the card
    page.locator("#lang").get_by_text("English").click()
    page.locator("#analyze-btn").get_by_text("Analyze").wait_for(timeout=10_000)
    assert f"Confidence: {doc['confidence'] * 100:.1f}%" in page.locator("#result-card").inner_text()
    assert outside == [], f"the page tried to reach the internet: {outside}"
    page.close()
