"""Deterministic synthetic speech-like clips for benchmarks: voiced, formant-filtered, syllable-modulated.

Random-weight models score anything, so the signal only has to exercise the same code paths as speech
(decode, normalisation, variable lengths). Every clip is a function of (seed, index) alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io.wavfile
import scipy.signal

SAMPLE_RATE_HZ = 16000
_FORMANTS_HZ = ((700, 1200, 2600), (300, 2300, 3000), (500, 900, 2400), (400, 1700, 2500))


@dataclass(frozen=True)
class Clip:
    """One corpus file: 16 kHz mono 16-bit WAV."""

    path: Path
    duration_s: float


def voiced(duration_s: float, seed: int) -> np.ndarray:
    """(samples,) float32 in [-1, 1] at 16 kHz: a glottal pulse train (f0 100–240 Hz, gliding) through vowel
    formants that change every syllable (~4 Hz), with pauses and a -40 dBFS noise floor."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * SAMPLE_RATE_HZ))
    t = np.arange(n) / SAMPLE_RATE_HZ
    f0 = rng.uniform(100, 240) * (
        1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t + rng.uniform(0, 6))
    )
    phase = np.cumsum(f0) / SAMPLE_RATE_HZ
    pulses = np.diff(np.floor(phase), prepend=0.0)  # 1 at each glottal closure
    source = scipy.signal.lfilter([1.0], [1.0, -0.95], pulses)  # spectral tilt
    syll = int(SAMPLE_RATE_HZ / rng.uniform(3.0, 5.0))
    out = np.zeros(n)
    for start in range(0, n, syll):
        seg = source[start : start + syll]
        y = seg
        for f in _FORMANTS_HZ[rng.integers(len(_FORMANTS_HZ))]:
            r, w = np.exp(-np.pi * 80 / SAMPLE_RATE_HZ), 2 * np.pi * f / SAMPLE_RATE_HZ
            y = scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(w), r * r], y)
        env = np.sin(np.pi * np.arange(seg.size) / max(seg.size, 1)) ** 2
        out[start : start + seg.size] = y * env * (rng.random() > 0.15)  # some syllables are pauses
    out /= max(np.abs(out).max(), 1e-9)
    out = 0.5 * out + 0.01 * rng.standard_normal(n)
    return np.clip(out, -1, 1).astype(np.float32)


def lognormal_durations(
    count: int, seed: int, median_s: float = 5.0, sigma: float = 0.6, low_s: float = 1.0, high_s: float = 30.0
) -> list[float]:
    """`count` durations in seconds, lognormal around `median_s`, clipped to [low_s, high_s], 0.01 s resolution."""
    rng = np.random.default_rng(seed)
    d = np.clip(np.exp(np.log(median_s) + sigma * rng.standard_normal(count)), low_s, high_s)
    return [round(float(x), 2) for x in d]


def write_clip(path: Path, duration_s: float, seed: int) -> Clip:
    """Write one voiced clip as 16-bit PCM WAV (skipped if already there with the right length)."""
    n = int(round(duration_s * SAMPLE_RATE_HZ))
    if not (path.is_file() and path.stat().st_size == 44 + 2 * n):
        path.parent.mkdir(parents=True, exist_ok=True)
        pcm = (voiced(duration_s, seed) * 32767).astype(np.int16)
        tmp = path.with_suffix(".tmp.wav")
        scipy.io.wavfile.write(tmp, SAMPLE_RATE_HZ, pcm)
        tmp.replace(path)
    return Clip(path, n / SAMPLE_RATE_HZ)


def long_wav(path: Path, seconds: float, block_s: float = 60.0, seed: int = 5) -> Path:
    """A long 16 kHz 16-bit mono WAV of `seconds` (a speech-like recording for long-form runs): one `voiced`
    block of `block_s` repeated, written block by block (an hour is 115 MB and builds in seconds). Skipped if
    already there with the right size."""
    import wave

    n = int(round(seconds * SAMPLE_RATE_HZ))
    if path.is_file() and path.stat().st_size == 44 + 2 * n:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    block = (voiced(min(block_s, seconds), seed) * 32767).astype("<i2").tobytes()
    tmp = path.with_suffix(".tmp.wav")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE_HZ)
        left = 2 * n
        while left > 0:
            w.writeframes(block[:left])
            left -= len(block)
    tmp.replace(path)
    return path


def fixed_clips(folder: Path, durations_s: list[float], seed: int = 1) -> list[Clip]:
    """One clip per duration: `folder/fixed_<seconds>s.wav`."""
    return [write_clip(folder / f"fixed_{d:g}s.wav", d, seed + i) for i, d in enumerate(durations_s)]


def corpus(folder: Path, count: int, seed: int = 7, **lognormal) -> list[Clip]:
    """`count` clips with lognormal durations (see `lognormal_durations`): `folder/clip_00000.wav`, ..."""
    durs = lognormal_durations(count, seed, **lognormal)
    return [write_clip(folder / f"clip_{i:05d}.wav", d, seed * 100003 + i) for i, d in enumerate(durs)]
