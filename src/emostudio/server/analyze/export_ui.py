"""The Analyze tab's annotation exports and adapted reading: the export boxes (TextGrid, ELAN, WebVTT, SRT,
RTTM), written into the run folder after each analysis and listed in the downloads, and the card of the
adapter's reading when the server has an active adapter (the base 9-class card stays below it).

Callbacks are plain functions (the Service first, values in, values out) so unit tests call them directly;
`export_boxes`, `adapted_panel` and `wire` are the Analyze tab's hooks. Texts: emostudio.messages; HTML:
emostudio.render.adapted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import gradio as gr

from emostudio.errors import EmoStudioError
from emostudio.export import RUN_FORMATS, SUFFIXES, check_available, export_run, parse_formats
from emostudio.messages import error_text, lang_of, t
from emostudio.render.adapted import adapted_card
from emostudio.render.html import notice
from emostudio.server.analyze.history_ui import downloads
from emostudio.server.analyze.service import Service
from emostudio.server.ui_common import choices, user_error


def export_choices(lang: str) -> list[tuple[str, str]]:
    """(label, format) of the export boxes in `lang`."""
    return choices("export_choices", RUN_FORMATS, lang)


def skipped_notes(skipped: dict[str, str], lang: str) -> str:
    """Why a ticked format was not written (no speaker turns for RTTM; a file changed since), as HTML."""
    lines = []
    for fmt, why in skipped.items():
        key = "ui_export_no_turns" if why == "no_turns" else "ui_export_edited"
        lines.append(notice(t(key, lang, fmt=SUFFIXES.get(fmt, fmt)), "muted", icon="ℹ "))
    return "".join(lines)


async def export_after_analysis(
    service: Service, doc: dict | None, formats: Sequence[str] | None, choice: str | None
) -> tuple:
    """Write the ticked formats into the shown run's folder: (result.json re-read, downloads, adapted card,
    notes on formats not written). Nothing to export: the downloads and the card of `doc` as they are."""
    lang = lang_of(choice)
    if not doc:
        return None, None, "", ""
    notes = ""
    if formats:
        try:
            chosen = parse_formats(list(formats))
            check_available(chosen)
            done = await asyncio.to_thread(export_run, service.run_dir(doc["run_id"]), chosen)
        except EmoStudioError as exc:
            raise user_error(error_text(exc, lang, name=doc.get("source") or doc["run_id"]), exc) from None
        notes = skipped_notes(done.skipped, lang)
        doc = service.read_run(doc["run_id"])
    return doc, downloads(service, doc), adapted_card(doc, lang), notes


def relabel(doc: dict | None, choice: str | None) -> tuple:
    """The export boxes and the adapted card in the chosen language."""
    lang = lang_of(choice)
    return (
        gr.update(
            choices=export_choices(lang), label=t("export_boxes", lang), info=t("export_boxes_info", lang)
        ),
        adapted_card(doc, lang),
    )


# ---- hooks of the Analyze tab -------------------------------------------------------------------------------------
def export_boxes() -> gr.CheckboxGroup:
    """The export boxes (inside the inputs column), none ticked."""
    return gr.CheckboxGroup(
        export_choices("zh"),
        value=[],
        label=t("export_boxes", "zh"),
        info=t("export_boxes_info", "zh"),
        elem_id="export-formats",
    )


def adapted_panel() -> tuple[gr.HTML, gr.HTML]:
    """(the adapted card, the export notes), above the result card."""
    return gr.HTML(elem_id="adapted-card", visible=False), gr.HTML(elem_id="export-notes", visible=False)


def wire(
    service: Service,
    analysis,  # the Gradio event of the analysis (what `.then(analyze, …)` returned)
    go: gr.Button,
    boxes: gr.CheckboxGroup,
    panel: tuple[gr.HTML, gr.HTML],
    last: gr.State,
    files: gr.File,
    lang_in: gr.Radio,
) -> None:
    """After a successful analysis: export the ticked formats and show the adapted reading; cleared with the
    other views when Analyze is pressed; relabelled on the language switch."""
    card, notes = panel

    async def after(doc, formats, choice):
        doc, shown, card_html, notes_html = await export_after_analysis(service, doc, formats, choice)
        return doc, shown, shown_html(card_html), shown_html(notes_html)

    def relabelled(doc, choice):
        boxes_update, card_html = relabel(doc, choice)
        return boxes_update, shown_html(card_html)

    go.click(lambda: (shown_html(""), shown_html("")), None, [card, notes], queue=False)
    analysis.success(after, [last, boxes, lang_in], [last, files, card, notes], concurrency_limit=None)
    lang_in.change(relabelled, [last, lang_in], [boxes, card])


def shown_html(html: str) -> dict:
    """An HTML component's update: hidden while empty (an empty one still takes room above the result card)."""
    return gr.update(value=html, visible=bool(html))
