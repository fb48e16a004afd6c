"""NIST RTTM of a run's speaker turns (what pyannote.metrics, dscore and md-eval read).

One line per turn: `SPEAKER <file> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>`, seconds with 3 decimals.
The file id is the source file's name without its extension (how a reference RTTM of the same recording names
it), spaces replaced by `_`. Speaker turns (`turns`, or each channel's own with `--channels separate --speakers`,
speakers named `<role>-spkN`) are the turns; a two-party run (`--channels separate`) without them counts each
scored channel as a speaker named by its role, with one turn per dominant segment of that channel. A run with
neither has no RTTM.
"""

from __future__ import annotations

from emostudio.export.tiers import dominant, speaker_channels
from emostudio.results import channel_name, rttm_file_id, turn_spans
from emostudio.speakers.rttm import rttm_lines

file_id = rttm_file_id  # the RTTM file id of a run (emostudio.results: also the run folder's turns.rttm)


def channel_turns(doc: dict) -> list[dict]:
    """Turns of a two-party run: each scored channel's dominant segments, its role as the speaker."""
    return [
        {"speaker": channel_name(ch), "start_s": s["start_s"], "end_s": s["end_s"]}
        for ch in speaker_channels(doc)
        for s in dominant(ch["result"])
    ]


def rttm_text(doc: dict) -> str | None:
    """The RTTM of the run's speaker turns (`turn_spans`: also each channel's), else of its speaker channels'
    dominant segments; None when the run has neither."""
    spans = turn_spans(doc) or [
        (str(t["speaker"]), float(t["start_s"]), float(t["end_s"])) for t in channel_turns(doc)
    ]
    return rttm_lines(file_id(doc), spans) or None
