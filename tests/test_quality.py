import json

import numpy as np
import pytest
from audio_factory import encode
from signals import SR, babble, mix, pink, tone, voice, white

from emostudio.audio import SourceInfo, decode
from emostudio.quality import QualityThresholds, assess, clipping_ratio, integrated_loudness, noise_spectrum

pytestmark = pytest.mark.unit

NOISES = {"white": white, "pink": pink, "babble": babble}


def _source(rate=16000, codec="pcm_s16le"):
    return SourceInfo(
        path="x.wav", size_bytes=1, container="wav", codec=codec, sample_rate=rate, channels=1, duration_s=1.0
    )


def _clip(x: np.ndarray, fraction: float) -> np.ndarray:
    """Hard-clip the loudest `fraction` of samples, then put the clip level at 0.99 of full scale."""
    c = np.quantile(np.abs(x), 1 - fraction)
    return (np.clip(x, -c, c) / c * 0.99).astype(np.float32)


@pytest.mark.parametrize("noise", ["white", "pink", "babble"])
@pytest.mark.parametrize("snr_db", [0, 10, 20, 30])
def test_snr_with_pauses_is_measured_within_3_db(noise, snr_db):
    x, active = voice(8, seed=7)
    y = mix(x, active, NOISES[noise](len(x)), snr_db)
    snr = assess(y).get("snr")
    assert snr.value == pytest.approx(snr_db, abs=3.0)
    # at 0 dB the noise fills the clip (babble: the VAD finds no pause) and the spectral estimate decides
    assert ("spectral" if snr_db == 0 else "vad") in snr.label_en


@pytest.mark.parametrize("noise", ["white", "pink", "babble"])
@pytest.mark.parametrize("snr_db", [0, 10, 20, 30])
def test_snr_of_all_speech_clip_is_measured_within_3_db(noise, snr_db):
    x, active = voice(8, seed=8, pauses=False)
    y = mix(x, active, NOISES[noise](len(x)), snr_db)
    snr = assess(y).get("snr")
    assert snr.value == pytest.approx(snr_db, abs=3.0)
    assert ("spectral" if snr_db == 0 else "floor") in snr.label_en


@pytest.mark.parametrize("noise,max_err_db", [("white", 0.5), ("pink", 1.5)])
def test_noise_spectrum_reads_stationary_noise_at_its_mean_power(noise, max_err_db):
    n = NOISES[noise](5 * SR, seed=5)
    noise_bins, mean_bins = noise_spectrum(n)
    assert abs(10 * np.log10(noise_bins.sum() / mean_bins.sum())) <= max_err_db
    assert noise_spectrum(n[: SR - 1]) is None


def test_clean_voice_reads_above_30_db_and_snr_verdicts():
    x, active = voice(8, seed=7)
    report = assess(x)
    assert report.get("snr").value > 30 and report.get("snr").verdict == "ok"
    fluent, _ = voice(8, seed=8, pauses=False)
    assert assess(fluent).get("snr").value > 30
    assert assess(mix(x, active, white(len(x)), 25)).get("snr").verdict == "warn"
    noisy = assess(mix(x, active, white(len(x)), 10))
    assert noisy.get("snr").verdict == "bad"
    assert noisy.likely_explains_low_confidence()
    assert "SNR" in noisy.warning_line("en") and "15–30" in noisy.warning_line("en")
    assert "信噪比" in noisy.warning_line("zh")


def test_clipping_flagged_bad_and_clean_ok_including_after_mp3(tmp_path):
    x, _ = voice(6, seed=1)
    clipped, clean = _clip(x, 0.01), (x / np.abs(x).max() * 0.9).astype(np.float32)
    assert assess(clipped, _source()).get("clipping").verdict == "bad"
    assert assess(clean, _source()).get("clipping").verdict == "ok"
    assert clipping_ratio(clipped, lossy=False) == pytest.approx(0.01, rel=0.3)
    for name, sig, verdict in (("clipped", clipped, "bad"), ("clean", clean, "ok")):
        encode(tmp_path / f"{name}.mp3", sig, SR, "mp3")
        audio = decode(tmp_path / f"{name}.mp3")
        m = assess(audio.waveform, audio.source).get("clipping")
        assert m.verdict == verdict, (name, m)


def test_clipping_at_original_rate_is_measured_on_the_original_samples():
    import soxr

    x, _ = voice(4, seed=2)
    hi = _clip(soxr.resample(x, SR, 44100).astype(np.float32), 0.01)
    lo = soxr.resample(hi, 44100, SR).astype(np.float32)
    m = assess(lo, _source(44100), original=hi, original_rate=44100).get("clipping")
    assert m.verdict == "bad" and m.value == pytest.approx(1.0, rel=0.3)  # percent


