"""The web UI's Live tab (the browser microphone analysed as it speaks) and Two-party call tab (a stereo call
recording, each channel its own speaker).

Live: the page's script (`emostudio/render/page.js`) sends the microphone's raw PCM, every sample, over the
server's own WebSocket /v1/stream (the same limits, model worker and queue as any client), with a one-time
ticket this tab hands out after the UI's login. The page keeps the stream's state and hands a snapshot of it
(JSON) to a hidden textbox; `show_snapshot` renders the card and the scrolling timeline from it. When recording
stops the whole stream is analysed and saved as a run (it appears in History).
Two-party call: the upload is analysed with channels="separate"; the channels' timelines are drawn one above
the other. Texts come from `emostudio.messages`; the cards and SVG lanes from `emostudio.render.live`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from emostudio.errors import EmoStudioError, UsageError
from emostudio.messages import CATALOGUE, ERRORS, code_text, error_text, lang_of, t
from emostudio.options import parse_roles
from emostudio.render.html import esc
from emostudio.render.lanes import Lane
from emostudio.render.live import VIEW_S, call_html, ending_html, live_cards, live_timeline
from emostudio.server.analyze.service import Service
from emostudio.server.live.service import Ending, live_hub
from emostudio.server.ui_common import choices, run_downloads, user_error

__all__ = ["VIEW_S", "LiveView", "build_live_tabs", "call_html", "ending_html"]
MODES = ("mix", "separate")


@dataclass
class LiveView:
    """What the Live tab shows of one recording: the page's snapshot of its stream (see page.js)."""

    rows: dict = field(default_factory=dict)  # channel (None for the mix) → Lane
    seconds: float = 0.0
    updates: int = 0
    skipped: int = 0  # hops the model skipped (behind real time)
    ui_skipped: int = 0  # updates the page merged into later ones
    notices: list[dict] = field(default_factory=list)
    push: int = 0
    state: str = "idle"  # idle | starting | live | stopping | ended | refused
    reason: str | None = None  # why a recording was refused: mono | no_mic
    error: str | None = None  # the server's (English) message, or the browser's
    error_code: str | None = None  # the server's error code, or the browser's microphone error name
    close_code: int | None = None  # the WebSocket closed without saying why (no error message came)
    result: dict | None = None  # the stream's closing message

    def cards(self, lang: str) -> str:
        if self.state == "refused":
            if self.reason == "mono":
                text = t("live_refuse_mono", lang)
            else:
                why = MIC_ERRORS.get(self.error_code or "")
                text = t("live_no_mic", lang, error=t(why, lang) if why else self.error or "-")
            return f'<div id="live-status" data-push="{self.push}" class="warn">{esc(text)}</div>'
        return live_cards(
            self.rows,
            lang,
            self.seconds,
            self.updates,
            self.skipped,
            self.notice_texts(),
            self.push,
            self.ui_skipped,
        )

    def timeline(self, lang: str) -> str:
        return live_timeline(self.rows, lang, self.seconds)

    def ending(self, lang: str) -> str:
        """The closing message (HTML): the saved run, why nothing was saved, or "saving…"."""
        if self.result is not None:
            doc = self.result
            return ending_html(Ending(doc.get("reason", "stop"), doc.get("run_id"), doc), lang)
        if (self.error or self.close_code is not None) and self.state == "ended":
            return ending_html(Ending("error", error=EmoStudioError(self.error_text(lang))), lang)
        if self.state == "stopping":
            return f'<div class="muted">{esc(t("live_stopping", lang))}</div>'
        return ""

    def error_text(self, lang: str) -> str:
        """Why the stream ended without a result, in `lang`: the catalogue's sentence for the server's code
        (Chinese; English keeps the server's message with its detail), else the closed connection's code."""
        code = self.error_code
        if code in ERRORS:
            return code_text(code, lang, self.error or t("live_stream_error", lang, code=code))
        if code:
            return self.error if lang == "en" and self.error else t("live_stream_error", lang, code=code)
        if self.close_code is not None:
            return t("live_closed", lang, code=self.close_code)
        return self.error or "-"

    def notice_texts(self) -> list[dict]:
        """The stream's notices as {zh, en}: the stream's own, or the catalogue's for a code it names."""
        out = []
        for m in self.notices:
            key = f"live_notice_{m.get('code')}"
            if "zh" in m and "en" in m:
                out.append(m)
            elif key in CATALOGUE:
                out.append({lang: t(key, lang) for lang in ("zh", "en")})
        return out


# the browser's getUserMedia error names → why it gave no microphone
MIC_ERRORS = {
    "NotAllowedError": "live_mic_denied",
    "SecurityError": "live_mic_denied",
    "NotFoundError": "live_mic_missing",
    "OverconstrainedError": "live_mic_missing",
    "NotReadableError": "live_mic_busy",
    "AbortError": "live_mic_busy",
    "TypeError": "live_mic_insecure",  # no navigator.mediaDevices: not a secure (https / localhost) page
}


# ---- plain functions: values in, values out -----------------------------------------------------------------------


