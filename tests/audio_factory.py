"""Synthetic test audio: speech-like voiced signals, real encoded files in many formats, and broken files.

Everything is deterministic from a seed and made on the fly with PyAV (bundled ffmpeg), so tests need
no stored media. Import from tests as `from audio_factory import make_voice, encode, ...`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from scipy import signal

# fmt -> (container format, audio codec). Every codec here has an encoder in PyAV's bundled ffmpeg
# (checked with av.codecs_available); "ogg" uses ffmpeg's native, experimental vorbis encoder because
# this build has no libvorbis.
FORMATS: dict[str, tuple[str, str]] = {
    "wav": ("wav", "pcm_s16le"),
    "wav_f32": ("wav", "pcm_f32le"),
    "mp3": ("mp3", "libmp3lame"),
    "m4a": ("ipod", "aac"),
    "aac": ("adts", "aac"),
    "ogg": ("ogg", "vorbis"),
    "opus": ("opus", "libopus"),
    "flac": ("flac", "flac"),
    "webm": ("webm", "libopus"),
    "amr": ("amr", "libopencore_amrnb"),
    "wma": ("asf", "wmav2"),
    "mp4": ("mp4", "aac"),
    "mkv": ("matroska", "aac"),  # ffmpeg's matroska muxer rejects the flac encoder's output here
    "mov": ("mov", "aac"),
    "3gp": ("3gp", "libopencore_amrnb"),
}

# Name the decoder reports for each encoder (what SourceInfo.codec should say).
DECODED_CODEC = {"libmp3lame": "mp3", "libopus": "opus", "libopencore_amrnb": "amr_nb"}

# Channel counts a format can store when it cannot take 1-8 (the native vorbis encoder is stereo-only).
CHANNELS: dict[str, tuple[int, ...]] = {"mp3": (1, 2), "amr": (1,), "3gp": (1,), "wma": (1, 2), "ogg": (2,)}

_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 8: "7.1"}


@dataclass
class Encoded:
    """What `encode` actually wrote (codecs may force their own sample rate, e.g. opus 48 kHz, amr 8 kHz)."""

    path: Path
    fmt: str
    codec: str  # decoder name, e.g. "mp3", "aac", "opus"
    sample_rate: int  # Hz stored in the file
    channels: int


def make_voice(duration_s: float, sample_rate: int = 16000, seed: int = 0) -> np.ndarray:
    """Speech-like voiced signal: (samples,) float32, peak 0.5.

    A band-limited harmonic glottal source with a wandering pitch contour (100-250 Hz), shaped by three
    formant resonators that change vowel every syllable, a raised-cosine syllable envelope and short pauses.
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sample_rate))
    if n == 0:
        return np.zeros(0, np.float32)
    t = np.arange(n) / sample_rate
    # pitch: slow sinusoidal intonation plus a smoothed random walk, clipped to 100-250 Hz
    walk = np.cumsum(rng.normal(0, 1, n)) / np.sqrt(sample_rate)
    f0 = 165 + 60 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t + rng.uniform(0, 2 * np.pi)) + 40 * walk
    f0 = np.clip(f0, 100, 250)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    source = np.zeros(n)
    top = min(0.45 * sample_rate, 6000.0)  # harmonics up to 6 kHz (or Nyquist) carry the speech formants
    for k in range(1, int(top / 100) + 1):
        source += np.where(k * f0 < top, np.sin(k * phase) / k**1.2, 0.0)
    source += 0.02 * rng.normal(0, 1, n)  # aspiration

    vowels = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410)]
    out = np.zeros(n)
    pos = 0
    while pos < n:
        syl = int(rng.uniform(0.12, 0.3) * sample_rate)
        pause = int(rng.uniform(0.04, 0.25) * sample_rate) if rng.random() < 0.4 else 0
        seg = slice(pos, min(pos + syl, n))
        length = seg.stop - seg.start
        y = source[seg]
        for f in vowels[rng.integers(len(vowels))]:
            if f < 0.45 * sample_rate:
                b, a = _resonator(f * rng.uniform(0.9, 1.1), 80 + f / 20, sample_rate)
                y = signal.lfilter(b, a, y)
        out[seg] = y * np.hanning(length + 2)[1:-1]
        pos += syl + pause
    peak = np.max(np.abs(out))
    return (0.5 * out / peak).astype(np.float32) if peak > 0 else out.astype(np.float32)


