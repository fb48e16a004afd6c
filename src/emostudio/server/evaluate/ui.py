"""The Evaluate tab of the web UI: evaluate the server's model on a labelled test set, see the report.

Upload a manifest with its audio files, or a zip (label folders, or a manifest with its audio), or name a folder
on the server (under the allowed roots); optionally pick an earlier evaluation as the baseline. The tab shows
the verdict, the metrics table, per-class scores, the confusion matrix, the reliability diagram, accuracy per
confidence band and accuracy over time (drawn in the UI's language from metrics.json), with the report files to
download. Same Evaluations object (and so the same queue, worker and report folders) as the REST API.
"""

from __future__ import annotations

import asyncio
import functools
import io
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import gradio as gr
import pandas as pd

from emostudio.errors import EmoStudioError
from emostudio.evaluate.charts import available as charts_available
from emostudio.evaluate.charts import report_charts
from emostudio.evaluate.manifest import ManifestError
from emostudio.evaluate.report import HTML_FILE, METRICS_FILE, PREDICTIONS_FILE
from emostudio.evaluate.run import status_reasons
from emostudio.messages import error_text, lang_of, t
from emostudio.model.labels import emotion_name
from emostudio.render.evaluate import verdict_html
from emostudio.server.evaluate.inputs import ForbiddenPathError, UploadError, stage_manifest_files
from emostudio.server.evaluate.service import Evaluations, evaluations_for
from emostudio.server.ui_common import choices, user_error

CLASS_MODES = ("all", "4")


def _pct(x) -> str:
    return "–" if x is None else f"{x * 100:.1f}%"


# ---------------------------------------------------------------------------------------------- starting
async def start_evaluation(
    evals: Evaluations,
    manifest: str | None,
    audio: list[str] | None,
    folder: str | None,
    classes: str = "all",
    baseline: str | None = None,
):
    """Stage what the user gave (copies of Gradio's uploaded files) and start the evaluation; returns the Job."""
    folder = (folder or "").strip() or None
    if not manifest and not folder:
        raise UploadError(t("eval_give_input", "en"))
    uploads: Path | None
    report_dir, uploads = evals.new_job_dirs()
    try:
        if folder and not manifest:
            man = await asyncio.to_thread(evals.manifest_from_server, folder, classes)
            shutil.rmtree(uploads, ignore_errors=True)
            uploads = None
        elif not manifest:  # not reached: a manifest or a folder was checked above
            raise UploadError(t("eval_give_input", "en"))
        elif Path(manifest).suffix.lower() == ".zip":
            archive = uploads / "archive.zip"
            await asyncio.to_thread(shutil.copyfile, manifest, archive)
            man = await asyncio.to_thread(evals.manifest_from_archive, archive, uploads, classes)
        else:
            m, saved = await asyncio.to_thread(stage_manifest_files, uploads, manifest, audio)
            man = await asyncio.to_thread(evals.manifest_from_files, m, saved, classes)
        job = await evals.start(man, report_dir, uploads, baseline=baseline or None)
    except BaseException:
        evals.discard(report_dir, uploads)
        raise
    # the past evaluations are named by what the person uploaded (not "data" or the staged "manifest.csv")
    evals.name_report(job.id, Path(manifest).name if manifest else None)
    return job


# --------------------------------------------------------------------------------------------- rendering
def metrics_frame(doc: dict | None, lang: str) -> pd.DataFrame:
    cols = list(t("eval_cols", lang))
    if not doc:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(
        [
            [
                name,
                m["n"],
                _pct(m["wa"]),
                _pct(m["ua"]),
                _pct(m["macro_f1"]),
                _pct(m["ece"]),
                "–" if m.get("nll") is None else f"{m['nll']:.3f}",
                "–" if m.get("brier") is None else f"{m['brier']:.3f}",
                m["failed"],
            ]
            for name, m in doc["models"].items()
        ],
        columns=cols,
    )


def class_frame(doc: dict | None, lang: str) -> pd.DataFrame:
    cols = list(t("eval_class_cols", lang))
    if not doc or not doc["models"]:
        return pd.DataFrame(columns=cols)
    m = next(iter(doc["models"].values()))
    rows = [
        [emotion_name(r["class"], lang), _pct(r["precision"]), _pct(r["recall"]), _pct(r["f1"]), r["support"]]
        for r in m.get("per_class", [])
    ]
    return pd.DataFrame(rows, columns=cols)


def _history_as_of(evals: Evaluations, report_id: str, doc: dict) -> list[dict]:
    """The runs of this test set up to this report (what its history chart showed when it was written)."""
    created = datetime.fromisoformat(doc["created"])
    runs = evals.history(report_id) if doc.get("history") else []
    return [e for e in runs if e.get("n") and datetime.fromisoformat(e["time"]) <= created]


