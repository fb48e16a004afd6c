"""emostudio.audio: real files in many formats decode to 16 kHz mono; broken inputs raise typed errors."""

from __future__ import annotations

import wave

import numpy as np
import pytest
from audio_factory import BAD_FILES, FORMATS, encode, make_voice, tone, understated_mp3

from emostudio import audio
from emostudio.errors import AudioError

pytestmark = pytest.mark.unit

DURATION_S = 1.0

# (fmt, rate Hz, channels): every format at least once, every rate and channel count across the matrix.
MATRIX = [
    ("wav", 8000, 1),
    ("wav", 22050, 2),
    ("wav", 44100, 6),
    ("wav", 48000, 1),
    ("mp3", 8000, 1),
    ("mp3", 22050, 2),
    ("mp3", 44100, 2),
    ("mp3", 48000, 1),
    ("m4a", 22050, 1),
    ("m4a", 44100, 6),
    ("aac", 48000, 2),
    ("aac", 22050, 1),
    ("m4a", 8000, 1),
    ("ogg", 44100, 2),
    ("ogg", 22050, 2),
    ("opus", 48000, 1),
    ("opus", 22050, 2),
    ("flac", 8000, 6),
    ("flac", 48000, 2),
    ("webm", 48000, 6),
    ("webm", 44100, 1),
    ("amr", 8000, 1),
    ("wma", 44100, 2),
    ("wma", 22050, 1),
    ("mp4", 44100, 2),
    ("mkv", 48000, 6),
    ("mov", 8000, 2),
    ("3gp", 8000, 1),
]
LOSSLESS = {"wav", "wav_f32", "flac"}


def test_matrix_covers_every_format_rate_and_channel_count():
    assert {f for f, _, _ in MATRIX} == set(FORMATS) - {"wav_f32"}
    assert {r for _, r, _ in MATRIX} == {8000, 22050, 44100, 48000}
    assert {c for _, _, c in MATRIX} == {1, 2, 6}


def _rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


@pytest.mark.parametrize(("fmt", "rate", "channels"), MATRIX, ids=[f"{f}-{r}-{c}ch" for f, r, c in MATRIX])
def test_real_file_decodes_to_16k_mono(tmp_path, fmt, rate, channels):
    voice = make_voice(DURATION_S, rate, seed=3)
    enc = encode(tmp_path / f"speech.{fmt}", np.repeat(voice[:, None], channels, axis=1), rate, fmt)

    a = audio.decode(enc.path)

    assert a.sample_rate == audio.SAMPLE_RATE == 16000
    assert a.waveform.dtype == np.float32 and a.waveform.ndim == 1
    tolerance_s = 1 / rate + 1e-3 if fmt in LOSSLESS else 0.06
    if (
        fmt == "aac"
    ):  # raw ADTS cannot record the encoder's priming and end padding (a 1024-sample frame each)
        tolerance_s += 2048 / rate
    assert abs(a.duration_s - DURATION_S) <= tolerance_s, a.duration_s
    assert abs(a.source.duration_s - DURATION_S) <= tolerance_s
    src = a.source
    assert (src.codec, src.sample_rate, src.channels) == (enc.codec, enc.sample_rate, channels)
    assert src.size_bytes == enc.path.stat().st_size and src.path == str(enc.path)
    reference = audio.resample(voice, rate)
    if fmt in LOSSLESS:  # same samples up to 16-bit quantisation
        n = min(len(reference), len(a.waveform))
        np.testing.assert_allclose(a.waveform[:n], reference[:n], atol=2e-4)
    else:  # lossy: the speech is there at about the right level
        assert abs(_rms_db(a.waveform) - _rms_db(reference)) < 2.0


def test_container_and_to_dict(tmp_path):
    enc = encode(tmp_path / "clip.m4a", make_voice(0.5, 44100), 44100, "m4a")
    info = audio.decode(enc.path).source.to_dict()
    assert info["container"] == "mov,mp4,m4a,3gp,3g2,mj2"
    assert set(info) == {"path", "size_bytes", "container", "codec", "sample_rate", "channels", "duration_s"}


