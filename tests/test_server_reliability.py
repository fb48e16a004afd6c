"""Issue 25, the server's part: what a hostile or careless client does to the server WITH THE WEB UI MOUNTED
(the default `serve` app), over REST and the WebSocket, on a tiny random model.

Host allow-list (DNS rebinding), wrong methods and unknown /v1 routes under the UI, bounded archive extraction,
odd archives (file-vs-folder clashes, long and deep names, GBK names without the UTF-8 flag, long CJK upload
names), deeply nested WebSocket messages, ping-only streams, disk full, evaluation admission under load,
reserved speaker ids, leftovers of a killed server, and server paths in messages.
"""

from __future__ import annotations

import io
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


def _zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
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
