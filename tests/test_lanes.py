"""Model batches on CPU: batch planning, batches side by side on lanes, bounded batches for long recordings."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from signals import SR, voice

from emostudio.engine import CPU_BATCH_SECONDS
from emostudio.errors import ModelError
from emostudio.model.accel import optimise_for_cpu
from emostudio.model.checkpoint import load_model
from emostudio.model.lanes import Lanes, plan_batches
from emostudio.recognize import Recognizer
from emostudio.settings import Settings

pytestmark = pytest.mark.integration


def test_plan_batches_bounds_the_padded_size_and_covers_every_item_once():
    rng = np.random.default_rng(0)
    lengths = [int(x) for x in rng.integers(1, 100, size=200)] + [250, 400]
    budget = 240
    batches = plan_batches(lengths, budget)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        padded = len(b) * max(lengths[i] for i in b)
        assert padded <= budget or len(b) == 1  # an item longer than the budget is a batch of its own
    longest = [max(lengths[i] for i in b) for b in batches]
    assert longest == sorted(longest)
    assert plan_batches([], 10) == []


def _lanes_model(tiny_model_dir, lanes: int):
    loaded = load_model(str(tiny_model_dir), device="cpu")
    return optimise_for_cpu(loaded, "fp32", threads=2, lanes=lanes)


def test_batches_on_two_lanes_score_like_one_lane(tiny_model_dir):
    clips = [voice(s, seed=i)[0] for i, s in enumerate([0.6, 0.9, 1.3, 1.7, 2.2, 2.8, 3.1, 3.9])]
    small = Settings(batch_seconds=3.0)  # several batches
    one = Recognizer(model=_lanes_model(tiny_model_dir, 1), settings=small)
    two = Recognizer(model=_lanes_model(tiny_model_dir, 2), settings=small)
    assert (one.lanes.count, two.lanes.count, two.lanes.threads_each) == (1, 2, 1)
    a = one.score_waveforms(clips, keep_features=True)
    b = two.score_waveforms(clips, keep_features=True)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x.logits, y.logits, atol=1e-5)
        np.testing.assert_allclose(x.frame_logits, y.frame_logits, atol=1e-5)
        np.testing.assert_allclose(x.features, y.features, atol=1e-5)
        assert x.features.base is None or x.features.base.shape == x.features.shape  # not a view of a batch


def test_lanes_run_workers_on_their_thread_count_and_restore_the_callers():
    before = torch.get_num_threads()
    lanes = Lanes(2, 1, 2)
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()

    def fn(batch):
        with lock:
            seen.append((threading.current_thread().name, torch.get_num_threads()))

    try:
        torch.set_num_threads(1)  # the caller's count is set to the model's threads
        lanes.run(fn, [[0], [1], [2], [3]], cost=len)
        assert len(seen) == 4 and all(name.startswith("emostudio-model") and n == 1 for name, n in seen)
        assert torch.get_num_threads() == 2
        seen.clear()
        lanes.run(fn, [[0]], cost=len)  # one batch: on the calling thread, all its threads
        assert seen == [(threading.current_thread().name, 2)]
    finally:
        lanes.close()
        torch.set_num_threads(before)


def test_a_failing_batch_is_raised_after_the_others_and_the_lanes_stay_usable():
    lanes = Lanes(2, 1, torch.get_num_threads())
    done: list[int] = []

    def fn(batch):
        if batch == [2]:
            raise RuntimeError("boom")
        done.append(batch[0])

    try:
        with pytest.raises(RuntimeError, match="boom"):
            lanes.run(fn, [[0], [1], [2], [3]], cost=lambda b: -b[0])
        assert sorted(done) == [0, 1]  # costliest first: 0, 1 ran; 2 failed; 3 was cancelled or ran
        done.clear()
        lanes.run(fn, [[5], [6]], cost=len)
        assert sorted(done) == [5, 6]
    finally:
        lanes.close()


def test_lane_counts_are_checked(tiny_model_dir):
    loaded = load_model(str(tiny_model_dir), device="cpu")
    with pytest.raises(ModelError, match="lanes"):
        optimise_for_cpu(loaded, "fp32", threads=1, lanes=2)
    with pytest.raises(ValueError):
        Lanes(0, 1, 1)


def test_batch_seconds_default_to_the_cpu_size_and_an_explicit_value_wins(tiny_model):
    assert Recognizer(model=tiny_model).batch_seconds == CPU_BATCH_SECONDS == 30.0
    assert Recognizer(model=tiny_model, settings=Settings(batch_seconds=8)).batch_seconds == 8.0


def test_a_long_recording_is_scored_in_bounded_batches_at_most_two_at_a_time(tiny_model_dir):
    """Memory for long input is bounded by construction: every model call holds at most one batch budget (or
    one ≤ 30 s segment), and no more calls run at once than there are lanes."""
    rec = Recognizer(model=_lanes_model(tiny_model_dir, 2))
    encode = rec.model.encoder.encode
    calls: list[int] = []
    running, most = [0], [0]
    lock = threading.Lock()

    def recording(waveforms, *args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            calls.append(len(waveforms) * max(len(w) for w in waveforms))
        try:
            return encode(waveforms, *args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    rec.model.encoder.encode = recording
    x, _ = voice(240, seed=2)
    result = rec.analyze(x, sample_rate=SR, quality=False)
    assert result.audio["segments"] >= 8 and 0 < len(calls) <= result.audio["segments"]
    assert max(calls) <= max(rec.batch_seconds, rec.settings.max_segment_s) * SR
    assert most[0] <= 2


def test_one_alibi_bias_serves_every_shorter_batch_exactly(tiny_model):
    from emostudio.model.encoder import num_frames

    enc = tiny_model.encoder
    assert enc.alibi_shared
    clips = [voice(s, seed=i)[0] for i, s in enumerate([0.7, 1.6, 2.9])]
    shared = enc.alibi(num_frames(len(clips[-1]), enc.config.feature_layers))
    for batch in ([clips[0]], [clips[2]], clips):  # alone, the longest alone, padded together
        a, b = enc.encode(batch), enc.encode(batch, alibi=shared)
        assert torch.equal(a.logits, b.logits) and torch.equal(a.features, b.features)
    with pytest.raises(ValueError, match="shared alibi holds"):
        enc.encode([clips[2]], alibi=enc.alibi(10))
