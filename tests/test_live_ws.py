"""WebSocket /v1/stream on a real `emostudio serve` process (loopback only).

- A 20 s recording sent in real time (48 kHz float32) gets an update for every hop while it is being sent, and
  the saved run equals the file's frame-mode analysis.
- 4 live streams and uploads at once, within the limits (--max-streams 4, --queue-size 8); the 5th stream is
  refused with too_many_streams and close code 1013.
- A client that stops sending is closed after --stream-idle-timeout (4408) and its stream is freed.
- Malformed frames, unsupported rates, protocol misuse, a missing token, a foreign origin: clear JSON errors,
  the documented close codes, and the server keeps serving.
"""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.request
import uuid

import numpy as np
import pytest
from audio_factory import encode
from server_process import ServerProcess
from signals import voice
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

pytestmark = pytest.mark.integration

ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # the tiny model's many small calls: see test_live.one_torch_thread


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    tmp = tmp_path_factory.mktemp("live_ws")
    args = ["--model", str(tiny_model_dir), "--device", "cpu", "--offline", "--outputs", str(tmp / "outputs")]
    args += ["--no-ui", "--queue-size", "8", "--max-streams", "4", "--stream-idle-timeout", "3"]
    with ServerProcess(args, log_path=tmp / "server.log", env=ONE_THREAD) as srv:
        yield srv, tmp


def ws_url(srv) -> str:
    return srv.url.replace("http://", "ws://") + "/v1/stream"


def readyz(srv) -> dict:
    return srv.readyz()[1]


def start(ws, **fields) -> dict:
    ws.send(json.dumps({"type": "start", **fields}))
    return json.loads(ws.recv(timeout=30))


def messages_until_close(ws, timeout_s: float = 60) -> tuple[list[dict], int | None]:
    out = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            out.append(json.loads(ws.recv(timeout=deadline - time.monotonic())))
    except ConnectionClosed as e:
        return out, e.rcvd.code if e.rcvd else None
    raise AssertionError(f"the server did not close the stream within {timeout_s} s; got {out[-3:]}")


