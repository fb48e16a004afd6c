"""What one analysis produced: the Result records, the result.json document (+ its JSON Schema), and what a
Result's run folder holds (`run_content`; emostudio.runs lays it out and writes it).

A Result is built by emostudio.assemble from the model's segment scores; `Result.to_dict()` is result.json.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, Protocol

import numpy as np

from emostudio import csvsafe
from emostudio.interpret import Band, Compound, TimelineSegment, summary_line
from emostudio.messages import t
from emostudio.model.labels import BY_KEY, KEYS
from emostudio.options import AdaptedReading
from emostudio.records import ChannelInfo
from emostudio.runs import (
    EMBEDDING_FILE,
    FRAMES_FILE,
    TURNS_FILE,
    RunContent,
    channel_embedding_file,
    channel_frames_file,
    speaker_frames_file,
)
from emostudio.speakers.rttm import rttm_lines

SCHEMA_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "result.schema.json"
RANDOM_WEIGHTS_NOTE = t("random_note", "en")  # stored in result.json in English (model.note, warnings)


def scores_dict(probs: np.ndarray) -> dict[str, float]:
    """9 probabilities in KEYS order → {"angry": p, ...} rounded to 6 decimals."""
    return {k: round(float(p), 6) for k, p in zip(KEYS, probs, strict=True)}


@dataclass
class ModelRef:
    """Which model produced a result."""

    id: str
    source: str
    is_random: bool
    device: str = "cpu"
    dtype: str = "float32"

    def to_dict(self) -> dict:
        d = {
            "id": self.id,
            "source": self.source,
            "is_random": self.is_random,
            "device": self.device,
            "dtype": self.dtype,
        }
        if self.is_random:
            d["note"] = RANDOM_WEIGHTS_NOTE
        return d


@dataclass
class SegmentResult:
    """One analysed stretch of a (long) recording, seconds from the start of the file."""

    start_s: float
    end_s: float
    probs: np.ndarray  # (9,) KEYS order
    adapted: AdaptedReading | None = None  # an adapter's reading of this segment (its own embedding)

    @property
    def label(self) -> str:
        return KEYS[int(np.argmax(self.probs))]

    def to_dict(self) -> dict:
        d = {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "emotion": self.label,
            "confidence": round(float(self.probs.max()), 6),
            "scores": scores_dict(self.probs),
        }
        if self.adapted is not None:
            d["adapted"] = adapted_dict(self.adapted)
        return d


def adapted_dict(reading: AdaptedReading) -> dict:
    """result.json's `adapted` block: labels, scores over them, label, confidence, band, adapter (its id), and
    the base scores after the adapter's temperature (`calibrated_scores`); numbers rounded to 6 decimals."""
    d = reading.to_dict()
    d["confidence"] = round(float(d["confidence"]), 6)
    for key in ("scores", "calibrated_scores"):
        if isinstance(d.get(key), dict):
            d[key] = {k: round(float(v), 6) for k, v in d[key].items()}
    return d


@dataclass
class FrameTimeline:
    """Frame mode: scores every `step_s` seconds."""

    starts_s: np.ndarray  # (steps,) seconds from the start of the file
    probs: np.ndarray  # (steps, 9)
    step_s: float
    window_s: float
    segments: list[TimelineSegment]  # dominant-emotion runs

    def to_dict(self) -> dict:
        return {
            "step_s": self.step_s,
            "window_s": self.window_s,
            "count": int(len(self.starts_s)),
            "start_s": [round(float(t), 3) for t in self.starts_s],
            "scores": [[round(float(p), 6) for p in row] for row in self.probs],
            "segments": [s.to_dict() for s in self.segments],
            "csv": FRAMES_FILE,
        }


@dataclass
class EnhancementReport:
    """Before/after comparison when enhancement was on; the main result is the enhanced one."""

    steps: list[str]
    noise_source: str
    before_probs: np.ndarray  # (9,) original audio
    quality_before: dict | None
    quality_after: dict | None

    def to_dict(self, after_probs: np.ndarray) -> dict:
        before, after = KEYS[int(self.before_probs.argmax())], KEYS[int(after_probs.argmax())]
        return {
            "steps": self.steps,
            "noise_source": self.noise_source,
            "before": {
                "emotion": before,
                "confidence": round(float(self.before_probs.max()), 6),
                "scores": scores_dict(self.before_probs),
            },
            "after": {
                "emotion": after,
                "confidence": round(float(after_probs.max()), 6),
                "scores": scores_dict(after_probs),
            },
            "label_changed": before != after,
            "confidence_delta": round(float(after_probs.max() - self.before_probs.max()), 6),
            "quality_before": self.quality_before,
            "quality_after": self.quality_after,
            "quality_delta": quality_delta(self.quality_before, self.quality_after),
        }


