"""The closing pass of a live stream: the whole stream analysed as the file path analyses a recording.

The stream's 16 kHz audio (spooled to disk while it ran) is prepared with `emostudio.prepare` — the same VAD,
quality report and split at pauses as a file — and scored in frame mode in parts of at most `part_s` seconds of
audio (whole segments), so a long stream never holds the model for longer than one upload would. The parts'
segment scores are joined and go through `emostudio.assemble` like every other input, so the closing Result
equals `Recognizer.analyze(file, granularity="frame")` of the same audio, field by field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from emostudio.records import Prepared, Span
from emostudio.scoring import InputScores


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


def join(parts: Sequence[Part], scores: Sequence[InputScores]) -> InputScores:
    """The segment scores of the whole stream (with its channels') from the scores of its parts."""
    mine: dict[int | None, list[InputScores]] = {}
    for part, sc in zip(parts, scores, strict=True):
        mine.setdefault(part.owner, []).append(sc)
    whole = InputScores.join(mine.pop(None))
    whole.channels = {owner: InputScores.join(pieces) for owner, pieces in mine.items() if owner is not None}
    return whole
