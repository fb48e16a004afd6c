"""The History tab (saved runs; a click opens one) and the Compare tab (two takes side by side) of the web UI:
their layout, and their callbacks as plain functions (values in, values out, the Service first) that unit tests
call without a browser. Texts from `emostudio.messages`, views from `emostudio.render`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd

from emostudio.errors import EmoStudioError
from emostudio.messages import error_text, lang_of, t
from emostudio.model.labels import BY_KEY, emotion_name
from emostudio.render import result as render
from emostudio.render.html import local_time
from emostudio.render.speakers import speakers_view
from emostudio.server.analyze.service import Service
from emostudio.server.ui_common import Labels, run_downloads, user_error

# ---- plain functions: values in, values out -----------------------------------------------------------------------


def downloads(service: Service, doc: dict) -> list[str]:
    """The run's files and a zip of its folder (written under <outputs>/.gradio/zips), as paths for gr.File."""
    return run_downloads(service.run_dir(doc["run_id"]), service.settings.outputs / ".gradio" / "zips")


def selected_row(index) -> int | None:
    """The row of a Gradio select event's index ([row, column] for tables)."""
    return index[0] if isinstance(index, list | tuple) else index


def history_rows(service: Service, lang: str) -> pd.DataFrame:
    """The History table in `lang`: run, time, file, emotion, confidence, granularity (newest first)."""
    runs = service.list_runs(limit=100)["runs"]
    return pd.DataFrame(
        [
            [
                r["run_id"],
                local_time(r.get("timestamp")),
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


def history_updates(service: Service, choice: str) -> tuple:
    """The History table and both Compare dropdowns' choices, in the chosen language."""
    lang = lang_of(choice)
    runs = run_choices(service, lang)
    return history_rows(service, lang), gr.update(choices=runs), gr.update(choices=runs)


def render_opened(service: Service, doc: dict | None, lang: str) -> tuple:
    """The History tab's views of an opened run, the same as Analyze shows: card, bars, timeline, segments
    (strip and table), quality, enhancement, speaker turns (strip and cards), and the files (hidden until a run is opened)."""
    segs = render.segment_rows(doc, lang)
    return (
        render.card(doc, lang),
        render.score_bars(doc, lang, "history-bars"),
        render.timeline(doc, lang, "hi"),
        render.segments_strip(doc, lang),
        gr.update(value=pd.DataFrame(segs, columns=list(t("segment_cols", lang))), visible=len(segs) > 1),
        render.quality(doc, lang),
        render.enhancement(doc, lang),
        speakers_view(doc, lang, "history-"),
        gr.update(
            value=downloads(service, doc) if doc else None, label=t("files", lang), visible=doc is not None
        ),
    )


def open_history_row(
    service: Service, table: pd.DataFrame, choice: str, row: int | None, row_value: list | None = None
) -> tuple:
    """Open the run on `row` of the History table: (its result.json, its views); a toast when it cannot be read.

    `row_value` (the clicked row's cells, as the browser showed them) wins over `row`: the table may have been
    refreshed, newest first, between the click and the event, and the run the user clicked is the one opened.
    """
    lang = lang_of(choice)
    try:
        if row_value:
            run_id = str(row_value[0])
        elif row is None:
            raise IndexError("no row selected")
        else:
            run_id = str(table.iloc[row, 0])
        doc = service.read_run(run_id)
    except (EmoStudioError, IndexError, KeyError, ValueError) as exc:
        raise user_error(error_text(exc, lang), exc) from None
    return (doc, *render_opened(service, doc, lang))


def picked(kind: str, value, last: str | None) -> str | None:
    """Which input of a Compare side the user chose last ("upload" or "run"), after its `kind` input changed
    to `value`: that one when it holds something; cleared, the side falls back to nothing chosen."""
    if value:
        return kind
    return None if last == kind else last


def compare_sides(
    a_path: str | None,
    b_path: str | None,
    a_run: str | None,
    b_run: str | None,
    a_last: str | None = None,
    b_last: str | None = None,
) -> list[dict]:
    """The two sides of a comparison. On each side the input chosen last (`a_last`/`b_last`: "upload" or
    "run", from `picked`) wins; without one a chosen run wins over an upload."""
    sides: list[dict] = []
    for p, r, last in ((a_path, a_run, a_last), (b_path, b_run, b_last)):
        if p and (last == "upload" or not r):
            sides.append({"source": Path(p), "name": os.path.basename(p)})
        elif r:
            sides.append({"run_id": r})
    return sides


async def compare_takes(
    service: Service, a_path, b_path, a_run, b_run, choice: str, a_last=None, b_last=None
) -> tuple[dict, str]:
    """Compare two takes (uploads or saved runs, the one chosen last on each side): (the comparison document,
    its HTML view)."""
    lang = lang_of(choice)
    sides = compare_sides(a_path, b_path, a_run, b_run, a_last, b_last)
    if len(sides) != 2:
        raise user_error(t("need_two", lang))
    try:
        out = await service.compare(*sides)
    except EmoStudioError as exc:
        raise user_error(error_text(exc, lang), exc) from None
    return out, render.comparison(out, lang)


# ---- layout and wiring --------------------------------------------------------------------------------------------


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
    clear_a: gr.Button
    clear_b: gr.Button
    last_a: gr.State  # "upload" | "run" | None: what side A's user chose last
    last_b: gr.State
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
            gr.HTML(elem_id="history-segments"),
            gr.Dataframe(interactive=False, visible=False, elem_id="history-segments-table"),
            gr.HTML(elem_id="history-quality"),
            gr.HTML(elem_id="history-enhancement"),
            gr.HTML(elem_id="history-speakers-view"),
            gr.File(
                label=t("files"),
                file_count="multiple",
                interactive=False,
                visible=False,
                elem_id="history-downloads",
            ),
        ]
        opened = gr.State(None)
    return HistoryTab(tab, refresh, table, views, opened)


def _take_column(L: Labels, side: str) -> tuple[gr.Audio, gr.Dropdown, gr.Button]:
    """One side of the Compare tab: a clip to upload or record, or a saved run, and a button clearing both."""
    clip = L.add(
        gr.Audio(
            sources=["upload", "microphone"], type="filepath", label=t(f"clip_{side}"), elem_id=f"clip-{side}"
        ),
        "label",
        f"clip_{side}",
    )
    run = L.add(gr.Dropdown([], label=t(f"run_{side}"), elem_id=f"run-{side}"), "label", f"run_{side}")
    clear = L.add(gr.Button(t(f"clear_{side}"), size="sm", elem_id=f"clear-{side}"), "value", f"clear_{side}")
    return clip, run, clear


def _compare_layout(L: Labels) -> CompareTab:
    with L.add(gr.Tab(t("tab_compare"), id="compare"), "label", "tab_compare") as tab:
        with gr.Row():
            with gr.Column():
                clip_a, run_a, clear_a = _take_column(L, "a")
            with gr.Column():
                clip_b, run_b, clear_b = _take_column(L, "b")
        go = L.add(gr.Button(t("compare"), variant="primary", elem_id="compare-btn"), "value", "compare")
        out = gr.HTML(elem_id="comparison-view")
        compared = gr.State(None)
        last_a, last_b = (
            gr.State(None),
            gr.State(None),
        )  # inside the tab: a State among the tabs confuses Gradio
    return CompareTab(tab, clip_a, clip_b, run_a, run_b, clear_a, clear_b, last_a, last_b, go, out, compared)


def _wire_sides(cmp: CompareTab) -> None:
    """Each side remembers which of its inputs was chosen last; its clear button empties both."""
    for clip, run, clear, last in (
        (cmp.clip_a, cmp.run_a, cmp.clear_a, cmp.last_a),
        (cmp.clip_b, cmp.run_b, cmp.clear_b, cmp.last_b),
    ):
        clip.change(lambda v, prev: picked("upload", v, prev), [clip, last], last, show_progress="hidden")
        run.input(lambda v, prev: picked("run", v, prev), [run, last], last, show_progress="hidden")
        clear.click(lambda: (None, None, None), None, [clip, run, last], show_progress="hidden")


def build_history_and_compare_tabs(service: Service, L: Labels, lang_in: gr.Radio) -> None:
    """The History tab (saved runs; a click opens one) and the Compare tab (two takes side by side)."""
    hist = _history_layout(service, L)
    cmp = _compare_layout(L)

    def show_history(choice):
        return history_updates(service, choice)

    for trigger in (hist.refresh.click, hist.tab.select, cmp.tab.select):
        trigger(show_history, lang_in, [hist.table, cmp.run_a, cmp.run_b])

    def open_run(table, choice, evt: gr.SelectData):
        return open_history_row(service, table, choice, selected_row(evt.index), evt.row_value)

    hist.table.select(open_run, [hist.table, lang_in], [hist.opened, *hist.views])

    async def compare(a_path, b_path, a_run, b_run, choice, a_last, b_last):
        return await compare_takes(service, a_path, b_path, a_run, b_run, choice, a_last, b_last)

    _wire_sides(cmp)
    cmp.go.click(
        compare,
        [cmp.clip_a, cmp.clip_b, cmp.run_a, cmp.run_b, lang_in, cmp.last_a, cmp.last_b],
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
