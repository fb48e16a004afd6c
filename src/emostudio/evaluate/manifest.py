"""A labelled test set: a CSV / JSONL manifest or a folder of label sub-folders → items with one of the 9 keys.

Columns (CSV header or JSONL keys, any case; the same names `emostudio batch` reads): path (or source, wav,
audio, file, filename), label (or emotion, target, ref_label), optional id (or key, utt, utt_id), speaker (or
spk, speaker_id), text (or transcript, sentence) and start_s / end_s (or start / end: seconds; the item is that
stretch of the file). Relative paths are taken from the manifest's folder (or `audio_root`). A `.json` file may
also hold a JSON array of such rows, or be a Label Studio JSON export (emostudio.evaluate.labelstudio).
A folder is read as `ROOT/<label>/**/<audio file>`: the first sub-folder under ROOT names the label; a folder
holding .TextGrid / .eaf files is read as audio files annotated by intervals (emostudio.evaluate.annotations).

With `custom_labels=True` (what `emostudio adapt` reads), a label that names none of the 9 classes is kept as
the user's own class (`emostudio.model.labels.custom_label`: NFKC, trimmed, lower-cased) instead of being a bad row;
names and synonyms of the 9 classes still map to their keys.

A row that cannot be used (no path, an unknown label, a duplicate id, a line that is not JSON, a path outside
the allowed folders) becomes a `BadRow` naming its line; every other row is still evaluated. Only a manifest
that cannot be read at all raises `ManifestError`: also one listing more than `max_rows` rows
(settings.MAX_MANIFEST_ROWS), a CSV field longer than Python's csv limit (131,072 characters), a JSON document nested too
deep to read (each naming the file, and the line where there is one).

CSV follows RFC 4180 (doubled quotes inside quoted fields, quoted commas and line breaks); only the delimiter
(`,` `;` or a tab) is guessed from the header line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emostudio.audio.types import AUDIO_EXTENSIONS
from emostudio.evaluate.annotations import from_annotated_folder, inside, is_annotated_folder
from emostudio.evaluate.items import (
    BadAnnotationError,
    BadRow,
    EvaluationError,
    LabelledItem,
    ManifestError,
    PastEndError,
    cut_id,
    span_text,
)
from emostudio.evaluate.labelstudio import from_labelstudio, is_labelstudio_export, looks_like_json_min
from emostudio.model.labels import KEYS, label_or_custom, normalise_label
from emostudio.settings import MAX_MANIFEST_ROWS

__all__ = [
    "CLASS_MODES",
    "COLUMNS",
    "FOUR_CLASSES",
    "BadAnnotationError",
    "BadRow",
    "EvaluationError",
    "LabelledItem",
    "Manifest",
    "ManifestError",
    "PastEndError",
    "fingerprint",
    "load_manifest",
]

FOUR_CLASSES: tuple[str, ...] = ("angry", "happy", "neutral", "sad")  # EmoBox's 4-class subset
CLASS_MODES: dict[str, tuple[str, ...]] = {"all": KEYS, "4": FOUR_CLASSES}

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "key", "utt", "utt_id", "uttid"),
    "path": ("path", "source", "wav", "audio", "file", "filename"),
    "label": ("label", "emotion", "target", "ref_label"),
    "speaker": ("speaker", "spk", "speaker_id"),
    "text": ("text", "transcript", "sentence"),
    "start_s": ("start_s", "start", "begin_s", "begin"),
    "end_s": ("end_s", "end", "stop_s", "stop"),
}


@dataclass
class Manifest:
    """What a manifest holds: usable items, bad rows, and rows left out by the class subset."""

    source: str
    kind: str  # "csv" | "jsonl" | "json" | "folder" | "annotations" | "labelstudio"
    classes: str  # "all" | "4"
    items: list[LabelledItem]
    bad: list[BadRow]
    excluded: list[LabelledItem] = field(default_factory=list)  # labels outside the class subset
    fingerprint: str = ""  # sha256 of the sorted (id, label) pairs of every row: same test set ⇔ same value
    rows: int = 0

    @property
    def class_keys(self) -> tuple[str, ...]:
        return CLASS_MODES[self.classes]

    def summary(self) -> dict:
        return {
            "source": self.source,
            "kind": self.kind,
            "fingerprint": self.fingerprint,
            "rows": self.rows,
            "usable": len(self.items),
            "bad_rows": len(self.bad),
            "excluded": len(self.excluded),
            "excluded_labels": sorted({it.label for it in self.excluded}),
        }


def _field(row: dict, name: str) -> str | None:
    for key in COLUMNS[name]:
        value = row.get(key)
        if value is not None and str(value).strip() != "":
            return str(value).strip()
    return None


def _decode(data: bytes, source: Path) -> str:
    """Manifest text: UTF-8 (with or without BOM), else GB18030 (GBK files saved by Excel on Chinese Windows)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ManifestError(f"{source}: not a text file in UTF-8 or GBK/GB18030")


