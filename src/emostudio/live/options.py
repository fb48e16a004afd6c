"""How a live stream is cut and read (LiveOptions) and what it counted (LiveStats)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from emostudio.errors import UsageError

FEED_WINDOWS = 32  # `feed` scores at most this many hops per model call (a long chunk → several calls)


@dataclass
class LiveOptions:
    """How a live stream is cut and read. Seconds are stream audio seconds."""

    hop_s: float = 0.5  # an update this often
    window_s: float = 3.0  # each update scores the last window_s of audio
    min_window_s: float = 1.0  # the first update comes once this much audio has arrived
    vad: bool = True  # silence = the VAD found too little speech lately (else: the level is low)
    recent_s: float = 2.0  # silence is judged on the last recent_s of each window
    min_speech_s: float = 0.2  # less speech than this in the recent part: silence
    speech_threshold: float = 0.5  # silero-vad probability above which a 32 ms chunk is speech
    quiet_dbfs: float = -60.0  # 32 ms chunks quieter than this are not speech (the VAD is not run)
    silence_dbfs: float = -50.0  # without the VAD: a recent level below this is silence
    silence_every_s: float = 5.0  # while silent, one update this often at most
    min_segment_s: float = 1.0  # live segments shorter than this merge into their neighbour
    latest_only: bool = False  # score only the newest due window (real time: never fall behind)
    max_backlog: int = 0  # without latest_only: due hops kept waiting at most (older ones skipped); 0: all
    detect_copy_s: float = 3.0  # channels="separate": seconds of signal before judging a copied channel
    max_duration_s: float = 4 * 3600.0  # longer streams are refused while they run
    part_s: float = 600.0  # the closing pass scores at most this much audio per model job

    def check(self) -> None:
        """UsageError naming the first bad option."""
        for name in ("hop_s", "window_s", "min_window_s", "recent_s", "max_duration_s", "part_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
                raise UsageError(f"{name} must be a positive number of seconds, got {v!r}")
        if self.window_s > 30.0:
            raise UsageError(f"window_s must be at most 30 s (one model segment), got {self.window_s}")
        if self.hop_s > self.window_s:
            raise UsageError(f"hop_s ({self.hop_s}) must not be longer than window_s ({self.window_s})")
        if self.min_window_s > self.window_s or self.min_window_s < 0.1:
            raise UsageError(
                f"min_window_s must be 0.1 s to window_s ({self.window_s}), got {self.min_window_s}"
            )
        if self.recent_s > self.window_s:
            raise UsageError(f"recent_s ({self.recent_s}) must not be longer than window_s ({self.window_s})")
        if not 0 < self.speech_threshold < 1:
            raise UsageError(f"speech_threshold must be between 0 and 1, got {self.speech_threshold}")
        if self.min_speech_s < 0 or self.silence_every_s < 0 or self.min_segment_s < 0:
            raise UsageError("min_speech_s, silence_every_s and min_segment_s must not be negative")
        if self.detect_copy_s <= 0:
            raise UsageError(f"detect_copy_s must be positive, got {self.detect_copy_s}")


@dataclass
class LiveStats:
    """Counters of one stream."""

    hops: int = 0  # hops that came due (per stream, not per channel)
    windows_scored: int = 0  # windows the model scored (all channels)
    updates: int = 0  # updates handed out
    silent_quiet: int = 0  # silent hops that gave no update (no spam while nobody speaks)
    skipped: int = 0  # hops never scored because scoring fell behind real time (latest_only)