@functools.lru_cache(maxsize=32)
def _charts(evals: Evaluations, report_id: str, stamp: float, lang: str) -> dict[str, bytes]:
    """The report's charts drawn in `lang` (cached per report, its metrics.json time and the language)."""
    doc = evals.status(report_id)["metrics"]
    return report_charts(doc, _history_as_of(evals, report_id, doc), lang)


def report_view(evals: Evaluations, report_id: str | None, lang: str) -> tuple:
    """(verdict html, metrics table, per-class table, confusion, reliability, bands and history images, files),
    every text and chart in `lang`."""
    from PIL import Image

    empty = ("", metrics_frame(None, lang), class_frame(None, lang), None, None, None, None, None)
    if not report_id:
        return empty
    status = evals.status(report_id)
    doc = status.get("metrics")
    if not doc:
        return (verdict_html(status, [], lang), *empty[1:])
    folder = evals.report_dir(report_id)
    pngs = (
        _charts(evals, report_id, (folder / METRICS_FILE).stat().st_mtime, lang) if charts_available() else {}
    )
    names = next(iter(doc["models"].values())).get("charts", {})

    def image(name: str | None):
        data = pngs.get(name or "")
        return Image.open(io.BytesIO(data)) if data else None

    files = [str(folder / n) for n in (HTML_FILE, METRICS_FILE, PREDICTIONS_FILE) if (folder / n).is_file()]
    return (
        verdict_html(status, status_reasons(doc, lang), lang),
        metrics_frame(doc, lang),
        class_frame(doc, lang),
        image(names.get("confusion_matrix")),
        image(names.get("reliability")),
        image(names.get("bands")),
        image("history.png"),
        files,
    )


def past_choices(evals: Evaluations, lang: str = "zh") -> list[tuple[str, str]]:
    """(label, id) of finished evaluations, newest first, for the baseline and history pickers."""
    out = []
    for e in evals.list_reports(limit=100)["evaluations"]:
        if e["state"] != "done":
            continue
        wa = e["models"][0]["wa"] if e.get("models") else None
        name = e.get("name") or Path(e["manifest"]).name
        label = t("eval_past_choice", lang, id=e["id"], name=name, wa=_pct(wa))
        out.append((label, e["id"]))
    return out


def start_error(exc: EmoStudioError, lang: str, folder: str | None) -> str:
    """What the tab says when an evaluation cannot start, in `lang`."""
    name = (folder or "").strip()
    if lang == "en":
        return str(exc)
    if isinstance(exc, ForbiddenPathError) and name:
        return t("eval_folder_refused", lang, name=name)
    if isinstance(exc, ManifestError) and name and "no such manifest or folder" in str(exc):
        return t("eval_folder_missing", lang, name=name)
    return error_text(exc, lang, name=name)


# ----------------------------------------------------------------------------------------------------- tab
def choice_updates(evals: Evaluations, choice: str | None = None) -> tuple:
    """The baseline and past-evaluation dropdowns' choices, in the chosen language."""
    ch = past_choices(evals, lang_of(choice))
    return gr.update(choices=ch), gr.update(choices=ch)


async def run_evaluation(
    evals: Evaluations, manifest_path, audio_paths, folder_text, cls, base, choice, progress=None
) -> tuple:
    """Start an evaluation and wait for it: (its id, the report views, the two dropdowns' updates).

    `progress(fraction, desc=...)` (Gradio's tracker) is told how many items are done when given."""
    lang = lang_of(choice)
    if not manifest_path and not (folder_text or "").strip():
        raise user_error(t("eval_need_input", lang))
    try:
        job = await start_evaluation(evals, manifest_path, audio_paths, folder_text, cls, base)
    except EmoStudioError as exc:
        raise user_error(start_error(exc, lang, folder_text), exc) from None
    tell = progress or (lambda *_a, **_k: None)
    tell(0.0, desc=t("eval_running", lang))
    while not job.task.done():
        p = job.progress
        if p is not None and p.total:
            tell(p.done / p.total, desc=t("eval_progress", lang, done=p.done, total=p.total))
        await asyncio.sleep(0.3)
    return (job.id, *report_view(evals, job.id, lang), *choice_updates(evals, choice))


def relabel_updates(evals: Evaluations, choice: str, report_id: str | None) -> tuple:
    """The tab's labels and the shown report in the chosen language."""
    lang = lang_of(choice)
    view = report_view(evals, report_id, lang)
    past_ch = past_choices(evals, lang)
    labels = (
        "eval_metrics",
        "eval_per_class",
        "eval_confusion",
        "eval_reliability",
        "eval_bands",
        "eval_history",
    )
    return (
        gr.update(value=t("eval_intro", lang)),
        gr.update(label=t("eval_manifest", lang)),
        gr.update(label=t("eval_audio", lang)),
        gr.update(label=t("eval_folder", lang)),
        gr.update(label=t("eval_classes", lang), choices=choices("eval_class_choices", CLASS_MODES, lang)),
        gr.update(label=t("eval_baseline", lang), choices=past_ch),
        gr.update(value=t("eval_run", lang)),
        gr.update(label=t("eval_past", lang), choices=past_ch),
        gr.update(value=t("refresh", lang)),
        view[0],
        *(gr.update(value=v, label=t(key, lang)) for v, key in zip(view[1:7], labels, strict=True)),
        gr.update(value=view[7], label=t("eval_files", lang)),
    )


