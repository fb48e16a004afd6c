"""The test tiers (tests/conftest.py): a test with no tier marker or with several fails the collection, and the
fast tier (`-m unit`) does not import files that hold no unit test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

CONFTEST = Path(__file__).with_name("conftest.py")
MARKERS = "[pytest]\nmarkers =\n    unit: u\n    integration: i\n    slow: s\n    browser: b\n    gpu: g\n"


def _collect(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            *args,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},  # pytest alone: quick to start
    )


def _suite(tmp_path: Path, files: dict[str, str]) -> Path:
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text(MARKERS)
    for name, body in files.items():
        (tmp_path / name).write_text("import pytest\n\n" + body)
    return tmp_path


def test_a_test_without_a_tier_or_with_two_fails_the_collection(tmp_path):
    suite = _suite(
        tmp_path,
        {
            "test_good.py": "pytestmark = pytest.mark.unit\n\ndef test_fine():\n    pass\n",
            "test_bad.py": (
                "pytestmark = pytest.mark.unit\n\n@pytest.mark.integration\ndef test_two():\n    pass\n"
            ),
            "test_none.py": "def test_nothing():\n    pass\n",
        },
    )
    proc = _collect(suite)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "test_bad.py::test_two: integration, unit" in out
    assert "test_none.py::test_nothing: no tier" in out
    assert "test_good.py::test_fine" not in out.split("exactly one of the markers")[-1]


def test_one_tier_each_collects_and_the_fast_tier_skips_other_files(tmp_path):
    suite = _suite(
        tmp_path,
        {
            "test_quick.py": "pytestmark = pytest.mark.unit\n\ndef test_fine():\n    pass\n",
            "test_mixed.py": (
                "@pytest.mark.unit\ndef test_a():\n    pass\n\n@pytest.mark.slow\ndef test_b():\n    pass\n"
            ),
            "test_server.py": "raise ImportError('imported')\n",  # no unit marker: never imported by -m unit
        },
    )
    fast = _collect(suite, "-m", "unit")
    assert fast.returncode == 0, fast.stdout + fast.stderr
    assert "2/3 tests collected (1 deselected)" in fast.stdout
    everything = _collect(suite)
    assert everything.returncode != 0 and "imported" in everything.stdout + everything.stderr
