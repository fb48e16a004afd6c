"""The per-input CPU work before the model: decode → checks → VAD → quality → (enhance) → segment plan.

`prepare` turns one input (a path, bytes, a numpy waveform with its rate, or decoded Audio) into a `Prepared`:
the checked 16 kHz waveform, its speech spans, its quality report(s), the enhanced audio when asked for, and the
stretches the model will score. It does not need the model, so pools of workers run it while the model scores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from emostudio import audio as audio_io
from emostudio import enhance as enhance_mod
from emostudio import quality as quality_mod
from emostudio import segment as segment_mod
from emostudio.channels import ChannelPart, check_channels, prepare_channels
from emostudio.errors import UsageError, printable
from emostudio.pipeline import source_name as _source_name
from emostudio.settings import Settings

Source = str | os.PathLike | bytes | np.ndarray | audio_io.Audio


@dataclass
class Prepared:
    """A decoded, checked (and optionally enhanced) input, ready for the model."""

    name: str
    audio: audio_io.Audio  # the original, 16 kHz mono
    waveform: np.ndarray  # what the model scores: (samples,) float32, enhanced when enhancement is on
    spans: list[segment_mod.Span]  # stretches scored separately (one covering the clip unless it was long)
    speech: list[segment_mod.Span] | None = None  # VAD speech runs, when the VAD ran
    quality: quality_mod.QualityReport | None = None
    enhanced: enhance_mod.Enhanced | None = None
    quality_after: quality_mod.QualityReport | None = None
    channels: list[ChannelPart] | None = None  # channels="separate": each channel as its own speaker

    @property
    def duration_s(self) -> float:
        return len(self.waveform) / audio_io.SAMPLE_RATE


def segment_weights(spans: list[segment_mod.Span], speech: list[segment_mod.Span] | None) -> np.ndarray:
    """How much each segment counts in the overall scores: its seconds of detected speech.

    Falls back to segment length when the VAD found no speech (or did not run), so nothing is ignored.
    """
    if speech:
        w = np.array([segment_mod.speech_overlap_s(sp, speech) for sp in spans])
        if w.sum() > 0:
            return w
    return np.array([max(sp.end_s - sp.start_s, 1e-6) for sp in spans])


def prepare(
    source: Source,
    settings: Settings | None = None,
    *,
    name: str | None = None,
    sample_rate: int | None = None,
    enhance: bool | enhance_mod.EnhanceSettings = False,
    quality: bool = True,
    channels: str = "mix",
    roles: list[str] | None = None,
) -> Prepared:
    """Decode and check one input, measure its quality, optionally enhance it, and plan its segments.

    `channels="separate"` also prepares each channel as its own speaker (`Prepared.channels`, see
    emostudio.channels; `roles` names them); the mixed recording is prepared as usual either way.
    Raises an AudioError subclass for bad audio (`too_short` below `settings.min_duration_s`), UsageError for
    an input of the wrong kind (a numpy array without `sample_rate`, None, ...).
    """
    label = _source_name(source, name)
    s = settings or Settings()
    check_channels(channels)
    keep = channels == "separate"
    if roles and not keep:
        raise UsageError(
            f"{printable(label)}: roles name the channels of channels='separate' (each channel its own speaker); "
            "ask for that too"
        )
    if isinstance(source, audio_io.Audio):
        audio = source
    elif isinstance(source, np.ndarray):
        if sample_rate is None:
            raise UsageError(f"{printable(label)}: a numpy waveform needs sample_rate= (its rate in Hz)")
        audio = audio_io.from_array(
            source, sample_rate, name=label, max_duration_s=s.max_duration_s, keep_channels=keep
        )
    elif isinstance(source, str | os.PathLike | bytes | bytearray | memoryview):
        audio = audio_io.decode(source, name=name, max_duration_s=s.max_duration_s, keep_channels=keep)
    else:
        raise UsageError(
            f"{printable(label)}: cannot analyse a {type(source).__name__}; give a file path, the file's bytes, "
            "a numpy waveform with sample_rate=, or an emostudio.audio.Audio"
        )
    if audio.duration_s < s.min_duration_s:
        raise audio_io.TooShortError(
            label,
            f"audio is too short ({1000 * audio.duration_s:.1f} ms; at least {1000 * s.min_duration_s:g} ms "
            "are needed, and 3–10 s work best)",
        )
    speech = (
        segment_mod.speech_spans(audio.waveform)
        if (quality or enhance or audio.duration_s > s.max_segment_s)
        else None
    )
    report = (
        quality_mod.assess(audio.waveform, audio.source, thresholds=s.quality, spans=speech)
        if quality
        else None
    )
    waveform, enhanced, report_after = audio.waveform, None, None
    if enhance:
        cfg = enhance if isinstance(enhance, enhance_mod.EnhanceSettings) else enhance_mod.EnhanceSettings()
        enhanced = enhance_mod.enhance(audio.waveform, cfg, spans=speech)
        waveform = enhanced.waveform
        if quality:
            # measured the way the original was (same SNR method), so the two compare
            report_after = quality_mod.assess(
                waveform, audio.source, thresholds=s.quality, spans=speech, like=report
            )
    duration = len(waveform) / audio_io.SAMPLE_RATE
    if duration > s.max_segment_s:
        spans = segment_mod.split_for_model(waveform, max_segment_s=s.max_segment_s, spans=speech)
    else:
        spans = [segment_mod.Span(0.0, duration)]
    parts = (
        prepare_channels(audio, s, name=label, roles=roles, enhance=enhance, quality=quality)
        if keep
        else None
    )
    return Prepared(label, audio, waveform, spans, speech, report, enhanced, report_after, parts)
