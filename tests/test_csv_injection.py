"""Every CSV Emotion Studio writes is safe to open in a spreadsheet (issue 25 item 1): text cells that start like a
formula (= + - @ tab CR) get a leading apostrophe, numbers stay numbers. Through the CLI and the Python API."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from audio_factory import encode, make_voice
from test_profiles import T0, probs_for

from emostudio import csvsafe
from emostudio.cli import main
from emostudio.embeddings import cluster_vectors, write_clusters
from emostudio.evaluate.report import read_predictions
from emostudio.profiles import ProfileStore
from emostudio.profiles.records import ProfileRecord

pytestmark = pytest.mark.unit

SR = 16000
HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for c in row:
            assert not c.startswith(csvsafe.FORMULA_STARTS) or _is_number(c), (c, row)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_the_helper_escapes_text_only():
    for s in HOSTILE:
        assert csvsafe.cell(s) == "'" + s and csvsafe.text(str(csvsafe.cell(s))) == s
    assert csvsafe.cell("-2") == "'-2"  # text that reads as a number is still text (documented)
    assert csvsafe.cell(-2) == -2 and csvsafe.cell(-0.5) == -0.5 and csvsafe.cell(np.float32(-1)) == -1
    assert csvsafe.cell("plain") == "plain" and csvsafe.cell(None) is None and csvsafe.cell("'=x") == "'=x"


def test_evaluation_predictions_csv_through_the_cli(tmp_path, tiny_model_dir):
    d = tmp_path / "set"
    d.mkdir()
    rows = []
    for i, bad in enumerate(HOSTILE[:4]):
        encode(d / f"c{i}.wav", make_voice(1.0, SR, seed=i), SR, "wav")
        rows.append([bad, f"c{i}.wav", "sad", bad, bad])
    with open(d / "m.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "path", "label", "speaker", "text"])
        w.writerows(rows)
    rep = tmp_path / "r"
    args = ["evaluate", str(d / "m.csv"), "--model", str(tiny_model_dir), "--device", "cpu", "--offline"]
    assert main([*args, "--no-history", "--report", str(rep)]) == 0
    text = (rep / "predictions.csv").read_text(encoding="utf-8")
    table = _rows(text)
    _no_formula(table)
    head = table[0]
    ids = [r[head.index("id")] for r in table[1:]]
    assert ids == ["'" + s for s in HOSTILE[:4]]
    assert [r[head.index("speaker")] for r in table[1:]] == ids and [
        r[head.index("text")] for r in table[1:]
    ] == ids
    for r in table[1:]:  # scores are numbers, written as numbers
        assert 0 <= float(r[head.index("confidence")]) <= 1
    # read back, the ids are the ones of the manifest (reports compare by id)
    assert [r["id"] for r in read_predictions(rep / "predictions.csv")] == HOSTILE[:4]


def test_profile_csv_export_through_the_cli(tmp_path):
    with ProfileStore(tmp_path / "s") as store:
        store.add(
            [
                ProfileRecord(
                    speaker=bad,
                    recorded_at=T0,
                    scores=probs_for("sad"),
                    model_id="test/model",
                    key=f"k{i}",
                    embedding=np.ones(8, np.float32) * (i + 1),
                    source=bad,
                    tags=[bad],
                )
                for i, bad in enumerate(HOSTILE[:4])  # speaker ids are trimmed of tabs and CRs
            ]
        )
    out = tmp_path / "e.csv"
    assert (
        main(["profile", "export", "--format", "csv", "--out", str(out), "--store", str(tmp_path / "s")]) == 0
    )
    table = _rows(out.read_text(encoding="utf-8"))
    _no_formula(table)
    head = table[0]
    want = sorted("'" + s for s in HOSTILE[:4])
    assert sorted(r[head.index("speaker")] for r in table[1:]) == want
    assert sorted(r[head.index("source")] for r in table[1:]) == want
    assert sorted(r[head.index("tags")] for r in table[1:]) == want
    assert all(0 < float(r[head.index("confidence")]) < 1 for r in table[1:])


def test_clusters_csv_through_the_cli_and_the_api(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the clips are named as given: relative names start with the hostile text
    names = ["=HYPERLINK(x)", "+1+1", "-2+3", "@SUM(A1)"]
    rng = np.random.default_rng(0)
    for i, n in enumerate(names):
        np.save(tmp_path / f"{n}.npy", rng.standard_normal(8).astype(np.float32) + (i % 2) * 5)
    out = tmp_path / "c"
    assert main(["cluster", "--k", "2", "--out", str(out), "--", *(f"{n}.npy" for n in names)]) == 0
    table = _rows((out / "clusters.csv").read_text(encoding="utf-8"))
    _no_formula(table)
    assert sorted(r[0] for r in table[1:]) == sorted(f"'{n}.npy" for n in names)
    # negative numbers (the PCA coordinates) are numbers, never escaped
    pcs = [float(r[table[0].index("pc1")]) for r in table[1:]]
    assert min(pcs) < 0

    c = cluster_vectors(rng.standard_normal((4, 8)), 2)
    paths = write_clusters(tmp_path / "api", names, c)
    assert [r[0] for r in _rows(Path(paths["clusters_csv"]).read_text())[1:]] == ["'" + n for n in names]
