"""REST evaluations on a tiny random model: uploads (manifest + files, zip archives), server folders under the
allowed roots, progress and reports, the baseline, history, and every refusal (traversal, unsafe archives)."""

from __future__ import annotations

import csv
import io
import json
import stat
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from audio_factory import bad_truncated_wav, encode, make_voice
from fastapi.testclient import TestClient

from emostudio.server.app import create_app
from emostudio.server.evaluate.inputs import ROOTS_ENV
from emostudio.server.evaluate.routes import given_name
from emostudio.server.evaluate.service import Job, evaluations_for
from emostudio.server.settings import ServerSettings

pytestmark = pytest.mark.integration

SR = 16000
LABELS = ["生气", "Angry", "anger", "开心", "happy", "中立", "难过", "吃惊"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("evclips")
    out = {}
    for i in range(len(LABELS)):
        out[f"clip{i}.wav"] = encode(
            d / f"clip{i}.wav", make_voice(0.8 + 0.1 * i, SR, seed=200 + i), SR, "wav"
        ).path.read_bytes()
    out["broken.wav"] = bad_truncated_wav(d).read_bytes()
    return out


def _app(tmp: Path, model, **kw) -> TestClient:
    app = create_app(
        ServerSettings(
            model=str(model), device="cpu", allow_download=False, outputs=tmp / "outputs", ui=False, **kw
        )
    )
    assert app.state.service.wait_ready(120)
    return TestClient(app, base_url="http://localhost")


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("evsrv")
    with _app(tmp, tiny_model_dir) as c:
        yield c, tmp / "outputs"


def _manifest(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "path", "label", "speaker"])
    w.writerows(rows)
    return buf.getvalue().encode()


