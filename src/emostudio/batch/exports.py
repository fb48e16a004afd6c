"""`batch --export textgrid,eaf,vtt,srt,rttm`: each input's annotations, written as the job goes.

A batch job writes no run folders, so each input's files land in `OUT/exports/<id>.<ext>` (the id made safe
for a file name; `.rttm` for speaker turns or channels, when the input has them), rendered from the same
result.json document a run folder would hold (emostudio.export.render). An .eaf links the input's audio by
its absolute file URL and by the path relative to the exports folder. A file that cannot be written is said
in the row's `warnings`; the row itself is kept.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

from emostudio import atomic
from emostudio.errors import UsageError, printable
from emostudio.export import RUN_FORMATS, check_available, parse_formats, render
from emostudio.export.runfiles import file_name
from emostudio.records import InputItem

EXPORTS_DIR = "exports"
SUFFIXES = {"textgrid": ".TextGrid", "eaf": ".eaf", "vtt": ".vtt", "srt": ".srt", "rttm": ".rttm"}


def batch_formats(spec: str | Sequence[str] | None) -> tuple[str, ...]:
    """The --export formats of a batch job, checked before any work (ExportError / UsageError)."""
    if not spec:
        return ()
    formats = parse_formats(spec)
    if "labelstudio" in formats:
        raise UsageError(
            "--export labelstudio is one file for many runs: export the job's runs with emostudio export"
        )
    check_available(formats)
    return tuple(f for f in formats if f in RUN_FORMATS)


def safe_stem(item_id: str) -> str:
    """A file name for an input id: unsafe characters as `_`, plus a short hash when any were replaced (two
    ids never share a file)."""
    stem = re.sub(r"[^\w.\-]+", "_", item_id).strip("._") or "item"
    if stem != item_id:
        stem += "-" + hashlib.sha256(item_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return stem


def export_item(out_dir: str | os.PathLike, item: InputItem, result, formats: Sequence[str]) -> list[str]:
    """Write `formats` of one input's Result into OUT/exports/; the problems as lines (empty when all went)."""
    if not formats:
        return []
    folder = Path(out_dir) / EXPORTS_DIR
    doc = {**result.to_dict(), "run_id": item.id}
    audio = Path(item.path).resolve()
    rel = os.path.relpath(audio, folder.resolve())
    problems = []
    for fmt in formats:
        text = render(
            doc, fmt, media_url=audio.as_uri(), relative_media_url=rel if rel[0] in "./" else f"./{rel}"
        )
        if text is None:  # RTTM without turns or channels
            continue
        target = folder / file_name(SUFFIXES[fmt], safe_stem(item.id))
        try:
            atomic.write_text(target, text)
        except OSError as e:
            problems.append(f"{printable(target)}: not written ({e.strerror or e})")
    return problems
