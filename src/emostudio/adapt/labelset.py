"""The label set of a training set: which classes, whether they are the model's own, and whether there are enough.

A label is one of the 9 classes when `emostudio.model.labels.normalise_label` maps it (names, Chinese names,
synonyms, dataset abbreviations); any other label is the user's own (custom) class, compared after NFKC, trimming
and lower-casing (`custom_label`). A set whose labels are all among the 9 classes is an *emotion* set: the base
model's reading can be scored against it and its 9-class logits calibrated. A set with any custom label is a
*custom* set: only the trained head reads it, and the report says the base reading does not apply.

How many examples are enough (the rule `check_counts` applies, as a statistician would):
- fewer than `min_per_class` (default 5) labelled files in a class: refused. With 5 folds each test fold then
  holds about one file of that class: fewer cannot be cross-validated at all, and the head's weights for the class
  are set by one or two recordings.
- fewer than 20: trained, with a warning: one file moves that class's recall by 5 points or more and its 95 %
  interval is about ±20 points wide.
- classes only one speaker (or one recording) holds, when folds are grouped: a warning, because no fold can test
  the class on a voice the head has not heard.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from emostudio.adapt.errors import AdaptError, TooFewExamplesError
from emostudio.adapt.notes import Note
from emostudio.model.labels import BY_KEY, KEYS, LABEL_SYNONYMS

MIN_PER_CLASS = 5
WARN_PER_CLASS = 20


@dataclass(frozen=True)
class LabelSet:
    """The classes of a training set in report order: the 9 keys in model order, then custom labels sorted."""

    labels: tuple[str, ...]
    counts: dict[str, int]

    @property
    def custom(self) -> tuple[str, ...]:
        return tuple(label for label in self.labels if label not in BY_KEY)

    @property
    def kind(self) -> str:
        """ "emotions" (all among the 9 classes) or "custom"."""
        return "custom" if self.custom else "emotions"

    def index(self, labels: Sequence[str]) -> list[int]:
        return [self.labels.index(label) for label in labels]


def label_set(labels: Sequence[str]) -> LabelSet:
    """The LabelSet of these reference labels (keys or custom labels, as the manifest reader returns them)."""
    counts = Counter(labels)
    order = sorted(counts, key=lambda k: (KEYS.index(k) if k in KEYS else len(KEYS), k))
    return LabelSet(tuple(order), {k: counts[k] for k in order})


def check_counts(ls: LabelSet, min_per_class: int = MIN_PER_CLASS, where: str = "") -> list[Note]:
    """Refuse a set that cannot be learnt or cross-validated; return warnings for one that can, but barely."""
    at = f"{where}: " if where else ""
    if min_per_class < 2:
        raise AdaptError(
            f"min_per_class must be at least 2 (cross-validation needs 2 files of a class), not {min_per_class}"
        )
    if len(ls.labels) < 2:
        only = f" (only {ls.labels[0]!r})" if ls.labels else ""
        raise AdaptError(f"{at}an adapter needs at least 2 classes with labelled files{only}")
    few = {k: n for k, n in ls.counts.items() if n < min_per_class}
    if few:
        listed = ", ".join(f"{k!r}: {n}" for k, n in few.items())
        raise TooFewExamplesError(
            f"{at}too few labelled files in {len(few)} class(es) ({listed}; at least {min_per_class} per class are "
            "needed to train and cross-validate a head). Add recordings, merge the class into another, or "
            "leave its rows out"
        )
    warnings = []
    thin = {k: n for k, n in ls.counts.items() if n < WARN_PER_CLASS}
    if thin:
        listed = ", ".join(f"{k!r}: {n}" for k, n in thin.items())
        warnings.append(Note("adapt_warn_few_files", listed=listed, enough=WARN_PER_CLASS))
    return warnings


def check_groups(labels: Sequence[str], groups: Sequence[int], folds: int, grouped_by: str) -> list[Note]:
    """Refuse folds that cannot be formed from the groups; warn about classes held by a single group."""
    n_groups = len(set(groups))
    if n_groups < folds:
        raise AdaptError(
            f"the files fall into {n_groups} {grouped_by} group(s), fewer than the {folds} folds asked for: the same "
            f"{grouped_by} must never be in a fold's training and test parts. Use --folds {max(2, n_groups)} "
            "or fewer" + ("" if n_groups >= 2 else " (and at least 2 speakers)")
        )
    per_class: dict[str, set[int]] = {}
    for label, g in zip(labels, groups, strict=True):
        per_class.setdefault(label, set()).add(g)
    single = sorted(k for k, gs in per_class.items() if len(gs) == 1)
    if single and grouped_by == "speaker":
        return [Note("adapt_warn_single_speaker", classes=", ".join(map(repr, single)))]
    return []


_KNOWN_NAMES = sorted({*KEYS, *(s for names in LABEL_SYNONYMS.values() for s in names if s.isascii())})


def near_misses(ls: LabelSet) -> list[Note]:
    """Warnings for custom labels that look like a misspelt class name (`angery` → angry)."""
    out = []
    for label in ls.custom:
        close = difflib.get_close_matches(label, _KNOWN_NAMES, n=1, cutoff=0.8)
        if close:
            out.append(Note("adapt_warn_near_miss", label=repr(label), guess=repr(close[0])))
    return out
