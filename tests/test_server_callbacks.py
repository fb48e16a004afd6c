"""The web UI's callbacks called as plain functions, without a browser or an HTTP server: the download zip, segment
slicing, opening a History row, comparing two takes, an evaluation, adding to and searching a speaker profile.

One in-process Service on the tiny random-weights model (its labels mean nothing: these tests check mechanisms).
"""

from __future__ import annotations

import asyncio
import io
import wave
import zipfile
from pathlib import Path

import gradio as gr
import pytest
from audio_factory import encode, make_voice

from emostudio.messages import t
from emostudio.server.analyze import history_ui
from emostudio.server.analyze import ui as analyze_ui
from emostudio.server.analyze.service import Service
from emostudio.server.evaluate import ui as evaluate_ui
from emostudio.server.evaluate.service import evaluations_for
from emostudio.server.profiles import ui as profiles_ui
from emostudio.server.profiles.service import profiles_service
from emostudio.server.settings import ServerSettings

pytestmark = pytest.mark.unit
SR = 16000


@pytest.fixture(scope="module")
def service(tmp_path_factory, tiny_model_dir):
    out = tmp_path_factory.mktemp("callbacks")
    svc = Service(
        ServerSettings(
            model=str(tiny_model_dir), device="cpu", allow_download=False, outputs=out / "o", ui=False
        )
    )
    svc.start()
    assert svc.wait_ready(120)
    yield svc
    profiles_service(svc).close()
    svc.close()


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("clips")
    return {
        name: str(encode(d / f"{name}.wav", make_voice(seconds, SR, seed=seed), SR, "wav").path)
        for name, seconds, seed in (("a", 3.0, 1), ("b", 2.0, 2))
    }


@pytest.fixture(scope="module")
def analysed(service, clips) -> dict:
    """Analyze-tab outputs for clip a, frame granularity."""
    out = asyncio.run(
        analyze_ui.analyze_audio(service, clips["a"], "frame", True, False, None, 0.3, "English")
    )
    return {"doc": out[0], "views": out[1:9], "files": out[-1]}


def _wav_seconds(path: str) -> float:
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


def test_analyze_returns_the_views_and_the_download_zip(service, analysed):
    doc, files = analysed["doc"], analysed["files"]
    assert doc["run_id"] and doc["granularity"] == "frame"
    assert len(analysed["views"]) == 8 and doc["label"]["en"] in analysed["views"][0]
    zips = [f for f in files if f.endswith(".zip")]
    assert len(zips) == 1 and Path(zips[0]).parent == service.settings.outputs / ".gradio" / "zips"
    with zipfile.ZipFile(zips[0]) as zf:
        names = {Path(n).name for n in zf.namelist()}
    assert "result.json" in names and {Path(f).name for f in files if not f.endswith(".zip")} <= names
    assert history_ui.downloads(service, doc) == files  # the same files, the zip rebuilt in place


def test_analyze_without_audio_is_a_toast_in_the_users_language(service):
    with pytest.raises(gr.Error, match=t("no_audio", "en")):
        asyncio.run(analyze_ui.analyze_audio(service, None, "utterance", False, False, None, 0.3, "English"))
    with pytest.raises(gr.Error, match=t("no_audio", "zh")):
        asyncio.run(analyze_ui.analyze_audio(service, "", "utterance", False, False, None, 0.3, "中文"))


def test_cleared_empties_every_analysis_output():
    out = analyze_ui.cleared()
    assert out[0] is None and out[-3:] == (None, None, None) and len(out) == 13


def test_segment_clip_slices_the_runs_audio(service, analysed):
    doc = analysed["doc"]
    segs = doc["segments"]
    assert segs
    for row in {0, len(segs) - 1}:
        clip = analyze_ui.segment_clip(service, doc, row)
        assert clip is not None and Path(clip).parent == service.settings.outputs / ".gradio" / "segments"
        want = segs[row]["end_s"] - segs[row]["start_s"]
        assert abs(_wav_seconds(clip) - want) <= 1 / SR + 1e-6
        with wave.open(clip) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, SR)
    assert analyze_ui.segment_clip(service, doc, len(segs)) is None
    assert analyze_ui.segment_clip(service, doc, None) is None
    assert analyze_ui.segment_clip(service, None, 0) is None
    assert history_ui.selected_row([2, 1]) == 2 and history_ui.selected_row(3) == 3


