"""`emostudio batch` on a disk that fills up (issue 25 item 9): exit 2 with one clear line (not exit 3 "internal
error"), the shards committed before are kept, and the same command resumes once space is freed.

The full disk is real: a small tmpfs in a private mount namespace (`unshare -m`), grown with a remount."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hostile import wav_bytes

from emostudio.batch import read_results

pytestmark = pytest.mark.integration  # subprocesses: kill -9 trials, the CLI, a full disk (not the fast tier)


def test_a_full_disk_exits_2_keeps_what_was_committed_and_resumes(tmp_path, tiny_model_dir):
    clips = tmp_path / "in"
    clips.mkdir()
    for i in range(8):
        (clips / f"c{i}.wav").write_bytes(wav_bytes(np.sin(np.arange(32000) / (4 + i)) * 0.3, 16000))
    disk, out = tmp_path / "disk", tmp_path / "disk" / "out"
    disk.mkdir()
    cmd = [
        sys.executable,
        "-m",
        "emostudio",
        "batch",
        str(clips),
        "--out",
        str(out),
        "--model",
        str(tiny_model_dir),
    ]
    cmd += ["--offline", "--device", "cpu", "--shard-size", "1", "--embedding", "--json"]
    quoted = " ".join(f"'{a}'" for a in cmd)
    script = (
        f"mount -t tmpfs -o size=60k tmpfs '{disk}' && "
        f"{{ {quoted} > '{tmp_path}/first.out' 2> '{tmp_path}/first.err'; echo $? > '{tmp_path}/first.rc'; "
        f"ls '{out}' > '{tmp_path}/first.ls'; "
        f"mount -o remount,size=20m '{disk}' && {quoted} > '{tmp_path}/second.out'; echo $? > '{tmp_path}/second.rc'; "
        f"cp -r '{out}' '{tmp_path}/kept'; }}"
    )
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=600)
    err = (tmp_path / "first.err").read_text()
    assert (tmp_path / "first.rc").read_text().strip() == "2", err
    assert "No space left on device" in err and "run the same command again to resume" in err
    assert "internal error" not in err and "Traceback" not in err
    first = (tmp_path / "first.ls").read_text().split()
    committed = [f for f in first if f.startswith("part-")]
    assert committed and len(committed) < 8 and not [f for f in first if f.endswith(".tmp")]

    assert (tmp_path / "second.rc").read_text().strip() == "0"
    doc = json.loads((tmp_path / "second.out").read_text())
    assert doc["total"] == 8 and doc["skipped"] == len(committed) and doc["processed"] == 8 - len(committed)
    ids = read_results(tmp_path / "kept").column("id").to_pylist()
    assert sorted(ids) == sorted(f"c{i}.wav" for i in range(8))  # every input once
