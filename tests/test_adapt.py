"""Adapting to a user's labels: temperature scaling, the head, folds that never leak, the embedding cache, the
adapter folder, `emostudio adapt` and `evaluate --adapter` on speech whose labels are set by its speaking style.

Random weights make the scores meaningless, so these tests check mechanisms: a temperature known in advance is
recovered; a head learns labels that only the speaking style carries, where the unadapted model is at chance."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emostudio.adapt import (
    AdapterError,
    AdapterMismatchError,
    TooFewExamplesError,
    adapt,
    evaluate_adapter,
    fit_temperature,
    load_adapter,
)
from emostudio.adapt.adapter import INFO_FILE, WEIGHTS_FILE
from emostudio.adapt.calibration import scale
from emostudio.adapt.folds import cv_folds, cv_groups
from emostudio.adapt.labelset import check_counts, label_set, near_misses
from emostudio.cli import main
from emostudio.evaluate import compute_metrics, expected_calibration_error, load_manifest
from emostudio.evaluate.intervals import bootstrap, point_metrics, resamples
from emostudio.model.checkpoint import init_random
from emostudio.model.labels import KEYS

SENTENCES = (
    "the meeting starts at nine tomorrow",
    "please send me the report",
    "I waited for an hour on the phone",
    "my order arrived today",
    "can you check my account balance",
    "the weather is nice this week",
    "I would like to change my address",
    "thank you for calling back",
    "where is the nearest station",
    "the package was left at the door",
    "we need to talk about the invoice",
    "this is the third time I ask",
)
TRAIN_SENTENCES = 8  # the first 8 train, the other 4 are unseen sentences for the held-out test
VOICES = ("en-us", "en")
# label → (espeak-ng voice variant, pitch 0-99, words per minute): the speaking style alone decides the label
STYLES = {"angry": ("", 95, 230), "sad": ("whisper", 20, 110), "neutral": ("", 40, 160)}
CUSTOM_STYLES = {"frustrated": ("", 95, 230), "satisfied": ("", 10, 110)}


def _speak(folder: Path, styles: dict, name: str) -> tuple[Path, Path]:
    """WAVs of every sentence in every voice and style; train.csv (first 8 sentences), test.csv (the rest)."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is needed (scripts/setup --test installs it: apt-get install espeak-ng)"
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[dict]] = {"train": [], "test": []}
    for si, sentence in enumerate(SENTENCES):
        for label, (variant, pitch, rate) in styles.items():
            for voice in VOICES:
                wav = folder / f"{label}_{voice}_{si:02d}.wav"
                spec = voice + (f"+{variant}" if variant else "")
                subprocess.run(
                    [espeak, "-v", spec, "-p", str(pitch), "-s", str(rate), "-w", str(wav), sentence],
                    check=True,
                )
                part = "train" if si < TRAIN_SENTENCES else "test"
                rows[part].append({"id": wav.stem, "path": wav.name, "label": label})
    out = []
    for part in ("train", "test"):
        path = folder / f"{name}_{part}.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, ["id", "path", "label"])
            w.writeheader()
            w.writerows(rows[part])
        out.append(path)
    return out[0], out[1]


@pytest.fixture(scope="module")
def style_set(tmp_path_factory):
    return _speak(tmp_path_factory.mktemp("styles"), STYLES, "emotions")


@pytest.fixture(scope="module")
def custom_set(tmp_path_factory):
    return _speak(tmp_path_factory.mktemp("custom"), CUSTOM_STYLES, "custom")


# ------------------------------------------------------------------------------------------ calibration
@pytest.mark.unit
@pytest.mark.parametrize("true_t", [2.5, 0.5])
def test_a_known_temperature_is_recovered_and_ece_drops(true_t):
    rng = np.random.default_rng(3)
    n = 6000
    z = rng.normal(0, 1.6, (n, 9))  # calibrated logits: labels are drawn from softmax(z)
    p = scale(z, 1.0)
    truth = np.array([rng.choice(9, p=row) for row in p])
    observed = z * true_t  # over-confident (T > 1 undoes it) or under-confident (T < 1)
    t = fit_temperature(observed, truth)
    assert t == pytest.approx(true_t, rel=0.05)
    before, after = scale(observed, 1.0), scale(observed, t)
    ece_before = expected_calibration_error(before.argmax(1) == truth, before.max(1))[0]
    ece_after = expected_calibration_error(after.argmax(1) == truth, after.max(1))[0]
    assert ece_after < 0.5 * ece_before and ece_after < 0.03
    assert np.array_equal(before.argmax(1), after.argmax(1))  # the arg-max, and so accuracy, never changes


