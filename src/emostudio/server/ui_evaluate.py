"""The "评测 / Evaluate" tab of the web UI: evaluate the server's model on a labelled test set, see the report.

Upload a manifest with its audio files, or a zip (label folders, or a manifest with its audio), or name a folder
on the server (under the allowed roots); optionally pick an earlier evaluation as the baseline. The tab shows
the verdict, the metrics table, per-class scores, the confusion matrix, the reliability diagram, accuracy per
confidence band and accuracy over time, with the report files to download. Same Evaluations object (and so the
same queue, worker and report folders) as the REST API.
"""

from __future__ import annotations

import asyncio
import html
import shutil
from pathlib import Path
from typing import TypedDict

import gradio as gr
import pandas as pd

from emostudio.errors import EmoStudioError
from emostudio.evaluate.report import HTML_FILE, METRICS_FILE, PREDICTIONS_FILE
from emostudio.model.labels import BY_KEY
from emostudio.server.evaluation_inputs import UploadError
from emostudio.server.evaluations import Evaluations, evaluations_for

LANGS = {"中文": "zh", "English": "en"}  # the choices of the UI's language switch (ui.py)
BOX = {
    "pass": "background:#e3f4e1;border:1px solid #5cb85c;padding:.4em .7em;margin:.3em 0",
    "warn": "background:#fff4d6;border:1px solid #e6c25a;padding:.4em .7em;margin:.3em 0",
    "fail": "background:#fde2e1;border:1px solid #d9534f;padding:.4em .7em;margin:.3em 0",
}


class _Text(TypedDict):
    """The texts of the tab in one language (every language has every key)."""

    tab: str
    intro: str
    manifest: str
    audio: str
    folder: str
    classes: str
    all: str
    four: str
    baseline: str
    run: str
    past: str
    refresh: str
    metrics: str
    per_class: str
    confusion: str
    reliability: str
    bands: str
    history: str
    files: str
    need_input: str
    running: str
    cols: list[str]
    class_cols: list[str]
    random: str
    bad_rows: str
    stability: str
    passed: str
    failed: str
    flipped: str
    exit: str
    state_failed: str


TEXT: dict[str, _Text] = {
    "zh": {
        "tab": "评测",
        "intro": "用带标签的测试集检查模型：上传清单 (CSV/JSONL，含 path 和 label 列) 及其音频，"
        "或上传 zip (按情感分文件夹，或含清单)，或填写服务器上的文件夹。",
        "manifest": "清单或 zip 压缩包",
        "audio": "清单中的音频文件",
        "folder": "或服务器上的文件夹/清单路径",
        "classes": "类别",
        "all": "全部 9 类",
        "four": "4 类 (愤怒/快乐/中性/悲伤)",
        "baseline": "与之前的评测比较 (可选)",
        "run": "开始评测",
        "past": "查看以前的评测",
        "refresh": "刷新",
        "metrics": "指标",
        "per_class": "每类指标",
        "confusion": "混淆矩阵",
        "reliability": "可靠性图 (校准)",
        "bands": "各置信度区间的准确率",
        "history": "随时间的准确率",
        "files": "报告文件",
        "need_input": "请上传清单或 zip，或填写服务器上的文件夹",
        "running": "评测中",
        "cols": ["模型", "样本数", "WA 准确率", "UA 平均召回", "Macro-F1", "ECE", "NLL", "Brier", "失败"],
        "class_cols": ["类别", "精确率", "召回率", "F1", "样本数"],
        "random": "⚠ 随机权重模型：得分没有意义",
        "bad_rows": "未评测的行",
        "stability": "稳定性",
        "passed": "通过",
        "failed": "未通过",
        "flipped": "标签翻转的文件",
        "exit": "退出码",
        "state_failed": "评测失败",
    },
    "en": {
        "tab": "Evaluate",
        "intro": "Check the model on a labelled test set: upload a manifest (CSV/JSONL with path and label columns) "
        "and its audio, or a zip (one folder per emotion, or with a manifest), or name a folder on the server.",
        "manifest": "Manifest or zip archive",
        "audio": "Audio files the manifest names",
        "folder": "or a folder / manifest path on the server",
        "classes": "Classes",
        "all": "all 9 classes",
        "four": "4 classes (angry/happy/neutral/sad)",
        "baseline": "Compare with an earlier evaluation (optional)",
        "run": "Evaluate",
        "past": "Open an earlier evaluation",
        "refresh": "Refresh",
        "metrics": "Metrics",
        "per_class": "Per class",
        "confusion": "Confusion matrix",
        "reliability": "Reliability diagram (calibration)",
        "bands": "Accuracy per confidence band",
        "history": "Accuracy over time",
        "files": "Report files",
        "need_input": "Upload a manifest or a zip, or name a folder on the server",
        "running": "evaluating",
        "cols": ["Model", "n", "WA", "UA", "Macro-F1", "ECE", "NLL", "Brier", "Failed"],
        "class_cols": ["Class", "Precision", "Recall", "F1", "Support"],
        "random": "⚠ random weights: scores are meaningless",
        "bad_rows": "Rows not evaluated",
        "stability": "Stability",
        "passed": "passed",
        "failed": "failed",
        "flipped": "files whose label flipped",
        "exit": "exit code",
        "state_failed": "the evaluation failed",
    },
}


