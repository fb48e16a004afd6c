"""Decode any audio (or the audio track of a video) to 16 kHz mono float32, with integrity checks.

PyAV (bundled ffmpeg) demuxes and decodes packet by packet; each decoded frame is downmixed to mono (mean of
all channels) and streamed through soxr to 16 kHz, so memory holds only the 16 kHz result (4 hours of it is
921 MB of float32) plus one frame. The duration limit is enforced while decoding: a file that declares or
decodes to more stops there with `TooLongError`, before the rest is read.

Every problem with an input raises a subclass of `emostudio.errors.AudioError` whose message names the file
and the cause, e.g. ``speech.mp3: file is truncated or corrupt (decoding failed at 2.3 s: ...)``. A damaged
but mostly readable file decodes with a warning in `Audio.warnings` (policy in `emostudio.audio.integrity`).
"""

from __future__ import annotations

import io
import logging
import os
from typing import cast

import av
import av.logging
import numpy as np
import soxr

from emostudio.audio import files, integrity
from emostudio.audio.arrays import check_silence, downmix, frame_to_array, hms, too_long
from emostudio.audio.errors import (
    CorruptAudioError,
    EmptyFileError,
    NonFiniteError,
    NotAudioError,
    TooLongError,
    UnreadableError,
    UnsupportedFormatError,
    ZeroLengthError,
)
from emostudio.audio.types import DEFAULT_MAX_DURATION_S, DEFAULT_SILENCE_DBFS, SAMPLE_RATE
from emostudio.errors import UsageError
from emostudio.records import Audio, SourceInfo

# ffmpeg's warnings and errors are gathered per decode (av.logging.Capture) as evidence of damage; outside a
# capture they would go to Python logging's last-resort handler (stderr), so they are kept quiet there.
av.logging.set_level(av.logging.WARNING)
av.logging.set_skip_repeated(False)  # the same warning for the next file is evidence too
logging.getLogger("libav").addHandler(logging.NullHandler())
logging.getLogger("libav").propagate = False

MAX_BAD_PACKETS = 1000  # a stream with more undecodable packets than this is given up on


