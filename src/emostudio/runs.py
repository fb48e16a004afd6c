"""Run folders: the one module that knows how results lie on disk — names, ids, files, reading, saving, zips.

One analysis (like the seed WebUI):
    outputs/outputs_YYYYMMDD_HHMMSS[_N]/
        processed_audio.wav   16 kHz mono 16-bit PCM (the enhanced audio when enhancement was on)
        result.json           written last: its presence marks a complete run
        frames.csv            frame mode only: one row per step, start/end seconds and the 9 scores
        embedding.npy         when asked: (dim,) utterance or (frames, dim) frame mode, float32
        frames_chN.csv, embedding_chN.npy   channels="separate": each speaker channel's own (N 0-based)
        turns.rttm            speakers=: the speaker turns (NIST RTTM; with channels="separate" every channel's,
                              its speakers named `<role>-spkN`)
        frames_spkN.csv       speakers= in frame mode: the timeline's rows inside speaker spkN's turns
        frames_chC_spkN.csv   the same within channel C (channels="separate" with speakers=)
One evaluation: evaluations/eval_YYYYMMDD_HHMMSS[_N]/ (its files: emostudio.evaluate.report).
One batch job folder: part-NNNNN.parquet (+ embeddings-NNNNN.npy, frames-NNNNN.parquet); a job replaced with
--force moves into previous-YYYYMMDD-HHMMSS[-N]/ (the shards themselves: emostudio.batch.shards).

Every file is written atomically (temp file + rename); a run folder is written whole as a hidden temporary sibling
and renamed onto a free name in one step, so it is never reused, overwritten or half there.
"""

from __future__ import annotations

import contextlib
import errno
import io
import itertools
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from emostudio import atomic
from emostudio.audio import write_wav
from emostudio.errors import EmoStudioError, OutputError, printable
from emostudio.model.labels import KEYS
from emostudio.records import SAMPLE_RATE
from emostudio.settings import MAX_CHANNELS, MAX_SPEAKERS

# ---- names ---------------------------------------------------------------------------------------------------
RUN_PREFIX = "outputs"  # outputs_YYYYMMDD_HHMMSS[_N]: one analysis
REPORT_PREFIX = "eval"  # eval_YYYYMMDD_HHMMSS[_N]: one evaluation report
ARCHIVE_PREFIX = "previous"  # previous-YYYYMMDD-HHMMSS[-N]: a batch job's earlier results (--force)
RESULT_FILE = "result.json"
AUDIO_FILE = "processed_audio.wav"
FRAMES_FILE = "frames.csv"
EMBEDDING_FILE = "embedding.npy"
TURNS_FILE = "turns.rttm"
PART_RE = re.compile(r"^part-(\d{5,})\.parquet$")  # a committed batch shard
COMPANION_RE = re.compile(r"^(embeddings|frames)-(\d{5,})\.(npy|parquet)$")  # a shard's embeddings / frames
SCORE_COLUMNS = tuple(f"score_{k}" for k in KEYS)  # the 9 scores as table columns (batch rows, predictions)


def id_pattern(prefix: str) -> re.Pattern[str]:
    """The id of a folder named `<prefix>_YYYYMMDD_HHMMSS[_N]` (the one pattern for runs and evaluations)."""
    return re.compile(rf"^{re.escape(prefix)}_\d{{8}}_\d{{6}}(_\d+)?$")


RUN_ID = id_pattern(RUN_PREFIX)
REPORT_ID = id_pattern(REPORT_PREFIX)


def channel_frames_file(index: int) -> str:
    """frames.csv of one channel of a channels="separate" run: frames_ch0.csv, frames_ch1.csv, ..."""
    return f"frames_ch{index}.csv"


def channel_embedding_file(index: int) -> str:
    """embedding.npy of one channel of a channels="separate" run: embedding_ch0.npy, ..."""
    return f"embedding_ch{index}.npy"


def speaker_frames_file(speaker: str, channel: int | None = None) -> str:
    """frames.csv of one speaker of a speakers= run in frame mode: frames_spk0.csv, frames_spk1.csv, ...; of a
    speaker within channel `channel` of a channels="separate" run: frames_ch0_spk0.csv, ..."""
    return f"frames_{speaker}.csv" if channel is None else f"frames_ch{channel}_{speaker}.csv"


