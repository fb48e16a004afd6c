"""emostudio.runs, the one module that knows run folders: names and ids, saving whole or not at all, reading and
rewriting result.json, listing newest first without incomplete folders, the zip and the download list."""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from datetime import datetime

import numpy as np
import pytest

from emostudio import runs
from emostudio.errors import OutputError

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 5, 9, 30, 0)


def _content(**files) -> runs.RunContent:
    return runs.RunContent({"emotion": "happy", "scores": {"happy": 1.0}}, np.zeros(1600, np.float32), files)


def test_ids_and_names_follow_the_seed_format():
    assert runs.new_run_dir.__doc__ and runs.RUN_ID.pattern == runs.id_pattern("outputs").pattern
    for good in ("outputs_20260105_093000", "outputs_20260105_093000_2", "outputs_20260105_093000_12"):
        assert runs.RUN_ID.match(good)
    for bad in (
        "outputs_2026_093000",
        "../outputs_20260105_093000",
        "outputs_20260105_093000_",
        "eval_20260105_093000",
    ):
        assert not runs.RUN_ID.match(bad)
    assert runs.REPORT_ID.match("eval_20260105_093000_3") and not runs.REPORT_ID.match(
        "outputs_20260105_093000"
    )
    assert (
        runs.channel_frames_file(1) == "frames_ch1.csv"
        and runs.channel_embedding_file(0) == "embedding_ch0.npy"
    )
    assert runs.part_files(7) == ("part-00007.parquet", "embeddings-00007.npy", "frames-00007.parquet")
    assert runs.PART_RE.match("part-00007.parquet") and not runs.PART_RE.match("part-00007 (1).parquet")
    assert runs.SCORE_COLUMNS[0] == "score_angry" and len(runs.SCORE_COLUMNS) == 9
    assert {"result.json", "frames_ch7.csv", "embedding_ch7.npy"} <= set(runs.DOWNLOADS)
    assert "frames_ch8.csv" not in runs.DOWNLOADS  # at most MAX_CHANNELS channels


def test_folders_in_the_same_second_never_collide(tmp_path):
    made = [runs.new_run_dir(tmp_path, NOW) for _ in range(3)] + [runs.new_report_dir(tmp_path, NOW)]
    assert [p.name for p in made] == [
        "outputs_20260105_093000",
        "outputs_20260105_093000_2",
        "outputs_20260105_093000_3",
        "eval_20260105_093000",
    ]
    a, b = runs.new_archive_dir(tmp_path), runs.new_archive_dir(tmp_path)
    assert a.name.startswith("previous-") and b.name == f"{a.name}-2"
    ids = ["outputs_20240101_120000_10", "outputs_20240101_120000", "outputs_20240101_120000_2"]
    assert sorted(ids, key=runs.sort_key) == [ids[1], ids[2], ids[0]]


def test_a_saved_run_is_complete_and_lists_its_files(tmp_path):
    folder = runs.save_run(
        tmp_path, _content(embedding=("embedding.npy", np.ones(4)), frames_csv=("frames.csv", "start_s\n"))
    )
    doc = runs.read_result(folder)
    assert doc["run_id"] == folder.name and doc["emotion"] == "happy"
    assert doc["files"] == {
        "result": "result.json",
        "processed_audio": "processed_audio.wav",
        "embedding": "embedding.npy",
        "frames_csv": "frames.csv",
    }
    assert np.load(folder / "embedding.npy").dtype == np.float32
    found = runs.run_folder(tmp_path, folder.name)
    assert found is not None and found.path == folder.resolve()
    assert found.files() == ["result.json", "processed_audio.wav", "frames.csv", "embedding.npy"]
    assert found.file("frames.csv") == found.path / "frames.csv" and found.file("../x") is None
    assert runs.run_files({"files": {"a": "frames.csv", "b": "../../etc/passwd"}}) == {"a": "frames.csv"}


def test_a_run_that_cannot_be_written_leaves_nothing(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runs, "save_npy", broken)
    with pytest.raises(OSError, match="No space"):
        runs.save_run(tmp_path, _content(embedding=("embedding.npy", np.ones(4))))
    assert list(tmp_path.iterdir()) == []  # neither the claimed name nor the temporary sibling


