"""What every tab of the web UI shares: the language switch, toasts for a user's mistakes, components whose
labels follow the language. Texts come from `emostudio.messages`; HTML from `emostudio.render`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr

from emostudio.messages import LANG_CHOICES, lang_of, t
from emostudio.render.html import notice
from emostudio.runs import RunFolder, write_zip

__all__ = ["LANG_CHOICES", "Labels", "error_notice", "lang_of", "run_downloads", "user_error"]
log = logging.getLogger("emostudio.server")


def user_error(message: str, exc: BaseException | None = None) -> gr.Error:
    """The toast for a user's mistake: one line in the server log, never a traceback."""
    log.info("web UI: %s", str(exc) if exc is not None else message)
    return gr.Error(message, print_exception=False)


def error_notice(message: str, exc: BaseException | None = None, elem_id: str | None = None) -> str:
    """A user's mistake said once, in a tab's own status area (HTML), instead of a raised gr.Error whose red
    "Error" badge covers every output of the event: one line in the server log, never a traceback."""
    log.info("web UI: %s", str(exc) if exc is not None else message)
    return notice(message, "bad", elem_id, icon="⛔ ")


def run_downloads(folder: Path, zips: Path) -> list[str]:
    """A run folder's files (result.json, frames*.csv, …) and a zip of the folder written under `zips`, as
    paths for gr.File."""
    paths = [str(folder / n) for n in RunFolder(folder.name, folder).files()]
    return [*paths, str(write_zip(folder, zips / f"{folder.name}.zip"))]


class Labels:
    """Components whose text follows the language switch: (component, property, message key, format values)."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, str, str, dict]] = []

    def add(self, component, prop: str, key: str, **fmt):
        self.items.append((component, prop, key, fmt))
        return component

    @property
    def components(self) -> list:
        return [c for c, *_ in self.items]

    def updates(self, lang: str) -> list:
        return [gr.update(**{prop: t(key, lang, **fmt)}) for _, prop, key, fmt in self.items]


def choices(key: str, values: tuple[str, ...], lang: str) -> list[tuple[str, str]]:
    """(label, value) pairs of a radio or dropdown whose labels are the tuple `key` in `lang`."""
    return list(zip(t(key, lang), values, strict=True))
