"""The Analyze tab of the web UI: its layout, and its callbacks as plain functions (History and Compare: history_ui).

Every callback takes values and returns values (the Service first), so unit tests call it without a browser;
the `build_*` functions lay the components out and wire them to those callbacks. Inputs left, results right
(like the seed WebUI). Every text comes from `emostudio.messages` (zh/en), every chart and table from
`emostudio.render`.
"""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from emostudio.errors import EmoStudioError
from emostudio.examples import Example
from emostudio.messages import error_text, format_size, lang_of, t
from emostudio.options import DEFAULT_TEXT_WEIGHT, parse_speakers
from emostudio.render import result as render
from emostudio.render.speakers import speakers_view
from emostudio.runs import AUDIO_FILE
from emostudio.server.analyze import export_ui
from emostudio.server.analyze.history_ui import downloads, selected_row
from emostudio.server.analyze.service import Service
from emostudio.server.analyze.text_fields import apply_text
from emostudio.server.ui_common import Labels, error_notice

# ---- plain functions: values in, values out -----------------------------------------------------------------------


def granularity_choices(lang: str) -> list[tuple[str, str]]:
    return [(t("utterance", lang), "utterance"), (t("frame", lang), "frame")]


SPEAKER_CHOICES = ("off", "auto", "2", "3", "4")  # the Analyze tab's speaker-turn option (values)


def speaker_choices(lang: str) -> list[tuple[str, str]]:
    """The speaker-turn option's choices in `lang`: off, auto, at most 2 / 3 / 4."""
    names = {"off": t("speakers_off", lang), "auto": t("speakers_auto", lang)}
    return [(names.get(v) or t("speakers_n", lang, n=v), v) for v in SPEAKER_CHOICES]


def upload_label(service: Service, lang: str) -> str:
    limit = t("upload_limit", lang, size=format_size(service.settings.max_upload_bytes))
    return t("audio_limit", lang, audio=t("audio", lang), limit=limit)


def render_result(doc: dict | None, lang: str) -> tuple:
    """The Analyze tab's result views (card, bars, timeline, strip, table, player, quality, enhancement, and
    with speaker turns the speaker strip and cards)."""
    segs = render.segment_rows(doc, lang)
    return (
        render.card(doc, lang),
        render.score_bars(doc, lang),
        render.timeline(doc, lang, "an"),
        render.segments_strip(doc, lang),
        gr.update(value=pd.DataFrame(segs, columns=list(t("segment_cols", lang))), visible=len(segs) > 1),
        gr.update(value=None, visible=False, label=t("segment_player", lang)),
        render.quality(doc, lang),
        render.enhancement(doc, lang),
        speakers_view(doc, lang),
    )


def cleared() -> tuple:
    """Every analysis output emptied: after an error nothing of the previous result stays on screen."""
    return (None, *render_result(None, "zh"), gr.update(visible=False), None, None, None)


def failed(message: str, exc: BaseException | None = None) -> tuple:
    """Every analysis output emptied and the one message in the card's place (no red badge on each output)."""
    out = list(cleared())
    out[1] = error_notice(message, exc, "analyze-error")
    return tuple(out)


async def analyze_audio(
    service: Service,
    path: str | None,
    granularity: str,
    embedding: bool,
    enhance: bool,
    text: str | None,
    text_weight: float,
    choice: str,
    progress=None,
    speakers: str | None = None,
) -> tuple:
    """Analyse one upload or recording: (result.json, the result views, enhancement row, before, after, files);
    a user's mistake empties them all and says it once in the card's place (`failed`).

    `progress(fraction, desc=...)` (Gradio's tracker) is told each stage in the user's language when given;
    `speakers`: the speaker-turn option (off | auto | N)."""
    lang = lang_of(choice)
    if not path:
        return failed(t("no_audio", lang))
    name = os.path.basename(path)
    step = None if progress is None else (lambda f, key: progress(f, desc=t(key, lang)))
    try:
        done = await service.analyze(
            Path(path),
            name=name,
            granularity=granularity,
            embedding=embedding,
            enhance=enhance,
            progress=step,
            speakers=parse_speakers(speakers),
        )
        done = await apply_text(service, done, text, text_weight)  # the transcript's `text` block
    except EmoStudioError as exc:
        size = format_size(service.settings.max_upload_bytes)
        return failed(error_text(exc, lang, name=name, size=size), exc)
    doc = done.to_dict()
    enhanced = bool(doc.get("enhancement"))
    after_path = str(done.run_dir / AUDIO_FILE) if enhanced else None
    return (
        doc,
        *render_result(doc, lang),
        gr.update(visible=enhanced),
        path if enhanced else None,
        after_path,
        downloads(service, doc),
    )


