"""Crash safety: `kill -9` of the `emostudio batch` command itself at random moments, then resume.

12 trials (thread and process decode modes): each kill must land while the job runs; after every kill the
folder holds only complete shards, each input at most once, no stray temp file; the final run finishes with
every input exactly once and a summary that counts right. Two jobs on one folder at once: the second refuses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
from test_batch import write_clips

from emostudio.batch import PART_RE, read_results

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONUNBUFFERED": "1"}


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


def _command(manifest, out, model_dir, executor: str) -> list[str]:
    return [
        sys.executable, "-m", "emostudio", "batch", str(manifest), "--out", str(out), "--model", str(model_dir),
        "--offline", "--device", "cpu", "--granularity", "frame", "--embedding", "--shard-size", "2",
        "--batch-seconds", "3", "--group-seconds", "3", "--workers", "1", "--executor", executor, "--json",
    ]  # fmt: skip


def _parts(out) -> int:
    return len(list(out.glob("part-*.parquet")))


def _kill_mid_run(cmd, out, more_parts: int, jitter_s: float, total_parts: int) -> bool:
    """Start the CLI, SIGKILL it once `more_parts` more shards exist (+ jitter); True if it died mid-run."""
    before = _parts(out)
    proc = subprocess.Popen(
        cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while _parts(out) < min(before + more_parts, total_parts) and proc.poll() is None:
        assert time.monotonic() < deadline, "the batch job made no progress"
        time.sleep(0.005)
    time.sleep(jitter_s)
    running = proc.poll() is None
    if running:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and every decode worker it started
    proc.wait()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert "Traceback" not in err, err
    return running and proc.returncode == -signal.SIGKILL and _parts(out) < total_parts


def test_kill_9_the_batch_cli_at_random_moments_then_resume_exactly_once(tmp_path, tiny_model_dir):
    items = write_clips(tmp_path / "clips", 38, ("truncated", "empty"), seed=3)
    manifest, out = tmp_path / "clips" / "manifest.csv", tmp_path / "out"
    total_parts = -(-len(items) // 2)
    rng = np.random.default_rng(7)
    mid_run = {"thread": 0, "process": 0}
    for trial in range(12):
        executor = "thread" if trial % 2 == 0 else "process"
        if _parts(out) >= total_parts - 1:
            break
        killed = _kill_mid_run(
            _command(manifest, out, tiny_model_dir, executor),
            out,
            int(rng.integers(0, 3)),
            float(rng.uniform(0, 0.4)),
            total_parts,
        )
        mid_run[executor] += killed
        _check_shards(out)
    assert mid_run["thread"] >= 3 and mid_run["process"] >= 3, mid_run

    done = subprocess.run(
        _command(manifest, out, tiny_model_dir, "process"),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr  # 1: the job finished, some inputs failed
    summary = json.loads(done.stdout)
    assert (summary["total"], summary["failed"], summary["skipped"] + summary["processed"]) == (40, 2, 40)
    ids = _check_shards(out)
    assert sorted(ids) == sorted(it.id for it in items)
    assert not list(out.glob(".*.tmp"))  # the finishing run cleaned every leftover
    errors = {r["id"]: r["error_code"] for r in read_results(out).to_pylist() if r["error_code"]}
    assert errors == {"bad-truncated": "corrupt", "bad-empty": "empty"}
    # no decode worker outlived its killed parent (an orphan would be adopted by init: parent pid 1)
    ps = subprocess.run(["ps", "-eo", "ppid=,args="], capture_output=True, text=True).stdout.splitlines()
    orphans = [line for line in ps if "multiprocessing.spawn" in line and line.split()[0] == "1"]
    assert not orphans, orphans


def test_a_second_job_on_the_same_folder_refuses(tmp_path, tiny_model_dir):
    write_clips(tmp_path / "clips", 120, seed=5)  # long enough that the first job is still writing
    manifest, out = tmp_path / "clips" / "manifest.csv", tmp_path / "out"
    first = subprocess.Popen(
        _command(manifest, out, tiny_model_dir, "thread"),
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 300
    while _parts(out) < 1 and first.poll() is None:  # the first job holds the folder and is writing
        assert time.monotonic() < deadline
        time.sleep(0.01)
    second = subprocess.run(
        _command(manifest, out, tiny_model_dir, "thread"),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    still_running = first.poll() is None  # the refusal came while the first job held the folder
    first_out, _ = first.communicate(timeout=300)
    assert still_running, "the first job ended before the second one started: the test proves nothing"
    assert first.returncode == 0
    assert second.returncode == 2 and "another batch job is writing this folder" in second.stderr, (
        second.stderr
    )
    assert "Traceback" not in second.stderr
    ids = _check_shards(out)
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 120 == json.loads(first_out)["total"]