def _save_stopped_at(root, line: int) -> int:
    """runs.save_run into `root`, a KeyboardInterrupt raised at its `line`-th line (counting the package's lines
    it runs). Returns how many lines it ran: fewer than `line` when it ran to its end."""
    package, seen = os.path.dirname(runs.__file__), 0

    def stop(frame, event, arg):
        nonlocal seen
        if event == "line" and frame.f_code.co_filename.startswith(package):
            seen += 1
            if seen == line:
                raise KeyboardInterrupt  # a raising trace function is unset: one interrupt, as one Ctrl-C
        return stop

    sys.settrace(stop)
    try:
        runs.save_run(root, _content(embedding=("embedding.npy", np.ones(4)), frames_csv=("f.csv", "a\n")))
    except KeyboardInterrupt:
        pass
    finally:
        sys.settrace(None)
    return seen


def test_a_save_stopped_at_any_line_leaves_the_whole_run_or_nothing(tmp_path):
    """Ctrl-C can land between any two lines of save_run and the writers it calls: every folder left holds its
    result.json (CI once found an empty run folder after a Ctrl-C: the name was claimed before the files)."""
    line = 0
    while True:
        line += 1
        root = tmp_path / f"at{line}"
        ran = _save_stopped_at(root, line)
        left = sorted(root.iterdir()) if root.exists() else []
        assert not left or (len(left) == 1 and runs.is_run(left[0]) and runs.read_result(left[0])), (
            line,
            left,
        )
        if ran < line:  # it ran to its end without meeting the interrupt: every line was tried
            assert len(left) == 1
            break
    assert line > 20


def test_unknown_traversing_and_incomplete_runs_are_not_found(tmp_path):
    done = runs.save_run(tmp_path, _content())
    half = tmp_path / "outputs_20990101_000000"
    half.mkdir()  # no result.json: a run still being written, or a crash before the rename
    (tmp_path / "outputs_20990101_000001").write_text("a file")
    for bad in ("outputs_20990101_000000", "../" + done.name, done.name + "/..", None, 5, "result.json"):
        assert runs.run_folder(tmp_path, bad) is None
    assert [r.id for r in runs.list_runs(tmp_path)] == [done.name]
    assert runs.list_runs(tmp_path / "missing") == []


def test_runs_are_listed_newest_first(tmp_path):
    names = []
    for when in (datetime(2026, 1, 1), datetime(2026, 3, 1), datetime(2026, 2, 1), datetime(2026, 2, 1)):
        folder = runs.new_run_dir(tmp_path, when)
        (folder / runs.RESULT_FILE).write_text("{}")
        names.append(folder.name)
    assert [r.id for r in runs.list_runs(tmp_path)] == [names[1], names[3], names[2], names[0]]


def test_result_json_is_read_and_rewritten_in_place(tmp_path):
    folder = runs.save_run(tmp_path, _content())
    before = runs.read_result(folder)
    runs.rewrite_result(folder, text={"transcript": "好"})
    after = runs.read_result(folder)
    assert after == {**before, "text": {"transcript": "好"}}
    assert list(after)[:-1] == list(before)  # the other keys keep their place
    (folder / runs.RESULT_FILE).write_text("[1, 2]")
    with pytest.raises(runs.RunReadError, match="not a JSON object") as err:
        runs.read_result(folder)
    assert err.value.code == "bad_run" and err.value.problem == "result.json is not a JSON object"
    (folder / runs.RESULT_FILE).write_text("{broken")
    with pytest.raises(runs.RunReadError, match="unreadable result.json"):
        runs.read_result(folder)


def test_the_zip_holds_the_downloadable_files_under_the_run_id(tmp_path):
    folder = runs.save_run(tmp_path, _content(frames_csv=("frames.csv", "start_s\n")))
    (folder / "notes.txt").write_text("not a run file")
    names = zipfile.ZipFile(io.BytesIO(runs.zip_run(folder))).namelist()
    assert names == [f"{folder.name}/{n}" for n in ("result.json", "processed_audio.wav", "frames.csv")]
    dest = runs.write_zip(folder, tmp_path / "zips" / "run.zip")
    assert zipfile.ZipFile(dest).namelist() == names


def test_the_output_place_is_checked_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="it is a file"):
        runs.check_output_root(blocker)
    with pytest.raises(OutputError, match="cannot write results there"):
        runs.check_output_root(blocker / "sub")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(OutputError, match="permission denied"):
            runs.check_output_root(locked / "runs")
    assert runs.check_output_root(tmp_path / "new" / "runs").is_dir()
    assert json.loads(json.dumps(runs.DOWNLOADS))  # media types are plain strings
