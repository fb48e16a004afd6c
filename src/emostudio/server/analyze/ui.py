"""The Analyze, History and Compare tabs of the web UI: their layout, and their callbacks as plain functions.

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
from emostudio.model.labels import BY_KEY, emotion_name
from emostudio.options import DEFAULT_TEXT_WEIGHT
from emostudio.render import result as render
from emostudio.runs import AUDIO_FILE, RunFolder, write_zip
from emostudio.server.analyze.service import Service
from emostudio.server.analyze.text_fields import apply_text
from emostudio.server.ui_common import Labels, user_error

# ---- plain functions: values in, values out -----------------------------------------------------------------------


def granularity_choices(lang: str) -> list[tuple[str, str]]:
    return [(t("utterance", lang), "utterance"), (t("frame", lang), "frame")]


def upload_label(service: Service, lang: str) -> str:
    limit = t("upload_limit", lang, size=format_size(service.settings.max_upload_bytes))
    return t("audio_limit", lang, audio=t("audio", lang), limit=limit)


def history_rows(service: Service, lang: str) -> pd.DataFrame:
    """The History table in `lang`: run, time, file, emotion, confidence, granularity (newest first)."""
    runs = service.list_runs(limit=100)["runs"]
    return pd.DataFrame(
        [
            [
                r["run_id"],
                r.get("timestamp"),
                r.get("source"),
                emotion_name(r["emotion"], lang) if r.get("emotion") in BY_KEY else "",
                f"{(r.get('confidence') or 0) * 100:.1f}%",
                render.granularity_name(r.get("granularity"), lang),
            ]
            for r in runs
        ],
        columns=list(t("history_cols", lang)),
    )


def run_choices(service: Service, lang: str) -> list[tuple[str, str]]:
    """(label, run id) of the saved runs with a known emotion, for the Compare tab's dropdowns."""
    out = []
    for r in service.list_runs(limit=100)["runs"]:
        if r.get("emotion") not in BY_KEY:
            continue
        label = f"{r.get('source')} · {emotion_name(r['emotion'], lang)} {(r.get('confidence') or 0) * 100:.0f}% · {r['run_id']}"
        out.append((label, r["run_id"]))
    return out


def downloads(service: Service, doc: dict) -> list[str]:
    """The run's files and a zip of its folder (written under <outputs>/.gradio/zips), as paths for gr.File."""
    folder = service.run_dir(doc["run_id"])
    zips = service.settings.outputs / ".gradio" / "zips"
    paths = [str(folder / n) for n in RunFolder(folder.name, folder).files()]
    return [*paths, str(write_zip(folder, zips / f"{folder.name}.zip"))]


def render_result(doc: dict | None, lang: str) -> tuple:
    """The Analyze tab's result views (card, bars, timeline, strip, table, player, quality, enhancement)."""
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
    )


def cleared() -> tuple:
    """Every analysis output emptied: after an error nothing of the previous result stays on screen."""
    return (None, *render_result(None, "zh"), gr.update(visible=False), None, None, None)


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
) -> tuple:
    """Analyse one upload or recording: (result.json, the result views, enhancement row, before, after, files).

    `progress(fraction, desc=...)` (Gradio's tracker) is told each stage in the user's language when given."""
    lang = lang_of(choice)
    if not path:
        raise user_error(t("no_audio", lang))
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
        )
        done = await apply_text(service, done, text, text_weight)  # the transcript's `text` block
    except EmoStudioError as exc:
        size = format_size(service.settings.max_upload_bytes)
        raise user_error(error_text(exc, lang, name=name, size=size), exc) from None
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


def selected_row(index) -> int | None:
    """The row of a Gradio select event's index ([row, column] for tables)."""
    return index[0] if isinstance(index, list | tuple) else index


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


def history_updates(service: Service, choice: str) -> tuple:
    """The History table and both Compare dropdowns' choices, in the chosen language."""
    lang = lang_of(choice)
    runs = run_choices(service, lang)
    return history_rows(service, lang), gr.update(choices=runs), gr.update(choices=runs)


def render_opened(service: Service, doc: dict | None, lang: str) -> tuple:
    """The History tab's views of an opened run (card, bars, timeline, quality, files)."""
    if not doc:
        return "", "", "", "", gr.update(value=None, label=t("files", lang))
    return (
        render.card(doc, lang),
        render.score_bars(doc, lang, "history-bars"),
        render.timeline(doc, lang, "hi"),
        render.quality(doc, lang),
        gr.update(value=downloads(service, doc), label=t("files", lang)),
    )


