"""Lanes over a time axis as inline SVG, one per speaker: the two-party call's channels, the live stream's
speakers and a mono recording's speaker turns share it. Each lane is a strip of coloured segments (an emotion's
colour, `unscored` grey), optionally hatched where it overlaps another speaker and with the confidence line
above; whole-second round ticks below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emostudio.messages import t
from emostudio.model.labels import colour, emotion_name
from emostudio.render.html import esc

NICE_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


@dataclass
class Lane:
    """One speaker's timeline: segments (start_s, end_s, label), confidences (time_s, p) drawn as a line above
    them (none: the strip alone), `hatched` (start_s, end_s) spans drawn over the strip (overlapping speech).
    `current`: a live stream's last update (JSON)."""

    title: str
    segments: list[tuple[float, float, str]] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)
    current: dict | None = None
    hatched: list[tuple[float, float]] = field(default_factory=list)
    speech: list[tuple[float, float]] | None = (
        None  # where this speaker talks (start_s, end_s); None: all along
    )


def within(
    segments: list[tuple[float, float, str]], speech: list[tuple[float, float]]
) -> list[tuple[float, float, str]]:
    """The parts of labelled segments (start_s, end_s, label) that fall inside the speech runs, in time order."""
    out = []
    for a, b, label in segments:
        for s0, s1 in speech:
            lo, hi = max(a, s0), min(b, s1)
            if hi > lo:
                out.append((lo, hi, label))
    return sorted(out)


def shown_segments(lane: Lane) -> list[tuple[float, float, str]]:
    """The segments a lane paints: all of them, or only their parts inside the lane's speech runs."""
    return lane.segments if lane.speech is None else within(lane.segments, lane.speech)


def axis_ticks(start_s: float, end_s: float, most: int = 6) -> list[int]:
    """Whole-second ticks at a round step (1, 2, 5, 10, 15, 30 s …) with at most `most` of them inside
    [start_s, end_s]: never two ticks that print the same ("0 s 1 s 1 s 2 s")."""
    span = max(end_s - start_s, 0.0)
    hours = 3600 * (1 + int(span / (most - 1) // 3600))  # past the table: whole hours
    step = next((s for s in NICE_STEPS_S if span / s <= most - 1), hours)
    first = -(-int(start_s * 1000) // (step * 1000)) * step  # the first multiple of step at or after start_s
    return list(range(first, int(end_s) + 1, step)) or [int(start_s)]


def _segment_title(label: str, a: float, b: float, lang: str) -> str:
    name = t("speaker_unscored", lang) if label == "unscored" else emotion_name(label, lang)
    return f"{name} {a:.1f}–{b:.1f} s"


def lanes_svg(lanes: list[Lane], lang: str, start_s: float, end_s: float, element_id: str) -> str:
    """Inline SVG: per speaker a strip of segments (hatched where `hatched`), the confidence line above it
    when the lanes have points, and the time axis below."""
    width, label_w, strip_h = 900, 110, 22
    line_h = 46 if any(lane.points for lane in lanes) else 0
    row_h = strip_h + line_h + (14 if line_h else 8)
    span = max(end_s - start_s, 1e-6)
    hatch = f"{element_id}-hatch"  # the SVG pattern of overlapping speech, one per chart

    def x(s: float) -> float:
        return label_w + (min(max(s, start_s), end_s) - start_s) / span * (width - label_w - 10)

    parts = [
        f'<div class="lane-scroll"><svg id="{esc(element_id)}" class="lane-svg" xmlns="http://www.w3.org/2000/svg" width="100%" '
        f'viewBox="0 0 {width} {row_h * max(len(lanes), 1) + 24}">'
    ]
    if any(lane.hatched for lane in lanes):
        parts.append(
            f'<defs><pattern id="{esc(hatch)}" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#111827" '
            'stroke-width="2" stroke-opacity="0.55"/></pattern></defs>'
        )
    for i, lane in enumerate(lanes):
        top = i * row_h + 4
        strip_y = top + line_h + (2 if line_h else 0)
        parts.append(f'<text x="4" y="{strip_y + strip_h - 6}">{esc(lane.title)}</text>')
        if line_h:
            parts.append(
                f'<rect x="{label_w}" y="{top}" width="{width - label_w - 10}" height="{line_h}" fill="#f8fafc"/>'
            )
            parts.append(
                f'<text class="scale" x="{label_w - 4}" y="{top + 12}" text-anchor="end">100%</text>'
            )
            parts.append(
                f'<text class="scale" x="{label_w - 4}" y="{top + line_h}" text-anchor="end">0%</text>'
            )
        for a, b, label in shown_segments(lane):
            if b < start_s or a > end_s:
                continue
            parts.append(
                f'<rect class="seg" data-label="{esc(label)}" x="{x(a):.1f}" y="{strip_y}" '
                f'width="{max(x(b) - x(a), 0.5):.1f}" height="{strip_h}" fill="{colour(label)}">'
                f"<title>{esc(_segment_title(label, a, b, lang))}</title></rect>"
            )
        for a, b in lane.hatched:
            if b < start_s or a > end_s:
                continue
            parts.append(
                f'<rect class="overlap" x="{x(a):.1f}" y="{strip_y}" width="{max(x(b) - x(a), 0.5):.1f}" '
                f'height="{strip_h}" fill="url(#{esc(hatch)})"><title>{esc(t("speaker_overlap", lang))} '
                f"{a:.1f}–{b:.1f} s</title></rect>"
            )
        runs = (
            [(start_s, end_s)] if lane.speech is None else lane.speech
        )  # the line breaks where it is silent
        for r0, r1 in runs:
            pts = [(s, p) for s, p in lane.points if max(r0, start_s) <= s <= min(r1, end_s)]
            if len(pts) > 1:
                line = " ".join(f"{x(s):.1f},{top + line_h - p * (line_h - 4):.1f}" for s, p in pts)
                parts.append(f'<polyline points="{line}" fill="none" stroke="#334155" stroke-width="1.5"/>')
    bottom = row_h * max(len(lanes), 1) + 16
    for s in axis_ticks(start_s, end_s):
        tick = esc(t("live_seconds_tick", lang, s=s))
        parts.append(f'<text class="axis" x="{x(s):.1f}" y="{bottom}" text-anchor="middle">{tick}</text>')
    parts.append("</svg></div>")
    return "".join(parts)