def part_files(index: int) -> tuple[str, str, str]:
    """A batch shard's files: (part-NNNNN.parquet, embeddings-NNNNN.npy, frames-NNNNN.parquet)."""
    name = f"{index:05d}"
    return f"part-{name}.parquet", f"embeddings-{name}.npy", f"frames-{name}.parquet"


# annotation exports written into a run folder (emostudio.export: named after the audio; RTTM after the turns)
EXPORT_DOWNLOADS: dict[str, str] = {
    "processed_audio.TextGrid": "text/plain; charset=utf-8",
    "processed_audio.eaf": "application/xml",
    "processed_audio.vtt": "text/vtt; charset=utf-8",
    "processed_audio.srt": "application/x-subrip",
    TURNS_FILE: "text/plain; charset=utf-8",
}
# files of a run folder that may be downloaded, name -> media type (per-channel files for up to MAX_CHANNELS)
DOWNLOADS: dict[str, str] = {
    RESULT_FILE: "application/json",
    AUDIO_FILE: "audio/wav",
    FRAMES_FILE: "text/csv",
    EMBEDDING_FILE: "application/octet-stream",
    **{channel_frames_file(i): "text/csv" for i in range(MAX_CHANNELS)},
    **{channel_embedding_file(i): "application/octet-stream" for i in range(MAX_CHANNELS)},
    **{speaker_frames_file(f"spk{i}"): "text/csv" for i in range(MAX_SPEAKERS)},
    **{
        speaker_frames_file(f"spk{i}", c): "text/csv"
        for c in range(MAX_CHANNELS)
        for i in range(MAX_SPEAKERS)
    },
    **EXPORT_DOWNLOADS,
}


def sort_key(folder_id: str) -> tuple[str, int]:
    """Chronological order of ids: `outputs_20240101_120000` < `..._2` < `..._10` (also eval_ ids)."""
    parts = folder_id.split("_")
    return "_".join(parts[:3]), int(parts[3]) if len(parts) == 4 else 1


# ---- new folders ---------------------------------------------------------------------------------------------
def folder_names(root: Path, prefix: str, now: datetime | None = None) -> Iterator[Path]:
    """`<prefix>_YYYYMMDD_HHMMSS`, then `…_2`, `…_3`, … under `root`: the names a new folder may take, in order."""
    stem = f"{prefix}_{(now or datetime.now()).strftime('%Y%m%d_%H%M%S')}"
    yield root / stem
    for n in itertools.count(2):
        yield root / f"{stem}_{n}"


def new_folder(root: str | os.PathLike, prefix: str, now: datetime | None = None) -> Path:
    """Create and return a fresh `<prefix>_YYYYMMDD_HHMMSS[_N]` folder under `root`; never reuses one.

    `os.mkdir` is atomic, so two processes starting in the same second still get two folders.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for path in folder_names(root, prefix, now):
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise AssertionError("unreachable: folder_names never ends")


def new_run_dir(root: str | os.PathLike, now: datetime | None = None) -> Path:
    """A fresh, empty `outputs_YYYYMMDD_HHMMSS[_N]` folder under `root`."""
    return new_folder(root, RUN_PREFIX, now)


def new_report_dir(root: str | os.PathLike, now: datetime | None = None) -> Path:
    """A fresh, empty `eval_YYYYMMDD_HHMMSS[_N]` folder under `root`."""
    return new_folder(root, REPORT_PREFIX, now)


def new_archive_dir(root: str | os.PathLike) -> Path:
    """A fresh, empty `previous-YYYYMMDD-HHMMSS[-N]` folder under `root` (a batch job's earlier results)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    n = 1
    while True:
        target = Path(root) / (f"{ARCHIVE_PREFIX}-{stamp}" if n == 1 else f"{ARCHIVE_PREFIX}-{stamp}-{n}")
        try:
            target.mkdir()
            return target
        except FileExistsError:
            n += 1


def check_output_root(root: str | os.PathLike) -> Path:
    """Make sure run folders can be written under `root` (created if missing) before any work is done.

    Raises OutputError saying why not: a file in the way, no permission, a read-only file system, ...
    """
    path = Path(root)
    shown = printable(root)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{shown}: cannot write results there (it is a file, not a folder)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except FileExistsError:
        raise OutputError(f"{shown}: cannot write results there (a part of the path is a file)") from None
    except OSError as e:
        known: dict[int | None, str] = {
            errno.EACCES: "permission denied",
            errno.EROFS: "read-only file system",
        }
        why = known.get(e.errno, e.strerror or str(e))
        raise OutputError(f"{shown}: cannot write results there ({why})") from None
    return path


# ---- writing a run --------------------------------------------------------------------------------------------
def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """float32 .npy written straight to the (atomic) file: no in-memory copy of a large array (an hour of
    frame embeddings is 0.7 GB)."""
    with atomic.atomic_open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)


