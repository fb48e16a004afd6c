"""The web UI's "实时 / Live" tab (the browser microphone analysed as it speaks) and "双方通话 / Two-party call" tab
(a stereo call recording, each channel its own speaker).

Live: Gradio streams the microphone in 0.5 s WAV chunks; each goes into a server live stream
(`live_sessions`, the same limits, model worker and queue as WebSocket /v1/stream). The tab shows the current
label of each speaker, a scrolling timeline with the dominant-emotion strip and the window confidence, and when
recording stops the whole stream is analysed and saved as a run (it appears in History).
Two-party call: the upload is analysed with channels="separate"; the channels' timelines are drawn one above
the other. Charts are inline SVG (nothing is loaded from anywhere). Texts are in TEXT (zh/en).
"""

from __future__ import annotations

import contextlib
import html
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from emostudio.errors import EmoStudioError
from emostudio.live.events import SILENCE, label_names
from emostudio.live.pcm import from_wav_bytes
from emostudio.options import parse_roles
from emostudio.server.live_sessions import StreamParams, live_hub
from emostudio.server.service import Service

TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "tab_live": "实时",
        "tab_call": "双方通话",
        "mic": "麦克风（点击录音开始实时分析）",
        "mode": "声道",
        "modes": [("混合为一位说话人", "mix"), ("每个声道一位说话人", "separate")],
        "roles": "声道角色（可选，例如 坐席,客户）",
        "waiting": "点击麦克风的录音按钮开始；每 0.5 秒更新一次，停止后整段保存到历史记录。",
        "listening": "正在分析 {seconds:.1f} 秒 · {updates} 次更新",
        "skipped": "（模型跟不上实时，跳过了 {n} 次）",
        "saved": "已保存为 {run_id}（见“历史”页）：",
        "not_saved": "未保存：{error}",
        "ended_idle": "长时间没有收到音频，已结束并保存",
        "timeline": "时间线（最近 {view:.0f} 秒）",
        "confidence": "置信度",
        "speaker": "说话人",
        "call_in": "双声道通话录音（左右声道各一位说话人）",
        "call_go": "按声道分析",
        "need_audio": "请先上传录音",
        "mix_line": "整段（混合）：",
        "speakers": "{n} 位说话人",
        "status": {"speaker": "说话人", "silent": "无声", "copy": "与另一声道相同"},
    },
    "en": {
        "tab_live": "Live",
        "tab_call": "Two-party call",
        "mic": "Microphone (press record to analyse live)",
        "mode": "Channels",
        "modes": [("Mix into one speaker", "mix"), ("One speaker per channel", "separate")],
        "roles": "Channel roles (optional, e.g. agent,customer)",
        "waiting": "Press the microphone's record button; an update every 0.5 s, the whole stream is saved to "
        "History when you stop.",
        "listening": "Analysing {seconds:.1f} s · {updates} updates",
        "skipped": " (the model fell behind real time: {n} skipped)",
        "saved": "Saved as {run_id} (see History): ",
        "not_saved": "Not saved: {error}",
        "ended_idle": "No audio arrived for a while: the stream was ended and saved",
        "timeline": "Timeline (last {view:.0f} s)",
        "confidence": "Confidence",
        "speaker": "Speaker",
        "call_in": "Two-channel call recording (one speaker per channel)",
        "call_go": "Analyse by channel",
        "need_audio": "Upload a recording first",
        "mix_line": "Whole call (mixed): ",
        "speakers": "{n} speaker(s)",
        "status": {"speaker": "speaker", "silent": "silent", "copy": "copy of another channel"},
    },
}
LANGS = {"中文": "zh", "English": "en"}
VIEW_S = 60.0  # the live timeline shows the last minute
COLORS = {
    "angry": "#dc2626",
    "disgusted": "#65a30d",
    "fearful": "#7c3aed",
    "happy": "#f59e0b",
    "neutral": "#64748b",
    "other": "#0891b2",
    "sad": "#2563eb",
    "surprised": "#db2777",
    "unknown": "#a8a29e",
    SILENCE: "#e5e7eb",
}


