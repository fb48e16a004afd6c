"""The model worker batches what arrives together, bounds its queue, and similarity is cosine of embeddings."""

from __future__ import annotations

import numpy as np
import pytest
from audio_factory import make_voice

from emostudio.embeddings import cosine_similarity
from emostudio.runs import sort_key as run_sort_key
from emostudio.server.settings import safe_filename
from emostudio.server.worker import ModelWorker, QueueFullError, UnavailableError

pytestmark = pytest.mark.unit

SR = 16000


@pytest.fixture(scope="module")
def prepared(recognizer):
    return [
        recognizer.prepare(make_voice(1.0 + 0.5 * i, SR, seed=i), sample_rate=SR, name=f"v{i}.wav")
        for i in range(3)
    ]


def test_jobs_waiting_together_are_scored_in_one_call(recognizer, prepared):
    worker = ModelWorker(recognizer, capacity=4, max_batch=8)
    futures = [worker.submit(p, "utterance", False) for p in prepared]  # queued before the thread starts
    worker.start()
    try:
        got = [f.result(timeout=60) for f in futures]
    finally:
        worker.close()
    assert (worker.stats.batches, worker.stats.largest_batch, worker.stats.jobs) == (1, 3, 3), worker.stats
    alone = [recognizer.infer([p])[0] for p in prepared]
    for g, a, p in zip(got, alone, prepared, strict=True):
        assert g.source_name == p.name
        # batching (padding, masks) changes nothing beyond float32 rounding
        np.testing.assert_allclose(g.probs, a.probs, atol=1e-4)


def test_mixed_requests_are_grouped_by_mode(recognizer, prepared):
    worker = ModelWorker(recognizer, capacity=4, max_batch=2)
    futures = [
        worker.submit(prepared[0], "frame", True),
        worker.submit(prepared[1], "utterance", False),
        worker.submit(prepared[2], "frame", True),
    ]
    worker.start()
    try:
        res = [f.result(timeout=60) for f in futures]
    finally:
        worker.close()
    assert [r.granularity for r in res] == ["frame", "utterance", "frame"]
    assert res[0].embedding.ndim == 2 and res[1].embedding is None
    assert worker.stats.largest_batch <= 2 and worker.stats.jobs == 3


def test_full_queue_and_closed_worker_refuse(recognizer, prepared):
    worker = ModelWorker(recognizer, capacity=2)
    waiting = [worker.submit(p) for p in prepared[:2]]
    with pytest.raises(QueueFullError, match="full"):
        worker.submit(prepared[2])
    worker.close()  # never started: waiting jobs fail with a clear reason
    for f in waiting:
        with pytest.raises(UnavailableError, match="shutting down"):
            f.result(timeout=5)
    with pytest.raises(UnavailableError):
        worker.submit(prepared[0])


def test_cosine_similarity():
    a = np.array([1.0, 0.0, 1.0], np.float32)
    assert cosine_similarity(a, a) == pytest.approx(1.0)
    assert cosine_similarity(a, -a) == pytest.approx(-1.0)
    assert cosine_similarity(a, np.array([0.0, 1.0, 0.0])) == pytest.approx(0.0)
    frames = np.stack([a * 2, a * 4])  # (frames, dim) is mean-pooled
    assert cosine_similarity(frames, a) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="differ in size"):
        cosine_similarity(a, np.ones(4))
    with pytest.raises(ValueError, match="zeros"):
        cosine_similarity(a, np.zeros(3))


def test_names_and_run_order():
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\..\\voice.wav") == "voice.wav"
    assert safe_filename(".hidden\u0000.wav") == "hidden.wav"
    assert safe_filename("..") == "upload" and safe_filename(None) == "upload"
    assert len(safe_filename("a" * 300 + ".wav")) <= 120 and safe_filename("a" * 300 + ".wav").endswith(
        ".wav"
    )
    ids = ["outputs_20240101_120000_10", "outputs_20240101_120000", "outputs_20240101_120000_2"]
    assert sorted(ids, key=run_sort_key) == [
        "outputs_20240101_120000",
        "outputs_20240101_120000_2",
        "outputs_20240101_120000_10",
    ]
