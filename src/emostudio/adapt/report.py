"""The adaptation report: base vs calibrated vs adapted on the same files, in the evaluation report's format.

    REPORT/
        metrics.json     as an evaluation's, with one "model" per reading (base, calibrated, adapted) under
                         `models`, and an `adaptation` block: what each reading is, the bootstrap 95 % intervals
                         (and of adapted − base), temperature, C, folds, warnings
        predictions.csv  one row per file and reading: id, where, path, speaker, label, fold, reading, predicted,
                         confidence, band, correct, score_<label> (that reading's classes)
        report.html      evaluate's page, with the side-by-side tables
        *.png            evaluate's charts per reading (`_m1` base, `_m2` calibrated, `_m3` adapted), models.png

Readings: *base* is the model's own 9-class scores (restricted to the 4 classes with classes="4"), *calibrated*
the same after temperature scaling (same arg-max, so the same accuracy; only the confidence moves), *adapted* the
trained head over the set's labels. In the cross-validated report every prediction is out-of-fold: made by a
temperature and head fitted without that file (or its speaker). On a custom label set the base and calibrated
readings do not apply (the model has no such classes) and the report says so instead of scoring them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from emostudio import __version__, atomic, csvsafe
from emostudio.adapt.notes import Note
from emostudio.evaluate import charts as charts_mod
from emostudio.evaluate.intervals import DEFAULT_BOOTSTRAP, bootstrap
from emostudio.evaluate.items import listed
from emostudio.evaluate.metrics import DEFAULT_ECE_BINS, compute_metrics
from emostudio.evaluate.page import render_html
from emostudio.evaluate.report import HTML_FILE, METRICS_FILE, PREDICTIONS_FILE, record_chart_files
from emostudio.evaluate.run import EXIT_BAD_ROWS, EXIT_ERROR, EXIT_OK
from emostudio.interpret import band_for
from emostudio.messages import t
from emostudio.settings import MAX_BAD_ROWS_LISTED, BandThresholds

SCHEMA = "emostudio.adaptation/1"
READINGS = ("base", "calibrated", "adapted")
HEADLINE = ("n", "wa", "ua", "macro_f1", "ece", "nll", "brier")


def _cell(value: object) -> object:
    """A CSV cell: floats in full (shortest round-trip form), text a spreadsheet will not run (emostudio.csvsafe)."""
    return repr(value) if isinstance(value, float) else csvsafe.cell(value)


def _status(evaluated: int, bad: Sequence[dict]) -> dict:
    code = EXIT_ERROR if evaluated == 0 else EXIT_BAD_ROWS if bad else EXIT_OK
    return {
        "code": code,
        "zh": t(f"adapt_status_{code}", "zh"),
        "en": t(f"adapt_status_{code}", "en"),
        "reasons": [t("adapt_reason_bad_rows", "en", n=len(bad))] if bad else [],
    }


def build_doc(
    *,
    mode: str,
    manifest: dict,
    labels: Sequence[str],
    speakers: Sequence[str | None],
    groups: Sequence[int] | None,
    readings: Mapping[str, tuple[np.ndarray, Sequence[str]]],
    model_info: dict,
    adaptation: dict,
    bad_rows: Sequence[dict],
    ece_bins: int = DEFAULT_ECE_BINS,
    bands: BandThresholds | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
) -> dict:
    """metrics.json of an adaptation report. readings: name → (probs (n, k), class labels (k,)) for the same n
    files as `labels`; `adaptation`: what the caller knows (labels, temperature, C, folds, warnings as Notes, …)."""
    bands = bands or BandThresholds()
    created = datetime.now().astimezone().isoformat(timespec="seconds")
    models = _reading_metrics(readings, labels, speakers, model_info, ece_bins, bands)
    intervals = bootstrap(
        {
            name: (np.array([list(keys).index(label) for label in labels], dtype=np.int64), probs, keys)
            for name, (probs, keys) in readings.items()
        },
        groups=groups,
        reference="base" if "base" in readings else None,
        n_boot=n_boot,
        seed=seed,
        ece_bins=ece_bins,
        bands=bands,
    )
    for name, m in models.items():
        ci = intervals["readings"][name] if intervals else {}
        m["ci"] = ci
    comparison = [
        {
            "model": name,
            **{k: m.get(k) for k in HEADLINE},
            **{f"{k}_ci": m["ci"].get(k) for k in ("wa", "ua", "macro_f1", "ece") if m.get("ci")},
        }
        for name, m in models.items()
    ]
    block = _adaptation_section(mode, readings, intervals, adaptation)
    status = _status(len(labels), bad_rows)
    keys = list(readings["adapted"][1]) if "adapted" in readings else []
    return {
        "schema": SCHEMA,
        "created": created,
        "emostudio_version": __version__,
        "status": status,
        "manifest": manifest,
        "classes": adaptation.get("classes", "all"),
        "class_keys": keys,
        "evaluated": len(labels),
        "ece_bins": ece_bins,
        "ece_binning": "equal-width bins (lo, hi] of the top-class probability",
        "band_thresholds": {"confident": bands.confident, "leaning": bands.leaning},
        "models": models,
        "comparison": comparison,
        "adaptation": block,
        **listed(list(bad_rows), MAX_BAD_ROWS_LISTED),
        "files": {"metrics": METRICS_FILE, "predictions": PREDICTIONS_FILE, "report": HTML_FILE},
    }


def _adaptation_section(
    mode: str,
    readings: Mapping[str, tuple[np.ndarray, Sequence[str]]],
    intervals: dict | None,
    adaptation: dict,
) -> dict:
    """metrics.json's `adaptation`: the mode, the readings, the intervals, the caller's block, the warnings."""
    applicable = "base" in readings
    notes: Sequence[Note] = adaptation.get("warnings") or ()
    return {
        "mode": mode,
        "readings": list(readings),
        "base_applicable": applicable,
        "base_note": None if applicable else t("adapt_not_applicable", "en"),
        "intervals": intervals,
        **adaptation,
        "warnings": [str(w) for w in notes],  # in English; `notes` say them again in any language
        "notes": [w.to_dict() for w in notes],
    }


def _reading_metrics(
    readings: Mapping[str, tuple[np.ndarray, Sequence[str]]],
    labels: Sequence[str],
    speakers: Sequence[str | None],
    model_info: dict,
    ece_bins: int,
    bands: BandThresholds,
) -> dict[str, dict]:
    """Every metric of each reading (base, calibrated, adapted), named in zh and en like a model."""
    models: dict[str, dict] = {}
    for name, (probs, keys) in readings.items():
        text = f"adapt_reading_{name}"
        info = {**model_info, "reading": name, "zh": t(text, "zh"), "en": t(text, "en")}
        m = compute_metrics(labels, probs, keys, speakers=speakers, ece_bins=ece_bins, bands=bands)
        models[name] = {"model": info, **m, "failed": 0, "class_keys": list(keys)}
    return models


def prediction_rows(
    items: Sequence,
    readings: Mapping[str, tuple[np.ndarray, Sequence[str]]],
    folds: Sequence[int] | None = None,
    bands: BandThresholds | None = None,
) -> tuple[list[str], list[dict]]:
    """(columns, rows) of predictions.csv: one row per item and reading."""
    bands = bands or BandThresholds()
    score_labels = list(dict.fromkeys(k for _, keys in readings.values() for k in keys))
    columns = [
        "id", "where", "path", "speaker", "label", "fold", "reading", "predicted", "confidence", "band", "correct",
        *(f"score_{k}" for k in score_labels),
    ]  # fmt: skip
    rows = []
    for i, it in enumerate(items):
        for name, (probs, keys) in readings.items():
            p = probs[i]
            j = int(np.argmax(p))
            row: dict[str, object] = dict.fromkeys(columns, "")
            row.update(
                id=it.id,
                where=it.where,
                path=it.path,
                speaker=it.speaker or "",
                label=it.label,
                fold="" if folds is None else int(folds[i]) + 1,
                reading=name,
                predicted=keys[j],
                confidence=float(p[j]),
                band=band_for(float(p[j]), bands).key,
                correct=int(keys[j] == it.label),
            )
            row.update({f"score_{k}": float(v) for k, v in zip(keys, p, strict=True)})
            rows.append(row)
    return columns, rows


def predictions_csv(columns: Sequence[str], rows: Sequence[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, [str(_cell(c)) for c in columns], lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({str(_cell(k)): _cell(v) for k, v in r.items()})
    return buf.getvalue()


def write(folder: Path, doc: dict, columns: Sequence[str], rows: Sequence[dict], lang: str = "en") -> None:
    """Charts (in `lang`), predictions.csv, report.html, then metrics.json (it marks a complete report), each
    atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    record_chart_files(doc, history=False)
    pngs = charts_mod.report_charts(doc, (), lang) if charts_mod.available() else {}
    if not pngs:
        doc["files"]["charts_note"] = "charts need matplotlib (pip install matplotlib)"
    for name, data in pngs.items():
        atomic.write_bytes(folder / name, data)
    atomic.write_text(folder / PREDICTIONS_FILE, predictions_csv(columns, rows))
    atomic.write_text(folder / HTML_FILE, render_html(doc, pngs))
    atomic.write_json(folder / METRICS_FILE, doc)