def quality_delta(before: dict | None, after: dict | None) -> dict[str, float]:
    """after − before for every numeric metric present in both quality reports."""
    if not before or not after:
        return {}
    a = {m["name"]: m["value"] for m in after.get("metrics", [])}
    out = {}
    for m in before.get("metrics", []):
        v0, v1 = m["value"], a.get(m["name"])
        if isinstance(v0, int | float) and isinstance(v1, int | float) and not isinstance(v0, bool):
            out[m["name"]] = round(float(v1) - float(v0), 4)
    return out


@dataclass
class TurnResult:
    """One speaker turn in a result (speakers=): the turn (emostudio.speakers.Turn.to_dict) and, when it was
    scored, its reading as an utterance: `probs` (9,) KEYS order, equal to analysing the cut turn alone."""

    turn: dict  # speaker, start_s, end_s, overlap, overlap_s
    probs: np.ndarray | None = None  # None: shorter than SpeakerSettings.min_scored_turn_s, not scored
    band: Band | None = None
    # a scored turn's (dim,) utterance embedding and quality verdict, as analysing the cut turn gives them
    # (profiles store them per turn; not written to result.json)
    embedding: np.ndarray | None = field(default=None, repr=False)
    quality_verdict: str | None = None

    def to_dict(self) -> dict:
        return {**self.turn, "scored": self.probs is not None, **reading_dict(self.probs, self.band)}


@dataclass
class SpeakerResult:
    """One speaker of a result (speakers=): talk time (s), turns, and the reading of its scored turns.

    `probs`: the scored turns' scores averaged with their seconds as weights; `share`: the fraction of the
    scored seconds whose turn reads as each emotion (None/empty when no turn of the speaker was scored)."""

    id: str
    seconds: float
    turns: int
    scored_seconds: float
    probs: np.ndarray | None = None
    band: Band | None = None
    share: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str | None:
        return None if self.probs is None else KEYS[int(np.argmax(self.probs))]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "seconds": round(self.seconds, 3),
            "turns": self.turns,
            "scored_seconds": round(self.scored_seconds, 3),
            **reading_dict(self.probs, self.band),
            "share": {k: round(v, 6) for k, v in self.share.items()},
        }


def reading_dict(probs: np.ndarray | None, band: Band | None) -> dict:
    """label, confidence, band (its key) and scores of a turn or speaker; all None when not scored."""
    if probs is None or band is None:
        return {"label": None, "confidence": None, "band": None, "scores": None}
    return {
        "label": KEYS[int(np.argmax(probs))],
        "confidence": round(float(probs.max()), 6),
        "band": band.key,
        "scores": scores_dict(probs),
    }


@dataclass
class SpeakerTurns:
    """Who spoke when (speakers=): result.json's `diarization`, `turns` and `speakers` blocks."""

    diarization: dict  # engine, requested ("auto" | N), found, speech_s, notes (key, en, zh), settings
    turns: list[TurnResult]
    speakers: list[SpeakerResult]

    def to_dict(self) -> dict:
        return {
            "diarization": self.diarization,
            "turns": [tr.to_dict() for tr in self.turns],
            "speakers": [sp.to_dict() for sp in self.speakers],
        }


class TextAttachment(Protocol):
    """What `Result.text` holds: a transcript's reading fused with the voice (emostudio.multimodal.TextBlock)."""

    def to_dict(self) -> dict: ...


