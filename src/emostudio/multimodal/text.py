"""Transcript text in: read, clean (control characters, whitespace, length limit) and detect the language.

Language detection is by script, which is what the sentiment backends need to know: Han characters are
Chinese (unless kana or hangul say Japanese / Korean), Latin words are English when enough of them are English
words, text made only of emoji is "emoji" (VADER reads emoji), anything else is "und" (not supported) with the
script named. Text with a real share of both Chinese and English is "mixed": each part goes to its own backend.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from emostudio.errors import EmoStudioError
from emostudio.messages import t
from emostudio.multimodal.lexicon import vader_lexicon
from emostudio.settings import MAX_TEXT_CHARS

MAX_TEXT_FILE_BYTES = 4 * 1024 * 1024  # bytes read from a transcript file; the rest is never needed
MIXED_MIN_SHARE = 0.15  # a language with at least this share of the words makes the text "mixed"
HAN_CHARS_PER_WORD = 1.5  # Chinese characters per word, to compare Chinese and English amounts fairly
ENGLISH_MIN_RATIO = 0.2  # Latin text is English when this share of its words are known English words

# C0/C1 controls (tab and newline are kept as spaces / line breaks), format characters (zero-width spaces,
# bidi overrides, BOM; the zero-width joiner U+200D stays because emoji sequences need it), surrogates,
# private-use characters and non-characters.
_CONTROL_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b\u200c\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\ue000-\uf8ff\ufdd0-\ufdef"
    "\ufffe\uffff\U000e0000-\U000e007f\U000f0000-\U0010ffff]"
)
_SPACES_RE = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LINES_RE = re.compile(r"\s*\n\s*")
# full-width ASCII letters and digits (ＡＢＣ１２３) → ASCII; full-width punctuation is kept for Chinese tools
_FULLWIDTH = {
    cp: cp - 0xFEE0
    for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for cp in range(r[0], r[1] + 1)
}
_SENTENCE_END_RE = re.compile(r"[。！？!?；;…\n]|\.(?=\s|$)")

_LATIN_WORD_RE = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:['’][A-Za-z]+)*")
_ENGLISH_FUNCTION_WORDS = frozenset(
    """a an the and or but if so to of in on at by for with from about as into than then that this these those
    there here is are was were be been being am do does did have has had will would can could should may might
    must shall i me my mine you your yours he him his she her hers it its we us our they them their what which
    who whom whose when where why how not no yes very too just really all any some more most much many such
    only also again still even there's it's i'm you're we're they're don't doesn't didn't can't won't isn't
    aren't wasn't weren't i've i'll i'd that's what's let's get got go going make made know think feel like
    thank thanks please sorry okay ok""".split()
)


class TextInputError(EmoStudioError):
    """A transcript that cannot be used at all (missing file, not text); the message names the source."""

    code = "bad_text"


@dataclass
class CleanText:
    """A transcript after cleaning. `text` is what the backends read (at most MAX_TEXT_CHARS characters)."""

    text: str
    original_chars: int  # characters given, before cleaning
    removed_controls: int  # control/format characters dropped
    truncated: bool
    warnings: list[str] = field(default_factory=list)  # English; zh versions in `warnings_zh`
    warnings_zh: list[str] = field(default_factory=list)


@dataclass
class Language:
    """Detected language: code "zh" | "en" | "mixed" | "emoji" | "und" (unsupported) | "none" (no text)."""

    code: str
    shares: dict[str, float]  # "zh", "en", "other": share of the words, summing to 1 (empty for none/emoji)
    script: str = ""  # for "und": the main script found, e.g. "Arabic", "Cyrillic", "Japanese"

    def to_dict(self) -> dict:
        d: dict = {"code": self.code, "shares": self.shares}
        if self.script:
            d["script"] = self.script
        return d


def read_text_file(path: str | os.PathLike) -> tuple[str, list[str]]:
    """The text of a transcript file (UTF-8, UTF-16 with BOM, or GB18030) and warnings; at most 4 MiB is read.

    Raises TextInputError naming the file when it is missing, a folder, or not text.
    """
    p = Path(path)
    if not p.exists():
        raise TextInputError(f"{p}: transcript file not found")
    if not p.is_file():
        raise TextInputError(f"{p}: is not a file")
    with open(p, "rb") as f:
        data = f.read(MAX_TEXT_FILE_BYTES + 1)
    warnings = []
    if len(data) > MAX_TEXT_FILE_BYTES:
        data = data[:MAX_TEXT_FILE_BYTES]
        warnings.append(f"{p.name}: only the first {MAX_TEXT_FILE_BYTES // (1024 * 1024)} MiB were read")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TextInputError(f"{p}: does not look like a text file (it contains NUL bytes)")
    for encoding in ("utf-8-sig", "utf-16", "gb18030"):
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            # a file cut at the byte limit may end inside a character: drop that tail only
            text = data.decode(encoding, errors="strict" if len(data) < MAX_TEXT_FILE_BYTES else "ignore")
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030":
            warnings.append(f"{p.name}: not UTF-8; read as GB18030")
        return text, warnings
    raise TextInputError(f"{p}: is not UTF-8, UTF-16 or GB18030 text; save the transcript as UTF-8")


def clean_text(text: str, max_chars: int = MAX_TEXT_CHARS) -> CleanText:
    """Drop control/format characters, fold full-width letters and digits, collapse spaces, and keep at most
    `max_chars` characters (cut at the last sentence end within the final 20 % when there is one)."""
    if not isinstance(text, str):
        raise TextInputError(f"the transcript must be text, not {type(text).__name__}")
    original = len(text)
    stripped, removed = _CONTROL_RE.subn("", text.replace("\r\n", "\n").replace("\r", "\n"))
    stripped = stripped.translate(_FULLWIDTH)
    stripped = _SPACES_RE.sub(" ", unicodedata.normalize("NFC", stripped))
    stripped = _LINES_RE.sub("\n", stripped).strip()
    out = CleanText(stripped, original, removed, truncated=False)
    if removed:
        out.warnings.append(t("text_removed_control", "en", n=removed))
        out.warnings_zh.append(t("text_removed_control", "zh", n=removed))
    if len(stripped) > max_chars:
        cut = stripped[:max_chars]
        ends = [m.end() for m in _SENTENCE_END_RE.finditer(cut)]
        if ends and ends[-1] >= 0.8 * max_chars:
            cut = cut[: ends[-1]]
        out.text, out.truncated = cut.strip(), True
        sizes = {"total": len(stripped), "kept": len(out.text), "limit": max_chars}
        out.warnings.append(t("text_truncated", "en", **sizes))
        out.warnings_zh.append(t("text_truncated", "zh", **sizes))
    return out


def is_han(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0x20000 <= o <= 0x2FA1F
        or 0xF900 <= o <= 0xFAFF
        or o == 0x3007
    )


def is_emoji(ch: str) -> bool:
    """Pictographs, emoticons, dingbats, flags and their joiners/modifiers."""
    o = ord(ch)
    return (
        0x1F000 <= o <= 0x1FAFF
        or 0x2600 <= o <= 0x27BF
        or 0x2B00 <= o <= 0x2BFF
        or 0x2190 <= o <= 0x21FF
        or o in (0x200D, 0x20E3, 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D)
        or 0xFE00 <= o <= 0xFE0F
        or 0x1F3FB <= o <= 0x1F3FF
    )


_SCRIPT_NAMES = {
    "HIRAGANA": "Japanese",
    "KATAKANA": "Japanese",
    "HANGUL": "Korean",
    "ARABIC": "Arabic",
    "CYRILLIC": "Cyrillic",
    "HEBREW": "Hebrew",
    "GREEK": "Greek",
    "DEVANAGARI": "Devanagari",
    "THAI": "Thai",
}


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    first = name.split(" ", 1)[0] if name else ""
    if first in _SCRIPT_NAMES:
        return _SCRIPT_NAMES[first]
    return first.title() or "Unknown"


_LATIN_RUN_RE = re.compile(r"[A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f0-9'’ ,.!?;:\-]*")


def split_scripts(text: str) -> tuple[str, str]:
    """(Chinese part, Latin part) of a mixed text: the Latin runs (words with the spaces and ASCII punctuation
    between them) joined by spaces, and what is left, in the order of the text."""
    latin = " ".join(m.group().strip() for m in _LATIN_RUN_RE.finditer(text))
    return _LATIN_RUN_RE.sub("", text).strip(), latin


def detect_language(text: str) -> Language:
    """The language of a cleaned transcript (see the module docstring for the rules)."""
    han = sum(1 for ch in text if is_han(ch))
    latin_words = _LATIN_WORD_RE.findall(text)
    others: dict[str, int] = {}
    emoji = 0
    for ch in text:
        if is_han(ch) or ch.isascii():
            continue
        if is_emoji(ch):
            emoji += 1
            continue
        if ch.isalpha():
            script = _script(ch)
            if script != "Latin":
                others[script] = others.get(script, 0) + 1
    if not text.strip():
        return Language("none", {})
    kana_or_hangul = sum(others.get(s, 0) for s in ("Japanese", "Korean"))
    other_units = sum(others.values()) / HAN_CHARS_PER_WORD
    zh_units = han / HAN_CHARS_PER_WORD
    en_units = float(len(latin_words))
    total = zh_units + en_units + other_units
    if total == 0:
        return Language("emoji", {}) if emoji else Language("none", {}, "no letters")
    shares = {
        "zh": round(zh_units / total, 4),
        "en": round(en_units / total, 4),
        "other": round(other_units / total, 4),
    }
    main_other = max(others, key=lambda name: others[name]) if others else ""
    if kana_or_hangul and kana_or_hangul >= 0.1 * (han + kana_or_hangul):
        # Japanese writes with Han characters too: kana (or hangul) decide
        return Language("und", shares, "Japanese" if others.get("Japanese") else "Korean")
    if shares["other"] >= 0.5:
        return Language("und", shares, main_other)
    if en_units and not han and not _looks_english(latin_words):
        return Language("und", shares, "Latin (not English)")
    zh_ok, en_ok = shares["zh"] >= MIXED_MIN_SHARE, shares["en"] >= MIXED_MIN_SHARE
    if zh_ok and en_ok:
        return Language("mixed", shares)
    return Language("zh" if shares["zh"] >= shares["en"] else "en", shares)


def _looks_english(words: list[str]) -> bool:
    """True when enough words are English function words or in VADER's lexicon (short texts get the benefit)."""
    if len(words) <= 3:
        return True
    try:
        lexicon = vader_lexicon()
    except ImportError:  # without the text extra: English function words alone
        lexicon = {}
    known = sum(1 for w in words if w.lower() in _ENGLISH_FUNCTION_WORDS or w.lower() in lexicon)
    return known / len(words) >= ENGLISH_MIN_RATIO
