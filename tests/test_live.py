"""Live streams (`Recognizer.stream`) and two-party recordings (`channels="separate"`).

- Chunks of random sizes at 44.1 kHz: every scored window equals `analyze` of the same 16 kHz samples, and the
  closing result equals the file's frame-mode result (also when the closing pass is scored in parts).
- Silence: one update says 静音 / silence, then at most one every `silence_every_s`.
- A stereo call (calm left, agitated right): each channel's result equals analysing that channel alone, for a
  file and for a live stream; a mono call saved as stereo is one speaker; a silent channel is said.
- Bad input: ragged or NaN chunks, unsupported rates, too-long and silent streams give clear typed errors.
"""

from __future__ import annotations

import dataclasses
import json
import math

import jsonschema
import numpy as np
import pytest
from audio_factory import encode
from signals import voice

from emostudio import audio as audio_io
from emostudio.audio import SilentAudioError, TooLongError, ZeroLengthError
from emostudio.channels import correlation
from emostudio.errors import UsageError
from emostudio.live import SILENCE, FrameError, LiveNotice, LiveUpdate
from emostudio.live.events import SegmentTrack
from emostudio.live.pcm import from_wav_bytes
from emostudio.results import Result, load_schema
from emostudio.settings import COPY_CORRELATION

pytestmark = pytest.mark.integration

