"""A real browser on the Two-party call tab of a live `emostudio serve`, in Chinese (?lang=zh) and English
(?lang=en): a call where each side talks while the other is silent shows each channel's strip only during its
own turns, the timeline's text stays readable at 1400 px and on a 390 px phone (at least 10 px high, the strip
scrolling sideways there), and the ticks never repeat. Screenshots: test-artifacts/call/."""

from __future__ import annotations

import numpy as np
import pytest
from audio_factory import encode, make_voice
from test_ui_browser import ARTIFACTS, NARROW, WIDE, browser, live  # noqa: F401 (fixtures)

from emostudio.messages import t

pytestmark = pytest.mark.browser
SR = 16000
SHOTS = ARTIFACTS / "call"
LOCALE = {"zh": "zh-CN", "en": "en-US"}
SMALLEST_TEXT_PX = 10.0

# each drawn strip block of a lane (start and end in seconds from its hover title), and the axis text height
READ = """() => {
  const svg = document.querySelector('#call-timeline-svg');
  const lanes = [];
  for (const r of svg.querySelectorAll('rect.seg')) {
    const y = r.getAttribute('y');
    const m = r.querySelector('title').textContent.match(/([\\d.]+)–([\\d.]+) s$/);
    (lanes.find((l) => l.y === y) || (lanes.push({ y, blocks: [] }), lanes[lanes.length - 1])).blocks
      .push([Number(m[1]), Number(m[2])]);
  }
  const texts = [...svg.querySelectorAll('text')].map((e) => e.getBoundingClientRect().height);
  return { lanes: lanes.map((l) => l.blocks), smallest: Math.min(...texts),
           ticks: [...svg.querySelectorAll('text.axis')].map((e) => e.textContent) };
}"""


@pytest.fixture(scope="module")
def turns(live):  # noqa: F811
    """Left talks 0–2.5 s and 5–7.5 s, right 2.5–5 s; each is silent while the other talks."""
    _, tmp = live
    n, cut = int(7.5 * SR), int(2.5 * SR)
    left, right = np.zeros(n, np.float32), np.zeros(n, np.float32)
    left[:cut], left[2 * cut :] = make_voice(2.5, SR, seed=3), make_voice(2.5, SR, seed=4)
    right[cut : 2 * cut] = make_voice(2.5, SR, seed=5)
    return encode(tmp / "turns.wav", np.stack([left, right], 1), SR, "wav").path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_call_strip_follows_each_speakers_turns_and_reads_on_a_phone(live, browser, turns, lang):  # noqa: F811
    srv, _ = live
    ctx = browser.new_context(viewport=WIDE, locale=LOCALE[lang])
    page = ctx.new_page()
    page.goto(f"{srv.url}/?lang={lang}", wait_until="load")
    page.locator("#analyze-btn").get_by_text(t("analyze", lang)).wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # the page's events are wired once it has loaded
    page.get_by_role("tab", name=t("tab_call", lang)).click()
    page.locator("#call-in input[type=file]").set_input_files(str(turns))
    page.locator("#call-roles textarea, #call-roles input").first.fill("agent, customer")
    page.locator("#call-go").click()
    page.locator("#call-timeline-svg").wait_for(timeout=120_000)
    page.locator("#call-legend").wait_for(timeout=10_000)
    page.wait_for_timeout(300)
    seen = page.evaluate(READ)
    agent, customer = seen["lanes"]
    assert agent and customer
    assert not any(a < 4.5 and b > 3.0 for a, b in agent)  # a gap while the agent is silent
    assert not any(b > 6.0 or a < 1.5 for a, b in customer)  # the customer only during its turn
    assert seen["ticks"] and len(seen["ticks"]) == len(set(seen["ticks"]))
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert seen["smallest"] >= SMALLEST_TEXT_PX, seen["smallest"]
    page.screenshot(path=str(SHOTS / f"call_{lang}_1400.png"), full_page=True)
    page.set_viewport_size(NARROW)
    page.wait_for_timeout(400)
    narrow = page.evaluate(READ)
    page.screenshot(path=str(SHOTS / f"call_{lang}_390.png"), full_page=True)
    assert narrow["smallest"] >= SMALLEST_TEXT_PX, narrow["smallest"]
    box = page.locator("#call-result .lane-scroll").bounding_box()
    assert box is not None and box["width"] <= NARROW["width"]  # the page itself does not widen
    ctx.close()
