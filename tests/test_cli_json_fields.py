"""Small leftovers of issue 25 item 21: `analyze --json` and `live --json` carry the `run_id` and `files` of
result.json, clusters.csv names the source file of run-folder inputs, and the README's `executor="process"`
snippet runs as a plain script."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from audio_factory import encode, make_voice

from emostudio.cli import main
from emostudio.runs import read_result

pytestmark = pytest.mark.integration  # subprocesses: kill -9 trials, the CLI, a full disk (not the fast tier)

SR = 16000
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def voices(tmp_path):
    paths = []
    for i in range(3):
        paths.append(str(encode(tmp_path / f"v{i}.wav", make_voice(1.5, SR, seed=30 + i), SR, "wav").path))
    return paths


def test_analyze_and_live_json_carry_run_id_and_files(voices, tiny_model_dir, tmp_path, capsys):
    model = ["--model", str(tiny_model_dir), "--offline"]
    assert (
        main(
            [
                "analyze",
                *voices[:2],
                *model,
                "--device",
                "cpu",
                "--embedding",
                "--out",
                str(tmp_path / "o"),
                "--json",
            ]
        )
        == 0
    )
    docs = json.loads(capsys.readouterr().out)
    for d in docs:
        saved = read_result(d["output_dir"])
        assert d["run_id"] == saved["run_id"] == Path(d["output_dir"]).name
        assert d["files"] == saved["files"] and "embedding" in d["files"]

    code = main(["live", "--input", voices[0], "--speed", "0", "--json", "--out", str(tmp_path / "live")]
                + [*model, "--model-device", "cpu"])  # fmt: skip
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 0 and last["type"] == "result"
    saved = read_result(last["output_dir"])
    assert last["run_id"] == saved["run_id"] and last["files"] == saved["files"]
    assert (
        main(
            [
                "live",
                "--input",
                voices[0],
                "--speed",
                "0",
                "--json",
                "--no-save",
                *model,
                "--model-device",
                "cpu",
            ]
        )
        == 0
    )
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert last["output_dir"] is None and last["run_id"] is None and last["files"] == {}


def test_clusters_csv_names_the_source_file_of_run_folders(voices, tiny_model_dir, tmp_path, capsys):
    runs = tmp_path / "runs"
    model = ["--model", str(tiny_model_dir), "--offline", "--device", "cpu"]
    assert main(["analyze", *voices, *model, "--embedding", "--out", str(runs), "--json"]) == 0
    folders = [d["output_dir"] for d in json.loads(capsys.readouterr().out)]
    out = tmp_path / "c"
    assert main(["cluster", *folders, "--k", "2", "--out", str(out), *model]) == 0
    rows = list(csv.DictReader((out / "clusters.csv").open(encoding="utf-8")))
    by_name = {r["name"]: r["source"] for r in rows}
    assert {Path(n).name for n in by_name} == {Path(f).name for f in folders}
    assert sorted(Path(s).name for s in by_name.values()) == ["v0.wav", "v1.wav", "v2.wav"]


def test_the_readme_process_pool_snippet_runs_as_a_plain_script(voices, tiny_model_dir, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'if __name__ == "__main__":   # executor="process"' in readme
    script = tmp_path / "snippet.py"
    script.write_text(
        "from emostudio import Recognizer\n"
        "from emostudio.options import AnalysisOptions\n"
        "from emostudio.pipeline import PipelineOptions, iter_results\n"
        f"rec = Recognizer(model={str(tiny_model_dir)!r}, device='cpu')\n"
        f"paths = {voices!r}\n"
        "call = AnalysisOptions()\n"
        'if __name__ == "__main__":\n'
        "    for o in iter_results(rec, paths, PipelineOptions(call, workers=2, executor='process')):\n"
        "        print(o.source, o.ok)\n",
        encoding="utf-8",
    )
    env = {"PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [x for p in voices for x in (p, "True")]