# ------------------------------------------------------------------------------------------ intervals
@pytest.mark.unit
@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_bootstrap_point_metrics_are_the_report_metrics():
    rng = np.random.default_rng(1)
    keys = ("angry", "happy", "neutral", "sad")
    n = 120
    truth = rng.integers(0, 3, n)  # sad never occurs in the reference, but may be predicted
    logits = rng.normal(0, 1, (n, 4))
    logits[np.arange(n), truth] += 1.2
    probs = scale(logits, 1.0)
    m = compute_metrics([keys[t] for t in truth], probs, keys, ece_bins=10)
    pm = point_metrics(truth, probs, ece_bins=10)
    for key in ("ua", "wa", "macro_f1", "ece", "nll", "brier"):
        assert pm[key] == pytest.approx(m[key], abs=1e-12), key
    recall = {r["class"]: r["recall"] for r in m["per_class"]}
    for j, k in enumerate(keys):
        if k in recall and k != "sad":
            assert pm["recall"][j] == pytest.approx(recall[k])
    for b in m["bands"]:
        got = pm["band_accuracy"][b["band"]]
        assert (np.isnan(got) and b["accuracy"] is None) or got == pytest.approx(b["accuracy"])


@pytest.mark.unit
def test_bootstrap_intervals_pair_readings_and_keep_groups_whole():
    rng = np.random.default_rng(2)
    n = 60
    truth = rng.integers(0, 3, n)
    good = scale(np.eye(3)[truth] * 3 + rng.normal(0, 1, (n, 3)), 1.0)
    labels = ("a", "b", "c")
    out = bootstrap(
        {"base": (truth, good, labels), "same": (truth, good, labels)}, reference="base", n_boot=200
    )
    ua = point_metrics(truth, good)["ua"]
    lo, hi = out["readings"]["base"]["ua"]
    assert lo <= ua <= hi and hi - lo > 0
    assert out["differences"]["same"]["ua"] == {"value": 0.0, "ci": [0.0, 0.0]}  # paired: the same resamples
    groups = [i // 6 for i in range(n)]  # 10 speakers of 6 files
    for idx in resamples(n, groups, 50, seed=0):
        counts = np.bincount(np.asarray(groups)[idx], minlength=10)
        assert set(counts.tolist()) <= {0, 6, 12, 18, 24, 30, 36}  # a speaker's files only ever move together
        assert len(idx) == n


# ------------------------------------------------------------------------------------------ folds
@pytest.mark.unit
@settings(max_examples=60, deadline=None)
@given(
    st.integers(12, 60).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 2), min_size=n, max_size=n),  # labels
            st.lists(st.integers(0, n // 2), min_size=n, max_size=n),  # file (duplicates: same audio twice)
            st.lists(st.one_of(st.none(), st.integers(0, 7)), min_size=n, max_size=n),  # speaker or none
            st.integers(2, 5),
            st.integers(0, 10_000),
        )
    )
)
def test_folds_never_put_a_file_or_speaker_in_both_parts(case):
    labels, files, speakers, k, seed = case
    files = [f"f{f}.wav" for f in files]
    spk = [None if s is None else f"s{s}" for s in speakers]
    groups, by = cv_groups(files, spk)
    assert by == ("speaker" if any(spk) else "file")
    if len(set(groups.tolist())) < k:
        return  # adapt refuses this case up front (check_groups); nothing to split
    folds = cv_folds(labels, groups, k, seed)
    seen = np.zeros(len(labels), dtype=int)
    for tr, te in folds:
        seen[te] += 1
        assert not {files[i] for i in tr} & {files[i] for i in te}
        assert not {spk[i] for i in tr if spk[i]} & {spk[i] for i in te if spk[i]}
    assert np.all(seen == 1)  # every item is tested exactly once


