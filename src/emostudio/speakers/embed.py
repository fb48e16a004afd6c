"""CAM++ speaker embeddings of short windows inside the speech stretches.

Kaldi 80-bin log-mel fbank (kaldi-native-fbank, 25 ms / 10 ms, no dither) per speech stretch, each window's
frames mean-normalised (as 3D-Speaker does), windows of `window_s` every `shift_s` (the last one ends at the
stretch's end; a stretch shorter than a window is one window). Memory: one stretch's fbank and four windows'
activations at a time.
"""

from __future__ import annotations

import numpy as np

from emostudio.records import Fraction
from emostudio.settings import SpeakerSettings

SAMPLE_RATE = 16_000
HOP_S = 0.01
_BATCH = 4  # windows per CAM++ pass: 32 held ~230 MB more at its peak and was no faster on 2 cores


def fbank(samples: np.ndarray) -> np.ndarray:
    """(frames, 80) float32 log-mel fbank of (samples,) float32 16 kHz."""
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.samp_freq = SAMPLE_RATE
    opts.mel_opts.num_bins = 80
    fb = knf.OnlineFbank(opts)
    # the array as it is: a Python list of the samples held 32 bytes a sample (+388 MB for a 600 s stretch, 58 now)
    fb.accept_waveform(SAMPLE_RATE, np.asarray(samples, np.float32) * np.float32(32768.0))
    fb.input_finished()
    n = fb.num_frames_ready
    if n == 0:
        return np.zeros((0, 80), np.float32)
    return np.stack([fb.get_frame(i) for i in range(n)]).astype(np.float32)


def window_frames(cfg: SpeakerSettings) -> int:
    """A whole window's length in 10 ms frames (shorter windows are whole stretches shorter than that)."""
    return round(cfg.window_s / HOP_S)


def windows(stretches: list[tuple[int, int]], cfg: SpeakerSettings) -> list[tuple[int, int]]:
    """[start, end) 10 ms frame ranges of the embedding windows inside each [start, end) speech stretch."""
    win, shift = window_frames(cfg), max(1, round(cfg.shift_s / HOP_S))
    out = []
    for s, e in stretches:
        if e - s <= win:
            out.append((s, e))
            continue
        starts = list(range(s, e - win + 1, shift))
        if starts[-1] + win < e:
            starts.append(e - win)
        out.extend((a, a + win) for a in starts)
    return out


def _forward(model, feats: list[np.ndarray]) -> np.ndarray:
    """(len(feats), 192) embeddings; windows of one length share a pass (no padding: a padded window's
    statistics would include the padding)."""
    import torch

    out = np.zeros((len(feats), 192), np.float32)
    by_length: dict[int, list[int]] = {}
    for i, f in enumerate(feats):
        by_length.setdefault(len(f), []).append(i)
    for rows in by_length.values():
        x = torch.from_numpy(np.stack([feats[i] for i in rows]).astype(np.float32))
        with torch.inference_mode():
            out[rows] = model(x).numpy()
    return out


def embeddings(
    model, waveform: np.ndarray, stretches, cfg: SpeakerSettings, progress: Fraction | None = None
):
    """(windows [(start, end) frames], (n, 192) float32 L2-normalised embeddings); `progress` is told the share
    of windows embedded after each pass."""
    wins = windows(stretches, cfg)
    out: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    wi = 0
    for s, e in stretches:
        feats = fbank(waveform[s * 160 : e * 160 + 240])  # +240: the last 25 ms frame is whole
        while wi < len(wins) and wins[wi][1] <= e:
            a, b = wins[wi][0] - s, wins[wi][1] - s
            f = feats[a:b] if b - a >= 20 else feats[max(0, b - 20) : b]
            pending.append(f - f.mean(0, keepdims=True))
            wi += 1
            if len(pending) == _BATCH:
                out.append(_forward(model, pending))
                pending = []
                if progress:
                    progress(wi / len(wins))
    if pending:
        out.append(_forward(model, pending))
    if progress:
        progress(1.0)
    if not out:
        return wins, np.zeros((0, 192), np.float32)
    emb = np.concatenate(out)
    return wins, (emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9)).astype(np.float32)