def _toast(message: str) -> gr.Error:
    """A user's mistake: a toast, never a traceback in the server log."""
    return gr.Error(message, print_exception=False)


def _lang(choice: str | None) -> str:
    return LANGS.get(choice or "", "zh")


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
        raise UploadError("give a manifest or zip archive, or a folder on the server")
    uploads: Path | None
    report_dir, uploads = evals.new_job_dirs()
    try:
        if folder and not manifest:
            man = await asyncio.to_thread(evals.manifest_from_server, folder, classes)
            shutil.rmtree(uploads, ignore_errors=True)
            uploads = None
        elif not manifest:  # not reached: a manifest or a folder was checked above
            raise UploadError("give a manifest or zip archive, or a folder on the server")
        elif Path(manifest).suffix.lower() == ".zip":
            archive = uploads / "archive.zip"
            await asyncio.to_thread(shutil.copyfile, manifest, archive)
            man = await asyncio.to_thread(evals.manifest_from_archive, archive, uploads, classes)
        else:

            def stage() -> tuple[Path, list[Path]]:
                m = uploads / ("manifest" + Path(manifest).suffix.lower())
                shutil.copyfile(manifest, m)
                (uploads / "files").mkdir()
                saved = []
                for src in audio or []:
                    dest = uploads / "files" / Path(src).name
                    if dest.exists():
                        raise UploadError(
                            f"two uploaded files are called {dest.name}; file names must be unique"
                        )
                    shutil.copyfile(src, dest)
                    saved.append(dest)
                return m, saved

            m, saved = await asyncio.to_thread(stage)
            man = await asyncio.to_thread(evals.manifest_from_files, m, saved, classes)
        return await evals.start(man, report_dir, uploads, baseline=baseline or None)
    except BaseException:
        evals.discard(report_dir, uploads)
        raise


# --------------------------------------------------------------------------------------------- rendering
def verdict_html(status: dict, lang: str) -> str:
    """The verdict of one evaluation: exit code, stability, bad rows, or why it failed."""
    t = TEXT[lang]
    if status["state"] in ("failed", "interrupted"):
        err = status.get("error") or {}
        return f"<div style='{BOX['fail']}' id='eval-verdict'><b>{t['state_failed']}</b>: {html.escape(str(err.get('message', '')))}</div>"
    if status["state"] == "running":
        return f"<div>{t['running']} …</div>"
    doc = status["metrics"]
    st = doc["status"]
    text = st["zh"] if lang == "zh" else st["en"]
    box = BOX["pass" if st["code"] == 0 else "warn" if st["code"] == 1 else "fail"]
    parts = [f"<div style='{box}' id='eval-verdict'><b>{t['exit']} {st['code']}</b>: {html.escape(text)}"]
    parts += [f"<br>• {html.escape(r)}" for r in st["reasons"]]
    parts.append("</div>")
    if any(m["model"].get("is_random") for m in doc["models"].values()):
        parts.append(f"<div style='{BOX['warn']}'>{t['random']}</div>")
    stab = doc.get("stability")
    if stab:
        word = t["passed"] if stab["passed"] else t["failed"]
        flips = sum(len(m["flipped"]) for m in stab["models"])
        drift = max((m["drift_max"] for m in stab["models"]), default=0.0)
        parts.append(
            f"<p><b>{t['stability']}</b> ({html.escape(Path(stab['baseline']).name)}): {word} · "
            f"{flips} {t['flipped']} · max drift {drift:.4f}</p>"
        )
    if doc["bad_rows"]:
        rows = "".join(
            f"<tr><td>{html.escape(b['where'])}</td><td>{html.escape(b['code'])}</td>"
            f"<td>{html.escape(b['message'])}</td></tr>"
            for b in doc["bad_rows"][:100]
        )
        parts.append(
            f"<details><summary>{t['bad_rows']}: {len(doc['bad_rows'])}</summary>"
            f"<table class='emo-table'>{rows}</table></details>"
        )
    return "".join(parts)


