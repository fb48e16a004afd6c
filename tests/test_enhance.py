import argparse
import json

import numpy as np
import pytest
from signals import SR, mix, pink, tone, voice, white

from emostudio.audio import decode, write_wav
from emostudio.cli import enhance_cmd, quality_cmd
from emostudio.enhance import EnhanceSettings, enhance, high_pass, normalise_peak
from emostudio.quality import assess, estimate_snr
from emostudio.segment import Span, speech_spans

pytestmark = pytest.mark.unit


def _level_db(x: np.ndarray) -> float:
    x = x[SR // 2 : -SR // 2]  # away from the filter's edges
    return 10 * np.log10(np.mean(x.astype(np.float64) ** 2))


def test_high_pass_removes_hum_and_keeps_speech_band():
    hum, speech_band = tone(50, 3), tone(1000, 3)
    assert _level_db(hum) - _level_db(high_pass(hum)) >= 20
    assert abs(_level_db(speech_band) - _level_db(high_pass(speech_band))) < 0.5
    with pytest.raises(ValueError, match="cutoff"):
        high_pass(hum, cutoff_hz=9000)


@pytest.mark.parametrize("noise", [white, pink])
def test_denoise_raises_snr_of_a_10_db_mixture_by_6_db(noise):
    x, active = voice(8, seed=3)
    y = mix(x, active, noise(len(x)), 10)
    spans = speech_spans(y)
    out = enhance(y, spans=spans)
    before, _ = estimate_snr(y, spans)
    after, _ = estimate_snr(out.waveform, spans)
    assert after - before >= 6
    assert out.noise_source == "vad"
    assert out.steps == ["high-pass 100 Hz", "denoise (vad)", "peak -1 dBFS"]


@pytest.mark.parametrize("target", [-1.0, -2.0, -3.0])
def test_normalisation_hits_the_target_and_never_clips(target):
    x, active = voice(4, seed=4)
    loud = (mix(x, active, white(len(x)), 20) * 12).astype(np.float32)  # far beyond full scale
    assert np.abs(loud).max() > 1
    for y in (normalise_peak(loud, target), enhance(loud, EnhanceSettings(peak_dbfs=target)).waveform):
        peak = np.abs(y).max()
        assert 20 * np.log10(peak) == pytest.approx(target, abs=0.1)
        assert peak <= 10 ** (target / 20) and peak <= 1.0
    with pytest.raises(ValueError, match="≤ 0 dBFS"):
        normalise_peak(x, 1.0)


def test_noise_profile_sources_and_switches():
    x, active = voice(6, seed=5)
    n = white(len(x), seed=9)
    y = mix(x, active, n, 10)
    ranged = enhance(y, EnhanceSettings(noise_from=(0.0, 0.25)))
    assert ranged.noise_source == "range 0–0.25 s" and "denoise (range 0–0.25 s)" in ranged.steps
    scale = y[: int(0.25 * SR)].std() / n[: int(0.25 * SR)].std()
    profiled = enhance(y, EnhanceSettings(noise_profile=white(SR, seed=11) * scale))
    assert profiled.noise_source == "file"
    spans = speech_spans(y)
    for out in (ranged, profiled):
        assert estimate_snr(out.waveform, spans)[0] - estimate_snr(y, spans)[0] >= 6
    only_hp = enhance(y, EnhanceSettings(denoise=False, normalise=False))
    assert only_hp.steps == ["high-pass 100 Hz"] and only_hp.noise_source == "off"
    nothing = enhance(y, EnhanceSettings(denoise=False, normalise=False, highpass=False))
    assert nothing.steps == [] and np.array_equal(nothing.waveform, y)
    with pytest.raises(ValueError, match="noise range"):
        enhance(y, EnhanceSettings(noise_from=(50.0, 51.0)))


def test_no_non_speech_means_no_denoise_step():
    x, _ = voice(3, seed=6, pauses=False)
    out = enhance(x, spans=[Span(0.0, 3.0)])
    assert out.noise_source == "none (no non-speech found)"
    assert not any(s.startswith("denoise") for s in out.steps)


def _cli(module, argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    module.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def test_quality_cli_reports_each_file_and_survives_a_bad_one(tmp_path, capsys):
    x, active = voice(5, seed=7)
    write_wav(tmp_path / "good.wav", mix(x, active, white(len(x)), 10))
    (tmp_path / "bad.wav").write_bytes(b"not audio at all")
    rc = _cli(quality_cmd, ["quality", str(tmp_path / "good.wav"), str(tmp_path / "bad.wav"), "--json"])
    assert rc == 1
    out = json.loads(capsys.readouterr().out)
    assert out[0]["quality"]["metrics"] and "error" not in out[0]
    assert "bad.wav" in out[1]["error"]
    snr = next(m for m in out[0]["quality"]["metrics"] if m["name"] == "snr")
    assert snr["verdict"] == "bad"
    assert _cli(quality_cmd, ["quality", str(tmp_path / "good.wav")]) == 0
    text = capsys.readouterr().out
    assert "✗" in text and "SNR" in text and "15–30" in text


def test_enhance_cli_writes_the_file_and_shows_before_after(tmp_path, capsys):
    x, active = voice(5, seed=8)
    src = tmp_path / "noisy.wav"
    write_wav(src, mix(x, active, white(len(x)), 10) + tone(50, 5, 0.05))
    out = tmp_path / "out" / "clean.wav"
    assert _cli(enhance_cmd, ["enhance", str(src), "-o", str(out), "--peak", "-2"]) == 0
    text = capsys.readouterr().out
    assert "before" in text and "SNR" in text and "hum" in text.lower()
    y = decode(out).waveform
    assert 20 * np.log10(np.abs(y).max()) == pytest.approx(-2, abs=0.1)
    spans = speech_spans(decode(src).waveform)
    assert (
        assess(y, spans=spans).get("snr").value
        > assess(decode(src).waveform, spans=spans).get("snr").value + 6
    )
    assert (
        _cli(enhance_cmd, ["enhance", str(src), "-o", str(tmp_path / "r.wav"), "--noise-from", "0-0.25"]) == 0
    )
    assert "range 0–0.25 s" in capsys.readouterr().out
    assert _cli(enhance_cmd, ["enhance", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "m.wav")]) == 1
    assert "missing.wav" in capsys.readouterr().err
    assert not (tmp_path / "m.wav").exists()