def _lang(choice: str | None) -> str:
    return LANGS.get(choice or "", "zh")


def _name(key: str, lang: str) -> str:
    n = label_names(key)
    return f"{n['emoji']} {n['zh'] if lang == 'zh' else n['en']}"


@dataclass
class Row:
    """One speaker's timeline: dominant-emotion segments (start, end, label) and window confidences (t, p)."""

    title: str
    segments: list[tuple[float, float, str]] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)
    current: dict | None = None  # the last update (JSON)


@dataclass
class LiveView:
    """What the Live tab shows of one recording (kept in the browser session's gr.State)."""

    stream_id: str | None = None
    rows: dict = field(default_factory=dict)  # channel (None for the mix) → Row
    seconds: float = 0.0
    updates: int = 0
    skipped: int = 0
    notices: list[dict] = field(default_factory=list)
    ended: str | None = None  # the closing message (HTML) once the stream has ended
    _chunks: OrderedDict = field(default_factory=OrderedDict)  # recent chunk files' bytes, by path

    def chunk_bytes(self, path: str) -> bytes:
        """The bytes of a chunk Gradio saved at `path`, which is then deleted (a long recording would leave
        thousands of files). Gradio names chunk files by their content, so a chunk equal to an earlier one
        (digital silence) comes at the same path again: recent ones are kept here."""
        if path in self._chunks:
            self._chunks.move_to_end(path)
            data = self._chunks[path]
        else:
            with open(path, "rb") as f:
                data = f.read()
            self._chunks[path] = data
            while len(self._chunks) > 64:
                self._chunks.popitem(last=False)
        with contextlib.suppress(OSError):
            os.unlink(path)
        return data

    def add(self, event: dict) -> None:
        if event["type"] == "notice":
            self.notices.append(event["message"])
            return
        if event["type"] != "update":
            return
        ch = event["channel"]
        row = self.rows.setdefault(ch, Row(event["role"] or ""))
        first = event["segments_from"]
        row.segments = row.segments[:first] + [
            (s["start_s"], s["end_s"], s["label"]) for s in event["segments"]
        ]
        if event["confidence"] is not None:
            row.points.append((event["time_s"], event["confidence"]))
            row.points = [p for p in row.points if p[0] >= event["time_s"] - 2 * VIEW_S]  # bounded
        row.current = event
        self.seconds = max(self.seconds, event["time_s"])
        self.updates += 1
        self.skipped += event.get("skipped", 0)


# ---- rendering (pure functions) -------------------------------------------------------------------------------
def timeline_svg(rows: list[Row], lang: str, start_s: float, end_s: float, element_id: str) -> str:
    """Inline SVG: per speaker a strip of dominant-emotion segments and the confidence line above it."""
    width, label_w, strip_h, line_h = 900, 110, 22, 46
    row_h = strip_h + line_h + 14
    span = max(end_s - start_s, 1e-6)

    def x(t: float) -> float:
        return label_w + (min(max(t, start_s), end_s) - start_s) / span * (width - label_w - 10)

    parts = [
        f'<svg id="{element_id}" xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} '
        f'{row_h * max(len(rows), 1) + 24}" style="font:12px system-ui,sans-serif;background:#fff">'
    ]
    for i, row in enumerate(rows):
        top = i * row_h + 4
        parts.append(f'<text x="4" y="{top + line_h + strip_h - 6}">{html.escape(row.title)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{top}" width="{width - label_w - 10}" height="{line_h}" fill="#f8fafc"/>'
        )
        parts.append(f'<text x="{label_w - 4}" y="{top + 10}" text-anchor="end" fill="#94a3b8">100%</text>')
        parts.append(f'<text x="{label_w - 4}" y="{top + line_h}" text-anchor="end" fill="#94a3b8">0%</text>')
        for a, b, label in row.segments:
            if b < start_s or a > end_s:
                continue
            parts.append(
                f'<rect class="seg" data-label="{label}" x="{x(a):.1f}" y="{top + line_h + 2}" '
                f'width="{max(x(b) - x(a), 0.5):.1f}" height="{strip_h}" fill="{COLORS.get(label, "#999")}">'
                f"<title>{html.escape(_name(label, lang))} {a:.1f}–{b:.1f} s</title></rect>"
            )
        pts = [(t, p) for t, p in row.points if start_s <= t <= end_s]
        if len(pts) > 1:
            line = " ".join(f"{x(t):.1f},{top + line_h - p * (line_h - 4):.1f}" for t, p in pts)
            parts.append(f'<polyline points="{line}" fill="none" stroke="#334155" stroke-width="1.5"/>')
    bottom = row_h * max(len(rows), 1) + 16
    for k in range(6):
        t = start_s + k * span / 5
        parts.append(f'<text x="{x(t):.1f}" y="{bottom}" text-anchor="middle" fill="#64748b">{t:.0f}s</text>')
    parts.append("</svg>")
    return "".join(parts)


