"""Similarity, ranking and clustering of utterance embeddings (library and the `similar` / `cluster` commands)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from audio_factory import bad_text, encode, make_voice
from sklearn.metrics import adjusted_rand_score

from emostudio.cli import main
from emostudio.clips import gather, load_npy, resolve_sources
from emostudio.embeddings import (
    cluster_vectors,
    cosine_similarity,
    rank,
    read_similarity,
    score_distance,
    similarity,
    utterance_vector,
    write_clusters,
)
from emostudio.model.labels import KEYS

pytestmark = pytest.mark.integration

SR = 16000


def groups(
    n_per: int = 20, dim: int = 48, seed: int = 0, spread: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """3 well-separated groups: random unit centres plus noise of `spread` per coordinate / sqrt(dim)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, dim))
    truth = np.repeat(np.arange(3), n_per)
    x = centres[truth] + spread * np.linalg.norm(centres, axis=1).mean() / np.sqrt(dim) * rng.standard_normal(
        (len(truth), dim)
    )
    order = rng.permutation(len(truth))
    return x[order], truth[order]


# ---- library ---------------------------------------------------------------------------------------------------
def test_cosine_and_utterance_vector_keep_their_contract():
    rng = np.random.default_rng(1)
    u = rng.standard_normal(32)
    assert cosine_similarity(u, u) == pytest.approx(1.0, abs=1e-12)
    assert cosine_similarity(u, -u) == pytest.approx(-1.0, abs=1e-12)
    frames = rng.standard_normal((7, 32))
    assert np.allclose(utterance_vector(frames), frames.mean(axis=0))
    assert cosine_similarity(frames, frames.mean(axis=0)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="differ in size"):
        cosine_similarity(u, rng.standard_normal(16))
    with pytest.raises(ValueError, match="all zeros"):
        cosine_similarity(u, np.zeros(32))
    with pytest.raises(ValueError, match="NaN"):
        utterance_vector(np.array([1.0, np.nan]))


def test_score_distance_is_jensen_shannon():
    p = np.full(9, 1 / 9)
    assert score_distance(p, p) == pytest.approx(0.0, abs=1e-9)
    a, b = np.eye(9)[0], np.eye(9)[1]
    assert score_distance(a, b) == pytest.approx(1.0)  # disjoint: the largest distance in base 2
    q = np.linspace(1, 9, 9) / 45
    assert score_distance(p, q) == pytest.approx(score_distance(q, p))
    assert 0 < score_distance(p, q) < 0.3
    with pytest.raises(ValueError):
        score_distance(np.ones(3), np.ones(3))
    with pytest.raises(ValueError):
        score_distance(-p, p)


def test_reading_says_how_alike_in_both_languages():
    close = read_similarity(0.99, 0.02, "angry", "angry")
    assert close["en"].startswith("Very similar") and "both sound" in close["en"] and "Angry" in close["en"]
    assert close["zh"].startswith("表达非常相似") and "愤怒" in close["zh"]
    far = read_similarity(0.4, 0.7, "happy", "sad")
    assert far["en"].startswith("Different") and "Happy" in far["en"] and "Sad" in far["en"]
    assert far["zh"].startswith("表达差异明显") and "JS 距离 0.70" in far["zh"]
    # close embeddings but different scores: the worse of the two decides
    assert read_similarity(0.99, 0.6, "happy", "sad")["en"].startswith("Different")
    no_scores = read_similarity(0.9, None)
    assert "Jensen" not in no_scores["en"] and no_scores["en"].startswith("Similar")
    s = similarity(np.ones(4), np.ones(4), np.eye(9)[0] * 0.9 + 0.0125, np.eye(9)[0] * 0.9 + 0.0125)
    assert s.to_dict()["cosine"] == 1.0 and s.to_dict()["score_distance"] == 0.0 and s.label_a == "angry"


def test_rank_matches_brute_force():
    rng = np.random.default_rng(2)
    m = rng.standard_normal((500, 24))
    q = rng.standard_normal(24)
    got = rank(q, m, top=10)
    sims = (m / np.linalg.norm(m, axis=1, keepdims=True)) @ (q / np.linalg.norm(q))
    assert [i for i, _ in got] == list(np.argsort(-sims)[:10])
    assert [round(c, 9) for _, c in got] == [round(float(sims[i]), 9) for i in np.argsort(-sims)[:10]]
    with pytest.raises(ValueError, match="differ in size"):
        rank(q, rng.standard_normal((5, 8)))


