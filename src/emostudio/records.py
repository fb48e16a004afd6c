"""The records every layer passes around: plain dataclasses, torch-free (importing them never imports the model).

    Span, InputItem                 a stretch of audio; one input of a manifest or batch job
    SourceInfo, Audio               what an input was before decoding; the decoded 16 kHz mono waveform
    Metric, Hint, QualityReport     the quality report of one recording (emostudio.quality measures it)
    Enhanced                        the enhanced waveform and what was done to it (emostudio.enhance)
    ChannelInfo, ChannelPart        one channel of a two-party recording: what was found, its prepared audio
    TurnPart                        one speaker turn (speakers=): its span and, when long enough, its prepared cut
    Prepared, Source                one input ready for the model (emostudio.prepare makes it); what it can be
    Fraction, StageProgress, ...    how far one long piece of work is (progress callbacks: share, at_stage, to_all)

They sit at the bottom so that the signal layer (decode, quality, enhance, channel detection) and the analysis
layer (prepare, scoring, assemble) share them without importing each other upwards. Waveforms are
(samples,) float32 at 16 kHz unless said otherwise; times are seconds.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from emostudio.messages import t

SAMPLE_RATE = 16000
VERDICTS = ("info", "ok", "warn", "bad")  # quality verdicts, in order of severity
# the metrics whose bad verdict can explain a low-confidence result (the warning line names them)
LOW_CONFIDENCE_CAUSES = ("snr", "clipping", "loudness", "duration", "sample_rate")


# ---- progress --------------------------------------------------------------------------------------------------
# told how much of one piece of work is done: 0.0 … 1.0
Fraction = Callable[[float], None]
# told (the stage's catalogue key, e.g. "progress_model"; how much of that stage is done)
StageProgress = Callable[[str, float], None]


def within(start: float, end: float, fraction: float) -> float:
    """The point `fraction` (clamped to 0 … 1) of the way from `start` to `end`."""
    return start + (end - start) * min(max(fraction, 0.0), 1.0)


def share(progress: Fraction | None, start: float, end: float) -> Fraction | None:
    """`progress` for a part of a piece of work that is its [start, end] share (fractions of the whole)."""
    if progress is None:
        return None
    return lambda f: progress(within(start, end, f))


def at_stage(progress: StageProgress | None, key: str) -> Fraction | None:
    """`progress` for one stage: a fraction of it → progress(key, fraction)."""
    if progress is None:
        return None
    return lambda f: progress(key, f)


def to_all(progresses: Iterable[Fraction | None]) -> Fraction | None:
    """One fraction told to each of `progresses` (work done for several at once); None when none is given."""
    told = [p for p in progresses if p is not None]
    if not told:
        return None

    def tell(fraction: float) -> None:
        for progress in told:
            progress(fraction)

    return tell


@dataclass(frozen=True)
class Span:
    """A stretch of audio from `start_s` to `end_s` seconds."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def samples(self, sample_rate: int = SAMPLE_RATE) -> slice:
        """The slice of a waveform at `sample_rate` that this span covers (times before 0 count as 0)."""
        return slice(
            max(0, int(round(self.start_s * sample_rate))), max(0, int(round(self.end_s * sample_rate)))
        )


@dataclass
class InputItem:
    """One input of a batch job or manifest. `id` is stable across runs: from the manifest, else the path
    relative to the folder. The optional fields are carried into the results untouched."""

    id: str
    path: str
    speaker: str | None = None
    time: str | None = None
    label: str | None = None
    text: str | None = None
    channels: str | None = None  # "mix" | "separate" for this input (None: the job's setting)
    roles: str | None = None  # channel roles, e.g. "agent,customer" (implies separate channels)
    speakers: str | None = None  # speaker turns for this input: "auto" | N | "off" (None: the job's setting)


# ---- decoded audio ------------------------------------------------------------------------------------------------
@dataclass
class SourceInfo:
    """What the input was before decoding."""

    path: str  # file path or given name
    size_bytes: int
    container: str  # e.g. "wav", "mp3", "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str  # e.g. "pcm_s16le", "mp3", "aac", "opus"
    sample_rate: int  # original Hz
    channels: int  # original channels
    duration_s: float  # decoded duration of the original, seconds

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Audio:
    """Decoded audio ready for the model."""

    waveform: np.ndarray  # (samples,) float32, mono, 16 kHz, in [-1, 1] as decoded (not normalised)
    sample_rate: int  # always SAMPLE_RATE
    source: SourceInfo
    warnings: list[str] = field(default_factory=list)  # e.g. the file looks truncated (see audio.integrity)
    # each channel on its own, (samples,) float32 at 16 kHz, when decoded with keep_channels=True; else None
    channels: list[np.ndarray] | None = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / self.sample_rate


# ---- quality ------------------------------------------------------------------------------------------------------
@dataclass
class Metric:
    """One measured quality metric, its verdict against the thresholds and what to do about it (zh/en)."""

    name: str
    value: float | int | str | None  # None: could not be measured (see the advice)
    unit: str
    verdict: str  # "ok" | "warn" | "bad" | "info"
    advice_en: str = ""
    advice_zh: str = ""
    label_en: str = ""
    label_zh: str = ""
    detail: dict = field(default_factory=dict)  # how it was measured (SNR: method, spectral blend weight)

    def value_text(self, lang: str = "en") -> str:
        """`-23.4 LUFS`, `0.12%`, or `n/a` / `无法测量` for a value that could not be measured."""
        if self.value is None:
            return t("not_measurable", lang)
        v = self.value
        text = (f"{v:.2f}" if abs(v) < 1 else f"{v:.1f}") if isinstance(v, float) else str(v)
        return f"{text}%" if self.unit == "%" else f"{text} {self.unit}".strip()


