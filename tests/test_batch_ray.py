"""The Ray Data path on a private 2-CPU local cluster gives the same rows as the local runner.

Ray runs in a subprocess inside a network namespace of its own (loopback only), so nothing can leave the
machine; when the tests already run isolated (CI runs them under `unshare -n`), it runs there directly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from test_batch import write_clips

from emostudio.batch import SCORE_COLUMNS, read_results, run_batch

pytestmark = pytest.mark.slow

RAY_JOB = textwrap.dedent(
    """
    import json, sys
    from emostudio.batch.ray import run_ray_batch
    manifest, out, model = sys.argv[1:4]
    s = run_ray_batch(manifest, out, model=model, device="cpu", allow_download=False, granularity="frame",
                      embedding=True, batch_seconds=6, actors=2, batch_size=3, shard_size=4, num_cpus=2)
    print(json.dumps(s.to_dict()))
    """
)


def _isolated() -> bool:
    """True when loopback is the only network interface (we already are in a private network namespace)."""
    return set(os.listdir("/sys/class/net")) <= {"lo"}


def _ray_command(script: Path, *args: str) -> list[str]:
    py = [sys.executable, str(script), *args]
    if _isolated():
        return py
    if not (shutil.which("unshare") and shutil.which("ip")):
        pytest.fail(
            "Ray tests need a private network namespace: install util-linux (unshare) and iproute2 (ip)"
        )
    quoted = " ".join(f"'{a}'" for a in py)
    return ["unshare", "-rn", "sh", "-c", f"ip link set lo up && exec {quoted}"]


def test_ray_gives_the_same_rows_as_the_local_runner(tmp_path, tiny_model_dir, recognizer):
    items = write_clips(tmp_path / "clips", 9, ("truncated",), seed=5)
    manifest = tmp_path / "clips" / "manifest.csv"
    local = run_batch(
        manifest,
        tmp_path / "local",
        recognizer=recognizer,
        granularity="frame",
        embedding=True,
        batch_seconds=6,
        workers=1,
        shard_size=4,
    )
    script = tmp_path / "ray_job.py"
    script.write_text(RAY_JOB)
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        _ray_command(script, str(manifest), str(tmp_path / "ray"), str(tiny_model_dir)),
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["total"] == local.total == 10
    assert summary["failed"] == local.failed == 1
    assert summary["counts"] == local.counts

    mine = {r["id"]: r for r in read_results(tmp_path / "local").to_pylist()}
    theirs = {r["id"]: r for r in read_results(tmp_path / "ray").to_pylist()}
    assert sorted(mine) == sorted(theirs) == sorted(it.id for it in items)
    for key, a in mine.items():
        b = theirs[key]
        for col in (
            "path",
            "speaker",
            "ref_label",
            "text",
            "label",
            "band",
            "quality_verdict",
            "error_code",
            "error",
            "model_id",
            "random_weights",
            "segments",
            "embedding_count",
        ):
            if col == "label" and a["error_code"] is None:
                top2 = sorted((a[c] for c in SCORE_COLUMNS), reverse=True)[:2]
                if top2[0] - top2[1] < 1e-5:  # random tiny weights: a near-tie may flip with float rounding
                    continue
            assert a[col] == b[col], (key, col, a[col], b[col])
        if a["error_code"] is None:
            np.testing.assert_allclose(
                [b[c] for c in SCORE_COLUMNS], [a[c] for c in SCORE_COLUMNS], atol=1e-5
            )
            assert b["duration_s"] == pytest.approx(a["duration_s"])
    # same shard layout: parts with their frame tables and embedding shards
    for name in ("part", "frames", "embeddings"):
        assert len(list((tmp_path / "ray").glob(f"{name}-*"))) == 3
    assert (tmp_path / "ray" / "summary.json").exists() and (tmp_path / "ray" / "job.json").exists()
