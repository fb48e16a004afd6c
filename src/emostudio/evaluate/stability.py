"""Stability over time: compare a run with an earlier report of the same test set, and the run history.

Comparison (per model, on the files both runs scored): files whose predicted label flipped, score drift (the
largest |Δ| of the 9 scores of a file; its mean and max over files), files the baseline scored that now fail,
and the metric deltas (WA, UA, macro-F1, ECE recomputed on those common files, so an edited manifest still
compares like with like). The run fails the check when any value passes its threshold (StabilityThresholds).

History: every run appends one JSON line per model to `<history dir>/<fingerprint[:16]>.jsonl` (the test
set's fingerprint), under an exclusive lock; lines are never rewritten, so the file is the record of runs.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from emostudio.evaluate.manifest import CLASS_MODES, EvaluationError
from emostudio.evaluate.metrics import compute_metrics, restrict
from emostudio.model.labels import KEYS


@dataclass(frozen=True)
class StabilityThresholds:
    """How much change against the baseline is tolerated (scores and metrics are 0–1)."""

    max_flip_rate: float = 0.01  # share of compared files whose predicted label changed
    max_drift: float = 0.02  # largest |Δ score| of any class on any file
    max_mean_drift: float = 0.005  # mean over files of each file's largest |Δ score|
    max_drop: float = 0.01  # largest drop of WA, UA or macro-F1
    max_new_failures: int = 0  # files the baseline scored that fail now

    def to_dict(self) -> dict:
        return asdict(self)


def _pair_models(current: Sequence[str], baseline: Sequence[str]) -> list[tuple[str, str]]:
    """Models compared: same names; or, when each run has exactly one model, those two."""
    pairs = [(m, m) for m in current if m in baseline]
    if not pairs and len(current) == 1 and len(baseline) == 1:
        pairs = [(current[0], baseline[0])]
    return pairs


def _probs(row: dict) -> np.ndarray:
    return np.array([float(row[f"score_{k}"]) for k in KEYS])


def _ok(row: dict) -> bool:
    return not row.get("error_code") and row.get("score_angry") not in (None, "")


def _metrics_on(rows: list[dict], class_keys: Sequence[str], ece_bins: int) -> dict:
    probs = restrict(np.array([_probs(r) for r in rows]).reshape(-1, len(KEYS)), class_keys)
    return compute_metrics([r["label"] for r in rows], probs, class_keys, ece_bins=ece_bins)


def compare(
    current_rows: Sequence[dict],
    baseline_rows: Sequence[dict],
    *,
    classes: str,
    thresholds: StabilityThresholds | None = None,
    ece_bins: int = 15,
) -> dict:
    """Compare two runs' prediction rows (predictions.csv rows: id, model, label, predicted, score_*, error_code).

    Returns {"passed", "reasons", "thresholds", "models": [...], "only_in_current", "only_in_baseline",
    "unpaired"}; each model entry lists its flipped files, drift, newly failing files and metric deltas.
    """
    keys = CLASS_MODES[classes]
    thresholds = thresholds or StabilityThresholds()
    cur_models = list(dict.fromkeys(r["model"] for r in current_rows))
    base_models = list(dict.fromkeys(r["model"] for r in baseline_rows))
    pairs = _pair_models(cur_models, base_models)
    cur_ids = {r["id"] for r in current_rows}
    base_ids = {r["id"] for r in baseline_rows}
    out: dict = {
        "thresholds": thresholds.to_dict(),
        "only_in_current": sorted(cur_ids - base_ids),
        "only_in_baseline": sorted(base_ids - cur_ids),
        "unpaired": {
            "current": [m for m in cur_models if m not in {a for a, _ in pairs}],
            "baseline": [m for m in base_models if m not in {b for _, b in pairs}],
        },
        "models": [],
        "reasons": [],
    }
    if not pairs:
        out["reasons"].append(
            f"no model to compare: this run has {cur_models}, the baseline {base_models} (same names needed "
            "when either run has several models)"
        )
    for cur_name, base_name in pairs:
        cur = {r["id"]: r for r in current_rows if r["model"] == cur_name}
        base = {r["id"]: r for r in baseline_rows if r["model"] == base_name}
        entry = _compare_model(cur, base, keys, ece_bins)
        entry = {"model": cur_name, "baseline_model": base_name, **entry}
        entry["reasons"] = _reasons(entry, thresholds)
        out["reasons"] += [f"{cur_name}: {x}" for x in entry["reasons"]]
        out["models"].append(entry)
    out["passed"] = not out["reasons"]
    return out


def _compare_model(cur: dict[str, dict], base: dict[str, dict], keys, ece_bins: int) -> dict:
    """One model's rows now and in the baseline (by id): flipped files, score drift, new failures, metric deltas."""
    common = [i for i in cur if i in base and _ok(cur[i]) and _ok(base[i])]
    newly_failed = [
        {"id": i, "path": cur[i].get("path"), "error": cur[i].get("error")}
        for i in cur
        if i in base and _ok(base[i]) and not _ok(cur[i])
    ]
    flipped, drifts = [], []
    for i in common:
        c, b = cur[i], base[i]
        drift = float(np.max(np.abs(_probs(c) - _probs(b))))
        drifts.append(drift)
        if c["predicted"] != b["predicted"]:
            flipped.append(
                {
                    "id": i,
                    "path": c.get("path"),
                    "label": c["label"],
                    "before": b["predicted"],
                    "after": c["predicted"],
                    "before_confidence": float(b["confidence"]),
                    "after_confidence": float(c["confidence"]),
                    "drift": drift,
                }
            )
    entry: dict = {
        "compared": len(common),
        "flipped": flipped,
        "flip_rate": len(flipped) / len(common) if common else 0.0,
        "drift_mean": float(np.mean(drifts)) if drifts else 0.0,
        "drift_max": float(np.max(drifts)) if drifts else 0.0,
        "drift_max_id": common[int(np.argmax(drifts))] if drifts else None,
        "newly_failed": newly_failed,
        "deltas": {},
        "reasons": [],
    }
    if common:
        now = _metrics_on([cur[i] for i in common], keys, ece_bins)
        before = _metrics_on([base[i] for i in common], keys, ece_bins)
        entry["deltas"] = {k: now[k] - before[k] for k in ("wa", "ua", "macro_f1", "ece")}
        entry["metrics_now"] = {k: now[k] for k in ("wa", "ua", "macro_f1", "ece")}
        entry["metrics_before"] = {k: before[k] for k in ("wa", "ua", "macro_f1", "ece")}
    return entry


