"""The CLI's progress while files are analysed (cli.common.FilesProgress): files done of total, and the file being
worked on with its stage and that stage's share done, which never goes back."""

from __future__ import annotations

import threading

import pytest

from emostudio.cli.common import FilesProgress
from emostudio.messages import t

pytestmark = pytest.mark.unit


def _task(progress: FilesProgress, index: int):
    return progress.bar.tasks[index]


def test_one_file_shows_its_stage_and_share_and_no_files_count():
    with FilesProgress(["/data/calls/long call.wav"]) as p:
        files, stage = _task(p, 0), _task(p, 1)
        assert not files.visible and not stage.visible  # nothing to show before the work starts
        p.stage(0, "progress_diarize", 0.25)
        assert stage.visible and stage.description == f"long call.wav: {t('progress_diarize', 'en')}"
        assert stage.completed == 0.25 and stage.fields["count"] == "25%"
        p.stage(0, "progress_diarize", 0.2)  # a part scored again: the bar stays where it was
        assert stage.completed == 0.25
        p.stage(0, "progress_model", 0.0)  # the next stage starts from 0
        assert stage.description.endswith(t("progress_model", "en")) and stage.completed == 0.0
        p.stage(0, "progress_model", 1.5)
        assert stage.completed == 1.0 and stage.fields["count"] == "100%"
        p.file_done()
        assert files.completed == 1


def test_many_files_count_done_of_total_from_several_threads():
    names = [f"f{i}.wav" for i in range(40)]
    with FilesProgress(names) as p:
        assert _task(p, 0).visible and _task(p, 0).fields["count"] == "0/40"

        def work(i: int) -> None:
            for f in (0.0, 0.5, 1.0):
                p.stage(i, "progress_model", f)
            p.file_done()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(names))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert _task(p, 0).completed == 40 and _task(p, 0).fields["count"] == "40/40"


def test_a_batch_job_sets_its_own_count_and_names_its_inputs_by_id():
    with FilesProgress([], what="batch") as p:
        files, stage = _task(p, 0), _task(p, 1)
        assert not files.visible  # no count before the job tells one
        p.stage_of("call-017", "progress_diarize", 0.4)
        assert stage.visible and stage.description == f"call-017: {t('progress_diarize', 'en')}"
        assert stage.completed == 0.4
        p.files(3, 10, "0.2 files/s · 0 failed")
        assert files.visible and files.completed == 3 and files.total == 10
        assert files.fields["count"] == "3/10" and files.fields["info"] == "0.2 files/s · 0 failed"
        p.stage_of("call-018", "progress_diarize", 0.1)  # the next input starts from its own 0
        assert stage.completed == 0.1 and stage.description.startswith("call-018: ")


def test_two_inputs_worked_on_at_once_never_send_each_others_bar_back():
    with FilesProgress(["a.wav", "b.wav"]) as p:
        stage = _task(p, 1)
        p.stage(0, "progress_model", 0.5)
        p.stage(1, "progress_model", 0.2)  # b's turn: its own share
        assert stage.description.startswith("b.wav: ") and stage.completed == 0.2
        p.stage(0, "progress_model", 0.3)  # a again (a group scored one by one): where a was, not 0 or 0.3
        assert stage.description.startswith("a.wav: ") and stage.completed == 0.5
        assert stage.fields["count"] == "50%"
