"""The 9 emotion classes of emotion2vec+: keys, names, emoji, and normalisation of `tokens.txt` entries.

Display names follow the seed WebUI (`😊 快乐 (Happy)`); the model's own zh tokens (`开心/happy`) are kept too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Emotion:
    key: str  # English key used everywhere in code and files, e.g. "happy"
    en: str  # English display name, e.g. "Happy"
    zh: str  # Chinese display name as the seed WebUI shows it, e.g. "快乐"
    emoji: str
    token_zh: str  # the Chinese word in the model's tokens.txt, e.g. "开心"

    def display(self) -> str:
        """`😊 快乐 (Happy)`."""
        return f"{self.emoji} {self.zh} ({self.en})"


EMOTIONS: tuple[Emotion, ...] = (
    Emotion("angry", "Angry", "愤怒", "😠", "生气"),
    Emotion("disgusted", "Disgusted", "厌恶", "🤢", "厌恶"),
    Emotion("fearful", "Fearful", "恐惧", "😨", "恐惧"),
    Emotion("happy", "Happy", "快乐", "😊", "开心"),
    Emotion("neutral", "Neutral", "中性", "😐", "中立"),
    Emotion("other", "Other", "其他", "🤔", "其他"),
    Emotion("sad", "Sad", "悲伤", "😢", "难过"),
    Emotion("surprised", "Surprised", "惊讶", "😲", "吃惊"),
    Emotion("unknown", "Unknown", "未知", "❓", "<unk>"),
)
KEYS: tuple[str, ...] = tuple(e.key for e in EMOTIONS)
BY_KEY: dict[str, Emotion] = {e.key: e for e in EMOTIONS}

# tokens.txt of the official plus models, in model output order
OFFICIAL_TOKENS: tuple[str, ...] = (
    "生气/angry",
    "厌恶/disgusted",
    "恐惧/fearful",
    "开心/happy",
    "中立/neutral",
    "其他/other",
    "难过/sad",
    "吃惊/surprised",
    "<unk>",
)

_ALIASES = {
    "unk": "unknown",
    "<unk>": "unknown",
    "surprise": "surprised",
    "fear": "fearful",
    "disgust": "disgusted",
}
_BY_ANY_NAME: dict[str, str] = {}
for _e in EMOTIONS:
    for _name in (_e.key, _e.en.lower(), _e.zh, _e.token_zh):
        _BY_ANY_NAME[_name] = _e.key
_BY_ANY_NAME.update(_ALIASES)


def is_unused(token: str) -> bool:
    """FunASR's rule: a token starting with `unuse` is masked to -inf and dropped from the output."""
    return token.startswith("unuse")


def normalise_token(token: str) -> str | None:
    """Map a tokens.txt entry (`生气/angry`, `<unk>`, `angry`, `开心`) to an English key; None for `unuse*` tokens.

    Raises ValueError for a token that is none of the 9 classes.
    """
    token = token.strip()
    if is_unused(token):
        return None
    candidates = [token, token.lower()]
    if "/" in token:
        zh, _, en = token.partition("/")
        candidates = [en.strip().lower(), zh.strip(), *candidates]
    for c in candidates:
        if c in _BY_ANY_NAME:
            return _BY_ANY_NAME[c]
    raise ValueError(f"unknown emotion token {token!r}; expected one of {', '.join(OFFICIAL_TOKENS)}")


def read_tokens(text: str) -> list[str]:
    """Tokens from the text of a tokens.txt, one per line (FunASR keeps `line.rstrip()`; blank lines dropped)."""
    return [line.rstrip() for line in text.splitlines() if line.strip()]