@dataclass
class RunContent:
    """Everything one run folder holds: result.json's document and the files beside it.

    `files` maps a key of result.json's `files` to (file name, content), written in this order: text is
    written as is (CSV), an array as float32 .npy.
    """

    doc: dict[str, Any]
    audio: np.ndarray | None = None  # processed_audio.wav, (samples,) float32 at `sample_rate`
    files: dict[str, tuple[str, str | np.ndarray]] | None = None
    sample_rate: int = SAMPLE_RATE


def write_files(content: RunContent, run_dir: Path) -> dict[str, str]:
    """Write every file of a run but result.json into `run_dir`; returns result.json's `files` (key → name)."""
    files: dict[str, str] = {"result": RESULT_FILE}
    if content.audio is not None:
        write_wav(run_dir / AUDIO_FILE, content.audio, content.sample_rate)
        files["processed_audio"] = AUDIO_FILE
    for key, (name, data) in (content.files or {}).items():
        if isinstance(data, str):
            atomic.write_text(run_dir / name, data)
        else:
            save_npy(run_dir / name, data)
        files[key] = name
    return files


def save_run(root: str | os.PathLike, content: RunContent) -> Path:
    """Write a new run folder under `root` whole or not at all; returns it.

    Every file, result.json included, is written into a hidden temporary sibling, which is then renamed onto a
    free `outputs_YYYYMMDD_HHMMSS[_N]` name in one step. A rename onto a name another run took meanwhile fails
    (a run folder is never empty), so result.json gets the next name and the rename is tried again. Nothing is
    claimed before the rename: stopped anywhere (Ctrl-C, disk full, no permission), no folder without its
    result.json is left; on an error the temporary folder is removed and the error raised.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tmp: Path | None = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{RUN_PREFIX}.", suffix=".tmp", dir=root))
        files = write_files(content, tmp)
        for run_dir in folder_names(root, RUN_PREFIX):
            if run_dir.exists():
                continue
            atomic.write_json(tmp / RESULT_FILE, {**content.doc, "files": files, "run_id": run_dir.name})
            try:
                os.rename(tmp, run_dir)
                return run_dir
            except OSError as e:  # taken between the check and the rename: the next name
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    raise AssertionError("unreachable: folder_names never ends")


# ---- reading runs -----------------------------------------------------------------------------------------------
class RunReadError(EmoStudioError):
    """A run folder's result.json is missing, unreadable or not a JSON object; `problem` says which."""

    code = "bad_run"

    def __init__(self, folder: str | os.PathLike, problem: str):
        self.folder, self.problem = str(folder), problem
        super().__init__(f"{printable(folder)}: {problem}")


