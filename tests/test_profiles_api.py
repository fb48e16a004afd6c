"""REST /v1/profiles/... and /v1/similar, and the web UI's Profiles tab, on a tiny random model."""

from __future__ import annotations

import asyncio
import io

import gradio as gr
import pandas as pd
import pyarrow.parquet as pq
import pytest
from audio_factory import encode, make_voice
from fastapi.testclient import TestClient
from test_profiles import weekly

from emostudio.messages import t
from emostudio.profiles import ProfileStore
from emostudio.server import ui
from emostudio.server.app import create_app
from emostudio.server.profiles.service import profiles_service
from emostudio.server.settings import ServerSettings

pytestmark = pytest.mark.integration

SR = 16000


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("api_clips")
    return {
        "a": encode(d / "a.wav", make_voice(1.5, SR, seed=1), SR, "wav").path.read_bytes(),
        "b": encode(d / "b.wav", make_voice(1.5, SR, seed=2), SR, "wav").path.read_bytes(),
    }


def _app(tmp, model, **kw):
    app = create_app(
        ServerSettings(model=str(model), device="cpu", allow_download=False, outputs=tmp / "out", **kw)
    )
    assert app.state.service.wait_ready(120)
    return app


def _error(r, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.json()
    return r.json()["error"]["message"]


def test_profiles_rest_end_to_end(tmp_path, tiny_model_dir, clips):
    app = _app(tmp_path, tiny_model_dir, ui=False)
    with TestClient(app, base_url="http://localhost") as c:
        _error(c.get("/v1/profiles/alice"), 404, "empty_store")
        run_a = c.post("/v1/analyze", files={"file": ("a.wav", clips["a"])}).json()["run_id"]  # no embedding
        r = c.post(
            "/v1/profiles/alice/records", data={"run_id": run_a, "tags": "vip, q1", "at": "2026-01-05T09:00Z"}
        )
        assert r.status_code == 200, r.text
        rec = r.json()["record"]
        assert rec["speaker"] == "alice" and rec["run_id"] == run_a and rec["tags"] == ["q1", "vip"]
        assert rec["recorded_at"] == "2026-01-05T09:00:00+00:00" and rec["dim"] == 64
        up = c.post("/v1/profiles/alice/records", files={"file": ("b.wav", clips["b"])})
        assert up.status_code == 200 and up.json()["run_id"].startswith("outputs_")
        again = c.post(
            "/v1/profiles/alice/records", data={"run_id": run_a, "tags": "vip", "at": "2026-01-05T09:00Z"}
        )  # replaces it
        assert again.json()["record"]["id"] == rec["id"] and again.json()["record"]["tags"] == ["vip"]

        ov = c.get("/v1/profiles").json()
        assert (
            ov["speakers"] == {"alice": 2} and ov["kind"] == "local" and ov["collections"][0]["records"] == 2
        )
        s = c.get("/v1/profiles/alice").json()
        assert s["records"] == 2 and s["speaker"] == "alice"
        lst = c.get("/v1/profiles/alice/records", params={"limit": 1}).json()
        assert lst["total"] == 2 and len(lst["records"]) == 1
        assert c.get("/v1/profiles/alice", params={"tag": "vip"}).json()["records"] == 1

        tr = c.get("/v1/profiles/alice/trend", params={"by": "month"}).json()
        assert tr["alert"]["status"] == "not_enough_data" and tr["periods"]
        png = c.get("/v1/profiles/alice/trend", params={"format": "png"})
        assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
        page = c.get("/v1/profiles/alice/trend", params={"format": "html"})
        assert page.headers["content-type"].startswith("text/html") and "data:image/png;base64" in page.text

        hits = c.post("/v1/profiles/search", data={"run_id": run_a, "k": 5}).json()["matches"]
        assert hits[0]["id"] == rec["id"] and hits[0]["cosine"] == pytest.approx(1.0, abs=1e-5)
        hits = c.post("/v1/profiles/search", files={"file": ("b.wav", clips["b"])}, data={"k": 1}).json()
        assert hits["matches"][0]["source"] == "b.wav"
        old = c.post("/v1/profiles/search", data={"run_id": run_a, "until": "2026-02-01"}).json()["matches"]
        assert [h["id"] for h in old] == [rec["id"]]

        sim = c.post("/v1/similar", files={"file_a": ("a.wav", clips["a"]), "file_b": ("a2.wav", clips["a"])})
        assert sim.json()["cosine"] == pytest.approx(1.0, abs=1e-5) and set(sim.json()["reading"]) == {
            "zh",
            "en",
        }
        sim = c.post("/v1/similar", data={"run_a": run_a}, files={"file_b": ("b.wav", clips["b"])}).json()
        assert sim["cosine"] < 1 and sim["score_distance"] is not None and sim["a"]["run_id"] == run_a

        assert "file_b or run_b" in _error(
            c.post("/v1/similar", data={"run_a": run_a}), 422, "bad_parameters"
        )
        c.post("/v1/profiles/bob/records", data={"run_id": up.json()["run_id"]})
        cmp = c.get("/v1/profiles/compare", params={"a": "alice", "b": "bob"}).json()
        assert cmp["a"]["records"] == 2 and cmp["b"]["records"] == 1 and "reading" in cmp
        pq_bytes = c.get("/v1/profiles/export").content
        table = pq.read_table(io.BytesIO(pq_bytes))
        assert table.num_rows == 3 and "embedding" in table.column_names
        csv = c.get("/v1/profiles/export", params={"format": "csv", "speaker": "bob"})
        assert (
            csv.headers["content-type"].startswith("text/csv")
            and len(pd.read_csv(io.StringIO(csv.text))) == 1
        )

        # errors: typed, with their HTTP status
        _error(c.get("/v1/profiles/carol"), 404, "unknown_speaker")
        _error(c.get("/v1/profiles/export", params={"speaker": "carol"}), 404, "unknown_speaker")
        _error(
            c.post("/v1/profiles/alice/records", data={"run_id": "outputs_20000101_000000"}),
            404,
            "run_not_found",
        )
        _error(c.post("/v1/profiles/alice/records", data={}), 422, "bad_parameters")
        _error(c.post("/v1/profiles/ /records", data={"run_id": run_a}), 422, "profile_error")
        _error(c.post("/v1/profiles/alice/records", data={"run_id": run_a, "at": "soon"}), 422, "bad_time")
        for end in ("0001-01-01T00:00+14:00", "9999-12-31T23:59:59-14:00"):  # the calendar's ends (issue 25)
            _error(
                c.post("/v1/profiles/alice/records", data={"run_id": run_a, "at": end}),
                422,
                "time_out_of_range",
            )
            _error(c.get("/v1/profiles/alice/trend", params={"since": end}), 422, "time_out_of_range")
            _error(c.get("/v1/profiles/alice", params={"until": end}), 422, "time_out_of_range")
        _error(c.get("/v1/profiles/alice/trend", params={"tz": "Mars/Base"}), 422, "profile_error")
        _error(c.get("/v1/profiles/alice/trend", params={"threshold": 2}), 422, "bad_parameters")

        assert c.delete("/v1/profiles/alice").json() == {"speaker": "alice", "deleted": 2}
        assert c.get("/v1/profiles").json()["speakers"] == {"bob": 1}
        _error(c.delete("/v1/profiles/alice"), 404, "unknown_speaker")
    # the app closed the store on shutdown: the folder opens again
    with ProfileStore(tmp_path / "out" / "profiles") as store:
        assert store.speakers() == {"bob": 1}


def test_profiles_rest_needs_the_token(tmp_path, tiny_model_dir):
    app = _app(tmp_path, tiny_model_dir, ui=False, token="s3cret")
    with TestClient(app, base_url="http://localhost") as c:
        _error(c.get("/v1/profiles"), 401, "unauthorized")
        _error(c.delete("/v1/profiles/x"), 401, "unauthorized")
        ok = c.get("/v1/profiles", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["speakers"] == {}


def test_store_locked_by_another_process_is_a_typed_409(tmp_path, tiny_model_dir):
    (tmp_path / "out").mkdir()
    with ProfileStore(tmp_path / "out" / "profiles"):  # someone else holds the server's store folder
        app = _app(tmp_path, tiny_model_dir, ui=False)
        with TestClient(app, base_url="http://localhost") as c:
            msg = _error(c.get("/v1/profiles"), 409, "store_locked")
            assert "another process" in msg


def _fn(blocks, name):
    return next(f.fn for f in blocks.fns.values() if getattr(f.fn, "__name__", "") == name)


def test_ui_profiles_tab_adds_the_current_result_and_shows_the_trend(tmp_path, tiny_model_dir, clips):
    app = _app(tmp_path, tiny_model_dir, ui=False)
    service = app.state.service
    blocks = ui.build_ui(service)
    config = blocks.get_config_file()
    texts = str(config)
    assert "档案" in texts and "profile-add" in texts and "profile-trend" in texts
    done = asyncio.run(service.analyze(clips["a"], name="a.wav"))
    doc = done.to_dict()
    add, show = _fn(blocks, "add_current"), _fn(blocks, "show")
    message, pick, _ = asyncio.run(add(doc, "alice", "vip", "", "English"))
    assert "alice" in message and pick["value"] == "alice"
    # a mistake is said in the status area in red, replacing the success, and leaves the picker as it was
    failed, pick, said = asyncio.run(add(None, "alice", "", "", "English"))
    assert "Analyse a clip" in failed and "profile-add-error" in failed and "alice" not in failed
    assert pick == gr.skip() and "ok" not in said
    failed, pick, _ = asyncio.run(add(doc, " ", "", "", "中文"))
    assert "说话人" in failed and "profile-add-error" in failed and pick == gr.skip()
    card, image, table = asyncio.run(show("alice", "week", doc, "English"))
    assert "alice · 1 records" in card and "Not enough data" in card and image.size[0] > 300
    assert list(table.columns) == list(t("profile_near_cols", "en")) and table.iloc[0, 0] == "1.000"
    profiles_service(service).store().add(weekly("cust", [2, 4, 6, 8, 10, 12, 14, 16]))
    card, image, table = asyncio.run(show("cust", "week", None, "中文"))
    assert "预警" in card and 'class="alert-text alert"' in card  # the alert, in red (render.html.CSS)
    assert list(table.columns) == list(t("profile_recent_cols", "zh")) and len(table) == 5
    with pytest.raises(Exception, match="no records for speaker"):
        asyncio.run(show("nobody", "week", None, "English"))
    service.close()
    profiles_service(service).close()
