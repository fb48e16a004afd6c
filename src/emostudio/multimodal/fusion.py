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

from emostudio.messages import t
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


SIDES = {1: "positive", -1: "negative", 0: "neutral"}  # the stored `side` of the words and of the voice


def _side(sign: int, lang: str) -> str:
    return t(f"side_{SIDES[sign]}", lang)


def _sign(x: float, threshold: float) -> int:
    return 1 if x >= threshold else -1 if x <= -threshold else 0


def _words(words: list[str], lang: str, n: int = 6) -> str:
    """The first `n` distinct words, listed as `lang` lists them."""
    listed = ", ".join(list(dict.fromkeys(words))[:n])
    return listed if lang == "en" else listed.replace(", ", t("word_sep", lang))


def text_evidence(reading: TextReading, settings: TextOptions) -> dict:
    s = reading.sentiment
    if s is None:
        return {"available": False, "en": reading.reason_en, "zh": reading.reason_zh}
    side = _sign(s.polarity, settings.polarity_threshold)
    said = {}
    for lang in ("en", "zh"):
        cues = []
        if s.positive_words:
            cues.append(t("ev_positive_words", lang, words=_words(s.positive_words, lang)))
        if s.negative_words:
            cues.append(t("ev_negative_words", lang, words=_words(s.negative_words, lang)))
        emotions = [e for e in s.emotions if e.value]
        if emotions and not s.class_probs:
            items = [t("ev_emotion_item", lang, name=getattr(e, lang), value=e.value) for e in emotions]
            cues.append(t("ev_emotion_words", lang, words=t("word_sep", lang).join(items)))
        line = t("ev_text", lang, side=_side(side, lang), polarity=s.polarity, backend=reading.backend)
        sep = t("list_sep", lang)
        said[lang] = line + sep + sep.join(cues) if cues else line
    return {
        "available": True,
        "polarity": round(s.polarity, 6),
        "side": SIDES[side],
        "positive_words": list(dict.fromkeys(s.positive_words))[:20],
        "negative_words": list(dict.fromkeys(s.negative_words))[:20],
        "en": said["en"],
        "zh": said["zh"],
    }


def speech_evidence(probs: np.ndarray, settings: TextOptions) -> dict:
    probs = np.asarray(probs, dtype=np.float64)
    label = KEYS[int(np.argmax(probs))]
    e = BY_KEY[label]
    v, a = valence_arousal(probs)
    side = _sign(v, settings.valence_threshold)
    hostile = float(probs[_IDX["angry"]] + probs[_IDX["disgusted"]])
    fmt = {"emoji": e.emoji, "percent": probs.max() * 100, "valence": v, "arousal": a}
    return {
        "label": label,
        "confidence": round(float(probs.max()), 6),
        "valence": round(v, 4),
        "arousal": round(a, 4),
        "side": SIDES[side],
        "angry_or_disgusted": round(hostile, 6),
        "en": t("ev_speech", "en", name=e.en.lower(), **fmt),
        "zh": t("ev_speech", "zh", name=e.zh, **fmt),
    }


def _said(key: str, mismatch: bool, evidence: dict, **per_lang: dict) -> Agreement:
    """An Agreement whose sentences are the catalogue's `agree_<key>` with each language's values."""
    en = t(f"agree_{key}", "en", **per_lang.get("en", {}))
    zh = t(f"agree_{key}", "zh", **per_lang.get("zh", {}))
    return Agreement(key, mismatch, en, zh, evidence)


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
    voice = {"en": label.en.lower(), "zh": label.zh}
    if not tx["available"]:
        return _said(
            "no_text", False, evidence, en={"reason": reading.reason_en}, zh={"reason": reading.reason_zh}
        )
    tw = _sign(tx["polarity"], settings.polarity_threshold)
    v = _sign(sp["valence"], settings.valence_threshold)
    sides = {lang: {"side": _side(tw, lang)} for lang in ("en", "zh")}
    if (
        tw > 0
        and sp["label"] in ("angry", "disgusted")
        and sp["angry_or_disgusted"] >= settings.voice_min_share
    ):
        article = "an" if label.en[0] in "AEIOU" else "a"
        return _said(
            "sarcasm_or_masked",
            True,
            evidence,
            en={"label": f"{article} {voice['en']}"},
            zh={"label": voice["zh"]},
        )
    if tw < 0 and sp["label"] == "happy" and sp["confidence"] >= settings.voice_min_share:
        return _said("irony_or_coping", True, evidence)
    if tw and v and tw != v:
        return _said(
            "mismatch",
            True,
            evidence,
            en={**sides["en"], "label": voice["en"]},
            zh={**sides["zh"], "label": voice["zh"]},
        )
    if tw == v:
        return _said("agree", False, evidence, **sides)
    if tw == 0:
        return _said("voice_only", False, evidence, en={"label": voice["en"]}, zh={"label": voice["zh"]})
    return _said("words_only", False, evidence, **sides)