def _num(v, default: float = 0.0) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else default


def snapshot_view(text: str | None) -> LiveView:
    """The page's JSON snapshot of its stream → a LiveView (an empty one for nothing or broken JSON)."""
    try:
        doc = json.loads(text or "null")
    except json.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict):
        return LiveView()
    rows = {}
    for row in (doc.get("rows") or {}).values():
        if not isinstance(row, dict) or not isinstance(row.get("current"), dict):
            continue
        lane = Lane(str(row.get("role") or ""))
        lane.segments = [(_num(a), _num(b), str(c)) for a, b, c in row.get("segments") or []]
        lane.points = [(_num(a), _num(b)) for a, b in row.get("points") or []]
        lane.current = row["current"]
        rows[row.get("channel")] = lane
    text_or_none = lambda v: None if v is None else str(v)  # noqa: E731
    return LiveView(
        rows=rows,
        seconds=_num(doc.get("seconds")),
        updates=int(_num(doc.get("updates"))),
        skipped=int(_num(doc.get("skipped"))),
        ui_skipped=int(_num(doc.get("ui_skipped"))),
        notices=[m for m in doc.get("notices") or [] if isinstance(m, dict)],
        push=int(_num(doc.get("push"))),
        state=str(doc.get("state") or "idle"),
        reason=text_or_none(doc.get("reason")),
        error=text_or_none(doc.get("error")),
        error_code=text_or_none(doc.get("error_code")),
        close_code=int(doc["close_code"]) if isinstance(doc.get("close_code"), int) else None,
        result=doc["result"] if isinstance(doc.get("result"), dict) else None,
    )


def show_snapshot(text: str | None, choice: str) -> tuple[str, str, str]:
    """(cards, timeline, closing message) of the page's snapshot, in the chosen language."""
    view, lang = snapshot_view(text), lang_of(choice)
    return view.cards(lang), view.timeline(lang), view.ending(lang)


def _warn(text: str) -> str:
    return f'<div id="live-status" class="warn">{esc(text)}</div>'


def begin_recording(hub, channel_mode: str, role_text: str | None, choice: str) -> tuple[str, str, str, str]:
    """Record pressed: (the page's start order as JSON — a one-time WebSocket ticket, the mode, the roles — or ""
    when refused; the cards; the timeline; the closing message). Bad roles are refused here, before the page
    opens the microphone."""
    lang = lang_of(choice)
    try:
        roles = roles_of(role_text)
    except BadRolesError as exc:
        return "", _warn(error_text(exc, lang, name=role_text)), "", ""
    speakers = 2 if channel_mode == "separate" else 1
    if roles and len(roles) > speakers:
        return "", _warn(t("live_roles_too_many", lang, n=len(roles), k=speakers)), "", ""
    order = {"ticket": hub.issue_ticket(), "mode": channel_mode if channel_mode in MODES else "mix"}
    if roles:
        order["roles"] = roles
    return json.dumps(order), LiveView().cards(lang), "", ""


def call_cleared() -> tuple:
    """The call tab's result, view and downloads emptied (before each analysis: a failure leaves nothing old)."""
    return None, "", None


async def analyse_call_file(service: Service, path, role_text, choice, progress=None) -> tuple:
    """Analyse a two-party call, each channel its own speaker: (result.json, its HTML view, the downloads:
    result.json, the per-channel frames, a zip of the run). A user's mistake is a toast in the UI's language
    (one log line)."""
    lang = lang_of(choice)
    if not path:
        raise user_error(t("call_need_audio", lang))
    name = os.path.basename(path)
    step = None if progress is None else (lambda f, key: progress(f, desc=t(key, lang)))
    try:
        role_list = roles_of(role_text)
        done = await service.analyze(
            Path(path), name=name, granularity="frame", channels="separate", roles=role_list, progress=step
        )
    except BadRolesError as exc:
        raise user_error(error_text(exc, lang, name=role_text), exc) from None
    except UsageError as exc:  # with the options fixed here, only more roles than the file has channels
        said = t("call_roles_mismatch", lang, name=name, n=len(role_list or [])) if lang == "zh" else str(exc)
        raise user_error(said, exc) from None
    except EmoStudioError as exc:
        raise user_error(error_text(exc, lang, name=name), exc) from None
    doc = done.to_dict()
    files = run_downloads(done.run_dir, service.settings.outputs / ".gradio" / "zips")
    return doc, call_html(doc, lang), gr.update(value=files, label=t("files", lang))


def relabel_updates(snapshot: str | None, choice: str, doc: dict | None) -> tuple:
    """Both tabs' labels, the live view and the call result in the chosen language."""
    lang = lang_of(choice)
    view = snapshot_view(snapshot)
    return (
        gr.update(value=t("live_record", lang)),
        gr.update(value=t("live_stop", lang)),
        gr.update(label=t("live_mode", lang), choices=choices("live_modes", MODES, lang)),
        gr.update(label=t("live_roles", lang)),
        view.cards(lang),
        view.timeline(lang),
        view.ending(lang),
        gr.update(label=t("call_in", lang)),
        gr.update(label=t("live_roles", lang)),
        gr.update(value=t("call_go", lang)),
        call_html(doc, lang),
        gr.update(label=t("files", lang)),
    )


