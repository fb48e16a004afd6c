"""What people read on the console: names printed as they are, help that keeps its brackets, compare two takes,
and an SNR that says it cannot be measured instead of a floor value no recording can have (issue 18: 10–12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hostile import wav_bytes
from signals import mix, voice, white

from emostudio.quality import assess

pytestmark = pytest.mark.integration

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emostudio", *args], capture_output=True, text=True, env=ENV, timeout=300
    )


def test_file_names_with_brackets_are_printed_as_they_are(tmp_path, tiny_model_dir):
    name = "take [red] two [bold].wav"
    (tmp_path / name).write_bytes(wav_bytes(np.sin(np.arange(24000) / 5) * 0.3, 16000))
    (tmp_path / "[x]broken.wav").write_bytes(b"not audio")
    done = _cli(
        "analyze", str(tmp_path / name), str(tmp_path / "[x]broken.wav"), "--model", str(tiny_model_dir),
        "--offline", "--device", "cpu", "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert name in done.stdout  # not "take  two .wav"
    assert "[x]broken.wav: not an audio file" in done.stderr


def test_missing_weights_help_keeps_the_extra_in_brackets(tmp_path):
    (tmp_path / "a.wav").write_bytes(wav_bytes(np.sin(np.arange(24000) / 5) * 0.3, 16000))
    done = _cli("analyze", str(tmp_path / "a.wav"), "--model", str(tmp_path / "no_model"), "--offline")
    assert done.returncode == 2
    assert "pip install 'emostudio[hub]'" in done.stderr and "Traceback" not in done.stderr


def test_compare_two_takes_on_the_command_line(tmp_path, tiny_model_dir):
    x, active = voice(6, seed=32)
    (tmp_path / "noisy.wav").write_bytes(wav_bytes(mix(x, active, white(len(x)), 5), 16000))
    (tmp_path / "quiet.wav").write_bytes(wav_bytes(x, 16000))
    model = ["--model", str(tiny_model_dir), "--offline", "--device", "cpu"]
    done = _cli("compare", str(tmp_path / "noisy.wav"), str(tmp_path / "quiet.wav"), *model, "--json")
    assert done.returncode == 0, done.stderr
    cmp = json.loads(done.stdout)
    assert cmp["more_reliable"] == "b" and "SNR" in cmp["verdict"]["en"]
    table = _cli("compare", str(tmp_path / "noisy.wav"), str(tmp_path / "quiet.wav"), *model, "--lang", "zh")
    assert table.returncode == 0 and "录音 B 的结果更可靠" in table.stdout and "信噪比" in table.stdout


def test_snr_of_a_steady_tone_is_not_measurable():
    t = np.arange(2 * 16000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    snr = assess(tone).get("snr")
    assert snr.value is None and snr.verdict == "info"
    assert (
        "not measurable" in snr.label_en
        and "无法测量" in snr.label_zh
        and "Cannot be measured" in snr.advice_en
    )
    report = assess(tone)
    assert "-80" not in (report.warning_line("en") or "")
    # a real voice in noise still reads its SNR
    x, active = voice(6, seed=33)
    assert abs(assess(mix(x, active, white(len(x)), 10)).get("snr").value - 10) < 3
