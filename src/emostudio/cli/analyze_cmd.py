"""`emostudio analyze FILE...`: recognise the emotion of each file and write one run folder per file."""

from __future__ import annotations

import argparse
import json
import os

from emostudio.cli.common import (
    EXIT_FAILED_INPUTS,
    EXIT_OK,
    EXIT_USAGE,
    FilesProgress,
    add_adapter_arg,
    add_channel_args,
    add_model_args,
    add_scoring_args,
    add_speaker_args,
    check_out_dir,
    expand_inputs,
    fail,
    load_with_adapter,
    result_doc,
    say,
)
from emostudio.cli.export_cmd import add_export_arg, analyze_formats, export_new_run
from emostudio.cli.text_args import add_text_args, prepare_text, text_lines
from emostudio.interpret import summary_line
from emostudio.messages import t
from emostudio.model.labels import BY_KEY, KEYS


def register(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="recognise the emotion of audio files",
        description="Recognise the emotion of audio files; one output folder per file. Exit code 0: all "
        "done; 1: some files failed (each error is printed, the others still get their results); 2: nothing "
        "done (no inputs, no model, an --out folder that cannot be written).",
    )
    p.add_argument("inputs", nargs="+", metavar="FILE", help="audio/video files, folders or glob patterns")
    add_scoring_args(
        p,
        granularity="one label per clip, or scores every 0.1 s (a timeline)",
        embedding="also save embedding.npy",
        enhance="high-pass, denoise and normalise first; compare before/after",
    )
    add_channel_args(
        p,
        channels="mix: the channels averaged (default); separate: each channel scored as its own speaker "
        "(two-party calls recorded on two channels), with silent or copied channels detected",
        roles="with --channels separate: channel roles, e.g. agent,customer",
    )
    add_speaker_args(p)
    p.add_argument("--out", default="outputs", help="folder for the run folders (default: outputs)")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    add_export_arg(p)
    add_adapter_arg(p)
    add_model_args(p)
    add_text_args(p)
    p.set_defaults(func=run)


def describe(result) -> list[str]:
    """Human lines for one result: the seed's summary, band, runner-up, compound, warnings, folder."""
    ru_key, ru_p = result.runner_up
    ru = BY_KEY[ru_key]
    lines = [
        result.summary("zh"),
        f"{t('cli_band', 'en')}: {result.band.en} ({result.band.zh}) · {t('cli_runner_up', 'en')}: "
        f"{ru.display()} {ru_p * 100:.1f}%",
    ]
    if result.compound:
        lines.append(f"{t('cli_compound', 'en')}: {result.compound.zh} ({result.compound.en})")
    if result.adapted is not None:
        lines.append(adapted_line(result.adapted.to_dict()))
    if len(result.segments) > 1:
        lines.append(t("cli_segments", "en", n=len(result.segments)))
    if result.enhancement:
        b = result.enhancement.before_probs
        before = BY_KEY[KEYS[int(b.argmax())]]
        lines.append(
            f"before enhancement: {before.display()} {b.max() * 100:.1f}% → after: {result.confidence * 100:.1f}%"
        )
    lines += text_lines(result)
    if result.quality_warning:
        lines.append(f"⚠ {result.quality_warning}")
    for warning in result.warnings:
        lines.append(f"⚠ {warning}")
    if result.model.is_random:
        lines.append("⚠ " + t("random_note", "en"))
    if result.output_dir:
        lines.append(f"{t('cli_folder', 'en')}: {result.output_dir}")
    return lines


def adapted_line(adapted: dict) -> str:
    """`adapted: frustrated 81.2% (confident, adapter 1a2b…)` beside the base reading."""
    return t(
        "cli_adapted",
        "en",
        label=adapted["label"],
        percent=100 * float(adapted["confidence"]),
        band=adapted["band"],
        adapter=adapted["adapter"],
    )


def describe_speakers(result, indent: str = "") -> list[str]:
    """--speakers: a head line (how many, engine, seconds of speech), its notes, then one line per speaker."""
    st = result.speaker_turns
    if st is None:
        return []
    d = st.diarization
    lines = [
        indent + t("cli_speakers_head", "en", found=d["found"], engine=d["engine"], speech_s=d["speech_s"])
    ]
    lines += [f"{indent}  ℹ {n['en']} / {n['zh']}" for n in d["notes"]]
    for sp in st.speakers:
        if sp.probs is None or sp.band is None:
            reading = t("cli_speaker_unscored", "en")
        else:
            reading = (
                f"{summary_line(KEYS[int(sp.probs.argmax())], float(sp.probs.max()), 'zh')} · {sp.band.en}"
            )
        lines.append(
            indent
            + t("cli_speaker_line", "en", id=sp.id, seconds=sp.seconds, turns=sp.turns, reading=reading)
        )
    return lines


