"""The transcript fields of POST /v1/analyze and the UI's textbox: read the text, fuse it with the finished
analysis, and rewrite the run's result.json with the `text` block (emostudio.multimodal)."""

from __future__ import annotations

from typing import Literal

from emostudio.errors import EmoStudioError
from emostudio.multimodal import TextBackendError, attach_text, save_text_block
from emostudio.options import DEFAULT_TEXT_WEIGHT, TextOptions

# hf:DIR is a command-line/Python choice only: a remote caller never names folders on the server
RestTextBackend = Literal["auto", "snownlp", "cnsenti", "vader"]
TEXT_FIELD_HELP = (
    "optional transcript of the recording (Chinese, English or both): its sentiment is fused with the voice "
    "and an agreement reading is added as the `text` block; at most 10000 characters are analysed (longer text "
    "is cut, with a warning); an empty field means no transcript"
)
WEIGHT_FIELD_HELP = (
    f"share of the text in the fused scores, 0-1 (default {DEFAULT_TEXT_WEIGHT}: the voice leads)"
)


class TextUnavailableError(EmoStudioError):
    """The transcript could not be read on this server (e.g. the text libraries are missing): HTTP 503."""

    status = 503

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


async def apply_text(
    service,
    done,
    text: str | None,
    weight: float = DEFAULT_TEXT_WEIGHT,
    backend: str = "auto",
):
    """Attach `text` to a finished Analysis (`service.analyze(...)`) and rewrite its result.json; returns it.

    None or "" leaves the analysis as it is. Text work runs in the service's thread pool."""
    if text is None or text == "":
        return done
    options = TextOptions(weight=float(weight), backend=backend)

    def work() -> None:
        attach_text(done.result, text, options, source="form", save=False)
        save_text_block(done.result, done.run_dir)

    try:
        await service._in_pool(work)
    except TextBackendError as exc:  # e.g. the text libraries are not installed on this server
        raise TextUnavailableError(exc.code, f"{exc} (the audio was analysed: run {done.run_id})") from exc
    return done