def metrics_frame(doc: dict | None, lang: str) -> pd.DataFrame:
    cols = TEXT[lang]["cols"]
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
    cols = TEXT[lang]["class_cols"]
    if not doc or not doc["models"]:
        return pd.DataFrame(columns=cols)
    m = next(iter(doc["models"].values()))
    rows = []
    for r in m.get("per_class", []):
        e = BY_KEY[r["class"]]
        name = f"{e.emoji} {e.zh}" if lang == "zh" else f"{e.emoji} {e.en}"
        rows.append([name, _pct(r["precision"]), _pct(r["recall"]), _pct(r["f1"]), r["support"]])
    return pd.DataFrame(rows, columns=cols)


def report_view(evals: Evaluations, report_id: str | None, lang: str) -> tuple:
    """(verdict html, metrics table, per-class table, confusion, reliability, bands and history PNGs, files)."""
    empty = ("", metrics_frame(None, lang), class_frame(None, lang), None, None, None, None, None)
    if not report_id:
        return empty
    status = evals.status(report_id)
    doc = status.get("metrics")
    if not doc:
        return (verdict_html(status, lang), *empty[1:])
    folder = evals.report_dir(report_id)
    first = next(iter(doc["models"].values()))
    charts = first.get("charts", {})

    def chart(name: str) -> str | None:
        f = charts.get(name)
        return str(folder / f) if f and (folder / f).is_file() else None

    files = [str(folder / n) for n in (HTML_FILE, METRICS_FILE, PREDICTIONS_FILE) if (folder / n).is_file()]
    return (
        verdict_html(status, lang),
        metrics_frame(doc, lang),
        class_frame(doc, lang),
        chart("confusion_matrix"),
        chart("reliability"),
        chart("bands"),
        str(folder / "history.png") if (folder / "history.png").is_file() else None,
        files,
    )


def past_choices(evals: Evaluations) -> list[tuple[str, str]]:
    """(label, id) of finished evaluations, newest first, for the baseline and history pickers."""
    out = []
    for e in evals.list_reports(limit=100)["evaluations"]:
        if e["state"] != "done":
            continue
        wa = e["models"][0]["wa"] if e.get("models") else None
        out.append((f"{e['id']} · {Path(e['manifest']).name} · WA {_pct(wa)}", e["id"]))
    return out


