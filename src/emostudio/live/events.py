"""What a live stream hands out: an update every hop, notices, and the dominant-emotion segments so far.

Times are seconds of stream audio from its start. The label of a silent window is `silence` (静音), which is
not one of the model's 9 classes: silent windows are not scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emostudio.interpret import Band
from emostudio.model.labels import BY_KEY, KEYS, SILENT
from emostudio.results import scores_dict

SILENCE = SILENT.key  # "silence"
SILENCE_NAMES = {
    "key": SILENCE,
    "en": SILENT.en,
    "zh": SILENT.zh,
    "emoji": SILENT.emoji,
}  # model.labels' names


def label_names(key: str) -> dict[str, str]:
    """{key, en, zh, emoji} of a class key or `silence`."""
    if key == SILENCE:
        return dict(SILENCE_NAMES)
    e = BY_KEY[key]
    return {"key": e.key, "en": e.en, "zh": e.zh, "emoji": e.emoji}


@dataclass
class LiveSegment:
    """A run of hops with the same live label; `confidence` is the mean window confidence (None for silence)."""

    start_s: float
    end_s: float
    label: str  # a class key or "silence"
    confidence: float | None = None

    def to_dict(self) -> dict:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "label": self.label,
            "confidence": None if self.confidence is None else round(self.confidence, 6),
        }


@dataclass
class LiveUpdate:
    """One hop of one speaker: the last window's scores (None when silent), its label, band and the segments."""

    seq: int  # 1, 2, ... over the whole stream (all channels)
    time_s: float  # end of the window: how much of the stream this update has heard
    window_start_s: float
    label: str  # a class key, or "silence"
    scores: np.ndarray | None  # (9,) KEYS order, the window's probabilities; None when silent
    band: Band | None
    segments: list[LiveSegment]  # the dominant-emotion segments so far (this speaker)
    segments_from: int  # segments before this index are unchanged since this speaker's previous update
    channel: int | None = None  # channels="separate": 0-based channel; None for the mixed stream
    role: str | None = None
    skipped: int = 0  # hops not scored before this one because scoring fell behind real time
    received_at: float | None = None  # time.monotonic() when the chunk completing this hop arrived
    speech_s: float | None = None  # seconds of speech the VAD found in the recent part of the window

    @property
    def silent(self) -> bool:
        return self.label == SILENCE

    @property
    def confidence(self) -> float | None:
        return None if self.scores is None else float(np.max(self.scores))

    def summary(self, lang: str = "zh") -> str:
        """`😠 愤怒 72.4%` or `🔇 静音`."""
        n = label_names(self.label)
        name = n["zh"] if lang == "zh" else n["en"]
        conf = self.confidence
        return f"{n['emoji']} {name}" + ("" if conf is None else f" {conf * 100:.1f}%")

    def to_dict(self, all_segments: bool = False) -> dict:
        """The JSON update: only the segments from `segments_from` on, unless `all_segments`."""
        start = 0 if all_segments else self.segments_from
        top = None
        if self.scores is not None:
            order = np.argsort(-self.scores, kind="stable")
            top = {"emotion": KEYS[int(order[1])], "score": round(float(self.scores[order[1]]), 6)}
        return {
            "type": "update",
            "seq": self.seq,
            "channel": self.channel,
            "role": self.role,
            "time_s": round(self.time_s, 3),
            "window": [round(self.window_start_s, 3), round(self.time_s, 3)],
            "label": label_names(self.label),
            "confidence": None if self.confidence is None else round(self.confidence, 6),
            "band": None
            if self.band is None
            else {"key": self.band.key, "en": self.band.en, "zh": self.band.zh},
            "runner_up": top,
            "scores": None if self.scores is None else scores_dict(self.scores),
            "speech_s": None if self.speech_s is None else round(self.speech_s, 3),
            "skipped": self.skipped,
            "segments_from": start,
            "segments": [s.to_dict() for s in self.segments[start:]],
        }


@dataclass
class LiveNotice:
    """Something worth saying once about the stream (e.g. channel 2 copies channel 1: one speaker)."""

    code: str  # "copy_channel", ...
    message: dict[str, str]  # {"en", "zh"}
    channel: int | None = None
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "type": "notice",
            "code": self.code,
            "channel": self.channel,
            "message": self.message,
            **self.details,
        }


LiveEvent = LiveUpdate | LiveNotice


class SegmentTrack:
    """The dominant-emotion segments of one speaker, built hop by hop.

    Consecutive hops with the same label form a run; a run shorter than `min_segment_s` that is followed by a
    different label merges into the run before it (as `interpret.dominant_segments` does for a file), so a
    single odd window does not split a segment. Memory grows with the number of segments, not of hops.
    """

    def __init__(self, min_segment_s: float):
        self.min_segment_s = min_segment_s
        self.segments: list[LiveSegment] = []
        self._conf: list[tuple[float, int]] = []  # per segment: (sum of confidences, hops) of its own label
        self._open_short = False  # the last segment is a run still shorter than min_segment_s
        self.changed_from = 0  # first index changed since `take_changed`

    def add(self, label: str, start_s: float, end_s: float, confidence: float | None) -> None:
        """Label the stretch [start_s, end_s] (one hop, or several when hops were skipped)."""
        segs = self.segments
        if segs and segs[-1].label == label:
            self._extend(len(segs) - 1, end_s, confidence)
            if self._open_short and segs[-1].end_s - segs[-1].start_s >= self.min_segment_s - 1e-9:
                self._open_short = False
            return
        if len(segs) == 1 and self._open_short:
            # a short first run merges forward: the stream's first segment takes the new label
            first = segs[0]
            segs[0] = LiveSegment(first.start_s, end_s, label, confidence)
            self._conf[0] = (confidence or 0.0, 1 if confidence is not None else 0)
            self._open_short = end_s - first.start_s < self.min_segment_s - 1e-9
            self._mark(0)
            return
        if segs and self._open_short and len(segs) > 1:
            # the previous run stayed short and the label changed again: it joins the run before it
            short = segs.pop()
            self._conf.pop()
            self._extend(len(segs) - 1, short.end_s, None)
            self._mark(len(segs) - 1)
            if segs[-1].label == label:
                self._extend(len(segs) - 1, end_s, confidence)
                return
        segs.append(LiveSegment(start_s, end_s, label, confidence))
        self._conf.append((confidence or 0.0, 1 if confidence is not None else 0))
        self._open_short = end_s - start_s < self.min_segment_s - 1e-9
        self._mark(len(segs) - 1)

    def _extend(self, i: int, end_s: float, confidence: float | None) -> None:
        seg = self.segments[i]
        seg.end_s = end_s
        if confidence is not None and seg.label != SILENCE:
            total, n = self._conf[i]
            self._conf[i] = (total + confidence, n + 1)
            seg.confidence = (total + confidence) / (n + 1)
        self._mark(i)

    def _mark(self, i: int) -> None:
        self.changed_from = min(self.changed_from, i)

    def take_changed(self) -> int:
        """The first index changed since the previous call (and reset the mark)."""
        first = self.changed_from
        self.changed_from = len(self.segments)
        return min(first, max(len(self.segments) - 1, 0))
