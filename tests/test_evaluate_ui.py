"""The Evaluate tab: its functions on a live Service, and a real browser running an evaluation."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path

import pytest
from audio_factory import encode, make_voice
from browsers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, keep_local, need_chromium
from playwright.sync_api import sync_playwright
from server_process import ServerProcess

from emostudio.messages import t
from emostudio.server.app import create_app
from emostudio.server.evaluate.service import evaluations_for
from emostudio.server.evaluate.ui import past_choices, report_view, start_evaluation
from emostudio.server.settings import ServerSettings
from emostudio.server.ui import build_ui

SR = 16000
LABELS = ["生气", "Angry", "开心", "中立", "难过", "sad"]


@pytest.fixture(scope="module")
def testset_zip(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("uiset")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, lab in enumerate(LABELS):
            wav = encode(d / f"c{i}.wav", make_voice(0.9 + 0.1 * i, SR, seed=300 + i), SR, "wav").path
            zf.write(wav, f"set/{lab}/c{i}.wav")
    path = d / "set.zip"
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.integration
def test_tab_functions_on_a_live_service(tmp_path, tiny_model_dir, testset_zip):
    app = create_app(
        ServerSettings(
            model=str(tiny_model_dir), device="cpu", allow_download=False, outputs=tmp_path / "out", ui=False
        )
    )
    service = app.state.service
    assert service.wait_ready(120)
    blocks = build_ui(service)  # the tab builds inside the existing Blocks
    ids = {c.get("props", {}).get("elem_id") for c in blocks.config["components"]}
    assert {"eval-run", "eval-manifest", "eval-result", "eval-confusion", "eval-history"} <= ids
    evals = evaluations_for(service)

    async def run(baseline=None):
        job = await start_evaluation(evals, str(testset_zip), None, None, "all", baseline)
        await job.task
        return job

    first = asyncio.run(run())
    second = asyncio.run(run(first.id))
    verdict, table, per_class, confusion, reliability, bands, history, files = report_view(
        evals, second.id, "en"
    )
    assert t("eval_status_0", "en") in verdict and "Stability" in verdict and "random weights" in verdict
    assert "exit code" not in verdict  # a web page says the status in words
    assert list(table.columns)[:4] == ["Model", "n", "WA", "UA"] and table.iloc[0]["n"] == len(LABELS)
    assert "😠 Angry" in list(per_class["Class"])
    for image in (confusion, reliability, bands, history):  # drawn from metrics.json in the UI's language
        assert image.format == "PNG" and image.size[0] > 300
    assert [r["report"] for r in evals.history(second.id)] == [
        str(evals.report_dir(first.id)),
        str(evals.report_dir(second.id)),
    ]
    assert sorted(Path(f).name for f in files) == ["metrics.json", "predictions.csv", "report.html"]
    zh = report_view(evals, second.id, "zh")
    assert t("eval_status_0", "zh") in zh[0] and "退出码" not in zh[0] and "😠 愤怒" in list(zh[2]["类别"])
    # past evaluations are named by the uploaded archive, not the folder it was unpacked to
    names = {rid: label for label, rid in past_choices(evals, "en")}
    assert "set.zip" in names[first.id] and "set.zip" in names[second.id]
    assert all(" data " not in f" {label} " for label in names.values())
    service.close()


@pytest.mark.browser
def test_evaluate_in_the_browser(tmp_path, tiny_model_dir, testset_zip):
    need_chromium()
    args = [
        "--model",
        str(tiny_model_dir),
        "--device",
        "cpu",
        "--offline",
        "--outputs",
        str(tmp_path / "outputs"),
    ]
    with ServerProcess(args, log_path=tmp_path / "server.log") as srv, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        outside = keep_local(page, srv.url)
        page.goto(
            srv.url + "/?lang=zh", wait_until="load"
        )  # the UI starts in 中文 (else: the browser's language)
        page.get_by_role("tab", name="评测").click()
        page.locator("#eval-manifest input[type=file]").set_input_files(str(testset_zip))
        page.locator("#eval-run").click()
        verdict = page.locator("#eval-verdict")
        verdict.wait_for(timeout=90_000)
        reports = [d for d in (tmp_path / "outputs" / "evaluations").iterdir() if d.name.startswith("eval_")]
        assert len(reports) == 1
        doc = json.loads((reports[0] / "metrics.json").read_text())
        shown = verdict.inner_text()
        assert doc["n"] == len(LABELS) and doc["status"]["zh"] in shown and "退出码" not in shown
        assert page.locator("#eval-metrics").inner_text().count(f"{doc['wa'] * 100:.1f}%") >= 1
        page.locator("#eval-confusion img").wait_for(timeout=15_000)
        assert page.locator("#eval-confusion img").bounding_box()["height"] > 100
        page.locator("#eval-history img").wait_for(timeout=15_000)
        page.wait_for_timeout(500)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui_evaluate.png"), full_page=True)
        page.locator("#lang").get_by_text("English").click()
        page.locator("#eval-run").get_by_text("Evaluate").wait_for(timeout=10_000)
        shown = page.locator("#eval-verdict").inner_text()
        assert doc["status"]["en"] in shown and "exit code" not in shown
        assert outside == [], f"the page tried to reach the internet: {outside}"
        browser.close()
