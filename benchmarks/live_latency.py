"""Live update latency: `python -m benchmarks.live_latency`.

For each model configuration (random weights, `init_random(arch, seed=0)`) and precision, one `emostudio serve`
process is started on loopback; then 1, 4 and 8 clients stream a synthetic voice over WebSocket /v1/stream in
real time (16 kHz 16-bit PCM in 0.1 s frames, hop 0.5 s, window 3 s, the server's default: late hops are
skipped so a stream never falls behind). The server stamps every update with its latency — the time from
receiving the chunk that completed the hop to sending the update (`latency_ms`) — and the script reports, per
stream count, p50 / p95 / max of those latencies over all updates, how many hops were scored (the rest were
skipped while the model was busy), and the server's CPU. The table is printed and, with --append, added to
benchmarks/RESULTS.md with the machine's `lscpu` model name and load average (the machine is shared).

    PYTHONPATH=src python -m benchmarks.live_latency                      # tiny + plus_large, fp32 + int8
    PYTHONPATH=src python -m benchmarks.live_latency --archs tiny --seconds 10 --streams 1,4
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.run import RESULTS_DIR, RESULTS_MD, ensure_model, machine


def voice(seconds: float, seed: int) -> np.ndarray:
    """16 kHz int16 speech-like signal (the test suite's synthetic voice, continuous: every hop is speech)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from signals import voice as make

    x, _ = make(seconds, seed=seed, pauses=False)
    return (np.clip(x, -1, 1) * 32767).astype("<i2")


def one_stream(url: str, audio: np.ndarray, out: list, hop_s: float, window_s: float) -> None:
    """Send `audio` in real time; collect every update's latency_ms and the closing message."""
    from websockets.sync.client import connect

    updates, final = [], None
    with connect(url, max_size=None) as ws:
        ws.send(
            json.dumps(
                {"type": "start", "sample_rate": 16000, "hop_s": hop_s, "window_s": window_s, "save": False}
            )
        )
        ready = json.loads(ws.recv(timeout=60))
        if ready["type"] != "ready":
            out.append({"error": ready})
            return

        def receive() -> None:
            nonlocal final
            while True:
                try:
                    msg = json.loads(ws.recv(timeout=300))
                except Exception:  # noqa: BLE001 - closed or timed out: the stream is over
                    return
                if msg["type"] == "update":
                    updates.append(msg)
                elif msg["type"] in ("result", "error"):
                    final = msg
                    return

        reader = threading.Thread(target=receive)
        reader.start()
        step = 1600
        t0 = time.monotonic()
        for i in range(0, len(audio), step):
            ws.send(audio[i : i + step].tobytes())
            wait = t0 + (i + step) / 16000 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        ws.send(json.dumps({"type": "stop"}))
        reader.join(600)
    out.append({"updates": updates, "final": final})


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-quantile of sorted values (nearest rank), NaN for none."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    model: Path, dtype: str, streams: list[int], seconds: float, hop_s: float, window_s: float
) -> list[dict]:
    sys.path.insert(
        0, str(Path(__file__).resolve().parent.parent / "tests")
    )  # the test suite's server harness
    from server_process import ServerProcess

    args = ["--model", str(model), "--device", "cpu", "--dtype", dtype, "--offline", "--no-ui"]
    args += ["--outputs", str(Path(os.environ.get("TMPDIR", "/tmp")) / "emostudio-live-bench")]
    args += [
        "--queue-size",
        str(max(streams) + 4),
        "--max-streams",
        str(max(streams)),
        "--stream-idle-timeout",
        "60",
    ]
    rows = []
    with ServerProcess(args, ready_timeout_s=600) as srv:
        url = srv.url.replace("http://", "ws://") + "/v1/stream"
        warm: list = []
        one_stream(url, voice(4, seed=99), warm, hop_s, window_s)  # first calls pay one-off costs
        for n in streams:
            results: list = []
            clips = [voice(seconds, seed=k) for k in range(n)]
            cpu0, t0 = cpu_seconds(srv.proc.pid), time.monotonic()
            threads = [
                threading.Thread(target=one_stream, args=(url, c, results, hop_s, window_s)) for c in clips
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - t0
            cpu = cpu_seconds(srv.proc.pid) - cpu0
            lat = sorted(u["latency_ms"] for r in results for u in r.get("updates", []) if "latency_ms" in u)
            stats = [(r.get("final") or {}).get("stats") or {} for r in results]
            hops = sum(st.get("hops", 0) for st in stats)  # one hop every hop_s from 1 s on, per stream
            skipped = sum(st.get("skipped", 0) for st in stats)
            quiet = sum(st.get("silent_quiet", 0) for st in stats)
            rows.append(
                {
                    "streams": n,
                    "updates": len(lat),
                    "hops": hops,
                    "skipped": skipped,
                    "silent_not_sent": quiet,
                    "scored_share": round(len(lat) / hops, 3) if hops else 0.0,
                    "p50_ms": percentile(lat, 0.5),
                    "p95_ms": percentile(lat, 0.95),
                    "max_ms": lat[-1] if lat else float("nan"),
                    "server_cpu_per_s": round(cpu / wall, 2),
                    "errors": [r["error"] for r in results if "error" in r],
                }
            )
    return rows


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", default="tiny,plus_large", help="model configurations (init_random archs)")
    ap.add_argument("--dtypes", default="fp32,int8", help="CPU precisions")
    ap.add_argument("--streams", default="1,4,8", help="concurrent live streams to measure")
    ap.add_argument("--seconds", type=float, default=15.0, help="audio per stream (sent in real time)")
    ap.add_argument("--hop", type=float, default=0.5)
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--work-dir", default=str(Path.home() / ".cache" / "emostudio-bench"))
    ap.add_argument("--append", action="store_true", help="append the table to benchmarks/RESULTS.md")
    ap.add_argument("--note", default="", help="a line added to the RESULTS.md section")
    args = ap.parse_args(argv)
    streams = [int(s) for s in args.streams.split(",")]
    info = machine()
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model_name = next(
        (ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), info["cpu"]
    )
    before = load_average()
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    table = []
    for arch in args.archs.split(","):
        model = ensure_model(Path(args.work_dir), arch)
        for dtype in args.dtypes.split(","):
            print(f"{arch} {dtype} …", flush=True)
            for row in measure(model, dtype, streams, args.seconds, args.hop, args.window):
                row.update(arch=arch, dtype=dtype)
                table.append(row)
                print(
                    f"  {row['streams']} stream(s): p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms, "
                    f"max {row['max_ms']:.0f} ms, {row['updates']}/{row['hops']} hops updated "
                    f"({row['skipped']} skipped, {row['silent_not_sent']} silent), "
                    f"server CPU {row['server_cpu_per_s']} cores",
                    flush=True,
                )
    after = load_average()
    lines = [
        f"## {started} — live update latency (`benchmarks/live_latency.py`)",
        "",
        f"- command: `python -m benchmarks.live_latency --archs {args.archs} --dtypes {args.dtypes} --streams "
        f"{args.streams} --seconds {args.seconds:g}`",
        f'- machine: `lscpu` model name "{model_name}", {info["cores"]} cores ({", ".join(info["simd"])}), '
        f"{info['mem_gb']} GB RAM, no GPU; torch {info['versions']['torch']}; git {info['git']}; "
        "**shared with other engineers' jobs**",
        f"- load average before / after: {before} / {after}",
        f"- each stream: {args.seconds:g} s of synthetic continuous speech sent in real time (0.1 s frames, 16 kHz "
        f"s16le), hop {args.hop:g} s, window {args.window:g} s; latency = chunk that completed the hop received → "
        "update sent, stamped by the server; late hops skipped (the default); 'silent': hops where the VAD found "
        "no speech that gave no update (only the first silent hop and then one every 5 s are sent)",
    ]
    if args.note:
        lines.append(f"- note: {args.note}")
    lines += [
        "",
        "| model | precision | streams | p50 ms | p95 ms | max ms | hops updated | skipped (model busy) | "
        "silent (no update) | server CPU (cores) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['arch']} | {r['dtype']} | {r['streams']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['max_ms']:.0f} | {r['updates']}/{r['hops']} ({100 * r['scored_share']:.0f}%) | {r['skipped']} | "
            f"{r['silent_not_sent']} | {r['server_cpu_per_s']} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = started.replace(":", "").replace("-", "")[:15]
    (RESULTS_DIR / f"{stamp}-live.json").write_text(
        json.dumps(
            {
                "started": started,
                "machine": info,
                "lscpu_model": model_name,
                "load_before": before,
                "load_after": after,
                "rows": table,
            },
            indent=2,
        )
    )
    if args.append:
        with RESULTS_MD.open("a", encoding="utf-8") as f:
            f.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