def decode(
    source: str | os.PathLike | bytes,
    *,
    name: str | None = None,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    allow_silence: bool = False,
    silence_dbfs: float = DEFAULT_SILENCE_DBFS,
    keep_channels: bool = False,
) -> Audio:
    """Decode a file path or in-memory bytes to 16 kHz mono float32.

    `name` is used in messages and SourceInfo.path (default: the path, or "<bytes>").
    `keep_channels`: also keep each channel on its own (`Audio.channels`, one 16 kHz buffer per channel, each
    resampled exactly as a mono file of that channel would be); the mixed waveform is the same either way.
    Raises an AudioError subclass when the input is missing, not a regular file, unreadable, empty, not audio,
    unsupported, corrupt (or mostly missing), has zero samples, holds NaN/Inf, is longer than `max_duration_s`
    seconds, or (unless `allow_silence`) peaks below `silence_dbfs` dBFS after downmixing.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        name = name or "<bytes>"
        if not data:
            raise EmptyFileError(name, "file is empty (0 bytes)")
        opened: str | io.BytesIO = io.BytesIO(data)
        head, tail, size = data[: files.HEAD_BYTES], data[-files.TAIL_BYTES :], len(data)
    elif isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        if isinstance(path, bytes):
            raise UsageError(f"{path!r}: give the path as text (str or pathlib.Path), not bytes")
        name = name or path
        st = files.check_path(path, name)
        head, tail, whole = files.read_ends(path, name, st)
        size = st.st_size if whole is None else len(whole)
        opened = path if whole is None else io.BytesIO(whole)
    else:
        raise UsageError(
            f"cannot decode a {type(source).__name__}: give a file path or the file's bytes "
            "(numpy arrays go through emostudio.audio.from_array with their sample rate)"
        )
    if max_duration_s <= 0:
        raise UsageError(f"max_duration_s must be positive, got {max_duration_s}")

    with av.logging.Capture() as logs:
        try:
            container = av.open(opened, "r", metadata_errors="replace")
        except av.error.InvalidDataError as e:
            why = _last_error(logs) or _why(e)
            kind = files.media_kind(head)
            if kind:
                raise CorruptAudioError(
                    name,
                    f"file is truncated or corrupt (it starts like {kind} but ffmpeg cannot read it: {why})",
                ) from e
            raise NotAudioError(name, f"not an audio file (ffmpeg does not recognise the data: {why})") from e
        except av.error.FFmpegError as e:
            raise CorruptAudioError(name, f"file cannot be opened ({_last_error(logs) or _why(e)})") from e
        except OSError as e:
            raise UnreadableError(name, f"file cannot be read ({e.strerror or e})") from e
        with container:
            return _decode_container(
                container,
                logs,
                name,
                size,
                head,
                tail,
                max_duration_s,
                allow_silence,
                silence_dbfs,
                keep_channels,
            )


def _decode_container(
    container: av.container.InputContainer,
    logs: list,
    name: str,
    size: int,
    head: bytes,
    tail: bytes,
    max_duration_s: float,
    allow_silence: bool,
    silence_dbfs: float,
    keep_channels: bool = False,
) -> Audio:
    fmt = container.format.name
    if not container.streams.audio:
        found = ", ".join(f"{s.type}/{_codec_name(s)}" for s in container.streams) or "none"
        raise NotAudioError(
            name, f"not an audio file (no audio stream found; container: {fmt}, streams: {found})"
        )
    # PyAV types best() as any Stream; best("audio") returns an audio stream
    stream = cast(av.AudioStream | None, container.streams.best("audio")) or container.streams.audio[0]
    if stream.codec_context is None:
        raise UnsupportedFormatError(
            name, f"unsupported audio codec (ffmpeg has no decoder for it; container: {fmt})"
        )
    codec = _codec_name(stream)

    declared_s = _declared_duration_s(container, stream)
    if declared_s is not None and declared_s > max_duration_s:
        raise TooLongError(name, too_long(declared_s, max_duration_s, "declares"))

    damage = _container_damage(fmt, head, tail, size)
    sink = _MonoSink(name, max_duration_s, declared_s, keep_channels)
    _demux(container, stream, sink, logs, damage)
    waveform = sink.finish()
    decoded_s = sink.seconds
    exact = fmt == "mp3" and integrity.mp3_frame_count_header(head)
    error, warning = integrity.verdict(damage, decoded_s, declared_s, fmt, exact)
    if error:
        raise CorruptAudioError(name, error)
    if sink.samples == 0:
        raise ZeroLengthError(name, f"audio has zero length (no samples; container: {fmt}, codec: {codec})")
    if not allow_silence:
        check_silence(name, sink.peak, silence_dbfs)
    rate = sink.first_rate or stream.rate or 0
    channels = sink.first_channels or stream.channels or 0
    info = SourceInfo(name, size, fmt, codec, int(rate), int(channels), decoded_s)
    return Audio(waveform, SAMPLE_RATE, info, [warning] if warning else [], sink.channel_waveforms())


def _container_damage(fmt: str, head: bytes, tail: bytes, size: int) -> integrity.Damage:
    """What the file's own bytes say before decoding: a WAV shorter than it declares, an unfinished Ogg."""
    damage = integrity.Damage()
    if fmt == "wav" and integrity.wav_size_unset(head):
        damage.ignore.append("packet corrupt")  # a streamed WAV's last packet is short by nature
    if fmt == "wav":
        short = integrity.wav_data_shortfall(head, size)
        if short is not None:
            damage.problems.append(short[0])
            damage.present_fraction = short[1]
    if fmt == "ogg":
        unfinished = integrity.ogg_unfinished(tail, size)
        if unfinished:
            damage.problems.append(unfinished)
    return damage


def _demux(container, stream, sink: _MonoSink, logs: list, damage: integrity.Damage) -> None:
    """Decode every packet of `stream` into `sink`; unreadable or undecodable packets are counted in `damage`."""
    packets = container.demux(stream)
    first_bad: tuple[float, str] | None = None
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            break
        except av.error.EOFError:
            break
        except av.error.FFmpegError as e:
            damage.problems.append(f"reading failed at {sink.seconds:.1f} s ({_last_error(logs) or _why(e)})")
            break
        try:
            frames = packet.decode()
        except av.error.FFmpegError as e:
            damage.bad_packets += 1
            first_bad = first_bad or (sink.seconds, _last_error(logs) or _why(e))
            if damage.bad_packets > MAX_BAD_PACKETS:
                break
            continue
        for frame in frames:
            sink.add(frame)
        if len(logs) > 64:  # keep the evidence, not an unbounded list
            _gather(logs, damage)
    _gather(logs, damage)
    if first_bad is not None:
        more = f"; {damage.bad_packets} undecodable packets skipped" if damage.bad_packets > 1 else ""
        damage.problems.insert(0, f"decoding failed at {first_bad[0]:.1f} s ({first_bad[1]}){more}")


def _gather(logs: list, damage: integrity.Damage) -> None:
    """Move ffmpeg's captured log lines that show damage into `damage`, and empty the capture list."""
    for entry in logs:
        level, _, message = entry
        if integrity.ffmpeg_note(level, message, av.logging.ERROR):
            damage.note(message)
    del logs[:]


def _last_error(logs: list) -> str:
    errors = [m for level, _, m in logs if level <= av.logging.ERROR and "statistics:" not in m.lower()]
    return " ".join(errors[-1].split()) if errors else ""


