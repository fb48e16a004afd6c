"""The "emostudio" speaker engine on synthetic conversations (tests/conversations.py) with the real CAM++ and
segmentation weights from the `speakers` extra: one voice is one speaker, two voices are two with a low DER,
silence has no turns, N is an upper bound, overlap is marked, and a bad model folder is a clear error."""

from __future__ import annotations

import numpy as np
import pytest
from conversations import Spec, build, overlap_fraction

from emostudio.errors import UsageError
from emostudio.speakers import ENGINES, load_engine
from emostudio.speakers.rttm import rttm_lines

pytestmark = pytest.mark.integration

SR = 16_000


@pytest.fixture(scope="module")
def engine():
    return load_engine("emostudio")


@pytest.fixture(scope="module")
def two_voices():
    return build(Spec("two", (0, 1), 40, seed=1))


def der(conv, diarization) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    hyp = Annotation(uri=conv.spec.name)
    for i, t in enumerate(diarization.turns):
        hyp[Segment(t.start_s, t.end_s), i] = t.speaker
    return float(DiarizationErrorRate(collar=0.25)(conv.annotation(), hyp))


def test_emostudio_is_the_default_engine(engine):
    assert next(iter(ENGINES)) == "emostudio" and load_engine() is engine


def test_the_generator_is_deterministic_and_its_reference_fits_the_audio():
    a, b = (
        build(Spec("d", (2, 4), 30, overlap=0.1, snr_db=15, seed=5)),
        build(Spec("d", (2, 4), 30, 0.1, 15, seed=5)),
    )
    assert np.array_equal(a.waveform, b.waveform) and a.turns == b.turns
    assert a.speakers == 2 and a.turns[-1][2] <= a.duration_s
    assert all(1.0 <= e - s <= 8.0 + 1e-6 for _, s, e in a.turns)
    assert 0.0 < overlap_fraction(a.turns) < 0.2


def test_one_voice_is_one_speaker(engine):
    conv = build(Spec("solo", (0,), 30, seed=24))
    d = engine.diarize(conv.waveform)
    assert d.found == 1 and d.speakers == ["spk0"] and d.notes == []
    assert der(conv, d) < 0.1


def test_two_voices_are_two_speakers_in_time_order(engine, two_voices):
    d = engine.diarize(two_voices.waveform)
    assert d.found == 2 and d.speakers == ["spk0", "spk1"]
    assert [t.start_s for t in d.turns] == sorted(t.start_s for t in d.turns)
    assert der(two_voices, d) < 0.15
    assert 0.8 * two_voices.duration_s * 0.5 < d.speech_s <= two_voices.duration_s
    rttm = rttm_lines("two", [(t.speaker, t.start_s, t.end_s) for t in d.turns])
    assert len(rttm.splitlines()) == len(d.turns)


def test_more_speakers_asked_than_present_reports_the_ones_found(engine, two_voices):
    d = engine.diarize(two_voices.waveform, speakers=4)
    assert d.found == 2 and d.requested == 4
    assert d.notes == [{"key": "speakers_fewer_than_asked", "requested": 4, "found": 2}]
    one = engine.diarize(two_voices.waveform, speakers=1)
    assert one.found == 1 and one.notes == []


def test_silence_faint_noise_and_empty_input_have_no_turns(engine):
    faint = 1e-4 * np.random.default_rng(0).standard_normal(10 * SR)
    for x in (np.zeros(10 * SR, np.float32), faint, np.zeros(0, np.float32), np.zeros(100, np.float32)):
        d = engine.diarize(x.astype(np.float32))
        assert d.turns == [] and d.found == 0 and d.notes == [{"key": "no_speech"}]


def test_an_overlapped_stretch_is_marked(engine):
    conv = build(Spec("over", (0, 4), 40, overlap=0.3, seed=7))
    d = engine.diarize(conv.waveform)
    ref_over = []  # reference seconds where two voices talk at once
    for i, (_, s, e) in enumerate(conv.turns):
        for _, s2, e2 in conv.turns[i + 1 :]:
            if min(e, e2) - max(s, s2) > 0.3:
                ref_over.append((max(s, s2), min(e, e2)))
    assert ref_over
    marked = [t for t in d.turns if t.overlap]
    assert marked and all(0 < t.overlap_s <= t.duration_s + 1e-9 for t in marked)
    hit = sum(1 for s, e in ref_over if any(t.start_s < e and t.end_s > s for t in marked))
    assert hit >= len(ref_over) / 2


def test_a_bad_speaker_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(UsageError, match="no campplus_cn_en_common.pt"):
        load_engine("emostudio", str(tmp_path))
    (tmp_path / "campplus_cn_en_common.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UsageError, match="is not CAM\\+\\+ zh/en weights"):
        load_engine("emostudio", str(tmp_path))
    with pytest.raises(UsageError, match="does not exist"):
        load_engine("emostudio", str(tmp_path / "missing"))


def test_progress_rises_to_one_through_the_stages(engine, two_voices):
    from emostudio.speakers.emostudio_engine import EMBED_SHARE, SPEECH_SHARE

    told: list[float] = []
    d = engine.diarize(two_voices.waveform, progress=told.append)
    assert d.found == 2
    assert (
        told == sorted(told) and told[-1] == 1.0 and 0 < told[0] < 0.2
    )  # never back, from the start to done
    assert len(told) >= 10  # a 40 s recording: many steps, not a jump at the end
    for stage_end in (SPEECH_SHARE, SPEECH_SHARE + EMBED_SHARE):  # each stage ends where its share says
        assert any(abs(f - stage_end) < 1e-9 for f in told), (stage_end, told)
    silent: list[float] = []
    assert engine.diarize(np.zeros(10 * SR, np.float32), progress=silent.append).turns == []
    assert silent == sorted(silent) and silent[-1] == 1.0
