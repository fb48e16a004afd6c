"""The `hf:DIR` text backend: a local Hugging Face text-classification model folder (`local_files_only=True`).

Its labels (positive/negative/neutral, joy/sadness/anger/…, or 1–5 stars) are read as a polarity and, where they
name emotions, as 9-class probabilities (`HF_LABELS`). Needs `pip install "emostudio[text-hf]"` (transformers).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from emostudio.multimodal.rules import sentences
from emostudio.multimodal.sentiment import EmotionCount, Sentiment, TextBackendError, clip_polarity

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
            clip_polarity(polarity),
            self.name,
            emotions=emotions,
            evidence=1,
            class_probs=class_probs,
            detail={"labels": self.labels, "sentences": len(parts)},
        )
