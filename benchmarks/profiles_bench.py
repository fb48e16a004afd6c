"""Profile store engines side by side: `python -m benchmarks.profiles_bench [--sizes 1000,10000,100000]
[--old-sizes 1000,10000] [--dim 1024] [--append]`.

For each size and data set (`random`: independent Gaussian embeddings; `clustered`: 200 speakers, each a cluster of
a few emotion centres + noise, closer to real utterance embeddings), a fresh store gets that many synthetic records
through `ProfileStore.add` (chunks of 256): the new engine (Qdrant Edge, `emostudio profile`'s default) and, at the
`--old-sizes`, qdrant-client's local mode (the engine before issue 27, pickles in SQLite; it takes minutes above
10,000 records). Then it is closed and opened again and searched: top-10 by cosine without a filter, with a speaker
filter, and with a speaker + 30-day window (p50/p95), one speaker's records, recall@10 against exact search
(numpy over every vector), disk (allocated blocks) and the process's peak RSS. Prints a table; `--append` adds a
section to benchmarks/RESULTS.md. No assertions: the figures are the result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
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


def records(n: int, dim: int, speakers: int, seed: int, data: str = "random") -> list[ProfileRecord]:
    """`n` synthetic records; `clustered`: speaker centre + one of 9 emotion centres + noise (unit-scale parts)."""
    rng = np.random.default_rng(seed)
    spk = np.arange(n) % speakers
    probs = rng.dirichlet(np.ones(len(KEYS)), n)
    emb = embeddings(rng, n, dim, data, spk, probs.argmax(1))
    minutes = rng.integers(0, 90 * 24 * 60, n)
    return [
        ProfileRecord(
            speaker=f"spk{spk[i]:04d}",
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


def embeddings(rng, n: int, dim: int, data: str, spk: np.ndarray, emo: np.ndarray) -> np.ndarray:
    noise = rng.standard_normal((n, dim)).astype(np.float32)
    if data == "random":
        return noise
    centres = np.random.default_rng(12345)  # the same centres for records and queries
    by_spk = centres.standard_normal((int(spk.max()) + 1, dim)).astype(np.float32)
    by_emo = centres.standard_normal((len(KEYS), dim)).astype(np.float32)
    return by_spk[spk] + 0.8 * by_emo[emo] + 0.5 * noise


def queries(n: int, dim: int, data: str, speakers: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    return embeddings(rng, n, dim, data, rng.integers(0, speakers, n), rng.integers(0, len(KEYS), n))


def disk_mb(path: Path) -> float:
    """Allocated blocks (the engine preallocates sparse files: their apparent size overstates the disk used)."""
    total = 0
    for p in path.rglob("*"):
        if p.is_file():
            st = p.stat()
            total += getattr(st, "st_blocks", 0) * 512 or st.st_size
    return total / 1e6


def rss_mb() -> float:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):  # not Linux: the peak instead
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


class OldStore:
    """qdrant-client local mode as `ProfileStore` used it before issue 27 (pickled points in SQLite, WAL journal)."""

    def __init__(self, path: Path):
        from qdrant_client import QdrantClient, models

        self.m = models
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.client = QdrantClient(path=str(path))
        self.name = "bench"
        self._tune()

    def _tune(self) -> None:
        for coll in self.client._client.collections.values():  # type: ignore[attr-defined]
            coll.storage.storage.execute("PRAGMA journal_mode=WAL")
            coll.storage.storage.execute("PRAGMA synchronous=NORMAL")

    def add(self, recs: list[ProfileRecord]) -> None:
        m = self.m
        if not self.client.collection_exists(self.name):
            self.client.create_collection(
                self.name, m.VectorParams(size=recs[0].dim, distance=m.Distance.COSINE)
            )
            self._tune()
        for i in range(0, len(recs), 256):
            pts = [
                m.PointStruct(
                    id=r.id, vector=(r.embedding / np.linalg.norm(r.embedding)).tolist(), payload=r.payload()
                )
                for r in recs[i : i + 256]
            ]
            self.client.upsert(self.name, pts, wait=True)

    def _flt(self, speaker=None, since=None, until=None):
        m = self.m
        must = []
        if speaker:
            must.append(m.FieldCondition(key="speaker", match=m.MatchValue(value=speaker)))
        if since:
            must.append(
                m.FieldCondition(
                    key="recorded_ts", range=m.Range(gte=since.timestamp(), lt=until.timestamp())
                )
            )
        return m.Filter(must=must) if must else None

    def search(self, q, k=10, speaker=None, since=None, until=None) -> list[str]:
        res = self.client.query_points(
            self.name, query=q.tolist(), query_filter=self._flt(speaker, since, until), limit=k
        )
        return [str(p.id) for p in res.points]

    def speaker_records(self, speaker: str) -> int:
        pts, _ = self.client.scroll(self.name, scroll_filter=self._flt(speaker), limit=100_000)
        return len(pts)

    def close(self) -> None:
        self.client.close()


def _new_search(store: ProfileStore):
    return lambda q, **kw: [h.id for h in store.search(q, k=10, **kw)]


def measure(
    n: int, dim: int, speakers: int, queries_n: int, filtered: int, engine: str, data: str, root: Path
) -> dict:
    recs = records(n, dim, speakers, seed=n, data=data)
    ids = np.array([r.id for r in recs])
    matrix = np.stack([r.embedding for r in recs])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    spk0 = np.array([r.speaker == "spk0001" for r in recs])
    lo, hi = T0 + timedelta(days=30), T0 + timedelta(days=60)
    window = spk0 & np.array([lo <= r.recorded_at < hi for r in recs])
    qs = queries(max(queries_n, filtered) + 1, dim, data, speakers)
    path = root / f"store-{engine}-{data}-{n}"
    t = time.perf_counter()
    if engine == "edge":
        with ProfileStore(path) as store:
            store.add(recs)
            add_only = time.perf_counter() - t
    else:
        old = OldStore(path)
        old.add(recs)
        old.close()
        add_only = time.perf_counter() - t
    add_s = time.perf_counter() - t  # with the index built on close
    del recs
    rss0 = rss_mb()
    t = time.perf_counter()
    opened: ProfileStore | OldStore = ProfileStore(path) if engine == "edge" else OldStore(path)
    open_s = time.perf_counter() - t
    search = _new_search(opened) if isinstance(opened, ProfileStore) else opened.search
    try:
        search(qs[-1])  # warm-up
        plain, rec_plain = _timed(search, qs[:queries_n], matrix, ids, None, {})
        spk, _ = _timed(search, qs[:filtered], matrix, ids, spk0, {"speaker": "spk0001"})
        win, rec_win = _timed(
            search, qs[:filtered], matrix, ids, window, {"speaker": "spk0001", "since": lo, "until": hi}
        )
        scroll = _one(lambda: opened.speaker_records("spk0001"))
        rss = rss_mb() - rss0
    finally:
        opened.close()
    row = {
        "records": n, "dim": dim, "journal": "WAL" if engine == "edge" else "SQLite", "data": data,
        "engine": "Qdrant Edge" if engine == "edge" else "qdrant-client local",
        "add_s": add_s, "add_per_s": n / add_only, "index_s": add_s - add_only, "open_s": open_s,
        "p50": 1000 * float(np.percentile(plain, 50)), "p95": 1000 * float(np.percentile(plain, 95)),
        "spk_p95": 1000 * float(np.percentile(spk, 95)), "win_p95": 1000 * float(np.percentile(win, 95)),
        "scroll_ms": 1000 * scroll, "recall": rec_plain, "recall_win": rec_win, "disk_mb": disk_mb(path), "rss_mb": rss,
    }  # fmt: skip
    shutil.rmtree(path, ignore_errors=True)
    return row


def _timed(search, qs, matrix, ids, mask, kw) -> tuple[list[float], float]:
    """Seconds per query and recall@10 against exact search over the records `mask` selects (all when None)."""
    times, hits = [], []
    sub = np.flatnonzero(mask) if mask is not None else np.arange(len(ids))
    for q in qs:
        t = time.perf_counter()
        got = search(q, **kw)
        times.append(time.perf_counter() - t)
        qn = q / np.linalg.norm(q)
        want = ids[sub[np.argsort(-(matrix[sub] @ qn))[:10]]]
        hits.append(len(set(got) & set(want)) / max(1, len(want)))
    return times, float(np.mean(hits))


def _one(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


HEADER = (
    "| records | dim | journal | engine | data | add s (incl. index) | add records/s | index s | reopen s | "
    "search p50 ms | p95 ms | + speaker p95 ms | + speaker & 30 days p95 ms | one speaker's records ms | "
    "recall@10 | recall@10 filtered | disk MB | RSS MB |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def table(rows: list[dict]) -> str:
    lines = [HEADER]
    for r in rows:
        lines.append(
            f"| {r['records']:,} | {r['dim']} | {r['journal']} | {r['engine']} | {r['data']} | {r['add_s']:.1f} | "
            f"{r['add_per_s']:,.0f} | {r['index_s']:.1f} | {r['open_s']:.2f} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['spk_p95']:.1f} | {r['win_p95']:.1f} | {r['scroll_ms']:.0f} | {r['recall']:.3f} | "
            f"{r['recall_win']:.3f} | {r['disk_mb']:.0f} | {r['rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000,100000", help="record counts for the new engine")
    p.add_argument(
        "--old-sizes", default="", help="record counts for qdrant-client local mode (e.g. 1000,10000)"
    )
    p.add_argument("--data", default="random,clustered", help="data sets: random, clustered")
    p.add_argument("--dim", type=int, default=1024, help="embedding size (1024: emotion2vec_plus_large)")
    p.add_argument("--speakers", type=int, default=200, help="distinct speakers")
    p.add_argument("--queries", type=int, default=50, help="unfiltered searches timed per size")
    p.add_argument("--filtered", type=int, default=20, help="filtered searches timed per size")
    p.add_argument("--dir", default=None, help="where the stores are made (default: a temp folder)")
    p.add_argument("--append", action="store_true", help="append the table to benchmarks/RESULTS.md")
    p.add_argument("--note", default="", help="a line of context for RESULTS.md")
    args = p.parse_args(argv)
    plan = [("edge", int(s)) for s in args.sizes.split(",") if s.strip()]
    plan += [("old", int(s)) for s in args.old_sizes.split(",") if s.strip()]
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="profiles-bench-") as tmp:
        for engine, n in plan:
            for data in [d.strip() for d in args.data.split(",") if d.strip()]:
                row = measure(
                    n, args.dim, args.speakers, args.queries, args.filtered, engine, data, Path(tmp)
                )
                rows.append(row)
                print(f"{row['engine']} {n:,} {data}: add {row['add_s']:.1f} s, p95 {row['p95']:.1f} ms, "
                      f"recall@10 {row['recall']:.3f}", flush=True)  # fmt: skip
    load_after = os.getloadavg()
    text = table(rows)
    print(text)
    if args.append:
        from importlib.metadata import version

        cmd = "python -m benchmarks.profiles_bench " + " ".join(argv if argv is not None else sys.argv[1:])
        section = (
            f"\n## {dt.datetime.now(timezone.utc).isoformat(timespec='seconds')} — profile store engines "
            f"(qdrant-edge-py {version('qdrant-edge-py')} vs qdrant-client {version('qdrant-client')} local mode)\n\n"
            f"- command: `{cmd.strip()}`\n"
            f"- machine: {cpu_model()}, {os.cpu_count()} cores, shared with other jobs (loaded); load average "
            f"before / after: {', '.join(f'{x:.2f}' for x in load_before)} / "
            f"{', '.join(f'{x:.2f}' for x in load_after)}\n"
            f"- {args.speakers} speakers over 90 days, {args.dim}-d embeddings; add = `ProfileStore.add` in chunks of "
            "256 (+ building the quantized segments on close, the `index s` column); search = top-10, "
            f"{args.queries} queries ({args.filtered} filtered); recall@10 against exact numpy search\n"
            + (f"- note: {args.note}\n" if args.note else "")
            + f"\n{text}\n"
        )
        with RESULTS_MD.open("a", encoding="utf-8") as f:
            f.write(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
