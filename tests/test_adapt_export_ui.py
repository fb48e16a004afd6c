"""The web UI's annotation exports and adapters, its callbacks called as plain functions (no browser, no HTTP):
ticking export formats writes them into the run folder and the downloads (praatio opens the TextGrid), an active
adapter's reading shows on the Analyze tab with the base one beside it, the Evaluate tab's section trains an
adapter from an upload and switches the server to it and back, and refusals are said in the UI's language.

One in-process Service on the tiny random-weights model; random heads test the wiring, never accuracy.
"""

from __future__ import annotations

import asyncio
import csv
import shutil
import zipfile
from pathlib import Path

import gradio as gr
import pytest
from adapter_factory import make_adapter
from audio_factory import encode, make_voice

from emostudio.adapt import Adapter
from emostudio.server.adapters import ui as adapters_ui
from emostudio.server.adapters.service import adapters_for
from emostudio.server.analyze import export_ui
from emostudio.server.analyze import ui as analyze_ui

pytestmark = pytest.mark.unit
SR = 16000


@pytest.fixture(scope="module")
def service(tiny_service):
    return tiny_service


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("clip")
    return str(encode(d / "talk.wav", make_voice(2.5, SR, seed=3), SR, "wav").path)


def _stored(service, folder: Path, **kw) -> Adapter:
    """An adapter for the service's model (or other weights) in the server's adapters folder, as `adapt` writes."""
    made = make_adapter(folder, service.recognizer, **kw)
    dest = Path(service.settings.outputs) / "adapters" / made.id
    if not dest.exists():
        shutil.copytree(folder, dest)
    return made


def _analyze(service, clip: str, formats: list[str], choice: str = "English") -> tuple:
    doc = asyncio.run(analyze_ui.analyze_audio(service, clip, "utterance", False, False, None, 0.3, choice))[
        0
    ]
    return asyncio.run(export_ui.export_after_analysis(service, doc, formats, choice))


def test_ticked_formats_are_written_into_the_run_and_its_downloads(service, clip):
    from praatio import textgrid

    doc, files, card, notes = _analyze(service, clip, ["textgrid", "eaf", "vtt", "srt", "rttm"])
    names = {Path(f).name for f in files}
    assert {"processed_audio.TextGrid", "processed_audio.eaf", "processed_audio.vtt"} <= names
    assert "processed_audio.srt" in names and "turns.rttm" not in names
    assert "no speaker turns" in notes and card == ""  # no active adapter: no adapted card
    assert doc["files"]["textgrid"] == "processed_audio.TextGrid"  # the re-read result.json lists them
    grid = textgrid.openTextgrid(
        next(f for f in files if f.endswith(".TextGrid")), includeEmptyIntervals=True
    )
    assert grid.minTimestamp == 0 and grid.maxTimestamp == pytest.approx(doc["audio"]["duration_s"])
    with zipfile.ZipFile(next(f for f in files if f.endswith(".zip"))) as zf:
        assert any(n.endswith("processed_audio.TextGrid") for n in zf.namelist())
    # nothing ticked: no export file is written
    _, files, _, notes = _analyze(service, clip, [])
    assert not any(f.endswith((".TextGrid", ".eaf", ".vtt")) for f in files) and notes == ""


def test_an_unknown_format_is_a_toast_in_the_users_language(service, clip):
    doc = asyncio.run(analyze_ui.analyze_audio(service, clip, "utterance", False, False, None, 0.3, "中文"))[
        0
    ]
    with pytest.raises(gr.Error) as err:
        asyncio.run(export_ui.export_after_analysis(service, doc, ["praat"], "中文"))
    assert "无法导出" in err.value.message and "talk.wav" in err.value.message


