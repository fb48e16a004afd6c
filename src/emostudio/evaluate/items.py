"""The records of a labelled test set, shared by the manifest reader and the annotation readers.

A `LabelledItem` is one thing to score against its reference label: a whole audio file, or (with `start_s` and
`end_s`) a stretch of one, cut out of a long recording annotated by intervals. A `BadRow` is a row, interval or
task that cannot be scored, with a message naming the file and the line / interval.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from emostudio.errors import EmoStudioError


class EvaluationError(EmoStudioError):
    """An evaluation cannot run: bad options, an unreadable baseline, nothing left to evaluate."""

    code = "evaluation_error"


class ManifestError(EvaluationError):
    """The manifest as a whole cannot be read (missing, no path or label column, not text)."""

    code = "bad_manifest"


class BadAnnotationError(EvaluationError):
    """One annotation file (TextGrid, .eaf) cannot be read; its items become bad rows, the others are scored."""

    code = "bad_annotation"


class PastEndError(EvaluationError):
    """An item's interval starts or ends after the end of its audio."""

    code = "past_end"


@dataclass
class LabelledItem:
    """One usable row: an audio file (or a stretch of it) and its reference label (one of the 9 keys)."""

    id: str
    path: str  # absolute, or as resolved against the manifest's folder
    label: str
    where: str  # "line 7" (CSV / JSONL), the file's path relative to the folder, "a.TextGrid interval 3"
    raw_label: str = ""
    speaker: str | None = None
    text: str | None = None
    ref: str = ""  # how messages name the row: "test.csv line 7" (default: `where`)
    display: str = ""  # the file as the manifest names it (default: `path`)
    start_s: float | None = None  # with end_s: the stretch of the file to score, seconds from its start
    end_s: float | None = None

    def __post_init__(self) -> None:
        self.ref = self.ref or self.where
        self.display = self.display or self.path

    @property
    def is_cut(self) -> bool:
        """True when the item is a stretch of its file rather than the whole file."""
        return self.start_s is not None and self.end_s is not None


@dataclass
class BadRow:
    """A row that was not evaluated, and why. `message` names the row and the problem."""

    where: str
    code: str  # unknown_label, missing_label, missing_path, duplicate_id, bad_json, outside_root, overlap, …
    message: str
    id: str | None = None
    path: str | None = None
    model: str | None = None  # set when only this model failed on the row

    def to_dict(self) -> dict:
        return asdict(self)


def row_order(where: str) -> tuple:
    """Sort key putting rows in the order of their file: `line 9` before `line 10`, `a/2.wav` before `a/10.wav`."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", where) if p)


def listed(bad: list[dict], limit: int) -> dict:
    """The `bad_rows` (the first `limit`, in file order) and `bad_rows_total` entries of a report document."""
    return {"bad_rows": bad[:limit], "bad_rows_total": len(bad)}


def bad_count(doc: dict) -> int:
    """How many rows a report document says were not evaluated (older reports list them all)."""
    return int(doc.get("bad_rows_total", len(doc.get("bad_rows", []))))


def cut_id(name: str, start_s: float, end_s: float) -> str:
    """The id of a stretch of a file when its manifest gives none: `calls/a.wav@12.300-15.000` (seconds)."""
    return f"{name}@{start_s:.3f}-{end_s:.3f}"


def span_text(start_s: float, end_s: float) -> str:
    """`12.30–15.00 s`, how messages name an interval."""
    return f"{start_s:.2f}–{end_s:.2f} s"
