"""The transcript box of the web UI in a real browser (Debian's chromium via Playwright) on a live server:
type a transcript, analyze, and the card shows the text + speech section that result.json holds.
Screenshot: test-artifacts/ui_text_speech.png."""

from __future__ import annotations

import json

import pytest
from audio_factory import encode, make_voice
from browsers import ARTIFACTS, CHROMIUM, keep_local, need_chromium
from playwright.sync_api import sync_playwright
from server_process import ServerProcess

from emostudio.model.labels import BY_KEY

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

pytestmark = pytest.mark.browser


def test_transcript_box_adds_the_text_block_to_the_card(tmp_path, tiny_model_dir):
    need_chromium()
    wav = encode(tmp_path / "voice.wav", make_voice(2.0, 16000, seed=2), 16000, "wav").path
    args = [
        "--model",
        str(tiny_model_dir),
        "--device",
        "cpu",
        "--offline",
        "--outputs",
        str(tmp_path / "out"),
    ]
    with ServerProcess(args, log_path=tmp_path / "server.log") as srv, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        outside = keep_local(page, srv.url)
        page.goto(
            srv.url + "/?lang=zh", wait_until="load"
        )  # the UI starts in 中文 (else: the browser's language)
        page.locator("#analyze-btn").wait_for(timeout=30_000)
        page.locator("#audio-in input[type=file]").set_input_files(str(wav))
        page.locator("#text-in textarea").fill("This is terrible, I hate it.")
        page.locator("#analyze-btn").click()
        page.locator("#text-block").wait_for(timeout=60_000)

        runs = [r for r in (tmp_path / "out").iterdir() if r.name.startswith("outputs_")]
        assert len(runs) == 1
        text = json.loads((runs[0] / "result.json").read_text(encoding="utf-8"))["text"]
        assert text["polarity"] < 0 and text["source"] == "form" and text["weight"] == 0.3
        card = page.locator("#result-card").inner_text()
        assert f"{text['polarity']:+.2f}" in card and text["agreement"]["zh"] in card
        fused = BY_KEY[text["fused"]["label"]]
        assert page.locator("#fused-label").inner_text().strip() == f"{fused.emoji} {fused.zh}"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui_text_speech.png"), full_page=True)
        page.locator("#lang").get_by_text("English").click()
        page.locator("#analyze-btn").get_by_text("Analyze").wait_for(timeout=10_000)
        assert text["agreement"]["en"] in page.locator("#result-card").inner_text()
        assert outside == [], f"the page tried to reach the internet: {outside}"
        browser.close()
