"""Voice activity detection (silero-vad) and splitting long audio into model-sized segments.

All waveforms are 16 kHz mono float32 arrays of shape (samples,); times are in seconds.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from itertools import pairwise

import numpy as np
import torch

from .errors import ModelError
from .records import SAMPLE_RATE, Span

__all__ = [
    "SAMPLE_RATE",
    "Span",
    "speech_probabilities",
    "speech_spans",
    "split_for_model",
    "speech_overlap_s",
]
FRAME_S = 0.02  # energy frame used to place cuts inside continuous speech
MIN_SEGMENT_S = 1.0  # no segment of a split recording is shorter than this


_model = None
_load_lock = threading.Lock()
_model_lock = (
    threading.Lock()
)  # guards loading and every use: the model carries recurrent state between calls


def new_vad_model():
    """A fresh instance of silero-vad's own ONNX model, shipped inside the silero-vad package (offline), run by
    onnxruntime on one thread: its recurrent state is the caller's. ONNX, not the package's TorchScript copy of
    the same network: the same speech probabilities (within 1e-4) in less than half the time, since the VAD
    calls the network once per 32 ms (`python -m benchmarks.vad_bench`)."""
    with _load_lock:  # one at a time: the import's thread setting and its undoing must not interleave
        threads = torch.get_num_threads()
        try:
            import silero_vad  # its import calls torch.set_num_threads(1); undone below

            with warnings.catch_warnings():  # its loader uses deprecated importlib calls; not ours to fix
                warnings.simplefilter("ignore", DeprecationWarning)
                return silero_vad.load_silero_vad(onnx=True)
        except Exception as e:  # a broken install must say what failed, not crash later
            raise ModelError(
                f"could not load the silero-vad model shipped with the silero-vad package: {e}"
            ) from e
        finally:
            torch.set_num_threads(threads)


def load_vad():
    """The process's shared silero-vad model (`new_vad_model`), loaded once; use it under `_model_lock`."""
    global _model
    if _model is None:
        _model = new_vad_model()
    return _model


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread in the calling thread, then restore its count. silero-vad calls its small
    network once per 32 ms window (112,500 calls for an hour): with two threads every call pays a thread
    hand-off, and on a 2-core machine shared with other work a descheduled partner thread stalls each call
    (a 1-minute VAD: 1.0 s on one thread, 8–80 s on two, measured on a busy 2-core EPYC)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _check(waveform: np.ndarray) -> np.ndarray:
    x = np.asarray(waveform)
    if x.ndim != 1:
        raise ValueError(f"expected a mono waveform of shape (samples,), got shape {x.shape}")
    return np.ascontiguousarray(x, dtype=np.float32)


def speech_spans(
    waveform16k: np.ndarray, *, threshold: float = 0.5, min_speech_s: float = 0.25, min_silence_s: float = 0.1
) -> list[Span]:
    """Speech regions found by silero-vad in a 16 kHz waveform (samples,), in time order.

    `threshold` is the speech probability above which a 32 ms window counts as speech; runs shorter than
    `min_speech_s` are dropped and pauses shorter than `min_silence_s` do not split a run.
    """
    x = _check(waveform16k)
    if x.size == 0:
        return []
    with _model_lock:
        model = load_vad()  # imports silero_vad first: its import sets torch's threads to 1, which it undoes
        from silero_vad import get_speech_timestamps

        with torch.inference_mode(), _one_thread():
            stamps = get_speech_timestamps(
                torch.from_numpy(x),
                model,
                threshold=threshold,
                sampling_rate=SAMPLE_RATE,
                min_speech_duration_ms=int(round(min_speech_s * 1000)),
                min_silence_duration_ms=int(round(min_silence_s * 1000)),
            )
    end = x.size / SAMPLE_RATE
    return [Span(max(0.0, s["start"] / SAMPLE_RATE), min(end, s["end"] / SAMPLE_RATE)) for s in stamps]


VAD_BLOCK = 512  # samples silero-vad scores at a time (32 ms at 16 kHz)


def speech_probabilities(waveform16k: np.ndarray) -> np.ndarray:
    """(blocks,) float32 silero-vad speech probability of each 512-sample (32 ms) block of a 16 kHz waveform
    (samples,): the numbers `speech_spans` thresholds, for callers that weigh them with other evidence."""
    x = _check(waveform16k)
    if x.size == 0:
        return np.zeros(0, dtype=np.float32)
    with _model_lock:
        model = load_vad()
        with torch.inference_mode(), _one_thread():
            p = model.audio_forward(torch.from_numpy(x), SAMPLE_RATE)[0].numpy()
        model.reset_states()  # the next caller starts from silence, as speech_spans' calls do
    return p.astype(np.float32)


