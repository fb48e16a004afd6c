"""Batch runner: inputs from folders and manifests, 200 mixed clips equal the single-file API, resume rules."""

from __future__ import annotations

import csv
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from audio_factory import bad_all_zero, bad_empty, bad_missing, bad_nan, bad_truncated_mp3, encode, make_voice

from emostudio.batch import (
    SCORE_COLUMNS,
    BatchError,
    InputItem,
    RowContext,
    ShardStore,
    error_row,
    load_inputs,
    read_results,
    run_batch,
)
from emostudio.errors import EmoStudioError
from emostudio.model.labels import KEYS

pytestmark = pytest.mark.integration

GOOD_FORMATS = ("wav", "flac", "mp3", "ogg", "m4a", "opus")
# builder, expected error code
BAD = {"empty": (bad_empty, "empty"), "truncated": (bad_truncated_mp3, "corrupt"), "nan": (bad_nan, "non_finite"),
       "silent": (bad_all_zero, "silent"), "missing": (bad_missing, "missing")}  # fmt: skip


def write_clips(folder: Path, n_good: int, bad: tuple[str, ...] = (), seed: int = 0) -> list[InputItem]:
    """`n_good` voices of 0.3-3 s in rotating formats and sample rates, plus the named bad files; a CSV
    manifest `folder/manifest.csv` listing them all (ids clip-NNN / bad-NAME, relative paths)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rates = (16000, 22050, 44100, 8000)
    bases = {
        sr: [make_voice(3.0, sr, seed=seed + k) for k in range(6)] for sr in rates
    }  # crops of these: cheap
    items = []
    for i in range(n_good):
        fmt = GOOD_FORMATS[i % len(GOOD_FORMATS)]
        sr = rates[i % 4]
        n = int(rng.uniform(0.3, 3.0) * sr)
        base = bases[sr][(i // 4) % 3]
        start = int(rng.integers(0, len(base) - n + 1))
        x = base[start : start + n] * np.float32(rng.uniform(0.4, 1.0))
        x = np.stack([x, 0.8 * x], axis=1) if fmt == "ogg" else x  # the native vorbis encoder is stereo-only
        path = encode(folder / f"clip{i:03d}.{fmt}", x, sr, fmt).path
        items.append(InputItem(f"clip-{i:03d}", str(path), f"spk{i % 7}", None, KEYS[i % 9], f"utt {i}"))
    for name in bad:
        sub = folder / f"bad_{name}"
        sub.mkdir(exist_ok=True)
        items.append(InputItem(f"bad-{name}", str(BAD[name][0](sub))))
    with (folder / "manifest.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "path", "speaker", "label", "text"])
        for it in items:
            w.writerow(
                [
                    it.id,
                    Path(it.path).relative_to(folder).as_posix(),
                    it.speaker or "",
                    it.label or "",
                    it.text or "",
                ]
            )
    return items


@pytest.fixture(scope="session")
def clips200(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips200")
    return folder, write_clips(folder, 195, tuple(BAD))


@pytest.fixture(scope="session")
def batch200(clips200, recognizer, tmp_path_factory):
    folder, items = clips200
    out = tmp_path_factory.mktemp("batch200")
    summary = run_batch(
        folder / "manifest.csv", out, recognizer=recognizer, batch_seconds=8, workers=2, shard_size=64
    )
    return out, summary


def test_200_mixed_clips_one_row_each_with_clear_errors(clips200, batch200):
    folder, items = clips200
    out, summary = batch200
    table = read_results(out)
    rows = table.to_pylist()
    assert table.num_rows == 200
    assert sorted(r["id"] for r in rows) == sorted(it.id for it in items)
    assert sorted(p.name for p in out.glob("part-*.parquet")) == [f"part-{i:05d}.parquet" for i in range(4)]
    by_id = {r["id"]: r for r in rows}
    for name, (_, code) in BAD.items():
        r = by_id[f"bad-{name}"]
        assert r["error_code"] == code, r
        path = next(it.path for it in items if it.id == f"bad-{name}")
        assert Path(path).name in r["error"]
        assert r["label"] is None and r["confidence"] is None
    good = [r for r in rows if r["id"].startswith("clip-")]
    assert all(r["error_code"] is None and r["error"] is None for r in good)
    # manifest fields carried through; paths resolved against the manifest's folder
    r7 = by_id["clip-007"]
    assert (r7["speaker"], r7["ref_label"], r7["text"]) == ("spk0", KEYS[7], "utt 7")
    assert Path(r7["path"]) == folder / "clip007.flac"
    assert all(r["model_id"] == summary.model_id and r["random_weights"] for r in rows)
    assert all(r["quality_verdict"] in ("ok", "warn", "bad") and r["segments"] == 1 for r in good)
    assert all(0.2 < r["duration_s"] < 3.1 for r in good)
    # summary: counts per emotion and failures, saved as JSON
    assert summary.total == 200 and summary.processed == 200 and summary.skipped == 0 and summary.failed == 5
    assert sum(summary.counts.values()) == 195
    assert summary.errors == {"corrupt": 1, "empty": 1, "missing": 1, "non_finite": 1, "silent": 1}
    assert summary.files_per_s > 0 and summary.audio_h_per_h > 0
    saved = json.loads((out / "summary.json").read_text())
    assert saved["counts"] == summary.counts and saved["failed"] == 5
    assert not list(out.glob(".*.tmp"))


def test_batch_rows_equal_the_single_file_api(clips200, batch200, recognizer):
    """Batched (length-sorted, padded, decoded in worker processes) equals analyze() one file at a time."""
    _, items = clips200
    out, _ = batch200
    by_id = {r["id"]: r for r in read_results(out).to_pylist()}
    for it in items[:195:5]:  # every fifth clip: all 6 formats and 4 rates
        res = recognizer.analyze(it.path)
        row = by_id[it.id]
        assert row["label"] == res.label
        assert row["band"] == res.band.key
        assert row["quality_verdict"] == res.quality["verdict"]
        np.testing.assert_allclose([row[c] for c in SCORE_COLUMNS], res.probs, atol=1e-5)
        assert row["confidence"] == pytest.approx(res.confidence, abs=1e-5)


def test_resume_skips_done_inputs_cleans_leftovers_and_checks_settings(clips200, recognizer, tmp_path):
    folder, items = clips200
    subset = items[:7] + [it for it in items if it.id == "bad-empty"]
    out = tmp_path / "job"
    s1 = run_batch(subset, out, recognizer=recognizer, workers=0, shard_size=3)
    assert (s1.processed, s1.total, len(list(out.glob("part-*.parquet")))) == (8, 8, 3)
    # simulate a crash in the middle of committing shard 2: its part never landed, a companion and a temp did
    lost = pq.read_table(out / "part-00002.parquet").column("id").to_pylist()
    (out / "part-00002.parquet").unlink()
    (out / "embeddings-00002.npy").write_bytes(b"half")
    (out / ".part-00002.parquet.x1y2.tmp").write_bytes(b"half")
    s2 = run_batch(subset, out, recognizer=recognizer, workers=0, shard_size=3)
    assert s2.processed == len(lost) and s2.skipped == 8 - len(lost) and s2.total == 8
    assert not (out / "embeddings-00002.npy").exists() and not list(out.glob(".*.tmp"))
    ids = read_results(out).column("id").to_pylist()
    assert sorted(ids) == sorted(it.id for it in subset)
    # a third run has nothing to do
    assert run_batch(subset, out, recognizer=recognizer, workers=0).processed == 0
    # other settings: refused with a message naming the difference, unless forced
    with pytest.raises(BatchError, match="granularity: was 'utterance', now 'frame'"):
        run_batch(subset, out, recognizer=recognizer, workers=0, granularity="frame")
    assert (
        run_batch(subset, out, recognizer=recognizer, workers=0, granularity="frame", force=True).total == 8
    )
    # a second writer on the same folder is refused while the first holds it
    with ShardStore(out), pytest.raises(BatchError, match="another batch job"):
        ShardStore(out)


def test_a_job_tells_each_inputs_stage_by_its_id_while_it_works(clips200, recognizer, tmp_path):
    """on_stage(input id, stage, fraction): a long file in a batch shows how far it is, not only files done."""
    folder, items = clips200
    subset = items[:4] + [it for it in items if it.id == "bad-empty"]
    told: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    def on_stage(item_id: str, key: str, fraction: float) -> None:  # from the pool's threads too
        with lock:
            told.append((item_id, key, fraction))

    s = run_batch(subset, tmp_path / "job", recognizer=recognizer, workers=2, on_stage=on_stage)
    assert s.processed == 5
    assert {i for i, _, _ in told} == {it.id for it in subset}  # every input, by its id
    for it in items[:4]:
        keys = [k for i, k, _ in told if i == it.id]
        assert keys[0] == "progress_decoding" and keys[-1] == "progress_model", keys
        model = [f for i, k, f in told if i == it.id and k == "progress_model"]
        assert model == sorted(model) and model[-1] == pytest.approx(1.0)
    assert {k for i, k, _ in told if i == "bad-empty"} == {
        "progress_decoding"
    }  # its error row needs no model


def test_a_copied_part_file_is_not_a_shard(tmp_path):
    """Only part-NNNNN.parquet are the job's shards: a copy such as 'part-00000 (1).parquet' neither stops the
    folder from opening nor counts its rows twice."""
    out = tmp_path / "job"
    with ShardStore(out) as store:
        store.commit([error_row(InputItem("a", "a.wav"), EmoStudioError("broken"), RowContext("demo", True))])
    shutil.copy(out / "part-00000.parquet", out / "part-00000 (1).parquet")
    with ShardStore(out) as store:
        assert (store.parts, store.next_index, store.done_ids()) == ([out / "part-00000.parquet"], 1, {"a"})
        assert store.read().column("id").to_pylist() == ["a"]
    assert read_results(out).column("id").to_pylist() == ["a"]


def test_frame_mode_writes_frame_tables_and_embedding_shards(clips200, recognizer, tmp_path):
    _, items = clips200
    subset = items[:4] + [it for it in items if it.id == "bad-nan"]
    out = tmp_path / "frames"
    run_batch(
        subset,
        out,
        recognizer=recognizer,
        workers=2,
        executor="process",
        granularity="frame",
        embedding=True,
        shard_size=3,
    )
    rows = read_results(out).to_pylist()
    assert len(rows) == 5
    for k in range(2):
        part = pq.read_table(out / f"part-{k:05d}.parquet").to_pylist()
        emb = np.load(out / f"embeddings-{k:05d}.npy")
        frames = pq.read_table(out / f"frames-{k:05d}.parquet").to_pylist()
        assert emb.shape[0] == sum(r["embedding_count"] for r in part)
        for r in part:
            if r["error_code"]:
                assert r["embedding_count"] == 0 and not [f for f in frames if f["id"] == r["id"]]
                continue
            res = recognizer.analyze(r["path"], granularity="frame", embedding=True)
            mine = emb[r["embedding_start"] : r["embedding_start"] + r["embedding_count"]]
            np.testing.assert_allclose(mine, res.embedding, atol=1e-4)
            steps = [f for f in frames if f["id"] == r["id"]]
            assert len(steps) == len(res.frames.starts_s)
            np.testing.assert_allclose(
                [[f[c] for c in SCORE_COLUMNS] for f in steps], res.frames.probs, atol=1e-5
            )
            assert [f["label"] for f in steps] == [KEYS[i] for i in res.frames.probs.argmax(1)]


def test_load_inputs_folder_csv_jsonl_scp(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for rel in ("a/x.wav", "a/b/y.MP3", "z.flac", "notes.txt"):
        (tmp_path / rel).write_bytes(b"")
    got = load_inputs(tmp_path)
    assert [i.id for i in got] == ["a/b/y.MP3", "a/x.wav", "z.flac"]
    assert got[1].path == str(tmp_path / "a/x.wav")

    (tmp_path / "m.jsonl").write_text(
        '{"key": "u1", "source": "a/x.wav", "emotion": "happy"}\n\n'
        '{"path": "/abs/q.wav", "speaker": 3, "text": "hi"}\n'
    )
    j = load_inputs(tmp_path / "m.jsonl")
    assert j[0] == InputItem("u1", str(tmp_path / "a/x.wav"), None, None, "happy", None)
    assert j[1] == InputItem("/abs/q.wav", "/abs/q.wav", "3", None, None, "hi")

    (tmp_path / "wav.scp").write_text("utt1 a/x.wav\nutt2  /data/my file.wav\n")
    s = load_inputs(tmp_path / "wav.scp")
    assert [(i.id, i.path) for i in s] == [("utt1", str(tmp_path / "a/x.wav")), ("utt2", "/data/my file.wav")]

    (tmp_path / "bad.csv").write_text("file_name,speaker\nx.wav,1\n")
    with pytest.raises(BatchError, match=r"bad\.csv: no path column"):
        load_inputs(tmp_path / "bad.csv")
    (tmp_path / "dup.csv").write_text("id,path\nu,a.wav\nu,b.wav\n")
    with pytest.raises(BatchError, match="id 'u' appears more than once"):
        load_inputs(tmp_path / "dup.csv")
    (tmp_path / "pipe.scp").write_text("u sox a.wav -t wav - |\n")
    with pytest.raises(BatchError, match="line 1 is a piped command"):
        load_inputs(tmp_path / "pipe.scp")
    (tmp_path / "broken.jsonl").write_text('{"path": "a.wav"}\n{oops\n')
    with pytest.raises(BatchError, match="line 2 is not valid JSON"):
        load_inputs(tmp_path / "broken.jsonl")
    with pytest.raises(BatchError, match="no such folder or manifest"):
        load_inputs(tmp_path / "nope")


def test_resume_never_mixes_precisions_or_weights(clips200, tmp_path):
    """A job's identity is the model id + a hash of its weights + dtype + settings: a resume with any other
    is refused naming the difference; --force moves the earlier rows aside and starts a new job."""
    from emostudio.model.checkpoint import init_random
    from emostudio.model.weights import file_sha256

    _, items = clips200
    first, rest = items[:3], items[3:6]
    model = init_random(tmp_path / "model", "tiny", seed=0)
    out = tmp_path / "job"
    common = dict(model=str(model), device="cpu", allow_download=False, workers=0)
    s1 = run_batch(first, out, **common)
    sha = file_sha256(model / "model.pt")
    assert (s1.dtype, s1.weights_sha256) == ("float32", sha)
    rows = read_results(out).to_pylist()
    assert {(r["dtype"], r["weights_sha256"]) for r in rows} == {("float32", sha)}
    assert json.loads((out / "summary.json").read_text())["weights_sha256"] == sha

    with pytest.raises(BatchError, match="dtype: was 'float32', now 'int8'"):
        run_batch(first + rest, out, dtype="int8", **common)
    init_random(model, "tiny", seed=1)  # new weights in the same folder
    with pytest.raises(BatchError, match=r"weights: were sha256 [0-9a-f]{12}…, now [0-9a-f]{12}…"):
        run_batch(first + rest, out, **common)
    assert read_results(out).num_rows == 3  # nothing was added by the refused runs

    s3 = run_batch(first + rest, out, dtype="int8", force=True, **common)
    assert s3.previous and Path(s3.previous).name.startswith("previous-")
    assert sorted(p.name for p in Path(s3.previous).glob("part-*.parquet")) == ["part-00000.parquet"]
    rows = read_results(out).to_pylist()
    assert len(rows) == 6 and {(r["dtype"], r["weights_sha256"]) for r in rows} == {
        ("int8", file_sha256(model / "model.pt"))
    }


def test_batch_reads_transcripts_and_fills_a_profile_store(tmp_path, tiny_model_dir):
    """A manifest's text column is fused with the voice (text columns in every row), and --store adds each
    result to the speaker profile store: one command, the same job."""
    import subprocess
    import sys

    folder = tmp_path / "clips"
    folder.mkdir()
    rows = []
    texts = ["I am so happy, this is wonderful!", "这太糟糕了，我很生气。", "", "Thanks, that helps a lot."]
    for i, text in enumerate(texts):
        path = encode(folder / f"c{i}.wav", make_voice(1.5 + 0.3 * i, 16000, seed=60 + i), 16000, "wav").path
        rows.append({"id": f"c{i}", "path": path.name, "speaker": f"spk{i % 2}", "text": text})
    manifest = folder / "calls.jsonl"
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out, store = tmp_path / "job", tmp_path / "store"
    cmd = [sys.executable, "-m", "emostudio", "batch", str(manifest), "--out", str(out), "--model",
           str(tiny_model_dir), "--offline", "--device", "cpu", "--embedding", "--store", str(store), "--json"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["store"]["added"] == 4
    by_id = {r["id"]: r for r in read_results(out).to_pylist()}
    assert by_id["c0"]["text_language"] == "en" and by_id["c0"]["text_polarity"] > 0
    assert by_id["c1"]["text_language"] == "zh" and by_id["c1"]["text_polarity"] < 0
    assert by_id["c2"]["text_polarity"] is None and by_id["c2"]["agreement"] is None  # no transcript
    for r in by_id.values():
        if r["fused_label"] is not None:
            assert r["fused_label"] in KEYS and 0 < r["fused_confidence"] <= 1
    show = subprocess.run(
        [sys.executable, "-m", "emostudio", "profile", "show", "--speaker", "spk0", "--store", str(store), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert show.returncode == 0, show.stderr[-2000:]
    assert json.loads(show.stdout)["records"] == 2