def _delimiter(header: str, source: Path) -> str:
    """The delimiter of a CSV manifest, guessed from its header line only (quoting stays RFC 4180's)."""
    if source.suffix.lower() == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(header or ",", delimiters=",\t;").delimiter
    except csv.Error:
        return ","


def _csv_rows(text: str, source: Path) -> Iterator[tuple[int, dict | BadRow]]:
    header = text[: text.find("\n")] if "\n" in text[:65536] else text[:65536]
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(header, source))
    last = 0  # the physical line the last row read ended on: a row that cannot be read starts after it
    try:
        cols = {(c or "").strip().lower() for c in reader.fieldnames or []}
        for name in ("path", "label"):
            if not cols & set(COLUMNS[name]):
                raise ManifestError(
                    f"{source}: no {name} column in the header {sorted(cols)} (name one of "
                    f"{', '.join(COLUMNS[name])})"
                )
        last = reader.line_num
        for row in reader:
            # line_num is the physical line the row ended on (a quoted field may span lines)
            last = reader.line_num
            yield last, {(k or "").strip().lower(): v for k, v in row.items() if k is not None}
    except csv.Error as e:  # a field over the limit, a NUL byte, ...: the file cannot be read past this row
        if "field larger than field limit" in str(e):
            raise ManifestError(
                f"{source}: line {last + 1}: a field longer than {csv.field_size_limit():,} characters "
                "(the limit)"
            ) from None
        raise ManifestError(f"{source}: line {last + 1}: not readable as CSV ({e})") from None


def _json_line(line: str) -> Any:
    """One JSON value; RecursionError (nesting deeper than Python's parser goes) becomes a ValueError."""
    try:
        return json.loads(line)
    except RecursionError:
        raise ValueError("nested too deep") from None


def _jsonl_rows(text: str, source: Path) -> Iterator[tuple[int, dict | BadRow]]:
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = _json_line(line)
        except json.JSONDecodeError as e:
            yield i, BadRow(f"line {i}", "bad_json", f"{source.name} line {i}: not valid JSON ({e.msg})")
            continue
        except ValueError as e:
            yield i, BadRow(f"line {i}", "bad_json", f"{source.name} line {i}: not readable JSON ({e})")
            continue
        if not isinstance(obj, dict):
            yield i, BadRow(f"line {i}", "bad_json", f"{source.name} line {i}: not a JSON object")
            continue
        yield i, {str(k).lower(): v for k, v in obj.items()}


def _json_rows(text: str, source: Path) -> Iterator[tuple[int, dict | BadRow]]:
    """A JSON array of row objects (`[{"path": …, "label": …}, …]`): item N is row N."""
    for i, obj in enumerate(_json_line(text), 1):  # an array: checked by the caller
        if not isinstance(obj, dict):
            yield i, BadRow(f"item {i}", "bad_json", f"{source.name} item {i}: not a JSON object")
            continue
        yield i, {str(k).lower(): v for k, v in obj.items()}


def _range(row: dict, ref: str) -> tuple[float, float] | str | None:
    """(start_s, end_s) of a row that cuts its item out of a longer file, None for a whole file, or the problem."""
    start, end = _field(row, "start_s"), _field(row, "end_s")
    if start is None and end is None:
        return None
    if start is None or end is None:
        return f"{ref}: give both start_s and end_s (or neither, for the whole file)"
    try:
        a, b = float(start), float(end)
    except ValueError:
        return f"{ref}: start_s {start!r} and end_s {end!r} must be numbers of seconds"
    if not (math.isfinite(a) and math.isfinite(b)) or a < 0 or b <= a:
        return f"{ref}: {span_text(a, b)} is not a stretch of audio (0 ≤ start_s < end_s)"
    return a, b