@dataclass
class Result:
    """Everything one analysis produced. `probs` is the overall 9-class distribution in KEYS order."""

    probs: np.ndarray  # (9,) sums to 1
    granularity: str  # "utterance" | "frame"
    band: Band
    compound: Compound | None
    segments: list[SegmentResult]  # one per analysed stretch; one covering the clip when not split
    model: ModelRef
    audio: dict  # source info of the input plus processed duration
    settings: dict
    timestamp: str = field(default_factory=lambda: datetime.now().astimezone().isoformat(timespec="seconds"))
    frames: FrameTimeline | None = None
    embedding: np.ndarray | None = None  # (dim,) or (frames, dim) float32
    quality: dict | None = None  # QualityReport.to_dict()
    quality_warning: str | None = None  # English; the Chinese one in quality_warning_zh
    quality_warning_zh: str | None = None
    enhancement: EnhancementReport | None = None
    source_name: str = ""
    output_dir: Path | None = None
    warnings: list[str] = field(default_factory=list)
    text: TextAttachment | None = None  # a transcript fused with the voice (emostudio.multimodal.attach_text)
    channels: list[ChannelResult] | None = None  # channels="separate": one entry per channel
    adapted: AdaptedReading | None = None  # an adapter's reading of the utterance (the base scores stay)
    speaker_turns: SpeakerTurns | None = None  # speakers=: who spoke when and each speaker's reading

    @property
    def label(self) -> str:
        return KEYS[int(np.argmax(self.probs))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probs))

    @property
    def scores(self) -> dict[str, float]:
        return scores_dict(self.probs)

    @property
    def runner_up(self) -> tuple[str, float]:
        k = int(np.argsort(-self.probs, kind="stable")[1])
        return KEYS[k], float(self.probs[k])

    @property
    def name_zh(self) -> str:
        return BY_KEY[self.label].zh

    @property
    def name_en(self) -> str:
        return BY_KEY[self.label].en

    @property
    def emoji(self) -> str:
        return BY_KEY[self.label].emoji

    def summary(self, lang: str = "zh") -> str:
        """`😊 快乐 (Happy) 置信度: 63.7%`."""
        return summary_line(self.label, self.confidence, lang)

    def to_dict(self) -> dict[str, Any]:
        """The result.json document (see schemas/result.schema.json)."""
        e = BY_KEY[self.label]
        ru_key, ru_p = self.runner_up
        d: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            # the seed WebUI's keys, kept so existing scripts keep working
            "emotion": self.label,
            "confidence": round(self.confidence, 6),
            "scores": self.scores,
            "granularity": self.granularity,
            "timestamp": self.timestamp,
            # additions
            "label": {"key": e.key, "en": e.en, "zh": e.zh, "emoji": e.emoji, "display": e.display()},
            "summary": self.summary("zh"),
            "band": {"key": self.band.key, "en": self.band.en, "zh": self.band.zh},
            "runner_up": {"emotion": ru_key, "score": round(ru_p, 6)},
            "compound": self.compound.to_dict() if self.compound else None,
            "source": self.source_name,
            "audio": self.audio,
            "model": self.model.to_dict(),
            "settings": self.settings,
            "quality": self.quality,
            "quality_warning": self.quality_warning,
            "quality_warning_zh": self.quality_warning_zh,
            "segments": [s.to_dict() for s in self.segments],
            "frames": self.frames.to_dict() if self.frames else None,
            "enhancement": self.enhancement.to_dict(self.probs) if self.enhancement else None,
            "embedding": None
            if self.embedding is None
            else {"file": EMBEDDING_FILE, "shape": list(self.embedding.shape)},
            "warnings": self.warnings + ([RANDOM_WEIGHTS_NOTE] if self.model.is_random else []),
            "text": self.text.to_dict() if self.text is not None else None,
        }
        if self.adapted is not None:  # only with an adapter: other documents are unchanged
            d["adapted"] = adapted_dict(self.adapted)
        if self.channels is not None:  # only for channels="separate": other documents are unchanged
            d["speakers"] = sum(c.info.status == "speaker" for c in self.channels)
            d["channels"] = [c.to_dict() for c in self.channels]
        if self.speaker_turns is not None:  # only with speakers=: other documents are unchanged
            d.update(self.speaker_turns.to_dict())
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, allow_nan=False)


@dataclass
class ChannelResult:
    """One channel's entry in a result: its findings and, for a speaker, its own Result."""

    info: ChannelInfo
    result: Result | None = None
    speech: list[tuple[float, float]] | None = None  # a speaker's VAD speech runs (start_s, end_s)

    def to_dict(self) -> dict:
        doc = self.result.to_dict() if self.result is not None else None
        if doc is not None and doc.get("embedding"):
            doc["embedding"]["file"] = channel_embedding_file(self.info.index)
        speech = None if self.speech is None else [[round(a, 3), round(b, 3)] for a, b in self.speech]
        return {**self.info.to_dict(), "speech": speech, "result": doc}


