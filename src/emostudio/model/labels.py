"""The 9 emotion classes of emotion2vec+: keys, names, emoji, and normalisation of `tokens.txt` entries.

Display names follow the seed WebUI (`😊 快乐 (Happy)`); the model's own zh tokens (`开心/happy`) are kept too.
`emotion_name(key, lang)` is the one function that turns a key into what a person reads, in every surface.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# one colour per emotion, the same in every chart: the web UI's bars and timelines, cluster maps, trend charts
COLOURS = {
    "angry": "#d62728",
    "disgusted": "#8c564b",
    "fearful": "#9467bd",
    "happy": "#f2b701",
    "neutral": "#7f7f7f",
    "other": "#17becf",
    "sad": "#1f77b4",
    "surprised": "#ff7f0e",
    "unknown": "#bcbd22",
}


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

    def name(self, lang: str) -> str:
        """The name alone in one language: `快乐` (zh) or `Happy` (en)."""
        return self.zh if lang == "zh" else self.en


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
# the label of a silent stretch of a live stream: not one of the model's classes (silent windows are not scored)
SILENCE = "silence"
SILENT = Emotion(SILENCE, "Silence", "静音", "🔇", "")
SILENCE_COLOUR = "#e5e7eb"
# a speaker turn too short to be scored (result.json's turns with scored=false): speech, but no reading
UNSCORED = "unscored"
UNSCORED_COLOUR = "#9ca3af"


def colour(key: str) -> str:
    """The one colour of a class key (or `silence`, `unscored`) in every chart, bar, strip and card."""
    if key == UNSCORED:
        return UNSCORED_COLOUR
    return SILENCE_COLOUR if key == SILENCE else COLOURS[key]


# colours of a user's own labels (an adapter's `frustrated`, `satisfied`), by their place in the adapter's labels
CUSTOM_COLOURS = ("#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#65a30d", "#dc2626")


def label_colour(label: str, index: int) -> str:
    """The colour of an adapter's label: a class key's own colour, else the `index`-th custom colour."""
    return COLOURS.get(label) or CUSTOM_COLOURS[index % len(CUSTOM_COLOURS)]


def emotion_name(key: str, lang: str = "both", *, emoji: bool = True) -> str:
    """What a person reads for a class key (or `silence`): `😊 快乐` (zh), `😊 Happy` (en) or the seed's
    bilingual `😊 快乐 (Happy)` (lang="both"); `emoji=False` drops the emoji (charts: fonts lack them).
    A user's own label (`custom_label`: `frustrated`, `投诉`) is its own name in every language."""
    e = SILENT if key == SILENCE else BY_KEY.get(key)
    if e is None:
        return key
    name = f"{e.zh} ({e.en})" if lang == "both" else e.name(lang)
    return f"{e.emoji} {name}" if emoji else name


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


# Reference labels as people write them in their own test sets (lower-cased English, Chinese, dataset
# abbreviations such as IEMOCAP's `ang`/`hap`/`neu` or CREMA-D's `ANG`/`FEA`) → the 9 keys. The class names,
# display names and tokens above are accepted too. `excited` is merged into happy as EmoBox and most IEMOCAP
# 4-class setups do; `calm` is not merged into neutral (RAVDESS keeps them apart).
LABEL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "angry": ("anger", "ang", "mad", "furious", "生气", "愤怒", "发怒", "恼怒", "气愤", "怒"),
    "disgusted": ("disgust", "dis", "disgusting", "厌恶", "恶心", "反感", "嫌弃"),
    "fearful": ("fear", "fea", "afraid", "scared", "恐惧", "害怕", "惧怕", "恐慌"),
    "happy": ("happiness", "joy", "joyful", "hap", "glad", "excited", "exc", "开心", "快乐", "高兴", "喜悦",
              "愉快", "兴奋"),
    "neutral": ("neu", "neutrality", "中性", "中立", "平静", "无情绪"),
    "other": ("others", "oth", "其他", "其它"),
    "sad": ("sadness", "sorrow", "unhappy", "悲伤", "难过", "伤心", "悲哀", "哀伤"),
    "surprised": ("surprise", "sur", "surprising", "amazed", "惊讶", "吃惊", "惊奇", "意外"),
    "unknown": ("unk", "<unk>", "xxx", "未知"),
}  # fmt: skip
_BY_LABEL: dict[str, str] = dict(_BY_ANY_NAME)
for _key, _names in LABEL_SYNONYMS.items():
    for _name in _names:
        _BY_LABEL[_name] = _key
for _e in EMOTIONS:  # emoji and display strings as this program writes them (`😠`, `😠 愤怒 (Angry)`)
    _BY_LABEL[_e.emoji] = _e.key
    _BY_LABEL[_e.display().lower()] = _e.key


def normalise_label(label: str) -> str:
    """Map a reference label (`Angry`, `anger`, `生气`, `愤怒`, `ANG`, `开心/happy`, `😠`) to one of the 9 keys.

    Case, surrounding spaces and full-width characters are ignored. Raises ValueError naming the label and the
    accepted keys when it is none of the 9 classes.
    """
    text = unicodedata.normalize("NFKC", str(label)).strip()
    candidates = [text.lower(), text]
    if "/" in text:  # `生气/angry`, as tokens.txt writes them
        zh, _, en = text.partition("/")
        candidates += [en.strip().lower(), zh.strip()]
    for c in candidates:
        if c in _BY_LABEL:
            return _BY_LABEL[c]
    raise ValueError(
        f"unknown emotion label {label!r}; use one of {', '.join(KEYS)} (English or Chinese names and common "
        "synonyms such as anger/生气, joy/开心, 中立, 难过, 吃惊 are accepted too)"
    )


MAX_CUSTOM_LABEL_CHARS = 64


def custom_label(label: str) -> str:
    """A user's own class name (`frustrated`, `Escalation`, `投诉`) as it is compared and shown: NFKC, trimmed,
    inner spaces collapsed, lower-cased. Raises ValueError for an empty name, control characters or more than
    64 characters. A name of one of the 9 classes (or a synonym) is not custom: use `normalise_label` first.
    """
    text = " ".join(unicodedata.normalize("NFKC", str(label)).split()).lower()
    if not text:
        raise ValueError("empty label")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise ValueError(f"label {label!r} holds control characters")
    if len(text) > MAX_CUSTOM_LABEL_CHARS:
        raise ValueError(f"label {text[:20]!r}… is longer than {MAX_CUSTOM_LABEL_CHARS} characters")
    return text


def label_or_custom(label: str) -> str:
    """One of the 9 keys when `label` names one (any synonym, as `normalise_label`), else the custom name."""
    try:
        return normalise_label(label)
    except ValueError:
        return custom_label(label)
