"""An adapter read everywhere a Result is built: result.json's `adapted` block for the utterance, each segment
and each channel (never per frame), in files, many-input runs and the live closing pass; the same reading as
`evaluate --adapter` predicts for the same file; and an adapter for other weights refused before any work."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from adapter_factory import make_adapter
from audio_factory import make_voice
from signals import write_wav

from emostudio.adapt import AdapterMismatchError, evaluate_adapter, resolve_adapter
from emostudio.errors import UsageError
from emostudio.options import AnalysisOptions
from emostudio.recognize import Recognizer
from emostudio.results import load_schema
from emostudio.settings import Settings

pytestmark = pytest.mark.unit
SR = 16000


@pytest.fixture(scope="module")
def split(tiny_model):
    """The tiny model with 4 s segments, so a 10 s clip is read in three segments."""
    return Recognizer(model=tiny_model, settings=replace(Settings(), max_segment_s=4.0))


@pytest.fixture(scope="module")
def adapter(tmp_path_factory, split):
    return make_adapter(tmp_path_factory.mktemp("adapter"), split, seed=3, temperature=1.7)


def test_the_adapted_reading_of_a_file_is_what_evaluate_adapter_predicts(split, adapter, tmp_path):
    files = {
        "short_a.wav": (2.5, 1, "frustrated"),
        "short_b.wav": (3.0, 2, "satisfied"),
        "long_c.wav": (10.0, 3, "frustrated"),
    }
    for name, (seconds, seed, _) in files.items():
        write_wav(tmp_path / name, make_voice(seconds, SR, seed=seed))
    manifest = tmp_path / "set.csv"
    manifest.write_text(
        "path,label\n" + "".join(f"{n},{lab}\n" for n, (_, _, lab) in files.items()), encoding="utf-8"
    )
    ev = evaluate_adapter(
        manifest, split, adapter.folder, report_dir=tmp_path / "report", cache_dir=False, n_boot=20
    )
    rows = [r for r in csv.DictReader(open(ev.report_dir / "predictions.csv", encoding="utf-8"))]
    predicted = {Path(r["path"]).name: r for r in rows if r["reading"] == "adapted"}
    assert set(predicted) == set(files)
    for name in files:
        result = split.analyze(str(tmp_path / name), adapter=adapter)
        doc = result.to_dict()["adapted"]
        row = predicted[name]
        assert doc["label"] == row["predicted"] and doc["adapter"] == adapter.id
        assert doc["confidence"] == pytest.approx(float(row["confidence"]), abs=1e-6)
        for label in adapter.labels:
            assert doc["scores"][label] == pytest.approx(float(row[f"score_{label}"]), abs=1e-6)
    long = split.analyze(str(tmp_path / "long_c.wav"), adapter=adapter)
    assert len(long.segments) == 3  # the utterance embedding is the segments' weighted mean, as adapt's


def test_result_json_carries_adapted_for_utterance_segments_and_channels_not_frames(split, adapter, tmp_path):
    stereo = np.stack([make_voice(9.0, SR, seed=4), 0.6 * make_voice(9.0, SR, seed=5)], axis=1).reshape(-1)
    call = write_wav(tmp_path / "call.wav", stereo, channels=2)
    r = split.analyze(
        str(call), granularity="frame", channels="separate", adapter=adapter, output_dir=tmp_path / "out"
    )
    doc = json.loads((r.output_dir / "result.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, load_schema())
    plain = split.analyze(str(call), granularity="frame", channels="separate").to_dict()
    assert doc["scores"] == plain["scores"] and "adapted" not in plain  # the base 9 classes stay
    a = doc["adapted"]
    assert a["labels"] == ["frustrated", "satisfied"] and sum(a["scores"].values()) == pytest.approx(
        1, abs=1e-5
    )
    assert a["label"] == max(a["scores"], key=a["scores"].get) and a["band"] in (
        "confident",
        "leaning",
        "uncertain",
    )
    assert len(doc["segments"]) == 3 and all(s["adapted"]["adapter"] == adapter.id for s in doc["segments"])
    seg_probs = [s["adapted"]["scores"]["frustrated"] for s in doc["segments"]]
    assert len(set(seg_probs)) > 1  # each segment read from its own embedding
    assert "adapted" not in doc["frames"] and "adapted" not in doc["frames"]["segments"][0]
    channels = [c["result"] for c in doc["channels"] if c["result"] is not None]
    assert len(channels) == 2 and all(c["adapted"]["adapter"] == adapter.id for c in channels)
    # the calibrated scores are the base scores at the adapter's temperature
    assert a["calibrated_scores"] != doc["scores"]
    assert np.isclose(sum(a["calibrated_scores"].values()), 1, atol=1e-5)


def test_many_inputs_and_the_live_closing_pass_carry_the_reading(split, adapter, tmp_path):
    clip = write_wav(tmp_path / "clip.wav", make_voice(5.0, SR, seed=7))
    alone = split.analyze(str(clip), adapter=adapter, granularity="frame").to_dict()["adapted"]
    many = split.analyze_many([str(clip), str(clip)], adapter=adapter, granularity="frame")
    assert [o.result.to_dict()["adapted"] for o in many] == [alone, alone]
    samples = make_voice(5.0, SR, seed=7)
    live = split.stream(SR, name="clip.wav", adapter=adapter)
    for i in range(0, len(samples), 8000):
        list(live.feed(samples[i : i + 8000]))
    closed = live.close()
    got = closed.to_dict()["adapted"]
    assert got["label"] == alone["label"] and got["adapter"] == adapter.id
    for label in adapter.labels:
        assert got["scores"][label] == pytest.approx(alone["scores"][label], abs=1e-4)


def test_an_adapter_for_other_weights_or_a_bare_folder_is_refused_before_any_work(split, tmp_path):
    other = make_adapter(tmp_path / "other", split, weights_sha256="ab" * 32)
    clip = write_wav(tmp_path / "clip.wav", make_voice(2.0, SR, seed=1))
    for call in (
        lambda: split.analyze(str(clip), adapter=other, output_dir=tmp_path / "out"),
        lambda: split.analyze_many([str(clip)], adapter=other),
        lambda: split.stream(SR, adapter=other),
        lambda: resolve_adapter(AnalysisOptions(adapter=str(other.folder)), split),
    ):
        with pytest.raises(AdapterMismatchError) as e:
            call()
        assert "ab" * 32 in str(e.value) and split.model.fingerprint() in str(e.value)
    assert not (tmp_path / "out").exists()
    with pytest.raises(UsageError, match="is a folder"):
        split.analyze(str(clip), options=AnalysisOptions(adapter=str(other.folder)))
    with pytest.raises(UsageError, match="adapter must be"):
        AnalysisOptions(adapter=3).check()
    resolved = resolve_adapter(
        AnalysisOptions(adapter=str(make_adapter(tmp_path / "mine", split).folder)), split
    )
    assert split.analyze(str(clip), options=resolved).adapted is not None