def describe_channels(result) -> list[str]:
    """--channels separate: one line per channel (its label, or why it was not scored) and its notes."""
    lines = []
    for ch in result.channels or []:
        head = f"channel {ch.info.index + 1} ({ch.info.role}): "
        if ch.result is not None:
            r = ch.result
            lines.append(f"{head}{r.summary('zh')} · {r.band.en} ({r.band.zh})")
            if r.adapted is not None:
                lines.append(f"  {adapted_line(r.adapted.to_dict())}")
            if r.frames is not None and r.frames.segments:
                runs = " → ".join(
                    f"{BY_KEY[s.label].emoji} {s.start_s:.1f}-{s.end_s:.1f}s" for s in r.frames.segments[:8]
                )
                more = f" … (+{len(r.frames.segments) - 8})" if len(r.frames.segments) > 8 else ""
                lines.append(f"  timeline: {runs}{more}")
            if r.quality_warning:
                lines.append(f"  ⚠ {r.quality_warning}")
            lines += describe_speakers(r, "  ")
        else:
            lines.append(f"{head}{ch.info.status}")
        if ch.info.note:
            lines.append(f"  ℹ {ch.info.note['en']} / {ch.info.note['zh']}")
    return lines


def _recognizer_and_options(args: argparse.Namespace):
    """(Recognizer, AnalysisOptions with the --adapter loaded and checked), or None after one line saying why."""
    from emostudio.errors import UsageError
    from emostudio.options import AnalysisOptions, parse_speakers

    try:
        options = AnalysisOptions(
            args.granularity,
            args.embedding,
            args.enhance,
            not args.no_quality,
            args.channels,
            args.roles,
            speakers=parse_speakers(args.speakers),
            speaker_model=args.speaker_model,
        ).check()
    except UsageError as exc:
        fail(str(exc))
        return None
    loaded = load_with_adapter(args)
    if loaded is None:
        return None
    rec, adapter = loaded
    return rec, options.replace(adapter=adapter)


def run(args: argparse.Namespace) -> int:
    from emostudio.audio import AUDIO_EXTENSIONS
    from emostudio.errors import EmoStudioError

    expanded = expand_inputs(args.inputs, AUDIO_EXTENSIONS)
    for problem in expanded.problems:
        fail(str(problem))
    files = expanded.files
    if not files:
        fail(t("cli_nothing", "en"))
        return EXIT_USAGE
    if not check_out_dir(args.out):  # before the model loads or any file is decoded
        return EXIT_USAGE
    text_step = prepare_text(args, files)  # transcript options: checked before any audio work
    if isinstance(text_step, int):
        return text_step
    exports = analyze_formats(args.export)  # export formats and their libraries: checked before any work too
    if isinstance(exports, int):
        return exports
    setup = _recognizer_and_options(args)
    if setup is None:
        return EXIT_USAGE
    rec, options = setup
    failures = len(expanded.problems)
    docs = [{"source": p.path, "error": {"code": p.code, "message": str(p)}} for p in expanded.problems]
    with FilesProgress([os.fspath(f) for f in files]) as progress:

        def report(outcome) -> None:
            nonlocal failures
            progress.file_done()
            res = outcome.result
            if res is not None and text_step is not None and outcome.error is None:
                text_step.apply(res, outcome.source)  # read the transcript, fuse, re-save result.json
            exported: tuple[dict[str, str], list[str]] = ({}, [])
            if res is not None and res.output_dir and exports and outcome.error is None:
                try:
                    exported = export_new_run(res.output_dir, exports)  # after the last re-save
                except EmoStudioError as exc:
                    outcome.error = exc
            if res is not None:
                doc = result_doc(res)
                if exports:
                    doc["exports"] = exported[0]
                if not args.json:
                    say(outcome.source, "bold")
                    lines = describe(res) + describe_speakers(res) + describe_channels(res) + exported[1]
                    for line in lines:
                        say(f"  {line}")
            if outcome.error is not None:
                failures += 1
                fail(str(outcome.error))
                error = {"code": outcome.error.code, "message": str(outcome.error)}
                docs.append(
                    {**doc, "error": error} if res is not None else {"source": outcome.source, "error": error}
                )
            else:
                docs.append(doc)

        rec.analyze_many(
            files, options=options, output_dir=args.out, on_outcome=report, on_progress=progress.stage
        )
    if args.json:
        print(json.dumps(docs if len(docs) != 1 else docs[0], ensure_ascii=False, indent=2))
    if failures:
        say(t("cli_failed", "en", failed=failures, total=len(files) + len(expanded.problems)), err=True)
    return EXIT_FAILED_INPUTS if failures else EXIT_OK
