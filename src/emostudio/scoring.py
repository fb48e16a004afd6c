"""Prepared inputs → length-sorted model batches → the model's scores for every segment.

    score_waveforms(model, waveforms, ...)    waveforms → SpanScores, in batches of at most `batch_seconds`
                                              of padded audio (independent batches side by side on CPU lanes)
    score_inputs(model, items, ...)           prepared inputs → InputScores: every span of every input, of each
                                              speaker channel (channels="separate") and of the original audio
                                              when enhanced, scored in one batched pass
    each_or_alone(items, run)                 the one failure policy: when a group fails, each input is run
                                              again alone, so only the guilty input gets an error

What the scores mean for a person (probabilities, bands, timelines, a Result) is emostudio.assemble's job.
Logits are in `labels.KEYS` order (-inf for a class the model lacks); waveforms (samples,) float32 at 16 kHz.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from emostudio.audio import TooShortError
from emostudio.errors import EmoStudioError, InferenceError, InternalError, ModelError, printable
from emostudio.model.checkpoint import LoadedModel
from emostudio.model.encoder import num_frames, receptive_field
from emostudio.model.lanes import Lanes, plan_batches
from emostudio.records import SAMPLE_RATE, Fraction, Prepared

T = TypeVar("T")


@dataclass
class SpanScores:
    """The model's outputs for one stretch of audio, classes in KEYS order."""

    logits: np.ndarray  # (9,) utterance logits
    frame_logits: np.ndarray  # (frames, 9) at 50 Hz
    embedding: np.ndarray  # (dim,) utterance embedding
    features: np.ndarray | None = None  # (frames, dim) when frame embeddings were asked for


@dataclass
class InputScores:
    """The model's outputs for one prepared input: one SpanScores per span of `Prepared.spans`."""

    spans: list[SpanScores]
    before: list[SpanScores] | None = None  # enhancement on: the same spans of the original audio
    channels: dict[int, InputScores] = field(default_factory=dict)  # speaker channels by channel index
    turns: dict[int, InputScores] = field(default_factory=dict)  # scored speaker turns by TurnPart.index

    @staticmethod
    def join(parts: Sequence[InputScores]) -> InputScores:
        """The scores of one input scored in parts of consecutive spans (the live closing pass), in order."""
        befores = [p.before for p in parts]
        before = None if any(b is None for b in befores) else [s for b in befores if b for s in b]
        return InputScores([s for p in parts for s in p.spans], before)


def score_waveforms(
    model: LoadedModel,
    waveforms: Sequence[np.ndarray],
    *,
    batch_seconds: float,
    lanes: Lanes | None = None,
    keep_features: bool = False,
    progress: Fraction | None = None,
) -> list[SpanScores]:
    """Run the encoder over many waveforms in length-sorted batches of at most `batch_seconds` of padded audio
    (on CPU, independent batches run side by side on the model's lanes); one SpanScores per waveform.
    `progress` is told the share of padded audio scored after each batch (from the lanes' threads)."""
    out: list[SpanScores | None] = [None] * len(waveforms)
    lengths = [len(w) for w in waveforms]
    batches = plan_batches(lengths, batch_seconds * SAMPLE_RATE)

    def cost(batch: list[int]) -> int:
        return len(batch) * max(lengths[i] for i in batch)

    total = sum(cost(b) for b in batches) or 1
    done = [0]
    lock = threading.Lock()
    encoder = model.encoder
    # one ALiBi bias for every batch of this call (each uses a corner of it): built once, not per batch,
    # and one copy in memory for both lanes (for 30 s segments it is 146 MB)
    alibi = None
    if len(batches) > 1 and encoder.alibi_shared:
        alibi = encoder.alibi(num_frames(max(lengths), encoder.config.feature_layers))

    def run(batch: list[int]) -> None:
        enc = encoder.encode([waveforms[i] for i in batch], alibi=alibi)
        if enc.logits is None or enc.frame_logits is None:  # refused when loading; a head gives both
            raise ModelError(f"{printable(model.source)}: this model has no classification head")
        logits = model.key_logits(enc.logits).float().numpy()
        frame_logits = model.key_logits(enc.frame_logits).float().numpy()
        for j, i in enumerate(batch):
            n = int(enc.frame_lengths[j])
            out[i] = SpanScores(
                logits[j],
                frame_logits[j, :n].copy(),  # not a view: the batch's padded array is freed
                enc.embeddings[j].float().numpy(),
                enc.features[j, :n].float().numpy().copy() if keep_features else None,
            )
        if progress:
            with lock:
                done[0] += cost(batch)
                fraction = done[0] / total
            progress(fraction)

    if progress:
        progress(0.0)  # the stage starts (the first batch may take long)
    if lanes is None:
        for batch in batches:
            run(batch)
    else:
        lanes.run(run, batches, cost=cost)
    scored = [s for s in out if s is not None]
    if len(scored) != len(out):  # not reached: every index is in one batch
        raise InternalError(f"{len(out) - len(scored)} waveform(s) were never scored")
    return scored


