import numpy as np
import pytest

from emostudio.interpret import (
    COMPOUNDS,
    BandThresholds,
    band_for,
    compound_for,
    dominant_segments,
    softmax,
    summary_line,
    timeline,
)
from emostudio.model.labels import KEYS, OFFICIAL_TOKENS, normalise_token

pytestmark = pytest.mark.unit


def probs(**kw):
    p = np.zeros(len(KEYS))
    for k, v in kw.items():
        p[KEYS.index(k)] = v
    rest = 1 - p.sum()
    p[KEYS.index("other")] += rest
    return p


@pytest.mark.parametrize(
    "conf,band",
    [(0.95, "confident"), (0.801, "confident"), (0.80, "leaning"), (0.6, "leaning"), (0.599, "uncertain")],
)
def test_bands_follow_thresholds_at_edges(conf, band):
    assert band_for(conf).key == band


def test_band_thresholds_are_configurable():
    assert band_for(0.7, BandThresholds(confident=0.65, leaning=0.5)).key == "confident"
    assert band_for(0.45, BandThresholds(confident=0.65, leaning=0.5)).key == "uncertain"


def test_compound_sad_angry_and_happy_surprised():
    c = compound_for(probs(sad=0.45, angry=0.4))
    assert c is not None and c.zh == "悲愤" and c.en == "grief-anger" and c.keys == ("sad", "angry")
    c = compound_for(probs(happy=0.5, surprised=0.35))
    assert c is not None and c.zh == "惊喜" and c.en == "pleasant surprise"


def test_no_compound_when_runner_up_far_or_pair_unnamed():
    assert compound_for(probs(sad=0.85, angry=0.1)) is None
    assert compound_for(probs(happy=0.5, other=0.4)) is None  # "other" never combines
    assert all("other" not in pair and "unknown" not in pair for pair in COMPOUNDS)


def test_summary_line_matches_seed_format():
    assert summary_line("happy", 0.637) == "😊 快乐 (Happy) 置信度: 63.7%"


def test_token_normalisation():
    assert [normalise_token(t) for t in OFFICIAL_TOKENS] == list(KEYS)
    assert normalise_token("unuse_3") is None
    with pytest.raises(ValueError, match="banana"):
        normalise_token("banana")


def test_timeline_steps_and_aggregation():
    rng = np.random.default_rng(0)
    frames = 249  # 5.0 s of audio at 50 Hz
    logits = rng.normal(size=(frames, 9))
    starts, p = timeline(logits)
    assert len(starts) == 50 and p.shape == (50, 9)
    np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-9)
    # step 3 covers frames 15..19: its scores are the softmax of their mean logits
    np.testing.assert_allclose(p[3], softmax(logits[15:20].mean(axis=0)), atol=1e-12)
    np.testing.assert_allclose(starts[:3], [0.0, 0.1, 0.2])


def test_timeline_masks_absent_classes():
    logits = np.zeros((20, 9))
    logits[:, 8] = -np.inf
    _, p = timeline(logits)
    assert np.all(p[:, 8] == 0)


def test_dominant_segments_merge_runs():
    step = 0.1
    top = [0] * 10 + [3] * 1 + [0] * 5 + [6] * 10  # a one-step blip of "happy" is absorbed
    p = np.full((len(top), 9), 0.01)
    p[np.arange(len(top)), top] = 0.92
    segs = dominant_segments(np.arange(len(top)) * step, p, step, len(top) * step, min_segment_s=0.3)
    assert [s.label for s in segs] == ["angry", "sad"]
    assert segs[0].start_s == 0 and abs(segs[1].start_s - 1.6) < 1e-9 and abs(segs[-1].end_s - 2.6) < 1e-9