# ---- layout and wiring --------------------------------------------------------------------------------------------


@dataclass
class LiveTab:
    tab: gr.Tab
    record: gr.Button
    stop: gr.Button
    mode: gr.Radio
    roles: gr.Textbox
    order: gr.Textbox  # hidden: the start order for the page's script
    events: gr.Textbox  # hidden: the page's snapshot of its stream
    cards: gr.HTML
    strip: gr.HTML
    saved: gr.HTML


@dataclass
class CallTab:
    tab: gr.Tab
    audio: gr.Audio
    roles: gr.Textbox
    go: gr.Button
    out: gr.HTML
    doc: gr.State
    files: gr.File


def _live_layout() -> LiveTab:
    with gr.Tab(t("tab_live", "zh"), id="live") as tab, gr.Row():
        with gr.Column(scale=2):
            with gr.Row():
                record = gr.Button(t("live_record", "zh"), variant="primary", elem_id="live-record")
                stop = gr.Button(t("live_stop", "zh"), variant="stop", elem_id="live-stop")
            mode = gr.Radio(
                choices("live_modes", MODES, "zh"),
                value="mix",
                label=t("live_mode", "zh"),
                elem_id="live-mode",
            )
            roles = gr.Textbox(label=t("live_roles", "zh"), elem_id="live-roles")
            order = gr.Textbox(elem_id="live-order", elem_classes=["es-hidden"], show_label=False)
            events = gr.Textbox(elem_id="live-events", elem_classes=["es-hidden"], show_label=False)
        with gr.Column(scale=3):
            cards = gr.HTML(LiveView().cards("zh"), elem_id="live-card")
            strip = gr.HTML(elem_id="live-timeline")
            saved = gr.HTML(elem_id="live-result")
    return LiveTab(tab, record, stop, mode, roles, order, events, cards, strip, saved)


def _call_layout() -> CallTab:
    with gr.Tab(t("tab_call", "zh"), id="call") as tab, gr.Row():
        with gr.Column(scale=2):
            audio = gr.Audio(sources=["upload"], type="filepath", label=t("call_in", "zh"), elem_id="call-in")
            roles = gr.Textbox(label=t("live_roles", "zh"), elem_id="call-roles")
            go = gr.Button(t("call_go", "zh"), variant="primary", elem_id="call-go")
        with gr.Column(scale=3):
            out = gr.HTML(elem_id="call-result")
            files = gr.File(
                label=t("files", "zh"), file_count="multiple", interactive=False, elem_id="call-downloads"
            )
            doc = gr.State(None)
    return CallTab(tab, audio, roles, go, out, doc, files)


def _wire_live(service: Service, live: LiveTab, lang_in: gr.Radio) -> None:
    hub = live_hub(service)
    shown = [live.cards, live.strip, live.saved]

    def begin(channel_mode, role_text, choice):
        return begin_recording(hub, channel_mode, role_text, choice)

    live.record.click(
        begin, [live.mode, live.roles, lang_in], [live.order, *shown], show_progress="hidden"
    ).then(None, [live.order], None, js="(order) => window.esLive.start(order)")
    live.stop.click(None, None, None, js="() => window.esLive.stop()")
    live.events.change(
        show_snapshot, [live.events, lang_in], shown, trigger_mode="always_last", show_progress="hidden"
    )


def build_live_tabs(service: Service, lang_in: gr.Radio) -> tuple[gr.Tab, gr.Tab]:
    """Build the Live and Two-party call tabs inside the caller's `gr.Tabs()`; `lang_in` is the language radio."""
    live = _live_layout()
    call = _call_layout()
    _wire_live(service, live, lang_in)

    async def analyse_call(path, role_text, choice, progress=gr.Progress()):  # noqa: B008
        return await analyse_call_file(service, path, role_text, choice, progress)

    shown = [call.doc, call.out, call.files]
    call.go.click(call_cleared, None, shown, queue=False).then(
        analyse_call, [call.audio, call.roles, lang_in], shown, concurrency_limit=None
    )
    lang_in.change(
        relabel_updates,
        [live.events, lang_in, call.doc],
        [
            live.record,
            live.stop,
            live.mode,
            live.roles,
            *[live.cards, live.strip, live.saved],
            call.audio,
            call.roles,
            call.go,
            call.out,
            call.files,
        ],
    )
    return live.tab, call.tab


class BadRolesError(UsageError):
    """The roles field cannot be read as role names (said in the UI's language by `error_text`)."""

    code = "bad_roles"


def roles_of(text: str | None) -> list[str] | None:
    """ "agent, customer" → ["agent", "customer"]; None when empty; BadRolesError for a bad list."""
    try:
        return parse_roles(text)
    except UsageError as exc:
        raise BadRolesError(str(exc)) from exc