def test_bytes_input_matches_file_input(tmp_path):
    enc = encode(tmp_path / "clip.flac", make_voice(0.5, 22050), 22050, "flac")
    from_file = audio.decode(enc.path)
    from_bytes = audio.decode(enc.path.read_bytes(), name="upload.flac")
    np.testing.assert_array_equal(from_file.waveform, from_bytes.waveform)
    assert from_bytes.source.path == "upload.flac"
    assert from_bytes.source.container == "flac"


def test_stereo_downmix_is_channel_mean(tmp_path):
    voice = make_voice(DURATION_S, 16000, seed=5)
    left_only = np.stack([voice, np.zeros_like(voice)], axis=1)
    a = audio.decode(encode(tmp_path / "left.wav", left_only, 16000, "wav").path)
    np.testing.assert_allclose(a.waveform, 0.5 * voice, atol=1e-4)


def test_six_channel_downmix_is_channel_mean(tmp_path):
    voice = make_voice(DURATION_S, 16000, seed=6)
    x = np.zeros((len(voice), 6), np.float32)
    x[:, 2] = voice  # centre channel of 5.1
    x[:, 0] = 0.5 * voice
    a = audio.decode(encode(tmp_path / "surround.flac", x, 16000, "flac").path)
    np.testing.assert_allclose(a.waveform, 1.5 * voice / 6, atol=1e-4)
    assert a.source.channels == 6


def _fit_sine(x: np.ndarray, freq: float, rate: int) -> tuple[float, float]:
    """Least-squares amplitude of a `freq` sine in x, and the residual level relative to it (dB)."""
    t = np.arange(len(x)) / rate
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, x.astype(np.float64), rcond=None)
    residual = x - basis @ coef
    amplitude = float(np.hypot(*coef))
    return amplitude, 20 * np.log10(np.std(residual) * np.sqrt(2) / amplitude)


@pytest.mark.parametrize("via_file", [False, True])
def test_resampling_keeps_frequency_and_amplitude(tmp_path, via_file):
    x = tone(1000.0, 1.0, 44100, amplitude=0.5)
    if via_file:
        y = audio.decode(encode(tmp_path / "tone.wav", x, 44100, "wav_f32").path).waveform
    else:
        y = audio.resample(x, 44100)
    assert len(y) == 16000
    middle = y[1600:-1600]  # away from the filter's edges
    amplitude, residual_db = _fit_sine(middle, 1000.0, 16000)
    assert abs(20 * np.log10(amplitude / 0.5)) <= 0.1
    assert residual_db < -60  # nothing but a 1 kHz sine left
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.argmax(spectrum) == 1000  # 1 Hz bins over 1 s


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_input_raises_typed_error_naming_file(tmp_path, kind):
    build, code = BAD_FILES[kind]
    path = build(tmp_path)
    with pytest.raises(AudioError) as err:
        audio.decode(path)
    e = err.value
    assert e.code == code, str(e)
    assert type(e).code == code and type(e) is not AudioError
    assert e.path == str(path) and str(e).startswith(f"{path}: ")


def test_bad_input_messages_say_what_went_wrong(tmp_path):
    def message(kind: str) -> str:
        with pytest.raises(AudioError) as err:
            audio.decode(BAD_FILES[kind][0](tmp_path))
        return str(err.value)

    assert "file is empty (0 bytes)" in message("empty")
    assert "no audio stream found" in message("text")
    assert "no audio stream found" in message("video_only") and "video/mpeg4" in message("video_only")
    assert "truncated or corrupt" in message("truncated_mp3") and "of the 2.0 s" in message("truncated_mp3")
    assert "decoding failed at" in message("truncated_flac")
    assert "NaN or infinite" in message("nan") and "0.50 s" in message("nan")
    assert "digital silence" in message("all_zero")


def test_error_codes_are_distinct_audio_errors():
    classes = [
        audio.FileMissingError,
        audio.EmptyFileError,
        audio.NotAudioError,
        audio.UnsupportedFormatError,
        audio.CorruptAudioError,
        audio.ZeroLengthError,
        audio.NonFiniteError,
        audio.SilentAudioError,
        audio.TooLongError,
    ]
    assert all(issubclass(c, AudioError) for c in classes)
    assert len({c.code for c in classes}) == len(classes)