def live_cards(view: LiveView, lang: str) -> str:
    t = TEXT[lang]
    if not view.rows:
        return f'<div id="live-status">{html.escape(t["waiting"])}</div>'
    cards = []
    for ch in sorted(view.rows, key=lambda c: -1 if c is None else c):
        row = view.rows[ch]
        u = row.current
        n = u["label"]
        conf = "" if u["confidence"] is None else f" {u['confidence'] * 100:.1f}%"
        band = "" if u["band"] is None else f" · {html.escape(u['band'][lang])}"
        who = f"<div>{html.escape(row.title)}</div>" if row.title else ""
        cards.append(
            f'<div class="live-card" data-label="{n["key"]}" style="display:inline-block;min-width:180px;margin:4px;'
            f"padding:8px 12px;border-radius:8px;border-left:6px solid {COLORS.get(n['key'], '#999')};"
            f'background:#f8fafc">{who}<div style="font-size:2.4rem">{n["emoji"]}</div>'
            f'<div class="live-label" style="font-size:1.3rem;font-weight:600">{html.escape(n["zh"])} '
            f"({html.escape(n['en'])})</div><div>{conf}{band}</div></div>"
        )
    status = t["listening"].format(seconds=view.seconds, updates=view.updates)
    if view.skipped:
        status += t["skipped"].format(n=view.skipped)
    notes = "".join(f"<div>ℹ {html.escape(m[lang])}</div>" for m in view.notices)
    return f'<div id="live-status">{html.escape(status)}</div>{"".join(cards)}{notes}'


def live_timeline(view: LiveView, lang: str) -> str:
    if not view.rows:
        return ""
    end = max(view.seconds, VIEW_S)
    rows = [view.rows[c] for c in sorted(view.rows, key=lambda c: -1 if c is None else c)]
    caption = html.escape(TEXT[lang]["timeline"].format(view=VIEW_S))
    return f"<div>{caption}</div>" + timeline_svg(rows, lang, end - VIEW_S, end, "live-timeline-svg")


def ending_html(ending, lang: str) -> str:
    t = TEXT[lang]
    if ending.error is not None or not ending.run_id:
        return f'<div id="live-saved" class="warn">{html.escape(t["not_saved"].format(error=ending.error or "-"))}</div>'
    doc = ending.doc or {}
    parts = [
        f"{html.escape(t['saved'].format(run_id=ending.run_id))}<b>{html.escape(doc.get('summary', ''))}</b>"
    ]
    for ch in doc.get("channels") or []:
        who = f"{ch['index'] + 1} {ch['role']}"
        what = _name(ch["emotion"], lang) if ch.get("emotion") else TEXT[lang]["status"][ch["status"]]
        conf = f" {ch['confidence'] * 100:.1f}%" if ch.get("confidence") is not None else ""
        parts.append(f"<div>{html.escape(who)}: {html.escape(what)}{conf}</div>")
    if ending.reason == "idle":
        parts.insert(0, f"<div>{html.escape(t['ended_idle'])}</div>")
    return f'<div id="live-saved" data-run="{html.escape(ending.run_id)}">{"".join(parts)}</div>'


