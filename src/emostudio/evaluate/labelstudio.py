"""A Label Studio export (the JSON format: a list of tasks with their annotations) read as a test set.

Label Studio's JSON export (https://labelstud.io/guide/export.html#Label-Studio-JSON-format-of-annotated-tasks)
is a list of tasks `{"id", "data": {"audio": …}, "annotations": [{"result": [...], "was_cancelled", …}],
"predictions": [...]}`. Two result types carry emotions:
    {"type": "labels",  "value": {"start": 1.2, "end": 3.4, "channel": 0, "labels": ["Happy"]}}   a region
    {"type": "choices", "value": {"choices": ["Happy"]}}                                            the clip
A region is an item cut out of the audio, a choice is an item of the whole file. Only people's annotations are
references: predictions are never read (a task that has only predictions is reported as not annotated), nor are
cancelled (skipped) annotations. With several annotations of one task, a ground-truth one is used, else the one
updated last.

The audio of a task: `data.emostudio_audio` (written by `emostudio export --format labelstudio`) when that file
exists, else `data.audio` (or the first data value that names an audio file): a Label Studio local-files URL
`/data/local-files/?d=REL` is REL under `audio_root`, an upload `/data/upload/<project>/<8 hex>-<name>` is looked
for as `upload/<project>/…`, `<project>/…`, the file itself or `<name>` under `audio_root`, another URL by its file
name under `audio_root`, and a plain path as it is (relative: under `audio_root`). `audio_root` is the export's
folder unless given.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

from emostudio.audio import AUDIO_EXTENSIONS
from emostudio.evaluate.annotations import Labelled, inside, labelled_items
from emostudio.evaluate.items import BadRow, LabelledItem, span_text

AUDIO_KEYS = ("emostudio_audio", "audio")
_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-")


def is_labelstudio_export(doc: object) -> bool:
    """True for a JSON document shaped like Label Studio's JSON export: a list of tasks with `data`."""
    return (
        isinstance(doc, list)
        and bool(doc)
        and all(isinstance(t, dict) for t in doc)
        and any(isinstance(t.get("data"), dict) for t in doc)
    )


def looks_like_json_min(doc: object) -> bool:
    """Label Studio's JSON-MIN export (flat rows without `data` / `annotations`): it has no region ids."""
    return (
        isinstance(doc, list)
        and bool(doc)
        and all(isinstance(t, dict) for t in doc)
        and not any("data" in t or "annotations" in t for t in doc)
        and any("annotator" in t or "annotation_id" in t for t in doc)
    )


def _candidates(url: str, base: Path) -> list[Path]:
    parts = urlsplit(url)
    if parts.path.endswith("/data/local-files/") or parts.path.endswith("/data/local-files"):
        rel = parse_qs(parts.query).get("d", [""])[0]
        return [base / rel] if rel else []
    if parts.scheme in ("", "file") and not parts.path.startswith("/data/upload/"):
        path = Path(unquote(parts.path) if parts.scheme == "file" else url)
        return [path if path.is_absolute() else base / path]
    name = PurePosixPath(unquote(parts.path)).name
    if not name:
        return []
    out = []
    m = re.match(r"^/data/upload/([^/]+)/", parts.path)
    if m:
        out += [base / "upload" / m.group(1) / name, base / m.group(1) / name]
    out.append(base / name)
    if _UPLOAD_PREFIX.match(name):
        out.append(base / _UPLOAD_PREFIX.sub("", name))
    return out


def _audio_value(data: dict) -> str | None:
    for key in ("audio",):
        if isinstance(data.get(key), str) and data[key].strip():
            return data[key].strip()
    for value in data.values():
        if isinstance(value, str):
            suffix = PurePosixPath(urlsplit(value).path).suffix.lower()
            if suffix in AUDIO_EXTENSIONS or "/data/local-files/" in value:
                return value.strip()
    return None


def resolve_audio(data: dict, base: Path) -> tuple[Path | None, str]:
    """(the local file of a task's audio or None, how the task names it)."""
    own = data.get("emostudio_audio")
    if isinstance(own, str) and own and Path(own).is_file():
        return Path(own), own
    url = _audio_value(data)
    if url is None:
        return None, ""
    for path in _candidates(url, base):
        if path.is_file():
            return path, url
    return None, url


