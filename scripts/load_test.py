#!/usr/bin/env python
"""Bounded load test for `emostudio serve`: bursts of concurrent /v1/analyze requests to 127.0.0.1 only.

Sends `--rounds` bursts of `--concurrency` simultaneous requests (default: 4 × the queue size) and checks that
every request gets a result (200) or a clear "busy" answer (429/503) within `--timeout` seconds, that the
server is still up afterwards, and how its memory (RSS) moved. Prints a JSON summary; exits 1 on any failure.

    python scripts/load_test.py --spawn --model demo --queue-size 2          # starts and stops its own server
    python scripts/load_test.py --url http://127.0.0.1:7860 --queue-size 8   # an already running one
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import httpx
import numpy as np

OK_STATUSES = {200, 429, 503}
TESTS = Path(__file__).resolve().parents[1] / "tests"  # server_process.py: the test suite's server harness


def voice_wav(duration_s: float, sample_rate: int = 16000, seed: int = 0) -> bytes:
    """A voiced, speech-like test clip (harmonics of a wandering pitch, syllable envelope) as 16-bit WAV bytes."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t) + rng.normal(0, 1, t.size).cumsum() / sample_rate
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    x *= 0.5 + 0.5 * np.sin(2 * np.pi * 3.5 * t) ** 2
    x = 0.5 * x / np.abs(x).max()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes((x * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def percentile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def run_load(
    url: str,
    *,
    concurrency: int,
    rounds: int,
    timeout_s: float,
    clip: bytes,
    token: str | None = None,
    pid: int | None = None,
) -> dict:
    """Fire the bursts; returns the summary dict (see module doc)."""
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing to load-test {host}: this script only talks to 127.0.0.1")
    sys.path.insert(0, str(TESTS))
    from server_process import rss_mb

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    results: list[tuple[int, float, str]] = []  # (status or -1, seconds, error code / note)
    lock = threading.Lock()
    rss_samples: list[float] = []
    stop = threading.Event()

    def sample_rss() -> None:
        while not stop.is_set() and pid:
            rss_samples.append(rss_mb(pid))
            stop.wait(0.1)

    def one(i: int, client: httpx.Client) -> None:
        t0 = time.perf_counter()
        try:
            r = client.post(
                f"{url}/v1/analyze",
                files={"file": (f"load_{i}.wav", clip, "audio/wav")},
                data={"granularity": "frame" if i % 2 else "utterance"},
                headers=headers,
            )
            body = r.json()
            note = (
                body.get("emotion", "")
                if r.status_code == 200
                else (body.get("error") or {}).get("code", "?")
            )
            out = (r.status_code, time.perf_counter() - t0, note)
        except httpx.HTTPError as exc:
            out = (-1, time.perf_counter() - t0, type(exc).__name__)
        with lock:
            results.append(out)

    rss_before = rss_mb(pid) if pid else None
    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    wall0 = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(timeout=timeout_s, limits=limits) as client, ThreadPoolExecutor(concurrency) as pool:
        for r in range(rounds):
            list(pool.map(lambda i: one(i, client), range(r * concurrency, (r + 1) * concurrency)))
        alive = client.get(f"{url}/healthz").status_code == 200
    wall = time.perf_counter() - wall0
    stop.set()
    sampler.join()
    rss_after = rss_mb(pid) if pid else None

    by_status: dict[str, dict] = {}
    for status in sorted({s for s, _, _ in results}):
        lat = [t for s, t, _ in results if s == status]
        by_status[str(status)] = {
            "count": len(lat),
            "p50_s": round(statistics.median(lat), 3),
            "p95_s": round(percentile(lat, 0.95), 3),
            "max_s": round(max(lat), 3),
        }
    bad = [r for r in results if r[0] not in OK_STATUSES]
    slow = [r for r in results if r[1] > timeout_s]
    return {
        "url": url,
        "concurrency": concurrency,
        "rounds": rounds,
        "requests": len(results),
        "wall_s": round(wall, 3),
        "by_status": by_status,
        "errors": sorted({n for s, _, n in results if s != 200}),
        "unexpected": len(bad),
        "over_timeout": len(slow),
        "server_alive": alive,
        "rss_mb": None
        if pid is None
        else {
            "before": round(rss_before, 1),
            "after": round(rss_after, 1),
            "peak": round(max(rss_samples or [rss_after]), 1),
        },
        "ok": alive and not bad and not slow and len(results) == concurrency * rounds,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a running server (127.0.0.1 only)")
    p.add_argument("--pid", type=int, help="its process id, to read its memory")
    p.add_argument("--spawn", action="store_true", help="start a server for the test and stop it afterwards")
    p.add_argument("--model", default="demo", help="with --spawn: model id or folder (default demo)")
    p.add_argument("--queue-size", type=int, default=2, help="the server's queue size (default 2)")
    p.add_argument("--concurrency", type=int, help="simultaneous requests (default 4 × queue size)")
    p.add_argument("--rounds", type=int, default=3, help="bursts to send (default 3)")
    p.add_argument("--seconds", type=float, default=2.0, help="length of the test clip (default 2 s)")
    p.add_argument(
        "--timeout", type=float, default=10.0, help="longest acceptable answer in seconds (default 10)"
    )
    p.add_argument("--token", help="bearer token, if the server has one")
    args = p.parse_args(argv)
    concurrency = args.concurrency or 4 * args.queue_size
    clip = voice_wav(args.seconds)
    if args.spawn:
        sys.path.insert(0, str(TESTS))
        from server_process import ServerProcess

        with (
            tempfile.TemporaryDirectory() as tmp,
            ServerProcess(
                [
                    "--model",
                    args.model,
                    "--device",
                    "cpu",
                    "--offline",
                    "--outputs",
                    f"{tmp}/outputs",
                    "--queue-size",
                    str(args.queue_size),
                    "--no-ui",
                    *(["--token", args.token] if args.token else []),
                ],
                log_path=f"{tmp}/server.log",
            ) as srv,
        ):
            summary = run_load(
                srv.url,
                concurrency=concurrency,
                rounds=args.rounds,
                timeout_s=args.timeout,
                clip=clip,
                token=args.token,
                pid=srv.proc.pid,
            )
    elif args.url:
        summary = run_load(
            args.url,
            concurrency=concurrency,
            rounds=args.rounds,
            timeout_s=args.timeout,
            clip=clip,
            token=args.token,
            pid=args.pid,
        )
    else:
        p.error("give --url or --spawn")
    print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
