"""The embedded store under faults: `kill -9` while adding (10 trials at random moments, in a real process) loses
no committed record and a re-run adds exactly the rest; a damaged folder (zero-length, truncated or garbage files,
missing metadata) is a `profile_error` naming the problem on every surface, never an internal error or a silently
empty store."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from test_profiles import make_records
from test_profiles_api import _app, _error

from emostudio.cli import main
from emostudio.profiles import ProfileError, ProfileStore

pytestmark = pytest.mark.integration  # subprocesses: kill -9 trials, the CLI, a full disk (not the fast tier)

SRC = str(Path(__file__).resolve().parents[1] / "src")
TESTS = str(Path(__file__).resolve().parent)
N = 2000
CHILD = f"""
import sys
sys.path[:0] = [{SRC!r}, {TESTS!r}]
from test_profiles import make_records
from emostudio.profiles import ProfileStore
recs = make_records({N}, dim=32)
with ProfileStore(sys.argv[1]) as st:
    have = st.existing_ids([r.id for r in recs], "test/model")
    todo = [r for r in recs if r.id not in have]
    print("start", len(have), flush=True)
    for i in range(0, len(todo), 20):
        st.add(todo[i : i + 20])
        print("committed", " ".join(r.id for r in todo[i : i + 20]), flush=True)
    print("closing", flush=True)
print("done", flush=True)
"""


def _run_and_kill(store: Path, after_commits: int) -> tuple[set[str], bool]:
    """Start the adding process, kill -9 it after `after_commits` committed chunks (+ a random moment)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    committed: set[str] = set()
    reached = threading.Event()
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("committed"):
                committed.update(line.split()[1:])
            if sum(ln.startswith("committed") for ln in lines) >= after_commits or line.startswith("closing"):
                reached.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert reached.wait(120), f"the adding process did not get going: {lines[-3:]}"
    threading.Event().wait(random.uniform(0, 0.03))
    killed = proc.poll() is None
    if killed:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    reader.join(10)
    return set(committed), killed and not any(ln.startswith("done") for ln in lines)


def test_kill_9_at_random_moments_loses_nothing_committed_and_a_rerun_adds_the_rest(tmp_path):
    recs = {r.id: r for r in make_records(N, dim=32)}
    rng = random.Random(27)
    killed_mid_way = 0
    for trial in range(10):
        store = tmp_path / f"s{trial}"
        committed, killed = _run_and_kill(store, rng.randint(0, N // 20 + 1))  # N//20+1: while closing
        with ProfileStore(store) as st:  # the folder opens: nothing half-written is left behind
            got = st.records(with_vectors=True)
        ids = {r.id for r in got}
        assert committed <= ids <= set(recs), f"trial {trial}: committed records lost"
        for r in got:  # every stored record is whole
            want = recs[r.id]
            assert r.speaker == want.speaker and r.recorded_at == want.recorded_at and r.tags == want.tags
            assert np.allclose(r.embedding, want.embedding, atol=1e-4)
        killed_mid_way += killed and len(ids) < N
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(store)], capture_output=True, text=True, timeout=300
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[0] == f"start {len(ids)}"  # the re-run adds exactly the rest
        added = {i for ln in out.stdout.splitlines() if ln.startswith("committed") for i in ln.split()[1:]}
        assert added == set(recs) - ids
        with ProfileStore(store) as st:
            assert st.count() == N and {r.id for r in st.records()} == set(recs)
    assert killed_mid_way >= 5, killed_mid_way


# ---- damaged folders ---------------------------------------------------------------------------------------------
def _sparse_copy(src: str, dst: str) -> None:
    """Copy a file keeping its holes (the engine preallocates large sparse files)."""
    with open(src, "rb") as f, open(dst, "wb") as g:
        while block := f.read(1 << 20):
            if block == bytes(len(block)):
                g.seek(len(block), os.SEEK_CUR)
            else:
                g.write(block)
        g.truncate()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("pristine") / "store"
    recs = make_records(300, dim=16)
    with ProfileStore(path) as st:
        st.add(recs)
    return path, len(recs)


def _damaged(pristine: Path, to: Path, rel: str, how: str) -> Path:
    shutil.copytree(pristine, to, copy_function=_sparse_copy)
    f = to / rel
    data = f.read_bytes()
    if how == "zero":
        f.write_bytes(b"")
    elif how == "truncated":
        f.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        g = random.Random(rel).randbytes(min(len(data), 65536) or 64)
        f.write_bytes(g + data[len(g) :])
    else:
        f.unlink()
    return to


def test_every_damaged_file_is_a_clear_error_or_changes_nothing(pristine, tmp_path):
    """Each file zeroed, truncated, garbled or removed: ProfileError naming the store, or every record intact."""
    path, n = pristine
    files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and p.name != ".lock")
    assert len(files) > 20
    outcomes: dict[str, int] = {"error": 0, "intact": 0}
    for i, rel in enumerate(files):
        small = (path / rel).stat().st_size < 1 << 20  # the large preallocated files: zeroed and garbled only
        for how in ("zero", "truncated", "garbage", "missing") if small else ("zero", "garbage"):
            where = _damaged(path, tmp_path / f"d{i}-{how}", rel, how)
            try:
                with ProfileStore(where) as st:
                    count = st.count()
                    st.records(with_vectors=True)
                    st.search(np.ones(16), model_id="test/model", k=3)
            except ProfileError as e:
                assert str(where) in str(e), (rel, how, e)
                outcomes["error"] += 1
            else:
                assert count == n, f"{rel} {how}: {count} of {n} records, and no error"
                outcomes["intact"] += 1
            shutil.rmtree(where)
    assert outcomes["error"] >= 10, outcomes  # the metadata, WAL and segment headers are checked


