"""The web UI's Live tab (the browser microphone analysed as it speaks) and Two-party call tab (a stereo call
recording, each channel its own speaker).

Live: Gradio streams the microphone in 0.5 s WAV chunks; each goes into a server live stream
(`live.service`, the same limits, model worker and queue as WebSocket /v1/stream). The tab shows the current
label of each speaker, a scrolling timeline with the dominant-emotion strip and the window confidence, and when
recording stops the whole stream is analysed and saved as a run (it appears in History).
Two-party call: the upload is analysed with channels="separate"; the channels' timelines are drawn one above
the other. Texts come from `emostudio.messages`; the cards and SVG lanes from `emostudio.render.live`.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from emostudio.errors import EmoStudioError, UsageError
from emostudio.live.pcm import from_wav_bytes
from emostudio.messages import error_text, lang_of, t
from emostudio.options import parse_roles
from emostudio.render.html import esc
from emostudio.render.live import VIEW_S, Lane, call_html, ending_html, live_cards, live_timeline
from emostudio.server.analyze.service import Service
from emostudio.server.live.service import StreamParams, live_hub
from emostudio.server.ui_common import choices, run_downloads, user_error

__all__ = ["VIEW_S", "LiveView", "build_live_tabs", "call_html", "ending_html"]
MODES = ("mix", "separate")


@dataclass
class LiveView:
    """What the Live tab shows of one recording (kept in the browser session's gr.State)."""

    stream_id: str | None = None
    rows: dict = field(default_factory=dict)  # channel (None for the mix) → Lane
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
        row = self.rows.setdefault(ch, Lane(event["role"] or ""))
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

    def cards(self, lang: str) -> str:
        return live_cards(self.rows, lang, self.seconds, self.updates, self.skipped, self.notices)

    def timeline(self, lang: str) -> str:
        return live_timeline(self.rows, lang, self.seconds)


# ---- the tabs --------------------------------------------------------------------------------------------------
# ---- plain functions: values in, values out -----------------------------------------------------------------------


def session_key(request) -> str:
    """The browser session a Gradio request comes from."""
    return request.session_hash or "-"


def view_of(views: dict[str, LiveView], key: str) -> LiveView:
    """The LiveView of browser session `key` (a new one on first use)."""
    if key not in views:
        views[key] = LiveView()
    return views[key]


def start_view(views: dict[str, LiveView], key: str) -> LiveView:
    """The view when the microphone starts: a new one unless a recording of `key` is still active; finished
    recordings of other browser sessions are dropped (their pages have the result)."""
    current = views.get(key)
    if current is None or current.ended is not None:  # a new recording (an active one is kept)
        for k in [k for k, v in views.items() if v.ended is not None and k != key]:
            del views[k]
        views[key] = LiveView()
    return views[key]


async def push_chunk(hub, view: LiveView, path, channel_mode: str, role_text: str | None, lang: str) -> tuple:
    """Feed one microphone chunk (a WAV file Gradio saved) to the view's live stream, opened on the first chunk:
    (cards, timeline, closing message or gr.skip()). Problems are said in the view, never raised."""
    if not path or view.ended is not None:
        return gr.skip(), gr.skip(), gr.skip()
    try:
        rate, count, chunk = from_wav_bytes(view.chunk_bytes(path))
        if view.stream_id is None:
            params = StreamParams(
                rate, "s16le", count, channel_mode, roles_of(role_text), name="microphone (web)"
            )
            view.stream_id = (await hub.open(params)).id
        current = hub.sessions.get(view.stream_id)
        if current is None:  # ended meanwhile (idle timeout): nothing more to do for this recording
            view.ended = esc(t("live_ended_idle", lang))
            return view.cards(lang), view.timeline(lang), view.ended
        await current.push(chunk)
        for event in current.drain():
            view.add(event)
    except EmoStudioError as exc:  # too many streams, a busy queue, no model, a bad chunk: said, not raised
        view.ended = f'<div class="warn">{esc(error_text(exc, lang, name=role_text))}</div>'
        if view.stream_id and (failed := hub.sessions.get(view.stream_id)) is not None:
            await failed.end("error", save=False)
        return view.cards(lang), view.timeline(lang), view.ended
    return view.cards(lang), view.timeline(lang), gr.skip()


async def stop_view(hub, view: LiveView, lang: str) -> tuple:
    """End the view's stream when the microphone stops (its closing pass saves a run): (cards, timeline, ending)."""
    if view.stream_id is None or view.ended is not None:
        return gr.skip(), gr.skip(), gr.skip()
    session = hub.sessions.get(view.stream_id)
    if session is None:
        view.ended = esc(t("live_ended_idle", lang))
    else:
        ending = await session.end("stop")
        for event in session.drain():
            view.add(event)
        view.ended = ending_html(ending, lang)
    return view.cards(lang), view.timeline(lang), view.ended


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


def relabel_updates(view: LiveView, choice: str, doc: dict | None) -> tuple:
    """Both tabs' labels, the live view and the call result in the chosen language."""
    lang = lang_of(choice)
    return (
        gr.update(label=t("live_mic", lang)),
        gr.update(label=t("live_mode", lang), choices=choices("live_modes", MODES, lang)),
        gr.update(label=t("live_roles", lang)),
        view.cards(lang),
        view.timeline(lang),
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
    mic: gr.Audio
    mode: gr.Radio
    roles: gr.Textbox
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
            mic = gr.Audio(
                sources=["microphone"],
                streaming=True,
                type="filepath",
                label=t("live_mic", "zh"),
                elem_id="live-mic",
            )
            mode = gr.Radio(
                choices("live_modes", MODES, "zh"),
                value="mix",
                label=t("live_mode", "zh"),
                elem_id="live-mode",
            )
            roles = gr.Textbox(label=t("live_roles", "zh"), elem_id="live-roles")
        with gr.Column(scale=3):
            cards = gr.HTML(LiveView().cards("zh"), elem_id="live-card")
            strip = gr.HTML(elem_id="live-timeline")
            saved = gr.HTML(elem_id="live-result")
    return LiveTab(tab, mic, mode, roles, cards, strip, saved)


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


def _wire_live(service: Service, live: LiveTab, lang_in: gr.Radio, views: dict[str, LiveView]) -> None:
    hub = live_hub(service)
    shown = [live.cards, live.strip, live.saved]

    def start(choice, request: gr.Request):
        return start_view(views, session_key(request)).cards(lang_of(choice)), "", ""

    async def on_chunk(path, channel_mode, role_text, choice, request: gr.Request):
        view = view_of(views, session_key(request))
        return await push_chunk(hub, view, path, channel_mode, role_text, lang_of(choice))

    async def stop(choice, request: gr.Request):
        return await stop_view(hub, view_of(views, session_key(request)), lang_of(choice))

    live.mic.start_recording(start, lang_in, shown)
    live.mic.stream(
        on_chunk,
        [live.mic, live.mode, live.roles, lang_in],
        shown,
        stream_every=0.5,
        time_limit=service.settings.max_stream_s,
        concurrency_limit=max(1, service.settings.max_streams or 1),
        show_progress="hidden",
    )
    live.mic.stop_recording(stop, [lang_in], shown)


def build_live_tabs(service: Service, lang_in: gr.Radio) -> tuple[gr.Tab, gr.Tab]:
    """Build the Live and Two-party call tabs inside the caller's `gr.Tabs()`; `lang_in` is the language radio."""
    live = _live_layout()
    call = _call_layout()
    views: dict[str, LiveView] = {}  # browser session → what its Live tab shows (one recording at a time)
    _wire_live(service, live, lang_in, views)

    async def analyse_call(path, role_text, choice, progress=gr.Progress()):  # noqa: B008
        return await analyse_call_file(service, path, role_text, choice, progress)

    shown = [call.doc, call.out, call.files]
    call.go.click(call_cleared, None, shown, queue=False).then(
        analyse_call, [call.audio, call.roles, lang_in], shown, concurrency_limit=None
    )

    def relabel(choice, doc, request: gr.Request):
        return relabel_updates(views.get(session_key(request)) or LiveView(), choice, doc)

    lang_in.change(
        relabel,
        [lang_in, call.doc],
        [
            *(live.mic, live.mode, live.roles, live.cards, live.strip),
            *(call.audio, call.roles, call.go, call.out, call.files),
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
