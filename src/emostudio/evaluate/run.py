"""`evaluate()`: a labelled test set + one or more models → a report folder, a stability verdict, an exit code.

    manifest → score every file (one decode per file, every model) → metrics per model → compare with a
    baseline report → append to the test set's history → charts, metrics.json, predictions.csv, report.html

Exit codes (also in metrics.json `status`), following the CLI's convention (0 done, 1 some inputs failed, 2 nothing
done, 3 internal error): 0 evaluated (and stable against the baseline); 1 evaluated, but some rows could not be
(they are listed by line); 2 nothing could be evaluated (or the run could not start); 4 changed past the
stability thresholds against the baseline. 4 wins over 1 when both apply.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np

from emostudio import __version__
from emostudio.evaluate import charts as charts_mod
from emostudio.evaluate.items import bad_count, listed, row_order
from emostudio.evaluate.manifest import BadRow, EvaluationError, Manifest, load_manifest
from emostudio.evaluate.metrics import DEFAULT_ECE_BINS, compute_metrics, restrict
from emostudio.evaluate.page import render_html
from emostudio.evaluate.report import (
    HTML_FILE,
    METRICS_FILE,
    PREDICTIONS_FILE,
    prediction_rows,
    read_report,
    record_chart_files,
    write_report,
)
from emostudio.evaluate.runner import DEFAULT_CHUNK_SECONDS, ModelUnderTest, Progress, score_items
from emostudio.evaluate.stability import (
    StabilityThresholds,
    append_history,
    compare,
    history_file,
    read_history,
    stability_reasons,
)
from emostudio.messages import t
from emostudio.records import Prepared
from emostudio.runs import new_report_dir
from emostudio.settings import MAX_BAD_ROWS_LISTED, BandThresholds

SCHEMA = "emostudio.evaluation/1"
EXIT_OK, EXIT_BAD_ROWS, EXIT_ERROR, EXIT_UNSTABLE = 0, 1, 2, 4
HEADLINE = ("n", "wa", "ua", "macro_f1", "ece")


class StatusDoc:
    """What a report's metrics.json document `doc` says of the run: its exit code and its bad rows."""

    doc: dict

    @property
    def exit_code(self) -> int:
        return int(self.doc["status"]["code"])

    @property
    def bad_rows(self) -> list[dict]:
        """The first settings.MAX_BAD_ROWS_LISTED rows not evaluated, in file order (`bad_rows_total` counts all)."""
        return self.doc["bad_rows"]


@dataclass
class Evaluation(StatusDoc):
    """What `evaluate` produced: the report folder, the metrics.json document, the prediction rows."""

    report_dir: Path
    doc: dict
    rows: list[dict] = field(repr=False)

    @property
    def bad_rows_total(self) -> int:
        return bad_count(self.doc)

    @property
    def stability(self) -> dict | None:
        return self.doc.get("stability")


def _check_report_dir(report_dir, overwrite: bool) -> None:
    """Refuse a --report folder that would mix two reports, before any work is done."""
    if report_dir is None:
        return
    folder = Path(report_dir)
    if folder.exists() and not folder.is_dir():
        raise EvaluationError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise EvaluationError(
            f"{folder}: not empty; choose a new report folder (or overwrite=True / --overwrite)"
        )


def _bad_rows(manifest: Manifest, scored: Sequence, model_names: Sequence[str]) -> list[BadRow]:
    out = list(manifest.bad)
    for s in scored:
        errs = list(s.errors.values())
        if not errs:
            continue
        if len(errs) == len(model_names) and len({e.message for e in errs}) == 1 and errs[0].model is None:
            out.append(errs[0])  # the file itself failed (decoding, quality): one row, not one per model
        else:
            out += errs
    return sorted(out, key=lambda b: row_order(b.where))  # stable: one row's models keep their order


def _status(evaluated: int, bad: Sequence[BadRow], stability: dict | None) -> dict:
    reasons = []
    if evaluated == 0:
        code = EXIT_ERROR
    elif stability is not None and not stability["passed"]:
        code = EXIT_UNSTABLE
        reasons += stability["reasons"]
    elif bad:
        code = EXIT_BAD_ROWS
    else:
        code = EXIT_OK
    if bad:
        reasons.append(t("eval_reason_bad_rows", "en", n=len(bad)))
    return {
        "code": code,
        "zh": t(f"eval_status_{code}", "zh"),
        "en": t(f"eval_status_{code}", "en"),
        "reasons": reasons,
    }


