"""The profile store: records, Qdrant local store (add, search, filters, reopen, delete, typed errors), trends and
alerts, comparing speakers, export, filling it from audio, run folders and batch folders."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from audio_factory import bad_text, encode, make_voice

from emostudio.batch import InputItem, run_batch
from emostudio.model.labels import KEYS
from emostudio.profiles import (
    AlertRule,
    AmbiguousModelError,
    BadTimeError,
    DimensionMismatchError,
    EmptyStoreError,
    ProfileError,
    ProfileRecord,
    ProfileStore,
    StoreLockedError,
    StoreUnreachableError,
    UnknownSpeakerError,
    add_batch_results,
    add_sources,
    compare,
    parse_time,
    record_id,
    summarize,
    trend,
)
from emostudio.profiles.charts import trend_html, trend_png
from emostudio.profiles.export import export_records

pytestmark = pytest.mark.integration

SR = 16000
T0 = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)  # a Monday


def probs_for(label: str, rng: np.random.Generator | None = None) -> np.ndarray:
    p = np.full(9, 0.03) + (0 if rng is None else rng.uniform(0, 0.02, 9))
    p[KEYS.index(label)] = 0.7
    return p / p.sum()


def make_records(
    n: int, dim: int = 64, speakers: int = 10, seed: int = 0, model_id: str = "test/model", days: int = 60
) -> list[ProfileRecord]:
    rng = np.random.default_rng(seed)
    emb = rng.standard_normal((n, dim)).astype(np.float32)
    return [
        ProfileRecord(
            speaker=f"spk{i % speakers}",
            recorded_at=T0 + timedelta(minutes=int(rng.integers(0, days * 24 * 60))),
            scores=probs_for(KEYS[i % 9], rng),
            model_id=model_id,
            key=f"clip-{i}",
            embedding=emb[i],
            source=f"clip{i}.wav",
            quality="ok",
            tags=["vip"] if i % 7 == 0 else [],
        )
        for i in range(n)
    ]


def weekly(
    speaker: str, angry_per_week: list[int], n: int = 20, dim: int = 16, seed: int = 0
) -> list[ProfileRecord]:
    """`n` records a week for len(angry_per_week) weeks; the first k of week w are angry, the rest neutral."""
    rng = np.random.default_rng(seed)
    out = []
    for w, k in enumerate(angry_per_week):
        for j in range(n):
            out.append(
                ProfileRecord(
                    speaker=speaker,
                    recorded_at=T0 + timedelta(weeks=w, hours=int(j * 7)),
                    scores=probs_for("angry" if j < k else "neutral", rng),
                    model_id="test/model",
                    key=f"{speaker}-{w}-{j}",
                    embedding=rng.standard_normal(dim) + (3.0 if j < k else -3.0),
                )
            )
    return out


def unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# ---- records ---------------------------------------------------------------------------------------------------
def test_record_ids_times_and_validation():
    assert record_id("alice", "sha256:ab") == record_id("alice", "sha256:ab")
    assert record_id("alice", "sha256:ab") != record_id("bob", "sha256:ab")
    assert parse_time("2026-01-05T09:30:00+08:00") == datetime(2026, 1, 5, 1, 30, tzinfo=timezone.utc)
    assert parse_time("2026-01-05T01:30Z") == datetime(2026, 1, 5, 1, 30, tzinfo=timezone.utc)
    assert parse_time("1767576600") == datetime(2026, 1, 5, 1, 30, tzinfo=timezone.utc)
    assert parse_time("2026-01-05").tzinfo is not None and parse_time(None) is None
    with pytest.raises(BadTimeError, match="ISO 8601"):
        parse_time("next tuesday", what="--at")
    r = make_records(1)[0]
    assert r.label == KEYS[0] and r.confidence == pytest.approx(r.scores.max())
    assert r.id == record_id("spk0", "clip-0")
    with pytest.raises(ProfileError, match="speaker id"):
        ProfileRecord(speaker="  ", recorded_at=T0, scores=probs_for("sad"), model_id="m", key="k")
    with pytest.raises(ProfileError, match="9 non-negative"):
        ProfileRecord(speaker="a", recorded_at=T0, scores=np.ones(3), model_id="m", key="k")
    with pytest.raises(ProfileError, match="embedding"):
        ProfileRecord(
            speaker="a", recorded_at=T0, scores=probs_for("sad"), model_id="m", key="k", embedding=np.zeros(4)
        )
    for no_time in ("", None):  # refused here, not later by the store
        with pytest.raises(ProfileError, match="recorded_at is empty"):
            ProfileRecord(speaker="a", recorded_at=no_time, scores=probs_for("sad"), model_id="m", key="k")


# ---- store -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    """10,000 synthetic records in a local store (the add time is printed; the benchmark judges speed)."""
    path = tmp_path_factory.mktemp("big") / "store"
    recs = make_records(10_000)
    with ProfileStore(path) as store:
        t = time.perf_counter()
        assert store.add(recs) == 10_000
        print(f"\nadded 10,000 records in {time.perf_counter() - t:.2f} s")
    return path, recs


def test_ten_thousand_records_search_equals_brute_force(big_store):
    path, recs = big_store
    matrix = unit(np.stack([r.embedding for r in recs]))
    rng = np.random.default_rng(7)
    with ProfileStore(path) as store:
        assert store.count() == 10_000
        for q in rng.standard_normal((10, 64)):
            hits = store.search(q, k=10)
            want = np.argsort(-(matrix @ unit(q)))[:10]
            assert [h.id for h in hits] == [recs[i].id for i in want]
            assert [h.score for h in hits] == pytest.approx(
                [float(matrix[i] @ unit(q)) for i in want], abs=1e-5
            )
        # speaker and time filters give the brute-force answer over the matching subset
        q = rng.standard_normal(64)
        since, until = T0 + timedelta(days=10), T0 + timedelta(days=20)
        hits = store.search(q, k=10, speaker="spk3", since=since, until=until)
        subset = [i for i, r in enumerate(recs) if r.speaker == "spk3" and since <= r.recorded_at < until]
        want = sorted(subset, key=lambda i: -float(matrix[i] @ unit(q)))[:10]
        assert [h.id for h in hits] == [recs[i].id for i in want]
        assert all(h.speaker == "spk3" and since <= h.recorded_at < until for h in hits)
        tagged = store.search(q, k=5, tag="vip")
        assert tagged and all("vip" in h.tags for h in tagged)


def test_records_survive_close_and_reopen(big_store):
    path, recs = big_store
    by_id = {r.id: r for r in recs}
    with ProfileStore(path) as store:
        got = store.speaker_records("spk5", with_vectors=True)
    assert len(got) == 1000 and [r.recorded_at for r in got] == sorted(r.recorded_at for r in got)
    for r in got[:50]:
        want = by_id[r.id]
        assert (r.speaker, r.recorded_at, r.model_id, r.source, r.quality, r.tags, r.key) == (
            want.speaker, want.recorded_at, want.model_id, want.source, want.quality, want.tags, want.key
        )  # fmt: skip
        assert np.allclose(r.scores, want.scores, atol=1e-6)
        assert np.allclose(r.embedding, want.embedding, atol=1e-4)  # stored as a unit vector and its length
    with ProfileStore(path) as store:
        every = store.records(with_vectors=True)  # several scroll pages with vectors
        assert len(every) == 10_000 and {r.id for r in every} == set(by_id)
        spk = store.speakers()
        assert spk == {f"spk{i}": 1000 for i in range(10)}
        window = store.records(speaker="spk1", since=T0 + timedelta(days=30))
        assert window and all(r.recorded_at >= T0 + timedelta(days=30) for r in window)
        assert len(window) == sum(
            r.speaker == "spk1" and r.recorded_at >= T0 + timedelta(days=30) for r in recs
        )


def test_adding_again_replaces_never_duplicates(tmp_path):
    recs = make_records(30)
    with ProfileStore(tmp_path / "s") as store:
        store.add(recs)
        store.add(recs[:10])
        assert store.count() == 30
        assert len({r.id for r in store.records()}) == 30


def test_delete_removes_all_and_only_that_speaker(tmp_path):
    a = make_records(60, dim=16, speakers=3, model_id="model/a")
    b = make_records(40, dim=24, speakers=4, model_id="model/b", seed=1)
    with ProfileStore(tmp_path / "s") as store:
        store.add(a + b)
        before = {r.id for r in store.records()}
        assert len(store.collections()) == 2  # one collection per model and embedding size
        n = store.delete_speaker("spk1")
        assert n == sum(r.speaker == "spk1" for r in a + b) == 30
        after = {r.id for r in store.records()}
        assert after == before - {r.id for r in a + b if r.speaker == "spk1"}
        assert "spk1" not in store.speakers() and store.speakers()["spk2"] == 30
        with pytest.raises(UnknownSpeakerError, match="spk1"):
            store.delete_speaker("spk1")
    with ProfileStore(tmp_path / "s") as store:  # and it stays deleted
        assert "spk1" not in store.speakers() and store.count() == 70


def test_typed_errors(tmp_path):
    with ProfileStore(tmp_path / "s") as store:
        with pytest.raises(EmptyStoreError):
            store.search(np.ones(16))
        with pytest.raises(EmptyStoreError):
            store.speaker_records("nobody")
        store.add(make_records(20, dim=16, model_id="model/a"))
        with pytest.raises(UnknownSpeakerError, match="nobody"):
            store.speaker_records("nobody")
        with pytest.raises(UnknownSpeakerError):
            store.search(np.ones(16), speaker="nobody")
        with pytest.raises(DimensionMismatchError, match="32 values"):
            store.search(np.ones(32))
        with pytest.raises(EmptyStoreError, match="model/zzz"):
            store.search(np.ones(16), model_id="model/zzz")
        store.add(make_records(20, dim=16, model_id="model/b", seed=2))
        with pytest.raises(AmbiguousModelError):
            store.search(np.ones(16))
        with pytest.raises(AmbiguousModelError):
            store.speaker_records("spk0")
        assert len(store.speaker_records("spk0", model_id="model/b")) == 2
        # a second opener of the same folder (another process, or this one) gets a clear error, nothing is lost
        with pytest.raises(StoreLockedError, match="open in another process"):
            ProfileStore(tmp_path / "s")
        assert store.count() == 40
    (tmp_path / "file").write_text("x")
    with pytest.raises(ProfileError, match="must be a folder"):
        ProfileStore(tmp_path / "file")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "meta.json").write_text("{not json")
    with pytest.raises(ProfileError, match="cannot open the profile store"):
        ProfileStore(tmp_path / "broken")
    assert (tmp_path / "broken" / "meta.json").read_text() == "{not json"  # left as it was


def test_unreachable_server_is_a_typed_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    with pytest.raises(StoreUnreachableError, match=f"127.0.0.1:{port}"):
        ProfileStore(f"http://127.0.0.1:{port}", timeout_s=2)


# ---- trend, alert, compare ---------------------------------------------------------------------------------------
def test_rising_angry_share_over_eight_weeks_alerts_and_draws(tmp_path):
    rising = weekly("cust", [2, 4, 6, 8, 10, 12, 14, 16])  # 10 % → 80 % angry
    with ProfileStore(tmp_path / "s") as store:
        store.add(rising)
        recs = store.speaker_records("cust")
    t = trend(recs, by="week", tz="UTC")
    assert list(t.table["records"]) == [20] * 8
    assert list(t.table["share_angry"]) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    assert list(t.table["negative_share"]) == pytest.approx(list(t.table["share_angry"]))
    assert t.table["period"].iloc[0] == "2026-W02"
    assert t.alert.triggered and t.alert.status == "alert"
    assert t.alert.recent_share == pytest.approx(0.7) and t.alert.baseline_share == pytest.approx(0.3)
    assert t.alert.rise == pytest.approx(0.4) and t.alert.slope_per_period == pytest.approx(0.1)
    assert (
        "ALERT" in t.alert.message["en"] and "预警" in t.alert.message["zh"] and "15" in t.alert.message["en"]
    )
    png = trend_png(t)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    page = trend_html(t, png)
    assert "data:image/png;base64," in page and "预警" in page and "2026-W09" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page  # self-contained
    doc = t.to_dict()
    assert doc["alert"]["triggered"] is True and len(doc["periods"]) == 8
    # a higher threshold (stated and configurable) does not alert on the same data
    assert not trend(recs, rule=AlertRule(threshold=0.45), tz="UTC").alert.triggered


def test_flat_series_does_not_alert_and_gaps_are_kept():
    flat = weekly("calm", [6, 5, 7, 6, 6, 5, 7, 6])  # ~30 % every week
    t = trend(flat, by="week", tz="UTC")
    assert not t.alert.triggered and t.alert.status == "ok" and "No alert" in t.alert.message["en"]
    assert abs(t.alert.rise) < 0.05
    # by month: one or two periods only → not enough data, no alert
    m = trend(flat, by="month", tz="UTC")
    assert (
        m.alert.status == "not_enough_data" and not m.alert.triggered and "数据不足" in m.alert.message["zh"]
    )
    # a week without records shows as an empty period, and too-small periods are not judged
    gap = [
        r for r in flat if r.recorded_at < T0 + timedelta(weeks=2) or r.recorded_at >= T0 + timedelta(weeks=3)
    ]
    g = trend(gap, by="week", tz="UTC")
    assert list(g.table["records"]) == [20, 20, 0, 20, 20, 20, 20, 20]
    assert np.isnan(g.table["share_angry"].iloc[2]) and g.to_dict()["periods"][2]["share_angry"] is None
    days = trend(flat, by="day", tz="UTC")
    assert days.table["records"].sum() == len(flat)
    with pytest.raises(ProfileError):
        trend(flat, by="year")
    with pytest.raises(ProfileError, match="time zone"):
        trend(flat, tz="Mars/Olympus")
    shanghai = trend(flat, by="day", tz="Asia/Shanghai")  # periods are local days of that zone
    assert shanghai.tz == "Asia/Shanghai" and shanghai.table["records"].sum() == len(flat)
    with pytest.raises(ProfileError):
        AlertRule(threshold=1.5)


def test_summary_and_compare_speakers():
    a = weekly("a", [2] * 4)  # 10 % angry, embeddings mostly on the "neutral" side
    b = weekly("b", [14] * 4, seed=1)  # 70 % angry
    s = summarize(a)
    assert s.count == 80 and s.label_counts["angry"] == 8 and s.top == "neutral"
    assert s.negative_share == pytest.approx(0.1) and s.first_seen.startswith("2026-01-05")
    c = compare(a, b)
    assert c.share_diff["angry"] == pytest.approx(0.6) and c.share_diff["neutral"] == pytest.approx(-0.6)
    assert c.centroid_cosine < compare(a, weekly("a2", [2] * 4, seed=5)).centroid_cosine
    assert "Angry more often (+60 points)" in c.reading["en"] and "愤怒更多" in c.reading["zh"]
    other = [ProfileRecord(**{**r.__dict__, "model_id": "x/other", "id": ""}) for r in b[:5]]
    with pytest.raises(ProfileError, match="different models"):
        compare(a, other)


def test_export_parquet_and_csv(tmp_path):
    recs = make_records(25, dim=8)
    with ProfileStore(tmp_path / "s") as store:
        store.add(recs)
        back = store.records(with_vectors=True)
    files = export_records(back, tmp_path / "p.parquet", "parquet")
    table = pq.read_table(files[0])
    assert table.num_rows == 25 and set(table.column("id").to_pylist()) == {r.id for r in recs}
    row = table.slice(0, 1).to_pylist()[0]
    want = next(r for r in recs if r.id == row["id"])
    assert np.allclose(row["embedding"], want.embedding, atol=1e-4) and row["score_angry"] == pytest.approx(
        want.scores[0], abs=1e-6
    )
    files = export_records(back, tmp_path / "p.csv", "csv")
    df = pd.read_csv(files[0])
    emb = np.load(files[1])
    assert len(df) == 25 and emb.shape == (25, 8) and list(df.columns)[:3] == ["id", "speaker", "recorded_at"]
    i = int(np.flatnonzero(df["id"] == want.id)[0])
    assert np.allclose(emb[i], want.embedding, atol=1e-4)
    assert set(df["tags"].fillna("")) <= {"", "vip"}
    with pytest.raises(ProfileError):
        export_records(back, tmp_path / "p.xlsx", "xlsx")
    # records read without their vectors: the same clear error in both formats, and no file written
    with ProfileStore(tmp_path / "s") as store:
        bare = store.records(with_vectors=False)
    for fmt in ("parquet", "csv"):
        with pytest.raises(ProfileError, match="with their vectors"):
            export_records(bare, tmp_path / f"bare.{fmt}", fmt)
    assert not list(tmp_path.glob("bare.*"))


# ---- filling the store from audio, runs and batches -------------------------------------------------------------
def test_add_sources_batched_skips_stored_and_reports_bad_files(tmp_path, recognizer):
    d = tmp_path / "clips"
    d.mkdir()
    for i in range(4):
        encode(d / f"c{i}.wav", make_voice(1.0, SR, seed=i), SR, "wav")
    bad_text(d).rename(d / "broken.wav")
    (tmp_path / "m.csv").write_text(f"path,speaker,time\n{d / 'c0.wav'},alice,2026-02-01T10:00:00+00:00\n"
                                    f"{d / 'c1.wav'},bob,\n")  # fmt: skip
    store = ProfileStore(tmp_path / "s")
    try:
        seen = []
        rep = add_sources(
            store, [d], speaker="carol", recognizer=recognizer, tags=["t1"], on_item=seen.append
        )
        assert (
            rep.added == 4 and rep.skipped == 0 and len(rep.failed) == 1 and rep.failed[0].code == "not_audio"
        )
        assert len(seen) == 5
        recs = store.speaker_records("carol")
        assert {r.source for r in recs} == {str(d / f"c{i}.wav") for i in range(4)}
        assert all(r.tags == ["t1"] and r.quality in ("ok", "warn", "bad") and r.random_weights for r in recs)
        assert all(
            abs((r.recorded_at - datetime.now(timezone.utc)).total_seconds()) < 600 for r in recs
        )  # mtime
        again = add_sources(store, [d], speaker="carol", recognizer=recognizer)
        assert again.added == 0 and again.skipped == 4 and store.count() == 4  # nothing analysed twice
        # a manifest's speaker and time columns; --at wins over every other time
        rep = add_sources(store, [tmp_path / "m.csv"], recognizer=recognizer)
        assert rep.speakers == {"alice": 1, "bob": 1}
        assert store.speaker_records("alice")[0].recorded_at == datetime(2026, 2, 1, 10, tzinfo=timezone.utc)
        rep = add_sources(
            store, [d / "c2.wav"], speaker="dave", recognizer=recognizer, at="2025-12-24T08:00Z"
        )
        assert store.speaker_records("dave")[0].recorded_at == datetime(2025, 12, 24, 8, tzinfo=timezone.utc)
        # the same clip for the same speaker again with --update replaces its record
        rep = add_sources(
            store, [d / "c2.wav"], speaker="dave", recognizer=recognizer, update=True, tags=["x"]
        )
        assert rep.added == 1 and [r.tags for r in store.speaker_records("dave")] == [["x"]]
        rep = add_sources(store, [d / "c3.wav"], recognizer=recognizer)
        assert rep.failed[0].code == "profile_error" and "speaker id" in rep.failed[0].message
    finally:
        store.close()


def test_add_runs_and_batch_results(tmp_path, recognizer):
    runs = tmp_path / "outputs"
    res = recognizer.analyze(make_voice(1.2, SR, seed=3), sample_rate=SR, embedding=True, output_dir=runs)
    no_emb = recognizer.analyze(make_voice(1.2, SR, seed=4), sample_rate=SR, output_dir=runs)
    items = []
    for i in range(5):
        p = encode(tmp_path / f"b{i}.wav", make_voice(0.8, SR, seed=10 + i), SR, "wav").path
        items.append(InputItem(f"b{i}", str(p), speaker=f"s{i % 2}", time=f"2026-03-0{i + 1}T12:00:00Z"))
    items.append(InputItem("bad", str(bad_text(tmp_path)), speaker="s0"))
    with ProfileStore(tmp_path / "s") as store:
        rep = add_sources(store, [res.output_dir.name, str(no_emb.output_dir)], speaker="run-spk",
                          recognizer=recognizer, runs_root=runs)  # fmt: skip
        assert rep.added == 2 and not rep.failed
        got = {r.run_id: r for r in store.speaker_records("run-spk", with_vectors=True)}
        assert np.allclose(got[res.output_dir.name].embedding, res.embedding, atol=1e-4)
        assert got[res.output_dir.name].label == res.label
        assert (
            got[no_emb.output_dir.name].label == no_emb.label
        )  # scored again for its embedding, same scores
        run_batch(items, tmp_path / "batch", recognizer=recognizer, embedding=True, workers=0)
        parts = []
        rep = add_batch_results(
            store, tmp_path / "batch", tags=["batch"], on_part=lambda n, t: parts.append(n)
        )
        assert rep.added == 5 and rep.failed[0].name == "bad" and parts
        assert rep.speakers == {"s0": 3, "s1": 2}
        s1 = store.speaker_records("s1")
        assert [r.recorded_at.day for r in s1] == [2, 4] and all(r.tags == ["batch"] for r in s1)
        # the same files added through `profile add` are the same records (content digest), not copies
        again = add_sources(store, [items[1].path], speaker="s1", recognizer=recognizer)
        assert again.skipped == 1 and len(store.speaker_records("s1")) == 2
        run_batch(items[:2], tmp_path / "batch_no_emb", recognizer=recognizer, workers=0)
        with pytest.raises(ProfileError, match="--embedding"):
            add_batch_results(store, tmp_path / "batch_no_emb")
        with pytest.raises(ProfileError, match="no finished batch"):
            add_batch_results(store, tmp_path)


def test_benchmark_runs_end_to_end(capsys):
    """The throughput benchmark works (tiny sizes, no timing judged): one table row per size."""
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:  # `benchmarks` is a top-level package beside `src`, not installed
        sys.path.insert(0, root)
    from benchmarks import profiles_bench

    assert profiles_bench.main(["--sizes", "300", "--dim", "8", "--queries", "2", "--filtered", "1"]) == 0
    out = capsys.readouterr().out
    assert "| 300 | 8 | WAL |" in out and "add records/s" in out
