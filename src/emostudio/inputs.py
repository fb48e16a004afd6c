"""What to analyse: a folder (recursive), a CSV / TSV / JSONL manifest, or a Kaldi `wav.scp` → InputItems.

Read by batch jobs (emostudio.batch), `similar` / `cluster` / the profile store (emostudio.clips) and the CLI.
A list that cannot be read raises `BatchError` (emostudio.errors) naming it.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

from emostudio.audio.types import AUDIO_EXTENSIONS
from emostudio.errors import BatchError, printable
from emostudio.records import InputItem

ALIASES = {
    "id": ("id", "key", "utt", "utt_id", "uttid"),
    "path": ("path", "source", "wav", "audio", "file", "filename"),
    "speaker": ("speaker", "spk", "speaker_id"),
    "time": ("time", "timestamp", "start_time"),
    "label": ("label", "emotion", "target", "ref_label"),
    "text": ("text", "transcript", "sentence"),
    "channels": ("channels", "channel_mode"),  # mix | separate (two-party calls: one row per channel)
    "roles": ("roles", "channel_roles"),  # e.g. agent,customer (implies separate)
    "speakers": ("speakers", "speaker_turns"),  # auto | N | off: who spoke when (one more row per speaker)
}


def _field(row: dict, name: str) -> str | None:
    for key in ALIASES[name]:
        value = row.get(key)
        if value is not None and str(value).strip() != "":
            return str(value).strip()
    return None


def _resolve(path: str, base: Path) -> str:
    p = Path(os.path.expanduser(path))
    return str(p if p.is_absolute() else base / p)


def _from_rows(rows: Iterator[tuple[int, dict]], manifest: Path) -> list[InputItem]:
    base = manifest.parent
    items = []
    for line, row in rows:
        path = _field(row, "path")
        if path is None:
            raise BatchError(
                f"{manifest}: line {line} has no path (expected a column named one of {', '.join(ALIASES['path'])})"
            )
        items.append(
            InputItem(
                _field(row, "id") or path,
                _resolve(path, base),
                _field(row, "speaker"),
                _field(row, "time"),
                _field(row, "label"),
                _field(row, "text"),
                _field(row, "channels"),
                _field(row, "roles"),
                _field(row, "speakers"),
            )
        )
    return items


def _read_csv(manifest: Path) -> list[InputItem]:
    with manifest.open(newline="", encoding="utf-8-sig") as f:
        dialect = "excel-tab" if manifest.suffix.lower() == ".tsv" else "excel"
        reader = csv.DictReader(f, dialect=dialect)
        cols = {c.strip().lower() for c in reader.fieldnames or []}
        if not cols & set(ALIASES["path"]):
            raise BatchError(
                f"{manifest}: no path column in the header {sorted(cols)} (expected one of "
                f"{', '.join(ALIASES['path'])})"
            )
        last = [1]  # the line of the last row read: a row that cannot be read is the next one

        def rows() -> Iterator[tuple[int, dict]]:
            for i, r in enumerate(reader):
                last[0] = i + 2
                yield i + 2, {(k or "").strip().lower(): v for k, v in r.items()}

        try:
            return _from_rows(rows(), manifest)
        except csv.Error as e:  # a field over the csv module's limit, a NUL byte: unreadable from this row on
            raise BatchError(f"{manifest}: line {last[0] + 1}: not readable as CSV ({e})") from None


def _read_jsonl(manifest: Path) -> list[InputItem]:
    def rows() -> Iterator[tuple[int, dict]]:
        with manifest.open(encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise BatchError(f"{manifest}: line {i} is not valid JSON ({e.msg})") from e
                except RecursionError:
                    raise BatchError(f"{manifest}: line {i} is not readable JSON (nested too deep)") from None
                if not isinstance(obj, dict):
                    raise BatchError(f"{manifest}: line {i} is not a JSON object")
                yield i, {k.lower(): v for k, v in obj.items()}

    return _from_rows(rows(), manifest)


def _read_scp(manifest: Path) -> list[InputItem]:
    """Kaldi / FunASR `wav.scp`: `<id> <path>` per line; piped commands (`... |`) are not supported."""
    items = []
    with manifest.open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(maxsplit=1)
            if len(parts) != 2:
                raise BatchError(f"{manifest}: line {i} should be '<id> <path>', got {line!r}")
            if parts[1].rstrip().endswith("|"):
                raise BatchError(
                    f"{manifest}: line {i} is a piped command; only plain file paths are supported"
                )
            items.append(InputItem(parts[0], _resolve(parts[1].strip(), manifest.parent)))
    return items


def audio_files(folder: Path) -> list[Path]:
    """Regular files with an audio/video extension below `folder` (recursive, sorted, hidden files skipped)."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith(".") and p.is_file()
    )


def load_inputs(source: str | os.PathLike) -> list[InputItem]:
    """Inputs of a job from a folder (recursive, audio extensions), a CSV / TSV / JSONL manifest, or a `wav.scp`.

    Manifest columns: path (or source/wav/audio/file), optional id (or key), speaker, time, label, text,
    channels (mix | separate) and roles (e.g. "agent,customer": each channel of a two-party call is scored as
    its own speaker, one more row per channel); relative paths are taken from the manifest's folder. Ids must be
    unique. Raises BatchError.
    """
    src = Path(source)
    shown = printable(src)
    try:
        is_dir, exists = src.is_dir(), src.exists()
    except OSError as e:
        raise BatchError(f"{shown}: cannot be read ({e.strerror or e})") from None
    if is_dir:
        items = [InputItem(p.relative_to(src).as_posix(), str(p)) for p in audio_files(src)]
        if not items:
            raise BatchError(
                f"{shown}: no audio files found (extensions: {', '.join(sorted(AUDIO_EXTENSIONS))})"
            )
    elif not exists:
        raise BatchError(f"{shown}: no such folder or manifest")
    else:
        suffix = src.suffix.lower()
        try:
            if suffix in (".csv", ".tsv"):
                items = _read_csv(src)
            elif suffix in (".jsonl", ".json", ".ndjson"):
                items = _read_jsonl(src)
            elif suffix == ".scp" or src.name.endswith("wav.scp"):
                items = _read_scp(src)
            else:
                raise BatchError(f"{shown}: not a folder or a manifest (.csv, .tsv, .jsonl, wav.scp)")
        except UnicodeDecodeError as e:
            raise BatchError(
                f"{shown}: the manifest is not UTF-8 text ({e.reason} at byte {e.start})"
            ) from None
        except OSError as e:
            raise BatchError(f"{shown}: the manifest cannot be read ({e.strerror or e})") from None
        if not items:
            raise BatchError(f"{shown}: the manifest lists no inputs")
    seen: set[str] = set()
    for it in items:
        if it.id in seen:
            raise BatchError(f"{shown}: id {it.id!r} appears more than once; ids must be unique")
        seen.add(it.id)
    return items