def call_html(doc: dict | None, lang: str) -> str:
    """The two-party result: the mix's reading, a card per channel and the timelines one above the other."""
    if not doc:
        return ""
    t = TEXT[lang]
    out = [
        f'<div id="call-mix">{html.escape(t["mix_line"])}<b>{html.escape(_name(doc["emotion"], lang))} '
        f"{doc['confidence'] * 100:.1f}%</b> · {html.escape(t['speakers'].format(n=doc.get('speakers', 1)))}"
        f" · {html.escape(doc.get('run_id') or '')}</div>"
    ]
    rows, duration = [], float(doc["audio"]["duration_s"])
    for ch in doc.get("channels") or []:
        title = f"{ch['index'] + 1} · {ch['role']}"
        res = ch.get("result")
        if res is None:
            what = t["status"][ch["status"]]
        else:
            what = f"{_name(res['emotion'], lang)} {res['confidence'] * 100:.1f}% · {res['band'][lang]}"
            frames = res.get("frames") or {}
            segs = [(s["start_s"], s["end_s"], s["label"]) for s in frames.get("segments", [])]
            pts = [
                (st + frames["step_s"] / 2, max(sc))
                for st, sc in zip(frames.get("start_s", []), frames.get("scores", []), strict=True)
            ]
            rows.append(Row(title, segs, pts))
        note = f"<div>ℹ {html.escape(ch['note'][lang])}</div>" if ch.get("note") else ""
        out.append(
            f'<div class="call-channel" data-status="{ch["status"]}"><b>{html.escape(title)}</b>: '
            f"{html.escape(what)}{note}</div>"
        )
    if rows:
        out.append(timeline_svg(rows, lang, 0.0, max(duration, 1.0), "call-timeline-svg"))
    return "".join(out)


