"""`emostudio export RUN…`: finished runs as Praat TextGrid, ELAN .eaf, WebVTT, SRT, RTTM or Label Studio tasks."""

from __future__ import annotations

import argparse
import json

from emostudio.cli.common import EXIT_FAILED_INPUTS, EXIT_OK, EXIT_USAGE, fail, say
from emostudio.messages import t
from emostudio.model.labels import emotion_name

FORMAT_NAMES = "textgrid, eaf, vtt, srt, rttm, labelstudio"


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="write finished runs as Praat TextGrid, ELAN, subtitles, RTTM or Label Studio tasks",
        description="Write finished runs in the formats of the field. Per run (into the run folder, named after "
        "its audio, and listed in its result.json; or into --out as <run_id>.<ext>): textgrid (Praat: emotion "
        "segments, frame labels, a tier per speaker, the transcript), eaf (ELAN: the same tiers, the audio "
        "linked), vtt and srt (one subtitle per segment), rttm (speaker turns, when the run has them). "
        "labelstudio: one tasks file with pre-annotations for the --least-confident runs, and its labelling "
        "config, for review in Label Studio; the corrected JSON export is a test set for emostudio evaluate. "
        "Exit code 0: all done; 1: some runs could not be exported; 2: nothing done.",
    )
    p.add_argument(
        "runs",
        nargs="*",
        metavar="RUN_DIR|RUN_ID",
        help="run folders or run ids under --runs (default: every run under --runs)",
    )
    p.add_argument(
        "--format", required=True, metavar="FORMATS", help=f"comma-separated, one or more of {FORMAT_NAMES}"
    )
    p.add_argument(
        "--runs", dest="runs_root", default="outputs", help="folder holding the runs (default outputs)"
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="write here instead of into each run folder (labelstudio: default the current folder)",
    )
    p.add_argument(
        "--labels",
        choices=["key", "zh", "en"],
        default="key",
        help="how TextGrid / ELAN tiers and Label Studio name the classes: happy, "
        f"{emotion_name('happy', 'zh', emoji=False)} or Happy (default key)",
    )
    p.add_argument(
        "--least-confident",
        type=int,
        default=None,
        metavar="N",
        help="labelstudio: only the N runs with the lowest confidence (default: all, least confident first)",
    )
    p.add_argument(
        "--ls-root",
        default=None,
        metavar="DIR",
        help="labelstudio: Label Studio's LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT (audio URLs are relative to it; "
        "default: the folder holding the runs)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace exported files that were changed after export"
    )
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emostudio.errors import EmoStudioError
    from emostudio.export import check_available, find_run, list_runs, parse_formats

    try:
        formats = parse_formats(args.format)
        check_available(formats)
        runs = (
            [find_run(spec, args.runs_root) for spec in args.runs] if args.runs else list_runs(args.runs_root)
        )
    except EmoStudioError as exc:
        fail(str(exc))
        return EXIT_USAGE
    if not runs:
        fail(t("export_no_runs", "en"))
        return EXIT_USAGE
    report: dict = {"runs": [], "labelstudio": None}
    per_run = [f for f in formats if f != "labelstudio"]
    failures = _export_each(runs, per_run, args, report["runs"]) if per_run else 0
    if "labelstudio" in formats:
        try:
            ls = _export_labelstudio(runs, args)
        except EmoStudioError as exc:
            fail(str(exc))
            return EXIT_USAGE if not report["runs"] else EXIT_FAILED_INPUTS
        report["labelstudio"] = {
            "tasks": str(ls.tasks_file),
            "config": str(ls.config_file),
            "runs": ls.runs,
            "document_root": str(ls.document_root),
            "left_out": [{"run": r, "why": w} for r, w in ls.left_out],
        }
        failures += len(ls.left_out)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    if failures:
        say(t("export_failed", "en", failed=failures, total=len(runs)), err=True)
        return EXIT_FAILED_INPUTS
    return EXIT_OK


def _export_each(runs: list, formats: list[str], args: argparse.Namespace, entries: list[dict]) -> int:
    """The per-run formats of every run, said as they are written (an entry each in `entries`); the failures."""
    from emostudio.errors import EmoStudioError
    from emostudio.export import export_run

    failures = 0
    for run_dir in runs:
        try:
            done = export_run(run_dir, formats, out_dir=args.out, style=args.labels, overwrite=args.overwrite)
        except EmoStudioError as exc:
            failures += 1
            fail(str(exc))
            entries.append({"run": str(run_dir), "error": str(exc)})
            continue
        skipped: dict[str, str] = {}
        entry = {
            "run": str(run_dir),
            "written": {f: str(p) for f, p in done.written.items()},
            "skipped": skipped,
        }
        if not args.json:
            say(str(run_dir), "bold")
        for fmt, path in done.written.items():
            if not args.json:
                say("  " + t("export_wrote", "en", format=fmt, path=str(path)))
        for fmt, why in done.skipped.items():
            text = (
                t("export_no_turns", "en")
                if why == "no_turns"
                else t("export_edited", "en", path=str(done.targets[fmt]))
            )
            skipped[fmt] = text
            if not args.json:
                say(f"  ⚠ {text}", "yellow")
        entries.append(entry)
    return failures


def _export_labelstudio(runs: list, args: argparse.Namespace):
    """The Label Studio tasks and config of the runs, and what to do with them (raises EmoStudioError)."""
    from emostudio.export import export_labelstudio

    ls = export_labelstudio(
        runs,
        args.out or ".",
        least_confident=args.least_confident,
        style=args.labels,
        document_root=args.ls_root,
    )
    if not args.json:
        say(t("export_ls_tasks", "en", tasks=str(ls.tasks_file), n=len(ls.runs), config=str(ls.config_file)))
        say(t("export_ls_serve", "en", root=str(ls.document_root)))
        say(t("export_ls_back", "en"))
    for r, why in ls.left_out:
        fail(t("export_left_out", "en", run=r, why=why))
    return ls


# ---- `emostudio analyze --export FORMATS`: the same per-run writers, into each new run folder ----------------------
def add_export_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--export",
        default=None,
        metavar="FORMATS",
        help="also write the run as textgrid, eaf, vtt, srt and/or rttm (comma-separated) into its folder",
    )


def analyze_formats(spec: str | None) -> tuple[str, ...] | int:
    """The --export formats of `analyze`, checked before any work (EXIT_USAGE after printing why)."""
    from emostudio.errors import EmoStudioError
    from emostudio.export import check_available, parse_formats

    if spec is None:
        return ()
    try:
        formats = parse_formats(spec)
        check_available(formats)
    except EmoStudioError as exc:
        fail(str(exc))
        return EXIT_USAGE
    if "labelstudio" in formats:
        fail("--export labelstudio is one file for many runs: use emostudio export RUN… --format labelstudio")
        return EXIT_USAGE
    return formats


def export_new_run(run_dir, formats: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """Write `formats` into a just-saved run folder: ({format: path}, lines to print). Raises EmoStudioError."""
    from emostudio.export import export_run

    done = export_run(run_dir, formats)
    lines = [t("export_wrote", "en", format=f, path=str(p)) for f, p in done.written.items()]
    lines += [f"⚠ {t('export_no_turns', 'en')}" for why in done.skipped.values() if why == "no_turns"]
    return {f: str(p) for f, p in done.written.items()}, lines
