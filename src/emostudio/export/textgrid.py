"""Praat TextGrid (long text form, UTF-8) of a result's tiers, written with praatio."""

from __future__ import annotations

import tempfile
from pathlib import Path

from emostudio.export.errors import ExportError
from emostudio.export.tiers import Tier


def textgrid_text(tiers: list[Tier], duration_s: float) -> str:
    """A TextGrid whose interval tiers all cover exactly [0, duration_s]; gaps become empty intervals."""
    try:
        from praatio import textgrid
        from praatio.data_classes.interval_tier import IntervalTier
    except ImportError:
        raise ExportError("writing TextGrids needs praatio: pip install 'emostudio[annotations]'") from None
    tg = textgrid.Textgrid(0.0, duration_s)
    for tier in tiers:
        entries = [(s.start_s, s.end_s, s.text) for s in tier.spans]
        tg.addTier(IntervalTier(tier.name, entries, 0.0, duration_s))
    with tempfile.TemporaryDirectory(prefix="emostudio-textgrid-") as folder:
        path = Path(folder) / "out.TextGrid"
        tg.save(str(path), format="long_textgrid", includeBlankSpaces=True, minimumIntervalLength=None)
        return path.read_text(encoding="utf-8")