def segment_clip(service: Service, doc: dict | None, row: int | None) -> str | None:
    """Segment `row` of the run's processed audio as a 16-bit mono WAV (cached under <outputs>/.gradio/segments);
    None when there is no such segment."""
    segs = (doc or {}).get("segments") or []
    if not doc or row is None or not 0 <= row < len(segs):
        return None
    folder = service.run_dir(doc["run_id"])
    seg = segs[row]
    segment_dir = service.settings.outputs / ".gradio" / "segments"
    out = segment_dir / f"{folder.name}_{row:03d}.wav"
    if not out.is_file():
        with wave.open(str(folder / AUDIO_FILE)) as w:
            rate = w.getframerate()
            w.setpos(int(seg["start_s"] * rate))
            frames = w.readframes(int((seg["end_s"] - seg["start_s"]) * rate))
        segment_dir.mkdir(parents=True, exist_ok=True)
        with wave.open(str(out), "wb") as o:
            o.setnchannels(1)
            o.setsampwidth(2)
            o.setframerate(rate)
            o.writeframes(frames)
    return str(out)


# ---- layout and wiring --------------------------------------------------------------------------------------------


@dataclass
class AnalyzeInputs:
    audio: gr.Audio
    examples: Any  # what gr.Examples returns (its `.dataset` follows the language)
    granularity: gr.Radio
    speakers: gr.Radio
    embedding: gr.Checkbox
    enhance: gr.Checkbox
    text: gr.Textbox
    text_weight: gr.Slider
    go: gr.Button
    exports: gr.CheckboxGroup


@dataclass
class ResultViews:
    card: gr.HTML
    bars: gr.HTML
    line: gr.HTML
    seg_html: gr.HTML
    seg_table: gr.Dataframe
    seg_player: gr.Audio
    quality: gr.HTML
    enh_html: gr.HTML
    speakers: gr.HTML
    enh_row: gr.Row
    before: gr.Audio
    after: gr.Audio
    files: gr.File

    def views(self) -> list:
        """The outputs of `render_result`, in its order."""
        return [
            self.card,
            self.bars,
            self.line,
            self.seg_html,
            self.seg_table,
            self.seg_player,
            self.quality,
            self.enh_html,
            self.speakers,
        ]


def _inputs_column(service: Service, L: Labels, examples: list[tuple[Path, Example]]) -> AnalyzeInputs:
    audio_in = gr.Audio(
        sources=["upload", "microphone"],
        type="filepath",
        label=upload_label(service, "zh"),
        elem_id="audio-in",
    )
    example_set = gr.Examples(
        [[str(p)] for p, _ in examples],
        inputs=[audio_in],
        label=t("examples", "zh"),
        example_labels=[t(ex.text_key, "zh") for _, ex in examples],
        elem_id="examples",
    )
    gran = gr.Radio(
        granularity_choices("zh"), value="utterance", label=t("granularity"), elem_id="granularity"
    )
    spk = gr.Radio(speaker_choices("zh"), value="off", label=t("speakers_option"), elem_id="speakers-option")
    emb = L.add(gr.Checkbox(False, label=t("embedding"), elem_id="embedding"), "label", "embedding")
    enh = L.add(gr.Checkbox(False, label=t("enhance"), elem_id="enhance"), "label", "enhance")
    text_in = L.add(gr.Textbox(label=t("transcript"), lines=3, elem_id="text-in"), "label", "transcript")
    text_w = L.add(
        gr.Slider(0, 1, DEFAULT_TEXT_WEIGHT, step=0.05, label=t("text_weight"), elem_id="text-weight"),
        "label",
        "text_weight",
    )
    exports = export_ui.export_boxes()
    go = L.add(gr.Button(t("analyze"), variant="primary", elem_id="analyze-btn"), "value", "analyze")
    return AnalyzeInputs(audio_in, example_set, gran, spk, emb, enh, text_in, text_w, go, exports)


