"""Test sets annotated by intervals: TextGrid and ELAN folders, Label Studio exports and start_s/end_s manifests
read as items; bad annotations reported per item with file and line / interval; items cut from long files decoded
once and scored exactly as `analyze` of the cut audio."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from audio_factory import make_voice
from praatio import textgrid as praatio_textgrid
from praatio.data_classes.interval_tier import IntervalTier
from praatio.data_classes.point_tier import PointTier

from emostudio.evaluate import cuts as cuts_mod
from emostudio.evaluate import evaluate, load_manifest, model_from_recognizer
from emostudio.evaluate.annotation_files import decode_praat_text, parse_textgrid, read_eaf, read_textgrid
from emostudio.evaluate.report import SCORE_COLUMNS, read_predictions

SR = 16000


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """16 kHz mono 16-bit PCM of int16 `samples`."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return path


def voice_int16(seconds: float, seed: int) -> np.ndarray:
    return np.round(make_voice(seconds, SR, seed=seed) * 32767).astype(np.int16)


def praatio_grid(path: Path, duration: float, tiers: dict[str, list], fmt: str = "long_textgrid") -> Path:
    tg = praatio_textgrid.Textgrid(0.0, duration)
    for name, entries in tiers.items():
        if entries and len(entries[0]) == 2:
            tg.addTier(PointTier(name, entries, 0.0, duration))
        else:
            tg.addTier(IntervalTier(name, entries, 0.0, duration))
    tg.save(str(path), format=fmt, includeBlankSpaces=True)
    return path


def long_text_grid(duration: float, tier: str, intervals: list[tuple[float, float, str]]) -> str:
    """A TextGrid in Praat's long text form written out by hand (for what praatio refuses to write)."""
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0",
        f"xmax = {duration}",
        "tiers? <exists>",
        "size = 1",
        "item []:",
        "    item [1]:",
        '        class = "IntervalTier"',
        f'        name = "{tier}"',
        "        xmin = 0",
        f"        xmax = {duration}",
        f"        intervals: size = {len(intervals)}",
    ]
    for k, (a, b, text) in enumerate(intervals, 1):
        lines += [f"        intervals [{k}]:", f"            xmin = {a}", f"            xmax = {b}"]
        lines.append(f'            text = "{text}"')
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ TextGrid reading
@pytest.mark.unit
@pytest.mark.parametrize("fmt", ["long_textgrid", "short_textgrid"])
def test_textgrids_written_by_praatio_are_read_with_lines(tmp_path, fmt):
    write_wav(tmp_path / "call.wav", voice_int16(6.0, 1))
    praatio_grid(
        tmp_path / "call.TextGrid",
        6.0,
        {
            "words": [(0.2, 1.0, "hello"), (1.0, 2.0, "there")],
            "bells": [(1.5, "ding")],
            "emotion": [(0.5, 2.0, "happy"), (2.0, 3.5, "生气"), (4.0, 5.5, "😢 悲伤 (Sad)")],
        },
        fmt,
    )
    m = load_manifest(tmp_path)
    assert m.kind == "annotations" and not m.bad
    assert [(it.label, it.start_s, it.end_s) for it in m.items] == [
        ("happy", 0.5, 2.0),
        ("angry", 2.0, 3.5),
        ("sad", 4.0, 5.5),
    ]
    first = m.items[0]
    assert first.id == "call.wav@0.500-2.000" and first.path == str(tmp_path / "call.wav")
    assert first.where.startswith("call.TextGrid interval ")
    # the line named is the line of the interval's start time in the file
    line = int(first.ref.split(" line ")[1].split(" ")[0])
    text = (tmp_path / "call.TextGrid").read_text(encoding="utf-8").splitlines()
    assert "0.5" in text[line - 1] and "tier 'emotion'" in first.ref
    # --tier picks another tier (any case); its labels are not emotions: every one is reported by interval
    words = load_manifest(tmp_path, tier="WORDS")
    assert not words.items and [b.code for b in words.bad] == ["unknown_label", "unknown_label"]
    assert "tier 'words'" in words.bad[0].message and "'hello'" in words.bad[0].message
    point = load_manifest(tmp_path, tier="bells")
    assert point.bad[0].code == "bad_annotation" and "point tier" in point.bad[0].message
    missing = load_manifest(tmp_path, tier="mood")
    assert "no tier named 'mood'" in missing.bad[0].message and "'emotion' (" in missing.bad[0].message