@pytest.mark.parametrize(
    ("rel", "how", "says"),
    [
        ("emostudio-store.json", "missing", "emostudio-store.json is missing"),
        ("emostudio-store.json", "garbage", "emostudio-store.json is damaged"),
        ("emostudio-store.json", "zero", "emostudio-store.json is damaged"),
        ("collections/{c}/collection.json", "missing", "metadata of collection"),
        ("collections/{c}/collection.json", "truncated", "metadata of collection"),
        ("collections/{c}/shard/wal/open-1", "zero", "is damaged"),
        ("collections/{c}/shard/edge_config.json", "garbage", "is damaged"),
    ],
)
def test_damaged_store_is_profile_error_on_the_cli(pristine, tmp_path, capsys, rel, how, says):
    path, _ = pristine
    coll = sorted(p.name for p in (path / "collections").iterdir())[0]
    where = _damaged(path, tmp_path / "d", rel.format(c=coll), how)
    assert main(["profile", "show", "--store", str(where)]) == 2
    err = capsys.readouterr().err
    assert "profile_error" in err and says in err and str(where) in err and "Traceback" not in err


def test_damaged_or_old_store_is_a_4xx_with_the_ui_mounted(pristine, tmp_path, tiny_model_dir):
    path, _ = pristine
    (tmp_path / "out").mkdir()
    _damaged(path, tmp_path / "out" / "profiles", "emostudio-store.json", "garbage")
    app = _app(tmp_path, tiny_model_dir, ui=True)
    with TestClient(app, base_url="http://localhost") as c:
        msg = _error(c.get("/v1/profiles"), 422, "profile_error")
        assert "emostudio-store.json is damaged" in msg
    shutil.rmtree(tmp_path / "out" / "profiles")
    (tmp_path / "out" / "profiles").mkdir()
    (tmp_path / "out" / "profiles" / "meta.json").write_text('{"collections": {}}')  # the old format
    app = _app(tmp_path, tiny_model_dir, ui=True)
    with TestClient(app, base_url="http://localhost") as c:
        msg = _error(c.get("/v1/profiles"), 422, "profile_error")
        assert "profile migrate" in msg
