"""REST: /v1/analyze's `speakers` field with the web UI mounted: a bad value is a 422 in the error envelope
before any work, empty/off is an analysis without turns, auto and N give the diarization, turns and speakers
blocks of result.json (tiny random-weights model: the mechanism, not the labels)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from signals import write_wav
from two_voices import conversation

from emostudio.server.app import create_app
from emostudio.server.settings import ServerSettings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("speakers_api")
    app = create_app(
        ServerSettings(
            model=str(tiny_model_dir), device="cpu", allow_download=False, outputs=tmp / "out", ui=True
        )
    )
    assert app.state.service.wait_ready(120)
    with TestClient(app, base_url="http://localhost") as c:
        yield c


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("conv")
    return write_wav(folder / "conversation.wav", conversation(folder)).read_bytes()


def _post(client, wav: bytes, **fields):
    return client.post("/v1/analyze", files={"file": ("conversation.wav", wav, "audio/wav")}, data=fields)


@pytest.mark.parametrize("value", ["two", "9", "-1", "2.5", "auto,2"])
def test_a_bad_speakers_value_is_a_422_in_the_envelope(client, wav, value):
    runs = client.get("/v1/runs").json()["total"]
    r = _post(client, wav, speakers=value)
    assert r.status_code == 422, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == "bad_argument"
    assert "speakers must be auto or a number 1-8" in body["error"]["message"]
    assert client.get("/v1/runs").json()["total"] == runs  # refused before any work: no run written


@pytest.mark.parametrize("value", ["", "off", "0"])
def test_empty_or_off_is_an_analysis_without_turns(client, wav, value):
    r = _post(client, wav, speakers=value)
    assert r.status_code == 200, r.text
    assert not {"diarization", "turns"} & set(r.json())


def test_auto_and_n_give_the_speaker_blocks(client, wav):
    doc = _post(client, wav, speakers="auto").json()
    assert doc["diarization"]["requested"] == "auto" and doc["turns"] and doc["speakers"]
    assert {turn["speaker"] for turn in doc["turns"]} == {sp["id"] for sp in doc["speakers"]}
    assert client.get(f"/v1/runs/{doc['run_id']}").json()["turns"] == doc["turns"]  # stored as answered
    two = _post(client, wav, speakers="2").json()  # N reaches the engine as at most N
    assert two["diarization"]["requested"] == 2 and two["speakers"]  # at most N: the engine's tests
