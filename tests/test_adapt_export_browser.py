"""A real browser (Debian's chromium via Playwright) drives the web UI's annotation exports and adapters on a live
`emostudio serve` (tiny random model): tick TextGrid, analyze a generated wav and find the TextGrid in the
downloads; train an adapter from an uploaded manifest + audio in the Evaluate tab, switch the server to it, and
the Analyze tab shows the adapted reading with the base one still there; then back to the base model. Every
request leaving 127.0.0.1 is blocked and recorded (there must be none). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hostile import wav_bytes
from playwright.sync_api import sync_playwright
from server_process import ServerProcess
from signals import voice

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("adapt_browser")
    x, _ = voice(4, seed=51)
    (d / "talk.wav").write_bytes(wav_bytes(x, 16000))
    audio = []
    for i in range(10):
        y, _ = voice(1.2 + 0.05 * i, seed=60 + i)
        (d / f"v{i}.wav").write_bytes(wav_bytes(y, 16000))
        audio.append(str(d / f"v{i}.wav"))
    with (d / "set.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label"])
        w.writerows([(Path(a).name, ("frustrated", "satisfied")[i % 2]) for i, a in enumerate(audio)])
    return {"talk": d / "talk.wav", "manifest": d / "set.csv", "audio": audio}


def test_exports_in_the_downloads_and_the_adapted_reading_after_activating(tmp_path, tiny_model_dir, files):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    args = [
        "--model",
        str(tiny_model_dir),
        "--device",
        "cpu",
        "--offline",
        "--outputs",
        str(tmp_path / "out"),
    ]
    outside: list[str] = []
    with ServerProcess(args, log_path=tmp_path / "server.log") as srv, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})

        def only_local(route):
            if route.request.url.startswith((srv.url + "/", "data:", "blob:")):
                return route.continue_()
            outside.append(route.request.url)
            return route.abort()

        page.route("**/*", only_local)
        page.goto(
            srv.url + "/?lang=zh", wait_until="load"
        )  # the UI starts in 中文 (else: the browser's language)
        page.locator("#analyze-btn").wait_for(timeout=30_000)

        def shot(name: str) -> None:
            ARTIFACTS.mkdir(exist_ok=True)
            page.wait_for_timeout(400)
            page.screenshot(path=str(ARTIFACTS / name), full_page=True)

        def analyze() -> None:
            clear = page.locator("#audio-in button[aria-label=Clear], #audio-in button[aria-label=清除]")
            if clear.count() and clear.first.is_visible():
                clear.first.click()
            page.locator("#audio-in input[type=file]").set_input_files(str(files["talk"]))
            page.locator("#analyze-btn").click()
            page.locator("#result-label").wait_for(timeout=120_000)

        # 1. tick TextGrid: the file is in the downloads and in the run folder
        page.locator("#export-formats").get_by_text("Praat TextGrid").click()
        analyze()
        page.wait_for_function(  # the file list links each file (its name is shown as stem + extension)
            "document.querySelector('#downloads').innerHTML.includes('processed_audio.TextGrid')",
            timeout=60_000,
        )
        runs = [p for p in (tmp_path / "out").iterdir() if p.name.startswith("outputs_")]
        assert len(runs) == 1 and (runs[0] / "processed_audio.TextGrid").is_file()
        assert not page.locator("#adapted-card").is_visible()  # no adapter yet: no adapted card
        shot("uiax_1_export_zh_1400.png")

        # 2. train an adapter from an upload in the Evaluate tab, switch the server to it
        page.get_by_role("tab", name="评测").click()
        page.locator("#adapters").get_by_text("用自己的数据训练适配器").first.click()
        page.locator("#ad-manifest input[type=file]").set_input_files(str(files["manifest"]))
        page.locator("#ad-audio input[type=file]").set_input_files(files["audio"])
        page.wait_for_timeout(1500)
        page.locator("#ad-train").click()
        page.locator("#adapter-trained").wait_for(timeout=300_000)
        adapter_id = page.locator("#adapter-trained b").inner_text().split("适配器 ")[1].split("，")[0]
        assert (tmp_path / "out" / "adapters" / adapter_id / "adapter.json").is_file()
        page.locator("#ad-activate").click()
        page.locator("#ad-active").get_by_text(adapter_id).first.wait_for(timeout=30_000)
        shot("uiax_2_adapter_trained_zh_1400.png")

        # 3. the Analyze tab shows the adapted reading, the base card below it
        page.get_by_role("tab", name="分析").click()
        analyze()
        page.locator("#adapted-label").wait_for(timeout=60_000)
        assert adapter_id in page.locator("#adapted-id").inner_text()
        assert page.locator("#adapted-label").inner_text() in ("frustrated", "satisfied")
        assert (
            page.locator("#adapted-bars .bar-row").count() == 2 and page.locator("#result-label").count() == 1
        )
        assert "基础模型（9 类）" in page.locator("#adapted-base").inner_text()
        shot("uiax_3_adapted_zh_1400.png")
        page.locator("#lang").get_by_text("English").click()
        page.locator("#adapted-card").get_by_text("Adapted reading").wait_for(timeout=10_000)
        page.locator("#analyze-btn").get_by_text("Analyze").wait_for(
            timeout=10_000
        )  # the whole page relabelled
        page.locator("#downloads").get_by_text("Downloads").first.wait_for(timeout=10_000)
        assert "Base model (9 classes)" in page.locator("#adapted-base").inner_text()
        shot("uiax_4_adapted_en_1400.png")
        page.set_viewport_size({"width": 390, "height": 900})
        shot("uiax_5_adapted_en_390.png")
        page.set_viewport_size({"width": 1400, "height": 1300})

        # 4. back to the base model: no adapted reading any more
        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#ad-train").get_by_text("Train adapter").wait_for(timeout=10_000)
        page.locator("#ad-deactivate").click()
        page.locator("#ad-active").get_by_text("no adapter").first.wait_for(timeout=30_000)
        shot("uiax_6_adapters_en_1400.png")
        page.get_by_role("tab", name="Analyze").click()
        analyze()
        page.wait_for_timeout(1500)
        assert page.locator("#adapted-label").count() == 0
        browser.close()
    assert outside == [], f"the page tried to reach the internet: {outside}"
    assert "Traceback" not in (tmp_path / "server.log").read_text(errors="replace")
