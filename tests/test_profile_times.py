"""Profile times and what `profile add` / `profile trend` say (issue 25 items 8, 18, 19, 20): the calendar's ends
are a typed error naming the accepted range (CLI exit 2), naive times take the local offset of their own date,
an alert has its own exit code, and adding a clip again says it was skipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audio_factory import encode, make_voice
from test_profiles import weekly

from emostudio.cli import main
from emostudio.cli.common import EXIT_ALERT, EXIT_INTERNAL, EXIT_USAGE
from emostudio.profiles import ProfileStore, TimeRangeError, parse_time

pytestmark = pytest.mark.integration  # subprocesses: kill -9 trials, the CLI, a full disk (not the fast tier)

SRC = str(Path(__file__).resolve().parents[1] / "src")
ENDS = ("0001-01-01T00:00+14:00", "9999-12-31T23:59:59-14:00")


def test_the_calendars_ends_are_a_typed_error_naming_the_range():
    for text in ENDS:
        with pytest.raises(TimeRangeError, match="outside the accepted range 0001-01-02 to 9999-12-30"):
            parse_time(text, what="--at")
    assert parse_time("0001-01-02T00:00Z").year == 1 and parse_time("9999-12-30T00:00+14:00").year == 9999


def test_cli_time_filters_at_the_calendars_ends_exit_2(tmp_path, capsys):
    with ProfileStore(tmp_path / "s") as store:
        store.add(weekly("cust", [2, 4]))
    st = ["--store", str(tmp_path / "s")]
    np.save(tmp_path / "q.npy", np.ones(16, np.float32))
    for text in ENDS:
        for args in (
            ["profile", "trend", "--speaker", "cust", "--since", text, "--no-chart"],
            ["profile", "trend", "--speaker", "cust", "--until", text, "--no-chart"],
            ["profile", "show", "--speaker", "cust", "--since", text],
            ["profile", "search", str(tmp_path / "q.npy"), "--until", text],
            ["profile", "add", str(tmp_path / "q.npy"), "--speaker", "cust", "--at", text],
        ):
            assert main([*args, *st]) == EXIT_USAGE, args
            err = capsys.readouterr().err
            assert "time_out_of_range" in err and "0001-01-02 to 9999-12-30 (UTC)" in err, err
            assert "Traceback" not in err and "OverflowError" not in err


def _utc_in(zone: str, text: str) -> str:
    code = f"from emostudio.profiles import parse_time; print(parse_time({text!r}).isoformat())"
    env = {**os.environ, "TZ": zone, "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout


def test_a_naive_time_takes_the_local_offset_of_its_own_date():
    assert _utc_in("Europe/Berlin", "2026-07-05T23:30").strip() == "2026-07-05T21:30:00+00:00"  # CEST, +2
    assert _utc_in("Europe/Berlin", "2026-01-05T23:30").strip() == "2026-01-05T22:30:00+00:00"  # CET, +1
    assert _utc_in("America/New_York", "2026-07-05T12:00").strip() == "2026-07-05T16:00:00+00:00"  # EDT, -4


def test_profile_add_at_a_naive_summer_time_through_the_cli(tmp_path, tiny_model_dir):
    clip = tmp_path / "f.wav"
    encode(clip, make_voice(1.0, 16000, seed=3), 16000, "wav")
    store = tmp_path / "s"
    env = {**os.environ, "TZ": "Europe/Berlin", "PYTHONPATH": SRC}
    cmd = [sys.executable, "-m", "emostudio", "profile", "add", str(clip), "--speaker", "a"]
    cmd += [
        "--at",
        "2026-07-05T23:30",
        "--store",
        str(store),
        "--model",
        str(tiny_model_dir),
        "--device",
        "cpu",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    with ProfileStore(store) as s:
        (rec,) = s.speaker_records("a")
    assert rec.recorded_at.isoformat() == "2026-07-05T21:30:00+00:00"


def test_an_alert_has_its_own_documented_exit_code(tmp_path, capsys):
    with ProfileStore(tmp_path / "s") as store:
        store.add(weekly("cust", [2, 4, 6, 8, 10, 12, 14, 16]))
    args = [
        "profile",
        "trend",
        "--speaker",
        "cust",
        "--tz",
        "UTC",
        "--no-chart",
        "--store",
        str(tmp_path / "s"),
    ]
    assert main([*args, "--fail-on-alert"]) == EXIT_ALERT == 5 != EXIT_INTERNAL
    assert main(args) == 0  # without the flag the alert is only printed
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "**5** `profile trend --fail-on-alert`" in readme


def test_adding_a_clip_again_skips_it_and_says_so(tmp_path, tiny_model_dir, capsys):
    clip = tmp_path / "f.wav"
    encode(clip, make_voice(1.0, 16000, seed=4), 16000, "wav")
    common = [str(clip), "--speaker", "a", "--store", str(tmp_path / "s")]
    common += ["--model", str(tiny_model_dir), "--device", "cpu"]
    assert main(["profile", "add", *common, "--at", "2026-01-05T10:00Z"]) == 0
    capsys.readouterr()
    assert main(["profile", "add", *common, "--at", "2026-02-05T10:00Z", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["skipped"] == 1
    assert "skipped 1 clip(s) already stored" in out.err and "--update" in out.err
    with ProfileStore(tmp_path / "s") as s:  # the stored record is kept as it was
        assert [r.recorded_at.month for r in s.speaker_records("a")] == [1]
    assert main(["profile", "add", *common, "--at", "2026-02-05T10:00Z", "--update"]) == 0
    assert "skipped" not in capsys.readouterr().err
    with ProfileStore(tmp_path / "s") as s:
        assert [r.recorded_at.month for r in s.speaker_records("a")] == [2]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "adding a clip again keeps the record already stored" in readme
