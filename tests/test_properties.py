"""Property-based tests (hypothesis): the decoder entry takes any bytes, the writers only ever leave complete files.

- `decode(bytes)`: arbitrary data, and arbitrary data behind real container headers (RIFF/WAVE, Ogg, FLAC,
  ID3/MP3, MP4 `ftyp`, Matroska), either decodes or raises a typed AudioError — no other exception, no hang.
- `runs.save_run` and the atomic writers: for arbitrary results (scores, frame tables, embeddings, names with any
  characters) every file written is complete and valid; a refused write (NaN into JSON) leaves no file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import wave

import numpy as np
import pytest
from hostile import wav_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emostudio import atomic, audio
from emostudio.errors import AudioError
from emostudio.interpret import TimelineSegment, band_for, compound_for
from emostudio.model.labels import KEYS
from emostudio.results import FrameTimeline, ModelRef, Result, SegmentResult, run_content
from emostudio.runs import save_run

pytestmark = pytest.mark.unit

HEADERS = [
    b"",
    wav_bytes(np.zeros(0), 16000)[:44],
    b"OggS\x00\x02" + b"\x00" * 20,
    b"fLaC\x00\x00\x00\x22",
    b"ID3\x03\x00\x00\x00\x00\x00\x00",
    b"\xff\xfb\x90\x64",
    b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00",
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",
]


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.sampled_from(HEADERS), body=st.binary(max_size=4096))
def test_decode_any_bytes_is_a_result_or_a_typed_error(header, body):
    try:
        a = audio.decode(header + body, name="fuzz.bin", max_duration_s=60)
    except AudioError as e:
        assert str(e).startswith("fuzz.bin: ") and e.code != "audio_error"
        return
    assert a.waveform.dtype == np.float32 and a.waveform.ndim == 1 and np.all(np.isfinite(a.waveform))


@settings(max_examples=60, deadline=5000)
@given(
    samples=st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=3000), cut=st.floats(0.05, 1.0)
)
def test_real_wav_cut_anywhere_is_a_result_or_a_typed_error(samples, cut):
    data = wav_bytes(np.array(samples), 16000)
    data = data[: max(1, int(len(data) * cut))]
    try:
        a = audio.decode(data, name="cut.wav")
    except AudioError as e:
        assert e.code in {"corrupt", "zero_length", "empty", "not_audio", "silent"}, str(e)
        return
    assert len(a.waveform) > 0


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40)
probs = st.lists(st.floats(0.001, 1.0), min_size=9, max_size=9).map(lambda v: np.array(v) / np.sum(v))


@st.composite
def results(draw):
    p = draw(probs)
    steps = draw(st.integers(0, 30))
    frames = None
    if steps:
        rows = np.random.default_rng(draw(st.integers(0, 99))).dirichlet(np.ones(9), steps)
        frames = FrameTimeline(
            np.arange(steps) * 0.1, rows, 0.1, 0.1, [TimelineSegment(0.0, steps * 0.1, KEYS[0], 0.5)]
        )
    emb = None
    if draw(st.booleans()):
        shape = (draw(st.integers(1, 8)), 4) if frames is not None else (draw(st.integers(1, 16)),)
        emb = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    return Result(
        probs=p,
        granularity="frame" if frames is not None else "utterance",
        band=band_for(float(p.max())),
        compound=compound_for(p),
        segments=[SegmentResult(0.0, 1.0, p)],
        model=ModelRef("demo", "memory", True),
        audio={"duration_s": 1.0},
        settings={"granularity": "utterance"},
        frames=frames,
        embedding=emb,
        source_name=draw(names),
        warnings=draw(st.lists(names, max_size=2)),
    )


@settings(max_examples=40, deadline=10000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(result=results(), seconds=st.floats(0.0, 0.5))
def test_every_run_folder_written_is_complete_and_valid(tmp_path, result, seconds):
    wave_in = np.sin(np.arange(int(seconds * 16000)) / 3).astype(np.float32)
    run = save_run(tmp_path / "runs", run_content(result, wave_in))
    doc = json.loads((run / "result.json").read_text(encoding="utf-8"), parse_constant=_no_constant)
    assert doc["run_id"] == run.name and doc["source"] == result.source_name
    assert math.isclose(sum(doc["scores"].values()), 1.0, abs_tol=1e-4)
    with wave.open(str(run / "processed_audio.wav")) as w:
        assert w.getnframes() == len(wave_in)
    if result.frames is not None:
        rows = list(csv.reader(io.StringIO((run / "frames.csv").read_text())))
        assert len(rows) == 1 + len(result.frames.starts_s) and len(rows[0]) == 4 + 9
    if result.embedding is not None:
        assert np.array_equal(np.load(run / "embedding.npy", allow_pickle=False), result.embedding)
    assert not [p for p in (tmp_path / "runs").iterdir() if p.name.startswith(".")]


@settings(max_examples=50, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(obj=st.recursive(st.none() | st.booleans() | st.floats() | st.text() | st.integers(),
                        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
                        max_leaves=12))  # fmt: skip
def test_write_json_writes_valid_json_or_nothing(tmp_path, obj):
    path = tmp_path / "x.json"
    path.unlink(missing_ok=True)
    try:
        atomic.write_json(path, obj)
    except ValueError:  # NaN / Infinity somewhere: refused, and no file (or temp file) is left
        assert not path.exists() and not list(tmp_path.glob(".*.tmp"))
        return
    back = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    assert json.dumps(back, sort_keys=True) == json.dumps(obj, sort_keys=True)


def _no_constant(name: str):
    raise AssertionError(f"invalid JSON constant {name}")


@pytest.mark.parametrize("seconds", [0.0, 2.5])
def test_write_wav_is_atomic_and_complete(tmp_path, seconds):
    x = np.sin(np.arange(int(seconds * 16000)) / 7).astype(np.float32)
    audio.write_wav(tmp_path / "a.wav", x)
    with wave.open(str(tmp_path / "a.wav")) as w:
        assert (w.getnframes(), w.getframerate(), w.getsampwidth()) == (len(x), 16000, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]
