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
from emostudio.evaluate.manifest import BadRow, EvaluationError, Manifest, load_manifest
from emostudio.evaluate.metrics import DEFAULT_ECE_BINS, compute_metrics, restrict
from emostudio.evaluate.page import CHARTS, render_html
from emostudio.evaluate.report import (
    HTML_FILE,
    METRICS_FILE,
    PREDICTIONS_FILE,
    chart_file,
    prediction_rows,
    read_report,
    write_report,
)
from emostudio.evaluate.runner import DEFAULT_CHUNK_SECONDS, ModelUnderTest, Progress, score_items
from emostudio.evaluate.stability import (
    StabilityThresholds,
    append_history,
    compare,
    history_file,
    read_history,
)
from emostudio.records import Prepared
from emostudio.runs import new_report_dir
from emostudio.settings import BandThresholds

SCHEMA = "emostudio.evaluation/1"
EXIT_OK, EXIT_BAD_ROWS, EXIT_ERROR, EXIT_UNSTABLE = 0, 1, 2, 4
STATUS_TEXT = {
    EXIT_OK: ("评测完成", "evaluation complete"),
    EXIT_UNSTABLE: ("与基线相比变化超过阈值", "changed past the stability thresholds against the baseline"),
    EXIT_ERROR: ("没有可评测的文件", "no file could be evaluated"),
    EXIT_BAD_ROWS: ("部分行未能评测（见列表）", "some rows could not be evaluated (listed by line)"),
}
HEADLINE = ("n", "wa", "ua", "macro_f1", "ece")


@dataclass
class Evaluation:
    """What `evaluate` produced: the report folder, the metrics.json document, the prediction rows."""

    report_dir: Path
    doc: dict
    rows: list[dict] = field(repr=False)

    @property
    def exit_code(self) -> int:
        return int(self.doc["status"]["code"])

    @property
    def bad_rows(self) -> list[dict]:
        return self.doc["bad_rows"]

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
    return out


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
        reasons.append(f"{len(bad)} row(s) not evaluated")
    zh, en = STATUS_TEXT[code]
    return {"code": code, "zh": zh, "en": en, "reasons": reasons}


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
) -> Evaluation:
    """Evaluate `models` on a labelled test set and write a report folder; see the module docstring.

    manifest: a CSV/JSONL manifest or a folder of label folders (or a loaded Manifest; then `classes` is its own).
    report_dir: the folder to write (new or empty); default a fresh `eval_YYYYMMDD_HHMMSS` under `reports_root`.
    baseline: an earlier report folder of the same test set to compare with (flips, drift, metric deltas).
    history_dir: where the test set's run history lives; default `<report folder's parent>/history`;
        False: do not read or write a history.
    prepare: `path -> Prepared` (default: the first model's `Recognizer.prepare`, with `enhance`).
    Raises EvaluationError / ManifestError when the run cannot start; a bad row never stops it.
    """
    man, base_doc, base_rows = _inputs(manifest, models, classes, baseline, ece_bins, allowed_roots)
    class_keys = man.class_keys
    prepare, bands = _defaults(models, prepare, bands, enhance)
    _check_report_dir(report_dir, overwrite)
    created = datetime.now().astimezone().isoformat(timespec="seconds")
    scored = score_items(
        man.items, models, prepare, chunk_seconds=chunk_seconds, workers=workers, progress=progress
    )
    # the folder is made only now, so a run that stops while scoring leaves no empty report folder behind
    if report_dir is None:
        folder = new_report_dir(reports_root)
    else:
        folder = Path(report_dir)
        folder.mkdir(parents=True, exist_ok=True)
    names = [m.name for m in models]
    rows = prediction_rows(scored, names, class_keys, bands)
    bad = _bad_rows(man, scored, names)
    evaluated = sum(1 for s in scored if s.probs)
    per_model = _model_metrics(models, scored, class_keys, ece_bins, bands)
    stability = None
    if base_doc is not None and base_rows is not None:
        stability = compare(rows, base_rows, classes=man.classes, thresholds=thresholds, ece_bins=ece_bins)
        same = base_doc.get("manifest", {}).get("fingerprint") == man.fingerprint
        stability.update(baseline=str(baseline), baseline_created=base_doc.get("created"), same_manifest=same)
    history_entries = _history_entries(created, man, len(bad), folder, per_model)
    hist_dir = None if history_dir is False else Path(history_dir or folder.parent / "history")
    past = read_history(hist_dir, man.fingerprint) if hist_dir else []
    timeline = [e for e in past + history_entries if e.get("classes") == man.classes and e.get("n")]
    doc = _document(
        created, man, _status(evaluated, bad, stability), evaluated, ece_bins, bands, per_model, bad
    )
    doc["settings"] = {"enhance": enhance, "chunk_seconds": chunk_seconds}
    if stability is not None:
        doc["stability"] = stability
    if hist_dir:
        doc["history"] = {
            "dir": str(hist_dir),
            "file": str(history_file(hist_dir, man.fingerprint)),
            "runs": len({(e["time"], e.get("report")) for e in timeline}),
        }
    pngs = _draw_charts(doc, timeline) if charts_mod.available() else {}
    if not pngs:
        doc["files"]["charts_note"] = "charts need matplotlib (pip install matplotlib)"
    write_report(folder, doc, rows, pngs, render_html(doc, pngs))
    if hist_dir:
        append_history(hist_dir, man.fingerprint, history_entries)
    return Evaluation(folder, doc, rows)


