"""A run's results in the formats of the field: Praat TextGrid, ELAN .eaf, WebVTT, SRT, RTTM, Label Studio tasks.

>>> from emostudio.export import export_run, export_labelstudio
>>> export_run("outputs/outputs_20250101_120000", ["textgrid", "eaf", "vtt"])      # into the run folder
>>> export_labelstudio(list_runs("outputs"), "review/", least_confident=50)        # tasks + labelling config

Every writer is a pure function of a result.json document (`render(doc, fmt)` → text); `export_run` writes the
files atomically into the run folder (named after its audio: processed_audio.TextGrid, .eaf, .vtt, .srt, and
turns.rttm) and lists them in its result.json `files`, or into `out_dir` as `<run_id>.<ext>`. An exported file
that was changed since (corrected in Praat or ELAN) is not replaced unless `overwrite=True`.
Modules: `tiers` (what a document holds as tiers and cues), `textgrid` (praatio), `elan` (pympi-ling),
`subtitles`, `rttm`, `labelstudio`, `runfiles` (run folders, through emostudio.runs).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from emostudio import atomic
from emostudio.errors import printable
from emostudio.export import labelstudio as ls
from emostudio.export.elan import eaf_text
from emostudio.export.errors import ExportError
from emostudio.export.rttm import rttm_text
from emostudio.export.runfiles import audio_file, file_name, find_run, list_runs, read_result, record_files
from emostudio.export.subtitles import srt_text, vtt_text
from emostudio.export.textgrid import textgrid_text
from emostudio.export.tiers import LABEL_STYLES, cues, duration_s, tiers

FORMATS = ("textgrid", "eaf", "vtt", "srt", "rttm", "labelstudio")
RUN_FORMATS = FORMATS[:-1]  # one file per run; labelstudio is one file for many runs
SUFFIXES = {"textgrid": ".TextGrid", "eaf": ".eaf", "vtt": ".vtt", "srt": ".srt", "rttm": ".rttm"}
RTTM_FILE = "turns.rttm"  # the run folder's RTTM, as speaker turns name it (issue 28)
TASKS_FILE, CONFIG_FILE = "labelstudio_tasks.json", "labelstudio_config.xml"
NEEDS = {"textgrid": ("praatio", "praatio"), "eaf": ("pympi", "pympi-ling")}

__all__ = [
    "CONFIG_FILE",
    "FORMATS",
    "LABEL_STYLES",
    "RUN_FORMATS",
    "TASKS_FILE",
    "ExportError",
    "LabelStudioExport",
    "RunExport",
    "check_available",
    "export_labelstudio",
    "export_run",
    "find_run",
    "list_runs",
    "parse_formats",
    "read_result",
    "render",
]


def parse_formats(spec: str | Sequence[str]) -> tuple[str, ...]:
    """`"textgrid,eaf"` (or a list) → the formats in FORMATS order; ExportError naming an unknown one."""
    names = [
        s.strip().lower() for part in ([spec] if isinstance(spec, str) else spec) for s in part.split(",")
    ]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise ExportError(
            f"unknown export format {', '.join(map(repr, unknown))}; use one or more of {', '.join(FORMATS)}"
            if unknown
            else f"no export format given; use one or more of {', '.join(FORMATS)}"
        )
    return tuple(f for f in FORMATS if f in names)


def check_available(formats: Sequence[str]) -> None:
    """Raise ExportError before any work when a format's library is not installed."""
    import importlib.util

    for fmt in formats:
        if fmt in NEEDS and importlib.util.find_spec(NEEDS[fmt][0]) is None:
            raise ExportError(f"--format {fmt} needs {NEEDS[fmt][1]}: pip install 'emostudio[annotations]'")


def check_style(style: str) -> None:
    if style not in LABEL_STYLES:
        raise ExportError(f"labels must be one of {', '.join(LABEL_STYLES)}, not {style!r}")


def render(
    doc: dict,
    fmt: str,
    *,
    style: str = "key",
    media_url: str = "",
    relative_media_url: str = "",
) -> str | None:
    """The text of one per-run format for a result.json document; None when there is nothing to write (RTTM of a
    run without speaker turns). `style`: key | zh | en labels in TextGrid / ELAN tiers.
    `media_url` / `relative_media_url`: the audio an .eaf links to (absolute file:// URL, path from the .eaf)."""
    check_style(style)
    if fmt == "textgrid":
        return textgrid_text(tiers(doc, style), duration_s(doc))
    if fmt == "eaf":
        return eaf_text(tiers(doc, style), media_url, relative_media_url)
    if fmt == "vtt":
        return vtt_text(cues(doc))
    if fmt == "srt":
        return srt_text(cues(doc))
    if fmt == "rttm":
        return rttm_text(doc)
    raise ExportError(f"{fmt!r} is not a per-run format ({', '.join(RUN_FORMATS)})")


