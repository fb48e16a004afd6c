"""Speech enhancement chain: high-pass → spectral-gating noise reduction → peak normalisation.

Waveforms are mono float32 arrays of shape (samples,); rates in Hz, times in seconds, levels in dBFS.
"""

from __future__ import annotations

import re
import string

import numpy as np
from scipy import signal

from emostudio.records import SAMPLE_RATE, Enhanced, Span
from emostudio.segment import speech_spans
from emostudio.settings import EnhanceSettings

MIN_NOISE_S = 0.1  # a noise profile shorter than this is not used
BLOCK_S = 60.0  # long recordings are filtered and denoised in blocks of this many seconds …
CONTEXT_S = 1.0  # … each with this much audio on both sides, dropped after processing (no seams)
MAX_NOISE_PROFILE_S = 60.0  # a noise profile longer than this is cut to evenly spaced parts of this total

# The steps as data: each kind of step and how it is written in result.json's `enhancement.steps` (English, as
# stored); `parse_step` reads a stored step back into its kind and values, so a surface can say it in any language.
STEP_FORMATS = {
    "highpass": "high-pass {hz:g} Hz",
    "denoise": "denoise ({noise})",
    "peak": "peak {dbfs:g} dBFS",
}
NOISE_RANGE_FORMAT = "range {start:g}–{end:g} s"  # a denoise step's `noise` when the profile is a time range


def _pattern(fmt: str) -> re.Pattern[str]:
    """A regex that reads back what `fmt.format(...)` wrote: `{x:g}` a number, `{x}` any text."""
    out = ""
    for literal, name, spec, _ in string.Formatter().parse(fmt):
        out += re.escape(literal)
        if name:
            out += f"(?P<{name}>{'[-+0-9.e]+' if spec == 'g' else '.+'})"
    return re.compile(out)


_STEP_PATTERNS = {kind: _pattern(fmt) for kind, fmt in STEP_FORMATS.items()}
_NOISE_RANGE = _pattern(NOISE_RANGE_FORMAT)


def parse_step(text: str) -> tuple[str, dict[str, str]] | None:
    """A stored step → (kind, values as written), e.g. `high-pass 100 Hz` → ("highpass", {"hz": "100"}).

    A denoise step's `noise` is "vad", "file" or "range" (then `start` and `end` too). None for text that is
    not a step this module writes."""
    for kind, pattern in _STEP_PATTERNS.items():
        m = pattern.fullmatch(text)
        if m is None:
            continue
        values = m.groupdict()
        if kind == "denoise":
            r = _NOISE_RANGE.fullmatch(values["noise"])
            if r is not None:
                values = {"noise": "range", **r.groupdict()}
            elif values["noise"] not in ("vad", "file"):
                return None
        return kind, values
    return None


