"""Cross-validation folds that never leak: one recording, or one speaker, is never in a fold's train and test parts.

Groups: two labelled items are in the same group when they are the same audio (the same content hash, or the same
file: several intervals cut from one long recording) or, when the set has a speaker column, have the same speaker.
Folds are scikit-learn's StratifiedGroupKFold over those groups (class proportions kept as far as the groups
and the class sizes allow), shuffled with the run's seed so that a run can be repeated exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from emostudio.adapt.errors import AdaptError


def cv_groups(files: Sequence[str], speakers: Sequence[str | None]) -> tuple[np.ndarray, str]:
    """(group (n,) int, "speaker" | "file"): items joined when they share a file or a speaker (union-find)."""
    n = len(files)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}
    for i, (f, s) in enumerate(zip(files, speakers, strict=True)):
        for kind, value in (("file", f), ("speaker", s)):
            if not value:
                continue
            j = first.setdefault((kind, value), i)
            if j != i:
                parent[find(i)] = find(j)
    roots = [find(i) for i in range(n)]
    _, groups = np.unique(np.asarray(roots), return_inverse=True)
    grouped_by = "speaker" if any(s for s in speakers) else "file"
    return groups.astype(np.int64), grouped_by


def cv_folds(
    y: Sequence[int] | np.ndarray, groups: Sequence[int] | np.ndarray, k: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`k` (train indices, test indices) pairs; every item is in exactly one test part.

    Raises AdaptError when the groups cannot make `k` non-empty test parts.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(y)
    groups = np.asarray(groups)
    if len(set(groups.tolist())) < k:
        raise AdaptError(f"{len(set(groups.tolist()))} group(s) cannot make {k} folds")
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    if np.all(np.unique(y, return_counts=True)[1] < k):
        # every class has fewer members than folds (say --folds 10 on 6 files a class): scikit-learn refuses to
        # stratify, and no fold could hold each class anyway; the folds are then grouped and balanced in size
        # only (one stratum), shuffled with the seed as before
        y = np.zeros(len(y), dtype=np.int64)
    with warnings.catch_warnings():
        # a class with fewer members than folds: labelset.check_counts has already said so in its own words
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        folds = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(np.zeros(len(y)), y, groups)]
    if any(len(te) == 0 or len(tr) == 0 for tr, te in folds):
        raise AdaptError(
            f"the {len(set(groups.tolist()))} groups could not be split into {k} folds; use fewer --folds"
        )
    return folds
