"""The per-input CPU work before the model: decode → checks → VAD → quality → (enhance) → segment plan.

`prepare` turns one input (a path, bytes, a numpy waveform with its rate, or decoded Audio) into a `Prepared`
(emostudio.records): the checked 16 kHz waveform, its speech spans, its quality report(s), the enhanced audio
when asked for, and the stretches the model will score. With channels="separate" each speaker channel is also
prepared as its own mono input (emostudio.channels finds which channels are speakers). It does not need the
model, so pools of workers run it while the model scores.

Speaker turns (options.speakers): the original 16 kHz waveform (each speaker channel's, for channels="separate")
is diarized (emostudio.speakers), and each turn of at least `SpeakerSettings.min_scored_turn_s` is cut out and
prepared exactly as `prepare` prepares a recording of that turn alone (a long turn split the same way), so its
scores equal analysing the cut turn; shorter turns are kept unscored. The recording's own spans are then the
scored turns' pieces, so its overall reading is the speech-weighted mean of those pieces (`segment_weights`).
No speech (or no turn long enough): the recording is planned as without speakers, with a note.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from emostudio import audio as audio_io
from emostudio import enhance as enhance_mod
from emostudio import quality as quality_mod
from emostudio import segment as segment_mod
from emostudio.channels import detect, roles_for
from emostudio.errors import UsageError, printable
from emostudio.options import AnalysisOptions
from emostudio.records import (
    Audio,
    ChannelPart,
    Fraction,
    Prepared,
    Source,
    Span,
    StageProgress,
    TurnPart,
    at_stage,
    share,
    source_name,
)
from emostudio.settings import MAX_CHANNELS, EnhanceSettings, Settings, SpeakerSettings
from emostudio.speakers import load_engine


def segment_weights(spans: list[Span], speech: list[Span] | None) -> np.ndarray:
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
    options: AnalysisOptions | None = None,
    *,
    name: str | None = None,
    sample_rate: int | None = None,
    progress: StageProgress | None = None,
) -> Prepared:
    """Decode and check one input, measure its quality, optionally enhance it, and plan its segments.

    `options` (checked here) decide enhancement, quality and channels: channels="separate" also prepares each
    channel as its own speaker (`Prepared.channels`; `options.roles` names them); the mixed recording is prepared
    as usual either way. Raises an AudioError subclass for bad audio (`too_short` below
    `settings.min_duration_s`), UsageError for bad options or an input of the wrong kind (a numpy array without
    `sample_rate`, None, ...).
    `progress(stage, fraction)` is told each stage as it starts ("progress_decoding") and, for speaker turns,
    the share of the diarization done ("progress_diarize": minutes for an hour's recording).
    """
    label = source_name(source, name)
    s = settings or Settings()
    opts = (options or AnalysisOptions()).check()
    if progress:
        progress("progress_decoding", 0.0)
    audio = _decode(source, s, label, name, sample_rate, keep_channels=opts.channels == "separate")
    item = _prepare_audio(audio, s, label, opts.enhance, opts.quality)
    turns = at_stage(progress, "progress_diarize")
    if opts.speakers is not None and opts.channels != "separate":  # separate: turns within each channel
        plan_turns(item, s, opts, turns)
    if opts.channels == "separate":
        item.channels = prepare_channels(
            audio, s, name=label, roles=opts.role_names, options=opts, progress=turns
        )
    return item


def _decode(
    source: Source, s: Settings, label: str, name: str | None, sample_rate: int | None, keep_channels: bool
) -> Audio:
    if isinstance(source, audio_io.Audio):
        return source
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise UsageError(f"{printable(label)}: a numpy waveform needs sample_rate= (its rate in Hz)")
        return audio_io.from_array(
            source, sample_rate, name=label, max_duration_s=s.max_duration_s, keep_channels=keep_channels
        )
    if isinstance(source, str | os.PathLike | bytes | bytearray | memoryview):
        return audio_io.decode(
            source, name=name, max_duration_s=s.max_duration_s, keep_channels=keep_channels
        )
    raise UsageError(
        f"{printable(label)}: cannot analyse a {type(source).__name__}; give a file path, the file's bytes, "
        "a numpy waveform with sample_rate=, or an emostudio.audio.Audio"
    )


def _prepare_audio(
    audio: Audio,
    s: Settings,
    label: str,
    enhance: bool | EnhanceSettings,
    quality: bool,
    vad: bool = False,
) -> Prepared:
    """The mono recording's checks, VAD, quality report(s), enhancement and segment plan. `vad`: find the
    speech spans also when nothing else needs them (a speaker channel's spans say where it talks)."""
    if audio.duration_s < s.min_duration_s:
        raise audio_io.TooShortError(
            label,
            f"audio is too short ({1000 * audio.duration_s:.1f} ms; at least {1000 * s.min_duration_s:g} ms "
            "are needed, and 3–10 s work best)",
        )
    speech = (
        segment_mod.speech_spans(audio.waveform)
        if (vad or quality or enhance or audio.duration_s > s.max_segment_s)
        else None
    )
    report = (
        quality_mod.assess(audio.waveform, audio.source, thresholds=s.quality, spans=speech)
        if quality
        else None
    )
    waveform, enhanced, report_after = audio.waveform, None, None
    if enhance:
        cfg = enhance if isinstance(enhance, EnhanceSettings) else EnhanceSettings()
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
        spans = [Span(0.0, duration)]
    return Prepared(label, audio, waveform, spans, speech, report, enhanced, report_after)


def prepare_channels(
    audio: Audio,
    settings: Settings,
    *,
    name: str,
    roles: Sequence[str] | None = None,
    options: AnalysisOptions | None = None,
    progress: Fraction | None = None,
) -> list[ChannelPart]:
    """Find the speakers among `audio.channels` and prepare each one as its own mono input.

    A mono `audio` (no `channels`) is one channel. Each speaker's Prepared is what `prepare` gives for a mono
    recording of that channel alone, so its scores equal analysing that channel by itself.
    Its speech spans are always found (the VAD runs): they say where that speaker talks.
    Raises UsageError for more than MAX_CHANNELS channels or more roles than channels. `progress`: the share
    of the channels' speaker turns found (speakers= only).
    """
    opts = options or AnalysisOptions()
    waveforms = audio.channels if audio.channels else [audio.waveform]
    if len(waveforms) > MAX_CHANNELS:
        raise UsageError(
            f"{printable(name)}: {len(waveforms)} channels; at most {MAX_CHANNELS} can be scored separately "
            "(analyse it with the channels mixed)"
        )
    role_names = roles_for(len(waveforms), roles, name)
    parts = []
    found = detect(waveforms, role_names)
    for info in found:
        if info.status != "speaker":
            parts.append(ChannelPart(info))
            continue
        channel = Audio(
            waveforms[info.index],
            audio.sample_rate,
            dataclasses.replace(audio.source, channels=1),
            list(audio.warnings),
        )
        label = f"{name} [{info.index + 1}: {info.role}]"
        part = _prepare_audio(channel, settings, label, opts.enhance, opts.quality, vad=True)
        if opts.speakers is not None:
            plan_turns(
                part, settings, opts, share(progress, info.index / len(found), (info.index + 1) / len(found))
            )
        parts.append(ChannelPart(info, part))
    return parts


def plan_turns(
    item: Prepared, settings: Settings, options: AnalysisOptions, progress: Fraction | None = None
) -> None:
    """Diarize `item`'s original waveform and plan the scoring of its turns (see the module docstring);
    `progress`: the diarization's share done.

    Sets `item.diarization` and `item.turns`; when a turn is scored, `item.spans` become the scored turns'
    pieces (seconds from the start of the recording). Adds a note when nothing can be scored.
    """
    opts = options
    model_dir = None if opts.speaker_model is None else os.fspath(opts.speaker_model)
    wanted = None if opts.speakers in (None, "auto") else int(opts.speakers)
    waveform = item.audio.waveform
    if (
        waveform.size and float(np.abs(waveform).max()) > 1.0
    ):  # resampling can overshoot; engines want [-1, 1]
        waveform = np.clip(waveform, -1.0, 1.0)
    dia = load_engine(opts.speaker_engine, model_dir).diarize(waveform, speakers=wanted, progress=progress)
    min_s = SpeakerSettings().min_scored_turn_s
    parts: list[TurnPart] = []
    pieces: list[Span] = []
    for i, turn in enumerate(dia.turns):
        span = Span(turn.start_s, turn.end_s)
        cut = None
        if turn.duration_s >= min_s:
            cut = _prepare_audio(
                cut_audio(item.audio, span),
                settings,
                f"{item.name} [{turn.speaker} {turn.start_s:.2f}-{turn.end_s:.2f} s]",
                opts.enhance,
                opts.quality,
            )
            offset = span.samples().start / audio_io.SAMPLE_RATE
            pieces += [Span(offset + sp.start_s, offset + sp.end_s) for sp in cut.spans]
        parts.append(TurnPart(i, turn.speaker, span, cut))
    keys = {n.get("key") for n in dia.notes}
    if not dia.turns and "no_speech" not in keys:
        dia.notes.append({"key": "no_speech"})
    elif dia.turns and not pieces:
        dia.notes.append({"key": "no_scored_turns", "min_s": min_s})
    item.diarization, item.turns = dia, parts
    if pieces:
        item.spans = pieces


def cut_audio(audio: Audio, span: Span) -> Audio:
    """The part of `audio` inside `span` (its samples, `Span.samples`) as a recording of its own."""
    waveform = audio.waveform[span.samples()]
    source = dataclasses.replace(audio.source, duration_s=round(len(waveform) / audio.sample_rate, 3))
    return Audio(waveform, audio.sample_rate, source, list(audio.warnings))