def blockwise(fn, x: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """`fn` applied to `x` in blocks of BLOCK_S with CONTEXT_S of context on each side; bounded memory.

    For filters whose memory is much shorter than CONTEXT_S (the high-pass, spectral gating with a fixed noise
    profile) the result equals `fn(x)` away from float rounding. Short inputs go through `fn` whole.
    """
    block, ctx = int(BLOCK_S * sample_rate), int(CONTEXT_S * sample_rate)
    if len(x) <= block + 2 * ctx:
        return fn(x)
    out = np.empty(len(x), np.float32)
    for a in range(0, len(x), block):
        b = min(len(x), a + block)
        lo, hi = max(0, a - ctx), min(len(x), b + ctx)
        out[a:b] = fn(x[lo:hi])[a - lo : a - lo + (b - a)]
    return out


def _mono(waveform: np.ndarray) -> np.ndarray:
    x = np.asarray(waveform)
    if x.ndim != 1:
        raise ValueError(f"expected a mono waveform of shape (samples,), got shape {x.shape}")
    return x.astype(np.float32, copy=False)


def high_pass(
    waveform: np.ndarray, sample_rate: int = SAMPLE_RATE, cutoff_hz: float = 100.0, order: int = 4
) -> np.ndarray:
    """Zero-phase Butterworth high-pass (forward-backward, so the effective order is 2·`order`)."""
    x = _mono(waveform)
    if not 0 < cutoff_hz < sample_rate / 2:
        raise ValueError(f"high-pass cutoff must be between 0 and {sample_rate / 2} Hz, got {cutoff_hz}")
    sos = signal.butter(order, cutoff_hz, "highpass", fs=sample_rate, output="sos")
    if len(x) <= 3 * (2 * len(sos) + 1):  # too short for sosfiltfilt's edge padding
        return x.copy()
    return blockwise(
        lambda y: signal.sosfiltfilt(sos, y.astype(np.float64)).astype(np.float32), x, sample_rate
    )


def denoise(
    waveform: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    noise: np.ndarray | None = None,
    prop_decrease: float = 1.0,
) -> np.ndarray:
    """Stationary spectral gating (noisereduce) with `noise` (samples,) as the noise profile.

    Without `noise` the profile is estimated from the signal itself (noisereduce's own statistics).
    """
    import noisereduce

    x = _mono(waveform)
    if x.size == 0:
        return x.copy()
    y_noise = None if noise is None else _bounded_profile(_mono(noise), sample_rate)

    def reduce(y: np.ndarray) -> np.ndarray:
        out = noisereduce.reduce_noise(
            y=y, sr=sample_rate, y_noise=y_noise, stationary=True, prop_decrease=prop_decrease, n_jobs=1
        )
        return np.asarray(out, dtype=np.float32)

    if y_noise is None:  # the profile comes from the signal itself: one pass over all of it
        return reduce(x)
    return blockwise(reduce, x, sample_rate)


def _bounded_profile(noise: np.ndarray, sample_rate: int) -> np.ndarray:
    """At most MAX_NOISE_PROFILE_S of the noise profile (evenly spaced parts of a longer one)."""
    limit = int(MAX_NOISE_PROFILE_S * sample_rate)
    if len(noise) <= limit:
        return noise
    parts, size = 12, limit // 12
    step = (len(noise) - size) // (parts - 1)
    return np.concatenate([noise[i * step : i * step + size] for i in range(parts)])


def normalise_peak(waveform: np.ndarray, peak_dbfs: float = -1.0) -> np.ndarray:
    """Scale so the largest |sample| is exactly at `peak_dbfs` (≤ 0); silence is returned unchanged."""
    x = _mono(waveform)
    if peak_dbfs > 0:
        raise ValueError(f"peak target must be ≤ 0 dBFS (−1…−3 recommended), got {peak_dbfs}")
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak == 0:
        return x.copy()
    gain = 10 ** (peak_dbfs / 20) / peak
    return blockwise(lambda y: (y.astype(np.float64) * gain).astype(np.float32), x)


def _noise_from_vad(x: np.ndarray, spans: list[Span], sample_rate: int) -> np.ndarray:
    """Samples outside the speech spans (50 ms away from their edges), at most MAX_NOISE_PROFILE_S of them."""
    edges = sorted(
        (Span(s.start_s - 0.05, s.end_s + 0.05).samples(sample_rate) for s in spans),
        key=lambda sl: (sl.start, sl.stop),
    )
    gaps, pos = [], 0
    for sl in edges:
        if sl.start > pos:
            gaps.append((pos, sl.start))
        pos = max(pos, sl.stop)
    if pos < len(x):
        gaps.append((pos, len(x)))
    total = sum(b - a for a, b in gaps)
    limit = int(MAX_NOISE_PROFILE_S * sample_rate)
    if total > limit:  # keep an even share of every gap: the profile still spans the whole recording
        share = limit / total
        gaps = [(a, a + max(1, int((b - a) * share))) for a, b in gaps]
    return np.concatenate([x[a:b] for a, b in gaps]) if gaps else np.zeros(0, np.float32)


def enhance(
    waveform16k: np.ndarray,
    settings: EnhanceSettings | None = None,
    *,
    sample_rate: int = SAMPLE_RATE,
    spans: list[Span] | None = None,
) -> Enhanced:
    """Run the enabled steps in order. The noise profile comes from `settings.noise_profile`, else
    `settings.noise_from`, else the non-speech parts found by the VAD (`spans`, computed when not given).

    The output never exceeds the peak target: max |x| ≤ 10^(peak_dbfs/20) (or ≤ 1 when not normalising).
    """
    settings = settings or EnhanceSettings()
    x = _mono(waveform16k)
    if settings.peak_dbfs > 0:
        raise ValueError(f"peak target must be ≤ 0 dBFS (−1…−3 recommended), got {settings.peak_dbfs}")
    steps: list[str] = []
    noise_source = "off"
    noise: np.ndarray | None = None
    if settings.denoise:  # the profile is cut from the input before filtering, then filtered the same way
        if settings.noise_profile is not None:
            noise, noise_source = _mono(settings.noise_profile), "file"
        elif settings.noise_from is not None:
            a, b = settings.noise_from
            if not 0 <= a < b or a * sample_rate >= len(x):
                raise ValueError(
                    f"noise range {a}–{b} s is not inside the {len(x) / sample_rate:.2f} s input"
                )
            noise, noise_source = (
                x[Span(a, b).samples(sample_rate)],
                NOISE_RANGE_FORMAT.format(start=a, end=b),
            )
        else:
            if spans is None:
                if sample_rate != SAMPLE_RATE:
                    raise ValueError(f"automatic noise profile needs {SAMPLE_RATE} Hz audio; give noise_from")
                spans = speech_spans(x)
            noise, noise_source = _noise_from_vad(x, spans, sample_rate), "vad"
        if len(noise) < MIN_NOISE_S * sample_rate:
            noise, noise_source = None, "none (no non-speech found)"
    if settings.highpass:
        x = high_pass(x, sample_rate, settings.highpass_hz, settings.highpass_order)
        steps.append(STEP_FORMATS["highpass"].format(hz=settings.highpass_hz))
    if settings.denoise and noise is not None:
        if settings.highpass:
            noise = high_pass(noise, sample_rate, settings.highpass_hz, settings.highpass_order)
        x = denoise(x, sample_rate, noise, settings.prop_decrease)
        steps.append(STEP_FORMATS["denoise"].format(noise=noise_source))
    limit = 1.0
    if settings.normalise:
        x = normalise_peak(x, settings.peak_dbfs)
        steps.append(STEP_FORMATS["peak"].format(dbfs=settings.peak_dbfs))
        limit = 10 ** (settings.peak_dbfs / 20)
    if not steps:
        x = x.copy()  # never hand back (and clip) the caller's own array
    for a in range(0, len(x), 1 << 20):  # block by block: no full-size temporaries
        block = x[a : a + (1 << 20)]
        if not np.all(np.isfinite(block)):
            raise ValueError("enhancement produced non-finite samples (is the input finite?)")
        np.clip(
            block, -limit, limit, out=block
        )  # hard guarantee; only float rounding reaches it after normalising
    return Enhanced(x, steps, noise_source if settings.denoise else "off")