def _reasons(entry: dict, t: StabilityThresholds) -> list[str]:
    """Why one model's comparison fails the thresholds (empty when it passes)."""
    r = []
    flipped, compared = entry["flipped"], entry["compared"]
    if entry["flip_rate"] > t.max_flip_rate:
        r.append(
            f"{len(flipped)} of {compared} files changed label ({entry['flip_rate'] * 100:.1f} % > "
            f"{t.max_flip_rate * 100:g} %)"
        )
    if entry["drift_max"] > t.max_drift:
        r.append(f"largest score drift {entry['drift_max']:.4f} > {t.max_drift:g} ({entry['drift_max_id']})")
    if entry["drift_mean"] > t.max_mean_drift:
        r.append(f"mean score drift {entry['drift_mean']:.4f} > {t.max_mean_drift:g}")
    for k in ("wa", "ua", "macro_f1"):
        if -entry["deltas"].get(k, 0.0) > t.max_drop:
            r.append(f"{k} dropped by {-entry['deltas'][k] * 100:.1f} points (> {t.max_drop * 100:g})")
    if len(entry["newly_failed"]) > t.max_new_failures:
        r.append(f"{len(entry['newly_failed'])} files the baseline scored fail now (> {t.max_new_failures})")
    if not compared:
        r.append("no file was scored in both runs")
    return r


# ---------------------------------------------------------------------------------------------------- history
HISTORY_SUFFIX = ".jsonl"


def history_file(history_dir: str | os.PathLike, fingerprint: str) -> Path:
    """The history file of one test set."""
    if not fingerprint or not all(c in "0123456789abcdef" for c in fingerprint):
        raise EvaluationError(f"not a test-set fingerprint: {fingerprint!r}")
    return Path(history_dir) / f"{fingerprint[:16]}{HISTORY_SUFFIX}"


def append_history(history_dir: str | os.PathLike, fingerprint: str, entries: Sequence[dict]) -> Path:
    """Append one JSON line per entry to the test set's history, holding an exclusive lock while writing."""
    path = history_file(history_dir, fingerprint)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entries).encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return path


def read_history(history_dir: str | os.PathLike, fingerprint: str) -> list[dict]:
    """Every run recorded for a test set, oldest first; lines that are not JSON objects are skipped."""
    path = history_file(history_dir, fingerprint)
    if not path.is_file():
        return []
    out = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line after a crash; every complete line is still read
            if isinstance(obj, dict) and obj.get("fingerprint") == fingerprint:
                out.append(obj)
    return sorted(out, key=lambda e: e.get("time", ""))
