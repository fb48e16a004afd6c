"""A real browser (Debian's chromium via Playwright) on the Live and Compare tabs of a live `emostudio serve`,
in both languages and on a phone, with chromium's fake microphone playing a synthetic voice.

- Live: 32 s streamed over the page's WebSocket; the saved run holds ≥ 99 % of the seconds the page sent.
- Live, "one speaker per channel" with the mono fake microphone: refused before recording, in the UI's language.
- Compare: two runs picked, then two files uploaded → the uploads are compared; each side clears.
- One language means one: the visible text of each tab (Gradio's own texts too) in the other language fails.
- Phone (390 px): every main tab reachable without the overflow menu; the title does not break inside a word.
Screenshots: test-artifacts/web1/*.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from audio_factory import encode, make_voice
from browsers import chromium_with_microphone
from langcheck import check
from playwright.sync_api import expect
from server_process import ServerProcess
from signals import voice

from emostudio.messages import t

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "web1"
LANGS = {"zh": "中文", "en": "English"}
DATA = ("Emotion Studio", "API", "Gradio", "emotion2vec", "tiny")  # product names and the test model's id


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("web1")
    args = ["--model", str(tiny_model_dir), "--device", "cpu", "--offline", "--outputs", str(tmp / "outputs")]
    with ServerProcess(args, log_path=tmp / "server.log", env={"OMP_NUM_THREADS": "1"}) as srv:
        yield srv, tmp


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    x, _ = voice(40, seed=3, pauses=False)  # chromium loops the file: the microphone never runs dry
    with chromium_with_microphone(tmp_path_factory.mktemp("mic") / "mic.wav", x) as b:
        yield b


def open_page(srv, browser, lang: str, width: int = 1400, height: int = 1000, locale: str = "en-US"):
    outside: list[str] = []
    context = browser.new_context(
        permissions=["microphone"], viewport={"width": width, "height": height}, locale=locale
    )
    page = context.new_page()

    def only_local(route):
        if route.request.url.startswith((srv.url + "/", "data:", "blob:")):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page.route("**/*", only_local)
    page.goto(f"{srv.url}/?lang={lang}", wait_until="load")
    ready = re.compile("已就绪" if lang == "zh" else "ready")
    page.locator("#model-status").get_by_text(ready).wait_for(timeout=60_000)
    page.wait_for_function(
        f"() => document.documentElement.lang.startsWith('{'zh' if lang == 'zh' else 'en'}')"
    )
    return page, outside


def visible_texts(page) -> list[str]:
    """What a person sees on the current tab: the visible panel's text, button and input labels, the footer."""
    return page.evaluate(
        """() => {
        const seen = (e) => e.offsetParent !== null || e.getClientRects().length > 0;
        const out = [];
        for (const p of document.querySelectorAll('[role=tabpanel]')) if (seen(p)) out.push(p.innerText);
        for (const e of document.querySelectorAll('[role=tabpanel] [aria-label], [role=tabpanel] [title],'
            + ' [role=tabpanel] [placeholder], footer *')) {
          if (!seen(e)) continue;
          for (const a of ['aria-label', 'title', 'placeholder']) if (e.getAttribute(a)) out.push(e.getAttribute(a));
          if (e.closest('footer') && e.children.length === 0) out.push(e.textContent);
        }
        return out;
    }"""
    )


def go_tab(page, key: str, lang: str) -> None:
    page.get_by_role("tab", name=t(key, lang), exact=True).click()


