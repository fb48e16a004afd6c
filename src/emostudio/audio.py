"""Decode any audio (or the audio track of a video) to 16 kHz mono float32, with integrity checks.

PyAV (bundled ffmpeg) demuxes and decodes; each decoded frame is downmixed to mono (mean of all channels)
and streamed through soxr to 16 kHz, so memory holds only the 16 kHz result (about 230 MB for 4 hours).
Every problem with an input raises a subclass of `emostudio.errors.AudioError` whose message names the
file and the cause, e.g. ``speech.mp3: file is truncated or corrupt (decoding failed at 2.3 s: ...)``.

Policy for damaged files: any decoder error is fatal (CorruptAudioError naming how far decoding got),
and so is decoding clearly less than the container declares (see `_shortfall_tolerance_s`).
"""

from __future__ import annotations

import io
import math
import os
import struct
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np
import soxr

from emostudio.atomic import atomic_open
from emostudio.errors import AudioError

SAMPLE_RATE = 16000
DEFAULT_MAX_DURATION_S = 4 * 3600.0
DEFAULT_SILENCE_DBFS = -100.0

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".wav", ".wave", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".flac", ".webm", ".amr",
        ".awb", ".wma", ".mp4", ".m4v", ".mkv", ".mka", ".mov", ".3gp", ".3g2", ".aif", ".aiff",
        ".aifc", ".caf", ".ac3", ".au", ".snd", ".spx", ".avi", ".ts", ".mts",
    }
)  # fmt: skip


class FileMissingError(AudioError):
    code = "missing"


class EmptyFileError(AudioError):
    code = "empty"


class NotAudioError(AudioError):
    code = "not_audio"


class UnsupportedFormatError(AudioError):
    code = "unsupported"


class CorruptAudioError(AudioError):
    code = "corrupt"


class ZeroLengthError(AudioError):
    code = "zero_length"


class NonFiniteError(AudioError):
    code = "non_finite"


class SilentAudioError(AudioError):
    code = "silent"


class TooLongError(AudioError):
    code = "too_long"


@dataclass
class SourceInfo:
    """What the input was before decoding."""

    path: str  # file path or given name
    size_bytes: int
    container: str  # e.g. "wav", "mp3", "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str  # e.g. "pcm_s16le", "mp3", "aac", "opus"
    sample_rate: int  # original Hz
    channels: int  # original channels
    duration_s: float  # decoded duration of the original, seconds

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Audio:
    """Decoded audio ready for the model."""

    waveform: np.ndarray  # (samples,) float32, mono, 16 kHz, in [-1, 1] as decoded (not normalised)
    sample_rate: int  # always SAMPLE_RATE
    source: SourceInfo

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / self.sample_rate


# ---------------------------------------------------------------- decoding


