"""Pitch tracking and the hints it supports: music or singing, several speakers, weak expression.

Hints look at at most `HINT_MAX_S` seconds of a recording (evenly spaced excerpts of longer ones), so their
cost and memory do not grow with length.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from emostudio.messages import t as text
from emostudio.quality.measures import excerpts, frame_power
from emostudio.records import SAMPLE_RATE, Hint
from emostudio.settings import QualityThresholds

HINT_MAX_S = 120.0
PITCH_BLOCK = 2000  # 10 ms frames analysed at once (20 s)


def pitch_track(
    x: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    fmin: float = 60.0,
    fmax: float = 500.0,
    hop_s: float = 0.01,
) -> np.ndarray:
    """f0 in Hz per 10 ms frame (0 where unvoiced): normalised autocorrelation over 40 ms frames, vectorised.

    A frame is voiced when its best normalised autocorrelation peak in the 60–500 Hz lag range is ≥ 0.6
    and its energy is within 35 dB of the loudest frame.
    """
    win, hop = int(0.04 * sample_rate), int(hop_s * sample_rate)
    if len(x) < win:
        return np.zeros(0)
    y = signal.sosfiltfilt(
        signal.butter(4, 1000, "lowpass", fs=sample_rate, output="sos"), x.astype(np.float64)
    )
    view = np.lib.stride_tricks.sliding_window_view(y, win)[::hop]
    best, lag, energy = np.zeros(len(view)), np.ones(len(view)), np.zeros(len(view))
    for a in range(0, len(view), PITCH_BLOCK):  # bounded memory: a few thousand frames at a time
        b = min(len(view), a + PITCH_BLOCK)
        best[a:b], lag[a:b], energy[a:b] = _best_lags(
            view[a:b], win, int(sample_rate / fmax), int(sample_rate / fmin)
        )
    loud = energy > energy.max() * 10 ** (-35 / 10) if energy.max() > 0 else np.zeros(len(energy), bool)
    return np.where((best >= 0.6) & loud, sample_rate / lag, 0.0)


def _best_lags(frames: np.ndarray, win: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(best normalised autocorrelation, its lag in samples, frame energy) for (frames, win) windows."""
    frames = frames - frames.mean(axis=1, keepdims=True)
    nfft = 2 * win
    spec = np.fft.rfft(frames, nfft, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, nfft, axis=1)[:, :win]
    energy = ac[:, 0]
    norm = ac[:, lo:hi] / np.maximum(energy[:, None], 1e-12) * win / (win - np.arange(lo, hi))[None, :]
    best = norm.max(axis=1)
    # the shortest lag at a local peak within 10 % of the best one (avoids octave-down errors)
    peak = np.zeros_like(norm, dtype=bool)
    peak[:, 1:-1] = (norm[:, 1:-1] >= norm[:, :-2]) & (norm[:, 1:-1] >= norm[:, 2:])
    k = np.argmax(peak & (norm >= 0.9 * best[:, None]), axis=1)
    k = np.where(peak[np.arange(len(k)), k], k, np.argmax(norm, axis=1))
    lag = (k + lo).astype(float)
    # parabolic refinement of the lag
    i = np.clip(k, 1, hi - lo - 2)
    rows = np.arange(len(i))
    y0, y1, y2 = norm[rows, i - 1], norm[rows, i], norm[rows, i + 1]
    den = y0 - 2 * y1 + y2
    lag = np.where(np.abs(den) > 1e-9, i + lo + 0.5 * (y0 - y2) / np.where(den == 0, 1, den), lag)
    return best, lag, energy


def _voiced_runs(f0: np.ndarray, min_frames: int = 10) -> list[np.ndarray]:
    d = np.diff(np.concatenate([[0], (f0 > 0).astype(np.int8), [0]]))
    return [
        f0[a:b]
        for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True)
        if b - a >= min_frames
    ]


def hints(x: np.ndarray, t: QualityThresholds) -> list[Hint]:
    """Hints about content the model was not trained for, from the pitch track (excerpts when long)."""
    parts = excerpts(len(x), int(HINT_MAX_S * SAMPLE_RATE), pieces=6)
    if len(parts) > 1:  # excerpts joined with 50 ms of silence so no pitch run spans a seam
        silence = np.zeros(int(0.05 * SAMPLE_RATE), np.float32)
        x = np.concatenate([piece for a, b in parts for piece in (x[a:b], silence)])
    f0 = pitch_track(x)
    voiced = f0[f0 > 0]
    hints: list[Hint] = []
    if voiced.size * 0.01 < t.hint_min_voiced_s:
        return hints
    semis = 12 * np.log2(voiced / np.median(voiced))
    # held notes: the longest stretch where pitch stays within ±0.5 semitone of its running start
    longest = 0.0
    for run in _voiced_runs(f0):
        st = 12 * np.log2(run)
        start = 0
        for j in range(1, len(st)):
            if abs(st[j] - np.median(st[start : j + 1])) > 0.5:
                start = j
            longest = max(longest, (j - start + 1) * 0.01)
    if longest >= t.music_stable_run_s:
        hints.append(
            Hint(
                "music",
                text("hint_music", "en"),
                text("hint_music", "zh"),
                {"longest_held_pitch_s": round(longest, 2)},
            )
        )
    medians = np.array([np.median(12 * np.log2(r / 100.0)) for r in _voiced_runs(f0)])
    if medians.size >= 6:
        s = np.sort(medians)
        costs = [np.var(s[:k]) * k + np.var(s[k:]) * (len(s) - k) for k in range(2, len(s) - 1)]
        k = int(np.argmin(costs)) + 2
        gap = float(np.median(s[k:]) - np.median(s[:k]))
        spread = float(max(np.std(s[:k]), np.std(s[k:]), 0.5))
        if gap >= t.speakers_min_gap_semitones and gap >= 4 * spread and min(k, len(s) - k) >= 0.2 * len(s):
            hints.append(
                Hint(
                    "multiple_speakers",
                    text("hint_multiple_speakers", "en"),
                    text("hint_multiple_speakers", "zh"),
                    {
                        "f0_groups_hz": [
                            round(100 * 2 ** (np.median(s[:k]) / 12), 1),
                            round(100 * 2 ** (np.median(s[k:]) / 12), 1),
                        ],
                        "gap_semitones": round(gap, 1),
                    },
                )
            )
    fp = frame_power(x, 0.01)[: len(f0)]
    e_db = 10 * np.log10(np.maximum(fp[f0[: len(fp)] > 0], 1e-12))
    pitch_std, energy_std = float(np.std(semis)), float(np.std(e_db))
    if (
        pitch_std < t.flat_pitch_std_semitones
        and energy_std < t.flat_energy_std_db
        and longest < t.music_stable_run_s
    ):
        hints.append(
            Hint(
                "weak_expression",
                text("hint_weak_expression", "en"),
                text("hint_weak_expression", "zh"),
                {"pitch_std_semitones": round(pitch_std, 2), "energy_std_db": round(energy_std, 2)},
            )
        )
    return hints
