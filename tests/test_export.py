"""Exports read by the field's own tools: praatio and Praat open the TextGrid (every tier covers the clip), pympi
opens the .eaf and finds its tiers and linked audio, webvtt-py reads the subtitles, pyannote reads the RTTM, and
Label Studio tasks follow its import format and come back, corrected, as a test set."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import webvtt
from audio_factory import make_voice
from praatio import textgrid as praatio_textgrid
from pympi import Elan
from signals import write_wav

from emostudio.cli import main
from emostudio.evaluate import evaluate, load_manifest, model_from_recognizer
from emostudio.export import export_labelstudio, export_run, read_result, render
from emostudio.export.subtitles import cue_text, vtt_text
from emostudio.export.tiers import Cue, dominant
from emostudio.model.labels import BY_KEY, KEYS
from emostudio.results import load_schema
from emostudio.runs import RESULT_FILE

SR = 16000


TURNS = [
    {"speaker": "spk0", "start_s": 0.0, "end_s": 2.4, "overlap": False, "label": "happy", "confidence": 0.72},
    {"speaker": "spk1", "start_s": 2.2, "end_s": 4.0, "overlap": True, "label": "angry", "confidence": 0.55},
    {"speaker": "spk0", "start_s": 4.0, "end_s": 4.6, "overlap": False, "label": None, "confidence": None},
    {"speaker": "spk1", "start_s": 4.6, "end_s": 6.0, "overlap": False, "label": "sad", "confidence": 0.81},
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_model):
    """Real run folders of the tiny model: a short clip, a frame timeline, a long clip split into segments, a
    two-party stereo call with roles, a clip with a transcript; and a frame run given speaker turns by hand."""
    from emostudio.multimodal import attach_text
    from emostudio.recognize import Recognizer
    from emostudio.settings import Settings

    d = tmp_path_factory.mktemp("export")
    root = d / "outputs"
    rec = Recognizer(model=tiny_model)
    split = Recognizer(model=tiny_model, settings=replace(Settings(), max_segment_s=4.0))
    clip = write_wav(d / "clip one.wav", make_voice(3.0, SR, seed=1))
    six = write_wav(d / "six.wav", make_voice(6.0, SR, seed=2))
    long = write_wav(d / "long.wav", make_voice(11.0, SR, seed=3))
    stereo = np.stack([make_voice(5.0, SR, seed=4), 0.6 * make_voice(5.0, SR, seed=5)], axis=1).reshape(-1)
    call = write_wav(d / "call.wav", stereo, channels=2)
    out = {
        "clip": rec.analyze(str(clip), output_dir=root).output_dir,
        "frames": rec.analyze(str(six), granularity="frame", output_dir=root).output_dir,
        "long": split.analyze(str(long), output_dir=root).output_dir,
        "call": rec.analyze(
            str(call), granularity="frame", channels="separate", roles="R&D <lead>,customer", output_dir=root
        ).output_dir,
    }
    texted = rec.analyze(str(clip), output_dir=root)
    attach_text(texted, 'Thank you so much, "great" service!')
    out["text"] = texted.output_dir
    turns = root / "outputs_turns"  # speaker turns are built by hand until speakers land (issue 28)
    shutil.copytree(out["frames"], turns)
    doc = json.loads((turns / RESULT_FILE).read_text(encoding="utf-8"))
    doc.update(run_id=turns.name, source="meeting room 2.wav", turns=TURNS)
    doc["speakers"] = [{"id": "spk0"}, {"id": "spk1"}]
    (turns / RESULT_FILE).write_text(json.dumps(doc), encoding="utf-8")
    out["turns"] = turns
    return root, out


def clock(text: str) -> float:
    """Seconds of a WebVTT timestamp `00:01:02.345`."""
    h, m, s = text.split(":")
    return round(int(h) * 3600 + int(m) * 60 + float(s), 3)


def covers(entries, duration: float) -> bool:
    """praatio entries (with the empty intervals) run from 0 to `duration` without gaps or overlaps."""
    ends = [e.end for e in entries]
    starts = [e.start for e in entries]
    return starts[0] == 0 and ends[-1] == pytest.approx(duration) and starts[1:] == ends[:-1]


# ------------------------------------------------------------------------------------------------- TextGrid
@pytest.mark.unit
def test_praatio_opens_the_textgrid_and_every_tier_covers_the_clip(runs, tmp_path):
    _, r = runs
    expected = {
        "clip": ["emotion"],
        "frames": ["emotion", "frames"],
        "long": ["emotion"],
        "call": ["emotion", "frames", "emotion R&D <lead>", "emotion customer"],
        "text": ["emotion", "transcript"],
        "turns": ["emotion", "frames", "emotion spk0", "emotion spk1"],
    }
    for name, run_dir in r.items():
        doc = read_result(run_dir)
        path = tmp_path / f"{name}.TextGrid"
        path.write_text(render(doc, "textgrid"), encoding="utf-8")
        tg = praatio_textgrid.openTextgrid(str(path), includeEmptyIntervals=True)
        duration = doc["audio"]["duration_s"]
        assert list(tg.tierNames) == expected[name], name
        assert (tg.minTimestamp, tg.maxTimestamp) == (0, pytest.approx(duration))
        for tier_name in tg.tierNames:
            tier = tg.getTier(tier_name)
            assert (tier.minTimestamp, tier.maxTimestamp) == (0, pytest.approx(duration))
            assert covers(tier.entries, duration), (name, tier_name)
        labelled = [e for e in tg.getTier("emotion").entries if e.label]
        segments = dominant(doc)
        assert [e.label for e in labelled] == [s["label"] for s in segments]
        assert [t for e in labelled for t in (e.start, e.end)] == pytest.approx(
            [t for s in segments for t in (s["start_s"], min(s["end_s"], duration))]
        )
    long_doc = read_result(r["long"])
    assert len(long_doc["segments"]) > 2  # split at pauses: one interval per stretch
    frames = read_result(r["frames"])["frames"]
    tg = praatio_textgrid.openTextgrid(str(tmp_path / "frames.TextGrid"), includeEmptyIntervals=False)
    frame_labels = [e.label for e in tg.getTier("frames").entries]
    assert frame_labels == [KEYS[int(np.argmax(p))] for p in frames["scores"]]
    tg = praatio_textgrid.openTextgrid(str(tmp_path / "text.TextGrid"), includeEmptyIntervals=False)
    assert [e.label for e in tg.getTier("transcript").entries] == ['Thank you so much, "great" service!']
    tg = praatio_textgrid.openTextgrid(str(tmp_path / "turns.TextGrid"), includeEmptyIntervals=True)
    spk0 = [(e.start, e.end, e.label) for e in tg.getTier("emotion spk0").entries if e.end - e.start > 0]
    assert (0.0, 2.4, "happy") in spk0 and (4.0, 4.6, "") in spk0  # an unscored turn: there, unlabelled
    spk1 = [(e.start, e.end, e.label) for e in tg.getTier("emotion spk1").entries if e.label]
    assert spk1 == [(2.2, 4.0, "angry"), (4.6, 6.0, "sad")]  # overlaps spk0: each speaker has its own tier


@pytest.mark.unit
def test_an_exported_run_folder_reads_back_as_a_test_set(runs, tmp_path):
    _, r = runs
    for style, names in (("key", KEYS), ("zh", [BY_KEY[k].zh for k in KEYS])):
        folder = tmp_path / style
        shutil.copytree(r["long"], folder)
        done = export_run(folder, ["textgrid"], style=style)
        assert done.written == {"textgrid": folder / "processed_audio.TextGrid"}
        text = done.written["textgrid"].read_text(encoding="utf-8")
        doc = read_result(folder)
        assert all(f'"{names[KEYS.index(s["emotion"])]}"' in text for s in doc["segments"])
        m = load_manifest(folder)  # processed_audio.wav + processed_audio.TextGrid: an annotated folder
        assert not m.bad
        assert [(it.label, it.start_s, it.end_s) for it in m.items] == [
            (s["emotion"], s["start_s"], s["end_s"]) for s in doc["segments"]
        ]


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("praat") is None, reason="needs Praat on PATH (apt-get install praat)")
def test_praat_itself_opens_the_exported_textgrid(runs, tmp_path):
    _, r = runs
    done = export_run(r["call"], ["textgrid"], out_dir=tmp_path)
    script = tmp_path / "tiers.praat"
    script.write_text(
        "form Tiers\n    sentence path\nendform\n"
        "tg = Read from file: path$\n"
        "xmin = Get start time\nxmax = Get end time\nn = Get number of tiers\n"
        'writeInfoLine: "range ", fixed$ (xmin, 3), " ", fixed$ (xmax, 3)\n'
        "for i to n\n"
        "    name$ = Get tier name: i\n"
        "    interval = Is interval tier: i\n"
        "    k = Get number of intervals: i\n"
        "    a = Get start time of interval: i, 1\n"
        "    b = Get end time of interval: i, k\n"
        "    appendInfoLine: name$, tab$, interval, tab$, k, tab$, fixed$ (a, 3), tab$, fixed$ (b, 3)\n"
        "endfor\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        ["praat", "--run", str(script), str(done.written["textgrid"])], capture_output=True, timeout=60
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    lines = run.stdout.decode("utf-8").strip().splitlines()
    doc = read_result(r["call"])
    duration = doc["audio"]["duration_s"]
    head, xmin, xmax = lines[0].split()
    assert (head, float(xmin), float(xmax)) == ("range", 0.0, duration)
    tg = praatio_textgrid.openTextgrid(str(done.written["textgrid"]), includeEmptyIntervals=True)
    reported = [line.split("\t") for line in lines[1:]]
    assert [(name, int(kind), int(k), float(a), float(b)) for name, kind, k, a, b in reported] == [
        (name, 1, len(tg.getTier(name).entries), 0.0, duration) for name in tg.tierNames
    ]
    # Chinese labels (UTF-8): Praat reads them as written
    zh = export_run(r["long"], ["textgrid"], out_dir=tmp_path / "zh", style="zh").written["textgrid"]
    script.write_text(
        "form Label\n    sentence path\nendform\ntg = Read from file: path$\nlabel$ = Get label of interval: 1, 1\n"
        "writeInfoLine: label$\n",
        encoding="utf-8",
    )
    run = subprocess.run(["praat", "--run", str(script), str(zh)], capture_output=True, timeout=60)
    first = read_result(r["long"])["segments"][0]["emotion"]
    assert run.returncode == 0 and run.stdout.decode("utf-8").strip() == BY_KEY[first].zh


# ----------------------------------------------------------------------------------------------------- ELAN
@pytest.mark.unit
def test_pympi_opens_the_eaf_with_its_tiers_and_linked_audio(runs, tmp_path):
    _, r = runs
    run_dir = tmp_path / "run"
    shutil.copytree(r["turns"], run_dir)
    done = export_run(run_dir, ["eaf", "textgrid"])
    eaf = Elan.Eaf(str(done.written["eaf"]))
    doc = read_result(run_dir)
    assert list(eaf.get_tier_names()) == ["emotion", "frames", "emotion spk0", "emotion spk1"]
    [media] = eaf.media_descriptors
    assert media["RELATIVE_MEDIA_URL"] == "./processed_audio.wav" and media["MIME_TYPE"] == "audio/x-wav"
    assert Path(media["MEDIA_URL"].removeprefix("file://")) == (run_dir / "processed_audio.wav").resolve()
    spk1 = sorted(eaf.get_annotation_data_for_tier("emotion spk1"))
    assert spk1 == [(2200, 4000, "angry"), (4600, 6000, "sad")]
    assert len(eaf.get_annotation_data_for_tier("frames")) == doc["frames"]["count"]
    # somewhere else, the audio is linked by its path from there
    other = tmp_path / "elsewhere" / "deeper"
    done = export_run(run_dir, ["eaf"], out_dir=other)
    [media] = Elan.Eaf(str(done.written["eaf"])).media_descriptors
    assert (other / media["RELATIVE_MEDIA_URL"]).resolve() == (run_dir / "processed_audio.wav").resolve()
    # ELAN and Praat files of a run give the same test set
    (run_dir / "processed_audio.TextGrid").rename(tmp_path / "aside.TextGrid")
    from_eaf = load_manifest(run_dir, tier="emotion spk1")
    assert [(it.label, it.start_s, it.end_s) for it in from_eaf.items] == [
        ("angry", 2.2, 4.0),
        ("sad", 4.6, 6.0),
    ]


# ------------------------------------------------------------------------------------------------ subtitles
@pytest.mark.unit
def test_webvtt_reads_one_cue_per_segment_with_the_speaker(runs, tmp_path):
    _, r = runs
    doc = read_result(r["long"])
    (tmp_path / "a.vtt").write_text(render(doc, "vtt"), encoding="utf-8")
    captions = list(webvtt.read(str(tmp_path / "a.vtt")))
    assert len(captions) == len(doc["segments"])
    for cap, seg in zip(captions, doc["segments"], strict=True):
        e = BY_KEY[seg["emotion"]]
        assert cap.text == f"{e.emoji} {e.zh} {e.en} {round(seg['confidence'] * 100)}%"
        assert (clock(cap.start), clock(cap.end)) == (seg["start_s"], seg["end_s"])
    assert cue_text(Cue(0, 1, "happy", 0.72)) == "😊 快乐 Happy 72%"
    call = read_result(r["call"])
    (tmp_path / "call.vtt").write_text(render(call, "vtt"), encoding="utf-8")
    voices = {c.voice for c in webvtt.read(str(tmp_path / "call.vtt"))}
    assert voices == {"R&amp;D &lt;lead&gt;", "customer"}  # the role is escaped: no markup reaches a player
    (tmp_path / "call.srt").write_text(render(call, "srt"), encoding="utf-8")
    srt = list(webvtt.from_srt(str(tmp_path / "call.srt")))
    assert {c.raw_text.split(": ")[0] for c in srt} == {"R&D <lead>", "customer"}
    assert len(srt) == sum(len(dominant(ch["result"])) for ch in call["channels"] if ch["result"])
    turns = read_result(r["turns"])
    (tmp_path / "t.vtt").write_text(render(turns, "vtt"), encoding="utf-8")
    cues = list(webvtt.read(str(tmp_path / "t.vtt")))
    assert [(c.voice, c.text) for c in cues] == [
        ("spk0", "😊 快乐 Happy 72%"),
        ("spk1", "😠 愤怒 Angry 55%"),
        ("spk1", "😢 悲伤 Sad 81%"),
    ]  # the unscored turn has no cue
    assert "<v a&amp;b>" in vtt_text([Cue(0, 1, "sad", 0.5, "a&b")])


# ----------------------------------------------------------------------------------------------------- RTTM
@pytest.mark.unit
def test_pyannote_reads_the_rttm_of_speaker_turns(runs, tmp_path):
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.database.util import load_rttm
    from pyannote.metrics.diarization import DiarizationErrorRate

    _, r = runs
    run_dir = tmp_path / "run"
    shutil.copytree(r["turns"], run_dir)
    done = export_run(run_dir, ["rttm"])
    assert done.written == {"rttm": run_dir / "turns.rttm"}
    loaded = load_rttm(str(done.written["rttm"]))
    assert list(loaded) == ["meeting_room_2"]  # the source's name, spaces replaced
    hyp = loaded["meeting_room_2"]
    ref = Annotation(uri="meeting_room_2")
    for t in TURNS:
        ref[Segment(t["start_s"], t["end_s"]), len(ref)] = t["speaker"]
    assert DiarizationErrorRate()(ref, hyp, uem=Timeline([Segment(0, 6.0)])) == pytest.approx(0.0, abs=1e-9)
    assert sorted(hyp.labels()) == ["spk0", "spk1"]
    assert hyp.label_duration("spk0") == pytest.approx(2.4 + 0.6)
    # a run without speaker turns: no file, and it says so
    plain = export_run(r["frames"], ["rttm"], out_dir=tmp_path / "o")
    assert plain.written == {} and plain.skipped == {"rttm": "no_turns"}
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


# ---------------------------------------------------------------------------------------------- Label Studio
@pytest.mark.unit
def test_label_studio_tasks_follow_its_import_format(runs, tmp_path):
    root, r = runs
    dirs = [r["clip"], r["frames"], r["long"], r["text"]]
    docs = {read_result(d)["run_id"]: read_result(d) for d in dirs}
    done = export_labelstudio(dirs, tmp_path, least_confident=3)
    tasks = json.loads(done.tasks_file.read_text(encoding="utf-8"))
    lowest = sorted(docs.values(), key=lambda d: d["confidence"])[:3]
    assert [t["data"]["run_id"] for t in tasks] == [d["run_id"] for d in lowest] == done.runs
    assert done.document_root == root.resolve()
    for t in tasks:
        doc = docs[t["data"]["run_id"]]
        assert t["data"]["audio"].startswith("/data/local-files/?d=")
        rel = t["data"]["audio"].removeprefix("/data/local-files/?d=")
        assert (
            (root / rel).resolve()
            == Path(t["data"]["emostudio_audio"])
            == (root / doc["run_id"] / "processed_audio.wav").resolve()
        )
        [pred] = t["predictions"]
        assert pred["score"] == doc["confidence"] and pred["model_version"] == doc["model"]["id"]
        ids = [res["id"] for res in pred["result"]]
        assert len(set(ids)) == len(ids)
        if len(dominant(doc)) > 1:
            assert all(res["type"] == "labels" and res["from_name"] == "emotion" for res in pred["result"])
            assert [
                (res["value"]["start"], res["value"]["end"], res["value"]["labels"]) for res in pred["result"]
            ] == [(s["start_s"], s["end_s"], [s["label"]]) for s in dominant(doc)]
        else:
            [res] = pred["result"]
            assert res["type"] == "choices" and res["value"] == {"choices": [doc["emotion"]]}
        assert all(res["to_name"] == "audio" for res in pred["result"])
    config = ET.fromstring(done.config_file.read_text(encoding="utf-8"))
    audio = config.find("Audio")
    assert audio is not None and (audio.get("name"), audio.get("value")) == ("audio", "$audio")
    labels = config.find("Labels")
    assert labels is not None and (labels.get("name"), labels.get("toName")) == ("emotion", "audio")
    assert [lab.get("value") for lab in labels] == list(KEYS)
    choices = config.find("Choices")
    assert choices is not None and [c.get("value") for c in choices] == list(KEYS)


@pytest.mark.integration
def test_corrected_label_studio_export_comes_back_as_a_test_set(runs, recognizer, tmp_path):
    root, r = runs
    done = export_labelstudio([r["long"], r["clip"]], tmp_path / "review", style="en")
    tasks = json.loads(done.tasks_file.read_text(encoding="utf-8"))
    # what Label Studio exports after a person reviewed the predictions (its JSON export format)
    exported = []
    for n, task in enumerate(tasks, 1):
        result = copy.deepcopy(task["predictions"][0]["result"])
        for res in result:
            res["origin"] = "prediction-changed"
            res.pop("score", None)
        first = result[0]["value"]
        (first.get("labels") or first.get("choices"))[0] = "Surprised"  # the reviewer's correction
        exported.append(
            {
                "id": n,
                "data": task["data"],
                "annotations": [
                    {"id": 100 + n, "completed_by": 1, "result": result, "was_cancelled": False,
                     "ground_truth": False, "created_at": "2025-01-02T10:00:00.000000Z",
                     "updated_at": "2025-01-02T10:05:00.000000Z", "lead_time": 12.5, "task": n}
                ],
                "predictions": task["predictions"],
                "project": 1,
            }
        )  # fmt: skip
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    export = downloads / "project-1-at-2025-01-02.json"
    export.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    m = load_manifest(export)
    long_doc = read_result(r["long"])
    assert len(m.items) == len(long_doc["segments"]) + 1 and not m.bad
    assert m.items[0].label == "surprised" and m.items[0].is_cut
    # without our own key, Label Studio's URL under its document root finds the audio too
    for task in exported:
        del task["data"]["emostudio_audio"]
    export.write_text(json.dumps(exported), encoding="utf-8")
    again = load_manifest(export, audio_root=done.document_root)
    assert [(it.label, it.start_s) for it in again.items] == [(it.label, it.start_s) for it in m.items]
    ev = evaluate(
        again, [model_from_recognizer("tiny", recognizer)], report_dir=tmp_path / "r", history_dir=False
    )
    assert ev.exit_code == 0 and ev.doc["n"] == len(m.items)


# ----------------------------------------------------------------------------------------------------- CLI
@pytest.mark.integration
def test_export_cli_writes_into_the_run_folder_and_keeps_corrections(runs, tmp_path, capsys):
    import jsonschema

    root, r = runs
    outputs = tmp_path / "outputs"
    shutil.copytree(r["frames"], outputs / r["frames"].name)
    run_id = r["frames"].name
    code = main(["export", run_id, "--runs", str(outputs), "--format", "textgrid,eaf,vtt,srt,rttm"])
    err = capsys.readouterr()
    assert code == 0, err.err
    assert "no speaker turns in this run" in err.out
    doc = json.loads((outputs / run_id / RESULT_FILE).read_text(encoding="utf-8"))
    assert {k: doc["files"][k] for k in ("textgrid", "eaf", "vtt", "srt")} == {
        "textgrid": "processed_audio.TextGrid",
        "eaf": "processed_audio.eaf",
        "vtt": "processed_audio.vtt",
        "srt": "processed_audio.srt",
    }
    assert "rttm" not in doc["files"]
    jsonschema.validate(doc, load_schema())
    grid = outputs / run_id / "processed_audio.TextGrid"
    corrected = grid.read_text(encoding="utf-8").replace('text = "', 'text = "x', 1)
    grid.write_text(corrected, encoding="utf-8")
    code = main(["export", str(outputs / run_id), "--format", "textgrid,vtt"])
    out = capsys.readouterr().out
    assert code == 0 and "was changed after it was exported" in out and "--overwrite" in out
    assert grid.read_text(encoding="utf-8") == corrected
    assert main(["export", str(outputs / run_id), "--format", "textgrid", "--overwrite"]) == 0
    assert grid.read_text(encoding="utf-8") != corrected
    capsys.readouterr()
    # elsewhere: <run_id>.<ext>, the run's result.json untouched; every run under --runs by default
    before = (outputs / run_id / RESULT_FILE).read_bytes()
    code = main(["export", "--runs", str(outputs), "--format", "srt,labelstudio", "--out", str(tmp_path / "x"),
                 "--least-confident", "5", "--json"])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and (tmp_path / "x" / f"{run_id}.srt").is_file()
    assert report["labelstudio"]["runs"] == [run_id]
    assert (outputs / run_id / RESULT_FILE).read_bytes() == before
    assert main(["export", run_id, "--runs", str(outputs), "--format", "textgrid,subtitles"]) == 2
    assert "unknown export format 'subtitles'" in capsys.readouterr().err
    assert main(["export", "outputs_19990101_000000", "--runs", str(outputs), "--format", "vtt"]) == 2
    assert "not a run folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse refuses a label style it does not offer
        main(["export", run_id, "--runs", str(outputs), "--format", "vtt", "--labels", "fr"])


@pytest.mark.integration
def test_analyze_export_writes_the_files_into_each_new_run(tiny_model_dir, tmp_path, capsys):
    clip = write_wav(tmp_path / "a.wav", make_voice(2.5, SR, seed=7))
    out = tmp_path / "outputs"
    code = main(["analyze", str(clip), "--model", str(tiny_model_dir), "--out", str(out),
                 "--export", "textgrid,vtt", "--json"])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    run_dir = Path(doc["output_dir"])
    assert doc["exports"] == {
        "textgrid": str(run_dir / "processed_audio.TextGrid"),
        "vtt": str(run_dir / "processed_audio.vtt"),
    }
    saved = json.loads((run_dir / RESULT_FILE).read_text(encoding="utf-8"))
    assert (
        saved["files"]["textgrid"] == "processed_audio.TextGrid"
        and saved["files"]["vtt"] == "processed_audio.vtt"
    )
    assert praatio_textgrid.openTextgrid(str(run_dir / "processed_audio.TextGrid"), False).tierNames == (
        "emotion",
    )
    runs_before = sorted(os.listdir(out))
    for bad in ("labelstudio", "textgrid,nope"):
        assert (
            main(["analyze", str(clip), "--model", str(tiny_model_dir), "--out", str(out), "--export", bad])
            == 2
        )
    assert sorted(os.listdir(out)) == runs_before  # refused before any work: no new run folder


@pytest.mark.unit
def test_every_annotation_text_has_chinese_and_english_with_the_same_fields():
    import string

    from emostudio.messages import MESSAGES

    keys = [k for k in MESSAGES if k.startswith("export_")]
    assert len(keys) >= 9
    for k in keys:
        zh, en = MESSAGES[k]
        assert zh.strip() and en.strip() and zh != en, k
        fields = [{f for _, f, _, _ in string.Formatter().parse(text) if f} for text in (zh, en)]
        assert fields[0] == fields[1], k