def open_history_row(service: Service, table: pd.DataFrame, choice: str, row: int | None) -> tuple:
    """Open the run on `row` of the History table: (its result.json, its views); a toast when it cannot be read."""
    lang = lang_of(choice)
    try:
        if row is None:
            raise IndexError("no row selected")
        run_id = str(table.iloc[row, 0])
        doc = service.read_run(run_id)
    except (EmoStudioError, IndexError, KeyError, ValueError) as exc:
        raise user_error(error_text(exc, lang), exc) from None
    return (doc, *render_opened(service, doc, lang))


def compare_sides(a_path: str | None, b_path: str | None, a_run: str | None, b_run: str | None) -> list[dict]:
    """The two sides of a comparison: a chosen run wins over an upload on the same side."""
    sides: list[dict] = []
    for p, r in ((a_path, a_run), (b_path, b_run)):
        if r:
            sides.append({"run_id": r})
        elif p:
            sides.append({"source": Path(p), "name": os.path.basename(p)})
    return sides


async def compare_takes(service: Service, a_path, b_path, a_run, b_run, choice: str) -> tuple[dict, str]:
    """Compare two takes (uploads or saved runs): (the comparison document, its HTML view)."""
    lang = lang_of(choice)
    sides = compare_sides(a_path, b_path, a_run, b_run)
    if len(sides) != 2:
        raise user_error(t("need_two", lang))
    try:
        out = await service.compare(*sides)
    except EmoStudioError as exc:
        raise user_error(error_text(exc, lang), exc) from None
    return out, render.comparison(out, lang)


# ---- layout and wiring --------------------------------------------------------------------------------------------


@dataclass
class AnalyzeInputs:
    audio: gr.Audio
    examples: Any  # what gr.Examples returns (its `.dataset` follows the language)
    granularity: gr.Radio
    embedding: gr.Checkbox
    enhance: gr.Checkbox
    text: gr.Textbox
    text_weight: gr.Slider
    go: gr.Button


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
    emb = L.add(gr.Checkbox(False, label=t("embedding"), elem_id="embedding"), "label", "embedding")
    enh = L.add(gr.Checkbox(False, label=t("enhance"), elem_id="enhance"), "label", "enhance")
    text_in = L.add(gr.Textbox(label=t("transcript"), lines=3, elem_id="text-in"), "label", "transcript")
    text_w = L.add(
        gr.Slider(0, 1, DEFAULT_TEXT_WEIGHT, step=0.05, label=t("text_weight"), elem_id="text-weight"),
        "label",
        "text_weight",
    )
    go = L.add(gr.Button(t("analyze"), variant="primary", elem_id="analyze-btn"), "value", "analyze")
    return AnalyzeInputs(audio_in, example_set, gran, emb, enh, text_in, text_w, go)


def _results_column(L: Labels) -> ResultViews:
    card = gr.HTML(elem_id="result-card")
    bars = gr.HTML(elem_id="score-chart")
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
        card, bars, line, seg_html, seg_table, seg_player, quality, enh_html, enh_row, before, after, files
    )


def build_analyze_tab(
    service: Service, L: Labels, lang_in: gr.Radio, last: gr.State, examples: list[tuple[Path, Example]]
) -> None:
    """The Analyze tab (inside gr.Tabs): inputs left, results right; `last` holds the result.json shown."""
    with L.add(gr.Tab(t("tab_analyze"), id="analyze"), "label", "tab_analyze"), gr.Row():
        with gr.Column(scale=2):
            inp = _inputs_column(service, L, examples)
        with gr.Column(scale=3):
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
        progress=gr.Progress(),  # noqa: B008
    ):
        return await analyze_audio(
            service, path, granularity, embedding, enhance, text, text_weight, choice, progress
        )

    inp.go.click(cleared, None, outputs, queue=False).then(
        analyze,
        [inp.audio, inp.granularity, inp.embedding, inp.enhance, inp.text, inp.text_weight, lang_in],
        outputs,
        concurrency_limit=None,
    )

    def play_segment(doc, evt: gr.SelectData):
        """The clicked segment of the run's processed audio, as a clip for the player."""
        clip = segment_clip(service, doc, selected_row(evt.index))
        return gr.update(value=clip, visible=clip is not None)

    res.seg_table.select(play_segment, [last], res.seg_player)

    def relabel(choice, doc):
        lang = lang_of(choice)
        return (
            gr.update(choices=granularity_choices(lang), label=t("granularity", lang)),
            gr.update(label=upload_label(service, lang)),
            gr.update(label=t("examples", lang), sample_labels=[t(ex.text_key, lang) for _, ex in examples]),
            *render_result(doc, lang),
        )

    lang_in.change(relabel, [lang_in, last], [inp.granularity, inp.audio, inp.examples.dataset, *res.views()])