def _inputs(
    manifest: str | os.PathLike | Manifest,
    models: Sequence[ModelUnderTest],
    classes: str,
    baseline: str | os.PathLike | None,
    ece_bins: int,
    allowed_roots: Sequence[str | os.PathLike] | None,
) -> tuple[Manifest, dict | None, list[dict] | None]:
    """The checked models, the test set and the baseline report (its document and rows), before any work."""
    if not models:
        raise EvaluationError("no model to evaluate")
    if ece_bins < 1:
        raise EvaluationError(f"ece_bins must be at least 1, not {ece_bins}")
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise EvaluationError(f"model names must be unique, got {names}")
    man = manifest if isinstance(manifest, Manifest) else load_manifest(manifest, classes, allowed_roots)
    if baseline is None:
        return man, None, None
    base_doc, base_rows = read_report(baseline)
    if base_doc.get("classes") != man.classes:
        raise EvaluationError(
            f"{baseline}: the baseline was evaluated with classes={base_doc.get('classes')!r}, this run with "
            f"{man.classes!r}; compare runs made with the same --classes"
        )
    return man, base_doc, base_rows


def _defaults(
    models: Sequence[ModelUnderTest],
    prepare: Callable[[str], Prepared] | None,
    bands: BandThresholds | None,
    enhance: bool,
) -> tuple[Callable[[str], Prepared], BandThresholds]:
    """`prepare` and `bands`, by default the first model's Recognizer's (`prepare` with `enhance`)."""
    rec = models[0].recognizer
    if prepare is None:
        if rec is None:
            raise EvaluationError("give prepare= when the models are not built from a Recognizer")
        preparer = rec
        prepare = lambda path: preparer.prepare(path, enhance=enhance)  # noqa: E731
    if bands is None:
        bands = rec.settings.bands if rec is not None else BandThresholds()
    return prepare, bands


def _model_metrics(
    models: Sequence[ModelUnderTest],
    scored: list,
    class_keys: Sequence[str],
    ece_bins: int,
    bands: BandThresholds,
) -> dict[str, dict]:
    """Every metric of each model over the files it scored, and how many it failed on."""
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


def _history_entries(created: str, man: Manifest, bad_rows: int, folder: Path, per_model: dict) -> list[dict]:
    """One history line per model: when, which test set and model, and the headline metrics."""
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
            "bad_rows": bad_rows,
            "report": str(folder),
            **{k: m.get(k) for k in HEADLINE},
        }
        for name, m in per_model.items()
    ]


def _document(
    created: str,
    man: Manifest,
    status: dict,
    evaluated: int,
    ece_bins: int,
    bands: BandThresholds,
    per_model: dict,
    bad: list[BadRow],
) -> dict:
    """metrics.json without the settings, stability and history (added by `evaluate`, in that order)."""
    doc: dict = {
        "schema": SCHEMA,
        "created": created,
        "emostudio_version": __version__,
        "status": status,
        "manifest": man.summary(),
        "classes": man.classes,
        "class_keys": list(man.class_keys),
        "evaluated": evaluated,
        "ece_bins": ece_bins,
        "ece_binning": "equal-width bins (lo, hi] of the top-class probability",
        "band_thresholds": {"confident": bands.confident, "leaning": bands.leaning},
        "settings": None,
        "models": per_model,
        "comparison": [{"model": name, **{k: m.get(k) for k in HEADLINE}} for name, m in per_model.items()],
        "bad_rows": [b.to_dict() for b in bad],
        "files": {"metrics": METRICS_FILE, "predictions": PREDICTIONS_FILE, "report": HTML_FILE},
    }
    if len(per_model) == 1:  # the headline keys at the top level too
        only = next(iter(per_model.values()))
        doc.update({k: only.get(k) for k in ("n", "wa", "ua", "macro_f1", "ece", "mce", "nll", "brier")})
    return doc


def _draw_charts(doc: dict, timeline: list[dict]) -> dict[str, bytes]:
    """Every chart of the report as {file name: PNG bytes}; also records the names in `doc`."""
    out: dict[str, bytes] = {}
    models = doc["models"]
    for i, (name, m) in enumerate(models.items()):
        if not m["n"]:
            continue
        title = f" · {name}" if len(models) > 1 else ""
        files = {c: chart_file(c, i, len(models)) for c in CHARTS}
        out[files["confusion_matrix"]] = charts_mod.confusion(
            m["confusion"]["labels"], m["confusion"]["matrix"], "Confusion matrix" + title
        )
        out[files["reliability"]] = charts_mod.reliability(
            m["reliability"],
            m["ece"],
            f"Reliability (ECE {m['ece'] * 100:.1f} %, {m['ece_bins']} bins){title}",
        )
        out[files["per_class"]] = charts_mod.per_class(
            m["per_class"], "Precision / recall / F1 per class" + title
        )
        out[files["bands"]] = charts_mod.bands(m["bands"], "Accuracy per confidence band" + title)
        m["charts"] = files
    if len(models) > 1:
        out["models.png"] = charts_mod.models(doc["comparison"])
        doc["files"]["models_chart"] = "models.png"
    if timeline:
        out["history.png"] = charts_mod.history(timeline)
        doc["files"]["history_chart"] = "history.png"
    return out
