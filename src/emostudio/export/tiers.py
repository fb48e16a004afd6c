"""What a result.json document holds as tiers (for Praat and ELAN) and as cues (for subtitles).

Tiers, in this order (the names are what Praat and ELAN show; ELAN gets the same tiers as Praat):
    emotion          the dominant-emotion segments of the recording: the frame timeline's runs in frame mode,
                     else the analysed stretches (one for a short clip)
    frames           frame mode only: one interval per step (0.1 s) labelled with that step's top class — an
                     interval tier rather than a point tier: each score describes a stretch of audio, ELAN has no
                     point tiers, and so both formats get the same tiers
    emotion <who>    one per speaker: per speaker turn's label when the run has speaker turns (`turns`), else per
                     speaker channel of a two-party run (`channels`; <who> is the role, or ch0, ch1, …)
    transcript       when a transcript was given: per ASR stretch when it has times, else one interval
Every tier covers [0, duration]; its spans never overlap (times from result.json are rounded to the millisecond,
so neighbours are clipped to meet).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emostudio.model.labels import BY_KEY, KEYS
from emostudio.results import channel_name

LABEL_STYLES = ("key", "zh", "en")


@dataclass
class Span:
    """A stretch of a tier: seconds and its text."""

    start_s: float
    end_s: float
    text: str


@dataclass
class Tier:
    name: str
    spans: list[Span] = field(default_factory=list)


@dataclass
class Cue:
    """One subtitle: a dominant segment (or speaker turn) with its label, confidence 0–1 and speaker (or None)."""

    start_s: float
    end_s: float
    label: str  # one of the 9 keys
    confidence: float
    speaker: str | None = None


def label_text(key: str, style: str = "key") -> str:
    """A class as a tier shows it: its key (`happy`), Chinese (`快乐`) or English (`Happy`) name."""
    if style == "zh":
        return BY_KEY[key].zh
    if style == "en":
        return BY_KEY[key].en
    return key


def duration_s(doc: dict) -> float:
    """The processed audio's length in seconds (what every tier covers)."""
    return float(doc["audio"]["duration_s"])


def clean(spans: list[Span], duration: float) -> list[Span]:
    """Spans sorted, clipped to [0, duration], each starting no earlier than the previous one ends, times to the
    microsecond (a gap of float noise between neighbours closes); empty spans dropped."""
    out: list[Span] = []
    end = 0.0
    for s in sorted(spans, key=lambda s: (s.start_s, s.end_s)):
        a, b = round(max(float(s.start_s), end, 0.0), 6), round(min(float(s.end_s), duration), 6)
        if a - end < 1e-6:
            a = end
        if b - a > 1e-6:
            out.append(Span(a, b, s.text))
            end = b
    return out


def dominant(doc: dict) -> list[dict]:
    """The dominant-emotion segments of a result (or of one channel's result): frame runs, else its segments.

    Each as {start_s, end_s, label, confidence}."""
    frames = doc.get("frames")
    if frames and frames.get("segments"):
        return [dict(s) for s in frames["segments"]]
    return [
        {"start_s": s["start_s"], "end_s": s["end_s"], "label": s["emotion"], "confidence": s["confidence"]}
        for s in doc.get("segments") or []
    ]


def _turns(doc: dict) -> list[dict]:
    turns = doc.get("turns")
    return [t for t in turns if isinstance(t, dict)] if isinstance(turns, list) else []


def speaker_ids(doc: dict) -> list[str]:
    """Speakers in the order the run lists them (`speakers`), else in the order their first turn starts."""
    listed = doc.get("speakers")
    ids = (
        [str(s["id"]) for s in listed if isinstance(s, dict) and "id" in s]
        if isinstance(listed, list)
        else []
    )
    for t in sorted(_turns(doc), key=lambda t: t["start_s"]):
        if str(t["speaker"]) not in ids:
            ids.append(str(t["speaker"]))
    return ids