def read_result(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The result.json document of a run folder. Raises RunReadError naming the folder and the problem."""
    path = Path(run_dir) / RESULT_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RunReadError(run_dir, f"unreadable {RESULT_FILE} ({e})") from e
    if not isinstance(doc, dict):
        raise RunReadError(run_dir, f"{RESULT_FILE} is not a JSON object")
    return doc


def rewrite_result(run_dir: str | os.PathLike, **changes: Any) -> Path:
    """Set top-level keys of a run's result.json (e.g. `text=` a transcript's block), atomically; every other key
    stays as it was. Returns the path."""
    doc = read_result(run_dir)
    doc.update(changes)
    path = Path(run_dir) / RESULT_FILE
    atomic.write_json(path, doc)
    return path


def add_files(run_dir: str | os.PathLike, files: dict[str, str]) -> Path:
    """List more files of the run folder (key → file name, e.g. exports) in its result.json `files`, atomically;
    the other keys stay as they were. Returns the path."""
    listed = read_result(run_dir).get("files")
    return rewrite_result(run_dir, files={**(listed if isinstance(listed, dict) else {}), **files})


def is_run(folder: str | os.PathLike) -> bool:
    """Whether `folder` holds a complete run (its result.json, written last, is there)."""
    return (Path(folder) / RESULT_FILE).is_file()


@dataclass(frozen=True)
class RunFolder:
    """A complete run folder: its id (the folder's name) and path."""

    id: str
    path: Path

    def result(self) -> dict[str, Any]:
        """Its result.json document (RunReadError when unreadable)."""
        return read_result(self.path)

    def files(self) -> list[str]:
        """The downloadable files it holds, in DOWNLOADS order."""
        return [n for n in DOWNLOADS if (self.path / n).is_file()]

    def file(self, name: str) -> Path | None:
        """The path of downloadable file `name`, or None when it is not a run file or the run lacks it."""
        path = self.path / name
        return path if name in DOWNLOADS and path.is_file() else None


def run_folder(root: str | os.PathLike, run_id: object) -> RunFolder | None:
    """Run `run_id` under `root`, or None when the id is malformed, points outside `root` or is not complete."""
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        return None
    base = Path(root).resolve()
    path = (base / run_id).resolve()
    if path.parent != base or not is_run(path):
        return None
    return RunFolder(run_id, path)


def find_run(spec: str | os.PathLike, root: str | os.PathLike) -> RunFolder | None:
    """A complete run given as its folder's path, or as its id under `root`; None when it is neither."""
    path = Path(spec)
    if is_run(path):
        return RunFolder(path.name, path)
    return run_folder(root, os.fspath(spec))


def list_runs(root: str | os.PathLike) -> list[RunFolder]:
    """The complete runs directly under `root`, newest first (folders without result.json are skipped)."""
    base = Path(root)
    if not base.is_dir():
        return []
    found = [RunFolder(p.name, p) for p in base.iterdir() if RUN_ID.match(p.name) and is_run(p)]
    return sorted(found, key=lambda r: sort_key(r.id), reverse=True)


LEFTOVER_MIN_AGE_S = 60.0  # younger leftovers may belong to a writer that is still running


def leftovers(root: str | os.PathLike, min_age_s: float = LEFTOVER_MIN_AGE_S) -> list[Path]:
    """What writers killed mid-run left directly under `root`: hidden `.outputs_…*.tmp` folders (a run being
    written) and empty claimed run folders, untouched for `min_age_s` seconds. Never a complete run."""
    base = Path(root)
    if not base.is_dir():
        return []
    now, found = time.time(), []
    for p in base.iterdir():
        try:
            if not p.is_dir() or p.is_symlink() or now - p.stat().st_mtime < min_age_s:
                continue
            temp = p.name.startswith(f".{RUN_PREFIX}_") and p.name.endswith(".tmp")
            claimed = RUN_ID.match(p.name) is not None and not is_run(p) and not any(p.iterdir())
        except OSError:  # gone meanwhile, or unreadable: not ours to judge
            continue
        if temp or claimed:
            found.append(p)
    return found


def clean_leftovers(root: str | os.PathLike, min_age_s: float = LEFTOVER_MIN_AGE_S) -> list[Path]:
    """Remove `leftovers(root)` (see there); returns what was removed. A server does this when it starts."""
    removed = []
    for p in leftovers(root, min_age_s):
        if p.name.endswith(".tmp"):
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):  # rmdir: only ever an empty folder
                p.rmdir()
        if not p.exists():
            removed.append(p)
    return removed


def run_files(doc: dict[str, Any]) -> dict[str, str]:
    """The download list of a result.json document: its `files` (key → name) that may be downloaded."""
    return {key: name for key, name in (doc.get("files") or {}).items() if name in DOWNLOADS}


def zip_run(run_dir: str | os.PathLike) -> bytes:
    """The run folder's downloadable files as a zip archive in memory (`<run id>/<file>` inside)."""
    folder = Path(run_dir)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in DOWNLOADS:
            if (folder / name).is_file():
                zf.write(folder / name, f"{folder.name}/{name}")
    return buf.getvalue()


def write_zip(run_dir: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """`zip_run` written to `dest` (atomically); returns its path."""
    atomic.write_bytes(dest, zip_run(run_dir))
    return Path(dest)