def test_live_keeps_every_second_sent(app, browser):
    srv, tmp = app
    page, outside = open_page(srv, browser, "zh")
    go_tab(page, "tab_live", "zh")
    page.locator("#live-record").click()
    page.locator("#live-card .live-card").first.wait_for(timeout=60_000)
    page.wait_for_timeout(32_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "live_streaming_zh.png"), full_page=True)
    page.locator("#live-stop").click()
    saved = page.locator("#live-saved")
    saved.wait_for(timeout=180_000)
    sent_s = page.evaluate("window.esLive.sentSeconds()")
    run_id = saved.get_attribute("data-run")
    assert run_id, saved.inner_text()
    doc = json.loads((tmp / "outputs" / run_id / "result.json").read_text())
    kept = doc["audio"]["duration_s"]
    assert sent_s >= 30 and kept >= 0.99 * sent_s, f"sent {sent_s:.2f} s, the run holds {kept:.2f} s"
    assert doc["source"] == "microphone (web)" and doc["settings"]["live"]["stats"]["updates"] >= 20
    assert "正在分析" in page.locator("#live-status").inner_text()
    page.screenshot(path=str(SHOTS / "live_saved_zh.png"), full_page=True)
    assert outside == [], f"the page tried to reach the internet: {outside}"
    page.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_per_channel_mode_with_a_mono_microphone_is_refused_before_recording(app, browser, lang):
    srv, _ = app
    page, _ = open_page(srv, browser, lang)
    # chromium's fake microphone is a stereo device (two copies of the file); a mono microphone here is a real
    # one-channel WebAudio stream handed out by getUserMedia
    page.evaluate(MONO_MIC)
    go_tab(page, "tab_live", lang)
    page.locator("#live-mode").get_by_text(t("live_modes", lang)[1]).click()
    page.locator("#live-record").click()
    expect(page.locator("#live-status")).to_have_text(t("live_refuse_mono", lang), timeout=30_000)
    assert page.evaluate("window.esLive.sentSeconds()") == 0
    page.close()


MONO_MIC = """() => {
  navigator.mediaDevices.getUserMedia = async () => {
    const ctx = new AudioContext(), osc = ctx.createOscillator();
    const dest = ctx.createMediaStreamDestination();
    dest.channelCount = 1;
    osc.connect(dest);
    osc.start();
    const track = dest.stream.getAudioTracks()[0];
    const settings = track.getSettings.bind(track);
    track.getSettings = () => ({ ...settings(), channelCount: 1 });
    return dest.stream;
  };
}"""


def make_runs(srv, tmp: Path) -> list[str]:
    ids = []
    for name, seed in (("old_a", 5), ("old_b", 6)):
        path = encode(tmp / f"{name}.wav", make_voice(2.0, 16000, seed=seed), 16000, "wav").path
        with open(path, "rb") as f:
            r = httpx.post(srv.url + "/v1/analyze", files={"file": (f"{name}.wav", f)}, timeout=120)
        r.raise_for_status()
        ids.append(r.json()["run_id"])
    return ids


def pick(page, side: str, run_id: str) -> None:
    page.locator(f"#run-{side} input").click()
    page.locator(f'#run-{side} li[role=option][aria-label$=" {run_id}"]:visible').click()  # this side's list


def test_compare_uses_the_uploads_chosen_after_the_runs_and_each_side_clears(app, browser, tmp_path):
    srv, _ = app
    run_a, run_b = make_runs(srv, tmp_path)
    new = [
        encode(tmp_path / f"{n}.wav", make_voice(2.5, 16000, seed=s), 16000, "wav").path
        for n, s in (("new_a", 8), ("new_b", 9))
    ]
    page, outside = open_page(srv, browser, "en")
    go_tab(page, "tab_compare", "en")
    pick(page, "a", run_a)
    pick(page, "b", run_b)
    page.locator("#compare-btn").click()
    view = page.locator("#comparison-view")
    expect(view).to_contain_text("old_a.wav", timeout=60_000)
    expect(view).to_contain_text("old_b.wav")
    page.locator("#clip-a input[type=file]").set_input_files(str(new[0]))
    page.locator("#clip-b input[type=file]").set_input_files(str(new[1]))
    page.locator("#clip-a audio").first.wait_for(state="attached")
    page.locator("#clip-b audio").first.wait_for(state="attached")
    page.wait_for_timeout(1000)
    page.locator("#compare-btn").click()
    expect(view).to_contain_text("new_a.wav", timeout=60_000)
    expect(view).to_contain_text("new_b.wav")
    assert "old_a.wav" not in view.inner_text() and "old_b.wav" not in view.inner_text()
    page.screenshot(path=str(SHOTS / "compare_en.png"), full_page=True)
    page.locator("#clear-a").click()
    page.locator("#clear-b").click()
    expect(page.locator("#run-a input")).to_have_value("")
    expect(page.locator("#clip-a input[type=file]")).to_have_count(1)  # the upload box is back
    page.locator("#compare-btn").click()
    expect(page.get_by_text(t("need_two", "en"))).to_be_visible(timeout=30_000)
    assert outside == [], f"the page tried to reach the internet: {outside}"
    page.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("tab", ["tab_live", "tab_compare"])
