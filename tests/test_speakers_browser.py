"""The speaker strip in a real browser (Debian's chromium via Playwright) on a live server: two synthetic voices
(espeak-ng, tests/two_voices.py) taking turns analysed with speakers = auto show a lane per speaker, every turn of result.json in its emotion's
colour, the lanes named in the UI's language, round ticks without duplicates and a card per speaker, in 中文 and after the switch in English.
Screenshot: test-artifacts/ui_speakers.png."""

from __future__ import annotations

import json
import re

import pytest
from browsers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, keep_local, need_chromium
from playwright.sync_api import sync_playwright
from server_process import ServerProcess
from signals import write_wav
from two_voices import conversation

from emostudio.messages import t
from emostudio.model.labels import UNSCORED, colour
from emostudio.render.speakers import speaker_name

pytestmark = pytest.mark.browser


def _strip(page) -> dict:
    """What the page drew: lane titles, each turn's (label, fill), the tick texts, the cards' speakers."""
    return page.evaluate(
        """() => {
          const svg = document.querySelector('#speaker-strip-svg');
          const box = svg.getBoundingClientRect();
          return {
            width: box.width, height: box.height,
            titles: [...svg.querySelectorAll(':scope > text:not(.axis):not(.scale)')].map(e => e.textContent),
            segs: [...svg.querySelectorAll('rect.seg')].map(e => [e.dataset.label, e.getAttribute('fill')]),
            ticks: [...svg.querySelectorAll('text.axis')].map(e => e.textContent),
            cards: [...document.querySelectorAll('#speakers-view .speaker-card')].map(e => e.dataset.speaker),
          };
        }"""
    )


def test_the_speaker_strip_shows_each_speakers_turns(tmp_path, tiny_model_dir):
    need_chromium()
    wav = write_wav(tmp_path / "conversation.wav", conversation(tmp_path))
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
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        outside = keep_local(page, srv.url)
        page.goto(srv.url + "/?lang=zh", wait_until="load")
        page.locator("#analyze-btn").wait_for(timeout=30_000)
        page.locator("#audio-in input[type=file]").set_input_files(str(wav))
        page.locator("#speakers-option").get_by_text(t("speakers_auto", "zh")).click()
        page.locator("#analyze-btn").click()
        page.locator("#speaker-strip-svg").wait_for(timeout=120_000)

        runs = [r for r in (tmp_path / "out").iterdir() if r.name.startswith("outputs_")]
        assert len(runs) == 1
        doc = json.loads((runs[0] / "result.json").read_text(encoding="utf-8"))
        ids = [sp["id"] for sp in doc["speakers"]]
        drawn = _strip(page)
        assert drawn["width"] > 600 and drawn["height"] > 40  # drawn at the column's width, not collapsed
        assert (
            drawn["titles"]
            == [speaker_name(i, "zh") for i in ids]
            == [f"说话人 {k + 1}" for k in range(len(ids))]
        )
        assert drawn["cards"] == ids
        expected = sorted(
            (tr["label"] if tr["scored"] else UNSCORED, colour(tr["label"] if tr["scored"] else UNSCORED))
            for tr in doc["turns"]
        )
        assert sorted(tuple(s) for s in drawn["segs"]) == expected  # every turn, in its emotion's colour
        ticks = drawn["ticks"]
        assert len(ticks) >= 2 and len(set(ticks)) == len(ticks) and all(x.endswith("秒") for x in ticks)
        title = t("speakers_title", "zh", found=len(ids), speech_s=doc["diarization"]["speech_s"])
        assert title in page.locator("#speakers-view").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui_speakers.png"), full_page=True)

        page.locator("#lang").get_by_text("English").click()
        page.locator("#analyze-btn").get_by_text("Analyze").wait_for(timeout=10_000)
        page.locator("#speakers-view").get_by_text(t("speakers_strip_note", "en")).wait_for(timeout=10_000)
        drawn = _strip(page)
        ticks = drawn["ticks"]
        assert ticks and all(re.fullmatch(r"\d+ s", x) for x in ticks)
        assert drawn["titles"] == [
            speaker_name(i, "en") for i in ids
        ]  # Speaker 1, …: the lanes in English too
        assert page.locator("#speakers-option").get_by_text(t("speakers_auto", "en")).is_visible()
        assert outside == [], f"the page tried to reach the internet: {outside}"
        browser.close()
