"""`evaluate_adapter()`: an adapter on a held-out labelled set → the same report as adapt's, without folds.

The set is read as `evaluate` reads it (custom labels kept); a row whose label is not one of the adapter's is
listed as a bad row (the head cannot predict it), the rest is scored (cached) and read three ways: base,
calibrated (the adapter's temperature) and adapted (its head). Files that were in the adapter's training set
(the same audio, by content hash) are counted and named in a warning: figures on them are not held-out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from emostudio.adapt import report as report_mod
from emostudio.adapt.adapter import Adapter, load_adapter
from emostudio.adapt.cache import Embedded, EmbedProgress, embed_items, open_cache
from emostudio.adapt.errors import AdaptError
from emostudio.adapt.folds import cv_groups
from emostudio.adapt.notes import Note
from emostudio.adapt.train import TRAIN_HASH_CHARS, bad_row, check_out_dir, labelled_set
from emostudio.errors import printable
from emostudio.evaluate.intervals import DEFAULT_BOOTSTRAP
from emostudio.evaluate.manifest import CLASS_MODES, BadRow, LabelledItem, Manifest
from emostudio.evaluate.metrics import DEFAULT_ECE_BINS, restrict
from emostudio.evaluate.run import Evaluation
from emostudio.model.labels import KEYS
from emostudio.runs import new_report_dir

if TYPE_CHECKING:
    from emostudio.recognize import Recognizer


def evaluate_adapter(
    manifest: str | os.PathLike | Manifest,
    recognizer: Recognizer,
    adapter: Adapter | str | os.PathLike,
    *,
    report_dir: str | os.PathLike | None = None,
    reports_root: str | os.PathLike = "evaluations",
    cache_dir: str | os.PathLike | Literal[False] | None = None,
    workers: int = 2,
    overwrite: bool = False,
    n_boot: int = DEFAULT_BOOTSTRAP,
    ece_bins: int = DEFAULT_ECE_BINS,
    seed: int = 0,
    allowed_roots=None,
    progress: Callable[[EmbedProgress], None] | None = None,
    lang: str = "en",
) -> Evaluation:
    """Evaluate `adapter` (an Adapter or its folder) on a labelled set with `recognizer`'s model.

    lang: the language of the report's charts ("zh" or "en"; report.html's own texts are in both).
    Raises AdapterMismatchError when the adapter was trained on other weights, AdapterError for a damaged
    folder, ManifestError / AdaptError when the run cannot start.
    """
    weights = recognizer.model.fingerprint()
    if isinstance(adapter, Adapter):
        adapter.check_model(weights, recognizer.model.model_id)
    else:
        adapter = load_adapter(adapter, weights, recognizer.model.model_id)
    if report_dir is not None:
        check_out_dir(report_dir, overwrite, "report folder")
    classes = str(adapter.info.get("classes", "all"))
    man = labelled_set(manifest, classes, allowed_roots)
    items, bad = _rows_for(man, adapter)
    emb = embed_items(
        items, recognizer, cache=open_cache(cache_dir, recognizer), workers=workers, progress=progress
    )
    ok = [i for i in range(len(items)) if i not in emb.errors]
    bad += [bad_row(items[i], e) for i, e in sorted(emb.errors.items())]
    used = [items[i] for i in ok]
    if not used:
        raise AdaptError(
            f"{printable(man.source)}: no file could be scored ({'; '.join(b.message for b in bad[:3])})"
        )
    readings = _readings(adapter, emb.probs[ok], emb.embeddings[ok], classes)
    groups, grouped_by = cv_groups(
        [emb.content[i] or os.path.realpath(items[i].path) for i in ok], [it.speaker for it in used]
    )
    doc = report_mod.build_doc(
        mode="held-out",
        manifest=man.summary(),
        labels=[it.label for it in used],
        speakers=[it.speaker for it in used],
        groups=groups.tolist(),
        readings=readings,
        model_info={**recognizer.model_ref.to_dict(), "weights_sha256": weights},
        adaptation=_heldout_block(adapter, classes, man, emb, list(zip(ok, used, strict=True)), grouped_by),
        bad_rows=[b.to_dict() for b in bad],
        ece_bins=ece_bins,
        bands=recognizer.settings.bands,
        n_boot=n_boot,
        seed=seed,
    )
    columns, rows = report_mod.prediction_rows(used, readings, None, recognizer.settings.bands)
    folder = Path(report_dir) if report_dir is not None else new_report_dir(reports_root)
    report_mod.write(folder, doc, columns, rows, lang)
    return Evaluation(folder, doc, rows)


def _rows_for(man: Manifest, adapter: Adapter) -> tuple[list[LabelledItem], list[BadRow]]:
    """The set's items that carry one of the adapter's labels, and the bad rows (the manifest's, then one per
    item whose label the head cannot predict). AdaptError when no item is left."""
    known = set(adapter.labels)
    items = [it for it in man.items if it.label in known]
    bad: list[BadRow] = list(man.bad) + [
        BadRow(
            it.where,
            "unknown_label",
            f"{it.ref}: label {it.label!r} is not one of the adapter's labels ({', '.join(adapter.labels)})",
            it.id,
            it.path,
        )
        for it in man.items
        if it.label not in known
    ]
    if not items:
        raise AdaptError(
            f"{printable(man.source)}: no row carries one of the adapter's labels ({', '.join(adapter.labels)})"
        )
    return items, bad


def _readings(
    adapter: Adapter, P9: np.ndarray, X: np.ndarray, classes: str
) -> dict[str, tuple[np.ndarray, tuple[str, ...]]]:
    """The three readings of the scored files: base and calibrated (when the labels are the model's classes)
    on the class mode's keys, and adapted on the adapter's labels. P9 (n, 9) scores, X (n, dim) embeddings."""
    calibrated, adapted = adapter.apply_many(P9, X)
    class_keys = CLASS_MODES[classes]
    readings: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
    if all(label in KEYS for label in adapter.labels):
        readings["base"] = (restrict(P9, class_keys), class_keys)
        readings["calibrated"] = (restrict(calibrated, class_keys), class_keys)
    readings["adapted"] = (adapted, adapter.labels)
    return readings


def _heldout_block(
    adapter: Adapter,
    classes: str,
    man: Manifest,
    emb: Embedded,
    scored: list[tuple[int, LabelledItem]],
    grouped_by: str,
) -> dict:
    """metrics.json's `adaptation` for a held-out run: the adapter, what it was trained on, and warnings when
    the set overlaps its training files (by content hash) or is the very set it was trained on.
    `scored`: (index into the embedded items, item) of each file that was scored."""
    warnings: list[Note] = []
    trained = set(adapter.info.get("set", {}).get("train_content_sha256") or ())
    seen = [it.id for i, it in scored if (emb.content[i] or "")[:TRAIN_HASH_CHARS] in trained]
    if seen:
        examples = ", ".join(map(repr, seen[:5]))
        warnings.append(Note("adapt_warn_overlap", n=len(seen), total=len(scored), examples=examples))
    if man.fingerprint == adapter.info.get("set", {}).get("fingerprint"):
        warnings.append(Note("adapt_warn_same_set"))
    return {
        "labels": list(adapter.labels),
        "label_kind": adapter.info.get("label_kind"),
        "classes": classes,
        "calibration": adapter.info.get("calibration"),
        "head": adapter.info.get("head"),
        "adapter": str(adapter.folder) if adapter.folder else None,
        "adapter_id": adapter.id,
        "adapter_created": adapter.info.get("created"),
        "trained_on": {
            k: v for k, v in (adapter.info.get("set") or {}).items() if k != "train_content_sha256"
        },
        "trained_on_files": len(trained),
        "overlap_with_training": len(seen),
        "grouped_by": grouped_by,
        "warnings": warnings,
    }
