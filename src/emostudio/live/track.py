"""One signal of a live stream (the mix, or one channel): resampled to 16 kHz, the recent window kept in
memory, everything spooled to an unnamed temporary file for the closing pass, and a streaming VAD.

Memory per track is bounded: the last window (plus what arrived since it), the VAD's recent decisions and a
few counters; the whole stream lives only in the spool file (float32, 64 kB per second), which has no name in
the file system, so it disappears with the process whatever happens.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np
import soxr
import torch

from emostudio.live.events import SegmentTrack
from emostudio.records import SAMPLE_RATE
from emostudio.segment import new_vad_model

VAD_CHUNK = 512  # samples at 16 kHz (32 ms): what silero-vad takes per call
HANGOVER = 4  # chunks (128 ms) below the lower threshold that end a speech run


class StreamingVad:
    """silero-vad run chunk by chunk with its own model instance (its recurrent state is this stream's).

    Chunks quieter than `quiet_dbfs` count as non-speech without running the model. Keeps its decisions
    until `trim` says they are no longer needed.
    """

    def __init__(self, threshold: float = 0.5, quiet_dbfs: float = -60.0):
        self.model = new_vad_model()  # its own: the recurrent state is this stream's
        self.threshold = threshold
        self.quiet_power = 10 ** (quiet_dbfs / 10)
        self._pending = np.zeros(0, np.float32)
        self._done = 0  # chunks decided so far
        self._first = 0  # chunk index of decisions[0]
        self.decisions = np.zeros(0, bool)
        self._speaking = False
        self._below = 0  # chunks below the lower threshold since speech was last heard

    def add(self, x: np.ndarray) -> None:
        buf = np.concatenate([self._pending, x]) if len(self._pending) else x
        n = len(buf) // VAD_CHUNK
        threads = torch.get_num_threads()
        # one thread for this tiny model: with more, every 32 ms call wakes (and, on a busy machine, spins)
        # the whole OpenMP team, up to 100x slower; the setting is this thread's own and is put back below
        torch.set_num_threads(1)
        try:
            self._decide(buf, n)
        finally:
            torch.set_num_threads(threads)
        self._done += n
        self._pending = buf[n * VAD_CHUNK :].copy()

    def _decide(self, buf: np.ndarray, n: int) -> None:
        out = np.zeros(n, bool)
        with torch.inference_mode():
            for k in range(n):
                chunk = buf[k * VAD_CHUNK : (k + 1) * VAD_CHUNK]
                if float(np.mean(np.square(chunk, dtype=np.float64))) < self.quiet_power:
                    prob = 0.0
                else:
                    prob = float(self.model(torch.from_numpy(np.ascontiguousarray(chunk)), SAMPLE_RATE))
                # as silero's get_speech_timestamps: speech starts above threshold and ends only after
                # HANGOVER chunks below threshold - 0.15 (the file path's 100 ms minimum silence)
                if prob >= self.threshold:
                    self._speaking, self._below = True, 0
                elif self._speaking and prob < self.threshold - 0.15:
                    self._below += 1
                    self._speaking = self._below < HANGOVER
                out[k] = self._speaking
        self.decisions = np.concatenate([self.decisions, out])

    def speech_s(self, start: int, end: int) -> float:
        """Seconds of speech among the chunks lying within samples [start, end) (16 kHz sample indices)."""
        a = max(math.ceil(start / VAD_CHUNK), self._first)
        b = min(end // VAD_CHUNK, self._first + len(self.decisions))
        if b <= a:
            return 0.0
        return int(self.decisions[a - self._first : b - self._first].sum()) * VAD_CHUNK / SAMPLE_RATE

    def trim(self, before: int) -> None:
        """Forget the decisions of chunks that end before sample `before` (16 kHz index)."""
        drop = min(max(0, before // VAD_CHUNK - self._first), len(self.decisions))
        if drop:
            self.decisions = self.decisions[drop:].copy()
            self._first += drop


class Spool:
    """An append-only float32 file with no name (unlinked at once), read back as a memory map."""

    def __init__(self, folder: str | os.PathLike | None = None):
        if folder is not None:
            os.makedirs(folder, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix=".emostudio-live-", suffix=".f32", dir=folder)
        os.unlink(path)  # freed by the kernel when closed, even if this process is killed
        self.file = os.fdopen(fd, "w+b")
        self.samples = 0

    def write(self, x: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(x, dtype="<f4").tobytes())
        self.samples += len(x)

    def read(self) -> np.ndarray:
        """The whole spool as a (samples,) float32 array backed by the file (copy-on-write, never saved)."""
        self.file.flush()
        if self.samples == 0:
            return np.zeros(0, np.float32)
        return np.memmap(self.file, dtype="<f4", mode="c", shape=(self.samples,))

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()


class Track:
    """One signal: input samples at `rate` → 16 kHz → recent buffer + spool (+ VAD when `live`)."""

    def __init__(
        self,
        index: int | None,
        role: str | None,
        rate: int,
        *,
        live: bool,
        vad: StreamingVad | None,
        spool_dir: str | os.PathLike | None,
        min_segment_s: float,
    ):
        self.index, self.role, self.live = index, role, live
        self.resampler = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1)
        self.buf = np.zeros(0, np.float32)
        self.buf_start = 0  # 16 kHz sample index of buf[0]
        self.total = 0  # 16 kHz samples so far
        self.peak = 0.0
        self.energy = 0.0  # sum of squares, float64
        self.spool = Spool(spool_dir)
        self.vad = vad
        self.segments = SegmentTrack(min_segment_s)
        self.labeled_until_s = 0.0  # the segments cover [0, labeled_until_s]
        self.last_label: str | None = None
        self.last_sent_s: float | None = None
        self.copy_of: int | None = None  # live copy detection: this channel repeats another one
        self.last_chunk = np.zeros(0, np.float32)  # the 16 kHz samples added by the latest `add`

    def add(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        """Take input samples (samples,) float32 at the stream's rate; returns the new 16 kHz samples."""
        if self.resampler is not None:
            y = self.resampler.resample_chunk(np.ascontiguousarray(x, dtype=np.float32), last=last)
            y = np.asarray(y, dtype=np.float32)
        else:
            y = np.asarray(x, dtype=np.float32)
        if len(y):
            self.spool.write(y)
            self.buf = np.concatenate([self.buf, y])
            self.peak = max(self.peak, float(np.max(np.abs(y))))
            self.energy += float(np.dot(y.astype(np.float64), y.astype(np.float64)))
            if self.vad is not None:
                self.vad.add(y)
            self.total += len(y)
        self.last_chunk = y
        return y

    def finish(self) -> None:
        """Flush the resampler's tail (end of stream)."""
        if self.resampler is not None:
            self.add(np.zeros(0, np.float32), last=True)
            self.resampler = None

    def window(self, start: int, end: int) -> np.ndarray:
        """Samples [start, end) (16 kHz indices); they must still be in the recent buffer."""
        a, b = start - self.buf_start, end - self.buf_start
        if a < 0 or b > len(self.buf):
            raise RuntimeError(
                f"window [{start}, {end}) is no longer buffered (buffer from {self.buf_start})"
            )
        return self.buf[a:b]

    def trim(self, keep_from: int) -> None:
        """Forget buffered samples before `keep_from` (16 kHz index)."""
        drop = min(max(0, keep_from - self.buf_start), len(self.buf))
        if drop:
            self.buf = self.buf[drop:].copy()
            self.buf_start += drop
        if self.vad is not None:
            self.vad.trim(keep_from)

    def rms_dbfs(self, start: int, end: int) -> float:
        x = self.window(max(start, self.buf_start), end).astype(np.float64)
        p = float(np.mean(x**2)) if len(x) else 0.0
        return 10 * math.log10(p) if p > 0 else -math.inf

    def close(self) -> None:
        self.spool.close()