class _Buffer:
    """A growing float32 array for the decoded 16 kHz samples, filled in place.

    Decoded frames are small (tens of ms); keeping them in a list and joining them at the end would leave the
    process holding twice the waveform (the freed pieces stay in the heap). The buffer is reserved up front
    (the declared duration, else 10 minutes, then doubling); pages never written are never resident.
    """

    def __init__(self, expected_samples: int):
        self.data = np.empty(max(expected_samples, SAMPLE_RATE), np.float32)
        self.size = 0

    def append(self, x: np.ndarray) -> None:
        end = self.size + len(x)
        if end > len(self.data):
            grown = np.empty(max(end, 2 * len(self.data)), np.float32)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = x
        self.size = end

    def view(self) -> np.ndarray:
        return self.data[: self.size]


class _MonoSink:
    """Collects decoded frames: downmix, integrity checks, streaming resample to 16 kHz into one buffer.

    With `keep_channels`, each channel also goes through its own mono resampler into its own buffer.
    """

    def __init__(
        self, name: str, max_duration_s: float, expected_s: float | None = None, keep_channels: bool = False
    ):
        self.name = name
        self.max_duration_s = max_duration_s
        reserve_s = min(max_duration_s, 1.05 * expected_s + 1.0) if expected_s else min(max_duration_s, 600.0)
        self.buffer = _Buffer(int(reserve_s * SAMPLE_RATE))
        self._reserve = int(reserve_s * SAMPLE_RATE)
        self.keep_channels = keep_channels
        self.channel_buffers: list[_Buffer] = []  # one per channel, only with keep_channels
        self._channel_resamplers: list[soxr.ResampleStream | None] = []
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
        if not rate:
            return
        if not self.first_rate:
            self.first_rate, self.first_channels = rate, frame.layout.nb_channels
        if rate != self._rate:  # first frame, or the stream changed rate mid-way
            self._flush()
            self._done_s, self._segment = self.seconds, 0
            self._rate = rate
            self._resampler = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1)
            self._channel_resamplers = [
                None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1)
                for _ in self.channel_buffers
            ]
        planes = frame_to_array(frame)  # (channels, samples)
        mono = downmix(planes)
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
            raise TooLongError(self.name, too_long(self.seconds, self.max_duration_s, "decodes to more than"))
        self.buffer.append(mono if self._resampler is None else self._resampler.resample_chunk(mono))
        if self.keep_channels:
            self._add_channels(planes)

    def _add_channels(self, planes: np.ndarray) -> None:
        if not self.channel_buffers:  # the first frame fixes the channel count
            self.channel_buffers = [_Buffer(self._reserve) for _ in range(planes.shape[0])]
            self._channel_resamplers = [
                None if self._rate == SAMPLE_RATE else soxr.ResampleStream(self._rate, SAMPLE_RATE, 1)
                for _ in self.channel_buffers
            ]
        if planes.shape[0] != len(self.channel_buffers):
            raise UnsupportedFormatError(
                self.name,
                f"the number of channels changes mid-stream ({len(self.channel_buffers)} → {planes.shape[0]} "
                f"at {self.seconds:.1f} s); analyse it with the channels mixed",
            )
        for buf, res, plane in zip(self.channel_buffers, self._channel_resamplers, planes, strict=True):
            x = np.ascontiguousarray(plane, dtype=np.float32)
            buf.append(x if res is None else res.resample_chunk(x))

    def _flush(self) -> None:
        if self._resampler is not None:
            self.buffer.append(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))
        for buf, res in zip(self.channel_buffers, self._channel_resamplers, strict=True):
            if res is not None:
                buf.append(res.resample_chunk(np.zeros(0, np.float32), last=True))

    def finish(self) -> np.ndarray:
        """The whole 16 kHz waveform (a view of the buffer: no second copy)."""
        self._flush()
        self._resampler = None
        self._channel_resamplers = [None] * len(self.channel_buffers)
        return self.buffer.view()

    def channel_waveforms(self) -> list[np.ndarray] | None:
        """Each channel's 16 kHz waveform (views, after `finish`), or None without keep_channels."""
        return [b.view() for b in self.channel_buffers] if self.keep_channels else None


def _declared_duration_s(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    """Duration the file claims for the audio stream (stream first, container as fallback), or None."""
    if stream.duration and stream.time_base and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


def _codec_name(stream: av.stream.Stream) -> str:
    ctx = stream.codec_context
    return ctx.codec.canonical_name if ctx is not None and ctx.codec is not None else "unknown"


def _why(e: av.error.FFmpegError) -> str:
    return " ".join((e.strerror or str(e)).split())


__all__ = ["decode", "hms"]