def frames_csv(frames: FrameTimeline) -> str:
    """frames.csv text: start_s, end_s, emotion, confidence, then one column per class."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["start_s", "end_s", "emotion", "confidence", *KEYS])
    for start, p in zip(frames.starts_s, frames.probs, strict=True):
        k = int(np.argmax(p))
        w.writerow(
            [
                f"{start:.3f}",
                f"{start + frames.step_s:.3f}",
                csvsafe.cell(KEYS[k]),
                f"{p[k]:.6f}",
                *(f"{x:.6f}" for x in p),
            ]
        )
    return buf.getvalue()


def speaker_frames(frames: FrameTimeline, turns: list[TurnResult], speaker: str) -> FrameTimeline:
    """The rows of `frames` whose step starts inside one of `speaker`'s turns (the dominant runs left out)."""
    starts = frames.starts_s
    inside = np.zeros(len(starts), dtype=bool)
    for tr in turns:
        if tr.turn["speaker"] == speaker:
            inside |= (starts >= tr.turn["start_s"]) & (starts < tr.turn["end_s"])
    return FrameTimeline(starts[inside], frames.probs[inside], frames.step_s, frames.window_s, [])


def rttm_file_id(doc: dict) -> str:
    """The RTTM file id of a result document: the source's stem, else the run id; no whitespace."""
    source = str(doc.get("source") or "")
    stem = PurePath(source.replace("\\", "/")).stem if source else ""
    return re.sub(r"\s+", "_", stem or str(doc.get("run_id") or "recording"))


def channel_name(channel: dict) -> str:
    """A result document's channel by its role (`agent`), or `ch0` when it has none."""
    return str(channel.get("role") or f"ch{channel['index']}")


def turn_spans(doc: dict) -> list[tuple[str, float, float]]:
    """(speaker, start_s, end_s) of a result document's speaker turns: its `turns`, else (channels="separate" with
    speakers=) every speaker channel's own turns, each speaker named `<channel>-<id>` (`agent-spk0`). [] when the
    document has neither."""
    turns = doc.get("turns")
    if isinstance(turns, list) and turns:
        return [(str(t["speaker"]), float(t["start_s"]), float(t["end_s"])) for t in turns]
    return [
        (f"{channel_name(ch)}-{t['speaker']}", float(t["start_s"]), float(t["end_s"]))
        for ch in doc.get("channels") or []
        for t in (ch.get("result") or {}).get("turns") or []
    ]


def _speaker_files(result: Result, channel: int | None) -> dict[str, tuple[str, str | np.ndarray]]:
    """Frame mode with speaker turns: each speaker's frames_spkN.csv (frames_chC_spkN.csv within channel C)."""
    st, frames = result.speaker_turns, result.frames
    if st is None or not st.turns or frames is None:
        return {}
    prefix = "" if channel is None else f"ch{channel}_"
    return {
        f"frames_csv_{prefix}{sp.id}": (
            speaker_frames_file(sp.id, channel),
            frames_csv(speaker_frames(frames, st.turns, sp.id)),
        )
        for sp in st.speakers
    }


def run_content(result: Result, processed_audio: np.ndarray | None) -> RunContent:
    """What `result`'s run folder holds: result.json, the processed audio, its embedding and frames.csv,
    each speaker channel's frames_chN.csv and embedding_chN.npy, and with speaker turns turns.rttm and (frame
    mode) each speaker's frames_spkN.csv (frames_chC_spkN.csv within a channel; see emostudio.runs)."""
    files: dict[str, tuple[str, str | np.ndarray]] = {}
    if result.embedding is not None:
        files["embedding"] = (EMBEDDING_FILE, result.embedding)
    if result.frames is not None:
        files["frames_csv"] = (FRAMES_FILE, frames_csv(result.frames))
    doc = result.to_dict()
    spans = turn_spans(doc)
    if spans:
        files["turns_rttm"] = (TURNS_FILE, rttm_lines(rttm_file_id(doc), spans))
    files.update(_speaker_files(result, None))
    for ch in result.channels or []:
        if ch.result is None:
            continue
        if ch.result.frames is not None:
            files[f"frames_csv_ch{ch.info.index}"] = (
                channel_frames_file(ch.info.index),
                frames_csv(ch.result.frames),
            )
        if ch.result.embedding is not None:
            files[f"embedding_ch{ch.info.index}"] = (
                channel_embedding_file(ch.info.index),
                ch.result.embedding,
            )
        files.update(_speaker_files(ch.result, ch.info.index))
    return RunContent(doc, processed_audio, files)


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
