import subprocess
import sys
from itertools import pairwise

import numpy as np
import pytest
from signals import SR, voice

from emostudio.segment import Span, speech_spans, split_for_model

pytestmark = pytest.mark.unit


def _covered(segments: list[Span], n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for s in segments:
        mask[s.samples(SR)] = True
    return mask


def _check_limits(segments: list[Span], max_s: float, duration_s: float) -> None:
    assert segments, "long non-empty audio must give segments"
    for s in segments:
        assert 0 < s.duration_s <= max_s + 1e-9
        assert 0 <= s.start_s < s.end_s <= duration_s + 1e-9
    for a, b in pairwise(segments):
        assert a.end_s <= b.start_s + 1e-9, "segments must be in order and not overlap"


def test_vad_finds_the_words():
    x, active = voice(12, seed=4)
    spans = speech_spans(x)
    found = _covered(spans, len(x))
    assert found[active].mean() > 0.75  # truth words include the gaps between syllables
    assert found[~active].mean() < 0.3
    assert speech_spans(np.zeros(SR * 3, dtype=np.float32)) == []


def test_three_minutes_with_pauses_split_at_pauses_and_cover_all_speech():
    x, active = voice(180, seed=1)
    segments = split_for_model(x, max_segment_s=30.0)
    _check_limits(segments, 30.0, 180.0)
    assert len(segments) >= 6
    assert _covered(segments, len(x))[active].all(), "some speech is not in any segment"
    # every cut lies in a pause of the truth, not inside a word
    for a, b in pairwise(segments):
        cut = int(round((a.end_s + b.start_s) / 2 * SR))
        assert not active[cut - 80 : cut + 80].any()


def test_continuous_speech_without_pauses_is_split_and_covered():
    x, active = voice(40, seed=2, pauses=False)
    assert active.all()
    segments = split_for_model(x, max_segment_s=30.0)
    _check_limits(segments, 30.0, 40.0)
    assert len(segments) == 2
    assert _covered(segments, len(x)).all()


def test_a_speech_run_longer_than_the_limit_is_cut_at_its_quietest_frame_near_the_limit():
    x, _ = voice(25, seed=3, pauses=False)
    segments = split_for_model(x, max_segment_s=10.0, spans=[Span(0.0, 25.0)])
    _check_limits(segments, 10.0, 25.0)
    assert 3 <= len(segments) <= 4  # every piece but the last is at least 10 - 10/3 s long
    assert _covered(segments, len(x)).all()
    hop = int(0.02 * SR)
    for a, b in pairwise(segments):
        assert a.end_s == b.start_s and a.end_s > a.start_s + 10.0 - 10.0 / 3 - 1e-9
        # the cut frame is the quietest 20 ms frame of the searched stretch before the limit
        lo = int((a.start_s + 10.0 - 10.0 / 3) * SR)
        n = (int((a.start_s + 10.0) * SR) - lo) // hop
        energies = np.mean(x[lo : lo + n * hop].reshape(n, hop) ** 2, axis=1)
        c = int(round(a.end_s * SR))
        assert np.mean(x[c - hop // 2 : c + hop // 2] ** 2) <= energies.min() * 1.01 + 1e-12
        assert energies.min() < 0.01 * np.mean(x**2)


def test_segments_tile_the_whole_recording_so_nothing_is_dropped():
    x, _ = voice(95, seed=6)
    segments = split_for_model(x, max_segment_s=30.0)
    assert segments[0].start_s == 0.0 and segments[-1].end_s == pytest.approx(95.0)
    for a, b in pairwise(segments):
        assert a.end_s == b.start_s
    # speech the VAD missed is still scored: even with no detected speech at all, the file is covered
    missed = split_for_model(x, max_segment_s=30.0, spans=[])
    assert _covered(missed, len(x)).all()


def test_silence_only_long_input_is_split_into_windows():
    x = np.zeros(int(70 * SR), dtype=np.float32)
    segments = split_for_model(x, max_segment_s=30.0)
    _check_limits(segments, 30.0, 70.0)
    assert len(segments) == 3
    assert _covered(segments, len(x)).all()


def test_short_clip_gives_one_span_over_the_whole_clip():
    x, _ = voice(5, seed=5)
    assert split_for_model(x) == [Span(0.0, 5.0)]
    assert split_for_model(np.zeros(0, dtype=np.float32)) == []
    assert Span(-0.5, 0.1).samples(SR) == slice(0, 1600)  # padded spans never wrap to the end


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="mono"):
        split_for_model(np.zeros((2, 100), dtype=np.float32))


def test_the_vad_leaves_torch_threads_as_they_were():
    # silero-vad's import sets torch's intra-op threads to 1 for the whole process; the model would then run
    # on one core after the first long file. Checked in a fresh interpreter, where silero is not imported yet.
    code = (
        "import numpy as np, torch; torch.set_num_threads(3)\n"
        "from emostudio.segment import speech_spans\n"
        "speech_spans(np.zeros(16000, dtype=np.float32))\n"
        "print(torch.get_num_threads())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split()[-1] == "3"


def test_the_vad_network_runs_on_one_thread_and_the_count_comes_back(monkeypatch):
    import torch

    from emostudio import segment

    real = segment.load_vad()
    seen: list[int] = []

    class Recording:  # the silero model as get_speech_timestamps uses it, noting the thread count of each call
        def reset_states(self):
            real.reset_states()

        def __call__(self, chunk, sr):
            seen.append(torch.get_num_threads())
            return real(chunk, sr)

    monkeypatch.setattr(segment, "_model", Recording())
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        speech_spans(voice(2, seed=1)[0])
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_the_vad_is_silero_onnx_on_one_thread_and_reads_as_its_torchscript_twin():
    """The product runs silero-vad's ONNX model (less than half the time); the package's TorchScript copy of the
    same network gives the same probabilities and the same speech spans (on a speech-like signal with pauses)."""
    import warnings

    import silero_vad
    import torch
    from silero_vad import get_speech_timestamps

    from emostudio.segment import load_vad, new_vad_model, speech_probabilities

    model = load_vad()
    assert type(model).__name__ == "OnnxWrapper" and new_vad_model() is not model  # a fresh one per stream
    options = model.session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1
    x, _ = voice(12, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        twin = silero_vad.load_silero_vad(onnx=False)
    with torch.inference_mode():
        expected = twin.audio_forward(torch.from_numpy(x), SR)[0].numpy()
        twin.reset_states()
        stamps = get_speech_timestamps(
            torch.from_numpy(x),
            twin,
            sampling_rate=SR,
            min_speech_duration_ms=250,
            min_silence_duration_ms=100,
        )
    got = speech_probabilities(x)
    assert got.shape == expected.shape and np.max(np.abs(got - expected)) < 1e-4
    assert [(round(s.start_s * SR), round(s.end_s * SR)) for s in speech_spans(x)] == [
        (s["start"], min(s["end"], len(x))) for s in stamps
    ]
    assert len(stamps) >= 2