@dataclass
class HistoryTab:
    tab: gr.Tab
    refresh: gr.Button
    table: gr.Dataframe
    views: list  # the outputs of `render_opened`, in its order
    opened: gr.State  # the run opened on the History tab


@dataclass
class CompareTab:
    tab: gr.Tab
    clip_a: gr.Audio
    clip_b: gr.Audio
    run_a: gr.Dropdown
    run_b: gr.Dropdown
    go: gr.Button
    out: gr.HTML
    compared: gr.State  # the last comparison shown


def _history_layout(service: Service, L: Labels) -> HistoryTab:
    with L.add(gr.Tab(t("tab_history"), id="history"), "label", "tab_history") as tab:
        refresh = L.add(gr.Button(t("refresh"), elem_id="history-refresh"), "value", "refresh")
        L.add(gr.Markdown(t("history_open")), "value", "history_open")
        table = gr.Dataframe(history_rows(service, "zh"), interactive=False, elem_id="history")
        views = [
            gr.HTML(elem_id="history-card"),
            gr.HTML(elem_id="history-scores"),
            gr.HTML(elem_id="history-timeline"),
            gr.HTML(elem_id="history-quality"),
            gr.File(label=t("files"), file_count="multiple", interactive=False, elem_id="history-downloads"),
        ]
        opened = gr.State(None)
    return HistoryTab(tab, refresh, table, views, opened)


def _take_column(L: Labels, side: str) -> tuple[gr.Audio, gr.Dropdown]:
    """One side of the Compare tab: a clip to upload or record, or a saved run."""
    clip = L.add(
        gr.Audio(
            sources=["upload", "microphone"], type="filepath", label=t(f"clip_{side}"), elem_id=f"clip-{side}"
        ),
        "label",
        f"clip_{side}",
    )
    run = L.add(gr.Dropdown([], label=t(f"run_{side}"), elem_id=f"run-{side}"), "label", f"run_{side}")
    return clip, run


def _compare_layout(L: Labels) -> CompareTab:
    with L.add(gr.Tab(t("tab_compare"), id="compare"), "label", "tab_compare") as tab:
        with gr.Row():
            with gr.Column():
                clip_a, run_a = _take_column(L, "a")
            with gr.Column():
                clip_b, run_b = _take_column(L, "b")
        go = L.add(gr.Button(t("compare"), variant="primary", elem_id="compare-btn"), "value", "compare")
        out = gr.HTML(elem_id="comparison-view")
        compared = gr.State(None)
    return CompareTab(tab, clip_a, clip_b, run_a, run_b, go, out, compared)


def build_history_and_compare_tabs(service: Service, L: Labels, lang_in: gr.Radio) -> None:
    """The History tab (saved runs; a click opens one) and the Compare tab (two takes side by side)."""
    hist = _history_layout(service, L)
    cmp = _compare_layout(L)

    def show_history(choice):
        return history_updates(service, choice)

    for trigger in (hist.refresh.click, hist.tab.select, cmp.tab.select):
        trigger(show_history, lang_in, [hist.table, cmp.run_a, cmp.run_b])

    def open_run(table, choice, evt: gr.SelectData):
        return open_history_row(service, table, choice, selected_row(evt.index))

    hist.table.select(open_run, [hist.table, lang_in], [hist.opened, *hist.views])

    async def compare(a_path, b_path, a_run, b_run, choice):
        return await compare_takes(service, a_path, b_path, a_run, b_run, choice)

    cmp.go.click(
        compare,
        [cmp.clip_a, cmp.clip_b, cmp.run_a, cmp.run_b, lang_in],
        [cmp.compared, cmp.out],
        concurrency_limit=None,
    )

    def relabel(choice, opened_doc, compared_doc):
        lang = lang_of(choice)
        return (
            history_rows(service, lang),
            *render_opened(service, opened_doc, lang),
            render.comparison(compared_doc, lang) if compared_doc else "",
        )

    lang_in.change(relabel, [lang_in, hist.opened, cmp.compared], [hist.table, *hist.views, cmp.out])