def _row_item(
    line: int,
    row: dict,
    base: Path,
    roots: Sequence[Path] | None,
    source: Path,
    unit: str = "line",
    custom: bool = False,
) -> LabelledItem | BadRow:
    where = f"{unit} {line}"
    ref = f"{source.name} {where}"
    path, raw = _field(row, "path"), _field(row, "label")
    if path is None:
        return BadRow(where, "missing_path", f"{ref}: no path", _field(row, "id"))
    cut = _range(row, ref)
    rid = _field(row, "id") or (cut_id(path, *cut) if isinstance(cut, tuple) else path)
    full = Path(os.path.expanduser(path))
    full = full if full.is_absolute() else base / full
    if not inside(full, roots):
        return BadRow(where, "outside_root", f"{ref}: {path} is outside the allowed folders", rid, path)
    if isinstance(cut, str):
        return BadRow(where, "bad_range", cut, rid, str(full))
    if raw is None:
        return BadRow(where, "missing_label", f"{ref}: no label for {path}", rid, str(full))
    try:
        key = label_or_custom(raw) if custom else normalise_label(raw)
    except ValueError as e:
        return BadRow(where, "unknown_label", f"{ref}: {e}", rid, str(full))
    start, end = cut if cut is not None else (None, None)
    return LabelledItem(
        rid, str(full), key, where, raw, _field(row, "speaker"), _field(row, "text"), ref, path, start, end
    )


def _from_folder(
    root: Path, roots: Sequence[Path] | None, custom: bool = False
) -> tuple[list[LabelledItem | BadRow], int]:
    out: list[LabelledItem | BadRow] = []
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    for p in files:
        rel = p.relative_to(root).as_posix()
        if not inside(p, roots):
            out.append(BadRow(rel, "outside_root", f"{root}: {rel} links outside the allowed folders", rel))
            continue
        if "/" not in rel:
            out.append(
                BadRow(
                    rel,
                    "missing_label",
                    f"{root}: {rel} is not inside a label folder (ROOT/<label>/file)",
                    rel,
                    str(p),
                )
            )
            continue
        folder = rel.split("/", 1)[0]
        try:
            key = label_or_custom(folder) if custom else normalise_label(folder)
        except ValueError as e:
            out.append(BadRow(rel, "unknown_label", f"{root}: {rel}: folder {folder!r}: {e}", rel, str(p)))
            continue
        out.append(LabelledItem(rel, str(p), key, rel, folder, display=rel))
    return out, len(files)


def fingerprint(rows: Sequence[tuple[str, str]]) -> str:
    """sha256 (hex) of the sorted `id<TAB>label` lines of a test set."""
    h = hashlib.sha256()
    for rid, label in sorted(rows):
        h.update(f"{rid}\t{label}\n".encode())
    return h.hexdigest()


def too_many_rows(src: Path, max_rows: int) -> str:
    return (
        f"{src}: lists more than {max_rows:,} rows, the limit (settings.MAX_MANIFEST_ROWS, max_rows=); "
        "split the test set"
    )


def _file_rows(
    src: Path,
    roots: Sequence[Path] | None,
    audio_root: str | os.PathLike | None,
    custom: bool = False,
    max_rows: int = MAX_MANIFEST_ROWS,
) -> tuple[str, list[LabelledItem | BadRow]]:
    """(kind, rows) of a manifest file: CSV/TSV, JSONL, a JSON array of rows, or a Label Studio JSON export."""
    suffix = src.suffix.lower()
    if suffix not in (".csv", ".tsv", ".txt", ".jsonl", ".json", ".ndjson"):
        raise ManifestError(
            f"{src}: not a manifest (.csv, .tsv, .jsonl, a Label Studio .json export) or a folder of label "
            "folders / annotated audio"
        )
    text = _decode(src.read_bytes(), src)
    base = Path(audio_root) if audio_root is not None else src.parent
    kind, unit = ("csv", "line") if suffix in (".csv", ".tsv", ".txt") else ("jsonl", "line")
    reader = _csv_rows if kind == "csv" else _jsonl_rows
    if kind == "jsonl" and text.lstrip().startswith("["):  # one JSON document, not one object per line
        try:
            doc = _json_line(text)
        except json.JSONDecodeError as e:
            raise ManifestError(
                f"{src}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"
            ) from None
        except ValueError as e:
            raise ManifestError(f"{src}: not readable JSON ({e})") from None
        if is_labelstudio_export(doc):
            return "labelstudio", list(from_labelstudio(doc, src, base, roots, custom))
        if looks_like_json_min(doc):
            raise ManifestError(
                f"{src}: a Label Studio JSON-MIN export; export the project as JSON (the full format, with "
                "region times and ids) instead"
            )
        kind, unit, reader = "json", "item", _json_rows
    rows: list[LabelledItem | BadRow] = []
    for line, fields in reader(text, src):
        if len(rows) == max_rows:
            raise ManifestError(too_many_rows(src, max_rows))
        rows.append(
            fields if isinstance(fields, BadRow) else _row_item(line, fields, base, roots, src, unit, custom)
        )
    return kind, rows