def check_lengths(model: LoadedModel, items: Sequence[Prepared]) -> None:
    """TooShortError naming the input when a span is shorter than the model's receptive field."""
    need = receptive_field(model.encoder.config.feature_layers)
    for item in items:
        for sp in item.spans:
            sl = sp.samples(SAMPLE_RATE)
            if sl.stop - sl.start < need:
                raise TooShortError(
                    item.name,
                    f"audio is too short for the model ({sl.stop - sl.start} samples at {sp.start_s:.2f} s; "
                    f"it needs at least {need}, {1000 * need / SAMPLE_RATE:g} ms)",
                )


def with_channels(items: Sequence[Prepared]) -> tuple[list[Prepared], list[tuple[int, int]]]:
    """`items` followed by the prepared speaker channels of each, and (item position, channel index) of those."""
    owners: list[tuple[int, int]] = []
    extra: list[Prepared] = []
    for i, item in enumerate(items):
        for part in item.channels or []:
            if part.prepared is not None:
                owners.append((i, part.info.index))
                extra.append(part.prepared)
    return [*items, *extra], owners


def with_turns(items: Sequence[Prepared]) -> tuple[list[Prepared], list[tuple[int, int]]]:
    """The prepared scored turns of each of `items`, and (item position, turn index) of those."""
    owners: list[tuple[int, int]] = []
    extra: list[Prepared] = []
    for i, item in enumerate(items):
        for part in item.turns or []:
            if part.prepared is not None:
                owners.append((i, part.index))
                extra.append(part.prepared)
    return extra, owners


def score_inputs(
    score: Callable[[list[np.ndarray], bool], list[SpanScores]],
    model: LoadedModel,
    items: Sequence[Prepared],
    granularity: str,
    embedding: bool,
) -> list[InputScores]:
    """Every span of `items` (their speaker channels and, when enhanced, their original audio too) scored by
    `score(waveforms, keep_features)` in one pass; one InputScores per item, channels attached.

    An input scored by its speaker turns (`Prepared.scored_by_turns`) is not scored itself: its spans' scores are
    its turns' own, in order (each turn prepared as a recording of its own, see emostudio.prepare).
    Raises TooShortError for a span shorter than the model's receptive field (before any scoring).
    """
    every, owners = with_channels(items)
    n_every = len(every)
    turn_items, turn_owners = with_turns(every)
    every = [*every, *turn_items]
    check_lengths(model, [item for item in every if not item.scored_by_turns])
    jobs: list[np.ndarray] = []
    index: list[tuple[int, bool]] = []  # (input, is the original before enhancement), one per job
    for i, item in enumerate(every):
        if item.scored_by_turns:
            continue
        for sp in item.spans:
            a, b = int(round(sp.start_s * SAMPLE_RATE)), int(round(sp.end_s * SAMPLE_RATE))
            jobs.append(item.waveform[a:b])
            index.append((i, False))
            if item.enhanced is not None:
                jobs.append(item.audio.waveform[a:b])
                index.append((i, True))
    scored = score(jobs, granularity == "frame" and embedding)
    per_input = [InputScores([], [] if item.enhanced is not None else None) for item in every]
    for (i, before), sc in zip(index, scored, strict=True):
        target = per_input[i].before if before else per_input[i].spans
        if target is None:  # not reached: only enhanced inputs have `before` jobs
            raise InternalError(f"{printable(every[i].name)}: scores of an original that was not enhanced")
        target.append(sc)
    for (i, turn), turn_scores in zip(turn_owners, per_input[n_every:], strict=True):
        per_input[i].turns[turn] = turn_scores
    for i, item in enumerate(every[:n_every]):
        if item.scored_by_turns:
            _join_turns(per_input[i])
    main = per_input[: len(items)]
    for (i, channel), part_scores in zip(owners, per_input[len(items) : n_every], strict=True):
        main[i].channels[channel] = part_scores
    return main


def _join_turns(scores: InputScores) -> None:
    """An input scored by its turns: its spans' scores (and the originals' when enhanced) are its turns', in
    turn order (the order `prepare.plan_turns` lists the pieces in)."""
    joined = InputScores.join([scores.turns[k] for k in sorted(scores.turns)])
    scores.spans, scores.before = joined.spans, joined.before


def as_error(name: str, exc: BaseException) -> EmoStudioError:
    """The typed error for an exception met while scoring input `name`."""
    if isinstance(exc, EmoStudioError):
        return exc
    if isinstance(exc, MemoryError):
        return InferenceError(f"{printable(name)}: not enough memory to score this input")
    return InferenceError(f"{printable(name)}: the model failed on this input ({type(exc).__name__}: {exc})")


def each_or_alone(
    items: Sequence[Prepared], run: Callable[[list[Prepared]], list[T]]
) -> list[T | EmoStudioError]:
    """`run(items)`; if it raises, `run([item])` for each item, so only the guilty input gets an error.

    Any exception becomes that input's typed error (`as_error`); the others keep their results.
    """
    if not items:
        return []
    try:
        return list(run(list(items)))
    except Exception as exc:
        if len(items) == 1:
            return [as_error(items[0].name, exc)]
    out: list[T | EmoStudioError] = []
    for item in items:
        try:
            out.append(run([item])[0])
        except Exception as exc:
            out.append(as_error(item.name, exc))
    return out