@pytest.mark.unit
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_utf16_textgrids_are_valid_and_read_like_utf8(tmp_path, encoding):
    text = long_text_grid(4.0, "情绪", [(0.0, 1.0, ""), (1.0, 2.5, "快乐"), (2.5, 4.0, "难过")])
    data = text.encode(encoding)
    assert decode_praat_text(data)[0].lstrip("\ufeff") == text
    (tmp_path / "a.TextGrid").write_bytes(data)
    tiers = read_textgrid(tmp_path / "a.TextGrid").tiers
    assert tiers[0].name == "情绪"
    assert [(iv.start_s, iv.end_s, iv.text) for iv in tiers[0].intervals][1:] == [
        (1.0, 2.5, "快乐"),
        (2.5, 4.0, "难过"),
    ]


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("praat") is None, reason="needs Praat on PATH (apt-get install praat)")
def test_a_textgrid_saved_by_praat_itself_in_utf16_is_read(tmp_path):
    script = tmp_path / "make.praat"
    out = tmp_path / "by_praat.TextGrid"
    script.write_text(
        'tg = Create TextGrid: 0, 3, "情绪 words", ""\n'
        "Insert boundary: 1, 1.0\nInsert boundary: 1, 2.0\n"
        'Set interval text: 1, 2, "开心"\nSet interval text: 1, 3, "sad"\n'
        'Set interval text: 2, 1, "你好 ""world"""\n'
        f'Save as text file: "{out}"\n',
        encoding="utf-8",
    )
    subprocess.run(["praat", "--run", str(script)], check=True, capture_output=True, timeout=60)
    data = out.read_bytes()
    assert data[:2] in (b"\xfe\xff", b"\xff\xfe")  # Praat wrote UTF-16: a valid TextGrid all the same
    tiers = read_textgrid(out).tiers
    assert [t.name for t in tiers] == ["情绪", "words"]
    assert [iv.text for iv in tiers[0].intervals] == ["", "开心", "sad"]
    assert tiers[1].intervals[0].text == '你好 "world"'


@pytest.mark.unit
def test_malformed_textgrids_are_refused_with_the_line(tmp_path):
    good = long_text_grid(4.0, "emotion", [(0.0, 1.0, "happy"), (1.0, 2.0, "sad"), (2.0, 4.0, "angry")])
    lines = good.splitlines()
    cases = {
        "truncated": "\n".join(lines[:20]),
        "quote": good.replace('"sad"', '"sad'),
        "number": good.replace("xmax = 2.0", "xmax = two"),
        "word": good.replace("xmin = 1.0", "xmin = 1,0"),
        "stray": good.replace('"sad"', '"sad"x'),
    }
    for name, text in cases.items():
        with pytest.raises(Exception) as info:
            parse_textgrid(text, f"{name}.TextGrid")
        assert info.value.code == "bad_annotation"
        assert f"{name}.TextGrid" in str(info.value)
    # lines: 15 "intervals [1]:", 19 "intervals [2]:", 20 its xmin, 21 its xmax, 22 its text
    assert "ends early (after line 20)" in str(_error(cases["truncated"]))
    assert "end time (xmax) of interval 2 of 3 of tier 'emotion'" in str(_error(cases["truncated"]))
    assert "line 22: a text in quotes is not closed" in str(_error(cases["quote"]))
    # like Praat, a word that is not a number is skipped: the next token is the text, where xmax belongs
    assert "line 22: expected the end time (xmax) of interval 2" in str(_error(cases["number"]))
    assert "found the text 'sad'" in str(_error(cases["number"]))
    assert "line 20: '1,0' is not a number" in str(_error(cases["word"]))
    assert "line 22: a text in quotes is not closed" in str(_error(cases["stray"]))
    # in a folder: the broken file is one bad row, the other files are read
    write_wav(tmp_path / "ok.wav", voice_int16(4.0, 2))
    write_wav(tmp_path / "broken.wav", voice_int16(4.0, 3))
    write_wav(tmp_path / "binary.wav", voice_int16(4.0, 4))
    (tmp_path / "ok.TextGrid").write_text(good, encoding="utf-8")
    (tmp_path / "broken.TextGrid").write_text(cases["truncated"], encoding="utf-8")
    (tmp_path / "binary.TextGrid").write_bytes(b"ooBinaryFile\x08TextGrid\x00\x00")
    m = load_manifest(tmp_path)
    assert [it.label for it in m.items] == ["happy", "sad", "angry"]
    by = {b.where: b for b in m.bad}
    assert set(by) == {"broken.TextGrid", "binary.TextGrid"}
    assert (
        "ends early" in by["broken.TextGrid"].message and "binary TextGrid" in by["binary.TextGrid"].message
    )