def test_the_active_adapter_reading_shows_beside_the_base_one(service, clip, tmp_path):
    store = adapters_for(service)
    mine = _stored(service, tmp_path / "mine", labels=("frustrated", "satisfied"), seed=7)
    line, picker = adapters_ui.activate(store, mine.id, "English")
    assert mine.id in line and picker["value"] == mine.id
    try:
        doc, _, card, _ = _analyze(service, clip, [], "English")
        adapted = doc["adapted"]
        assert adapted["adapter"] == mine.id and adapted["labels"] == ["frustrated", "satisfied"]
        assert f"adapter {mine.id}" in card and adapted["label"] in card
        assert f"{adapted['confidence'] * 100:.1f}%" in card and 'id="adapted-bars"' in card
        assert "Base model (9 classes)" in card and doc["label"]["en"].split(" ", 1)[-1] in card
        boxes, zh_card = export_ui.relabel(doc, "中文")
        assert "适配器判断" in zh_card and "基础模型（9 类）" in zh_card and "Praat TextGrid" in str(boxes)
    finally:
        line, picker = adapters_ui.deactivate(store, "English")
    assert "base model" in line and picker["value"] is None
    doc, _, card, _ = _analyze(service, clip, [], "English")
    assert "adapted" not in doc and card == ""


def test_an_adapter_for_other_weights_is_refused_in_the_users_language(service, tmp_path):
    store = adapters_for(service)
    other = _stored(service, tmp_path / "other", weights_sha256="cd" * 32)
    assert any("other model weights" in label for label, _ in adapters_ui.adapter_choices(store, "English"))
    with pytest.raises(gr.Error) as zh:
        adapters_ui.activate(store, other.id, "中文")
    assert "另一个模型的权重" in zh.value.message and other.id in zh.value.message
    with pytest.raises(gr.Error) as en:
        adapters_ui.activate(store, other.id, "English")
    assert "cd" * 32 in en.value.message
    with pytest.raises(gr.Error) as none:
        adapters_ui.activate(store, None, "English")
    assert "Choose an adapter" in none.value.message
    assert store.active is None


def _upload(tmp: Path, n: int, labels=("happy", "sad")) -> tuple[str, list[str]]:
    audio = []
    for i in range(n):
        audio.append(
            str(encode(tmp / f"v{i}.wav", make_voice(1.0 + 0.05 * i, SR, seed=40 + i), SR, "wav").path)
        )
    with (tmp / "set.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label"])
        w.writerows([(Path(a).name, labels[i % 2]) for i, a in enumerate(audio)])
    return str(tmp / "set.csv"), audio


def test_the_evaluate_section_trains_an_adapter_and_switches_the_server(service, clip, tmp_path):
    store = adapters_for(service)
    manifest, audio = _upload(tmp_path, 10)
    doc, html, line, picker = asyncio.run(
        adapters_ui.train_adapter(store, manifest, audio, "", "all", 2, "English", n_boot=30)
    )
    assert doc["labels"] == ["happy", "sad"] and doc["id"] in html
    for reading in (
        "the model&#x27;s own scores",
        "after temperature scaling",
        "the trained head over your labels",
    ):
        assert html.count(reading) == 1  # base vs calibrated vs adapted, one row each
    adapted = next(c for c in doc["report"]["comparison"] if c["model"] == "adapted")
    lo, hi = adapted["ua_ci"]
    assert f"{adapted['ua'] * 100:.1f}% [{lo * 100:.1f}, {hi * 100:.1f}]" in html  # UA with its interval
    assert "ECE" in html and picker["value"] == doc["id"] and "base model" in line
    assert doc["id"] in [i for _, i in picker["choices"]]
    line, _ = adapters_ui.activate(store, doc["id"], "English")
    try:
        result, _, card, _ = _analyze(service, clip, [], "English")
        assert result["adapted"]["labels"] == ["happy", "sad"] and doc["id"] in card
    finally:
        adapters_ui.deactivate(store, "English")
    zh = adapters_ui.relabel(store, "中文", doc, doc["id"])
    assert "用自己的数据训练适配器" in zh[0]["label"] and "基础模型" in zh[8] and "温度校准后" in zh[8]
    # too few files per class: refused, said in Chinese; nothing stored
    before = {i for _, i in adapters_ui.adapter_choices(store, "en")}
    (tmp_path / "few").mkdir()
    few_manifest, few_audio = _upload(tmp_path / "few", 4, labels=("calm", "tense"))
    with pytest.raises(gr.Error) as err:
        asyncio.run(
            adapters_ui.train_adapter(store, few_manifest, few_audio, "", "all", 2, "中文", n_boot=30)
        )
    assert "有的类别标注文件太少" in err.value.message
    assert {i for _, i in adapters_ui.adapter_choices(store, "en")} == before
    with pytest.raises(gr.Error) as empty:
        asyncio.run(adapters_ui.train_adapter(store, None, None, " ", "all", 2, "English"))
    assert empty.value.message