# ---- the tabs --------------------------------------------------------------------------------------------------
def build_live_tabs(service: Service, lang_in: gr.Radio) -> tuple[gr.Tab, gr.Tab]:
    """Build the Live and Two-party call tabs inside the caller's `gr.Tabs()`; `lang_in` is the language radio."""
    hub = live_hub(service)
    z = TEXT["zh"]
    with gr.Tab("实时 / Live", id="live") as live_tab:
        with gr.Row():
            with gr.Column(scale=2):
                mic = gr.Audio(
                    sources=["microphone"],
                    streaming=True,
                    type="filepath",
                    label=z["mic"],
                    elem_id="live-mic",
                )
                mode = gr.Radio(z["modes"], value="mix", label=z["mode"], elem_id="live-mode")
                roles = gr.Textbox(label=z["roles"], elem_id="live-roles")
            with gr.Column(scale=3):
                cards = gr.HTML(live_cards(LiveView(), "zh"), elem_id="live-card")
                strip = gr.HTML(elem_id="live-timeline")
                saved = gr.HTML(elem_id="live-result")
    with gr.Tab("双方通话 / Two-party call", id="call") as call_tab:
        with gr.Row():
            with gr.Column(scale=2):
                call_in = gr.Audio(sources=["upload"], type="filepath", label=z["call_in"], elem_id="call-in")
                call_roles = gr.Textbox(label=z["roles"], elem_id="call-roles")
                call_go = gr.Button(z["call_go"], variant="primary", elem_id="call-go")
            with gr.Column(scale=3):
                call_out = gr.HTML(elem_id="call-result")
                call_doc = gr.State(None)

    views: dict[str, LiveView] = {}  # browser session → what its Live tab shows (one recording at a time)

    def view_of(request: gr.Request) -> LiveView:
        key = request.session_hash or "-"
        if key not in views:
            views[key] = LiveView()
        return views[key]

    def start(choice, request: gr.Request):
        key = request.session_hash or "-"
        current = views.get(key)
        if current is None or current.ended is not None:  # a new recording (an active one is kept)
            for k in [k for k, v in views.items() if v.ended is not None and k != key]:
                del views[k]  # finished recordings of other browser sessions: their pages have the result
            views[key] = LiveView()
        return live_cards(views[key], _lang(choice)), "", ""

    async def on_chunk(path, channel_mode, role_text, choice, request: gr.Request):
        lang = _lang(choice)
        view = view_of(request)
        if not path or view.ended is not None:
            return gr.skip(), gr.skip(), gr.skip()
        try:
            rate, count, chunk = from_wav_bytes(view.chunk_bytes(path))
            if view.stream_id is None:
                session = await hub.open(
                    StreamParams(
                        rate, "s16le", count, channel_mode, _roles(role_text), name="microphone (web)"
                    )
                )
                view.stream_id = session.id
            current = hub.sessions.get(view.stream_id)
            if current is None:  # ended meanwhile (idle timeout): nothing more to do for this recording
                view.ended = html.escape(TEXT[lang]["ended_idle"])
                return live_cards(view, lang), live_timeline(view, lang), view.ended
            await current.push(chunk)
            for event in current.drain():
                view.add(event)
        except (
            EmoStudioError
        ) as exc:  # too many streams, a busy queue, no model, a bad chunk: said, not raised
            view.ended = f'<div class="warn">{html.escape(str(exc))}</div>'
            if view.stream_id and (failed := hub.sessions.get(view.stream_id)) is not None:
                await failed.end("error", save=False)
            return live_cards(view, lang), live_timeline(view, lang), view.ended
        return live_cards(view, lang), live_timeline(view, lang), gr.skip()

    async def stop(choice, request: gr.Request):
        lang = _lang(choice)
        view = view_of(request)
        if view.stream_id is None or view.ended is not None:
            return gr.skip(), gr.skip(), gr.skip()
        session = hub.sessions.get(view.stream_id)
        if session is None:
            view.ended = html.escape(TEXT[lang]["ended_idle"])
        else:
            ending = await session.end("stop")
            for event in session.drain():
                view.add(event)
            view.ended = ending_html(ending, lang)
        return live_cards(view, lang), live_timeline(view, lang), view.ended

    mic.start_recording(start, lang_in, [cards, strip, saved])
    mic.stream(
        on_chunk,
        [mic, mode, roles, lang_in],
        [cards, strip, saved],
        stream_every=0.5,
        time_limit=service.settings.max_stream_s,
        concurrency_limit=max(1, service.settings.max_streams or 1),
        show_progress="hidden",
    )
    mic.stop_recording(stop, [lang_in], [cards, strip, saved])

    async def analyse_call(path, role_text, choice, progress=gr.Progress()):  # noqa: B008
        t = TEXT[_lang(choice)]
        if not path:
            raise gr.Error(t["need_audio"])
        try:
            done = await service.analyze(
                Path(path),
                name=os.path.basename(path),
                granularity="frame",
                channels="separate",
                roles=_roles(role_text),
                progress=lambda f, text: progress(f, desc=text),
            )
        except EmoStudioError as exc:
            raise gr.Error(str(exc)) from exc
        doc = done.to_dict()
        return doc, call_html(doc, _lang(choice))

    call_go.click(analyse_call, [call_in, call_roles, lang_in], [call_doc, call_out], concurrency_limit=None)

    def relabel(choice, doc, request: gr.Request):
        lang = _lang(choice)
        view = views.get(request.session_hash or "-")
        t = TEXT[lang]
        return (
            gr.update(label=t["mic"]),
            gr.update(label=t["mode"], choices=t["modes"]),
            gr.update(label=t["roles"]),
            live_cards(view or LiveView(), lang),
            live_timeline(view or LiveView(), lang),
            gr.update(label=t["call_in"]),
            gr.update(label=t["roles"]),
            gr.update(value=t["call_go"]),
            call_html(doc, lang),
        )

    lang_in.change(
        relabel,
        [lang_in, call_doc],
        [mic, mode, roles, cards, strip, call_in, call_roles, call_go, call_out],
    )
    return live_tab, call_tab


def _roles(text: str | None) -> list[str] | None:
    """ "agent, customer" → ["agent", "customer"] (UsageError for a bad name); None when empty."""
    return parse_roles(text)
