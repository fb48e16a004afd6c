"""speakers/rttm.py: the RTTM lines of speaker turns are what pyannote's RTTM loader reads back."""

from __future__ import annotations

import pytest

from emostudio.speakers.rttm import rttm_lines

pytestmark = pytest.mark.unit


def test_pyannote_reads_the_rttm_lines_back(tmp_path):
    from pyannote.database.util import load_rttm

    turns = [("spk1", 2.2, 4.0), ("spk0", 0.0, 2.4), ("spk0", 4.0, 4.0), ("spk0", 4.6, 6.1234)]
    text = rttm_lines("my call", turns)
    assert text.splitlines()[0] == "SPEAKER my_call 1 0.000 2.400 <NA> <NA> spk0 <NA> <NA>"
    assert len(text.splitlines()) == 3  # the empty turn is skipped
    path = tmp_path / "t.rttm"
    path.write_text(text)
    ann = load_rttm(str(path))["my_call"]
    assert sorted(ann.labels()) == ["spk0", "spk1"]
    segs = [(round(s.start, 3), round(s.end, 3), label) for s, _, label in ann.itertracks(yield_label=True)]
    assert segs == [(0.0, 2.4, "spk0"), (2.2, 4.0, "spk1"), (4.6, 6.123, "spk0")]


def test_lines_are_sorted_and_no_turns_is_empty():
    text = rttm_lines("r", [("b", 3.0, 4.0), ("a", 1.0, 2.0), ("a", 1.0, 1.5)])
    starts = [(float(line.split()[3]), float(line.split()[4])) for line in text.splitlines()]
    assert starts == [(1.0, 0.5), (1.0, 1.0), (3.0, 1.0)]
    assert rttm_lines("r", []) == ""
