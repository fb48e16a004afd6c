"""senko's own diarization pipeline with its defaults, on the CPU: the baseline the product's engine is
measured against (benchmarks/speakers_bench.py). It decides the number of speakers itself (spectral
clustering's eigengap); asked for a number, it reports what it found beside what was asked."""

from __future__ import annotations

import numpy as np

from emostudio.errors import UsageError
from emostudio.records import Fraction
from emostudio.speakers.turns import Diarization, Turn, speaker_id

SAMPLE_RATE = 16_000


def import_senko():
    """The senko module; UsageError naming the extra when it is not installed."""
    try:
        import senko
    except ImportError as e:
        raise UsageError(
            "speaker turns need the `speakers` extra: pip install 'emostudio[speakers]' (senko)"
        ) from e
    return senko


class SenkoDefaults:
    name = "senko-defaults"

    def __init__(self, model_dir: str | None = None) -> None:
        senko = import_senko()
        self._diarizer = senko.Diarizer(
            device="cpu", vad="silero", warmup=False, quiet=True, model_dir=model_dir
        )

    def diarize(
        self, waveform: np.ndarray, speakers: int | None = None, progress: Fraction | None = None
    ) -> Diarization:
        out = self._diarizer.diarize_samples(np.asarray(waveform, dtype=np.float32), SAMPLE_RATE)
        if progress:  # senko's pipeline says nothing while it runs: done is all it can tell
            progress(1.0)
        if out is None:  # senko found no speech
            return Diarization([], speakers, self.name)
        speech_s = float(sum(e - s for s, e in out["vad"]))
        ids: dict[str, str] = {}
        turns = []
        for seg in sorted(out["merged_segments"], key=lambda g: g["start"]):
            spk = ids.setdefault(seg["speaker"], speaker_id(len(ids)))
            turns.append(Turn(spk, float(seg["start"]), float(seg["end"])))
        result = Diarization(turns, speakers, self.name, speech_s=speech_s)
        if speakers is not None and result.found != speakers:
            result.notes.append(
                {"key": "speakers_count_differs", "requested": speakers, "found": result.found}
            )
        return result