def _zip(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buf.getvalue()


def _error(r, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    return err["message"]


def _wait_done(c, eid: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        st = c.get(f"/v1/evaluations/{eid}").json()
        if st["state"] != "running":
            return st
        time.sleep(0.2)
    raise AssertionError(f"evaluation {eid} still running")


def _leftovers(outputs: Path) -> list[str]:
    root = outputs / "evaluations"
    uploads = [p.name for p in (root / ".uploads").iterdir()] if (root / ".uploads").is_dir() else []
    empty = [p.name for p in root.iterdir() if p.name.startswith("eval_") and not any(p.iterdir())]
    return uploads + empty


def test_manifest_and_files_upload_waits_for_the_report(server, clips):
    c, outputs = server
    rows = [[f"c{i}", f"audio/clip{i}.wav", lab, f"s{i % 2}"] for i, lab in enumerate(LABELS)]
    rows += [
        ["gone", "audio/not_uploaded.wav", "sad", "s0"],
        ["odd", "audio/clip0.wav", "bored", "s1"],
        ["bad", "broken.wav", "happy", "s1"],
    ]
    files = [("files", (name, data, "audio/wav")) for name, data in clips.items()]
    r = c.post(
        "/v1/evaluations",
        files=[("manifest", ("set.csv", _manifest(rows), "text/csv")), *files],
        data={"wait": "true"},
    )
    assert r.status_code == 200, r.text
    st = r.json()
    assert st["state"] == "done" and st["links"]["report.html"].endswith("/files/report.html")
    doc = st["metrics"]
    assert doc["n"] == len(LABELS) and doc["status"]["code"] == 1
    assert {r["class"]: r["support"] for r in doc["models"][doc["comparison"][0]["model"]]["per_class"]}[
        "angry"
    ] == 3
    bad = {b["where"]: b for b in doc["bad_rows"]}
    assert bad["line 10"]["code"] == "missing" and "not among the uploaded files" in bad["line 10"]["message"]
    assert bad["line 11"]["code"] == "unknown_label"
    assert bad["line 12"]["code"] == "corrupt" and str(outputs) not in bad["line 12"]["message"]
    eid = st["id"]
    html = c.get(f"/v1/evaluations/{eid}/files/report.html")
    assert html.status_code == 200 and "default-src 'none'" in html.headers["content-security-policy"]
    assert "data:image/png;base64," in html.text
    assert c.get(f"/v1/evaluations/{eid}/files/predictions.csv").text.startswith("id,where,path")
    png = c.get(f"/v1/evaluations/{eid}/files/confusion_matrix.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert c.get(f"/v1/evaluations/{eid}/files/metrics.json").json()["ua"] == doc["ua"]
    assert [h["wa"] for h in c.get(f"/v1/evaluations/{eid}/history").json()["runs"]] == [doc["wa"]]
    assert _leftovers(outputs) == []  # uploads removed once scored
    assert eid in [e["id"] for e in c.get("/v1/evaluations").json()["evaluations"]]
    assert _listed_name(c, eid) == "set.csv"  # named by the uploaded manifest, as in the web UI


def _listed_name(c, eid: str) -> str | None:
    """The name GET /v1/evaluations gives an evaluation (what the UI's past evaluations show)."""
    listed = {e["id"]: e for e in c.get("/v1/evaluations", params={"limit": 200}).json()["evaluations"]}
    return listed[eid]["name"]


def test_the_name_a_client_gave_is_its_last_path_part():
    up = lambda name: SimpleNamespace(filename=name)  # noqa: E731 (what given_name reads of an UploadFile)
    assert given_name(up("C:\\sets\\calls 2026.zip"), None, None) == "calls 2026.zip"
    assert given_name(None, up("../m.csv"), None) == "m.csv"
    assert given_name(None, None, "/data/testsets/set1/") == "set1"
    assert given_name(up(""), None, None) is None and given_name(None, None, None) is None


def test_zip_of_label_folders_in_the_background_then_a_stable_rerun(server, clips):
    c, outputs = server
    names = ["生气", "Angry", "anger", "开心", "happy", "中立"]
    archive = _zip({f"testset/{lab}/clip{i}.wav": clips[f"clip{i}.wav"] for i, lab in enumerate(names)})
    r = c.post("/v1/evaluations", files={"archive": ("set.zip", archive, "application/zip")})
    assert r.status_code == 202, r.text
    first = _wait_done(c, r.json()["id"])
    assert first["state"] == "done", first
    doc = first["metrics"]
    assert doc["manifest"]["kind"] == "folder" and doc["n"] == 6 and doc["status"]["code"] == 0
    model = doc["comparison"][0]["model"]
    assert {x["class"]: x["support"] for x in doc["models"][model]["per_class"]}["angry"] == 3
    assert first["progress"] is None or first["progress"]["done"] == 6
    assert _listed_name(c, first["id"]) == "set.zip"  # not "data" nor the staged "archive.zip"
    # the same archive again, compared with the first run: nothing moved
    r = c.post(
        "/v1/evaluations",
        files={"archive": ("set.zip", archive, "application/zip")},
        data={"baseline": first["id"], "wait": "true"},
    )
    st = r.json()["metrics"]["stability"]
    assert st["passed"] and st["same_manifest"] and st["models"][0]["drift_max"] == 0.0
    runs = c.get(f"/v1/evaluations/{r.json()['id']}/history").json()["runs"]
    assert [x["report"].rsplit("/", 1)[-1] for x in runs] == [first["id"], r.json()["id"]]


def test_unsafe_or_broken_uploads_are_refused_and_leave_nothing(server, clips):
    c, outputs = server
    wav = clips["clip0.wav"]
    cases = {
        "traversal": _zip({"../evil/angry/a.wav": wav}),
        "absolute": _zip({"/tmp/angry/a.wav": wav}),
        "link": _zip({"set/angry/a.wav": wav}, links={"set/angry/b.wav": "/etc/passwd"}),
        "not a zip": b"this is not a zip",
        "two manifests": _zip({"a.csv": b"path,label\nx.wav,sad\n", "b.csv": b"path,label\nx.wav,sad\n"}),
    }
    for name, data in cases.items():
        r = c.post("/v1/evaluations", files={"archive": ("set.zip", data, "application/zip")})
        assert r.status_code == 422, (name, r.text)
        _error(r, 422, "bad_upload")
    r = c.post("/v1/evaluations", files={"manifest": ("m.csv", b"path,speaker\nx.wav,a\n", "text/csv")})
    assert "no label column" in _error(r, 422, "bad_manifest")
    r = c.post(
        "/v1/evaluations",
        files=[
            ("manifest", ("m.csv", _manifest([["a", "a.wav", "sad", ""]]), "text/csv")),
            ("files", ("a.wav", wav, "audio/wav")),
            ("files", ("a.wav", wav, "audio/wav")),
        ],
    )
    assert "unique" in _error(r, 422, "bad_upload")
    # a manifest inside an archive may not reach outside it
    inner = _zip(
        {
            "set/m.csv": _manifest([["a", "a.wav", "sad", ""], ["b", "../../../etc/passwd", "sad", ""]]),
            "set/a.wav": wav,
        }
    )
    r = c.post(
        "/v1/evaluations", files={"archive": ("set.zip", inner, "application/zip")}, data={"wait": "true"}
    )
    doc = r.json()["metrics"]
    assert doc["n"] == 1 and [b["code"] for b in doc["bad_rows"]] == ["outside_root"]
    assert _leftovers(outputs) == []


def test_server_folders_only_under_the_allowed_roots(server, clips, tmp_path, monkeypatch):
    c, _ = server
    root = tmp_path / "testsets"
    for i, lab in enumerate(["sad", "悲伤"]):
        (root / "set1" / lab).mkdir(parents=True)
        (root / "set1" / lab / f"c{i}.wav").write_bytes(clips[f"clip{i}.wav"])
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "x.wav").write_bytes(clips["clip2.wav"])
    (root / "m.csv").write_text(
        f"path,label\nset1/sad/c0.wav,sad\n../private/x.wav,sad\n{outside}/x.wav,sad\n"
    )
    monkeypatch.delenv(ROOTS_ENV, raising=False)
    assert ROOTS_ENV in _error(
        c.post("/v1/evaluations", data={"folder": str(root / "set1")}), 403, "forbidden_path"
    )
    monkeypatch.setenv(ROOTS_ENV, str(root))
    _error(c.post("/v1/evaluations", data={"folder": str(outside)}), 403, "forbidden_path")
    _error(
        c.post("/v1/evaluations", data={"folder": str(root / "set1" / ".." / ".." / "private")}),
        403,
        "forbidden_path",
    )
    _error(c.post("/v1/evaluations", data={"folder": "nope"}), 422, "bad_manifest")
    r = c.post("/v1/evaluations", data={"folder": "set1", "wait": "true", "classes": "4"})
    doc = r.json()["metrics"]
    assert doc["n"] == 2 and doc["classes"] == "4" and doc["bad_rows"] == []
    assert _listed_name(c, r.json()["id"]) == "set1"
    r = c.post("/v1/evaluations", data={"folder": str(root / "m.csv"), "wait": "true"})
    doc = r.json()["metrics"]
    assert doc["n"] == 1 and [b["code"] for b in doc["bad_rows"]] == ["outside_root", "outside_root"]


def test_errors_busy_and_not_found(server, clips, tmp_path):
    c, outputs = server
    _error(c.get("/v1/evaluations/eval_20240101_000000"), 404, "evaluation_not_found")
    _error(c.get("/v1/evaluations/eval_x"), 404, "evaluation_not_found")
    assert c.get("/v1/evaluations/..%2F..%2Fetc").status_code == 404  # never routed
    _error(
        c.post(
            "/v1/evaluations", data={"folder": "a"}, files={"archive": ("a.zip", b"x", "application/zip")}
        ),
        422,
        "bad_parameters",
    )
    _error(c.post("/v1/evaluations", data={}), 422, "bad_parameters")
    r = c.post("/v1/evaluations", data={"folder": "x", "baseline": "eval_20240101_000000"})
    _error(r, 404, "evaluation_not_found")
    eid = c.get("/v1/evaluations").json()["evaluations"][0]["id"]
    _error(c.get(f"/v1/evaluations/{eid}/files/secret.txt"), 404, "evaluation_not_found")
    assert c.get(f"/v1/evaluations/{eid}/files/..%2F..%2Fresult.json").status_code == 404
    _error(c.get(f"/v1/evaluations/{eid}/files/..png"), 404, "evaluation_not_found")
    # one evaluation at a time
    evals = evaluations_for(c.app.state.service)
    evals.jobs["eval_20990101_000000"] = Job("eval_20990101_000000", outputs / "x", "now", state="running")
    try:
        r = c.post(
            "/v1/evaluations", files={"archive": ("a.zip", _zip({"sad/a.wav": clips["clip0.wav"]}), "x")}
        )
        assert "still running" in _error(r, 429, "queue_full")
    finally:
        del evals.jobs["eval_20990101_000000"]
    assert _leftovers(outputs) == []


def test_token_is_required(tmp_path, tiny_model_dir):
    with _app(tmp_path, tiny_model_dir, host="0.0.0.0", token="s3cret") as c:
        _error(c.get("/v1/evaluations"), 401, "unauthorized")
        ok = c.get("/v1/evaluations", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["total"] == 0
        assert "/v1/evaluations" in json.dumps(c.get("/openapi.json").json()["paths"])


def test_a_server_stopping_mid_run_leaves_a_failed_evaluation_not_a_half_report(
    tmp_path, tiny_model_dir, clips
):
    with _app(tmp_path, tiny_model_dir) as c:
        service = c.app.state.service
        service.worker.close()  # what shutdown does: every later model call is refused
        archive = _zip({f"set/sad/clip{i}.wav": clips[f"clip{i}.wav"] for i in range(3)})
        r = c.post(
            "/v1/evaluations",
            files={"archive": ("set.zip", archive, "application/zip")},
            data={"wait": "true"},
        )
        assert r.status_code == 200, r.text
        st = r.json()
        assert st["state"] == "failed" and st["error"]["code"] == "evaluation_aborted"
        folder = tmp_path / "outputs" / "evaluations" / st["id"]
        assert not (folder / "metrics.json").exists() and (folder / "error.json").is_file()
        assert c.get(f"/v1/evaluations/{st['id']}").json()["state"] == "failed"
        assert service.in_flight == 0  # the slots were given back
        assert _leftovers(tmp_path / "outputs") == []


def test_archive_extraction_repairs_gbk_names_and_stops_at_the_size_limit(tmp_path):
    from emostudio.server.evaluate.inputs import UploadError, extract_archive, find_test_set

    # a zip made on Chinese Windows: GBK names without the UTF-8 flag (written with a placeholder, then patched)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("set/XXXX/a.wav", b"RIFF")
    data = buf.getvalue().replace(b"set/XXXX/", b"set/" + "生气".encode("gbk") + b"/")
    (tmp_path / "gbk.zip").write_bytes(data)
    out = extract_archive(tmp_path / "gbk.zip", tmp_path / "x", max_bytes=1 << 20)
    assert (out / "set" / "生气" / "a.wav").read_bytes() == b"RIFF"
    assert find_test_set(out) == out / "set"  # the wrapping folder is looked through
    # a small archive that inflates past the limit is stopped while writing
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sad/big.wav", b"\0" * (4 << 20))
    (tmp_path / "bomb.zip").write_bytes(buf.getvalue())
    assert (tmp_path / "bomb.zip").stat().st_size < 64 << 10
    with pytest.raises(UploadError, match="once extracted"):
        extract_archive(tmp_path / "bomb.zip", tmp_path / "y", max_bytes=1 << 20)