def _results_column(L: Labels) -> ResultViews:
    card = gr.HTML(elem_id="result-card")
    bars = gr.HTML(elem_id="score-chart")
    speakers = gr.HTML(elem_id="speakers-view")  # with speaker turns: the strip above the timeline, the cards
    line = gr.HTML(elem_id="timeline-chart")
    seg_html = gr.HTML(elem_id="segments-strip")
    seg_table = gr.Dataframe(
        headers=list(t("segment_cols", "zh")), interactive=False, visible=False, elem_id="segments-table"
    )
    seg_player = gr.Audio(
        label=t("segment_player"), interactive=False, visible=False, elem_id="segment-player"
    )
    quality = gr.HTML(elem_id="quality-report")
    with gr.Row(visible=False) as enh_row:
        before = L.add(gr.Audio(label=t("before"), interactive=False, elem_id="before"), "label", "before")
        after = L.add(gr.Audio(label=t("after"), interactive=False, elem_id="after"), "label", "after")
    enh_html = gr.HTML(elem_id="enhancement-report")
    files = L.add(
        gr.File(label=t("files"), file_count="multiple", interactive=False, elem_id="downloads"),
        "label",
        "files",
    )
    return ResultViews(
        card,
        bars,
        line,
        seg_html,
        seg_table,
        seg_player,
        quality,
        enh_html,
        speakers,
        enh_row,
        before,
        after,
        files,
    )


def build_analyze_tab(
    service: Service, L: Labels, lang_in: gr.Radio, last: gr.State, examples: list[tuple[Path, Example]]
) -> None:
    """The Analyze tab (inside gr.Tabs): inputs left, results right; `last` holds the result.json shown."""
    with L.add(gr.Tab(t("tab_analyze"), id="analyze"), "label", "tab_analyze"), gr.Row():
        with gr.Column(scale=2):
            inp = _inputs_column(service, L, examples)
        with gr.Column(scale=3):
            adapted = export_ui.adapted_panel()
            res = _results_column(L)
    outputs = [last, *res.views(), res.enh_row, res.before, res.after, res.files]

    # Gradio finds the progress tracker by this default argument: its documented pattern
    async def analyze(
        path,
        granularity,
        embedding,
        enhance,
        text,
        text_weight,
        choice,
        speakers,
        progress=gr.Progress(),  # noqa: B008
    ):
        return await analyze_audio(
            service, path, granularity, embedding, enhance, text, text_weight, choice, progress, speakers
        )

    analysis = inp.go.click(cleared, None, outputs, queue=False).then(
        analyze,
        [
            inp.audio,
            inp.granularity,
            inp.embedding,
            inp.enhance,
            inp.text,
            inp.text_weight,
            lang_in,
            inp.speakers,
        ],
        outputs,
        concurrency_limit=None,
    )
    export_ui.wire(service, analysis, inp.go, inp.exports, adapted, last, res.files, lang_in)

    def play_segment(doc, evt: gr.SelectData):
        """The clicked segment of the run's processed audio, as a clip for the player."""
        clip = segment_clip(service, doc, selected_row(evt.index))
        return gr.update(value=clip, visible=clip is not None)

    res.seg_table.select(play_segment, [last], res.seg_player)

    def relabel(choice, doc):
        lang = lang_of(choice)
        return (
            gr.update(choices=granularity_choices(lang), label=t("granularity", lang)),
            gr.update(choices=speaker_choices(lang), label=t("speakers_option", lang)),
            gr.update(label=upload_label(service, lang)),
            gr.update(label=t("examples", lang), sample_labels=[t(ex.text_key, lang) for _, ex in examples]),
            *render_result(doc, lang),
        )

    lang_in.change(
        relabel,
        [lang_in, last],
        [inp.granularity, inp.speakers, inp.audio, inp.examples.dataset, *res.views()],
    )