def speaker_channels(doc: dict) -> list[dict]:
    """The channels of a two-party run that were scored as speakers (each with its own `result`)."""
    return [c for c in doc.get("channels") or [] if c.get("result")]


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def frame_spans(frames: dict, duration: float, style: str) -> list[Span]:
    """One span per frame step, labelled with its top class."""
    starts = np.asarray(frames.get("start_s") or [], dtype=np.float64)
    if not len(starts):
        return []
    top = np.asarray(frames["scores"], dtype=np.float64).argmax(axis=1)
    step = float(frames["step_s"])
    ends = np.minimum(np.append(starts[1:], starts[-1] + step), starts + step)
    return [
        Span(float(a), float(b), label_text(KEYS[int(k)], style))
        for a, b, k in zip(starts, ends, top, strict=True)
    ]


def transcript_spans(doc: dict, duration: float) -> list[Span]:
    text = doc.get("text")
    if not isinstance(text, dict) or not (text.get("transcript") or "").strip():
        return []
    asr = text.get("asr") or {}
    timed = [
        Span(float(s["start_s"]), float(s["end_s"]), str(s.get("text") or "").strip())
        for s in asr.get("segments") or []
        if isinstance(s, dict) and "start_s" in s and "end_s" in s and str(s.get("text") or "").strip()
    ]
    return timed or [Span(0.0, duration, str(text["transcript"]).strip())]


def tiers(doc: dict, style: str = "key") -> list[Tier]:
    """Every tier of a result.json document (see the module docstring); `style`: key | zh | en labels."""
    duration = duration_s(doc)
    out = [
        Tier(
            "emotion",
            [Span(s["start_s"], s["end_s"], label_text(s["label"], style)) for s in dominant(doc)],
        )
    ]
    if doc.get("frames"):
        out.append(Tier("frames", frame_spans(doc["frames"], duration, style)))
    turns = _turns(doc)
    if turns:
        for who in speaker_ids(doc):
            spans = [
                Span(t["start_s"], t["end_s"], label_text(t["label"], style) if t.get("label") else "")
                for t in turns
                if str(t["speaker"]) == who
            ]
            out.append(Tier(f"emotion {who}", spans))
    else:
        channels = speaker_channels(doc)
        names = _unique([channel_name(c) for c in channels])
        for name, ch in zip(names, channels, strict=True):
            spans = [
                Span(s["start_s"], s["end_s"], label_text(s["label"], style)) for s in dominant(ch["result"])
            ]
            out.append(Tier(f"emotion {name}", spans))
    words = transcript_spans(doc, duration)
    if words:
        out.append(Tier("transcript", words))
    names = _unique([t.name for t in out])
    return [Tier(n, clean(t.spans, duration)) for n, t in zip(names, out, strict=True)]


def cues(doc: dict) -> list[Cue]:
    """One cue per dominant segment: per scored speaker turn when the run has turns, per speaker channel's
    segment in a two-party run, else per segment of the recording; sorted by start."""
    duration = duration_s(doc)
    out: list[Cue] = []
    turns = _turns(doc)
    if turns:
        out = [
            Cue(t["start_s"], t["end_s"], t["label"], float(t.get("confidence") or 0.0), str(t["speaker"]))
            for t in turns
            if t.get("label")
        ]
    else:
        channels = speaker_channels(doc)
        for name, ch in zip(_unique([channel_name(c) for c in channels]), channels, strict=True):
            out += [
                Cue(s["start_s"], s["end_s"], s["label"], s["confidence"], name)
                for s in dominant(ch["result"])
            ]
        if not channels:
            out = [Cue(s["start_s"], s["end_s"], s["label"], s["confidence"]) for s in dominant(doc)]
    kept = []
    for c in sorted(out, key=lambda c: (c.start_s, c.end_s, c.speaker or "")):
        a, b = max(0.0, float(c.start_s)), min(duration, float(c.end_s))
        if b - a >= 0.001:
            kept.append(Cue(a, b, c.label, c.confidence, c.speaker))
    return kept
