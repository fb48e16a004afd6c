"""The Compare tab's choice per side without a browser: the input chosen last wins on each side, and a cleared
side falls back to nothing (then Compare asks for two takes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emostudio.server.analyze.history_ui import compare_sides, picked

pytestmark = pytest.mark.unit


def test_the_input_chosen_last_wins_on_each_side():
    last = picked("run", "run-1", None)
    assert last == "run"
    last = picked("upload", "/tmp/x/a.wav", last)  # then a file is uploaded on the same side
    assert last == "upload"
    sides = compare_sides("/tmp/x/a.wav", "/tmp/x/b.wav", "run-1", "run-2", last, "upload")
    assert sides == [
        {"source": Path("/tmp/x/a.wav"), "name": "a.wav"},
        {"source": Path("/tmp/x/b.wav"), "name": "b.wav"},
    ]
    # a run picked again after the upload wins again
    assert compare_sides("/tmp/x/a.wav", None, "run-1", "run-2", picked("run", "run-1", "upload"), "run") == [
        {"run_id": "run-1"},
        {"run_id": "run-2"},
    ]


def test_clearing_an_input_forgets_it():
    assert picked("upload", None, "upload") is None  # the upload was removed
    assert picked("upload", None, "run") == "run"  # removing an upload keeps a run chosen later
    assert picked("run", None, "run") is None
    assert compare_sides(None, None, None, None, None, None) == []


def test_without_a_record_of_the_last_choice_a_run_wins():
    assert compare_sides("/a.wav", "/b.wav", "run-1", None) == [
        {"run_id": "run-1"},
        {"source": Path("/b.wav"), "name": "b.wav"},
    ]
