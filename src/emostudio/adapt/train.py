"""`adapt()`: a labelled set + a model → an adapter folder (calibration + a head for the set's labels) and its
cross-validated report.

    manifest (as `evaluate` reads it, custom labels kept) → label-set checks → base scores and embeddings
    (cached) → k folds grouped by recording / speaker → per fold: temperature and head fitted on the training
    part (C by inner CV), out-of-fold predictions for the test part → the report (base vs calibrated vs adapted,
    bootstrap 95 % intervals) → the final temperature and head fitted on every file → adapter folder

Exit codes (`Adaptation.exit_code`, as the CLI's): 0 trained on every row; 1 trained, but some rows could not be
used (listed by line). A run that cannot train raises AdaptError / ManifestError (the CLI's exit 2).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from emostudio import __version__
from emostudio.adapt import report as report_mod
from emostudio.adapt.adapter import REPORT_DIR, Adapter, save_adapter
from emostudio.adapt.cache import Embedded, EmbedProgress, embed_items, model_key, open_cache
from emostudio.adapt.calibration import MAX_TEMPERATURE, MIN_TEMPERATURE, fit_temperature, logits, scale
from emostudio.adapt.errors import AdaptError
from emostudio.adapt.folds import cv_folds, cv_groups
from emostudio.adapt.head import Head, fit_head
from emostudio.adapt.labelset import LabelSet, check_counts, check_groups, label_set, near_misses
from emostudio.adapt.notes import Note
from emostudio.errors import EmoStudioError, printable
from emostudio.evaluate.intervals import DEFAULT_BOOTSTRAP
from emostudio.evaluate.manifest import CLASS_MODES, BadRow, LabelledItem, Manifest, load_manifest
from emostudio.evaluate.metrics import DEFAULT_ECE_BINS, restrict
from emostudio.evaluate.run import StatusDoc

if TYPE_CHECKING:
    from emostudio.recognize import Recognizer

DEFAULT_FOLDS = 5
TRAIN_HASH_CHARS = (
    16  # adapter.json keeps this many hex digits of each training file's sha256 (overlap checks)
)


@dataclass
class Adaptation(StatusDoc):
    """What `adapt` produced: the adapter (saved in `folder`), the CV report's metrics.json, the warnings."""

    adapter: Adapter
    folder: Path
    doc: dict = field(repr=False)
    warnings: list[Note] = field(default_factory=list)
    scored: int = 0  # files the model scored in this run (the rest came from the cache)
    cached: int = 0

    @property
    def report_dir(self) -> Path:
        return self.folder / REPORT_DIR


