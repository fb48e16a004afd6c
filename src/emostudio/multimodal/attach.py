"""Putting a transcript's reading on a speech Result: the `text` block of result.json, its re-save, batch columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emostudio import runs
from emostudio.messages import t
from emostudio.model.labels import BY_KEY, KEYS
from emostudio.multimodal.fusion import Agreement, agreement, fuse, text_scores, valence_arousal
from emostudio.multimodal.reading import TextReading, analyze_text
from emostudio.options import TextOptions
from emostudio.results import Result

TEXT_SOURCES = ("argument", "file", "asr", "manifest", "form")


def _scores(p: np.ndarray) -> dict[str, float]:
    return {k: round(float(x), 6) for k, x in zip(KEYS, p, strict=True)}


@dataclass
class TextBlock:
    """The words' reading next to the voice's: text scores, fused scores, agreement. `fused_probs` (9,)."""

    reading: TextReading
    weight: float  # the weight asked for
    speech_probs: np.ndarray  # (9,) the voice's scores the fusion started from
    text_probs: np.ndarray | None  # (9,) the words' reading; None when there is none
    fused_probs: np.ndarray  # (9,) sums to 1
    agreement: Agreement
    source: str = "argument"  # where the transcript came from: argument | file | asr | manifest | form
    asr: dict | None = None  # the ASR run that produced the transcript, with SenseVoice's own emotion tag
    warnings: list[str] = field(default_factory=list)
    warnings_zh: list[str] = field(default_factory=list)

    @property
    def weight_applied(self) -> float:
        """The weight actually used: 0 when the words could not be read (the result is the voice alone)."""
        return self.weight if self.text_probs is not None else 0.0

    @property
    def fused_label(self) -> str:
        return KEYS[int(np.argmax(self.fused_probs))]

    @property
    def fused_confidence(self) -> float:
        return float(np.max(self.fused_probs))

    def to_dict(self) -> dict:
        r, s = self.reading, self.reading.sentiment
        label = BY_KEY[self.fused_label]
        v, a = valence_arousal(self.speech_probs)
        return {
            "transcript": r.text,
            "source": self.source,
            "chars": len(r.text),
            "original_chars": r.original_chars,
            "truncated": r.truncated,
            "removed_controls": r.removed_controls,
            "language": r.language.code,
            "language_detail": r.language.to_dict(),
            "backend": r.backend,
            "available": s is not None,
            "message": None if s is not None else {"en": r.reason_en, "zh": r.reason_zh},
            "polarity": None if s is None else round(s.polarity, 6),
            "emotions": [] if s is None else [e.to_dict() for e in s.emotions],
            "words": {
                "positive": [] if s is None else list(dict.fromkeys(s.positive_words))[:20],
                "negative": [] if s is None else list(dict.fromkeys(s.negative_words))[:20],
            },
            "parts": r.parts or None,
            "detail": {} if s is None else _plain(s.detail),
            "text_scores": None if self.text_probs is None else _scores(self.text_probs),
            "valence_arousal": {
                "speech": {"valence": round(v, 6), "arousal": round(a, 6)},
                "text": {"valence": None if s is None else round(s.polarity, 6)},
            },
            "weight": round(float(self.weight), 6),
            "weight_applied": round(float(self.weight_applied), 6),
            "fused": {
                "label": self.fused_label,
                "confidence": round(self.fused_confidence, 6),
                "scores": _scores(self.fused_probs),
                "display": label.display(),
                "en": label.en,
                "zh": label.zh,
                "emoji": label.emoji,
            },
            "agreement": self.agreement.to_dict(),
            "asr": self.asr,
            "warnings": list(self.warnings),
            "warnings_zh": list(self.warnings_zh),
        }


def _plain(d: dict) -> dict:
    """JSON-safe copy of a backend's detail numbers."""
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, float | np.floating):
            out[k] = round(float(v), 6)
        elif isinstance(v, int | str | bool) or v is None:
            out[k] = v
        elif isinstance(v, list | tuple):
            out[k] = [str(x) for x in v]
    return out


