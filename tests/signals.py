"""Synthetic test signals with known truth: a speech-like voice, noises, mixing at an exact SNR, tones.

All waveforms are float32 mono; rates are in Hz, durations in seconds.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from scipy import signal

SR = 16000

# (F1, F2, F3) in Hz of a few vowels, adult voice.
_VOWELS = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410)]


def _resonator(x: np.ndarray, freq: float, bw: float, sr: int) -> np.ndarray:
    r = np.exp(-np.pi * bw / sr)
    theta = 2 * np.pi * freq / sr
    a = [1.0, -2 * r * np.cos(theta), r * r]
    return signal.lfilter([1.0 - r], a, x)


def _syllable(rng: np.random.Generator, dur_s: float, f0_hz: float, sr: int) -> np.ndarray:
    """One voiced syllable: glottal pulses with jittered, gliding f0 through vowel formants, with an onset fricative."""
    n = int(dur_s * sr)
    f0 = f0_hz * (1 + rng.uniform(-0.15, 0.15) * np.linspace(0, 1, n)) * (1 + 0.01 * rng.standard_normal(n))
    phase = np.cumsum(f0 / sr)
    pulses = np.diff(np.floor(phase), prepend=0.0)  # 1 at each glottal closure
    source = signal.lfilter([1.0, -1.0], [1.0, -0.95], pulses)  # glottal tilt and lip radiation
    f1, f2, f3 = _VOWELS[rng.integers(len(_VOWELS))]
    v = (
        _resonator(source, f1, 80, sr)
        + 0.6 * _resonator(source, f2, 100, sr)
        + 0.3 * _resonator(source, f3, 150, sr)
    )
    v = v * np.hanning(n) ** 0.5
    v /= np.sqrt(np.mean(v**2)) + 1e-12
    if rng.random() < 0.5:  # unvoiced consonant at the onset
        m = int(rng.uniform(0.03, 0.07) * sr)
        fric = signal.sosfilt(signal.butter(4, 3000, "highpass", fs=sr, output="sos"), rng.standard_normal(m))
        fric *= 0.3 / (np.sqrt(np.mean(fric**2)) + 1e-12) * np.hanning(m)
        v = np.concatenate([fric, v])
    return v


def voice(
    duration_s: float, sr: int = SR, seed: int = 0, pauses: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Speech-like voice of `duration_s` seconds at RMS ~0.1 over its active parts.

    Returns (waveform (samples,), active (samples,) bool): `active` marks the samples inside words.
    With `pauses`, words of 0.6–2.5 s alternate with 0.4–1.2 s silences; without, it is one continuous run
    of syllables (short 20–60 ms gaps only, as in fluent speech).
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sr))
    out = np.zeros(n)
    active = np.zeros(n, dtype=bool)
    f0_base = rng.uniform(110, 210)
    pos = int(0.3 * sr) if pauses else 0
    while pos < n:
        word_end = min(n, pos + int(rng.uniform(0.6, 2.5) * sr)) if pauses else n
        word_start = pos
        while pos < word_end:
            syl = _syllable(rng, rng.uniform(0.12, 0.3), f0_base * rng.uniform(0.85, 1.2), sr)
            syl = syl[: word_end - pos]
            out[pos : pos + len(syl)] = syl
            pos += len(syl) + int(rng.uniform(0.02, 0.06) * sr)
        active[word_start : min(pos, n)] = True
        if pauses:
            pos += int(rng.uniform(0.4, 1.2) * sr)
    out *= 0.1 / np.sqrt(np.mean(out[active] ** 2))
    return out.astype(np.float32), active


def white(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


def pink(n: int, seed: int = 2) -> np.ndarray:
    """1/f noise by shaping white noise in the frequency domain."""
    spec = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.arange(len(spec), dtype=float)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return (x / np.std(x)).astype(np.float32)


def babble(n: int, seed: int = 3, talkers: int = 6) -> np.ndarray:
    """Sum of several continuous synthetic voices: speech-shaped, fluctuating noise."""
    x = sum(voice(n / SR, seed=seed * 100 + k, pauses=False)[0] for k in range(talkers))
    return (x / np.std(x)).astype(np.float32)


def mix(speech: np.ndarray, active: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """speech + noise scaled so that 10·log10(P_speech over `active` / P_noise) = snr_db exactly."""
    p_speech = float(np.mean(speech[active].astype(np.float64) ** 2))
    p_noise = float(np.mean(noise.astype(np.float64) ** 2))
    scale = np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return (speech + scale * noise[: len(speech)]).astype(np.float32)


def tone(freq_hz: float, duration_s: float, amplitude: float = 0.5, sr: int = SR) -> np.ndarray:
    t = np.arange(int(duration_s * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, channels: int = 1, sr: int = SR) -> Path:
    """`path` as 16-bit PCM WAV of float `samples` in [-1, 1] (interleaved when `channels` > 1); returns it."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path