def decode(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    allow_silence: bool = False,
    silence_dbfs: float = DEFAULT_SILENCE_DBFS,
) -> Audio:
    """Decode a file path or in-memory bytes to 16 kHz mono float32.

    `name` is used in messages and SourceInfo.path (default: the path, or "<bytes>").
    Raises an AudioError subclass when the input is missing, empty, not audio, unsupported, corrupt,
    has zero samples, holds NaN/Inf, is longer than `max_duration_s` seconds, or (unless `allow_silence`)
    peaks below `silence_dbfs` dBFS after downmixing.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "<bytes>"
        data = bytes(source)
        size = len(data)
        if size == 0:
            raise EmptyFileError(name, "file is empty (0 bytes)")
        opened: str | io.BytesIO = io.BytesIO(data)
        head = data[:65536]
    else:
        path = Path(source)
        name = name or str(path)
        if not path.exists():
            raise FileMissingError(name, "file not found")
        if path.is_dir():
            raise NotAudioError(name, "not an audio file (it is a folder)")
        try:
            size = path.stat().st_size
            with open(path, "rb") as f:
                head = f.read(65536)
        except OSError as e:
            raise AudioError(name, f"file cannot be read ({e.strerror or e})") from e
        if size == 0:
            raise EmptyFileError(name, "file is empty (0 bytes)")
        opened = str(path)

    try:
        container = av.open(opened, "r")
    except av.error.InvalidDataError as e:
        raise NotAudioError(name, f"not an audio file (ffmpeg does not recognise the data: {_why(e)})") from e
    except av.error.FFmpegError as e:
        raise CorruptAudioError(name, f"file cannot be opened ({_why(e)})") from e
    with container:
        return _decode_container(container, name, size, head, max_duration_s, allow_silence, silence_dbfs)


def _decode_container(
    container: av.container.InputContainer,
    name: str,
    size: int,
    head: bytes,
    max_duration_s: float,
    allow_silence: bool,
    silence_dbfs: float,
) -> Audio:
    fmt = container.format.name
    if not container.streams.audio:
        found = ", ".join(f"{s.type}/{_codec_name(s)}" for s in container.streams) or "none"
        raise NotAudioError(
            name, f"not an audio file (no audio stream found; container: {fmt}, streams: {found})"
        )
    stream = container.streams.best("audio") or container.streams.audio[0]
    if stream.codec_context is None:
        raise UnsupportedFormatError(
            name, f"unsupported audio codec (ffmpeg has no decoder for it; container: {fmt})"
        )
    codec = _codec_name(stream)

    declared_s = _declared_duration_s(container, stream)
    if declared_s is not None and declared_s > max_duration_s:
        raise TooLongError(name, _too_long(declared_s, max_duration_s, "declares"))
    truncated_wav = _wav_truncation(head, size) if fmt == "wav" else None

    sink = _MonoSink(name, max_duration_s)
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                sink.add(frame)
    except av.error.FFmpegError as e:
        raise CorruptAudioError(
            name, f"file is truncated or corrupt (decoding failed at {sink.seconds:.1f} s: {_why(e)})"
        ) from e
    waveform = sink.finish()
    decoded_s = sink.seconds
    rate = sink.first_rate or stream.rate or 0
    channels = sink.first_channels or stream.channels or 0

    if truncated_wav:
        raise CorruptAudioError(
            name, f"file is truncated or corrupt ({truncated_wav}; decoded {decoded_s:.1f} s)"
        )
    if declared_s is not None and declared_s - decoded_s > _shortfall_tolerance_s(fmt, declared_s):
        if sink.samples == 0:
            problem = f"no audio could be decoded although the file declares {declared_s:.1f} s"
        else:
            problem = f"decoding stopped at {decoded_s:.1f} s of the {declared_s:.1f} s the file declares"
        raise CorruptAudioError(name, f"file is truncated or corrupt ({problem})")
    if sink.samples == 0:
        raise ZeroLengthError(name, f"audio has zero length (no samples; container: {fmt}, codec: {codec})")
    if not allow_silence:
        _check_silence(name, sink.peak, silence_dbfs)

    info = SourceInfo(name, size, fmt, codec, int(rate), int(channels), decoded_s)
    return Audio(waveform, SAMPLE_RATE, info)


class _MonoSink:
    """Collects decoded frames: downmix, integrity checks, streaming resample to 16 kHz."""

    def __init__(self, name: str, max_duration_s: float):
        self.name = name
        self.max_duration_s = max_duration_s
        self.chunks: list[np.ndarray] = []
        self.samples = 0  # at the original rate(s)
        self.seconds = 0.0
        self.peak = 0.0
        self.first_rate = 0
        self.first_channels = 0
        self._rate = 0
        self._done_s = 0.0  # seconds decoded before the current sample rate began
        self._segment = 0  # samples at the current sample rate
        self._resampler: soxr.ResampleStream | None = None

    def add(self, frame: av.AudioFrame) -> None:
        rate = frame.sample_rate
        if not self.first_rate:
            self.first_rate, self.first_channels = rate, frame.layout.nb_channels
        if rate != self._rate:  # first frame, or the stream changed rate mid-way
            self._flush()
            self._done_s, self._segment = self.seconds, 0
            self._rate = rate
            self._resampler = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1)
        mono = downmix(frame_to_array(frame))
        if not np.all(np.isfinite(mono)):
            bad = int(np.argmin(np.isfinite(mono)))
            raise NonFiniteError(
                self.name,
                f"audio contains NaN or infinite samples (first at {self.seconds + bad / rate:.2f} s)",
            )
        if len(mono):
            self.peak = max(self.peak, float(np.max(np.abs(mono))))
        self.samples += len(mono)
        self._segment += len(mono)
        self.seconds = self._done_s + self._segment / rate  # exact per segment, no float drift
        if self.seconds > self.max_duration_s:
            raise TooLongError(
                self.name, _too_long(self.seconds, self.max_duration_s, "decodes to more than")
            )
        self.chunks.append(mono if self._resampler is None else self._resampler.resample_chunk(mono))

    def _flush(self) -> None:
        if self._resampler is not None:
            self.chunks.append(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))

    def finish(self) -> np.ndarray:
        self._flush()
        self._resampler = None
        return (
            np.concatenate(self.chunks).astype(np.float32, copy=False)
            if self.chunks
            else np.zeros(0, np.float32)
        )


def frame_to_array(frame: av.AudioFrame) -> np.ndarray:
    """PyAV audio frame -> (channels, samples) float32 in [-1, 1], whatever the sample format."""
    x = frame.to_ndarray()
    channels = frame.layout.nb_channels
    if not frame.format.is_planar:
        x = x.reshape(-1, channels).T
    return _to_float(x)


def downmix(x: np.ndarray) -> np.ndarray:
    """(channels, samples) -> (samples,) float32 by the plain mean of all channels (LFE included).

    A stereo file with the signal in one channel and silence in the other thus comes out at half amplitude.
    """
    return x[0] if x.shape[0] == 1 else x.mean(axis=0, dtype=np.float32)


def _to_float(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.uint8:
        return (x.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(x.dtype, np.integer):
        return (x / float(2 ** (8 * x.dtype.itemsize - 1))).astype(np.float32)
    return x.astype(np.float32, copy=False)


def _declared_duration_s(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    """Duration the file claims for the audio stream (stream first, container as fallback), or None."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