def _error(text: str) -> Exception:
    try:
        parse_textgrid(text, "x.TextGrid")
    except Exception as e:  # the test asserts on the message
        return e
    raise AssertionError("no error")


@pytest.mark.unit
def test_bad_intervals_are_reported_per_item_and_the_rest_kept(tmp_path):
    write_wav(tmp_path / "a.wav", voice_int16(6.0, 5))
    (tmp_path / "a.TextGrid").write_text(
        long_text_grid(
            6.0,
            "emotion",
            [
                (0.0, 1.0, "happy"),
                (0.8, 2.0, "sad"),  # overlaps the first: both reported
                (2.0, 2.0, "angry"),  # empty
                (2.5, 3.0, "bored"),  # unknown label
                (3.0, 4.0, "  "),  # unlabelled: not an item
                (4.0, 5.0, "neutral"),
            ],
        ),
        encoding="utf-8",
    )
    m = load_manifest(tmp_path)
    assert [(it.label, it.start_s) for it in m.items] == [("neutral", 4.0)]
    codes = {b.where: b.code for b in m.bad}
    assert codes == {
        "a.TextGrid interval 1": "overlap",
        "a.TextGrid interval 2": "overlap",
        "a.TextGrid interval 3": "bad_range",
        "a.TextGrid interval 4": "unknown_label",
    }
    msg = {b.where: b.message for b in m.bad}
    assert "overlaps a.TextGrid interval 2 (0.80–2.00 s)" in msg["a.TextGrid interval 1"]
    assert "line " in msg["a.TextGrid interval 4"] and "'bored'" in msg["a.TextGrid interval 4"]


@pytest.mark.unit
def test_folder_problems_name_the_file(tmp_path):
    write_wav(tmp_path / "no_notes.wav", voice_int16(2.0, 6))
    (tmp_path / "orphan.TextGrid").write_text(long_text_grid(2.0, "e", [(0, 2, "happy")]), encoding="utf-8")
    write_wav(tmp_path / "two.wav", voice_int16(2.0, 7))
    (tmp_path / "two.TextGrid").write_text(long_text_grid(2.0, "e", [(0, 2, "happy")]), encoding="utf-8")
    (tmp_path / "two.eaf").write_text("<ANNOTATION_DOCUMENT/>", encoding="utf-8")
    write_wav(tmp_path / "words.wav", voice_int16(2.0, 8))
    (tmp_path / "words.TextGrid").write_text(long_text_grid(2.0, "w", [(0, 2, "hello")]), encoding="utf-8")
    m = load_manifest(tmp_path)
    by = {b.code: b.message for b in m.bad}
    assert not m.items
    assert "no_notes.wav has no no_notes.TextGrid or no_notes.eaf" in by["missing_annotation"]
    assert "orphan.TextGrid has no audio file" in by["missing_audio"]
    assert "two.wav, two.TextGrid, two.eaf" in by["ambiguous_annotation"]
    assert "no tier whose labels are emotions" in by["bad_annotation"] and "--tier" in by["bad_annotation"]


