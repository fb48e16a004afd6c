"""The page script of the web UI (`page.js`: the language switch and the Live tab's microphone over
WebSocket /v1/stream), as the `<script>` Gradio puts in the page's head."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def page_js(lang_choices: tuple[tuple[str, str], ...]) -> str:
    """page.js with the language radio's (label, code) pairs filled in."""
    text = resources.files("emostudio.render").joinpath("page.js").read_text(encoding="utf-8")
    return text.replace("__LANG_CHOICES__", json.dumps(dict(lang_choices), ensure_ascii=False))


def page_head(lang_choices: dict[str, str]) -> str:
    """The `<script>` element for the page's head."""
    return f"<script>{page_js(tuple(lang_choices.items()))}</script>"
