"""Items cut out of long recordings: each file decoded once, each item handed over as the audio of its stretch.

`CutSource(items).source(item)` is what the runner prepares for an item: its path when it is a whole file, else
an `Audio` of samples [round(start_s · 16000), round(end_s · 16000)) of the decoded file, wrapped by
`emostudio.audio.from_array` — the same checks (silence, NaN) as decoding a file of exactly those samples — so the
item is scored exactly as `analyze` of the cut audio. A file is decoded the first time one of its items is asked
for, and dropped once its last item has been handed over; `order` lists the items file by file, so only one
decoded recording is held at a time. An item past the end of its audio raises PastEndError; a file that does not
decode raises its AudioError for each of its items.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from emostudio.audio import Audio, from_array
from emostudio.audio import decode as decode_audio
from emostudio.evaluate.items import LabelledItem, PastEndError, span_text

SAMPLE_RATE = 16000
END_TOLERANCE_S = 0.02  # an interval may end this far past the decoded audio (resampling, rounding of times)


def _decode(path: str) -> Audio:
    return decode_audio(path)


class CutSource:
    """Decodes each cut file once (thread-safe) and hands out its items' stretches; see the module docstring."""

    def __init__(self, items: Sequence[LabelledItem], decode: Callable[[str], Audio] | None = None):
        self._decode = decode or _decode
        self._left = Counter(it.path for it in items if it.is_cut)
        self._audio: dict[str, Audio | Exception] = {}
        self._locks: dict[str, threading.Lock] = {p: threading.Lock() for p in self._left}
        first: dict[str, int] = {}
        for i, it in enumerate(items):
            if it.is_cut:
                first.setdefault(it.path, i)
        # cut items file by file (at their file's first item), whole files where they are: order otherwise kept
        self.order = sorted(
            range(len(items)), key=lambda i: (first[items[i].path] if items[i].is_cut else i, i)
        )
        self.decoded: Counter[str] = Counter()  # path -> times decoded (1 per file; tests check it)

    def source(self, item: LabelledItem) -> str | Audio:
        """The path of a whole-file item, or the Audio of a cut item's stretch."""
        if not item.is_cut:
            return item.path
        with self._locks[item.path]:
            audio = self._audio.get(item.path)
            if audio is None:
                try:
                    audio = self._decode(item.path)
                    self.decoded[item.path] += 1
                except Exception as exc:  # kept: every item of the file reports the same failure
                    audio = exc
                self._audio[item.path] = audio
            self._left[item.path] -= 1
            if self._left[item.path] <= 0:
                del self._audio[item.path]
        if isinstance(audio, Exception):
            raise audio
        return cut(audio, item)


def cut(audio: Audio, item: LabelledItem) -> Audio:
    """The stretch of decoded `audio` an item names, as its own checked Audio (a copy: the file can be freed)."""
    start, end = float(item.start_s), float(item.end_s)  # type: ignore[arg-type]
    duration = len(audio.waveform) / SAMPLE_RATE
    if start >= duration or end > duration + END_TOLERANCE_S:
        raise PastEndError(
            f"{item.ref}: {span_text(start, end)} goes past the end of {item.display} ({duration:.2f} s)"
        )
    a, b = int(round(start * SAMPLE_RATE)), min(int(round(end * SAMPLE_RATE)), len(audio.waveform))
    name = f"{item.display} [{span_text(start, end)}]"
    return from_array(np.array(audio.waveform[a:b]), SAMPLE_RATE, name=name)
