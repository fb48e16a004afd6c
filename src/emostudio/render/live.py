"""Live streams and two-party calls as HTML: the current label of each speaker, a lane per speaker (the
dominant-emotion strip under the window confidence) as inline SVG, the saved stream, the call's channels.

Pure functions of live update events (their JSON) and result.json documents, in Chinese or English.
"""

from __future__ import annotations

from emostudio.messages import t
from emostudio.model.labels import colour, emotion_name
from emostudio.render.html import esc, legend
from emostudio.render.lanes import Lane, lanes_svg, shown_segments
from emostudio.render.result import quality

VIEW_S = 60.0  # the live timeline shows the last minute


def role_name(role: str, lang: str) -> str:
    """A channel role as shown: the default names (mono, left, right, channel N) in `lang`, a user's as given."""
    if role in ("mono", "left", "right"):
        return t(f"role_{role}", lang)
    if role.startswith("channel ") and role[8:].isdigit():
        return t("role_channel", lang, n=role[8:])
    return role


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
        shown = dict.fromkeys(label for lane in lanes for _, _, label in shown_segments(lane))
        out.append(legend(shown, lang, elem_id="call-legend"))
    out += [  # folded: two long tables would push the downloads off the screen
        f'<details class="call-quality" data-channel="{ch["index"]}"><summary><b>'
        f"{esc(t('call_channel', lang, n=ch['index'] + 1, role=role_name(ch['role'], lang)))}</b> · "
        f"{esc(t('quality', lang))}</summary>{quality(ch['result'], lang)}</details>"
        for ch in doc.get("channels") or []
        if ch.get("result") and ch["result"].get("quality")
    ]
    return "".join(out)
