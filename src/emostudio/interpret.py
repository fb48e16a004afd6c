"""Reading the scores: confidence bands, compound emotions from the top two, frame timelines, summary lines.

Pure functions over probabilities; nothing here touches files or the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emostudio.messages import t
from emostudio.model.labels import KEYS, emotion_name
from emostudio.settings import BandThresholds, CompoundRule, TimelineSettings

_BANDS, _COMPOUND, _TIMELINE = BandThresholds(), CompoundRule(), TimelineSettings()  # the defaults (frozen)


@dataclass(frozen=True)
class Band:
    key: str  # "confident" | "leaning" | "uncertain"
    en: str
    zh: str


BANDS = {
    k: Band(k, t(f"band_{k}", "en"), t(f"band_{k}", "zh")) for k in ("confident", "leaning", "uncertain")
}


def band_for(confidence: float, thresholds: BandThresholds = _BANDS) -> Band:
    """Band of a top-class probability: > 80% confident, 60–80% leaning / possibly mixed, < 60% uncertain."""
    if confidence > thresholds.confident:
        return BANDS["confident"]
    if confidence >= thresholds.leaning:
        return BANDS["leaning"]
    return BANDS["uncertain"]


@dataclass(frozen=True)
class Compound:
    keys: tuple[str, str]  # (top, runner-up)
    zh: str
    en: str

    def to_dict(self) -> dict:
        return {"keys": list(self.keys), "zh": self.zh, "en": self.en}


# Unordered pairs of the 8 named emotions that read as one feeling ("other"/"unknown" never combine); their
# names are the catalogue's `compound_<a>_<b>` (the pair in KEYS order).
_COMPOUND_PAIRS = (
    ("sad", "angry"),
    ("happy", "surprised"),
    ("fearful", "surprised"),
    ("angry", "disgusted"),
    ("sad", "fearful"),
    ("angry", "surprised"),
    ("angry", "fearful"),
    ("sad", "disgusted"),
    ("sad", "surprised"),
    ("happy", "sad"),
    ("happy", "fearful"),
    ("happy", "angry"),
    ("fearful", "disgusted"),
    ("disgusted", "surprised"),
    ("happy", "neutral"),
    ("sad", "neutral"),
    ("angry", "neutral"),
    ("fearful", "neutral"),
    ("surprised", "neutral"),
    ("disgusted", "neutral"),
)


def _compound_key(pair: frozenset[str]) -> str:
    return "compound_" + "_".join(sorted(pair, key=KEYS.index))


COMPOUNDS: dict[frozenset[str], tuple[str, str]] = {
    frozenset(p): (t(_compound_key(frozenset(p)), "zh"), t(_compound_key(frozenset(p)), "en"))
    for p in _COMPOUND_PAIRS
}


def top_two(scores: np.ndarray) -> tuple[tuple[str, float], tuple[str, float]]:
    """((key, p), (key, p)) of the two highest of 9 probabilities in KEYS order."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return (KEYS[order[0]], float(scores[order[0]])), (KEYS[order[1]], float(scores[order[1]]))


def compound_for(scores: np.ndarray, rule: CompoundRule = _COMPOUND) -> Compound | None:
    """The compound reading of the top two scores, when the runner-up is close and the pair has a name."""
    (k1, p1), (k2, p2) = top_two(scores)
    if p2 < rule.min_second or p2 < rule.min_ratio * p1:
        return None
    names = COMPOUNDS.get(frozenset({k1, k2}))
    if names is None:
        return None
    return Compound((k1, k2), names[0], names[1])


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax in float64 that treats -inf logits (classes a model lacks) as probability 0."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def timeline(
    frame_logits: np.ndarray, frame_rate_hz: float = 50.0, settings: TimelineSettings = _TIMELINE
) -> tuple[np.ndarray, np.ndarray]:
    """Scores every `step_s` from per-frame class logits.

    frame_logits: (frames, 9) logits at `frame_rate_hz`, KEYS order (-inf for absent classes).
    Returns (start_s (steps,), probabilities (steps, 9)); step k is centred at (k + 0.5)·step_s and averages the
    logits of the frames whose start time lies in its window (at least the nearest frame).
    """
    frames = frame_logits.shape[0]
    if frames == 0:
        return np.zeros(0), np.zeros((0, len(KEYS)))
    duration_s = frames / frame_rate_hz
    steps = max(1, int(np.ceil(duration_s / settings.step_s - 1e-9)))
    centres = (np.arange(steps) + 0.5) * settings.step_s
    lo = np.floor((centres - settings.window_s / 2) * frame_rate_hz + 1e-9).astype(int)
    hi = np.ceil((centres + settings.window_s / 2) * frame_rate_hz - 1e-9).astype(int)
    lo = np.clip(lo, 0, frames - 1)
    hi = np.clip(hi, lo + 1, frames)
    finite = np.where(np.isfinite(frame_logits), frame_logits, 0.0)
    csum = np.concatenate([np.zeros((1, finite.shape[1])), np.cumsum(finite, axis=0)])
    mean = (csum[hi] - csum[lo]) / (hi - lo)[:, None]
    mean[:, ~np.isfinite(frame_logits).all(axis=0)] = -np.inf
    return np.arange(steps) * settings.step_s, softmax(mean)


@dataclass
class TimelineSegment:
    start_s: float
    end_s: float
    label: str
    confidence: float  # mean top-class probability over the segment

    def to_dict(self) -> dict:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "label": self.label,
            "confidence": round(self.confidence, 6),
        }


def dominant_segments(
    starts_s: np.ndarray, probs: np.ndarray, step_s: float, duration_s: float, min_segment_s: float = 0.3
) -> list[TimelineSegment]:
    """Runs of steps sharing the same top class; runs shorter than `min_segment_s` merge into the previous run."""
    if len(starts_s) == 0:
        return []
    top = probs.argmax(axis=1)
    runs: list[list[int]] = []  # [label_idx, first_step, last_step]
    for i, k in enumerate(top):
        if runs and runs[-1][0] == k:
            runs[-1][2] = i
        else:
            runs.append([int(k), i, i])
    merged: list[list[int]] = []
    for run in runs:
        short = (run[2] - run[1] + 1) * step_s < min_segment_s
        if merged and (short or merged[-1][0] == run[0]):
            merged[-1][2] = run[2]
        else:
            merged.append(run)
    # a short first run merges forward
    if len(merged) > 1 and (merged[0][2] - merged[0][1] + 1) * step_s < min_segment_s:
        merged[1][1] = merged[0][1]
        merged.pop(0)
    out = []
    for _, a, b in merged:
        mean = probs[a : b + 1].mean(axis=0)
        k = int(mean.argmax())
        end = min(float(starts_s[b]) + step_s, duration_s)
        out.append(TimelineSegment(float(starts_s[a]), end, KEYS[k], float(probs[a : b + 1, k].mean())))
    return out


def summary_line(label: str, confidence: float, lang: str = "zh") -> str:
    """`😊 快乐 (Happy) 置信度: 63.7%` as the seed WebUI prints it (lang="en": `😊 Happy confidence: 63.7%`)."""
    name = emotion_name(label, "en" if lang == "en" else "both")
    return t("summary_line", lang, name=name, percent=confidence * 100)
