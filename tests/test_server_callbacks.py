"""The web UI's callbacks called as plain functions, without a browser or an HTTP server: the download zip, segment
slicing, opening a History row, comparing two takes, an evaluation, adding to and searching a speaker profile.

One in-process Service on the tiny random-weights model (its labels mean nothing: these tests check mechanisms).
"""

from __future__ import annotations

import asyncio
import io
import re
import wave
import zipfile
from pathlib import Path

import gradio as gr
import pandas as pd
import pytest
from audio_factory import encode, make_voice

from emostudio.messages import t
from emostudio.server.analyze import history_ui
from emostudio.server.analyze import ui as analyze_ui
from emostudio.server.evaluate import ui as evaluate_ui
from emostudio.server.evaluate.service import evaluations_for
from emostudio.server.profiles import ui as profiles_ui
from emostudio.server.profiles.service import profiles_service

pytestmark = pytest.mark.unit
SR = 16000


@pytest.fixture(scope="module")
def service(tiny_service):
    yield tiny_service
    profiles_service(tiny_service).close()  # before the service closes


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
    return {"doc": out[0], "views": out[1:10], "files": out[-1]}


def _wav_seconds(path: str) -> float:
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


def test_analyze_returns_the_views_and_the_download_zip(service, analysed):
    doc, files = analysed["doc"], analysed["files"]
    assert doc["run_id"] and doc["granularity"] == "frame"
    assert (
        len(analysed["views"]) == 9
        and analysed["views"][8] == ""
        and doc["label"]["en"] in analysed["views"][0]
    )
    zips = [f for f in files if f.endswith(".zip")]
    assert len(zips) == 1 and Path(zips[0]).parent == service.settings.outputs / ".gradio" / "zips"
    with zipfile.ZipFile(zips[0]) as zf:
        names = {Path(n).name for n in zf.namelist()}
    assert "result.json" in names and {Path(f).name for f in files if not f.endswith(".zip")} <= names
    assert history_ui.downloads(service, doc) == files  # the same files, the zip rebuilt in place


def test_analyze_errors_are_one_message_in_the_users_language(service, tmp_path, caplog):
    """No gr.Error (its red badge covers each of the 13 outputs): the outputs emptied, one notice in the card."""
    for path, choice, lang in ((None, "English", "en"), ("", "中文", "zh")):
        out = asyncio.run(
            analyze_ui.analyze_audio(service, path, "utterance", False, False, None, 0.3, choice)
        )
        assert len(out) == 14 and out[0] is None and out[-3:] == (None, None, None)
        assert 'id="analyze-error"' in out[1] and t("no_audio", lang) in out[1]
        assert [o for o in out[2:4] if o] == []  # bars and timeline empty
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEfmt nothing more")
    with caplog.at_level("INFO", logger="emostudio.server"):
        # the lines of this call alone: whether the calls above logged depends on the logger's level, which
        # another test in this worker (`serve` sets it to INFO) may have left raised
        caplog.clear()
        out = asyncio.run(
            analyze_ui.analyze_audio(service, str(bad), "utterance", False, False, None, 0.3, "中文")
        )
    assert out[0] is None and "broken.wav" in out[1] and 'id="analyze-error"' in out[1]
    lines = [r for r in caplog.records if r.name == "emostudio.server"]
    assert len(lines) == 1 and lines[0].exc_info is None


