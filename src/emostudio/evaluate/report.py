"""The report folder of an evaluation and what is in each file.

    evaluations/eval_YYYYMMDD_HHMMSS[_N]/
        metrics.json        every metric (see emostudio.evaluate.run); written last: it marks a complete report
        predictions.csv     one row per file and model: id, where, path, (start_s, end_s of items cut out of a
                            longer file, when the set has any), speaker, label, model, predicted,
                            confidence, band, correct, score_<class> × 9 (the model's own 9 probabilities),
                            duration_s, quality_verdict, error_code, error
        report.html         self-contained (charts inline as PNG, no scripts or fonts from anywhere), zh / en
        confusion_matrix.png, reliability.png, per_class.png, bands.png (one set per model: `_m1`, `_m2`, … when
        several), models.png (several models), history.png (when the test set has a history)
Every file is written atomically (temp file + rename).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emostudio import atomic, csvsafe
from emostudio.evaluate.charts import CHARTS
from emostudio.evaluate.manifest import EvaluationError
from emostudio.evaluate.metrics import restrict
from emostudio.interpret import band_for
from emostudio.runs import SCORE_COLUMNS
from emostudio.settings import BandThresholds

METRICS_FILE = "metrics.json"
PREDICTIONS_FILE = "predictions.csv"
HTML_FILE = "report.html"
SUMMARY_FILE = (
    "summary.json"  # the few fields a list of evaluations shows, so listing never reads metrics.json
)
PREDICTION_COLUMNS = (
    "id",
    "where",
    "path",
    "speaker",
    "text",
    "label",
    "model",
    "predicted",
    "confidence",
    "band",
    "correct",
    *SCORE_COLUMNS,
    "duration_s",
    "quality_verdict",
    "error_code",
    "error",
)
RANGE_COLUMNS = ("start_s", "end_s")  # after `path`, only in the predictions of a set with cut items


def chart_file(chart: str, model_index: int, n_models: int) -> str:
    """File name of one model's chart: `reliability.png`, or `reliability_m2.png` when several models ran."""
    return f"{chart}.png" if n_models == 1 else f"{chart}_m{model_index + 1}.png"


def record_chart_files(doc: dict, history: bool) -> None:
    """Record in a metrics.json document the file name of every chart its report has: `models[name]["charts"]`
    per model with files, `files.models_chart` with several models, `files.history_chart` with a history."""
    models = doc["models"]
    for i, m in enumerate(models.values()):
        if m["n"]:
            m["charts"] = {c: chart_file(c, i, len(models)) for c in CHARTS}
    if len(models) > 1:
        doc["files"]["models_chart"] = "models.png"
    if history:
        doc["files"]["history_chart"] = "history.png"


# ---------------------------------------------------------------------------------------------- predictions
def prediction_rows(
    scored: Sequence,
    model_names: Sequence[str],
    class_keys: Sequence[str],
    bands: BandThresholds | None = None,
) -> list[dict]:
    """One row per scored file and model (see PREDICTION_COLUMNS); failures keep their error and no scores.

    `predicted` / `confidence` / `band` follow the evaluated classes (renormalised over the subset with
    `--classes 4`); `score_*` are the model's own 9 probabilities.
    """
    bands = bands or BandThresholds()
    rows = []
    for s in scored:
        it = s.item
        for name in model_names:
            row: dict[str, str | float | int] = dict.fromkeys(PREDICTION_COLUMNS, "")
            row.update(
                id=it.id,
                where=it.where,
                path=it.display,  # as the manifest names it: never a server-side upload path
                speaker=it.speaker or "",
                text=it.text or "",
                label=it.label,
                model=name,
            )
            if it.is_cut:
                row.update(start_s=it.start_s, end_s=it.end_s)
            if s.duration_s is not None:
                row["duration_s"] = round(s.duration_s, 3)
            if s.quality:
                row["quality_verdict"] = s.quality.get("verdict", "")
            if name in s.probs:
                p9 = s.probs[name]
                p = restrict(p9, class_keys)[0]
                k = int(np.argmax(p))
                row.update(
                    predicted=class_keys[k],
                    confidence=float(p[k]),
                    band=band_for(float(p[k]), bands).key,
                    correct=int(class_keys[k] == it.label),
                )
                row.update({c: float(v) for c, v in zip(SCORE_COLUMNS, p9, strict=True)})
            else:
                err = s.errors.get(name)
                row.update(error_code=err.code if err else "", error=err.message if err else "")
            rows.append(row)
    return rows


def predictions_csv(rows: Sequence[dict]) -> str:
    """predictions.csv text; floats are written in full (shortest round-trip form) so reruns compare exactly."""
    buf = io.StringIO()
    columns = list(PREDICTION_COLUMNS)
    if any("start_s" in r for r in rows):
        columns[columns.index("path") + 1 : columns.index("path") + 1] = RANGE_COLUMNS
    w = csvsafe.DictWriter(buf, columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:  # text a spreadsheet would run as a formula is escaped (emostudio.csvsafe)
        w.writerow({k: repr(v) if isinstance(v, float) else v for k, v in r.items()})
    return buf.getvalue()


def read_predictions(path: str | os.PathLike) -> list[dict]:
    """Rows of a predictions.csv (strings, as written)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"id", "model", "label", "predicted", "confidence", *SCORE_COLUMNS} - set(
            reader.fieldnames or []
        )
        if missing:
            raise EvaluationError(
                f"{path}: not an evaluation predictions.csv (missing columns {sorted(missing)})"
            )
        return [{k: csvsafe.text(v) if isinstance(v, str) else v for k, v in r.items()} for r in reader]


def read_report(folder: str | os.PathLike) -> tuple[dict, list[dict]]:
    """(metrics.json document, predictions rows) of a finished report folder. Raises EvaluationError."""
    folder = Path(folder)
    metrics, preds = folder / METRICS_FILE, folder / PREDICTIONS_FILE
    if not metrics.is_file() or not preds.is_file():
        raise EvaluationError(
            f"{folder}: not a finished evaluation report (needs {METRICS_FILE} and {PREDICTIONS_FILE})"
        )
    try:
        doc = json.loads(metrics.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise EvaluationError(f"{metrics}: unreadable ({e})") from e
    return doc, read_predictions(preds)


def report_summary(doc: dict) -> dict:
    """summary.json: what a list of evaluations shows of one (a few hundred bytes, whatever the report holds)."""
    return {
        "created": doc.get("created"),
        "manifest": doc["manifest"]["source"],
        "classes": doc["classes"],
        "exit_code": doc["status"]["code"],
        "models": doc["comparison"],
        "bad_rows": int(doc.get("bad_rows_total", len(doc["bad_rows"]))),
    }


def read_summary(folder: str | os.PathLike) -> dict:
    """summary.json of a finished report (made from metrics.json for reports written before it existed)."""
    folder = Path(folder)
    try:
        return json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return report_summary(json.loads((folder / METRICS_FILE).read_text(encoding="utf-8")))


def write_report(folder: Path, doc: dict, rows: Sequence[dict], charts: dict[str, bytes], page: str) -> None:
    """Write every file of a report atomically; summary.json, then metrics.json last (it marks the report done)."""
    for name, data in charts.items():
        atomic.write_bytes(folder / name, data)
    atomic.write_text(folder / PREDICTIONS_FILE, predictions_csv(rows))
    atomic.write_text(folder / HTML_FILE, page)
    atomic.write_json(folder / SUMMARY_FILE, report_summary(doc))
    atomic.write_json(folder / METRICS_FILE, doc)
