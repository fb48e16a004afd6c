"""The recognition pipeline end to end on a tiny random model: API, run folders, result.json, CLI."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import datetime
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from audio_factory import BAD_FILES, encode, make_voice

from emostudio.cli import main as cli_main
from emostudio.errors import AudioError
from emostudio.interpret import softmax
from emostudio.model.labels import KEYS
from emostudio.model.lanes import plan_batches
from emostudio.results import load_schema
from emostudio.runs import new_run_dir

pytestmark = pytest.mark.integration

SR = 16000


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    return encode(folder / "voice.wav", make_voice(5.0, SR, seed=1), SR, "wav").path


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_utterance_scores_are_softmax_of_mean_frame_logits(recognizer, clip):
    res = recognizer.analyze(clip)
    assert res.granularity == "utterance"
    assert res.probs.shape == (9,) and abs(res.probs.sum() - 1) < 1e-6
    assert list(res.scores) == list(KEYS)
    wave = recognizer.prepare(clip, quality=False).waveform
    enc = recognizer.model.encoder.encode([wave])
    frame_logits = recognizer.model.key_logits(enc.frame_logits)[0, : int(enc.frame_lengths[0])]
    expected = softmax(frame_logits.double().mean(0).numpy())
    np.testing.assert_allclose(res.probs, expected, atol=1e-5)
    # and equal to the head applied to the pooled embedding (the head is linear)
    pooled = softmax(recognizer.model.key_logits(enc.logits)[0].double().numpy())
    np.testing.assert_allclose(res.probs, pooled, atol=1e-5)
    assert res.label == KEYS[int(np.argmax(expected))]


def test_frame_mode_5s_gives_50_steps(recognizer, clip):
    res = recognizer.analyze(clip, granularity="frame")
    steps = len(res.frames.starts_s)
    assert abs(steps - 50) <= 1
    assert res.frames.probs.shape == (steps, 9)
    np.testing.assert_allclose(res.frames.probs.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(np.diff(res.frames.starts_s), 0.1, atol=1e-9)
    assert res.frames.segments and res.frames.segments[0].start_s == 0
    assert res.frames.segments[-1].end_s == pytest.approx(5.0, abs=0.1)


def test_run_folder_files_and_schema(recognizer, clip, tmp_path):
    schema = load_schema()
    for granularity in ("utterance", "frame"):
        res = recognizer.analyze(clip, granularity=granularity, embedding=True, output_dir=tmp_path)
        folder = res.output_dir
        assert folder.parent == tmp_path and folder.name.startswith("outputs_")
        doc = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        jsonschema.validate(doc, schema)
        for key in ("emotion", "confidence", "scores", "granularity", "timestamp"):  # the seed WebUI's keys
            assert key in doc
        assert doc["model"]["is_random"] is True
        assert "random weights: scores are meaningless" in doc["warnings"]
        assert doc["summary"].endswith(f"置信度: {res.confidence * 100:.1f}%")
        emb = np.load(folder / "embedding.npy", allow_pickle=False)
        dim = recognizer.model.arch["embed_dim"]
        assert emb.dtype == np.float32
        if granularity == "utterance":
            assert emb.shape == (dim,)
            assert not (folder / "frames.csv").exists()
        else:
            assert emb.shape[1] == dim and abs(emb.shape[0] - 5.0 * 50) <= 2
            rows = (folder / "frames.csv").read_text().strip().splitlines()
            assert rows[0].startswith("start_s,end_s,emotion,confidence,angry")
            assert len(rows) - 1 == doc["frames"]["count"]
        from emostudio.audio import decode

        processed = decode(folder / "processed_audio.wav")
        assert processed.source.sample_rate == SR and processed.source.channels == 1
        assert abs(processed.duration_s - 5.0) < 0.01
    assert not list(tmp_path.rglob("*.tmp"))


def test_two_runs_in_the_same_second_get_two_folders(tmp_path):
    now = datetime(2026, 11, 25, 10, 15, 2)
    a, b, c = (new_run_dir(tmp_path, now) for _ in range(3))
    assert [p.name for p in (a, b, c)] == [
        "outputs_20261125_101502",
        "outputs_20261125_101502_2",
        "outputs_20261125_101502_3",
    ]


def test_back_to_back_analyses_never_share_a_folder(recognizer, clip, tmp_path):
    dirs = {recognizer.analyze(clip, output_dir=tmp_path, quality=False).output_dir for _ in range(3)}
    assert len(dirs) == 3


def test_long_recording_is_segmented_not_truncated(recognizer, tmp_path):
    rng = np.random.default_rng(3)
    parts, speech, t = [], [], 0.0
    while t < 180.0:  # 3 minutes: voice bursts of 4–12 s separated by 0.6–1.5 s pauses
        burst = float(rng.uniform(4, 12))
        parts.append(make_voice(burst, SR, seed=int(rng.integers(1 << 16))))
        speech.append((t, t + burst))
        t += burst
        pause = float(rng.uniform(0.6, 1.5))
        parts.append(np.zeros(int(pause * SR), np.float32))
        t += pause
    wave = np.concatenate(parts)
    path = encode(tmp_path / "long.flac", wave, SR, "flac").path
    res = recognizer.analyze(path, granularity="frame")
    assert len(res.segments) >= 6
    assert all(s.end_s - s.start_s <= 30.0 + 1e-6 for s in res.segments)
    for a, b in speech:  # every second of speech is inside some segment
        for sec in np.arange(a, b, 1.0):
            assert any(s.start_s - 0.05 <= sec <= s.end_s + 0.05 for s in res.segments), sec
    assert res.frames.starts_s[-1] > speech[-1][1] - 1.0  # the timeline reaches the end of the speech
    assert res.segments[0].start_s == 0
    assert res.segments[-1].end_s == pytest.approx(res.audio["duration_s"], abs=1e-3)
    assert all(
        a.end_s == b.start_s for a, b in itertools.pairwise(res.segments)
    )  # back to back: nothing dropped
    np.testing.assert_allclose(res.probs.sum(), 1, atol=1e-9)
    lo = np.min([s.probs for s in res.segments], axis=0)
    hi = np.max([s.probs for s in res.segments], axis=0)
    assert np.all(res.probs >= lo - 1e-12) and np.all(res.probs <= hi + 1e-12)  # a weighted mean of segments
    assert res.audio["segmented"] is True


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_inputs_give_typed_errors_and_keep_earlier_results(recognizer, clip, tmp_path, kind):
    out = tmp_path / "outputs"
    recognizer.analyze(clip, output_dir=out, quality=False)
    before = _tree_digest(out)
    maker, code = BAD_FILES[kind]
    bad = maker(tmp_path)
    with pytest.raises(AudioError) as err:
        recognizer.analyze(bad, output_dir=out)
    assert err.value.code == code
    assert bad.name in str(err.value)
    assert _tree_digest(out) == before


def test_numpy_input_needs_a_rate_and_is_resampled(recognizer):
    wave44 = make_voice(2.0, 44100, seed=4)
    res = recognizer.analyze(wave44, sample_rate=44100)
    assert res.audio["duration_s"] == pytest.approx(2.0, abs=0.01)
    with pytest.raises(ValueError, match="sample_rate"):
        recognizer.analyze(wave44)


# ---- CLI ------------------------------------------------------------------------------------------------


def test_cli_analyze_prints_seed_line_and_folder(tiny_model_dir, clip, tmp_path, capsys):
    code = cli_main(["analyze", str(clip), "--model", str(tiny_model_dir), "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "置信度:" in out.out and "band:" in out.out and "runner-up:" in out.out
    assert "folder:" in out.out and "random weights" in out.out
    assert len(list(tmp_path.glob("outputs_*/result.json"))) == 1


def test_cli_one_bad_file_does_not_stop_the_rest(tiny_model_dir, clip, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    encode(folder / "a.mp3", make_voice(1.5, 22050, seed=5), 22050, "mp3")
    encode(folder / "b.ogg", np.stack([make_voice(1.5, 44100, seed=6)] * 2, axis=1), 44100, "ogg")
    BAD_FILES["truncated_wav"][0](folder)
    (folder / "notes.txt").write_text("not picked up: not an audio extension")
    code = cli_main(
        [
            "analyze",
            str(folder),
            str(clip),
            str(tmp_path / "missing.wav"),
            "--json",
            "--model",
            str(tiny_model_dir),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    out = capsys.readouterr()
    assert code == 1
    docs = json.loads(out.out)
    assert len(docs) == 5
    errors = [d for d in docs if "error" in d]
    assert sorted(e["error"]["code"] for e in errors) == ["corrupt", "missing"]
    assert "missing.wav" in out.err and "file not found" in out.err
    assert len(list((tmp_path / "out").glob("outputs_*/result.json"))) == 3


def test_cli_glob_pattern(tiny_model_dir, tmp_path, capsys):
    for i in range(2):
        encode(tmp_path / f"c{i}.flac", make_voice(1.0, 48000, seed=i), 48000, "flac")
    code = cli_main(
        [
            "analyze",
            str(tmp_path / "c*.flac"),
            "--json",
            "--model",
            str(tiny_model_dir),
            "--out",
            str(tmp_path / "out"),
            "--no-quality",
        ]
    )
    docs = json.loads(capsys.readouterr().out)
    assert code == 0 and len(docs) == 2 and {Path(d["source"]).name for d in docs} == {"c0.flac", "c1.flac"}


def test_cli_without_weights_says_where_it_looked(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MODELSCOPE_CACHE", str(tmp_path / "ms"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hfhome"))
    code = cli_main(["analyze", str(tmp_path / "x.wav"), "--offline"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(tmp_path / "ms") in err and "--model demo" in err


def test_cli_demo_model_runs_offline_and_is_labelled(clip, tmp_path, capsys):
    code = cli_main(["analyze", str(clip), "--model", "demo", "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert code == 0
    assert "random weights: scores are meaningless" in out.out + out.err
    doc = json.loads(next(tmp_path.glob("outputs_*/result.json")).read_text())
    assert doc["model"]["id"] == "demo" and doc["model"]["is_random"] is True


def test_every_format_analyses_end_to_end(recognizer, tmp_path):
    from audio_factory import CHANNELS, FORMATS

    for fmt in FORMATS:
        rate = 8000 if fmt in ("amr", "3gp") else 22050
        wave = make_voice(1.2, rate, seed=9)
        if CHANNELS.get(fmt, (1,))[0] == 2:
            wave = np.stack([wave, wave], axis=1)
        enc = encode(tmp_path / f"clip.{fmt}", wave, rate, fmt)
        res = recognizer.analyze(enc.path, quality=False)
        assert res.probs.shape == (9,) and np.isfinite(res.probs).all(), fmt
        assert res.audio["original"]["codec"] == enc.codec, fmt


def test_cli_reports_every_bad_input_with_its_code_and_keeps_earlier_runs(
    tiny_model_dir, clip, tmp_path, capsys
):
    out = tmp_path / "out"
    assert (
        cli_main(["analyze", str(clip), "--model", str(tiny_model_dir), "--out", str(out), "--no-quality"])
        == 0
    )
    before = _tree_digest(out)
    capsys.readouterr()
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = {kind: maker(bad_dir) for kind, (maker, _) in sorted(BAD_FILES.items())}
    code = cli_main(
        ["analyze", *map(str, bad.values()), "--json", "--model", str(tiny_model_dir), "--out", str(out)]
    )
    captured = capsys.readouterr()
    assert code == 1
    docs = {Path(d["source"]).name: d for d in json.loads(captured.out)}
    for kind, path in bad.items():
        doc = docs[path.name]
        assert doc["error"]["code"] == BAD_FILES[kind][1], kind
        assert path.name in doc["error"]["message"] and path.name in captured.err
    assert _tree_digest(out) == before


def test_int8_cpu_recognizer_is_labelled_and_close_to_fp32(
    tiny_model_dir, recognizer, clip, tmp_path, capsys
):
    from emostudio.recognize import Recognizer

    rec8 = Recognizer(model=str(tiny_model_dir), device="cpu", dtype="int8")
    res8, res32 = rec8.analyze(clip, quality=False), recognizer.analyze(clip, quality=False)
    assert res8.to_dict()["model"]["dtype"] == "int8" and res32.to_dict()["model"]["dtype"] == "float32"
    assert np.abs(res8.probs - res32.probs).max() < 0.02
    code = cli_main(
        [
            "analyze",
            str(clip),
            "--model",
            str(tiny_model_dir),
            "--dtype",
            "int8",
            "--json",
            "--out",
            str(tmp_path),
            "--no-quality",
        ]
    )
    assert code == 0 and json.loads(capsys.readouterr().out)["model"]["dtype"] == "int8"


def test_scoring_tells_the_share_of_audio_scored_after_each_batch(recognizer):
    rng = np.random.default_rng(3)
    waveforms = [
        (0.1 * rng.standard_normal(int(s * 16000))).astype(np.float32) for s in (2, 5, 9, 14, 30, 30, 30)
    ]
    told: list[float] = []
    scored = recognizer.score_waveforms(waveforms, progress=told.append)
    assert len(scored) == len(waveforms)
    batches = len(plan_batches([len(w) for w in waveforms], recognizer.batch_seconds * 16000))
    assert (
        batches >= 2 and len(told) == batches + 1
    )  # the start, then one per batch (from the lanes' threads)
    assert told[0] == 0.0 and told == sorted(told) and told[-1] == pytest.approx(1.0)
    assert [s.logits.tolist() for s in scored] == [
        s.logits.tolist() for s in recognizer.score_waveforms(waveforms)
    ]