def _annotation(task: dict) -> dict | None:
    usable = [
        a
        for a in task.get("annotations") or []
        if isinstance(a, dict) and not a.get("was_cancelled") and isinstance(a.get("result"), list)
    ]
    if not usable:
        return None
    truth = [a for a in usable if a.get("ground_truth")]
    pool = truth or usable
    return max(
        enumerate(pool), key=lambda ia: (str(ia[1].get("updated_at") or ia[1].get("created_at") or ""), ia[0])
    )[1]


def _label(values: object) -> tuple[str | None, str]:
    """(the one label, or None with the reason)."""
    if not isinstance(values, list) or not values:
        return None, "no label"
    texts: list[str] = list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
    if not texts:
        return None, "no label"
    if len(texts) > 1:
        return None, f"several labels ({', '.join(texts)}); one emotion per region is needed"
    return texts[0], ""


def _display(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def from_labelstudio(
    tasks: list[dict], source: Path, base: Path, roots: Sequence[Path] | None, custom: bool = False
) -> list[LabelledItem | BadRow]:
    """Items and bad rows of a Label Studio JSON export (see the module docstring)."""
    name = source.name
    rows: list[LabelledItem | BadRow] = []
    for n, task in enumerate(tasks, 1):
        tid = task.get("id", n)
        where = f"task {tid}"
        ref = f"{name} task {tid}"
        data = task.get("data")
        if not isinstance(data, dict):
            rows.append(BadRow(where, "bad_task", f"{ref}: no data object", where))
            continue
        annotation = _annotation(task)
        if annotation is None:
            missing = (
                "only predictions, no annotation by a person"
                if task.get("predictions")
                else "no annotation (or only skipped ones)"
            )
            rows.append(
                BadRow(where, "unannotated", f"{ref}: {missing}; annotate it in Label Studio first", where)
            )
            continue
        audio, named = resolve_audio(data, base)
        if audio is None:
            what = f"its audio {named!r} was not found under {base}" if named else "no audio in its data"
            rows.append(
                BadRow(
                    where, "missing_path", f"{ref}: {what} (give the folder with --audio-root)", where, named
                )
            )
            continue
        if not inside(audio, roots):
            rows.append(
                BadRow(where, "outside_root", f"{ref}: {named} is outside the allowed folders", where)
            )
            continue
        spans, bad = _regions(annotation, where, ref, audio)
        if not spans and not bad:
            rows.append(
                BadRow(
                    where, "missing_label", f"{ref}: the annotation has no emotion label", where, str(audio)
                )
            )
            continue
        rows += bad
        rows += labelled_items(spans, audio, _display(audio, base), custom)
    return rows


def _regions(annotation: dict, where: str, ref: str, audio: Path) -> tuple[list[Labelled], list[BadRow]]:
    """The emotion labels of one annotation: its clip choice and labelled regions, and a bad row for each one
    without a label or a time range (other result types — transcripts, ratings — are not emotions)."""
    spans: list[Labelled] = []
    bad: list[BadRow] = []
    for k, result in enumerate(annotation["result"], 1):
        if not isinstance(result, dict):
            continue
        kind, value = result.get("type"), result.get("value")
        if kind not in ("labels", "choices") or not isinstance(value, dict):
            continue  # transcripts, ratings, …: not an emotion
        rid = result.get("id") or k
        if kind == "choices":
            label, why = _label(value.get("choices"))
            r_where, r_ref, start, end = f"{where} choice", f"{ref} (clip choice)", None, None
        else:
            label, why = _label(value.get("labels"))
            start, end = value.get("start"), value.get("end")
            r_where = f"{where} region {rid}"
            times = (
                f", {span_text(start, end)}"
                if isinstance(start, int | float) and isinstance(end, int | float)
                else ""
            )
            r_ref = f"{ref} (region {rid}{times})"
            if not (isinstance(start, int | float) and isinstance(end, int | float)):
                bad.append(BadRow(r_where, "bad_range", f"{r_ref}: the region has no start and end", r_where))
                continue
            start, end = float(start), float(end)
        if label is None:
            bad.append(BadRow(r_where, "missing_label", f"{r_ref}: {why}", r_where, str(audio)))
            continue
        spans.append(Labelled(start, end, label, r_where, r_ref))
    return spans, bad


def default_base(source: Path, audio_root: str | os.PathLike | None) -> Path:
    return Path(audio_root) if audio_root is not None else source.parent
