"""The closing pass of a live stream: the whole stream analysed as the file path analyses a recording.

The stream's 16 kHz audio (spooled to disk while it ran) is prepared with `emostudio.prepare` — the same VAD,
quality report and split at pauses as a file — and scored in frame mode, so the closing Result equals
`Recognizer.analyze(file, granularity="frame")` of the same audio. Scoring goes in parts of at most
`part_s` seconds of audio (whole segments), so a long stream never holds the model for longer than one
upload would; `assemble` puts the parts together exactly as `Recognizer.infer` does for one input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from emostudio.channels import attach
from emostudio.interpret import band_for, compound_for
from emostudio.prepare import Prepared, segment_weights
from emostudio.records import Span
from emostudio.results import FrameTimeline, Result
from emostudio.settings import Settings


@dataclass
class Part:
    """A piece of the closing pass: some consecutive segments of one input (the mix, or one channel)."""

    owner: int | None  # None: the mix; else the channel index
    prepared: Prepared  # the input with only this part's spans


def plan(prepared: Prepared, part_s: float) -> Iterator[Part]:
    """The parts to score for `prepared` and each of its speaker channels, in order."""
    yield from _parts(prepared, None, part_s)
    for ch in prepared.channels or []:
        if ch.prepared is not None:
            yield from _parts(ch.prepared, ch.info.index, part_s)


def _parts(item: Prepared, owner: int | None, part_s: float) -> Iterator[Part]:
    spans = item.spans
    if sum(sp.duration_s for sp in spans) <= part_s or len(spans) == 1:
        yield Part(owner, dataclasses.replace(item, channels=None))
        return
    group: list[Span] = []
    seconds = 0.0
    for sp in spans:
        if group and seconds + sp.duration_s > part_s:
            yield Part(owner, dataclasses.replace(item, spans=group, channels=None))
            group, seconds = [], 0.0
        group.append(sp)
        seconds += sp.duration_s
    if group:
        yield Part(owner, dataclasses.replace(item, spans=group, channels=None))


def assemble(prepared: Prepared, parts: list[Part], results: list[Result], settings: Settings) -> Result:
    """The Result of `prepared` (with its channels) from the Results of its parts, as `infer` would build it."""
    mine: dict[int | None, list[Result]] = {}
    for part, res in zip(parts, results, strict=True):
        mine.setdefault(part.owner, []).append(res)
    main = _join(prepared, mine[None], settings)
    if prepared.channels is not None:
        scored = {
            (0, ch.info.index): _join(ch.prepared, mine[ch.info.index], settings)
            for ch in prepared.channels
            if ch.prepared is not None
        }
        attach([main], [prepared], scored)
    return main


def _join(item: Prepared, pieces: list[Result], settings: Settings) -> Result:
    if len(pieces) == 1:
        return pieces[0]
    segs = [g for r in pieces for g in r.segments]
    weights = segment_weights(item.spans, item.speech)
    probs = np.average([g.probs for g in segs], axis=0, weights=weights)
    frames = None
    timelines = [r.frames for r in pieces if r.frames is not None]
    if len(timelines) == len(pieces):
        f0 = timelines[0]
        frames = FrameTimeline(
            np.concatenate([f.starts_s for f in timelines]),
            np.concatenate([f.probs for f in timelines]),
            f0.step_s,
            f0.window_s,
            [s for f in timelines for s in f.segments],
        )
    band = band_for(float(probs.max()), settings.bands)
    quality = item.quality_after or item.quality
    warning = None
    if quality is not None and band.key != "confident" and quality.likely_explains_low_confidence():
        warning = quality.warning_line("en")
    audio = {**pieces[0].audio, "segmented": len(item.spans) > 1, "segments": len(item.spans)}
    return dataclasses.replace(
        pieces[0],
        probs=probs,
        band=band,
        compound=compound_for(probs, settings.compound),
        segments=segs,
        frames=frames,
        audio=audio,
        quality_warning=warning,
    )


def score_sync_part(recognizer, part: Part) -> Result:
    """Score one part on this thread with `recognizer` (frame mode); raises the part's error."""
    from emostudio.pipeline import score

    out = score(recognizer, [part.prepared], "frame", False)[0]
    if isinstance(out, BaseException):
        raise out
    return out
