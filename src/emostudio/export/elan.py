"""ELAN .eaf (EAF 2.8, UTF-8) of a result's tiers, written with pympi-ling, the audio linked next to it."""

from __future__ import annotations

from emostudio.export.errors import ExportError
from emostudio.export.tiers import Tier

WAV_MIME = "audio/x-wav"


def eaf_text(tiers: list[Tier], media_url: str, relative_media_url: str, mime_type: str = WAV_MIME) -> str:
    """An .eaf with one time-aligned tier per tier (times in whole milliseconds, as EAF stores them).

    `media_url`: the audio's absolute file:// URL; `relative_media_url`: the audio relative to the .eaf
    (`./processed_audio.wav`), which ELAN tries first, so a run folder still opens after it is moved.
    """
    try:
        from pympi import Elan
    except ImportError:
        raise ExportError(
            "writing ELAN files needs pympi-ling: pip install 'emostudio[annotations]'"
        ) from None
    eaf = Elan.Eaf(author="emostudio")
    eaf.add_linked_file(media_url, relpath=relative_media_url, mimetype=mime_type)
    for tier in tiers:
        eaf.add_tier(tier.name)
        for span in tier.spans:
            start, end = int(round(span.start_s * 1000)), int(round(span.end_s * 1000))
            if end > start:
                eaf.add_annotation(tier.name, start, end, span.text)
    eaf.remove_tier("default")  # the empty tier pympi starts every document with
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + Elan.to_string(eaf)
