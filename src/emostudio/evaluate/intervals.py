"""Bootstrap 95 % intervals of a report's headline metrics, and of the differences between two readings.

Percentile bootstrap: the labelled files are resampled with replacement `n_boot` times (or, with `groups`, whole
groups such as speakers, so that a speaker's files move together and the interval is not made narrower by
counting one voice many times) and each metric is recomputed on every resample; the interval is the 2.5th and
97.5th percentile. Several readings of the same files (base, calibrated, adapted) share the resamples, so the
interval of a difference (adapted UA − base UA) is a paired one.

The intervals describe how much the numbers would move with another set of files like these, for fixed
predictions; they do not include the variation of training a head on another training set.
The point metrics follow emostudio.evaluate.metrics exactly (a test checks it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from emostudio.evaluate.metrics import DEFAULT_ECE_BINS
from emostudio.settings import BandThresholds

METRICS = ("ua", "wa", "macro_f1", "ece", "nll", "brier")
BAND_KEYS = ("confident", "leaning", "uncertain")
DEFAULT_BOOTSTRAP = 1000


def point_metrics(
    truth: np.ndarray,
    probs: np.ndarray,
    ece_bins: int = DEFAULT_ECE_BINS,
    bands: BandThresholds | None = None,
) -> dict:
    """UA, WA, macro-F1, ECE, NLL, Brier, per-class recall and accuracy per band of one reading.

    truth: (n,) class indices into the columns of probs (n, k). Returns floats (NaN where undefined: a class
    absent from `truth`, an empty band); `recall` is (k,), `band_accuracy` is keyed by band.
    """
    bands = bands or BandThresholds()
    truth = np.asarray(truth, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    n, k = probs.shape
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    correct = (pred == truth).astype(np.float64)
    support = np.bincount(truth, minlength=k)
    predicted = np.bincount(pred, minlength=k)
    tp = np.bincount(truth, weights=correct, minlength=k)
    recall = np.divide(tp, support, out=np.full(k, np.nan), where=support > 0)
    in_f1 = (support > 0) | (predicted > 0)  # sklearn's default labels: present in either column
    f1 = 2 * tp[in_f1] / (support[in_f1] + predicted[in_f1])
    edges = np.arange(ece_bins + 1) / ece_bins
    index = np.digitize(conf, edges[1:-1], right=True)
    gap = np.bincount(index, weights=correct, minlength=ece_bins) - np.bincount(
        index, weights=conf, minlength=ece_bins
    )
    p_true = probs[np.arange(n), truth]
    onehot = np.zeros_like(probs)
    onehot[np.arange(n), truth] = 1.0
    band = np.where(conf > bands.confident, 0, np.where(conf >= bands.leaning, 1, 2))
    band_n = np.bincount(band, minlength=3)
    band_hits = np.bincount(band, weights=correct, minlength=3)
    band_acc = np.divide(band_hits, band_n, out=np.full(3, np.nan), where=band_n > 0)
    return {
        "ua": float(np.mean(recall[support > 0])),
        "wa": float(correct.mean()),
        "macro_f1": float(f1.mean()),
        "ece": float(np.abs(gap).sum() / n),
        "nll": float(-np.mean(np.log(np.clip(p_true, 1e-15, 1.0)))),
        "brier": float(np.mean(np.sum((probs - onehot) ** 2, axis=1))),
        "recall": recall,
        "band_accuracy": dict(zip(BAND_KEYS, band_acc.tolist(), strict=True)),
    }


def _flat(m: dict) -> np.ndarray:
    """One resample's metrics as a vector: METRICS, then per-class recall, then the 3 band accuracies."""
    return np.concatenate(
        [[m[k] for k in METRICS], m["recall"], [m["band_accuracy"][b] for b in BAND_KEYS]]
    ).astype(np.float64)


def _interval(samples: np.ndarray, level: float) -> list[float] | None:
    """[lo, hi] percentile interval of the finite samples; None when none is finite."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return None
    lo, hi = np.percentile(finite, [50 * (1 - level), 50 * (1 + level)])
    return [float(lo), float(hi)]


def resamples(n: int, groups: Sequence | None, n_boot: int, seed: int) -> list[np.ndarray]:
    """`n_boot` index arrays into range(n): files drawn with replacement, or whole groups when `groups` is given."""
    rng = np.random.default_rng(seed)
    if groups is None or len(set(groups)) == n:
        return [rng.integers(0, n, n) for _ in range(n_boot)]
    _, inverse = np.unique(np.asarray([str(g) for g in groups]), return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(int(inverse.max()) + 1)]
    return [
        np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
        for _ in range(n_boot)
    ]


def bootstrap(
    readings: Mapping[str, tuple[np.ndarray, np.ndarray, Sequence[str]]],
    *,
    groups: Sequence | None = None,
    reference: str | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    level: float = 0.95,
    ece_bins: int = DEFAULT_ECE_BINS,
    bands: BandThresholds | None = None,
) -> dict:
    """Intervals of every reading of the same n files, and of each reading's difference from `reference`.

    readings: name → (truth (n,) indices, probs (n, k), class labels (k,)); all with the same n files in the
    same order. groups: (n,) group of each file (speaker), resampled as a whole; None: files.
    Returns {"method", "n_boot", "level", "readings": {name: {metric: [lo, hi], "recall": {label: [lo, hi]},
    "bands": {band: [lo, hi]}}}, "differences": {name: {metric: {"value", "ci"}}}} (differences = name −
    reference, only when `reference` is among the readings).
    """
    if not readings:
        return {}
    n = {len(t) for t, _, _ in readings.values()}
    if len(n) != 1:
        raise ValueError(f"every reading must cover the same files, got sizes {sorted(n)}")
    size = n.pop()
    points = {name: _flat(point_metrics(t, p, ece_bins, bands)) for name, (t, p, _) in readings.items()}
    grouped = groups is not None and len({str(g) for g in groups}) < size
    draws: dict[str, list[np.ndarray]] = {name: [] for name in readings}
    if size > 0:
        for idx in resamples(size, groups if grouped else None, n_boot, seed):
            for name, (t, p, _) in readings.items():
                draws[name].append(
                    _flat(point_metrics(np.asarray(t)[idx], np.asarray(p)[idx], ece_bins, bands))
                )
    out_readings = {}
    samples = {name: np.array(d).reshape(len(d), len(points[name])) for name, d in draws.items()}
    for name, (_, _, labels) in readings.items():
        s = samples[name]
        k = len(labels)
        entry: dict = {m: _interval(s[:, i], level) for i, m in enumerate(METRICS)}
        entry["recall"] = {lab: _interval(s[:, len(METRICS) + j], level) for j, lab in enumerate(labels)}
        entry["bands"] = {b: _interval(s[:, len(METRICS) + k + j], level) for j, b in enumerate(BAND_KEYS)}
        out_readings[name] = entry
    differences = {}
    if reference is not None and reference in readings:
        ref = samples[reference][:, : len(METRICS)]
        for name in readings:
            if name == reference:
                continue
            diff = samples[name][:, : len(METRICS)] - ref
            differences[name] = {
                m: {
                    "value": float(points[name][i] - points[reference][i]),
                    "ci": _interval(diff[:, i], level),
                }
                for i, m in enumerate(METRICS)
            }
    return {
        "method": "percentile bootstrap over " + ("groups (speakers / recordings)" if grouped else "files"),
        "n_boot": n_boot,
        "level": level,
        "seed": seed,
        "readings": out_readings,
        "differences": differences,
        "reference": reference if reference in readings else None,
    }