def test_history_row_opens_the_run(service, analysed):
    run_id = analysed["doc"]["run_id"]
    table, run_a, run_b = history_ui.history_updates(service, "English")
    assert list(table.columns) == list(t("history_cols", "en"))
    row = table.index[table.iloc[:, 0] == run_id][0]
    assert run_id in {value for _, value in run_a["choices"]} and run_a == run_b
    doc, card, bars, line, quality, files = history_ui.open_history_row(service, table, "English", int(row))
    assert doc == service.read_run(run_id) and doc["label"]["en"] in card and "svg" in line
    assert files["value"] == history_ui.downloads(service, doc)
    with pytest.raises(gr.Error):
        history_ui.open_history_row(service, table, "English", len(table) + 5)
    assert history_ui.render_opened(service, None, "en")[:4] == ("", "", "", "")


def test_compare_two_takes(service, analysed, clips):
    assert history_ui.compare_sides(clips["a"], None, "run-x", None) == [{"run_id": "run-x"}]
    sides = history_ui.compare_sides(None, clips["b"], None, None)
    assert sides == [{"source": Path(clips["b"]), "name": "b.wav"}]
    with pytest.raises(gr.Error, match=t("need_two", "en")):
        asyncio.run(history_ui.compare_takes(service, clips["a"], None, None, None, "English"))
    doc, html = asyncio.run(
        history_ui.compare_takes(service, None, clips["b"], analysed["doc"]["run_id"], None, "English")
    )
    assert doc["a"]["run_id"] == analysed["doc"]["run_id"] and doc["b"]["run_id"] != doc["a"]["run_id"]
    assert doc["b"]["source"] == "b.wav" and html


def test_profile_add_and_search(service, analysed):
    ps = profiles_service(service)
    doc = analysed["doc"]
    with pytest.raises(gr.Error, match=t("profile_need_result", "en")):
        asyncio.run(profiles_ui.add_result(ps, None, "alice", "", "", "English"))
    with pytest.raises(gr.Error, match=t("profile_need_speaker", "zh")):
        asyncio.run(profiles_ui.add_result(ps, doc, "  ", "", "", "中文"))
    said, pick, added = asyncio.run(profiles_ui.add_result(ps, doc, " alice ", "vip, 2024", None, "English"))
    assert "alice" in said and pick["value"] == "alice" and added[0] == "alice"
    assert ps.store().speaker_records("alice")[-1].tags == ["2024", "vip"]
    assert "alice" in profiles_ui.speaker_names(ps, "en")
    assert profiles_ui.speaker_choices(ps, "nobody", "English")["value"] == "alice"
    card, image, table = asyncio.run(profiles_ui.show_speaker(ps, "alice", "week", doc, "English"))
    assert "alice" in card and image.size[0] > 300
    assert list(table.columns) == list(t("profile_near_cols", "en")) and table.iloc[0, 0] == "1.000"  # itself
    card, image, table = asyncio.run(profiles_ui.show_speaker(ps, "alice", "day", None, "中文"))
    assert list(table.columns) == list(t("profile_recent_cols", "zh")) and len(table) == 1
    assert asyncio.run(profiles_ui.show_speaker(ps, None, "week", doc, "English"))[:2] == ("", None)
    relabelled = profiles_ui.relabel_updates("English", added)
    assert relabelled[5] == t("profile_added", "en", speaker=added[0], id=added[1])


def test_evaluation_runs_and_shows_its_report(service, tmp_path):
    evals = evaluations_for(service)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, label in enumerate(("angry", "happy", "neutral", "sad")):
            wav = encode(tmp_path / f"c{i}.wav", make_voice(0.8 + 0.1 * i, SR, seed=40 + i), SR, "wav").path
            zf.write(wav, f"set/{label}/c{i}.wav")
    archive = tmp_path / "set.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(gr.Error, match=t("eval_need_input", "en")):
        asyncio.run(evaluate_ui.run_evaluation(evals, None, None, "  ", "all", None, "English"))
    out = asyncio.run(evaluate_ui.run_evaluation(evals, str(archive), None, None, "4", None, "English"))
    report_id, verdict, metrics, per_class = out[0], out[1], out[2], out[3]
    assert evals.status(report_id)["state"] == "done"
    assert verdict and len(metrics) > 0 and len(per_class) > 0
    files = out[8]
    assert sorted(Path(f).name for f in files) == ["metrics.json", "predictions.csv", "report.html"]
    baseline, past = out[9], out[10]
    assert report_id in {value for _, value in past["choices"]} and baseline == past
    relabelled = evaluate_ui.relabel_updates(evals, "中文", report_id)
    assert relabelled[0]["value"] == t("eval_intro", "zh") and len(relabelled) == 9 + 8