def post_file(srv, path, **fields) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for k, v in fields.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    body.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'.encode()
    )
    body.write(b"Content-Type: audio/wav\r\n\r\n" + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode())
    req = urllib.request.Request(
        srv.url + "/v1/analyze",
        body.getvalue(),
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def send_in_real_time(ws, frames: np.ndarray, rate: int, chunk_s: float = 0.1, speed: float = 1.0) -> None:
    step = int(rate * chunk_s)
    t0 = time.monotonic()
    for i in range(0, len(frames), step):
        ws.send(np.ascontiguousarray(frames[i : i + step]).tobytes())
        wait = t0 + (i + step) / rate / speed - time.monotonic()
        if wait > 0:
            time.sleep(wait)


def test_a_20_s_recording_in_real_time_gets_an_update_every_hop(server, tmp_path):
    srv, _ = server
    x, _ = voice(20, sr=48000, seed=3, pauses=False)
    path = encode(tmp_path / "talk.wav", x, 48000, "wav_f32").path
    got: list[dict] = []
    with connect(ws_url(srv)) as ws:
        ready = start(ws, sample_rate=48000, format="f32le", name="talk.wav", skip_late=False)
        assert ready["type"] == "ready" and ready["limits"]["max_streams"] == 4 and ready["hop_s"] == 0.5
        done_sending = threading.Event()
        sent_at: dict = {}

        def receive() -> None:
            while True:
                try:
                    msg = json.loads(ws.recv(timeout=120))
                except (ConnectionClosed, TimeoutError):
                    return
                msg["_during_send"] = not done_sending.is_set()
                got.append(msg)
                if msg["type"] == "result":
                    return

        reader = threading.Thread(target=receive)
        reader.start()
        sent_at["start"] = time.monotonic()
        send_in_real_time(ws, x.astype("<f4"), 48000)
        sent_at["end"] = time.monotonic()
        done_sending.set()
        ws.send(json.dumps({"type": "stop"}))
        reader.join(180)
    assert sent_at["end"] - sent_at["start"] >= 19.5, "the recording was sent in real time"
    updates = [m for m in got if m["type"] == "update"]
    assert [u["time_s"] for u in updates] == [k / 2 for k in range(2, 41)], "one update per hop, 1.0 … 20.0 s"
    assert all(u["channel"] is None and u["skipped"] == 0 and u["latency_ms"] >= 0 for u in updates)
    assert sum(u["_during_send"] for u in updates) >= 30, "updates arrive while the audio is still being sent"
    assert all(u["window"][1] - u["window"][0] == min(3.0, u["time_s"]) for u in updates)
    assert all(abs(sum(u["scores"].values()) - 1) < 1e-4 for u in updates)
    result = got[-1]
    assert result["type"] == "result" and result["reason"] == "stop" and result["run_id"]
    assert result["latency_ms"]["p50"] >= 0 and result["stats"]["updates"] == 39
    with urllib.request.urlopen(srv.url + result["links"]["self"], timeout=30) as r:
        run = json.loads(r.read())
    assert run["granularity"] == "frame" and run["source"] == "talk.wav" and run["frames"]["count"] == 200
    status, upload = post_file(srv, path, granularity="frame")
    assert status == 200
    for key, score in upload["scores"].items():
        assert abs(score - run["scores"][key]) <= 2e-6, "the stream's saved result equals the uploaded file's"


def test_four_live_streams_and_uploads_at_once_within_the_limits(server, tmp_path):
    srv, _ = server
    clip = encode(tmp_path / "clip.wav", voice(4, seed=9)[0], 16000, "wav").path
    x = (voice(6, seed=8, pauses=False)[0] * 32767).astype("<i2")
    results: dict[int, list] = {}
    uploads: list[tuple[int, dict]] = []
    opened = threading.Barrier(5)

    def one_stream(k: int) -> None:
        with connect(ws_url(srv)) as ws:
            ready = start(ws, sample_rate=16000, name=f"stream-{k}")
            assert ready["type"] == "ready", ready
            opened.wait(60)
            send_in_real_time(ws, x, 16000, speed=2.0)  # the one real-time test is the 20 s one above
            ws.send(json.dumps({"type": "stop"}))
            results[k] = messages_until_close(ws, 120)

    threads = [threading.Thread(target=one_stream, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    opened.wait(60)  # all 4 are live now
    with connect(ws_url(srv)) as ws:
        refused = start(ws, sample_rate=16000)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert refused["type"] == "error" and refused["code"] == "too_many_streams" and refused["fatal"]
    assert "4" in refused["message"] and closed.value.rcvd.code == 1013
    up = [threading.Thread(target=lambda: uploads.append(post_file(srv, clip))) for _ in range(3)]
    for t in up:
        t.start()
    for t in up + threads:
        t.join(180)
    assert [s for s, _ in uploads] == [200, 200, 200], uploads
    assert sorted(results) == [0, 1, 2, 3]
    for msgs, code in results.values():
        assert code == 1000
        updates = [m for m in msgs if m["type"] == "update"]
        assert len(updates) >= 3 and msgs[-1]["type"] == "result" and msgs[-1]["run_id"]
    body = readyz(srv)
    assert body["in_flight"] == 0, "every stream and upload gave its queue slot back"


def test_a_client_that_stops_sending_is_closed_and_freed(server):
    srv, tmp = server
    x = (voice(2.5, seed=12, pauses=False)[0] * 32767).astype("<i2")
    with connect(ws_url(srv)) as ws:
        start(ws, sample_rate=16000, name="gone-quiet")
        ws.send(x.tobytes())
        t0 = time.monotonic()
        msgs, code = messages_until_close(ws, 30)
    waited = time.monotonic() - t0
    assert code == 4408 and 2.5 <= waited < 20
    result = msgs[-1]
    assert result["type"] == "result" and result["reason"] == "idle" and result["run_id"], msgs[-2:]
    assert (tmp / "outputs" / result["run_id"] / "result.json").is_file(), "what it sent is saved"
    assert readyz(srv)["in_flight"] == 0
    with connect(ws_url(srv)) as ws:  # its place is free again
        assert start(ws, sample_rate=16000)["type"] == "ready"
        ws.send(json.dumps({"type": "stop"}))
        msgs, code = messages_until_close(ws, 30)
    assert code == 1000 and msgs[-1]["type"] == "error" and "no audio" in msgs[-1]["message"]


@pytest.mark.parametrize(
    ("first", "then", "code", "close_code", "words"),
    [
        ({"sample_rate": 100}, None, "bad_parameters", 1003, "unsupported sample rate 100 Hz"),
        ({"sample_rate": 16000, "format": "mp3"}, None, "bad_parameters", 1003, "unsupported sample format"),
        ({"sample_rate": 16000, "samplerate": 1}, None, "bad_parameters", 1003, "unknown field(s)"),
        ({"sample_rate": 16000, "channels": 9}, None, "bad_parameters", 1003, "channels must be from 1 to 8"),
        (b"\x00\x01", None, "bad_message", 1008, "text message first"),
        ("not json", None, "bad_message", 1008, "not JSON"),
        ({"sample_rate": 16000}, b"\x00\x01\x02", "bad_frame", 1007, "not a whole number of samples"),
        (
            {"sample_rate": 16000, "format": "f32le"},
            np.full(8, np.nan, "<f4").tobytes(),
            "bad_frame",
            1007,
            "NaN",
        ),
        ({"sample_rate": 16000}, b"\x00" * (2 << 20), "frame_too_large", 1009, "at most"),
    ],
    ids=[
        "rate",
        "format",
        "unknown-field",
        "channels",
        "bytes-first",
        "not-json",
        "ragged",
        "nan",
        "too-large",
    ],
)
def test_bad_input_gets_a_clear_message_and_close_code(server, first, then, code, close_code, words):
    srv, _ = server
    with connect(ws_url(srv), max_size=None) as ws:
        if isinstance(first, dict):
            ws.send(json.dumps({"type": "start", **first}))
        else:
            ws.send(first)
        if then is not None:
            assert json.loads(ws.recv(timeout=30))["type"] == "ready"
            ws.send(then)
        msgs, got = messages_until_close(ws, 30)
    err = msgs[-1]
    assert err["type"] == "error" and err["code"] == code and err["fatal"] and words in err["message"], err
    assert got == close_code
    assert readyz(srv)["in_flight"] == 0
    with urllib.request.urlopen(srv.url + "/healthz", timeout=10) as r:
        assert r.status == 200


def test_an_unknown_message_is_answered_and_the_stream_goes_on(server):
    srv, _ = server
    with connect(ws_url(srv)) as ws:
        start(ws, sample_rate=16000, save=False)
        ws.send(json.dumps({"type": "pause"}))
        err = json.loads(ws.recv(timeout=30))
        assert err["type"] == "error" and not err["fatal"] and "unknown message" in err["message"]
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=30))["type"] == "pong"
        ws.send((voice(2, seed=2, pauses=False)[0] * 32767).astype("<i2").tobytes())
        ws.send(json.dumps({"type": "stop"}))
        msgs, code = messages_until_close(ws, 60)
    assert code == 1000 and msgs[-1]["type"] == "result" and msgs[-1]["run_id"] is None  # save: false
    assert any(m["type"] == "update" for m in msgs)


def test_two_channels_of_a_call_stream_as_two_speakers(server):
    srv, _ = server
    a, _ = voice(5, seed=13, pauses=False)
    b, _ = voice(5, seed=14, pauses=False)
    stereo = (np.stack([0.3 * a, np.clip(3 * b, -1, 1)], axis=1) * 32767).astype("<i2")
    with connect(ws_url(srv)) as ws:
        ready = start(ws, sample_rate=16000, channels=2, channel_mode="separate", roles=["agent", "customer"])
        assert ready["roles"] == ["agent", "customer"]
        send_in_real_time(ws, stereo, 16000, speed=4.0)
        ws.send(json.dumps({"type": "stop"}))
        msgs, code = messages_until_close(ws, 60)
    updates = [m for m in msgs if m["type"] == "update"]
    assert {(u["channel"], u["role"]) for u in updates} == {(0, "agent"), (1, "customer")}
    result = msgs[-1]
    assert code == 1000 and result["speakers"] == 2
    assert [c["role"] for c in result["channels"]] == ["agent", "customer"]


def test_the_token_is_required_when_set_and_foreign_pages_are_refused(tmp_path, tiny_model_dir):
    args = ["--model", str(tiny_model_dir), "--device", "cpu", "--offline", "--outputs", str(tmp_path / "o")]
    with ServerProcess([*args, "--no-ui", "--token", "s3cret"], env=ONE_THREAD) as srv:
        with connect(ws_url(srv)) as ws:
            msgs, code = messages_until_close(ws, 30)
        assert code == 1008 and msgs[-1]["code"] == "unauthorized"
        with connect(ws_url(srv) + "?token=s3cret") as ws:
            assert start(ws, sample_rate=16000)["type"] == "ready"
        with connect(ws_url(srv), additional_headers={"Authorization": "Bearer s3cret"}) as ws:
            assert start(ws, sample_rate=16000)["type"] == "ready"
        with connect(ws_url(srv) + "?token=s3cret", origin="http://evil.example") as ws:
            msgs, code = messages_until_close(ws, 30)
        assert code == 1008 and msgs[-1]["code"] == "forbidden_origin"


def test_rest_analyze_scores_each_channel_of_a_call(server, tmp_path):
    srv, _ = server
    a, _ = voice(4, seed=15)
    b, _ = voice(4, seed=16, pauses=False)
    path = encode(
        tmp_path / "call.wav", np.stack([0.3 * a, np.clip(3 * b, -1, 1)], axis=1), 16000, "wav"
    ).path
    status, doc = post_file(srv, path, channels="separate", roles="agent,customer", granularity="frame")
    assert status == 200 and doc["speakers"] == 2
    assert [(c["index"], c["role"], c["status"]) for c in doc["channels"]] == [
        (0, "agent", "speaker"),
        (1, "customer", "speaker"),
    ]
    with urllib.request.urlopen(srv.url + doc["links"]["frames_csv_ch1"], timeout=30) as r:
        assert r.read().startswith(b"start_s,end_s,emotion,confidence")
    status, err = post_file(srv, path, channels="both")
    assert status == 422 and err["error"]["code"] == "bad_parameters"
    status, err = post_file(srv, path, channels="separate", roles="a,b,c")
    assert status == 422 and "3 roles" in err["error"]["message"]
