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
