"""Evaluation on a labelled test set: metrics against scikit-learn and a hand-worked case, manifests and label
synonyms, bad rows by line, one decode per file for several models, the report folder, stability and history."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from audio_factory import bad_truncated_wav, encode, make_voice
from sklearn import metrics as skm

from emostudio.cli import main
from emostudio.evaluate import (
    EvaluationError,
    ManifestError,
    compute_metrics,
    evaluate,
    expected_calibration_error,
    load_manifest,
    model_from_recognizer,
    read_history,
    restrict,
)
from emostudio.evaluate.report import PREDICTION_COLUMNS, SCORE_COLUMNS, read_predictions
from emostudio.evaluate.runner import parse_model_spec
from emostudio.model.checkpoint import init_random
from emostudio.model.labels import KEYS, normalise_label

pytestmark = pytest.mark.integration

SR = 16000


# ------------------------------------------------------------------------------------------------- metrics
def _fixed_predictions(n: int = 80, seed: int = 7) -> tuple[list[str], np.ndarray]:
    """Reference labels from 5 of the 9 classes and 9-class probabilities leaning towards the truth."""
    rng = np.random.default_rng(seed)
    classes = ["angry", "happy", "neutral", "sad", "surprised"]
    labels = [classes[i] for i in rng.integers(0, len(classes), n)]
    logits = rng.normal(0, 1, (n, 9))
    logits[np.arange(n), [KEYS.index(t) for t in labels]] += rng.uniform(0, 2.5, n)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, probs


def _ece_reference(correct: np.ndarray, conf: np.ndarray, bins: int) -> float:
    """ECE written out loop by loop, bins (lo, hi] from exact fractions."""
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [(c > lo or b == 0) and c <= hi for c in conf]
        sel = np.array(sel)
        if sel.any():
            total += sel.sum() / len(conf) * abs(correct[sel].mean() - conf[sel].mean())
    return total


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_metrics_equal_scikit_learn_on_fixed_predictions():
    labels, probs = _fixed_predictions()
    m = compute_metrics(labels, probs, KEYS, ece_bins=10)
    pred = [KEYS[i] for i in probs.argmax(axis=1)]
    assert m["n"] == len(labels)
    assert m["wa"] == pytest.approx(skm.accuracy_score(labels, pred), abs=1e-12)
    assert m["ua"] == pytest.approx(skm.balanced_accuracy_score(labels, pred), abs=1e-12)
    assert m["macro_f1"] == pytest.approx(skm.f1_score(labels, pred, average="macro"), abs=1e-12)
    assert m["weighted_f1"] == pytest.approx(skm.f1_score(labels, pred, average="weighted"), abs=1e-12)
    present = m["confusion"]["labels"]
    assert set(present) == set(labels) | set(pred)
    assert m["confusion"]["matrix"] == skm.confusion_matrix(labels, pred, labels=present).tolist()
    p, r, f, s = skm.precision_recall_fscore_support(labels, pred, labels=present, zero_division=0)
    for i, row in enumerate(m["per_class"]):
        assert row["class"] == present[i]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx(
            (p[i], r[i], f[i], s[i])
        )
    # sklearn orders probability columns alphabetically by label
    order = sorted(KEYS)
    sorted_probs = probs[:, [KEYS.index(k) for k in order]]
    assert m["nll"] == pytest.approx(skm.log_loss(labels, sorted_probs, labels=order), rel=1e-9)
    assert m["brier"] == pytest.approx(skm.brier_score_loss(labels, sorted_probs, labels=order), rel=1e-9)
    correct = (np.array(pred) == np.array(labels)).astype(float)
    assert m["ece"] == pytest.approx(_ece_reference(correct, probs.max(axis=1), 10), abs=1e-12)
    assert m["ece_bins"] == 10 and len(m["reliability"]) == 10
    assert sum(b["n"] for b in m["reliability"]) == len(labels)


def test_metrics_worked_by_hand():
    # six files, 4-class keys; reference A A A H H N, predicted A A H H A N with these confidences
    keys = ("angry", "happy", "neutral", "sad")
    truth = ["angry", "angry", "angry", "happy", "happy", "neutral"]
    pred = ["angry", "angry", "happy", "happy", "angry", "neutral"]
    conf = [0.9, 0.7, 0.6, 0.95, 0.55, 0.8]
    probs = np.array([[c if k == p else (1 - c) / 3 for k in keys] for p, c in zip(pred, conf, strict=True)])
    m = compute_metrics(truth, probs, keys, speakers=["s1"] * 3 + ["s2"] * 3, ece_bins=5)
    assert m["wa"] == pytest.approx(4 / 6)
    assert m["ua"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)  # recall angry 2/3, happy 1/2, neutral 1
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)  # P = R for every class here
    by = {r["class"]: r for r in m["per_class"]}
    assert set(by) == {"angry", "happy", "neutral"}  # sad occurs in neither column
    assert (by["angry"]["precision"], by["happy"]["precision"], by["neutral"]["precision"]) == pytest.approx(
        (2 / 3, 1 / 2, 1.0)
    )
    assert m["confusion"]["matrix"] == [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    # bins of 0.2, right-closed: (0.4, 0.6] holds 0.6 and 0.55 (both wrong), (0.6, 0.8] holds 0.7 and 0.8
    # (both right), (0.8, 1] holds 0.9 and 0.95 (both right)
    gaps = [abs(0 - 0.575), abs(1 - 0.75), abs(1 - 0.925)]
    assert m["ece"] == pytest.approx(sum(gaps) * 2 / 6)
    assert m["mce"] == pytest.approx(0.575)
    assert [b["n"] for b in m["reliability"]] == [0, 0, 2, 2, 2]
    bands = {b["band"]: b for b in m["bands"]}
    assert (bands["confident"]["n"], bands["confident"]["accuracy"]) == (2, 1.0)  # 0.9, 0.95
    assert (bands["leaning"]["n"], bands["leaning"]["accuracy"]) == (3, pytest.approx(2 / 3))  # 0.7, 0.6, 0.8
    assert (bands["uncertain"]["n"], bands["uncertain"]["accuracy"]) == (1, 0.0)  # 0.55
    spk = {s["speaker"]: s for s in m["speakers"]}
    assert spk["s1"]["accuracy"] == pytest.approx(2 / 3) and spk["s1"]["ua"] == pytest.approx(2 / 3)
    assert spk["s2"]["accuracy"] == pytest.approx(2 / 3) and spk["s2"]["ua"] == pytest.approx(0.75)
    p_true = [0.9, 0.7, 0.4 / 3, 0.95, 0.15, 0.8]
    assert m["nll"] == pytest.approx(-sum(math.log(p) for p in p_true) / 6)
    assert expected_calibration_error(np.array([1.0, 0.0]), np.array([0.5, 0.5]), 2)[0] == pytest.approx(0.0)


def test_restrict_to_four_classes_renormalises():
    p9 = np.zeros(9)
    p9[[KEYS.index("angry"), KEYS.index("happy"), KEYS.index("other"), KEYS.index("sad")]] = [
        0.1,
        0.2,
        0.6,
        0.1,
    ]
    p4 = restrict(p9, ("angry", "happy", "neutral", "sad"))[0]
    assert p4 == pytest.approx([0.25, 0.5, 0.0, 0.25])


def test_quality_of_errors_vs_hits():
    q = lambda snr, verdict: {  # noqa: E731
        "verdict": verdict,
        "metrics": [{"name": "snr", "value": snr, "unit": "dB", "verdict": verdict, "label_en": "SNR", "label_zh": "信噪比"},
                    {"name": "codec", "value": "pcm", "unit": "", "verdict": "info"}],
    }  # fmt: skip
    probs = np.array([[0.9, 0.1, 0, 0], [0.8, 0.2, 0, 0], [0.3, 0.7, 0, 0]])
    m = compute_metrics(["angry", "angry", "angry"], probs, ("angry", "happy", "neutral", "sad"),
                        qualities=[q(30, "ok"), q(20, "ok"), q(2, "bad")])  # fmt: skip
    hits, errors = m["quality"]["hits"], m["quality"]["errors"]
    assert hits["n"] == 2 and errors["n"] == 1
    assert hits["metrics"]["snr"]["mean"] == 25 and errors["metrics"]["snr"]["mean"] == 2
    assert errors["metrics"]["snr"]["bad_share"] == 1.0 and hits["verdicts"] == {"ok": 1.0}
    assert "codec" not in hits["metrics"]  # not numeric


# ----------------------------------------------------------------------------------------- labels, manifests
@pytest.mark.parametrize(
    "raw,key",
    [("生气", "angry"), ("Angry", "angry"), ("anger", "angry"), ("愤怒", "angry"), ("ANG", "angry"),
     ("joy", "happy"), ("Happiness", "happy"), ("开心", "happy"), ("快乐", "happy"), ("中立", "neutral"),
     ("中性", "neutral"), ("难过", "sad"), ("悲伤", "sad"), ("吃惊", "surprised"), ("惊讶", "surprised"),
     ("surprise", "surprised"), ("fear", "fearful"), ("disgust", "disgusted"), ("开心/happy", "happy"),
     ("  Ｎｅｕｔｒａｌ ", "neutral"), ("😢", "sad")],
)  # fmt: skip
def test_label_synonyms(raw, key):
    assert normalise_label(raw) == key


def test_unknown_label_names_the_accepted_keys():
    with pytest.raises(ValueError, match="bored.*angry, disgusted"):
        normalise_label("bored")


def _write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_csv_manifest_bad_rows_by_line(tmp_path):
    m = _write_csv(tmp_path / "set.csv", ["ID", "Path", "Emotion", "Speaker"], [
        ["a", "a.wav", "生气", "s1"], ["b", "b.wav", "Angry", "s1"], ["c", "c.wav", "anger", "s2"],
        ["d", "d.wav", "bored", "s2"], ["e", "", "sad", "s2"], ["a", "x.wav", "sad", "s3"], ["f", "f.wav", "", ""],
    ])  # fmt: skip
    man = load_manifest(m)
    assert [(it.id, it.label, it.where) for it in man.items] == [("a", "angry", "line 2"), ("b", "angry", "line 3"),
                                                                 ("c", "angry", "line 4")]  # fmt: skip
    assert man.items[0].path == str(tmp_path / "a.wav") and man.items[2].speaker == "s2"
    bad = {b.where: b for b in man.bad}
    assert set(bad) == {"line 5", "line 6", "line 7", "line 8"}
    assert bad["line 5"].code == "unknown_label" and "set.csv line 5" in bad["line 5"].message
    assert "'bored'" in bad["line 5"].message
    assert bad["line 6"].code == "missing_path"
    assert bad["line 7"].code == "duplicate_id" and "line 2" in bad["line 7"].message
    assert bad["line 8"].code == "missing_label"
    assert man.rows == 7 and len(man.fingerprint) == 64
    # the same rows in another order are the same test set; another label is not
    same = _write_csv(tmp_path / "same.csv", ["id", "path", "label", "speaker"], [
        ["f", "f.wav", "", ""], ["a", "x.wav", "sad", "s3"], ["e", "", "sad", "s2"], ["d", "d.wav", "bored", "s2"],
        ["c", "c.wav", "anger", "s2"], ["b", "b.wav", "angry", "s1"], ["a", "a.wav", "愤怒", "s1"],
    ])  # fmt: skip
    assert load_manifest(same).fingerprint == man.fingerprint
    other = _write_csv(tmp_path / "other.csv", ["id", "path", "label"], [["a", "a.wav", "happy"]])
    assert load_manifest(other).fingerprint != man.fingerprint


def test_jsonl_gbk_tsv_and_folder_manifests(tmp_path):
    j = tmp_path / "set.jsonl"
    j.write_text('{"path": "a.wav", "label": "开心", "text": "你好"}\n\n{oops\n[1]\n{"wav": "b.wav", "emotion": "joy"}\n',
                 encoding="utf-8")  # fmt: skip
    man = load_manifest(j)
    assert [(it.label, it.where, it.text) for it in man.items] == [
        ("happy", "line 1", "你好"),
        ("happy", "line 5", None),
    ]
    assert [(b.where, b.code) for b in man.bad] == [("line 3", "bad_json"), ("line 4", "bad_json")]
    gbk = _write_csv(tmp_path / "gbk.csv", ["path", "label"], [["a.wav", "难过"]], encoding="gbk")
    assert load_manifest(gbk).items[0].label == "sad"
    tsv = tmp_path / "set.tsv"
    tsv.write_text("path\tlabel\na.wav\t惊讶\n", encoding="utf-8")
    assert load_manifest(tsv).items[0].label == "surprised"
    root = tmp_path / "folder"
    for sub in ("生气", "Angry", "anger/deeper", "bored"):
        (root / sub).mkdir(parents=True)
        (root / sub / "x.wav").write_bytes(b"")
    (root / "loose.wav").write_bytes(b"")
    man = load_manifest(root)
    assert man.kind == "folder" and {it.label for it in man.items} == {"angry"} and len(man.items) == 3
    assert {b.code for b in man.bad} == {"unknown_label", "missing_label"}
    assert load_manifest(root, "4").class_keys == ("angry", "happy", "neutral", "sad")


def test_unreadable_manifests_raise(tmp_path):
    with pytest.raises(ManifestError, match="no such"):
        load_manifest(tmp_path / "nope.csv")
    with pytest.raises(ManifestError, match="no label column"):
        load_manifest(_write_csv(tmp_path / "a.csv", ["path", "speaker"], [["a.wav", "s"]]))
    with pytest.raises(ManifestError, match="no path column"):
        load_manifest(_write_csv(tmp_path / "b.csv", ["label"], [["sad"]]))
    (tmp_path / "c.xlsx").write_bytes(b"PK")
    with pytest.raises(ManifestError, match="not a manifest"):
        load_manifest(tmp_path / "c.xlsx")
    with pytest.raises(EvaluationError, match="classes"):
        load_manifest(tmp_path / "a.csv", classes="7")


def test_allowed_roots_turn_outside_paths_into_bad_rows(tmp_path):
    inside = tmp_path / "root"
    inside.mkdir()
    (tmp_path / "secret.wav").write_bytes(b"x")
    (inside / "link.wav").symlink_to(tmp_path / "secret.wav")
    m = _write_csv(inside / "m.csv", ["path", "label"], [["ok.wav", "sad"], ["../secret.wav", "sad"],
                                                         ["/etc/passwd", "sad"], ["link.wav", "sad"]])  # fmt: skip
    man = load_manifest(m, allowed_roots=[inside])
    assert [it.where for it in man.items] == ["line 2"]
    assert [b.code for b in man.bad] == ["outside_root"] * 3


def test_model_spec_with_precision():
    assert parse_model_spec("large@int8") == ("large", "int8")
    assert parse_model_spec("large", "fp16") == ("large", "fp16")
    assert parse_model_spec("/data/m@v2") == ("/data/m@v2", None)


# ------------------------------------------------------------------------------------------ with the model
LABELS = ["生气", "Angry", "anger", "开心", "happy", "中立", "难过", "sad", "吃惊", "厌恶", "fear", "neutral"]


@pytest.fixture(scope="module")
def testset(tmp_path_factory):
    """12 voices labelled with mixed names (3 spellings of angry), a clean manifest and one with bad rows."""
    d = tmp_path_factory.mktemp("testset")
    rows = []
    for i, label in enumerate(LABELS):
        path = encode(
            d / f"clip{i:02d}.wav", make_voice(0.8 + 0.15 * (i % 4), SR, seed=100 + i), SR, "wav"
        ).path
        rows.append([f"clip{i:02d}", path.name, label, f"spk{i % 3}", f"utterance {i}"])
    clean = _write_csv(d / "clean.csv", ["id", "path", "label", "speaker", "text"], rows)
    broken = bad_truncated_wav(d)
    dirty = _write_csv(
        d / "dirty.csv",
        ["id", "path", "label", "speaker", "text"],
        rows[:6] + [["gone", "gone.wav", "sad", "spk0", ""], ["bored", rows[6][1], "bored", "spk1", ""],
                    ["broken", broken.name, "happy", "spk2", ""]] + rows[6:],
    )  # fmt: skip
    return d, clean, dirty


@pytest.fixture(scope="module")
def other_model_dir(tmp_path_factory):
    return init_random(tmp_path_factory.mktemp("tiny_seed1"), arch="tiny", seed=1)


def _cli(*args) -> int:
    return main(["evaluate", *map(str, args)])


def test_report_stability_and_history_through_the_cli(
    testset, tiny_model_dir, other_model_dir, tmp_path, capsys
):
    d, clean, _ = testset
    first, second, third = (
        tmp_path / "reports" / "r1",
        tmp_path / "reports" / "r2",
        tmp_path / "reports" / "r3",
    )
    common = ["--device", "cpu", "--offline"]
    assert _cli(clean, "--model", tiny_model_dir, "--report", first, *common) == 0

    # the report folder and its files
    names = {p.name for p in first.iterdir()}
    assert {"metrics.json", "predictions.csv", "report.html", "confusion_matrix.png", "reliability.png",
            "per_class.png", "bands.png", "history.png"} <= names  # fmt: skip
    assert not [n for n in names if n.endswith(".tmp")]
    for png in first.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads((first / "metrics.json").read_text())
    for key in ("ua", "wa", "macro_f1", "ece", "ece_bins", "nll", "brier"):
        assert key in doc and doc[key] is not None
    assert doc["n"] == len(LABELS) and doc["status"]["code"] == 0 and doc["bad_rows"] == []
    block = doc["models"][str(tiny_model_dir)]
    assert block["model"]["is_random"] is True and block["ua"] == doc["ua"]
    # 生气, Angry and anger are one class: 3 rows of reference "angry" and no other spelling anywhere
    by = {r["class"]: r for r in block["per_class"]}
    assert by["angry"]["support"] == 3
    assert set(block["confusion"]["labels"]) <= set(KEYS)
    assert sum(map(sum, block["confusion"]["matrix"])) == len(LABELS)
    assert {s["speaker"] for s in block["speakers"]} == {"spk0", "spk1", "spk2"}
    assert block["quality"]["hits"]["n"] + block["quality"]["errors"]["n"] == len(LABELS)
    rows = read_predictions(first / "predictions.csv")
    assert len(rows) == len(LABELS) and list(rows[0]) == list(PREDICTION_COLUMNS)
    assert [r["label"] for r in rows[:3]] == ["angry"] * 3
    for r in rows:
        p9 = np.array([float(r[c]) for c in SCORE_COLUMNS])
        assert p9.sum() == pytest.approx(1.0) and r["predicted"] == KEYS[int(p9.argmax())]
        assert float(r["confidence"]) == pytest.approx(p9.max()) and r["correct"] == str(
            int(r["predicted"] == r["label"])
        )
    # metrics.json equals what scikit-learn computes from predictions.csv
    truth, pred = [r["label"] for r in rows], [r["predicted"] for r in rows]
    assert doc["wa"] == pytest.approx(skm.accuracy_score(truth, pred))
    assert doc["ua"] == pytest.approx(skm.balanced_accuracy_score(truth, pred))
    assert doc["macro_f1"] == pytest.approx(skm.f1_score(truth, pred, average="macro"))
    page = (first / "report.html").read_text()
    assert (
        "data:image/png;base64," in page
        and "混淆矩阵 / Confusion matrix" in page
        and "random weights" in page
    )
    assert "http://" not in page and "https://" not in page and "<script" not in page

    # the same weights again: zero drift, no flips, exit 0
    capsys.readouterr()
    assert _cli(clean, "--model", tiny_model_dir, "--report", second, "--baseline", first, *common) == 0
    st = json.loads((second / "metrics.json").read_text())["stability"]
    assert st["passed"] and st["same_manifest"]
    (m,) = st["models"]
    assert (m["compared"], m["flipped"], m["drift_max"], m["drift_mean"]) == (len(LABELS), [], 0.0, 0.0)
    assert m["deltas"] == {"wa": 0.0, "ua": 0.0, "macro_f1": 0.0, "ece": 0.0}

    # other random weights: flagged, the flipped files listed, exit 4
    capsys.readouterr()
    assert _cli(clean, "--model", other_model_dir, "--report", third, "--baseline", first, *common) == 4
    out = capsys.readouterr()
    doc3 = json.loads((third / "metrics.json").read_text())
    st = doc3["stability"]
    assert not st["passed"] and doc3["status"]["code"] == 4
    (m,) = st["models"]
    assert m["drift_max"] > 0.02 and st["reasons"]
    old = {r["id"]: r["predicted"] for r in rows}
    new = {r["id"]: r["predicted"] for r in read_predictions(third / "predictions.csv")}
    flipped = sorted(i for i in old if old[i] != new[i])
    assert flipped and sorted(f["id"] for f in m["flipped"]) == flipped
    assert f"flipped {flipped[0]}" in out.out
    assert "FAILED" in out.out and "exit 4" in out.err
    assert flipped[0] in (third / "report.html").read_text()

    # the history of this test set: three runs, oldest first, drawn in the last report
    runs = read_history(tmp_path / "reports" / "history", doc["manifest"]["fingerprint"])
    assert [r["report"] for r in runs] == [str(first), str(second), str(third)]
    assert runs[0]["wa"] == doc["wa"] and runs[2]["model"] == str(other_model_dir)
    assert doc3["history"]["runs"] == 3 and (third / "history.png").is_file()

    # a threshold loose enough lets the same change pass
    loose = ["--max-flip-rate", "1", "--max-drift", "1", "--max-mean-drift", "1", "--max-drop", "1"]
    fourth = tmp_path / "reports" / "r4"
    assert (
        _cli(clean, "--model", other_model_dir, "--report", fourth, "--baseline", first, *loose, *common) == 0
    )


def test_bad_rows_are_reported_by_line_and_the_rest_evaluates(testset, recognizer, tmp_path):
    d, clean, dirty = testset
    ev = evaluate(
        dirty, [model_from_recognizer("tiny", recognizer)], report_dir=tmp_path / "r", history_dir=False
    )
    assert ev.exit_code == 1 and ev.doc["status"]["code"] == 1
    bad = {b["where"]: b for b in ev.bad_rows}
    assert bad["line 8"]["code"] == "missing" and "gone.wav" in bad["line 8"]["message"]
    assert bad["line 9"]["code"] == "unknown_label" and "bored" in bad["line 9"]["message"]
    assert bad["line 10"]["code"] == "corrupt" and "dirty.csv line 10" in bad["line 10"]["message"]
    assert len(bad) == 3 and ev.doc["n"] == len(LABELS) and ev.doc["evaluated"] == len(LABELS)
    rows = {r["id"]: r for r in ev.rows}
    assert rows["gone"]["error_code"] == "missing" and rows["gone"]["predicted"] == ""
    assert "bored" not in rows  # never decoded: no label to score it against
    page = (ev.report_dir / "report.html").read_text()
    assert "未评测的行 / Rows not evaluated" in page and "line 10" in page
    # the good rows score exactly as in the clean set
    ref = evaluate(
        clean, [model_from_recognizer("tiny", recognizer)], report_dir=tmp_path / "c", history_dir=False
    )
    clean_rows = {r["id"]: r for r in ref.rows}
    for i in clean_rows:
        assert rows[i]["score_angry"] == clean_rows[i]["score_angry"]


def test_several_models_share_one_decode_per_file(testset, recognizer, other_model_dir, tmp_path):
    from emostudio.recognize import Recognizer

    d, clean, _ = testset
    other = Recognizer(model=str(other_model_dir), device="cpu")
    calls: list[str] = []
    groups: list[float] = []

    def prepare(path):
        calls.append(path)
        return recognizer.prepare(path)

    a = model_from_recognizer("seed0", recognizer)
    inner = a.infer
    a.infer = lambda items: groups.append(sum(p.duration_s for p in items)) or inner(items)
    b = model_from_recognizer("seed1", other)
    ev = evaluate(
        clean, [a, b], report_dir=tmp_path / "r", history_dir=False, prepare=prepare, chunk_seconds=2.5
    )
    assert sorted(calls) == sorted(it.path for it in load_manifest(clean).items)  # once per file
    assert set(ev.doc["models"]) == {"seed0", "seed1"} and "ua" not in ev.doc  # one block per model
    assert len(ev.rows) == 2 * len(LABELS)
    # bounded groups: never more than the chunk plus the one file that crossed it
    assert len(groups) > 2 and max(groups) <= 2.5 + 1.25 + 1e-6
    assert (ev.report_dir / "models.png").is_file() and (ev.report_dir / "reliability_m2.png").is_file()
    # sharing the decode changes nothing: each model alone gives the same scores (to float rounding: the
    # batches are padded differently with another chunk size)
    alone = evaluate(
        clean, [model_from_recognizer("seed1", other)], report_dir=tmp_path / "s", history_dir=False
    )
    both = {r["id"]: r for r in ev.rows if r["model"] == "seed1"}
    for r in alone.rows:
        assert [both[r["id"]][c] for c in SCORE_COLUMNS] == pytest.approx(
            [r[c] for c in SCORE_COLUMNS], abs=1e-6
        )
        assert both[r["id"]]["predicted"] == r["predicted"]


def test_four_classes_like_emobox(testset, recognizer, tmp_path):
    d, clean, _ = testset
    ev = evaluate(clean, [model_from_recognizer("tiny", recognizer)], classes="4", report_dir=tmp_path / "r",
                  history_dir=False)  # fmt: skip
    keep = [lab for lab in map(normalise_label, LABELS) if lab in ("angry", "happy", "neutral", "sad")]
    assert ev.doc["n"] == len(keep) and ev.doc["manifest"]["excluded"] == len(LABELS) - len(keep)
    assert set(ev.doc["manifest"]["excluded_labels"]) == {"surprised", "disgusted", "fearful"}
    assert ev.doc["class_keys"] == ["angry", "happy", "neutral", "sad"]
    for r in ev.rows:
        p4 = restrict(np.array([r[c] for c in SCORE_COLUMNS]), ev.doc["class_keys"])[0]
        assert r["predicted"] == ev.doc["class_keys"][int(p4.argmax())] and r["confidence"] == pytest.approx(
            p4.max()
        )
    assert set(ev.doc["models"]["tiny"]["confusion"]["labels"]) <= {"angry", "happy", "neutral", "sad"}
    # a 9-class baseline cannot be compared with a 4-class run
    full = evaluate(
        clean, [model_from_recognizer("tiny", recognizer)], report_dir=tmp_path / "f", history_dir=False
    )
    with pytest.raises(EvaluationError, match="same --classes"):
        evaluate(clean, [model_from_recognizer("tiny", recognizer)], classes="4", baseline=full.report_dir,
                 report_dir=tmp_path / "g", history_dir=False)  # fmt: skip


def test_a_model_failing_on_one_file_loses_only_that_row(testset, recognizer, tmp_path):
    d, clean, _ = testset
    m = model_from_recognizer("flaky", recognizer)
    inner = m.infer

    def infer(items):
        if any(p.name.endswith("clip03.wav") for p in items):
            raise RuntimeError("simulated failure on clip03")
        return inner(items)

    m.infer = infer
    ev = evaluate(clean, [m], report_dir=tmp_path / "r", history_dir=False)
    assert ev.doc["n"] == len(LABELS) - 1 and ev.exit_code == 1
    (b,) = ev.bad_rows
    assert b["where"] == "line 5" and b["model"] == "flaky" and "simulated failure" in b["message"]


def test_cli_refuses_what_it_cannot_run(testset, tiny_model_dir, tmp_path, capsys):
    d, clean, _ = testset
    common = ["--model", tiny_model_dir, "--device", "cpu", "--offline", "--no-history"]
    assert _cli(tmp_path / "missing.csv", *common) == 2
    assert "no such manifest" in capsys.readouterr().err
    assert _cli(clean, *common, "--baseline", tmp_path) == 2
    assert "not a finished evaluation report" in capsys.readouterr().err
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("keep me")
    assert _cli(clean, *common, "--report", full) == 2
    assert "not empty" in capsys.readouterr().err and (full / "x").read_text() == "keep me"
    assert _cli(clean, "--model", tmp_path / "no_model", "--offline", "--no-history") == 2
    assert _cli(clean, *common, "--model", tiny_model_dir) == 2  # the same model twice
    assert "named twice" in capsys.readouterr().err


def test_without_matplotlib_the_report_still_has_every_number(testset, recognizer, tmp_path, monkeypatch):
    from emostudio.evaluate import run as run_mod

    monkeypatch.setattr(run_mod.charts_mod, "available", lambda: False)
    d, clean, _ = testset
    ev = evaluate(
        clean, [model_from_recognizer("tiny", recognizer)], report_dir=tmp_path / "r", history_dir=False
    )
    names = sorted(p.name for p in ev.report_dir.iterdir())
    assert names == ["metrics.json", "predictions.csv", "report.html", "summary.json"]
    assert "pip install matplotlib" in ev.doc["files"]["charts_note"] and ev.doc["ua"] is not None
    page = (ev.report_dir / "report.html").read_text()
    assert "<img" not in page and "混淆矩阵 / Confusion matrix" in page


def test_an_aborted_run_leaves_no_report_folder(testset, recognizer, tmp_path):
    from emostudio.evaluate import EvaluationAborted

    d, clean, _ = testset
    m = model_from_recognizer("tiny", recognizer)

    def infer(items):
        raise EvaluationAborted("stopped by the test")

    m.infer = infer
    with pytest.raises(EvaluationAborted, match="stopped by the test"):
        evaluate(clean, [m], reports_root=tmp_path / "reports", history_dir=False)
    assert not (tmp_path / "reports").exists() or list((tmp_path / "reports").iterdir()) == []


def test_cli_prints_names_as_they_are(testset, tiny_model_dir, tmp_path, capsys):
    d, clean, _ = testset
    m = _write_csv(
        tmp_path / "m.csv",
        ["path", "label"],
        [[str(d / "clip00.wav"), "生气"], ["take [red] two.wav", "sad"]],
    )
    code = _cli(
        m,
        "--model",
        tiny_model_dir,
        "--device",
        "cpu",
        "--offline",
        "--no-history",
        "--report",
        tmp_path / "r",
    )
    assert code == 1  # evaluated, one row missing
    err = capsys.readouterr().err
    assert "take [red] two.wav" in err and "m.csv line 3" in err and "exit 1" in err
