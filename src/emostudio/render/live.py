"""Live streams and two-party calls as HTML: the current label of each speaker, a lane per speaker (the
dominant-emotion strip under the window confidence) as inline SVG, the saved stream, the call's channels.

Pure functions of live update events (their JSON) and result.json documents, in Chinese or English.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emostudio.messages import t
from emostudio.model.labels import colour, emotion_name
from emostudio.render.html import esc, legend
from emostudio.render.result import quality

VIEW_S = 60.0  # the live timeline shows the last minute


@dataclass
class Lane:
    """One speaker's timeline: dominant-emotion segments (start_s, end_s, label) and confidences (time_s, p)."""

    title: str
    segments: list[tuple[float, float, str]] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)
    current: dict | None = None  # the last live update (JSON)
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


def role_name(role: str, lang: str) -> str:
    """A channel role as shown: the default names (mono, left, right, channel N) in `lang`, a user's as given."""
    if role in ("mono", "left", "right"):
        return t(f"role_{role}", lang)
    if role.startswith("channel ") and role[8:].isdigit():
        return t("role_channel", lang, n=role[8:])
    return role


NICE_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def axis_ticks(start_s: float, end_s: float, most: int = 6) -> list[int]:
    """Whole-second ticks at a round step (1, 2, 5, 10, 15, 30 s …) with at most `most` of them inside
    [start_s, end_s]: never two ticks that print the same ("0 s 1 s 1 s 2 s")."""
    span = max(end_s - start_s, 0.0)
    hours = 3600 * (1 + int(span / (most - 1) // 3600))  # past the table: whole hours
    step = next((s for s in NICE_STEPS_S if span / s <= most - 1), hours)
    first = -(-int(start_s * 1000) // (step * 1000)) * step  # the first multiple of step at or after start_s
    return list(range(first, int(end_s) + 1, step)) or [int(start_s)]


def lanes_svg(lanes: list[Lane], lang: str, start_s: float, end_s: float, element_id: str) -> str:
    """Inline SVG: per speaker a strip of dominant-emotion segments and the confidence line above it."""
    width, label_w, strip_h, line_h = 900, 110, 22, 46
    row_h = strip_h + line_h + 14
    span = max(end_s - start_s, 1e-6)

    def x(s: float) -> float:
        return label_w + (min(max(s, start_s), end_s) - start_s) / span * (width - label_w - 10)

    parts = [
        f'<div class="lane-scroll"><svg id="{esc(element_id)}" class="lane-svg" xmlns="http://www.w3.org/2000/svg" width="100%" '
        f'viewBox="0 0 {width} {row_h * max(len(lanes), 1) + 24}">'
    ]
    for i, lane in enumerate(lanes):
        top = i * row_h + 4
        parts.append(f'<text x="4" y="{top + line_h + strip_h - 6}">{esc(lane.title)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{top}" width="{width - label_w - 10}" height="{line_h}" fill="#f8fafc"/>'
        )
        parts.append(f'<text class="scale" x="{label_w - 4}" y="{top + 12}" text-anchor="end">100%</text>')
        parts.append(f'<text class="scale" x="{label_w - 4}" y="{top + line_h}" text-anchor="end">0%</text>')
        shown = lane.segments if lane.speech is None else within(lane.segments, lane.speech)
        for a, b, label in shown:
            if b < start_s or a > end_s:
                continue
            parts.append(
                f'<rect class="seg" data-label="{esc(label)}" x="{x(a):.1f}" y="{top + line_h + 2}" '
                f'width="{max(x(b) - x(a), 0.5):.1f}" height="{strip_h}" fill="{colour(label)}">'
                f"<title>{esc(emotion_name(label, lang))} {a:.1f}–{b:.1f} s</title></rect>"
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


def _ordered(lanes: dict) -> list:
    return sorted(lanes, key=lambda c: -1 if c is None else c)


def live_cards(
    lanes: dict,
    lang: str,
    seconds: float = 0.0,
    updates: int = 0,
    skipped: int = 0,
    notices: list | None = None,
    push: int = 0,
    ui_skipped: int = 0,
) -> str:
    """The current label of each speaker (channel → Lane; None is the mix) and how far the stream is. `push`:
    the page's snapshot number (data-push, so the page knows it was drawn); `ui_skipped`: updates the page
    coalesced into later ones (said, never silent)."""
    if not lanes:
        return f'<div id="live-status" data-push="{push}">{esc(t("live_waiting", lang))}</div>'
    cards = []
    for ch in _ordered(lanes):
        lane = lanes[ch]
        u = lane.current
        n = u["label"]
        conf = "" if u["confidence"] is None else f" {u['confidence'] * 100:.1f}%"
        band = "" if u["band"] is None else f" · {esc(u['band'][lang])}"
        who = f"<div>{esc(role_name(lane.title, lang))}</div>" if lane.title else ""
        cards.append(
            f'<div class="live-card" data-label="{esc(n["key"])}" style="border-left-color:{colour(n["key"])}">'
            f'{who}<div class="emo">{n["emoji"]}</div>'
            f'<div class="live-label">{esc(emotion_name(n["key"], "both", emoji=False))}</div>'
            f"<div>{conf}{band}</div></div>"
        )
    status = t("live_listening", lang, seconds=seconds, updates=updates)
    if skipped:
        status += t("live_skipped", lang, n=skipped)
    if ui_skipped:
        status += t("live_ui_skipped", lang, n=ui_skipped)
    notes = "".join(f"<div>ℹ {esc(m[lang])}</div>" for m in notices or [])
    return (
        f'<div id="live-status" data-push="{push}" data-updates="{updates}">{esc(status)}</div>'
        f"{''.join(cards)}{notes}"
    )


def live_timeline(lanes: dict, lang: str, seconds: float) -> str:
    """The last VIEW_S seconds of every speaker's lane."""
    if not lanes:
        return ""
    end = max(seconds, VIEW_S)
    shown = [
        Lane(role_name(lanes[c].title, lang), lanes[c].segments, lanes[c].points) for c in _ordered(lanes)
    ]
    caption = esc(t("live_timeline", lang, view=VIEW_S))
    return f"<div>{caption}</div>" + lanes_svg(shown, lang, end - VIEW_S, end, "live-timeline-svg")


def ending_html(ending, lang: str) -> str:
    """What happened when a stream ended: the run it was saved as and each channel's reading, or why not."""
    if ending.error is not None or not ending.run_id:
        text = t("live_not_saved", lang, error=ending.error or "-")
        return f'<div id="live-saved" class="warn">{esc(text)}</div>'
    doc = ending.doc or {}
    parts = [f"{esc(t('live_saved', lang, run_id=ending.run_id))}<b>{esc(doc.get('summary', ''))}</b>"]
    for ch in doc.get("channels") or []:
        who = f"{ch['index'] + 1} {role_name(ch['role'], lang)}"
        what = (
            emotion_name(ch["emotion"], lang)
            if ch.get("emotion")
            else t(f"channel_status_{ch['status']}", lang)
        )
        conf = f" {ch['confidence'] * 100:.1f}%" if ch.get("confidence") is not None else ""
        parts.append(f"<div>{esc(who)}: {esc(what)}{conf}</div>")
    if ending.reason == "idle":
        parts.insert(0, f"<div>{esc(t('live_ended_idle', lang))}</div>")
    return f'<div id="live-saved" data-run="{esc(ending.run_id)}">{"".join(parts)}</div>'


def call_html(doc: dict | None, lang: str) -> str:
    """The two-party result: the mix's reading, a card per channel and the lanes one above the other, each
    painted only where its channel speaks (its `speech` runs; gaps where it is silent)."""
    if not doc:
        return ""
    mix = f"{emotion_name(doc['emotion'], lang)} {doc['confidence'] * 100:.1f}%"
    out = [
        f'<div id="call-mix">{esc(t("call_mix_line", lang))}<b>{esc(mix)}</b> · '
        f"{esc(t('call_speakers', lang, n=doc.get('speakers', 1)))} · {esc(doc.get('run_id') or '')}</div>"
    ]
    lanes, duration = [], float(doc["audio"]["duration_s"])
    for ch in doc.get("channels") or []:
        title = t("call_channel", lang, n=ch["index"] + 1, role=role_name(ch["role"], lang))
        res = ch.get("result")
        if res is None:
            what = t(f"channel_status_{ch['status']}", lang)
        else:
            what = (
                f"{emotion_name(res['emotion'], lang)} {res['confidence'] * 100:.1f}% · {res['band'][lang]}"
            )
            frames = res.get("frames") or {}
            segs = [(s["start_s"], s["end_s"], s["label"]) for s in frames.get("segments", [])]
            pts = [
                (st + frames["step_s"] / 2, max(sc))
                for st, sc in zip(frames.get("start_s", []), frames.get("scores", []), strict=True)
            ]
            speech = ch.get("speech")  # absent in runs saved before it was recorded: painted all along
            lanes.append(
                Lane(title, segs, pts, speech=None if speech is None else [(a, b) for a, b in speech])
            )
        note = f"<div>ℹ {esc(ch['note'][lang])}</div>" if ch.get("note") else ""
        out.append(
            f'<div class="call-channel" data-status="{esc(ch["status"])}"><b>{esc(title)}</b>: {esc(what)}{note}</div>'
        )
    if lanes:
        out.append(lanes_svg(lanes, lang, 0.0, max(duration, 1.0), "call-timeline-svg"))
        shown = dict.fromkeys(
            label
            for lane in lanes
            for _, _, label in (lane.segments if lane.speech is None else within(lane.segments, lane.speech))
        )
        out.append(legend(shown, lang).replace('class="legend"', 'class="legend" id="call-legend"', 1))
    out += [  # folded: two long tables would push the downloads off the screen
        f'<details class="call-quality" data-channel="{ch["index"]}"><summary><b>'
        f"{esc(t('call_channel', lang, n=ch['index'] + 1, role=role_name(ch['role'], lang)))}</b> · "
        f"{esc(t('quality', lang))}</summary>{quality(ch['result'], lang)}</details>"
        for ch in doc.get("channels") or []
        if ch.get("result") and ch["result"].get("quality")
    ]
    return "".join(out)