def _lowest_energy_cut(
    x: np.ndarray, start_s: float, limit_s: float, search_s: float, min_len_s: float = FRAME_S
) -> float:
    """Centre (s) of the quietest 20 ms frame in [limit_s - search_s, limit_s]; at least `min_len_s` after
    start_s."""
    hop = int(FRAME_S * SAMPLE_RATE)
    lo = max(start_s + min_len_s, limit_s - search_s)
    a, b = int(lo * SAMPLE_RATE), int(limit_s * SAMPLE_RATE)
    n_frames = (b - a) // hop
    if n_frames < 1:
        return limit_s
    frames = x[a : a + n_frames * hop].reshape(n_frames, hop).astype(np.float64)
    energy = np.mean(frames**2, axis=1)
    k = n_frames - 1 - int(np.argmin(energy[::-1]))  # the latest of equally quiet frames: longest segment
    return (a + k * hop + hop / 2) / SAMPLE_RATE


def split_for_model(
    waveform16k: np.ndarray,
    *,
    max_segment_s: float = 30.0,
    spans: list[Span] | None = None,
    min_segment_s: float = MIN_SEGMENT_S,
) -> list[Span]:
    """Contiguous segments of `min_segment_s` to `max_segment_s` seconds that tile the whole recording.

    emotion2vec was trained on short clips and attention cost grows quadratically, so long audio is split —
    never truncated: the segments run back to back from 0 to the end, so no second of the input (speech the
    VAD missed included) is left out. Cuts go in pauses:
    - audio no longer than `max_segment_s` → one span over the whole clip;
    - otherwise each cut is the middle of the longest pause between speech runs (`spans`, or the VAD's) whose
      middle lies in the second half of the allowed window;
    - where there is no such pause (continuous speech, or no speech found), the cut is the quietest 20 ms
      frame in the last third (at most 5 s) before the limit;
    - no segment is shorter than `min_segment_s` (the last cut leaves at least that much for the tail), so a
      recording a few samples longer than the limit never yields a stretch too short to score.
    """
    if min_segment_s < FRAME_S:
        raise ValueError(f"min_segment_s must be at least {FRAME_S} s, got {min_segment_s}")
    if max_segment_s <= 2 * min_segment_s:
        raise ValueError(
            f"max_segment_s must be more than twice min_segment_s ({min_segment_s} s), got {max_segment_s}"
        )
    x = _check(waveform16k)
    duration = x.size / SAMPLE_RATE
    if x.size == 0:
        return []
    if duration <= max_segment_s:
        return [Span(0.0, duration)]
    if spans is None:
        spans = speech_spans(x)
    runs = sorted((s for s in spans if s.end_s > s.start_s), key=lambda s: s.start_s)
    pauses: list[Span] = []  # gaps between speech runs, and before the first / after the last
    edge = 0.0
    for r in runs:
        if r.start_s > edge:
            pauses.append(Span(edge, r.start_s))
        edge = max(edge, r.end_s)
    if edge < duration:
        pauses.append(Span(edge, duration))

    search_s = min(5.0, max_segment_s / 3)
    cuts: list[float] = []
    start = 0.0
    while duration - start > max_segment_s:
        limit = min(start + max_segment_s, duration - min_segment_s)  # leave room for a whole tail
        middle = [p for p in pauses if start + max_segment_s / 2 < (p.start_s + p.end_s) / 2 <= limit]
        if middle:
            best = max(middle, key=lambda p: (p.duration_s, p.start_s))
            cut = (best.start_s + best.end_s) / 2
        else:
            cut = _lowest_energy_cut(x, start, limit, search_s, min_segment_s)
        cuts.append(cut)
        start = cut
    edges = [0.0, *cuts, duration]
    return [Span(float(a), float(b)) for a, b in pairwise(edges)]


def speech_overlap_s(segment: Span, spans: list[Span]) -> float:
    """Seconds of `spans` (speech) that fall inside `segment`."""
    return sum(max(0.0, min(segment.end_s, s.end_s) - max(segment.start_s, s.start_s)) for s in spans)
