"""Profile store throughput: `python -m benchmarks.profiles_bench [--sizes 10000,100000] [--dim 1024] [--append]`.

For each size, a fresh local store (qdrant-client local mode, as `emostudio profile` uses by default) gets that
many synthetic records (random embeddings of `--dim` values, 9 scores, `--speakers` speakers over 90 days), added
through `ProfileStore.add` in chunks of 256. Then it is closed and opened again, and searched: top-10 by cosine
without a filter, with a speaker filter, and with a speaker + 30-day window. Prints a table; `--append` adds a
section to benchmarks/RESULTS.md. No assertions: the figures are the result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta, timezone
from pathlib import Path

import numpy as np

from emostudio.model.labels import KEYS
from emostudio.profiles import ProfileRecord, ProfileStore

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
T0 = dt.datetime(2026, 1, 1, tzinfo=timezone.utc)


def cpu_model() -> str:
    """`lscpu`'s model name (the platform's processor string where lscpu is missing)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass  # no lscpu on this system: fall back below
    return platform.processor() or "unknown"


def records(n: int, dim: int, speakers: int, seed: int) -> list[ProfileRecord]:
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, dim)).astype(np.float32)
    probs = rng.dirichlet(np.ones(len(KEYS)), n)
    minutes = rng.integers(0, 90 * 24 * 60, n)
    return [
        ProfileRecord(
            speaker=f"spk{i % speakers:04d}",
            recorded_at=T0 + timedelta(minutes=int(minutes[i])),
            scores=probs[i],
            model_id="bench/model",
            key=f"clip-{i}",
            embedding=emb[i],
            source=f"calls/{i:07d}.m4a",
            quality="ok",
        )
        for i in range(n)
    ]


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def measure(n: int, dim: int, speakers: int, queries: int, filtered: int, durable: bool, root: Path) -> dict:
    recs = records(n, dim, speakers, seed=n)
    rng = np.random.default_rng(1)
    qs = rng.standard_normal((max(queries, filtered), dim)).astype(np.float32)
    path = root / f"store-{n}-{'durable' if durable else 'wal'}"
    with ProfileStore(path, durable=durable) as store:
        t = time.perf_counter()
        store.add(recs)
        add_s = time.perf_counter() - t
    del recs
    t = time.perf_counter()
    store = ProfileStore(path, durable=durable)
    open_s = time.perf_counter() - t
    try:
        store.search(qs[0], k=10)  # warm-up
        plain = [_one(lambda q=q: store.search(q, k=10)) for q in qs[:queries]]
        spk = [_one(lambda q=q: store.search(q, k=10, speaker="spk0001")) for q in qs[:filtered]]
        window = [
            _one(
                lambda q=q: store.search(
                    q, k=10, speaker="spk0001", since=T0 + timedelta(days=30), until=T0 + timedelta(days=60)
                )
            )  # fmt: skip
            for q in qs[:filtered]
        ]
        scroll = _one(lambda: store.speaker_records("spk0001"))
    finally:
        store.close()
    row = {
        "records": n,
        "dim": dim,
        "journal": "default (durable)" if durable else "WAL",
        "add_s": add_s,
        "add_per_s": n / add_s,
        "open_s": open_s,
        "search_ms": 1000 * statistics.median(plain),
        "search_per_s": 1 / statistics.median(plain),
        "speaker_ms": 1000 * statistics.median(spk),
        "window_ms": 1000 * statistics.median(window),
        "scroll_ms": 1000 * scroll,
        "disk_mb": folder_mb(path),
    }
    shutil.rmtree(path, ignore_errors=True)
    return row


def _one(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


HEADER = (
    "| records | dim | journal | add s | add records/s | reopen s | search ms (top-10) | searches/s | "
    "+ speaker filter ms | + speaker & 30-day window ms | one speaker's records ms | disk MB |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def table(rows: list[dict]) -> str:
    lines = [HEADER]
    for r in rows:
        lines.append(
            f"| {r['records']:,} | {r['dim']} | {r['journal']} | {r['add_s']:.1f} | {r['add_per_s']:,.0f} | "
            f"{r['open_s']:.1f} | {r['search_ms']:.1f} | {r['search_per_s']:.1f} | {r['speaker_ms']:.0f} | "
            f"{r['window_ms']:.0f} | {r['scroll_ms']:.0f} | {r['disk_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000", help="record counts, comma-separated")
    p.add_argument("--dim", type=int, default=1024, help="embedding size (1024: emotion2vec_plus_large)")
    p.add_argument("--speakers", type=int, default=200, help="distinct speakers")
    p.add_argument("--queries", type=int, default=20, help="unfiltered searches timed per size")
    p.add_argument("--filtered", type=int, default=5, help="filtered searches timed per size")
    p.add_argument("--durable-at", default="", help="sizes also measured with durable=True (default journal)")
    p.add_argument("--dir", default=None, help="where the stores are made (default: a temp folder)")
    p.add_argument("--append", action="store_true", help="append the table to benchmarks/RESULTS.md")
    p.add_argument("--note", default="", help="a line of context for RESULTS.md")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    durable = {int(s) for s in args.durable_at.split(",") if s.strip()}
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="profiles-bench-") as tmp:
        for n in sizes:
            for d in [False, True] if n in durable else [False]:
                row = measure(n, args.dim, args.speakers, args.queries, args.filtered, d, Path(tmp))
                rows.append(row)
                print(f"{n:,} records ({row['journal']}): add {row['add_s']:.1f} s, search {row['search_ms']:.1f} ms",
                      flush=True)  # fmt: skip
    load_after = os.getloadavg()
    text = table(rows)
    print(text)
    if args.append:
        from importlib.metadata import version

        cmd = "python -m benchmarks.profiles_bench " + " ".join(argv if argv is not None else sys.argv[1:])
        section = (
            f"\n## {dt.datetime.now(timezone.utc).isoformat(timespec='seconds')} — profile store "
            f"(`emostudio.profiles`, qdrant-client {version('qdrant-client')} local mode)\n\n"
            f"- command: `{cmd.strip()}`\n"
            f"- machine: {cpu_model()}, {os.cpu_count()} cores; load average before / after: "
            f"{', '.join(f'{x:.2f}' for x in load_before)} / {', '.join(f'{x:.2f}' for x in load_after)}\n"
            f"- {args.speakers} speakers over 90 days, random {args.dim}-d embeddings; add = `ProfileStore.add` in "
            "chunks of 256 (each point its own SQLite transaction, as qdrant-client local mode writes them); "
            f"search = `ProfileStore.search(k=10)`, median of {args.queries} queries ({args.filtered} when filtered)\n"
            + (f"- note: {args.note}\n" if args.note else "")
            + f"\n{text}\n"
        )
        with RESULTS_MD.open("a", encoding="utf-8") as f:
            f.write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
