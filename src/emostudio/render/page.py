"""The page script of the web UI (`page.js`: the language switch and the Live tab's microphone over
WebSocket /v1/stream), as the `<script>` Gradio puts in the page's head."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from emostudio.messages import t

GRADIO_LABELS = ("gradio_upload_file", "gradio_upload_a_file", "gradio_record_audio")


def gradio_labels() -> dict[str, dict[str, str]]:
    """Gradio's English-only aria-labels → {lang: text}, from the catalogue."""
    return {t(key, "en"): {"zh": t(key, "zh"), "en": t(key, "en")} for key in GRADIO_LABELS}


GRADIO_STATUS = {"processing": "gradio_processing", "queue:": "gradio_queue"}


def gradio_status() -> dict[str, dict[str, str]]:
    """The first word of Gradio's English-only status line over a busy component → {lang: text}."""
    return {word: {"zh": t(key, "zh"), "en": t(key, "en")} for word, key in GRADIO_STATUS.items()}


@cache
def page_js(lang_choices: tuple[tuple[str, str], ...]) -> str:
    """page.js with the language radio's (label, code) pairs and Gradio's missing labels and status words
    filled in."""
    text = resources.files("emostudio.render").joinpath("page.js").read_text(encoding="utf-8")
    text = text.replace("__GRADIO_LABELS__", json.dumps(gradio_labels(), ensure_ascii=False))
    text = text.replace("__GRADIO_STATUS__", json.dumps(gradio_status(), ensure_ascii=False))
    return text.replace("__LANG_CHOICES__", json.dumps(dict(lang_choices), ensure_ascii=False))


def page_head(lang_choices: dict[str, str]) -> str:
    """The `<script>` element for the page's head."""
    return f"<script>{page_js(tuple(lang_choices.items()))}</script>"
