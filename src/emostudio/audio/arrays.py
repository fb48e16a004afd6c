"""Sample arrays: format conversion, downmix, resampling, wrapping a caller's array, writing WAV."""

from __future__ import annotations

import math
import os
import struct

import av
import numpy as np
import soxr

from emostudio.atomic import atomic_open
from emostudio.audio.errors import (
    NonFiniteError,
    SilentAudioError,
    TooLongError,
    UnsupportedFormatError,
    ZeroLengthError,
)
from emostudio.audio.types import DEFAULT_MAX_DURATION_S, DEFAULT_SILENCE_DBFS, SAMPLE_RATE
from emostudio.records import Audio, SourceInfo


def frame_to_array(frame: av.AudioFrame) -> np.ndarray:
    """PyAV audio frame -> (channels, samples) float32 in [-1, 1], whatever the sample format."""
    x = frame.to_ndarray()
    channels = frame.layout.nb_channels
    if not frame.format.is_planar:
        x = x.reshape(-1, channels).T
    return to_float(x)


def downmix(x: np.ndarray) -> np.ndarray:
    """(channels, samples) -> (samples,) float32 by the plain mean of all channels (LFE included).

    A stereo file with the signal in one channel and silence in the other thus comes out at half amplitude.
    """
    return x[0] if x.shape[0] == 1 else x.mean(axis=0, dtype=np.float32)


def to_float(x: np.ndarray) -> np.ndarray:
    """Integer samples scaled by their full range (u8 around 128, int16 / 32768, ...); floats as float32."""
    if x.dtype == np.uint8:
        return (x.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(x.dtype, np.integer):
        return (x / float(2 ** (8 * x.dtype.itemsize - 1))).astype(np.float32)
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf: refused as non-finite
        return x.astype(np.float32, copy=False)


def check_silence(name: str, peak: float, silence_dbfs: float) -> None:
    peak_dbfs = 20 * math.log10(peak) if peak > 0 else -math.inf
    if peak_dbfs < silence_dbfs:
        level = "all samples are exactly zero" if peak == 0 else f"peak {peak_dbfs:.1f} dBFS"
        raise SilentAudioError(name, f"audio is digital silence ({level}; threshold {silence_dbfs:.0f} dBFS)")


def too_long(seconds: float, limit_s: float, verb: str) -> str:
    return f"audio is too long (file {verb} {hms(seconds)}; limit {hms(limit_s)})"


def hms(seconds: float) -> str:
    """`12.3 s` under a minute, else `h:mm:ss`."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    h, rest = divmod(int(round(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def from_array(
    waveform: np.ndarray,
    sample_rate: int,
    *,
    name: str = "<array>",
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    allow_silence: bool = False,
    silence_dbfs: float = DEFAULT_SILENCE_DBFS,
    keep_channels: bool = False,
) -> Audio:
    """Wrap a (samples,) or (samples, channels) float or integer array at `sample_rate` Hz.

    Integer samples are scaled by their full range (int16 / 32768). The same checks, downmix and resampling
    as `decode` apply. `keep_channels`: also keep each channel, resampled on its own (`Audio.channels`).
    """
    x = np.asarray(waveform)
    if x.ndim not in (1, 2):
        raise UnsupportedFormatError(
            name, f"array must be (samples,) or (samples, channels), got shape {x.shape}"
        )
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise UnsupportedFormatError(name, f"array must hold float or integer samples, got dtype {x.dtype}")
    if x.ndim == 2 and x.shape[1] > 64 and x.shape[0] <= 64:
        raise UnsupportedFormatError(
            name, f"array of shape {x.shape} looks like (channels, samples); pass (samples, channels)"
        )
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer) or sample_rate <= 0:
        raise UnsupportedFormatError(
            name, f"sample rate must be a positive integer in Hz, got {sample_rate!r}"
        )
    channels = 1 if x.ndim == 1 else x.shape[1]
    samples = x.shape[0]
    if samples == 0 or channels == 0:
        raise ZeroLengthError(name, f"audio has zero length (array shape {x.shape})")
    duration_s = samples / sample_rate
    if duration_s > max_duration_s:
        raise TooLongError(name, too_long(duration_s, max_duration_s, "is"))
    mono = downmix(to_float(x.reshape(samples, channels).T))
    if not np.all(np.isfinite(mono)):
        bad = int(np.argmin(np.isfinite(mono)))
        raise NonFiniteError(
            name, f"audio contains NaN or infinite samples (first at {bad / sample_rate:.2f} s)"
        )
    if not allow_silence:
        check_silence(name, float(np.max(np.abs(mono))), silence_dbfs)
    info = SourceInfo(name, int(x.nbytes), "array", str(x.dtype), int(sample_rate), channels, duration_s)
    kept = None
    if keep_channels:
        planes = to_float(x.reshape(samples, channels).T)
        kept = [resample(np.ascontiguousarray(p), int(sample_rate)) for p in planes]
    return Audio(resample(mono, int(sample_rate)), SAMPLE_RATE, info, channels=kept)


def resample(waveform: np.ndarray, from_rate: int, to_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Resample (samples,) or (samples, channels) float audio with soxr (high quality); returns float32."""
    x = np.asarray(waveform, dtype=np.float32)
    if from_rate == to_rate:
        return x
    return soxr.resample(x, from_rate, to_rate, quality="HQ").astype(np.float32, copy=False)


def wav_header(frames: int, sample_rate: int) -> bytes:
    """The 44-byte RIFF header of a 16-bit PCM mono WAV of `frames` samples."""
    data = 2 * frames
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        *(b"RIFF", 36 + data, b"WAVE", b"fmt ", 16, 1, 1, sample_rate, 2 * sample_rate, 2, 16, b"data", data),
    )


def write_wav(path: str | os.PathLike, waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write (samples,) float audio as 16-bit PCM mono WAV, clipped to [-1, 1]; atomic (temp file + rename).

    Converted in blocks, so a long recording needs no second full-size copy in memory. The header is written
    first with the known length (the `wave` module writes it on close, which raises again when a write was
    interrupted — Ctrl-C would end as a wave error).
    """
    x = np.asarray(waveform, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"write_wav wants (samples,) mono audio, got shape {x.shape}")
    with atomic_open(path, "wb") as f:
        f.write(wav_header(len(x), int(sample_rate)))
        for start in range(0, len(x), 1 << 20):
            block = np.nan_to_num(x[start : start + (1 << 20)])
            f.write((np.clip(block, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes())