def test_empty_bytes_and_folder(tmp_path):
    with pytest.raises(audio.EmptyFileError, match=r"^upload\.wav: file is empty"):
        audio.decode(b"", name="upload.wav")
    with pytest.raises(audio.NotAudioError, match="folder"):
        audio.decode(tmp_path)


def test_silence_is_allowed_on_request_and_threshold_is_configurable(tmp_path):
    zeros = BAD_FILES["all_zero"][0](tmp_path)
    a = audio.decode(zeros, allow_silence=True)
    assert a.duration_s == pytest.approx(1.0) and not a.waveform.any()
    quiet = encode(
        tmp_path / "quiet.wav", tone(300, 0.5, 16000, amplitude=1e-3), 16000, "wav"
    ).path  # -60 dBFS
    audio.decode(quiet)
    with pytest.raises(audio.SilentAudioError, match=r"peak -(59|60)\.\d dBFS"):
        audio.decode(quiet, silence_dbfs=-50)


def test_too_long_from_declared_duration(tmp_path):
    path = encode(tmp_path / "long.wav", make_voice(2.0, 16000), 16000, "wav").path
    with pytest.raises(audio.TooLongError, match=r"declares 2\.0 s; limit 1\.0 s"):
        audio.decode(path, max_duration_s=1.0)
    assert audio.decode(path, max_duration_s=3.0).duration_s == pytest.approx(2.0)


def test_too_long_caught_while_decoding_when_header_understates(tmp_path):
    path = understated_mp3(tmp_path, duration_s=2.0)  # header claims ~0.2 s
    assert audio.decode(path).duration_s == pytest.approx(2.0, abs=0.06)
    with pytest.raises(audio.TooLongError, match=r"decodes to more than 1\.0 s"):
        audio.decode(path, max_duration_s=1.0)


def test_from_array_int16_stereo_and_checks():
    voice = make_voice(0.5, 8000)
    pcm = (np.stack([voice, voice], axis=1) * 32767).astype(np.int16)
    a = audio.from_array(pcm, 8000, name="mic")
    assert (a.sample_rate, a.source.sample_rate, a.source.channels, a.source.path) == (16000, 8000, 2, "mic")
    np.testing.assert_allclose(a.waveform, audio.resample(voice, 8000), atol=1e-3)
    with pytest.raises(audio.ZeroLengthError, match="^mic: "):
        audio.from_array(np.zeros(0, np.float32), 16000, name="mic")
    with pytest.raises(audio.NonFiniteError):
        audio.from_array(np.array([0.1, np.nan, 0.2], np.float32), 16000)
    with pytest.raises(audio.SilentAudioError):
        audio.from_array(np.zeros(1600, np.float32), 16000)
    with pytest.raises(audio.UnsupportedFormatError, match="looks like"):
        audio.from_array(np.zeros((2, 16000), np.float32), 16000)
    with pytest.raises(audio.UnsupportedFormatError, match="sample rate"):
        audio.from_array(voice, 0)
    with pytest.raises(audio.TooLongError):
        audio.from_array(voice, 8000, max_duration_s=0.1)


def test_write_wav_round_trip_is_16bit_mono_and_clipped(tmp_path):
    x = make_voice(0.5, 16000)
    x[100] = 3.0
    path = tmp_path / "out" / "clip.wav"
    audio.write_wav(path, x)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 16000, len(x))
    back = audio.decode(path).waveform
    assert back[100] == pytest.approx(1.0, abs=1e-4)
    x[100] = 1.0
    np.testing.assert_allclose(back, x, atol=1e-4)
    assert [p.name for p in path.parent.iterdir()] == ["clip.wav"]  # no temp files left


def test_audio_extensions_cover_listed_formats():
    for ext in (".wav", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm", ".amr", ".wma"):
        assert ext in audio.AUDIO_EXTENSIONS
    for ext in (".mp4", ".mkv", ".mov", ".3gp"):
        assert ext in audio.AUDIO_EXTENSIONS
    assert ".txt" not in audio.AUDIO_EXTENSIONS
