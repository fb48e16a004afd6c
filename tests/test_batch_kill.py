"""Crash safety: `kill -9` the batch command at random moments, re-run, and every input is there exactly once."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
from test_batch import write_clips

from emostudio.batch import PART_RE, read_results, run_batch


def _check_shards(out) -> list[str]:
    """Every committed shard reads, its companions match it; returns the ids committed so far."""
    ids: list[str] = []
    for part in sorted(out.glob("part-*.parquet")):
        n = PART_RE.match(part.name).group(1)
        rows = pq.read_table(part).to_pylist()
        emb = np.load(out / f"embeddings-{n}.npy")
        assert emb.shape[0] == sum(r["embedding_count"] for r in rows)
        frames = pq.read_table(out / f"frames-{n}.parquet").column("id").to_pylist()
        assert set(frames) == {r["id"] for r in rows if r["error_code"] is None}
        ids += [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "an input was committed twice"
    return ids


def _job(manifest, out, recognizer) -> None:
    """A batch run in a forked child (shares the parent's loaded model: no start-up cost to pay per trial)."""
    import torch

    torch.set_num_threads(1)
    run_batch(
        manifest,
        out,
        recognizer=recognizer,
        granularity="frame",
        embedding=True,
        shard_size=2,
        batch_seconds=3,
        workers=1,
    )


def _kill_when(proc, out, target_parts: int, jitter_s: float) -> None:
    """SIGKILL `proc` (its whole process group) once `target_parts` parts exist, `jitter_s` later."""
    deadline = time.monotonic() + 60
    while len(list(out.glob("part-*.parquet"))) < target_parts and proc.poll() is None:
        assert time.monotonic() < deadline, "the batch job made no progress"
        time.sleep(0.002)
    time.sleep(jitter_s)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class _Forked:
    """A forked batch job in its own process group, with the Popen-like poll/wait/pid the killer needs."""

    def __init__(self, *args):
        self.p = multiprocessing.get_context("fork").Process(target=self._run, args=args, daemon=True)
        self.p.start()
        self.pid = self.p.pid
        while self.p.exitcode is None and os.getpgid(self.pid) != self.pid:  # until it leads its own group
            time.sleep(0.001)

    @staticmethod
    def _run(*args) -> None:
        os.setpgid(0, 0)
        _job(*args)

    def poll(self):
        return self.p.exitcode

    def wait(self):
        self.p.join()
        return self.p.exitcode


def test_kill_9_at_random_moments_then_resume_exactly_once(tmp_path, tiny_model_dir, recognizer):
    items = write_clips(tmp_path / "clips", 28, ("truncated", "empty"), seed=3)
    manifest, out = tmp_path / "clips" / "manifest.csv", tmp_path / "out"
    rng = np.random.default_rng(7)
    killed_mid_job = 0
    # 10 kills of a job process at random moments: after 0-3 more shards land, plus 0-150 ms
    for _ in range(10):
        before = len(list(out.glob("part-*.parquet")))
        proc = _Forked(manifest, out, recognizer)
        _kill_when(proc, out, before + int(rng.integers(0, 4)), float(rng.uniform(0, 0.15)))
        ids = _check_shards(out)
        killed_mid_job += 0 < len(ids) < len(items) and proc.p.exitcode == -signal.SIGKILL
    assert killed_mid_job >= 3, "too few kills landed while the job was running"

    # the command itself, killed once while it writes, then run to the end
    cmd = [
        sys.executable,
        "-m",
        "emostudio",
        "batch",
        str(manifest),
        "--out",
        str(out),
        "--model",
        str(tiny_model_dir),
        "--offline",
        "--device",
        "cpu",
        "--granularity",
        "frame",
        "--embedding",
        "--shard-size",
        "2",
        "--batch-seconds",
        "3",
        "--workers",
        "1",
        "--json",
    ]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    if len(_check_shards(out)) < len(items) - 2:
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        _kill_when(proc, out, len(list(out.glob("part-*.parquet"))) + 1, float(rng.uniform(0, 0.05)))
        _check_shards(out)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr  # 1: the job finished, some inputs failed
    summary = json.loads(done.stdout)
    assert (summary["total"], summary["failed"], summary["skipped"] + summary["processed"]) == (30, 2, 30)
    ids = _check_shards(out)
    assert sorted(ids) == sorted(it.id for it in items)
    assert not list(out.glob(".*.tmp"))
    table = read_results(out)
    errors = {r["id"]: r["error_code"] for r in table.to_pylist() if r["error_code"]}
    assert errors == {"bad-truncated": "corrupt", "bad-empty": "empty"}