def test_cleared_empties_every_analysis_output():
    out = analyze_ui.cleared()
    assert out[0] is None and out[-3:] == (None, None, None) and len(out) == 14


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
    shown = table.iloc[row, 1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC[+-]\d\d:\d\d\)", shown)  # not raw ISO
    assert table.iloc[row, 5] == t("frame", "en")
    assert history_ui.history_rows(service, "zh").iloc[row, 5] == t("frame", "zh")
    opened = history_ui.open_history_row(service, table, "English", int(row))
    doc, card, bars, line, strip, seg_table, quality, enh, speakers, files = opened
    assert doc == service.read_run(run_id) and doc["label"]["en"] in card and "svg" in line
    views = analyze_ui.render_result(doc, "en")  # the same card, segments and enhancement as Analyze
    assert (card, strip, quality, enh, speakers) == (views[0], views[3], views[6], views[7], "")
    assert seg_table["visible"] == views[4]["visible"] and seg_table["value"].equals(views[4]["value"])
    assert files["value"] == history_ui.downloads(service, doc) and files["visible"] is True
    with pytest.raises(gr.Error):
        history_ui.open_history_row(service, table, "English", len(table) + 5)
    # refreshed between the click and the event (a newer run on top): the clicked row's run is opened
    newer = pd.concat([table.iloc[:1].assign(**{table.columns[0]: "outputs_29991231_235959"}), table])
    clicked = [str(v) for v in table.iloc[row]]
    assert history_ui.open_history_row(service, newer, "English", int(row), clicked)[0] == doc
    with pytest.raises(gr.Error):  # a row whose run is gone since: the toast, not another run
        history_ui.open_history_row(service, table, "English", int(row), ["outputs_29991231_235959"])
    empty = history_ui.render_opened(service, None, "en")
    assert empty[:4] == ("", "", "", "") and empty[-1]["visible"] is False  # no empty download box


def test_history_times_are_local_with_their_zone():
    from datetime import timedelta, timezone

    plus8 = timezone(timedelta(hours=8))
    assert history_ui.local_time("2026-12-03T11:20:44+00:00", plus8) == "2026-12-03 19:20:44 (UTC+08:00)"
    assert (
        history_ui.local_time("2026-12-03T11:20:44+00:00", timezone.utc) == "2026-12-03 11:20:44 (UTC+00:00)"
    )
    assert history_ui.local_time("yesterday") == "yesterday" and history_ui.local_time(None) == ""


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
    said, pick, _ = asyncio.run(profiles_ui.add_result(ps, None, "alice", "", "", "English"))
    assert t("profile_need_result", "en") in said and 'id="profile-add-error"' in said
    said, pick, _ = asyncio.run(profiles_ui.add_result(ps, doc, "  ", "", "", "中文"))
    assert t("profile_need_speaker", "zh") in said and pick == gr.skip()
    said, pick, added = asyncio.run(profiles_ui.add_result(ps, doc, " alice ", "vip, 2024", None, "English"))
    assert "alice" in said and 'id="profile-added"' in said and pick["value"] == "alice"
    assert ps.store().speaker_records("alice")[-1].tags == ["2024", "vip"]
    assert "alice" in profiles_ui.speaker_names(ps, "en")
    assert profiles_ui.speaker_choices(ps, "nobody", "English")["value"] == "alice"
    card, image, table = asyncio.run(profiles_ui.show_speaker(ps, "alice", "week", doc, "English"))
    assert "alice" in card and image.size[0] > 300
    assert list(table.columns) == list(t("profile_near_cols", "en")) and table.iloc[0, 0] == "1.000"  # itself
    card, image, table = asyncio.run(profiles_ui.show_speaker(ps, "alice", "day", None, "中文"))
    assert list(table.columns) == list(t("profile_recent_cols", "zh")) and len(table) == 1
    assert asyncio.run(profiles_ui.show_speaker(ps, None, "week", doc, "English"))[:2] == ("", None)
    relabelled = profiles_ui.relabel_updates("中文", added)
    assert (
        t("profile_added", "zh", speaker="alice", id=ps.store().speaker_records("alice")[-1].id)
        in relabelled[5]
    )


@pytest.mark.parametrize("when", ["2026-13-45", "next tuesday"])
def test_a_failed_profile_add_replaces_the_success_message(service, analysed, when):
    """No gr.Error (its badge covers the speaker picker for 30 s): the status says the mistake, once."""
    ps = profiles_service(service)
    ok, _, _ = asyncio.run(profiles_ui.add_result(ps, analysed["doc"], "bob", "", None, "中文"))
    assert 'id="profile-added"' in ok
    said, pick, kept = asyncio.run(profiles_ui.add_result(ps, analysed["doc"], "bob", "", when, "中文"))
    assert 'id="profile-added"' not in said and 'id="profile-add-error"' in said and when in said
    assert pick == gr.skip() and "ok" not in kept
    assert kept["en"] != kept["zh"] and when in profiles_ui.relabel_updates("English", kept)[5]


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
