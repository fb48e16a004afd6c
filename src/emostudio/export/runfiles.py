"""The run folders an export reads from and writes into, through `emostudio.runs` (the only module that knows
run folders): finding and listing runs, reading a run's result.json, listing exported files in it, and naming
those files after the run's audio."""

from __future__ import annotations

import os
from pathlib import Path

from emostudio import runs
from emostudio.errors import printable
from emostudio.export.errors import ExportError
from emostudio.runs import AUDIO_FILE, RESULT_FILE


def find_run(spec: str | os.PathLike, runs_root: str | os.PathLike = "outputs") -> Path:
    """A run folder given as its path, or as its id (folder name) under `runs_root`."""
    found = runs.find_run(spec, runs_root)
    if found is None:
        raise ExportError(
            f"{printable(os.fspath(spec))}: not a run folder (no {RESULT_FILE}) and no run of that id under "
            f"{printable(runs_root)}"
        )
    return found.path


def list_runs(runs_root: str | os.PathLike) -> list[Path]:
    """Every complete run folder directly under `runs_root`, newest first."""
    if not Path(runs_root).is_dir():
        raise ExportError(f"{printable(runs_root)}: no such folder of runs")
    return [r.path for r in runs.list_runs(runs_root)]


def read_result(run_dir: Path) -> dict:
    """The run's result.json document (with `run_id` set to the folder's name when it has none)."""
    try:
        doc = runs.read_result(run_dir)
    except runs.RunReadError as e:
        raise ExportError(str(e)) from None
    if "audio" not in doc:
        raise ExportError(f"{printable(run_dir)}: {RESULT_FILE} is not a result of emostudio analyze")
    doc.setdefault("run_id", run_dir.name)
    return doc


def audio_file(run_dir: Path) -> Path:
    """The audio the run scored (processed_audio.wav)."""
    return run_dir / AUDIO_FILE


def file_name(fmt_suffix: str, stem: str | None = None) -> str:
    """An exported file's name in the run folder: the audio's name with the format's suffix, so Praat scripts,
    ELAN and players pair them (`processed_audio.TextGrid`), or `stem + suffix` elsewhere."""
    return (stem or Path(AUDIO_FILE).stem) + fmt_suffix


def record_files(run_dir: Path, files: dict[str, str]) -> None:
    """List exported files in the run's result.json `files` (rewritten atomically; other keys unchanged)."""
    try:
        runs.add_files(run_dir, files)
    except runs.RunReadError as e:
        raise ExportError(str(e)) from None
