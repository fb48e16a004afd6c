"""Issue 25, the server's part: what a hostile or careless client does to the server WITH THE WEB UI MOUNTED
(the default `serve` app), over REST and the WebSocket, on a tiny random model.

Host allow-list (DNS rebinding), wrong methods and unknown /v1 routes under the UI, bounded archive extraction,
odd archives (file-vs-folder clashes, long and deep names, GBK names without the UTF-8 flag, long CJK upload
names), deeply nested WebSocket messages, ping-only streams, disk full, evaluation admission under load,
reserved speaker ids, leftovers of a killed server, and server paths in messages.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile
from pathlib import Path

import pytest
from audio_factory import encode, make_voice
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from emostudio.cli import build_parser
from emostudio.cli.serve_cmd import settings_from_args
from emostudio.server.app import create_app
from emostudio.server.settings import ServerSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
SR = 16000
LOCAL = "http://localhost"


def _app(tmp: Path, model, **kw):
    kw.setdefault("outputs", tmp / "outputs")
    app = create_app(ServerSettings(model=str(model), device="cpu", allow_download=False, **kw))
    assert app.state.service.wait_ready(120)
    return app


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory, tiny_model_dir):
    """The default app: REST at /v1 and the Gradio UI mounted at /."""
    tmp = tmp_path_factory.mktemp("reliability")
    app = _app(tmp, tiny_model_dir)
    assert app.state.service.settings.ui
    with TestClient(app, base_url=LOCAL) as c:
        yield c, tmp / "outputs"


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> bytes:
    d = tmp_path_factory.mktemp("rel_wav")
    return encode(d / "v.wav", make_voice(0.8, SR, seed=5), SR, "wav").path.read_bytes()


def _error(r, status: int, code: str | None = None) -> str:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    if code is not None:
        assert err["code"] == code, err
    return err["message"]


def _zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def _ws_error(c: TestClient, url: str = "ws://localhost/v1/stream", **headers) -> tuple[dict, int]:
    """The fatal error message and close code of a refused WebSocket."""
    with c.websocket_connect(url, headers=headers) as ws:
        msg = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    return msg, closed.value.code


# ---------------------------------------------------------------------------------- 10: /v1 under the UI
def test_wrong_methods_and_unknown_v1_routes_answer_in_the_envelope_with_the_ui_mounted(ui_server):
    c, _ = ui_server
    for method, path, allow in (
        ("GET", "/v1/analyze", "POST"),
        ("DELETE", "/v1/runs", "GET"),
        ("PUT", "/v1/evaluations", "GET, POST"),
        ("POST", "/v1/runs/outputs_20240101_000000", "GET"),
    ):
        r = c.request(method, path)
        assert "is not allowed" in _error(r, 405, "method_not_allowed"), (method, path)
        assert r.headers["allow"] == allow
    for path in ("/v1/nope", "/v1", "/v1/runs/x/y/z/w"):
        assert path in _error(c.get(path), 404, "not_found")
    assert c.get("/").status_code == 200 and "<html" in c.get("/").text.lower()  # the UI still answers


# ---------------------------------------------------------------------------------- 2: DNS rebinding
def test_foreign_host_names_and_origins_are_refused_on_rest_and_websocket(ui_server):
    c, _ = ui_server
    for host in ("localhost:7860", "127.0.0.1", "127.0.0.1:7860", "[::1]:7860", "app.localhost"):
        assert c.get("/v1/runs", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:7860", "localhost.evil.example", "10.0.0.1", ""):
        assert "DNS rebinding" in _error(c.get("/v1/runs", headers={"host": host}), 421, "forbidden_host")
    assert c.get("/", headers={"host": "evil.example"}).status_code == 421  # the UI too
    r = c.post("/v1/analyze", headers={"origin": "http://evil.example"}, files={"file": ("a.wav", b"x")})
    _error(r, 421, "forbidden_origin")
    assert c.get("/v1/runs", headers={"origin": "http://localhost:7860"}).status_code == 200
    msg, code = _ws_error(c, host="evil.example")
    assert code == 1008 and msg["code"] == "forbidden_host" and msg["fatal"]
    msg, code = _ws_error(c, origin="http://evil.example")
    assert code == 1008 and msg["code"] == "forbidden_origin"


def test_allowed_host_flag_env_and_bound_address(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("EMOSTUDIO_ALLOWED_HOSTS", "env.example, ")
    args = build_parser().parse_args(["serve", "--allowed-host", "proxy.example", "--allowed-host", "b.lan"])
    assert settings_from_args(args).allowed_hosts == ["proxy.example", "b.lan"]
    assert settings_from_args(build_parser().parse_args(["serve"])).allowed_hosts == ["env.example"]
    app = _app(
        tmp_path, tiny_model_dir, ui=False, host="192.168.7.7", token="t", allowed_hosts=["proxy.example"]
    )
    auth = {"authorization": "Bearer t"}
    with TestClient(app, base_url=LOCAL) as c:
        for host in ("proxy.example", "PROXY.example:443", "192.168.7.7:7860", "localhost"):
            assert c.get("/v1/runs", headers={**auth, "host": host}).status_code == 200, host
        for host in ("env.example", "192.168.7.8", "evil.example"):
            _error(c.get("/v1/runs", headers={**auth, "host": host}), 421, "forbidden_host")
        with c.websocket_connect("ws://localhost/v1/stream?token=t", headers={"host": "proxy.example"}) as ws:
            ws.send_json({"type": "start", "sample_rate": 16000})
            assert ws.receive_json()["type"] == "ready"
            ws.send_json({"type": "stop"})


# ---------------------------------------------------------------------------------- 6: deep JSON on the WebSocket
def test_deeply_nested_websocket_messages_are_closed_with_a_code_not_a_traceback(ui_server):
    c, _ = ui_server
    deep = "[" * 200_000 + "]" * 200_000
    with c.websocket_connect("ws://localhost/v1/stream") as ws:
        ws.send_text(deep)
        msg = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1009 and msg["code"] == "message_too_large" and msg["fatal"]
    nested = '{"type": "start", "sample_rate": 16000, "name": ' + "[" * 5000 + "]" * 5000 + "}"
    with c.websocket_connect("ws://localhost/v1/stream") as ws:
        ws.send_text(nested)
        msg = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1009 and "nested" in msg["message"]
    with c.websocket_connect("ws://localhost/v1/stream") as ws:  # a later text frame
        ws.send_json({"type": "start", "sample_rate": 16000, "save": False})
        assert ws.receive_json()["type"] == "ready"
        ws.send_text('{"a": ' * 200_000 + "1" + "}" * 200_000)
        msgs = []
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                msgs.append(ws.receive_json())
    assert closed.value.code == 1009 and msgs[-1]["code"] == "message_too_large"
    assert c.get("/readyz").json()["in_flight"] == 0  # the stream's slot is free again


# ---------------------------------------------------------------------------------- 4: ping-only streams
def _send_until_closed(ws, send, every_s: float = 0.2, limit_s: float = 30) -> tuple[list[dict], int, float]:
    """Call `send(ws)` every `every_s` until the server closes; (messages received, close code, seconds)."""
    msgs: list[dict] = []
    t0 = time.monotonic()
    stop = threading.Event()

    def sender() -> None:
        while not stop.wait(every_s) and time.monotonic() - t0 < limit_s:
            try:
                send(ws)
            except Exception:  # the socket is closed: sending ends with it
                return

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                msgs.append(ws.receive_json())
    finally:
        stop.set()
        thread.join(5)
    return msgs, closed.value.code, time.monotonic() - t0


def test_a_ping_only_stream_times_out_and_the_wall_clock_bounds_every_stream(tmp_path, tiny_model_dir):
    app = _app(tmp_path, tiny_model_dir, stream_idle_timeout_s=1.0, max_stream_wall_s=4.0)
    with TestClient(app, base_url=LOCAL) as c:
        with c.websocket_connect("ws://localhost/v1/stream") as ws:  # pings only: idle after 1 s
            ws.send_json({"type": "start", "sample_rate": SR, "save": False})
            assert ws.receive_json()["type"] == "ready"
            msgs, code, took = _send_until_closed(ws, lambda w: w.send_json({"type": "ping"}))
        assert code == 4408 and took < 3.5 and any(m["type"] == "pong" for m in msgs)
        assert msgs[-1]["type"] == "result" and msgs[-1]["reason"] == "idle"
        pcm = (make_voice(0.25, SR, seed=1) * 20000).astype("<i2").tobytes()
        with c.websocket_connect(
            "ws://localhost/v1/stream"
        ) as ws:  # audio all along, yet past the wall clock
            ws.send_json({"type": "start", "sample_rate": SR, "name": "walled"})
            assert ws.receive_json()["type"] == "ready"
            msgs, code, took = _send_until_closed(ws, lambda w: w.send_bytes(pcm), every_s=0.25)
        assert code == 4410 and 3.5 < took < 20
        notice = [m for m in msgs if m.get("code") == "wall_clock_limit"]
        assert notice and "--max-stream-wall" in notice[0]["message"]
        result = msgs[-1]
        assert result["type"] == "result" and result["reason"] == "wall_clock" and result["run_id"]
        assert c.get(f"/v1/runs/{result['run_id']}").status_code == 200  # what was received is saved
        assert c.get("/readyz").json()["in_flight"] == 0


# ---------------------------------------------------------------------------------- archives: 3, 5, 12, 17
def _evals_left(outputs: Path) -> tuple[list[str], list[str]]:
    """(report folders, upload folders) under outputs/evaluations: what a refused upload must not leave."""
    root = outputs / "evaluations"
    reports = sorted(p.name for p in root.glob("eval_*")) if root.is_dir() else []
    uploads = sorted(p.name for p in (root / ".uploads").glob("*")) if (root / ".uploads").is_dir() else []
    return reports, uploads


def _post_archive(c: TestClient, data: bytes, name: str = "my set.zip", **form):
    return c.post("/v1/evaluations", files={"archive": (name, data, "application/zip")}, data=form)


def _streamed_zip(path: Path, name: str, size: int, chunk: bytes = b"\0" * (1 << 20)) -> Path:
    """A deflated zip holding `size` bytes of `chunk` repeated, written without holding it in memory."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(name, "w") as out:
        for _ in range(size // len(chunk)):
            out.write(chunk)
    return path


def test_archive_extraction_is_bounded_by_twice_the_upload_limit_and_by_its_ratio(
    tmp_path, tiny_model_dir, wav
):
    small = _app(tmp_path / "a", tiny_model_dir, max_upload_bytes=1_000_000)
    with TestClient(small, base_url=LOCAL) as c:
        # 3 MB of sound-like data (compresses a few times, far from a bomb) against the 2 MB budget
        data = _zip(
            [(f"angry/{i}.wav", wav[:44] + bytes(range(256)) * 4000) for i in range(3)], zipfile.ZIP_DEFLATED
        )
        assert len(data) < 1_000_000
        msg = _error(_post_archive(c, data), 413, "archive_too_large")
        assert msg.startswith("my set.zip: ") and "at most 2 MB" in msg
        assert _evals_left(tmp_path / "a" / "outputs") == ([], [])
        ok = _zip([("angry/a.wav", wav), ("happy/b.wav", wav)])  # within the budget: evaluated
        assert _post_archive(c, ok, wait="true").json()["state"] == "done"
    # a zip bomb that states its size honestly, under a large limit: stopped by the ratio, early
    big = _app(tmp_path / "b", tiny_model_dir, max_upload_bytes=100_000_000)
    bomb = _streamed_zip(tmp_path / "bomb.zip", "angry/a.wav", 150_000_000).read_bytes()
    assert len(bomb) < 1_000_000
    with TestClient(big, base_url=LOCAL) as c:
        msg = _error(_post_archive(c, bomb, "bomb.zip"), 413, "archive_too_large")
        assert msg.startswith("bomb.zip: ") and "times its compressed size" in msg
        assert _evals_left(tmp_path / "b" / "outputs") == ([], [])
    # stopped early: about the 16 MB floor is written, not the 150 MB inside (nor the 200 MB budget)
    from emostudio.server.archives import ArchiveTooLargeError, extract_archive

    with pytest.raises(ArchiveTooLargeError):
        extract_archive(tmp_path / "bomb.zip", tmp_path / "out", max_bytes=200_000_000)
    written = sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written < 20_000_000, written


@pytest.mark.parametrize(
    "entries, says",
    [
        ([("x", b"a"), ("x/y.wav", b"b")], "both a file and a folder"),
        ([("x/y.wav", b"b"), ("x", b"a")], "both a file and a folder"),
        ([("angry/a.wav", b"b"), ("angry/a.wav", b"c")], "appears twice"),
        ([("angry/" + "a" * 300 + ".wav", b"b")], "over 255 bytes"),
        ([("angry/" + "声" * 100 + ".wav", b"b")], "over 255 bytes"),
        ([("d/" * 2100 + "a.wav", b"b")], "2100 folders deep"),
    ],
    ids=["file-then-folder", "folder-then-file", "twice", "300-chars", "300-bytes-cjk", "2100-deep"],
)
def test_odd_archive_entries_are_a_clean_422_and_leave_nothing_behind(ui_server, entries, says):
    c, outputs = ui_server
    before = _evals_left(outputs)
    msg = _error(_post_archive(c, _zip(entries)), 422, "bad_upload")
    assert msg.startswith("my set.zip: ") and says in msg and len(msg) < 300
    assert _evals_left(outputs) == before


def test_long_cjk_and_emoji_upload_names_are_bounded_in_bytes_and_evaluated(ui_server, wav):
    c, outputs = ui_server
    names = ["声" * 118 + ".wav", "😀" * 118 + ".wav", "情绪" * 59 + ".WAV"]
    manifest = "path,label\n" + "".join(
        f"{n},{lab}\n" for n, lab in zip(names, ["angry", "happy", "sad"], strict=True)
    )
    r = c.post(
        "/v1/evaluations",
        files=[("manifest", ("m.csv", manifest.encode(), "text/csv"))]
        + [("files", (n, wav, "audio/wav")) for n in names],
        data={"wait": "true"},
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["state"] == "done" and doc["metrics"]["bad_rows"] == [], doc["metrics"]["bad_rows"]
    preds = c.get(doc["links"]["predictions.csv"]).text
    assert preds.count("\n") >= 4 and str(outputs) not in preds and ".uploads" not in preds  # 17
    assert _evals_left(outputs)[1] == []


def _patched_zip(entries: dict[str, bytes], raw_names: dict[str, bytes]) -> bytes:
    """A zip whose names are raw bytes WITHOUT the UTF-8 flag, as Windows Explorer and Info-ZIP write them:
    written under ASCII placeholders of the same length, then the placeholders' bytes replaced."""
    data = _zip(list(entries.items()))
    for placeholder, raw in raw_names.items():
        assert len(placeholder.encode()) == len(raw)
        data = data.replace(placeholder.encode(), raw)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert not any(i.flag_bits & 0x800 for i in zf.infolist())
    return data


def test_zip_names_without_the_utf8_flag_are_decoded_as_utf8_gb18030_or_cp437(ui_server, wav):
    c, _ = ui_server
    gb = {
        "T~q1": "测试",
        "A~q2": "生气",
        "H~q3": "开心",
        "S~q4": "难过",
        "R~q5": "㐀",
    }  # 㐀: GB18030, not GBK
    windows = _patched_zip(
        {"T~q1/A~q2/a.wav": wav, "T~q1/H~q3/b.wav": wav, "T~q1/S~q4/R~q5.wav": wav},
        {k: v.encode("gb18030") for k, v in gb.items()},
    )
    infozip = _patched_zip(  # UTF-8 bytes without the flag (Info-ZIP, macOS Archive Utility), and CP437
        {"H~q3xx/a.wav": wav, "A~q2xx/b.wav": wav, "sad/caf~.wav": wav},
        {"H~q3xx": "开心".encode(), "A~q2xx": "生气".encode(), "caf~": b"caf\x82"},
    )
    # imported here: the module is new, and the file also runs against older code to show what failed there
    from emostudio.server.archives import zip_name

    for data, expected in (
        (windows, ["测试/生气/a.wav", "测试/开心/b.wav", "测试/难过/㐀.wav"]),
        (infozip, ["开心/a.wav", "生气/b.wav", "sad/café.wav"]),
    ):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert [zip_name(i) for i in zf.infolist()] == expected
        r = _post_archive(c, data, "windows.zip", wait="true")
        assert r.status_code == 200, r.text
        metrics = r.json()["metrics"]
        assert metrics["bad_rows"] == [], metrics["bad_rows"]  # every folder read as its label
        preds = c.get(r.json()["links"]["predictions.csv"]).text
        assert sum(lab in preds for lab in ("angry", "happy", "sad")) == 3, preds


def test_messages_and_predictions_name_the_clients_files_not_server_paths(ui_server, wav):
    c, outputs = ui_server
    manifest = "path,label\nC:\\Users\\me\\good.wav,angry\nbroken.wav,sad\nnot_sent.wav,happy\n"
    files = [("good.wav", wav), ("broken.wav", wav[:60] + b"\xff" * 50)]
    r = c.post(
        "/v1/evaluations",
        files=[("manifest", ("m.csv", manifest.encode(), "text/csv"))]
        + [("files", (n, d, "audio/wav")) for n, d in files],
        data={"wait": "true"},
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    preds = c.get(doc["links"]["predictions.csv"]).text
    shown = json.dumps(doc, ensure_ascii=False) + preds
    assert "broken.wav" in shown and "not_sent.wav" in shown and "good.wav" in shown
    for leak in (str(outputs / "evaluations" / ".uploads"), ".uploads", "manifest/m.csv"):
        assert leak not in shown, (leak, shown[max(0, shown.find(leak) - 300) : shown.find(leak) + 200])
    archive = _zip([("set/m.csv", b"path,label\nsad/a.wav,sad\nsad/gone.wav,sad\n"), ("set/sad/a.wav", wav)])
    r = _post_archive(c, archive, "set.zip", wait="true")
    shown = json.dumps(r.json(), ensure_ascii=False) + c.get(r.json()["links"]["predictions.csv"]).text
    assert "gone.wav" in shown and ".uploads" not in shown and "set.zip:set/m.csv" in shown, shown[:2000]


# ---------------------------------------------------------------------------------- 16: after kill -9
def test_leftovers_of_a_killed_server_are_cleaned_at_start_and_never_listed(tmp_path, tiny_model_dir, wav):
    outputs = tmp_path / "outputs"
    with TestClient(_app(tmp_path, tiny_model_dir, ui=False), base_url=LOCAL) as c:
        done = c.post("/v1/analyze", files={"file": ("v.wav", wav, "audio/wav")}).json()["run_id"]
    # what save_run leaves when killed: its hidden temporary folder (a partial frames.csv) and the claimed name
    temp = outputs / ".outputs_20240101_000000.k9x2.tmp"
    temp.mkdir()
    (temp / "frames.csv").write_text("start_s,end_s\n0.0,0.0")
    claimed = outputs / "outputs_20240101_000000"
    claimed.mkdir()
    young = outputs / "outputs_20240101_000001"  # just claimed by a writer that may still be running
    young.mkdir()
    old = time.time() - 3600
    for p in (temp / "frames.csv", temp, claimed):
        os.utime(p, (old, old))
    os.utime(outputs / done, (old, old))  # a complete run, however old, is never touched
    with TestClient(_app(tmp_path, tiny_model_dir), base_url=LOCAL) as c:
        assert not temp.exists() and not claimed.exists() and young.is_dir()
        assert (outputs / done / "result.json").is_file()
        listed = c.get("/v1/runs").json()
        assert [r["run_id"] for r in listed["runs"]] == [done] and listed["total"] == 1
        _error(c.get(f"/v1/runs/{young.name}"), 404, "run_not_found")


# ---------------------------------------------------------------------------------- 15: every speaker id
def test_speaker_ids_with_slashes_or_named_like_routes_are_addressable(ui_server, wav):
    c, _ = ui_server
    run = c.post("/v1/analyze", files={"file": ("v.wav", wav, "audio/wav")}).json()["run_id"]
    ids = ["export", "compare", "a/b", "../x", "客户 7/线路 2", "search"]
    for i, sid in enumerate(ids):
        r = c.post(
            "/v1/speaker/records",
            params={"speaker": sid},
            data={"run_id": run, "at": f"2026-01-0{i + 1}T09:00Z", "tags": "t"},
        )
        assert r.status_code == 200, (sid, r.text)
        assert r.json()["record"]["speaker"] == sid
    assert c.get("/v1/profiles").json()["speakers"] == dict.fromkeys(ids, 1)
    for sid in ids:
        q = {"speaker": sid}
        assert c.get("/v1/speaker", params=q).json()["speaker"] == sid
        recs = c.get("/v1/speaker/records", params=q).json()
        assert recs["total"] == 1 and recs["records"][0]["speaker"] == sid
        assert c.get("/v1/speaker/trend", params=q).json()["periods"], sid
        png = c.get("/v1/speaker/trend", params={**q, "format": "png"})
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert c.get("/v1/profiles/export", params={"speaker": "export", "format": "csv"}).status_code == 200
    # the old URLs keep working for plain ids
    c.post("/v1/profiles/alice/records", data={"run_id": run})
    assert c.get("/v1/profiles/alice").json()["speaker"] == "alice"
    assert c.get("/v1/speaker", params={"speaker": "alice"}).json()["speaker"] == "alice"
    for sid in [*ids, "alice"]:
        assert c.delete("/v1/speaker", params={"speaker": sid}).json() == {"speaker": sid, "deleted": 1}
    _error(c.get("/v1/speaker", params={"speaker": "export"}), 404)
    _error(c.get("/v1/speaker"), 422, "bad_parameters")  # the id is required


# ---------------------------------------------------------------------------------- 14: admission under load
def test_an_evaluation_starts_within_a_bounded_wait_under_upload_load(tmp_path, tiny_model_dir, wav):
    app = _app(tmp_path, tiny_model_dir, queue_size=8, max_streams=0)
    stop = threading.Event()
    statuses: list[int] = []

    def hammer(c: TestClient) -> None:
        while not stop.is_set():
            statuses.append(c.post("/v1/analyze", files={"file": ("v.wav", wav, "audio/wav")}).status_code)

    archive = _zip([("angry/a.wav", wav), ("happy/b.wav", wav)])
    with TestClient(app, base_url=LOCAL) as c:
        threads = [threading.Thread(target=hammer, args=(c,), daemon=True) for _ in range(16)]
        for t in threads:
            t.start()
        try:
            time.sleep(2)  # the queue is full of uploads now
            assert 429 in statuses, statuses[-20:]
            waits = []
            for _ in range(3):
                t0 = time.monotonic()
                r = _post_archive(c, archive, wait="true")
                waits.append(time.monotonic() - t0)
                assert r.status_code == 200 and r.json()["state"] == "done", r.text
        finally:
            stop.set()
            for t in threads:
                t.join(30)
    assert max(waits) < 60
    assert statuses.count(200) > 10 and statuses.count(429) > 0  # uploads still served, and refused fairly
    assert set(statuses) <= {200, 429}
    assert app.state.service.in_flight == 0 and app.state.service._reserved == 0


# ---------------------------------------------------------------------------------- 9: disk full
DISK_FULL_SCRIPT = r"""
import json, sys, io, zipfile
sys.path.insert(0, sys.argv[3])
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from emostudio.server.app import create_app
from emostudio.server.settings import ServerSettings

disk, model, wav = sys.argv[1], sys.argv[2], open(sys.argv[4], "rb").read()
app = create_app(ServerSettings(model=model, device="cpu", allow_download=False, outputs=disk + "/outputs"))
assert app.state.service.wait_ready(120)
out = {}
with TestClient(app, base_url="http://localhost") as c:
    with open(disk + "/filler", "wb") as f:  # fill the disk to the last byte
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("angry/a.wav", wav)
        zf.writestr("happy/b.wav", wav)
    r = c.post("/v1/evaluations", files={"archive": ("set.zip", buf.getvalue())}, data={"wait": "true"})
    out["evaluation"] = [r.status_code, r.json()]
    with c.websocket_connect("ws://localhost/v1/stream") as ws:
        ws.send_json({"type": "start", "sample_rate": 16000, "name": "full"})
        out["ready"] = ws.receive_json()["type"]
        msgs = []
        try:
            for _ in range(200):
                ws.send_bytes(b"\1\0" * 16000)
            while True:
                msgs.append(ws.receive_json())
        except WebSocketDisconnect as e:
            out["ws_close"] = e.code
        out["ws"] = msgs
    out["readyz_in_flight"] = c.get("/readyz").json()["in_flight"]
    import os
    os.unlink(disk + "/filler")
    r = c.post("/v1/analyze", files={"file": ("v.wav", wav)})
    out["after"] = r.status_code
    import pathlib
    ev = pathlib.Path(disk) / "outputs" / "evaluations"
    out["left"] = sorted(p.name for p in ev.glob("eval_*")) + sorted(p.name for p in ev.glob(".uploads/*"))
print("RESULT " + json.dumps(out))
"""


def test_a_full_disk_is_507_for_evaluations_and_a_close_code_for_streams(tmp_path, tiny_model_dir, wav):
    import subprocess
    import sys

    disk = tmp_path / "disk"
    disk.mkdir()
    (tmp_path / "v.wav").write_bytes(wav)
    script = tmp_path / "full.py"
    script.write_text(DISK_FULL_SCRIPT)
    run = f"mount -t tmpfs -o size=6m tmpfs '{disk}' && exec '{sys.executable}' '{script}' '{disk}' "
    run += f"'{tiny_model_dir}' '{Path(__file__).parent}' '{tmp_path / 'v.wav'}'"
    done = subprocess.run(["unshare", "-m", "sh", "-c", run], capture_output=True, text=True, timeout=400)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, done.stderr[-3000:]
    out = json.loads(line[7:])
    status, body = out["evaluation"]
    assert status == 507 and body["error"]["code"] == "output_error", body
    assert "disk is full" in body["error"]["message"]
    assert out["ready"] == "ready" and out["ws_close"] == 4507, out
    errors = [m for m in out["ws"] if m["type"] == "error"]
    assert errors and errors[0]["code"] == "output_error" and "disk is full" in errors[0]["message"]
    assert "nothing saved" in errors[-1]["message"], errors  # no space for what was received: said so
    assert out["readyz_in_flight"] == 0 and out["after"] == 200  # the server goes on once there is room
    assert out["left"] == [], out["left"]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
