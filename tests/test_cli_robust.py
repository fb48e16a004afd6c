"""The CLI where writing fails or inputs are no inputs: checked before any work, each failure said once, no
half-written run folder, and every result that could be written is kept (issue 12).

Full disks and read-only file systems are real: a small tmpfs in a private mount namespace (`unshare -m`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hostile import wav_bytes

pytestmark = pytest.mark.integration

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _clips(folder, n: int, seconds: float = 3.0):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"clip{i}.wav"
        p.write_bytes(wav_bytes(np.sin(np.arange(int(seconds * 16000)) / (4 + i)) * 0.3, 16000))
        paths.append(str(p))
    return paths


def _cli(
    args: list[str], mount: str | None = None, after: str = "", timeout: float = 300
) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "emostudio", *args]
    if mount is not None:  # run inside a mount namespace with a tmpfs mounted as described
        quoted = " ".join(f"'{a}'" for a in cmd)
        cmd = ["unshare", "-m", "sh", "-c", f"{mount} && {{ {quoted}; rc=$?; {after or 'true'}; exit $rc; }}"]
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout)


def _model(tiny_model_dir) -> list[str]:
    return ["--model", str(tiny_model_dir), "--offline", "--device", "cpu"]


def test_out_that_is_a_file_or_read_only_is_refused_before_any_work(tmp_path, tiny_model_dir):
    clip = _clips(tmp_path / "in", 1)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    done = _cli(["analyze", *clip, *_model(tiny_model_dir), "--out", str(blocker)])
    assert done.returncode == 2 and "cannot write results there (it is a file" in done.stderr
    ro = tmp_path / "ro"
    ro.mkdir()
    done = _cli(
        ["analyze", *clip, *_model(tiny_model_dir), "--out", str(ro / "runs")],
        mount=f"mount -t tmpfs -o ro tmpfs '{ro}'",
    )
    assert done.returncode == 2 and "read-only file system" in done.stderr, done.stderr
    for target in (tmp_path, blocker / "x.wav"):  # a folder, and a path under a file
        done = _cli(["enhance", *clip, "-o", str(target)])
        assert done.returncode == 2 and "cannot write the output there" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_full_disk_keeps_every_result_that_fits_and_leaves_no_half_run(tmp_path, tiny_model_dir):
    clips = _clips(tmp_path / "in", 4)
    disk = tmp_path / "disk"
    disk.mkdir()
    done = _cli(
        ["analyze", *clips, *_model(tiny_model_dir), "--out", str(disk), "--json"],
        mount=f"mount -t tmpfs -o size=240k tmpfs '{disk}'",
        after=f"ls -a '{disk}' > '{tmp_path}/after.txt'; for d in '{disk}'/outputs_*; do ls \"$d\"; done > '{tmp_path}/files.txt'",
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    docs = json.loads(done.stdout)
    assert len(docs) == 4
    saved = [d for d in docs if "error" not in d]
    failed = [d for d in docs if "error" in d]
    assert 1 <= len(saved) < 4 and failed
    for d in failed:  # the result was computed; only writing it failed — and it is still printed
        assert d["error"]["code"] == "output_error" and "No space left on device" in d["error"]["message"]
        assert d["scores"] and d["output_dir"] is None
    assert all(d["output_dir"] for d in saved)
    # what was left on the full disk: the saved runs, complete, and nothing half-written or temporary
    entries = [e for e in (tmp_path / "after.txt").read_text().split() if e not in (".", "..")]
    assert sorted(entries) == sorted(os.path.basename(d["output_dir"]) for d in saved), entries
    files = (tmp_path / "files.txt").read_text().split()
    assert files.count("result.json") == len(saved) and not [f for f in files if f.endswith(".tmp")]


def test_folders_without_audio_are_said_not_silently_empty(tmp_path, tiny_model_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    named = tmp_path / "looks_like.wav"
    named.mkdir()
    (empty / "notes.txt").write_text("hello")
    done = _cli(["analyze", str(empty), str(named), *_model(tiny_model_dir), "--out", str(tmp_path / "o")])
    assert done.returncode == 2
    assert "a folder with no audio files in it" in done.stderr and "nothing to analyse" in done.stderr
    good = _clips(tmp_path / "in", 1)
    done = _cli(
        ["analyze", str(empty), *good, *_model(tiny_model_dir), "--out", str(tmp_path / "o"), "--json"]
    )
    assert done.returncode == 1
    docs = json.loads(done.stdout)
    assert [d.get("error", {}).get("code") for d in docs] == ["no_audio_files", None]


def test_ctrl_c_is_a_clean_exit(tmp_path, tiny_model_dir):
    clips = _clips(tmp_path / "in", 30, seconds=8.0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "emostudio", "analyze", *clips, *_model(tiny_model_dir), "--out", str(tmp_path / "o")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None, "the analysis never started writing"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (proc.returncode, err[-2000:])
    assert "interrupted" in err and "Traceback" not in err
    runs = [p for p in (tmp_path / "o").iterdir()]
    assert all((p / "result.json").is_file() for p in runs if not p.name.startswith("."))


@pytest.mark.parametrize("flag", ["--max-duration", "--peak"])
def test_bad_numbers_are_usage_errors(tmp_path, tiny_model_dir, flag):
    clip = _clips(tmp_path / "in", 1)
    if flag == "--max-duration":
        done = _cli(
            ["analyze", *clip, *_model(tiny_model_dir), "--max-duration", "-5", "--out", str(tmp_path / "o")]
        )
    else:
        done = _cli(["enhance", *clip, "-o", str(tmp_path / "x.wav"), "--peak", "3"])
    assert done.returncode == 2 and "Traceback" not in done.stderr
