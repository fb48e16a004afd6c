"""The server under misbehaving clients and internal failures: one JSON error shape, one log line, no leftovers.

A real `emostudio serve` process on loopback (tiny random model): an internal failure answers the JSON error
shape with 500 and logs one line without a traceback; user errors log one line each and never the upload's
content; a client that disconnects mid-upload or trickles its body leaves no temp file and the server serves on.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from hostile import wav_bytes
from server_process import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
MARKER = b"SECRET-MARKER-7f3a"


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("robust")
    args = [
        "--model",
        str(tiny_model_dir),
        "--device",
        "cpu",
        "--offline",
        "--outputs",
        str(tmp / "out"),
        "--no-ui",
    ]
    with ServerProcess(args, log_path=tmp / "server.log") as srv:
        yield srv, tmp / "out", tmp / "server.log"


def _post(url: str, name: str, data: bytes) -> tuple[int, dict]:
    boundary = "----emostudio-test"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(
        url + "/v1/analyze",
        body,
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _log(path: Path) -> str:
    time.sleep(0.3)
    return path.read_text(encoding="utf-8", errors="replace")


def test_an_internal_failure_is_one_json_500_and_one_log_line(server):
    srv, out, log = server
    status, doc = _post(srv.url, "ok.wav", wav_bytes(np.sin(np.arange(24000) / 4) * 0.3, 16000))
    assert status == 200, doc
    (out / doc["run_id"] / "result.json").write_bytes(b"{ this is not json")  # a damaged disk, say
    status, body = _get(f"{srv.url}/v1/runs/{doc['run_id']}")
    assert status == 500 and set(body) == {"error"} and body["error"]["code"] == "internal_error", body
    assert _get(srv.url + "/healthz")[0] == 200  # still serving
    text = _log(log)
    assert text.count(f"internal error on GET /v1/runs/{doc['run_id']}") == 1, text
    assert "Traceback" not in text


def test_user_errors_log_one_line_without_the_upload(server):
    srv, _, log = server
    before = _log(log)
    for i in range(3):
        status, body = _post(srv.url, f"notes{i}.wav", MARKER * 200)
        assert status == 415 and body["error"]["code"] == "not_audio", body
    status, body = _post(srv.url, "tiny.wav", wav_bytes(np.ones(100) * 0.1, 16000))
    assert status == 422 and body["error"]["code"] == "too_short", body
    new = _log(log)[len(before) :]
    lines = [ln for ln in new.splitlines() if "emostudio.server" in ln]
    assert len(lines) == 4, new
    assert "Traceback" not in new and MARKER.decode() not in new


def _spool_files(out: Path) -> list[Path]:
    return [p for p in (out / ".tmp").rglob("*") if p.is_file()] if (out / ".tmp").exists() else []


def test_a_client_that_disconnects_mid_upload_leaves_nothing(server):
    srv, out, _ = server
    host, port = "127.0.0.1", int(srv.url.rsplit(":", 1)[1])
    boundary = "----cut"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n'
    ).encode()
    total = 8 * 1024 * 1024
    for sent in (2 * 1024 * 1024, 6 * 1024 * 1024):  # past the in-memory spool size, then cut
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(
                (
                    f"POST /v1/analyze HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; "
                    f"boundary={boundary}\r\nContent-Length: {len(head) + total}\r\n\r\n"
                ).encode()
                + head
            )
            chunk = b"\0" * 65536
            for _ in range(sent // len(chunk)):
                s.sendall(chunk)
        time.sleep(1.0)
    assert _get(srv.url + "/healthz")[0] == 200
    assert _spool_files(out) == []


def test_a_slow_client_is_served_and_leaves_nothing(server):
    srv, out, _ = server
    host, port = "127.0.0.1", int(srv.url.rsplit(":", 1)[1])
    boundary = "----slow"
    audio = wav_bytes(np.sin(np.arange(32000) / 6) * 0.3, 16000)
    body = (
        (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.wav"\r\n\r\n').encode()
        + audio
        + f"\r\n--{boundary}--\r\n".encode()
    )
    with socket.create_connection((host, port), timeout=60) as s:
        s.sendall(
            (
                f"POST /v1/analyze HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; "
                f"boundary={boundary}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        step = len(body) // 20 + 1
        for i in range(0, len(body), step):  # ~2 s of trickling
            s.sendall(body[i : i + step])
            time.sleep(0.1)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
    assert _spool_files(out) == []