def test_clustering_recovers_three_groups():
    x, truth = groups()
    c = cluster_vectors(x, "auto")
    assert c.k == 3
    assert adjusted_rand_score(truth, c.labels) >= 0.9
    assert set(c.silhouettes) == set(range(2, 11)) and max(c.silhouettes, key=c.silhouettes.get) == 3
    assert c.coords.shape == (len(x), 2) and sum(c.explained_variance) <= 1.0 + 1e-9
    fixed = cluster_vectors(x, 3)
    assert adjusted_rand_score(truth, fixed.labels) >= 0.9
    again = cluster_vectors(x, "auto")
    assert np.array_equal(again.labels, c.labels)  # deterministic for a seed
    with pytest.raises(ValueError, match="at least 2"):
        cluster_vectors(x[:1], "auto")
    with pytest.raises(ValueError, match="between 1"):
        cluster_vectors(x, 1000)


def test_write_clusters_files(tmp_path):
    x, truth = groups(n_per=6)
    probs = np.full((len(x), 9), 0.05)
    probs[np.arange(len(x)), truth] = 0.6  # group g leans to class g: angry, disgusted, fearful
    probs /= probs.sum(axis=1, keepdims=True)
    c = cluster_vectors(x, 3)
    names = [f"clip{i}" for i in range(len(x))]
    paths = write_clusters(tmp_path / "out", names, c, probs)
    rows = list(csv.DictReader(paths["clusters_csv"].open()))
    assert [r["name"] for r in rows] == names and {int(r["cluster"]) for r in rows} == {0, 1, 2}
    assert all(r["label"] == KEYS[truth[i]] for i, r in enumerate(rows))
    summary = list(csv.DictReader(paths["summary_csv"].open()))
    assert sorted(int(r["size"]) for r in summary) == [6, 6, 6]
    assert sorted(r["dominant_en"] for r in summary) == ["Angry 100%", "Disgusted 100%", "Fearful 100%"]
    assert paths["map_png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads(paths["json"].read_text())
    assert doc["k"] == 3 and len(doc["clusters"]) == 3 and doc["files"]["map_png"] == "cluster_map.png"
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_gather_reads_npy_runs_and_audio_and_carries_on_past_bad_files(tmp_path, recognizer):
    np.save(tmp_path / "e.npy", np.arange(1, 65, dtype=np.float32))
    np.save(tmp_path / "frames.npy", np.ones((5, 64), np.float32))
    (tmp_path / "pickled.npy").write_bytes(b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, }")
    encode(tmp_path / "a.wav", make_voice(1.0, SR, seed=1), SR, "wav")
    bad_text(tmp_path).rename(tmp_path / "notes.wav")  # text in a .wav: found in the folder, fails to decode
    run = recognizer.analyze(
        make_voice(1.0, SR, seed=2), sample_rate=SR, embedding=True, output_dir=tmp_path / "o"
    )
    clips, failures = gather([tmp_path, "outputs_20000101_000000", tmp_path / "missing.wav"], recognizer,
                             runs_root=tmp_path / "o")  # fmt: skip
    names = {c.name for c in clips}
    assert str(tmp_path / "a.wav") in names and str(tmp_path / "e.npy") in names
    assert str(run.output_dir) in names  # the run folder inside the folder, read without the model
    run_clip = next(c for c in clips if c.name == str(run.output_dir))
    assert run_clip.label == run.label and np.allclose(run_clip.vector, run.embedding)
    assert np.allclose(next(c for c in clips if c.name.endswith("frames.npy")).vector, 1.0)
    codes = {f.name.split("/")[-1]: f.code for f in failures}
    assert codes["pickled.npy"] == "bad_embedding"  # object arrays are never unpickled
    assert codes["outputs_20000101_000000"] == "run_not_found"
    assert codes["missing.wav"] == "file_missing"
    assert any(f.code == "not_audio" for f in failures)
    assert load_npy(tmp_path / "e.npy").dtype == np.float32
    # without a model, audio fails but stored clips are still read
    clips2, failures2 = gather([tmp_path / "a.wav", tmp_path / "e.npy"], None)
    assert [c.name for c in clips2] == [str(tmp_path / "e.npy")] and failures2[0].code == "no_model"


def test_resolve_sources_reads_manifests(tmp_path):
    encode(tmp_path / "a.wav", make_voice(0.5, SR, seed=1), SR, "wav")
    (tmp_path / "m.csv").write_text("path,speaker,time\na.wav,alice,2026-01-05\n")
    sources, bad = resolve_sources([tmp_path / "m.csv"])
    assert not bad and sources[0].speaker == "alice" and sources[0].time == "2026-01-05"
    assert sources[0].path == tmp_path / "a.wav"


# ---- CLI ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim")
    x = make_voice(3.0, SR, seed=1)
    return {
        "x": encode(d / "x.wav", x, SR, "wav").path,
        # the same clip a little quieter, through a lossy codec (as if forwarded by a messaging app)
        "altered": encode(d / "x_altered.m4a", 0.8 * x, SR, "m4a").path,
        "other": encode(d / "other.wav", make_voice(3.0, SR, seed=12), SR, "wav").path,
        "dir": d,
    }


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_similar_cli_same_altered_and_unrelated(audio, tiny_model_dir, capsys):
    m = ["--model", str(tiny_model_dir), "--device", "cpu"]
    assert main(["similar", str(audio["x"]), str(audio["x"]), "--json", *m]) == 0
    same = _json(capsys)
    assert same["cosine"] == pytest.approx(1.0, abs=1e-6) and same["score_distance"] == pytest.approx(
        0, abs=1e-6
    )
    assert set(same["reading"]) == {"zh", "en"} and same["random_weights"] is True
    assert main(["similar", str(audio["x"]), str(audio["altered"]), "--json", *m]) == 0
    altered = _json(capsys)
    assert main(["similar", str(audio["x"]), str(audio["other"]), "--json", *m]) == 0
    other = _json(capsys)
    assert altered["cosine"] > other["cosine"]
    assert altered["cosine"] < 1.0  # it really is altered
    assert main(["similar", str(audio["x"]), str(audio["other"]), *m]) == 0
    out = capsys.readouterr().out
    assert "cosine similarity" in out and "Jensen" in out and "余弦" in out


def test_similar_cli_npy_runs_and_ranking(audio, tiny_model_dir, recognizer, tmp_path, capsys):
    m = ["--model", str(tiny_model_dir), "--device", "cpu"]
    res = recognizer.analyze(str(audio["x"]), embedding=True, output_dir=tmp_path / "outputs")
    run_id = res.output_dir.name
    np.save(tmp_path / "x.npy", res.embedding)
    # a run id and its bare .npy: no model is needed and the cosine is exactly 1; the .npy has no scores
    assert main(["similar", run_id, str(tmp_path / "x.npy"), "--runs", str(tmp_path / "outputs"), "--json",
                 "--model", str(tmp_path / "no_model_here")]) == 0  # fmt: skip
    doc = _json(capsys)
    assert doc["cosine"] == pytest.approx(1.0, abs=1e-6) and doc["score_distance"] is None
    assert doc["a"]["run_id"] == run_id and doc["a"]["emotion"] == res.label
    # ranking the folder: the query itself is left out, best first
    assert main(["similar", str(audio["x"]), str(audio["dir"]), "--top", "5", "--json", *m]) == 0
    ranked = _json(capsys)
    names = [h["name"] for h in ranked["matches"]]
    assert str(audio["x"]) not in names and names[0] == str(audio["altered"])
    cosines = [h["cosine"] for h in ranked["matches"]]
    assert cosines == sorted(cosines, reverse=True) and ranked["compared"] == 2
    # a query that does not exist: a typed error, no traceback
    assert main(["similar", str(tmp_path / "nope.wav"), str(audio["x"]), *m]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cluster_cli_writes_csv_summary_and_map(tmp_path, capsys):
    x, truth = groups(n_per=8, dim=32, seed=3)
    folder = tmp_path / "emb"
    folder.mkdir()
    for i, v in enumerate(x):
        np.save(folder / f"c{i:02d}.npy", v.astype(np.float32))
    (folder / "broken.npy").write_bytes(b"not numpy")
    out = tmp_path / "clusters"
    assert (
        main(["cluster", str(folder), "--out", str(out), "--json"]) == 1
    )  # one bad input: reported, rest done
    doc = _json(capsys)
    assert doc["k"] == 3 and doc["clips"] == len(x) and doc["failed"][0]["error"]["code"] == "bad_embedding"
    rows = list(csv.DictReader((out / "clusters.csv").open()))
    got = [int(r["cluster"]) for r in sorted(rows, key=lambda r: r["name"])]
    assert adjusted_rand_score(truth, got) >= 0.9
    assert (out / "cluster_map.png").read_bytes()[:4] == b"\x89PNG" and (
        out / "cluster_summary.csv"
    ).is_file()
    assert main(["cluster", str(folder / "c00.npy"), "--out", str(out)]) == 2
    assert "at least 2" in capsys.readouterr().err


def test_cluster_cli_on_audio_with_emotions(audio, tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "cl"
    rc = main(["cluster", str(audio["dir"]), "--k", "2", "--out", str(out), "--model", str(tiny_model_dir),
               "--device", "cpu"])  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    assert "3 clips in 2 clusters" in text
    rows = list(csv.DictReader((out / "clusters.csv").open()))
    assert len(rows) == 3 and all(r["label"] in KEYS for r in rows)
    summary = json.loads((out / "clusters.json").read_text())
    assert sum(c["size"] for c in summary["clusters"]) == 3 and summary["random_weights"] is True
    assert all(c["dominant"] for c in summary["clusters"])
