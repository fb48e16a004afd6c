"""Where live audio comes from on the command line: a file or URL read in (simulated) real time, or a microphone.

Every source yields (samples, channels) float32 chunks at its own rate; the LiveStream resamples.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import av
import numpy as np

from emostudio.audio import files
from emostudio.audio.arrays import frame_to_array
from emostudio.audio.errors import CorruptAudioError, NotAudioError, UnsupportedFormatError
from emostudio.errors import EmoStudioError, printable


class LiveInputError(EmoStudioError):
    """The live input cannot be opened or read (no microphone, no sounddevice/PortAudio, unreadable URL)."""

    code = "live_input"


@dataclass
class PcmSource:
    """An open source of live audio: its rate, channel count and a chunk iterator (call `close` when done)."""

    name: str
    sample_rate: int
    channels: int
    chunks: Iterator[np.ndarray]  # (samples, channels) float32
    realtime: bool  # True: the source itself runs in real time (microphone, network stream)
    _close: object = None

    def close(self) -> None:
        if callable(self._close):
            self._close()


def is_url(text: str) -> bool:
    return "://" in text and not text.lower().startswith("file://")


def open_file_or_url(source: str, speed: float = 1.0) -> PcmSource:
    """Decode `source` (a file path, or a URL ffmpeg can read) frame by frame.

    A file is paced to `speed` × real time (0: as fast as it decodes); a URL is live already and never paced.
    Raises an AudioError subclass for a bad file, LiveInputError for an unreadable URL.
    """
    url = is_url(source)
    if not url:
        files.check_path(os.fspath(source), source)
    try:
        container = av.open(source, "r", timeout=10.0 if url else None)
    except av.error.InvalidDataError as e:
        raise NotAudioError(source, f"not an audio file ffmpeg can read ({e})") from e
    except (av.error.FFmpegError, OSError) as e:
        if url:
            raise LiveInputError(f"{printable(source)}: cannot open the stream ({e})") from e
        raise CorruptAudioError(source, f"file cannot be opened ({e})") from e
    if not container.streams.audio:
        container.close()
        raise NotAudioError(source, "no audio stream in it")
    stream = cast(av.AudioStream | None, container.streams.best("audio")) or container.streams.audio[0]
    rate, channels = int(stream.rate or 0), int(stream.channels or 0)
    if not rate or not channels:
        container.close()
        raise UnsupportedFormatError(source, "the audio stream does not say its sample rate or channels")

    def chunks() -> Iterator[np.ndarray]:
        start = time.monotonic()
        sent = 0
        try:
            for frame in cast(Iterator[av.AudioFrame], container.decode(stream)):
                if frame.sample_rate != rate or frame.layout.nb_channels != channels:
                    raise UnsupportedFormatError(
                        source,
                        f"the stream changes from {rate} Hz × {channels} to {frame.sample_rate} Hz × "
                        f"{frame.layout.nb_channels} channels mid-way; live analysis needs one format",
                    )
                x = frame_to_array(frame).T
                if not url and speed > 0:
                    wait = start + sent / rate / speed - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                sent += len(x)
                yield x
        except av.error.FFmpegError as e:
            raise CorruptAudioError(source, f"decoding failed at {sent / rate:.1f} s ({e})") from e

    return PcmSource(source, rate, channels, chunks(), url, container.close)


def open_microphone(
    device: int | str | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    block_s: float = 0.1,
) -> PcmSource:
    """Record from a microphone with sounddevice (PortAudio). Raises LiveInputError when that is not possible."""
    try:
        import sounddevice as sd
    except (ImportError, OSError) as e:
        raise LiveInputError(
            "microphone input needs the 'live' extra and the PortAudio library: "
            "pip install 'emostudio[live]' and, on Debian/Ubuntu, apt-get install libportaudio2 "
            f"({type(e).__name__}: {e}). `emostudio live --input FILE` works without them."
        ) from e
    try:
        info = sd.query_devices(device, "input")
    except (ValueError, sd.PortAudioError) as e:
        raise LiveInputError(
            f"no input device {device!r} ({e}); `emostudio live --list-devices` lists them"
        ) from e
    rate = int(sample_rate or info["default_samplerate"])
    count = int(channels or min(2, int(info["max_input_channels"])) or 1)
    chunks: queue.Queue[np.ndarray | None] = queue.Queue()
    stopped = threading.Event()
    overflows = [0]

    def callback(indata, _frames, _time, status) -> None:
        if status.input_overflow:
            overflows[0] += 1
        chunks.put(np.array(indata, dtype=np.float32, copy=True))

    try:
        stream = sd.InputStream(
            device=device,
            channels=count,
            samplerate=rate,
            dtype="float32",
            blocksize=int(rate * block_s),
            callback=callback,
        )
        stream.start()
    except sd.PortAudioError as e:
        raise LiveInputError(f"cannot record from input device {info['name']!r} ({e})") from e

    def iterate() -> Iterator[np.ndarray]:
        while not stopped.is_set():
            with contextlib.suppress(queue.Empty):
                x = chunks.get(timeout=0.5)
                if x is not None:
                    yield x

    def close() -> None:
        stopped.set()
        stream.stop()
        stream.close()

    return PcmSource(str(info["name"]), rate, count, iterate(), True, close)


def list_devices() -> str:
    """The input devices sounddevice sees, one per line (LiveInputError without sounddevice/PortAudio)."""
    try:
        import sounddevice as sd
    except (ImportError, OSError) as e:
        raise LiveInputError(
            "listing microphones needs the 'live' extra and the PortAudio library: pip install "
            f"'emostudio[live]' and apt-get install libportaudio2 ({type(e).__name__}: {e})"
        ) from e
    lines = []
    for i, d in enumerate(sd.query_devices()):
        if d["max_input_channels"] > 0:
            lines.append(f"{i}: {d['name']} ({d['max_input_channels']} ch, {d['default_samplerate']:.0f} Hz)")
    return "\n".join(lines) or "no input devices found"