SR_IN = 44100


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """The tiny test model scores 3 s windows hundreds of times: with one thread that is quick even on a busy
    shared machine (a team of OpenMP threads spins for each of those small calls). Put back afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pcm16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1, 1) * 32767).round().astype(np.int16)


def resampled(x: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    return soxr.resample(x, 16000, rate).astype(np.float32)


def feed_randomly(live, samples: np.ndarray, seed: int, most: int = 9000) -> list:
    """Feed `samples` ((n,) or (n, channels)) in chunks of 1..most samples; all events."""
    rng = np.random.default_rng(seed)
    events, i = [], 0
    while i < len(samples):
        n = int(rng.integers(1, most))
        events += live.feed(samples[i : i + n])
        i += n
    return events


@pytest.fixture(scope="module")
def speech_file(tmp_path_factory):
    """36 s of speech with pauses at 44.1 kHz, 16-bit: longer than one model segment (30 s)."""
    x, _ = voice(36, seed=11)
    path = encode(tmp_path_factory.mktemp("live") / "speech.wav", resampled(x, SR_IN), SR_IN, "wav").path
    return path, pcm16(resampled(x, SR_IN))


def test_window_scores_equal_analyze_whatever_the_chunk_sizes(recognizer, speech_file):
    path, samples = speech_file
    decoded = audio_io.decode(path).waveform  # what the file path scores: the stream must see the same
    runs = []
    for seed in (1, 2):
        live = recognizer.stream(SR_IN)
        events = feed_randomly(live, samples[: 20 * SR_IN], seed)
        live.release()
        runs.append([e for e in events if isinstance(e, LiveUpdate)])
    a, b = runs
    assert [(u.time_s, u.label) for u in a] == [(u.time_s, u.label) for u in b]
    scored = [u for u in a if u.scores is not None]
    assert len(scored) >= 25, "most hops of continuous speech are scored"
    # an update every hop (0.5 s) from 1 s on, except while silent
    assert {u.time_s for u in a} <= {k / 2 for k in range(2, 41)}
    for ua, ub in zip(a, b, strict=True):
        if ua.scores is not None:
            np.testing.assert_array_equal(ua.scores, ub.scores)
    worst = 0.0
    for u in scored:
        start, end = round(u.window_start_s * 16000), round(u.time_s * 16000)
        assert end - start == min(3 * 16000, end)
        alone = recognizer.analyze(decoded[start:end], sample_rate=16000, quality=False)
        worst = max(worst, float(np.abs(alone.probs - u.scores).max()))
        assert u.label == alone.label and u.band.key == alone.band.key
    assert worst <= 1e-5


@pytest.mark.parametrize("part_s", [600.0, 12.0])
def test_closing_result_equals_the_files_frame_mode(recognizer, speech_file, tmp_path, part_s):
    path, samples = speech_file
    live = recognizer.stream(SR_IN, name="speech.wav", part_s=part_s)
    feed_randomly(live, samples, seed=3, most=30000)
    result = live.close(output_dir=tmp_path)
    whole = recognizer.analyze(path, granularity="frame")
    assert len(whole.segments) == 2, "36 s is split into two model segments"
    assert result.granularity == "frame"
    np.testing.assert_allclose(result.probs, whole.probs, atol=1e-6, rtol=0)
    assert [(s.start_s, s.end_s) for s in result.segments] == [(s.start_s, s.end_s) for s in whole.segments]
    np.testing.assert_allclose(result.frames.starts_s, whole.frames.starts_s)
    np.testing.assert_allclose(result.frames.probs, whole.frames.probs, atol=1e-6, rtol=0)
    assert [s.to_dict() for s in result.frames.segments] == [s.to_dict() for s in whole.frames.segments]
    assert result.band == whole.band and result.quality == whole.quality
    doc = json.loads((result.output_dir / "result.json").read_text())
    jsonschema.validate(doc, load_schema())
    assert (
        doc["audio"]["original"]["container"] == "stream" and doc["audio"]["original"]["sample_rate"] == SR_IN
    )
    assert doc["settings"]["live"]["hop_s"] == 0.5
    assert (result.output_dir / "frames.csv").is_file() and (
        result.output_dir / "processed_audio.wav"
    ).is_file()
    assert live.closed


def _same(a, b, where: str) -> None:
    """`a` equals `b` (arrays to 1e-6, records field by field), or an AssertionError naming the field."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0, err_msg=where)
    elif dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, list | tuple) and isinstance(b, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("part_s", [600.0, 12.0])
def test_the_closing_result_is_the_files_frame_mode_result_field_by_field(recognizer, tmp_path, part_s):
    """A call recorded at 8 kHz (below the model's 16 kHz: a bad sample-rate verdict, which explains a low
    confidence) streamed live and closed (whole, or in parts) is assembled as `analyze(file, granularity="frame")`
    assembles the file: every Result field equal, the quality report and both warnings (en, zh) included."""
    rate = 8000
    x, _ = voice(36, seed=21)
    wave_in = resampled(x, rate)
    path = encode(tmp_path / "call8k.wav", wave_in, rate, "wav").path
    live = recognizer.stream(rate, name=str(path), part_s=part_s)
    feed_randomly(live, pcm16(wave_in), seed=5, most=8000)
    closing = live.close()
    whole = recognizer.analyze(path, granularity="frame")
    assert len(whole.segments) == 2 and whole.band.key != "confident"
    assert whole.quality_warning and whole.quality_warning_zh  # the 8 kHz rate explains the low confidence
    assert "sample rate" in whole.quality_warning.lower() or "rate" in whole.quality_warning
    for f in dataclasses.fields(Result):
        a, b = getattr(closing, f.name), getattr(whole, f.name)
        if f.name in ("timestamp", "output_dir"):
            continue
        if f.name == "settings":  # the closing pass adds how the stream was cut
            assert a.pop("live")["hop_s"] == 0.5
        if f.name == "audio":  # what the input was: a stream, not a wav file
            oa, ob = a.pop("original"), b.pop("original")
            assert (oa["container"], oa["sample_rate"], oa["channels"]) == ("stream", rate, 1)
            assert (ob["sample_rate"], ob["channels"]) == (rate, 1)
            assert oa["duration_s"] == pytest.approx(ob["duration_s"], abs=1e-3)
        _same(a, b, f.name)


def test_silence_gives_one_update_then_no_spam(recognizer):
    talk, _ = voice(4, seed=5, pauses=False)
    quiet = np.zeros(16000 * 14, np.float32)
    x = np.concatenate([talk, quiet, voice(4, seed=6, pauses=False)[0]])
    live = recognizer.stream(16000, silence_every_s=5.0)
    updates = [e for e in feed_randomly(live, pcm16(x), seed=4) if isinstance(e, LiveUpdate)]
    live.release()
    silent = [u for u in updates if u.silent]
    assert silent, "the silence is said"
    first = silent[0]
    assert first.label == SILENCE and first.scores is None and first.confidence is None
    assert first.summary("zh") == "🔇 静音" and first.to_dict()["label"]["zh"] == "静音"
    assert first.to_dict()["label"]["en"] == "Silence"
    assert 4.0 < first.time_s <= 7.0  # within recent_s (2 s) of the talk ending at 4 s
    # 14 s of silence: the first update, then one every 5 s at most (no update every 0.5 s)
    assert len(silent) <= 1 + math.ceil(14 / 5)
    gaps = np.diff([u.time_s for u in silent])
    assert np.all(gaps >= 5.0 - 1e-9)
    assert live.stats.silent_quiet >= 20
    after = [u for u in updates if u.time_s > 19.5]
    assert after and all(not u.silent for u in after), "speech after the silence is scored again"
    assert any(s.label == SILENCE for s in updates[-1].segments)


def test_segments_merge_short_runs():
    seg = SegmentTrack(min_segment_s=1.0)
    labels = ["happy"] * 4 + ["sad"] + ["happy"] * 3 + ["angry"] * 4
    for k, label in enumerate(labels):
        seg.add(label, k * 0.5, (k + 1) * 0.5, 0.5)
    out = [(s.label, s.start_s, s.end_s) for s in seg.segments]
    assert out == [("happy", 0.0, 4.0), ("angry", 4.0, 6.0)]
    first = SegmentTrack(min_segment_s=1.0)  # a short first run merges forward
    for k, label in enumerate(["sad", "happy", "happy", "happy"]):
        first.add(label, k * 0.5, (k + 1) * 0.5, 0.4)
    assert [(s.label, s.start_s, s.end_s) for s in first.segments] == [("happy", 0.0, 2.0)]


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    """A stereo call: a calm left channel (low, soft, slow) and an agitated right one (high, loud, fast)."""
    folder = tmp_path_factory.mktemp("call")
    calm, _ = voice(9, seed=21)
    agitated, _ = voice(9, seed=22, pauses=False)
    calm = 0.3 * calm
    agitated = np.clip(3.5 * agitated, -0.95, 0.95)
    left = encode(folder / "left.wav", resampled(calm, SR_IN), SR_IN, "wav").path
    right = encode(folder / "right.wav", resampled(agitated, SR_IN), SR_IN, "wav").path
    stereo = np.stack([resampled(calm, SR_IN), resampled(agitated, SR_IN)], axis=1)
    path = encode(folder / "call.wav", stereo, SR_IN, "wav").path
    return path, left, right, pcm16(stereo)


def test_stereo_call_gives_one_result_per_channel_equal_to_each_channel_alone(recognizer, call, tmp_path):
    path, left, right, _ = call
    res = recognizer.analyze(
        path, channels="separate", roles="agent,customer", granularity="frame", output_dir=tmp_path
    )
    assert [c.info.status for c in res.channels] == ["speaker", "speaker"]
    assert [c.info.role for c in res.channels] == ["agent", "customer"]
    for ch, alone_path in zip(res.channels, (left, right), strict=True):
        alone = recognizer.analyze(alone_path, granularity="frame")
        np.testing.assert_allclose(ch.result.probs, alone.probs, atol=1e-6, rtol=0)
        np.testing.assert_allclose(ch.result.frames.probs, alone.frames.probs, atol=1e-6, rtol=0)
        assert ch.result.quality["metrics"] == alone.quality["metrics"]
    assert res.channels[0].info.active_dbfs < res.channels[1].info.active_dbfs - 15
    mixed = recognizer.analyze(path, granularity="frame")
    np.testing.assert_allclose(res.probs, mixed.probs, atol=1e-6, rtol=0)  # the top level is the mix
    doc = json.loads((res.output_dir / "result.json").read_text())
    jsonschema.validate(doc, load_schema())
    assert doc["speakers"] == 2 and [c["role"] for c in doc["channels"]] == ["agent", "customer"]
    assert doc["channels"][1]["result"]["emotion"] == res.channels[1].result.label
    assert (
        doc["files"]["frames_csv_ch0"] == "frames_ch0.csv" and (res.output_dir / "frames_ch1.csv").is_file()
    )
    # the mixed (default) decode is unchanged by keeping channels
    kept = audio_io.decode(path, keep_channels=True)
    np.testing.assert_array_equal(kept.waveform, audio_io.decode(path).waveform)
    np.testing.assert_array_equal(kept.channels[0], audio_io.decode(left).waveform)


def test_live_stereo_call_scores_each_channel_as_alone(recognizer, call):
    path, left, right, samples = call
    live = recognizer.stream(SR_IN, channels="separate", roles=["agent", "customer"])
    events = feed_randomly(live, samples, seed=7)
    updates = [e for e in events if isinstance(e, LiveUpdate)]
    assert {u.channel for u in updates} == {0, 1} and {u.role for u in updates} == {"agent", "customer"}
    alone = {0: audio_io.decode(left).waveform, 1: audio_io.decode(right).waveform}
    for u in updates:
        if u.scores is not None:
            a, b = round(u.window_start_s * 16000), round(u.time_s * 16000)
            ref = recognizer.analyze(alone[u.channel][a:b], sample_rate=16000, quality=False)
            np.testing.assert_allclose(u.scores, ref.probs, atol=1e-5, rtol=0)
    result = live.close()
    for ch, alone_path in zip(result.channels, (left, right), strict=True):
        ref = recognizer.analyze(alone_path, granularity="frame")
        np.testing.assert_allclose(ch.result.probs, ref.probs, atol=1e-6, rtol=0)
    assert result.to_dict()["speakers"] == 2


def test_mono_saved_as_stereo_is_one_speaker(recognizer, tmp_path):
    x, _ = voice(6, seed=31)
    stereo = np.stack([x, x], axis=1)
    path = encode(tmp_path / "mono_as_stereo.wav", stereo, 16000, "wav").path
    res = recognizer.analyze(path, channels="separate")
    assert [c.info.status for c in res.channels] == ["speaker", "copy"]
    assert res.channels[1].info.same_as == 0 and res.channels[1].result is None
    assert (
        "one speaker" in res.channels[1].info.note["en"] and "一位说话人" in res.channels[1].info.note["zh"]
    )
    assert res.to_dict()["speakers"] == 1
    assert correlation(x, x) >= COPY_CORRELATION
    # live: the copy is noticed once and only channel 1 gets updates after that
    live = recognizer.stream(16000, channels="separate")
    events = feed_randomly(live, pcm16(stereo), seed=8)
    notices = [e for e in events if isinstance(e, LiveNotice)]
    assert [n.code for n in notices] == ["copy_channel"] and notices[0].details["same_as"] == 0
    assert "one speaker" in notices[0].message["en"]
    late = [e for e in events if isinstance(e, LiveUpdate) and e.time_s > 4]
    assert late and {u.channel for u in late} == {0}
    assert live.close().to_dict()["speakers"] == 1


def test_silent_channel_is_said(recognizer, tmp_path):
    x, _ = voice(5, seed=41)
    path = encode(tmp_path / "one_side.wav", np.stack([np.zeros_like(x), x], axis=1), 16000, "wav").path
    res = recognizer.analyze(path, channels="separate")
    assert [c.info.status for c in res.channels] == ["silent", "speaker"]
    assert "silent" in res.channels[0].info.note["en"] and "无声" in res.channels[0].info.note["zh"]
    mono = encode(tmp_path / "mono.wav", x, 16000, "wav").path
    one = recognizer.analyze(mono, channels="separate")
    assert len(one.channels) == 1 and one.channels[0].info.status == "speaker"
    assert "one channel" in one.channels[0].info.note["en"]


def test_bad_live_input_gets_clear_errors(recognizer):
    with pytest.raises(UsageError, match="unsupported sample rate 100 Hz"):
        recognizer.stream(100)
    with pytest.raises(UsageError, match="unsupported sample format"):
        recognizer.stream(16000, format="mp3")
    with pytest.raises(UsageError, match="unknown live stream option"):
        recognizer.stream(16000, hop=0.5)
    with pytest.raises(UsageError, match="hop_s"):
        recognizer.stream(16000, hop_s=4.0, window_s=3.0)
    with pytest.raises(UsageError, match="roles name the channels"):
        recognizer.stream(16000, roles="agent,customer")
    with pytest.raises(UsageError, match="roles name the channels"):
        recognizer.analyze(np.zeros(16000, np.float32) + 0.1, sample_rate=16000, roles="agent,customer")
    with pytest.raises(UsageError, match="channels must be one of mix, separate"):
        recognizer.analyze(np.zeros(16000, np.float32) + 0.1, sample_rate=16000, channels="both")
    with recognizer.stream(16000, input_channels=2) as live:
        with pytest.raises(FrameError, match="multiple of 4 bytes"):
            live.push(b"\x00" * 6)
        with pytest.raises(FrameError, match="1 channels; this stream has 2"):
            live.push(np.zeros(100, np.float32))
        with pytest.raises(FrameError, match="NaN"):
            live.push(np.full((100, 2), np.nan, np.float32))
    with recognizer.stream(16000, max_duration_s=2.0) as live:
        live.push(np.zeros(16000, np.int16))
        with pytest.raises(TooLongError, match="too long"):
            live.push(np.zeros(20000, np.int16))
    live = recognizer.stream(16000)
    with pytest.raises(ZeroLengthError, match="no audio"):
        live.close()
    live = recognizer.stream(16000)
    live.feed(np.zeros(32000, np.int16))
    with pytest.raises(SilentAudioError, match="digital silence"):
        live.close()
    with pytest.raises(UsageError, match="closed"):
        live.push(np.zeros(10, np.int16))


def test_browser_wav_chunks_are_read_whatever_their_sizes_say():
    x = (np.arange(4800) % 200 - 100).astype("<i2")
    header = b"RIFF\xf7\xff\xff\xffWAVEfmt " + (16).to_bytes(4, "little")
    header += (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (48000).to_bytes(4, "little")
    header += (96000).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    header += b"data\xd3\xff\xff\xff"  # the sizes a streaming recorder leaves unset
    rate, channels, got = from_wav_bytes(header + x.tobytes() + b"\x01")  # and a stray byte at the end
    assert (rate, channels, got.shape) == (48000, 1, (4800, 1))
    np.testing.assert_array_equal(got[:, 0], x / 32768)
    with pytest.raises(FrameError, match="not a WAV"):
        from_wav_bytes(b"OggS" + bytes(40))


def test_batch_manifest_roles_give_one_row_per_channel(recognizer, call, tmp_path):
    from emostudio.batch import read_results, run_batch

    path, left, right, _ = call
    manifest = tmp_path / "calls.csv"
    manifest.write_text(f'id,path,speaker,roles\ncall-1,{path},cust-42,"agent,customer"\nsolo,{left},,\n')
    summary = run_batch(
        manifest, tmp_path / "out", recognizer=recognizer, granularity="frame", embedding=True
    )
    rows = {r["id"]: r for r in read_results(tmp_path / "out").to_pylist()}
    assert sorted(rows) == ["call-1", "call-1#ch0", "call-1#ch1", "solo"]
    assert summary.total == 2 and summary.processed == 2 and sum(summary.counts.values()) == 2
    assert rows["call-1"]["channel"] is None and rows["solo"]["role"] is None
    for index, alone_path in ((0, left), (1, right)):
        row = rows[f"call-1#ch{index}"]
        assert (row["channel"], row["role"], row["channel_status"]) == (
            index,
            ("agent", "customer")[index],
            "speaker",
        )
        assert row["speaker"] == "cust-42" and row["path"] == str(path)
        alone = recognizer.analyze(alone_path)
        assert row["label"] == alone.label and abs(row["confidence"] - alone.confidence) < 1e-6
    again = run_batch(manifest, tmp_path / "out", recognizer=recognizer, granularity="frame", embedding=True)
    assert again.skipped == 2 and again.processed == 0 and len(read_results(tmp_path / "out")) == 4


def test_cli_analyze_separate_and_live_from_a_file(tiny_model_dir, call, tmp_path, capsys):
    from emostudio.cli import main

    path, *_ = call
    model = ["--model", str(tiny_model_dir), "--offline"]
    code = main(
        [
            "analyze",
            str(path),
            "--channels",
            "separate",
            "--roles",
            "agent,customer",
            "--granularity",
            "frame",
            "--device",
            "cpu",
            "--out",
            str(tmp_path / "runs"),
            *model,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "channel 1 (agent):" in out and "channel 2 (customer):" in out and "timeline:" in out
    assert main(["analyze", str(path), "--roles", "a,b", *model]) == 2  # roles need --channels separate
    code = main(
        [
            "live",
            "--input",
            str(path),
            "--speed",
            "0",
            "--json",
            "--channels",
            "separate",
            "--out",
            str(tmp_path / "live"),
            "--model-device",
            "cpu",
            *model,
        ]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0 and lines[-1]["type"] == "result" and lines[-1]["speakers"] == 2
    updates = [m for m in lines if m["type"] == "update"]
    assert {m["channel"] for m in updates} == {0, 1} and max(m["time_s"] for m in updates) == 9.0
    assert (tmp_path / "live").is_dir() and any((tmp_path / "live").iterdir())
    assert main(["live", "--input", str(tmp_path / "missing.wav"), *model]) == 2
    assert "missing.wav" in capsys.readouterr().err
