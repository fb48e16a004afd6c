"""One language means one: find the words of the other language in what a person sees.

`foreign(text, lang)` lists the Chinese runs in an English text, or the English words in a Chinese text, outside
a short allow-list: the deliberate bilingual labels (emotion names such as `快乐 (Happy)`, the language switch),
units and metric acronyms that are written the same in Chinese, product names, and data the test names (file
names, run ids, model ids: what a user typed or the program named, shown as it is).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from emostudio.model.labels import EMOTIONS, SILENT, emotion_name

CJK_RUN = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff60]+")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# written the same way in Chinese technical text: units, metric names, formats, product and command names
SAME_IN_ZH = {
    "Hz", "kHz", "dB", "dBFS", "LUFS", "FS", "MB", "WA", "UA", "F1", "Macro", "ECE", "MCE", "NLL", "Brier", "SNR",
    "JS", "PC", "ID", "id", "ISO", "UTC", "CSV", "JSONL", "zip", "path", "label", "embedding", "Emotion", "Studio",
    "SenseVoice", "emostudio", "enhance", "auto", "text", "backend", "dtype",
    "Praat", "TextGrid", "ELAN", "eaf", "WebVTT", "SRT", "RTTM",  # annotation formats: names, not English
}  # fmt: skip
BILINGUAL = sorted(
    {emotion_name(e.key, "both", emoji=False) for e in (*EMOTIONS, SILENT)} | {"语言 / Language"},
    key=len,
    reverse=True,
)


class _Visible(HTMLParser):
    """Text nodes and the attributes a person sees (title, alt, aria-label, placeholder); no style or script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in ("title", "alt", "aria-label", "placeholder") and v]

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def foreign(text: str, lang: str, data: tuple[str, ...] = ()) -> list[str]:
    """The words of the other language in `text` (what a person sees in `lang`), outside the allow-list and
    the `data` strings (shown as they are)."""
    for phrase in (*sorted(data, key=len, reverse=True), *BILINGUAL):
        if phrase:
            text = text.replace(phrase, " ")
    if lang == "en":
        return CJK_RUN.findall(text)
    return [w for w in LATIN_WORD.findall(text) if w not in SAME_IN_ZH]


def check(texts, lang: str, data: tuple[str, ...] = (), html: bool = True) -> None:
    """Fail naming every piece of `texts` (strings or HTML) that holds words of the other language."""
    bad = {}
    for piece in texts:
        shown = visible_text(piece) if html else str(piece)
        found = foreign(shown, lang, data)
        if found:
            bad[shown[:160]] = found
    assert not bad, f"other-language words in {lang} mode: {bad}"
