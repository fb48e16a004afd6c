"""Float audio beyond full scale (issue 25 item 13): samples of ±1e30 are an out-of-range verdict, never "ok";
float64 beyond float32's range is a typed error; small overshoots (resampling, lossy decoders) only warn."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from audio_factory import make_voice
from hostile import wav_bytes

from emostudio.audio.errors import NonFiniteError

pytestmark = pytest.mark.unit

SR = 16000


def _voice(peak: float) -> np.ndarray:
    v = make_voice(2.0, SR, seed=5).astype(np.float64)
    return v / np.max(np.abs(v)) * peak


def _peak(doc: dict) -> dict:
    return next(m for m in doc["quality"]["metrics"] if m["name"] == "peak")


@pytest.mark.parametrize("kind", ["f32", "f64"])
def test_samples_of_1e30_are_out_of_range_not_ok(kind, recognizer, tmp_path):
    p = tmp_path / f"huge_{kind}.wav"
    p.write_bytes(wav_bytes(_voice(1e30), SR, kind))
    doc = recognizer.analyze(str(p)).to_dict()
    peak = _peak(doc)
    assert peak["verdict"] == "bad" and peak["value"] > 500 and "out of range" in peak["advice_en"]
    assert doc["quality"]["verdict"] == "bad"


def test_a_few_huge_spikes_in_normal_speech_are_not_ok(recognizer, tmp_path):
    x = _voice(0.5)
    x[[1000, 9000, 20000]] = [1e30, -1e30, 1e30]  # too short for a clipping plateau
    doc = recognizer.analyze(x.astype(np.float32), sample_rate=SR).to_dict()
    assert _peak(doc)["verdict"] == "bad" and doc["quality"]["verdict"] == "bad"
    assert "超出" in _peak(doc)["advice_zh"]


def test_small_overshoots_warn_and_full_scale_is_fine(recognizer):
    for peak, verdict in ((1.0, "ok"), (10 ** (3 / 20), "warn"), (10 ** (9 / 20), "bad")):
        doc = recognizer.analyze(_voice(peak).astype(np.float32), sample_rate=SR).to_dict()
        assert _peak(doc)["verdict"] == verdict, (peak, _peak(doc))


def test_float64_beyond_float32_is_a_typed_error_without_warnings(recognizer, tmp_path):
    p = tmp_path / "beyond.wav"
    p.write_bytes(wav_bytes(_voice(1e300), SR, "f64"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NonFiniteError, match="beyond.wav"):
            recognizer.analyze(str(p))


def test_the_cli_says_out_of_range(tiny_model_dir, tmp_path):
    p = tmp_path / "huge.wav"
    p.write_bytes(wav_bytes(_voice(1e30), SR, "f32"))
    cmd = [sys.executable, "-m", "emostudio", "analyze", str(p), "--model", str(tiny_model_dir), "--offline"]
    done = subprocess.run(
        [*cmd, "--device", "cpu", "--json", "--out", str(tmp_path / "o")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    doc = doc[0] if isinstance(doc, list) else doc
    assert _peak(doc)["verdict"] == "bad" and doc["quality"]["verdict"] == "bad"