# ---------------------------------------------------------------------------------------------------- ELAN
@pytest.mark.unit
def test_elan_files_written_by_pympi_are_read(tmp_path):
    from pympi import Elan as elan

    write_wav(tmp_path / "talk.wav", voice_int16(6.0, 9))
    eaf = elan.Eaf()
    eaf.add_tier("utterance")
    eaf.add_annotation("utterance", 500, 2000, "hi")
    eaf.add_annotation("utterance", 2500, 4000, "bye")
    eaf.add_linguistic_type("assoc", constraints="Symbolic_Association", timealignable=False)
    eaf.add_tier("Emotion", ling="assoc", parent="utterance")
    eaf.add_ref_annotation("Emotion", "utterance", 1000, "开心")
    eaf.add_ref_annotation("Emotion", "utterance", 3000, "angry")
    eaf.add_tier("mood")
    eaf.add_annotation("mood", 0, 3000, "happy")
    eaf.add_annotation("mood", 2000, 5000, "sad")  # overlaps: ELAN refuses this, a script may write it
    eaf.to_file(str(tmp_path / "talk.eaf"))
    m = load_manifest(tmp_path)  # the default tier: the first with emotion labels, a reference tier here
    assert [(it.label, it.start_s, it.end_s) for it in m.items] == [("happy", 0.5, 2.0), ("angry", 2.5, 4.0)]
    assert m.items[0].where.startswith("talk.eaf annotation a") and "tier 'Emotion'" in m.items[0].ref
    mood = load_manifest(tmp_path, tier="mood")
    assert not mood.items and {b.code for b in mood.bad} == {"overlap"}


@pytest.mark.unit
def test_unaligned_and_malformed_elan_files(tmp_path):
    (tmp_path / "u.eaf").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00+00:00" FORMAT="3.0" VERSION="3.0" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">'
        '<HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/>'
        '<TIME_ORDER><TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0"/><TIME_SLOT TIME_SLOT_ID="ts2"/>'
        '<TIME_SLOT TIME_SLOT_ID="ts3" TIME_VALUE="3000"/></TIME_ORDER>'
        '<TIER LINGUISTIC_TYPE_REF="default-lt" TIER_ID="emotion">'
        '<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2">'
        "<ANNOTATION_VALUE>happy</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>"
        '<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a2" TIME_SLOT_REF1="ts2" TIME_SLOT_REF2="ts3">'
        "<ANNOTATION_VALUE>sad</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>"
        "</TIER>"
        '<LINGUISTIC_TYPE LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>'
        "</ANNOTATION_DOCUMENT>\n",
        encoding="utf-8",
    )
    tiers = read_eaf(tmp_path / "u.eaf").tiers
    assert [(iv.start_s, iv.end_s) for iv in tiers[0].intervals] == [(0.0, None), (None, 3.0)]
    write_wav(tmp_path / "u.wav", voice_int16(3.0, 10))
    write_wav(tmp_path / "bad.wav", voice_int16(3.0, 11))
    (tmp_path / "bad.eaf").write_text("<ANNOTATION_DOCUMENT><TIER", encoding="utf-8")
    m = load_manifest(tmp_path)
    by = {b.where: b for b in m.bad}
    assert by["u.eaf annotation a1"].code == "bad_range" and "no time" in by["u.eaf annotation a1"].message
    assert by["bad.eaf"].code == "bad_annotation" and "not a readable ELAN file" in by["bad.eaf"].message


# --------------------------------------------------------------------------------------------- Label Studio
def ls_task(tid: int, audio: str, annotations: list, predictions: list | None = None) -> dict:
    """A task as Label Studio's JSON export writes it (https://labelstud.io/guide/export.html)."""
    return {
        "id": tid,
        "data": {"audio": audio},
        "created_at": "2024-03-09T21:52:49.513742Z",
        "updated_at": "2024-03-09T22:16:08.746926Z",
        "project": 3,
        "annotations": annotations,
        "predictions": predictions or [],
    }


def ls_annotation(aid: int, result: list, **kw) -> dict:
    return {
        "id": aid,
        "completed_by": 1,
        "result": result,
        "was_cancelled": kw.get("was_cancelled", False),
        "ground_truth": kw.get("ground_truth", False),
        "created_at": kw.get("created_at", "2024-03-09T22:16:08.728353Z"),
        "updated_at": kw.get("updated_at", "2024-03-09T22:16:08.728378Z"),
        "lead_time": 4.288,
        "result_count": 0,
        "task": aid,
    }