@pytest.mark.unit
def test_more_folds_than_any_class_has_members_still_makes_grouped_folds():
    """--folds 6 on 5 files a class: scikit-learn refuses to stratify (it raised ValueError, an internal error);
    the folds are grouped and balanced instead, each item tested once, the same for the same seed."""
    labels = [0] * 5 + [1] * 5 + [2] * 5
    groups = np.arange(15) // 2  # pairs of files from one recording
    folds = cv_folds(labels, groups, 6, seed=3)
    seen = np.zeros(15, dtype=int)
    for tr, te in folds:
        seen[te] += 1
        assert len(te) and not set(groups[tr]) & set(groups[te])
    assert len(folds) == 6 and np.all(seen == 1)
    again = cv_folds(labels, groups, 6, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))


# ------------------------------------------------------------------------------------------ label sets
@pytest.mark.unit
def test_label_set_rules(tmp_path):
    ls = label_set(["angry"] * 6 + ["frustrated"] * 6 + ["satisfied"] * 25)
    assert ls.labels == ("angry", "frustrated", "satisfied") and ls.kind == "custom"
    warnings = check_counts(ls)
    assert len(warnings) == 1 and "'angry': 6" in warnings[0] and "satisfied" not in warnings[0]
    with pytest.raises(TooFewExamplesError, match=r"'frustrated': 4") as err:
        check_counts(label_set(["angry"] * 6 + ["frustrated"] * 4))
    assert err.value.code == "too_few_examples"
    assert near_misses(label_set(["angery"] * 5 + ["sad"] * 5))[0].startswith("custom label 'angery'")
    # synonyms still map to the 9 classes; custom labels are compared after NFKC, trimming and lower-casing
    labels = ["anger", " Frustrated ", "ＦＲＵＳＴＲＡＴＥＤ", "开心", "bad\u200blabel"]
    (tmp_path / "set.csv").write_text(
        "path,label\n" + "".join(f"a{i}.wav,{label}\n" for i, label in enumerate(labels)), encoding="utf-8"
    )
    man = load_manifest(tmp_path / "set.csv", custom_labels=True)
    assert [it.label for it in man.items] == ["angry", "frustrated", "frustrated", "happy"]
    assert [b.code for b in man.bad] == ["unknown_label"] and "control characters" in man.bad[0].message
    plain = load_manifest(tmp_path / "set.csv")
    assert [it.label for it in plain.items] == [
        "angry",
        "happy",
    ]  # evaluate itself still refuses custom labels


# ------------------------------------------------------------------------------------------ end to end
def _reading(doc: dict, name: str) -> dict:
    return doc["models"][name]


