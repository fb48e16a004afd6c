"""The run folders an export reads from and writes into: finding a run, reading its result.json, listing an
exported file in it. The one place in the export package that knows the run folder (to point at emostudio.runs
once the core has it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from emostudio import atomic
from emostudio.errors import printable
from emostudio.export.errors import ExportError
from emostudio.results import AUDIO_FILE, RESULT_FILE


def is_run(folder: Path) -> bool:
    return (folder / RESULT_FILE).is_file()


def find_run(spec: str | os.PathLike, runs_root: str | os.PathLike = "outputs") -> Path:
    """A run folder given as its path, or as its id (folder name) under `runs_root`."""
    path = Path(spec)
    if is_run(path):
        return path
    name = os.fspath(spec)
    if name and "/" not in name and os.sep not in name and name not in (".", ".."):
        candidate = Path(runs_root) / name
        if is_run(candidate):
            return candidate
    raise ExportError(
        f"{printable(name)}: not a run folder (no {RESULT_FILE}) and no run of that id under {printable(runs_root)}"
    )


def list_runs(runs_root: str | os.PathLike) -> list[Path]:
    """Every finished run folder directly under `runs_root`, by name (= by time)."""
    root = Path(runs_root)
    if not root.is_dir():
        raise ExportError(f"{printable(root)}: no such folder of runs")
    return sorted(p for p in root.iterdir() if p.is_dir() and is_run(p))


def read_result(run_dir: Path) -> dict:
    """The run's result.json document (with `run_id` set to the folder's name when it has none)."""
    try:
        doc = json.loads((run_dir / RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ExportError(f"{printable(run_dir)}: {RESULT_FILE} cannot be read ({e})") from None
    if not isinstance(doc, dict) or "audio" not in doc:
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
    path = run_dir / RESULT_FILE
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.setdefault("files", {}).update(files)
    atomic.write_json(path, doc)