def evaluate(
    manifest: str | os.PathLike | Manifest,
    models: Sequence[ModelUnderTest],
    *,
    classes: str = "all",
    report_dir: str | os.PathLike | None = None,
    reports_root: str | os.PathLike = "evaluations",
    baseline: str | os.PathLike | None = None,
    thresholds: StabilityThresholds | None = None,
    history_dir: str | os.PathLike | Literal[False] | None = None,
    ece_bins: int = DEFAULT_ECE_BINS,
    bands: BandThresholds | None = None,
    prepare: Callable[[str], Prepared] | None = None,
    enhance: bool = False,
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    workers: int = 2,
    progress: Callable[[Progress], None] | None = None,
    overwrite: bool = False,
    allowed_roots: Sequence[str | os.PathLike] | None = None,
    lang: str = "en",
) -> Evaluation:
    """Evaluate `models` on a labelled test set and write a report folder; see the module docstring.

    manifest: anything `load_manifest` reads (CSV/JSONL, Label Studio export, folders), or a loaded Manifest.
    report_dir: the folder to write (new or empty); default a fresh `eval_YYYYMMDD_HHMMSS` under `reports_root`.
    baseline: an earlier report folder of the same test set to compare with (flips, drift, metric deltas).
    history_dir: where the test set's run history lives; default `<report folder's parent>/history`;
        False: do not read or write a history.
    prepare: `path -> Prepared` (default: the first model's `Recognizer.prepare`, with `enhance`).
    lang: the language of the charts ("zh" or "en"; report.html's own texts are in both).
    Raises EvaluationError / ManifestError when the run cannot start; a bad row never stops it.
    """
    names = _check_models(models, ece_bins)
    man = manifest if isinstance(manifest, Manifest) else load_manifest(manifest, classes, allowed_roots)
    class_keys = man.class_keys
    base_doc, base_rows = _read_baseline(baseline, man) if baseline is not None else (None, None)
    prepare = prepare or _default_prepare(models[0], enhance)
    if bands is None:
        rec = models[0].recognizer
        bands = rec.settings.bands if rec is not None else BandThresholds()
    _check_report_dir(report_dir, overwrite)
    created = datetime.now().astimezone().isoformat(timespec="seconds")
    scored = score_items(
        man.items, models, prepare, chunk_seconds=chunk_seconds, workers=workers, progress=progress
    )
    # the folder is made only now, so a run that stops while scoring leaves no empty report folder behind
    folder = new_report_dir(reports_root) if report_dir is None else _made(Path(report_dir))
    rows = prediction_rows(scored, names, class_keys, bands)
    bad = _bad_rows(man, scored, names)
    evaluated = sum(1 for s in scored if s.probs)
    per_model = _model_metrics(models, scored, class_keys, ece_bins, bands)
    stability = None
    if base_doc is not None and base_rows is not None:
        th = thresholds or StabilityThresholds()
        stability = compare(rows, base_rows, classes=man.classes, thresholds=th, ece_bins=ece_bins)
        same = base_doc.get("manifest", {}).get("fingerprint") == man.fingerprint
        stability.update(baseline=str(baseline), baseline_created=base_doc.get("created"), same_manifest=same)
    status = _status(evaluated, bad, stability)
    history_entries = _history_entries(created, man, per_model, len(bad), folder)
    hist_dir = None if history_dir is False else Path(history_dir or folder.parent / "history")
    past = read_history(hist_dir, man.fingerprint) if hist_dir else []
    timeline = [e for e in past + history_entries if e.get("classes") == man.classes and e.get("n")]

    options = {"ece_bins": ece_bins, "bands": bands, "enhance": enhance, "chunk_seconds": chunk_seconds}
    doc = _document(created, man, evaluated, status, per_model, bad, stability, options)
    if hist_dir:
        runs = len({(e["time"], e.get("report")) for e in timeline})
        doc["history"] = {
            "dir": str(hist_dir),
            "file": str(history_file(hist_dir, man.fingerprint)),
            "runs": runs,
        }

    pngs = _draw_charts(doc, timeline, lang) if charts_mod.available() else {}
    if not pngs:
        doc["files"]["charts_note"] = "charts need matplotlib (pip install matplotlib)"
    write_report(folder, doc, rows, pngs, render_html(doc, pngs))
    if hist_dir:
        append_history(hist_dir, man.fingerprint, history_entries)
    return Evaluation(folder, doc, rows)


def _default_prepare(model: ModelUnderTest, enhance: bool) -> Callable[[str], Prepared]:
    """The first model's Recognizer.prepare (with `enhance`); EvaluationError when the model has none."""
    preparer = model.recognizer
    if preparer is None:
        raise EvaluationError("give prepare= when the models are not built from a Recognizer")
    return lambda path: preparer.prepare(path, enhance=enhance)


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _check_models(models: Sequence[ModelUnderTest], ece_bins: int) -> list[str]:
    """The models' names; EvaluationError for no model, a bin count below 1 or two models of one name."""
    if not models:
        raise EvaluationError("no model to evaluate")
    if ece_bins < 1:
        raise EvaluationError(f"ece_bins must be at least 1, not {ece_bins}")
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise EvaluationError(f"model names must be unique, got {names}")
    return names


