"""benchmarks/speakers_bench.py's scoring (no engines run here: the engines have tests/test_speakers_engine.py):
a perfect hypothesis scores 0 whatever its speaker names, a missed turn and a wrong count show, and the table
carries the issue-28 targets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level package beside `src`, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.speakers_bench import score, table  # noqa: E402

pytestmark = pytest.mark.unit

REF = [("S0", 0.0, 4.0), ("S1", 4.5, 9.0), ("S0", 9.5, 12.0)]


def run(hyp, found: int) -> dict:
    row = {"name": "c", "duration_s": 12.0, "seconds": 0.6, "true": 2, "found": found, "ref": REF, "hyp": hyp}
    return {"engine": "e", "rows": [row], "peak_rss_mb": 100.0}


def test_a_perfect_hypothesis_under_other_names_scores_zero():
    s = score(run([("spk0", 0.0, 4.0), ("spk1", 4.5, 9.0), ("spk0", 9.5, 12.0)], 2))
    assert s["der"] == pytest.approx(0.0) and s["der_nonoverlap"] == pytest.approx(0.0)
    assert s["jer"] == pytest.approx(0.0) and s["count_exact"] == 1.0 and s["rtf"] == pytest.approx(0.05)


def test_a_missed_turn_and_a_wrong_count_show_in_the_table():
    s = score(run([("spk0", 0.0, 4.0), ("spk0", 9.5, 12.0)], 1))
    assert s["der"] == pytest.approx(4.5 / 11.0, abs=0.06) and s["count"] == "0/1"
    text = table([s])
    assert "| e | " in text and "≤ 5 %" in text and "≥ 90 %" in text and "| c | 2 | 1 / " in text