# Demuxers that often estimate duration from the bitrate (VBR mp3 without a Xing header, raw ADTS aac):
# their declared durations can be well off, so they get a looser truncation threshold.
_ESTIMATED_DURATION_FORMATS = {"mp3", "aac", "ac3", "eac3", "amr", "amrnb", "mpeg"}


def _shortfall_tolerance_s(fmt: str, declared_s: float) -> float:
    """How many seconds short of the declared duration a decode may end before we call it truncated."""
    fraction = 0.3 if fmt in _ESTIMATED_DURATION_FORMATS else 0.1
    return max(0.5, fraction * declared_s)


def _wav_truncation(head: bytes, size: int) -> str | None:
    """ffmpeg silently clamps a WAV data chunk to the file size; compare the header's claim ourselves."""
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return None
    endian = "<" if head[:4] == b"RIFF" else ">"
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        (chunk_size,) = struct.unpack(endian + "I", head[pos + 4 : pos + 8])
        if chunk_id == b"data":
            if chunk_size in (0, 0xFFFFFFFF):  # streaming writers leave the size unset
                return None
            present = size - (pos + 8)
            if present < chunk_size:
                return f"data chunk declares {chunk_size} bytes, only {present} present"
            return None
        pos += 8 + chunk_size + (chunk_size & 1)
    return None


def _check_silence(name: str, peak: float, silence_dbfs: float) -> None:
    peak_dbfs = 20 * math.log10(peak) if peak > 0 else -math.inf
    if peak_dbfs < silence_dbfs:
        level = "all samples are exactly zero" if peak == 0 else f"peak {peak_dbfs:.1f} dBFS"
        raise SilentAudioError(name, f"audio is digital silence ({level}; threshold {silence_dbfs:.0f} dBFS)")


def _too_long(seconds: float, limit_s: float, verb: str) -> str:
    return f"audio is too long (file {verb} {_hms(seconds)}; limit {_hms(limit_s)})"


def _hms(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    h, rest = divmod(int(round(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def _codec_name(stream: av.stream.Stream) -> str:
    ctx = stream.codec_context
    return ctx.codec.canonical_name if ctx is not None and ctx.codec is not None else "unknown"


def _why(e: av.error.FFmpegError) -> str:
    return e.strerror or str(e)


# ---------------------------------------------------------------- arrays


def from_array(
    waveform: np.ndarray,
    sample_rate: int,
    *,
    name: str = "<array>",
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    allow_silence: bool = False,
    silence_dbfs: float = DEFAULT_SILENCE_DBFS,
) -> Audio:
    """Wrap a (samples,) or (samples, channels) float or integer array at `sample_rate` Hz.

    Integer samples are scaled by their full range (int16 / 32768). The same checks, downmix and resampling
    as `decode` apply.
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
    if not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise UnsupportedFormatError(
            name, f"sample rate must be a positive integer in Hz, got {sample_rate!r}"
        )
    channels = 1 if x.ndim == 1 else x.shape[1]
    samples = x.shape[0]
    if samples == 0 or channels == 0:
        raise ZeroLengthError(name, f"audio has zero length (array shape {x.shape})")
    duration_s = samples / sample_rate
    if duration_s > max_duration_s:
        raise TooLongError(name, _too_long(duration_s, max_duration_s, "is"))
    mono = downmix(_to_float(x.reshape(samples, channels).T))
    if not np.all(np.isfinite(mono)):
        bad = int(np.argmin(np.isfinite(mono)))
        raise NonFiniteError(
            name, f"audio contains NaN or infinite samples (first at {bad / sample_rate:.2f} s)"
        )
    if not allow_silence:
        _check_silence(name, float(np.max(np.abs(mono))), silence_dbfs)
    info = SourceInfo(name, int(x.nbytes), "array", str(x.dtype), int(sample_rate), channels, duration_s)
    return Audio(resample(mono, int(sample_rate)), SAMPLE_RATE, info)


def resample(waveform: np.ndarray, from_rate: int, to_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Resample (samples,) or (samples, channels) float audio with soxr (high quality); returns float32."""
    x = np.asarray(waveform, dtype=np.float32)
    if from_rate == to_rate:
        return x
    return soxr.resample(x, from_rate, to_rate, quality="HQ").astype(np.float32, copy=False)


# ---------------------------------------------------------------- writing


def write_wav(path: str | os.PathLike, waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write (samples,) float audio as 16-bit PCM mono WAV, clipped to [-1, 1]; atomic (temp file + rename)."""
    x = np.asarray(waveform, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"write_wav wants (samples,) mono audio, got shape {x.shape}")
    pcm = (np.clip(np.nan_to_num(x), -1.0, 1.0) * 32767.0).round().astype("<i2")
    with atomic_open(path, "wb") as f, wave.open(f, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