@dataclass
class RunExport:
    """What `export_run` did: the files written, and per format not written, why (`no_turns`, `edited`)."""

    run_dir: Path
    written: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    targets: dict[str, Path] = field(default_factory=dict)  # where each format's file is (or would be)


def _target(run_dir: Path, doc: dict, fmt: str, out_dir: Path | None) -> Path:
    if out_dir is None:
        return run_dir / (RTTM_FILE if fmt == "rttm" else file_name(SUFFIXES[fmt]))
    return out_dir / file_name(SUFFIXES[fmt], str(doc["run_id"]))


def export_run(
    run_dir: str | os.PathLike,
    formats: Sequence[str],
    *,
    out_dir: str | os.PathLike | None = None,
    style: str = "key",
    overwrite: bool = False,
) -> RunExport:
    """Write a run's per-run formats (see the module docstring); labelstudio is ignored here (export_labelstudio).

    Raises ExportError when the run cannot be read or a file cannot be written.
    """
    run = Path(run_dir)
    check_style(style)
    doc = read_result(run)
    out = Path(out_dir) if out_dir is not None else None
    audio = audio_file(run).resolve()
    report = RunExport(run)
    for fmt in (f for f in formats if f in RUN_FORMATS):
        target = _target(run, doc, fmt, out)
        report.targets[fmt] = target
        rel = os.path.relpath(audio, target.parent.resolve()) if out is not None else audio.name
        relative = rel if rel.startswith((".", "/")) else f"./{rel}"
        text = render(doc, fmt, style=style, media_url=audio.as_uri(), relative_media_url=relative)
        if text is None:
            report.skipped[fmt] = "no_turns"
            continue
        if target.exists() and not overwrite and _differs(target, text):
            report.skipped[fmt] = "edited"
            continue
        try:
            atomic.write_text(target, text)
        except OSError as e:
            raise ExportError(f"{printable(target)}: cannot be written ({e.strerror or e})") from e
        report.written[fmt] = target
    if out is None and report.written:
        record_files(run, {fmt: path.name for fmt, path in report.written.items()})
    return report


def _differs(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") != text
    except (OSError, UnicodeDecodeError):
        return True


@dataclass
class LabelStudioExport:
    """The tasks file and labelling config written, the runs in it, and the runs left out with why."""

    tasks_file: Path
    config_file: Path
    runs: list[str]
    document_root: Path
    left_out: list[tuple[str, str]] = field(default_factory=list)


def export_labelstudio(
    run_dirs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    least_confident: int | None = None,
    style: str = "key",
    document_root: str | os.PathLike | None = None,
) -> LabelStudioExport:
    """Pre-annotated Label Studio tasks for the `least_confident` runs (all when None), least confident first.

    `document_root`: Label Studio's LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT; each task's audio URL is the run's
    processed_audio.wav relative to it (default: the folder holding the runs — their common parent).
    A run whose audio is missing or outside the document root is left out, with the reason.
    """
    check_style(style)
    if least_confident is not None and least_confident < 1:
        raise ExportError(f"--least-confident must be at least 1, not {least_confident}")
    docs: list[dict] = []
    audio_of: dict[int, Path] = {}
    left_out: list[tuple[str, str]] = []
    for spec in run_dirs:
        run = Path(spec)
        try:
            doc = read_result(run)
        except ExportError as e:  # one unreadable run is left out, the others are exported
            left_out.append((str(run), str(e)))
            continue
        audio = audio_file(run).resolve()
        if not audio.is_file():
            left_out.append((str(run), f"no {audio.name} in the run folder (saved without audio)"))
            continue
        audio_of[id(doc)] = audio
        docs.append(doc)
    if not docs:
        raise ExportError("no run with its audio to export to Label Studio")
    root = Path(document_root).resolve() if document_root is not None else _common_folder(audio_of.values())
    tasks = []
    runs = []
    for doc in ls.least_confident(docs, least_confident):
        audio = audio_of[id(doc)]
        if not audio.is_relative_to(root):
            left_out.append((str(doc["run_id"]), f"{audio} is outside the document root {root}"))
            continue
        url = "/data/local-files/?d=" + quote(audio.relative_to(root).as_posix())
        tasks.append(ls.task(doc, url, str(audio), style))
        runs.append(str(doc["run_id"]))
    out = Path(out_dir)
    try:
        atomic.write_text(out / CONFIG_FILE, ls.config_xml(style))
        atomic.write_text(out / TASKS_FILE, ls.tasks_json(tasks))
    except OSError as e:
        raise ExportError(f"{printable(out)}: cannot be written ({e.strerror or e})") from e
    return LabelStudioExport(out / TASKS_FILE, out / CONFIG_FILE, runs, root, left_out)


def _common_folder(paths) -> Path:
    folders = [str(p.parent.parent) for p in paths]  # run folder's parent: the folder holding the runs
    return Path(os.path.commonpath(folders))
