"""PCM chunks as a live stream receives them: sample formats, rates, channel layouts, checks.

A chunk is raw little-endian bytes in a stated format (`s16le` 16-bit integers or `f32le` 32-bit floats,
channels interleaved) or a numpy array (samples,) / (samples, channels) of integers (scaled by their full
range) or floats. Everything becomes (samples, channels) float32.
"""

from __future__ import annotations

import numpy as np

from emostudio.audio.arrays import to_float
from emostudio.errors import EmoStudioError, UsageError

FORMATS: dict[str, np.dtype] = {"s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}
FORMAT_ALIASES = {
    "s16": "s16le",
    "int16": "s16le",
    "pcm16": "s16le",
    "pcm_s16le": "s16le",
    "f32": "f32le",
    "float32": "f32le",
    "pcm_f32le": "f32le",
}
MIN_RATE_HZ, MAX_RATE_HZ = 8000, 192000
MAX_INPUT_CHANNELS = 8


class FrameError(EmoStudioError):
    """A chunk of a live stream cannot be read (wrong size for its format, NaN/Inf, wrong channel count)."""

    code = "bad_frame"


def check_format(fmt: object) -> str:
    """The canonical name (s16le | f32le) of a sample format; UsageError for anything else."""
    name = FORMAT_ALIASES.get(str(fmt).lower(), str(fmt).lower()) if isinstance(fmt, str) else None
    if name not in FORMATS:
        raise UsageError(
            f"unsupported sample format {fmt!r}: send 16-bit PCM ('s16le') or 32-bit float ('f32le'), "
            "little-endian, channels interleaved"
        )
    return name


def check_rate(rate: object) -> int:
    """The sample rate as an int in [8000, 192000] Hz; UsageError otherwise."""
    if isinstance(rate, bool) or not isinstance(rate, int | np.integer | float):
        raise UsageError(f"sample_rate must be a whole number of Hz, got {rate!r}")
    if isinstance(rate, float) and not rate.is_integer():
        raise UsageError(f"sample_rate must be a whole number of Hz, got {rate!r}")
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        raise UsageError(
            f"unsupported sample rate {rate!r} Hz: live streams take {MIN_RATE_HZ}-{MAX_RATE_HZ} Hz "
            "(16000 is what the model uses; other rates are resampled)"
        )
    return int(rate)


def check_input_channels(channels: object) -> int:
    if isinstance(channels, bool) or not isinstance(channels, int | np.integer):
        raise UsageError(f"channels must be a whole number from 1 to {MAX_INPUT_CHANNELS}, got {channels!r}")
    if not 1 <= channels <= MAX_INPUT_CHANNELS:
        raise UsageError(f"channels must be from 1 to {MAX_INPUT_CHANNELS}, got {channels}")
    return int(channels)


def from_bytes(data: bytes | bytearray | memoryview, fmt: str, channels: int) -> np.ndarray:
    """Interleaved little-endian PCM bytes → (samples, channels) float32. FrameError for a ragged chunk."""
    dtype = FORMATS[fmt]
    frame = dtype.itemsize * channels
    if len(data) % frame:
        raise FrameError(
            f"a binary frame of {len(data)} bytes is not a whole number of samples: {fmt} with {channels} "
            f"channel{'s' if channels > 1 else ''} needs a multiple of {frame} bytes"
        )
    x = np.frombuffer(bytes(data), dtype=dtype).reshape(-1, channels)
    return checked(to_float(x))


def from_array(chunk: np.ndarray, channels: int | None) -> np.ndarray:
    """(samples,) or (samples, channels) integer or float array → (samples, channels) float32."""
    x = np.asarray(chunk)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise FrameError(f"a chunk must be (samples,) or (samples, channels), got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise FrameError(f"a chunk must hold integer or float samples, got dtype {x.dtype}")
    if channels is not None and x.shape[1] != channels:
        raise FrameError(f"a chunk has {x.shape[1]} channels; this stream has {channels}")
    if x.shape[1] > MAX_INPUT_CHANNELS:
        raise FrameError(
            f"a chunk of shape {x.shape} has {x.shape[1]} channels (at most {MAX_INPUT_CHANNELS}); "
            "pass (samples, channels)"
        )
    return checked(to_float(x))


def checked(x: np.ndarray) -> np.ndarray:
    """`x` unchanged, or FrameError when it holds NaN or infinite samples."""
    if not np.all(np.isfinite(x)):
        raise FrameError("a chunk contains NaN or infinite samples")
    return x


def from_wav_bytes(data: bytes) -> tuple[int, int, np.ndarray]:
    """A WAV chunk as a browser recorder streams it → (rate Hz, channels, (samples, channels) float32).

    Tolerant of what streaming writers do: the RIFF and data sizes may be unset (0xFFFFFFFF) or wrong, so the
    samples are everything after the data header, cut to whole frames. PCM 8/16/24/32-bit and float 32/64.
    Raises FrameError for anything that is not such a WAV.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise FrameError("a live chunk is not a WAV file (no RIFF/WAVE header)")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if cid == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise FrameError("a live chunk has a truncated WAV format header")
            tag = int.from_bytes(data[body : body + 2], "little")
            channels = int.from_bytes(data[body + 2 : body + 4], "little")
            rate = int.from_bytes(data[body + 4 : body + 8], "little")
            bits = int.from_bytes(data[body + 14 : body + 16], "little")
            if tag == 0xFFFE and size >= 40:  # WAVE_FORMAT_EXTENSIBLE: the sub-format's first two bytes
                tag = int.from_bytes(data[body + 24 : body + 26], "little")
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            if fmt is None:
                raise FrameError("a live chunk has its WAV data before the format header")
            tag, channels, rate, bits = fmt
            dtype = {(1, 8): "u1", (1, 16): "<i2", (1, 32): "<i4", (3, 32): "<f4", (3, 64): "<f8"}.get(
                (tag, bits)
            )
            if channels < 1 or channels > MAX_INPUT_CHANNELS or rate <= 0:
                raise FrameError(f"a live chunk says {channels} channels at {rate} Hz")
            raw = data[body:]
            if (tag, bits) == (1, 24):
                n = len(raw) // (3 * channels) * 3 * channels
                b = np.frombuffer(raw[:n], np.uint8).reshape(-1, 3)
                ints = (
                    b[:, 0].astype(np.int32) | b[:, 1].astype(np.int32) << 8 | b[:, 2].astype(np.int32) << 16
                )
                ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
                return (
                    rate,
                    channels,
                    checked((ints / float(1 << 23)).astype(np.float32).reshape(-1, channels)),
                )
            if dtype is None:
                raise FrameError(f"a live chunk has an unsupported WAV encoding (format {tag}, {bits} bits)")
            width = np.dtype(dtype).itemsize * channels
            x = np.frombuffer(raw[: len(raw) // width * width], dtype=dtype).reshape(-1, channels)
            return rate, channels, checked(to_float(x))
        pos = body + size + (size & 1)
    raise FrameError("a live chunk has no WAV data")