def ls_region(rid: str, start: float, end: float, *labels: str) -> dict:
    """An audio region result as Label Studio writes it (its frontend's own test data has this shape)."""
    return {
        "original_length": 8.0,
        "value": {"start": start, "end": end, "channel": 0, "labels": list(labels)},
        "id": rid,
        "from_name": "labels",
        "to_name": "audio",
        "type": "labels",
        "origin": "manual",
    }


def ls_choice(*choices: str) -> dict:
    return {
        "value": {"choices": list(choices)},
        "id": "ch1",
        "from_name": "emotion",
        "to_name": "audio",
        "type": "choices",
        "origin": "manual",
    }


@pytest.mark.unit
def test_a_label_studio_export_is_a_test_set(tmp_path):
    media = tmp_path / "media"
    (media / "calls").mkdir(parents=True)
    (media / "upload" / "3").mkdir(parents=True)
    write_wav(media / "calls" / "long call.wav", voice_int16(8.0, 12))
    write_wav(media / "upload" / "3" / "0a1b2c3d-clip.wav", voice_int16(3.0, 13))
    tasks = [
        ls_task(
            1,
            "/data/local-files/?d=calls/long%20call.wav",
            [
                ls_annotation(
                    11,
                    [
                        ls_region("r1", 0.5, 2.5, "Happy"),
                        ls_region("r2", 3.0, 4.0, "sad", "angry"),  # two labels on one region
                        ls_region("r3", 4.5, 6.0, "愤怒"),
                        {"value": {"text": ["hello"]}, "id": "t1", "type": "textarea", "from_name": "t"},
                    ],
                ),
                ls_annotation(12, [ls_region("x", 0.0, 8.0, "neutral")], was_cancelled=True),
            ],
        ),
        ls_task(
            2,
            "/data/upload/3/0a1b2c3d-clip.wav",
            [
                ls_annotation(21, [ls_choice("Neutral")], updated_at="2024-03-10T10:00:00Z"),
                ls_annotation(22, [ls_choice("Sad")], updated_at="2024-03-11T10:00:00Z"),  # the later one
            ],
        ),
        ls_task(3, "/data/local-files/?d=calls/long%20call.wav", [], [{"result": [ls_choice("Happy")]}]),
        ls_task(4, "https://example.com/audio/missing.wav", [ls_annotation(41, [ls_choice("happy")])]),
    ]
    export = tmp_path / "downloads" / "project-3-at-2024-03-11.json"
    export.parent.mkdir()
    export.write_text(json.dumps(tasks), encoding="utf-8")
    m = load_manifest(export, audio_root=media)
    assert m.kind == "labelstudio"
    assert [(it.id, it.label, it.start_s, it.end_s) for it in m.items] == [
        ("calls/long call.wav@0.500-2.500", "happy", 0.5, 2.5),
        ("calls/long call.wav@4.500-6.000", "angry", 4.5, 6.0),
        ("upload/3/0a1b2c3d-clip.wav", "sad", None, None),
    ]
    by = {b.where: b for b in m.bad}
    assert (
        by["task 1 region r2"].code == "missing_label" and "several labels" in by["task 1 region r2"].message
    )
    assert by["task 3"].code == "unannotated" and "only predictions" in by["task 3"].message
    assert by["task 4"].code == "missing_path" and "--audio-root" in by["task 4"].message
    # without audio_root the export's own folder is searched: nothing is found, each task says so
    alone = load_manifest(export)
    assert not alone.items and {b.code for b in alone.bad} >= {"missing_path"}
    # JSON-MIN has no region ids or times per annotation: refused with the way out
    (tmp_path / "min.json").write_text(json.dumps([{"audio": "a.wav", "annotator": 1, "sentiment": "Happy"}]))
    with pytest.raises(Exception, match="JSON-MIN"):
        load_manifest(tmp_path / "min.json")


