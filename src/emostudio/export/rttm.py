"""NIST RTTM of a run's speaker turns (what pyannote.metrics, dscore and md-eval read).

One line per turn: `SPEAKER <file> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>`, seconds with 3 decimals.
The file id is the source file's name without its extension (how a reference RTTM of the same recording names
it), spaces replaced by `_`. A run without speaker turns has no RTTM.
"""

from __future__ import annotations

import re
from pathlib import PurePath


def file_id(doc: dict) -> str:
    """The RTTM file id of a run: the source's stem, else the run id; no whitespace."""
    source = str(doc.get("source") or "")
    stem = PurePath(source.replace("\\", "/")).stem if source else ""
    return re.sub(r"\s+", "_", stem or str(doc.get("run_id") or "recording"))


def rttm_text(doc: dict) -> str | None:
    """The RTTM of `doc["turns"]`, or None when the run has no speaker turns."""
    turns = doc.get("turns")
    if not isinstance(turns, list) or not turns:
        return None
    uri = file_id(doc)
    lines = []
    for t in sorted(turns, key=lambda t: (t["start_s"], t["end_s"])):
        start, end = float(t["start_s"]), float(t["end_s"])
        if end <= start:
            continue
        speaker = re.sub(r"\s+", "_", str(t["speaker"]))
        lines.append(f"SPEAKER {uri} 1 {start:.3f} {end - start:.3f} <NA> <NA> {speaker} <NA> <NA>\n")
    return "".join(lines) or None
