"""benchmarks/vad_bench.py end to end on its quick set: both engines run on every recording, the table shows
both side by side with the agreement line, and the product's ONNX model agrees with the TorchScript baseline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level package beside `src`, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.vad_bench import measure, table  # noqa: E402

pytestmark = pytest.mark.integration


def test_the_quick_set_runs_both_engines_and_they_agree():
    m = measure(quick=True)
    assert m["count"] >= 3 and m["audio_s"] > 100
    assert set(m["seconds"]) == {"torchscript (before)", "onnx (emostudio)"}
    assert all(spans > 0 and probs > 0 for spans, probs in m["seconds"].values())
    assert m["same"] == m["count"] and m["differing_s"] == 0.0 and m["max_diff"] < 1e-4
    text = table(m)
    assert "| torchscript (before) |" in text and "| onnx (emostudio) |" in text
    assert f"identical speech spans on {m['count']} of {m['count']}" in text
