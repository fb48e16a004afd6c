"""AnalysisOptions and TextOptions: one check, one error type (UsageError) naming the bad field; a manifest row's
own roles/channels; PipelineOptions holding the analysis options; and the one copy-channel detector."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from emostudio.channels import CopyDetector, correlation, detect
from emostudio.errors import UsageError
from emostudio.options import DEFAULT_TEXT_WEIGHT, AnalysisOptions, TextOptions, parse_roles
from emostudio.pipeline import PipelineOptions
from emostudio.records import InputItem
from emostudio.settings import COPY_CORRELATION, EnhanceSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (AnalysisOptions(granularity="sideways"), "granularity must be one of utterance, frame"),
        (AnalysisOptions(embedding="yes"), "embedding must be True or False"),  # type: ignore[arg-type]
        (AnalysisOptions(quality=None), "quality must be True or False"),  # type: ignore[arg-type]
        (AnalysisOptions(enhance="loud"), "enhance must be True, False or an EnhanceSettings"),  # type: ignore[arg-type]
        (AnalysisOptions(channels="both"), "channels must be one of mix, separate"),
        (AnalysisOptions(roles="agent,customer"), "roles name the channels of channels='separate'"),
        (AnalysisOptions(channels="separate", roles="a,a"), "role names must differ"),
        (
            AnalysisOptions(channels="separate", roles=["a", ""]),
            "role names must be 1-64 printable characters",
        ),
        (AnalysisOptions(channels="separate", roles=3), "roles must be a list of names"),  # type: ignore[arg-type]
        (AnalysisOptions(text=TextOptions(weight=1.5)), "the text weight must be between 0 and 1"),
        (AnalysisOptions(text=TextOptions(weight=float("nan"))), "the text weight must be between 0 and 1"),
        (AnalysisOptions(text=TextOptions(backend="")), "the text backend must be a name"),
        (AnalysisOptions(text={"weight": 0.3}), "text must be a TextOptions"),  # type: ignore[arg-type]
    ],
)
def test_a_bad_field_is_one_usage_error_naming_it(options, words):
    with pytest.raises(UsageError, match=words) as err:
        options.check()
    assert isinstance(err.value, ValueError) and err.value.code == "bad_argument"


def test_good_options_pass_and_say_what_they_hold():
    opts = AnalysisOptions("frame", True, EnhanceSettings(peak_dbfs=-3), False, "separate", "agent;customer")
    assert opts.check() is opts and opts.role_names == ["agent", "customer"]
    assert AnalysisOptions().text.weight == DEFAULT_TEXT_WEIGHT == 0.3
    assert parse_roles(" ") is None and parse_roles(["x", " y "]) == ["x", "y"]
    assert opts.replace(granularity="utterance").granularity == "utterance"
    with pytest.raises(UsageError, match="granularity"):
        opts.replace(granularity="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.granularity = "utterance"  # type: ignore[misc]


def test_a_manifest_row_decides_its_own_channels():
    job = AnalysisOptions(granularity="frame")
    assert job.for_item(InputItem("a", "a.wav")) is job
    assert job.for_item("a.wav") is job
    row = job.for_item(InputItem("c", "c.wav", roles="agent,customer"))
    assert (row.channels, row.role_names, row.granularity) == ("separate", ["agent", "customer"], "frame")
    assert job.for_item(InputItem("d", "d.wav", channels="separate")).channels == "separate"
    with pytest.raises(UsageError, match="roles name the channels"):
        job.for_item(InputItem("e", "e.wav", channels="mix", roles="a,b"))


def test_pipeline_options_hold_the_analysis_options():
    pipe = PipelineOptions(workers=2, executor="process")  # the README's spelling
    assert pipe.check() is pipe and pipe.analysis == AnalysisOptions()
    with pytest.raises(UsageError, match="granularity"):
        PipelineOptions(AnalysisOptions(granularity="x")).check()
    with pytest.raises(UsageError, match="analysis must be an AnalysisOptions"):
        PipelineOptions("frame").check()  # type: ignore[arg-type]


def test_one_copy_detector_for_whole_files_and_chunk_by_chunk():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(48000).astype(np.float32) * 0.1
    near = a + rng.standard_normal(48000).astype(np.float32) * 0.01  # the same signal, a little noise
    other = rng.standard_normal(48000).astype(np.float32) * 0.1
    chunked = CopyDetector()
    for start in range(0, len(a), 1234):
        chunked.add(a[start : start + 1234], near[start : start + 1234])
    whole = correlation(a, near)
    assert (
        chunked.correlation == pytest.approx(whole, abs=1e-12)
        and chunked.is_copy
        and whole >= COPY_CORRELATION
    )
    assert chunked.samples == len(a)
    assert not CopyDetector().is_copy and correlation(a, np.zeros_like(a)) == 0.0
    infos = detect([a, near, other], ["left", "right", "third"])
    assert [i.status for i in infos] == ["speaker", "copy", "speaker"] and infos[1].same_as == 0
    assert infos[1].note == {
        "en": "channel 2 (right) is a copy of channel 1 (left) (a mono recording saved with several channels): "
        "one speaker",
        "zh": "第 2 声道（right）与第 1 声道（left）相同（单声道录音存成了多声道）：按一位说话人分析",
    }
    silent = detect([a, np.zeros_like(a)], ["agent", "customer"])
    assert silent[1].status == "silent" and silent[1].note == {
        "en": "channel 2 (customer) is silent (no signal): it is not scored",
        "zh": "第 2 声道（customer）无声（没有信号）：不作分析",
    }


def test_every_entry_point_takes_the_options_object(recognizer, tmp_path):
    rng = np.random.default_rng(3)
    t = np.arange(32000) / 16000
    left = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    stereo = np.stack([left, rng.standard_normal(32000).astype(np.float32) * 0.05], axis=1)
    call = AnalysisOptions(granularity="frame", channels="separate", roles="agent,customer")
    one = recognizer.analyze(stereo, sample_rate=16000, options=call)
    assert one.granularity == "frame" and [c.info.role for c in one.channels] == ["agent", "customer"]
    many = recognizer.analyze_many([(stereo, 16000)], options=call)
    np.testing.assert_allclose(many[0].result.probs, one.probs, atol=1e-6)
    assert [c.info.role for c in many[0].result.channels] == ["agent", "customer"]
    with pytest.raises(UsageError, match="roles name the channels"):
        recognizer.analyze(stereo, sample_rate=16000, options=AnalysisOptions(roles="a,b"))
