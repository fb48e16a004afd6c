"""Old store folders (qdrant-client local mode, pickles in SQLite): refused when opened, converted by
`profile migrate` with an allow-listed unpickler (a malicious pickle runs nothing); `profile push` / `pull` copy
every record to another store and back (a second local folder stands in for the Qdrant server)."""

from __future__ import annotations

import os
import pickle
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_profiles import make_records, unit

from emostudio.cli import main
from emostudio.profiles import ProfileError, ProfileRecord, ProfileStore
from emostudio.profiles.legacy import LegacyStoreError, UnsafePickleError
from emostudio.profiles.records import collection_name
from emostudio.profiles.transfer import copy_store, migrate

pytestmark = pytest.mark.unit


def old_store(path: Path, recs: list[ProfileRecord]) -> Path:
    """A store folder as emostudio wrote it before Qdrant Edge: qdrant-client local mode, unit vectors."""
    from qdrant_client import QdrantClient, models

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = QdrantClient(path=str(path))
        for model_id, dim in sorted({(r.model_id, r.dim) for r in recs}):
            client.create_collection(
                collection_name(model_id, dim),
                vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
                metadata={"model_id": model_id, "dim": dim, "schema": 1},
            )
        for r in recs:
            vec = (r.embedding / np.linalg.norm(r.embedding)).tolist()
            client.upsert(
                collection_name(r.model_id, r.dim),
                [models.PointStruct(id=r.id, vector=vec, payload=r.payload())],
            )
        client.close()
    return path


def same(got: list[ProfileRecord], want: list[ProfileRecord]) -> None:
    """Records, ids, times, tags, scores and embeddings carried over exactly."""
    by_id = {(r.model_id, r.id): r for r in want}  # one clip may be stored for two models
    assert len(got) == len(want) and {(r.model_id, r.id) for r in got} == set(by_id)
    for r in got:
        w = by_id[(r.model_id, r.id)]
        assert (r.speaker, r.recorded_at, r.tags, r.key, r.source, r.model_id, r.quality) == (
            w.speaker, w.recorded_at, w.tags, w.key, w.source, w.model_id, w.quality
        )  # fmt: skip
        assert np.allclose(r.scores, w.scores, atol=1e-6)
        assert np.allclose(r.embedding, w.embedding, rtol=1e-5, atol=1e-5)


class Boom:
    """A pickle that would run a shell command when loaded by a plain `pickle.loads`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_old_folder_is_refused_with_the_migrate_command(tmp_path, capsys):
    old = old_store(tmp_path / "old", make_records(20, dim=8))
    with pytest.raises(LegacyStoreError, match="profile migrate") as e:
        ProfileStore(old)
    assert e.value.code == "profile_error" and "pickle" in str(e.value)
    assert main(["profile", "show", "--store", str(old)]) == 2
    err = capsys.readouterr().err
    assert "profile_error" in err and f"emostudio profile migrate {old}" in err and "Traceback" not in err


def test_migrate_carries_every_record_over_exactly(tmp_path, capsys):
    recs = make_records(300, dim=16, model_id="model/a") + make_records(40, dim=8, model_id="model/b", seed=3)
    old = old_store(tmp_path / "old", recs)
    before = sorted(p.name for p in old.rglob("*"))
    assert main(["profile", "migrate", str(old), str(tmp_path / "new"), "--json"]) == 0
    assert '"records": 340' in capsys.readouterr().out
    assert sorted(p.name for p in old.rglob("*")) == before  # the old folder is only read
    with ProfileStore(tmp_path / "new") as store:
        same(store.records(with_vectors=True), recs)
        a = [r for r in recs if r.model_id == "model/a"]
        matrix = unit(np.stack([r.embedding for r in a]))
        q = np.random.default_rng(5).standard_normal(16)
        hits = store.search(q, k=10, model_id="model/a", speaker="spk2")  # answers as the old store did
        want = sorted(
            (i for i, r in enumerate(a) if r.speaker == "spk2"), key=lambda i: -float(matrix[i] @ unit(q))
        )
        assert [h.id for h in hits] == [a[i].id for i in want[:10]]
        assert store.speakers(model_id="model/b") == {f"spk{i}": 4 for i in range(10)}
    # migrating again replaces, never duplicates
    assert migrate(old, tmp_path / "new").total == 340
    with ProfileStore(tmp_path / "new") as store:
        assert store.count() == 340


@pytest.mark.parametrize("stealthy", [False, True])
def test_a_malicious_pickle_is_refused_and_never_runs(tmp_path, capsys, stealthy):
    recs = make_records(5, dim=8)
    old = old_store(tmp_path / "old", recs)
    marker = tmp_path / "PWNED"
    payload = pickle.dumps(Boom(marker))
    if stealthy:  # runs the command, then returns a real point: a plain unpickler would leave no trace
        real = (
            sqlite3.connect(next(old.glob("collection/*/storage.sqlite")))
            .execute("SELECT point FROM points")
            .fetchone()[0]
        )
        payload = pickle.dumps((Boom(marker), pickle.loads(real)))
    db = next(old.glob("collection/*/storage.sqlite"))
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE points SET point = ? WHERE rowid = (SELECT MIN(rowid) FROM points)", (payload,))
    con.close()
    with pytest.raises(UnsafePickleError, match="refused to load posix.system|refused to load nt.system"):
        migrate(old, tmp_path / "new")
    assert main(["profile", "migrate", str(old), str(tmp_path / "new2")]) == 2
    err = capsys.readouterr().err
    assert "profile_error" in err and "refused to load" in err and "Traceback" not in err
    with pytest.raises(LegacyStoreError):  # opening it as a store reads nothing at all
        ProfileStore(old)
    assert main(["profile", "show", "--store", str(old)]) == 2
    assert not marker.exists()


def test_migrate_refuses_what_is_not_an_old_store(tmp_path):
    with ProfileStore(tmp_path / "new") as store:
        store.add(make_records(3, dim=8))
    with pytest.raises(ProfileError, match="not a profile store folder of the old format"):
        migrate(tmp_path / "new", tmp_path / "other")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "meta.json").write_text("{not json")
    with pytest.raises(ProfileError, match="meta.json is damaged"):
        migrate(tmp_path / "bad", tmp_path / "other")


def test_push_and_pull_move_every_record_without_analysing(tmp_path, capsys):
    recs = make_records(700, dim=16) + make_records(30, dim=8, model_id="model/b", seed=9)
    local, server, back = tmp_path / "local", tmp_path / "server", tmp_path / "back"
    with ProfileStore(local) as store:
        store.add(recs)
    # a folder stands in for http://host:6333 here (no server can run): the same code path up to the engine
    assert main(["profile", "push", str(server), "--store", str(local), "--json"]) == 0
    assert '"records": 730' in capsys.readouterr().out
    assert main(["profile", "pull", str(server), "--store", str(back)]) == 0
    assert "pulled 730 record(s)" in capsys.readouterr().out
    for where in (server, back):
        with ProfileStore(where) as store:
            same(store.records(with_vectors=True), recs)
    with ProfileStore(local) as a, ProfileStore(back) as b:
        q = np.random.default_rng(1).standard_normal(16)
        assert [h.id for h in a.search(q, k=10, model_id="test/model")] == [
            h.id for h in b.search(q, k=10, model_id="test/model")
        ]
        with pytest.raises(ProfileError, match="same store"):
            copy_store(a, a)
    assert main(["profile", "push", "http://127.0.0.1:9", "--store", str(local)]) == 2
    assert "store_unreachable" in capsys.readouterr().err
