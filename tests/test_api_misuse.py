"""The Python API used wrongly: every mistake is a typed error raised before any work, or (among many inputs)
that input's error alone — never an untyped ValueError from deep inside, never the whole call lost."""

from __future__ import annotations

import numpy as np
import pytest
from hostile import wav_bytes

from emostudio.audio import BadPathError, TooShortError
from emostudio.errors import AudioError, EmoStudioError, OutputError, UsageError
from emostudio.pipeline import PipelineOptions
from emostudio.recognize import Recognizer
from emostudio.settings import Settings

pytestmark = pytest.mark.unit

GOOD = np.sin(np.arange(24000) / 5).astype(np.float32) * 0.3


@pytest.fixture(scope="module")
def good_wav(tmp_path_factory):
    p = tmp_path_factory.mktemp("misuse") / "good.wav"
    p.write_bytes(wav_bytes(GOOD, 16000))
    return p


@pytest.mark.parametrize(
    ("call", "phrase"),
    [
        (lambda r, w: r.analyze(w, granularity="bogus"), "granularity must be one of"),
        (lambda r, w: r.analyze(w, granularity=None), "granularity must be one of"),
        (lambda r, w: r.analyze(w, embedding="yes"), "embedding must be True or False"),
        (lambda r, w: r.analyze(w, quality=1), "quality must be True or False"),
        (lambda r, w: r.analyze(w, enhance="loud"), "enhance must be True, False or an EnhanceSettings"),
        (lambda r, w: r.analyze(GOOD), "needs sample_rate"),
        (lambda r, w: r.analyze(None), "cannot analyse a NoneType"),
        (lambda r, w: r.analyze(3.5), "cannot analyse a float"),
        (lambda r, w: r.analyze({"path": str(w)}), "cannot analyse a dict"),
        (lambda r, w: r.analyze_many(w, granularity="bogus"), "granularity must be one of"),
        (lambda r, w: r.analyze_many([w], workers=-1), "workers must be a whole number"),
        (lambda r, w: r.analyze_many([w], workers=1.5), "workers must be a whole number"),
        (lambda r, w: r.analyze_many([w], executor="gpu"), "executor must be one of"),
        (lambda r, w: r.analyze_many([w], group_seconds=0), "group_seconds must be positive"),
        (lambda r, w: r.analyze_many(GOOD), "sources is a numpy array"),
        (lambda r, w: r.analyze_many(42), "sources must be a list of inputs"),
        (lambda r, w: r.analyze_many(None), "sources must be a list of inputs"),
        (lambda r, w: r.infer([], granularity="sideways"), "granularity must be one of"),
        (lambda r, w: Recognizer(model=r.model, device="tpu"), "device must be 'auto', 'cpu', 'cuda'"),
        (lambda r, w: Recognizer(model=r.model, dtype="float8"), "dtype must be one of"),
        (lambda r, w: Recognizer(model=r.model, settings={"batch_seconds": 10}), "settings must be"),
        (lambda r, w: PipelineOptions(max_group_items=0).check(), "max_group_items must be at least 1"),
    ],
)
def test_a_wrong_argument_is_a_usage_error_before_any_work(recognizer, good_wav, call, phrase):
    with pytest.raises(UsageError, match=phrase) as err:
        call(recognizer, good_wav)
    assert (
        isinstance(err.value, ValueError) and err.value.code == "bad_argument"
    )  # still a ValueError for old code


def test_the_output_place_is_checked_before_any_work(recognizer, good_wav, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for where in (blocker, blocker / "sub"):
        with pytest.raises(OutputError, match="cannot write results there"):
            recognizer.analyze(good_wav, output_dir=where)
        with pytest.raises(OutputError):
            recognizer.analyze_many([good_wav], output_dir=where)


def test_bad_inputs_among_many_are_theirs_alone(recognizer, good_wav, tmp_path):
    one_sample = tmp_path / "one.wav"
    one_sample.write_bytes(wav_bytes(np.array([0.5]), 16000))
    sources = [
        good_wav,
        str(one_sample),
        (GOOD, 16000),
        GOOD,  # an array without its rate
        None,
        "",
        str(tmp_path / ("x" * 300 + ".wav")),
        b"not audio at all",
        (GOOD[:10], 16000),
        str(good_wav),
    ]
    outcomes = recognizer.analyze_many(sources)
    assert len(outcomes) == len(sources) and [o.index for o in outcomes] == list(range(len(sources)))
    codes = [o.error.code if o.error else "ok" for o in outcomes]
    assert codes == ["ok", "too_short", "ok", "bad_argument", "bad_argument", "bad_path", "bad_path", "not_audio",
                     "too_short", "ok"]  # fmt: skip
    assert all(isinstance(o.error, EmoStudioError) for o in outcomes if o.error)
    np.testing.assert_allclose(outcomes[0].result.probs, outcomes[-1].result.probs, atol=1e-7)
    np.testing.assert_allclose(outcomes[0].result.probs, recognizer.analyze(good_wav).probs, atol=1e-6)


def test_a_single_path_counts_as_a_list_of_one(recognizer, good_wav):
    outcomes = recognizer.analyze_many(str(good_wav))
    assert len(outcomes) == 1 and outcomes[0].ok  # not one outcome per character of the path


def test_single_input_errors_name_the_input(recognizer, tmp_path):
    with pytest.raises(BadPathError, match="empty path"):
        recognizer.analyze("")
    with pytest.raises(BadPathError, match="too long"):
        recognizer.analyze(str(tmp_path / ("y" * 300)))
    with pytest.raises(TooShortError, match=r"^clip: audio is too short \(0\.6 ms"):
        recognizer.analyze(GOOD[:10], sample_rate=16000, name="clip")
    with pytest.raises(AudioError, match="^bytes.wav: "):
        recognizer.analyze(b"nope", name="bytes.wav")


def test_the_minimum_length_follows_the_settings(recognizer):
    strict = Recognizer(model=recognizer.model, settings=Settings(min_duration_s=0.5))
    with pytest.raises(TooShortError, match="at least 500 ms"):
        strict.analyze(GOOD[:4000], sample_rate=16000)
    assert recognizer.analyze(GOOD[:4000], sample_rate=16000).probs.shape == (9,)
