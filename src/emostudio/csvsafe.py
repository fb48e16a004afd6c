"""CSV cells a spreadsheet cannot run: text that starts like a formula gets a leading apostrophe.

OWASP's advice against CSV (formula) injection: a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
return is written as `'` + the text, so Excel, LibreOffice and Google Sheets show it instead of evaluating it.
Only text is escaped: numbers (int, float, numpy scalars) stay numbers, so a score column of -0.5 is never touched.
A text cell that happens to read as a number (a speaker id "-2") is text and is escaped too ("'-2"): the column it
sits in holds text, and `+1+1` and `-2+3` look just as plain. Every CSV Emotion Studio writes goes through here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """`value` safe for a spreadsheet: text starting like a formula gets a leading `'`; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def text(value: str) -> str:
    """A text cell read back from a CSV we wrote, without the escape `cell` added."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


class DictWriter:
    """csv.DictWriter whose text cells are escaped with `cell` (the header too)."""

    def __init__(self, f: IO[str], fieldnames: Iterable[str], **kwargs: Any):
        names = list(fieldnames)
        self._names = {n: str(cell(n)) for n in names}
        self._w = csv.DictWriter(f, list(self._names.values()), **kwargs)

    def writeheader(self) -> None:
        self._w.writeheader()

    def writerow(self, row: Mapping[str, object]) -> None:
        self._w.writerow({self._names.get(k, k): cell(v) for k, v in row.items()})