# ----------------------------------------------------------------------------------------------------- tab
def build_evaluate_tab(service, lang_in: gr.Radio) -> gr.Tab:
    """Add the "评测 / Evaluate" tab to the Blocks being built (call inside `gr.Tabs()`); relabels on `lang_in`."""
    evals = evaluations_for(service)
    t = TEXT["zh"]
    with gr.Tab(f"{t['tab']} / Evaluate", id="evaluate") as tab:
        intro = gr.Markdown(t["intro"])
        current = gr.State(None)
        with gr.Row():
            with gr.Column(scale=2):
                manifest = gr.File(
                    label=t["manifest"],
                    file_types=[".csv", ".tsv", ".jsonl", ".zip"],
                    type="filepath",
                    elem_id="eval-manifest",
                )
                audio = gr.File(
                    label=t["audio"], file_count="multiple", type="filepath", elem_id="eval-audio"
                )
                folder = gr.Textbox(label=t["folder"], elem_id="eval-folder")
                classes = gr.Radio(
                    [(t["all"], "all"), (t["four"], "4")],
                    value="all",
                    label=t["classes"],
                    elem_id="eval-classes",
                )
                baseline = gr.Dropdown([], value=None, label=t["baseline"], elem_id="eval-baseline")
                go = gr.Button(t["run"], variant="primary", elem_id="eval-run")
                past = gr.Dropdown([], value=None, label=t["past"], elem_id="eval-past")
                refresh = gr.Button(t["refresh"], size="sm", elem_id="eval-refresh")
            with gr.Column(scale=3):
                verdict = gr.HTML(elem_id="eval-result")
                table = gr.Dataframe(
                    metrics_frame(None, "zh"), label=t["metrics"], interactive=False, elem_id="eval-metrics"
                )
                per_class = gr.Dataframe(
                    class_frame(None, "zh"), label=t["per_class"], interactive=False, elem_id="eval-per-class"
                )
                with gr.Row():
                    confusion = gr.Image(
                        label=t["confusion"], type="filepath", interactive=False, elem_id="eval-confusion"
                    )
                    reliability = gr.Image(
                        label=t["reliability"], type="filepath", interactive=False, elem_id="eval-reliability"
                    )
                with gr.Row():
                    bands = gr.Image(
                        label=t["bands"], type="filepath", interactive=False, elem_id="eval-bands"
                    )
                    history = gr.Image(
                        label=t["history"], type="filepath", interactive=False, elem_id="eval-history"
                    )
                files = gr.File(
                    label=t["files"], file_count="multiple", interactive=False, elem_id="eval-files"
                )
    outputs = [verdict, table, per_class, confusion, reliability, bands, history, files]

    def choices_update():
        ch = past_choices(evals)
        return gr.update(choices=ch), gr.update(choices=ch)

    async def run(manifest_path, audio_paths, folder_text, cls, base, choice, progress=gr.Progress()):  # noqa: B008
        lang = _lang(choice)
        if not manifest_path and not (folder_text or "").strip():
            raise _toast(TEXT[lang]["need_input"])
        try:
            job = await start_evaluation(evals, manifest_path, audio_paths, folder_text, cls, base)
        except EmoStudioError as exc:
            raise _toast(str(exc)) from exc
        progress(0.0, desc=TEXT[lang]["running"])
        while not job.task.done():
            p = job.progress
            if p is not None and p.total:
                progress(p.done / p.total, desc=f"{TEXT[lang]['running']} {p.done}/{p.total}")
            await asyncio.sleep(0.3)
        return (job.id, *report_view(evals, job.id, lang), *choices_update())

    go.click(
        run,
        [manifest, audio, folder, classes, baseline, lang_in],
        [current, *outputs, baseline, past],
        concurrency_limit=None,
    )

    def show(report_id, choice):
        return (report_id, *report_view(evals, report_id, _lang(choice)))

    past.input(show, [past, lang_in], [current, *outputs])
    refresh.click(choices_update, None, [baseline, past])
    tab.select(choices_update, None, [baseline, past])

    def relabel(choice, report_id):
        t = TEXT[_lang(choice)]
        return (
            gr.update(value=t["intro"]),
            gr.update(label=t["manifest"]),
            gr.update(label=t["audio"]),
            gr.update(label=t["folder"]),
            gr.update(label=t["classes"], choices=[(t["all"], "all"), (t["four"], "4")]),
            gr.update(label=t["baseline"]),
            gr.update(value=t["run"]),
            gr.update(label=t["past"]),
            gr.update(value=t["refresh"]),
            gr.update(label=t["confusion"]),
            gr.update(label=t["reliability"]),
            gr.update(label=t["bands"]),
            gr.update(label=t["history"]),
            gr.update(label=t["files"]),
            *report_view(evals, report_id, _lang(choice)),
        )

    lang_in.change(
        relabel,
        [lang_in, current],
        [
            intro,
            manifest,
            audio,
            folder,
            classes,
            baseline,
            go,
            past,
            refresh,
            confusion,
            reliability,
            bands,
            history,
            files,
            *outputs,
        ],
    )
    return tab
