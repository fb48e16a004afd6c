"""`emostudio profile ...` end to end on a tiny random model, and `kill -9` during `profile add` in a real process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from audio_factory import bad_text, encode, make_voice
from test_profiles import T0, weekly

from emostudio.cli import main
from emostudio.profiles import ProfileError, ProfileStore, record_id
from emostudio.profiles.ingest import file_digest

pytestmark = pytest.mark.integration

SR = 16000
SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("pclips")
    for i in range(4):
        encode(d / f"c{i}.wav", make_voice(1.0, SR, seed=20 + i), SR, "wav")
    return d


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_profile_commands_end_to_end(clips, tiny_model_dir, tmp_path, capsys):
    st = ["--store", str(tmp_path / "store")]
    m = ["--model", str(tiny_model_dir), "--device", "cpu"]
    assert (
        main(["profile", "add", str(clips), "--speaker", "alice", "--tag", "pilot", "--json", *st, *m]) == 0
    )
    rep = _json(capsys)
    assert rep["added"] == 4 and rep["speakers"] == {"alice": 4} and not rep["failed"]
    assert (
        main(["profile", "add", str(clips / "c0.wav"), "--speaker", "bob", "--at", "2026-01-05", *st, *m])
        == 0
    )
    assert "added 1 record(s) for bob (1)" in capsys.readouterr().out

    assert main(["profile", "show", "--json", *st]) == 0
    overview = _json(capsys)
    assert overview["speakers"] == {"alice": 4, "bob": 1} and overview["collections"][0]["dim"] == 64
    assert main(["profile", "show", "--speaker", "alice", "--json", *st]) == 0
    s = _json(capsys)
    assert s["records"] == 4 and s["tags"] == {"pilot": 4} and abs(sum(s["label_shares"].values()) - 1) < 1e-6
    assert main(["profile", "show", "--speaker", "alice", *st]) == 0
    assert "negative share" in capsys.readouterr().out

    assert (
        main(
            ["profile", "search", str(clips / "c1.wav"), "--k", "2", "--speaker", "alice", "--json", *st, *m]
        )
        == 0
    )
    hits = _json(capsys)["matches"]
    assert hits[0]["source"] == str(clips / "c1.wav") and hits[0]["cosine"] == pytest.approx(1.0, abs=1e-5)
    assert len(hits) == 2 and all(h["speaker"] == "alice" for h in hits)
    assert main(["profile", "search", str(clips / "c0.wav"), "--until", "2026-02-01", "--json", *st, *m]) == 0
    assert [h["speaker"] for h in _json(capsys)["matches"]] == ["bob"]  # only bob's record is that old

    out = tmp_path / "charts"
    assert (
        main(["profile", "trend", "--speaker", "alice", "--by", "day", "--out", str(out), "--json", *st]) == 0
    )
    tr = _json(capsys)
    assert tr["alert"]["status"] == "not_enough_data" and Path(tr["files"]["png"]).is_file()
    assert Path(tr["files"]["html"]).read_text().startswith("<!doctype html>")

    assert main(["profile", "compare", "alice", "bob", "--json", *st]) == 0
    cmp = _json(capsys)
    assert cmp["a"]["records"] == 4 and cmp["b"]["records"] == 1 and -1 <= cmp["centroid_cosine"] <= 1
    assert set(cmp["reading"]) == {"zh", "en"}

    assert main(["profile", "export", "--format", "csv", "--out", str(tmp_path / "e.csv"), *st]) == 0
    assert (tmp_path / "e.csv").read_text().count("\n") == 6 and np.load(
        tmp_path / "e.csv.embeddings.npy"
    ).shape == (5, 64)
    assert main(["profile", "export", "--speaker", "bob", "--out", str(tmp_path / "bob.parquet"), *st]) == 0

    assert main(["profile", "delete", "--speaker", "bob", *st]) == 2  # no --yes and no terminal: refused
    assert "--yes" in capsys.readouterr().err
    assert main(["profile", "delete", "--speaker", "bob", "--yes", "--json", *st]) == 0
    assert _json(capsys) == {"speaker": "bob", "deleted": 1}
    assert main(["profile", "show", "--speaker", "bob", *st]) == 2
    err = capsys.readouterr().err
    assert "unknown_speaker" in err and "Traceback" not in err
    assert (
        main(["profile", "show", "--speaker", "alice", "--json", *st]) == 0 and _json(capsys)["records"] == 4
    )


def test_trend_cli_alert_exit_status(tmp_path, capsys):
    with ProfileStore(tmp_path / "s") as store:
        store.add(weekly("cust", [2, 4, 6, 8, 10, 12, 14, 16]))
    st = ["--store", str(tmp_path / "s")]
    rc = main(
        [
            "profile",
            "trend",
            "--speaker",
            "cust",
            "--tz",
            "UTC",
            "--out",
            str(tmp_path),
            "--fail-on-alert",
            *st,
        ]
    )
    assert rc == 5  # EXIT_ALERT: its own code, not 3 (internal error)
    text = capsys.readouterr().out
    assert "预警" in text and "ALERT" in text and "2026-W09" in text
    assert (tmp_path / "trend_cust_week.png").read_bytes()[:4] == b"\x89PNG"
    assert (
        main(
            [
                "profile",
                "trend",
                "--speaker",
                "cust",
                "--threshold",
                "0.5",
                "--fail-on-alert",
                "--no-chart",
                *st,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "profile",
                "trend",
                "--speaker",
                "cust",
                "--since",
                str((T0 + timedelta(weeks=7)).date()),
                "--no-chart",
                *st,
            ]
        )
        == 0
    )
    assert main(["profile", "trend", "--speaker", "cust", "--tz", "Mars/Olympus", "--no-chart", *st]) == 2


def test_cli_typed_errors_never_tracebacks(tmp_path, capsys):
    st = ["--store", str(tmp_path / "s")]
    assert main(["profile", "show", "--speaker", "x", *st]) == 2
    assert "empty_store" in capsys.readouterr().err
    with ProfileStore(tmp_path / "s"):  # held open: the command meets the lock
        assert main(["profile", "show", *st]) == 2
        assert "store_locked" in capsys.readouterr().err
    assert main(["profile", "show", "--store", "http://127.0.0.1:9"]) == 2
    assert "store_unreachable" in capsys.readouterr().err
    np.save(tmp_path / "q.npy", np.ones(5, np.float32))
    with ProfileStore(tmp_path / "s") as store:
        store.add(weekly("a", [1, 1]))
    assert main(["profile", "search", str(tmp_path / "q.npy"), *st]) == 2
    assert "dimension_mismatch" in capsys.readouterr().err
    assert main(["profile", "add", str(tmp_path / "q.npy"), "--speaker", "a", "--at", "someday", *st]) == 2
    assert "bad_time" in capsys.readouterr().err


# ---- kill -9 during `profile add` --------------------------------------------------------------------------------
def _sparse_copy(src: str, dst: str) -> None:
    """Copy a file keeping its holes (the engine preallocates 32 MB files): a quick peek."""
    with open(src, "rb") as f, open(dst, "wb") as g:
        while block := f.read(1 << 20):
            if block == bytes(len(block)):
                g.seek(len(block), os.SEEK_CUR)
            else:
                g.write(block)
        g.truncate()


def _stored(store: Path) -> int:
    """Records committed so far: a copy of the folder beside the running process, opened as a store (its WAL is
    replayed); 0 while the copy cannot be opened yet."""
    copy = store.parent / "peek"
    shutil.rmtree(copy, ignore_errors=True)
    if not (store / "collections").is_dir():
        return 0
    try:
        shutil.copytree(store, copy, ignore=shutil.ignore_patterns(".lock"), copy_function=_sparse_copy)
        with ProfileStore(copy) as st:
            return st.count()
    except (OSError, ProfileError):  # a file written while copied, or nothing committed yet
        return 0
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def test_kill_9_during_profile_add_then_rerun_adds_the_rest_exactly_once(tmp_path, tiny_model_dir, capsys):
    d = tmp_path / "clips"
    d.mkdir()
    n = 20
    for i in range(n):
        encode(d / f"k{i:02d}.wav", make_voice(0.5, SR, seed=100 + i), SR, "wav")
    bad_text(d).rename(d / "zz_broken.wav")
    expected = {record_id("kim", file_digest(d / f"k{i:02d}.wav")) for i in range(n)}
    store = tmp_path / "store"
    cmd = [sys.executable, "-m", "emostudio", "profile", "add", str(d), "--speaker", "kim", "--store", str(store),
           "--model", str(tiny_model_dir), "--device", "cpu", "--chunk", "1", "--json"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while True:  # the child is stopped while its folder is peeked at, so it cannot finish during a slow peek
        assert proc.poll() is None, f"profile add ended before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline, "profile add stored nothing in 120 s"
        os.killpg(proc.pid, signal.SIGSTOP)
        if _stored(store) >= 2:
            break
        os.killpg(proc.pid, signal.SIGCONT)
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # wherever the stopped child was: mid-write included
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    with ProfileStore(store) as st:  # every stored record is whole
        partial = st.records(with_vectors=True)
    k = len(partial)
    assert 2 <= k < n, k
    assert {r.id for r in partial} <= expected and len({r.id for r in partial}) == k
    for r in partial:
        assert r.speaker == "kim" and r.source.startswith(str(d)) and r.embedding.shape == (64,)
        assert abs(r.scores.sum() - 1) < 1e-3 and r.label and r.model_id == str(tiny_model_dir)

    assert main(cmd[3:]) == 1  # the same command again (in this process); the broken file is reported again
    rep = json.loads(capsys.readouterr().out)
    assert (
        rep["skipped"] == k
        and rep["added"] == n - k
        and [f["error"]["code"] for f in rep["failed"]] == ["not_audio"]
    )
    with ProfileStore(store) as st:
        final = st.records()
    assert len(final) == n and {r.id for r in final} == expected  # the rest exactly once, nothing doubled


def test_profile_add_reads_finished_batch_folders_and_names_what_it_cannot_read(
    clips, recognizer, tmp_path, capsys
):
    from emostudio.batch import InputItem, run_batch

    items = [InputItem(f"c{i}", str(clips / f"c{i}.wav"), speaker=f"s{i % 2}") for i in range(4)]
    run_batch(items, tmp_path / "batch", recognizer=recognizer, embedding=True, workers=0)
    st = ["--store", str(tmp_path / "store")]
    assert main(["profile", "add", str(tmp_path / "batch"), "--tag", "b", "--json", *st]) == 0
    rep = _json(capsys)
    assert rep["added"] == 4 and rep["speakers"] == {"s0": 2, "s1": 2}
    missing = tmp_path / "nope.wav"
    assert main(["profile", "add", str(missing), "--speaker", "x", "--model", "demo", *st]) == 1
    err = capsys.readouterr().err
    assert f"{missing}: no such file" in err and err.count("no such file") == 1