def load_manifest(
    source: str | os.PathLike,
    classes: str = "all",
    allowed_roots: Sequence[str | os.PathLike] | None = None,
    *,
    tier: str | None = None,
    audio_root: str | os.PathLike | None = None,
    custom_labels: bool = False,
    max_rows: int = MAX_MANIFEST_ROWS,
) -> Manifest:
    """Read a labelled test set: a CSV/TSV/JSONL manifest (optional start_s/end_s columns cut items out of long
    files), a Label Studio JSON export, a folder of label sub-folders, or a folder of audio files each with a
    same-named .TextGrid / .eaf (every labelled interval of `tier` is an item; see emostudio.evaluate.annotations).

    `classes="4"` keeps only rows labelled angry/happy/neutral/sad (the others go to `excluded`).
    `allowed_roots`: when given, a row whose file resolves (symlinks followed) outside them is a bad row.
    `tier`: the annotation tier to read (default: the first whose labels are emotions).
    `audio_root`: where relative audio paths are looked for (default: the manifest's folder).
    `custom_labels`: keep labels that name none of the 9 classes as custom classes (with `classes="all"` only:
    `classes="4"` keeps the 4 emotion classes, so custom rows are left out as `excluded`).
    `max_rows`: a test set listing more rows (lines, audio files, intervals) is refused (ManifestError).
    Raises ManifestError when the manifest itself cannot be read.
    """
    if classes not in CLASS_MODES:
        raise EvaluationError(f"classes must be one of {', '.join(CLASS_MODES)}, not {classes!r}")
    src = Path(source)
    roots = [Path(os.path.realpath(r)) for r in allowed_roots] if allowed_roots is not None else None
    kind, rows, count = _rows(src, roots, tier, audio_root, custom_labels, max_rows)
    items, bad = _unique(src, rows)
    keep = CLASS_MODES[classes]
    keep_custom = custom_labels and classes == "all"  # custom classes are kept only with every class kept
    fp = fingerprint(
        [(r.id, r.label) if isinstance(r, LabelledItem) else (r.id or r.where, r.code) for r in rows]
    )
    return Manifest(
        str(source),
        kind,
        classes,
        [it for it in items if it.label in keep or keep_custom],
        bad,
        [it for it in items if not (it.label in keep or keep_custom)],
        fp,
        count,
    )


def _rows(
    src: Path,
    roots: Sequence[Path] | None,
    tier: str | None,
    audio_root: str | os.PathLike | None,
    custom_labels: bool,
    max_rows: int = MAX_MANIFEST_ROWS,
) -> tuple[str, list[LabelledItem | BadRow], int]:
    """(kind, items and bad rows in order, rows counted) of whatever `src` is; ManifestError when it holds none."""
    rows: list[LabelledItem | BadRow]
    if src.is_dir() and is_annotated_folder(src):
        kind = "annotations"
        rows, audio_files = from_annotated_folder(src, roots, tier, custom_labels)
        if audio_files == 0:
            raise ManifestError(f"{src}: no audio files next to its .TextGrid / .eaf files")
        count = len(rows)
    elif src.is_dir():
        kind = "folder"
        rows, count = _from_folder(src, roots, custom_labels)
        if count == 0:
            raise ManifestError(
                f"{src}: no audio files found (expected ROOT/<label>/<file> with one of "
                f"{', '.join(sorted(AUDIO_EXTENSIONS))})"
            )
    elif not src.is_file():
        raise ManifestError(f"{src}: no such manifest or folder")
    else:
        kind, rows = _file_rows(src, roots, audio_root, custom_labels, max_rows)
        count = len(rows)
        if count == 0:
            raise ManifestError(f"{src}: the manifest lists no rows")
    if count > max_rows:  # folders and annotated audio: counted once found
        raise ManifestError(too_many_rows(src, max_rows))
    return kind, rows, count


def _unique(src: Path, rows: list[LabelledItem | BadRow]) -> tuple[list[LabelledItem], list[BadRow]]:
    """The items, each id once, and the bad rows (a repeated id makes its later row a bad row)."""
    items: list[LabelledItem] = []
    bad: list[BadRow] = []
    seen: dict[str, str] = {}
    for row in rows:
        if isinstance(row, BadRow):
            bad.append(row)
        elif row.id in seen:
            bad.append(
                BadRow(
                    row.where,
                    "duplicate_id",
                    f"{src}: {row.where}: id {row.id!r} already used on {seen[row.id]}; ids must be unique",
                    row.id,
                    row.path,
                )
            )
        else:
            seen[row.id] = row.where
            items.append(row)
    return items, bad
