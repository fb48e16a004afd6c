"""`--adapter DIR` on analyze, batch, live and serve, and the REST adapters: every surface carries the adapted
reading next to the base one, batch rows gain the adapter's columns and its hash joins the job identity, and an
adapter for other weights is refused everywhere (exit 2 naming both hashes, 409 on REST)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from adapter_factory import make_adapter
from audio_factory import make_voice
from fastapi.testclient import TestClient
from signals import write_wav

from emostudio.batch import read_results
from emostudio.batch.job import JOB_FILE
from emostudio.cli import main
from emostudio.recognize import Recognizer
from emostudio.server.app import create_app
from emostudio.server.settings import ServerSettings

pytestmark = pytest.mark.integration  # the REST app, serve and batch (not the fast tier)
SR = 16000


@pytest.fixture(scope="module")
def setup(tmp_path_factory, tiny_model_dir):
    d = tmp_path_factory.mktemp("surfaces")
    rec = Recognizer(model=str(tiny_model_dir))
    mine = make_adapter(d / "mine", rec, seed=5)
    other = make_adapter(d / "other", rec, weights_sha256="cd" * 32)
    clips = [write_wav(d / f"clip{i}.wav", make_voice(1.5 + 0.3 * i, SR, seed=10 + i)) for i in range(3)]
    return {"d": d, "rec": rec, "mine": mine, "other": other, "clips": clips, "model": str(tiny_model_dir)}


def test_analyze_shows_and_saves_the_adapted_reading_and_refuses_other_weights(setup, tmp_path, capsys):
    s = setup
    args = ["analyze", str(s["clips"][0]), "--model", s["model"], "--out", str(tmp_path / "o")]
    assert main([*args, "--adapter", str(s["mine"].folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    expected = s["rec"].analyze(str(s["clips"][0]), adapter=s["mine"]).to_dict()["adapted"]
    assert (
        doc["adapted"] == expected
        and doc["scores"] == s["rec"].analyze(str(s["clips"][0])).to_dict()["scores"]
    )
    assert main([*args, "--adapter", str(s["mine"].folder)]) == 0
    out = capsys.readouterr().out
    assert f"adapted: {expected['label']}" in out and s["mine"].id in out
    assert main([*args, "--adapter", str(s["other"].folder)]) == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert "cd" * 32 in err and s["rec"].model.fingerprint() in err
    (s["d"] / "broken").mkdir(exist_ok=True)
    assert main([*args, "--adapter", str(s["d"] / "broken")]) == 2
    assert "adapter.json" in capsys.readouterr().err


def test_live_from_a_file_closes_with_the_adapted_reading(setup, tmp_path, capsys):
    s = setup
    base = [
        "live",
        "--input",
        str(s["clips"][2]),
        "--model",
        s["model"],
        "--no-save",
        "--json",
        "--speed",
        "0",
    ]
    assert main([*base, "--adapter", str(s["mine"].folder)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]
    result = next(x for x in lines if x["type"] == "result")
    assert result["adapted"]["adapter"] == s["mine"].id
    assert main([*base, "--adapter", str(s["other"].folder)]) == 2
    assert "cd" * 32 in capsys.readouterr().err.replace("\n", "")


def test_batch_rows_carry_the_adapter_and_its_hash_is_the_jobs(setup, tmp_path, capsys):
    s = setup
    out = tmp_path / "job"
    args = ["batch", str(s["d"]), "--out", str(out), "--model", s["model"]]
    assert main([*args, "--adapter", str(s["mine"].folder)]) == 0, capsys.readouterr().err
    rows = read_results(out).to_pylist()
    assert len(rows) == 3 and {r["adapter_id"] for r in rows} == {s["mine"].id}
    for r in rows:
        want = s["rec"].analyze(r["path"], adapter=s["mine"]).to_dict()["adapted"]
        assert r["adapted_label"] == want["label"]
        assert r["adapted_confidence"] == pytest.approx(want["confidence"], abs=1e-6)
        assert json.loads(r["adapted_scores"]) == pytest.approx(want["scores"], abs=1e-6)
        assert r["score_angry"] is not None  # the base scores stay
    job = json.loads((out / JOB_FILE).read_text())
    assert job["version"] == 3 and job["adapter"] == s["mine"].sha256
    capsys.readouterr()
    assert main(args) == 2  # the same folder without the adapter: another job
    assert "adapter: was adapter sha256" in capsys.readouterr().err.replace("\n", " ")
    assert main([*args, "--adapter", str(s["other"].folder), "--force"]) == 2
    assert "cd" * 32 in capsys.readouterr().err.replace("\n", "")


def test_a_job_folder_of_version_2_resumes_without_an_adapter(setup, tmp_path, capsys):
    s = setup
    out = tmp_path / "old"
    args = ["batch", str(s["d"]), "--out", str(out), "--model", s["model"]]
    assert main(args) == 0
    capsys.readouterr()
    job = json.loads((out / JOB_FILE).read_text())
    del job["adapter"]
    (out / JOB_FILE).write_text(json.dumps({**job, "version": 2}))
    assert main([*args, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["skipped"] == 3 and summary["processed"] == 0
    assert json.loads((out / JOB_FILE).read_text())["version"] == 3
    (out / JOB_FILE).write_text(json.dumps({**job, "version": 2}))
    assert main([*args, "--adapter", str(s["mine"].folder)]) == 2
    assert "before adapters were part of a job" in capsys.readouterr().err.replace("\n", " ")


def _client(tmp: Path, model: str, **kw) -> TestClient:
    app = create_app(
        ServerSettings(
            model=model, device="cpu", allow_download=False, outputs=tmp / "outputs", ui=False, **kw
        )
    )
    app.state.service.wait_ready(120)
    return TestClient(app, base_url="http://localhost")


def _manifest(rows: list[tuple[str, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["path", "label"])
    w.writerows(rows)
    return buf.getvalue().encode()


def test_serve_with_an_adapter_and_the_adapters_api(setup, tmp_path):
    s = setup
    clip = s["clips"][1].read_bytes()
    with _client(tmp_path, s["model"], adapter=s["mine"].folder) as c:
        r = c.post("/v1/analyze", files={"file": ("a.wav", clip, "audio/wav")})
        assert r.status_code == 200, r.text
        assert r.json()["adapted"]["adapter"] == s["mine"].id
        listed = c.get("/v1/adapters").json()
        assert listed["active"] == s["mine"].id and listed["adapters"][0]["fits_model"] is True
        # train one from an upload (5 per class) and switch the server to it
        voices = {f"v{i}.wav": make_voice(1.0 + 0.05 * i, SR, seed=40 + i) for i in range(10)}
        files = []
        for name, x in voices.items():
            write_wav(tmp_path / name, x)
            files.append(("files", (name, (tmp_path / name).read_bytes(), "audio/wav")))
        rows = [(n, "calm" if i % 2 else "tense") for i, n in enumerate(voices)]
        r = c.post(
            "/v1/adapters",
            files=[("manifest", ("set.csv", _manifest(rows), "text/csv")), *files],
            data={"folds": "2", "bootstrap": "20"},
        )
        assert r.status_code == 201, r.text
        trained = r.json()
        assert (
            trained["labels"] == ["calm", "tense"]
            and trained["report"]["adaptation"]["mode"] == "cross-validation"
        )
        assert c.get(f"/v1/adapters/{trained['id']}").json()["info"]["labels"] == ["calm", "tense"]
        assert c.post(f"/v1/adapters/{trained['id']}/activate").status_code == 200
        r = c.post("/v1/analyze", files={"file": ("a.wav", clip, "audio/wav")})
        assert r.json()["adapted"]["labels"] == ["calm", "tense"]
        # too few examples per class: 422; other weights: 409 naming both hashes; unknown: 404
        few = c.post(
            "/v1/adapters", files=[("manifest", ("set.csv", _manifest(rows[:4]), "text/csv")), *files[:4]]
        )
        assert few.status_code == 422 and few.json()["error"]["code"] == "too_few_examples"
        foreign = s["d"] / "other"
        (tmp_path / "outputs" / "adapters" / s["other"].id).symlink_to(foreign, target_is_directory=True)
        r = c.post(f"/v1/adapters/{s['other'].id}/activate")
        assert r.status_code == 409 and "cd" * 32 in r.json()["error"]["message"]
        assert c.get("/v1/adapters/0000000000000000").status_code == 404
        assert c.delete(f"/v1/adapters/{trained['id']}").status_code == 200
        assert c.get("/v1/adapters").json()["active"] is None
        r = c.post("/v1/analyze", files={"file": ("a.wav", clip, "audio/wav")})
        assert "adapted" not in r.json()


def test_serve_refuses_an_adapter_for_other_weights(setup, tmp_path):
    s = setup
    with _client(tmp_path, s["model"], adapter=s["other"].folder) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "cd" * 32 in r.json()["message"]
        assert (
            c.post(
                "/v1/analyze", files={"file": ("a.wav", s["clips"][0].read_bytes(), "audio/wav")}
            ).status_code
            == 503
        )
