"""REST: one error envelope for every 4xx/5xx, the size limit in one unit, offline docs, compare two takes.

Each case here was answered differently before (issue 18, point 5, 6, 8, 12): `{"detail": "Not Found"}`,
a 400 "error parsing the body" for a streamed upload over the limit, `run_not_found` for a missing file of an
existing run, "104.9 MB" / "100.0 Mb" / "100 MB" for the same limit, blank docs offline, cache paths on /readyz.
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hostile import wav_bytes
from signals import mix, voice, white

from emostudio.messages import format_size
from emostudio.server.app import create_app
from emostudio.server.settings import ServerSettings

pytestmark = pytest.mark.integration

LIMIT = 1_000_000


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("errors")
    app = create_app(
        ServerSettings(
            model=str(tiny_model_dir), device="cpu", allow_download=False, outputs=tmp / "out", ui=False,
            max_upload_bytes=LIMIT,
        )
    )  # fmt: skip
    assert app.state.service.wait_ready(120)
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def _envelope(r, status: int, code: str) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    return body["error"]["message"]


def test_unknown_routes_and_wrong_methods_use_the_envelope(client):
    _envelope(client.get("/v1/nope"), 404, "not_found")
    _envelope(client.post("/v1"), 404, "not_found")
    r = client.get("/v1/analyze")
    assert "POST" in _envelope(r, 405, "method_not_allowed") and r.headers["allow"] == "POST"
    _envelope(client.delete("/v1/runs"), 405, "method_not_allowed")
    _envelope(client.put("/v1/similarity"), 405, "method_not_allowed")


def test_uploads_over_the_limit_are_413_streamed_or_declared(client):
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n'

    def chunks():  # chunked transfer: no Content-Length, the limit is found while the body streams in
        yield head
        for _ in range(12):
            yield b"\0" * 256 * 1024
        yield b"\r\n--b--\r\n"

    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    message = _envelope(client.post("/v1/analyze", content=chunks(), headers=headers), 413, "too_large")
    assert format_size(LIMIT) in message
    body = head + b"\0" * (3 * LIMIT) + b"\r\n--b--\r\n"
    assert format_size(LIMIT) in _envelope(
        client.post("/v1/analyze", content=body, headers=headers), 413, "too_large"
    )


def test_the_size_limit_reads_in_one_unit():
    assert format_size(100_000_000) == "100 MB" and format_size(LIMIT) == "1.0 MB"
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "100 MB" in readme and "104.9" not in readme and "100.0 Mb" not in readme


def test_a_known_run_without_that_file_is_file_not_found(client):
    r = client.post(
        "/v1/analyze", files={"file": ("a.wav", wav_bytes(np.sin(np.arange(24000) / 5) * 0.3, 16000))}
    )
    run_id = r.json()["run_id"]
    _envelope(client.get(f"/v1/runs/{run_id}/files/nope.txt"), 404, "file_not_found")
    _envelope(client.get(f"/v1/runs/{run_id}/files/embedding.npy"), 404, "file_not_found")
    _envelope(client.get("/v1/runs/outputs_20990101_000000/files/result.json"), 404, "run_not_found")


def test_docs_are_served_with_local_assets(client):
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        r = client.get(page)
        assert r.status_code == 200 and f"/docs-assets/{asset}" in r.text
        assert "cdn.jsdelivr" not in r.text and "unpkg" not in r.text and "fonts.googleapis" not in r.text
        assert client.get(f"/docs-assets/{asset}").status_code == 200


def test_readyz_hides_where_weights_were_looked_for_without_the_token(tmp_path):
    app = create_app(
        ServerSettings(
            host="0.0.0.0", token="s3cret", model=str(tmp_path / "no_weights"), allow_download=False,
            outputs=tmp_path / "out", ui=False,
        )
    )  # fmt: skip
    assert not app.state.service.wait_ready(60)
    with TestClient(app, base_url="http://localhost") as c:
        anon = c.get("/readyz")
        assert anon.status_code == 503 and anon.json() == {"ready": False, "state": "missing"}
        full = c.get("/readyz", headers={"Authorization": "Bearer s3cret"}).json()
        assert str(tmp_path / "no_weights") in " ".join(full["searched"])


def test_compare_two_takes_says_which_is_more_reliable_and_why(client):
    x, active = voice(6, seed=31)
    noisy = wav_bytes(mix(x, active, white(len(x)), 5), 16000)
    clean = wav_bytes(x, 16000)
    r = client.post("/v1/compare", files={"file_a": ("noisy.wav", noisy), "file_b": ("quiet.wav", clean)})
    assert r.status_code == 200, r.text
    cmp = r.json()
    assert cmp["more_reliable"] == "b" and cmp["decided_by"] == "quality"
    assert "SNR" in cmp["verdict"]["en"] and "信噪比" in cmp["verdict"]["zh"]
    snr = next(q for q in cmp["quality"] if q["name"] == "snr")
    assert snr["a"] == pytest.approx(5, abs=3) and snr["b"] > 30 and snr["delta"] > 20
    assert set(cmp["a"]["scores"]) == set(cmp["b"]["scores"]) and len(cmp["a"]["scores"]) == 9
    assert -1 <= cmp["similarity"] <= 1
    # the same takes as past runs (their saved result.json) compare the same way
    runs = {d["source"]: d["run_id"] for d in client.get("/v1/runs").json()["runs"]}
    again = client.post("/v1/compare", data={"run_a": runs["noisy.wav"], "run_b": runs["quiet.wav"]}).json()
    assert again["more_reliable"] == "b" and again["b"]["source"] == "quiet.wav"
    assert again["quality"] == cmp["quality"]
    _envelope(client.post("/v1/compare", data={"run_a": runs["quiet.wav"]}), 422, "bad_parameters")