def check_out_dir(folder: str | os.PathLike, overwrite: bool, what: str = "adapter folder") -> Path:
    """A folder to write: new or empty (or `overwrite`), in a place that can be written. AdaptError."""
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise AdaptError(f"{printable(out)}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise AdaptError(f"{printable(out)}: not empty; choose a new {what} (or --overwrite)")
    parent = out if out.is_dir() else next((p for p in out.parents if p.exists()), Path("."))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise AdaptError(f"{printable(parent)}: cannot be written (permission denied)")
    return out


def labelled_set(manifest: str | os.PathLike | Manifest, classes: str, allowed_roots=None) -> Manifest:
    """The labelled set as `evaluate` reads it, custom labels kept (a loaded Manifest is taken as it is)."""
    if isinstance(manifest, Manifest):
        return manifest
    return load_manifest(manifest, classes, allowed_roots, custom_labels=True)


def bad_row(item: LabelledItem, exc: EmoStudioError) -> BadRow:
    """The row of an item whose audio could not be scored; the message names the manifest line and the file."""
    text = str(exc)
    named = "" if item.path in text or item.display in text else f"{printable(item.display)}: "
    return BadRow(item.where, exc.code, f"{item.ref}: {named}{text}", item.id, item.path)


def _base_truth(labels: list[str], class_keys: tuple[str, ...]) -> np.ndarray:
    return np.array([class_keys.index(t) for t in labels], dtype=np.int64)


def _usable(man: Manifest, emb: Embedded) -> tuple[list[int], list[BadRow]]:
    ok = [i for i in range(len(man.items)) if i not in emb.errors]
    bad = list(man.bad) + [bad_row(man.items[i], e) for i, e in sorted(emb.errors.items())]
    return ok, bad


def adapt(
    manifest: str | os.PathLike | Manifest,
    recognizer: Recognizer,
    out_dir: str | os.PathLike,
    *,
    folds: int = DEFAULT_FOLDS,
    classes: str = "all",
    cache_dir: str | os.PathLike | Literal[False] | None = None,
    seed: int = 0,
    min_per_class: int = 5,
    workers: int = 2,
    overwrite: bool = False,
    n_boot: int = DEFAULT_BOOTSTRAP,
    ece_bins: int = DEFAULT_ECE_BINS,
    allowed_roots=None,
    progress: Callable[[EmbedProgress], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    lang: str = "en",
) -> Adaptation:
    """Train an adapter for `recognizer`'s model on a labelled set and write it to `out_dir`; see the module doc.

    manifest: what `emostudio evaluate` reads (CSV/JSONL/folder; labels may be custom), or a loaded Manifest.
    cache_dir: where scores and embeddings are cached (None: the default folder; False: no cache).
    lang: the language of the report's charts ("zh" or "en"; report.html's own texts are in both).
    Raises AdaptError (TooFewExamplesError, …) / ManifestError before training when the set cannot be learnt.
    """
    stage = on_stage or (lambda text: None)
    if not isinstance(folds, int) or isinstance(folds, bool) or folds < 2:
        raise AdaptError(f"folds must be a whole number of at least 2, not {folds!r}")
    if classes not in CLASS_MODES:
        raise AdaptError(f"classes must be one of {', '.join(CLASS_MODES)}, not {classes!r}")
    out = check_out_dir(out_dir, overwrite)
    man = _learnable_set(manifest, classes, allowed_roots, min_per_class, folds)
    cache = open_cache(cache_dir, recognizer)
    stage("scoring")
    emb = embed_items(man.items, recognizer, cache=cache, workers=workers, progress=progress)
    tr = _training_set(man, emb, min_per_class, folds)
    if cache is not None and cache.unreadable:
        tr.warnings.append(Note("adapt_warn_cache", n=cache.unreadable))

    cv = _cross_validate(tr, folds, seed, stage)
    stage("fitting on every file")
    temperature, head, how = _fit_on_every_file(tr, folds, seed)
    readings: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
    if tr.base_ok:
        readings["base"] = (restrict(tr.P9, tr.class_keys), tr.class_keys)
        readings["calibrated"] = (cv.calibrated, tr.class_keys)
    readings["adapted"] = (cv.adapted, tr.ls.labels)
    model_info = {**recognizer.model_ref.to_dict(), "weights_sha256": recognizer.model.fingerprint()}
    bands = recognizer.settings.bands
    block = _adaptation_block(tr, man.classes, temperature, how, folds, seed, cv.info, out)
    stage("report")
    doc = report_mod.build_doc(
        mode="cross-validation",
        manifest=man.summary(),
        labels=tr.labels,
        speakers=[it.speaker for it in tr.items],
        groups=tr.groups.tolist(),
        readings=readings,
        model_info=model_info,
        adaptation=block,
        bad_rows=[b.to_dict() for b in tr.bad],
        ece_bins=ece_bins,
        bands=bands,
        n_boot=n_boot,
        seed=seed,
    )
    columns, rows = report_mod.prediction_rows(tr.items, readings, cv.fold_of.tolist(), bands)
    info = _adapter_info(man, tr.ls, recognizer, model_info, block, doc, emb, tr.bad, tr.ok)
    info["head"]["converged"] = head.converged
    adapter = Adapter(tr.ls.labels, head, temperature, info)
    out.mkdir(parents=True, exist_ok=True)
    report_mod.write(out / REPORT_DIR, doc, columns, rows, lang)
    save_adapter(adapter, out)  # adapter.json last: it marks a complete adapter
    return Adaptation(adapter, out, doc, tr.warnings, emb.scored, emb.cached)


def _learnable_set(
    manifest: str | os.PathLike | Manifest, classes: str, allowed_roots, min_per_class: int, folds: int
) -> Manifest:
    """The labelled set, checked before any scoring: rows to learn from, enough of each label, enough groups."""
    man = labelled_set(manifest, classes, allowed_roots)
    where = printable(man.source)
    if not man.items:
        first = "; ".join(b.message for b in man.bad[:3])
        raise AdaptError(f"{where}: no usable labelled rows" + (f" ({first})" if first else ""))
    check_counts(label_set([it.label for it in man.items]), min_per_class, where)
    pre_groups, by = cv_groups(
        [os.path.realpath(it.path) for it in man.items], [it.speaker for it in man.items]
    )
    check_groups([it.label for it in man.items], pre_groups.tolist(), folds, by)
    return man


@dataclass
class _TrainingSet:
    """The scored items a head is trained on (manifest order), their label set, CV groups and inputs."""

    ok: list[int]  # indices into the manifest's items
    bad: list[BadRow]
    items: list[LabelledItem]
    labels: list[str]
    ls: LabelSet
    groups: np.ndarray
    grouped_by: str
    warnings: list[Note]
    X: np.ndarray  # (n, dim) utterance embeddings, float64
    P9: np.ndarray  # (n, 9) base scores
    y: np.ndarray  # (n,) label indices into ls.labels
    class_keys: tuple[str, ...]
    z: np.ndarray | None  # (n, classes) base log-probabilities when the labels are emotions
    truth_base: np.ndarray | None  # (n,) label indices into class_keys, idem

    @property
    def base_ok(self) -> bool:
        return self.z is not None and self.truth_base is not None


def _training_set(man: Manifest, emb: Embedded, min_per_class: int, folds: int) -> _TrainingSet:
    """The items that could be scored, checked again (counts, near-miss labels, groups) with the warnings."""
    where = printable(man.source)
    ok, bad = _usable(man, emb)
    items = [man.items[i] for i in ok]
    labels = [it.label for it in items]
    if not items:
        raise AdaptError(f"{where}: no file could be scored ({'; '.join(b.message for b in bad[:3])})")
    ls = label_set(labels)
    try:
        warnings = check_counts(ls, min_per_class, where)
    except AdaptError as e:
        raise type(e)(
            f"{e} ({len(emb.errors)} file(s) could not be scored)" if emb.errors else str(e)
        ) from None
    warnings += near_misses(ls)
    files = [emb.content[i] or os.path.realpath(man.items[i].path) for i in ok]
    groups, grouped_by = cv_groups(files, [it.speaker for it in items])
    warnings += check_groups(labels, groups.tolist(), folds, grouped_by)
    P9 = emb.probs[ok]
    class_keys = CLASS_MODES[man.classes]
    base_ok = ls.kind == "emotions"
    return _TrainingSet(
        ok,
        bad,
        items,
        labels,
        ls,
        groups,
        grouped_by,
        warnings,
        X=emb.embeddings[ok].astype(np.float64),
        P9=P9,
        y=np.array(ls.index(labels), dtype=np.int64),
        class_keys=class_keys,
        z=logits(restrict(P9, class_keys)) if base_ok else None,
        truth_base=_base_truth(labels, class_keys) if base_ok else None,
    )


@dataclass
class _OutOfFold:
    """Every file's fold and its out-of-fold calibrated and adapted readings."""

    fold_of: np.ndarray  # (n,) fold index
    calibrated: np.ndarray  # (n, classes)
    adapted: np.ndarray  # (n, labels)
    info: list[dict]  # per fold: sizes, temperature, C


def _cross_validate(tr: _TrainingSet, folds: int, seed: int, stage: Callable[[str], None]) -> _OutOfFold:
    """Temperature and head fitted on each fold's training part, read on its test part."""
    splits = cv_folds(tr.y, tr.groups, folds, seed)
    k = len(tr.ls.labels)
    cv = _OutOfFold(
        np.zeros(len(tr.items), dtype=np.int64),
        np.zeros((len(tr.items), len(tr.class_keys))),
        np.zeros((len(tr.items), k)),
        [],
    )
    for f, (train, test) in enumerate(splits):
        stage(f"fold {f + 1}/{len(splits)}")
        cv.fold_of[test] = f
        t_f = None
        if tr.z is not None and tr.truth_base is not None:
            t_f = fit_temperature(tr.z[train], tr.truth_base[train])
            cv.calibrated[test] = scale(tr.z[test], t_f)
        head_f, how_f = fit_head(tr.X[train], tr.y[train], tr.groups[train], k, folds, seed)
        cv.adapted[test] = head_f.proba(tr.X[test])
        cv.info.append(
            {
                "fold": f + 1,
                "train": int(len(train)),
                "test": int(len(test)),
                "temperature": t_f,
                "C": how_f["C"],
            }
        )
    return cv


def _fit_on_every_file(tr: _TrainingSet, folds: int, seed: int) -> tuple[float, Head, dict]:
    """The adapter's own temperature and head, fitted on every file; warnings for a bound temperature or a head
    that did not converge are added to the set's."""
    temperature = 1.0
    if tr.z is not None and tr.truth_base is not None:
        temperature = fit_temperature(tr.z, tr.truth_base)
    head, how = fit_head(tr.X, tr.y, tr.groups, len(tr.ls.labels), folds, seed)
    if tr.z is not None and not MIN_TEMPERATURE * 1.01 < temperature < MAX_TEMPERATURE * 0.99:
        tr.warnings.append(Note("adapt_warn_temperature_bound", temperature=temperature))
    if not head.converged:
        tr.warnings.append(Note("adapt_warn_not_converged"))
    return temperature, head, how


def _adaptation_block(
    tr: _TrainingSet,
    classes: str,
    temperature: float,
    how: dict,
    folds: int,
    seed: int,
    fold_info: list[dict],
    out: Path,
) -> dict:
    """metrics.json's `adaptation`: the labels, calibration, head, folds and warnings of this adapter."""
    ls, base_ok, groups = tr.ls, tr.base_ok, tr.groups
    return {
        "labels": list(ls.labels),
        "label_kind": ls.kind,
        "counts": ls.counts,
        "classes": classes,
        "calibration": {
            "fitted": base_ok,
            "temperature": temperature,
            "classes": list(CLASS_MODES[classes]) if base_ok else None,
            "method": "temperature scaling of the base log-probabilities, NLL minimised (bounded 1-D search)",
        },
        "head": {**how, "model": "standardised utterance embeddings → multinomial logistic regression"},
        "folds": {
            "k": folds,
            "seed": seed,
            "grouped_by": tr.grouped_by,
            "groups": int(len(set(groups.tolist()))),
            "method": "StratifiedGroupKFold; every prediction out-of-fold",
            "per_fold": fold_info,
        },
        "warnings": list(tr.warnings),
        "adapter": str(out),
    }


def _adapter_info(
    man: Manifest,
    ls: LabelSet,
    recognizer: Recognizer,
    model_info: dict,
    block: dict,
    doc: dict,
    emb: Embedded,
    bad: list[BadRow],
    used: list[int],
) -> dict:
    cv = {
        name: {
            **{key: m.get(key) for key in report_mod.HEADLINE},
            "ci": {key: m["ci"].get(key) for key in ("wa", "ua", "macro_f1", "ece", "nll", "brier")},
        }
        for name, m in doc["models"].items()
    }
    return {
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "emostudio_version": __version__,
        "labels": list(ls.labels),
        "label_kind": ls.kind,
        "classes": man.classes,
        "model": {
            "id": model_info.get("id"),
            "weights_sha256": model_info["weights_sha256"],
            "precision": model_info.get("dtype"),
            "is_random": bool(model_info.get("is_random")),
            "embedding_dim": int(emb.embeddings.shape[1]),
        },
        "set": {
            "source": man.source,
            "kind": man.kind,
            "fingerprint": man.fingerprint,
            "rows": man.rows,
            "used": len(used),
            "not_used": len(bad),
            "counts": ls.counts,
            "train_content_sha256": sorted({c[:TRAIN_HASH_CHARS] for i in used if (c := emb.content[i])}),
        },
        "folds": {k: v for k, v in block["folds"].items() if k != "per_fold"},
        "calibration": block["calibration"],
        "head": dict(block["head"]),
        "cv": cv,
        "bands": doc["band_thresholds"],
        "embedding_settings": model_key(recognizer),
        "report": f"{REPORT_DIR}/{report_mod.HTML_FILE}",
    }