def _read_baseline(baseline: str | os.PathLike, man: Manifest) -> tuple[dict, list[dict]]:
    """An earlier report of the same classes: (its metrics.json, its prediction rows)."""
    base_doc, base_rows = read_report(baseline)
    if base_doc.get("classes") != man.classes:
        raise EvaluationError(
            f"{baseline}: the baseline was evaluated with classes={base_doc.get('classes')!r}, this run with "
            f"{man.classes!r}; compare runs made with the same --classes"
        )
    return base_doc, base_rows


def _document(
    created: str,
    man: Manifest,
    evaluated: int,
    status: dict,
    per_model: dict[str, dict],
    bad: Sequence[BadRow],
    stability: dict | None,
    options: dict,
) -> dict:
    """The metrics.json document (without its history and chart entries)."""
    bands = options["bands"]
    doc: dict = {
        "schema": SCHEMA,
        "created": created,
        "emostudio_version": __version__,
        "status": status,
        "manifest": man.summary(),
        "classes": man.classes,
        "class_keys": list(man.class_keys),
        "evaluated": evaluated,
        "ece_bins": options["ece_bins"],
        "ece_binning": "equal-width bins (lo, hi] of the top-class probability",
        "band_thresholds": {"confident": bands.confident, "leaning": bands.leaning},
        "settings": {"enhance": options["enhance"], "chunk_seconds": options["chunk_seconds"]},
        "models": per_model,
        "comparison": [{"model": name, **{k: m.get(k) for k in HEADLINE}} for name, m in per_model.items()],
        **listed([b.to_dict() for b in bad], MAX_BAD_ROWS_LISTED),
        "files": {"metrics": METRICS_FILE, "predictions": PREDICTIONS_FILE, "report": HTML_FILE},
    }
    if len(per_model) == 1:  # the headline keys at the top level too
        only = next(iter(per_model.values()))
        doc.update({k: only.get(k) for k in ("n", "wa", "ua", "macro_f1", "ece", "mce", "nll", "brier")})
    if stability is not None:
        doc["stability"] = stability
    return doc


def _model_metrics(models, scored, class_keys, ece_bins: int, bands: BandThresholds) -> dict[str, dict]:
    """Each model's metrics on the files it scored, with its info and how many files failed with it."""
    per_model: dict[str, dict] = {}
    for m in models:
        ok = [s for s in scored if m.name in s.probs]
        probs = restrict(np.array([s.probs[m.name] for s in ok]).reshape(-1, 9), class_keys)
        metrics = compute_metrics(
            [s.item.label for s in ok],
            probs,
            class_keys,
            speakers=[s.item.speaker for s in ok],
            qualities=[s.quality for s in ok],
            ece_bins=ece_bins,
            bands=bands,
        )
        failed = sum(1 for s in scored if m.name in s.errors)
        per_model[m.name] = {"model": m.info, **metrics, "failed": failed}
    return per_model


def _history_entries(
    created: str, man: Manifest, per_model: dict[str, dict], bad: int, folder: Path
) -> list[dict]:
    """The lines this run adds to the test set's history: one per model."""
    return [
        {
            "time": created,
            "fingerprint": man.fingerprint,
            "manifest": man.source,
            "classes": man.classes,
            "model": name,
            "model_id": m["model"].get("id"),
            "dtype": m["model"].get("dtype"),
            "is_random": bool(m["model"].get("is_random")),
            "bad_rows": bad,
            "report": str(folder),
            **{k: m.get(k) for k in HEADLINE},
        }
        for name, m in per_model.items()
    ]


def _draw_charts(doc: dict, timeline: list[dict], lang: str) -> dict[str, bytes]:
    """Every chart of the report as {file name: PNG bytes} in `lang`; also records the names in `doc`."""
    record_chart_files(doc, history=bool(timeline))
    return charts_mod.report_charts(doc, timeline, lang)


def status_reasons(doc: dict, lang: str) -> list[str]:
    """Why a stored evaluation has its status, in `lang` (metrics.json keeps the English, `status.reasons`)."""
    reasons = []
    if doc["status"]["code"] == EXIT_UNSTABLE and doc.get("stability"):
        reasons += stability_reasons(doc["stability"], lang)
    if bad_count(doc):
        reasons.append(t("eval_reason_bad_rows", lang, n=bad_count(doc)))
    return reasons
