"""REST API of `emostudio serve` on a tiny random model: analyze, runs, downloads, similarity, every error."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from audio_factory import bad_all_zero, bad_truncated_wav, encode, make_voice
from fastapi.testclient import TestClient

from emostudio.model.labels import KEYS
from emostudio.server.app import create_app
from emostudio.server.settings import ServerSettings, UnsafeBindError

pytestmark = pytest.mark.integration

SR = 16000


def _client(tmp: Path, model, expect_ready: bool = True, **kw) -> TestClient:
    app = create_app(
        ServerSettings(
            model=str(model), device="cpu", allow_download=False, outputs=tmp / "outputs", ui=False, **kw
        )
    )
    assert app.state.service.wait_ready(120) == expect_ready, app.state.service.model_state
    return TestClient(app, base_url="http://localhost")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("clips")
    return {
        "a": encode(d / "a.wav", make_voice(2.0, SR, seed=1), SR, "wav").path.read_bytes(),
        "b": encode(d / "b.mp3", make_voice(2.5, SR, seed=2), SR, "mp3").path.read_bytes(),
        "long": encode(d / "long.wav", make_voice(3.0, SR, seed=3), SR, "wav").path.read_bytes(),
        "truncated": bad_truncated_wav(d).read_bytes(),
        "silent": bad_all_zero(d).read_bytes(),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("srv")
    with _client(tmp, tiny_model_dir) as c:
        yield c, tmp / "outputs"


def _analyze(c, data, name="a.wav", **form):
    return c.post(
        "/v1/analyze",
        files={"file": (name, data, "audio/wav")},
        data={k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()},
    )


def _error(r, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    assert err["message"]
    return err["message"]


def test_health_and_ready(server):
    c, _ = server
    assert c.get("/healthz").json()["status"] == "ok"
    r = c.get("/readyz")
    assert r.status_code == 200 and r.json()["ready"] is True and r.json()["is_random"] is True
    assert "/v1/analyze" in c.get("/openapi.json").json()["paths"]
    assert c.get("/docs").status_code == 200


def test_analyze_utterance_writes_run_and_downloads_match(server, clips):
    c, outputs = server
    r = _analyze(c, clips["a"], granularity="utterance")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["granularity"] == "utterance" and doc["frames"] is None
    assert doc["emotion"] in KEYS and abs(sum(doc["scores"].values()) - 1) < 1e-4
    assert doc["source"] == "a.wav"
    run = outputs / doc["run_id"]
    assert json.loads((run / "result.json").read_text())["scores"] == doc["scores"]
    # GET of the run and the raw file give the same document
    got = c.get(f"/v1/runs/{doc['run_id']}").json()
    assert got["scores"] == doc["scores"] and got["links"] == doc["links"]
    raw = c.get(doc["links"]["result"])
    assert raw.status_code == 200 and raw.json()["run_id"] == doc["run_id"]
    wav = c.get(doc["links"]["processed_audio"])
    assert (
        wav.headers["content-type"] == "audio/wav"
        and wav.content == (run / "processed_audio.wav").read_bytes()
    )
    assert c.get(f"/v1/runs/{doc['run_id']}/files/frames.csv").status_code == 404  # utterance: no frames file


def test_analyze_frame_with_embedding_and_zip(server, clips):
    c, outputs = server
    r = _analyze(c, clips["long"], name="long.wav", granularity="frame", embedding=True)
    assert r.status_code == 200, r.text
    doc = r.json()
    steps = doc["frames"]["count"]
    assert abs(steps - 30) <= 1 and len(doc["frames"]["scores"]) == steps
    rows = list(csv.DictReader(io.StringIO(c.get(doc["links"]["frames_csv"]).text)))
    assert len(rows) == steps and rows[0]["emotion"] in KEYS
    emb = np.load(io.BytesIO(c.get(doc["links"]["embedding"]).content), allow_pickle=False)
    assert list(emb.shape) == doc["embedding"]["shape"] and emb.ndim == 2
    z = c.get(doc["links"]["zip"])
    assert z.headers["content-type"] == "application/zip"
    names = sorted(zipfile.ZipFile(io.BytesIO(z.content)).namelist())
    rid = doc["run_id"]
    assert names == sorted(
        f"{rid}/{n}" for n in ("result.json", "processed_audio.wav", "frames.csv", "embedding.npy")
    )


def test_history_is_paginated_newest_first(server, clips):
    c, _ = server
    ids = [_analyze(c, clips["a"], name=f"h{i}.wav").json()["run_id"] for i in range(2)]
    page = c.get("/v1/runs", params={"limit": 1, "offset": 0}).json()
    assert page["total"] >= 2 and page["limit"] == 1 and len(page["runs"]) == 1
    assert page["runs"][0]["run_id"] == ids[-1] and page["runs"][0]["source"] == "h1.wav"
    second = c.get("/v1/runs", params={"limit": 1, "offset": 1}).json()["runs"][0]
    assert second["run_id"] == ids[-2]
    _error(c.get("/v1/runs", params={"limit": 0}), 422, "bad_parameters")


def test_similarity_files_and_runs(server, clips):
    c, _ = server
    same = c.post("/v1/similarity", files={"file_a": ("a.wav", clips["a"]), "file_b": ("a2.wav", clips["a"])})
    assert same.status_code == 200, same.text
    assert same.json()["similarity"] == pytest.approx(1.0, abs=1e-4)
    diff = c.post("/v1/similarity", files={"file_a": ("a.wav", clips["a"]), "file_b": ("b.mp3", clips["b"])})
    assert -1 <= diff.json()["similarity"] < same.json()["similarity"]
    # a run with an utterance embedding, and a frame-mode run (recomputed from its processed audio)
    utt = _analyze(c, clips["a"], embedding=True).json()["run_id"]
    frm = _analyze(c, clips["a"], granularity="frame").json()["run_id"]
    r = c.post("/v1/similarity", data={"run_a": utt, "run_b": frm})
    assert r.status_code == 200, r.text
    assert r.json()["similarity"] == pytest.approx(1.0, abs=1e-3)
    assert r.json()["a"]["run_id"] == utt
    mixed = c.post("/v1/similarity", data={"run_a": utt}, files={"file_b": ("b.mp3", clips["b"])})
    assert mixed.json()["similarity"] == pytest.approx(diff.json()["similarity"], abs=1e-3)
    _error(c.post("/v1/similarity", data={"run_a": utt}), 422, "bad_parameters")
    _error(
        c.post("/v1/similarity", data={"run_a": utt, "run_b": "outputs_20000101_000000"}),
        404,
        "run_not_found",
    )


def test_bad_uploads_get_typed_errors(server, clips):
    c, _ = server
    assert "not an audio file" in _error(
        _analyze(c, b"just some text\n" * 10, name="notes.txt"), 415, "not_audio"
    )
    msg = _error(_analyze(c, clips["truncated"], name="cut.wav"), 422, "corrupt")
    assert msg.startswith("cut.wav:")
    _error(_analyze(c, clips["silent"], name="quiet.wav"), 422, "silent")
    _error(_analyze(c, b"", name="empty.wav"), 422, "empty")
    _error(_analyze(c, clips["a"], granularity="sentence"), 422, "bad_parameters")
    _error(c.post("/v1/analyze", data={"granularity": "frame"}), 422, "bad_parameters")  # no file


def test_path_traversal_is_rejected(server, clips):
    c, outputs = server
    r = _analyze(c, clips["a"], name="../..\\..\\tmp/.evil\u202ename.wav")
    assert r.status_code == 200 and r.json()["source"] == "evilname.wav"
    assert {p.name for p in outputs.parent.iterdir()} == {"outputs"}  # nothing written beside the outputs dir
    rid = r.json()["run_id"]
    for bad in (
        "..",
        "%2e%2e",
        "..%2f..%2fetc",
        "outputs_2024",
        "outputs_20240101_000000_x",
        f"{rid}%2f..",
        f"..%2f{rid}",
    ):
        resp = c.get(f"/v1/runs/{bad}")
        assert resp.status_code == 404, (bad, resp.text)
    for name in ("..%2fresult.json", "...", "config.yaml", "result.json%00", "%2fetc%2fpasswd"):
        resp = c.get(f"/v1/runs/{rid}/files/{name}")
        assert resp.status_code == 404, (name, resp.text)
    # a folder that looks like a run but sits outside via a symlink is refused
    outside = outputs.parent / "elsewhere_run"
    outside.mkdir()
    (outside / "result.json").write_text("{}")
    (outputs / "outputs_20000101_000000").symlink_to(outside)
    _error(c.get("/v1/runs/outputs_20000101_000000"), 404, "run_not_found")


def test_limits_queue_and_shutdown(tmp_path, tiny_model_dir, clips):
    with _client(tmp_path, tiny_model_dir, max_upload_bytes=60_000, max_duration_s=1.5, queue_size=1) as c:
        big = make_voice(3.0, SR)  # 96 kB as 16-bit wav: over the 60 kB limit
        data = encode(tmp_path / "big.wav", big, SR, "wav").path.read_bytes()
        assert "limit" in _error(_analyze(c, data, name="big.wav"), 413, "too_large")
        # far over the limit: refused by the body-size guard before the form is parsed
        assert "limit" in _error(_analyze(c, data * 12, name="huge.wav"), 413, "too_large")
        over = encode(tmp_path / "over.wav", make_voice(1.7, SR), SR, "wav").path.read_bytes()  # 54 kB, 1.7 s
        msg = _error(_analyze(c, over, name="over.wav"), 413, "too_long")
        assert msg.startswith("over.wav:")
        service = c.app.state.service
        service._admit(1)  # one request in flight fills a queue of one
        try:
            r = _analyze(c, over)
            _error(r, 429, "queue_full")
            assert r.headers["retry-after"]
        finally:
            service._release(1)
        short = encode(tmp_path / "short.wav", make_voice(1.0, SR), SR, "wav").path.read_bytes()
        assert _analyze(c, short).status_code == 200
        service.close()
        assert "shutting down" in _error(_analyze(c, short), 503, "unavailable")


def test_missing_model_answers_503_with_instructions(tmp_path, clips):
    with _client(tmp_path, tmp_path / "no_such_model", expect_ready=False) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["state"] == "missing"
        assert any("no_such_model" in s for s in r.json()["searched"])
        msg = _error(_analyze(c, clips["a"]), 503, "unavailable")
        assert "no_such_model" in msg and "--model demo" in msg
        assert c.get("/healthz").status_code == 200
        c.app.state.service.start("demo")  # the UI's "load demo model" button
        assert c.app.state.service.wait_ready(60)
        assert _analyze(c, clips["a"]).json()["model"]["is_random"] is True


def test_token_and_bind_rules(tmp_path, tiny_model_dir, clips):
    with pytest.raises(UnsafeBindError, match="--token"):
        create_app(ServerSettings(host="0.0.0.0", model="demo", outputs=tmp_path / "o", ui=False))
    with _client(tmp_path, tiny_model_dir, host="0.0.0.0", token="s3cret") as c:
        _error(c.get("/v1/runs"), 401, "unauthorized")
        _error(c.get("/v1/runs", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
        assert c.get("/v1/runs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/healthz").status_code == 200
        assert (
            "access-control-allow-origin"
            not in c.get("/healthz", headers={"Origin": "http://x.test"}).headers
        )
