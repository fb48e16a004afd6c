"""LiveStream: PCM chunks in, an update every hop out, the whole-stream Result at the end.

    chunks (any rate, 1-8 channels, int16/float) → downmix (channels="mix") or one track per channel
    ("separate") → soxr streaming resampler → 16 kHz track: recent window in memory, all of it in a spool
    file, silero-vad chunk by chunk → every `hop_s`: the last `window_s` scored as one utterance (or labelled
    silence without the model) → LiveUpdate → at `close()`: the spooled stream prepared and scored exactly as
    a file in frame mode (emostudio.live.closing) → Result (+ run folder)

The stream is sans-IO: `push` takes audio, `take` hands out the windows due (as one `Prepared` whose spans
are the windows, so they are scored in one model call), `apply` turns their scores into updates. `feed` does
all three with the Recognizer on the calling thread; the server does the same through its model worker.
A window's scores equal `Recognizer.analyze` of the same 16 kHz samples, whatever the chunk sizes.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from emostudio.audio import TooLongError, TooShortError, ZeroLengthError
from emostudio.audio.arrays import check_silence, downmix, too_long
from emostudio.audio.types import DEFAULT_SILENCE_DBFS
from emostudio.channels import roles_for
from emostudio.engine import Engine
from emostudio.errors import EmoStudioError, InternalError, UsageError, printable
from emostudio.interpret import band_for
from emostudio.live import closing, pcm
from emostudio.live.copies import CopyWatch
from emostudio.live.events import SILENCE, LiveEvent, LiveNotice, LiveUpdate
from emostudio.live.options import FEED_WINDOWS, LiveOptions, LiveStats
from emostudio.live.track import StreamingVad, Track
from emostudio.model.labels import KEYS
from emostudio.options import AnalysisOptions, ResultAdapter
from emostudio.prepare import prepare
from emostudio.records import SAMPLE_RATE, Audio, Prepared, SourceInfo, Span
from emostudio.results import Result
from emostudio.runs import check_output_root
from emostudio.scoring import InputScores


@dataclass
class _HopItem:
    hop_end: int  # 16 kHz sample index: the end of the window
    received_at: float | None
    track: Track
    window_start: int
    silent: bool
    speech_s: float | None
    span: int | None  # index of its window among the batch's spans (None: silent, not scored)
    skipped: int = 0


@dataclass
class Batch:
    """Windows due for scoring: `prepared` (None when every due window is silent) and what each one is."""

    items: list[_HopItem]
    prepared: Prepared | None
    skipped: int = 0
    taken_at: float = field(default_factory=time.monotonic)


class LiveStream:
    """A live stream analysed as it arrives (create it with `Recognizer.stream(sample_rate, ...)`).

    sample_rate: Hz of the chunks (8000-192000). channels: "mix" (one speaker: the channels averaged) or
    "separate" (each channel its own speaker, `roles` names them). input_channels: channels per chunk (by
    default taken from the first chunk; bytes chunks need it when > 1). format: "s16le" or "f32le" for bytes
    chunks. name: the source name in results. spool_dir: where the stream's audio is kept for the closing
    pass (an unnamed temporary file; default: the system's temp folder). adapter: a loaded adapter whose
    reading the closing Result carries (default: the recognizer's own). Other keywords are LiveOptions.
    """

    def __init__(
        self,
        recognizer: Engine,
        sample_rate: int = SAMPLE_RATE,
        *,
        channels: str = "mix",
        input_channels: int | None = None,
        roles: str | list[str] | None = None,
        format: str = "s16le",
        name: str = "live",
        options: LiveOptions | None = None,
        spool_dir: str | os.PathLike | None = None,
        adapter: ResultAdapter | None = None,
        **overrides,
    ):
        self.recognizer = recognizer
        self.rate = pcm.check_rate(sample_rate)
        # the closing pass: the whole stream as a file in frame mode, channels and roles checked once
        self.analysis = AnalysisOptions(
            granularity="frame", channels=channels, roles=roles, adapter=adapter
        ).check()
        self.adapter = recognizer.adapter_for(self.analysis)  # read by the closing pass (checked here)
        self.mode = channels
        self.input_channels = None if input_channels is None else pcm.check_input_channels(input_channels)
        self.role_names = self.analysis.role_names
        self.format = pcm.check_format(format)
        self.name = str(name) or "live"
        opts = options or LiveOptions()
        if overrides:
            unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(LiveOptions)})
            if unknown:
                raise UsageError(f"unknown live stream option(s): {', '.join(unknown)}")
            opts = dataclasses.replace(opts, **overrides)
        opts.check()
        self.options = opts
        self.spool_dir = spool_dir
        self.hop_n = int(round(opts.hop_s * SAMPLE_RATE))
        self.win_n = int(round(opts.window_s * SAMPLE_RATE))
        self.recent_n = int(round(opts.recent_s * SAMPLE_RATE))
        first = int(round(opts.min_window_s * SAMPLE_RATE))
        self.next_hop = self.hop_n * max(1, math.ceil(first / self.hop_n - 1e-9))
        self.stats = LiveStats()
        self.mix: Track | None = None
        self.tracks: list[Track] = []  # the tracks that get updates (the mix, or one per channel)
        self.samples_in = 0  # frames received, at the input rate
        self.closed = False
        self._flushed = False  # flush_audio was called: no more audio
        self._seq = 0
        self._due: list[tuple[int, float | None]] = []
        self._notices: list[LiveNotice] = []
        self._copies = CopyWatch(opts.detect_copy_s)
        self._lock = threading.RLock()
        if self.input_channels is not None:
            self._start(self.input_channels)

    # ---- set-up ----------------------------------------------------------------------------------------------
    def _start(self, count: int) -> None:
        o = self.options
        separate = self.mode == "separate"
        vad = (lambda: StreamingVad(o.speech_threshold, o.quiet_dbfs)) if o.vad else (lambda: None)

        def track(index, role, live):
            return Track(
                index,
                role,
                self.rate,
                live=live,
                vad=vad() if live else None,
                spool_dir=self.spool_dir,
                min_segment_s=o.min_segment_s,
            )

        self.input_channels = count
        roles = roles_for(count, self.role_names, self.name) if separate else None
        self.roles = roles
        try:
            mix = self.mix = track(None, None, not separate)
            self.tracks = [track(i, roles[i], True) for i in range(count)] if roles is not None else [mix]
        except BaseException:
            self.release()
            raise

    @property
    def duration_s(self) -> float:
        """Seconds of audio received so far."""
        return self.samples_in / self.rate

    # ---- audio in --------------------------------------------------------------------------------------------
    def push(self, chunk: bytes | np.ndarray, received_at: float | None = None) -> int:
        """Take one chunk: bytes in the stream's format, or a (samples,) / (samples, channels) array.

        Returns how many hops are due for scoring. Raises FrameError for a chunk that cannot be read,
        TooLongError past `max_duration_s`, UsageError on a closed stream.
        """
        if self.closed or self._flushed:
            raise UsageError(f"{printable(self.name)}: the live stream is closed")
        with self._lock:
            if isinstance(chunk, bytes | bytearray | memoryview):
                frames = pcm.from_bytes(chunk, self.format, self.input_channels or 1)
            else:
                frames = pcm.from_array(chunk, self.input_channels)
            if self.mix is None:
                self._start(frames.shape[1])
            mix = self.mix
            if mix is None:  # not reached: _start made it or raised
                raise InternalError(f"{printable(self.name)}: the stream has no mix track")
            if not len(frames):
                return len(self._due)
            seconds = (self.samples_in + len(frames)) / self.rate
            if seconds > self.options.max_duration_s:
                raise TooLongError(self.name, too_long(seconds, self.options.max_duration_s, "runs"))
            self.samples_in += len(frames)
            planes = frames.T  # (channels, samples), as the file decoder downmixes
            mix.add(downmix(planes))
            if self.mode == "separate":
                for t in self.tracks:
                    t.add(planes[t.index])
                self._notices += self._copies.watch(self.tracks)
            self._count_due(received_at)
            return len(self._due)

    def _count_due(self, received_at: float | None) -> None:
        end = self.tracks[0].total
        while self.next_hop <= end:
            self._due.append((self.next_hop, received_at))
            self.next_hop += self.hop_n
            self.stats.hops += 1

    def flush_audio(self) -> int:
        """End of audio: the resamplers' last samples go in (they may complete a last hop); no more `push`.

        Returns how many hops are due.
        """
        with self._lock:
            if not self._flushed and self.mix is not None:
                self._flushed = True
                for t in {id(t): t for t in [self.mix, *self.tracks]}.values():
                    t.finish()
                self._count_due(time.monotonic())
            self._flushed = True
            return len(self._due)

    def flush(self) -> list[LiveEvent]:
        """End of audio, with the updates of the hops that completes (score them on this thread)."""
        self.flush_audio()
        events: list[LiveEvent] = []
        while (batch := self.take(limit=FEED_WINDOWS)) is not None:
            events += self.apply(batch, self.score_windows(batch))
        return events + self.notices()

    # ---- windows out -----------------------------------------------------------------------------------------
    def take(self, latest_only: bool | None = None, limit: int | None = None) -> Batch | None:
        """The hops due now (the oldest `limit` of them): silent ones decided, the others' windows gathered
        into one Prepared.

        `latest_only` (default: the option): only the newest due hop is scored, older ones are counted as
        skipped (a real-time consumer that fell behind catches up instead of lagging). Otherwise every due hop
        is scored, except that beyond `max_backlog` waiting hops the oldest are skipped.
        """
        with self._lock:
            if not self._due:
                return None
            latest = self.options.latest_only if latest_only is None else latest_only
            skipped = 0
            if latest:
                skipped = len(self._due) - 1
                del self._due[:-1]
            elif self.options.max_backlog and len(self._due) > self.options.max_backlog:
                skipped = len(self._due) - self.options.max_backlog
                del self._due[:skipped]
            count = len(self._due) if limit is None else max(1, min(limit, len(self._due)))
            hops = self._due[:count]
            del self._due[:count]
            self.stats.skipped += skipped
            total_skipped = skipped
            items: list[_HopItem] = []
            windows: list[np.ndarray] = []
            spans: list[Span] = []
            pos = 0
            for hop_end, received_at in hops:
                start = max(0, hop_end - self.win_n)
                for t in self.tracks:
                    if t.copy_of is not None:
                        continue
                    silent, speech = self._silent(t, hop_end)
                    index = None
                    if not silent:
                        w = t.window(start, hop_end)
                        windows.append(w)
                        spans.append(Span(pos / SAMPLE_RATE, (pos + len(w)) / SAMPLE_RATE))
                        index = len(spans) - 1
                        pos += len(w)
                    items.append(_HopItem(hop_end, received_at, t, start, silent, speech, index, skipped))
                skipped = 0  # the skipped hops are told once, with the first hop after them
            keep_from = (self._due[0][0] if self._due else self.next_hop) - self.win_n
            for t in self.tracks:
                t.trim(keep_from)
            prepared = None
            if windows:
                wave = np.concatenate(windows)
                info = SourceInfo(
                    self.name, 0, "stream", self.codec, self.rate, self.input_channels or 1, pos / SAMPLE_RATE
                )
                prepared = Prepared(f"{self.name} (live)", Audio(wave, SAMPLE_RATE, info), wave, spans)
            return Batch(items, prepared, total_skipped)

    @property
    def codec(self) -> str:
        return {"s16le": "pcm_s16le", "f32le": "pcm_f32le"}[self.format]

    def _silent(self, t: Track, hop_end: int) -> tuple[bool, float | None]:
        start = max(0, hop_end - self.recent_n)
        if t.peak == 0.0:
            return True, 0.0 if t.vad is not None else None
        if t.vad is not None:
            speech = t.vad.speech_s(start, hop_end)
            return speech < self.options.min_speech_s, speech
        return t.rms_dbfs(start, hop_end) < self.options.silence_dbfs, None

    def apply(self, batch: Batch, result: Result | None) -> list[LiveEvent]:
        """The updates for a taken batch, given the Result of scoring `batch.prepared` (None if it was None).

        Silent hops give an update when the silence starts and then once every `silence_every_s` only.
        """
        with self._lock:
            events: list[LiveEvent] = list(self._notices)
            self._notices.clear()
            bands = self.recognizer.settings.bands
            for it in batch.items:
                t = it.track
                end_s = it.hop_end / SAMPLE_RATE
                if it.silent:
                    label, scores, band, conf = SILENCE, None, None, None
                else:
                    if result is None or it.span is None:  # not reached: a scored hop has its window
                        raise InternalError(
                            f"{printable(self.name)}: a scored hop without its window's result"
                        )
                    scores = np.asarray(result.segments[it.span].probs)
                    label = KEYS[int(np.argmax(scores))]
                    conf = float(np.max(scores))
                    band = band_for(conf, bands)
                    self.stats.windows_scored += 1
                t.segments.add(label, t.labeled_until_s, end_s, conf)
                t.labeled_until_s = end_s
                quiet = (
                    it.silent
                    and t.last_label == SILENCE
                    and t.last_sent_s is not None
                    and end_s - t.last_sent_s < self.options.silence_every_s - 1e-9
                )
                t.last_label = label
                if quiet:
                    self.stats.silent_quiet += 1
                    continue
                t.last_sent_s = end_s
                self._seq += 1
                self.stats.updates += 1
                events.append(
                    LiveUpdate(
                        seq=self._seq,
                        time_s=end_s,
                        window_start_s=it.window_start / SAMPLE_RATE,
                        label=label,
                        scores=scores,
                        band=band,
                        segments=_snapshot(t.segments.segments),
                        segments_from=t.segments.take_changed(),
                        channel=t.index,
                        role=t.role,
                        skipped=it.skipped,
                        received_at=it.received_at,
                        speech_s=it.speech_s,
                    )
                )
            return events

    def notices(self) -> list[LiveNotice]:
        """Notices not yet handed out with updates (e.g. a copied channel found)."""
        with self._lock:
            out, self._notices = self._notices, []
            return out

    def feed(self, chunk: bytes | np.ndarray) -> list[LiveEvent]:
        """push + take + score (with the Recognizer, on this thread) + apply: the events this chunk completes."""
        received = time.monotonic()
        self.push(chunk, received)
        events: list[LiveEvent] = []
        while (batch := self.take(limit=FEED_WINDOWS)) is not None:
            events += self.apply(batch, self.score_windows(batch))
        return events + self.notices()

    def score_windows(self, batch: Batch) -> Result | None:
        """Score a batch's windows with the Recognizer (one model call for all of them)."""
        if batch.prepared is None:
            return None
        out = self.recognizer.results([batch.prepared], "utterance", False)[0]
        if isinstance(out, EmoStudioError):
            raise out
        return out

    # ---- the end ---------------------------------------------------------------------------------------------
    def finish(self) -> Prepared:
        """End of audio: flush the resamplers and prepare the whole stream as a file (VAD, quality, segments).

        Raises ZeroLengthError / TooShortError / SilentAudioError as a file with that audio would.
        """
        with self._lock:
            if self.closed:
                raise UsageError(f"{printable(self.name)}: the live stream is closed")
            if self.mix is None or self.samples_in == 0:
                raise ZeroLengthError(self.name, "the stream has no audio (no samples were received)")
            self.flush_audio()
            self._due.clear()
            s = self.recognizer.settings
            if self.mix.total / SAMPLE_RATE < s.min_duration_s:
                raise TooShortError(
                    self.name, f"the stream is too short ({1000 * self.mix.total / SAMPLE_RATE:.1f} ms)"
                )
            check_silence(self.name, self.mix.peak, DEFAULT_SILENCE_DBFS)
            width = pcm.FORMATS[self.format].itemsize
            info = SourceInfo(
                self.name,
                self.samples_in * (self.input_channels or 1) * width,
                "stream",
                self.codec,
                self.rate,
                self.input_channels or 1,
                self.duration_s,
            )
            separate = self.mode == "separate"
            audio = Audio(
                self.mix.spool.read(),
                SAMPLE_RATE,
                info,
                [],
                channels=[t.spool.read() for t in self.tracks] if separate else None,
            )
            return prepare(audio, s, self.analysis, name=self.name)

    def result_of(self, prepared: Prepared, parts: list[closing.Part], scores: list[InputScores]) -> Result:
        """The closing Result from the parts' segment scores (see emostudio.live.closing), with the stream's
        notes: assembled as `analyze(file, granularity="frame")` assembles the same audio."""
        result = self.recognizer.assemble(prepared, closing.join(parts, scores), "frame", False, self.adapter)
        o = self.options
        result.settings = {
            **result.settings,
            "live": {
                "hop_s": o.hop_s,
                "window_s": o.window_s,
                "channels": self.mode,
                "stats": vars(self.stats),
            },
        }
        if self.stats.skipped:
            result.warnings.append(
                f"{self.stats.skipped} of {self.stats.hops} live updates were skipped because scoring fell "
                "behind real time; this result covers the whole stream"
            )
        return result

    def close(self, output_dir: str | os.PathLike | None = None) -> Result:
        """End the stream: the whole stream's Result, as `analyze(..., granularity="frame")` gives for a file
        with this audio (with `result.channels` for channels="separate"). With `output_dir`, also writes the
        run folder. Frees the stream's buffers and spool files.
        """
        if output_dir is not None:
            check_output_root(output_dir)
        try:
            prepared = self.finish()
            parts = list(closing.plan(prepared, self.options.part_s))
            scores = []
            for part in parts:  # one model job per part, on this thread
                got = self.recognizer.segment_scores([part.prepared], "frame", False)[0]
                if isinstance(got, EmoStudioError):
                    raise got
                scores.append(got)
            result = self.result_of(prepared, parts, scores)
            if output_dir is not None:
                self.recognizer.save(result, prepared, output_dir)
            return result
        finally:
            self.release()

    def release(self) -> None:
        """Free the buffers and spool files (the stream is closed; safe to call more than once)."""
        with self._lock:
            self.closed = True
            for t in {id(t): t for t in [self.mix, *self.tracks] if t is not None}.values():
                t.close()
            self._due.clear()

    def __enter__(self) -> LiveStream:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _snapshot(segments: list) -> list:
    """The segment list as it is now: the last two entries copied (only they can still change)."""
    out = list(segments)
    for i in range(max(0, len(out) - 2), len(out)):
        out[i] = dataclasses.replace(out[i])
    return out