# ------------------------------------------------------------------------------------------ layout and wiring
@dataclass
class EvalInputs:
    manifest: gr.File
    audio: gr.File
    folder: gr.Textbox
    classes: gr.Radio
    baseline: gr.Dropdown
    go: gr.Button
    past: gr.Dropdown
    refresh: gr.Button

    def labelled(self) -> list:
        """The inputs whose labels `relabel_updates` sets, in its order."""
        return [
            self.manifest,
            self.audio,
            self.folder,
            self.classes,
            self.baseline,
            self.go,
            self.past,
            self.refresh,
        ]


def _z(key: str) -> str:
    return t(key, "zh")


def _inputs_column() -> EvalInputs:
    manifest = gr.File(
        label=_z("eval_manifest"),
        file_types=[".csv", ".tsv", ".jsonl", ".zip"],
        type="filepath",
        elem_id="eval-manifest",
    )
    audio = gr.File(label=_z("eval_audio"), file_count="multiple", type="filepath", elem_id="eval-audio")
    folder = gr.Textbox(label=_z("eval_folder"), elem_id="eval-folder")
    classes = gr.Radio(
        choices("eval_class_choices", CLASS_MODES, "zh"),
        value="all",
        label=_z("eval_classes"),
        elem_id="eval-classes",
    )
    baseline = gr.Dropdown([], value=None, label=_z("eval_baseline"), elem_id="eval-baseline")
    go = gr.Button(_z("eval_run"), variant="primary", elem_id="eval-run")
    past = gr.Dropdown([], value=None, label=_z("eval_past"), elem_id="eval-past")
    refresh = gr.Button(_z("refresh"), size="sm", elem_id="eval-refresh")
    return EvalInputs(manifest, audio, folder, classes, baseline, go, past, refresh)


def _image(key: str, elem_id: str) -> gr.Image:
    # no floating label over the picture: each chart draws its own title above its plot
    return gr.Image(
        label=_z(key),
        show_label=False,
        buttons=["fullscreen"],
        type="pil",
        interactive=False,
        elem_id=elem_id,
    )


def _report_column() -> list:
    """The report views, in `report_view`'s order: verdict, metrics, per class, four charts, files."""
    verdict = gr.HTML(elem_id="eval-result")
    table = gr.Dataframe(
        metrics_frame(None, "zh"), label=_z("eval_metrics"), interactive=False, elem_id="eval-metrics"
    )
    per_class = gr.Dataframe(
        class_frame(None, "zh"), label=_z("eval_per_class"), interactive=False, elem_id="eval-per-class"
    )
    with gr.Row():
        confusion = _image("eval_confusion", "eval-confusion")
        reliability = _image("eval_reliability", "eval-reliability")
    with gr.Row():
        bands = _image("eval_bands", "eval-bands")
        history = _image("eval_history", "eval-history")
    files = gr.File(label=_z("eval_files"), file_count="multiple", interactive=False, elem_id="eval-files")
    return [verdict, table, per_class, confusion, reliability, bands, history, files]


def build_evaluate_tab(service, lang_in: gr.Radio) -> gr.Tab:
    """Add the Evaluate tab to the Blocks being built (call inside `gr.Tabs()`); relabels on `lang_in`."""
    evals = evaluations_for(service)
    with gr.Tab(_z("tab_evaluate"), id="evaluate") as tab:
        intro = gr.Markdown(_z("eval_intro"))
        current = gr.State(None)
        with gr.Row():
            with gr.Column(scale=2):
                inp = _inputs_column()
            with gr.Column(scale=3):
                outputs = _report_column()

    def choices_update(choice=None):
        return choice_updates(evals, choice)

    async def run(manifest_path, audio_paths, folder_text, cls, base, choice, progress=gr.Progress()):  # noqa: B008
        return await run_evaluation(
            evals, manifest_path, audio_paths, folder_text, cls, base, choice, progress
        )

    inp.go.click(
        run,
        [inp.manifest, inp.audio, inp.folder, inp.classes, inp.baseline, lang_in],
        [current, *outputs, inp.baseline, inp.past],
        concurrency_limit=None,
    )

    def show(report_id, choice):
        return (report_id, *report_view(evals, report_id, lang_of(choice)))

    inp.past.input(show, [inp.past, lang_in], [current, *outputs])
    inp.refresh.click(choices_update, lang_in, [inp.baseline, inp.past])
    tab.select(choices_update, lang_in, [inp.baseline, inp.past])

    def relabel(choice, report_id):
        return relabel_updates(evals, choice, report_id)

    lang_in.change(relabel, [lang_in, current], [intro, *inp.labelled(), *outputs])
    return tab
