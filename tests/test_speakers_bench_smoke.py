"""benchmarks/speakers_bench.py's scoring (no engines run here: the engines have tests/test_speakers_engine.py):
a perfect hypothesis scores 0 whatever its speaker names, a missed turn and a wrong count show, and the table
carries the issue-28 targets; benchmarks/speakers_mix.py's distance, level and table."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level package beside `src`, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.speakers_bench import score, table  # noqa: E402
from benchmarks.speakers_mix import level_dbfs, total_variation  # noqa: E402
from benchmarks.speakers_mix import table as mix_table  # noqa: E402

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


def test_the_mix_report_measures_distance_and_level():
    a = {"angry": 0.5, "happy": 0.5, "sad": 0.0}
    assert total_variation(a, a) == 0.0
    assert total_variation(a, {"angry": 0.0, "happy": 0.0, "sad": 1.0}) == pytest.approx(1.0)
    assert level_dbfs(np.full(1600, 0.5, np.float32)) == pytest.approx(-6.02, abs=0.01)
    rows = [
        {"reading": "spk0", "seconds": 10.0, "level": -20.0, "label": "sad", "confidence": 0.7, "tv": 0.3},
        {"reading": "spk1", "seconds": 0.5, "level": -30.0, "label": None, "confidence": None, "tv": None},
    ]
    text = mix_table(
        {"rows": rows, "worst_turn_diff": 0.0, "voices": [("en", "en", 35, 165, 0.0)], "found": 2}
    )
    assert (
        "| spk0 | 10.0 | -20.0 | sad | 70.0% | 0.300 |" in text
        and "| spk1 | 0.5 | -30.0 | None | – | – |" in text
    )
    assert "cut turn: 0." in text
