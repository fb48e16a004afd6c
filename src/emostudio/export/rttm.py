"""NIST RTTM of a run's speaker turns (what pyannote.metrics, dscore and md-eval read).

One line per turn: `SPEAKER <file> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>`, seconds with 3 decimals.
The file id is the source file's name without its extension (how a reference RTTM of the same recording names
it), spaces replaced by `_`. Speaker turns (`turns`) are the turns; a two-party run (`--channels separate`)
without them counts each scored channel as a speaker named by its role, with one turn per dominant segment of
that channel. A run with neither has no RTTM.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from emostudio.export.tiers import channel_name, dominant, speaker_channels


def file_id(doc: dict) -> str:
    """The RTTM file id of a run: the source's stem, else the run id; no whitespace."""
    source = str(doc.get("source") or "")
    stem = PurePath(source.replace("\\", "/")).stem if source else ""
    return re.sub(r"\s+", "_", stem or str(doc.get("run_id") or "recording"))


def channel_turns(doc: dict) -> list[dict]:
    """Turns of a two-party run: each scored channel's dominant segments, its role as the speaker."""
    return [
        {"speaker": channel_name(ch), "start_s": s["start_s"], "end_s": s["end_s"]}
        for ch in speaker_channels(doc)
        for s in dominant(ch["result"])
    ]


def rttm_text(doc: dict) -> str | None:
    """The RTTM of `doc["turns"]` (else of the speaker channels), or None when the run has neither."""
    turns = doc.get("turns")
    if not isinstance(turns, list) or not turns:
        turns = channel_turns(doc)
    if not turns:
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
