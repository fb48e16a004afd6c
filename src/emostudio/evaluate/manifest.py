"""A labelled test set: a CSV / JSONL manifest or a folder of label sub-folders → items with one of the 9 keys.

Columns (CSV header or JSONL keys, any case; the same names `emostudio batch` reads): path (or source, wav,
audio, file, filename), label (or emotion, target, ref_label), optional id (or key, utt, utt_id), speaker (or
spk, speaker_id) and text (or transcript, sentence). Relative paths are taken from the manifest's folder.
A folder is read as `ROOT/<label>/**/<audio file>`: the first sub-folder under ROOT names the label.

A row that cannot be used (no path, an unknown label, a duplicate id, a line that is not JSON, a path outside
the allowed folders) becomes a `BadRow` naming its line; every other row is still evaluated. Only a manifest
that cannot be read at all raises `ManifestError`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from emostudio.audio.types import AUDIO_EXTENSIONS
from emostudio.errors import EmoStudioError
from emostudio.model.labels import KEYS, normalise_label

FOUR_CLASSES: tuple[str, ...] = ("angry", "happy", "neutral", "sad")  # EmoBox's 4-class subset
CLASS_MODES: dict[str, tuple[str, ...]] = {"all": KEYS, "4": FOUR_CLASSES}

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "key", "utt", "utt_id", "uttid"),
    "path": ("path", "source", "wav", "audio", "file", "filename"),
    "label": ("label", "emotion", "target", "ref_label"),
    "speaker": ("speaker", "spk", "speaker_id"),
    "text": ("text", "transcript", "sentence"),
}


class EvaluationError(EmoStudioError):
    """An evaluation cannot run: bad options, an unreadable baseline, nothing left to evaluate."""

    code = "evaluation_error"


class ManifestError(EvaluationError):
    """The manifest as a whole cannot be read (missing, no path or label column, not text)."""

    code = "bad_manifest"


@dataclass
class LabelledItem:
    """One usable row: an audio file and its reference label (one of the 9 keys)."""

    id: str
    path: str  # absolute, or as resolved against the manifest's folder
    label: str
    where: str  # "line 7" (CSV / JSONL) or the file's path relative to the folder
    raw_label: str = ""
    speaker: str | None = None
    text: str | None = None
    ref: str = ""  # how messages name the row: "test.csv line 7" (default: `where`)
    display: str = ""  # the file as the manifest names it (default: `path`)

    def __post_init__(self) -> None:
        self.ref = self.ref or self.where
        self.display = self.display or self.path


@dataclass
class BadRow:
    """A row that was not evaluated, and why. `message` names the row and the problem."""

    where: str
    code: str  # unknown_label, missing_label, missing_path, duplicate_id, bad_json, outside_root, or an audio code
    message: str
    id: str | None = None
    path: str | None = None
    model: str | None = None  # set when only this model failed on the row

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Manifest:
    """What a manifest holds: usable items, bad rows, and rows left out by the class subset."""

    source: str
    kind: str  # "csv" | "jsonl" | "folder"
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


def _csv_rows(text: str, source: Path) -> Iterator[tuple[int, dict | BadRow]]:
    sample = text[:4096]
    if source.suffix.lower() == ".tsv":
        dialect: type[csv.Dialect] | csv.Dialect = csv.excel_tab
    else:
        try:
            dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else ",", delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    cols = {(c or "").strip().lower() for c in reader.fieldnames or []}
    for name in ("path", "label"):
        if not cols & set(COLUMNS[name]):
            raise ManifestError(
                f"{source}: no {name} column in the header {sorted(cols)} (name one of "
                f"{', '.join(COLUMNS[name])})"
            )
    for row in reader:
        # line_num is the physical line the row ended on (a quoted field may span lines)
        yield reader.line_num, {(k or "").strip().lower(): v for k, v in row.items() if k is not None}


def _jsonl_rows(text: str, source: Path) -> Iterator[tuple[int, dict | BadRow]]:
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield i, BadRow(f"line {i}", "bad_json", f"{source.name} line {i}: not valid JSON ({e.msg})")
            continue
        if not isinstance(obj, dict):
            yield i, BadRow(f"line {i}", "bad_json", f"{source.name} line {i}: not a JSON object")
            continue
        yield i, {str(k).lower(): v for k, v in obj.items()}


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    real = Path(os.path.realpath(path))
    return any(real == r or real.is_relative_to(r) for r in roots)


def _row_item(
    line: int, row: dict, base: Path, roots: Sequence[Path] | None, source: Path
) -> LabelledItem | BadRow:
    where = f"line {line}"
    ref = f"{source.name} {where}"
    path, raw = _field(row, "path"), _field(row, "label")
    if path is None:
        return BadRow(where, "missing_path", f"{ref}: no path", _field(row, "id"))
    rid = _field(row, "id") or path
    full = Path(os.path.expanduser(path))
    full = full if full.is_absolute() else base / full
    if roots is not None and not _inside(full, roots):
        return BadRow(where, "outside_root", f"{ref}: {path} is outside the allowed folders", rid, path)
    if raw is None:
        return BadRow(where, "missing_label", f"{ref}: no label for {path}", rid, str(full))
    try:
        key = normalise_label(raw)
    except ValueError as e:
        return BadRow(where, "unknown_label", f"{ref}: {e}", rid, str(full))
    return LabelledItem(
        rid, str(full), key, where, raw, _field(row, "speaker"), _field(row, "text"), ref, path
    )


def _from_folder(root: Path, roots: Sequence[Path] | None) -> tuple[list[LabelledItem | BadRow], int]:
    out: list[LabelledItem | BadRow] = []
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    for p in files:
        rel = p.relative_to(root).as_posix()
        if roots is not None and not _inside(p, roots):
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
            key = normalise_label(folder)
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


def load_manifest(
    source: str | os.PathLike, classes: str = "all", allowed_roots: Sequence[str | os.PathLike] | None = None
) -> Manifest:
    """Read a labelled test set from a CSV/TSV/JSONL manifest or a folder of label sub-folders.

    `classes="4"` keeps only rows labelled angry/happy/neutral/sad (the others go to `excluded`).
    `allowed_roots`: when given, a row whose file resolves (symlinks followed) outside them is a bad row.
    Raises ManifestError when the manifest itself cannot be read.
    """
    if classes not in CLASS_MODES:
        raise EvaluationError(f"classes must be one of {', '.join(CLASS_MODES)}, not {classes!r}")
    src = Path(source)
    roots = [Path(os.path.realpath(r)) for r in allowed_roots] if allowed_roots is not None else None
    if src.is_dir():
        kind = "folder"
        rows, count = _from_folder(src, roots)
        if count == 0:
            raise ManifestError(
                f"{src}: no audio files found (expected ROOT/<label>/<file> with one of "
                f"{', '.join(sorted(AUDIO_EXTENSIONS))})"
            )
    elif not src.is_file():
        raise ManifestError(f"{src}: no such manifest or folder")
    else:
        suffix = src.suffix.lower()
        if suffix in (".csv", ".tsv", ".txt"):
            kind, reader = "csv", _csv_rows
        elif suffix in (".jsonl", ".json", ".ndjson"):
            kind, reader = "jsonl", _jsonl_rows
        else:
            raise ManifestError(f"{src}: not a manifest (.csv, .tsv, .jsonl) or a folder of label folders")
        text = _decode(src.read_bytes(), src)
        base = src.parent
        rows = []
        for line, fields in reader(text, src):
            rows.append(fields if isinstance(fields, BadRow) else _row_item(line, fields, base, roots, src))
        count = len(rows)
        if count == 0:
            raise ManifestError(f"{src}: the manifest lists no rows")
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
    keep = CLASS_MODES[classes]
    fp = fingerprint(
        [(r.id, r.label) if isinstance(r, LabelledItem) else (r.id or r.where, r.code) for r in rows]
    )
    return Manifest(
        str(source),
        kind,
        classes,
        [it for it in items if it.label in keep],
        bad,
        [it for it in items if it.label not in keep],
        fp,
        count,
    )