def test_duration_edges():
    x, _ = voice(12, seed=3, pauses=False)
    t = QualityThresholds()
    verdict = {
        d: assess(x[: int(d * SR)], _source()).get("duration").verdict
        for d in (0.9, 1.1, 2.9, 3.1, 9.9, 10.1)
    }
    assert verdict == {0.9: "bad", 1.1: "warn", 2.9: "warn", 3.1: "ok", 9.9: "ok", 10.1: "warn"}
    assert t.duration_split_above_s == 30.0
    long = assess(np.tile(x, 3)[: int(31 * SR)], _source()).get("duration")
    assert long.verdict == "warn" and "split" in long.advice_en


def test_sample_rate_edges():
    x, _ = voice(4, seed=3)
    assert assess(x, _source(8000)).get("sample_rate").verdict == "bad"
    assert assess(x, _source(15999)).get("sample_rate").verdict == "bad"
    assert assess(x, _source(16000)).get("sample_rate").verdict == "ok"
    assert assess(x, _source(44100)).get("sample_rate").verdict == "ok"
    assert assess(x).get("sample_rate").verdict == "info"


def test_loudness_and_peak_edges():
    assert integrated_loudness(tone(1000, 3, 1.0)) == pytest.approx(-3.01, abs=0.1)  # BS.1770 reference
    x, _ = voice(5, seed=4)
    lufs = integrated_loudness(x)

    def at(target):
        return assess((x * 10 ** ((target - lufs) / 20)).astype(np.float32)).get("loudness")

    assert at(-40.5).verdict == "bad" and at(-39.5).verdict == "warn"
    assert at(-30.5).verdict == "warn" and at(-29.5).verdict == "ok"
    assert at(-20).value == pytest.approx(-20, abs=0.05)
    peak = float(np.abs(x).max())

    def peak_at(db):
        return assess((x / peak * 10 ** (db / 20)).astype(np.float32)).get("peak").verdict

    assert (peak_at(-30.5), peak_at(-29.5), peak_at(-20.5), peak_at(-19.5)) == ("bad", "warn", "warn", "ok")


def test_hum_and_dc_are_flagged():
    x, _ = voice(5, seed=5)
    assert assess(x).get("hum").verdict == "ok"
    hummed = x + tone(50, 5, 0.2)
    assert assess(hummed).get("hum").verdict in ("warn", "bad")
    assert assess(hummed).get("hum").value > -6
    assert assess(x + np.float32(0.06)).get("dc_offset").verdict == "bad"


def test_hints_music_and_none_for_speech():
    notes = np.concatenate([tone(f, 0.9, 0.3) + tone(2 * f, 0.9, 0.1) for f in (220, 247, 262, 294, 330)])
    hints = {h.name for h in assess(notes).hints}
    assert "music" in hints
    x, _ = voice(8, seed=6)
    assert "music" not in {h.name for h in assess(x).hints}


def test_hint_two_speakers():
    t = np.arange(int(1.2 * SR)) / SR
    parts = []
    for k in range(8):
        f0 = (100 if k % 2 else 260) * (1 + 0.03 * np.sin(2 * np.pi * 3 * t))
        ph = 2 * np.pi * np.cumsum(f0) / SR
        parts += [sum(np.sin(h * ph) / h for h in range(1, 6)) * 0.1, np.zeros(int(0.3 * SR))]
    hints = {h.name: h for h in assess(np.concatenate(parts).astype(np.float32)).hints}
    assert "multiple_speakers" in hints
    assert hints["multiple_speakers"].evidence["gap_semitones"] > 12


def test_report_serialises_and_worst_verdict():
    x, _ = voice(2, seed=9)
    report = assess(x, _source(8000, "mp3"))
    d = json.loads(json.dumps(report.to_dict()))
    assert d["verdict"] == "bad" == report.verdict
    names = [m["name"] for m in d["metrics"]]
    for n in (
        "sample_rate",
        "channels",
        "codec",
        "duration",
        "peak",
        "rms",
        "loudness",
        "clipping",
        "dc_offset",
        "snr",
        "speech_ratio",
        "dynamic_range",
        "hum",
    ):
        assert n in names
    assert all(m["advice_en"] and m["advice_zh"] for m in d["metrics"] if m["verdict"] in ("warn", "bad"))
    with pytest.raises(KeyError):
        report.get("nope")
