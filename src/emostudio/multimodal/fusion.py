"""Words and voice in one space: valence/arousal of the 9 speech classes, the text's reading as 9-class scores,
late fusion with a weight, and the agreement reading (agree / mismatch, with the evidence from both sides).

Valence/arousal of the speech classes (a circumplex placement after Russell 1980, rounded; −1…+1):

| class     | valence | arousal |
|-----------|---------|---------|
| angry     | −0.7    | +0.8    |
| disgusted | −0.7    | +0.3    |
| fearful   | −0.7    | +0.7    |
| happy     | +0.8    | +0.5    |
| neutral   |  0.0    |  0.0    |
| other     |  0.0    |  0.0    |
| sad       | −0.7    | −0.5    |
| surprised | +0.2    | +0.8    |
| unknown   |  0.0    |  0.0    |

The voice's valence/arousal are the score-weighted means. The text's 9 scores come from its polarity p: happy
gets max(p, 0); max(−p, 0) is shared by angry/disgusted/fearful/sad in proportion to the emotion words found
(怒/恶/惧/哀); without such words (VADER and SnowNLP read only how negative) it all goes to the voice's most
likely of those four classes (the words say how negative, the voice which negative), equally without a voice;
neutral gets 1 − |p|, of which surprise words (惊) take their share.
A model that reads emotions directly (hf: folders with emotion labels) gives the 9 scores itself.
Fused scores = (1 − w) · speech + w · text: w = 0 is the speech result exactly, w = 1 the text's reading.
The weight and the agreement thresholds are `emostudio.options.TextOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emostudio.model.labels import BY_KEY, KEYS
from emostudio.multimodal.reading import TextReading
from emostudio.multimodal.sentiment import Sentiment
from emostudio.options import TextOptions

VALENCE_AROUSAL: dict[str, tuple[float, float]] = {
    "angry": (-0.7, 0.8),
    "disgusted": (-0.7, 0.3),
    "fearful": (-0.7, 0.7),
    "happy": (0.8, 0.5),
    "neutral": (0.0, 0.0),
    "other": (0.0, 0.0),
    "sad": (-0.7, -0.5),
    "surprised": (0.2, 0.8),
    "unknown": (0.0, 0.0),
}
NEGATIVE_CLASSES = ("angry", "disgusted", "fearful", "sad")
_IDX = {k: i for i, k in enumerate(KEYS)}


def valence_arousal(probs: np.ndarray) -> tuple[float, float]:
    """Score-weighted valence and arousal of a (9,) speech distribution, each in [-1, 1]."""
    p = np.asarray(probs, dtype=np.float64)
    va = np.array([VALENCE_AROUSAL[k] for k in KEYS])
    v, a = p @ va / max(p.sum(), 1e-12)
    return float(v), float(a)


def text_scores(sentiment: Sentiment, speech: np.ndarray | None = None) -> np.ndarray:
    """The text's reading as (9,) scores in KEYS order, summing to 1 (see the module docstring); `speech` (9,)
    only says which negative class a negative reading goes to when the text has no emotion words."""
    out = np.zeros(len(KEYS))
    if sentiment.class_probs:
        for k, p in sentiment.class_probs.items():
            out[_IDX[k]] += max(float(p), 0.0)
        if out.sum() > 0:
            return out / out.sum()
    p = float(np.clip(sentiment.polarity, -1.0, 1.0))
    counts = {k: 0.0 for k in KEYS}
    for e in sentiment.emotions:
        if e.maps_to:
            counts[e.maps_to] += float(e.value)
    out[_IDX["happy"]] = max(p, 0.0)
    negative = max(-p, 0.0)
    neg_counts = np.array([counts[k] for k in NEGATIVE_CLASSES])
    voice = (
        np.array([speech[_IDX[k]] for k in NEGATIVE_CLASSES], dtype=np.float64)
        if speech is not None
        else np.zeros(len(NEGATIVE_CLASSES))
    )
    if neg_counts.sum() > 0:
        shares = neg_counts / neg_counts.sum()
    elif voice.sum() > 0:
        shares = np.eye(len(NEGATIVE_CLASSES))[int(np.argmax(voice))]
    else:
        shares = np.full(len(NEGATIVE_CLASSES), 1.0 / len(NEGATIVE_CLASSES))
    for k, s in zip(NEGATIVE_CLASSES, shares, strict=True):
        out[_IDX[k]] = negative * s
    neutral = 1.0 - abs(p)
    all_counts = sum(counts.values())
    surprise = neutral * counts["surprised"] / all_counts if all_counts else 0.0
    out[_IDX["surprised"]] = surprise
    out[_IDX["neutral"]] = neutral - surprise
    return out / out.sum()


def fuse(speech: np.ndarray, text: np.ndarray | None, weight: float) -> np.ndarray:
    """(1 − weight) · speech + weight · text, renormalised; the speech scores unchanged when there is no text."""
    speech = np.asarray(speech, dtype=np.float64)
    if text is None or weight == 0:
        return speech.copy()
    fused = (1.0 - weight) * speech + weight * np.asarray(text, dtype=np.float64)
    return fused / fused.sum()


# ---- agreement ---------------------------------------------------------------------------------------------------
@dataclass
class Agreement:
    """How the words and the voice relate. `key`: agree | sarcasm_or_masked | irony_or_coping | mismatch |
    voice_only | words_only | no_text."""

    key: str
    mismatch: bool
    en: str
    zh: str
    evidence: dict = field(default_factory=dict)  # {"text": {...}, "speech": {...}}, each with en/zh lines

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "mismatch": self.mismatch,
            "en": self.en,
            "zh": self.zh,
            "evidence": self.evidence,
        }


_SIDE_EN = {1: "positive", -1: "negative", 0: "neutral"}
_SIDE_ZH = {1: "正面", -1: "负面", 0: "中性"}


def _sign(x: float, threshold: float) -> int:
    return 1 if x >= threshold else -1 if x <= -threshold else 0


def _words(words: list[str], n: int = 6) -> str:
    shown = list(dict.fromkeys(words))[:n]
    return ", ".join(shown)


def text_evidence(reading: TextReading, settings: TextOptions) -> dict:
    s = reading.sentiment
    if s is None:
        return {"available": False, "en": reading.reason_en, "zh": reading.reason_zh}
    side = _sign(s.polarity, settings.polarity_threshold)
    cues_en, cues_zh = [], []
    if s.positive_words:
        cues_en.append(f"positive words: {_words(s.positive_words)}")
        cues_zh.append(f"正面词：{_words(s.positive_words).replace(', ', '、')}")
    if s.negative_words:
        cues_en.append(f"negative words: {_words(s.negative_words)}")
        cues_zh.append(f"负面词：{_words(s.negative_words).replace(', ', '、')}")
    emotions = [e for e in s.emotions if e.value]
    if emotions and not s.class_probs:
        cues_en.append("emotion words: " + ", ".join(f"{e.en} {e.value:g}" for e in emotions))
        cues_zh.append("情绪词：" + "、".join(f"{e.zh}{e.value:g}" for e in emotions))
    en = f"the words read {_SIDE_EN[side]} (polarity {s.polarity:+.2f}, {reading.backend})"
    zh = f"文字{_SIDE_ZH[side]}（极性 {s.polarity:+.2f}，{reading.backend}）"
    if cues_en:
        en += "; " + "; ".join(cues_en)
        zh += "；" + "；".join(cues_zh)
    return {
        "available": True,
        "polarity": round(s.polarity, 6),
        "side": _SIDE_EN[side],
        "positive_words": list(dict.fromkeys(s.positive_words))[:20],
        "negative_words": list(dict.fromkeys(s.negative_words))[:20],
        "en": en,
        "zh": zh,
    }


def speech_evidence(probs: np.ndarray, settings: TextOptions) -> dict:
    probs = np.asarray(probs, dtype=np.float64)
    label = KEYS[int(np.argmax(probs))]
    e = BY_KEY[label]
    v, a = valence_arousal(probs)
    side = _sign(v, settings.valence_threshold)
    hostile = float(probs[_IDX["angry"]] + probs[_IDX["disgusted"]])
    return {
        "label": label,
        "confidence": round(float(probs.max()), 6),
        "valence": round(v, 4),
        "arousal": round(a, 4),
        "side": _SIDE_EN[side],
        "angry_or_disgusted": round(hostile, 6),
        "en": f"the voice sounds {e.emoji} {e.en.lower()} ({probs.max() * 100:.0f}%); valence {v:+.2f}, "
        f"arousal {a:+.2f}",
        "zh": f"语音听起来{e.emoji} {e.zh}（{probs.max() * 100:.0f}%）；效价 {v:+.2f}，唤醒度 {a:+.2f}",
    }


def agreement(speech: np.ndarray, reading: TextReading, settings: TextOptions | None = None) -> Agreement:
    """Compare the words with the voice (rules in order):

    no usable text → no_text; positive words + angry/disgusted voice (top class, angry + disgusted at least
    `voice_min_share`) → sarcasm_or_masked; negative words + happy voice (at least `voice_min_share`) →
    irony_or_coping; words and voice valence of opposite signs → mismatch;
    the same sign (or both neutral) → agree; neutral words + emotional voice → voice_only; neutral voice +
    positive/negative words → words_only.
    """
    settings = settings or TextOptions()
    sp = speech_evidence(speech, settings)
    tx = text_evidence(reading, settings)
    evidence = {"text": tx, "speech": sp}
    label = BY_KEY[sp["label"]]
    if not tx["available"]:
        return Agreement(
            "no_text",
            False,
            f"no reading of the words: {reading.reason_en}",
            f"无法读取文字情感：{reading.reason_zh}",
            evidence,
        )
    t = _sign(tx["polarity"], settings.polarity_threshold)
    v = _sign(sp["valence"], settings.valence_threshold)
    if (
        t > 0
        and sp["label"] in ("angry", "disgusted")
        and sp["angry_or_disgusted"] >= settings.voice_min_share
    ):
        return Agreement(
            "sarcasm_or_masked",
            True,
            f"mismatch: positive words with {'an' if label.en[0] in 'AEIOU' else 'a'} {label.en.lower()} voice "
            "— possible sarcasm or masked emotion",
            f"不一致：文字正面，语音却{label.zh}——可能是反讽或掩饰的情绪",
            evidence,
        )
    if t < 0 and sp["label"] == "happy" and sp["confidence"] >= settings.voice_min_share:
        return Agreement(
            "irony_or_coping",
            True,
            "mismatch: negative words with a happy voice — possible irony or coping",
            "不一致：文字负面，语音却快乐——可能是反语，或在强颜欢笑、自我调适",
            evidence,
        )
    if t and v and t != v:
        return Agreement(
            "mismatch",
            True,
            f"mismatch: the words read {_SIDE_EN[t]} but the voice sounds {label.en.lower()} — they point "
            "opposite ways",
            f"不一致：文字{_SIDE_ZH[t]}，语音却{label.zh}，两者方向相反",
            evidence,
        )
    if t == v:
        return Agreement(
            "agree",
            False,
            f"agree: the words and the voice are both {_SIDE_EN[t]}",
            f"一致：文字和语音都是{_SIDE_ZH[t]}的",
            evidence,
        )
    if t == 0:
        return Agreement(
            "voice_only",
            False,
            f"the words are neutral; the emotion ({label.en.lower()}) is in the voice",
            f"文字中性，情绪（{label.zh}）来自语音",
            evidence,
        )
    return Agreement(
        "words_only",
        False,
        f"the voice is neutral; the words read {_SIDE_EN[t]}",
        f"语音中性，文字{_SIDE_ZH[t]}",
        evidence,
    )
