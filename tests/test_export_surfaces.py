"""Annotations out of every surface: `batch --export` (each input into OUT/exports/, a tier, a cue speaker and an
RTTM speaker per channel of a two-party call), the REST analyze `export` field (its files listed and
downloadable), and a Label Studio .json export read as a server evaluation set from an uploaded zip."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import webvtt
from audio_factory import make_voice
from fastapi.testclient import TestClient
from praatio import textgrid as praatio_textgrid
from signals import write_wav

from emostudio.batch import read_results
from emostudio.batch.exports import EXPORTS_DIR, safe_stem
from emostudio.cli import main
from emostudio.export import RUN_FORMATS, SUFFIXES
from emostudio.export.runfiles import file_name
from emostudio.runs import DOWNLOADS
from emostudio.server.app import create_app
from emostudio.server.settings import ServerSettings

pytestmark = pytest.mark.integration  # the REST app, serve and batch (not the fast tier)
SR = 16000


def stereo_call(path: Path, seconds: float = 4.0) -> Path:
    x = np.stack([make_voice(seconds, SR, seed=4), 0.6 * make_voice(seconds, SR, seed=5)], axis=1).reshape(-1)
    return write_wav(path, x, channels=2)


def test_batch_export_writes_each_input_with_a_tier_cue_and_rttm_speaker_per_channel(
    tiny_model_dir, tmp_path, capsys
):
    from pyannote.database.util import load_rttm

    media = tmp_path / "media"
    media.mkdir()
    write_wav(media / "solo.wav", make_voice(2.0, SR, seed=1))
    stereo_call(media / "call.wav")
    manifest = tmp_path / "set.csv"
    manifest.write_text(
        f"id,path,roles\nsolo/one,{media / 'solo.wav'},\ncall,{media / 'call.wav'},agent;customer\n",
        encoding="utf-8",
    )
    out = tmp_path / "job"
    args = [
        "batch",
        str(manifest),
        "--out",
        str(out),
        "--model",
        str(tiny_model_dir),
        "--granularity",
        "frame",
    ]
    assert main([*args, "--export", "textgrid,eaf,vtt,srt,rttm"]) == 0, capsys.readouterr().err
    exports = out / EXPORTS_DIR
    solo, call = safe_stem("solo/one"), safe_stem("call")
    assert solo != "solo/one" and call == "call"
    names = {p.name for p in exports.iterdir()}
    assert {f"{solo}.TextGrid", f"{solo}.eaf", f"{solo}.vtt", f"{solo}.srt"} <= names
    assert f"{solo}.rttm" not in names  # a single speaker: no turns, no channels
    grid = praatio_textgrid.openTextgrid(str(exports / "call.TextGrid"), includeEmptyIntervals=True)
    assert {"emotion", "emotion agent", "emotion customer"} <= set(grid.tierNames)
    for name in grid.tierNames:
        tier = grid.getTier(name)
        assert tier.minTimestamp == pytest.approx(0.0) and tier.maxTimestamp == pytest.approx(4.0, abs=0.01)
    speakers = {c.voice for c in webvtt.read(str(exports / "call.vtt"))}
    assert speakers == {"agent", "customer"}
    rttm = load_rttm(str(exports / "call.rttm"))
    assert sorted(rttm["call"].labels()) == ["agent", "customer"]
    assert len(read_results(out)) == 4  # two inputs + two channel rows
    assert main([*args, "--export", "labelstudio", "--force"]) == 2
    assert "labelstudio" in capsys.readouterr().err
    assert main([*args, "--export", "docx", "--force"]) == 2


def test_every_exported_run_file_is_a_run_download():
    names = {file_name(SUFFIXES[f]) for f in RUN_FORMATS if f != "rttm"} | {"turns.rttm"}
    assert names <= set(DOWNLOADS)


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("exsrv")
    app = create_app(
        ServerSettings(
            model=str(tiny_model_dir), device="cpu", allow_download=False, outputs=tmp / "outputs", ui=False
        )
    )
    assert app.state.service.wait_ready(120)
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def test_rest_analyze_export_field_lists_and_serves_the_files(client, tmp_path):
    call = stereo_call(tmp_path / "call.wav").read_bytes()
    r = client.post(
        "/v1/analyze",
        files={"file": ("call.wav", call, "audio/wav")},
        data={"channels": "separate", "roles": "agent,customer", "export": "textgrid, vtt,rttm"},
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert {"textgrid", "vtt", "rttm"} <= set(doc["files"]) and "eaf" not in doc["files"]
    for key in ("textgrid", "vtt", "rttm"):
        got = client.get(doc["links"][key])
        assert got.status_code == 200 and got.content
    assert "SPEAKER call 1" in client.get(doc["links"]["rttm"]).text
    bad = client.post("/v1/analyze", files={"file": ("call.wav", call, "audio/wav")}, data={"export": "docx"})
    assert bad.status_code == 422 and "docx" in bad.json()["error"]["message"]


def test_a_label_studio_export_in_a_zip_is_an_evaluation_set(client, tmp_path):
    buf = io.BytesIO()
    tasks = []
    with zipfile.ZipFile(buf, "w") as zf:
        for i, label in enumerate(["Happy", "Sad", "Neutral"]):
            wav = write_wav(tmp_path / f"clip{i}.wav", make_voice(1.2, SR, seed=70 + i))
            zf.write(wav, f"set/clip{i}.wav")
            result = [{"value": {"choices": [label]}, "id": f"c{i}", "from_name": "emotion", "to_name": "audio",
                       "type": "choices", "origin": "manual"}]  # fmt: skip
            tasks.append(
                {"id": i + 1, "data": {"audio": f"/data/local-files/?d=clip{i}.wav"}, "project": 1,
                 "annotations": [{"id": 10 + i, "result": result, "was_cancelled": False}], "predictions": []}
            )  # fmt: skip
        zf.writestr("set/project-1-at-2024-03-11.json", json.dumps(tasks))
    r = client.post(
        "/v1/evaluations",
        files={"archive": ("ls.zip", buf.getvalue(), "application/zip")},
        data={"wait": "true"},
    )
    assert r.status_code == 200, r.text
    doc = r.json()["metrics"]
    assert doc["manifest"]["kind"] == "labelstudio" and doc["n"] == 3