def text_block(
    speech_probs: np.ndarray,
    text: str | TextReading,
    options: TextOptions | None = None,
    *,
    source: str = "argument",
    asr: dict | None = None,
) -> TextBlock:
    """Read `text` (or use a ready reading) and fuse it with a (9,) speech distribution."""
    options = (options or TextOptions()).check()
    reading = (
        text if isinstance(text, TextReading) else analyze_text(text, options.backend, options.max_chars)
    )
    speech = np.asarray(speech_probs, dtype=np.float64)
    t_probs = text_scores(reading.sentiment, speech) if reading.sentiment is not None else None
    return TextBlock(
        reading=reading,
        weight=float(options.weight),
        speech_probs=speech,
        text_probs=t_probs,
        fused_probs=fuse(speech, t_probs, options.weight),
        agreement=agreement(speech, reading, options),
        source=source,
        asr=asr,
        warnings=list(reading.warnings),
        warnings_zh=list(reading.warnings_zh),
    )


def attach_text(
    result: Result,
    text: str | TextReading,
    options: TextOptions | None = None,
    *,
    source: str = "argument",
    asr: dict | None = None,
    save: bool = True,
) -> Result:
    """Read a transcript, fuse it with `result`'s speech scores, and set `result.text`; returns `result`.

    When the result was saved (`result.output_dir` holds its result.json) and `save` is true, result.json is
    rewritten atomically with the `text` block. Bad text never raises: the block then says why there is no
    reading and the fused scores are the speech scores.
    """
    result.text = text_block(result.probs, text, options, source=source, asr=asr)
    if save and result.output_dir is not None:
        save_text_block(result)
    return result


def save_text_block(result: Result, run_dir: str | Path | None = None) -> Path | None:
    """Rewrite `run_dir/result.json` (default: the result's folder) with the result's text block, atomically;
    every other key stays as it was. Returns the path, or None when there is no saved result.json."""
    folder = Path(run_dir) if run_dir is not None else result.output_dir
    if folder is None or not runs.is_run(folder):
        return None
    return runs.rewrite_result(folder, text=result.text.to_dict() if result.text is not None else None)


# ---- batch ---------------------------------------------------------------------------------------------------------
# extra Parquet columns for a batch job with transcripts (name, Arrow type); None when the row has no text
TEXT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("text_polarity", "float64"),
    ("text_language", "string"),
    ("fused_label", "string"),
    ("fused_confidence", "float64"),
    ("agreement", "string"),
)


def text_columns(result: Result | None, text: str | None, options: TextOptions | None = None) -> dict:
    """The batch columns for one input: text_polarity, text_language, fused_label, fused_confidence, agreement.

    All None for a failed input or one without text. An unreadable text gives its language, no polarity, the
    speech label as fused label and agreement "no_text". Also sets `result.text` (not saved to any folder).
    """
    empty = {name: None for name, _ in TEXT_COLUMNS}
    if result is None or text is None or not str(text).strip():
        return empty
    block = result.text = text_block(result.probs, text, options, source="manifest")  # attach_text, unsaved
    return {
        "text_polarity": block.reading.polarity,
        "text_language": block.reading.language.code,
        "fused_label": block.fused_label,
        "fused_confidence": block.fused_confidence,
        "agreement": block.agreement.key,
    }


def text_arrow_fields() -> list:
    """TEXT_COLUMNS as pyarrow fields, to extend a batch schema."""
    import pyarrow as pa

    return [pa.field(name, getattr(pa, kind)()) for name, kind in TEXT_COLUMNS]


# ---- speech recognition first ------------------------------------------------------------------------------------
def attach_asr(result: Result, asr, waveform: np.ndarray, options: TextOptions | None = None) -> Result:
    """Transcribe `waveform` (16 kHz mono float32, the audio `result` was computed from) with an AsrModel,
    stretch by stretch along the result's segments, then `attach_text` the transcript (source "asr"; the ASR
    model's own emotion tag is kept in the block's `asr`). Raises AsrError when recognition fails."""
    spans = [(s.start_s, s.end_s) for s in result.segments] or None
    transcript = asr.transcribe(waveform, spans)
    options = options or TextOptions()
    reading = analyze_text(transcript.text, options.backend, options.max_chars)
    if reading.language.code == "none":
        reading.reason_en = t("text_asr_no_words", "en", model=transcript.model)
        reading.reason_zh = t("text_asr_no_words", "zh", model=transcript.model)
    return attach_text(result, reading, options, source="asr", asr=transcript.to_dict())
