"""Speech and overlap probabilities on a 10 ms grid, from pyannote segmentation-3.0 (powerset classes: none, one of
three speakers, two of three) and silero VAD; and the speech stretches they agree on.

The segmentation model reads 10 s windows `seg_step_s` apart (Hamming-weighted average where they overlap), so
memory is the waveform plus a few floats per 10 ms whatever the length.
"""

from __future__ import annotations

import numpy as np

from emostudio.records import Fraction, share
from emostudio.segment import VAD_BLOCK, speech_probabilities
from emostudio.settings import SpeakerSettings

SAMPLE_RATE = 16_000
HOP_S = 0.01  # the grid: one value per 10 ms
_BATCH = 4  # segmentation windows per forward pass
SEGMENTATION_SHARE = (
    0.5  # of speech_and_overlap's time, the rest silero (ONNX; c2-long: 3.0 s and 2.9 s of 5.9 s)
)


def _windows(n: int, win: int, step: int) -> list[int]:
    starts = list(range(0, max(1, n - win + 1), step))
    if n > win and starts[-1] + win < n:
        starts.append(n - win)  # the last window ends at the end
    return starts


def segmentation_probs(
    net,
    inference: dict,
    model_cfg: dict,
    waveform: np.ndarray,
    step_s: float,
    progress: Fraction | None = None,
):
    """(speech, overlap): (frames,) float32 on the 10 ms grid from the segmentation model's powerset output;
    `progress` is told the share of windows read after each pass."""
    import torch

    n = len(waveform)
    frames = int(np.ceil(n / SAMPLE_RATE / HOP_S))
    win = int(inference["duration"] * SAMPLE_RATE)
    starts = _windows(n, win, int(step_s * SAMPLE_RATE))
    acc = np.zeros((2, frames), np.float64)
    weight = np.zeros(frames, np.float64)
    f_start, f_dur, f_step = model_cfg["frame_start"], model_cfg["frame_duration"], model_cfg["frame_step"]
    for b in range(0, len(starts), _BATCH):
        chunk = starts[b : b + _BATCH]
        x = np.zeros((len(chunk), 1, win), np.float32)
        for i, s in enumerate(chunk):
            piece = waveform[s : s + win]
            x[i, 0, : len(piece)] = piece
        with torch.inference_mode():
            p = torch.exp(net(torch.from_numpy(x))).numpy()  # (chunks, model frames, 7) log-softmax -> probs
        speech = 1.0 - p[..., 0]
        over = p[..., 4:].sum(-1)
        ham = np.hamming(p.shape[1])
        centers = f_start + 0.5 * f_dur + np.arange(p.shape[1]) * f_step
        for i, s in enumerate(chunk):
            idx = np.rint((s / SAMPLE_RATE + centers) / HOP_S).astype(int)
            ok = (idx < frames) & (s / SAMPLE_RATE + centers < n / SAMPLE_RATE)
            np.add.at(acc[0], idx[ok], speech[i][ok] * ham[ok])
            np.add.at(acc[1], idx[ok], over[i][ok] * ham[ok])
            np.add.at(weight, idx[ok], ham[ok])
        if progress:
            progress(min(b + _BATCH, len(starts)) / len(starts))
    filled = weight > 0
    grid = np.arange(frames)
    out = []
    for row in acc:
        v = np.zeros(frames)
        v[filled] = row[filled] / weight[filled]
        out.append(np.interp(grid, grid[filled], v[filled]).astype(np.float32) if filled.any() else v)
    return out[0], out[1]


def silero_probs(waveform: np.ndarray) -> np.ndarray:
    """(frames,) float32 speech probability on the 10 ms grid (silero scores 32 ms blocks; the project's one
    silero model, emostudio.segment)."""
    frames = int(np.ceil(len(waveform) / SAMPLE_RATE / HOP_S))
    p = speech_probabilities(waveform)
    block_s = VAD_BLOCK / SAMPLE_RATE
    t = (np.arange(frames) + 0.5) * HOP_S
    return p[np.minimum((t / block_s).astype(int), len(p) - 1)].astype(np.float32)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) frame ranges where `mask` is True."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def clean(mask: np.ndarray, min_on_s: float, min_off_s: float) -> np.ndarray:
    """`mask` with gaps shorter than `min_off_s` filled, then islands shorter than `min_on_s` removed."""
    out = mask.copy()
    stretches = runs(out)
    for (_, e0), (s1, _) in zip(stretches, stretches[1:], strict=False):
        if (s1 - e0) * HOP_S < min_off_s:
            out[e0:s1] = True
    for s, e in runs(out):
        if (e - s) * HOP_S < min_on_s:
            out[s:e] = False
    return out


def speech_and_overlap(
    nets, waveform: np.ndarray, cfg: SpeakerSettings, progress: Fraction | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(speech, overlap) boolean masks on the 10 ms grid; overlap only inside speech. `progress`: the share
    done (segmentation SEGMENTATION_SHARE of it, silero the rest)."""
    silero = cfg.vad_silero_weight > 0
    seg_speech, seg_over = segmentation_probs(
        nets.segmentation,
        nets.seg_inference,
        nets.seg_model,
        waveform,
        cfg.seg_step_s,
        share(progress, 0.0, SEGMENTATION_SHARE if silero else 1.0),
    )
    prob = seg_speech
    if silero:
        sil = silero_probs(waveform)
        if progress:
            progress(1.0)
        prob = (1 - cfg.vad_silero_weight) * seg_speech + cfg.vad_silero_weight * sil[: len(seg_speech)]
    speech = clean(prob > cfg.vad_threshold, cfg.min_speech_s, cfg.min_silence_s)
    overlap = clean((seg_over > cfg.overlap_threshold) & speech, cfg.min_overlap_s, 0.0) & speech
    return speech, overlap