def _resonator(freq: float, bandwidth: float, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-pole resonator at `freq` Hz with `bandwidth` Hz, unit gain at its peak (roughly)."""
    r = np.exp(-np.pi * bandwidth / sample_rate)
    theta = 2 * np.pi * freq / sample_rate
    a = np.array([1.0, -2 * r * np.cos(theta), r * r])
    return np.array([1 - r]), a


def tone(freq: float, duration_s: float, sample_rate: int, amplitude: float = 0.5) -> np.ndarray:
    """Pure sine: (samples,) float32."""
    t = np.arange(int(round(duration_s * sample_rate))) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def encode(path: str | os.PathLike, waveform: np.ndarray, sample_rate: int, fmt: str) -> Encoded:
    """Write `waveform` ((samples,) or (samples, channels), float in [-1, 1]) to `path` as `fmt`.

    `fmt` is a key of FORMATS. The codec's own rate limits apply (opus stores 48 kHz, amr 8 kHz);
    PyAV resamples on the way in. Returns what was written.
    """
    container_fmt, codec = FORMATS[fmt]
    x = np.asarray(waveform, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    channels = x.shape[1]
    if channels not in CHANNELS.get(fmt, tuple(_LAYOUTS)):
        raise ValueError(f"{fmt} cannot store {channels} channels")
    rate = _codec_rate(codec, sample_rate)
    path = Path(path)
    with av.open(str(path), "w", format=container_fmt) as out:
        stream = out.add_stream(
            codec, rate=rate, options={"strict": "experimental"} if codec == "vorbis" else {}
        )
        stream.layout = _LAYOUTS[channels]
        if codec == "libopencore_amrnb":
            stream.bit_rate = 12200
        elif codec in ("aac", "libmp3lame", "vorbis", "libopus", "wmav2"):
            stream.bit_rate = 64000 * min(channels, 2)
        fmt_name = stream.codec_context.format.name
        out.start_encoding()  # writes the header even when there are no samples
        for start in range(0, len(x), 4096):
            frame = _frame(x[start : start + 4096], sample_rate, channels, fmt_name)
            frame.pts = start  # timestamps let muxers record encoder priming (mp4 edit lists)
            frame.time_base = Fraction(1, sample_rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return Encoded(path, fmt, DECODED_CODEC.get(codec, codec), rate, channels)


def _codec_rate(codec: str, sample_rate: int) -> int:
    rates = av.codec.Codec(codec, "w").audio_rates
    if codec == "libopencore_amrnb":
        return 8000
    if codec == "libopus":  # opus always decodes at 48 kHz; store that so the file says what decoders give
        return 48000
    if not rates or sample_rate in rates:
        return sample_rate
    return 48000 if 48000 in rates else max(rates)


def _frame(chunk: np.ndarray, sample_rate: int, channels: int, codec_format: str) -> av.AudioFrame:
    """Packed float frame, or packed s16/f32 directly when the codec wants exactly that (keeps NaN intact)."""
    if codec_format == "flt":
        data, fmt = chunk.reshape(1, -1), "flt"
    elif codec_format == "s16" and channels <= 2:
        data, fmt = (np.clip(chunk, -1, 1) * 32767).round().astype(np.int16).reshape(1, -1), "s16"
    else:
        data, fmt = chunk.T.copy(), "fltp"
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=fmt, layout=_LAYOUTS[channels])
    frame.sample_rate = sample_rate
    return frame


# ---------------------------------------------------------------- broken files
# Each builder writes one bad input under `folder` and returns its path. BAD_FILES maps a name to
# (builder, the error `code` emostudio.audio must raise for it).


def bad_missing(folder: Path) -> Path:
    return folder / "does_not_exist.wav"


def bad_empty(folder: Path) -> Path:
    path = folder / "empty.wav"
    path.write_bytes(b"")
    return path


def bad_text(folder: Path) -> Path:
    path = folder / "notes.txt"
    path.write_text("Meeting notes\nThis is plain text, not audio.\n" * 20)
    return path


def bad_jpeg(folder: Path) -> Path:
    """A real (tiny) JPEG image renamed to .mp3: opens as an image, has no audio stream."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="image2pipe") as out:
        stream = out.add_stream("mjpeg", rate=1)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuvj420p"
        frame = av.VideoFrame.from_ndarray(np.full((16, 16, 3), 128, np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    path = folder / "photo.mp3"
    path.write_bytes(buf.getvalue())
    return path


def bad_video_only(folder: Path) -> Path:
    """An mp4 with one mpeg4 video stream and no audio."""
    path = folder / "silent_film.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for i in range(10):
            img = np.full((32, 32, 3), i * 20, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _truncated(folder: Path, fmt: str, keep: float = 0.4) -> Path:
    """The first `keep` of a real 2 s file's bytes: most of the audio is missing."""
    full = encode(folder / f"full.{fmt}", make_voice(2.0, 22050), 22050, fmt).path
    data = full.read_bytes()
    path = folder / f"truncated.{fmt}"
    path.write_bytes(data[: int(len(data) * keep)])
    full.unlink()
    return path


def bad_truncated_mp3(folder: Path) -> Path:
    return _truncated(folder, "mp3")


def bad_truncated_wav(folder: Path) -> Path:
    return _truncated(folder, "wav")


def bad_truncated_flac(folder: Path) -> Path:
    return _truncated(folder, "flac")


def bad_garbage_after_header(folder: Path) -> Path:
    """The first 4 KiB of a real flac file followed by random bytes."""
    full = encode(folder / "full.flac", make_voice(2.0, 22050), 22050, "flac").path
    head = full.read_bytes()[:4096]
    full.unlink()
    path = folder / "garbage.flac"
    path.write_bytes(head + np.random.default_rng(1).integers(0, 256, 60000, np.uint8).tobytes())
    return path


def bad_zero_samples(folder: Path) -> Path:
    return encode(folder / "zero.wav", np.zeros(0, np.float32), 16000, "wav").path


def bad_nan(folder: Path) -> Path:
    x = make_voice(1.0, 16000)
    x[8000:8100] = np.nan
    return encode(folder / "nan.wav", x, 16000, "wav_f32").path


def bad_inf(folder: Path) -> Path:
    x = make_voice(1.0, 16000)
    x[4000] = np.inf
    return encode(folder / "inf.wav", x, 16000, "wav_f32").path


def bad_all_zero(folder: Path) -> Path:
    return encode(folder / "zeros.wav", np.zeros(16000, np.float32), 16000, "wav").path


def bad_unknown_codec(folder: Path) -> Path:
    """A well-formed wav whose format tag (0x7777) names no codec ffmpeg knows."""
    path = encode(folder / "odd_codec.wav", make_voice(0.5, 16000), 16000, "wav").path
    data = bytearray(path.read_bytes())
    fmt_at = data.index(b"fmt ") + 8
    data[fmt_at : fmt_at + 2] = (0x7777).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


def understated_mp3(folder: Path, duration_s: float = 2.0) -> Path:
    """A valid mp3 whose Xing/Info header claims only 10 frames (~0.2 s): a header that lies about length."""
    path = encode(folder / "understated.mp3", make_voice(duration_s, 22050), 22050, "mp3").path
    data = bytearray(path.read_bytes())
    tag = max(data.find(b"Xing"), data.find(b"Info"))
    if tag < 0 or not int.from_bytes(data[tag + 4 : tag + 8], "big") & 1:
        raise RuntimeError("the mp3 muxer wrote no Xing/Info frame count to patch")
    data[tag + 8 : tag + 12] = (10).to_bytes(4, "big")
    path.write_bytes(bytes(data))
    return path


BAD_FILES = {
    "missing": (bad_missing, "missing"),
    "empty": (bad_empty, "empty"),
    "text": (bad_text, "not_audio"),
    "jpeg": (bad_jpeg, "not_audio"),
    "video_only": (bad_video_only, "not_audio"),
    "truncated_mp3": (bad_truncated_mp3, "corrupt"),
    "truncated_wav": (bad_truncated_wav, "corrupt"),
    "truncated_flac": (bad_truncated_flac, "corrupt"),
    "garbage_after_header": (bad_garbage_after_header, "corrupt"),
    "zero_samples": (bad_zero_samples, "zero_length"),
    "nan": (bad_nan, "non_finite"),
    "inf": (bad_inf, "non_finite"),
    "all_zero": (bad_all_zero, "silent"),
    "unknown_codec": (bad_unknown_codec, "unsupported"),
}
