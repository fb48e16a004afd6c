"""Segment scores → Result: the one place where the model's numbers become what a person reads.

`assemble` is used for every Result: a file or upload (`Recognizer.analyze`, `analyze_many`, batch jobs, the
server), each speaker channel of a two-party recording (attached as `result.channels`), and the closing pass of
a live stream (its parts' scores joined first). So a stream's closing Result equals the file's frame-mode Result.

    overall scores   softmax of each segment's logits, averaged with the segments' seconds of speech as weights
    frame mode       a 0.1 s timeline per segment (emostudio.interpret), concatenated, with dominant segments
    embedding        utterance: the weighted mean of the segments' embeddings; frame mode: every frame's features
    adapter          (optional) a user's head read from the utterance embedding (the same weighted mean, in frame
                     mode too: what `emostudio adapt` trains on) and from each segment's own; never per frame
    enhancement      the original audio's scores beside the enhanced audio's, and both quality reports
    speaker turns    (speakers=) each scored turn's reading is its own prepared cut's overall scores (what
                     analysing the cut turn gives); the recording's overall is the speech-weighted mean of the
                     scored turns' pieces (its spans); a speaker's scores are its scored turns' scores averaged
                     with their seconds as weights; `share`: the fraction of those seconds per turn label
    quality          the upload's own quality decides the verdicts and the low-confidence warning (en and zh),
                     also when enhanced: enhancement cannot undo clipping or a low sample rate
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from emostudio import audio as audio_io
from emostudio.errors import InferenceError, printable
from emostudio.interpret import band_for, compound_for, dominant_segments, softmax, timeline
from emostudio.messages import t
from emostudio.model.encoder import FRAME_RATE_HZ
from emostudio.model.labels import KEYS
from emostudio.options import ResultAdapter
from emostudio.prepare import segment_weights
from emostudio.records import Prepared, Span
from emostudio.results import (
    ChannelResult,
    EnhancementReport,
    FrameTimeline,
    ModelRef,
    Result,
    SegmentResult,
    SpeakerResult,
    SpeakerTurns,
    TurnResult,
)
from emostudio.scoring import InputScores, SpanScores
from emostudio.settings import BandThresholds, Settings, SpeakerSettings


def assemble(
    item: Prepared,
    scores: InputScores,
    granularity: str,
    embedding: bool,
    *,
    model: ModelRef,
    settings: Settings,
    adapter: ResultAdapter | None = None,
) -> Result:
    """The Result of one prepared input from its segment scores (and its speaker channels' from theirs).

    `adapter` (checked against the model by the caller) adds the `adapted` reading to the utterance, each
    segment and each speaker channel. Raises InferenceError when the model's scores are not finite.
    """
    s = settings
    spans = item.spans
    weights = segment_weights(spans, item.speech)
    segs = [
        SegmentResult(sp.start_s, sp.end_s, softmax(sc.logits))
        for sp, sc in zip(spans, scores.spans, strict=True)
    ]
    probs = _finite(item, _mean([g.probs for g in segs], weights))
    band = band_for(float(probs.max()), s.bands)
    quality = item.quality  # the upload's own, also when enhanced (see the module docstring)
    warning = warning_zh = None
    if quality is not None and band.key != "confident" and quality.likely_explains_low_confidence():
        warning, warning_zh = quality.warning_line("en"), quality.warning_line("zh")
    result = Result(
        probs=probs,
        granularity=granularity,
        band=band,
        compound=compound_for(probs, s.compound),
        segments=segs,
        model=model,
        audio=_audio_info(item),
        settings={
            "granularity": granularity,
            "embedding": embedding,
            "enhance": item.enhanced is not None,
            **s.to_dict(),
        },
        frames=_timeline(spans, scores.spans, s) if granularity == "frame" else None,
        embedding=_embedding(scores.spans, weights, granularity) if embedding else None,
        quality=quality.to_dict() if quality else None,
        quality_warning=warning,
        quality_warning_zh=warning_zh,
        enhancement=_enhancement(item, scores, weights),
        source_name=item.name,
        warnings=list(item.audio.warnings),
    )
    if adapter is not None:
        _adapt(result, scores.spans, weights, adapter, s)
    if item.diarization is not None:
        result.speaker_turns = speaker_turns(item, scores, s)
    if item.channels is not None:
        result.channels = [
            ChannelResult(
                part.info,
                None
                if part.prepared is None
                else assemble(
                    part.prepared,
                    scores.channels[part.info.index],
                    granularity,
                    embedding,
                    model=model,
                    settings=s,
                    adapter=adapter,
                ),
                _speech(part.prepared),
            )
            for part in item.channels
        ]
    return result


def _finite(item: Prepared, probs: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(probs)):
        raise InferenceError(
            f"{printable(item.name)}: the model produced non-finite scores (NaN/Inf); its weights may be broken"
        )
    return probs


def overall_probs(item: Prepared, scores: InputScores) -> np.ndarray:
    """(9,) the overall scores of a prepared input: its segments' softmaxes averaged with their seconds of
    speech as weights (one segment: its own)."""
    weights = segment_weights(item.spans, item.speech)
    return _finite(item, _mean([softmax(sc.logits) for sc in scores.spans], weights))


def speaker_turns(item: Prepared, scores: InputScores, s: Settings) -> SpeakerTurns:
    """The `diarization`, `turns` and `speakers` blocks of a prepared input with speaker turns."""
    dia = item.diarization
    turns: list[TurnResult] = []
    for part, turn in zip(item.turns or [], dia.turns, strict=True):
        if part.prepared is None:
            turns.append(TurnResult(turn.to_dict()))
            continue
        cut, cut_scores = part.prepared, scores.turns[part.index]
        probs = overall_probs(cut, cut_scores)
        weights = segment_weights(cut.spans, cut.speech)
        turns.append(
            TurnResult(
                turn.to_dict(),
                probs,
                band_for(float(probs.max()), s.bands),
                _embedding(cut_scores.spans, weights, "utterance"),
                cut.quality.verdict if cut.quality else None,
            )
        )
    speakers = [_speaker(sid, turns, s.bands) for sid in dia.speakers]
    notes = [
        {**n, "en": t(n["key"], "en", **_values(n)), "zh": t(n["key"], "zh", **_values(n))} for n in dia.notes
    ]
    block = {
        "engine": dia.engine,
        "requested": "auto" if dia.requested is None else dia.requested,
        "found": dia.found,
        "speech_s": round(float(dia.speech_s), 3),
        "notes": notes,
        "settings": asdict(SpeakerSettings()),
    }
    return SpeakerTurns(block, turns, speakers)


def _values(note: dict) -> dict:
    return {k: v for k, v in note.items() if k != "key"}


def _speaker(sid: str, turns: list[TurnResult], bands: BandThresholds) -> SpeakerResult:
    """Speaker `sid`'s talk time, turns and the seconds-weighted reading of its scored turns."""
    mine = [tr for tr in turns if tr.turn["speaker"] == sid]
    scored = [(tr, tr.probs) for tr in mine if tr.probs is not None]
    seconds = sum(tr.turn["end_s"] - tr.turn["start_s"] for tr in mine)
    w = np.array([tr.turn["end_s"] - tr.turn["start_s"] for tr, _ in scored])
    out = SpeakerResult(sid, seconds, len(mine), float(w.sum()))
    if scored:
        out.probs = np.average([p for _, p in scored], axis=0, weights=w)
        out.band = band_for(float(out.probs.max()), bands)
        share: dict[str, float] = {}
        for (_, p), sec in zip(scored, w, strict=True):
            key = KEYS[int(np.argmax(p))]
            share[key] = share.get(key, 0.0) + float(sec) / float(w.sum())
        out.share = dict(sorted(share.items(), key=lambda kv: -kv[1]))
    return out


def _speech(prepared: Prepared | None) -> list[tuple[float, float]] | None:
    """A speaker channel's speech runs (start_s, end_s) as found by the VAD; None when it did not run."""
    if prepared is None or prepared.speech is None:
        return None
    return [(sp.start_s, sp.end_s) for sp in prepared.speech]


def _adapt(
    result: Result, spans: list[SpanScores], weights: np.ndarray, adapter: ResultAdapter, s: Settings
) -> None:
    """The adapter's reading of the utterance (base scores + the utterance embedding as `emostudio adapt`
    computes it) and of each segment (its own scores and embedding)."""
    utterance = _embedding(spans, weights, "utterance")
    result.adapted = adapter.apply(result.probs, utterance, s.bands)
    for seg, sc in zip(result.segments, spans, strict=True):
        seg.adapted = adapter.apply(seg.probs, np.asarray(sc.embedding, dtype=np.float32), s.bands)


def _audio_info(item: Prepared) -> dict:
    """result.json's `audio`: the processed duration and rate, what the input was, how it was split."""
    return {
        "duration_s": round(item.duration_s, 3),
        "sample_rate": audio_io.SAMPLE_RATE,
        "original": item.audio.source.to_dict(),
        "segmented": len(item.spans) > 1,
        "segments": len(item.spans),
    }


def _enhancement(item: Prepared, scores: InputScores, weights: np.ndarray) -> EnhancementReport | None:
    """Enhancement on: the original audio's scores and both quality reports beside the enhanced result."""
    if item.enhanced is None or scores.before is None:
        return None
    return EnhancementReport(
        item.enhanced.steps,
        item.enhanced.noise_source,
        _mean([softmax(sc.logits) for sc in scores.before], weights),
        item.quality.to_dict() if item.quality else None,
        item.quality_after.to_dict() if item.quality_after else None,
    )


def _mean(probs: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """(9,) scores of several segments averaged with `weights` (one segment: its own scores, untouched)."""
    return probs[0] if len(probs) == 1 else np.average(probs, axis=0, weights=weights)


def _timeline(spans: list[Span], scores: list[SpanScores], s: Settings) -> FrameTimeline:
    starts, rows, dom = [], [], []
    for sp, sc in zip(spans, scores, strict=True):
        t, p = timeline(sc.frame_logits, FRAME_RATE_HZ, s.timeline)
        starts.append(t + sp.start_s)
        rows.append(p)
        dom += dominant_segments(t + sp.start_s, p, s.timeline.step_s, sp.end_s, s.timeline.min_segment_s)
    return FrameTimeline(
        np.concatenate(starts), np.concatenate(rows), s.timeline.step_s, s.timeline.window_s, dom
    )


def _embedding(scores: list[SpanScores], weights: np.ndarray, granularity: str) -> np.ndarray:
    if granularity == "frame":
        # one float32 copy (concatenate writes it directly); the per-segment arrays go with the scores
        feats = [sc.features for sc in scores if sc.features is not None]
        return np.concatenate(feats, dtype=np.float32)
    return np.average([sc.embedding for sc in scores], axis=0, weights=weights).astype(np.float32)