@pytest.mark.integration
def test_adapt_learns_speaking_style_that_the_base_model_reads_at_chance(
    style_set, tiny_model_dir, tmp_path, capsys
):
    train, test = style_set
    cache, out, report = tmp_path / "cache", tmp_path / "adapter", tmp_path / "report"
    model = str(tiny_model_dir)
    rc = main(
        [
            "adapt",
            str(train),
            "--model",
            model,
            "--out",
            str(out),
            "--cache",
            str(cache),
            "--bootstrap",
            "200",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 0, err
    info = json.loads((out / INFO_FILE).read_text(encoding="utf-8"))
    assert info["labels"] == ["angry", "neutral", "sad"] and info["label_kind"] == "emotions"
    assert info["model"]["weights_sha256"] == load_adapter(out).weights_sha256
    cv = json.loads((out / "report" / "metrics.json").read_text(encoding="utf-8"))
    assert cv["adaptation"]["mode"] == "cross-validation" and cv["adaptation"]["folds"]["k"] == 5
    assert set(cv["models"]) == {"base", "calibrated", "adapted"}
    # calibration never changes the arg-max: base and calibrated agree on accuracy
    assert _reading(cv, "calibrated")["wa"] == _reading(cv, "base")["wa"]
    assert _reading(cv, "adapted")["ua"] >= 0.8

    rc = main(["evaluate", str(test), "--adapter", str(out), "--cache", str(cache), "--report", str(report)])
    err = capsys.readouterr().err
    assert rc == 0, err
    doc = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    base, cal, adapted = (_reading(doc, n) for n in ("base", "calibrated", "adapted"))
    assert doc["adaptation"]["mode"] == "held-out" and base["n"] == adapted["n"] == 24
    assert base["ua"] <= 1 / 3 + 0.1  # the random model does not hear the style: chance or worse
    assert adapted["ua"] >= 0.8  # unseen sentences, read by the head trained on the speaking style
    assert cal["ece"] <= base["ece"] + 1e-9
    lo, hi = adapted["ci"]["ua"]
    assert lo <= adapted["ua"] <= hi
    diff = doc["adaptation"]["intervals"]["differences"]["adapted"]["ua"]
    assert diff["value"] == pytest.approx(adapted["ua"] - base["ua"])
    page = (report / "report.html").read_text(encoding="utf-8")
    assert "Adapter evaluation (held-out set)" in page and "adapted − base" in page
    assert {"models.png", "confusion_matrix_m3.png", "reliability_m2.png"} <= {
        p.name for p in report.iterdir()
    }
    rows = list(csv.DictReader(open(report / "predictions.csv", encoding="utf-8")))
    assert len(rows) == 3 * 24 and {r["reading"] for r in rows} == {"base", "calibrated", "adapted"}
    print(  # the figures quoted in the closing note
        f"\nsynthetic set: base UA {base['ua']:.3f} → adapted UA {adapted['ua']:.3f}; "
        f"ECE base {base['ece']:.3f} → calibrated {cal['ece']:.3f} (adapted {adapted['ece']:.3f})"
    )


@pytest.mark.integration
def test_custom_labels_flow_through_and_other_weights_are_refused(
    custom_set, tiny_model_dir, tmp_path, capsys
):
    train, test = custom_set
    cache, out, report = tmp_path / "cache", tmp_path / "adapter", tmp_path / "report"
    rc = main(
        [
            "adapt",
            str(train),
            "--model",
            str(tiny_model_dir),
            "--out",
            str(out),
            "--cache",
            str(cache),
            "--folds",
            "3",
            "--bootstrap",
            "100",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    adapter = load_adapter(out)
    assert adapter.labels == ("frustrated", "satisfied") and adapter.info["label_kind"] == "custom"
    assert adapter.temperature == 1.0 and not adapter.info["calibration"]["fitted"]
    cv = json.loads((out / "report" / "metrics.json").read_text(encoding="utf-8"))
    assert set(cv["models"]) == {"adapted"} and not cv["adaptation"]["base_applicable"]
    assert "not applicable" in (out / "report" / "report.html").read_text(encoding="utf-8")

    rc = main(["evaluate", str(test), "--adapter", str(out), "--cache", str(cache), "--report", str(report)])
    assert rc == 0, capsys.readouterr().err
    doc = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert doc["class_keys"] == ["frustrated", "satisfied"] and set(doc["models"]) == {"adapted"}
    assert _reading(doc, "adapted")["ua"] >= 0.8
    assert {r["class"] for r in _reading(doc, "adapted")["per_class"]} == {"frustrated", "satisfied"}

    one = json.loads(open(report / "metrics.json", encoding="utf-8").read())["models"]["adapted"]
    assert one["per_class"][0]["en"] == "frustrated"
    # applying it to one utterance: a reading over the user's labels, with a band and the adapter's id
    from emostudio.recognize import Recognizer

    rec = Recognizer(model=str(tiny_model_dir))
    wav = next(Path(train).parent.glob("frustrated_*_09.wav"))
    r = rec.analyze(wav, embedding=True)
    reading = load_adapter(out, rec.model.fingerprint()).apply(r.probs, r.embedding)
    assert reading.labels == ("frustrated", "satisfied") and reading.adapter == adapter.id
    assert reading.scores.sum() == pytest.approx(1.0) and reading.band.key in (
        "confident",
        "leaning",
        "uncertain",
    )
    assert np.allclose(reading.calibrated, r.probs)  # no calibration on a custom set: T = 1

    other = init_random(tmp_path / "other", arch="tiny", seed=1)
    rc = main(
        [
            "evaluate",
            str(test),
            "--adapter",
            str(out),
            "--model",
            str(other),
            "--report",
            str(tmp_path / "r2"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2
    theirs = Recognizer(model=str(other)).model.fingerprint()
    assert adapter.weights_sha256 in err.replace("\n", "") and theirs in err.replace("\n", "")
    assert not (tmp_path / "r2").exists()


@pytest.mark.integration
def test_a_second_run_scores_no_audio(style_set, recognizer, tmp_path, monkeypatch):
    train, _ = style_set
    calls = []
    infer = recognizer.infer

    def counting(items, *args, **kwargs):
        calls.append(len(items))
        return infer(items, *args, **kwargs)

    monkeypatch.setattr(recognizer, "infer", counting)
    first = adapt(train, recognizer, tmp_path / "a1", cache_dir=tmp_path / "cache", folds=3, n_boot=20)
    assert first.scored == 48 and first.cached == 0 and sum(calls) == 48
    calls.clear()
    second = adapt(train, recognizer, tmp_path / "a2", cache_dir=tmp_path / "cache", folds=3, n_boot=20)
    assert calls == [] and second.scored == 0 and second.cached == 48
    assert second.adapter.id == first.adapter.id  # same embeddings, same seed: the same adapter, bit for bit
    # a damaged cache entry is scored again, never trusted
    entry = next((tmp_path / "cache").rglob("*.npz"))
    entry.write_bytes(b"not a numpy archive")
    third = adapt(train, recognizer, tmp_path / "a3", cache_dir=tmp_path / "cache", folds=3, n_boot=20)
    assert sum(calls) == 1 and third.scored == 1
    # scored alone rather than in a batch, its embedding may differ in the last bits: the same adapter otherwise
    assert third.adapter.head.C == first.adapter.head.C
    assert np.allclose(third.adapter.head.weights, first.adapter.head.weights, atol=1e-4)
    assert any("scored again" in w for w in third.warnings)


@pytest.mark.integration
def test_bad_rows_are_listed_and_too_few_examples_refused(style_set, tiny_model_dir, tmp_path, capsys):
    train, _ = style_set
    folder = Path(train).parent
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    text = Path(train).read_text(encoding="utf-8")
    bad = tmp_path / "with_bad.csv"
    rows = "".join(
        f"{line.split(',')[0]},{folder}/{line.split(',', 1)[1]}\n" for line in text.splitlines()[1:]
    )
    bad.write_text(
        f"id,path,label\nmissing,{tmp_path}/nope.wav,angry\nbroken,{tmp_path}/broken.wav,sad\n{rows}",
        encoding="utf-8",
    )
    out = tmp_path / "adapter"
    rc = main(
        [
            "adapt",
            str(bad),
            "--model",
            str(tiny_model_dir),
            "--out",
            str(out),
            "--no-cache",
            "--folds",
            "3",
            "--bootstrap",
            "20",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1 and (out / INFO_FILE).is_file()
    assert "with_bad.csv line 2" in err and "with_bad.csv line 3" in err
    doc = json.loads((out / "report" / "metrics.json").read_text(encoding="utf-8"))
    assert {b["id"] for b in doc["bad_rows"]} == {"missing", "broken"} and doc["evaluated"] == 48

    few = tmp_path / "few.csv"
    few.write_text(
        "\n".join(text.splitlines()[:15]) + "\n", encoding="utf-8"
    )  # 14 rows: too few of each class
    rc = main(
        ["adapt", str(few), "--model", str(tiny_model_dir), "--out", str(tmp_path / "a2"), "--no-cache"]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "too few labelled files" in err and not (tmp_path / "a2").exists()
    rc = main(["adapt", str(train), "--model", str(tiny_model_dir), "--out", str(out), "--no-cache"])
    assert rc == 2 and "not empty" in capsys.readouterr().err  # never mixes two adapters in one folder


# ------------------------------------------------------------------------------------------ the folder
@pytest.mark.integration
def test_a_damaged_or_foreign_adapter_folder_is_refused_naming_the_file(style_set, recognizer, tmp_path):
    train, test = style_set
    run = adapt(train, recognizer, tmp_path / "ok", cache_dir=tmp_path / "cache", folds=3, n_boot=20)
    sha = recognizer.model.fingerprint()
    assert load_adapter(tmp_path / "ok", sha).id == run.adapter.id

    def copy(name: str) -> Path:
        return Path(shutil.copytree(tmp_path / "ok", tmp_path / name))

    flipped = copy("flipped")
    data = bytearray((flipped / WEIGHTS_FILE).read_bytes())
    data[-3] ^= 0xFF
    (flipped / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(AdapterError, match=r"adapter\.safetensors: its sha256"):
        load_adapter(flipped)

    foreign = copy("foreign")
    (foreign / INFO_FILE).write_text(json.dumps({"format": "something/else"}), encoding="utf-8")
    with pytest.raises(AdapterError, match=r"adapter\.json: not an emostudio adapter"):
        load_adapter(foreign)

    garbled = copy("garbled")
    (garbled / INFO_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(AdapterError, match=r"adapter\.json: not valid JSON"):
        load_adapter(garbled)

    gone = copy("gone")
    (gone / WEIGHTS_FILE).unlink()
    with pytest.raises(AdapterError, match=r"adapter\.safetensors: missing"):
        load_adapter(gone)
    with pytest.raises(AdapterError, match="no such adapter folder"):
        load_adapter(tmp_path / "nowhere")

    with pytest.raises(AdapterMismatchError) as err:
        load_adapter(tmp_path / "ok", "0" * 64)
    assert sha in str(err.value) and "0" * 64 in str(err.value) and err.value.code == "adapter_mismatch"

    # the held-out evaluation of the training set itself says so
    ev = evaluate_adapter(
        train, recognizer, run.adapter, report_dir=tmp_path / "same", cache_dir=tmp_path / "cache", n_boot=20
    )
    warnings = " ".join(ev.doc["adaptation"]["warnings"])
    assert "48 of the 48 files were in the adapter's training set" in warnings
    assert "the set the adapter was trained on" in warnings
    clean = evaluate_adapter(
        test, recognizer, run.adapter, report_dir=tmp_path / "clean", cache_dir=tmp_path / "cache", n_boot=20
    )
    assert (
        clean.doc["adaptation"]["overlap_with_training"] == 0
        and KEYS[0] in clean.doc["models"]["base"]["class_keys"]
    )


@pytest.mark.unit
def test_charts_draw_any_custom_label_as_text():
    from emostudio.evaluate import charts

    # `$…$` would be matplotlib mathtext, and `$\foo$` cannot be parsed: labels are drawn as plain text
    for label in ("$\\foo$", "$x^{$", "投诉 <b>"):
        for lang in ("zh", "en"):
            png = charts.confusion([label, "ok"], [[2, 1], [0, 3]], model=label, lang=lang)
            assert png[:4] == b"\x89PNG"
    plain = [{"model": "$a$", "wa": 0.5, "ua": 0.4, "macro_f1": 0.3}, {"model": "b", "wa": 0.6, "ua": 0.5}]
    with_ci = [{**plain[0], "wa_ci": [0.4, 0.6]}, {**plain[1], "wa_ci": [0.5, 0.7]}]
    drawn = charts.models(with_ci, lang="zh")
    assert drawn[:4] == b"\x89PNG" and drawn == charts.models(with_ci, lang="zh")  # the same bytes each time
    assert drawn != charts.models(plain, lang="zh")  # interval bars where every row carries an interval


@pytest.mark.integration
def test_four_classes_calibrate_and_read_over_the_four(style_set, recognizer, tmp_path):
    from emostudio.evaluate import FOUR_CLASSES

    train, test = style_set
    run = adapt(
        train, recognizer, tmp_path / "a4", classes="4", cache_dir=tmp_path / "cache", folds=3, n_boot=10
    )
    assert run.adapter.info["classes"] == "4" and run.adapter.labels == ("angry", "neutral", "sad")
    assert run.doc["models"]["base"]["class_keys"] == list(FOUR_CLASSES)  # restricted as evaluate --classes 4
    assert run.adapter.info["calibration"]["classes"] == list(FOUR_CLASSES)
    ev = evaluate_adapter(
        test, recognizer, tmp_path / "a4", report_dir=tmp_path / "r4", cache_dir=tmp_path / "cache", n_boot=10
    )
    base = ev.doc["models"]["base"]
    assert base["class_keys"] == list(FOUR_CLASSES) and base["n"] == 24
    assert {r["class"] for r in base["per_class"]} <= set(FOUR_CLASSES)  # predictions over the 4 only
