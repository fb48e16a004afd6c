"""scripts/load_test.py in small form: 4× more concurrent requests than the queue holds, against a live server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "load_test.py"


def test_overload_gets_results_or_429_and_server_survives(tiny_model_dir):
    queue = 2
    out = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--spawn",
            "--model",
            str(tiny_model_dir),
            "--queue-size",
            str(queue),
            "--rounds",
            "2",
            "--seconds",
            "1.5",
            "--timeout",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    summary = json.loads(out.stdout)
    assert summary["concurrency"] == 4 * queue and summary["requests"] == 2 * 4 * queue
    counts = {status: v["count"] for status, v in summary["by_status"].items()}
    assert set(counts) <= {"200", "429", "503"}, counts
    assert counts.get("200", 0) >= queue  # the queue's worth of each burst is served ...
    assert counts.get("429", 0) >= 1  # ... and the overflow is told to come back, not left hanging
    assert summary["errors"] == ["queue_full"]
    assert summary["unexpected"] == 0 and summary["server_alive"] is True
    rss = summary["rss_mb"]
    assert rss["peak"] - rss["before"] < 500, rss  # bounded: a few decoded clips, not the whole burst
