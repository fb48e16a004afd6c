"""Test-set manifests a careless or hostile user writes (issue 25 items 3, 5, 11, 21): RFC 4180 quoting read right,
deep JSON and huge CSV fields as typed errors naming the file and line, a bounded number of rows, a bounded list of
bad rows (with their count) in line order, and a small summary for listings."""

from __future__ import annotations

import csv
import json

import pytest
from audio_factory import encode, make_voice

from emostudio import settings
from emostudio.cli import main
from emostudio.errors import BatchError
from emostudio.evaluate import ManifestError, evaluate, load_manifest, model_from_recognizer
from emostudio.evaluate.report import SUMMARY_FILE, read_summary
from emostudio.inputs import load_inputs

pytestmark = pytest.mark.unit

SR = 16000


def _voice(folder, name="a.wav", seed=0):
    encode(folder / name, make_voice(1.0, SR, seed=seed), SR, "wav")
    return folder / name


# ---- item 11: RFC 4180 ------------------------------------------------------------------------------------------
def test_doubled_quotes_and_quoted_commas_are_read_as_rfc_4180(tmp_path):
    m = tmp_path / "m.csv"
    m.write_text(
        'id,path,label,text\n"take ""one""",a.wav,sad,"he said ""hi"", then left"\n', encoding="utf-8"
    )
    (it,) = load_manifest(m).items
    assert it.id == 'take "one"' and it.path == str(tmp_path / "a.wav") and it.label == "sad"
    assert it.text == 'he said "hi", then left'
    # the delimiter is still guessed from the header; quoting stays RFC 4180's
    m.write_text('id;path;label\n"x;1";"b ""c"".wav";happy\n', encoding="utf-8")
    (it,) = load_manifest(m).items
    assert it.id == "x;1" and it.path.endswith('b "c".wav') and it.label == "happy"
    t = tmp_path / "m.tsv"
    t.write_text('id\tpath\tlabel\n"a\t""b"""\tx.wav\tangry\n', encoding="utf-8")
    assert load_manifest(t).items[0].id == 'a\t"b"'


# ---- item 5: deep JSON, huge CSV fields --------------------------------------------------------------------------
def test_a_jsonl_line_nested_50000_deep_is_a_bad_row_naming_the_line(tmp_path):
    _voice(tmp_path)
    m = tmp_path / "m.jsonl"
    deep = "[" * 50_000 + "]" * 50_000
    m.write_text(
        json.dumps({"path": "a.wav", "label": "sad"}) + "\n" + '{"path": ' + deep + ', "label": "sad"}\n',
        encoding="utf-8",
    )
    man = load_manifest(m)
    assert len(man.items) == 1 and [(b.where, b.code) for b in man.bad] == [("line 2", "bad_json")]
    assert "m.jsonl line 2" in man.bad[0].message and "nested too deep" in man.bad[0].message
    # a .json array nested that deep: the manifest cannot be read, said with its name
    j = tmp_path / "m.json"
    j.write_text(deep, encoding="utf-8")
    with pytest.raises(ManifestError, match=r"m\.json: not readable JSON \(nested too deep\)"):
        load_manifest(j)
    # batch manifests too
    with pytest.raises(BatchError, match=r"m\.jsonl: line 2 is not readable JSON \(nested too deep\)"):
        load_inputs(m)


def test_a_csv_field_over_131072_characters_is_a_typed_error_naming_file_and_line(tmp_path, capsys):
    m = tmp_path / "m.csv"
    m.write_text(f"path,label\na.wav,sad\nb.wav,{'x' * 140_000}\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"m\.csv: line 3: a field longer than 131,072 characters"):
        load_manifest(m)
    assert main(["evaluate", str(m), "--model", "demo", "--offline", "--report", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "m.csv: line 3" in err and "Traceback" not in err and "Error:" not in err
    with pytest.raises(BatchError, match=r"m\.csv: line 3: not readable as CSV"):
        load_inputs(m)


# ---- item 3: how many rows, how many listed ---------------------------------------------------------------------
def test_a_manifest_over_the_row_limit_is_refused_naming_file_and_limit(tmp_path):
    m = tmp_path / "m.csv"
    m.write_text("path,label\n" + "".join(f"f{i}.wav,sad\n" for i in range(11)), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"m\.csv: lists more than 10 rows, the limit"):
        load_manifest(m, max_rows=10)
    assert load_manifest(m, max_rows=11).rows == 11
    assert settings.MAX_MANIFEST_ROWS == 200_000 and load_manifest(m).rows == 11
    for label in ("sad", "happy"):
        (tmp_path / "set" / label).mkdir(parents=True)
        for i in range(3):
            _voice(tmp_path / "set" / label, f"{i}.wav", seed=i)
    with pytest.raises(ManifestError, match="lists more than 5 rows"):
        load_manifest(tmp_path / "set", max_rows=5)


def test_a_report_lists_the_first_bad_rows_in_line_order_and_counts_them_all(tmp_path, recognizer):
    _voice(tmp_path)
    n_bad = settings.MAX_BAD_ROWS_LISTED + 25
    m = tmp_path / "m.csv"
    with open(m, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "path", "label"])
        w.writerow(["ok", "a.wav", "sad"])  # line 2
        w.writerow(["gone", "gone.wav", "sad"])  # line 3: fails only when scored
        w.writerow(["ok", "a.wav", "happy"])  # line 4: duplicate id
        w.writerows([f"b{i}", "a.wav", "bored"] for i in range(n_bad))  # lines 5…: unknown labels
    ev = evaluate(
        m, [model_from_recognizer("tiny", recognizer)], report_dir=tmp_path / "r", history_dir=False
    )
    total = n_bad + 2
    assert ev.bad_rows_total == total and len(ev.bad_rows) == settings.MAX_BAD_ROWS_LISTED
    assert [b["where"] for b in ev.bad_rows[:4]] == ["line 3", "line 4", "line 5", "line 6"]
    assert ev.bad_rows[0]["code"] == "missing" and ev.bad_rows[1]["code"] == "duplicate_id"
    assert ev.bad_rows[-1]["where"] == f"line {settings.MAX_BAD_ROWS_LISTED + 2}"
    doc = json.loads((ev.report_dir / "metrics.json").read_text())
    assert doc["bad_rows_total"] == total and len(doc["bad_rows"]) == settings.MAX_BAD_ROWS_LISTED
    assert doc["manifest"]["bad_rows"] == n_bad + 1  # the manifest's own (the missing file fails later)
    assert f"{total} row(s) not evaluated" in " ".join(doc["status"]["reasons"])
    page = (ev.report_dir / "report.html").read_text()
    assert f"{total - settings.MAX_BAD_ROWS_LISTED} more rows were not evaluated" in page
    assert page.count("unknown_label") <= settings.MAX_BAD_ROWS_LISTED
    # what a listing reads: a small file, not metrics.json
    summary = (ev.report_dir / SUMMARY_FILE).read_bytes()
    assert len(summary) < 2000
    assert read_summary(ev.report_dir) == {
        "created": doc["created"],
        "manifest": str(m),
        "classes": "all",
        "exit_code": 1,
        "models": doc["comparison"],
        "bad_rows": total,
    }