@dataclass
class Hint:
    """Content the model was not trained for (music, several speakers, weak expression), with its evidence."""

    name: str
    en: str
    zh: str
    evidence: dict = field(default_factory=dict)


@dataclass
class QualityReport:
    """Every metric of one recording, the hints, and the worst verdict."""

    metrics: list[Metric]
    hints: list[Hint]
    verdict: str  # worst metric verdict

    def get(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"no quality metric named {name!r}; have {[m.name for m in self.metrics]}")

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "metrics": [asdict(m) for m in self.metrics],
            "hints": [asdict(h) for h in self.hints],
        }

    def _culprits(self) -> list[Metric]:
        return [m for m in self.metrics if m.name in LOW_CONFIDENCE_CAUSES and m.verdict == "bad"]

    def likely_explains_low_confidence(self) -> bool:
        return bool(self._culprits())

    def warning_line(self, lang: str = "en") -> str | None:
        """One line for a result summary naming the bad metrics, or None when quality is no likely cause."""
        bad = self._culprits()
        if not bad:
            return None
        parts = t("list_sep", lang).join(
            t(
                "quality_warning_part",
                lang,
                label=m.label_zh if lang == "zh" else m.label_en,
                value=m.value_text(lang),
                advice=m.advice_zh if lang == "zh" else m.advice_en,
            )
            for m in bad
        )
        return t("quality_warning", lang, parts=parts)


@dataclass
class Enhanced:
    """The enhanced waveform and what was done to it."""

    waveform: np.ndarray  # (samples,) float32
    steps: list[str]  # what was done, in order, e.g. ["high-pass 100 Hz", "denoise (vad)", "peak -1.0 dBFS"]
    noise_source: str  # "vad" | "range a–b s" | "file" | "none (no non-speech found)" | "off"


# ---- channels and prepared inputs ---------------------------------------------------------------------------------
@dataclass
class ChannelInfo:
    """What was found about one channel. `status`: speaker (scored), silent or copy (not scored)."""

    index: int  # 0-based channel number in the file
    role: str
    status: str  # "speaker" | "silent" | "copy"
    active_dbfs: float  # 99th percentile of the 20 ms levels (dBFS): how loud its loud moments are
    same_as: int | None = None  # for a copy: the channel it copies
    note: dict[str, str] | None = None  # {"en", "zh"} when something is worth saying

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "role": self.role,
            "status": self.status,
            "active_dbfs": None if not math.isfinite(self.active_dbfs) else round(self.active_dbfs, 2),
            "same_as": self.same_as,
            "note": self.note,
        }


@dataclass
class ChannelPart:
    """One channel as the pipeline carries it: its findings and, for a speaker, its prepared audio."""

    info: ChannelInfo
    prepared: Prepared | None = None


@dataclass
class TurnPart:
    """One speaker turn as the pipeline carries it: `index` into `Prepared.diarization.turns`, the turn's
    span (seconds from the start of the recording) and, for a turn long enough to score, the turn cut out of
    the recording and prepared as `prepare` prepares a recording of it alone (None: not scored)."""

    index: int
    speaker: str
    span: Span
    prepared: Prepared | None = None


@dataclass
class Prepared:
    """A decoded, checked (and optionally enhanced) input, ready for the model."""

    name: str
    audio: Audio  # the original, 16 kHz mono
    waveform: np.ndarray  # what the model scores: (samples,) float32, enhanced when enhancement is on
    spans: list[Span]  # stretches scored separately (one covering the clip unless it was long)
    speech: list[Span] | None = None  # VAD speech runs, when the VAD ran
    quality: QualityReport | None = None
    enhanced: Enhanced | None = None
    quality_after: QualityReport | None = None
    channels: list[ChannelPart] | None = None  # channels="separate": each channel as its own speaker
    # speakers=: the emostudio.speakers.Diarization of the original waveform (a signal-layer record, so typed
    # loosely here) and one TurnPart per turn; None when speaker turns were not asked for
    diarization: Any = None
    turns: list[TurnPart] | None = None

    @property
    def scored_by_turns(self) -> bool:
        """True when the spans are the scored turns' pieces (their scores come from the turns' own plans)."""
        return any(p.prepared is not None for p in self.turns or [])

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / SAMPLE_RATE


# what one input may be: a path, the file's bytes, a numpy waveform (with its rate), or decoded Audio
Source = str | os.PathLike | bytes | np.ndarray | Audio


def source_name(source: object, name: str | None = None) -> str:
    """How an input is named in results and errors: `name`, else its path, else `<array>` / `<bytes>`."""
    if name:
        return name
    if isinstance(source, InputItem):
        return source.path
    if isinstance(source, str | os.PathLike):
        return os.fspath(source) or "''"
    if isinstance(source, Audio):
        return source.source.path
    if isinstance(source, tuple):
        return "<array>"
    return (
        "<array>" if isinstance(source, np.ndarray) else "<bytes>" if isinstance(source, bytes) else "<input>"
    )
