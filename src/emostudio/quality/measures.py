"""Level, loudness, clipping, DC and hum measurements of a 16 kHz mono waveform, in bounded memory.

Every function walks the waveform in blocks of `BLOCK` samples (about a minute), so measuring a 4-hour recording
needs a few MB beyond the waveform itself. Levels are dBFS (0 dBFS = full-scale peak), loudness LUFS
(ITU-R BS.1770-4), ratios fractions 0–1.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import signal

from emostudio.records import SAMPLE_RATE, Span

BLOCK = 1 << 20  # samples per block (65.5 s at 16 kHz)
FRAME_S = 0.02  # frame for energy statistics


def blocks(n: int, size: int = BLOCK) -> Iterator[tuple[int, int]]:
    for a in range(0, n, size):
        yield a, min(n, a + size)


@dataclass
class Levels:
    """Whole-waveform level statistics."""

    peak: float  # max |x|
    mean: float  # DC component
    mean_square: float

    @property
    def peak_dbfs(self) -> float | None:
        return 20 * math.log10(self.peak) if self.peak > 0 else None

    @property
    def rms_dbfs(self) -> float | None:
        return 10 * math.log10(self.mean_square) if self.mean_square > 0 else None


def levels(x: np.ndarray) -> Levels:
    peak, total, total_sq = 0.0, 0.0, 0.0
    for a, b in blocks(len(x)):
        y = x[a:b].astype(np.float64)
        peak = max(peak, float(np.max(np.abs(y))))
        total += float(y.sum())
        total_sq += float(np.dot(y, y))
    n = max(len(x), 1)
    return Levels(peak, total / n, total_sq / n)


def frame_power(x: np.ndarray, frame_s: float = FRAME_S, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mean square of consecutive non-overlapping frames: (frames,)."""
    hop = int(frame_s * sample_rate)
    n = len(x) // hop
    if n == 0:
        return np.array([np.mean(x.astype(np.float64) ** 2)]) if len(x) else np.zeros(0)
    out = np.empty(n)
    per_block = max(1, BLOCK // hop)
    for k in range(0, n, per_block):
        m = min(per_block, n - k)
        y = x[k * hop : (k + m) * hop].astype(np.float64).reshape(m, hop)
        out[k : k + m] = np.mean(y * y, axis=1)
    return out


def sum_squares(x: np.ndarray, spans: list[Span], sample_rate: int = SAMPLE_RATE) -> tuple[float, int]:
    """(Σx², samples) over the union of `spans` (overlaps counted once)."""
    total, count = 0.0, 0
    for a, b in merged_slices(spans, len(x), sample_rate):
        for c, d in blocks(b - a):
            y = x[a + c : a + d].astype(np.float64)
            total += float(np.dot(y, y))
        count += b - a
    return total, count


def merged_slices(spans: list[Span], n: int, sample_rate: int = SAMPLE_RATE) -> list[tuple[int, int]]:
    """Sample ranges [a, b) covered by `spans`, clipped to [0, n), sorted and merged."""
    ranges = sorted(
        (max(0, sl.start), min(n, sl.stop)) for s in spans if (sl := s.samples(sample_rate)).stop > sl.start
    )
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def covered_fraction(spans: list[Span], n: int, sample_rate: int = SAMPLE_RATE) -> float:
    """Fraction of the n samples inside the union of `spans`."""
    return sum(b - a for a, b in merged_slices(spans, n, sample_rate)) / n if n else 0.0


def _biquad(kind: str, fc: float, q: float, gain_db: float, fs: int) -> np.ndarray:
    """RBJ biquad as a (1, 6) sos section (as pyloudnorm builds the BS.1770 K-weighting at any rate)."""
    a_ = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * fc / fs
    alpha = math.sin(w0) / (2 * q)
    c = math.cos(w0)
    if kind == "high_shelf":
        s = 2 * math.sqrt(a_) * alpha
        b = [
            a_ * ((a_ + 1) + (a_ - 1) * c + s),
            -2 * a_ * ((a_ - 1) + (a_ + 1) * c),
            a_ * ((a_ + 1) + (a_ - 1) * c - s),
        ]
        a = [(a_ + 1) - (a_ - 1) * c + s, 2 * ((a_ - 1) - (a_ + 1) * c), (a_ + 1) - (a_ - 1) * c - s]
    else:  # high_pass
        b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
        a = [1 + alpha, -2 * c, 1 - alpha]
    return np.array([b + a]) / a[0]


def integrated_loudness(x: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float | None:
    """Integrated loudness in LUFS of a mono signal (ITU-R BS.1770-4: K-weighting, 400 ms blocks with 75 %
    overlap, absolute gate −70 LUFS, relative gate −10 LU). None when every block is below the gate.

    The K-weighted signal is filtered block by block (filter state carried over) and reduced to 100 ms
    energies at once; each 400 ms gating block is the mean of four of them.
    """
    sos = np.vstack(
        [
            _biquad("high_shelf", 1500.0, 1 / math.sqrt(2), 4.0, sample_rate),
            _biquad("high_pass", 38.0, 0.5, 0.0, sample_rate),
        ]
    )
    block, hop = int(0.4 * sample_rate), int(0.1 * sample_rate)
    zi = np.zeros((sos.shape[0], 2))
    if len(x) < block:
        y = signal.sosfilt(sos, x.astype(np.float64))
        z = np.array([np.mean(y**2)]) if len(y) else np.zeros(0)
    else:
        hops: list[np.ndarray] = []
        carry = np.zeros(0)
        for a, b in blocks(len(x)):
            y, zi = signal.sosfilt(sos, x[a:b].astype(np.float64), zi=zi)
            y = np.concatenate([carry, y * y])
            m = len(y) // hop
            hops.append(y[: m * hop].reshape(m, hop).sum(axis=1))
            carry = y[m * hop :]
        e = np.concatenate(hops)  # energy per 100 ms hop
        c = np.concatenate([[0.0], np.cumsum(e)])
        k = block // hop
        z = (c[k:] - c[:-k]) / block  # blocks starting at every hop that fit in the signal
    with np.errstate(divide="ignore"):
        lj = -0.691 + 10 * np.log10(z)
    z = z[lj > -70.0]
    if z.size == 0:
        return None
    rel_gate = -0.691 + 10 * math.log10(np.mean(z)) - 10.0
    z = z[-0.691 + 10 * np.log10(z) > rel_gate]
    return -0.691 + 10 * math.log10(np.mean(z))


def _runs(mask: np.ndarray, min_run: int) -> np.ndarray:
    """Samples of `mask` that lie in runs of at least `min_run` consecutive True values."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    out = np.zeros(len(mask), dtype=bool)
    keep = ends - starts >= min_run
    for a, b in zip(starts[keep], ends[keep], strict=True):
        out[a:b] = True
    return out


def _plateaus(x: np.ndarray, level: float, min_run: int) -> np.ndarray:
    """Samples in same-sign runs of ≥ min_run with |x| ≥ level."""
    return _runs(x >= level, min_run) | _runs(x <= -level, min_run)


def clipping_ratio(
    x: np.ndarray,
    clip_level: float = 0.999,
    min_run: int = 3,
    lossy_rel: float = 0.9,
    lossy_min_peak_dbfs: float = -3.0,
    *,
    lossy: bool = True,
) -> float:
    """Fraction of samples in clipped plateaus.

    Plateaus are runs of ≥ `min_run` same-sign samples at full scale (|x| ≥ `clip_level`) or at the file's
    own flat maximum (clipping at a lower level, e.g. a gain change after the clip). The flat-maximum test
    is made only when the signal swings more than −20 dBFS around its mean: a constant (DC) or near-silent
    signal is not a clipped one. With `lossy` (resampled or lossy-coded audio, where plateaus
    turn into ringing), runs at ≥ `lossy_rel` of the peak also count when the peak is within
    `lossy_min_peak_dbfs` of full scale. Measured block by block with `min_run - 1` samples of context.
    """
    if x.size == 0:
        return 0.0
    lv = levels(x)
    ac_peak = 0.0
    for a, b in blocks(len(x)):
        ac_peak = max(ac_peak, float(np.max(np.abs(x[a:b].astype(np.float64) - lv.mean))))
    flat_max = ac_peak >= 0.1  # -20 dBFS: below that a "plateau at the maximum" is no evidence of clipping
    lossy_level = (
        lossy_rel * lv.peak
        if lossy and lv.peak > 0 and 20 * math.log10(lv.peak) >= lossy_min_peak_dbfs
        else None
    )
    ctx = min_run - 1
    hit_count = 0
    for a, b in blocks(len(x)):
        lo, hi = max(0, a - ctx), min(len(x), b + ctx)
        y = x[lo:hi]
        hit = _plateaus(y, clip_level, min_run)
        if flat_max:
            ya = np.abs(y)
            hit |= _runs(np.abs(ya - lv.peak) <= 1e-4 * lv.peak, min_run) & (ya >= 0.5 * lv.peak)
        if lossy_level is not None:
            hit |= _plateaus(y, lossy_level, min_run)
        hit_count += int(hit[a - lo : a - lo + (b - a)].sum())
    return hit_count / len(x)


def hum_db(x: np.ndarray, cutoff_hz: float = 100.0, sample_rate: int = SAMPLE_RATE) -> float | None:
    """Share of energy below `cutoff_hz`, in dB relative to all energy (Welch spectrum, ~4 Hz bins).

    Welch spectra of consecutive blocks are averaged, weighted by their segment counts.
    """
    if len(x) < 256:
        return None
    nper = min(len(x), 4096)
    psd, weight = None, 0
    for a, b in blocks(len(x), BLOCK // nper * nper):
        if b - a < nper and psd is not None:
            break  # a short tail adds nothing measurable
        f, p = signal.welch(
            x[a:b].astype(np.float64), fs=sample_rate, nperseg=min(nper, b - a), detrend=False
        )
        w = max(1, (b - a) // (nper // 2))
        psd = p * w if psd is None else psd + p * w
        weight += w
    if psd is None:  # no block (not reached: 256 samples or more make one)
        return None
    total = float(psd.sum())
    if total <= 0:
        return None
    return db(float(psd[f < cutoff_hz].sum()) / total)


def db(power: float, floor_db: float = -120.0) -> float:
    return 10 * math.log10(power) if power > 10 ** (floor_db / 10) else floor_db


def excerpts(n: int, max_samples: int, pieces: int = 12) -> list[tuple[int, int]]:
    """Up to `pieces` evenly spaced ranges [a, b) totalling at most `max_samples` (the whole when shorter).

    Long recordings are measured on excerpts for the statistics that need the whole spectrum or pitch track:
    representative, and memory no longer grows with length.
    """
    if n <= max_samples:
        return [(0, n)]
    size = max_samples // pieces
    step = (n - size) / (pieces - 1)
    return [(int(i * step), int(i * step) + size) for i in range(pieces)]
