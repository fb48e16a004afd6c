"""Speech-emotion metrics on a labelled set: WA, UA, macro-F1, per class, confusion, calibration, bands, speakers.

Pure functions over reference labels and class probabilities; nothing here reads files or runs a model.
Definitions (the usual ones in speech-emotion papers and EmoBox):
    WA        weighted accuracy = plain accuracy, correct / n
    UA        unweighted accuracy = mean recall over the classes present in the reference labels
              (what scikit-learn's balanced_accuracy_score computes)
    macro-F1  unweighted mean F1 over the classes in the reference labels or the predictions
              (scikit-learn's f1_score(average="macro") with its default labels)
    ECE       expected calibration error: Σ_b n_b/n · |accuracy_b − mean confidence_b| over `bins`
              equal-width bins (lo, hi] of the top-class probability
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emostudio.interpret import BANDS, band_for
from emostudio.model.labels import BY_KEY, KEYS
from emostudio.settings import BandThresholds

DEFAULT_ECE_BINS = 15


def restrict(probs: np.ndarray, class_keys: Sequence[str]) -> np.ndarray:
    """Probabilities over `class_keys` only, renormalised to sum to 1 (EmoBox-style class subsets).

    probs: (n, 9) in KEYS order → (n, len(class_keys)) in `class_keys` order.
    """
    probs = np.asarray(probs, dtype=np.float64).reshape(-1, len(KEYS))
    cols = probs[:, [KEYS.index(k) for k in class_keys]]
    total = cols.sum(axis=1, keepdims=True)
    return np.divide(cols, total, out=np.full_like(cols, 1.0 / len(class_keys)), where=total > 0)


def reliability_bins(correct: np.ndarray, confidence: np.ndarray, bins: int = DEFAULT_ECE_BINS) -> list[dict]:
    """Per equal-width confidence bin (lo, hi]: count, accuracy and mean confidence (None when empty)."""
    edges = np.arange(bins + 1) / bins
    index = np.digitize(confidence, edges[1:-1], right=True)  # bin b holds edges[b] < c ≤ edges[b + 1]
    out = []
    for b in range(bins):
        sel = index == b
        n = int(sel.sum())
        out.append(
            {
                "lo": float(edges[b]),
                "hi": float(edges[b + 1]),
                "n": n,
                "accuracy": float(correct[sel].mean()) if n else None,
                "confidence": float(confidence[sel].mean()) if n else None,
            }
        )
    return out


def expected_calibration_error(
    correct: np.ndarray, confidence: np.ndarray, bins: int = DEFAULT_ECE_BINS
) -> tuple[float, float]:
    """(ECE, MCE): the count-weighted mean and the largest |accuracy − confidence| over non-empty bins."""
    n = len(correct)
    if n == 0:
        return float("nan"), float("nan")
    gaps = [
        (b["n"], abs(b["accuracy"] - b["confidence"]))
        for b in reliability_bins(correct, confidence, bins)
        if b["n"]
    ]
    return float(sum(k * g for k, g in gaps) / n), float(max(g for _, g in gaps))


def band_accuracy(correct: np.ndarray, confidence: np.ndarray, thresholds: BandThresholds) -> list[dict]:
    """Accuracy inside each confidence band (does "> 80 % confident" mean right more than 80 % of the time?)."""
    keys = np.array([band_for(float(c), thresholds).key for c in confidence])
    ranges = {
        "confident": (thresholds.confident, 1.0, f"> {thresholds.confident * 100:g} %"),
        "leaning": (
            thresholds.leaning,
            thresholds.confident,
            f"{thresholds.leaning * 100:g}–{thresholds.confident * 100:g} %",
        ),
        "uncertain": (0.0, thresholds.leaning, f"< {thresholds.leaning * 100:g} %"),
    }
    out = []
    for key in ("confident", "leaning", "uncertain"):
        sel = keys == key
        n = int(sel.sum())
        lo, hi, text = ranges[key]
        out.append(
            {
                "band": key,
                "en": BANDS[key].en,
                "zh": BANDS[key].zh,
                "range": text,
                "lo": lo,
                "hi": hi,
                "n": n,
                "share": n / len(correct) if len(correct) else None,
                "accuracy": float(correct[sel].mean()) if n else None,
                "mean_confidence": float(confidence[sel].mean()) if n else None,
            }
        )
    return out


def speaker_accuracy(truth: np.ndarray, pred: np.ndarray, speakers: Sequence[str | None]) -> list[dict]:
    """Per speaker (rows without one are grouped under ""): n, accuracy (WA) and UA, sorted by speaker."""
    spk = np.array([s or "" for s in speakers], dtype=object)
    out = []
    for s in sorted(set(spk)):
        sel = spk == s
        t, p = truth[sel], pred[sel]
        out.append(
            {
                "speaker": s,
                "n": int(sel.sum()),
                "accuracy": float(np.mean(t == p)),
                "ua": _balanced(t, p),
                "classes": sorted(set(t.tolist()), key=_class_order),
            }
        )
    return out


def _class_order(label: str) -> tuple[int, str]:
    """The 9 keys in model order, then custom labels alphabetically."""
    return (KEYS.index(label) if label in KEYS else len(KEYS), label)


def _balanced(truth: np.ndarray, pred: np.ndarray) -> float:
    """Mean recall over the classes present in `truth` (balanced_accuracy_score without its warning)."""
    classes = sorted(set(truth.tolist()))
    return float(np.mean([np.mean(pred[truth == c] == c) for c in classes]))


def quality_split(correct: np.ndarray, qualities: Sequence[dict | None]) -> dict:
    """Mean quality metrics of the errors vs the hits (is bad audio the cause of the mistakes?).

    `qualities`: one quality report (`QualityReport.to_dict()`) or None per row. Returns {"hits": group,
    "errors": group}, each with n, the share of each overall verdict and, per numeric metric, its mean,
    unit, zh/en names and the share of rows whose verdict on it was "bad".
    """
    out = {}
    for name, want in (("hits", True), ("errors", False)):
        rows = [q for q, c in zip(qualities, correct, strict=True) if bool(c) == want and q]
        verdicts: dict[str, int] = {}
        values: dict[str, list[float]] = {}
        bad: dict[str, int] = {}
        info: dict[str, dict] = {}
        for q in rows:
            verdicts[q.get("verdict", "?")] = verdicts.get(q.get("verdict", "?"), 0) + 1
            for m in q.get("metrics", []):
                v = m.get("value")
                if isinstance(v, bool) or not isinstance(v, int | float):
                    continue
                values.setdefault(m["name"], []).append(float(v))
                bad[m["name"]] = bad.get(m["name"], 0) + (m.get("verdict") == "bad")
                info.setdefault(
                    m["name"],
                    {
                        "unit": m.get("unit", ""),
                        "en": m.get("label_en", m["name"]),
                        "zh": m.get("label_zh", m["name"]),
                    },
                )
        out[name] = {
            "n": len(rows),
            "verdicts": {k: v / len(rows) for k, v in sorted(verdicts.items())} if rows else {},
            "metrics": {
                k: {**info[k], "mean": float(np.mean(v)), "n": len(v), "bad_share": bad[k] / len(v)}
                for k, v in values.items()
            },
        }
    return out


def _per_class(truth: np.ndarray, pred: np.ndarray, present: list[str]) -> list[dict]:
    """Precision, recall, F1, support and how often predicted, for each class in `present`."""
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        truth, pred, labels=present, zero_division=0
    )
    return [
        {
            "class": k,
            "en": BY_KEY[k].en if k in BY_KEY else k,  # a custom label is its own name in both languages
            "zh": BY_KEY[k].zh if k in BY_KEY else k,
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
            "predicted": int((pred == k).sum()),
        }
        for i, k in enumerate(present)
    ]


def compute_metrics(
    labels: Sequence[str],
    probs: np.ndarray,
    class_keys: Sequence[str] = KEYS,
    *,
    speakers: Sequence[str | None] | None = None,
    qualities: Sequence[dict | None] | None = None,
    ece_bins: int = DEFAULT_ECE_BINS,
    bands: BandThresholds | None = None,
) -> dict:
    """Every metric of one model on one labelled set.

    labels: (n,) reference keys, each in `class_keys`; probs: (n, len(class_keys)) probabilities in
    `class_keys` order (rows sum to 1). The prediction is the arg-max class, the confidence its probability.
    Returns a JSON-ready dict (see the module docstring for the definitions); values are None when n is 0.
    `bands`: the confidence bands (default: emostudio.interpret's, > 80 % / 60–80 % / < 60 %).
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    class_keys = list(class_keys)
    truth = np.asarray(list(labels), dtype=object)
    probs = np.asarray(probs, dtype=np.float64).reshape(len(truth), len(class_keys))
    n = len(truth)
    if n == 0:
        return {"n": 0, "wa": None, "ua": None, "macro_f1": None, "ece": None, "ece_bins": ece_bins}
    unknown = sorted(set(truth.tolist()) - set(class_keys))
    if unknown:
        raise ValueError(f"reference labels {unknown} are not among the evaluated classes {class_keys}")
    pred = np.asarray([class_keys[i] for i in probs.argmax(axis=1)], dtype=object)
    confidence = probs.max(axis=1)
    correct = (pred == truth).astype(float)
    # classes shown in the tables and confusion matrix: every evaluated class that occurs in either column
    present = [k for k in class_keys if k in set(truth.tolist()) | set(pred.tolist())]
    per_class = _per_class(truth, pred, present)
    matrix = confusion_matrix(truth, pred, labels=present)
    ece, mce = expected_calibration_error(correct, confidence, ece_bins)
    p_true = probs[np.arange(n), [class_keys.index(t) for t in truth]]
    onehot = np.zeros_like(probs)
    onehot[np.arange(n), [class_keys.index(t) for t in truth]] = 1.0
    out = {
        "n": n,
        "wa": float(accuracy_score(truth, pred)),
        "ua": _balanced(truth, pred),
        "macro_f1": float(f1_score(truth, pred, labels=present, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(truth, pred, labels=present, average="weighted", zero_division=0)),
        "ece": ece,
        "ece_bins": ece_bins,
        "mce": mce,
        "nll": float(-np.mean(np.log(np.clip(p_true, 1e-15, 1.0)))),
        "brier": float(np.mean(np.sum((probs - onehot) ** 2, axis=1))),
        "mean_confidence": float(confidence.mean()),
        "per_class": per_class,
        "confusion": {
            "labels": present,
            "matrix": matrix.tolist(),
            "rows": "reference",
            "columns": "predicted",
        },
        "reliability": reliability_bins(correct, confidence, ece_bins),
        "bands": band_accuracy(correct, confidence, bands or BandThresholds()),
    }
    if speakers is not None and any(speakers):
        out["speakers"] = speaker_accuracy(truth, pred, speakers)
    if qualities is not None and any(qualities):
        out["quality"] = quality_split(correct, qualities)
    return out