# ----------------------------------------------------------------------------------- manifests with ranges
@pytest.mark.unit
def test_manifest_columns_cut_items_out_of_long_files(tmp_path):
    write_wav(tmp_path / "long.wav", voice_int16(6.0, 14))
    with open(tmp_path / "m.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "start_s", "end_s"])
        w.writerows(
            [
                ["long.wav", "happy", "0", "2.5"],
                ["long.wav", "sad", "2.5", "5"],
                ["long.wav", "angry", "4", ""],
                ["long.wav", "angry", "3", "2"],
                ["long.wav", "neutral", "", ""],
            ]
        )
    m = load_manifest(tmp_path / "m.csv")
    assert [(it.id, it.start_s, it.end_s) for it in m.items] == [
        ("long.wav@0.000-2.500", 0.0, 2.5),
        ("long.wav@2.500-5.000", 2.5, 5.0),
        ("long.wav", None, None),
    ]
    assert [(b.where, b.code) for b in m.bad] == [("line 4", "bad_range"), ("line 5", "bad_range")]
    assert "give both start_s and end_s" in m.bad[0].message
    # a JSON array of rows works the same, rows named "item N"
    rows = [{"path": "long.wav", "emotion": "happy", "start": 1, "end": 2}, {"path": "long.wav"}]
    (tmp_path / "m.json").write_text(json.dumps(rows), encoding="utf-8")
    j = load_manifest(tmp_path / "m.json")
    assert j.kind == "json" and j.items[0].id == "long.wav@1.000-2.000" and j.bad[0].where == "item 2"


# ------------------------------------------------------------------------------ scoring cut items, end to end
@pytest.fixture(scope="module")
def long_recording(tmp_path_factory):
    """A 9 s recording (three voices with pauses) annotated in a TextGrid, plus its cuts as their own files."""
    d = tmp_path_factory.mktemp("long")
    folder = d / "set"
    folder.mkdir()
    pause = np.zeros(int(0.4 * SR), np.int16)
    samples = np.concatenate([voice_int16(2.6, 20), pause, voice_int16(2.6, 21), pause, voice_int16(3.0, 22)])
    write_wav(folder / "meeting.wav", samples)
    duration = len(samples) / SR
    intervals = [(0.1, 2.6, "happy"), (3.0, 5.6, "sad"), (6.0, 8.9, "angry"), (8.95, 10.0, "neutral")]
    praatio_grid(folder / "meeting.TextGrid", 10.0, {"emotion": intervals + [], "note": [(1.0, 2.0, "x")]})
    cuts = d / "cuts"
    cuts.mkdir()
    for a, b, label in intervals[:3]:
        write_wav(cuts / f"{label}.wav", samples[int(round(a * SR)) : int(round(b * SR))])
    return folder, cuts, duration


@pytest.mark.integration
def test_cut_items_are_decoded_once_and_scored_exactly_as_analyze_of_the_cut(
    long_recording, recognizer, tmp_path, monkeypatch
):
    folder, cuts, duration = long_recording
    decoded: list[str] = []
    real = cuts_mod._decode
    monkeypatch.setattr(cuts_mod, "_decode", lambda path: decoded.append(path) or real(path))
    ev = evaluate(
        folder, [model_from_recognizer("tiny", recognizer)], report_dir=tmp_path / "r", history_dir=False
    )
    assert decoded == [str(folder / "meeting.wav")]  # one decode for the three items
    rows = {r["id"]: r for r in ev.rows if r["predicted"]}
    assert set(rows) == {"meeting.wav@0.100-2.600", "meeting.wav@3.000-5.600", "meeting.wav@6.000-8.900"}
    for rid, label in [("meeting.wav@0.100-2.600", "happy"), ("meeting.wav@3.000-5.600", "sad")]:
        alone = recognizer.analyze(str(cuts / f"{label}.wav"))
        got = [rows[rid][c] for c in SCORE_COLUMNS]
        assert got == pytest.approx(list(alone.probs), abs=1e-6)
    last = recognizer.analyze(str(cuts / "angry.wav"))
    assert [rows["meeting.wav@6.000-8.900"][c] for c in SCORE_COLUMNS] == pytest.approx(
        list(last.probs), abs=1e-6
    )
    # the interval past the end is reported with its file and interval; the rest was evaluated
    assert ev.exit_code == 1
    [bad] = ev.bad_rows
    assert bad["code"] == "past_end" and "meeting.TextGrid" in bad["message"] and "interval" in bad["message"]
    assert f"({duration:.2f} s)" in bad["message"]
    preds = read_predictions(ev.report_dir / "predictions.csv")
    assert {(p["start_s"], p["end_s"]) for p in preds if p["id"] in rows} == {
        ("0.1", "2.6"),
        ("3.0", "5.6"),
        ("6.0", "8.9"),
    }


@pytest.mark.integration
def test_evaluate_cli_reads_an_annotated_folder_with_a_tier(long_recording, tiny_model_dir, tmp_path, capsys):
    from emostudio.cli import main

    folder, _, _ = long_recording
    code = main(
        ["evaluate", str(folder), "--model", str(tiny_model_dir), "--tier", "note", "--report",
         str(tmp_path / "r"), "--no-history", "--json"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2  # the note tier's only label is not an emotion: nothing to evaluate
    assert "tier 'note'" in captured.err and "'x'" in captured.err
    code = main(
        ["evaluate", str(folder), "--model", str(tiny_model_dir), "--report", str(tmp_path / "s"),
         "--no-history", "--json"]
    )  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["manifest"]["kind"] == "annotations" and doc["n"] == 3


@pytest.mark.integration
def test_the_server_evaluates_a_zip_of_annotated_recordings(long_recording, tiny_model_dir, tmp_path):
    import io
    import zipfile

    from fastapi.testclient import TestClient

    from emostudio.server.app import create_app
    from emostudio.server.settings import ServerSettings

    folder, _, _ = long_recording
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, f"meetings/{p.name}")
    app = create_app(
        ServerSettings(
            model=str(tiny_model_dir), device="cpu", allow_download=False, outputs=tmp_path / "out", ui=False
        )
    )
    with TestClient(app, base_url="http://localhost") as c:
        assert app.state.service.wait_ready(120)
        r = c.post(
            "/v1/evaluations",
            files={"archive": ("set.zip", buf.getvalue(), "application/zip")},
            data={"wait": "true"},
        )
    assert r.status_code == 200, r.text
    doc = r.json()["metrics"]
    assert doc["manifest"]["kind"] == "annotations" and doc["n"] == 3  # three cut items scored
    assert [b["code"] for b in doc["bad_rows"]] == ["past_end"]


@pytest.mark.unit
def test_an_elan_file_that_expands_entities_is_refused_quickly(tmp_path):
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    (tmp_path / "a.eaf").write_text(
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">{lol}]>'
        '<ANNOTATION_DOCUMENT VERSION="3.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="x"><TIER TIER_ID="&l9;"/></ANNOTATION_DOCUMENT>',
        encoding="utf-8",
    )
    write_wav(tmp_path / "a.wav", voice_int16(1.0, 30))
    m = load_manifest(tmp_path)  # expat refuses the billion laughs: one bad row, no memory blow-up
    assert [b.code for b in m.bad] == ["bad_annotation"] and "not a readable ELAN file" in m.bad[0].message


@pytest.mark.unit
def test_label_folders_with_alignments_next_to_the_audio_stay_label_folders(tmp_path):
    for label in ("angry", "开心"):
        (tmp_path / label).mkdir()
        write_wav(tmp_path / label / "a.wav", voice_int16(1.5, 31))
        praatio_grid(tmp_path / label / "a.TextGrid", 1.5, {"words": [(0.1, 0.9, "hello")]})
    m = load_manifest(tmp_path)
    assert m.kind == "folder" and sorted(it.label for it in m.items) == ["angry", "happy"] and not m.bad


@pytest.mark.unit
def test_cut_items_are_taken_file_by_file_and_whole_files_keep_their_place():
    from emostudio.evaluate.items import LabelledItem

    items = [
        LabelledItem("a", "long.wav", "happy", "1", start_s=0.0, end_s=1.0),
        LabelledItem("b", "clip.wav", "sad", "2"),
        LabelledItem("c", "long.wav", "sad", "3", start_s=1.0, end_s=2.0),
        LabelledItem("d", "clip.wav", "angry", "4"),
    ]
    assert cuts_mod.CutSource(items).order == [0, 2, 1, 3]
    assert cuts_mod.CutSource(items[1::2]).order == [0, 1]
