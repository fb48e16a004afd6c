"""Example clips a first-time user can click: synthetic voices made here, clearly labelled as such.

They are not recordings of people. Each is made by a small formant synthesiser (glottal pulses with a gliding,
jittered pitch through three vowel formants that change every syllable, fricative onsets, words and pauses),
deterministic from its seed, and written as 16 kHz WAV on first use. They show the workflow — a calm and a lively voice, a noisy
recording (the quality report and enhancement), a long one (segments) — not what a real model hears in speech.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal

from emostudio.audio import write_wav

SAMPLE_RATE = 16000
_VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410))


@dataclass(frozen=True)
class Example:
    name: str  # file name; what it is, for people: the catalogue's `example_<stem>` (emostudio.messages)
    seconds: float
    f0_hz: float  # mean pitch
    f0_swing: float  # pitch movement, fraction of f0
    syllables_per_s: float
    noise_snr_db: float | None = None  # add white noise at this SNR
    pauses_every_s: float | None = None  # a 0.8 s pause this often (long recordings)
    seed: int = 0

    @property
    def text_key(self) -> str:
        """The catalogue key of what this example is (`example_calm_voice`)."""
        return "example_" + Path(self.name).stem


EXAMPLES = (
    Example("calm_voice.wav", 3.0, 110, 0.05, 3.0, seed=1),
    Example("lively_voice.wav", 3.0, 230, 0.35, 5.5, seed=2),
    Example("noisy_voice.wav", 4.0, 160, 0.15, 4.0, noise_snr_db=5.0, seed=3),
    Example("long_call.wav", 45.0, 150, 0.2, 4.0, pauses_every_s=6.0, seed=4),
)


def _resonator(x: np.ndarray, freq: float, bandwidth: float) -> np.ndarray:
    r = np.exp(-np.pi * bandwidth / SAMPLE_RATE)
    a = [1.0, -2 * r * np.cos(2 * np.pi * freq / SAMPLE_RATE), r * r]
    return signal.lfilter([1.0 - r], a, x)


def _syllable(rng: np.random.Generator, seconds: float, f0_hz: float, swing: float) -> np.ndarray:
    """Glottal pulses with a gliding, jittered pitch through three parallel vowel formants; sometimes a
    fricative onset."""
    n = int(seconds * SAMPLE_RATE)
    glide = rng.uniform(-swing, swing) * np.linspace(0, 1, n)
    f0 = f0_hz * (1 + glide) * (1 + 0.01 * rng.standard_normal(n))
    pulses = np.diff(np.floor(np.cumsum(f0 / SAMPLE_RATE)), prepend=0.0)
    source = signal.lfilter([1.0, -1.0], [1.0, -0.95], pulses)
    f1, f2, f3 = _VOWELS[rng.integers(len(_VOWELS))]
    v = _resonator(source, f1, 80) + 0.6 * _resonator(source, f2, 100) + 0.3 * _resonator(source, f3, 150)
    v = v * np.hanning(n) ** 0.5
    v /= np.sqrt(np.mean(v**2)) + 1e-12
    if rng.random() < 0.5:
        m = int(rng.uniform(0.03, 0.07) * SAMPLE_RATE)
        hp = signal.butter(4, 3000, "highpass", fs=SAMPLE_RATE, output="sos")
        fric = signal.sosfilt(hp, rng.standard_normal(m))
        fric *= 0.3 / (np.sqrt(np.mean(fric**2)) + 1e-12) * np.hanning(m)
        v = np.concatenate([fric, v])
    return v


def synthesize(ex: Example) -> np.ndarray:
    """(samples,) float32 at 16 kHz: words of syllables with short pauses between words (longer ones every
    `pauses_every_s`), peak 0.5 before any added noise."""
    rng = np.random.default_rng(ex.seed)
    n = int(ex.seconds * SAMPLE_RATE)
    out = np.zeros(n)
    pos = int(0.2 * SAMPLE_RATE)
    syl_s = 1.0 / ex.syllables_per_s
    next_pause = ex.pauses_every_s
    while pos < n:
        word_end = min(n, pos + int(rng.uniform(0.8, 2.2) * SAMPLE_RATE))
        while pos < word_end:
            gain = rng.uniform(1 - ex.f0_swing, 1 + ex.f0_swing)  # lively voices vary loudness too
            syl = gain * _syllable(
                rng, rng.uniform(0.6, 1.4) * syl_s, ex.f0_hz * rng.uniform(0.9, 1.15), ex.f0_swing
            )
            syl = syl[: word_end - pos]
            out[pos : pos + len(syl)] = syl
            pos += len(syl) + int(rng.uniform(0.02, 0.05) * SAMPLE_RATE)
        pause = rng.uniform(0.25, 0.5)
        if next_pause is not None and ex.pauses_every_s is not None and pos / SAMPLE_RATE >= next_pause:
            pause, next_pause = 1.0, next_pause + ex.pauses_every_s
        pos += int(pause * SAMPLE_RATE)
    out = 0.5 * out / max(np.abs(out).max(), 1e-9)
    if ex.noise_snr_db is not None:
        p_s = np.mean(out[np.abs(out) > 0.01] ** 2)
        out = out + rng.standard_normal(n) * np.sqrt(p_s / 10 ** (ex.noise_snr_db / 10))
    return out.astype(np.float32)


def ensure_examples(folder: str | os.PathLike) -> list[tuple[Path, Example]]:
    """Write the example clips under `folder` (once; atomic) and return (path, example) pairs."""
    root = Path(folder)
    out = []
    for ex in EXAMPLES:
        path = root / ex.name
        if not path.is_file():
            write_wav(path, np.clip(synthesize(ex), -1, 1))
        out.append((path, ex))
    return out
