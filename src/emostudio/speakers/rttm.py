"""NIST RTTM lines of speaker turns: the one place for the line format (pyannote, dscore and md-eval read it).

One line per turn: `SPEAKER <uri> 1 <start_s> <duration_s> <NA> <NA> <speaker> <NA> <NA>`, seconds with 3 decimals,
sorted by start (then end, then speaker); empty turns (end <= start after rounding) are skipped. Whitespace in the
file id or a speaker name becomes `_` (RTTM fields are separated by spaces).
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def _field(text: str) -> str:
    return re.sub(r"\s+", "_", str(text).strip()) or "_"


def rttm_lines(uri: str, turns: Iterable[tuple[str, float, float]]) -> str:
    """The RTTM text (newline-terminated lines; "" for no turns) of `turns`: (speaker, start_s, end_s) each."""
    rows = []
    for speaker, start_s, end_s in turns:
        start, end = round(float(start_s), 3), round(float(end_s), 3)
        if end > start:
            rows.append((start, end, _field(speaker)))
    name = _field(uri)
    return "".join(
        f"SPEAKER {name} 1 {start:.3f} {end - start:.3f} <NA> <NA> {spk} <NA> <NA>\n"
        for start, end, spk in sorted(rows)
    )