def test_one_language_on_the_live_and_compare_tabs(app, browser, lang, tab):
    """With a browser whose locale is the other language, the tab and Gradio's own texts follow the switch."""
    srv, _ = app
    page, _ = open_page(srv, browser, lang, locale="zh-CN" if lang == "en" else "en-US")
    go_tab(page, tab, lang)
    page.wait_for_timeout(500)
    check(visible_texts(page), lang, data=DATA, html=False)
    page.screenshot(path=str(SHOTS / f"{tab[4:]}_{lang}.png"), full_page=True)
    page.close()


def test_the_switch_is_remembered_and_gives_feedback(app, browser):
    srv, _ = app
    page, _ = open_page(srv, browser, "zh")
    page.locator("#lang").get_by_text("English").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('lang') === 'en'", timeout=5_000)
    assert page.evaluate("localStorage.getItem('emostudio.lang')") == "en"
    page.wait_for_function("() => document.documentElement.lang === 'en'", timeout=10_000)
    page.goto(srv.url + "/", wait_until="load")  # no ?lang=: the stored choice
    page.locator("#model-status").get_by_text(re.compile("ready")).wait_for(timeout=60_000)
    expect(page.get_by_role("tab", name=t("tab_live", "en"), exact=True)).to_be_visible(timeout=20_000)
    page.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_phone_reaches_every_main_tab_and_keeps_the_title_whole(app, browser, lang):
    srv, _ = app
    page, _ = open_page(srv, browser, lang, width=390, height=844)
    for key in (
        "tab_analyze",
        "tab_history",
        "tab_compare",
        "tab_profiles",
        "tab_evaluate",
        "tab_live",
        "tab_call",
    ):
        expect(page.get_by_role("tab", name=t(key, lang), exact=True)).to_be_visible()
    broken = page.evaluate(
        """() => {
        const h = document.querySelector('#header h2'); const r = document.createRange();
        const words = h.textContent.match(/[\\u4e00-\\u9fff]+|[A-Za-z]+/g) || [];
        const node = [...h.childNodes].find((n) => n.nodeType === 3 && n.textContent.trim()) || h.firstChild;
        const text = node.textContent; let at = 0; const bad = [];
        for (const w of words) {
          const i = text.indexOf(w, at); if (i < 0) continue; at = i + w.length;
          r.setStart(node, i); r.setEnd(node, i + w.length);
          const tops = new Set([...r.getClientRects()].map((x) => Math.round(x.top)));
          if (tops.size > 1) bad.push(w);
        }
        return bad;
    }"""
    )
    assert broken == [], f"words broken across lines: {broken}"
    go_tab(page, "tab_live", lang)
    expect(page.get_by_role("tab")).to_have_count(7)  # each tab once (a State among the tabs doubled one)
    page.screenshot(path=str(SHOTS / f"phone_live_{lang}.png"), full_page=True)
    go_tab(page, "tab_compare", lang)
    page.screenshot(path=str(SHOTS / f"phone_compare_{lang}.png"), full_page=True)
    page.close()
